//! The whole decision on one message as a pure function: message + snapshot of the state + the
//! day (clock) → outcome, every finding, the answer to send. Used by `process`/`serve` and by
//! `replay`, which re-runs it on the stored snapshot.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::RetourCode;
use crate::message::{Message, Wmo323};
use crate::retour::{self, DeclaratieAnswer, RetourMeta, StartStopAnswer};
use crate::rules::decision::{DeclaratieDecision, StartStopDecision};
use crate::rules::state::{DeclaratieSnapshot, StartStopSnapshot};
use crate::rules::{self, Finding};

/// The state a decision was based on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "soort", rename_all = "kebab-case")]
pub enum Snapshot {
    #[default]
    Geen,
    StartStop(StartStopSnapshot),
    Declaratie(DeclaratieSnapshot),
}

/// Everything besides the message that a decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub today: NaiveDate,
    /// The (Afzender, berichtsoort, Identificatie) was used before with other content (TR056).
    pub identificatie_hergebruikt: bool,
    pub snapshot: Snapshot,
}

/// The answer to write, before it has its own identification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    StartStop(StartStopAnswer),
    Declaratie(DeclaratieAnswer),
}

/// A finding placed on its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placed {
    /// bericht (level 2), header, client, product, declaratie, prestatie
    pub class: &'static str,
    pub position: i64,
    pub referentie_nummer: Option<String>,
    pub finding: Finding,
}

/// What the rules decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// accepted, partially-accepted, rejected, registered
    pub outcome: &'static str,
    pub lines: Vec<Placed>,
    pub answer: Option<Answer>,
    /// Level-3/4 results, for the effects to store.
    pub startstop: Option<StartStopDecision>,
    pub declaratie: Option<DeclaratieDecision>,
}

/// Does this message need a snapshot of the stored state (it passed level 2 and the header)?
pub fn needs_state(msg: &Message, today: NaiveDate, identificatie_hergebruikt: bool) -> bool {
    matches!(
        msg,
        Message::Wmo305(_) | Message::Wmo307(_) | Message::Wmo323(_)
    ) && rules::inmessage::check(msg).is_empty()
        && header_findings(msg, today, identificatie_hergebruikt).is_empty()
}

/// Header rules: TR056 (9056) and TR135 (8848, Dagtekening after today).
pub fn header_findings(
    msg: &Message,
    today: NaiveDate,
    identificatie_hergebruikt: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some((_, ident)) = msg.identification() else {
        return out;
    };
    if identificatie_hergebruikt {
        out.push(Finding::new(
            "TR056",
            vec!["/Bericht/Header/BerichtIdentificatie/Identificatie".into()],
            Some(format!("Identificatie {}", ident.identificatie)),
        ));
    }
    if ident.dagtekening > today {
        out.push(Finding::new(
            "TR135",
            vec!["/Bericht/Header/BerichtIdentificatie/Dagtekening".into()],
            Some(format!(
                "Dagtekening {}, systeemdatum {}",
                ident.dagtekening.format("%Y-%m-%d"),
                today.format("%Y-%m-%d")
            )),
        ));
    }
    out
}

fn codes_of(f: &[Finding]) -> Vec<RetourCode> {
    let mut c: Vec<RetourCode> = f.iter().map(|f| f.code).collect();
    c.sort();
    c.dedup();
    c
}

fn placed(class: &'static str, position: i64, r: Option<String>, f: &[Finding]) -> Vec<Placed> {
    f.iter()
        .map(|f| Placed {
            class,
            position,
            referentie_nummer: r.clone(),
            finding: f.clone(),
        })
        .collect()
}

/// Decides on a message. Pure: the same message and input give the same decision.
pub fn decide(msg: &Message, input: &Input) -> Decided {
    let l2 = rules::inmessage::check(msg);
    let mut d = Decided {
        outcome: "registered",
        lines: placed("bericht", 0, None, &l2),
        answer: None,
        startstop: None,
        declaratie: None,
    };
    let answers = matches!(
        msg,
        Message::Wmo305(_) | Message::Wmo307(_) | Message::Wmo323(_)
    );
    if !l2.is_empty() {
        d.outcome = "rejected";
        d.answer = match msg {
            Message::Wmo305(_) | Message::Wmo307(_) => {
                Some(Answer::StartStop(StartStopAnswer::Level2))
            }
            Message::Wmo323(_) => Some(Answer::Declaratie(DeclaratieAnswer::Level2)),
            _ => None,
        };
        return d;
    }
    let header = header_findings(msg, input.today, input.identificatie_hergebruikt);
    if !header.is_empty() && answers {
        d.lines.extend(placed("header", 0, None, &header));
        d.outcome = "rejected";
        let codes = codes_of(&header);
        d.answer = Some(match msg {
            Message::Wmo323(_) => Answer::Declaratie(DeclaratieAnswer::Header(codes)),
            _ => Answer::StartStop(StartStopAnswer::Header(codes)),
        });
        return d;
    }
    match (msg, &input.snapshot) {
        (Message::Wmo305(m), Snapshot::StartStop(s)) => {
            startstop(&mut d, rules::startstop::check_305(m, s))
        }
        (Message::Wmo307(m), Snapshot::StartStop(s)) => {
            startstop(&mut d, rules::startstop::check_307(m, s))
        }
        (Message::Wmo305(m), _) => startstop(
            &mut d,
            rules::startstop::check_305(m, &StartStopSnapshot::default()),
        ),
        (Message::Wmo307(m), _) => startstop(
            &mut d,
            rules::startstop::check_307(m, &StartStopSnapshot::default()),
        ),
        (Message::Wmo323(m), Snapshot::Declaratie(s)) => {
            declaratie(&mut d, m, rules::declaratie::check_323(m, s))
        }
        (Message::Wmo323(m), _) => declaratie(
            &mut d,
            m,
            rules::declaratie::check_323(m, &DeclaratieSnapshot::default()),
        ),
        // 301 (own toewijzingen), 302 (retour on them) and others: taken in, no answer.
        _ => {
            if !header.is_empty() {
                d.lines.extend(placed("header", 0, None, &header));
                d.outcome = "rejected";
            }
        }
    }
    d
}

