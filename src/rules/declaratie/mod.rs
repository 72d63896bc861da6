//! Level 3/4 rules for WMO323 Declaratie (reference §6.4, §7, §8.4–§8.7, §9), the payment hold
//! for Prestaties without a covering start (design decision 3) and the local double-declaration
//! signals (design decision 4).
//!
//! Pure: the message and a [`DeclaratieSnapshot`] in, a [`DeclaratieDecision`] out. The snapshot
//! is indexed once into hash maps, so the work is linear in the size of message plus snapshot.
//!
//! Order (OP366): credit lines are assessed before debit lines, each group in message order, and
//! every assessed line changes the state the later lines see: an approved credit cancels its debit
//! (TR389/TR390) and lowers the sums (TR322/TR369); an approved debit counts for TR389, the sums
//! and the signals of later debits; every ReferentieNummer, approved or not, counts as used
//! (TR314). Results are returned in message order.
//!
//! Credits: IV085 says the gemeente cannot reject a credit except for technical reasons. A credit
//! is therefore checked on its link to the debit (TR314, TR323, TR390), on the toewijzing link
//! (TR338, TR304), on its own arithmetic (TR346) — but not on rules whose outcome can change
//! after the debit was approved (toewijzing shortened or deleted, contract or code list changed:
//! TR307/TR308, TR384, TR387/TR388, TR339–TR341, TR381, TR418) nor on volumes (TR321/TR322/TR369
//! only make sense for debits). Credits are never held and give no signals.
//!
//! Parts: [`index`] (the snapshot indexed once, and what approved lines add), [`line`] (one
//! Prestatie: references, the hold, signals), [`toewijzing`] (the rules against the toewijzing
//! and its volumes), [`tarief`] (amounts and contract tariffs), [`volume`] (units, weeks and
//! maxima).

mod index;
mod line;
mod tarief;
mod toewijzing;
mod volume;

use super::decision::{DeclaratieDecision, PrestatieDecision};
use super::state::DeclaratieSnapshot;
use super::{idx, Finding};
use crate::message::Wmo323;
use index::Ctx;

const DECLARATIE: &str = "/Bericht/Declaratie";

/// Checks a 323 (that passed levels 1 and 2) against the snapshot.
///
/// With a declaration-level finding (9333, 8214) nothing else is assessed: `declaratie` holds the
/// findings and `prestaties` has the message's shape with default (unassessed) entries; the 325
/// then carries TotaalToegekendBedrag 0. `header` is always left empty (9056 and 8848 are checked
/// elsewhere).
pub fn check_323(m: &Wmo323, snap: &DeclaratieSnapshot) -> DeclaratieDecision {
    let d = &m.declaratie;
    let mut decision = DeclaratieDecision {
        header: Vec::new(),
        declaratie: declaratie_findings(m, snap),
        prestaties: d
            .clienten
            .iter()
            .map(|c| vec![PrestatieDecision::default(); c.prestaties.len()])
            .collect(),
    };
    if !decision.declaratie.is_empty() {
        return decision;
    }

    let mut ctx = Ctx::new(m, snap);
    let n_clients = d.clienten.len();
    // OP366: credits first, then debits; each group in message order.
    for credits in [true, false] {
        for (ci, c) in d.clienten.iter().enumerate() {
            let n = c.prestaties.len();
            for (pi, p) in c.prestaties.iter().enumerate() {
                if p.is_credit() != credits {
                    continue;
                }
                let place = Place {
                    client: (ci, n_clients),
                    prestatie: (pi, n),
                };
                let out = ctx.check_line(&c.bsn, p, place);
                if let Some(slot) = decision.prestaties.get_mut(ci).and_then(|v| v.get_mut(pi)) {
                    *slot = out;
                }
            }
        }
    }
    decision
}

/// TR333 (DeclaratieNummer used before) and TR318 (DeclaratiePeriode before the last one).
fn declaratie_findings(m: &Wmo323, snap: &DeclaratieSnapshot) -> Vec<Finding> {
    let d = &m.declaratie;
    let mut out = Vec::new();
    if snap.declaratie_nummer_gebruikt {
        out.push(Finding::new(
            "TR333",
            vec![DECLARATIE.to_string()],
            Some(format!(
                "DeclaratieNummer {} is al eerder door aanbieder {} gebruikt",
                d.declaratie_nummer, m.header.afzender
            )),
        ));
    }
    if let Some(laatste) = &snap.laatste_declaratie_periode {
        if d.declaratie_periode.begindatum < laatste.begindatum {
            out.push(Finding::new(
                "TR318",
                vec![DECLARATIE.to_string()],
                Some(format!(
                    "DeclaratiePeriode {} t/m {}, laatst ingediende DeclaratiePeriode {} t/m {}",
                    d.declaratie_periode.begindatum,
                    d.declaratie_periode.einddatum,
                    laatste.begindatum,
                    laatste.einddatum
                )),
            ));
        }
    }
    out
}

/// Where a Prestatie is: (index, number of siblings) of its Client and of itself.
#[derive(Clone, Copy)]
struct Place {
    client: (usize, usize),
    prestatie: (usize, usize),
}

impl Place {
    /// `/Bericht/Declaratie/Clienten/Client[2]/Prestaties/Prestatie[3]`, an index only where
    /// there are several siblings.
    fn path(&self) -> String {
        format!(
            "{DECLARATIE}/Clienten/Client{}/Prestaties/Prestatie{}",
            idx(self.client.0, self.client.1),
            idx(self.prestatie.0, self.prestatie.1)
        )
    }
}

/// Findings on one Prestatie, each rule at most once.
struct Findings {
    place: Place,
    list: Vec<Finding>,
}

impl Findings {
    fn add(&mut self, rule: &'static str, facts: String) {
        if self.list.iter().any(|f| f.rule == rule) {
            return;
        }
        self.list
            .push(Finding::new(rule, vec![self.place.path()], Some(facts)));
    }
}

// ---------------------------------------------------------------------------------------------
// Units and volumes (reference §9.3).
