//! WMO315 (verzoek om toewijzing, answered with a WMO316) and WMO317 (verzoek om wijziging,
//! answered with a WMO318). An accepted request waits as an open verzoek for the gemeente's
//! decision (a 301 or a 319) within 5 werkdagen; rejected as a whole at level 3/4.

use super::changes::{Changes, NewVerzoek};
use super::room::{Answer, Assessed, Keys, Need, Room};
use super::{codes_of, placed, Input, Placed, Snapshot};
use crate::domain::calendar::werkdagen_na;
use crate::domain::{AgbCode, Bsn, Gemeentecode, ToewijzingNummer};
use crate::message::{Message, Wmo315, Wmo317};
use crate::retour::{self, RetourMeta, WijzigingAnswer};
use crate::rules::state::VerzoekSnapshot;
use crate::rules::verzoek::WijzigingDecision;
use crate::rules::{self};

/// The gemeente decides on a request within this many werkdagen.
const BESLISTERMIJN: u32 = 5;

pub struct Wmo315Room;
pub struct Wmo317Room;

fn wmo315(msg: &Message) -> Option<&Wmo315> {
    match msg {
        Message::Wmo315(m) => Some(m),
        _ => None,
    }
}

fn wmo317(msg: &Message) -> Option<&Wmo317> {
    match msg {
        Message::Wmo317(m) => Some(m),
        _ => None,
    }
}

fn snapshot(input: &Input) -> VerzoekSnapshot {
    match &input.snapshot {
        Snapshot::Verzoek(s) => s.clone(),
        _ => VerzoekSnapshot::default(),
    }
}

/// What an accepted request changes: an open verzoek with its deadline.
fn accepted(lines: Vec<Placed>, soort: &str, parts: Parts, today: chrono::NaiveDate) -> Assessed {
    Assessed {
        outcome: "accepted",
        lines,
        answer: Some(Answer::Approved),
        changes: Changes {
            verzoek: Some(NewVerzoek {
                soort: soort.into(),
                gemeente: parts.gemeente,
                aanbieder: parts.aanbieder,
                bsn: parts.bsn,
                referenties: parts.referenties,
                toewijzingen: parts.nummers,
                ontvangen: today,
                uiterlijk: werkdagen_na(today, BESLISTERMIJN),
            }),
            ..Changes::default()
        },
    }
}

/// The keys of a request, shared by its keys, its need and its changes.
struct Parts {
    gemeente: Gemeentecode,
    aanbieder: AgbCode,
    bsn: Bsn,
    nummers: Vec<ToewijzingNummer>,
    referenties: Vec<String>,
}

fn parts(msg: &Message) -> Option<Parts> {
    if let Some(m) = wmo315(msg) {
        return Some(Parts {
            gemeente: m.header.ontvanger,
            aanbieder: m.header.afzender,
            bsn: m.client.bsn,
            nummers: Vec::new(),
            referenties: m
                .client
                .producten
                .iter()
                .map(|p| p.referentie_aanbieder.clone())
                .collect(),
        });
    }
    let m = wmo317(msg)?;
    let v = &m.client.verzoek;
    let mut nummers: Vec<ToewijzingNummer> = v
        .ongewijzigde_producten
        .iter()
        .map(|p| p.toewijzing_nummer)
        .collect();
    nummers.extend(v.te_wijzigen_producten.iter().map(|p| p.toewijzing_nummer));
    Some(Parts {
        gemeente: m.header.ontvanger,
        aanbieder: m.header.afzender,
        bsn: m.client.bsn,
        nummers,
        referenties: vec![v.referentie_aanbieder.clone()],
    })
}

fn keys(msg: &Message) -> Keys {
    let Some(p) = parts(msg) else {
        return Keys::default();
    };
    let g = p.gemeente.to_string();
    Keys {
        clients: vec![(g.clone(), p.bsn.expose().to_string())],
        toewijzingen: p.nummers.iter().map(|n| (g.clone(), n.get())).collect(),
        // TR347 reads every earlier request of the aanbieder, whichever client: alone.
        groupable: false,
    }
}

