//! Level-3 rules for WMO305 (start) and WMO307 (stop): the checks that need the stored
//! toewijzingen, starts and stops (reference §6.3, §8.1–§8.3).
//!
//! Pure functions of the message and a [`StartStopSnapshot`]: no I/O, no clock. The message is
//! evaluated as the back office would process it: deletes (StatusAanlevering 3) first, then new
//! deliveries (StatusAanlevering 1), each against the state as changed by the classes evaluated
//! before it (IV008: "process the delete before the new delivery"). Findings are reported per
//! product in message order.
//!
//! Scope of the stored rows **[derived]**: only ACTIVE rows count (a deleted class counts as never
//! sent; a rejected message was never stored), and only rows of this client (Bsn) sent by this
//! aanbieder (Afzender). The logical keys of the standard do not name the aanbieder, but a
//! toewijzing belongs to one aanbieder, so for toewijzing-based starts/stops the filter changes
//! nothing; for taakgericht starts/stops (no ToewijzingNummer) it keeps one aanbieder from
//! deleting, duplicating or blocking another aanbieder's start of the same product — which the
//! sender could not see (OP095).

use chrono::NaiveDate;

use super::decision::StartStopDecision;
use super::state::{StartRow, StartStopSnapshot, StopRow, Toewijzing};
use super::{idx, Finding};
use crate::domain::{
    AgbCode, Bsn, Gemeentecode, RedenBeeindiging, StatusAanlevering, ToewijzingNummer,
};
use crate::message::common::Product;
use crate::message::startstop::{
    StartStopBericht, StartStopProduct, StartStopView, Wmo305, Wmo307,
};

/// Level-3 checks on a WMO305: TR019 (9019), TR063 (9063), TR071 (9071), TR074 (9074),
/// TR326 (9326).
pub fn check_305(m: &Wmo305, snap: &StartStopSnapshot) -> StartStopDecision {
    check(m, snap)
}

/// Level-3 checks on a WMO307: TR019 (9019), TR063 (9063), TR382 (9069), TR074 (9074),
/// TR413 (9413), TR414 (9414), TR415 (9415).
pub fn check_307(m: &Wmo307, snap: &StartStopSnapshot) -> StartStopDecision {
    check(m, snap)
}

/// Both: every product in processing order against the simulated state; TR019 first for a new
/// delivery, then the rules of a start or a stop.
fn check<P: StartStopProduct>(
    m: &StartStopBericht<P>,
    snap: &StartStopSnapshot,
) -> StartStopDecision {
    let ctx = Ctx::new(m.header.afzender, m.header.ontvanger, m.client.bsn, snap);
    let mut sim = Sim::from_snapshot(&ctx, snap);
    let producten = &m.client.producten;
    let n = producten.len();
    let mut products: Vec<Vec<Finding>> = vec![Vec::new(); n];

    for i in processing_order(producten.iter().map(|p| p.view().status_aanlevering)) {
        let (Some(p), Some(out)) = (producten.get(i), products.get_mut(i)) else {
            continue;
        };
        let v = p.view();
        let mut f = Findings::new(format!(
            "/Bericht/Client/{}/{}{}",
            P::LIST,
            P::NAME,
            idx(i, n)
        ));
        match (v.status_aanlevering, Key::of(&v)) {
            (StatusAanlevering::VerwijderenAanlevering, Key::Start(k)) => {
                delete_start(&mut sim, &k, &mut f)
            }
            (StatusAanlevering::VerwijderenAanlevering, Key::Stop(k)) => {
                delete_stop(&mut sim, k, &mut f)
            }
            (StatusAanlevering::EersteAanlevering, key) => {
                if let Some(nr) = v.toewijzing_nummer {
                    if let Some(facts) = ctx.tr019(nr) {
                        f.push("TR019", facts);
                    }
                }
                match key {
                    Key::Start(k) => new_start(&mut sim, k, &mut f),
                    Key::Stop(k) => new_stop(&mut sim, k, &mut f),
                }
            }
            // StatusAanlevering 2 and 9 are forbidden in a Start- or StopProduct (CS058, level 2
            // → 0001); such a class never reaches level 3, and here it neither fails nor
            // changes anything.
            _ => {}
        }
        *out = f.into_vec();
    }

    StartStopDecision {
        header: Vec::new(),
        client: Vec::new(),
        products,
    }
}

