//! Level-3 rules on WMO305/WMO307 (TR019, TR063, TR071, TR074, TR326, TR382, TR413–TR415),
//! following the reference §10 timeline: 301a → 305a → 305b → 307a → 307b.

use chrono::{NaiveDate, NaiveTime};

use iwmo::domain::{
    AgbCode, Bsn, Eenheid, Frequentie, Gemeentecode, Nummer, ProductCategorie, RedenBeeindiging,
    RedenWijziging, StatusAanlevering,
};
use iwmo::message::common::{Product, ProductCode};
use iwmo::message::{Message, Wmo305, Wmo307};
use iwmo::rules::decision::StartStopDecision;
use iwmo::rules::startstop::{check_305, check_307};
use iwmo::rules::state::{StartRow, StartStopSnapshot, StopRow, Toewijzing};

// ---------------------------------------------------------------- helpers

fn fixture(name: &str) -> Message {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/valid")
        .join(name);
    let bytes = std::fs::read(&path).unwrap();
    iwmo::message::read(&bytes, Default::default())
        .unwrap_or_else(|e| panic!("{name}: {e:?}"))
        .message
}

fn m305(name: &str) -> Wmo305 {
    match fixture(name) {
        Message::Wmo305(m) => m,
        other => panic!("{name}: not a 305: {:?}", other.kind()),
    }
}

