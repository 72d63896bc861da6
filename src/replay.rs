//! `iwmo replay`: re-runs a stored decision on the state it was made on and compares all of it
//! with what was stored: outcome, codes, every finding, everything the decision changed (holds
//! placed and released, starts, Prestaties, credits …) and the answer's bytes.

use serde_json::Value;

use crate::decide::{self, Decided, Input};
use crate::message::{self, ReadOptions};
use crate::rules::catalogue::RULESET_VERSION;
use crate::store::{answer_identificatie, Store, StoreError, StoredDecision};

/// At most this many differences are listed per part (the count of the rest is given).
const MAX_DIFFERENCES: usize = 20;

#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub message_id: i64,
    pub kind: String,
    pub source: String,
    pub identical: bool,
    pub differences: Vec<String>,
    /// What could not be compared (e.g. changes of a decision stored before they were kept).
    pub notes: Vec<String>,
    pub ruleset_then: String,
}

impl ReplayReport {
    pub fn render(&self) -> String {
        let verdict = if self.identical {
            "beslissing identiek"
        } else {
            "beslissing WIJKT AF"
        };
        let mut s = format!(
            "bericht {} ({}, {}): {verdict}",
            self.message_id, self.kind, self.source
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
        for n in &self.notes {
            s.push_str(&format!("\n  let op: {n}"));
        }
        s
    }
}

pub async fn replay(store: &Store, identificatie: &str) -> Result<Vec<ReplayReport>, StoreError> {
    let mut out = Vec::new();
    for (id, kind, _afzender, raw, source) in store.messages_by_identificatie(identificatie).await?
    {
        if let Some(stored) = store.decision(id).await? {
            out.push(report(id, kind, source, &stored, &raw));
        }
    }
    Ok(out)
}

fn report(
    message_id: i64,
    kind: String,
    source: String,
    stored: &StoredDecision,
    raw: &[u8],
) -> ReplayReport {
    let (differences, notes) = compare(stored, raw);
    ReplayReport {
        message_id,
        kind,
        source,
        identical: differences.is_empty(),
        differences,
        notes,
        ruleset_then: stored.ruleset.clone(),
    }
}

/// Replays every stored decision, in message order (for an auditor's full check and for tests).
pub async fn replay_all(store: &Store) -> Result<Vec<ReplayReport>, StoreError> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let ids = store.decided_message_ids(after, 500).await?;
        let Some(&last) = ids.last() else { break };
        for id in ids {
            let (Some(stored), Some((kind, source, raw))) =
                (store.decision(id).await?, store.message_raw(id).await?)
            else {
                continue;
            };
            out.push(report(id, kind, source, &stored, &raw));
        }
        after = last;
    }
    Ok(out)
}

/// Re-decides the raw message on the stored state and lists every difference with the stored
/// decision (empty: identical), and what could not be compared. Pure.
pub fn compare(stored: &StoredDecision, raw: &[u8]) -> (Vec<String>, Vec<String>) {
    let input: Input = match serde_json::from_str(&stored.snapshot_json) {
        Ok(i) => i,
        Err(e) => return (vec![format!("opgeslagen toestand onleesbaar: {e}")], vec![]),
    };
    let msg = match message::read(
        raw,
        ReadOptions {
            max_bytes: usize::MAX,
        },
    ) {
        Ok(p) => p.message,
        Err(e) => return (vec![format!("bericht niet meer leesbaar: {e}")], vec![]),
    };
    let ident = stored
        .answer_identificatie
        .clone()
        .unwrap_or_else(|| answer_identificatie(stored.message_id));
    let d = match decide::decide(&msg, &input, &ident) {
        Ok(d) => d,
        Err(e) => return (vec![format!("beslissing niet te herhalen: {e}")], vec![]),
    };
    let mut diffs = Vec::new();
    let mut notes = Vec::new();
    if d.outcome != stored.outcome {
        diffs.push(format!(
            "uitkomst toen {}, nu {}",
            stored.outcome, d.outcome
        ));
    }
    if d.codes() != stored.codes {
        diffs.push(format!("codes toen {:?}, nu {:?}", stored.codes, d.codes()));
    }
    compare_findings(stored, &d, &mut diffs);
    match &stored.changes_json {
        Some(then) => compare_changes(then, &d, &mut diffs),
        None => notes.push("wijzigingen (holds, starts, Prestaties) zijn bij dit besluit niet vastgelegd; vergeleken zijn uitkomst, bevindingen en antwoord".into()),
    }
    compare_answer(stored, &d, &mut diffs);
    (diffs, notes)
}

fn compare_findings(stored: &StoredDecision, d: &Decided, diffs: &mut Vec<String>) {
    let now: Vec<_> = d
        .lines
        .iter()
        .map(|l| (&l.class, l.position, &l.referentie_nummer, &l.finding))
        .collect();
    let (Ok(then), Ok(now)) = (
        serde_json::from_str::<Value>(&stored.findings_json),
        serde_json::to_value(&now),
    ) else {
        diffs.push("bevindingen niet te vergelijken".into());
        return;
    };
    let mut found = Vec::new();
    diff_json("bevindingen", &then, &now, &mut found);
    listed(found, diffs);
}

fn compare_changes(then: &str, d: &Decided, diffs: &mut Vec<String>) {
    let (Ok(then), Ok(now)) = (
        serde_json::from_str::<Value>(then),
        serde_json::to_value(&d.changes),
    ) else {
        diffs.push("wijzigingen niet te vergelijken".into());
        return;
    };
    let mut found = Vec::new();
    diff_json("wijzigingen", &then, &now, &mut found);
    listed(found, diffs);
}

