//! Property tests: domain types round-trip and keep their invariants; no input makes the reader
//! or the checks panic (mutated fixtures: byte flips, cuts, splices, element duplication/removal).

mod common;

use iwmo::check::check_bytes;
use iwmo::domain::*;
use iwmo::message::{read, ReadOptions};
use proptest::prelude::*;

fn fixtures() -> Vec<Vec<u8>> {
    common::fixtures("valid")
        .iter()
        .map(|p| common::read(p))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn bsn_parse_expose_round_trip(d in "[0-9]{9}") {
        let b = Bsn::parse(&d).unwrap();
        prop_assert_eq!(b.expose(), d.as_str());
        // Masking never shows more than the last three digits.
        let shown = format!("{:?}{}", b, b);
        prop_assert!(!shown.contains(&d[..6]));
    }

    #[test]
    fn bsn_rejects_everything_but_nine_digits(s in "\\PC{0,12}") {
        let nine_digits = s.len() == 9 && s.bytes().all(|c| c.is_ascii_digit());
        prop_assert_eq!(Bsn::parse(&s).is_ok(), nine_digits);
    }

    #[test]
    fn elfproef_matches_the_definition(d in prop::array::uniform9(0u8..10)) {
        let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
        let sum: i64 = (0..8).map(|i| (9 - i as i64) * i64::from(d[i])).sum::<i64>() - i64::from(d[8]);
        prop_assert_eq!(Bsn::parse(&s).unwrap().passes_elfproef(), sum % 11 == 0);
        prop_assert_eq!(ValidBsn::try_from(Bsn::parse(&s).unwrap()).is_ok(), sum % 11 == 0);
    }

    #[test]
    fn signed_totals_round_trip(c in -999_999_999_999i64..=999_999_999_999i64) {
        let t = TotaalBedragMetDc::from_signed(c).unwrap();
        prop_assert_eq!(t.signed(), c);
        prop_assert_eq!(t.debet_credit == DebetCredit::Credit, c < 0);
    }

    #[test]
    fn versie_round_trip(a in 0u32..1000, b in 0u32..1000, c in 0u32..1000) {
        let v = Versie(a, b, c);
        prop_assert_eq!(Versie::parse(&v.to_string()).unwrap(), v);
    }

    #[test]
    fn codes_round_trip(i in 0usize..59) {
        let c = RetourCode::ALL[i];
        prop_assert_eq!(RetourCode::parse(c.code()).unwrap(), c);
    }

    #[test]
    fn periods_and_months(y in 2021i32..2035, m in 1u32..=12, d1 in 1u32..=28, d2 in 1u32..=28) {
        let a = chrono::NaiveDate::from_ymd_opt(y, m, d1.min(d2)).unwrap();
        let b = chrono::NaiveDate::from_ymd_opt(y, m, d1.max(d2)).unwrap();
        let p = Periode { begindatum: a, einddatum: b };
        prop_assert!(p.within_one_month());
        prop_assert_eq!(p.is_whole_month(), a.day0() == 0 && b == last_day_of_month(a));
        prop_assert!(p.overlaps(&p));
    }
}

use chrono::Datelike;

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), 1usize..400).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
        (
            any::<usize>(),
            prop::sample::select(vec![
                b"<".to_vec(),
                b">".to_vec(),
                b"&".to_vec(),
                b"&amp;".to_vec(),
                b"&#0;".to_vec(),
                b"<!DOCTYPE x>".to_vec(),
                b"<![CDATA[x]]>".to_vec(),
                b"<!-- c -->".to_vec(),
                b"\xFF".to_vec(),
                b"\xC3".to_vec(),
                b"xmlns:wmo305=\"urn:x\"".to_vec(),
                b" a=\"1\"".to_vec(),
                b"</wmo305:Client>".to_vec(),
                b"<iwmo:Datum>2025-02-30</iwmo:Datum>".to_vec(),
                "é€𝄞".as_bytes().to_vec(),
                b"-1".to_vec(),
                b"99999999999999999999999".to_vec(),
            ])
        )
            .prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if b.is_empty() {
            break;
        }
        let n = b.len();
        match m {
            Mutation::Flip(i, x) => b[i % n] = *x,
            Mutation::Cut(i) => b.truncate(i % n),
            Mutation::Delete(i, k) => {
                let s = i % n;
                let e = (s + k).min(n);
                b.drain(s..e);
            }
            Mutation::Duplicate(i, k) => {
                let s = i % n;
                let e = (s + k).min(n);
                let seg = b[s..e].to_vec();
                b.splice(e..e, seg);
            }
            Mutation::Insert(i, s) => {
                let at = i % (n + 1);
                b.splice(at..at, s.iter().copied());
            }
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    /// No mutated message makes the reader, the level-2 rules or the verdict builder panic, and
    /// whatever reads back still writes and reads again.
    #[test]
    fn mutated_fixtures_never_panic(which in any::<prop::sample::Index>(), muts in prop::collection::vec(mutation(), 1..4)) {
        let all = fixtures();
        let b = apply(all[which.index(all.len())].clone(), &muts);
        let v = check_bytes("m.xml", &b, ReadOptions::default());
        prop_assert!(["valid", "intake", "level1", "level2"].contains(&v.verdict));
        if let Ok(parsed) = read(&b, ReadOptions::default()) {
            if let Some(xml) = parsed.message.to_xml() {
                let again = read(xml.as_bytes(), ReadOptions::default());
                prop_assert!(again.is_ok(), "written form does not read back: {:?}", again.err());
                prop_assert_eq!(again.unwrap().message, parsed.message);
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = check_bytes("a.xml", &b, ReadOptions::default());
    }
}
