//! The file transport (test 1): inbox → done/failed, answers in the outbox, endpoints,
//! metrics, a graceful SIGTERM and no BSN in the log.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{self, TestDb};
use crate::worker::{import_contract, names, xml_files, Serve};
use crate::{answer_id, answer_kind, assert_no_bsn, bsns_of, metric, wait_until, xsd_check};

#[test]
fn file_transport_processes_answers_reports_and_stops_on_sigterm() {
    for db in common::backends() {
        file_transport_on(&db);
    }
}

fn file_transport_on(db: &TestDb) {
    let label = db.backend;
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = |s: &str| dir.path().join(s);
    import_contract(db.url(), dir.path());

    let env: Vec<(String, String)> = [
        ("IWMO_INBOX_DIR", d("inbox")),
        ("IWMO_DONE_DIR", d("done")),
        ("IWMO_FAILED_DIR", d("failed")),
        ("IWMO_OUTBOX_DIR", d("outbox")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.display().to_string()))
    .chain([("IWMO_POLL_MILLIS".to_string(), "100".to_string())])
    .collect();
    let mut serve = Serve::start(label, dir.path(), db.url(), "file", &env);
    serve.wait_ready();

    let bsns = drop_fixtures(&d("inbox"));
    wait_until(
        &format!("{label}: inbox empty"),
        Duration::from_secs(30),
        || {
            serve.assert_running();
            xml_files(&d("inbox")).is_empty()
                && names(&d("inbox").join(".processing")).is_empty()
                && names(&d("done")).len() + names(&d("failed")).len() >= 4
        },
    );
    wait_until(
        &format!("{label}: answers in outbox"),
        Duration::from_secs(10),
        || xml_files(&d("outbox")).len() >= 2,
    );
    std::thread::sleep(Duration::from_millis(300));

    assert_done_and_failed(label, &d("done"), &d("failed"));
    assert_outbox(label, &xml_files(&d("outbox")));
    assert_endpoints_and_metrics(label, &serve);

    let took = serve.stop_cleanly(label);
    let log = serve.log();
    assert_no_bsn(label, &log, &bsns);
    for line in log.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "{label}: not a JSON log line: {line}"
        );
    }
    assert!(
        log.contains("ST2501100001"),
        "{label}: message key not logged"
    );
    eprintln!(
        "file transport on {label}: ok in {:.1} s (SIGTERM → exit in {} ms)",
        t0.elapsed().as_secs_f64(),
        took.as_millis()
    );
}

/// Drops three valid messages and a broken one the way a download job should: a temporary
/// name, then a rename. The BSNs in them.
fn drop_fixtures(inbox: &Path) -> BTreeSet<String> {
    let files = [
        "valid/301a.xml",
        "valid/305a.xml",
        "valid/323a.xml",
        "broken/305-bsn-8-digits.xml",
    ];
    let mut bsns = BTreeSet::new();
    for f in files {
        let src = common::root().join("fixtures").join(f);
        let text = std::fs::read_to_string(&src).unwrap();
        bsns.extend(bsns_of(&text));
        let name = src.file_name().unwrap().to_string_lossy().to_string();
        let tmp = inbox.join(format!("{name}.part"));
        std::fs::write(&tmp, &text).unwrap();
        std::fs::rename(&tmp, inbox.join(&name)).unwrap();
    }
    assert!(bsns.contains("999990019"), "{bsns:?}");
    bsns
}

/// The valid messages in done/, the broken one in failed/ with a reason that names no BSN.
fn assert_done_and_failed(label: &str, done: &Path, failed: &Path) {
    assert_eq!(
        names(done),
        ["301a.xml", "305a.xml", "323a.xml"]
            .map(String::from)
            .into_iter()
            .collect(),
        "{label}: done/"
    );
    assert_eq!(
        names(failed),
        ["305-bsn-8-digits.xml", "305-bsn-8-digits.xml.reden.txt"]
            .map(String::from)
            .into_iter()
            .collect(),
        "{label}: failed/"
    );
    let reden = std::fs::read_to_string(failed.join("305-bsn-8-digits.xml.reden.txt")).unwrap();
    assert!(!reden.trim().is_empty(), "{label}: empty reason");
    assert!(
        !reden.contains("99999001"),
        "{label}: reason echoes the BSN: {reden}"
    );
}

/// One 306 and one 325, each named KIND-ID.xml and valid against the XSD.
fn assert_outbox(label: &str, answers: &[PathBuf]) {
    let mut kinds = BTreeMap::new();
    for a in answers {
        let xml = std::fs::read_to_string(a).unwrap();
        let kind =
            answer_kind(&xml).unwrap_or_else(|| panic!("{label}: {} is no answer", a.display()));
        let id = answer_id(&xml).expect("answer id");
        // The file name is KIND-ID.xml, the same id as the broker's message id.
        assert_eq!(
            a.file_name().unwrap().to_string_lossy(),
            format!("{kind}-{id}.xml"),
            "{label}"
        );
        *kinds.entry(kind).or_insert(0) += 1;
    }
    assert_eq!(
        kinds,
        BTreeMap::from([("WMO306".to_string(), 1), ("WMO325".to_string(), 1)]),
        "{label}: outbox/ {answers:?}"
    );
    xsd_check(label, answers);
}

/// /healthz, /readyz, an unknown path, and the counters after four messages.
fn assert_endpoints_and_metrics(label: &str, serve: &Serve) {
    assert_eq!(
        serve.get("/healthz").map(|r| r.0),
        Some(200),
        "{label}: /healthz"
    );
    let (status, body) = serve.get("/readyz").expect("/readyz answers");
    assert_eq!(status, 200, "{label}: /readyz {body}");
    let ready: serde_json::Value = serde_json::from_str(body.trim()).expect("readyz json");
    assert_eq!(ready["database"], true, "{label}: {body}");
    assert_eq!(serve.get("/nope").map(|r| r.0), Some(404));

    let m = serve.metrics_text();
    assert!(
        m.lines()
            .any(|l| l == "iwmo_messages_processed_total{outcome=\"accepted\"} 2"),
        "{label}: metrics:\n{m}"
    );
    assert_eq!(metric(&m, "iwmo_messages_received_total"), Some(4.0), "{m}");
    assert_eq!(
        metric(&m, "iwmo_messages_processed_total{outcome=\"invalid\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(metric(&m, "iwmo_outbox_pending"), Some(0.0), "{m}");
    assert_eq!(
        metric(&m, "iwmo_processing_seconds_count"),
        Some(4.0),
        "{m}"
    );
}
