//! WMO301 Toewijzing: CD005, CD007, CD009, CD025, CD034, CD041, CD075–CD080, CS002, CS003,
//! CS050, CS089, CS139, CS335, CS336, CS338, TR002, TR006, TR061, TR101, TR134, TR302.

use chrono::NaiveDate;

use super::shape::{self, Shape, Span};
use super::shared::{child, cs002, dnum, filled, geboortedatum, nth, tr101, tr134, ymd, Findings};
use crate::domain::{NaamGebruik, OpenPeriode, RedenWijziging};
use crate::message::common::VolledigeNaam;
use crate::message::toewijzing::{Communicatie, Contact, Relatie};
use crate::message::{ToegewezenProduct, Wmo301};
use crate::rules::Finding;

const CLIENT: &str = "/Bericht/Client";

pub fn check_301(m: &Wmo301) -> Vec<Finding> {
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
    naam(&mut out, &child(CLIENT, "Naam"), &c.naam);
    if let Some(k) = &c.communicatie {
        communicatie(&mut out, &child(CLIENT, "Communicatie"), k);
    }
    relaties(&mut out, &c.relaties, dag);
    contactgegevens(&mut out, &c.contactgegevens);
    toegewezen_producten(&mut out, &c.toegewezen_producten, dag);
    out.into_vec()
}

/// CS050 at `Naam/NaamGebruik` (client and every Relatie).
fn naam(out: &mut Findings, path: &str, n: &VolledigeNaam) {
    let gebruik = child(path, "NaamGebruik");
    if n.partnernaam.is_some() {
        if n.naam_gebruik == NaamGebruik::Pseudoniem || n.naam_gebruik == NaamGebruik::OnbekendOfNvt
        {
            out.add(
                "CS050",
                vec![child(path, "Partnernaam"), gebruik],
                format!("NaamGebruik {} met Partnernaam", n.naam_gebruik),
            );
        }
    } else if n.naam_gebruik != NaamGebruik::EigenNaam {
        out.add(
            "CS050",
            vec![gebruik],
            format!("NaamGebruik {} zonder Partnernaam", n.naam_gebruik),
        );
    }
}

/// CD007 at `Client/Communicatie`.
fn communicatie(out: &mut Findings, path: &str, k: &Communicatie) {
    let tolk = k.vorm.code() == "1";
    if filled(k.taal.as_deref()) != tolk {
        let mut locations = vec![child(path, "Vorm")];
        if k.taal.is_some() {
            locations.push(child(path, "Taal"));
        }
        let facts = if tolk {
            "Vorm 1 zonder Taal".to_string()
        } else {
            format!("Taal gevuld bij Vorm {}", k.vorm)
        };
        out.add("CD007", locations, facts);
    }
}

/// Per Relatie: TR002/TR134/CS139 on its Geboortedatum, CS050 on its Naam, the Contact rules;
/// then TR101 (key Nummer) at `Relaties`.
fn relaties(out: &mut Findings, relaties: &[Relatie<Contact>], dag: NaiveDate) {
    let base = child(CLIENT, "Relaties");
    let paths: Vec<String> = (0..relaties.len())
        .map(|i| nth(&base, "Relatie", i, relaties.len()))
        .collect();
    for (r, path) in relaties.iter().zip(&paths) {
        if let Some(g) = &r.geboortedatum {
            geboortedatum(out, &child(path, "Geboortedatum"), g, dag);
        }
        naam(out, &child(path, "Naam"), &r.naam);
        contact(out, &child(path, "Contact"), &r.contact);
    }
    tr101(
        out,
        |i| paths.get(i).cloned().unwrap_or_default(),
        relaties.iter().map(|r| r.nummer.as_str()).collect(),
        |i| {
            let nummer = relaties.get(i).map_or("", |r| r.nummer.as_str());
            format!("Relatie met Nummer {nummer}")
        },
    );
}

/// Per Contact, then TR061 and TR101 (key Soort) at `Contactgegevens`.
fn contactgegevens(out: &mut Findings, contacts: &[Contact]) {
    let base = child(CLIENT, "Contactgegevens");
    let paths: Vec<String> = (0..contacts.len())
        .map(|i| nth(&base, "Contact", i, contacts.len()))
        .collect();
    for (c, path) in contacts.iter().zip(&paths) {
        contact(out, path, c);
    }
    if !contacts
        .iter()
        .any(|c| matches!(c.soort.code(), "01" | "02" | "03"))
    {
        let soorten: Vec<&str> = contacts.iter().map(|c| c.soort.code()).collect();
        out.add(
            "TR061",
            paths.clone(),
            format!("Soort {}", soorten.join(", ")),
        );
    }
    tr101(
        out,
        |i| paths.get(i).cloned().unwrap_or_default(),
        contacts.iter().map(|c| c.soort).collect(),
        |i| {
            let soort = contacts.get(i).map_or("", |c| c.soort.code());
            format!("Contact met Soort {soort}")
        },
    );
}

