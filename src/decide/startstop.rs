//! WMO305 (start) and WMO307 (stop), written once: one room generic over the product class.
//! Answered with WMO306 / WMO308; rejected as a whole at level 3/4 (reference §7).

use std::marker::PhantomData;

use super::changes::{Changes, NewClass, StartStopChanges};
use super::room::{Answer, Assessed, Keys, Need, Room};
use super::{codes_of, placed, Input, Snapshot};
use crate::message::startstop::{Numbers, ProductList, StartStopBericht};
use crate::message::{Message, StartProduct, StopProduct};
use crate::retour::{self, RetourMeta};
use crate::rules::decision::StartStopDecision;
use crate::rules::holds::{self, After};
use crate::rules::state::{StartRow, StartStopSnapshot, StopRow};
use crate::rules::{self};

/// What differs between a start and a stop.
pub trait StartOrStop: ProductList + Numbers + Clone + Sync + Send + 'static {
    const KIND: &'static str;
    fn bericht(msg: &Message) -> Option<&StartStopBericht<Self>>;
    fn check(m: &StartStopBericht<Self>, s: &StartStopSnapshot) -> StartStopDecision;
    fn toewijzing_nummer(&self) -> Option<crate::domain::ToewijzingNummer>;
    /// StatusAanlevering 1: a new class; otherwise it deletes the stored classes it repeats.
    fn is_new(&self) -> bool;
    fn new_class(&self) -> NewClass;
    /// Ids of the client's active stored classes (of this kind) that this product repeats.
    fn repeated(&self, m: &StartStopBericht<Self>, s: &StartStopSnapshot) -> Vec<i64>;
    /// Puts new and deleted classes of this kind into the changes.
    fn record(c: &mut StartStopChanges, new: Vec<NewClass>, deleted: Vec<i64>);
}

fn mine<'a, R>(
    rows: &'a [R],
    m: &'a StartStopBericht<impl ProductList>,
    of: impl Fn(&R) -> (bool, crate::domain::AgbCode, crate::domain::Bsn) + 'a,
) -> impl Iterator<Item = &'a R> + 'a {
    rows.iter().filter(move |r| {
        let (active, aanbieder, bsn) = of(r);
        active && aanbieder == m.header.afzender && bsn == m.client.bsn
    })
}

impl StartOrStop for StartProduct {
    const KIND: &'static str = "WMO305";
    fn bericht(msg: &Message) -> Option<&StartStopBericht<Self>> {
        match msg {
            Message::Wmo305(m) => Some(m),
            _ => None,
        }
    }
    fn check(m: &StartStopBericht<Self>, s: &StartStopSnapshot) -> StartStopDecision {
        rules::startstop::check_305(m, s)
    }
    fn toewijzing_nummer(&self) -> Option<crate::domain::ToewijzingNummer> {
        self.toewijzing_nummer
    }
    fn is_new(&self) -> bool {
        self.status_aanlevering.code() == "1"
    }
    fn new_class(&self) -> NewClass {
        NewClass {
            toewijzing_nummer: self.toewijzing_nummer,
            product: self.product.clone(),
            begindatum: self.begindatum,
            reden_beeindiging: None,
            einddatum: None,
        }
    }
    fn repeated(&self, m: &StartStopBericht<Self>, s: &StartStopSnapshot) -> Vec<i64> {
        mine(&s.starts, m, |r: &StartRow| (r.active, r.aanbieder, r.bsn))
            .filter(|r| {
                r.toewijzing_nummer == self.toewijzing_nummer
                    && r.product == self.product
                    && r.begindatum == self.begindatum
            })
            .map(|r| r.id)
            .collect()
    }
    fn record(c: &mut StartStopChanges, new: Vec<NewClass>, deleted: Vec<i64>) {
        c.new_starts = new;
        c.deleted_starts = deleted;
    }
}

impl StartOrStop for StopProduct {
    const KIND: &'static str = "WMO307";
    fn bericht(msg: &Message) -> Option<&StartStopBericht<Self>> {
        match msg {
            Message::Wmo307(m) => Some(m),
            _ => None,
        }
    }
    fn check(m: &StartStopBericht<Self>, s: &StartStopSnapshot) -> StartStopDecision {
        rules::startstop::check_307(m, s)
    }
    fn toewijzing_nummer(&self) -> Option<crate::domain::ToewijzingNummer> {
        self.toewijzing_nummer
    }
    fn is_new(&self) -> bool {
        self.status_aanlevering.code() == "1"
    }
    fn new_class(&self) -> NewClass {
        NewClass {
            toewijzing_nummer: self.toewijzing_nummer,
            product: self.product.clone(),
            begindatum: self.begindatum,
            reden_beeindiging: Some(self.reden_beeindiging),
            einddatum: Some(self.einddatum),
        }
    }
    fn repeated(&self, m: &StartStopBericht<Self>, s: &StartStopSnapshot) -> Vec<i64> {
        mine(&s.stops, m, |r: &StopRow| (r.active, r.aanbieder, r.bsn))
            .filter(|r| {
                r.toewijzing_nummer == self.toewijzing_nummer
                    && r.product == self.product
                    && r.begindatum == self.begindatum
                    && r.reden_beeindiging == self.reden_beeindiging
                    && r.einddatum == self.einddatum
            })
            .map(|r| r.id)
            .collect()
    }
    fn record(c: &mut StartStopChanges, new: Vec<NewClass>, deleted: Vec<i64>) {
        c.new_stops = new;
        c.deleted_stops = deleted;
    }
}