fn m307(name: &str) -> Wmo307 {
    match fixture(name) {
        Message::Wmo307(m) => m,
        other => panic!("{name}: not a 307: {:?}", other.kind()),
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn nr(n: u64) -> Nummer {
    Nummer::new(n).unwrap()
}

const BSN: &str = "999990019";
const AGB: &str = "87654321";

fn bsn() -> Bsn {
    Bsn::parse(BSN).unwrap()
}

fn agb() -> AgbCode {
    AgbCode::parse(AGB).unwrap()
}

fn other_agb() -> AgbCode {
    AgbCode::parse("11112222").unwrap()
}

fn product() -> Product {
    Product {
        categorie: ProductCategorie::parse("02").unwrap(),
        code: Some(ProductCode::parse("02A01").unwrap()),
    }
}

/// Toewijzing 40001 as sent in 301a.
fn toewijzing_40001() -> Toewijzing {
    Toewijzing {
        gemeente: Gemeentecode::parse("0344").unwrap(),
        toewijzing_nummer: nr(40001),
        bsn: bsn(),
        aanbieder: agb(),
        product: Some(product()),
        toewijzingsdatum: date("2024-12-20"),
        toewijzingstijd: NaiveTime::from_hms_opt(10, 15, 0).unwrap(),
        ingangsdatum: date("2025-01-06"),
        einddatum: Some(date("2025-12-31")),
        reden_wijziging: None,
        volume: Some(4),
        eenheid: Some(Eenheid::Uur),
        frequentie: Some(Frequentie::PerWeek),
        budget: None,
    }
}

fn start(id: i64, begindatum: &str, active: bool) -> StartRow {
    StartRow {
        id,
        aanbieder: agb(),
        bsn: bsn(),
        toewijzing_nummer: Some(nr(40001)),
        product: Some(product()),
        begindatum: date(begindatum),
        active,
    }
}

fn stop(id: i64, begindatum: &str, reden: &str, einddatum: &str, active: bool) -> StopRow {
    StopRow {
        id,
        aanbieder: agb(),
        bsn: bsn(),
        toewijzing_nummer: Some(nr(40001)),
        product: Some(product()),
        begindatum: date(begindatum),
        reden_beeindiging: RedenBeeindiging::parse(reden).unwrap(),
        einddatum: date(einddatum),
        active,
    }
}

fn snap(starts: Vec<StartRow>, stops: Vec<StopRow>) -> StartStopSnapshot {
    StartStopSnapshot {
        toewijzingen: vec![toewijzing_40001()],
        starts,
        stops,
        ..Default::default()
    }
}

/// After 305a and 305b: the 2025-01-09 start deleted, the 2025-01-08 start active.
fn starts_after_305b() -> Vec<StartRow> {
    vec![start(1, "2025-01-09", false), start(2, "2025-01-08", true)]
}

/// Codes per product, sorted; also checks the invariants every decision must keep.
fn codes(d: &StartStopDecision) -> Vec<Vec<String>> {
    assert!(d.header.is_empty(), "header findings: {:?}", d.header);
    assert!(d.client.is_empty(), "client findings: {:?}", d.client);
    for f in d.products.iter().flatten() {
        assert!(!f.text.contains(BSN), "BSN in text: {}", f.text);
        assert!(!f.text.contains("999990044"), "BSN in text: {}", f.text);
        assert!(!f.text.contains("Jansen"), "name in text: {}", f.text);
        assert!(!f.locations.is_empty());
    }
    d.products
        .iter()
        .map(|p| {
            let mut c: Vec<String> = p.iter().map(|f| f.code.to_string()).collect();
            c.sort();
            let n = c.len();
            c.dedup();
            assert_eq!(n, c.len(), "duplicate codes: {p:?}");
            c
        })
        .collect()
}

fn v(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|s| s.to_string()).collect()
}

fn ok() -> Vec<String> {
    Vec::new()
}

// ---------------------------------------------------------------- the §10 timeline

#[test]
fn t305a_on_empty_state_is_accepted() {
    let d = check_305(&m305("305a.xml"), &snap(vec![], vec![]));
    assert_eq!(codes(&d), vec![ok()]);
    assert!(d.approved());
}

#[test]
fn t305b_delete_and_new_after_305a_is_accepted() {
    let d = check_305(
        &m305("305b.xml"),
        &snap(vec![start(1, "2025-01-09", true)], vec![]),
    );
    assert_eq!(codes(&d), vec![ok(), ok()]);
}

#[test]
fn t306b_305b_without_305a_gives_9063_on_the_delete_only() {
    let d = check_305(&m305("305b.xml"), &snap(vec![], vec![]));
    assert_eq!(codes(&d), vec![v(&["9063"]), ok()]);
    let f = &d.products[0][0];
    assert_eq!(f.rule, "TR063");
    assert_eq!(
        f.locations,
        vec!["/Bericht/Client/StartProducten/StartProduct[1]".to_string()]
    );
    assert!(f.text.contains("ToewijzingNummer 40001"), "{}", f.text);
    assert!(f.text.contains("Begindatum 2025-01-09"), "{}", f.text);
    assert!(!d.approved());
}

#[test]
fn t305b_in_reverse_order_is_accepted_deletes_go_first() {
    let mut m = m305("305b.xml");
    m.client.producten.reverse();
    let d = check_305(&m, &snap(vec![start(1, "2025-01-09", true)], vec![]));
    assert_eq!(codes(&d), vec![ok(), ok()]);
}

#[test]
fn t307a_after_the_starts_is_accepted() {
    let d = check_307(&m307("307a.xml"), &snap(starts_after_305b(), vec![]));
    assert_eq!(codes(&d), vec![ok()]);
}

#[test]
fn t307b_definitive_after_temporary_with_equal_einddatum_is_accepted() {
    let d = check_307(
        &m307("307b.xml"),
        &snap(
            starts_after_305b(),
            vec![stop(1, "2025-01-08", "20", "2025-03-14", true)],
        ),
    );
    assert_eq!(codes(&d), vec![ok()]);
}

// ---------------------------------------------------------------- 307 rules

#[test]
fn second_temporary_stop_gives_9413() {
    let d = check_307(
        &m307("307a.xml"),
        &snap(
            starts_after_305b(),
            vec![stop(1, "2025-01-08", "20", "2025-03-10", true)],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9413"])]);
    let f = &d.products[0][0];
    assert_eq!(f.rule, "TR413");
    assert_eq!(
        f.locations,
        vec!["/Bericht/Client/StopProducten/StopProduct".to_string()]
    );
    assert!(f.text.contains("RedenBeeindiging 20"), "{}", f.text);
    assert!(f.text.contains("Einddatum 2025-03-10"), "{}", f.text);
}

#[test]
fn stop_after_definitive_stop_gives_9415() {
    let d = check_307(
        &m307("307b.xml"),
        &snap(
            starts_after_305b(),
            vec![stop(1, "2025-01-08", "23", "2025-03-14", true)],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9415"])]);
    assert!(d.products[0][0].text.contains("RedenBeeindiging 23"));
}

#[test]
fn temporary_stop_after_definitive_stop_gives_9415() {
    let d = check_307(
        &m307("307a.xml"),
        &snap(
            starts_after_305b(),
            vec![stop(1, "2025-01-08", "36", "2025-03-01", true)],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9415"])]);
}

#[test]
fn earlier_einddatum_gives_9414() {
    let d = check_307(
        &m307("307b.xml"),
        &snap(
            starts_after_305b(),
            vec![stop(1, "2025-01-08", "20", "2025-03-20", true)],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9414"])]);
    let t = &d.products[0][0].text;
    assert!(t.contains("Einddatum 2025-03-14"), "{t}");
    assert!(t.contains("Einddatum 2025-03-20"), "{t}");
}

#[test]
fn stop_without_start_gives_9069() {
    let d = check_307(&m307("307a.xml"), &snap(vec![], vec![]));
    assert_eq!(codes(&d), vec![v(&["9069"])]);
    assert_eq!(d.products[0][0].rule, "TR382");
}

#[test]
fn stop_on_a_deleted_start_gives_9069() {
    // 307a names Begindatum 2025-01-08: that start was deleted; the 2025-01-09 one is active.
    let d = check_307(
        &m307("307a.xml"),
        &snap(
            vec![start(1, "2025-01-09", true), start(2, "2025-01-08", false)],
            vec![],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9069"])]);
}

#[test]
fn stop_with_other_product_than_the_start_gives_9069() {
    let mut m = m307("307a.xml");
    m.client.producten[0].product = Some(Product {
        categorie: ProductCategorie::parse("02").unwrap(),
        code: Some(ProductCode::parse("02A02").unwrap()),
    });
    let d = check_307(&m, &snap(starts_after_305b(), vec![]));
    assert_eq!(codes(&d), vec![v(&["9069"])]);
}

#[test]
fn same_stop_twice_gives_9074_and_9413() {
    let d = check_307(
        &m307("307a.xml"),
        &snap(
            starts_after_305b(),
            vec![stop(1, "2025-01-08", "20", "2025-03-14", true)],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9074", "9413"])]);
}

#[test]
fn deleted_stops_do_not_count() {
    let d = check_307(
        &m307("307b.xml"),
        &snap(
            starts_after_305b(),
            vec![
                stop(1, "2025-01-08", "23", "2025-03-20", false),
                stop(2, "2025-01-08", "36", "2025-03-14", false),
            ],
        ),
    );
    assert_eq!(codes(&d), vec![ok()]);
}

#[test]
fn delete_of_unknown_stop_gives_9063() {
    let mut m = m307("307a.xml");
    m.client.producten[0].status_aanlevering = StatusAanlevering::VerwijderenAanlevering;
    let d = check_307(&m, &snap(starts_after_305b(), vec![]));
    assert_eq!(codes(&d), vec![v(&["9063"])]);
    // Same start, other RedenBeeindiging: not the same key.
    let d = check_307(
        &m,
        &snap(
            starts_after_305b(),
            vec![stop(1, "2025-01-08", "36", "2025-03-14", true)],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9063"])]);
}

#[test]
fn delete_of_stored_stop_is_accepted_without_toewijzing_check() {
    let mut m = m307("307a.xml");
    m.client.producten[0].status_aanlevering = StatusAanlevering::VerwijderenAanlevering;
    let mut s = snap(
        starts_after_305b(),
        vec![stop(1, "2025-01-08", "20", "2025-03-14", true)],
    );
    s.toewijzingen.clear();
    let d = check_307(&m, &s);
    assert_eq!(codes(&d), vec![ok()]);
}

#[test]
fn correcting_a_definitive_stop_in_one_message_deletes_first() {
    // Case 4 of the 3.2 case descriptions: wrong RedenBeeindiging corrected by delete + new.
    // The new stop comes first in the message; the delete is still processed first.
    let mut m = m307("307b.xml");
    let mut del = m.client.producten[0].clone();
    del.reden_beeindiging = RedenBeeindiging::parse("23").unwrap();
    del.status_aanlevering = StatusAanlevering::VerwijderenAanlevering;
    m.client.producten.push(del);
    let stored = vec![stop(1, "2025-01-08", "23", "2025-03-14", true)];
    let d = check_307(&m, &snap(starts_after_305b(), stored.clone()));
    assert_eq!(codes(&d), vec![ok(), ok()]);
    // Without the delete the new stop would be refused.
    let d = check_307(&m307("307b.xml"), &snap(starts_after_305b(), stored));
    assert_eq!(codes(&d), vec![v(&["9415"])]);
}

#[test]
fn stops_in_one_message_see_each_other() {
    // Temporary and definitive stop together: fine (TR414: equal Einddatum).
    let mut m = m307("307a.xml");
    m.client
        .producten
        .push(m307("307b.xml").client.producten[0].clone());
    let d = check_307(&m, &snap(starts_after_305b(), vec![]));
    assert_eq!(codes(&d), vec![ok(), ok()]);
    // Definitive first, then the temporary one: the second gets 9415.
    m.client.producten.reverse();
    let d = check_307(&m, &snap(starts_after_305b(), vec![]));
    assert_eq!(codes(&d), vec![ok(), v(&["9415"])]);
    assert_eq!(
        d.products[1][0].locations,
        vec!["/Bericht/Client/StopProducten/StopProduct[2]".to_string()]
    );
}

#[test]
fn stop_on_unknown_toewijzing_gives_9019_and_more() {
    let mut s = snap(vec![], vec![]);
    s.toewijzingen.clear();
    let d = check_307(&m307("307a.xml"), &s);
    assert_eq!(codes(&d), vec![v(&["9019", "9069"])]);
}

#[test]
fn stops_of_another_start_do_not_count() {
    // A definitive stop on an earlier start of the same toewijzing (other Begindatum).
    let d = check_307(
        &m307("307a.xml"),
        &snap(
            vec![start(1, "2025-01-02", true), start(2, "2025-01-08", true)],
            vec![stop(1, "2025-01-02", "23", "2025-06-01", true)],
        ),
    );
    assert_eq!(codes(&d), vec![ok()]);
}

// ---------------------------------------------------------------- 305 rules

#[test]
fn delete_of_start_with_active_stop_gives_9071() {
    let d = check_305(
        &m305("305b.xml"),
        &snap(
            vec![start(1, "2025-01-09", true)],
            vec![stop(1, "2025-01-09", "20", "2025-01-10", true)],
        ),
    );
    // The delete fails; the new start is fine (the old one is stopped, so not current).
    assert_eq!(codes(&d), vec![v(&["9071"]), ok()]);
    let t = &d.products[0][0].text;
    assert!(t.contains("RedenBeeindiging 20"), "{t}");
    assert!(t.contains("Einddatum 2025-01-10"), "{t}");
}

#[test]
fn delete_of_start_with_deleted_stop_is_accepted() {
    let d = check_305(
        &m305("305b.xml"),
        &snap(
            vec![start(1, "2025-01-09", true)],
            vec![stop(1, "2025-01-09", "20", "2025-01-10", false)],
        ),
    );
    assert_eq!(codes(&d), vec![ok(), ok()]);
}

#[test]
fn same_start_twice_gives_9074() {
    let d = check_305(
        &m305("305a.xml"),
        &snap(vec![start(1, "2025-01-09", true)], vec![]),
    );
    assert_eq!(codes(&d), vec![v(&["9074"])]);
    assert_eq!(
        d.products[0][0].locations,
        vec!["/Bericht/Client/StartProducten/StartProduct".to_string()]
    );
}

#[test]
fn resending_a_deleted_start_is_accepted() {
    let d = check_305(
        &m305("305a.xml"),
        &snap(vec![start(1, "2025-01-09", false)], vec![]),
    );
    assert_eq!(codes(&d), vec![ok()]);
}

#[test]
fn second_start_while_one_is_current_gives_9326() {
    let d = check_305(
        &m305("305a.xml"),
        &snap(vec![start(1, "2025-01-08", true)], vec![]),
    );
    assert_eq!(codes(&d), vec![v(&["9326"])]);
    assert!(d.products[0][0].text.contains("Begindatum 2025-01-08"));
}

#[test]
fn several_current_starts_give_one_9326() {
    let d = check_305(
        &m305("305a.xml"),
        &snap(
            vec![start(1, "2025-01-07", true), start(2, "2025-01-08", true)],
            vec![],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9326"])]);
    assert_eq!(d.products[0].len(), 1);
}

#[test]
fn new_start_after_a_stop_is_accepted() {
    for reden in ["20", "23"] {
        let d = check_305(
            &m305("305a.xml"),
            &snap(
                vec![start(1, "2025-01-07", true)],
                vec![stop(1, "2025-01-07", reden, "2025-01-08", true)],
            ),
        );
        assert_eq!(codes(&d), vec![ok()], "reden {reden}");
    }
}

#[test]
fn new_start_after_a_deleted_stop_gives_9326() {
    let d = check_305(
        &m305("305a.xml"),
        &snap(
            vec![start(1, "2025-01-07", true)],
            vec![stop(1, "2025-01-07", "20", "2025-01-08", false)],
        ),
    );
    assert_eq!(codes(&d), vec![v(&["9326"])]);
}

#[test]
fn two_new_starts_for_one_toewijzing_in_one_message_give_9326_on_the_second() {
    let mut m = m305("305a.xml");
    let mut second = m.client.producten[0].clone();
    second.begindatum = date("2025-01-10");
    m.client.producten.push(second);
    let d = check_305(&m, &snap(vec![], vec![]));
    assert_eq!(codes(&d), vec![ok(), v(&["9326"])]);
    assert_eq!(
        d.products[1][0].locations,
        vec!["/Bericht/Client/StartProducten/StartProduct[2]".to_string()]
    );
}

#[test]
fn unknown_toewijzing_gives_9019() {
    let mut s = snap(vec![], vec![]);
    s.toewijzingen.clear();
    let d = check_305(&m305("305a.xml"), &s);
    assert_eq!(codes(&d), vec![v(&["9019"])]);
    let f = &d.products[0][0];
    assert_eq!(f.rule, "TR019");
    assert!(
        f.text
            .contains("toewijzing 40001 is niet bekend bij gemeente 0344 voor aanbieder 87654321"),
        "{}",
        f.text
    );
}

#[test]
fn toewijzing_of_another_gemeente_gives_9019() {
    let mut s = snap(vec![], vec![]);
    s.toewijzingen[0].gemeente = Gemeentecode::parse("0363").unwrap();
    let d = check_305(&m305("305a.xml"), &s);
    assert_eq!(codes(&d), vec![v(&["9019"])]);
}

#[test]
fn deleted_toewijzing_gives_9019() {
    let mut s = snap(vec![], vec![]);
    let mut t = toewijzing_40001();
    t.toewijzingsdatum = date("2025-01-03");
    t.einddatum = Some(t.ingangsdatum);
    t.reden_wijziging = Some(RedenWijziging::Verwijderd);
    // The current (latest) version is the deleted one.
    s.toewijzingen.push(t);
    let d = check_305(&m305("305a.xml"), &s);
    assert_eq!(codes(&d), vec![v(&["9019"])]);
    assert!(d.products[0][0].text.contains("verwijderd"));
}

#[test]
fn shortened_toewijzing_is_still_linked() {
    let mut s = snap(vec![], vec![]);
    s.toewijzingen[0].einddatum = Some(date("2025-04-30"));
    s.toewijzingen[0].reden_wijziging = Some(RedenWijziging::HerbeoordelingVerkorting);
    let d = check_305(&m305("305a.xml"), &s);
    assert_eq!(codes(&d), vec![ok()]);
}

#[test]
fn toewijzing_of_another_aanbieder_gives_9019_without_naming_it() {
    let mut s = snap(vec![], vec![]);
    s.toewijzingen[0].aanbieder = other_agb();
    let d = check_305(&m305("305a.xml"), &s);
    assert_eq!(codes(&d), vec![v(&["9019"])]);
    assert!(!d.products[0][0].text.contains("11112222"));
}

#[test]
fn toewijzing_of_another_client_gives_9019() {
    let mut s = snap(vec![], vec![]);
    s.toewijzingen[0].bsn = Bsn::parse("999990044").unwrap();
    let d = check_305(&m305("305a.xml"), &s);
    assert_eq!(codes(&d), vec![v(&["9019"])]);
    assert!(d.products[0][0].text.contains("andere cliënt"));
}

#[test]
fn delete_is_not_checked_for_9019() {
    let mut s = snap(vec![start(1, "2025-01-09", true)], vec![]);
    s.toewijzingen.clear();
    let d = check_305(&m305("305b.xml"), &s);
    assert_eq!(codes(&d), vec![ok(), v(&["9019"])]);
}

#[test]
fn multiple_codes_on_one_start() {
    let mut s = snap(
        vec![start(1, "2025-01-09", true), start(2, "2025-01-01", true)],
        vec![],
    );
    s.toewijzingen.clear();
    let d = check_305(&m305("305a.xml"), &s);
    assert_eq!(codes(&d), vec![v(&["9019", "9074", "9326"])]);
}

// ---------------------------------------------------------------- scope and taakgericht

#[test]
fn rows_of_other_aanbieders_and_clients_do_not_count() {
    let mut other = start(1, "2025-01-09", true);
    other.aanbieder = other_agb();
    let mut other_client = start(2, "2025-01-08", true);
    other_client.bsn = Bsn::parse("999990044").unwrap();
    let d = check_305(&m305("305a.xml"), &snap(vec![other, other_client], vec![]));
    assert_eq!(codes(&d), vec![ok()]);
}

fn taakgericht(start: &mut StartRow) {
    start.toewijzing_nummer = None;
}

#[test]
fn taakgericht_start_is_not_checked_for_9019_and_uses_the_product() {
    let mut m = m305("305a.xml");
    m.client.producten[0].toewijzing_nummer = None;
    let mut s = snap(vec![], vec![]);
    s.toewijzingen.clear();
    assert_eq!(codes(&check_305(&m, &s)), vec![ok()]);

    // A current taakgericht start of the same product blocks (9326) …
    let mut current = start(1, "2025-01-02", true);
    taakgericht(&mut current);
    s.starts = vec![current.clone()];
    assert_eq!(codes(&check_305(&m, &s)), vec![v(&["9326"])]);

    // … one of another product does not, nor does a toewijzing-based one.
    current.product = Some(Product {
        categorie: ProductCategorie::parse("01").unwrap(),
        code: None,
    });
    s.starts = vec![current, start(2, "2025-01-02", true)];
    assert_eq!(codes(&check_305(&m, &s)), vec![ok()]);
}

#[test]
fn taakgericht_stop_groups_by_product() {
    let mut m = m307("307b.xml");
    m.client.producten[0].toewijzing_nummer = None;
    let mut st = start(1, "2025-01-08", true);
    taakgericht(&mut st);
    let mut other_product_stop = stop(1, "2025-01-08", "23", "2025-03-20", true);
    other_product_stop.toewijzing_nummer = None;
    other_product_stop.product = Some(Product {
        categorie: ProductCategorie::parse("01").unwrap(),
        code: None,
    });
    let mut s = snap(vec![st], vec![other_product_stop.clone()]);
    assert_eq!(codes(&check_307(&m, &s)), vec![ok()]);
    other_product_stop.product = Some(product());
    s.stops = vec![other_product_stop];
    assert_eq!(codes(&check_307(&m, &s)), vec![v(&["9414", "9415"])]);
}

// ---------------------------------------------------------------- the c fixtures

fn toewijzingen_301c() -> Vec<Toewijzing> {
    let mut a = toewijzing_40001();
    a.bsn = Bsn::parse("999990044").unwrap();
    a.toewijzing_nummer = nr(50001);
    a.ingangsdatum = date("2025-06-02");
    let mut b = a.clone();
    b.toewijzing_nummer = nr(50002);
    b.product = Some(Product {
        categorie: ProductCategorie::parse("07").unwrap(),
        code: None,
    });
    vec![a, b]
}

#[test]
fn t305c_and_307c() {
    let bsn_c = Bsn::parse("999990044").unwrap();
    let s = StartStopSnapshot {
        toewijzingen: toewijzingen_301c(),
        starts: vec![],
        stops: vec![],
        ..Default::default()
    };
    assert_eq!(codes(&check_305(&m305("305c.xml"), &s)), vec![ok(), ok()]);

    // 50002 unknown: the finding lands on the second product.
    let mut only_a = s.clone();
    only_a.toewijzingen.truncate(1);
    let d = check_305(&m305("305c.xml"), &only_a);
    assert_eq!(codes(&d), vec![ok(), v(&["9019"])]);
    assert_eq!(
        d.products[1][0].locations,
        vec!["/Bericht/Client/StartProducten/StartProduct[2]".to_string()]
    );
    assert!(d.products[1][0].text.contains("toewijzing 50002"));

    // 307c stops the 50001 start of 305c.
    let start_c = StartRow {
        id: 1,
        aanbieder: agb(),
        bsn: bsn_c,
        toewijzing_nummer: Some(nr(50001)),
        product: Some(product()),
        begindatum: date("2025-06-03"),
        active: true,
    };
    let s307 = StartStopSnapshot {
        starts: vec![start_c.clone()],
        ..s.clone()
    };
    assert_eq!(codes(&check_307(&m307("307c.xml"), &s307)), vec![ok()]);
    // Without the start: 9069.
    assert_eq!(codes(&check_307(&m307("307c.xml"), &s)), vec![v(&["9069"])]);
    // The 305c start after the 307c stop may not be deleted any more.
    let mut del = m305("305c.xml");
    del.client.producten.truncate(1);
    del.client.producten[0].status_aanlevering = StatusAanlevering::VerwijderenAanlevering;
    let stop_c = StopRow {
        id: 1,
        aanbieder: agb(),
        bsn: bsn_c,
        toewijzing_nummer: Some(nr(50001)),
        product: Some(product()),
        begindatum: date("2025-06-03"),
        reden_beeindiging: RedenBeeindiging::parse("23").unwrap(),
        einddatum: date("2025-09-30"),
        active: true,
    };
    let s_after = StartStopSnapshot {
        starts: vec![start_c],
        stops: vec![stop_c],
        ..s
    };
    assert_eq!(codes(&check_305(&del, &s_after)), vec![v(&["9071"])]);
}

#[test]
fn empty_product_list_does_not_panic() {
    let mut m = m305("305a.xml");
    m.client.producten.clear();
    let d = check_305(&m, &snap(vec![], vec![]));
    assert!(d.products.is_empty());
    let mut m = m307("307a.xml");
    m.client.producten.clear();
    let d = check_307(&m, &snap(vec![], vec![]));
    assert!(d.products.is_empty());
}

#[test]
fn status_2_is_ignored_at_level_3() {
    let mut m = m305("305a.xml");
    m.client.producten[0].status_aanlevering = StatusAanlevering::GewijzigdeAanlevering;
    let mut s = snap(vec![start(1, "2025-01-09", true)], vec![]);
    s.toewijzingen.clear();
    assert_eq!(codes(&check_305(&m, &s)), vec![ok()]);
}