/// A start deleted (StatusAanlevering 3): TR063, TR071.
fn delete_start(sim: &mut Sim, key: &StartKey, f: &mut Findings) {
    if !sim.starts.contains(key) {
        f.push(
            "TR063",
            format!("er is geen actieve start met {}", key.text()),
        );
    }
    if let Some(stop) = sim.stops.iter().find(|s| s.start == *key) {
        f.push(
            "TR071",
            format!(
                "voor de start met {} is een stop ontvangen ({})",
                key.text(),
                stop.reden_einde()
            ),
        );
    }
    if f.is_empty() {
        sim.starts.retain(|s| s != key);
    }
}

/// A new start (StatusAanlevering 1): TR074, TR326.
fn new_start(sim: &mut Sim, key: StartKey, f: &mut Findings) {
    if sim.starts.contains(&key) {
        f.push(
            "TR074",
            format!("de start met {} is al ontvangen", key.text()),
        );
    }
    // OP289/TR326: one current start per ToegewezenProduct. A start is current while it is
    // active and no active stop (reden 20 or definitive) carries its key: a new start after a
    // temporary or definitive stop is allowed (OP379).
    if let Some(current) = sim
        .starts
        .iter()
        .find(|s| **s != key && s.same_toegewezen_product(&key) && !sim.stopped(s))
    {
        f.push(
            "TR326",
            format!(
                "de start met {} is nog actueel (niet gestopt en niet verwijderd)",
                current.text()
            ),
        );
    }
    if f.is_empty() {
        sim.starts.push(key);
    }
}

/// A stop deleted (StatusAanlevering 3): TR063.
fn delete_stop(sim: &mut Sim, key: StopKey, f: &mut Findings) {
    if !sim.stops.contains(&key) {
        f.push(
            "TR063",
            format!("er is geen actieve stop met {}", key.text()),
        );
    }
    if f.is_empty() {
        sim.stops.retain(|s| *s != key);
    }
}

/// A new stop (StatusAanlevering 1): TR382, TR074, TR413/TR414/TR415.
fn new_stop(sim: &mut Sim, key: StopKey, f: &mut Findings) {
    // OP072/TR382: a stop repeats the key elements of an active start.
    if !sim.starts.contains(&key.start) {
        f.push(
            "TR382",
            format!("er is geen actieve start met {}", key.start.text()),
        );
    }
    if sim.stops.contains(&key) {
        f.push(
            "TR074",
            format!("de stop met {} is al ontvangen", key.text()),
        );
    }
    // TR413/TR414/TR415 compare with the stops of the same start: same Bsn, ToewijzingNummer and
    // Begindatum (the rules do not name the Product).
    for s in sim
        .stops
        .iter()
        .filter(|s| s.start.same_stop_group(&key.start))
    {
        if key.reden.is_tijdelijk() && s.reden.is_tijdelijk() {
            f.push(
                "TR413",
                format!(
                    "er is al een tijdelijke stop ({}) voor de start met {}",
                    s.reden_einde(),
                    s.start.text()
                ),
            );
        }
        if !s.reden.is_tijdelijk() {
            f.push(
                "TR415",
                format!(
                    "er is al een definitieve stop ({}) voor de start met {}",
                    s.reden_einde(),
                    s.start.text()
                ),
            );
        }
        // Equal Einddatum is allowed since 3.2.
        if key.einddatum < s.einddatum {
            f.push(
                "TR414",
                format!(
                    "Einddatum {} ligt voor Einddatum {} van de bestaande stop \
                     (RedenBeeindiging {}) voor de start met {}",
                    d(key.einddatum),
                    d(s.einddatum),
                    s.reden,
                    s.start.text()
                ),
            );
        }
    }
    if f.is_empty() {
        sim.stops.push(key);
    }
}

