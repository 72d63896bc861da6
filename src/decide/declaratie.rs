//! WMO323 (declaratie), answered with a WMO325; levels 3/4 reject per Prestatie.

use super::changes::{Changes, Credit, DeclaratieChanges, HoldChange, NewPrestatie};
use super::room::{Answer, Assessed, Keys, Need, Room};
use super::{placed, Input, Placed, Snapshot};
use crate::domain::{DebetCredit, RetourCode};
use crate::message::{Message, Prestatie, Wmo323, Wmo325};
use crate::retour::{self, DeclaratieAnswer, RetourMeta};
use crate::rules::decision::{DeclaratieDecision, PrestatieDecision};
use crate::rules::state::DeclaratieSnapshot;
use crate::rules::{self};

pub struct Wmo323Room;

fn wmo323(msg: &Message) -> Option<&Wmo323> {
    match msg {
        Message::Wmo323(m) => Some(m),
        _ => None,
    }
}

/// Each Prestatie of the message with its decision, in message order; an error when the rules
/// did not decide on every line (never approve a line nobody looked at).
fn per_line<'a>(
    m: &'a Wmo323,
    d: &'a DeclaratieDecision,
) -> Result<
    Vec<(
        usize,
        &'a crate::domain::Bsn,
        &'a Prestatie,
        &'a PrestatieDecision,
    )>,
    String,
> {
    let mut out = Vec::new();
    for (ci, c) in m.declaratie.clienten.iter().enumerate() {
        let decided = d.prestaties.get(ci).ok_or("client zonder beslissing")?;
        if decided.len() != c.prestaties.len() {
            return Err("niet elke Prestatie is beoordeeld".into());
        }
        for (p, pd) in c.prestaties.iter().zip(decided) {
            out.push((ci, &c.bsn, p, pd));
        }
    }
    Ok(out)
}

fn new_prestatie(
    regel: i64,
    bsn: &crate::domain::Bsn,
    p: &Prestatie,
    pd: &PrestatieDecision,
) -> NewPrestatie {
    let debit = p.ingediend_bedrag.debet_credit == DebetCredit::Debet;
    NewPrestatie {
        regel,
        bsn: *bsn,
        referentie_nummer: p.product_referentie.referentie_nummer.clone(),
        vorig_referentie_nummer: p.product_referentie.vorig_referentie_nummer.clone(),
        toewijzing_nummer: p.toewijzing_nummer,
        product_categorie: p.product_categorie,
        product_code: p.product_code.to_string(),
        periode: p.product_periode,
        geleverd_volume: p.geleverd_volume.get(),
        eenheid: p.eenheid,
        product_tarief: p.product_tarief.map(|t| t.cents()),
        bedrag: p.ingediend_bedrag.signed(),
        debet_credit: p.ingediend_bedrag.debet_credit,
        approved: pd.approved(),
        codes: pd
            .codes()
            .iter()
            .map(|c: &RetourCode| c.code().to_string())
            .collect(),
        hold: if pd.approved() && debit {
            pd.hold.clone()
        } else {
            None
        },
        signals: pd.signals.clone(),
    }
}

/// The earlier debits the approved credits cancel, and the holds that thereby lapse.
fn credits(
    prestaties: &[NewPrestatie],
    m: &Wmo323,
    s: &DeclaratieSnapshot,
) -> (Vec<Credit>, Vec<HoldChange>) {
    let mut credits = Vec::new();
    let mut holds = Vec::new();
    for p in prestaties
        .iter()
        .filter(|p| p.approved && p.debet_credit == DebetCredit::Credit)
    {
        let Some(vorig) = &p.vorig_referentie_nummer else {
            continue;
        };
        let debits = s.earlier.iter().filter(|e| {
            e.aanbieder == m.header.afzender
                && &e.referentie_nummer == vorig
                && e.approved
                && e.debet_credit == DebetCredit::Debet
                && e.gecrediteerd_door.is_none()
        });
        for e in debits {
            credits.push(Credit {
                debit_id: e.id,
                door: p.referentie_nummer.clone(),
            });
            if s.held.contains(&e.id) {
                holds.push(HoldChange::Vervallen { prestatie_id: e.id });
            }
        }
    }
    (credits, holds)
}