fn startstop(d: &mut Decided, s: StartStopDecision) {
    d.lines.extend(placed("client", 0, None, &s.client));
    for (i, p) in s.products.iter().enumerate() {
        d.lines.extend(placed("product", i as i64, None, p));
    }
    if s.approved() {
        d.outcome = "accepted";
        d.answer = Some(Answer::StartStop(StartStopAnswer::Approved));
    } else {
        d.outcome = "rejected";
        d.answer = Some(Answer::StartStop(StartStopAnswer::Classes {
            client: codes_of(&s.client),
            products: s.products.iter().map(|p| codes_of(p)).collect(),
        }));
    }
    d.startstop = Some(s);
}

fn declaratie(d: &mut Decided, m: &Wmo323, s: DeclaratieDecision) {
    if !s.declaratie.is_empty() {
        d.lines.extend(placed("declaratie", 0, None, &s.declaratie));
        d.outcome = "rejected";
        d.answer = Some(Answer::Declaratie(DeclaratieAnswer::Declaratie(codes_of(
            &s.declaratie,
        ))));
        d.declaratie = Some(s);
        return;
    }
    let mut regel = 0i64;
    let (mut approved, mut rejected) = (0usize, 0usize);
    let mut codes = Vec::new();
    for (ci, c) in m.declaratie.clienten.iter().enumerate() {
        let mut cc = Vec::new();
        for (pi, p) in c.prestaties.iter().enumerate() {
            let pd = s
                .prestaties
                .get(ci)
                .and_then(|v| v.get(pi))
                .cloned()
                .unwrap_or_default();
            d.lines.extend(placed(
                "prestatie",
                regel,
                Some(p.product_referentie.referentie_nummer.clone()),
                &pd.findings,
            ));
            if pd.approved() {
                approved += 1;
            } else {
                rejected += 1;
            }
            cc.push(pd.codes());
            regel += 1;
        }
        codes.push(cc);
    }
    d.outcome = match (approved, rejected) {
        (_, 0) => "accepted",
        (0, _) => "rejected",
        _ => "partially-accepted",
    };
    d.answer = Some(Answer::Declaratie(DeclaratieAnswer::PerPrestatie {
        client_codes: vec![Vec::new(); m.declaratie.clienten.len()],
        codes,
    }));
    d.declaratie = Some(s);
}

/// Writes the answer with its own identification: (kind, xml).
pub fn render(
    msg: &Message,
    answer: &Answer,
    meta: &RetourMeta,
) -> Result<(String, String), String> {
    match (msg, answer) {
        (Message::Wmo305(m), Answer::StartStop(a)) => {
            Ok(("WMO306".into(), retour::start_stop(m, meta, a).to_xml()))
        }
        (Message::Wmo307(m), Answer::StartStop(a)) => {
            Ok(("WMO308".into(), retour::start_stop(m, meta, a).to_xml()))
        }
        (Message::Wmo323(m), Answer::Declaratie(a)) => retour::declaratie(m, meta, a)
            .map(|x| ("WMO325".into(), x.to_xml()))
            .map_err(|e| e.to_string()),
        _ => Err("geen antwoord voor dit berichttype".into()),
    }
}

/// Every retour code in a written answer, sorted and unique.
pub fn answer_codes(xml: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(":RetourCode>") {
        let after = &rest[i + ":RetourCode>".len()..];
        if let Some(end) = after.find('<') {
            let code = after[..end].trim();
            if !code.is_empty() && !out.iter().any(|c| c == code) {
                out.push(code.to_string());
            }
            rest = &after[end..];
        } else {
            break;
        }
    }
    out.sort();
    out
}
