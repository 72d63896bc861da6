//! What the level-3/4 rules decide. The store applies it in one transaction; the retour writer
//! turns it into the answer.

use serde::{Deserialize, Serialize};

use super::Finding;
use crate::domain::RetourCode;

/// The decision on a 305 or 307.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StartStopDecision {
    /// Header-level findings (9056, 8848): header-only answer with these codes.
    pub header: Vec<Finding>,
    /// Findings on the Client class itself.
    pub client: Vec<Finding>,
    /// Per product of the message (message order); empty = fine.
    pub products: Vec<Vec<Finding>>,
}

impl StartStopDecision {
    /// The whole message is approved (305/307 are rejected as a whole).
    pub fn approved(&self) -> bool {
        self.header.is_empty()
            && self.client.is_empty()
            && self.products.iter().all(|p| p.is_empty())
    }
}

/// Why payment of an approved Prestatie waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Dutch explanation with the facts, e.g. "Geen start ontvangen voor toewijzing 40001 die
    /// de periode 2025-01-01 t/m 2025-01-31 dekt".
    pub reden: String,
}

/// A local signal for auditors, never sent as a retour code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// `dubbel-toewijzing` (same client+categorie, overlapping periods, other toewijzing),
    /// `dubbel-aanbieder` (… other aanbieder), `geen-start` (policy signal).
    pub soort: String,
    /// ReferentieNummer (and aanbieder) of the other line, if any.
    pub andere_referentie: Option<String>,
    pub tekst: String,
}

/// The decision on one Prestatie.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrestatieDecision {
    /// Empty: approved.
    pub findings: Vec<Finding>,
    /// Approved but held from payment (no covering start, policy `hold`).
    pub hold: Option<Hold>,
    pub signals: Vec<Signal>,
}

impl PrestatieDecision {
    pub fn approved(&self) -> bool {
        self.findings.is_empty()
    }
    pub fn codes(&self) -> Vec<RetourCode> {
        let mut c: Vec<RetourCode> = self.findings.iter().map(|f| f.code).collect();
        c.dedup();
        c
    }
}

/// The decision on a 323.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeclaratieDecision {
    /// Header-level findings (9056, 8848): header-only 325.
    pub header: Vec<Finding>,
    /// Declaration-level findings (9333, 8214): DeclaratieAntwoord with these, nothing approved.
    pub declaratie: Vec<Finding>,
    /// Per client (message order), per Prestatie (message order).
    pub prestaties: Vec<Vec<PrestatieDecision>>,
}
