//! WMO315 Verzoek om toewijzing (CD041, CD043, CD066–CD068, CD075–CD079, CD095, CS002, CS003,
//! CS139, CS343, TR002, TR101, TR134, TR383, TR386) and WMO317 Verzoek om wijziging (CD041,
//! CD075–CD079, CD096, CS002, CS003, CS338, TR101, TR352, TR353, TR380, TR410).
//!
//! Conditions and locations as the official XSLT 2.10.5 implements them. `docs/level2-rules.md`
//! §9 lists CS002 only for the 315; the XSLT checks every element named `Bsn`, so the 317's
//! Client/Bsn is checked too.

use chrono::NaiveDate;

use super::shape::{self, Shape, Span};
use super::shared::{
    child, cs002, dnum, geboortedatum, norm, nth, tr101, ymd, Findings, DAGTEKENING,
};
use crate::message::common::Product;
use crate::message::verzoek::{AangevraagdProduct, NieuwProduct, TeWijzigenProduct, Verwijzer};
use crate::message::{Wmo315, Wmo317};
use crate::rules::Finding;

const CLIENT: &str = "/Bericht/Client";
const VERZOEK: &str = "/Bericht/Client/Verzoek";

pub fn check_315(m: &Wmo315) -> Vec<Finding> {
    let mut out = Findings::default();
    let dag = m.header.bericht_identificatie.dagtekening;
    let c = &m.client;
    cs002(&mut out, || child(CLIENT, "Bsn"), &c.bsn);
    geboortedatum(
        &mut out,
        &child(CLIENT, "Geboortedatum"),
        &c.geboortedatum,
        dag,
    );
    let aps = &c.producten;
    let base = child(CLIENT, "AangevraagdeProducten");
    let paths: Vec<String> = (0..aps.len())
        .map(|i| nth(&base, "AangevraagdProduct", i, aps.len()))
        .collect();
    for i in 0..aps.len() {
        aangevraagd_product(&mut out, aps, &paths, i);
    }
    tr101(
        &mut out,
        |i| paths.get(i).cloned().unwrap_or_default(),
        aps.iter()
            .map(|a| a.referentie_aanbieder.as_str())
            .collect(),
        |i| {
            let r = aps.get(i).map_or("", |a| a.referentie_aanbieder.as_str());
            format!("AangevraagdProduct met ReferentieAanbieder {r}")
        },
    );
    out.into_vec()
}

fn ap_span(a: &AangevraagdProduct) -> Span<'_> {
    Span {
        product: a.product.as_ref(),
        begin: a.toewijzing_ingangsdatum,
        eind: a.toewijzing_einddatum,
    }
}

/// The rules inside AangevraagdProduct `i` (post-order), then those at the class itself.
fn aangevraagd_product(out: &mut Findings, aps: &[AangevraagdProduct], paths: &[String], i: usize) {
    let (Some(a), Some(path)) = (aps.get(i), paths.get(i)) else {
        return;
    };
    let label = format!("ReferentieAanbieder {}", a.referentie_aanbieder);
    let s = Shape {
        path,
        label: &label,
        product: a.product.as_ref(),
        begin: ("ToewijzingIngangsdatum", a.toewijzing_ingangsdatum),
        eind: ("ToewijzingEinddatum", a.toewijzing_einddatum),
        omvang: a.omvang.as_ref(),
        budget: a.budget,
    };
    shape::cs003(out, &s);
    shape::omvang(out, &s, "CS343", Some("CD095"));
    shape::budget(out, &s);
    verwijzer(out, &child(path, "Verwijzer"), &a.verwijzer, &label);
    // At AangevraagdProduct.
    shape::cd041(out, &s);
    cd043(out, path, a, &label);
    shape::cd079(out, &s);
    tr383(out, aps, paths, i);
    tr386(out, aps, paths, i);
}

/// CD043: BeschikkingNummer and BeschikkingIngangsdatum are filled together or not at all.
fn cd043(out: &mut Findings, path: &str, a: &AangevraagdProduct, label: &str) {
    match (a.beschikking_nummer, a.beschikking_ingangsdatum) {
        (Some(_), None) => out.add(
            "CD043",
            vec![child(path, "BeschikkingNummer")],
            format!("{label}: BeschikkingNummer zonder BeschikkingIngangsdatum"),
        ),
        (None, Some(_)) => out.add(
            "CD043",
            vec![child(path, "BeschikkingIngangsdatum")],
            format!("{label}: BeschikkingIngangsdatum zonder BeschikkingNummer"),
        ),
        _ => {}
    }
}

