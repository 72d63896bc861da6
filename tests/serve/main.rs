//! `iwmo serve` end to end: the real binary on the file transport and (when IWMO_TEST_AMQP_URL
//! is set) on RabbitMQ, on SQLite and (when IWMO_TEST_PG_URL is set) on PostgreSQL: answers,
//! health/readiness/metrics, duplicates, exactly-once after a SIGKILL, graceful SIGTERM, dead
//! letters, and no BSN in any log line. With IWMO_REQUIRE_SERVICES=1 (.ci/run) a missing
//! RabbitMQ or PostgreSQL fails the tests that need it instead of skipping them.
//!
//! Parts: [`worker`] (the `iwmo serve` child process), [`file`] (the file transport),
//! [`rabbit`] (RabbitMQ helpers), [`amqp`] (the RabbitMQ tests).

#[path = "../common/mod.rs"]
mod common;

mod amqp;
mod file;
mod rabbit;
mod worker;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");
const TODAY: &str = "2025-04-10";
const AANBIEDER: &str = "87654321";
const CONTRACT_CSV: &str = "agb_code,gemeente_code,product_categorie,product_code,eenheid,tarief_cents,ingangsdatum,einddatum\n87654321,0344,02,02A01,04,6850,2025-01-01,\n";

// ---------------------------------------------------------------------------------------------
// Small helpers: ports, HTTP, metrics, waiting.

/// A plain HTTP/1.1 GET; (status, body). None when the port does not answer.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = format!("127.0.0.1:{port}").parse().ok()?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    // One write: the server reads the request with a single read().
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let status = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

/// The value of one sample line (`name{labels} value`) in a Prometheus text exposition.
fn metric(text: &str, sample: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(sample)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

static NAME_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name no other test (or earlier run) uses.
fn unique(tag: &str) -> String {
    format!(
        "t.serve.{tag}.{}.{}.{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0),
        NAME_COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// All `Bsn` element values of a message.
fn bsns_of(xml: &str) -> Vec<String> {
    xml.split("Bsn>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .filter(|s| !s.trim().is_empty() && s.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// The privacy rule: no BSN of any message in the worker's log.
fn assert_no_bsn(label: &str, log: &str, bsns: &BTreeSet<String>) {
    assert!(!log.is_empty(), "{label}: the worker wrote no log at all");
    for b in bsns {
        assert!(
            !log.contains(b.as_str()),
            "{label}: BSN {b} appears in the log:\n{}",
            log.lines()
                .filter(|l| l.contains(b.as_str()))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The text of the first `<…:local>` element after `after` (or from the start).
fn tag_text(xml: &str, after: Option<&str>, local: &str) -> Option<String> {
    let from = match after {
        Some(a) => xml.find(a)? + a.len(),
        None => 0,
    };
    let rest = &xml[from..];
    let open = format!(":{local}>");
    let i = rest.find(&open)? + open.len();
    Some(rest[i..].split('<').next()?.trim().to_string())
}

/// The message id an answer must carry: IdentificatieRetour of a 306/308, the own
/// BerichtIdentificatie/Identificatie of a 325.
fn answer_id(xml: &str) -> Option<String> {
    tag_text(xml, None, "IdentificatieRetour")
        .or_else(|| tag_text(xml, Some("BerichtIdentificatie>"), "Identificatie"))
}

fn answer_kind(xml: &str) -> Option<String> {
    ["306", "308", "325"]
        .into_iter()
        .find(|k| xml.contains(&format!("<wmo{k}:Bericht")))
        .map(|k| format!("WMO{k}"))
}

fn xsd_check(label: &str, files: &[PathBuf]) {
    if files.is_empty() || !common::xsd_oracle_available() {
        return;
    }
    for (f, (ok, msg)) in files.iter().zip(common::xsd_validate(files)) {
        assert!(
            ok,
            "{label}: {} is not valid against the XSD: {msg}",
            f.display()
        );
    }
}
