//! The whole decision on one message as a pure function: message + snapshot of the state + the
//! day (+ the identification its answer gets) → outcome, every finding, everything it changes
//! and the answer's bytes. Used by `process`/`serve` and by `replay`, which re-runs it on the
//! stored snapshot and compares all of it.
//!
//! Each message kind the gemeente receives has a room (see [`room::Room`] and [`registry`]):
//! its keys, the state it needs, its level-2 rules, its level-3/4 assessment, its changes and
//! its answer. This module holds what is the same for every kind: level 2 first, then the
//! header rules, then the room's own assessment.

pub mod changes;
mod declaratie;
pub mod registry;
pub mod room;
mod startstop;
mod toewijzing;
mod verzoek;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use changes::Changes;
pub use room::{Answer, Assessed, Keys, Need, Room};

use crate::domain::RetourCode;
use crate::message::Message;
use crate::retour::RetourMeta;
use crate::rules::state::{DeclaratieSnapshot, StartStopSnapshot, VerzoekSnapshot};
use crate::rules::Finding;

/// The state a decision was based on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "soort", rename_all = "kebab-case")]
pub enum Snapshot {
    #[default]
    Geen,
    StartStop(StartStopSnapshot),
    Declaratie(DeclaratieSnapshot),
    Verzoek(VerzoekSnapshot),
}

/// Everything besides the message that a decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub today: NaiveDate,
    /// The (Afzender, berichtsoort, Identificatie) was used before with other content (TR056).
    pub identificatie_hergebruikt: bool,
    pub snapshot: Snapshot,
    /// The largest answer file the hubs accept (OP179, GGk IB007, VECOZO CC03), as it was when
    /// decided; a larger 325 is written compact, or else in parts. None (decisions stored
    /// before this was kept): no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_max_bytes: Option<usize>,
}

/// A finding placed on its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placed {
    /// bericht (level 2), header, client, product, declaratie, prestatie
    pub class: &'static str,
    pub position: i64,
    pub referentie_nummer: Option<String>,
    pub finding: Finding,
}

/// An answer as written: its kind (WMO306, …), its own Identificatie and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub kind: String,
    pub identificatie: String,
    pub xml: String,
}

/// What the rules decided, and everything that follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// accepted, partially-accepted, rejected, registered
    pub outcome: &'static str,
    pub lines: Vec<Placed>,
    pub changes: Changes,
    pub answer: Option<Rendered>,
    /// Further parts of an answer too large for one file (see `retour::parts`); usually empty.
    pub more_answers: Vec<Rendered>,
}

impl Decided {
    /// Every file of the answer: the answer, then its further parts.
    pub fn answers(&self) -> impl Iterator<Item = &Rendered> {
        self.answer.iter().chain(&self.more_answers)
    }
}

impl Decided {
    /// Every retour code of the findings, sorted and unique.
    pub fn codes(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<String> = self
            .lines
            .iter()
            .map(|l| l.finding.code.code().to_string())
            .collect();
        set.into_iter().collect()
    }
}

/// Why a message could not be decided (never a reason to approve anything).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error("{0} wordt niet door de gemeente ontvangen")]
    NoRoom(String),
    #[error("antwoord niet te maken: {0}")]
    Answer(String),
    #[error("beslissing past niet bij het bericht: {0}")]
    Inconsistent(String),
}

/// Does this message need a snapshot of the stored state (it passed level 2 and the header)?
pub fn needs_state(msg: &Message, today: NaiveDate, identificatie_hergebruikt: bool) -> bool {
    let Some(room) = registry::room(msg.kind()) else {
        return false;
    };
    !matches!(room.need(msg), Need::Nothing)
        && room.level2(msg).is_empty()
        && header_findings(msg, today, identificatie_hergebruikt).is_empty()
}

/// Header rules: TR056 (9056) and TR135 (8848, Dagtekening after today).
pub fn header_findings(
    msg: &Message,
    today: NaiveDate,
    identificatie_hergebruikt: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some((_, ident)) = msg.identification() else {
        return out;
    };
    if identificatie_hergebruikt {
        out.push(Finding::new(
            "TR056",
            vec!["/Bericht/Header/BerichtIdentificatie/Identificatie".into()],
            Some(format!("Identificatie {}", ident.identificatie)),
        ));
    }
    if ident.dagtekening > today {
        out.push(Finding::new(
            "TR135",
            vec!["/Bericht/Header/BerichtIdentificatie/Dagtekening".into()],
            Some(format!(
                "Dagtekening {}, systeemdatum {}",
                ident.dagtekening.format("%Y-%m-%d"),
                today.format("%Y-%m-%d")
            )),
        ));
    }
    out
}

/// The retour codes of findings, sorted and unique.
pub fn codes_of(f: &[Finding]) -> Vec<RetourCode> {
    let mut c: Vec<RetourCode> = f.iter().map(|f| f.code).collect();
    c.sort();
    c.dedup();
    c
}

/// Findings placed on one class.
pub fn placed(class: &'static str, position: i64, r: Option<String>, f: &[Finding]) -> Vec<Placed> {
    f.iter()
        .map(|f| Placed {
            class,
            position,
            referentie_nummer: r.clone(),
            finding: f.clone(),
        })
        .collect()
}

/// Decides on a message. Pure: the same message, input and answer identification give the
/// same decision, changes and answer bytes.
pub fn decide(msg: &Message, input: &Input, antwoord: &str) -> Result<Decided, DecideError> {
    let room = registry::room(msg.kind()).ok_or_else(|| DecideError::NoRoom(msg.kind().name()))?;
    let l2 = room.level2(msg);
    let header = if l2.is_empty() {
        header_findings(msg, input.today, input.identificatie_hergebruikt)
    } else {
        Vec::new()
    };
    let assessed = if !l2.is_empty() {
        Assessed::rejected(placed("bericht", 0, None, &l2), Answer::Level2)
    } else if !header.is_empty() {
        Assessed::rejected(
            placed("header", 0, None, &header),
            Answer::Header(codes_of(&header)),
        )
    } else {
        room.assess(msg, input).map_err(DecideError::Inconsistent)?
    };
    let mut answers = match assessed.answer.filter(|_| room.answers()) {
        Some(a) => {
            let meta = RetourMeta {
                identificatie: antwoord.to_string(),
                dagtekening: input.today,
            };
            room.answer_within(msg, &a, &meta, input.answer_max_bytes)
                .map_err(DecideError::Answer)?
                .into_iter()
                .map(|(kind, identificatie, xml)| Rendered {
                    kind,
                    identificatie,
                    xml,
                })
                .collect()
        }
        None => Vec::new(),
    }
    .into_iter();
    Ok(Decided {
        outcome: assessed.outcome,
        lines: assessed.lines,
        changes: assessed.changes,
        answer: answers.next(),
        more_answers: answers.collect(),
    })
}

/// Every retour code in a written answer, sorted and unique.
pub fn answer_codes(xml: &str) -> Vec<String> {
    answer_codes_all([xml])
}

/// Every retour code in the files of a written answer, sorted and unique.
pub fn answer_codes_all<'a>(xmls: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for xml in xmls {
        for c in answer_codes_one(xml) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out.sort();
    out
}

fn answer_codes_one(xml: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(":RetourCode>") {
        let after = &rest[i + ":RetourCode>".len()..];
        if let Some(end) = after.find('<') {
            let code = after[..end].trim();
            if !code.is_empty() && !out.iter().any(|c| c == code) {
                out.push(code.to_string());
            }
            rest = &after[end..];
        } else {
            break;
        }
    }
    out.sort();
    out
}
