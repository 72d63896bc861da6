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

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::decision::{DeclaratieDecision, Hold, PrestatieDecision, Signal};
use super::holds::{covering_start_in, hold_reason};
use super::state::{Contract, DeclaratieSnapshot, StartPolicy, StartRow, StopRow, Toewijzing};
use super::{idx, Finding};
use crate::domain::*;
use crate::message::common::ProductCode;
use crate::message::{Prestatie, Wmo323};

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
        declaratie: Vec::new(),
        prestaties: d
            .clienten
            .iter()
            .map(|c| vec![PrestatieDecision::default(); c.prestaties.len()])
            .collect(),
    };

    if snap.declaratie_nummer_gebruikt {
        decision.declaratie.push(Finding::new(
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
            decision.declaratie.push(Finding::new(
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

// ---------------------------------------------------------------------------------------------
// State: the snapshot indexed once, plus what the message's own lines add.

/// Σ of approved lines on one toewijzing: signed GeleverdVolume per Eenheid, signed bedrag.
#[derive(Default, Clone, Copy)]
struct Sums {
    volume: [i128; 7],
    bedrag: i128,
}

fn eenheid_index(e: Eenheid) -> usize {
    Eenheid::ALL.iter().position(|x| *x == e).unwrap_or(0)
}

impl Sums {
    fn add(&mut self, eenheid: Eenheid, volume: u64, bedrag: i64, dc: DebetCredit) {
        let v = i128::from(volume);
        let slot = &mut self.volume[eenheid_index(eenheid)];
        *slot = match dc {
            DebetCredit::Debet => slot.saturating_add(v),
            DebetCredit::Credit => slot.saturating_sub(v),
        };
        self.bedrag = self.bedrag.saturating_add(i128::from(bedrag));
    }
}

/// An approved debit that a later debit may collide with (double-declaration signals).
struct Declared<'a> {
    aanbieder: AgbCode,
    toewijzing: ToewijzingNummer,
    periode: Periode,
    referentie: &'a str,
}

type Tr389Key<'a> = (ToewijzingNummer, ProductCategorie, &'a ProductCode, Periode);

/// Starts and stops of one client on one toewijzing.
type StartsStops<'a> = (Vec<&'a StartRow>, Vec<&'a StopRow>);

struct Ctx<'a> {
    aanbieder: AgbCode,
    gemeente: Gemeentecode,
    policy: StartPolicy,
    toewijzingen: HashMap<ToewijzingNummer, &'a Toewijzing>,
    /// ReferentieNummers used by this aanbieder (TR314).
    used: HashSet<&'a str>,
    /// Approved debits of this aanbieder by ReferentieNummer (TR323).
    approved_debits: HashSet<&'a str>,
    /// Debits of this aanbieder that an approved credit cancelled, with the credit's number if
    /// known (TR390, TR389, signals).
    credited: HashMap<&'a str, Option<&'a str>>,
    /// Approved debits of this aanbieder per ProductPeriode/Categorie/Code/ToewijzingNummer.
    tr389: HashMap<Tr389Key<'a>, Vec<&'a str>>,
    sums: HashMap<ToewijzingNummer, Sums>,
    /// Approved, not-credited debits (all aanbieders) per client and categorie.
    declared: HashMap<(Bsn, ProductCategorie), Vec<Declared<'a>>>,
    contracts: HashMap<(ProductCategorie, &'a ProductCode, Eenheid), Vec<&'a Contract>>,
    product_codes: HashSet<(ProductCategorie, &'a str)>,
    starts: HashMap<(Bsn, ToewijzingNummer), StartsStops<'a>>,
}

impl<'a> Ctx<'a> {
    fn new(m: &'a Wmo323, snap: &'a DeclaratieSnapshot) -> Ctx<'a> {
        let aanbieder = m.header.afzender;
        let gemeente = m.header.ontvanger;

        // Current version per number (latest Toewijzingsdatum + -tijd, IV013), this gemeente
        // and aanbieder only.
        let mut toewijzingen: HashMap<ToewijzingNummer, &Toewijzing> = HashMap::new();
        for t in snap
            .toewijzingen
            .iter()
            .filter(|t| t.gemeente == gemeente && t.aanbieder == aanbieder)
        {
            let e = toewijzingen.entry(t.toewijzing_nummer).or_insert(t);
            if (t.toewijzingsdatum, t.toewijzingstijd) > (e.toewijzingsdatum, e.toewijzingstijd) {
                *e = t;
            }
        }

        let mut used = HashSet::new();
        let mut approved_debits = HashSet::new();
        let mut credited: HashMap<&str, Option<&str>> = HashMap::new();
        let mut sums: HashMap<ToewijzingNummer, Sums> = HashMap::new();
        if let Some(sommen) = &snap.sommen {
            // Totals from the store (the lines themselves are only loaded where they matter).
            for t in sommen {
                let s = sums.entry(t.toewijzing_nummer).or_default();
                let slot = &mut s.volume[eenheid_index(t.eenheid)];
                *slot = slot.saturating_add(i128::from(t.volume));
                s.bedrag = s.bedrag.saturating_add(i128::from(t.bedrag));
            }
        }
        for e in snap.earlier.iter().filter(|e| e.aanbieder == aanbieder) {
            used.insert(e.referentie_nummer.as_str());
            if !e.approved {
                continue;
            }
            if snap.sommen.is_none() {
                sums.entry(e.toewijzing_nummer).or_default().add(
                    e.eenheid,
                    e.geleverd_volume,
                    e.bedrag,
                    e.debet_credit,
                );
            }
            match e.debet_credit {
                DebetCredit::Debet => {
                    approved_debits.insert(e.referentie_nummer.as_str());
                    if let Some(c) = &e.gecrediteerd_door {
                        credited.insert(e.referentie_nummer.as_str(), Some(c.as_str()));
                    }
                }
                DebetCredit::Credit => {
                    if let Some(v) = &e.vorig_referentie_nummer {
                        credited.insert(v.as_str(), Some(e.referentie_nummer.as_str()));
                    }
                }
            }
        }

        // Debits of other aanbieders cancelled by an approved credit (for the signals).
        let credited_elsewhere: HashSet<(AgbCode, &str)> = snap
            .earlier
            .iter()
            .filter(|e| {
                e.aanbieder != aanbieder && e.approved && e.debet_credit == DebetCredit::Credit
            })
            .filter_map(|e| Some((e.aanbieder, e.vorig_referentie_nummer.as_deref()?)))
            .collect();

        let mut tr389: HashMap<Tr389Key<'a>, Vec<&str>> = HashMap::new();
        let mut declared: HashMap<(Bsn, ProductCategorie), Vec<Declared>> = HashMap::new();
        for e in snap.earlier.iter().filter(|e| {
            e.approved && e.debet_credit == DebetCredit::Debet && e.gecrediteerd_door.is_none()
        }) {
            let r = e.referentie_nummer.as_str();
            if e.aanbieder != aanbieder && credited_elsewhere.contains(&(e.aanbieder, r)) {
                continue;
            }
            if e.aanbieder == aanbieder {
                if credited.contains_key(r) {
                    continue;
                }
                tr389
                    .entry((
                        e.toewijzing_nummer,
                        e.product_categorie,
                        &e.product_code,
                        e.product_periode,
                    ))
                    .or_default()
                    .push(r);
            }
            declared
                .entry((e.bsn, e.product_categorie))
                .or_default()
                .push(Declared {
                    aanbieder: e.aanbieder,
                    toewijzing: e.toewijzing_nummer,
                    periode: e.product_periode,
                    referentie: r,
                });
        }

        let mut contracts: HashMap<_, Vec<&Contract>> = HashMap::new();
        for c in snap
            .contracts
            .iter()
            .filter(|c| c.aanbieder == aanbieder && c.gemeente == gemeente)
        {
            contracts
                .entry((c.product_categorie, &c.product_code, c.eenheid))
                .or_default()
                .push(c);
        }

        let product_codes = snap
            .product_codes
            .iter()
            .map(|(c, p)| (*c, p.as_str()))
            .collect();

        let mut starts: HashMap<_, StartsStops> = HashMap::new();
        for s in &snap.starts {
            if let Some(t) = s.toewijzing_nummer {
                starts.entry((s.bsn, t)).or_default().0.push(s);
            }
        }
        for s in &snap.stops {
            if let Some(t) = s.toewijzing_nummer {
                if let Some(g) = starts.get_mut(&(s.bsn, t)) {
                    g.1.push(s);
                }
            }
        }

        Ctx {
            aanbieder,
            gemeente,
            policy: snap.policy,
            toewijzingen,
            used,
            approved_debits,
            credited,
            tr389,
            sums,
            declared,
            contracts,
            product_codes,
            starts,
        }
    }

    /// Assesses one Prestatie and records its effect on the state.
    fn check_line(&mut self, bsn: &Bsn, p: &'a Prestatie, place: Place) -> PrestatieDecision {
        let mut f = Findings {
            place,
            list: Vec::new(),
        };
        let credit = p.is_credit();
        let referentie = p.product_referentie.referentie_nummer.as_str();
        let tw = self.toewijzingen.get(&p.toewijzing_nummer).copied();

        // TR314 → 8021.
        if self.used.contains(referentie) {
            f.add(
                "TR314",
                format!(
                    "ReferentieNummer {referentie} is al eerder door deze aanbieder aangeleverd"
                ),
            );
        }

        // TR323 → 8017, TR390 → 9390.
        let vorig = p.product_referentie.vorig_referentie_nummer.as_deref();
        if credit {
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

        // TR381 → S329 (not for credits: the code list may have changed since the debit).
        if !credit
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

        match tw {
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
        }

        // TR389 → 9389.
        if !credit {
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

        // "Geen startbericht, geen betaling" (design decision 3): never a rejection under the
        // standard (OP364); only policy `reject` deviates, and says so.
        let mut hold = None;
        let mut signals = Vec::new();
        if f.list.is_empty() && !credit {
            let covered = self
                .starts
                .get(&(*bsn, p.toewijzing_nummer))
                .and_then(|(s, t)| covering_start_in(&p.product_periode, s, t))
                .is_some();
            if !covered {
                let reden = hold_reason(p.toewijzing_nummer, &p.product_periode);
                match self.policy {
                    StartPolicy::Hold => hold = Some(Hold { reden }),
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
            }
        }

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

    fn record_approved(
        &mut self,
        bsn: &Bsn,
        p: &'a Prestatie,
        credit: bool,
        vorig: Option<&'a str>,
    ) {
        let referentie = p.product_referentie.referentie_nummer.as_str();
        self.sums.entry(p.toewijzing_nummer).or_default().add(
            p.eenheid,
            p.geleverd_volume.get(),
            p.ingediend_bedrag.signed(),
            p.ingediend_bedrag.debet_credit,
        );
        if credit {
            if let Some(v) = vorig {
                self.credited.insert(v, Some(referentie));
            }
        } else {
            self.approved_debits.insert(referentie);
            self.tr389
                .entry((
                    p.toewijzing_nummer,
                    p.product_categorie,
                    &p.product_code,
                    p.product_periode,
                ))
                .or_default()
                .push(referentie);
            self.declared
                .entry((*bsn, p.product_categorie))
                .or_default()
                .push(Declared {
                    aanbieder: self.aanbieder,
                    toewijzing: p.toewijzing_nummer,
                    periode: p.product_periode,
                    referentie,
                });
        }
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

    /// TR304, TR384, TR339–TR341, TR307/TR308, TR387/TR388, TR321, TR322, TR369.
    fn toewijzing_rules(&self, f: &mut Findings, t: &Toewijzing, bsn: &Bsn, p: &Prestatie) {
        let credit = p.is_credit();
        let nr = t.toewijzing_nummer;
        let pp = &p.product_periode;

        if t.bsn != *bsn {
            f.add(
                "TR304",
                format!("toewijzing {nr} hoort bij een andere cliënt"),
            );
        }
        if credit {
            return;
        }
        if t.is_verwijderd() {
            f.add(
                "TR384",
                format!(
                    "toewijzing {nr} is verwijderd (RedenWijziging {})",
                    t.reden_wijziging.map(|r| r.code()).unwrap_or("13")
                ),
            );
        }
        if let Some(prod) = &t.product {
            if prod.categorie != p.product_categorie {
                f.add(
                    "TR339",
                    format!(
                        "ProductCategorie {}, toegewezen ProductCategorie {}",
                        p.product_categorie, prod.categorie
                    ),
                );
            }
            if let Some(code) = &prod.code {
                if *code != p.product_code {
                    f.add(
                        "TR340",
                        format!(
                            "ProductCode {}, toegewezen ProductCode {code}",
                            p.product_code
                        ),
                    );
                }
            }
        }
        let unit_fits = match t.eenheid {
            None => true,
            Some(te) => fits(p.eenheid, te),
        };
        if !unit_fits {
            if let Some(te) = t.eenheid {
                f.add(
                    "TR341",
                    format!(
                        "Eenheid {} ({}), toegewezen Eenheid {} ({})",
                        p.eenheid,
                        unit(p.eenheid),
                        te,
                        unit(te)
                    ),
                );
            }
        }
        if pp.begindatum < t.ingangsdatum {
            f.add(
                "TR307",
                format!(
                    "Prestatie begint {}, toewijzing {nr} begint pas {}",
                    pp.begindatum, t.ingangsdatum
                ),
            );
        }
        if let Some(eind) = t.einddatum {
            if pp.einddatum > eind {
                f.add(
                    "TR308",
                    format!(
                        "Prestatie eindigt {}, toewijzing {nr} eindigt al {eind}",
                        pp.einddatum
                    ),
                );
            }
        }
        if pp.begindatum.day() != 1 && pp.begindatum != t.ingangsdatum {
            f.add(
                "TR387",
                format!(
                    "ProductPeriode begint {}, niet op de 1e van de maand en niet op de Ingangsdatum {} van toewijzing {nr}",
                    pp.begindatum, t.ingangsdatum
                ),
            );
        }
        if pp.einddatum != last_day_of_month(pp.einddatum) && Some(pp.einddatum) != t.einddatum {
            f.add(
                "TR388",
                format!(
                    "ProductPeriode eindigt {}, niet op de laatste dag van de maand en niet op de Einddatum {} van toewijzing {nr}",
                    pp.einddatum,
                    t.einddatum
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "(geen)".into())
                ),
            );
        }
        if unit_fits {
            self.volume_rules(f, t, p);
        }
        self.tr369(f, t, p);
    }

    /// TR321 (per ProductPeriode) and TR322 (cumulative), for a debit whose unit fits.
    fn volume_rules(&self, f: &mut Findings, t: &Toewijzing, p: &Prestatie) {
        let (Some(volume), Some(te), Some(freq)) = (t.volume, t.eenheid, t.frequentie) else {
            return;
        };
        let nr = t.toewijzing_nummer;
        let vol = u128::from(volume);
        // Compare in the smallest unit involved: minutes when hours were assigned.
        let factor: u128 = if te == Eenheid::Uur { 60 } else { 1 };
        let scale = |e: Eenheid| -> Option<i128> {
            match (te, e) {
                (Eenheid::Uur, Eenheid::Uur) => Some(60),
                (Eenheid::Uur, Eenheid::Minuut) => Some(1),
                (a, b) if a == b => Some(1),
                _ => None,
            }
        };
        let declared = i128::from(p.geleverd_volume.get()) * scale(p.eenheid).unwrap_or(1);
        let shown = |v: u128| -> String {
            if te == Eenheid::Uur && p.eenheid == Eenheid::Minuut {
                format!("{v} {} ({} minuten)", unit(te), v.saturating_mul(60))
            } else {
                format!("{v} {}", unit(te))
            }
        };

        // TR321.
        let categorie = t
            .product
            .as_ref()
            .map(|pr| pr.categorie)
            .unwrap_or(p.product_categorie);
        if let Some((max, how)) = max_per_periode(t, vol, te, freq, categorie, &p.product_periode) {
            if declared > i128::try_from(max.saturating_mul(factor)).unwrap_or(i128::MAX) {
                f.add(
                    "TR321",
                    format!(
                        "GeleverdVolume {} {}, maximaal {} voor ProductPeriode {} t/m {} ({how})",
                        p.geleverd_volume.get(),
                        unit(p.eenheid),
                        shown(max),
                        p.product_periode.begindatum,
                        p.product_periode.einddatum
                    ),
                );
            }
        }

        // TR322.
        if let Some((max, how)) = max_totaal(t, vol, te, freq) {
            let s = self.sums.get(&nr).copied().unwrap_or_default();
            let earlier: i128 = Eenheid::ALL
                .iter()
                .filter_map(|e| scale(*e).map(|k| s.volume[eenheid_index(*e)].saturating_mul(k)))
                .fold(0i128, |a, b| a.saturating_add(b));
            let total = earlier.saturating_add(declared);
            let limit = i128::try_from(max.saturating_mul(factor)).unwrap_or(i128::MAX);
            if total > limit {
                let total_shown = if factor == 60 {
                    format!("{total} minuten")
                } else {
                    format!("{total} {}", unit(te))
                };
                f.add(
                    "TR322",
                    format!(
                        "totaal goedgekeurd op toewijzing {nr} inclusief deze prestatie {total_shown}, toegewezen totaal {max} {} ({how})",
                        unit(te)
                    ),
                );
            }
        }
    }

    /// TR369 → 9369 (toewijzing with a Budget, debits).
    ///
    /// The rule text compares "the sum of GeleverdVolume" with a Budget in cents, which only makes
    /// sense for Eenheid 83; the reference (§9.3, §13) flags the intended comparison as
    /// unverified. We compare what can be compared with a budget in cents: Σ of the approved
    /// signed IngediendBedragen on the toewijzing, including this line. Confirm with the
    /// informatiemodel before relying on it.
    fn tr369(&self, f: &mut Findings, t: &Toewijzing, p: &Prestatie) {
        let Some(budget) = t.budget else {
            return;
        };
        let s = self
            .sums
            .get(&t.toewijzing_nummer)
            .copied()
            .unwrap_or_default();
        let total = s
            .bedrag
            .saturating_add(i128::from(p.ingediend_bedrag.signed()));
        if total > i128::from(budget) {
            f.add(
                "TR369",
                format!(
                    "totaal gedeclareerd op toewijzing {} inclusief deze prestatie {}, Budget {}",
                    t.toewijzing_nummer,
                    euro(total),
                    euro(i128::from(budget))
                ),
            );
        }
    }

    /// TR346 → 9346: Eenheid ≠ 83 and IngediendBedrag ≠ GeleverdVolume × ProductTarief.
    ///
    /// Hours declared as minutes (IV081): the shown per-minute tariff is rounded, the amount is
    /// round_half_up(hourly tariff × minutes / 60); with an hourly contract that amount is
    /// accepted too.
    fn tr346(&self, f: &mut Findings, p: &Prestatie) {
        if p.eenheid == Eenheid::Euro {
            return;
        }
        let Some(tarief) = p.product_tarief else {
            return; // CD087, level 2
        };
        let bedrag = u128::from(p.ingediend_bedrag.bedrag.cents());
        let volume = u128::from(p.geleverd_volume.get());
        let expected = volume.saturating_mul(u128::from(tarief.cents()));
        if bedrag == expected {
            return;
        }
        if p.eenheid == Eenheid::Minuut && self.contract(p, Eenheid::Minuut).is_none() {
            if let Some(c) = self.contract(p, Eenheid::Uur) {
                let exact = volume
                    .saturating_mul(u128::from(c.tarief))
                    .saturating_add(30)
                    / 60;
                if bedrag == exact {
                    return;
                }
            }
        }
        f.add(
            "TR346",
            format!(
                "IngediendBedrag {}, GeleverdVolume {} × ProductTarief {} = {}",
                euro(bedrag as i128),
                volume,
                euro(i128::from(tarief.cents())),
                euro(expected as i128)
            ),
        );
    }

    /// TR418 → 0611 (level 4, debits): the ProductTarief must be the contract tariff for
    /// (aanbieder, gemeente, categorie, code, eenheid) on the ProductPeriode's Begindatum.
    fn tr418(&self, f: &mut Findings, p: &Prestatie) {
        let product = format!("{}/{}", p.product_categorie, p.product_code);
        let begin = p.product_periode.begindatum;
        if p.eenheid == Eenheid::Euro {
            // No tariff to compare: only a contract for this product in euro's is required.
            if self.contract(p, Eenheid::Euro).is_none() {
                f.add(
                    "TR418",
                    format!("geen contract voor product {product} met Eenheid 83 op {begin}"),
                );
            }
            return;
        }
        let Some(tarief) = p.product_tarief else {
            return; // CD087, level 2
        };
        let declared = tarief.cents();
        let (expected, how) = match self.contract(p, p.eenheid) {
            Some(c) => (c.tarief, String::new()),
            None => match (p.eenheid, self.contract(p, Eenheid::Uur)) {
                // IV081: minutes against an hourly contract, tariff per minute rounded half up.
                (Eenheid::Minuut, Some(c)) => (
                    c.tarief.saturating_add(30) / 60,
                    format!(" (uurtarief {} / 60, afgerond)", c.tarief),
                ),
                _ => {
                    f.add(
                        "TR418",
                        format!(
                            "geen contract voor product {product} met Eenheid {} op {begin}",
                            p.eenheid
                        ),
                    );
                    return;
                }
            },
        };
        if declared != expected {
            f.add(
                "TR418",
                format!("ProductTarief {declared}, contracttarief {expected}{how}"),
            );
        }
    }

    /// The contract for this line's product in `eenheid` whose period contains the
    /// ProductPeriode's Begindatum (the latest one if several do).
    fn contract(&self, p: &Prestatie, eenheid: Eenheid) -> Option<&'a Contract> {
        let d = p.product_periode.begindatum;
        self.contracts
            .get(&(p.product_categorie, &p.product_code, eenheid))?
            .iter()
            .filter(|c| c.ingangsdatum <= d && c.einddatum.is_none_or(|e| d <= e))
            .max_by_key(|c| c.ingangsdatum)
            .copied()
    }
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

/// TR341: hours may be declared as minutes; otherwise the same unit.
fn fits(declared: Eenheid, toegewezen: Eenheid) -> bool {
    declared == toegewezen || (toegewezen == Eenheid::Uur && declared == Eenheid::Minuut)
}

fn unit(e: Eenheid) -> &'static str {
    match e {
        Eenheid::Minuut => "minuten",
        Eenheid::Uur => "uur",
        Eenheid::Etmaal => "etmalen",
        Eenheid::Dagdeel => "dagdelen",
        Eenheid::StuksOutput => "stuks (output)",
        Eenheid::Euro => "eurocent",
        Eenheid::StuksInspanning => "stuks (inspanning)",
    }
}

fn euro(cents: i128) -> Euro {
    Euro(i64::try_from(cents).unwrap_or(if cents < 0 { i64::MIN } else { i64::MAX }))
}

fn is_outputgericht(e: Eenheid) -> bool {
    matches!(e, Eenheid::StuksOutput | Eenheid::Euro)
}

fn days(begin: NaiveDate, end: NaiveDate) -> u128 {
    u128::try_from(end.signed_duration_since(begin).num_days() + 1).unwrap_or(0)
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday())))
        .unwrap_or(d)
}

/// Number of distinct ISO-8601 weeks (Monday–Sunday) that overlap `begin..=end`.
fn iso_weeks(begin: NaiveDate, end: NaiveDate) -> u128 {
    if end < begin {
        return 0;
    }
    days(monday_of(begin), monday_of(end)).saturating_sub(1) / 7 + 1
}

/// Number of Sundays in `begin..=end`.
fn sundays(begin: NaiveDate, end: NaiveDate) -> u128 {
    let to_sunday = 6 - u64::from(begin.weekday().num_days_from_monday());
    match begin.checked_add_days(Days::new(to_sunday)) {
        Some(first) if first <= end => days(first, end).saturating_sub(1) / 7 + 1,
        _ => 0,
    }
}

/// Last Sunday on or before `d`.
fn sunday_on_or_before(d: NaiveDate) -> NaiveDate {
    let back = (d.weekday().num_days_from_monday() + 1) % 7;
    d.checked_sub_days(Days::new(u64::from(back))).unwrap_or(d)
}

/// TR321: the maximum for one ProductPeriode in the toegewezen unit, with how it was computed;
/// `None` when there is no per-period limit (Frequentie 6).
fn max_per_periode(
    t: &Toewijzing,
    vol: u128,
    te: Eenheid,
    freq: Frequentie,
    categorie: ProductCategorie,
    pp: &Periode,
) -> Option<(u128, String)> {
    let per = unit(te);
    match freq {
        Frequentie::TotaalBinnenGeldigheidsduur => None,
        Frequentie::PerMaand => Some((vol, format!("{vol} {per} per maand"))),
        Frequentie::PerDag => {
            let n = days(pp.begindatum, pp.einddatum);
            Some((
                vol.saturating_mul(n),
                format!("{n} dagen × {vol} {per} per dag"),
            ))
        }
        Frequentie::PerWeek if is_outputgericht(te) => {
            // A week belongs to the period holding its Sunday; the toewijzing's last, broken
            // week counts in the period that holds its last Sunday.
            let mut n = sundays(pp.begindatum, pp.einddatum);
            if let Some(eind) = t.einddatum {
                let last = sunday_on_or_before(eind);
                if eind.weekday() != Weekday::Sun && last >= pp.begindatum && last <= pp.einddatum {
                    n = n.saturating_add(1);
                }
            }
            Some((
                vol.saturating_mul(n),
                format!("{n} weken (zondagen) × {vol} {per} per week"),
            ))
        }
        Frequentie::PerWeek if categorie == ProductCategorie::HulpBijHetHuishouden => Some((
            vol.saturating_mul(6),
            format!("hulp bij het huishouden: 6 × {vol} {per} per week"),
        )),
        Frequentie::PerWeek => {
            let n = iso_weeks(pp.begindatum, pp.einddatum);
            Some((
                vol.saturating_mul(n),
                format!("{n} ISO-weken × {vol} {per} per week"),
            ))
        }
    }
}

/// TR322: the total allowed over the whole toewijzing in the toegewezen unit; `None` without a
/// cumulative limit (open-ended toewijzing, except Frequentie 6).
fn max_totaal(t: &Toewijzing, vol: u128, te: Eenheid, freq: Frequentie) -> Option<(u128, String)> {
    let per = unit(te);
    if freq == Frequentie::TotaalBinnenGeldigheidsduur {
        return Some((vol, format!("{vol} {per} totaal binnen de geldigheidsduur")));
    }
    let eind = t.einddatum?;
    let ing = t.ingangsdatum;
    if eind < ing {
        return Some((0, "toewijzing zonder geldige periode".into()));
    }
    let (n, what) = match freq {
        Frequentie::PerMaand => (
            u128::try_from(months_between(ing, eind) + 1).unwrap_or(0),
            "maanden",
        ),
        Frequentie::PerDag => (days(ing, eind), "dagen"),
        Frequentie::PerWeek if is_outputgericht(te) => (
            sundays(ing, eind).saturating_add(u128::from(eind.weekday() != Weekday::Sun)),
            "weken",
        ),
        _ => (iso_weeks(ing, eind), "ISO-weken"),
    };
    Some((
        vol.saturating_mul(n),
        format!(
            "{n} {what} × {vol} {per} per {}",
            match freq {
                Frequentie::PerMaand => "maand",
                Frequentie::PerDag => "dag",
                _ => "week",
            }
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weeks_and_sundays() {
        // Reference §10: January from the 6th = 4 ISO weeks, February 2025 = 5.
        assert_eq!(iso_weeks(d("2025-01-06"), d("2025-01-31")), 4);
        assert_eq!(iso_weeks(d("2025-02-01"), d("2025-02-28")), 5);
        // IV077: 07-10-2025 … 30-12-2025 = 13 weeks.
        assert_eq!(iso_weeks(d("2025-10-07"), d("2025-12-30")), 13);
        assert_eq!(iso_weeks(d("2025-10-07"), d("2025-10-31")), 4);
        assert_eq!(iso_weeks(d("2025-06-01"), d("2025-06-30")), 6);
        assert_eq!(sundays(d("2025-06-01"), d("2025-06-30")), 5);
        assert_eq!(sundays(d("2025-06-02"), d("2025-06-07")), 0);
        assert_eq!(sundays(d("2025-06-02"), d("2025-06-08")), 1);
        assert_eq!(sunday_on_or_before(d("2025-06-08")), d("2025-06-08"));
        assert_eq!(sunday_on_or_before(d("2025-06-10")), d("2025-06-08"));
        assert_eq!(days(d("2025-02-01"), d("2025-02-28")), 28);
    }

    #[test]
    fn outputgericht_weeks_belong_to_their_sunday() {
        let t = Toewijzing {
            gemeente: Gemeentecode::parse("0344").unwrap(),
            toewijzing_nummer: Nummer::new(1).unwrap(),
            bsn: Bsn::parse("999990019").unwrap(),
            aanbieder: AgbCode::parse("87654321").unwrap(),
            product: None,
            toewijzingsdatum: d("2025-05-01"),
            toewijzingstijd: chrono::NaiveTime::MIN,
            ingangsdatum: d("2025-06-02"),
            einddatum: Some(d("2025-07-15")),
            reden_wijziging: None,
            volume: Some(1),
            eenheid: Some(Eenheid::StuksOutput),
            frequentie: Some(Frequentie::PerWeek),
            budget: None,
        };
        let max = |b: &str, e: &str| {
            let pp = Periode {
                begindatum: d(b),
                einddatum: d(e),
            };
            let c = ProductCategorie::Dagbesteding;
            max_per_periode(&t, 1, Eenheid::StuksOutput, Frequentie::PerWeek, c, &pp)
                .unwrap()
                .0
        };
        // June: Sundays 8, 15, 22, 29; July: 6 and 13, plus the broken last week.
        assert_eq!(max("2025-06-02", "2025-06-30"), 4);
        assert_eq!(max("2025-07-01", "2025-07-15"), 3);
        assert_eq!(
            max_totaal(&t, 1, Eenheid::StuksOutput, Frequentie::PerWeek)
                .unwrap()
                .0,
            7
        );
    }
}