/// The room of 305 (`P = StartProduct`) or 307 (`P = StopProduct`).
pub struct StartStopRoom<P>(PhantomData<fn() -> P>);

impl<P> StartStopRoom<P> {
    pub const fn new() -> Self {
        StartStopRoom(PhantomData)
    }
}

/// What an approved start or stop changes: its classes, and the holds of the client's open
/// lines re-evaluated on the starts and stops as they are afterwards.
fn changes_of<P: StartOrStop>(m: &StartStopBericht<P>, s: &StartStopSnapshot) -> Changes {
    let mut c = StartStopChanges {
        gemeente: m.header.ontvanger,
        aanbieder: m.header.afzender,
        bsn: m.client.bsn,
        new_starts: Vec::new(),
        deleted_starts: Vec::new(),
        new_stops: Vec::new(),
        deleted_stops: Vec::new(),
    };
    let (mut new, mut deleted) = (Vec::new(), Vec::new());
    for p in &m.client.producten {
        if p.is_new() {
            new.push(p.new_class());
        } else {
            deleted.extend(p.repeated(m, s));
        }
    }
    P::record(&mut c, new, deleted);
    let (starts, stops) = after(&c, s);
    let holds = holds::reevaluate(
        &m.client.bsn,
        &s.open_lines,
        &After {
            starts: &starts,
            stops: &stops,
        },
        s.policy,
    );
    Changes {
        startstop: Some(c),
        holds,
        ..Changes::default()
    }
}

/// The client's starts and stops once `c` is applied (new rows get ids -1, -2, …).
fn after(c: &StartStopChanges, s: &StartStopSnapshot) -> (Vec<StartRow>, Vec<StopRow>) {
    let mut starts: Vec<StartRow> = s.starts.clone();
    for r in starts
        .iter_mut()
        .filter(|r| c.deleted_starts.contains(&r.id))
    {
        r.active = false;
    }
    for (n, k) in c.new_starts.iter().enumerate() {
        starts.push(StartRow {
            id: -(n as i64) - 1,
            aanbieder: c.aanbieder,
            bsn: c.bsn,
            toewijzing_nummer: k.toewijzing_nummer,
            product: k.product.clone(),
            begindatum: k.begindatum,
            active: true,
        });
    }
    let mut stops: Vec<StopRow> = s.stops.clone();
    for r in stops.iter_mut().filter(|r| c.deleted_stops.contains(&r.id)) {
        r.active = false;
    }
    for (n, k) in c.new_stops.iter().enumerate() {
        let (Some(reden_beeindiging), Some(einddatum)) = (k.reden_beeindiging, k.einddatum) else {
            continue;
        };
        stops.push(StopRow {
            id: -(n as i64) - 1,
            aanbieder: c.aanbieder,
            bsn: c.bsn,
            toewijzing_nummer: k.toewijzing_nummer,
            product: k.product.clone(),
            begindatum: k.begindatum,
            reden_beeindiging,
            einddatum,
            active: true,
        });
    }
    (starts, stops)
}

impl<P: StartOrStop> Room for StartStopRoom<P> {
    fn name(&self) -> &'static str {
        P::KIND
    }
    fn ontvanger(&self, msg: &Message) -> Option<String> {
        P::bericht(msg).map(|m| m.header.ontvanger.to_string())
    }
    fn keys(&self, msg: &Message) -> Keys {
        let Some(m) = P::bericht(msg) else {
            return Keys::default();
        };
        let g = m.header.ontvanger.to_string();
        Keys {
            clients: vec![(g.clone(), m.client.bsn.expose().to_string())],
            toewijzingen: m
                .client
                .producten
                .iter()
                .filter_map(|p| p.toewijzing_nummer())
                .map(|n| (g.clone(), n.get()))
                .collect(),
            groupable: true,
        }
    }
    fn need<'m>(&self, msg: &'m Message) -> Need<'m> {
        let Some(m) = P::bericht(msg) else {
            return Need::Nothing;
        };
        Need::StartStop {
            gemeente: m.header.ontvanger,
            bsn: m.client.bsn,
            nummers: m
                .client
                .producten
                .iter()
                .filter_map(|p| p.toewijzing_nummer())
                .collect(),
        }
    }
    fn assess(&self, msg: &Message, input: &Input) -> Result<Assessed, String> {
        let empty = StartStopSnapshot::default();
        let s = match &input.snapshot {
            Snapshot::StartStop(s) => s,
            _ => &empty,
        };
        let m = P::bericht(msg).ok_or("geen start- of stopbericht")?;
        let d = P::check(m, s);
        let mut lines = placed("client", 0, None, &d.client);
        for (i, p) in d.products.iter().enumerate() {
            lines.extend(placed("product", i as i64, None, p));
        }
        if !d.approved() {
            return Ok(Assessed::rejected(
                lines,
                Answer::Classes {
                    client: codes_of(&d.client),
                    products: d.products.iter().map(|p| codes_of(p)).collect(),
                },
            ));
        }
        if d.products.len() != m.client.producten.len() {
            return Err("niet elk product is beoordeeld".into());
        }
        Ok(Assessed {
            outcome: "accepted",
            lines,
            answer: Some(Answer::Approved),
            changes: changes_of(m, s),
        })
    }
    fn answer(
        &self,
        msg: &Message,
        answer: &Answer,
        meta: &RetourMeta,
    ) -> Result<(String, String), String> {
        let m = P::bericht(msg).ok_or("geen start- of stopbericht")?;
        let a = answer.classes()?;
        Ok((
            format!("WMO{}", P::RETOUR.0),
            retour::start_stop(m, meta, &a).to_xml(),
        ))
    }
}
