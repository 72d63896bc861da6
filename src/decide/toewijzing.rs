//! WMO301 (the gemeente's own toewijzingen, taken in to know what was allocated) and WMO302 (the
//! aanbieder's retour on them). Neither is answered by the gemeente.

use super::changes::{Changes, ToewijzingChanges, Weigering};
use super::room::{Answer, Assessed, Keys, Need, Room};
use super::Input;
use crate::domain::RetourCode;
use crate::message::{Message, Wmo301, Wmo302};
use crate::retour::RetourMeta;
use crate::rules::state::Toewijzing;
use crate::rules::Finding;

pub struct Wmo301Room;
pub struct Wmo302Room;

fn wmo301(msg: &Message) -> Option<&Wmo301> {
    match msg {
        Message::Wmo301(m) => Some(m),
        _ => None,
    }
}

fn wmo302(msg: &Message) -> Option<&Wmo302> {
    match msg {
        Message::Wmo302(m) => Some(m),
        _ => None,
    }
}

fn registered(changes: Changes) -> Assessed {
    Assessed {
        outcome: "registered",
        lines: Vec::new(),
        answer: None,
        changes,
    }
}

/// The toewijzing versions of a 301, as stored.
fn versions(m: &Wmo301) -> Vec<Toewijzing> {
    let h = &m.header;
    m.client
        .toegewezen_producten
        .iter()
        .map(|p| Toewijzing {
            gemeente: h.afzender,
            toewijzing_nummer: p.toewijzing_nummer,
            bsn: m.client.bsn,
            aanbieder: h.ontvanger,
            product: p.product.clone(),
            toewijzingsdatum: p.toewijzingsdatum,
            toewijzingstijd: p.toewijzingstijd,
            ingangsdatum: p.ingangsdatum,
            einddatum: p.einddatum,
            reden_wijziging: p.reden_wijziging,
            volume: p.omvang.map(|o| o.volume.get()),
            eenheid: p.omvang.map(|o| o.eenheid),
            frequentie: p.omvang.map(|o| o.frequentie),
            budget: p.budget.map(|b| b.cents()),
        })
        .collect()
}

impl Room for Wmo301Room {
    fn name(&self) -> &'static str {
        "WMO301"
    }
    fn ontvanger(&self, msg: &Message) -> Option<String> {
        wmo301(msg).map(|m| m.header.ontvanger.to_string())
    }
    fn keys(&self, msg: &Message) -> Keys {
        let Some(m) = wmo301(msg) else {
            return Keys::default();
        };
        let g = m.header.afzender.to_string();
        Keys {
            clients: vec![(g.clone(), m.client.bsn.expose().to_string())],
            toewijzingen: m
                .client
                .toegewezen_producten
                .iter()
                .map(|p| (g.clone(), p.toewijzing_nummer.get()))
                .collect(),
            groupable: true,
        }
    }
    fn need<'m>(&self, _msg: &'m Message) -> Need<'m> {
        Need::Nothing
    }
    fn answers(&self) -> bool {
        false
    }
    fn assess(&self, msg: &Message, _input: &Input) -> Result<Assessed, String> {
        let m = wmo301(msg).ok_or("geen WMO301")?;
        let mut verzoeken_toegewezen: Vec<_> = m
            .client
            .toegewezen_producten
            .iter()
            .filter_map(|p| Some((m.header.ontvanger, p.referentie_aanbieder.clone()?)))
            .collect();
        verzoeken_toegewezen.dedup();
        Ok(registered(Changes {
            toewijzingen: Some(ToewijzingChanges {
                source: "WMO301".into(),
                items: versions(m),
            }),
            verzoeken_toegewezen,
            ..Changes::default()
        }))
    }
    fn answer(&self, _: &Message, _: &Answer, _: &RetourMeta) -> Result<(String, String), String> {
        Err("de gemeente beantwoordt een WMO301 niet".into())
    }
}

impl Room for Wmo302Room {
    fn name(&self) -> &'static str {
        "WMO302"
    }
    fn ontvanger(&self, msg: &Message) -> Option<String> {
        wmo302(msg).map(|m| m.header.heen.afzender.to_string())
    }
    fn keys(&self, msg: &Message) -> Keys {
        let Some(m) = wmo302(msg) else {
            return Keys::default();
        };
        let g = m.header.heen.afzender.to_string();
        let Some(c) = &m.client else {
            return Keys {
                groupable: true,
                ..Keys::default()
            };
        };
        Keys {
            clients: vec![(g.clone(), c.item.bsn.expose().to_string())],
            toewijzingen: c
                .item
                .toegewezen_producten
                .iter()
                .map(|p| (g.clone(), p.item.toewijzing_nummer.get()))
                .collect(),
            groupable: true,
        }
    }
    fn need<'m>(&self, _msg: &'m Message) -> Need<'m> {
        Need::Nothing
    }
    fn level2(&self, _msg: &Message) -> Vec<Finding> {
        Vec::new()
    }
    fn answers(&self) -> bool {
        false
    }
    /// A ToegewezenProduct returned with a code other than 0200 was refused by the aanbieder.
    fn assess(&self, msg: &Message, _input: &Input) -> Result<Assessed, String> {
        let m = wmo302(msg).ok_or("geen WMO302")?;
        let gemeente = m.header.heen.afzender;
        let geweigerd = m
            .client
            .iter()
            .flat_map(|c| &c.item.toegewezen_producten)
            .filter(|p| p.retour_codes.iter().any(|c| *c != RetourCode::R0200))
            .map(|p| Weigering {
                gemeente,
                toewijzing_nummer: p.item.toewijzing_nummer,
                codes: p
                    .retour_codes
                    .iter()
                    .map(|c| c.code().to_string())
                    .collect(),
            })
            .collect();
        Ok(registered(Changes {
            geweigerd,
            ..Changes::default()
        }))
    }
    fn answer(&self, _: &Message, _: &Answer, _: &RetourMeta) -> Result<(String, String), String> {
        Err("de gemeente beantwoordt een WMO302 niet".into())
    }
}
