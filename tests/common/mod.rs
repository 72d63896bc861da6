//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository (override with IWMO_SHARED_DIR).
pub fn shared() -> PathBuf {
    std::env::var_os("IWMO_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("..").join("shared"))
}

pub fn fixtures(sub: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures").join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    v.sort();
    v
}

pub fn verdicts(sub: &str) -> serde_json::Value {
    let p = root().join("fixtures").join(sub).join("verdicts.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Whether the official-XSD oracle can run here (python3 with lxml and ../shared present).
/// With IWMO_REQUIRE_XSD=1 (set by .ci/run) a missing oracle is a failure, not a skip.
pub fn xsd_oracle_available() -> bool {
    let script = shared().join("tools").join("xsd-validate.py");
    let ok = script.exists()
        && Command::new("python3")
            .args(["-c", "import lxml"])
            .status()
            .is_ok_and(|s| s.success());
    if !ok && std::env::var("IWMO_REQUIRE_XSD").as_deref() == Ok("1") {
        panic!(
            "XSD oracle required (IWMO_REQUIRE_XSD=1) but python3+lxml or {} is missing",
            script.display()
        );
    }
    if !ok {
        eprintln!("skipped: XSD oracle not available (pip install lxml; ../shared)");
    }
    ok
}

/// Runs ../shared/tools/xsd-validate.py over the files; returns per file whether it is valid,
/// plus the oracle's messages. The oracle aborts on some hostile inputs (lxml raises on an
/// undefined entity, for instance): such a file counts as invalid and the run resumes after it.
pub fn xsd_validate(files: &[PathBuf]) -> Vec<(bool, String)> {
    let script = shared().join("tools").join("xsd-validate.py");
    let mut results: Vec<(bool, String)> = Vec::with_capacity(files.len());
    while results.len() < files.len() {
        let rest = &files[results.len()..];
        let out = Command::new("python3")
            .arg(&script)
            .args(rest)
            .output()
            .expect("run xsd-validate.py");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let before = results.len();
        for f in rest {
            let name = f.display().to_string();
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("{name}:")))
                .collect();
            if lines.is_empty() {
                break;
            }
            let valid = lines.len() == 1 && lines[0] == format!("{name}: valid");
            results.push((valid, lines.join("\n")));
        }
        if results.len() < files.len() {
            // The oracle stopped at this file.
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err.lines().last().unwrap_or("").to_string();
            results.push((false, format!("oracle error: {last}")));
        }
        assert!(results.len() > before, "xsd-validate.py made no progress");
    }
    results
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}