/// CD066, CD067, CD068 at `Verwijzer`. For Type 02–05 (huisarts, jeugdarts, medisch specialist,
/// …) exactly one of ZorgverlenerCode and Naam is filled; for any other Type (01 gemeente, …) the
/// ZorgverlenerCode is empty. The Naam itself may name a person and is not repeated.
fn verwijzer(out: &mut Findings, path: &str, v: &Verwijzer, label: &str) {
    let zorgverlener = matches!(v.soort.code(), "02" | "03" | "04" | "05");
    let naam = v.naam.as_deref().is_some_and(|n| !norm(n).is_empty());
    let code = v.zorgverlener_code.is_some();
    let soort = child(path, "Type");
    let facts = |what: &str| format!("{label}: Verwijzer Type {} {what}", v.soort);
    if zorgverlener && code && naam {
        out.add(
            "CD066",
            vec![
                soort.clone(),
                child(path, "Naam"),
                child(path, "ZorgverlenerCode"),
            ],
            facts("met ZorgverlenerCode en Naam"),
        );
    }
    if zorgverlener && !code && !naam {
        let mut locations = vec![soort.clone()];
        if v.naam.is_some() {
            locations.push(child(path, "Naam"));
        }
        out.add(
            "CD067",
            locations,
            facts("zonder ZorgverlenerCode en zonder Naam"),
        );
    }
    if !zorgverlener && code {
        out.add(
            "CD068",
            vec![soort, child(path, "ZorgverlenerCode")],
            facts("met ZorgverlenerCode"),
        );
    }
}

/// TR383 at AangevraagdProduct `i`: one finding per earlier AangevraagdProduct with the same
/// ReferentieAanbieder, located at that earlier ReferentieAanbieder (as the XSLT reports it).
fn tr383(out: &mut Findings, aps: &[AangevraagdProduct], paths: &[String], i: usize) {
    let Some(a) = aps.get(i) else { return };
    let own = norm(&a.referentie_aanbieder);
    for (j, earlier) in aps.iter().enumerate().take(i) {
        if earlier.referentie_aanbieder != own {
            continue;
        }
        let location = child(
            paths.get(j).map_or("", String::as_str),
            "ReferentieAanbieder",
        );
        if !out.add_pair(
            "TR383",
            vec![location],
            format!("ReferentieAanbieder {own} komt meer dan één keer voor"),
        ) {
            return;
        }
    }
}

/// TR386 at AangevraagdProduct `i`, against every earlier one: the same product for overlapping
/// periods (hulpmiddelen excepted).
fn tr386(out: &mut Findings, aps: &[AangevraagdProduct], paths: &[String], i: usize) {
    let (Some(b), Some(b_path)) = (aps.get(i), paths.get(i)) else {
        return;
    };
    for (j, a) in aps.iter().enumerate().take(i) {
        if out.pair_limit_reached("TR386") {
            return;
        }
        if !shape::stacked(&ap_span(a), &ap_span(b)) {
            continue;
        }
        out.add_pair(
            "TR386",
            vec![paths.get(j).cloned().unwrap_or_default(), b_path.clone()],
            format!(
                "ReferentieAanbieder {} ({}) en {} ({})",
                a.referentie_aanbieder,
                ap_span(a).periode_text(),
                b.referentie_aanbieder,
                ap_span(b).periode_text()
            ),
        );
    }
}

pub fn check_317(m: &Wmo317) -> Vec<Finding> {
    let mut out = Findings::default();
    let dag = m.header.bericht_identificatie.dagtekening;
    cs002(&mut out, || child(CLIENT, "Bsn"), &m.client.bsn);
    let v = &m.client.verzoek;

    let ong = &v.ongewijzigde_producten;
    let base = child(VERZOEK, "OngewijzigdeProducten");
    let path = |i: usize| nth(&base, "OngewijzigdProduct", i, ong.len());
    tr101(
        &mut out,
        path,
        ong.iter().map(|o| o.toewijzing_nummer).collect(),
        |i| {
            let nr = ong.get(i).map(|o| o.toewijzing_nummer.to_string());
            format!(
                "OngewijzigdProduct met ToewijzingNummer {}",
                nr.unwrap_or_default()
            )
        },
    );

    te_wijzigen_producten(&mut out, &v.te_wijzigen_producten);
    nieuwe_producten(&mut out, &v.nieuwe_producten, dag);

    // At Verzoek.
    if ong.is_empty() && v.te_wijzigen_producten.is_empty() {
        out.add(
            "TR352",
            vec![VERZOEK.to_string()],
            format!(
                "Verzoek {} zonder OngewijzigdProduct en TeWijzigenProduct",
                v.referentie_aanbieder
            ),
        );
    }
    if v.te_wijzigen_producten.is_empty() && v.nieuwe_producten.is_empty() {
        out.add(
            "TR353",
            vec![VERZOEK.to_string()],
            format!(
                "Verzoek {} zonder TeWijzigenProduct en NieuwProduct",
                v.referentie_aanbieder
            ),
        );
    }
    out.into_vec()
}

