//! The payment file (pain.001.001.09) and the journal CSV of a payment run: the official XSD
//! (../shared/finance via ../shared/tools/xsd-validate.py), the file read back, the checks of
//! the writer, the journal's columns and formula guard.

mod common;

use std::collections::HashSet;
use std::io::BufWriter;
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use iwmo::finance::journal::{self, JournaalKop, JournaalRegel};
use iwmo::finance::sepa::{self, euro, Opdracht, Overboeking, Rekening, SepaError};
use quick_xml::events::Event;
use quick_xml::XmlVersion;

// ---------------------------------------------------------------------------------------------
// Inputs

/// A valid Dutch IBAN for bank `bank` (4 letters) and account number `nr` (ISO 7064 mod 97-10).
fn nl_iban(bank: &str, nr: u64) -> String {
    let bban = format!("{bank}{nr:010}");
    let digits: String = format!("{bban}NL00")
        .chars()
        .map(|c| c.to_digit(36).unwrap().to_string())
        .collect();
    let rest = digits
        .bytes()
        .fold(0u32, |acc, b| (acc * 10 + u32::from(b - b'0')) % 97);
    format!("NL{:02}{bban}", 98 - rest)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn overboeking(i: u64) -> Overboeking {
    Overboeking {
        agb_code: format!("{:08}", 98_000_000 + i),
        crediteur: Rekening {
            naam: format!("Zorgaanbieder {i} B.V."),
            iban: nl_iban("RABO", 300_000_000 + i),
            // Every third aanbieder has a known BIC.
            bic: i.is_multiple_of(3).then(|| "RABONL2U".to_string()),
        },
        bedrag_cents: 1 + (i as i64 * 7_919) % 250_000,
        aantal_regels: 1 + i % 40,
    }
}

fn overboekingen(n: u64) -> Vec<Overboeking> {
    (1..=n).map(overboeking).collect()
}

fn opdracht(o: &[Overboeking], debiteur_bic: Option<&str>) -> Opdracht {
    Opdracht {
        bericht_id: "IWMO-0344-BR12-20250401".into(),
        aangemaakt_op: Utc.with_ymd_and_hms(2025, 4, 1, 9, 30, 15).unwrap(),
        uitvoerdatum: d(2025, 4, 3),
        betaalronde_id: 12,
        gemeente_code: "0344".into(),
        periode_tot_en_met: d(2025, 3, 31),
        debiteur: Rekening {
            naam: "Gemeente Utrecht".into(),
            // In print form and lower case: the writer brings it to electronic form.
            iban: "nl91 abna 0417 1643 00".into(),
            bic: debiteur_bic.map(str::to_string),
        },
        aantal: o.len() as u64,
        totaal_cents: o.iter().map(|x| x.bedrag_cents).sum(),
    }
}

fn write(op: &Opdracht, o: Vec<Overboeking>) -> Result<String, SepaError> {
    let bytes = sepa::schrijf(Vec::new(), op, o)?;
    Ok(String::from_utf8(bytes).expect("UTF-8"))
}

// ---------------------------------------------------------------------------------------------
// Reading the file back

/// Every text and attribute of the document as (path, value): `/Document/…/CtrlSum`,
/// `/Document/…/InstdAmt@Ccy`.
fn values(xml: &str) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Start(e) => {
                path.push(e.local_name().as_ref().to_string());
                for a in e.attributes() {
                    let a = a.unwrap();
                    let key = a.key.as_ref().to_string();
                    let value = a
                        .normalized_value(XmlVersion::Implicit1_0)
                        .unwrap()
                        .to_string();
                    out.push((format!("/{}@{key}", path.join("/")), value));
                }
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => out.push((
                format!("/{}", path.join("/")),
                t.xml10_content().to_string(),
            )),
            Event::GeneralRef(r) => panic!("unexpected entity reference &{:?};", r),
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn all<'a>(v: &'a [(String, String)], suffix: &str) -> Vec<&'a str> {
    v.iter()
        .filter(|(p, _)| p.ends_with(suffix))
        .map(|(_, x)| x.as_str())
        .collect()
}

