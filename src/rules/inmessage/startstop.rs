//! WMO305 Start (CS002, CS058, CS139, TR002, TR101, TR134) and WMO307 Stop (the same plus
//! TR018; TR134 on the Einddatum instead of the Begindatum).

use chrono::NaiveDate;

use super::shared::{child, cs002, dnum, geboortedatum, nth, tr101, tr134, ymd, Findings};
use crate::domain::StatusAanlevering;
use crate::message::common::Product;
use crate::message::startstop::{ClientMet, StartStopBericht};
use crate::message::{StartProduct, StopProduct, Wmo305, Wmo307};
use crate::rules::Finding;

const CLIENT: &str = "/Bericht/Client";

/// The client part common to 305 and 307: CS002, then TR002/TR134/CS139 on the Geboortedatum.
fn client<P>(out: &mut Findings, c: &ClientMet<P>, dag: NaiveDate) {
    cs002(out, || child(CLIENT, "Bsn"), &c.bsn);
    geboortedatum(out, "/Bericht/Client/Geboortedatum", &c.geboortedatum, dag);
}

/// CS058 at `StatusAanlevering`: only 1 and 3 are allowed.
fn cs058(out: &mut Findings, path: &str, status: StatusAanlevering, nr: impl FnOnce() -> String) {
    if !matches!(
        status,
        StatusAanlevering::EersteAanlevering | StatusAanlevering::VerwijderenAanlevering
    ) {
        out.add(
            "CS058",
            vec![child(path, "StatusAanlevering")],
            format!("{}StatusAanlevering {status}", nr()),
        );
    }
}

/// `ToewijzingNummer 40001: ` or empty, to prefix facts with.
fn nummer_prefix(nr: Option<crate::domain::ToewijzingNummer>) -> String {
    nr.map(|n| format!("ToewijzingNummer {n}: "))
        .unwrap_or_default()
}

fn product_text(p: &Option<Product>) -> String {
    match p {
        None => "zonder Product".to_string(),
        Some(p) => match &p.code {
            Some(c) => format!("Product {}/{}", p.categorie, c),
            None => format!("Product {}", p.categorie),
        },
    }
}

/// Path of the i-th of `n` products, built only when a finding needs it.
fn product_path(list: &str, name: &str, i: usize, n: usize) -> String {
    nth(&child(CLIENT, list), name, i, n)
}

pub fn check_305(m: &Wmo305) -> Vec<Finding> {
    let mut out = Findings::default();
    let dag = m.header.bericht_identificatie.dagtekening;
    let StartStopBericht { client: c, .. } = m;
    client(&mut out, c, dag);
    let sps: &[StartProduct] = &c.producten;
    let n = sps.len();
    let path_of = |i: usize| product_path("StartProducten", "StartProduct", i, n);
    for (i, sp) in sps.iter().enumerate() {
        let nr = || nummer_prefix(sp.toewijzing_nummer);
        tr134(
            &mut out,
            || child(&path_of(i), "Begindatum"),
            "Begindatum",
            sp.begindatum,
            dag,
            true,
        );
        if !matches!(
            sp.status_aanlevering,
            StatusAanlevering::EersteAanlevering | StatusAanlevering::VerwijderenAanlevering
        ) {
            cs058(&mut out, &path_of(i), sp.status_aanlevering, nr);
        }
    }
    let keys = sps
        .iter()
        .map(|s| (s.begindatum, s.product.as_ref(), s.toewijzing_nummer))
        .collect();
    tr101(&mut out, path_of, keys, |i| {
        let Some(s) = sps.get(i) else {
            return String::new();
        };
        format!(
            "StartProduct met {}{}, Begindatum {}",
            nummer_prefix(s.toewijzing_nummer),
            product_text(&s.product),
            ymd(s.begindatum)
        )
    });
    out.into_vec()
}

pub fn check_307(m: &Wmo307) -> Vec<Finding> {
    let mut out = Findings::default();
    let dag = m.header.bericht_identificatie.dagtekening;
    let StartStopBericht { client: c, .. } = m;
    client(&mut out, c, dag);
    let sps: &[StopProduct] = &c.producten;
    let n = sps.len();
    let path_of = |i: usize| product_path("StopProducten", "StopProduct", i, n);
    for (i, sp) in sps.iter().enumerate() {
        let nr = || nummer_prefix(sp.toewijzing_nummer);
        // At Einddatum: TR018, then TR134.
        if dnum(sp.begindatum) > dnum(sp.einddatum) {
            let path = path_of(i);
            out.add(
                "TR018",
                vec![child(&path, "Begindatum"), child(&path, "Einddatum")],
                format!(
                    "{}Begindatum {}, Einddatum {}",
                    nr(),
                    ymd(sp.begindatum),
                    ymd(sp.einddatum)
                ),
            );
        }
        tr134(
            &mut out,
            || child(&path_of(i), "Einddatum"),
            "Einddatum",
            sp.einddatum,
            dag,
            true,
        );
        if !matches!(
            sp.status_aanlevering,
            StatusAanlevering::EersteAanlevering | StatusAanlevering::VerwijderenAanlevering
        ) {
            cs058(&mut out, &path_of(i), sp.status_aanlevering, nr);
        }
    }
    let keys = sps
        .iter()
        .map(|s| {
            (
                s.begindatum,
                s.einddatum,
                s.product.as_ref(),
                s.reden_beeindiging,
                s.toewijzing_nummer,
            )
        })
        .collect();
    tr101(&mut out, path_of, keys, |i| {
        let Some(s) = sps.get(i) else {
            return String::new();
        };
        format!(
            "StopProduct met {}{}, Begindatum {}, RedenBeeindiging {}, Einddatum {}",
            nummer_prefix(s.toewijzing_nummer),
            product_text(&s.product),
            ymd(s.begindatum),
            s.reden_beeindiging,
            ymd(s.einddatum)
        )
    });
    out.into_vec()
}
