//! Answers within the hubs' limits (issue 13, point 6): a 325 that would exceed
//! `answer_max_bytes` is written compact, and if still too large as several 325s, each within
//! the limit, valid against the XSD and our own level-2 self-check, together carrying every
//! rejected Prestatie exactly once; a replay gives the same parts byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use iwmo::message::{read, Message, ReadOptions};
use iwmo::testkit::synth;

use super::common::{self, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");

fn iwmo(db: &TestDb, dir: &Path, limit: usize, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("IWMO_DATABASE_URL", db.url())
        .env("IWMO_TODAY", "2025-03-01")
        .env("IWMO_ANSWER_MAX_BYTES", limit.to_string())
        .env("IWMO_MAX_BYTES", (64 * 1024 * 1024).to_string())
        .current_dir(dir)
        .output()
        .expect("run iwmo")
}

fn databases() -> Vec<TestDb> {
    let mut v = vec![TestDb::sqlite()];
    if let Ok(url) = std::env::var("IWMO_TEST_PG_URL") {
        v.push(TestDb::postgres(&url));
    }
    v
}

/// Every rejected ReferentieNummer of one 325 file, and its totals (ingediend, toegekend).
fn rejected_and_totals(xml: &[u8]) -> (Vec<String>, i64, i64) {
    let parsed = read(
        xml,
        ReadOptions {
            max_bytes: usize::MAX,
        },
    )
    .expect("325 leesbaar");
    assert!(
        iwmo::rules::inmessage::check(&parsed.message).is_empty(),
        "325 faalt de eigen niveau-2-controle"
    );
    let Message::Wmo325(m) = parsed.message else {
        panic!("geen WMO325")
    };
    let a = m.declaratie_antwoord.expect("DeclaratieAntwoord");
    let refs = a
        .clienten
        .iter()
        .flat_map(|c| &c.item.prestaties)
        .map(|p| p.item.product_referentie.referentie_nummer.clone())
        .collect();
    (
        refs,
        a.totaal_ingediend_bedrag.signed(),
        a.totaal_toegekend_bedrag.signed(),
    )
}

/// Processes a 323 of `n` Prestaties (none has a toewijzing: every line is rejected) under
/// `limit`; returns the answer files and the JSON line.
fn process(db: &TestDb, dir: &Path, n: usize, limit: usize) -> (Vec<PathBuf>, serde_json::Value) {
    let decl = dir.join("323.xml");
    std::fs::write(&decl, synth::wmo323(n, "DC0000000001", "DCL000000001")).unwrap();
    let out = iwmo(db, dir, limit, &["process", "--out", "out", "323.xml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let files: Vec<PathBuf> = match line["answer_parts"].as_array() {
        Some(parts) => parts
            .iter()
            .map(|p| dir.join(p.as_str().unwrap()))
            .collect(),
        None => vec![dir.join(line["answer"].as_str().unwrap())],
    };
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    if files.len() > 1 {
        assert!(stderr.contains("325-berichten"), "geen logregel: {stderr}");
    }
    assert!(!stderr.contains("99999"), "BSN in het log: {stderr}");
    (files, line)
}

fn check_parts(files: &[PathBuf], n: usize, limit: usize) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let (mut ingediend, mut toegekend) = (0i64, 0i64);
    let mut ids = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).unwrap();
        assert!(
            bytes.len() <= limit,
            "{} is {} bytes",
            f.display(),
            bytes.len()
        );
        let (refs, i, t) = rejected_and_totals(&bytes);
        for r in refs {
            *seen.entry(r).or_default() += 1;
        }
        ingediend += i;
        toegekend += t;
        ids.push(f.file_name().unwrap().to_string_lossy().to_string());
    }
    assert_eq!(seen.len(), n, "niet elke afgekeurde Prestatie kwam mee");
    assert!(
        seen.values().all(|&c| c == 1),
        "een Prestatie kwam vaker mee"
    );
    // All lines rejected: the parts add up to the declaration (4 h × €68.50 each), none approved.
    assert_eq!((ingediend, toegekend), (n as i64 * 27_400, 0));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), files.len(), "delen delen een Identificatie");
    if common::xsd_oracle_available() {
        for (ok, msg) in common::xsd_validate(files) {
            assert!(ok, "{msg}");
        }
    }
}

fn replay_is_identical(db: &TestDb, dir: &Path, limit: usize) {
    let out = iwmo(db, dir, limit, &["replay", "--alle"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(" 0 wijken af") && !text.contains("WIJKT AF"),
        "{text}"
    );
}

#[test]
fn a_325_over_the_limit_goes_out_in_parts_each_within_it() {
    for db in databases() {
        let dir = tempfile::tempdir().unwrap();
        let limit = 60_000;
        let (files, line) = process(&db, dir.path(), 300, limit);
        assert!(files.len() >= 3, "[{}] {line}", db.backend);
        assert_eq!(line["outcome"], "rejected");
        check_parts(&files, 300, limit);
        replay_is_identical(&db, dir.path(), limit);
        // The same message again: the same parts again.
        let again = dir.path().join("again");
        std::fs::create_dir_all(&again).unwrap();
        std::fs::copy(dir.path().join("323.xml"), again.join("323.xml")).unwrap();
        let out = iwmo(
            &db,
            dir.path(),
            limit,
            &["process", "--out", "again", "again/323.xml"],
        );
        let line: serde_json::Value =
            serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
        assert_eq!(line["outcome"], "duplicate");
        let parts = line["answer_parts"].as_array().expect("delen opnieuw");
        assert_eq!(parts.len(), files.len());
        for (p, f) in parts.iter().zip(&files) {
            let p = dir.path().join(p.as_str().unwrap());
            assert_eq!(std::fs::read(p).unwrap(), std::fs::read(f).unwrap());
        }
    }
}

#[test]
fn a_325_that_fits_when_compact_stays_one_message() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    // Indented it is ~1.1 KB per rejected line, compact well under 1 KB.
    let (files, line) = process(&db, dir.path(), 40, 40_000);
    assert_eq!(files.len(), 1, "{line}");
    assert!(line.get("answer_parts").is_none(), "{line}");
    let xml = std::fs::read(&files[0]).unwrap();
    assert!(xml.len() <= 40_000);
    assert!(!xml.windows(3).any(|w| w == b">\n "), "niet compact");
    assert!(xml.windows(2).any(|w| w == b"\r\n"), "geen CR/LF (OP192)");
    check_parts(&files, 40, 40_000);
    replay_is_identical(&db, dir.path(), 40_000);
    // Under the default limit the same answer is the usual indented one.
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = process(
        &db,
        dir.path(),
        40,
        iwmo::pipeline::DEFAULT_ANSWER_MAX_BYTES,
    );
    let xml = std::fs::read(&files[0]).unwrap();
    assert!(
        xml.windows(3).any(|w| w == b">\n "),
        "ingesprongen zoals altijd"
    );
}

/// The trial of issue 13: 27,500 Prestaties gave a 30.6 MB answer. Now: within 25 MB.
#[test]
fn the_real_size_declaration_is_answered_within_25_mb() {
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let limit = iwmo::pipeline::DEFAULT_ANSWER_MAX_BYTES;
    let (files, line) = process(&db, dir.path(), 27_500, limit);
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .collect();
    eprintln!(
        "27.500 afgekeurde Prestaties: {} bestand(en), {sizes:?} bytes",
        files.len()
    );
    assert!(sizes.iter().all(|&s| s as usize <= limit), "{line}");
    check_parts(&files, 27_500, limit);
}
