//! The state a 323 is checked against: the snapshot indexed once into hash maps, plus what the
//! message's own approved lines add for the lines after them.

use std::collections::{HashMap, HashSet};

use crate::domain::*;
use crate::message::common::ProductCode;
use crate::message::{Prestatie, Wmo323};
use crate::rules::state::{
    Contract, DeclaratieSnapshot, StartPolicy, StartRow, StopRow, Toewijzing,
};

/// Σ of approved lines on one toewijzing: signed GeleverdVolume per Eenheid, signed bedrag.
#[derive(Default, Clone, Copy)]
pub(super) struct Sums {
    pub(super) volume: [i128; 7],
    pub(super) bedrag: i128,
}

pub(super) fn eenheid_index(e: Eenheid) -> usize {
    Eenheid::ALL.iter().position(|x| *x == e).unwrap_or(0)
}

impl Sums {
    pub(super) fn add(&mut self, eenheid: Eenheid, volume: u64, bedrag: i64, dc: DebetCredit) {
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
pub(super) struct Declared<'a> {
    pub(super) aanbieder: AgbCode,
    pub(super) toewijzing: ToewijzingNummer,
    pub(super) periode: Periode,
    pub(super) referentie: &'a str,
}

pub(super) type Tr389Key<'a> = (ToewijzingNummer, ProductCategorie, &'a ProductCode, Periode);

/// Starts and stops of one client on one toewijzing.
pub(super) type StartsStops<'a> = (Vec<&'a StartRow>, Vec<&'a StopRow>);