fn listed(found: Vec<String>, diffs: &mut Vec<String>) {
    let n = found.len();
    diffs.extend(found.into_iter().take(MAX_DIFFERENCES));
    if n > MAX_DIFFERENCES {
        diffs.push(format!("… en nog {} verschil(len)", n - MAX_DIFFERENCES));
    }
}

/// The answer: same kind, same bytes. A difference names the first line and element that differ
/// (never its value: an answer holds a BSN).
fn compare_answer(stored: &StoredDecision, d: &Decided, diffs: &mut Vec<String>) {
    match (&d.answer, &stored.answer_kind, &stored.answer_xml) {
        (None, None, None) => {}
        (Some(a), Some(kind), Some(xml)) => {
            if &a.kind != kind {
                diffs.push(format!("antwoordbericht toen {kind}, nu {}", a.kind));
            } else if &a.xml != xml {
                diffs.push(first_difference(xml, &a.xml));
            }
        }
        (Some(a), _, _) => diffs.push(format!("toen geen antwoordbericht, nu een {}", a.kind)),
        (None, Some(kind), _) => diffs.push(format!("toen een {kind}, nu geen antwoordbericht")),
        (None, None, Some(_)) => diffs.push("toen een antwoordbericht, nu geen".into()),
    }
    compare_parts(stored, d, diffs);
}

/// The further parts of an answer written in parts: as many, the same ids, the same bytes.
fn compare_parts(stored: &StoredDecision, d: &Decided, diffs: &mut Vec<String>) {
    let (then, now) = (&stored.more_answers, &d.more_answers);
    if then.len() != now.len() {
        diffs.push(format!(
            "antwoord toen in {} deel/delen, nu in {}",
            then.len() + 1,
            now.len() + 1
        ));
        return;
    }
    for (i, ((kind, ident, xml), a)) in then.iter().zip(now).enumerate() {
        if kind != &a.kind || ident != &a.identificatie {
            diffs.push(format!(
                "deel {} van het antwoord: toen {kind} {ident}, nu {} {}",
                i + 2,
                a.kind,
                a.identificatie
            ));
        } else if xml != &a.xml {
            diffs.push(format!("deel {}: {}", i + 2, first_difference(xml, &a.xml)));
        }
    }
}

fn first_difference(then: &str, now: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (then.lines().collect(), now.lines().collect());
    let n = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let line = a.get(n).or(b.get(n)).copied().unwrap_or("");
    let element = line
        .trim_start()
        .trim_start_matches('<')
        .split(['>', ' ', '/'])
        .next()
        .unwrap_or("");
    format!(
        "antwoordbericht wijkt af vanaf regel {} (element {element}; toen {} regels, nu {})",
        n + 1,
        a.len(),
        b.len()
    )
}

/// Lists where two JSON values differ, by path, e.g. `wijzigingen.holds[0].start: toen
/// {"opgeslagen":12}, nu {"nieuw":0}`. BSNs are masked.
pub fn diff_json(path: &str, then: &Value, now: &Value, out: &mut Vec<String>) {
    match (then, now) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                diff_json(&format!("{path}.{k}"), x, y, out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_json(&format!("{path}[{i}]"), x, y, out);
            }
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: toen {} element(en), nu {}",
                    a.len(),
                    b.len()
                ));
            }
        }
        (x, y) if x != y => out.push(format!(
            "{path}: toen {}, nu {}",
            shown(path, x),
            shown(path, y)
        )),
        _ => {}
    }
}

fn shown(path: &str, v: &Value) -> String {
    if path.ends_with(".bsn") {
        return "***".into();
    }
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_differences_name_the_path_and_mask_bsns() {
        let a: Value = serde_json::json!({"holds": [{"wijziging": "vrijgegeven", "start": {"opgeslagen": 12}}], "bsn": "999990019", "n": [1, 2]});
        let b: Value = serde_json::json!({"holds": [{"wijziging": "vrijgegeven", "start": {"nieuw": 0}}], "bsn": "999990020", "n": [1]});
        let mut out = Vec::new();
        diff_json("w", &a, &b, &mut out);
        assert!(
            out.contains(&"w.bsn: toen ***, nu ***".to_string()),
            "{out:?}"
        );
        assert!(
            out.contains(&"w.holds[0].start.opgeslagen: toen 12, nu null".to_string()),
            "{out:?}"
        );
        assert!(
            out.contains(&"w.holds[0].start.nieuw: toen null, nu 0".to_string()),
            "{out:?}"
        );
        assert!(
            out.contains(&"w.n: toen 2 element(en), nu 1".to_string()),
            "{out:?}"
        );
        let mut none = Vec::new();
        diff_json("w", &a, &a, &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn the_first_differing_answer_line_is_named_without_its_value() {
        let t =
            "<a>\n<iwmo:Bsn>999990019</iwmo:Bsn>\n<iwmo:RetourCode>0200</iwmo:RetourCode>\n</a>";
        let n =
            "<a>\n<iwmo:Bsn>999990019</iwmo:Bsn>\n<iwmo:RetourCode>9019</iwmo:RetourCode>\n</a>";
        let d = first_difference(t, n);
        assert_eq!(
            d,
            "antwoordbericht wijkt af vanaf regel 3 (element iwmo:RetourCode; toen 4 regels, nu 4)"
        );
        assert!(!d.contains("9999"));
    }
}
