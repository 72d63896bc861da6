//! WMO323 Declaratie (CD060, CD087, CS002, CS100, CS325, CS337, CS339, CS340, TR101, TR134,
//! TR137, TR315, TR316, TR319, TR335, TR358, TR416) and WMO325 Declaratie-antwoord (CD060,
//! CS002, CS325, TR101, TR134, TR137, TR342).
//!
//! The shared parts (the Prestaties with their paths, amounts, periods, TR101) are here; the
//! rules of each message in [`wmo323`] and [`wmo325`].

mod wmo323;
mod wmo325;

pub use wmo323::check_323;
pub use wmo325::check_325;

use chrono::NaiveDate;

use super::shared::{child, dnum, norm, nth, tr101, ymd, Findings, DAGTEKENING};
use crate::domain::{BedragMetDc, Bsn, DebetCredit, Euro, Periode, TotaalBedragMetDc};
use crate::message::Prestatie;

const DECLARATIE: &str = "/Bericht/Declaratie";
const ANTWOORD: &str = "/Bericht/DeclaratieAntwoord";

/// One Prestatie with its place in the message.
struct Line<'m> {
    path: String,
    p: &'m Prestatie,
}

impl<'m> Line<'m> {
    fn at(&self, rel: &str) -> String {
        format!("{}/{rel}", self.path)
    }
    fn referentie(&self) -> &'m str {
        &self.p.product_referentie.referentie_nummer
    }
    fn vorig(&self) -> Option<&'m str> {
        self.p.product_referentie.vorig_referentie_nummer.as_deref()
    }
}

/// The Prestaties of all Clienten in document order, with their paths. `get` gives the
/// Prestaties of one Client.
fn lines<'m, C>(
    base: &str,
    clienten: &'m [C],
    get: impl Fn(&'m C) -> Vec<&'m Prestatie>,
) -> Vec<Line<'m>> {
    let mut out = Vec::new();
    let clienten_path = child(base, "Clienten");
    for (ci, c) in clienten.iter().enumerate() {
        let client_path = nth(&clienten_path, "Client", ci, clienten.len());
        let prestaties = get(c);
        let prestaties_path = child(&client_path, "Prestaties");
        for (pi, p) in prestaties.iter().enumerate() {
            out.push(Line {
                path: nth(&prestaties_path, "Prestatie", pi, prestaties.len()),
                p,
            });
        }
    }
    out
}

/// Splits the lines into per-Client runs: `(first line index, lines)` for each of `counts`.
fn runs<'a, 'm>(
    lines: &'a [Line<'m>],
    counts: impl Iterator<Item = usize>,
) -> Vec<(usize, &'a [Line<'m>])> {
    let mut start = 0usize;
    counts
        .map(|n| {
            let end = start.saturating_add(n).min(lines.len());
            let run = (start, lines.get(start..end).unwrap_or(&[]));
            start = end;
            run
        })
        .collect()
}

fn euro(cents: u64) -> Euro {
    Euro(i64::try_from(cents).unwrap_or(i64::MAX))
}

fn signed_euro(cents: i128) -> Euro {
    Euro(i64::try_from(cents).unwrap_or(if cents < 0 { i64::MIN } else { i64::MAX }))
}