pub(super) struct Ctx<'a> {
    pub(super) aanbieder: AgbCode,
    pub(super) gemeente: Gemeentecode,
    pub(super) policy: StartPolicy,
    pub(super) toewijzingen: HashMap<ToewijzingNummer, &'a Toewijzing>,
    /// ReferentieNummers used by this aanbieder (TR314).
    pub(super) used: HashSet<&'a str>,
    /// Approved debits of this aanbieder by ReferentieNummer (TR323).
    pub(super) approved_debits: HashSet<&'a str>,
    /// Debits of this aanbieder that an approved credit cancelled, with the credit's number if
    /// known (TR390, TR389, signals).
    pub(super) credited: HashMap<&'a str, Option<&'a str>>,
    /// Approved debits of this aanbieder per ProductPeriode/Categorie/Code/ToewijzingNummer.
    pub(super) tr389: HashMap<Tr389Key<'a>, Vec<&'a str>>,
    pub(super) sums: HashMap<ToewijzingNummer, Sums>,
    /// Approved, not-credited debits (all aanbieders) per client and categorie.
    pub(super) declared: HashMap<(Bsn, ProductCategorie), Vec<Declared<'a>>>,
    pub(super) contracts: HashMap<ContractKey<'a>, Vec<&'a Contract>>,
    pub(super) product_codes: HashSet<(ProductCategorie, &'a str)>,
    pub(super) starts: HashMap<(Bsn, ToewijzingNummer), StartsStops<'a>>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(m: &'a Wmo323, snap: &'a DeclaratieSnapshot) -> Ctx<'a> {
        let aanbieder = m.header.afzender;
        let gemeente = m.header.ontvanger;
        let mut ctx = Ctx {
            aanbieder,
            gemeente,
            policy: snap.policy,
            toewijzingen: current_toewijzingen(snap, gemeente, aanbieder),
            used: HashSet::new(),
            approved_debits: HashSet::new(),
            credited: HashMap::new(),
            tr389: HashMap::new(),
            sums: HashMap::new(),
            declared: HashMap::new(),
            contracts: contracts_of(snap, gemeente, aanbieder),
            product_codes: snap
                .product_codes
                .iter()
                .map(|(c, p)| (*c, p.as_str()))
                .collect(),
            starts: starts_and_stops(snap),
        };
        ctx.add_own_lines(snap);
        ctx.add_open_debits(snap);
        ctx
    }

    /// This aanbieder's earlier lines: used ReferentieNummers, approved debits, what was
    /// credited, and the sums (from the store's totals when it gives them).
    fn add_own_lines(&mut self, snap: &'a DeclaratieSnapshot) {
        if let Some(sommen) = &snap.sommen {
            // Totals from the store (the lines themselves are only loaded where they matter).
            for t in sommen {
                let s = self.sums.entry(t.toewijzing_nummer).or_default();
                let slot = &mut s.volume[eenheid_index(t.eenheid)];
                *slot = slot.saturating_add(i128::from(t.volume));
                s.bedrag = s.bedrag.saturating_add(i128::from(t.bedrag));
            }
        }
        for e in snap
            .earlier
            .iter()
            .filter(|e| e.aanbieder == self.aanbieder)
        {
            self.used.insert(e.referentie_nummer.as_str());
            if !e.approved {
                continue;
            }
            if snap.sommen.is_none() {
                self.sums.entry(e.toewijzing_nummer).or_default().add(
                    e.eenheid,
                    e.geleverd_volume,
                    e.bedrag,
                    e.debet_credit,
                );
            }
            match e.debet_credit {
                DebetCredit::Debet => {
                    self.approved_debits.insert(e.referentie_nummer.as_str());
                    if let Some(c) = &e.gecrediteerd_door {
                        self.credited
                            .insert(e.referentie_nummer.as_str(), Some(c.as_str()));
                    }
                }
                DebetCredit::Credit => {
                    if let Some(v) = &e.vorig_referentie_nummer {
                        self.credited
                            .insert(v.as_str(), Some(e.referentie_nummer.as_str()));
                    }
                }
            }
        }
    }

    /// Approved debits that no credit cancelled: this aanbieder's for TR389, everyone's for the
    /// signals.
    fn add_open_debits(&mut self, snap: &'a DeclaratieSnapshot) {
        let aanbieder = self.aanbieder;
        // Debits of other aanbieders cancelled by an approved credit (for the signals).
        let credited_elsewhere: HashSet<(AgbCode, &str)> = snap
            .earlier
            .iter()
            .filter(|e| {
                e.aanbieder != aanbieder && e.approved && e.debet_credit == DebetCredit::Credit
            })
            .filter_map(|e| Some((e.aanbieder, e.vorig_referentie_nummer.as_deref()?)))
            .collect();
        for e in snap.earlier.iter().filter(|e| {
            e.approved && e.debet_credit == DebetCredit::Debet && e.gecrediteerd_door.is_none()
        }) {
            let r = e.referentie_nummer.as_str();
            if e.aanbieder != aanbieder && credited_elsewhere.contains(&(e.aanbieder, r)) {
                continue;
            }
            if e.aanbieder == aanbieder {
                if self.credited.contains_key(r) {
                    continue;
                }
                self.tr389
                    .entry((
                        e.toewijzing_nummer,
                        e.product_categorie,
                        &e.product_code,
                        e.product_periode,
                    ))
                    .or_default()
                    .push(r);
            }
            self.declared
                .entry((e.bsn, e.product_categorie))
                .or_default()
                .push(Declared {
                    aanbieder: e.aanbieder,
                    toewijzing: e.toewijzing_nummer,
                    periode: e.product_periode,
                    referentie: r,
                });
        }
    }

    /// An approved line counts for the lines after it: sums, credits, TR323/TR389 and signals.
    pub(super) fn record_approved(
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

    /// The contract for this line's product in `eenheid` whose period contains the
    /// ProductPeriode's Begindatum (the latest one if several do).
    pub(super) fn contract(&self, p: &Prestatie, eenheid: Eenheid) -> Option<&'a Contract> {
        let d = p.product_periode.begindatum;
        self.contracts
            .get(&(p.product_categorie, &p.product_code, eenheid))?
            .iter()
            .filter(|c| c.ingangsdatum <= d && c.einddatum.is_none_or(|e| d <= e))
            .max_by_key(|c| c.ingangsdatum)
            .copied()
    }
}

/// Current version per number (latest Toewijzingsdatum + -tijd, IV013), this gemeente and
/// aanbieder only.
fn current_toewijzingen(
    snap: &DeclaratieSnapshot,
    gemeente: Gemeentecode,
    aanbieder: AgbCode,
) -> HashMap<ToewijzingNummer, &Toewijzing> {
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
    toewijzingen
}

type ContractKey<'a> = (ProductCategorie, &'a ProductCode, Eenheid);

fn contracts_of(
    snap: &DeclaratieSnapshot,
    gemeente: Gemeentecode,
    aanbieder: AgbCode,
) -> HashMap<ContractKey<'_>, Vec<&Contract>> {
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
    contracts
}

/// Starts per (client, toewijzing), with the stops of those starts' client and toewijzing.
fn starts_and_stops(
    snap: &DeclaratieSnapshot,
) -> HashMap<(Bsn, ToewijzingNummer), StartsStops<'_>> {
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
    starts
}