fn one<'a>(v: &'a [(String, String)], suffix: &str) -> &'a str {
    let found = all(v, suffix);
    assert_eq!(found.len(), 1, "{suffix}: {found:?}");
    found[0]
}

/// "1234.56" → 123456; exactly two decimals, digits only.
fn cents(s: &str) -> i64 {
    let (e, c) = s
        .split_once('.')
        .unwrap_or_else(|| panic!("geen punt in {s:?}"));
    assert_eq!(c.len(), 2, "{s:?}");
    assert!(
        e.bytes().chain(c.bytes()).all(|b| b.is_ascii_digit()),
        "{s:?}"
    );
    e.parse::<i64>().unwrap() * 100 + c.parse::<i64>().unwrap()
}

/// The file adds up: NbOfTxs and CtrlSum in both headers equal the transfers, EndToEndIds
/// are unique and at most 35 characters.
fn assert_consistent(xml: &str, op: &Opdracht) {
    let v = values(xml);
    let amounts = all(&v, "/CdtTrfTxInf/Amt/InstdAmt");
    let ccys = all(&v, "/InstdAmt@Ccy");
    assert_eq!(amounts.len() as u64, op.aantal);
    assert!(ccys.iter().all(|c| *c == "EUR") && ccys.len() == amounts.len());
    let sum: i64 = amounts.iter().map(|a| cents(a)).sum();
    assert_eq!(sum, op.totaal_cents);
    assert_eq!(cents(one(&v, "/GrpHdr/CtrlSum")), sum);
    assert_eq!(cents(one(&v, "/PmtInf/CtrlSum")), sum);
    assert_eq!(one(&v, "/GrpHdr/NbOfTxs"), amounts.len().to_string());
    assert_eq!(one(&v, "/PmtInf/NbOfTxs"), amounts.len().to_string());
    let ids = all(&v, "/PmtId/EndToEndId");
    assert_eq!(ids.len(), amounts.len());
    assert!(
        ids.iter().all(|i| !i.is_empty() && i.len() <= 35),
        "{ids:?}"
    );
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "EndToEndIds niet uniek"
    );
    for u in all(&v, "/RmtInf/Ustrd") {
        assert!(
            u.chars().count() <= 140 && u.chars().all(sepa::is_sepa),
            "{u:?}"
        );
    }
}

/// Writes through a BufWriter to a file in a fresh directory and validates it with the XSD.
fn assert_valid_file(op: &Opdracht, o: Vec<Overboeking>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("betaalronde.xml");
    let file = std::fs::File::create(&path).unwrap();
    let w = sepa::schrijf(BufWriter::new(file), op, o).expect("schrijven");
    drop(w.into_inner().expect("flush"));
    assert_xsd_valid(&path);
    std::fs::read_to_string(&path).unwrap()
}

fn assert_xsd_valid(path: &Path) {
    if !common::xsd_oracle_available() {
        return;
    }
    let results = common::xsd_validate(&[path.to_path_buf()]);
    assert!(
        results[0].0,
        "niet geldig volgens de XSD:\n{}",
        results[0].1
    );
}

// ---------------------------------------------------------------------------------------------
// The payment file

