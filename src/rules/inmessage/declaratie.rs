//! WMO323 Declaratie (CD060, CD087, CS002, CS100, CS325, CS337, CS339, CS340, TR101, TR134,
//! TR137, TR315, TR316, TR319, TR335, TR358, TR416) and WMO325 Declaratie-antwoord (CD060,
//! CS002, CS325, TR101, TR134, TR137, TR342).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::shared::{
    child, cs002, dnum, minus_years_truncated, norm, nth, plus_one_day, plus_one_month_overflow,
    to_ymd, tr101, tr134, ymd, Findings, DAGTEKENING,
};
use crate::domain::{
    BedragMetDc, Bsn, DebetCredit, Eenheid, Euro, Periode, RetourCode, TotaalBedragMetDc,
};
use crate::message::declaratie::DeclaratieAntwoord;
use crate::message::{Prestatie, Wmo323, Wmo325};
use crate::rules::Finding;

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

// ---------------------------------------------------------------------------------------------
// WMO323

pub fn check_323(m: &Wmo323) -> Vec<Finding> {
    let mut out = Findings::default();
    let dag = m.header.bericht_identificatie.dagtekening;
    let d = &m.declaratie;
    let lines = lines(DECLARATIE, &d.clienten, |c| c.prestaties.iter().collect());

    declaratie_periode(&mut out, &d.declaratie_periode, dag);
    let totaal = child(DECLARATIE, "TotaalIngediendBedrag");
    cs325_totaal(&mut out, &totaal, &d.totaal_ingediend_bedrag);
    tr358(&mut out, &totaal, &d.totaal_ingediend_bedrag, &lines);

    let mut earlier = Earlier::default();
    let clienten_path = child(DECLARATIE, "Clienten");
    let runs = runs(&lines, d.clienten.iter().map(|c| c.prestaties.len()));
    for ((ci, c), (start, mine)) in d.clienten.iter().enumerate().zip(runs) {
        let client_path = nth(&clienten_path, "Client", ci, d.clienten.len());
        cs002(&mut out, || child(&client_path, "Bsn"), &c.bsn);
        let mut debits: HashMap<DebitKey<'_>, Vec<usize>> = HashMap::new();
        for (off, l) in mine.iter().enumerate() {
            let k = start + off;
            let ctx = Ctx323 {
                m,
                lines: &lines,
                dag,
            };
            prestatie_323(&mut out, &ctx, &mut earlier, &mut debits, k, l);
        }
        tr101_prestaties(&mut out, mine);
    }
    tr101_clienten(
        &mut out,
        DECLARATIE,
        d.clienten.iter().map(|c| c.bsn).collect(),
    );
    out.into_vec()
}

/// What the per-Prestatie rules of a 323 look at besides the Prestatie itself.
struct Ctx323<'a, 'm> {
    m: &'m Wmo323,
    lines: &'a [Line<'m>],
    dag: NaiveDate,
}

/// CS100 and TR134 at the Begindatum, then CS340 and TR137 at the DeclaratiePeriode.
fn declaratie_periode(out: &mut Findings, p: &Periode, dag: NaiveDate) {
    let path = child(DECLARATIE, "DeclaratiePeriode");
    let (b, e) = (child(&path, "Begindatum"), child(&path, "Einddatum"));
    cs100(out, &b, p.begindatum);
    tr134(
        out,
        || b.clone(),
        "Begindatum van de DeclaratiePeriode",
        p.begindatum,
        dag,
        true,
    );
    let periode = format!(
        "DeclaratiePeriode {} t/m {}",
        ymd(p.begindatum),
        ymd(p.einddatum)
    );
    if p.begindatum.day() != 1 {
        out.add(
            "CS340",
            vec![b.clone()],
            format!("{periode}: begint niet op de 1e"),
        );
    }
    if plus_one_day(to_ymd(p.einddatum)) != plus_one_month_overflow(to_ymd(p.begindatum)) {
        out.add("CS340", vec![b, e], periode);
    }
    tr137(out, &path, "DeclaratiePeriode", p, dag);
}