fn assess_lines(
    m: &Wmo323,
    s: &DeclaratieSnapshot,
    d: &DeclaratieDecision,
) -> Result<Assessed, String> {
    let mut lines: Vec<Placed> = Vec::new();
    let mut prestaties = Vec::new();
    let mut codes: Vec<Vec<Vec<RetourCode>>> = vec![Vec::new(); m.declaratie.clienten.len()];
    let mut toegekend = 0i64;
    for (regel, (ci, bsn, p, pd)) in per_line(m, d)?.into_iter().enumerate() {
        let regel = regel as i64;
        let referentie = Some(p.product_referentie.referentie_nummer.clone());
        lines.extend(placed("prestatie", regel, referentie, &pd.findings));
        if pd.approved() {
            toegekend = toegekend.saturating_add(p.ingediend_bedrag.signed());
        }
        codes[ci].push(pd.codes());
        prestaties.push(new_prestatie(regel, bsn, p, pd));
    }
    let approved = prestaties.iter().filter(|p| p.approved).count();
    let outcome = match (approved, prestaties.len() - approved) {
        (_, 0) => "accepted",
        (0, _) => "rejected",
        _ => "partially-accepted",
    };
    let (credits, holds) = credits(&prestaties, m, s);
    let changes = Changes {
        declaratie: Some(DeclaratieChanges {
            gemeente: m.header.ontvanger,
            aanbieder: m.header.afzender,
            declaratie_nummer: m.declaratie.declaratie_nummer.clone(),
            periode: m.declaratie.declaratie_periode,
            totaal_ingediend: m.declaratie.totaal_ingediend_bedrag.signed(),
            totaal_toegekend: toegekend,
            prestaties,
            credits,
        }),
        holds,
        ..Changes::default()
    };
    let answer = DeclaratieAnswer::PerPrestatie {
        client_codes: vec![Vec::new(); m.declaratie.clienten.len()],
        codes,
    };
    Ok(Assessed {
        outcome,
        lines,
        answer: Some(Answer::Declaratie(answer)),
        changes,
    })
}

impl Room for Wmo323Room {
    fn name(&self) -> &'static str {
        "WMO323"
    }
    fn ontvanger(&self, msg: &Message) -> Option<String> {
        wmo323(msg).map(|m| m.header.ontvanger.to_string())
    }
    fn keys(&self, msg: &Message) -> Keys {
        let Some(m) = wmo323(msg) else {
            return Keys::default();
        };
        let g = m.header.ontvanger.to_string();
        Keys {
            clients: m
                .declaratie
                .clienten
                .iter()
                .map(|c| (g.clone(), c.bsn.expose().to_string()))
                .collect(),
            toewijzingen: Vec::new(),
            groupable: false,
        }
    }
    fn need<'m>(&self, msg: &'m Message) -> Need<'m> {
        match wmo323(msg) {
            Some(m) => Need::Declaratie(m),
            None => Need::Nothing,
        }
    }
    fn assess(&self, msg: &Message, input: &Input) -> Result<Assessed, String> {
        let m = wmo323(msg).ok_or("geen WMO323")?;
        let empty = DeclaratieSnapshot::default();
        let s = match &input.snapshot {
            Snapshot::Declaratie(s) => s,
            _ => &empty,
        };
        let d = rules::declaratie::check_323(m, s);
        if !d.declaratie.is_empty() {
            // The declaration as a whole is rejected: it counts as not processed.
            let codes = super::codes_of(&d.declaratie);
            return Ok(Assessed::rejected(
                placed("declaratie", 0, None, &d.declaratie),
                Answer::Declaratie(DeclaratieAnswer::Declaratie(codes)),
            ));
        }
        assess_lines(m, s, &d)
    }
    fn answer(
        &self,
        msg: &Message,
        answer: &Answer,
        meta: &RetourMeta,
    ) -> Result<(String, String), String> {
        let x = wmo325(msg, answer, meta)?;
        Ok(("WMO325".into(), x.to_xml()))
    }
    fn answer_within(
        &self,
        msg: &Message,
        answer: &Answer,
        meta: &RetourMeta,
        max_bytes: Option<usize>,
    ) -> Result<Vec<(String, String, String)>, String> {
        let x = wmo325(msg, answer, meta)?;
        let parts = match max_bytes {
            None => vec![retour::parts::Part {
                identificatie: meta.identificatie.clone(),
                xml: x.to_xml(),
            }],
            Some(max) => retour::parts::within(&x, max)?,
        };
        Ok(parts
            .into_iter()
            .map(|p| ("WMO325".to_string(), p.identificatie, p.xml))
            .collect())
    }
}

/// The 325 on a 323 as a typed message.
fn wmo325(msg: &Message, answer: &Answer, meta: &RetourMeta) -> Result<Wmo325, String> {
    let m = wmo323(msg).ok_or("geen WMO323")?;
    let a = match answer {
        Answer::Level2 => DeclaratieAnswer::Level2,
        Answer::Header(c) => DeclaratieAnswer::Header(c.clone()),
        Answer::Declaratie(a) => a.clone(),
        Answer::Approved | Answer::Classes { .. } | Answer::Wijziging(_) => {
            return Err("geen antwoord op een declaratie".into())
        }
    };
    retour::declaratie(m, meta, &a).map_err(|e| e.to_string())
}
