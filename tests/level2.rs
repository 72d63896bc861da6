//! Level 2 (in-message rules of the iWmo 3.2 XSLT 2.10.5) against the fixture corpus, plus edge
//! cases from docs/level2-rules.md on messages derived from the valid fixtures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use iwmo::domain::*;
use iwmo::message::{read, Message, ReadOptions};
use iwmo::rules::inmessage::check;
use iwmo::rules::{Finding, Level, RULES};

// ---------------------------------------------------------------------------------------------
// Helpers

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Result<Message, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    read(&bytes, ReadOptions::default())
        .map(|p| p.message)
        .map_err(|e| format!("level 1 / intake: {e}"))
}

fn fixture(rel: &str) -> Message {
    load(&fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn show(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("\n    {} {:?} — {}", f.rule, f.locations, f.text))
        .collect()
}

fn ids(findings: &[Finding]) -> BTreeSet<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

fn verdicts(rel: &str) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(fixtures().join(rel)).expect("verdicts.json");
    match serde_json::from_str(&text).expect("verdicts.json is JSON") {
        serde_json::Value::Object(m) => m,
        _ => panic!("verdicts.json is not an object"),
    }
}

/// Fixtures whose "element" is not one of the XSLT's Locaties, with the reason: (file, anchor,
/// reason). For these a finding must have a location at or under `anchor` (the class that holds
/// the element) instead of at the element itself.
const LENIENT: &[(&str, &str, &str)] = &[
    // The fixtures name the element that is missing; the XSLT reports the element that makes it
    // required (it cannot report an absent one).
    (
        "301-budget-without-einddatum.xml",
        "/Bericht/Client/ToegewezenProducten/ToegewezenProduct[2]",
        "CD075: Einddatum is absent, reported at Budget",
    ),
    (
        "301-code-without-omvang.xml",
        "/Bericht/Client/ToegewezenProducten/ToegewezenProduct",
        "CD041: Omvang is absent, reported at Product/Code",
    ),
    (
        "301-frequentie-week-without-einddatum.xml",
        "/Bericht/Client/ToegewezenProducten/ToegewezenProduct",
        "CD076: Einddatum is absent, reported at Omvang/Frequentie",
    ),
    (
        "301-no-product-no-budget.xml",
        "/Bericht/Client/ToegewezenProducten/ToegewezenProduct",
        "CD079: Product is absent, reported at the ToegewezenProduct itself",
    ),
    (
        "301-postcode-without-landcode.xml",
        "/Bericht/Client/Contactgegevens/Contact/Adres",
        "CD005: LandCode is absent, reported at Postcode",
    ),
    (
        "323-credit-without-vorigreferentienummer.xml",
        "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie[1]",
        "CD060: VorigReferentieNummer is absent, reported at IngediendBedrag/DebetCredit",
    ),
    (
        "323-eenheid-04-without-tarief.xml",
        "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie",
        "CD087: ProductTarief is absent, reported at Eenheid",
    ),
    // The fixture names the period; TR319 reports its Begindatum and Einddatum.
    (
        "323-productperiode-after-declaratieperiode.xml",
        "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie/ProductPeriode",
        "TR319: reported at ProductPeriode/Begindatum and /Einddatum",
    ),
];

/// Fixtures whose "element" we believe is wrong: (file, element we check instead, reason).
/// Empty since make-fixtures.py names Contact[2] for 301-duplicate-contact-soort.xml.
const WRONG_ELEMENT: &[(&str, &str, &str)] = &[];

