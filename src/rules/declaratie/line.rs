//! One Prestatie: its references (TR314, TR323, TR390), TR381, TR389, the hold for a Prestatie
//! without a covering start (design decision 3) and the double-declaration signals (design
//! decision 4).

use super::index::Ctx;
use super::{Findings, Place};
use crate::domain::*;
use crate::message::Prestatie;
use crate::rules::decision::{Hold, PrestatieDecision, Signal};
use crate::rules::holds::{covering_start_in, hold_reason};
use crate::rules::state::StartPolicy;

impl<'a> Ctx<'a> {
    /// Assesses one Prestatie and records its effect on the state.
    pub(super) fn check_line(
        &mut self,
        bsn: &Bsn,
        p: &'a Prestatie,
        place: Place,
    ) -> PrestatieDecision {
        let mut f = Findings {
            place,
            list: Vec::new(),
        };
        let credit = p.is_credit();
        let referentie = p.product_referentie.referentie_nummer.as_str();
        let vorig = p.product_referentie.vorig_referentie_nummer.as_deref();
        self.referentie_rules(&mut f, p, vorig);
        self.tr381(&mut f, p);
        match self.toewijzingen.get(&p.toewijzing_nummer).copied() {
            None => f.add(
                "TR338",
                format!(
                    "geen toewijzing {} van gemeente {} aan aanbieder {}",
                    p.toewijzing_nummer, self.gemeente, self.aanbieder
                ),
            ),
            Some(t) => self.toewijzing_rules(&mut f, t, bsn, p),
        }
        self.tr346(&mut f, p);
        if !credit {
            self.tr418(&mut f, p);
            self.tr389(&mut f, p);
        }
        let mut signals = Vec::new();
        let hold = if f.list.is_empty() && !credit {
            self.without_start(&mut f, &mut signals, bsn, p)
        } else {
            None
        };

        // Record the line's effect for the lines after it.
        self.used.insert(referentie);
        let approved = f.list.is_empty();
        if approved {
            if !credit {
                signals.extend(self.signals(bsn, p));
            }
            self.record_approved(bsn, p, credit, vorig);
        }

        PrestatieDecision {
            findings: f.list,
            hold,
            signals,
        }
    }

    /// TR314 → 8021; for a credit TR323 → 8017 and TR390 → 9390.
    fn referentie_rules(&self, f: &mut Findings, p: &Prestatie, vorig: Option<&str>) {
        let referentie = p.product_referentie.referentie_nummer.as_str();
        if self.used.contains(referentie) {
            f.add(
                "TR314",
                format!(
                    "ReferentieNummer {referentie} is al eerder door deze aanbieder aangeleverd"
                ),
            );
        }

        // TR323 → 8017, TR390 → 9390.
        if p.is_credit() {
            match vorig {
                None => f.add("TR323", "creditprestatie zonder VorigReferentieNummer".into()),
                Some(v) if !self.approved_debits.contains(v) => f.add(
                    "TR323",
                    format!(
                        "VorigReferentieNummer {v} verwijst niet naar een goedgekeurde debetprestatie van deze aanbieder"
                    ),
                ),
                Some(v) => {
                    if let Some(by) = self.credited.get(v) {
                        f.add(
                            "TR390",
                            match by {
                                Some(c) => format!("debetprestatie {v} is al gecrediteerd met {c}"),
                                None => format!("debetprestatie {v} is al gecrediteerd"),
                            },
                        );
                    }
                }
            }
        }
    }

    /// TR381 → S329 (not for credits: the code list may have changed since the debit).
    fn tr381(&self, f: &mut Findings, p: &Prestatie) {
        if !p.is_credit()
            && !self.product_codes.is_empty()
            && !self
                .product_codes
                .contains(&(p.product_categorie, p.product_code.as_str()))
        {
            f.add(
                "TR381",
                format!(
                    "ProductCategorie {} met ProductCode {} staat niet in de productcodelijst",
                    p.product_categorie, p.product_code
                ),
            );
        }
    }