#[test]
fn three_transfers_validate_against_the_xsd_and_add_up() {
    let o = overboekingen(3);
    let op = opdracht(&o, Some("abnanl2a"));
    let xml = assert_valid_file(&op, o);
    assert_consistent(&xml, &op);
    let v = values(&xml);
    assert_eq!(one(&v, "/Document@xmlns"), sepa::NAMESPACE);
    assert_eq!(one(&v, "/GrpHdr/MsgId"), "IWMO-0344-BR12-20250401");
    assert_eq!(one(&v, "/GrpHdr/CreDtTm"), "2025-04-01T09:30:15Z");
    assert_eq!(one(&v, "/GrpHdr/InitgPty/Nm"), "Gemeente Utrecht");
    assert_eq!(one(&v, "/PmtInf/PmtMtd"), "TRF");
    assert_eq!(one(&v, "/PmtInf/BtchBookg"), "true");
    assert_eq!(one(&v, "/PmtTpInf/SvcLvl/Cd"), "SEPA");
    assert_eq!(one(&v, "/ReqdExctnDt/Dt"), "2025-04-03");
    assert_eq!(one(&v, "/DbtrAcct/Id/IBAN"), "NL91ABNA0417164300");
    assert_eq!(one(&v, "/DbtrAgt/FinInstnId/BICFI"), "ABNANL2A");
    assert_eq!(one(&v, "/PmtInf/ChrgBr"), "SLEV");
    // Only the third aanbieder has a BIC: one CdtrAgt.
    assert_eq!(all(&v, "/CdtrAgt/FinInstnId/BICFI"), ["RABONL2U"]);
    assert_eq!(
        all(&v, "/PmtId/EndToEndId"),
        ["BR12-1-98000001", "BR12-2-98000002", "BR12-3-98000003"]
    );
    assert_eq!(
        all(&v, "/RmtInf/Ustrd")[1],
        "iWmo betaalronde 12 gemeente 0344 t/m 2025-03-31, 3 prestaties"
    );
}

#[test]
fn a_thousand_transfers_validate_against_the_xsd_and_add_up() {
    let o = overboekingen(1000);
    let op = opdracht(&o, None);
    let xml = assert_valid_file(&op, o);
    assert_consistent(&xml, &op);
    let v = values(&xml);
    assert_eq!(one(&v, "/DbtrAgt/FinInstnId/Othr/Id"), "NOTPROVIDED");
    assert!(all(&v, "/DbtrAgt/FinInstnId/BICFI").is_empty());
    assert_eq!(all(&v, "/CdtrAgt/FinInstnId/BICFI").len(), 333);
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let o = overboekingen(50);
    let op = opdracht(&o, Some("ABNANL2A"));
    let first = sepa::schrijf(Vec::new(), &op, o.clone()).unwrap();
    let second = sepa::schrijf(Vec::new(), &op, o.clone()).unwrap();
    assert_eq!(first, second);
    // And the bytes do depend on the inputs (the comparison above can fail).
    let mut later = op.clone();
    later.aangemaakt_op = Utc.with_ymd_and_hms(2025, 4, 1, 9, 30, 16).unwrap();
    assert_ne!(first, sepa::schrijf(Vec::new(), &later, o).unwrap());
}

#[test]
fn names_are_brought_into_the_sepa_set_and_cut_to_70() {
    let mut o = overboekingen(2);
    o[0].crediteur.naam = "Zorgcoöperatie Émile & Zoë Groß – “thuis” €".into();
    o[1].crediteur.naam = "Stichting ".to_string() + &"Welzijn".repeat(12) + "Thuis!";
    assert_eq!(o[1].crediteur.naam.chars().count(), 100);
    let mut op = opdracht(&o, None);
    op.debiteur.naam = "Gemeente Súdwest-Fryslân".into();
    let xml = assert_valid_file(&op, o);
    let v = values(&xml);
    let names = all(&v, "/Cdtr/Nm");
    assert_eq!(names[0], "Zorgcooperatie Emile + Zoe Gross - 'thuis'");
    assert_eq!(names[1].chars().count(), 70);
    assert!(names[1].starts_with("Stichting WelzijnWelzijn"));
    assert_eq!(one(&v, "/Dbtr/Nm"), "Gemeente Sudwest-Fryslan");
    for n in names {
        assert!(n.chars().all(sepa::is_sepa), "{n:?}");
    }
}

#[test]
fn a_name_without_any_sepa_character_is_refused() {
    let mut o = overboekingen(1);
    o[0].crediteur.naam = "漢字".into();
    let op = opdracht(&o, None);
    let e = write(&op, o).unwrap_err();
    assert!(matches!(e, SepaError::LegeNaam { .. }), "{e}");
    assert!(e.to_string().contains("crediteur.naam"), "{e}");
}