/// Σ debit − Σ credit of the IngediendBedragen, in cents (None only on overflow, which the
/// XSD limits make impossible).
fn saldo(lines: &[Line<'_>]) -> Option<i128> {
    lines.iter().try_fold(0i128, |s, l| {
        let b = i128::from(l.p.ingediend_bedrag.bedrag.cents());
        match l.p.ingediend_bedrag.debet_credit {
            DebetCredit::Debet => s.checked_add(b),
            DebetCredit::Credit => s.checked_sub(b),
        }
    })
}

fn signed_totaal(t: &TotaalBedragMetDc) -> i128 {
    let v = i128::from(t.totaal_bedrag.cents());
    match t.debet_credit {
        DebetCredit::Debet => v,
        DebetCredit::Credit => -v,
    }
}

/// CS325 on a (Totaal)Bedrag with DebetCredit: zero must be debit.
fn cs325(out: &mut Findings, path: &str, amount: &str, cents: u64, dc: DebetCredit) {
    if cents == 0 && dc == DebetCredit::Credit {
        out.add(
            "CS325",
            vec![child(path, amount), child(path, "DebetCredit")],
            format!("{amount} 0 met DebetCredit C"),
        );
    }
}

fn cs325_bedrag(out: &mut Findings, path: &str, b: &BedragMetDc) {
    cs325(out, path, "Bedrag", b.bedrag.cents(), b.debet_credit);
}

fn cs325_totaal(out: &mut Findings, path: &str, t: &TotaalBedragMetDc) {
    cs325(
        out,
        path,
        "TotaalBedrag",
        t.totaal_bedrag.cents(),
        t.debet_credit,
    );
}

/// CS100 on a Begindatum: not before 2021-01-01.
fn cs100(out: &mut Findings, path: &str, begin: NaiveDate) {
    if dnum(begin) < 20210101 {
        out.add(
            "CS100",
            vec![path.to_string()],
            format!("Begindatum {}", ymd(begin)),
        );
    }
}

/// TR137 on a period: Einddatum not before Begindatum, and not after the header Dagtekening.
fn tr137(out: &mut Findings, path: &str, what: &str, p: &Periode, dag: NaiveDate) {
    let (b, e) = (child(path, "Begindatum"), child(path, "Einddatum"));
    if dnum(p.begindatum) > dnum(p.einddatum) {
        out.add(
            "TR137",
            vec![b, e.clone()],
            format!(
                "{what}: Einddatum {} voor Begindatum {}",
                ymd(p.einddatum),
                ymd(p.begindatum)
            ),
        );
    }
    if dnum(p.einddatum) > dnum(dag) {
        out.add(
            "TR137",
            vec![DAGTEKENING.to_string(), e],
            format!(
                "{what}: Einddatum {} na Dagtekening {}",
                ymd(p.einddatum),
                ymd(dag)
            ),
        );
    }
}

/// CD060 at Prestatie: VorigReferentieNummer exactly on credits.
fn cd060(out: &mut Findings, l: &Line<'_>) {
    let credit = l.p.ingediend_bedrag.debet_credit == DebetCredit::Credit;
    let vorig = l.vorig();
    if credit != vorig.is_some_and(|v| !norm(v).is_empty()) {
        let mut locations = Vec::new();
        if vorig.is_some() {
            locations.push(l.at("ProductReferentie/VorigReferentieNummer"));
        }
        locations.push(l.at("IngediendBedrag/DebetCredit"));
        let facts = if credit {
            format!(
                "creditregel ReferentieNummer {} zonder VorigReferentieNummer",
                l.referentie()
            )
        } else {
            format!(
                "debetregel ReferentieNummer {} met VorigReferentieNummer",
                l.referentie()
            )
        };
        out.add("CD060", locations, facts);
    }
}

/// TR101 among the Prestaties of one Client (key ReferentieNummer + VorigReferentieNummer) and,
/// after all Clients, among the Clienten (key Bsn; the BSN is not named in the text).
fn tr101_prestaties(out: &mut Findings, lines: &[Line<'_>]) {
    let paths: Vec<String> = lines.iter().map(|l| l.path.clone()).collect();
    let keys = lines.iter().map(|l| (l.referentie(), l.vorig())).collect();
    tr101(
        out,
        |i| paths.get(i).cloned().unwrap_or_default(),
        keys,
        |i| {
            let Some(l) = lines.get(i) else {
                return String::new();
            };
            match l.vorig() {
                Some(v) => format!(
                    "Prestatie met ReferentieNummer {} en VorigReferentieNummer {v}",
                    l.referentie()
                ),
                None => format!("Prestatie met ReferentieNummer {}", l.referentie()),
            }
        },
    );
}

fn tr101_clienten(out: &mut Findings, base: &str, bsns: Vec<Bsn>) {
    let clienten_path = child(base, "Clienten");
    let paths: Vec<String> = (0..bsns.len())
        .map(|i| nth(&clienten_path, "Client", i, bsns.len()))
        .collect();
    tr101(
        out,
        |i| paths.get(i).cloned().unwrap_or_default(),
        bsns,
        |_| "Client met hetzelfde BSN".to_string(),
    );
}
