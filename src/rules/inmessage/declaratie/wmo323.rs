//! WMO323 Declaratie: the declaration, its Clienten and each Prestatie.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use super::{
    cd060, cs100, cs325_bedrag, cs325_totaal, euro, lines, runs, saldo, signed_euro,
    tr101_clienten, tr101_prestaties, tr137, Line, DECLARATIE,
};
use crate::domain::{DebetCredit, Eenheid, Periode, TotaalBedragMetDc};
use crate::message::Wmo323;
use crate::rules::inmessage::shared::{
    child, cs002, dnum, minus_years_truncated, norm, nth, plus_one_day, plus_one_month_overflow,
    to_ymd, tr134, ymd, Findings,
};
use crate::rules::Finding;

/// Level-2 findings of a WMO323, in document order.
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