/// TR358 at TotaalIngediendBedrag: the total equals Σ debit − Σ credit of all Prestaties.
fn tr358(out: &mut Findings, path: &str, t: &TotaalBedragMetDc, lines: &[Line<'_>]) {
    let som = saldo(lines);
    let totaal = i128::from(t.totaal_bedrag.cents());
    let ok = match (som, t.debet_credit) {
        (Some(s), DebetCredit::Debet) => totaal == s,
        (Some(s), DebetCredit::Credit) => totaal == -s,
        (None, _) => false,
    };
    if !ok {
        let mut locations = vec![child(path, "TotaalBedrag"), child(path, "DebetCredit")];
        locations.extend(lines.iter().map(|l| l.at("IngediendBedrag")));
        let som_text = som.map_or_else(|| "te groot".to_string(), |s| signed_euro(s).to_string());
        out.add(
            "TR358",
            locations,
            format!(
                "TotaalIngediendBedrag {} {}, som van de prestaties (debet − credit) {som_text}",
                euro(t.totaal_bedrag.cents()),
                t.debet_credit
            ),
        );
    }
}

/// Raw ReferentieNummers and VorigReferentieNummers of the Prestaties seen so far (whole
/// message), for TR315/TR316.
#[derive(Default)]
struct Earlier<'m> {
    refs: HashMap<&'m str, Vec<usize>>,
    vorigs: HashMap<&'m str, Vec<usize>>,
}

/// TR416 key: ProductPeriode, ProductCategorie, ToewijzingNummer, ProductCode.
type DebitKey<'m> = (
    Periode,
    crate::domain::ProductCategorie,
    crate::domain::ToewijzingNummer,
    &'m str,
);

fn prestatie_323<'m>(
    out: &mut Findings,
    ctx: &Ctx323<'_, 'm>,
    earlier: &mut Earlier<'m>,
    debits: &mut HashMap<DebitKey<'m>, Vec<usize>>,
    k: usize,
    l: &Line<'m>,
) {
    let (m, lines, dag) = (ctx.m, ctx.lines, ctx.dag);
    let p = l.p;
    let pp = l.at("ProductPeriode");
    let periode = &p.product_periode;
    // At ProductReferentie.
    tr315_tr316(out, lines, earlier, k, l);
    // At ProductPeriode/Begindatum, /Einddatum, ProductPeriode.
    cs100(out, &child(&pp, "Begindatum"), periode.begindatum);
    tr134(
        out,
        || child(&pp, "Begindatum"),
        "Begindatum van de ProductPeriode",
        periode.begindatum,
        dag,
        true,
    );
    let ddag = m.declaratie.declaratie_dagtekening;
    if dnum(periode.einddatum) < minus_years_truncated(ddag, 5) {
        out.add(
            "TR335",
            vec![
                child(DECLARATIE, "DeclaratieDagtekening"),
                child(&pp, "Einddatum"),
            ],
            format!(
                "ReferentieNummer {}: Einddatum {}, DeclaratieDagtekening {}",
                l.referentie(),
                ymd(periode.einddatum),
                ymd(ddag)
            ),
        );
    }
    tr137(
        out,
        &pp,
        &format!("ProductPeriode van ReferentieNummer {}", l.referentie()),
        periode,
        dag,
    );
    // At Eenheid.
    let euro_eenheid = p.eenheid == Eenheid::Euro;
    // A tariff exactly when the unit is not euros.
    if euro_eenheid == p.product_tarief.is_some() {
        let mut locations = vec![l.at("Eenheid")];
        if p.product_tarief.is_some() {
            locations.push(l.at("ProductTarief"));
        }
        let facts = if euro_eenheid {
            format!(
                "ReferentieNummer {}: Eenheid 83 met ProductTarief",
                l.referentie()
            )
        } else {
            format!(
                "ReferentieNummer {}: Eenheid {} zonder ProductTarief",
                l.referentie(),
                p.eenheid
            )
        };
        out.add("CD087", locations, facts);
    }
    // At IngediendBedrag.
    cs325_bedrag(out, &l.at("IngediendBedrag"), &p.ingediend_bedrag);
    // At Prestatie.
    cd060(out, l);
    cs337(out, l);
    if euro_eenheid && p.geleverd_volume.get() != p.ingediend_bedrag.bedrag.cents() {
        out.add(
            "CS339",
            vec![l.at("GeleverdVolume"), l.at("IngediendBedrag/Bedrag")],
            format!(
                "ReferentieNummer {}: GeleverdVolume {}, IngediendBedrag {}",
                l.referentie(),
                p.geleverd_volume.get(),
                p.ingediend_bedrag.bedrag.cents()
            ),
        );
    }
    tr319(out, m, l);
    tr416(out, lines, debits, k, l);
}