fn need(msg: &Message) -> Need<'_> {
    match parts(msg) {
        Some(p) => Need::Verzoek {
            gemeente: p.gemeente,
            aanbieder: p.aanbieder,
            bsn: p.bsn,
            nummers: p.nummers,
            referenties: p.referenties,
        },
        None => Need::Nothing,
    }
}

impl Room for Wmo315Room {
    fn name(&self) -> &'static str {
        "WMO315"
    }
    fn ontvanger(&self, msg: &Message) -> Option<String> {
        wmo315(msg).map(|m| m.header.ontvanger.to_string())
    }
    fn keys(&self, msg: &Message) -> Keys {
        keys(msg)
    }
    fn need<'m>(&self, msg: &'m Message) -> Need<'m> {
        need(msg)
    }
    fn assess(&self, msg: &Message, input: &Input) -> Result<Assessed, String> {
        let m = wmo315(msg).ok_or("geen WMO315")?;
        let d = rules::verzoek::check_315(m, &snapshot(input));
        let mut lines = placed("client", 0, None, &d.client);
        for (i, p) in d.products.iter().enumerate() {
            lines.extend(placed("product", i as i64, None, p));
        }
        if !d.approved() {
            let products = d.products.iter().map(|p| codes_of(p)).collect();
            return Ok(Assessed::rejected(
                lines,
                Answer::Classes {
                    client: codes_of(&d.client),
                    products,
                },
            ));
        }
        let p = parts(msg).ok_or("geen WMO315")?;
        Ok(accepted(lines, "WMO315", p, input.today))
    }
    fn answer(
        &self,
        msg: &Message,
        answer: &Answer,
        meta: &RetourMeta,
    ) -> Result<(String, String), String> {
        let m = wmo315(msg).ok_or("geen WMO315")?;
        let a = answer.classes()?;
        Ok((
            "WMO316".into(),
            retour::verzoek_om_toewijzing(m, meta, &a).to_xml(),
        ))
    }
}

/// The findings of a 317 on their classes, in message order.
fn lines_317(d: &WijzigingDecision) -> Vec<Placed> {
    let mut lines = placed("client", 0, None, &d.client);
    lines.extend(placed("verzoek", 0, None, &d.verzoek));
    for (class, list) in [
        ("ongewijzigd", &d.ongewijzigd),
        ("te-wijzigen", &d.te_wijzigen),
        ("nieuw", &d.nieuw),
    ] {
        for (i, f) in list.iter().enumerate() {
            lines.extend(placed(class, i as i64, None, f));
        }
    }
    lines
}

impl Room for Wmo317Room {
    fn name(&self) -> &'static str {
        "WMO317"
    }
    fn ontvanger(&self, msg: &Message) -> Option<String> {
        wmo317(msg).map(|m| m.header.ontvanger.to_string())
    }
    fn keys(&self, msg: &Message) -> Keys {
        keys(msg)
    }
    fn need<'m>(&self, msg: &'m Message) -> Need<'m> {
        need(msg)
    }
    fn assess(&self, msg: &Message, input: &Input) -> Result<Assessed, String> {
        let m = wmo317(msg).ok_or("geen WMO317")?;
        let d = rules::verzoek::check_317(m, &snapshot(input), input.today);
        let lines = lines_317(&d);
        if !d.approved() {
            return Ok(Assessed::rejected(
                lines,
                Answer::Wijziging(WijzigingAnswer::from_decision(&d)),
            ));
        }
        let p = parts(msg).ok_or("geen WMO317")?;
        Ok(accepted(lines, "WMO317", p, input.today))
    }
    fn answer(
        &self,
        msg: &Message,
        answer: &Answer,
        meta: &RetourMeta,
    ) -> Result<(String, String), String> {
        let m = wmo317(msg).ok_or("geen WMO317")?;
        let a = match answer {
            Answer::Approved => WijzigingAnswer::Approved,
            Answer::Level2 => WijzigingAnswer::Level2,
            Answer::Header(c) => WijzigingAnswer::Header(c.clone()),
            Answer::Wijziging(a) => a.clone(),
            Answer::Classes { .. } | Answer::Declaratie(_) => {
                return Err("geen antwoord op een WMO317".into())
            }
        };
        Ok((
            "WMO318".into(),
            retour::verzoek_om_wijziging(m, meta, &a).to_xml(),
        ))
    }
}