/// Indices of the products in processing order: deletes (status 3) first, then the rest, each
/// group in message order.
fn processing_order(statuses: impl Iterator<Item = StatusAanlevering> + Clone) -> Vec<usize> {
    let deletes = statuses
        .clone()
        .enumerate()
        .filter(|(_, s)| *s == StatusAanlevering::VerwijderenAanlevering)
        .map(|(i, _)| i);
    let others = statuses
        .enumerate()
        .filter(|(_, s)| *s != StatusAanlevering::VerwijderenAanlevering)
        .map(|(i, _)| i);
    deletes.chain(others).collect()
}

/// The facts of the message that scope the stored rows.
struct Ctx<'a> {
    aanbieder: AgbCode,
    gemeente: Gemeentecode,
    bsn: Bsn,
    toewijzingen: &'a [Toewijzing],
}

impl<'a> Ctx<'a> {
    fn new(
        aanbieder: AgbCode,
        gemeente: Gemeentecode,
        bsn: Bsn,
        snap: &'a StartStopSnapshot,
    ) -> Ctx<'a> {
        Ctx {
            aanbieder,
            gemeente,
            bsn,
            toewijzingen: &snap.toewijzingen,
        }
    }

    fn start_in_scope(&self, r: &StartRow) -> bool {
        r.active && r.bsn == self.bsn && r.aanbieder == self.aanbieder
    }

    fn stop_in_scope(&self, r: &StopRow) -> bool {
        r.active && r.bsn == self.bsn && r.aanbieder == self.aanbieder
    }

    /// TR019: the facts when ToewijzingNummer `nr` cannot be linked to a current toewijzing of
    /// this gemeente to this aanbieder for this client; `None` when it can.
    fn tr019(&self, nr: ToewijzingNummer) -> Option<String> {
        // The current version: latest Toewijzingsdatum + Toewijzingstijd (IV013).
        let current = self
            .toewijzingen
            .iter()
            .filter(|t| t.gemeente == self.gemeente && t.toewijzing_nummer == nr)
            .max_by_key(|t| (t.toewijzingsdatum, t.toewijzingstijd));
        match current {
            // Another aanbieder's toewijzing is reported as unknown to this one: no facts about
            // someone else's toewijzing leave the gemeente.
            Some(t) if t.aanbieder != self.aanbieder => Some(self.onbekend(nr)),
            None => Some(self.onbekend(nr)),
            Some(t) if t.is_verwijderd() => Some(format!(
                "toewijzing {nr} van gemeente {} aan aanbieder {} is verwijderd",
                self.gemeente, self.aanbieder
            )),
            Some(t) if t.bsn != self.bsn => Some(format!(
                "toewijzing {nr} van gemeente {} aan aanbieder {} hoort bij een andere cliënt",
                self.gemeente, self.aanbieder
            )),
            Some(_) => None,
        }
    }

    fn onbekend(&self, nr: ToewijzingNummer) -> String {
        format!(
            "toewijzing {nr} is niet bekend bij gemeente {} voor aanbieder {}",
            self.gemeente, self.aanbieder
        )
    }
}

/// Logical key of a start without the Bsn (all rows in the simulation are of this client).
#[derive(Debug, Clone, PartialEq, Eq)]
struct StartKey {
    nummer: Option<ToewijzingNummer>,
    product: Option<Product>,
    begindatum: NaiveDate,
}

impl StartKey {
    fn new(
        nummer: Option<ToewijzingNummer>,
        product: Option<&Product>,
        begindatum: NaiveDate,
    ) -> StartKey {
        StartKey {
            nummer,
            product: product.cloned(),
            begindatum,
        }
    }