/// The rules on one Contact (client or Relatie), in XSLT order: CD005/CD025/CS089 in the Adres,
/// CS003 and CD009 on the Periode, then CD034 and TR006 on the Contact itself. Address values
/// are personal data and are not repeated in the texts.
fn contact(out: &mut Findings, path: &str, c: &Contact) {
    let soort = c.soort.code();
    let adres_path = child(path, "Adres");
    let postcode_path = child(&adres_path, "Postcode");
    let land_path = child(&adres_path, "LandCode");
    if let Some(a) = &c.adres {
        let postcode = a.postcode.as_deref();
        let land = a.land_code.map(|l| l.code());
        // At Postcode.
        if filled(postcode) && !filled(land) {
            out.add(
                "CD005",
                vec![postcode_path.clone()],
                "Postcode zonder LandCode",
            );
        }
        // At LandCode.
        if filled(land) && !filled(postcode) {
            let mut locations = Vec::new();
            if postcode.is_some() {
                locations.push(postcode_path.clone());
            }
            locations.push(land_path.clone());
            out.add(
                "CD005",
                locations,
                format!("LandCode {} zonder Postcode", land.unwrap_or("")),
            );
        }
        if land == Some("NL") {
            if a.huis.is_none() {
                out.add(
                    "CD025",
                    vec![land_path.clone()],
                    "LandCode NL zonder Huisnummer",
                );
            }
            if !postcode.is_some_and(is_dutch_postcode) {
                let mut locations = Vec::new();
                if postcode.is_some() {
                    locations.push(postcode_path.clone());
                }
                locations.push(land_path.clone());
                out.add("CS089", locations, "LandCode NL");
            }
        }
    }
    if let Some(p) = &c.periode {
        periode(out, &child(path, "Periode"), p);
        if soort != "04" {
            out.add(
                "CD009",
                vec![child(path, "Soort"), child(path, "Periode")],
                format!("Periode bij Soort {soort}"),
            );
        }
    }
    // At Contact.
    let postcode = c.adres.as_ref().and_then(|a| a.postcode.as_deref());
    if matches!(soort, "01" | "03") && !filled(postcode) {
        let mut locations = vec![child(path, "Soort")];
        if postcode.is_some() {
            locations.push(postcode_path.clone());
        }
        out.add("CD034", locations, format!("Soort {soort} zonder Postcode"));
    }
    let telefoon = c.telefoon.is_some();
    let huis = c.adres.as_ref().is_some_and(|a| a.huis.is_some());
    let heeft_postcode = postcode.is_some();
    if !telefoon && !huis {
        out.add(
            "TR006",
            vec![path.to_string()],
            "geen Telefoon en geen Huis",
        );
    }
    if !telefoon && !heeft_postcode {
        out.add(
            "TR006",
            vec![path.to_string()],
            "geen Telefoon en geen Postcode",
        );
    }
}

/// CS003 at `Contact/Periode/Einddatum`: an Einddatum needs a Begindatum on or before it.
fn periode(out: &mut Findings, path: &str, p: &OpenPeriode) {
    let Some(eind) = p.einddatum else { return };
    match p.begindatum {
        None => out.add(
            "CS003",
            vec![child(path, "Einddatum")],
            format!("Periode met Einddatum {} zonder Begindatum", ymd(eind)),
        ),
        Some(begin) if dnum(begin) > dnum(eind) => out.add(
            "CS003",
            vec![child(path, "Begindatum"), child(path, "Einddatum")],
            format!("Begindatum {}, Einddatum {}", ymd(begin), ymd(eind)),
        ),
        Some(_) => {}
    }
}

/// CS089: exactly `[1-9][0-9]{3}[A-Za-z]{2}` on the raw text.
fn is_dutch_postcode(s: &str) -> bool {
    match s.as_bytes() {
        [first, digits @ .., l1, l2] if digits.len() == 3 => {
            matches!(first, b'1'..=b'9')
                && digits.iter().all(u8::is_ascii_digit)
                && l1.is_ascii_alphabetic()
                && l2.is_ascii_alphabetic()
        }
        _ => false,
    }
}