/// Per TeWijzigenProduct CS003, CS338, CD076, CD078, CD075, CD077; then TR101 (key
/// ToewijzingNummer) at `TeWijzigenProducten`.
fn te_wijzigen_producten(out: &mut Findings, tws: &[TeWijzigenProduct]) {
    let base = child(VERZOEK, "TeWijzigenProducten");
    let paths: Vec<String> = (0..tws.len())
        .map(|i| nth(&base, "TeWijzigenProduct", i, tws.len()))
        .collect();
    for (t, path) in tws.iter().zip(&paths) {
        let label = format!("ToewijzingNummer {}", t.toewijzing_nummer);
        let s = Shape {
            path,
            label: &label,
            product: None,
            begin: ("GewensteIngangsdatum", t.gewenste_ingangsdatum),
            eind: ("Einddatum", t.einddatum),
            omvang: t.omvang.as_ref(),
            budget: t.budget,
        };
        shape::cs003(out, &s);
        shape::omvang(out, &s, "CS338", None);
        shape::budget(out, &s);
    }
    tr101(
        out,
        |i| paths.get(i).cloned().unwrap_or_default(),
        tws.iter().map(|t| t.toewijzing_nummer).collect(),
        |i| {
            let nr = tws.get(i).map(|t| t.toewijzing_nummer.to_string());
            format!(
                "TeWijzigenProduct met ToewijzingNummer {}",
                nr.unwrap_or_default()
            )
        },
    );
}

/// `Product 01/01A02`, `Product 10` or `zonder Product`.
pub fn product_text(p: Option<&Product>) -> String {
    match p {
        None => "zonder Product".to_string(),
        Some(Product {
            categorie,
            code: Some(code),
        }) => format!("Product {categorie}/{code}"),
        Some(Product {
            categorie,
            code: None,
        }) => format!("Product {categorie}"),
    }
}

fn nieuw_label(n: &NieuwProduct) -> String {
    format!(
        "NieuwProduct met {}, GewensteIngangsdatum {}",
        product_text(n.product.as_ref()),
        ymd(n.gewenste_ingangsdatum)
    )
}

fn np_span(n: &NieuwProduct) -> Span<'_> {
    Span {
        product: n.product.as_ref(),
        begin: n.gewenste_ingangsdatum,
        eind: n.einddatum,
    }
}

/// Per NieuwProduct TR380, CS003, the Omvang and Budget rules, then CD041, CD079, TR410 at the
/// class; then TR101 (key GewensteIngangsdatum + Product) at `NieuweProducten`.
fn nieuwe_producten(out: &mut Findings, nps: &[NieuwProduct], dag: NaiveDate) {
    let base = child(VERZOEK, "NieuweProducten");
    let paths: Vec<String> = (0..nps.len())
        .map(|i| nth(&base, "NieuwProduct", i, nps.len()))
        .collect();
    for (i, (n, path)) in nps.iter().zip(&paths).enumerate() {
        let label = nieuw_label(n);
        let s = Shape {
            path,
            label: &label,
            product: n.product.as_ref(),
            begin: ("GewensteIngangsdatum", n.gewenste_ingangsdatum),
            eind: ("Einddatum", n.einddatum),
            omvang: n.omvang.as_ref(),
            budget: n.budget,
        };
        // TR380 at GewensteIngangsdatum: strictly after the Dagtekening.
        if dnum(dag) >= dnum(n.gewenste_ingangsdatum) {
            out.add(
                "TR380",
                vec![DAGTEKENING.to_string(), child(path, "GewensteIngangsdatum")],
                format!("{label} ligt niet na Dagtekening {}", ymd(dag)),
            );
        }
        shape::cs003(out, &s);
        shape::omvang(out, &s, "CS338", Some("CD096"));
        shape::budget(out, &s);
        shape::cd041(out, &s);
        shape::cd079(out, &s);
        tr410(out, nps, &paths, i);
    }
    tr101(
        out,
        |i| paths.get(i).cloned().unwrap_or_default(),
        nps.iter()
            .map(|n| (n.gewenste_ingangsdatum, n.product.as_ref()))
            .collect(),
        |i| nps.get(i).map(nieuw_label).unwrap_or_default(),
    );
}

/// TR410 at NieuwProduct `i`, against every earlier one.
fn tr410(out: &mut Findings, nps: &[NieuwProduct], paths: &[String], i: usize) {
    let (Some(b), Some(b_path)) = (nps.get(i), paths.get(i)) else {
        return;
    };
    for (j, a) in nps.iter().enumerate().take(i) {
        if out.pair_limit_reached("TR410") {
            return;
        }
        if !shape::stacked(&np_span(a), &np_span(b)) {
            continue;
        }
        out.add_pair(
            "TR410",
            vec![paths.get(j).cloned().unwrap_or_default(), b_path.clone()],
            format!(
                "{} ({}) en {} ({})",
                product_text(a.product.as_ref()),
                np_span(a).periode_text(),
                product_text(b.product.as_ref()),
                np_span(b).periode_text()
            ),
        );
    }
}