    /// Both for the same ToegewezenProduct (TR326): the same ToewijzingNummer, or for
    /// taakgericht starts (no ToewijzingNummer) the same Product (IV096) **[derived]**.
    fn same_toegewezen_product(&self, other: &StartKey) -> bool {
        match (self.nummer, other.nummer) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.product == other.product,
            _ => false,
        }
    }

    /// Stops of the same start for TR413/TR414/TR415: same ToewijzingNummer and Begindatum; for
    /// taakgericht stops (no ToewijzingNummer) also the same Product, because there the Product
    /// identifies what was started (IV096) **[derived]**.
    fn same_stop_group(&self, other: &StartKey) -> bool {
        self.begindatum == other.begindatum
            && match (self.nummer, other.nummer) {
                (Some(a), Some(b)) => a == b,
                (None, None) => self.product == other.product,
                _ => false,
            }
    }

    /// Dutch description of the key, without the Bsn.
    fn text(&self) -> String {
        let nummer = match self.nummer {
            Some(n) => format!("ToewijzingNummer {n}"),
            None => "zonder ToewijzingNummer".to_string(),
        };
        let product = match &self.product {
            Some(Product {
                categorie,
                code: Some(code),
            }) => format!("Product {categorie}/{}", code.as_str()),
            Some(Product {
                categorie,
                code: None,
            }) => format!("Product {categorie}"),
            None => "zonder Product".to_string(),
        };
        format!("{nummer}, {product}, Begindatum {}", d(self.begindatum))
    }
}

/// Logical key of a stop without the Bsn.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StopKey {
    start: StartKey,
    reden: RedenBeeindiging,
    einddatum: NaiveDate,
}

impl StopKey {
    fn reden_einde(&self) -> String {
        format!(
            "RedenBeeindiging {}, Einddatum {}",
            self.reden,
            d(self.einddatum)
        )
    }

    fn text(&self) -> String {
        format!("{}, {}", self.start.text(), self.reden_einde())
    }
}

/// The key of a product of the message: a start's or a stop's.
enum Key {
    Start(StartKey),
    Stop(StopKey),
}

impl Key {
    fn of(v: &StartStopView<'_>) -> Key {
        let start = StartKey::new(v.toewijzing_nummer, v.product, v.begindatum);
        match v.einde {
            None => Key::Start(start),
            Some((reden, einddatum)) => Key::Stop(StopKey {
                start,
                reden,
                einddatum,
            }),
        }
    }
}

/// The active starts and stops of this client from this aanbieder, as changed by the classes of
/// the message evaluated so far.
struct Sim {
    starts: Vec<StartKey>,
    stops: Vec<StopKey>,
}

impl Sim {
    fn from_snapshot(ctx: &Ctx<'_>, snap: &StartStopSnapshot) -> Sim {
        Sim {
            starts: snap
                .starts
                .iter()
                .filter(|r| ctx.start_in_scope(r))
                .map(|r| StartKey::new(r.toewijzing_nummer, r.product.as_ref(), r.begindatum))
                .collect(),
            stops: snap
                .stops
                .iter()
                .filter(|r| ctx.stop_in_scope(r))
                .map(|r| StopKey {
                    start: StartKey::new(r.toewijzing_nummer, r.product.as_ref(), r.begindatum),
                    reden: r.reden_beeindiging,
                    einddatum: r.einddatum,
                })
                .collect(),
        }
    }

    /// An active stop (any reason) carries the key of this start.
    fn stopped(&self, start: &StartKey) -> bool {
        self.stops.iter().any(|s| s.start == *start)
    }
}

/// Findings of one class: one per rule (the first facts win), in the order the rules fired.
struct Findings {
    location: String,
    list: Vec<Finding>,
}

impl Findings {
    fn new(location: String) -> Findings {
        Findings {
            location,
            list: Vec::new(),
        }
    }

    fn push(&mut self, rule_id: &'static str, facts: String) {
        if self.list.iter().any(|f| f.rule == rule_id) {
            return;
        }
        self.list.push(Finding::new(
            rule_id,
            vec![self.location.clone()],
            Some(facts),
        ));
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn into_vec(self) -> Vec<Finding> {
        self.list
    }
}

/// `YYYY-MM-DD`.
fn d(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}
