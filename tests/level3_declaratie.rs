//! Level 3/4 rules for WMO323 (iwmo::rules::declaratie) and the start holds
//! (iwmo::rules::holds), on the reference §10 fixtures, the p04 scenario and mutations of them.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveTime};

use iwmo::domain::*;
use iwmo::message::{read, Message, Prestatie, Product, ProductCode, ReadOptions, Wmo323};
use iwmo::rules::decision::{DeclaratieDecision, PrestatieDecision};
use iwmo::rules::declaratie::check_323;
use iwmo::rules::holds::{covering_start, hold_reason};
use iwmo::rules::state::*;

// ---------------------------------------------------------------------------------------------
// Helpers

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared() -> PathBuf {
    std::env::var_os("IWMO_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("..").join("shared"))
}

fn parse(bytes: &[u8]) -> Wmo323 {
    match read(bytes, ReadOptions::default())
        .expect("valid 323")
        .message
    {
        Message::Wmo323(m) => m,
        other => panic!("not a 323: {other:?}"),
    }
}

fn load(path: &Path) -> Wmo323 {
    parse(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn fixture(name: &str) -> Wmo323 {
    load(&root().join("fixtures/valid").join(name))
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn per(b: &str, e: &str) -> Periode {
    Periode {
        begindatum: d(b),
        einddatum: d(e),
    }
}

fn bsn(s: &str) -> Bsn {
    Bsn::parse(s).unwrap()
}

fn agb(s: &str) -> AgbCode {
    AgbCode::parse(s).unwrap()
}

fn gem(s: &str) -> Gemeentecode {
    Gemeentecode::parse(s).unwrap()
}

fn nr(n: u64) -> ToewijzingNummer {
    Nummer::new(n).unwrap()
}

fn code(s: &str) -> ProductCode {
    ProductCode::parse(s).unwrap()
}

const CLIENT: &str = "999990019";
const AANBIEDER: &str = "87654321";
const GEMEENTE: &str = "0344";

/// Toewijzing 40001 from 301a: 02/02A01, 4 uur per week, 2025-01-06 … 2025-12-31.
fn tw40001() -> Toewijzing {
    Toewijzing {
        gemeente: gem(GEMEENTE),
        toewijzing_nummer: nr(40001),
        bsn: bsn(CLIENT),
        aanbieder: agb(AANBIEDER),
        product: Some(Product {
            categorie: ProductCategorie::Begeleiding,
            code: Some(code("02A01")),
        }),
        toewijzingsdatum: d("2024-12-20"),
        toewijzingstijd: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        ingangsdatum: d("2025-01-06"),
        einddatum: Some(d("2025-12-31")),
        reden_wijziging: None,
        volume: Some(4),
        eenheid: Some(Eenheid::Uur),
        frequentie: Some(Frequentie::PerWeek),
        budget: None,
    }
}

fn contract(categorie: ProductCategorie, c: &str, eenheid: Eenheid, tarief: u64) -> Contract {
    Contract {
        aanbieder: agb(AANBIEDER),
        gemeente: gem(GEMEENTE),
        product_categorie: categorie,
        product_code: code(c),
        eenheid,
        tarief,
        ingangsdatum: d("2025-01-01"),
        einddatum: Some(d("2025-12-31")),
    }
}

fn start(id: i64, toewijzing: u64, begin: &str) -> StartRow {
    StartRow {
        id,
        aanbieder: agb(AANBIEDER),
        bsn: bsn(CLIENT),
        toewijzing_nummer: Some(nr(toewijzing)),
        product: Some(Product {
            categorie: ProductCategorie::Begeleiding,
            code: Some(code("02A01")),
        }),
        begindatum: d(begin),
        active: true,
    }
}

fn stop(id: i64, start_begin: &str, reden: RedenBeeindiging, eind: &str) -> StopRow {
    StopRow {
        id,
        aanbieder: agb(AANBIEDER),
        bsn: bsn(CLIENT),
        toewijzing_nummer: Some(nr(40001)),
        product: Some(Product {
            categorie: ProductCategorie::Begeleiding,
            code: Some(code("02A01")),
        }),
        begindatum: d(start_begin),
        reden_beeindiging: reden,
        einddatum: d(eind),
        active: true,
    }
}

/// An approved debit of 40001, 02A01, `uren` × 6850.
fn debit(id: i64, referentie: &str, periode: Periode, uren: u64) -> EarlierPrestatie {
    EarlierPrestatie {
        id,
        aanbieder: agb(AANBIEDER),
        referentie_nummer: referentie.into(),
        vorig_referentie_nummer: None,
        bsn: bsn(CLIENT),
        toewijzing_nummer: nr(40001),
        product_categorie: ProductCategorie::Begeleiding,
        product_code: code("02A01"),
        product_periode: periode,
        geleverd_volume: uren,
        eenheid: Eenheid::Uur,
        bedrag: (uren * 6850) as i64,
        debet_credit: DebetCredit::Debet,
        approved: true,
        gecrediteerd_door: None,
    }
}

/// PR2501000001 as approved by 325a.
fn pr2501000001() -> EarlierPrestatie {
    debit(1, "PR2501000001", per("2025-01-06", "2025-01-31"), 14)
}

/// The state after 301a, 305b and 325a: toewijzing 40001, the contract, a start on 2025-01-08.
fn base_snapshot() -> DeclaratieSnapshot {
    DeclaratieSnapshot {
        toewijzingen: vec![tw40001()],
        contracts: vec![contract(
            ProductCategorie::Begeleiding,
            "02A01",
            Eenheid::Uur,
            6850,
        )],
        starts: vec![start(1, 40001, "2025-01-08")],
        ..Default::default()
    }
}

fn codes(p: &PrestatieDecision) -> Vec<&str> {
    p.findings.iter().map(|f| f.code.code()).collect()
}

fn rules(p: &PrestatieDecision) -> Vec<&str> {
    p.findings.iter().map(|f| f.rule.as_str()).collect()
}

fn has(p: &PrestatieDecision, code: &str) -> bool {
    codes(p).contains(&code)
}

/// Σ signed IngediendBedrag of the approved Prestaties (what the 325 calls TotaalToegekend).
fn toegekend(m: &Wmo323, dec: &DeclaratieDecision) -> i64 {
    if !dec.declaratie.is_empty() {
        return 0;
    }
    m.declaratie
        .clienten
        .iter()
        .zip(&dec.prestaties)
        .flat_map(|(c, ds)| c.prestaties.iter().zip(ds))
        .filter(|(_, d)| d.approved())
        .map(|(p, _)| p.ingediend_bedrag.signed())
        .sum()
}

fn set_uren(p: &mut Prestatie, uren: u64) {
    p.geleverd_volume = Volume::new(uren).unwrap();
    p.ingediend_bedrag.bedrag = Bedrag::new(uren * 6850).unwrap();
}

/// 323a with its one Prestatie changed by `pm`, checked against the base snapshot changed by
/// `sm`.
fn one(
    pm: impl FnOnce(&mut Prestatie),
    sm: impl FnOnce(&mut DeclaratieSnapshot),
) -> PrestatieDecision {
    let mut m = fixture("323a.xml");
    pm(&mut m.declaratie.clienten[0].prestaties[0]);
    let mut snap = base_snapshot();
    sm(&mut snap);
    let dec = check_323(&m, &snap);
    assert!(dec.header.is_empty() && dec.declaratie.is_empty());
    dec.prestaties[0][0].clone()
}

fn no_bsn_anywhere(dec: &DeclaratieDecision, bsns: &[&str]) {
    let text = serde_json::to_string(dec).unwrap();
    for b in bsns {
        assert!(!text.contains(b), "BSN {b} in decision text: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Reference §10

#[test]
fn ref_323a_all_approved_with_a_covering_start() {
    let m = fixture("323a.xml");
    let dec = check_323(&m, &base_snapshot());
    assert!(dec.header.is_empty() && dec.declaratie.is_empty());
    assert_eq!(dec.prestaties.len(), 1);
    assert_eq!(dec.prestaties[0].len(), 1);
    let p = &dec.prestaties[0][0];
    assert!(p.approved(), "{:?}", p.findings);
    assert!(p.hold.is_none());
    assert!(p.signals.is_empty());
    assert_eq!(toegekend(&m, &dec), 95900);
}

#[test]
fn ref_323b_credit_and_corrected_debit_approved_february_9321() {
    let m = fixture("323b.xml");
    let mut snap = base_snapshot();
    snap.earlier.push(pr2501000001());
    snap.laatste_declaratie_periode = Some(per("2025-01-01", "2025-01-31"));
    let dec = check_323(&m, &snap);
    assert!(dec.declaratie.is_empty());
    let ps = &dec.prestaties[0];
    assert_eq!(ps.len(), 3);
    assert!(ps[0].approved(), "credit: {:?}", ps[0].findings);
    assert!(ps[1].approved(), "corrected debit: {:?}", ps[1].findings);
    assert_eq!(codes(&ps[2]), vec!["9321"]);
    let text = &ps[2].findings[0].text;
    assert!(text.contains("5 ISO-weken × 4 uur per week"), "{text}");
    assert!(text.contains("maximaal 20 uur"), "{text}");
    assert_eq!(
        ps[2].findings[0].locations,
        vec!["/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[3]".to_string()]
    );
    // Credits are never held; the approved debit is covered by the start.
    assert!(ps.iter().all(|p| p.hold.is_none()));
    assert_eq!(toegekend(&m, &dec), -13700);
    no_bsn_anywhere(&dec, &[CLIENT]);
}

#[test]
fn credits_are_processed_before_debits_whatever_the_message_order() {
    // 323b with the corrected debit before the credit: OP366 still lets the debit through.
    let mut m = fixture("323b.xml");
    m.declaratie.clienten[0].prestaties.swap(0, 1);
    let mut snap = base_snapshot();
    snap.earlier.push(pr2501000001());
    let dec = check_323(&m, &snap);
    let ps = &dec.prestaties[0];
    assert!(
        ps[0].approved(),
        "debit first in message: {:?}",
        ps[0].findings
    );
    assert!(ps[1].approved(), "credit: {:?}", ps[1].findings);
    assert_eq!(codes(&ps[2]), vec!["9321"]);

    // Without the credit the corrected debit collides with PR2501000001 (TR389).
    let mut m2 = fixture("323b.xml");
    m2.declaratie.clienten[0].prestaties.remove(0);
    let dec = check_323(&m2, &snap);
    let text = &dec.prestaties[0][0].findings[0].text;
    assert_eq!(codes(&dec.prestaties[0][0]), vec!["9389"]);
    assert!(text.contains("PR2501000001"), "{text}");
}

#[test]
fn ref_323c_all_approved() {
    let m = fixture("323c.xml");
    let mut tw40002 = tw40001();
    tw40002.toewijzing_nummer = nr(40002);
    tw40002.product = Some(Product {
        categorie: ProductCategorie::HulpBijHetHuishouden,
        code: Some(code("01A02")),
    });
    tw40002.ingangsdatum = d("2025-05-01");
    tw40002.einddatum = Some(d("2026-04-30"));
    tw40002.volume = Some(20000);
    tw40002.eenheid = Some(Eenheid::Euro);
    tw40002.frequentie = Some(Frequentie::PerMaand);
    let mut tw50001 = tw40001();
    tw50001.toewijzing_nummer = nr(50001);
    tw50001.bsn = bsn("999990044");
    tw50001.ingangsdatum = d("2025-06-02");
    tw50001.volume = Some(3);
    let mut tw50002 = tw50001.clone();
    tw50002.toewijzing_nummer = nr(50002);
    tw50002.product = Some(Product {
        categorie: ProductCategorie::Dagbesteding,
        code: None,
    });
    tw50002.volume = None;
    tw50002.eenheid = None;
    tw50002.frequentie = None;
    tw50002.budget = Some(250000);
    let mut may = debit(7, "PR2506000050", per("2025-05-01", "2025-05-31"), 0);
    may.toewijzing_nummer = nr(40002);
    may.product_categorie = ProductCategorie::HulpBijHetHuishouden;
    may.product_code = code("01A02");
    may.geleverd_volume = 20000;
    may.eenheid = Eenheid::Euro;
    may.bedrag = 20000;
    let mut starts = vec![start(1, 40002, "2025-05-01")];
    let mut s2 = start(2, 50001, "2025-06-03");
    s2.bsn = bsn("999990044");
    let mut s3 = start(3, 50002, "2025-06-05");
    s3.bsn = bsn("999990044");
    starts.extend([s2, s3]);
    let snap = DeclaratieSnapshot {
        toewijzingen: vec![tw40002, tw50001, tw50002],
        earlier: vec![may],
        contracts: vec![
            contract(
                ProductCategorie::HulpBijHetHuishouden,
                "01A02",
                Eenheid::Euro,
                20000,
            ),
            contract(ProductCategorie::Begeleiding, "02A01", Eenheid::Uur, 6850),
            contract(
                ProductCategorie::Dagbesteding,
                "07A03",
                Eenheid::Dagdeel,
                5200,
            ),
        ],
        starts,
        product_codes: vec![
            (ProductCategorie::HulpBijHetHuishouden, code("01A02")),
            (ProductCategorie::Begeleiding, code("02A01")),
            (ProductCategorie::Dagbesteding, code("07A03")),
        ],
        ..Default::default()
    };
    let dec = check_323(&m, &snap);
    for (ci, ps) in dec.prestaties.iter().enumerate() {
        for (pi, p) in ps.iter().enumerate() {
            assert!(p.approved(), "client {ci} prestatie {pi}: {:?}", p.findings);
            assert!(p.hold.is_none(), "client {ci} prestatie {pi}");
        }
    }
    assert_eq!(toegekend(&m, &dec), 131950);

    // A budget that the aspecific line exceeds (Σ IngediendBedrag > Budget) gives 9369, and the
    // location names the second client and its second Prestatie.
    let mut snap2 = snap.clone();
    snap2.toewijzingen[2].budget = Some(40000);
    let dec = check_323(&m, &snap2);
    let p = &dec.prestaties[1][1];
    assert_eq!(codes(p), vec!["9369"]);
    assert_eq!(
        p.findings[0].locations,
        vec!["/Bericht/Declaratie/Clienten/Client[2]/Prestaties/Prestatie[2]".to_string()]
    );
    assert!(
        p.findings[0].text.contains("Budget € 400,00"),
        "{}",
        p.findings[0].text
    );
    no_bsn_anywhere(&dec, &["999990019", "999990044"]);
}

#[test]
fn scenario_p04_partly_rejected_on_the_contract_tariff() {
    let dir = shared().join("scenarios/p04-declaration-partly-rejected");
    let m = load(&dir.join("05-323.xml"));
    let aanbieder = agb("11223344");
    let gemeente = gem("0363");
    let tw = |n: u64, b: &str| Toewijzing {
        gemeente,
        toewijzing_nummer: nr(n),
        bsn: bsn(b),
        aanbieder,
        product: Some(Product {
            categorie: ProductCategorie::Dagbesteding,
            code: Some(code("07A03")),
        }),
        toewijzingsdatum: d("2025-02-20"),
        toewijzingstijd: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        ingangsdatum: d("2025-03-01"),
        einddatum: Some(d("2025-08-31")),
        reden_wijziging: None,
        volume: Some(3),
        eenheid: Some(Eenheid::Dagdeel),
        frequentie: Some(Frequentie::PerWeek),
        budget: None,
    };
    let st = |id: i64, n: u64, b: &str| StartRow {
        id,
        aanbieder,
        bsn: bsn(b),
        toewijzing_nummer: Some(nr(n)),
        product: None,
        begindatum: d("2025-03-03"),
        active: true,
    };
    let snap = DeclaratieSnapshot {
        toewijzingen: vec![tw(7001, "999993653"), tw(7002, "999900006")],
        contracts: vec![Contract {
            aanbieder,
            gemeente,
            product_categorie: ProductCategorie::Dagbesteding,
            product_code: code("07A03"),
            eenheid: Eenheid::Dagdeel,
            tarief: 5120,
            ingangsdatum: d("2025-01-01"),
            einddatum: Some(d("2025-12-31")),
        }],
        starts: vec![st(1, 7001, "999993653"), st(2, 7002, "999900006")],
        ..Default::default()
    };
    let dec = check_323(&m, &snap);
    assert!(
        dec.prestaties[0][0].approved(),
        "{:?}",
        dec.prestaties[0][0].findings
    );
    let p2 = &dec.prestaties[1][0];
    assert_eq!(codes(p2), vec!["0611"]);
    assert!(p2.findings[0]
        .text
        .contains("ProductTarief 5200, contracttarief 5120"));
    assert_eq!(toegekend(&m, &dec), 61440);
    no_bsn_anywhere(&dec, &["999993653", "999900006"]);
}

// ---------------------------------------------------------------------------------------------
// Declaration level

#[test]
fn declaratie_nummer_used_before_rejects_everything_9333() {
    let m = fixture("323a.xml");
    let mut snap = base_snapshot();
    snap.declaratie_nummer_gebruikt = true;
    let dec = check_323(&m, &snap);
    assert_eq!(dec.declaratie.len(), 1);
    assert_eq!(dec.declaratie[0].code.code(), "9333");
    assert!(dec.declaratie[0].text.contains("DCL202501001"));
    assert!(dec.header.is_empty());
    assert!(dec
        .prestaties
        .iter()
        .flatten()
        .all(|p| p.findings.is_empty() && p.hold.is_none() && p.signals.is_empty()));
    assert_eq!(toegekend(&m, &dec), 0);
}

#[test]
fn declaratie_periode_before_the_last_one_8214_same_period_allowed() {
    let m = fixture("323a.xml");
    let mut snap = base_snapshot();
    snap.laatste_declaratie_periode = Some(per("2025-02-01", "2025-02-28"));
    let dec = check_323(&m, &snap);
    let c: Vec<&str> = dec.declaratie.iter().map(|f| f.code.code()).collect();
    assert_eq!(c, vec!["8214"]);
    assert!(dec.declaratie[0].text.contains("2025-02-01"));

    // IV090: the same period again is allowed.
    snap.laatste_declaratie_periode = Some(per("2025-01-01", "2025-01-31"));
    let dec = check_323(&m, &snap);
    assert!(dec.declaratie.is_empty());
    assert!(dec.prestaties[0][0].approved());

    // Both declaration-level codes together.
    snap.laatste_declaratie_periode = Some(per("2025-03-01", "2025-03-31"));
    snap.declaratie_nummer_gebruikt = true;
    let dec = check_323(&m, &snap);
    let c: Vec<&str> = dec.declaratie.iter().map(|f| f.code.code()).collect();
    assert_eq!(c, vec!["9333", "8214"]);
}

// ---------------------------------------------------------------------------------------------
// Toewijzing link and product

#[test]
fn unknown_toewijzing_9338_skips_toewijzing_checks() {
    let p = one(|p| p.toewijzing_nummer = nr(40009), |_| {});
    assert_eq!(codes(&p), vec!["9338"]);
    assert!(p.findings[0].text.contains("40009"));

    // A toewijzing of another aanbieder or another gemeente does not count.
    let p = one(|_| {}, |s| s.toewijzingen[0].aanbieder = agb("11112222"));
    assert_eq!(codes(&p), vec!["9338"]);
    let p = one(|_| {}, |s| s.toewijzingen[0].gemeente = gem("0363"));
    assert_eq!(codes(&p), vec!["9338"]);
}

#[test]
fn toewijzing_of_another_client_8187() {
    let p = one(|_| {}, |s| s.toewijzingen[0].bsn = bsn("999990032"));
    assert_eq!(codes(&p), vec!["8187"]);
    assert!(!p.findings[0].text.contains("999990032"));
}

#[test]
fn deleted_toewijzing_9384() {
    let p = one(
        |_| {},
        |s| {
            let t = &mut s.toewijzingen[0];
            t.reden_wijziging = Some(RedenWijziging::Verwijderd);
            t.einddatum = Some(t.ingangsdatum);
        },
    );
    assert!(has(&p, "9384"), "{:?}", codes(&p));
}

#[test]
fn latest_toewijzing_version_counts() {
    // An older version without the shortening, a newer one shortened to 2025-01-20.
    let p = one(
        |_| {},
        |s| {
            let mut newer = tw40001();
            newer.toewijzingsdatum = d("2025-01-10");
            newer.einddatum = Some(d("2025-01-20"));
            newer.reden_wijziging = Some(RedenWijziging::HerbeoordelingVerkorting);
            s.toewijzingen.insert(0, newer);
        },
    );
    assert!(has(&p, "9308"), "{:?}", codes(&p));
}

#[test]
fn categorie_and_code_9339_9340() {
    let p = one(
        |p| p.product_categorie = ProductCategorie::PersoonlijkeVerzorging,
        |s| {
            s.contracts.push(contract(
                ProductCategorie::PersoonlijkeVerzorging,
                "02A01",
                Eenheid::Uur,
                6850,
            ))
        },
    );
    assert!(has(&p, "9339"), "{:?}", codes(&p));
    assert!(p.findings[0]
        .text
        .contains("ProductCategorie 03, toegewezen ProductCategorie 02"));

    let p = one(
        |p| p.product_code = code("02A02"),
        |s| {
            s.contracts.push(contract(
                ProductCategorie::Begeleiding,
                "02A02",
                Eenheid::Uur,
                6850,
            ))
        },
    );
    assert_eq!(codes(&p), vec!["9340"]);

    // Aspecific toewijzing: any code of the category.
    let p = one(
        |p| p.product_code = code("02A02"),
        |s| {
            s.toewijzingen[0].product.as_mut().unwrap().code = None;
            s.contracts.push(contract(
                ProductCategorie::Begeleiding,
                "02A02",
                Eenheid::Uur,
                6850,
            ));
        },
    );
    assert!(p.approved(), "{:?}", codes(&p));

    // Generic (budget, no product): any category and code.
    let p = one(
        |p| {
            p.product_categorie = ProductCategorie::PersoonlijkeVerzorging;
            p.product_code = code("03A01");
        },
        |s| {
            let t = &mut s.toewijzingen[0];
            t.product = None;
            t.volume = None;
            t.eenheid = None;
            t.frequentie = None;
            t.budget = Some(1_000_000);
            s.contracts.push(contract(
                ProductCategorie::PersoonlijkeVerzorging,
                "03A01",
                Eenheid::Uur,
                6850,
            ));
        },
    );
    assert!(p.approved(), "{:?}", codes(&p));
}

#[test]
fn eenheid_9341_and_minutes_for_hours() {
    let p = one(
        |p| p.eenheid = Eenheid::Dagdeel,
        |s| {
            s.contracts.push(contract(
                ProductCategorie::Begeleiding,
                "02A01",
                Eenheid::Dagdeel,
                6850,
            ))
        },
    );
    assert_eq!(codes(&p), vec!["9341"]);

    // 840 minutes = 14 hours, per-minute tariff round(6850 / 60) = 114, amount
    // round_half_up(6850 × 840 / 60) = 95900 (IV081): approved.
    let p = one(
        |p| {
            p.eenheid = Eenheid::Minuut;
            p.geleverd_volume = Volume::new(840).unwrap();
            p.product_tarief = Some(Bedrag::new(114).unwrap());
        },
        |_| {},
    );
    assert!(p.approved(), "{:?}", p.findings);

    // 961 minutes > 16 hours (960 minutes) in January.
    let p = one(
        |p| {
            p.eenheid = Eenheid::Minuut;
            p.geleverd_volume = Volume::new(961).unwrap();
            p.product_tarief = Some(Bedrag::new(114).unwrap());
            p.ingediend_bedrag.bedrag = Bedrag::new(961 * 114).unwrap();
        },
        |_| {},
    );
    assert_eq!(codes(&p), vec!["9321"]);
    assert!(
        p.findings[0].text.contains("960 minuten"),
        "{}",
        p.findings[0].text
    );

    // A per-minute tariff that is not the rounded hourly tariff: 0611.
    let p = one(
        |p| {
            p.eenheid = Eenheid::Minuut;
            p.geleverd_volume = Volume::new(840).unwrap();
            p.product_tarief = Some(Bedrag::new(115).unwrap());
            p.ingediend_bedrag.bedrag = Bedrag::new(840 * 115).unwrap();
        },
        |_| {},
    );
    assert_eq!(codes(&p), vec!["0611"]);
    assert!(p.findings[0]
        .text
        .contains("ProductTarief 115, contracttarief 114"));

    // No Omvang in the toewijzing: the unit is not checked.
    let p = one(
        |p| p.eenheid = Eenheid::Dagdeel,
        |s| {
            let t = &mut s.toewijzingen[0];
            t.product.as_mut().unwrap().code = None;
            t.volume = None;
            t.eenheid = None;
            t.frequentie = None;
            s.contracts.push(contract(
                ProductCategorie::Begeleiding,
                "02A01",
                Eenheid::Dagdeel,
                6850,
            ));
        },
    );
    assert!(p.approved(), "{:?}", codes(&p));
}

// ---------------------------------------------------------------------------------------------
// Periods

#[test]
fn period_outside_the_toewijzing_9307_9308() {
    let p = one(|_| {}, |s| s.toewijzingen[0].ingangsdatum = d("2025-01-15"));
    assert!(has(&p, "9307"));
    let f = p.findings.iter().find(|f| f.code.code() == "9307").unwrap();
    assert!(
        f.text
            .contains("Prestatie begint 2025-01-06, toewijzing 40001 begint pas 2025-01-15"),
        "{}",
        f.text
    );

    let p = one(
        |_| {},
        |s| s.toewijzingen[0].einddatum = Some(d("2025-01-20")),
    );
    assert!(has(&p, "9308"), "{:?}", codes(&p));
    assert!(!has(&p, "9307"));
}

#[test]
fn period_month_alignment_9387_9388() {
    let p = one(
        |p| {
            p.product_periode = per("2025-01-07", "2025-01-30");
        },
        |_| {},
    );
    assert_eq!(codes(&p), vec!["9387", "9388"]);

    // Ending on the toewijzing's Einddatum mid-month is fine.
    let p = one(
        |p| {
            p.product_periode = per("2025-01-06", "2025-01-20");
            set_uren(p, 12); // 3 ISO weeks
        },
        |s| s.toewijzingen[0].einddatum = Some(d("2025-01-20")),
    );
    assert!(p.approved(), "{:?}", codes(&p));

    // A full month starting on the 1st while the toewijzing starts earlier: fine.
    let p = one(
        |p| p.product_periode = per("2025-01-01", "2025-01-31"),
        |s| s.toewijzingen[0].ingangsdatum = d("2024-12-01"),
    );
    assert!(p.approved(), "{:?}", codes(&p));
}

// ---------------------------------------------------------------------------------------------
// Volumes, budget, amounts, tariffs

#[test]
fn volume_per_period_9321_variants() {
    // 4 ISO weeks × 4 h = 16 h in January from the 6th.
    let p = one(|p| set_uren(p, 16), |_| {});
    assert!(p.approved(), "{:?}", codes(&p));
    let p = one(|p| set_uren(p, 17), |_| {});
    assert_eq!(codes(&p), vec!["9321"]);

    // Per maand: Volume, also for a partial month.
    let p = one(
        |p| set_uren(p, 16),
        |s| s.toewijzingen[0].frequentie = Some(Frequentie::PerMaand),
    );
    assert_eq!(codes(&p), vec!["9321"]);
    let p = one(
        |p| set_uren(p, 4),
        |s| s.toewijzingen[0].frequentie = Some(Frequentie::PerMaand),
    );
    assert!(p.approved(), "{:?}", codes(&p));

    // Per dag: 26 days × 1 h.
    let per_dag = |s: &mut DeclaratieSnapshot| {
        s.toewijzingen[0].frequentie = Some(Frequentie::PerDag);
        s.toewijzingen[0].volume = Some(1);
    };
    assert!(one(|p| set_uren(p, 26), per_dag).approved());
    assert_eq!(codes(&one(|p| set_uren(p, 27), per_dag)), vec!["9321"]);

    // Totaal: no per-period limit (only TR322).
    let totaal = |s: &mut DeclaratieSnapshot| {
        s.toewijzingen[0].frequentie = Some(Frequentie::TotaalBinnenGeldigheidsduur);
        s.toewijzingen[0].volume = Some(100);
    };
    assert!(one(|p| set_uren(p, 90), totaal).approved());

    // HbH (categorie 01) per week: always 6 × Volume.
    let hbh = |p: &mut Prestatie| {
        p.product_categorie = ProductCategorie::HulpBijHetHuishouden;
        p.product_code = code("01A01");
    };
    let hbh_snap = |s: &mut DeclaratieSnapshot| {
        s.toewijzingen[0].product = Some(Product {
            categorie: ProductCategorie::HulpBijHetHuishouden,
            code: Some(code("01A01")),
        });
        s.contracts.push(contract(
            ProductCategorie::HulpBijHetHuishouden,
            "01A01",
            Eenheid::Uur,
            6850,
        ));
    };
    let p = one(
        |p| {
            hbh(p);
            set_uren(p, 24)
        },
        hbh_snap,
    );
    assert!(p.approved(), "{:?}", p.findings);
    let p = one(
        |p| {
            hbh(p);
            set_uren(p, 25)
        },
        hbh_snap,
    );
    assert_eq!(codes(&p), vec!["9321"]);
}

#[test]
fn cumulative_volume_9322_counts_credits_and_earlier_lines() {
    // 20 h in total over the toewijzing; 10 h approved before, 14 h now → 24 > 20.
    let totaal = |s: &mut DeclaratieSnapshot| {
        s.toewijzingen[0].frequentie = Some(Frequentie::TotaalBinnenGeldigheidsduur);
        s.toewijzingen[0].volume = Some(20);
        s.earlier
            .push(debit(5, "PR2412", per("2025-02-01", "2025-02-28"), 10));
    };
    let p = one(|_| {}, totaal);
    assert_eq!(codes(&p), vec!["9322"]);
    assert!(
        p.findings[0].text.contains("1440 minuten"),
        "{}",
        p.findings[0].text
    );

    // A rejected earlier line does not count; a credited one is cancelled by its credit.
    let p = one(
        |_| {},
        |s| {
            totaal(s);
            s.earlier[0].approved = false;
        },
    );
    assert!(p.approved(), "{:?}", codes(&p));
    let p = one(
        |_| {},
        |s| {
            totaal(s);
            s.earlier[0].gecrediteerd_door = Some("PR2413".into());
            let mut c = debit(6, "PR2413", per("2025-02-01", "2025-02-28"), 10);
            c.vorig_referentie_nummer = Some("PR2412".into());
            c.debet_credit = DebetCredit::Credit;
            c.bedrag = -68500;
            s.earlier.push(c);
        },
    );
    assert!(p.approved(), "{:?}", codes(&p));

    // Per week over the whole toewijzing: 52 ISO weeks × 4 h = 208 h.
    let p = one(
        |_| {},
        |s| {
            s.earlier
                .push(debit(5, "PR-X", per("2025-02-01", "2025-02-28"), 195));
        },
    );
    assert_eq!(codes(&p), vec!["9322"]);
    assert!(
        p.findings[0].text.contains("52 ISO-weken"),
        "{}",
        p.findings[0].text
    );
    // Open-ended per-week toewijzing: no TR322.
    let p = one(
        |_| {},
        |s| {
            s.toewijzingen[0].einddatum = None;
            s.earlier
                .push(debit(5, "PR-X", per("2025-02-01", "2025-02-28"), 195));
        },
    );
    assert!(p.approved(), "{:?}", codes(&p));
}

#[test]
fn budget_9369() {
    let budget = |s: &mut DeclaratieSnapshot| {
        let t = &mut s.toewijzingen[0];
        t.product.as_mut().unwrap().code = None;
        t.volume = None;
        t.eenheid = None;
        t.frequentie = None;
        t.budget = Some(100_000);
        s.earlier
            .push(debit(5, "PR-B1", per("2025-02-01", "2025-02-28"), 2));
    };
    // 13700 + 95900 = 109600 > 100000.
    let p = one(|_| {}, budget);
    assert_eq!(codes(&p), vec!["9369"]);
    assert!(
        p.findings[0].text.contains("€ 1.096,00"),
        "{}",
        p.findings[0].text
    );
    assert!(p.findings[0].text.contains("Budget € 1.000,00"));
    let p = one(|p| set_uren(p, 12), budget);
    assert!(p.approved(), "{:?}", codes(&p));
}

#[test]
fn amount_9346_and_tariff_0611() {
    let p = one(
        |p| p.ingediend_bedrag.bedrag = Bedrag::new(95000).unwrap(),
        |_| {},
    );
    assert_eq!(codes(&p), vec!["9346"]);
    assert!(
        p.findings[0].text.contains("€ 950,00"),
        "{}",
        p.findings[0].text
    );
    assert!(p.findings[0].text.contains("€ 959,00"));

    let p = one(
        |p| {
            p.product_tarief = Some(Bedrag::new(6900).unwrap());
            p.ingediend_bedrag.bedrag = Bedrag::new(14 * 6900).unwrap();
        },
        |_| {},
    );
    assert_eq!(codes(&p), vec!["0611"]);
    assert!(p.findings[0]
        .text
        .contains("ProductTarief 6900, contracttarief 6850"));

    // No contract at all, or none valid on the Begindatum.
    assert_eq!(codes(&one(|_| {}, |s| s.contracts.clear())), vec!["0611"]);
    assert_eq!(
        codes(&one(
            |_| {},
            |s| s.contracts[0].ingangsdatum = d("2025-02-01")
        )),
        vec!["0611"]
    );
    // A contract of another aanbieder does not count.
    assert_eq!(
        codes(&one(|_| {}, |s| s.contracts[0].aanbieder = agb("11112222"))),
        vec!["0611"]
    );
}

#[test]
fn euro_lines_need_a_euro_contract_0611() {
    let euro = |p: &mut Prestatie| {
        p.eenheid = Eenheid::Euro;
        p.product_tarief = None;
        p.geleverd_volume = Volume::new(20000).unwrap();
        p.ingediend_bedrag.bedrag = Bedrag::new(20000).unwrap();
    };
    let euro_tw = |s: &mut DeclaratieSnapshot| {
        let t = &mut s.toewijzingen[0];
        t.volume = Some(20000);
        t.eenheid = Some(Eenheid::Euro);
        t.frequentie = Some(Frequentie::PerMaand);
    };
    // Only an hourly contract for the product: 0611.
    let p = one(euro, euro_tw);
    assert_eq!(codes(&p), vec!["0611"]);
    // With a euro contract: approved (no tariff comparison).
    let p = one(euro, |s| {
        euro_tw(s);
        s.contracts.push(contract(
            ProductCategorie::Begeleiding,
            "02A01",
            Eenheid::Euro,
            1,
        ));
    });
    assert!(p.approved(), "{:?}", codes(&p));
}

#[test]
fn product_code_list_s329() {
    let p = one(
        |_| {},
        |s| s.product_codes = vec![(ProductCategorie::Begeleiding, code("02A02"))],
    );
    assert_eq!(codes(&p), vec!["S329"]);
    let p = one(
        |_| {},
        |s| s.product_codes = vec![(ProductCategorie::Begeleiding, code("02A01"))],
    );
    assert!(p.approved());
}

// ---------------------------------------------------------------------------------------------
// References, credits, debits

#[test]
fn referentie_nummer_used_before_8021() {
    // An earlier rejected line with the same number counts too.
    let p = one(
        |_| {},
        |s| {
            let mut e = pr2501000001();
            e.approved = false;
            s.earlier.push(e);
        },
    );
    assert_eq!(codes(&p), vec!["8021"]);
    assert!(p.findings[0].text.contains("PR2501000001"));

    // Another aanbieder's number does not count.
    let p = one(
        |_| {},
        |s| {
            let mut e = pr2501000001();
            e.aanbieder = agb("11112222");
            e.approved = false;
            s.earlier.push(e);
        },
    );
    assert!(p.approved(), "{:?}", codes(&p));

    // Twice in one message: the later line (in processing order) gets 8021.
    let mut m = fixture("323b.xml");
    m.declaratie.clienten[0].prestaties[2]
        .product_referentie
        .referentie_nummer = "PR2502000002".into();
    set_uren(&mut m.declaratie.clienten[0].prestaties[2], 10);
    let mut snap = base_snapshot();
    snap.earlier.push(pr2501000001());
    let dec = check_323(&m, &snap);
    assert!(dec.prestaties[0][1].approved());
    assert_eq!(codes(&dec.prestaties[0][2]), vec!["8021"]);
}

#[test]
fn credits_8017_and_9390() {
    let m = fixture("323b.xml");
    // No earlier debit: 8017 on the credit; the corrected debit is then approved (nothing to
    // collide with).
    let dec = check_323(&m, &base_snapshot());
    assert_eq!(codes(&dec.prestaties[0][0]), vec!["8017"]);
    assert!(dec.prestaties[0][0].hold.is_none());
    assert!(dec.prestaties[0][1].approved());

    // A rejected debit cannot be credited.
    let mut snap = base_snapshot();
    let mut e = pr2501000001();
    e.approved = false;
    snap.earlier.push(e);
    let dec = check_323(&m, &snap);
    assert_eq!(codes(&dec.prestaties[0][0]), vec!["8017"]);

    // Already credited: 9390 on the credit, and the corrected debit is not blocked by it.
    let mut snap = base_snapshot();
    let mut e = pr2501000001();
    e.gecrediteerd_door = Some("PR2501000099".into());
    snap.earlier.push(e);
    let dec = check_323(&m, &snap);
    assert_eq!(codes(&dec.prestaties[0][0]), vec!["9390"]);
    assert!(dec.prestaties[0][0].findings[0]
        .text
        .contains("PR2501000099"));
    assert!(dec.prestaties[0][1].approved());

    // Two credits of the same debit in one message: the second gets 9390.
    let mut m2 = fixture("323b.xml");
    let mut second = m2.declaratie.clienten[0].prestaties[0].clone();
    second.product_referentie.referentie_nummer = "PR2502000009".into();
    m2.declaratie.clienten[0].prestaties.insert(1, second);
    let mut snap = base_snapshot();
    snap.earlier.push(pr2501000001());
    let dec = check_323(&m2, &snap);
    assert!(dec.prestaties[0][0].approved());
    assert_eq!(codes(&dec.prestaties[0][1]), vec!["9390"]);
}

#[test]
fn second_debit_for_the_same_period_9389() {
    // PR2501000001 approved and not credited; a new debit for January with a new number.
    let p = one(
        |p| p.product_referentie.referentie_nummer = "PR2502000077".into(),
        |s| s.earlier.push(pr2501000001()),
    );
    assert_eq!(codes(&p), vec!["9389"]);
    // Credited before: allowed.
    let p = one(
        |p| p.product_referentie.referentie_nummer = "PR2502000077".into(),
        |s| {
            let mut e = pr2501000001();
            e.gecrediteerd_door = Some("PR2502000001".into());
            s.earlier.push(e);
        },
    );
    assert!(p.approved(), "{:?}", codes(&p));
    // Another code (aspecific toewijzing) is another line.
    let p = one(
        |p| {
            p.product_referentie.referentie_nummer = "PR2502000077".into();
            p.product_code = code("02A02");
        },
        |s| {
            s.earlier.push(pr2501000001());
            s.toewijzingen[0].product.as_mut().unwrap().code = None;
            s.contracts.push(contract(
                ProductCategorie::Begeleiding,
                "02A02",
                Eenheid::Uur,
                6850,
            ));
        },
    );
    assert!(!has(&p, "9389"), "{:?}", codes(&p));

    // A debit approved earlier in the same message counts.
    let mut m = fixture("323a.xml");
    let mut again = m.declaratie.clienten[0].prestaties[0].clone();
    again.product_referentie.referentie_nummer = "PR2501000002".into();
    m.declaratie.clienten[0].prestaties.push(again);
    let dec = check_323(&m, &base_snapshot());
    assert!(dec.prestaties[0][0].approved());
    assert_eq!(codes(&dec.prestaties[0][1]), vec!["9389"]);
    assert!(dec.prestaties[0][1].findings[0].locations[0].ends_with("Prestatie[2]"));
}

#[test]
fn all_applicable_codes_are_collected_once() {
    let p = one(
        |p| {
            p.toewijzing_nummer = nr(40001);
            p.product_periode = per("2025-01-07", "2025-01-30");
            p.ingediend_bedrag.bedrag = Bedrag::new(1).unwrap();
            p.product_tarief = Some(Bedrag::new(6900).unwrap());
        },
        |s| {
            s.toewijzingen[0].bsn = bsn("999990032");
            s.earlier.push({
                let mut e = pr2501000001();
                e.approved = false;
                e
            });
        },
    );
    let mut r = rules(&p);
    r.sort();
    assert_eq!(
        r,
        vec!["TR304", "TR314", "TR346", "TR387", "TR388", "TR418"]
    );
    assert!(p.hold.is_none() && p.signals.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Holds (design decision 3)

#[test]
fn hold_policies_without_a_start() {
    let no_start = |s: &mut DeclaratieSnapshot| s.starts.clear();
    // Hold (default): approved, held.
    let p = one(|_| {}, no_start);
    assert!(p.approved());
    let h = p.hold.expect("held");
    assert_eq!(
        h.reden,
        hold_reason(nr(40001), &per("2025-01-06", "2025-01-31"))
    );
    assert!(h.reden.contains("40001") && h.reden.contains("2025-01-06"));
    assert!(p.signals.is_empty());

    // Signal: approved, not held, a geen-start signal.
    let p = one(
        |_| {},
        |s| {
            no_start(s);
            s.policy = StartPolicy::Signal;
        },
    );
    assert!(p.approved() && p.hold.is_none());
    assert_eq!(p.signals.len(), 1);
    assert_eq!(p.signals[0].soort, "geen-start");

    // Reject: a local finding, logged as a deviation from OP364.
    let p = one(
        |_| {},
        |s| {
            no_start(s);
            s.policy = StartPolicy::Reject;
        },
    );
    assert_eq!(rules(&p), vec!["LOKAAL-GEEN-START"]);
    assert!(p.findings[0].text.contains("OP364"));
    assert!(p.hold.is_none());

    // A rejected line is never held.
    let p = one(|p| set_uren(p, 30), no_start);
    assert!(!p.approved() && p.hold.is_none());

    // A deleted start does not cover.
    let p = one(|_| {}, |s| s.starts[0].active = false);
    assert!(p.hold.is_some());
    // A start of another toewijzing or client does not cover.
    let p = one(|_| {}, |s| s.starts[0].toewijzing_nummer = Some(nr(40002)));
    assert!(p.hold.is_some());
    let p = one(|_| {}, |s| s.starts[0].bsn = bsn("999990032"));
    assert!(p.hold.is_some());
    // A start after the period does not cover; on the last day it does.
    let p = one(|_| {}, |s| s.starts[0].begindatum = d("2025-02-01"));
    assert!(p.hold.is_some());
    let p = one(|_| {}, |s| s.starts[0].begindatum = d("2025-01-31"));
    assert!(p.hold.is_none());
}

#[test]
fn credits_are_never_held() {
    let m = fixture("323b.xml");
    let mut snap = base_snapshot();
    snap.starts.clear();
    snap.earlier.push(pr2501000001());
    let dec = check_323(&m, &snap);
    assert!(dec.prestaties[0][0].approved() && dec.prestaties[0][0].hold.is_none());
    assert!(dec.prestaties[0][1].hold.is_some());
    // Policy reject does not touch credits either.
    snap.policy = StartPolicy::Reject;
    let dec = check_323(&m, &snap);
    assert!(dec.prestaties[0][0].approved());
    assert_eq!(rules(&dec.prestaties[0][1]), vec!["LOKAAL-GEEN-START"]);
}

#[test]
fn coverage_ended_by_a_stop() {
    let feb = per("2025-02-01", "2025-02-28");
    let b = bsn(CLIENT);
    let starts = vec![start(1, 40001, "2025-01-08")];
    assert_eq!(covering_start(&b, nr(40001), &feb, &starts, &[]), Some(1));

    // Temporary stop on 2025-01-31 without a new start: February is not covered.
    let tijdelijk = stop(
        10,
        "2025-01-08",
        RedenBeeindiging::TijdelijkBeeindigd,
        "2025-01-31",
    );
    assert_eq!(
        covering_start(
            &b,
            nr(40001),
            &feb,
            &starts,
            std::slice::from_ref(&tijdelijk)
        ),
        None
    );
    // Stopped on 2025-02-01: one day of February is covered.
    let mut s = tijdelijk.clone();
    s.einddatum = d("2025-02-01");
    assert_eq!(covering_start(&b, nr(40001), &feb, &starts, &[s]), Some(1));
    // Temporary stop, then a definitive stop with the same Einddatum: still ended.
    let definitief = stop(
        11,
        "2025-01-08",
        RedenBeeindiging::VolgensPlanBeeindigd,
        "2025-01-31",
    );
    assert_eq!(
        covering_start(
            &b,
            nr(40001),
            &feb,
            &starts,
            &[tijdelijk.clone(), definitief]
        ),
        None
    );
    // A deleted stop does not end anything.
    let mut deleted = tijdelijk.clone();
    deleted.active = false;
    assert_eq!(
        covering_start(&b, nr(40001), &feb, &starts, &[deleted]),
        Some(1)
    );
    // A new start after the temporary stop covers again, and is the one returned.
    let mut starts2 = starts.clone();
    starts2.push(start(2, 40001, "2025-02-20"));
    assert_eq!(
        covering_start(
            &b,
            nr(40001),
            &feb,
            &starts2,
            std::slice::from_ref(&tijdelijk)
        ),
        Some(2)
    );
    // The stop of another start (other Begindatum) does not end this one.
    let other = stop(
        12,
        "2024-06-01",
        RedenBeeindiging::VolgensPlanBeeindigd,
        "2024-12-31",
    );
    assert_eq!(
        covering_start(&b, nr(40001), &feb, &starts, &[other]),
        Some(1)
    );

    // Through check_323: 323b's February line (with a volume that fits) is held after the stop.
    let mut m = fixture("323b.xml");
    set_uren(&mut m.declaratie.clienten[0].prestaties[2], 20);
    let mut snap = base_snapshot();
    snap.earlier.push(pr2501000001());
    snap.stops.push(tijdelijk);
    let dec = check_323(&m, &snap);
    assert!(dec.prestaties[0][1].hold.is_none(), "January is covered");
    assert!(dec.prestaties[0][2].approved());
    assert!(dec.prestaties[0][2].hold.is_some(), "February is not");
}

// ---------------------------------------------------------------------------------------------
// Double-declaration signals (design decision 4)

#[test]
fn double_declaration_signals() {
    // Same client, categorie 02, overlapping, other toewijzing of the same aanbieder.
    let other_tw = |s: &mut DeclaratieSnapshot| {
        let mut e = debit(9, "PR-OTHER-TW", per("2025-01-01", "2025-01-31"), 4);
        e.toewijzing_nummer = nr(40003);
        e.product_code = code("02A05");
        s.earlier.push(e);
    };
    let p = one(|_| {}, other_tw);
    assert!(p.approved());
    assert_eq!(p.signals.len(), 1);
    assert_eq!(p.signals[0].soort, "dubbel-toewijzing");
    assert_eq!(
        p.signals[0].andere_referentie.as_deref(),
        Some("PR-OTHER-TW")
    );
    assert!(p.signals[0].tekst.contains("40003"));
    assert!(!p.signals[0].tekst.contains(CLIENT));

    // Other aanbieder.
    let p = one(
        |_| {},
        |s| {
            let mut e = debit(9, "AB-1", per("2025-01-20", "2025-02-10"), 4);
            e.aanbieder = agb("11112222");
            e.toewijzing_nummer = nr(41000);
            s.earlier.push(e);
        },
    );
    assert_eq!(p.signals.len(), 1);
    assert_eq!(p.signals[0].soort, "dubbel-aanbieder");
    assert_eq!(p.signals[0].andere_referentie.as_deref(), Some("AB-1"));
    assert!(p.signals[0].tekst.contains("11112222"));

    // IV084: consecutive toewijzingen in one month, periods that do not overlap: nothing.
    let p = one(
        |_| {},
        |s| {
            let mut e = debit(9, "PR-BEFORE", per("2025-01-01", "2025-01-05"), 2);
            e.toewijzing_nummer = nr(40000);
            s.earlier.push(e);
        },
    );
    assert!(p.approved() && p.signals.is_empty(), "{:?}", p.signals);

    // Credited, rejected, other client, other categorie: nothing.
    for change in [
        (|e: &mut EarlierPrestatie| e.gecrediteerd_door = Some("X".into()))
            as fn(&mut EarlierPrestatie),
        |e| e.approved = false,
        |e| e.bsn = Bsn::parse("999990032").unwrap(),
        |e| e.product_categorie = ProductCategorie::Dagbesteding,
    ] {
        let p = one(
            |_| {},
            |s| {
                other_tw(s);
                change(&mut s.earlier[0]);
            },
        );
        assert!(p.signals.is_empty(), "{:?}", p.signals);
    }

    // Within one message: the second of two overlapping lines on different toewijzingen.
    let mut m = fixture("323a.xml");
    let mut second = m.declaratie.clienten[0].prestaties[0].clone();
    second.product_referentie.referentie_nummer = "PR2501000002".into();
    second.toewijzing_nummer = nr(40003);
    m.declaratie.clienten[0].prestaties.push(second);
    let mut snap = base_snapshot();
    let mut t = tw40001();
    t.toewijzing_nummer = nr(40003);
    snap.toewijzingen.push(t);
    snap.starts.push(start(2, 40003, "2025-01-06"));
    let dec = check_323(&m, &snap);
    assert!(dec.prestaties[0][0].signals.is_empty());
    assert_eq!(dec.prestaties[0][1].signals.len(), 1);
    assert_eq!(
        dec.prestaties[0][1].signals[0].andere_referentie.as_deref(),
        Some("PR2501000001")
    );
    // The signal goes away when the first line is rejected.
    set_uren(&mut m.declaratie.clienten[0].prestaties[0], 30);
    let dec = check_323(&m, &snap);
    assert!(!dec.prestaties[0][0].approved());
    assert!(dec.prestaties[0][1].signals.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Scale

#[test]
fn ten_thousand_prestaties_against_a_hundred_thousand_earlier_lines() {
    let n = 10_000usize;
    let xml = iwmo::testkit::synth::wmo323(n, "PERF00000001", "PERF01");
    let m = parse(xml.as_bytes());
    let aanbieder = agb(AANBIEDER);
    let mut snap = DeclaratieSnapshot {
        contracts: vec![contract(
            ProductCategorie::Begeleiding,
            "02A01",
            Eenheid::Uur,
            6850,
        )],
        ..Default::default()
    };
    // One toewijzing per Prestatie (synth: 100000 + i, ten per client), a start on each, and
    // ten approved earlier months (March–December 2024) on each.
    for (i, (c, _)) in m.prestaties().enumerate() {
        let mut t = tw40001();
        t.toewijzing_nummer = nr(100_000 + i as u64);
        t.bsn = c.bsn;
        t.ingangsdatum = d("2024-03-01");
        snap.toewijzingen.push(t);
        let mut s = start(i as i64, 100_000 + i as u64, "2024-03-01");
        s.bsn = c.bsn;
        snap.starts.push(s);
        for month in 3..=12u32 {
            let b = NaiveDate::from_ymd_opt(2024, month, 1).unwrap();
            let mut e = debit(
                (i * 10) as i64 + i64::from(month),
                &format!("E{i}-{month}"),
                Periode {
                    begindatum: b,
                    einddatum: last_day_of_month(b),
                },
                4,
            );
            e.aanbieder = aanbieder;
            e.bsn = c.bsn;
            e.toewijzing_nummer = nr(100_000 + i as u64);
            snap.earlier.push(e);
        }
    }
    assert_eq!(snap.earlier.len(), 100_000);
    let t0 = std::time::Instant::now();
    let dec = check_323(&m, &snap);
    eprintln!(
        "check_323: {n} Prestaties, 100000 earlier lines: {:?}",
        t0.elapsed()
    );
    let all: Vec<&PrestatieDecision> = dec.prestaties.iter().flatten().collect();
    assert_eq!(all.len(), n);
    assert!(
        all.iter().all(|p| p.approved() && p.hold.is_none()),
        "{:?}",
        all.iter().find(|p| !p.approved()).map(|p| &p.findings)
    );
    // Ten lines per client on ten toewijzingen, same month: each line signals the earlier ones
    // of its client (0 + 1 + … + 9 = 45 per client).
    let signals: usize = all.iter().map(|p| p.signals.len()).sum();
    assert_eq!(signals, 45 * n / 10);
    assert!(all
        .iter()
        .flat_map(|p| &p.signals)
        .all(|s| s.soort == "dubbel-toewijzing"));
}