/// CS337: ProductPeriode within one calendar month (year and month checked separately).
fn cs337(out: &mut Findings, l: &Line<'_>) {
    let p = &l.p.product_periode;
    let locations = || {
        vec![
            l.at("ProductPeriode/Begindatum"),
            l.at("ProductPeriode/Einddatum"),
        ]
    };
    let facts = format!(
        "ReferentieNummer {}: ProductPeriode {} t/m {}",
        l.referentie(),
        ymd(p.begindatum),
        ymd(p.einddatum)
    );
    if p.begindatum.year() != p.einddatum.year() {
        out.add("CS337", locations(), format!("{facts} (ander jaar)"));
    }
    if p.begindatum.month() != p.einddatum.month() {
        out.add("CS337", locations(), format!("{facts} (andere maand)"));
    }
}

/// TR319: the ProductPeriode may not begin or end after the DeclaratiePeriode.
fn tr319(out: &mut Findings, m: &Wmo323, l: &Line<'_>) {
    let de = m.declaratie.declaratie_periode.einddatum;
    let de_path = child(&child(DECLARATIE, "DeclaratiePeriode"), "Einddatum");
    let p = &l.p.product_periode;
    for (name, date) in [("Begindatum", p.begindatum), ("Einddatum", p.einddatum)] {
        if dnum(date) > dnum(de) {
            out.add(
                "TR319",
                vec![de_path.clone(), l.at(&format!("ProductPeriode/{name}"))],
                format!(
                    "ReferentieNummer {}: {name} ProductPeriode {} na Einddatum DeclaratiePeriode {}",
                    l.referentie(),
                    ymd(date),
                    ymd(de)
                ),
            );
        }
    }
}

/// TR315 and TR316 at ProductReferentie of line `k`, against all earlier Prestaties of the
/// message (any Client).
fn tr315_tr316<'m>(
    out: &mut Findings,
    lines: &[Line<'m>],
    earlier: &mut Earlier<'m>,
    k: usize,
    l: &Line<'m>,
) {
    let r_raw = l.referentie();
    let r = norm(r_raw);
    let v_raw = l.vorig();
    let v = v_raw.map(norm).unwrap_or_default();
    let this_ref = l.at("ProductReferentie/ReferentieNummer");
    let this_vorig = l.at("ProductReferentie/VorigReferentieNummer");
    let at = |j: usize, rel: &str| lines.get(j).map(|x| x.at(rel)).unwrap_or_default();

    // TR315: the same VorigReferentieNummer on an earlier line.
    if v_raw.is_some() {
        for &j in earlier.vorigs.get(v.as_str()).into_iter().flatten() {
            let locations = vec![
                at(j, "ProductReferentie/VorigReferentieNummer"),
                this_vorig.clone(),
            ];
            if !out.add_pair("TR315", locations, format!("VorigReferentieNummer {v}")) {
                break;
            }
        }
    }
    // TR316 (1): this line credits an earlier line's ReferentieNummer.
    for &j in earlier.refs.get(v.as_str()).into_iter().flatten() {
        let mut locations = vec![at(j, "ProductReferentie/ReferentieNummer")];
        if v_raw.is_some() {
            locations.push(this_vorig.clone());
        }
        if !out.add_pair(
            "TR316",
            locations,
            format!("VorigReferentieNummer {v} is ReferentieNummer van een eerdere regel"),
        ) {
            break;
        }
    }
    // TR316 (2): an earlier line credits this line's ReferentieNummer.
    for &j in earlier.vorigs.get(r.as_str()).into_iter().flatten() {
        let locations = vec![
            at(j, "ProductReferentie/VorigReferentieNummer"),
            this_ref.clone(),
        ];
        if !out.add_pair(
            "TR316",
            locations,
            format!("ReferentieNummer {r} wordt door een eerdere regel gecrediteerd"),
        ) {
            break;
        }
    }
    // TR316 (3): the line credits itself.
    if r == v {
        let mut locations = vec![this_ref];
        if v_raw.is_some() {
            locations.push(this_vorig);
        }
        out.add_pair(
            "TR316",
            locations,
            format!("ReferentieNummer en VorigReferentieNummer zijn beide {r}"),
        );
    }
    earlier.refs.entry(r_raw).or_default().push(k);
    if let Some(v) = v_raw {
        earlier.vorigs.entry(v).or_default().push(k);
    }
}

