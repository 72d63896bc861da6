//! `iwmo replay`: re-run a stored decision on the state it was made on and compare.

use crate::decide::{self, Input};
use crate::message::{self, ReadOptions};
use crate::retour::RetourMeta;
use crate::rules::catalogue::RULESET_VERSION;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub message_id: i64,
    pub kind: String,
    pub source: String,
    pub identical: bool,
    pub differences: Vec<String>,
    pub ruleset_then: String,
}

impl ReplayReport {
    pub fn render(&self) -> String {
        let mut s = format!(
            "bericht {} ({}, {}): {}",
            self.message_id,
            self.kind,
            self.source,
            if self.identical {
                "beslissing identiek"
            } else {
                "beslissing WIJKT AF"
            }
        );
        if self.ruleset_then != RULESET_VERSION {
            s.push_str(&format!(
                " (regelset toen {}, nu {})",
                self.ruleset_then, RULESET_VERSION
            ));
        }
        for d in &self.differences {
            s.push_str(&format!("\n  {d}"));
        }
        s
    }
}

pub async fn replay(store: &Store, identificatie: &str) -> Result<Vec<ReplayReport>, StoreError> {
    let mut out = Vec::new();
    for (id, kind, _afzender, raw, source) in store.messages_by_identificatie(identificatie).await?
    {
        let Some(stored) = store.decision(id).await? else {
            continue;
        };
        let mut differences = Vec::new();
        let input: Input = match serde_json::from_str(&stored.snapshot_json) {
            Ok(i) => i,
            Err(e) => {
                differences.push(format!("opgeslagen toestand onleesbaar: {e}"));
                out.push(ReplayReport {
                    message_id: id,
                    kind,
                    source,
                    identical: false,
                    differences,
                    ruleset_then: stored.ruleset,
                });
                continue;
            }
        };
        let msg = match message::read(&raw, ReadOptions::default()) {
            Ok(p) => p.message,
            Err(e) => {
                differences.push(format!("bericht niet meer leesbaar: {e}"));
                out.push(ReplayReport {
                    message_id: id,
                    kind,
                    source,
                    identical: false,
                    differences,
                    ruleset_then: stored.ruleset,
                });
                continue;
            }
        };
        let d = decide::decide(&msg, &input);
        if d.outcome != stored.outcome {
            differences.push(format!(
                "uitkomst toen {}, nu {}",
                stored.outcome, d.outcome
            ));
        }
        let mut codes: Vec<String> = d
            .lines
            .iter()
            .map(|l| l.finding.code.code().to_string())
            .collect();
        codes.sort();
        codes.dedup();
        if codes != stored.codes {
            differences.push(format!("codes toen {:?}, nu {:?}", stored.codes, codes));
        }
        match (&d.answer, &stored.answer_identificatie, &stored.answer_xml) {
            (Some(a), Some(ident), Some(xml)) => {
                let meta = RetourMeta {
                    identificatie: ident.clone(),
                    dagtekening: input.today,
                };
                match decide::render(&msg, a, &meta) {
                    Ok((_, now_xml)) if &now_xml == xml => {}
                    Ok(_) => differences.push("antwoordbericht wijkt af".into()),
                    Err(e) => differences.push(format!("antwoord niet te maken: {e}")),
                }
            }
            (None, None, None) => {}
            _ => differences.push("wel/geen antwoordbericht wijkt af".into()),
        }
        out.push(ReplayReport {
            message_id: id,
            kind,
            source,
            identical: differences.is_empty(),
            differences,
            ruleset_then: stored.ruleset,
        });
    }
    Ok(out)
}
