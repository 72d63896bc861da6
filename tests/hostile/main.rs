//! Hostile input: each answered with a clear error, without expansion, in bounded time and memory
//! (size cap before parsing, depth cap while parsing, no DOCTYPE at all).

#[path = "../common/mod.rs"]
mod common;
// One module per kind of hostile input (added by the work on issue 13).
mod answers;
mod files;
mod personal;
mod process;

use iwmo::check::check_bytes;
use iwmo::intake::IntakeError;
use iwmo::message::{read, ReadError, ReadOptions};

const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
const NS: &str = r#"xmlns:wmo305="http://www.istandaarden.nl/iwmo/3_2/wmo305/schema""#;

fn intake_kind(bytes: &[u8]) -> &'static str {
    match read(bytes, ReadOptions::default()) {
        Err(ReadError::Intake(e)) => e.kind(),
        Err(ReadError::Structure { .. }) => "level1",
        Err(ReadError::Convert { .. }) => "convert",
        Ok(_) => "ok",
    }
}

fn valid_305() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/valid/305a.xml"
    ))
    .unwrap()
}

#[test]
fn billion_laughs_is_refused_without_expansion() {
    let mut s = String::from(HEADER);
    s.push_str("<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        s.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&lol{};", i - 1).repeat(10)
        ));
    }
    s.push_str(&format!("]><wmo305:Bericht {NS}>&lol9;</wmo305:Bericht>"));
    assert_eq!(intake_kind(s.as_bytes()), "doctype");
}

#[test]
fn external_entity_is_refused() {
    let s = format!(
        "{HEADER}<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><wmo305:Bericht {NS}>&xxe;</wmo305:Bericht>"
    );
    assert_eq!(intake_kind(s.as_bytes()), "doctype");
    // Without a DOCTYPE an unknown entity is simply not well-formed.
    let s = format!(
        "{HEADER}<wmo305:Bericht {NS}><wmo305:Header>&xxe;</wmo305:Header></wmo305:Bericht>"
    );
    assert_eq!(intake_kind(s.as_bytes()), "not-well-formed");
}

#[test]
fn deep_nesting_stops_at_the_depth_cap() {
    let n = 100_000;
    let mut s = format!("{HEADER}<wmo305:Bericht {NS}>");
    s.push_str(&"<a>".repeat(n));
    s.push_str(&"</a>".repeat(n));
    s.push_str("</wmo305:Bericht>");
    let e = read(s.as_bytes(), ReadOptions::default()).unwrap_err();
    assert!(
        matches!(&e, ReadError::Intake(IntakeError::NotWellFormed { message, .. }) if message.contains("genest")),
        "{e:?}"
    );
}

#[test]
fn thirty_megabytes_is_refused_before_parsing() {
    let mut big = valid_305();
    let pad = vec![b' '; 30 * 1024 * 1024];
    big.splice(big.len() - 1..big.len() - 1, pad);
    assert_eq!(intake_kind(&big), "too-large");
    let v = check_bytes("big.xml", &big, ReadOptions::default());
    assert!(v.error.unwrap().message.contains("te groot"));
    // A file on disk is not even read into memory.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.xml");
    std::fs::write(&p, &big).unwrap();
    let err = iwmo::check::read_file(&p, iwmo::intake::DEFAULT_MAX_BYTES).unwrap_err();
    assert_eq!(err.error.unwrap().kind, "too-large");
}

#[test]
fn latin1_declaration_is_refused() {
    let s = String::from_utf8(valid_305())
        .unwrap()
        .replace("UTF-8", "ISO-8859-1");
    assert_eq!(intake_kind(s.as_bytes()), "encoding");
}

#[test]
fn invalid_utf8_is_refused_with_its_position() {
    let mut b = valid_305();
    let pos = b.len() / 2;
    b[pos] = 0xFF;
    match read(&b, ReadOptions::default()) {
        Err(ReadError::Intake(IntakeError::InvalidUtf8 { offset })) => assert_eq!(offset, pos),
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_and_whitespace_files_are_refused() {
    assert_eq!(intake_kind(b""), "empty");
    assert_eq!(intake_kind(b"  \n\t"), "empty");
}

#[test]
fn bom_is_tolerated_and_reported() {
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend(valid_305());
    let parsed = read(&b, ReadOptions::default()).unwrap();
    assert!(parsed.had_bom);
    let v = check_bytes("bom.xml", &b, ReadOptions::default());
    assert_eq!(v.verdict, "valid");
    assert_eq!(v.warnings.len(), 1);
}

#[test]
fn control_characters_and_utf16_are_refused() {
    let s = String::from_utf8(valid_305())
        .unwrap()
        .replace("Jansen", "Jan\u{1}sen");
    assert_eq!(intake_kind(s.as_bytes()), "not-well-formed");
    assert_eq!(intake_kind(b"\xFF\xFE<\x00a\x00/\x00>\x00"), "encoding");
}

#[test]
fn other_releases_and_standards_get_a_clear_answer() {
    let s = String::from_utf8(valid_305()).unwrap();
    assert_eq!(
        intake_kind(s.replace("3_2", "3_1").as_bytes()),
        "unsupported-release"
    );
    assert_eq!(
        intake_kind(s.replace("3_2", "3_0").as_bytes()),
        "unsupported-release"
    );
    let ijw = s
        .replace("iwmo/3_2/wmo305", "ijw/3_2/jw305")
        .replace("iwmo/3_2/basisschema", "ijw/3_2/basisschema");
    assert_eq!(intake_kind(ijw.as_bytes()), "unsupported-standard");
    assert_eq!(
        intake_kind(
            s.replace("http://www.istandaarden.nl/iwmo/3_2/wmo305/schema", "urn:x")
                .as_bytes()
        ),
        "not-iwmo"
    );
    let e = read(s.replace("3_2", "3_1").as_bytes(), ReadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("3.1"), "{e}");
}

#[test]
fn errors_never_show_a_bsn_or_a_name() {
    // A BSN of 10 digits and a name that is far too long: both rejected at level 1 without echo.
    let s = String::from_utf8(valid_305())
        .unwrap()
        .replace("999990019", "9999900191")
        .replace("Jansen", &"Jansen".repeat(40));
    let v = check_bytes("x.xml", s.as_bytes(), ReadOptions::default());
    assert_eq!(v.verdict, "level1");
    let text = serde_json::to_string(&v).unwrap() + &iwmo::check::render_text(&v);
    assert!(!text.contains("999990019"), "{text}");
    assert!(!text.contains("Jansen"), "{text}");
}

#[test]
fn peak_memory_of_a_child_is_measured() {
    let m = common::run_measured(std::process::Command::new("true").arg("x"));
    assert!(m.status.success());
    assert!(m.peak_kib > 0 && m.peak_kib < 100_000, "{}", m.peak_kib);
}