/// All ToegewezenProducten, then TR101 (key ToewijzingNummer) at `ToegewezenProducten`.
fn toegewezen_producten(out: &mut Findings, tps: &[ToegewezenProduct], dag: NaiveDate) {
    let base = child(CLIENT, "ToegewezenProducten");
    let paths: Vec<String> = (0..tps.len())
        .map(|i| nth(&base, "ToegewezenProduct", i, tps.len()))
        .collect();
    for (i, tp) in tps.iter().enumerate() {
        toegewezen_product(out, tps, &paths, i, tp, dag);
    }
    tr101(
        out,
        |i| paths.get(i).cloned().unwrap_or_default(),
        tps.iter().map(|t| t.toewijzing_nummer).collect(),
        |i| {
            let nr = tps
                .get(i)
                .map(|t| t.toewijzing_nummer.to_string())
                .unwrap_or_default();
            format!("ToegewezenProduct met ToewijzingNummer {nr}")
        },
    );
}

fn toegewezen_product(
    out: &mut Findings,
    tps: &[ToegewezenProduct],
    paths: &[String],
    i: usize,
    tp: &ToegewezenProduct,
    dag: NaiveDate,
) {
    let Some(path) = paths.get(i) else { return };
    let p = |name: &str| child(path, name);
    let nr = format!("ToewijzingNummer {}", tp.toewijzing_nummer);
    let s = Shape {
        path,
        label: &nr,
        product: tp.product.as_ref(),
        begin: ("Ingangsdatum", tp.ingangsdatum),
        eind: ("Einddatum", tp.einddatum),
        omvang: tp.omvang.as_ref(),
        budget: tp.budget,
    };

    tr134(
        out,
        || p("Toewijzingsdatum"),
        "Toewijzingsdatum",
        tp.toewijzingsdatum,
        dag,
        true,
    );
    shape::cs003(out, &s);
    if tp.reden_wijziging == Some(RedenWijziging::AdministratieveCorrectieVervallen) {
        out.add("CS336", vec![p("RedenWijziging")], nr.clone());
    }
    shape::omvang(out, &s, "CS338", Some("CD080"));
    shape::budget(out, &s);
    // At ToegewezenProduct.
    shape::cd041(out, &s);
    shape::cd079(out, &s);
    if tp.reden_wijziging == Some(RedenWijziging::Verwijderd) {
        if let Some(eind) = tp.einddatum {
            if eind != tp.ingangsdatum {
                out.add(
                    "CS335",
                    vec![p("Ingangsdatum"), p("Einddatum")],
                    format!(
                        "{nr}: Ingangsdatum {}, Einddatum {}",
                        ymd(tp.ingangsdatum),
                        ymd(eind)
                    ),
                );
            }
        }
    }
    tr302(out, tps, paths, i);
}

/// TR302 ignores deleted toewijzingen (RedenWijziging 01/13 with Einddatum = Ingangsdatum).
fn tr302_ignored(tp: &ToegewezenProduct) -> bool {
    matches!(
        tp.reden_wijziging,
        Some(RedenWijziging::AdministratieveCorrectieVervallen | RedenWijziging::Verwijderd)
    ) && tp.einddatum == Some(tp.ingangsdatum)
}

fn span(tp: &ToegewezenProduct) -> Span<'_> {
    Span {
        product: tp.product.as_ref(),
        begin: tp.ingangsdatum,
        eind: tp.einddatum,
    }
}

/// TR302 at ToegewezenProduct `i`, against every preceding ToegewezenProduct.
fn tr302(out: &mut Findings, tps: &[ToegewezenProduct], paths: &[String], i: usize) {
    let (Some(b), Some(b_path)) = (tps.get(i), paths.get(i)) else {
        return;
    };
    if tr302_ignored(b) {
        return;
    }
    for (j, a) in tps.iter().enumerate().take(i) {
        if out.pair_limit_reached("TR302") {
            return;
        }
        if tr302_ignored(a) || !shape::stacked(&span(a), &span(b)) {
            continue;
        }
        let a_path = paths.get(j).cloned().unwrap_or_default();
        out.add_pair(
            "TR302",
            vec![a_path, b_path.clone()],
            format!(
                "ToewijzingNummer {} ({}) en {} ({})",
                a.toewijzing_nummer,
                span(a).periode_text(),
                b.toewijzing_nummer,
                span(b).periode_text(),
            ),
        );
    }
}