fn element_reported(file: &str, element: &str, findings: &[Finding]) -> bool {
    let mut locations = findings.iter().flat_map(|f| f.locations.iter());
    let element = WRONG_ELEMENT
        .iter()
        .find(|(f, _, _)| *f == file)
        .map_or(element, |(_, e, _)| *e);
    match LENIENT.iter().find(|(f, _, _)| *f == file) {
        None => locations.any(|l| l == element),
        Some((_, anchor, _)) => {
            locations.any(|l| l == anchor || l.starts_with(&format!("{anchor}/")))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Valid fixtures: no findings.

#[test]
fn valid_fixtures_have_no_level2_findings() {
    let files = xml_files(&fixtures().join("valid"));
    assert!(
        files.len() >= 20,
        "expected the valid corpus, found {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match load(f) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(m) => {
                let findings = check(&m);
                if !findings.is_empty() {
                    failures.push(format!("{name}: unexpected findings{}", show(&findings)));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} valid fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Broken fixtures with verdict level2: exactly the listed rules, at the listed element.

#[test]
fn broken_level2_fixtures_give_exactly_the_listed_rules() {
    let v = verdicts("broken/verdicts.json");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (file, entry) in &v {
        let verdict = entry.get("verdict").and_then(|x| x.as_str()).unwrap_or("");
        let path = fixtures().join("broken").join(file);
        match verdict {
            "level2" => {}
            // A file that is valid apart from a warning (BOM) must also pass level 2.
            "valid" => {
                match load(&path) {
                    Ok(m) if check(&m).is_empty() => {}
                    Ok(m) => failures.push(format!(
                        "{file}: verdict valid but findings{}",
                        show(&check(&m))
                    )),
                    Err(e) => failures.push(format!("{file}: verdict valid but {e}")),
                }
                continue;
            }
            _ => continue,
        }
        checked += 1;
        let m = match load(&path) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{file}: should pass level 1 but {e}"));
                continue;
            }
        };
        let findings = check(&m);
        let expected: BTreeSet<&str> = entry
            .get("rules")
            .and_then(|r| r.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        let got: BTreeSet<&str> = ids(&findings);
        if got != expected {
            failures.push(format!(
                "{file}: expected {expected:?}, got {got:?}{}",
                show(&findings)
            ));
            continue;
        }
        if let Some(element) = entry.get("element").and_then(|x| x.as_str()) {
            if !element_reported(file, element, &findings) {
                failures.push(format!(
                    "{file}: no finding at {element}{}",
                    show(&findings)
                ));
            }
        }
    }
    assert!(
        checked >= 90,
        "expected the level-2 corpus, checked {checked}"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} level-2 fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every file of the lenient list exists as a level-2 fixture and really needs the leniency
/// (so the list does not silently hide regressions).
#[test]
fn lenient_list_is_needed() {
    let v = verdicts("broken/verdicts.json");
    for (file, _, reason) in LENIENT.iter().chain(WRONG_ELEMENT) {
        let entry = v
            .get(*file)
            .unwrap_or_else(|| panic!("{file} not in verdicts.json"));
        let element = entry
            .get("element")
            .and_then(|x| x.as_str())
            .expect("element");
        let findings = check(&fixture(&format!("broken/{file}")));
        assert!(
            !findings
                .iter()
                .flat_map(|f| &f.locations)
                .any(|l| l == element),
            "{file} ({reason}) matches exactly now; remove it from LENIENT / WRONG_ELEMENT"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Catalogue and texts

const LEVEL2_IDS: &[&str] = &[
    "CD005", "CD007", "CD009", "CD025", "CD034", "CD041", "CD060", "CD075", "CD076", "CD077",
    "CD078", "CD079", "CD080", "CD087", "CS002", "CS003", "CS050", "CS058", "CS089", "CS100",
    "CS139", "CS325", "CS335", "CS336", "CS337", "CS338", "CS339", "CS340", "TR002", "TR006",
    "TR018", "TR061", "TR101", "TR134", "TR137", "TR302", "TR315", "TR316", "TR319", "TR335",
    "TR342", "TR358", "TR416", // Only in 315/317 (docs/level2-rules.md §9).
    "CD043", "CD066", "CD067", "CD068", "CD095", "CD096", "CS343", "TR352", "TR353", "TR380",
    "TR383", "TR386", "TR410",
];

#[test]
fn catalogue_has_every_level2_rule() {
    assert_eq!(LEVEL2_IDS.len(), 56);
    let l2: BTreeSet<&str> = RULES
        .iter()
        .filter(|r| r.level == Level::InMessage)
        .map(|r| r.id)
        .collect();
    let want: BTreeSet<&str> = LEVEL2_IDS.iter().copied().collect();
    assert_eq!(l2, want);
    for r in RULES.iter().filter(|r| r.level == Level::InMessage) {
        assert_eq!(r.code, RetourCode::R0001, "{}", r.id);
        assert!(
            r.text.len() > 20 && r.text.ends_with('.'),
            "{}: {}",
            r.id,
            r.text
        );
    }
}

/// The texts of all elements with local name `local` (prefixed tags, as in the fixtures).
fn texts_of(xml: &str, local: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in xml.match_indices(&format!(":{local}>")) {
        // Only opening tags: `<prefix:Local>`.
        let before = &xml[..i];
        let Some(lt) = before.rfind('<') else {
            continue;
        };
        let prefix = &before[lt + 1..];
        if prefix.starts_with('/') || prefix.contains(['>', ' ', '\n']) {
            continue;
        }
        let rest = &xml[i + local.len() + 2..];
        if let Some(end) = rest.find("</") {
            let t = rest[..end].trim();
            if !t.is_empty() && !t.contains('<') {
                out.push(t.to_string());
            }
        }
    }
    out
}

#[test]
fn findings_never_contain_a_bsn_or_a_name_and_use_catalogue_ids() {
    let mut all = xml_files(&fixtures().join("valid"));
    all.extend(xml_files(&fixtures().join("broken")));
    let mut seen = 0;
    for f in all {
        let Ok(m) = load(&f) else { continue };
        let xml = std::fs::read_to_string(&f).unwrap_or_default();
        let mut secret = texts_of(&xml, "Bsn");
        assert!(
            !secret.is_empty() || !xml.contains("Bsn>"),
            "{}: no Bsn found",
            f.display()
        );
        for n in [
            "Achternaam",
            "Voornamen",
            "Straatnaam",
            "Plaatsnaam",
            "Postcode",
            "Telefoonnummer",
            "Emailadres",
        ] {
            secret.extend(texts_of(&xml, n).into_iter().filter(|t| t.len() > 2));
        }
        for finding in check(&m) {
            seen += 1;
            assert!(RULES
                .iter()
                .any(|r| r.id == finding.rule && r.level == Level::InMessage));
            assert!(
                !finding.locations.is_empty(),
                "{}: {} without location",
                f.display(),
                finding.rule
            );
            for s in &secret {
                assert!(
                    !finding.text.contains(s.as_str()),
                    "{}: {} text contains personal data",
                    f.display(),
                    finding.rule
                );
            }
        }
    }
    assert!(seen > 60);
}

#[test]
fn retour_messages_and_untyped_give_nothing() {
    for f in [
        "valid/302a.xml",
        "valid/302b.xml",
        "valid/306a.xml",
        "valid/306b.xml",
        "valid/308a.xml",
        "valid/308b.xml",
    ] {
        assert!(check(&fixture(f)).is_empty(), "{f}");
    }
    assert!(check(&Message::Untyped(iwmo::message::MessageKind::Wmo319)).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 3. Edge cases from the spec, on typed messages derived from the valid fixtures.

mod edge {
    use super::*;
    use chrono::NaiveDate;
    use iwmo::message::declaratie::DeclaratieClient;
    use iwmo::message::{Prestatie, Wmo301, Wmo305, Wmo323, Wmo325};

    const PR: &str = "/Bericht/Declaratie/Clienten/Client/Prestaties/Prestatie";

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
        findings.iter().filter(|f| f.rule == rule).collect()
    }

    fn m301() -> Wmo301 {
        match fixture("valid/301a.xml") {
            Message::Wmo301(m) => m,
            other => panic!("not a 301: {:?}", other.kind()),
        }
    }

    fn m305() -> Wmo305 {
        match fixture("valid/305a.xml") {
            Message::Wmo305(m) => m,
            other => panic!("not a 305: {:?}", other.kind()),
        }
    }

    /// 323a: one client (Bsn ok), one debit Prestatie of 95900, total 95900 D, January 2025,
    /// Dagtekening and DeclaratieDagtekening 2025-02-05.
    fn m323() -> Wmo323 {
        match fixture("valid/323a.xml") {
            Message::Wmo323(m) => m,
            other => panic!("not a 323: {:?}", other.kind()),
        }
    }

    fn m325() -> Wmo325 {
        match fixture("valid/325b.xml") {
            Message::Wmo325(m) => m,
            other => panic!("not a 325: {:?}", other.kind()),
        }
    }

    fn first_prestatie(m: &Wmo323) -> Prestatie {
        m.declaratie.clienten[0].prestaties[0].clone()
    }

    fn with_amount(
        p: &Prestatie,
        reference: &str,
        cents: u64,
        dc: DebetCredit,
        vorig: Option<&str>,
    ) -> Prestatie {
        let mut p = p.clone();
        p.product_referentie.referentie_nummer = reference.to_string();
        p.product_referentie.vorig_referentie_nummer = vorig.map(str::to_string);
        p.ingediend_bedrag = BedragMetDc {
            bedrag: Bedrag::new(cents).expect("bedrag"),
            debet_credit: dc,
        };
        p
    }

    fn set_total(m: &mut Wmo323, cents: u64, dc: DebetCredit) {
        m.declaratie.totaal_ingediend_bedrag = TotaalBedragMetDc {
            totaal_bedrag: TotaalBedrag::new(cents).expect("totaal"),
            debet_credit: dc,
        };
    }

    fn run323(m: Wmo323) -> Vec<Finding> {
        check(&Message::Wmo323(m))
    }

    #[test]
    fn cs325_zero_credit_line() {
        let mut m = m323();
        let p = first_prestatie(&m);
        let zero = with_amount(&p, "PR-ZERO", 0, DebetCredit::Credit, Some("PR-OLD"));
        m.declaratie.clienten[0].prestaties.push(zero);
        let f = run323(m.clone());
        assert_eq!(ids(&f), BTreeSet::from(["CS325"]), "{}", show(&f));
        assert_eq!(
            of(&f, "CS325")[0].locations,
            vec![
                format!("{PR}[2]/IngediendBedrag/Bedrag"),
                format!("{PR}[2]/IngediendBedrag/DebetCredit")
            ]
        );
        // Zero as debit is fine (but then a VorigReferentieNummer is not allowed: CD060).
        let mut zero_debit = with_amount(&p, "PR-ZERO", 0, DebetCredit::Debet, None);
        zero_debit.toewijzing_nummer = Nummer::new(40002).expect("nummer"); // else TR416
        m.declaratie.clienten[0].prestaties[1] = zero_debit;
        let f = run323(m);
        assert!(f.is_empty(), "{}", show(&f));
    }

    #[test]
    fn cs325_zero_credit_total_but_tr358_satisfied() {
        let mut m = m323();
        let p = first_prestatie(&m);
        let credit = with_amount(&p, "PR-CREDIT", 95900, DebetCredit::Credit, Some("PR-OLD"));
        m.declaratie.clienten[0].prestaties.push(credit);
        // Σ = 95900 − 95900 = 0: "0 C" is numerically right (no TR358) but must be D (CS325).
        set_total(&mut m, 0, DebetCredit::Credit);
        let f = run323(m.clone());
        assert_eq!(ids(&f), BTreeSet::from(["CS325"]), "{}", show(&f));
        assert_eq!(
            of(&f, "CS325")[0].locations,
            vec![
                "/Bericht/Declaratie/TotaalIngediendBedrag/TotaalBedrag".to_string(),
                "/Bericht/Declaratie/TotaalIngediendBedrag/DebetCredit".to_string()
            ]
        );
        set_total(&mut m, 0, DebetCredit::Debet);
        assert!(run323(m).is_empty());
    }

    #[test]
    fn tr358_credits_can_make_a_credit_total() {
        let mut m = m323();
        let p = first_prestatie(&m);
        m.declaratie.clienten[0].prestaties = vec![
            with_amount(&p, "PR-D", 10000, DebetCredit::Debet, None),
            with_amount(&p, "PR-C", 30000, DebetCredit::Credit, Some("PR-OLD")),
        ];
        // Σ = 10000 − 30000 = −20000 → 20000 C.
        set_total(&mut m, 20000, DebetCredit::Credit);
        let f = run323(m.clone());
        assert!(f.is_empty(), "{}", show(&f));
        for (cents, dc) in [
            (20000, DebetCredit::Debet),
            (0, DebetCredit::Debet),
            (40000, DebetCredit::Credit),
        ] {
            set_total(&mut m, cents, dc);
            let f = run323(m.clone());
            assert_eq!(
                ids(&f),
                BTreeSet::from(["TR358"]),
                "{cents} {dc}: {}",
                show(&f)
            );
            assert_eq!(
                of(&f, "TR358")[0].locations,
                vec![
                    "/Bericht/Declaratie/TotaalIngediendBedrag/TotaalBedrag".to_string(),
                    "/Bericht/Declaratie/TotaalIngediendBedrag/DebetCredit".to_string(),
                    format!("{PR}[1]/IngediendBedrag"),
                    format!("{PR}[2]/IngediendBedrag"),
                ]
            );
        }
    }

    #[test]
    fn tr416_only_within_one_client() {
        let mut m = m323();
        let p = first_prestatie(&m);
        let second = with_amount(&p, "PR-OTHER", 95900, DebetCredit::Debet, None);
        // The same debit for a second client: allowed.
        m.declaratie.clienten.push(DeclaratieClient {
            bsn: Bsn::parse("999990032").expect("bsn"),
            prestaties: vec![second.clone()],
        });
        set_total(&mut m, 2 * 95900, DebetCredit::Debet);
        let f = run323(m.clone());
        assert!(f.is_empty(), "{}", show(&f));
        // The same debit twice for one client: TR416 at the pair.
        m.declaratie.clienten.pop();
        m.declaratie.clienten[0].prestaties.push(second);
        let f = run323(m.clone());
        assert_eq!(ids(&f), BTreeSet::from(["TR416"]), "{}", show(&f));
        assert_eq!(
            of(&f, "TR416")[0].locations,
            vec![format!("{PR}[1]"), format!("{PR}[2]")]
        );
        // A credit with the same key is not a second debit.
        let credit = with_amount(&p, "PR-C", 95900, DebetCredit::Credit, Some("PR-OLD"));
        m.declaratie.clienten[0].prestaties[1] = credit;
        set_total(&mut m, 0, DebetCredit::Debet);
        let f = run323(m);
        assert!(f.is_empty(), "{}", show(&f));
    }

    #[test]
    fn tr101_groups_and_keys() {
        // Three identical StartProducts: one TR101 with three locations.
        let mut m = m305();
        let sp = m.client.producten[0].clone();
        m.client.producten = vec![sp.clone(), sp.clone(), sp.clone()];
        let f = check(&Message::Wmo305(m.clone()));
        assert_eq!(ids(&f), BTreeSet::from(["TR101"]), "{}", show(&f));
        let base = "/Bericht/Client/StartProducten/StartProduct";
        assert_eq!(of(&f, "TR101").len(), 1);
        assert_eq!(
            of(&f, "TR101")[0].locations,
            vec![
                format!("{base}[1]"),
                format!("{base}[2]"),
                format!("{base}[3]")
            ]
        );
        // StatusAanlevering is not part of the key; Begindatum is.
        m.client.producten[1].status_aanlevering = StatusAanlevering::VerwijderenAanlevering;
        m.client.producten[2].begindatum = d("2025-01-02");
        let f = check(&Message::Wmo305(m));
        assert_eq!(
            of(&f, "TR101")[0].locations,
            vec![format!("{base}[1]"), format!("{base}[2]")]
        );

        // 323: a debit and its credit with the same ReferentieNummer are not duplicates
        // (different VorigReferentieNummer); identical ProductReferenties are.
        let mut m = m323();
        let p = first_prestatie(&m);
        m.declaratie.clienten[0].prestaties.push(with_amount(
            &p,
            &p.product_referentie.referentie_nummer,
            95900,
            DebetCredit::Credit,
            Some("PR-OLD"),
        ));
        set_total(&mut m, 0, DebetCredit::Debet);
        assert!(of(&run323(m.clone()), "TR101").is_empty());
        let dup = m.declaratie.clienten[0].prestaties[1].clone();
        m.declaratie.clienten[0].prestaties.push(dup);
        set_total(&mut m, 95900, DebetCredit::Credit);
        let f = run323(m);
        // The two credits also share a VorigReferentieNummer (TR315).
        assert_eq!(ids(&f), BTreeSet::from(["TR101", "TR315"]), "{}", show(&f));
        assert_eq!(
            of(&f, "TR101")[0].locations,
            vec![format!("{PR}[2]"), format!("{PR}[3]")]
        );

        // 301: two ToegewezenProducten with the same ToewijzingNummer.
        let mut m = m301();
        let mut tp = m.client.toegewezen_producten[0].clone();
        tp.ingangsdatum = d("2026-01-01");
        tp.einddatum = Some(d("2026-12-31"));
        m.client.toegewezen_producten.push(tp);
        let f = check(&Message::Wmo301(m));
        assert_eq!(ids(&f), BTreeSet::from(["TR101"]), "{}", show(&f));
    }

    #[test]
    fn tr335_sixty_month_boundary() {
        let tr335 = |dagtekening: &str, eind: &str| {
            let mut m = m323();
            m.declaratie.declaratie_dagtekening = d(dagtekening);
            let p = &mut m.declaratie.clienten[0].prestaties[0];
            p.product_periode = Periode {
                begindatum: d(&format!("{}01", &eind[..8])),
                einddatum: d(eind),
            };
            !of(&run323(m), "TR335").is_empty()
        };
        assert!(
            !tr335("2026-03-05", "2021-03-05"),
            "exactly 5 years is allowed"
        );
        assert!(tr335("2026-03-05", "2021-03-04"));
        // 2024-02-29 − 5 years = 2019-02-28 (the 29th does not exist).
        assert!(!tr335("2024-02-29", "2019-02-28"));
        assert!(tr335("2024-02-29", "2019-02-27"));
        let mut m = m323();
        m.declaratie.declaratie_dagtekening = d("2026-03-05");
        m.declaratie.clienten[0].prestaties[0].product_periode = Periode {
            begindatum: d("2021-02-01"),
            einddatum: d("2021-02-28"),
        };
        let f = run323(m);
        assert_eq!(
            of(&f, "TR335")[0].locations,
            vec![
                "/Bericht/Declaratie/DeclaratieDagtekening".to_string(),
                format!("{PR}/ProductPeriode/Einddatum")
            ]
        );
    }

    #[test]
    fn cs340_whole_month_with_overflow_arithmetic() {
        let cs340 = |b: &str, e: &str| {
            let mut m = m323();
            m.declaratie.declaratie_periode = Periode {
                begindatum: d(b),
                einddatum: d(e),
            };
            run323(m)
                .into_iter()
                .filter(|f| f.rule == "CS340")
                .map(|f| f.locations)
                .collect::<Vec<_>>()
        };
        assert!(cs340("2025-01-01", "2025-01-31").is_empty());
        assert!(cs340("2024-02-01", "2024-02-29").is_empty());
        let dp = "/Bericht/Declaratie/DeclaratiePeriode";
        assert_eq!(
            cs340("2024-02-01", "2024-02-28"),
            vec![vec![format!("{dp}/Begindatum"), format!("{dp}/Einddatum")]]
        );
        // 2025-01-31 + 1 month overflows to 2025-03-03 = 2025-03-02 + 1 day: only the
        // "not on the 1st" check fires.
        assert_eq!(
            cs340("2025-01-31", "2025-03-02"),
            vec![vec![format!("{dp}/Begindatum")]]
        );
        assert_eq!(cs340("2025-01-02", "2025-01-31").len(), 2);
    }

    #[test]
    fn cs337_year_and_month_are_separate_findings() {
        let mut m = m323();
        m.declaratie.clienten[0].prestaties[0].product_periode = Periode {
            begindatum: d("2024-12-01"),
            einddatum: d("2025-01-31"),
        };
        let f = run323(m.clone());
        assert_eq!(of(&f, "CS337").len(), 2, "{}", show(&f));
        m.declaratie.clienten[0].prestaties[0].product_periode = Periode {
            begindatum: d("2024-01-01"),
            einddatum: d("2025-01-31"),
        };
        assert_eq!(of(&run323(m), "CS337").len(), 1);
    }

    #[test]
    fn tr137_two_independent_checks() {
        let mut m = m323();
        m.declaratie.clienten[0].prestaties[0].product_periode = Periode {
            begindatum: d("2025-02-10"),
            einddatum: d("2025-02-06"),
        };
        let f = run323(m);
        let t = of(&f, "TR137");
        assert_eq!(t.len(), 2, "{}", show(&f));
        assert_eq!(
            t[0].locations,
            vec![
                format!("{PR}/ProductPeriode/Begindatum"),
                format!("{PR}/ProductPeriode/Einddatum")
            ]
        );
        assert_eq!(
            t[1].locations,
            vec![
                "/Bericht/Header/BerichtIdentificatie/Dagtekening".to_string(),
                format!("{PR}/ProductPeriode/Einddatum")
            ]
        );
    }

    #[test]
    fn tr315_tr316_pairs_across_clients() {
        let mut m = m323();
        let p = first_prestatie(&m);
        // Client 2 credits client 1's debit in the same message (TR316 across clients).
        m.declaratie.clienten.push(DeclaratieClient {
            bsn: Bsn::parse("999990032").expect("bsn"),
            prestaties: vec![with_amount(
                &p,
                "PR-C",
                95900,
                DebetCredit::Credit,
                Some("PR2501000001"),
            )],
        });
        set_total(&mut m, 0, DebetCredit::Debet);
        let f = run323(m);
        assert_eq!(ids(&f), BTreeSet::from(["TR316"]), "{}", show(&f));
        assert_eq!(
            of(&f, "TR316")[0].locations,
            vec![
                "/Bericht/Declaratie/Clienten/Client[1]/Prestaties/Prestatie/ProductReferentie/ReferentieNummer".to_string(),
                "/Bericht/Declaratie/Clienten/Client[2]/Prestaties/Prestatie/ProductReferentie/VorigReferentieNummer"
                    .to_string(),
            ]
        );

        // Three credits with the same VorigReferentieNummer: 3 pairs.
        let mut m = m323();
        let p = first_prestatie(&m);
        let c = |r: &str| with_amount(&p, r, 100, DebetCredit::Credit, Some("PR-OLD"));
        m.declaratie.clienten[0]
            .prestaties
            .extend([c("A"), c("B"), c("C")]);
        set_total(&mut m, 95600, DebetCredit::Debet);
        let f = run323(m);
        assert_eq!(ids(&f), BTreeSet::from(["TR315"]), "{}", show(&f));
        assert_eq!(of(&f, "TR315").len(), 3);
    }

    #[test]
    fn pair_rules_are_capped() {
        let mut m = m323();
        let p = first_prestatie(&m);
        let n = 100u64;
        m.declaratie.clienten[0].prestaties = (0..n)
            .map(|i| with_amount(&p, &format!("R{i}"), 1, DebetCredit::Credit, Some("SAME")))
            .collect();
        set_total(&mut m, n, DebetCredit::Credit);
        let f = run323(m);
        // n·(n−1)/2 = 4950 pairs, reported up to the cap.
        assert_eq!(of(&f, "TR315").len(), 1000);
    }

    #[test]
    fn tr342_cases() {
        let m = m325();
        assert!(check(&Message::Wmo325(m.clone())).is_empty());
        let antwoord = "/Bericht/DeclaratieAntwoord";
        // Case A: ingediend − toegekend must equal the returned Prestaties (150700).
        let mut a = m.clone();
        if let Some(da) = a.declaratie_antwoord.as_mut() {
            da.totaal_toegekend_bedrag.totaal_bedrag = TotaalBedrag::new(13800).expect("totaal");
        }
        let f = check(&Message::Wmo325(a));
        assert_eq!(ids(&f), BTreeSet::from(["TR342"]), "{}", show(&f));
        assert_eq!(
            f[0].locations,
            vec![
                format!("{antwoord}/TotaalIngediendBedrag"),
                format!("{antwoord}/TotaalToegekendBedrag")
            ]
        );
        // Case B: the whole declaration rejected → TotaalToegekendBedrag must be 0.
        let mut b = m.clone();
        if let Some(da) = b.declaratie_antwoord.as_mut() {
            da.retour_codes = vec![RetourCode::R9321];
        }
        let f = check(&Message::Wmo325(b.clone()));
        assert_eq!(ids(&f), BTreeSet::from(["TR342"]), "{}", show(&f));
        assert_eq!(
            f[0].locations,
            vec![format!("{antwoord}/TotaalToegekendBedrag")]
        );
        if let Some(da) = b.declaratie_antwoord.as_mut() {
            da.totaal_toegekend_bedrag = TotaalBedragMetDc {
                totaal_bedrag: TotaalBedrag::new(0).expect("totaal"),
                debet_credit: DebetCredit::Debet,
            };
        }
        assert!(check(&Message::Wmo325(b.clone())).is_empty());
        // A zero total as credit is CS325 in a 325 too.
        if let Some(da) = b.declaratie_antwoord.as_mut() {
            da.totaal_toegekend_bedrag.debet_credit = DebetCredit::Credit;
        }
        assert_eq!(ids(&check(&Message::Wmo325(b))), BTreeSet::from(["CS325"]));
        // Header-only 325: no rules.
        let mut h = m;
        h.declaratie_antwoord = None;
        assert!(check(&Message::Wmo325(h)).is_empty());
    }

    #[test]
    fn tr002_and_tr134_boundaries() {
        // 305a: Dagtekening 2025-01-10.
        let run = |datum: &str, gebruik: Option<DatumGebruik>| {
            let mut m = m305();
            m.client.geboortedatum.datum = d(datum);
            m.client.geboortedatum.datum_gebruik = gebruik;
            ids(&check(&Message::Wmo305(m)))
                .into_iter()
                .map(str::to_string)
                .collect::<BTreeSet<String>>()
        };
        assert!(
            run("1905-01-10", None).is_empty(),
            "exactly 120 years is allowed"
        );
        assert_eq!(
            run("1905-01-09", None),
            BTreeSet::from(["TR002".to_string()])
        );
        assert!(
            run("1900-01-01", Some(DatumGebruik::GeheelOnbekend)).is_empty(),
            "unknown birth date"
        );
        assert!(
            run("2025-01-10", None).is_empty(),
            "born on the Dagtekening is allowed"
        );
        assert_eq!(
            run("2025-01-11", None),
            BTreeSet::from(["TR134".to_string()])
        );
        assert_eq!(
            run("1950-03-01", Some(DatumGebruik::DagEnMaandOnbekend)),
            BTreeSet::from(["CS139".to_string()])
        );
        assert!(run("1950-01-01", Some(DatumGebruik::DagEnMaandOnbekend)).is_empty());
    }

    #[test]
    fn tr302_overlap_and_exemptions() {
        let base = m301();
        let tp = base.client.toegewezen_producten[0].clone(); // 02/02A01, 2025-01-06 … 2025-12-31
        let run = |f: &dyn Fn(&mut iwmo::message::ToegewezenProduct)| {
            let mut m = base.clone();
            let mut second = tp.clone();
            second.toewijzing_nummer = Nummer::new(40099).expect("nummer");
            f(&mut second);
            m.client.toegewezen_producten.push(second);
            check(&Message::Wmo301(m))
        };
        let overlapping = run(&|t| t.ingangsdatum = d("2025-12-31"));
        assert_eq!(
            ids(&overlapping),
            BTreeSet::from(["TR302"]),
            "{}",
            show(&overlapping)
        );
        let tp_path = "/Bericht/Client/ToegewezenProducten/ToegewezenProduct";
        assert_eq!(
            overlapping[0].locations,
            vec![format!("{tp_path}[1]"), format!("{tp_path}[2]")]
        );
        let adjacent = run(&|t| {
            t.ingangsdatum = d("2026-01-01");
            t.einddatum = Some(d("2026-06-30"));
        });
        assert!(adjacent.is_empty(), "adjacent periods: {}", show(&adjacent));
        // Open end overlaps everything after the begin.
        assert_eq!(
            ids(&run(&|t| {
                t.ingangsdatum = d("2020-01-01");
                t.einddatum = None;
                t.omvang = t.omvang.map(|mut o| {
                    o.frequentie = Frequentie::PerMaand;
                    o
                });
            })),
            BTreeSet::from(["TR302"])
        );
        // Hulpmiddelen may overlap.
        let hulp = |t: &mut iwmo::message::ToegewezenProduct| {
            if let Some(p) = t.product.as_mut() {
                p.categorie = ProductCategorie::Rolstoelen;
            }
        };
        assert!(run(&hulp).is_empty());
        // A deleted toewijzing (RedenWijziging 13, Einddatum = Ingangsdatum) is ignored.
        assert!(run(&|t| {
            t.reden_wijziging = Some(RedenWijziging::Verwijderd);
            t.einddatum = Some(t.ingangsdatum);
        })
        .is_empty());
        // Another product code of the same category does not count …
        let other_code = |t: &mut iwmo::message::ToegewezenProduct| {
            if let Some(p) = t.product.as_mut() {
                p.code = Some(iwmo::message::ProductCode::parse("02A02").expect("code"));
            }
        };
        assert!(run(&other_code).is_empty());
    }

    #[test]
    fn findings_follow_xslt_order_cd078_before_cd077() {
        let mut m = m301();
        let tp = &mut m.client.toegewezen_producten[0];
        tp.budget = Some(Bedrag::new(1000).expect("budget"));
        let f = check(&Message::Wmo301(m));
        let order: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(order, vec!["CD078", "CD077"], "{}", show(&f));
    }

    #[test]
    fn cs003_on_contact_periode_without_begindatum() {
        let mut m = m301();
        let c = &mut m.client.contactgegevens[0];
        c.periode = Some(OpenPeriode {
            begindatum: None,
            einddatum: Some(d("2025-06-30")),
        });
        let f = check(&Message::Wmo301(m));
        // Contact 01 with a Periode: CD009 too.
        assert_eq!(ids(&f), BTreeSet::from(["CD009", "CS003"]), "{}", show(&f));
        let cs003 = of(&f, "CS003");
        assert_eq!(
            cs003[0].locations,
            vec!["/Bericht/Client/Contactgegevens/Contact/Periode/Einddatum".to_string()]
        );
        // CS003 (at Periode/Einddatum) comes before CD009 (at Periode).
        assert_eq!(f[0].rule, "CS003");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. WMO315 / WMO317 quirks of the XSLT, on messages derived from the valid fixtures.

mod verzoek {
    use super::*;
    use chrono::NaiveDate;
    use iwmo::message::{Wmo315, Wmo317};

    const AP: &str = "/Bericht/Client/AangevraagdeProducten/AangevraagdProduct";
    const VZ: &str = "/Bericht/Client/Verzoek";

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn m315() -> Wmo315 {
        match fixture("valid/315a.xml") {
            Message::Wmo315(m) => m,
            other => panic!("not a 315: {:?}", other.kind()),
        }
    }

    fn m317() -> Wmo317 {
        match fixture("valid/317b.xml") {
            Message::Wmo317(m) => m,
            other => panic!("not a 317: {:?}", other.kind()),
        }
    }

    fn located(f: &[Finding]) -> Vec<(&str, Vec<&str>)> {
        f.iter()
            .map(|f| {
                (
                    f.rule.as_str(),
                    f.locations.iter().map(String::as_str).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn tr383_reports_every_earlier_duplicate_and_tr101_the_group() {
        let mut m = m315();
        let a = m.client.producten[0].clone();
        let mut other_product = a.clone();
        other_product.product = None;
        other_product.budget = Some(Bedrag::new(1000).expect("budget"));
        other_product.omvang = None;
        other_product.toewijzing_ingangsdatum = d("2026-01-01");
        other_product.toewijzing_einddatum = Some(d("2026-06-30"));
        m.client.producten = vec![a.clone(), other_product.clone(), other_product];
        let f = check(&Message::Wmo315(m));
        let r1 = format!("{AP}[1]/ReferentieAanbieder");
        let r2 = format!("{AP}[2]/ReferentieAanbieder");
        let (p1, p2, p3) = (format!("{AP}[1]"), format!("{AP}[2]"), format!("{AP}[3]"));
        // AP[2] and AP[3] are the same generic request for overlapping periods: TR386 too.
        assert_eq!(
            located(&f),
            vec![
                ("TR383", vec![r1.as_str()]),
                ("TR383", vec![r1.as_str()]),
                ("TR383", vec![r2.as_str()]),
                ("TR386", vec![p2.as_str(), p3.as_str()]),
                ("TR101", vec![p1.as_str(), p2.as_str(), p3.as_str()]),
            ],
            "{}",
            show(&f)
        );
    }

    #[test]
    fn verwijzer_rules_by_type() {
        let run = |soort: &str, naam: Option<&str>, code: Option<&str>| {
            let mut m = m315();
            let v = &mut m.client.producten[0].verwijzer;
            v.soort =
                iwmo::message::common::ListCode::parse("LDT_TypeVerwijzer", soort).expect("type");
            v.naam = naam.map(str::to_string);
            v.zorgverlener_code = code.map(|c| AgbCode::parse(c).expect("agb"));
            ids(&check(&Message::Wmo315(m)))
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let v = Some("01234567");
        assert_eq!(run("02", Some("Praktijk"), v), ["CD066"]);
        assert_eq!(run("05", None, None), ["CD067"]);
        assert!(run("03", None, v).is_empty());
        assert!(run("04", Some("Praktijk"), None).is_empty());
        assert_eq!(run("01", None, v), ["CD068"]);
        assert_eq!(run("08", Some("Wijkteam"), v), ["CD068"]);
        assert!(run("06", None, None).is_empty(), "other types need no name");
        let mut m = m315();
        let v = &mut m.client.producten[0].verwijzer;
        v.soort = iwmo::message::common::ListCode::parse("LDT_TypeVerwijzer", "02").expect("type");
        v.naam = Some("Praktijk".into());
        v.zorgverlener_code = Some(AgbCode::parse("01234567").expect("agb"));
        let f = check(&Message::Wmo315(m));
        let base = format!("{AP}/Verwijzer");
        assert_eq!(
            f[0].locations,
            vec![
                format!("{base}/Type"),
                format!("{base}/Naam"),
                format!("{base}/ZorgverlenerCode")
            ]
        );
    }

    #[test]
    fn tr380_gewenste_ingangsdatum_strictly_after_dagtekening() {
        // 317b: Dagtekening 2025-03-20.
        let run = |gewenst: &str| {
            let mut m = m317();
            m.client.verzoek.nieuwe_producten[0].gewenste_ingangsdatum = d(gewenst);
            check(&Message::Wmo317(m))
        };
        assert!(run("2025-03-21").is_empty());
        let f = run("2025-03-20");
        assert_eq!(
            located(&f),
            vec![(
                "TR380",
                vec![
                    "/Bericht/Header/BerichtIdentificatie/Dagtekening",
                    "/Bericht/Client/Verzoek/NieuweProducten/NieuwProduct/GewensteIngangsdatum"
                ]
            )]
        );
        assert_eq!(ids(&run("2024-12-31")), BTreeSet::from(["TR380"]));
    }

    #[test]
    fn empty_verzoek_gives_tr352_and_tr353_at_the_verzoek() {
        let mut m = m317();
        m.client.verzoek.ongewijzigde_producten.clear();
        m.client.verzoek.nieuwe_producten.clear();
        let f = check(&Message::Wmo317(m.clone()));
        assert_eq!(
            located(&f),
            vec![("TR352", vec![VZ]), ("TR353", vec![VZ])],
            "{}",
            show(&f)
        );
        // The written message still reads (every list is optional in the XSD).
        let again = read(
            Message::Wmo317(m).to_xml().expect("typed").as_bytes(),
            ReadOptions::default(),
        )
        .expect("reads");
        assert_eq!(check(&again.message).len(), 2);
    }

    #[test]
    fn findings_of_a_317_follow_xslt_order() {
        // TeWijzigenProduct CS003 (at Einddatum) before NieuwProduct TR380, then TR101s, then
        // the Verzoek rules.
        let mut m = match fixture("valid/317a.xml") {
            Message::Wmo317(m) => m,
            other => panic!("not a 317: {:?}", other.kind()),
        };
        let b = m317();
        m.client.verzoek.te_wijzigen_producten[0].einddatum = Some(d("2025-03-31"));
        let mut np = b.client.verzoek.nieuwe_producten[0].clone();
        np.gewenste_ingangsdatum = d("2025-03-01");
        m.client.verzoek.nieuwe_producten = vec![np.clone(), np];
        let f = check(&Message::Wmo317(m));
        let order: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(
            order,
            vec!["CS003", "TR380", "TR380", "TR410", "TR101"],
            "{}",
            show(&f)
        );
    }
}