    /// TR389 → 9389: an earlier debit for the same period, product and toewijzing that was not
    /// credited.
    fn tr389(&self, f: &mut Findings, p: &Prestatie) {
        let key = (
            p.toewijzing_nummer,
            p.product_categorie,
            &p.product_code,
            p.product_periode,
        );
        if let Some(other) = self
            .tr389
            .get(&key)
            .and_then(|v| v.iter().find(|r| !self.credited.contains_key(**r)).copied())
        {
            f.add(
                "TR389",
                format!(
                    "debetprestatie {other} voor ProductPeriode {} t/m {}, product {}/{} en toewijzing {} is niet gecrediteerd",
                    p.product_periode.begindatum,
                    p.product_periode.einddatum,
                    p.product_categorie,
                    p.product_code,
                    p.toewijzing_nummer
                ),
            );
        }
    }

    /// "Geen startbericht, geen betaling" (design decision 3): never a rejection under the
    /// standard (OP364); only policy `reject` deviates, and says so. The hold, if any.
    fn without_start(
        &self,
        f: &mut Findings,
        signals: &mut Vec<Signal>,
        bsn: &Bsn,
        p: &Prestatie,
    ) -> Option<Hold> {
        let covered = self
            .starts
            .get(&(*bsn, p.toewijzing_nummer))
            .and_then(|(s, t)| covering_start_in(&p.product_periode, s, t))
            .is_some();
        if covered {
            return None;
        }
        let reden = hold_reason(p.toewijzing_nummer, &p.product_periode);
        match self.policy {
            StartPolicy::Hold => return Some(Hold { reden }),
            StartPolicy::Signal => signals.push(Signal {
                soort: "geen-start".into(),
                andere_referentie: None,
                tekst: format!("{reden}; betaling niet aangehouden (beleid signal)"),
            }),
            StartPolicy::Reject => f.add(
                "LOKAAL-GEEN-START",
                format!(
                    "{reden}; afgewezen volgens lokaal beleid reject, dit wijkt af van OP364 (afwijzen om een ontbrekende start is volgens de standaard niet toegestaan)"
                ),
            ),
        }
        None
    }

    /// Design decision 4: the same client and categorie in an overlapping ProductPeriode under
    /// another toewijzing or by another aanbieder. Signals only, never retour codes.
    fn signals(&self, bsn: &Bsn, p: &Prestatie) -> Vec<Signal> {
        let mut out = Vec::new();
        let Some(list) = self.declared.get(&(*bsn, p.product_categorie)) else {
            return out;
        };
        for e in list {
            if !e.periode.overlaps(&p.product_periode) {
                continue;
            }
            if e.aanbieder == self.aanbieder && self.credited.contains_key(e.referentie) {
                continue;
            }
            let periode = format!("{} t/m {}", e.periode.begindatum, e.periode.einddatum);
            if e.aanbieder != self.aanbieder {
                out.push(Signal {
                    soort: "dubbel-aanbieder".into(),
                    andere_referentie: Some(e.referentie.to_string()),
                    tekst: format!(
                        "Dezelfde cliënt heeft voor categorie {} in een overlappende periode ook prestatie {} van aanbieder {} (toewijzing {}, {periode})",
                        p.product_categorie, e.referentie, e.aanbieder, e.toewijzing
                    ),
                });
            } else if e.toewijzing != p.toewijzing_nummer {
                out.push(Signal {
                    soort: "dubbel-toewijzing".into(),
                    andere_referentie: Some(e.referentie.to_string()),
                    tekst: format!(
                        "Dezelfde cliënt heeft voor categorie {} in een overlappende periode ook prestatie {} op toewijzing {} ({periode})",
                        p.product_categorie, e.referentie, e.toewijzing
                    ),
                });
            }
        }
        out
    }
}
