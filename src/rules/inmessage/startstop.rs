//! WMO305 Start (CS002, CS058, CS139, TR002, TR101, TR134) and WMO307 Stop (the same plus
//! TR018; TR134 on the Einddatum instead of the Begindatum).

use chrono::NaiveDate;

use super::shared::{child, cs002, dnum, geboortedatum, nth, tr101, tr134, ymd, Findings};
use crate::domain::StatusAanlevering;
use crate::message::common::Product;
use crate::message::startstop::{ClientMet, StartStopBericht, StartStopProduct, StartStopView};
use crate::message::{Wmo305, Wmo307};
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

fn product_text(p: Option<&Product>) -> String {
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
    check(m)
}

pub fn check_307(m: &Wmo307) -> Vec<Finding> {
    check(m)
}

/// Both: the client, then per product its dates (a start at its Begindatum; a stop TR018 and
/// TR134 at its Einddatum) and CS058, then TR101 over the products.
fn check<P: StartStopProduct>(m: &StartStopBericht<P>) -> Vec<Finding> {
    let mut out = Findings::default();
    let dag = m.header.bericht_identificatie.dagtekening;
    let StartStopBericht { client: c, .. } = m;
    client(&mut out, c, dag);
    let sps: &[P] = &c.producten;
    let n = sps.len();
    let path_of = |i: usize| product_path(P::LIST, P::NAME, i, n);
    for (i, sp) in sps.iter().enumerate() {
        let v = sp.view();
        let nr = || nummer_prefix(v.toewijzing_nummer);
        match v.einde {
            None => tr134(
                &mut out,
                || child(&path_of(i), "Begindatum"),
                "Begindatum",
                v.begindatum,
                dag,
                true,
            ),
            Some((_, einddatum)) => {
                // At Einddatum: TR018, then TR134.
                if dnum(v.begindatum) > dnum(einddatum) {
                    let path = path_of(i);
                    out.add(
                        "TR018",
                        vec![child(&path, "Begindatum"), child(&path, "Einddatum")],
                        format!(
                            "{}Begindatum {}, Einddatum {}",
                            nr(),
                            ymd(v.begindatum),
                            ymd(einddatum)
                        ),
                    );
                }
                tr134(
                    &mut out,
                    || child(&path_of(i), "Einddatum"),
                    "Einddatum",
                    einddatum,
                    dag,
                    true,
                );
            }
        }
        cs058(&mut out, &path_of(i), v.status_aanlevering, nr);
    }
    let keys = sps
        .iter()
        .map(|s| {
            let v = s.view();
            (v.begindatum, v.product, v.toewijzing_nummer, v.einde)
        })
        .collect();
    tr101(&mut out, path_of, keys, |i| {
        sps.get(i)
            .map_or_else(String::new, |s| describe::<P>(s.view()))
    });
    out.into_vec()
}

/// `StartProduct met ToewijzingNummer 40001: Product 02/02A01, Begindatum 2025-06-01` (a stop
/// adds its RedenBeeindiging and Einddatum), for TR101.
fn describe<P: StartStopProduct>(v: StartStopView<'_>) -> String {
    let einde = match v.einde {
        None => String::new(),
        Some((reden, einddatum)) => {
            format!(", RedenBeeindiging {reden}, Einddatum {}", ymd(einddatum))
        }
    };
    format!(
        "{} met {}{}, Begindatum {}{einde}",
        P::NAME,
        nummer_prefix(v.toewijzing_nummer),
        product_text(v.product),
        ymd(v.begindatum)
    )
}
