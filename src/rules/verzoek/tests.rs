//! Unit tests of the 315/317 level-3 rules: a passing and a failing case per rule, on the
//! fixtures 315a/315b/317a/317b against the toewijzing 40001 of 301a.

use chrono::{NaiveDate, NaiveTime};

use super::*;
use crate::domain::{Eenheid, ProductCategorie, RedenWijziging, RetourCode};
use crate::message::common::ProductCode;
use crate::message::{read, Message, ReadOptions};

fn date(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// The day the 317 fixtures are sent (their Dagtekening).
fn today() -> NaiveDate {
    date("2025-03-20")
}

fn parse(xml: &str) -> Message {
    read(xml.as_bytes(), ReadOptions::default())
        .expect("valid fixture")
        .message
}

fn m315(xml: &str) -> Wmo315 {
    match parse(xml) {
        Message::Wmo315(m) => m,
        other => panic!("not a 315: {:?}", other.kind()),
    }
}

fn m317(xml: &str) -> Wmo317 {
    match parse(xml) {
        Message::Wmo317(m) => m,
        other => panic!("not a 317: {:?}", other.kind()),
    }
}

fn vot_a() -> Wmo315 {
    m315(include_str!("../../../fixtures/valid/315a.xml"))
}
fn vot_b() -> Wmo315 {
    m315(include_str!("../../../fixtures/valid/315b.xml"))
}
/// Changes toewijzing 40001 from 2025-04-01 (6 uur per week).
fn vow_a() -> Wmo317 {
    m317(include_str!("../../../fixtures/valid/317a.xml"))
}
/// Keeps 40001 and asks for HbH 01/01A02 from 2025-05-01.
fn vow_b() -> Wmo317 {
    m317(include_str!("../../../fixtures/valid/317b.xml"))
}

fn code(s: &str) -> ProductCode {
    ProductCode::parse(s).expect("code")
}

fn nr(n: u64) -> ToewijzingNummer {
    ToewijzingNummer::new(n).expect("nummer")
}

/// Toewijzing 40001 of 301a: begeleiding 02/02A01, 4 uur per week, 2025-01-06 … 2025-12-31.
fn t40001() -> Toewijzing {
    Toewijzing {
        gemeente: Gemeentecode::parse("0344").expect("gemeente"),
        toewijzing_nummer: nr(40001),
        bsn: Bsn::parse("999990019").expect("bsn"),
        aanbieder: AgbCode::parse("87654321").expect("agb"),
        product: Some(Product {
            categorie: ProductCategorie::Begeleiding,
            code: Some(code("02A01")),
        }),
        toewijzingsdatum: date("2024-12-20"),
        toewijzingstijd: NaiveTime::from_hms_opt(10, 15, 0).expect("tijd"),
        ingangsdatum: date("2025-01-06"),
        einddatum: Some(date("2025-12-31")),
        reden_wijziging: None,
        volume: Some(4),
        eenheid: Some(Eenheid::Uur),
        frequentie: Some(Frequentie::PerWeek),
        budget: None,
    }
}

fn snap(toewijzingen: Vec<Toewijzing>) -> VerzoekSnapshot {
    VerzoekSnapshot {
        toewijzingen,
        ..VerzoekSnapshot::default()
    }
}

fn rules(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.rule.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// 315

#[test]
fn vot_without_history_is_approved() {
    for m in [vot_a(), vot_b()] {
        let d = check_315(&m, &VerzoekSnapshot::default());
        assert!(d.approved(), "{d:?}");
        assert_eq!(d.products.len(), m.client.producten.len());
    }
}

#[test]
fn tr347_referentie_used_before() {
    let m = vot_b();
    let mut s = VerzoekSnapshot {
        referenties_aanbieder: vec!["VOT-2025-0003".into(), "ANDER".into()],
        ..VerzoekSnapshot::default()
    };
    let d = check_315(&m, &s);
    assert!(d.client.is_empty());
    assert!(d.products[0].is_empty() && d.products[2].is_empty());
    assert_eq!(rules(&d.products[1]), ["TR347"]);
    let f = &d.products[1][0];
    assert_eq!(f.code, RetourCode::R9347);
    assert_eq!(
        f.locations,
        ["/Bericht/Client/AangevraagdeProducten/AangevraagdProduct[2]"]
    );
    assert!(f.text.contains("VOT-2025-0003"), "{}", f.text);
    // Another aanbieder's or an unused reference is no reason.
    s.referenties_aanbieder = vec!["VOT-2025-0099".into()];
    assert!(check_315(&m, &s).approved());
}

#[test]
fn tr374_open_verzoek_on_the_client() {
    let m = vot_a();
    let mut s = VerzoekSnapshot {
        open_verzoeken: vec!["VOW-2025-0001".into()],
        ..VerzoekSnapshot::default()
    };
    let d = check_315(&m, &s);
    assert_eq!(rules(&d.client), ["TR374"]);
    assert_eq!(d.client[0].code, RetourCode::R9374);
    assert_eq!(d.client[0].locations, ["/Bericht/Client"]);
    assert!(d.products.iter().all(|p| p.is_empty()));
    s.open_verzoeken.clear();
    assert!(check_315(&m, &s).approved());
}

#[test]
fn tr381_product_code_list() {
    let m = vot_a(); // 07/07A01
    let mut s = VerzoekSnapshot {
        product_codes: vec![(ProductCategorie::Begeleiding, code("02A01"))],
        ..VerzoekSnapshot::default()
    };
    let d = check_315(&m, &s);
    assert_eq!(rules(&d.products[0]), ["TR381"]);
    assert_eq!(d.products[0][0].code, RetourCode::RS329);
    s.product_codes
        .push((ProductCategorie::Dagbesteding, code("07A01")));
    assert!(check_315(&m, &s).approved());
    // An aspecific request (no Code) is not checked against the list.
    let s = VerzoekSnapshot {
        product_codes: vec![(ProductCategorie::Dagbesteding, code("07A01"))],
        ..VerzoekSnapshot::default()
    };
    let d = check_315(&vot_b(), &s);
    assert!(d.products[0].is_empty(), "{:?}", d.products[0]);
    assert_eq!(rules(&d.products[1]), ["TR381"]);
}

// ---------------------------------------------------------------------------------------------
// 317: the link with the toewijzing

#[test]
fn vow_on_current_toewijzing_is_approved() {
    for m in [vow_a(), vow_b()] {
        let d = check_317(&m, &snap(vec![t40001()]), today());
        assert!(d.approved(), "{d:?}");
    }
}

#[test]
fn tr351_unknown_other_aanbieder_deleted_or_ended() {
    let m = vow_a();
    let loc = "/Bericht/Client/Verzoek/TeWijzigenProducten/TeWijzigenProduct";
    let check = |t: Option<Toewijzing>| {
        let d = check_317(&m, &snap(t.into_iter().collect()), today());
        d.te_wijzigen[0].clone()
    };
    let unknown = check(None);
    assert_eq!(rules(&unknown), ["TR351"]);
    assert_eq!(unknown[0].code, RetourCode::R9351);
    assert_eq!(unknown[0].locations, [loc]);

    let mut other = t40001();
    other.aanbieder = AgbCode::parse("11112222").expect("agb");
    other.bsn = Bsn::parse("999990032").expect("bsn");
    let f = check(Some(other));
    assert_eq!(rules(&f), ["TR351"]);
    assert!(f[0].text.contains("niet bekend"), "{}", f[0].text);
    assert!(!f[0].text.contains("11112222"), "{}", f[0].text);

    let mut deleted = t40001();
    deleted.reden_wijziging = Some(RedenWijziging::Verwijderd);
    deleted.einddatum = Some(deleted.ingangsdatum);
    let f = check(Some(deleted));
    assert_eq!(rules(&f), ["TR351"]);
    assert!(f[0].text.contains("verwijderd"), "{}", f[0].text);

    let mut ended = t40001();
    ended.einddatum = Some(date("2025-03-19"));
    assert_eq!(rules(&check(Some(ended))), ["TR351"]);
    // Ending today is still current.
    let mut ends_today = t40001();
    ends_today.einddatum = Some(today());
    assert!(check(Some(ends_today)).is_empty());
}

#[test]
fn the_latest_version_of_a_toewijzing_counts() {
    let mut shortened = t40001();
    shortened.toewijzingsdatum = date("2025-02-01");
    shortened.einddatum = Some(date("2025-02-28"));
    shortened.reden_wijziging = Some(RedenWijziging::HerbeoordelingVerkorting);
    let d = check_317(&vow_a(), &snap(vec![t40001(), shortened.clone()]), today());
    assert_eq!(rules(&d.te_wijzigen[0]), ["TR351"]);
    // Reversed: the later version extends it again.
    let mut extended = t40001();
    extended.toewijzingsdatum = date("2025-03-01");
    let d = check_317(&vow_a(), &snap(vec![shortened, extended]), today());
    assert!(d.approved(), "{d:?}");
}

#[test]
fn tr304_toewijzing_of_another_client() {
    let mut t = t40001();
    t.bsn = Bsn::parse("999990032").expect("bsn");
    let d = check_317(&vow_a(), &snap(vec![t.clone()]), today());
    assert_eq!(rules(&d.te_wijzigen[0]), ["TR304"]);
    assert_eq!(d.te_wijzigen[0][0].code, RetourCode::R8187);
    let d = check_317(&vow_b(), &snap(vec![t]), today());
    assert_eq!(rules(&d.ongewijzigd[0]), ["TR304"]);
    assert!(!d.ongewijzigd[0][0].text.contains("999990032"));
}

#[test]
fn tr350_ongewijzigd_product() {
    let d = check_317(&vow_b(), &VerzoekSnapshot::default(), today());
    assert_eq!(rules(&d.ongewijzigd[0]), ["TR350"]);
    assert_eq!(d.ongewijzigd[0][0].code, RetourCode::R9350);
    assert_eq!(
        d.ongewijzigd[0][0].locations,
        ["/Bericht/Client/Verzoek/OngewijzigdeProducten/OngewijzigdProduct"]
    );
    assert!(d.nieuw[0].is_empty());
    assert!(check_317(&vow_b(), &snap(vec![t40001()]), today()).approved());
}

#[test]
fn tr349_every_current_toewijzing_is_named() {
    let mut t2 = t40001();
    t2.toewijzing_nummer = nr(40002);
    t2.product = Some(Product {
        categorie: ProductCategorie::HulpBijHetHuishouden,
        code: Some(code("01A02")),
    });
    let d = check_317(&vow_a(), &snap(vec![t40001(), t2.clone()]), today());
    assert_eq!(rules(&d.verzoek), ["TR349"]);
    assert_eq!(d.verzoek[0].code, RetourCode::R9349);
    assert_eq!(d.verzoek[0].locations, ["/Bericht/Client/Verzoek"]);
    assert!(d.verzoek[0].text.contains("40002"), "{}", d.verzoek[0].text);
    // Not current, another aanbieder's or another client's: not required.
    let mut ended = t2.clone();
    ended.einddatum = Some(date("2025-03-01"));
    let mut deleted = t2.clone();
    deleted.reden_wijziging = Some(RedenWijziging::Verwijderd);
    deleted.einddatum = Some(deleted.ingangsdatum);
    let mut other_aanbieder = t2.clone();
    other_aanbieder.aanbieder = AgbCode::parse("11112222").expect("agb");
    let mut other_client = t2;
    other_client.bsn = Bsn::parse("999990032").expect("bsn");
    for t in [ended, deleted, other_aanbieder, other_client] {
        let d = check_317(&vow_a(), &snap(vec![t40001(), t]), today());
        assert!(d.approved(), "{d:?}");
    }
}

#[test]
fn tr347_and_tr374_on_the_verzoek() {
    let mut s = snap(vec![t40001()]);
    s.referenties_aanbieder = vec!["VOW-2025-0001".into()];
    s.open_verzoeken = vec!["VOT-2025-0001".into()];
    let d = check_317(&vow_a(), &s, today());
    assert_eq!(rules(&d.verzoek), ["TR347", "TR374"]);
    assert_eq!(d.verzoek[0].code, RetourCode::R9347);
    assert_eq!(d.verzoek[1].code, RetourCode::R9374);
    // Used by the other verzoek only.
    let d = check_317(&vow_b(), &snap(vec![t40001()]), today());
    assert!(d.verzoek.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 317: the content of a TeWijzigenProduct

fn te_wijzigen(f: impl Fn(&mut TeWijzigenProduct), t: Toewijzing) -> Vec<Finding> {
    let mut m = vow_a();
    f(&mut m.client.verzoek.te_wijzigen_producten[0]);
    check_317(&m, &snap(vec![t]), today()).te_wijzigen[0].clone()
}

#[test]
fn tr357_past_gewenste_ingangsdatum_is_the_ingangsdatum() {
    let f = te_wijzigen(|tw| tw.gewenste_ingangsdatum = date("2025-03-15"), t40001());
    assert_eq!(rules(&f), ["TR357"]);
    assert_eq!(f[0].code, RetourCode::R9357);
    // On the Dagtekening itself too.
    let f = te_wijzigen(|tw| tw.gewenste_ingangsdatum = today(), t40001());
    assert_eq!(rules(&f), ["TR357"]);
    // Equal to the Ingangsdatum: a change over the whole period.
    assert!(te_wijzigen(|tw| tw.gewenste_ingangsdatum = date("2025-01-06"), t40001()).is_empty());
}

fn budget_toewijzing() -> Toewijzing {
    let mut t = t40001();
    t.product = Some(Product {
        categorie: ProductCategorie::Begeleiding,
        code: None,
    });
    t.volume = None;
    t.eenheid = None;
    t.frequentie = None;
    t.budget = Some(100_000);
    t
}

#[test]
fn tr373_budget_change_from_the_ingangsdatum() {
    let budget = |cents: u64| {
        move |tw: &mut TeWijzigenProduct| {
            tw.omvang = None;
            tw.budget = Some(crate::domain::Bedrag::new(cents).expect("bedrag"));
        }
    };
    let f = te_wijzigen(budget(150_000), budget_toewijzing());
    assert_eq!(rules(&f), ["TR373"]);
    assert_eq!(f[0].code, RetourCode::R9373);
    // The same budget is no change.
    assert!(te_wijzigen(budget(100_000), budget_toewijzing()).is_empty());
    // From the Ingangsdatum on it is allowed.
    let from_start = |tw: &mut TeWijzigenProduct| {
        budget(150_000)(tw);
        tw.gewenste_ingangsdatum = date("2025-01-06");
    };
    assert!(te_wijzigen(from_start, budget_toewijzing()).is_empty());
    // A changed total over the period (Frequentie 6) counts as well.
    let mut totaal = t40001();
    totaal.volume = Some(100);
    totaal.frequentie = Some(Frequentie::TotaalBinnenGeldigheidsduur);
    let meer = |v: u64| {
        move |tw: &mut TeWijzigenProduct| {
            if let Some(o) = tw.omvang.as_mut() {
                o.volume = crate::domain::Volume::new(v).expect("volume");
                o.frequentie = Frequentie::TotaalBinnenGeldigheidsduur;
            }
        }
    };
    assert_eq!(rules(&te_wijzigen(meer(120), totaal.clone())), ["TR373"]);
    assert!(te_wijzigen(meer(100), totaal).is_empty());
}

#[test]
fn tr375_tr411_tr412_omvang_follows_the_toegewezen_product() {
    // Specific toewijzing (Code filled): Omvang is required.
    let f = te_wijzigen(|tw| tw.omvang = None, t40001());
    assert_eq!(rules(&f), ["TR411"]);
    assert_eq!(f[0].code, RetourCode::R9411);
    // Aspecific toewijzing (Product without Code): no Omvang.
    let f = te_wijzigen(|_| {}, budget_toewijzing());
    assert_eq!(rules(&f), ["TR412"]);
    assert_eq!(f[0].code, RetourCode::R9412);
    assert!(te_wijzigen(|tw| tw.omvang = None, budget_toewijzing()).is_empty());
    // Generic toewijzing (no Product): no Omvang (TR375 only).
    let mut generic = budget_toewijzing();
    generic.product = None;
    let f = te_wijzigen(|_| {}, generic.clone());
    assert_eq!(rules(&f), ["TR375"]);
    assert_eq!(f[0].code, RetourCode::R9375);
    // Not for a period that ended before 2021.
    let old = |tw: &mut TeWijzigenProduct| {
        tw.gewenste_ingangsdatum = date("2025-01-06");
        tw.einddatum = Some(date("2020-12-31"));
    };
    assert!(te_wijzigen(old, generic).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 317: NieuwProduct

#[test]
fn tr361_new_product_overlapping_a_kept_toewijzing() {
    let mut m = vow_b();
    let np = &mut m.client.verzoek.nieuwe_producten[0];
    np.product = Some(Product {
        categorie: ProductCategorie::Begeleiding,
        code: Some(code("02A01")),
    });
    let d = check_317(&m, &snap(vec![t40001()]), today());
    assert_eq!(rules(&d.nieuw[0]), ["TR361"]);
    assert_eq!(d.nieuw[0][0].code, RetourCode::R9361);
    assert_eq!(
        d.nieuw[0][0].locations,
        ["/Bericht/Client/Verzoek/NieuweProducten/NieuwProduct"]
    );
    assert!(d.ongewijzigd[0].is_empty());
    // Ending the kept toewijzing before the new one starts (TeWijzigenProduct) is fine.
    let mut ends = vow_a();
    ends.client.verzoek.te_wijzigen_producten[0].einddatum = Some(date("2025-04-30"));
    ends.client.verzoek.nieuwe_producten = m.client.verzoek.nieuwe_producten.clone();
    let d = check_317(&ends, &snap(vec![t40001()]), today());
    assert!(d.approved(), "{d:?}");
    // … but not when it still runs.
    ends.client.verzoek.te_wijzigen_producten[0].einddatum = Some(date("2025-05-01"));
    let d = check_317(&ends, &snap(vec![t40001()]), today());
    assert_eq!(rules(&d.nieuw[0]), ["TR361"]);
}

#[test]
fn tr381_on_a_new_product() {
    let mut s = snap(vec![t40001()]);
    s.product_codes = vec![(ProductCategorie::Begeleiding, code("02A01"))];
    let d = check_317(&vow_b(), &s, today());
    assert_eq!(rules(&d.nieuw[0]), ["TR381"]);
    s.product_codes
        .push((ProductCategorie::HulpBijHetHuishouden, code("01A02")));
    assert!(check_317(&vow_b(), &s, today()).approved());
}

#[test]
fn decisions_are_serialisable_and_snapshots_round_trip() {
    let mut s = snap(vec![t40001()]);
    s.referenties_aanbieder = vec!["VOW-2025-0001".into()];
    s.product_codes = vec![(ProductCategorie::Begeleiding, code("02A01"))];
    let json = serde_json::to_string(&s).expect("json");
    let back: VerzoekSnapshot = serde_json::from_str(&json).expect("back");
    assert_eq!(back, s);
    let d = check_317(&vow_a(), &s, today());
    let v = serde_json::to_value(&d).expect("decision json");
    assert_eq!(v["verzoek"][0]["rule"], "TR347");
}