/// TR416 at a debit Prestatie: no earlier debit of the same Client with the same ProductPeriode,
/// ProductCategorie, ToewijzingNummer and ProductCode.
fn tr416<'m>(
    out: &mut Findings,
    lines: &[Line<'m>],
    debits: &mut HashMap<DebitKey<'m>, Vec<usize>>,
    k: usize,
    l: &Line<'m>,
) {
    let p = l.p;
    if p.ingediend_bedrag.debet_credit != DebetCredit::Debet {
        return;
    }
    let key = (
        p.product_periode,
        p.product_categorie,
        p.toewijzing_nummer,
        p.product_code.as_str(),
    );
    let earlier = debits.entry(key).or_default();
    for &j in earlier.iter() {
        let Some(e) = lines.get(j) else { continue };
        let facts = format!(
            "ReferentieNummers {} en {}: ToewijzingNummer {}, Product {}/{}, ProductPeriode {} t/m {}",
            e.referentie(),
            l.referentie(),
            p.toewijzing_nummer,
            p.product_categorie,
            p.product_code,
            ymd(p.product_periode.begindatum),
            ymd(p.product_periode.einddatum)
        );
        if !out.add_pair("TR416", vec![e.path.clone(), l.path.clone()], facts) {
            break;
        }
    }
    earlier.push(k);
}

// ---------------------------------------------------------------------------------------------
// WMO325

pub fn check_325(m: &Wmo325) -> Vec<Finding> {
    let mut out = Findings::default();
    let Some(a) = &m.declaratie_antwoord else {
        return Vec::new();
    };
    let dag = m.header.header.bericht_identificatie.dagtekening;
    let lines = lines(ANTWOORD, &a.clienten, |c| {
        c.item.prestaties.iter().map(|p| &p.item).collect()
    });

    cs325_totaal(
        &mut out,
        &child(ANTWOORD, "TotaalIngediendBedrag"),
        &a.totaal_ingediend_bedrag,
    );
    cs325_totaal(
        &mut out,
        &child(ANTWOORD, "TotaalToegekendBedrag"),
        &a.totaal_toegekend_bedrag,
    );
    let clienten_path = child(ANTWOORD, "Clienten");
    let runs = runs(&lines, a.clienten.iter().map(|c| c.item.prestaties.len()));
    for ((ci, c), (_, mine)) in a.clienten.iter().enumerate().zip(runs) {
        let client_path = nth(&clienten_path, "Client", ci, a.clienten.len());
        cs002(&mut out, || child(&client_path, "Bsn"), &c.item.bsn);
        for l in mine {
            let pp = l.at("ProductPeriode");
            let periode = &l.p.product_periode;
            let begin = child(&pp, "Begindatum");
            tr134(
                &mut out,
                || begin.clone(),
                "Begindatum van de ProductPeriode",
                periode.begindatum,
                dag,
                true,
            );
            let what = format!("ProductPeriode van ReferentieNummer {}", l.referentie());
            tr137(&mut out, &pp, &what, periode, dag);
            cs325_bedrag(&mut out, &l.at("IngediendBedrag"), &l.p.ingediend_bedrag);
            cd060(&mut out, l);
        }
        tr101_prestaties(&mut out, mine);
    }
    tr101_clienten(
        &mut out,
        ANTWOORD,
        a.clienten.iter().map(|c| c.item.bsn).collect(),
    );
    tr342(&mut out, a, &lines);
    out.into_vec()
}

/// TR342 at DeclaratieAntwoord: the returned (rejected) Prestaties explain the difference
/// between TotaalIngediendBedrag and TotaalToegekendBedrag; when the whole declaration is
/// rejected, TotaalToegekendBedrag is 0.
fn tr342(out: &mut Findings, a: &DeclaratieAntwoord, lines: &[Line<'_>]) {
    let ingediend = signed_totaal(&a.totaal_ingediend_bedrag);
    let toegekend = signed_totaal(&a.totaal_toegekend_bedrag);
    let alleen_gewone_codes = a
        .retour_codes
        .iter()
        .all(|c| matches!(c, RetourCode::R0200 | RetourCode::R8001));
    if alleen_gewone_codes {
        let afgewezen = saldo(lines);
        if afgewezen != ingediend.checked_sub(toegekend) {
            let afgewezen_text =
                afgewezen.map_or_else(|| "te groot".to_string(), |s| signed_euro(s).to_string());
            out.add(
                "TR342",
                vec![
                    child(ANTWOORD, "TotaalIngediendBedrag"),
                    child(ANTWOORD, "TotaalToegekendBedrag"),
                ],
                format!(
                    "ingediend {} − toegekend {} ≠ afgewezen prestaties {afgewezen_text}",
                    signed_euro(ingediend),
                    signed_euro(toegekend)
                ),
            );
        }
    } else if toegekend != 0 {
        out.add(
            "TR342",
            vec![child(ANTWOORD, "TotaalToegekendBedrag")],
            format!(
                "hele declaratie afgewezen maar TotaalToegekendBedrag {}",
                signed_euro(toegekend)
            ),
        );
    }
}