#[test]
fn an_amount_of_zero_or_less_is_refused() {
    for bedrag in [0, -1, -25_000] {
        let mut o = overboekingen(3);
        let op = opdracht(&o, None);
        o[1].bedrag_cents = bedrag;
        let e = write(&op, o).unwrap_err();
        assert!(
            matches!(e, SepaError::BedragNietPositief { overboeking: 2, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("niet groter dan 0"), "{e}");
    }
}

#[test]
fn an_amount_above_the_sepa_maximum_is_refused() {
    let mut o = overboekingen(1);
    o[0].bedrag_cents = sepa::MAX_BEDRAG_CENTS + 1;
    let op = opdracht(&o, None);
    let e = write(&op, o).unwrap_err();
    assert!(matches!(e, SepaError::BedragTeGroot { .. }), "{e}");
}

#[test]
fn a_count_that_differs_from_the_header_is_refused() {
    let o = overboekingen(3);
    let mut op = opdracht(&o, None);
    op.aantal = 4;
    let e = write(&op, o.clone()).unwrap_err();
    assert!(
        matches!(
            e,
            SepaError::AantalWijktAf {
                kop: 4,
                geschreven: 3
            }
        ),
        "{e}"
    );
    op.aantal = 2;
    let e = write(&op, o).unwrap_err();
    assert!(
        matches!(e, SepaError::TeVeelOverboekingen { kop: 2 }),
        "{e}"
    );
}

#[test]
fn a_sum_that_differs_from_the_header_is_refused() {
    let o = overboekingen(3);
    let mut op = opdracht(&o, None);
    let goed = op.totaal_cents;
    for totaal in [goed - 1, goed + 1] {
        op.totaal_cents = totaal;
        let e = write(&op, o.clone()).unwrap_err();
        assert!(matches!(e, SepaError::SomWijktAf { .. }), "{totaal}: {e}");
        assert!(e.to_string().contains(&euro(totaal)), "{e}");
    }
}

#[test]
fn header_errors_are_refused_before_anything_is_written() {
    let o = overboekingen(1);
    let base = opdracht(&o, None);
    let mut cases: Vec<Opdracht> = Vec::new();
    let mut op = base.clone();
    op.aantal = 0;
    cases.push(op);
    let mut op = base.clone();
    op.totaal_cents = 0;
    cases.push(op);
    let mut op = base.clone();
    op.bericht_id = "x".repeat(36);
    cases.push(op);
    let mut op = base.clone();
    op.betaalronde_id = 0;
    cases.push(op);
    let mut op = base.clone();
    op.debiteur.bic = Some("ABN".into());
    cases.push(op);
    for op in cases {
        let mut out = Vec::new();
        assert!(sepa::schrijf(&mut out, &op, o.clone()).is_err(), "{op:?}");
        assert!(out.is_empty(), "{op:?}");
    }
}

#[test]
fn an_invalid_iban_is_refused_without_echoing_it() {
    let mut o = overboekingen(2);
    o[1].crediteur.iban = "NL92RABO0300000002".into(); // wrong check digits
    let op = opdracht(&o, None);
    let e = write(&op, o).unwrap_err().to_string();
    assert!(
        e.contains("overboeking 2") && e.contains("crediteur.iban"),
        "{e}"
    );
    assert!(e.contains("mod-97"), "{e}");
    assert!(!e.contains("0300000002"), "{e}");
}

#[test]
fn an_invalid_bic_is_refused() {
    let mut o = overboekingen(1);
    o[0].crediteur.bic = Some("RABO NL 2U!".into());
    let op = opdracht(&o, None);
    let e = write(&op, o).unwrap_err();
    assert!(matches!(e, SepaError::Bic { .. }), "{e}");
    assert!(e.to_string().contains("crediteur.bic"), "{e}");
}

#[test]
fn euro_formats_integer_cents() {
    assert_eq!(euro(0), "0.00");
    assert_eq!(euro(5), "0.05");
    assert_eq!(euro(100), "1.00");
    assert_eq!(euro(123456), "1234.56");
    assert_eq!(euro(-123456), "-1234.56");
    assert_eq!(euro(999_999_999_999_999_999), "9999999999999999.99");
    assert_eq!(euro(i64::MAX), "92233720368547758.07");
}

// ---------------------------------------------------------------------------------------------
// The journal

fn kop() -> JournaalKop {
    JournaalKop {
        betaalronde_id: 12,
        gemeente_code: "0344".into(),
        status: "geexporteerd".into(),
        tot_en_met: d(2025, 3, 31),
    }
}

fn regel(agb: &str, naam: &str, cat: &str, debet: i64, credit: i64) -> JournaalRegel {
    JournaalRegel {
        agb_code: agb.into(),
        aanbieder: naam.into(),
        product_categorie: cat.into(),
        aantal_regels: 3,
        debet_cents: debet,
        credit_cents: credit,
    }
}

fn journal_rows(regels: Vec<JournaalRegel>) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let bytes = journal::schrijf(Vec::new(), &kop(), regels).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    let header = r.headers().unwrap().clone();
    let rows = r.records().map(|x| x.unwrap()).collect();
    (header, rows)
}

#[test]
fn journal_has_the_header_row_and_netto() {
    let (header, rows) = journal_rows(vec![
        regel("98000001", "Zorg B.V.", "02", 150_000, 25_050),
        regel("98000002", "Hulp", "10", 1_000, 2_005),
    ]);
    assert_eq!(
        header.iter().collect::<Vec<_>>().join(","),
        "betaalronde,gemeente,tot_en_met,status,agb_code,aanbieder,productcategorie,\
         aantal_regels,debet_cents,credit_cents,netto_cents,netto_euro"
    );
    assert_eq!(rows.len(), 2);
    let first: Vec<&str> = rows[0].iter().collect();
    assert_eq!(
        first,
        [
            "12",
            "0344",
            "2025-03-31",
            "geexporteerd",
            "98000001",
            "Zorg B.V.",
            "02",
            "3",
            "150000",
            "25050",
            "124950",
            "1249.50"
        ]
    );
    assert_eq!(&rows[1][10], "-1005");
    assert_eq!(&rows[1][11], "-10.05");
}

#[test]
fn journal_guards_against_formula_injection() {
    let (_, rows) = journal_rows(vec![
        regel("98000001", "=HYPERLINK(\"http://x\")", "+02", 1, 0),
        regel("98000002", "@SUM(A1:A9)", "-1", 1, 0),
        regel("98000003", "\tTab", "\rCR", 1, 0),
        regel("98000004", "Gewoon - niets", "03", 1, 0),
    ]);
    assert_eq!(&rows[0][5], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&rows[0][6], "'+02");
    assert_eq!(&rows[1][5], "'@SUM(A1:A9)");
    assert_eq!(&rows[1][6], "'-1");
    assert_eq!(&rows[2][5], "'\tTab");
    assert_eq!(&rows[2][6], "'\rCR");
    assert_eq!(&rows[3][5], "Gewoon - niets");
}

#[test]
fn journal_names_with_comma_and_quote_round_trip() {
    let naam = "Zorg, Welzijn & \"Thuis\"\nB.V.";
    let (_, rows) = journal_rows(vec![regel("98000001", naam, "02", 10, 0)]);
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][5], naam);
    assert_eq!(rows[0].len(), 12);
}

#[test]
fn journal_refuses_a_netto_that_does_not_fit() {
    let e = journal::schrijf(
        Vec::new(),
        &kop(),
        vec![regel("98000001", "X", "02", i64::MIN, 1)],
    )
    .unwrap_err();
    assert!(e.to_string().contains("journaalregel 1"), "{e}");
}
