//! The README's "A walk through the embedded default" works as printed: every line of its `sh`
//! block runs, in a scratch directory that holds the fixtures as a fresh clone has them, with
//! the built binary for `iwmo`; each exits 0 unless its comment says "exit N". The key outputs
//! are checked: the 323 before its start holds a line, the list shows it, the 305 releases it.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");

/// The lines of the first ```sh block after the heading.
fn walkthrough() -> Vec<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("## A walk through the embedded default")
        .nth(1)
        .expect("the walk-through section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("its sh block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The exit code a line's comment announces ("exit 1"), else 0.
fn expected_exit(line: &str) -> i32 {
    line.split_once('#')
        .and_then(|(_, c)| c.split("exit ").nth(1))
        .and_then(|n| n.trim().chars().next()?.to_digit(10))
        .map_or(0, |d| d as i32)
}

/// Runs one line (its words, the comment left off) with the binary for `iwmo`; (exit code,
/// stdout, stderr).
fn run(dir: &Path, line: &str) -> (i32, String, String) {
    let command = line.split_once('#').map_or(line, |(c, _)| c).trim();
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"iwmo"), "every line runs iwmo: {line}");
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("IWMO_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .args(&words[1..])
        .current_dir(dir)
        .output()
        .expect("run iwmo");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_readme_walk_through_runs_as_printed() {
    let lines = walkthrough();
    assert!(lines.len() >= 10, "{lines:?}");
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        dir.path().join("fixtures"),
    )
    .unwrap();
    let mut outputs = Vec::new();
    for line in &lines {
        let (code, out, err) = run(dir.path(), line);
        assert_eq!(
            code,
            expected_exit(line),
            "{line}\nstdout:\n{out}\nstderr:\n{err}"
        );
        assert!(
            !err.contains("\x1b["),
            "colour codes on a redirected stderr: {err}"
        );
        outputs.push((line.clone(), out));
    }
    let out_of = |prefix: &str| -> Vec<&str> {
        outputs
            .iter()
            .filter(|(l, _)| l.starts_with(prefix))
            .map(|(_, o)| o.as_str())
            .collect()
    };
    // The declaration before its start: one line held, and listed.
    let process = out_of("iwmo process --out out fixtures/valid/301a.xml");
    let decl: serde_json::Value = process[0]
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["kind"] == "WMO323")
        .expect("the 323's line");
    assert_eq!(decl["vastgehouden"], 1, "{decl}");
    assert!(decl["answer"]
        .as_str()
        .is_some_and(|a| a.starts_with("out/WMO325-")));
    let holds = out_of("iwmo holds list");
    let (plain, all) = (&holds[..2], holds[2]);
    assert!(plain[0].starts_with("vastgehouden "), "{}", plain[0]);
    assert!(plain[0].contains("ref PR2501000001"), "{}", plain[0]);
    assert!(!plain[0].contains("999990019"), "BSN masked: {}", plain[0]);
    // The start releases it: gone from the list, listed with --all as released.
    let start: serde_json::Value =
        serde_json::from_str(out_of("iwmo process --out out fixtures/valid/305a.xml")[0].trim())
            .unwrap();
    assert_eq!(start["vrijgegeven"], 1, "{start}");
    assert_eq!(plain[1].trim(), "geen vastgehouden declaratieregels");
    assert!(
        all.starts_with("vrijgegeven ") && all.contains("ref PR2501000001"),
        "{all}"
    );
    assert!(out_of("iwmo replay DC2502050001")[0].contains("identiek"));
    assert!(out_of("iwmo audit verify")[0].contains("intact"));
    for answer in ["WMO325-", "WMO306-", "WMO316-"] {
        let found = std::fs::read_dir(dir.path().join("out"))
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().starts_with(answer));
        assert!(found, "{answer} written to out/");
    }
}

#[test]
fn exit_comments_are_read() {
    assert_eq!(expected_exit("iwmo check x   # all broken here: exit 1"), 1);
    assert_eq!(expected_exit("iwmo holds list   # held lines"), 0);
}

/// The lines of the ```sh block of "Paying: payment runs through the API".
fn payment_block() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("## Paying: payment runs through the API")
        .nth(1)
        .expect("the payment section");
    section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("its sh block")
        .to_string()
}

#[test]
fn the_readme_payment_walk_through_runs_in_bash() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        dir.path().join("fixtures"),
    )
    .unwrap();
    // The first walk-through, as the section says.
    for line in &walkthrough() {
        let (code, out, err) = run(dir.path(), line);
        assert_eq!(code, expected_exit(line), "{line}\n{out}\n{err}");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let script = format!(
        "set -euo pipefail\n{}",
        payment_block().replace("8080", &port.to_string())
    );
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut cmd = Command::new("bash");
    for (k, _) in std::env::vars() {
        if k.starts_with("IWMO_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = cmd
        .arg("-c")
        .arg(&script)
        .env("PATH", path)
        .current_dir(dir.path())
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("\"status\":\"concept\""), "{stdout}");
    assert!(
        stdout.contains("vier-ogen"),
        "the maker is refused: {stdout}"
    );
    assert!(stdout.contains("\"status\":\"gefiatteerd\""), "{stdout}");
    assert!(stdout.contains("\"status\":\"betaald\""), "{stdout}");
    assert!(
        stdout.contains("betaalronde,gemeente,tot_en_met"),
        "journal: {stdout}"
    );
    assert!(stdout.contains("hashketen intact"), "{stdout}");
    let sepa = std::fs::read_to_string(dir.path().join("betaalronde-1.xml")).expect("SEPA file");
    assert!(
        sepa.contains("urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"),
        "{sepa}"
    );
    assert!(
        !stdout.contains("999990019") && !stderr.contains("999990019"),
        "no BSN"
    );
}
