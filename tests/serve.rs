//! `iwmo serve` end to end: the real binary on the file transport and (when IWMO_TEST_AMQP_URL
//! is set) on RabbitMQ, on SQLite and (when IWMO_TEST_PG_URL is set) on PostgreSQL: answers,
//! health/readiness/metrics, duplicates, exactly-once after a SIGKILL, graceful SIGTERM, dead
//! letters, and no BSN in any log line.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{free_port, TestDb};
use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};

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

// ---------------------------------------------------------------------------------------------
// The worker process.

/// One `iwmo serve` child; killed (SIGKILL) when dropped if still running. Its stderr goes to a
/// file so it survives a kill and can be checked for privacy afterwards.
struct Serve {
    child: Child,
    log: PathBuf,
    http: u16,
    metrics: u16,
}

impl Serve {
    fn start(
        label: &str,
        dir: &Path,
        db: &str,
        transport: &str,
        env: &[(String, String)],
    ) -> Serve {
        let http = free_port();
        let metrics = free_port();
        let log = dir.join(format!(
            "serve-{label}-{}.log",
            NAME_COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let err = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(BIN);
        for (k, _) in std::env::vars() {
            if k.starts_with("IWMO_") && !k.starts_with("IWMO_TEST_") && k != "IWMO_SHARED_DIR" {
                cmd.env_remove(k);
            }
        }
        cmd.arg("serve")
            .args(["--transport", transport])
            .env("IWMO_DATABASE_URL", db)
            .env("IWMO_TODAY", TODAY)
            .env("RUST_LOG", "info")
            .env("IWMO_LOG_FORMAT", "json")
            .env("IWMO_HTTP_ADDR", format!("127.0.0.1:{http}"))
            .env("IWMO_METRICS_ADDR", format!("127.0.0.1:{metrics}"))
            .env("IWMO_SHUTDOWN_DEADLINE_SECS", "5")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(err));
        let child = cmd.spawn().expect("start iwmo serve");
        Serve {
            child,
            log,
            http,
            metrics,
        }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn assert_running(&mut self) {
        if let Ok(Some(st)) = self.child.try_wait() {
            panic!("iwmo serve exited early ({st}); log:\n{}", self.log());
        }
    }

    fn get(&self, path: &str) -> Option<(u16, String)> {
        http_get(self.http, path)
    }

    fn metrics_text(&self) -> String {
        http_get(self.metrics, "/metrics")
            .filter(|(s, _)| *s == 200)
            .map(|(_, b)| b)
            .unwrap_or_default()
    }

    fn metric(&self, sample: &str) -> f64 {
        metric(&self.metrics_text(), sample).unwrap_or(-1.0)
    }

    fn wait_ready(&mut self) {
        let t = Instant::now();
        loop {
            self.assert_running();
            if let Some((200, _)) = self.get("/readyz") {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "iwmo serve not ready after 30 s; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM; returns the exit status and how long the worker took.
    fn terminate(&mut self, within: Duration) -> (i32, Duration) {
        let t = Instant::now();
        let st = Command::new("kill")
            .args(["-TERM", &self.pid()])
            .status()
            .expect("kill -TERM");
        assert!(st.success(), "kill -TERM failed");
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return (st.code().unwrap_or(-1), t.elapsed());
            }
            assert!(
                t.elapsed() < within,
                "iwmo serve did not exit within {within:?} after SIGTERM; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn sigkill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn run_cli(db: &str, env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("IWMO_CONFIG")
        .env("IWMO_DATABASE_URL", db)
        .env("IWMO_TODAY", TODAY)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("run iwmo");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn import_contract(db: &str, dir: &Path) {
    let csv = dir.join("contracts.csv");
    std::fs::write(&csv, CONTRACT_CSV).unwrap();
    let (code, out, err) = run_cli(db, &[], &["contracts", "import", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "contracts import failed: {out}{err}");
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "xml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// 1. The file transport.

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

    // Drop the files the way a download job should: a temporary name, then a rename.
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
        let tmp = d("inbox").join(format!("{name}.part"));
        std::fs::write(&tmp, &text).unwrap();
        std::fs::rename(&tmp, d("inbox").join(&name)).unwrap();
    }
    assert!(bsns.contains("999990019"), "{bsns:?}");

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

    assert_eq!(
        names(&d("done")),
        ["301a.xml", "305a.xml", "323a.xml"]
            .map(String::from)
            .into_iter()
            .collect(),
        "{label}: done/"
    );
    assert_eq!(
        names(&d("failed")),
        ["305-bsn-8-digits.xml", "305-bsn-8-digits.reden.txt"]
            .map(String::from)
            .into_iter()
            .collect(),
        "{label}: failed/"
    );
    let reden = std::fs::read_to_string(d("failed").join("305-bsn-8-digits.reden.txt")).unwrap();
    assert!(!reden.trim().is_empty(), "{label}: empty reason");
    assert!(
        !reden.contains("99999001"),
        "{label}: reason echoes the BSN: {reden}"
    );

    let answers = xml_files(&d("outbox"));
    let mut kinds = BTreeMap::new();
    for a in &answers {
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
    xsd_check(label, &answers);

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

    let (code, took) = serve.terminate(Duration::from_secs(10));
    assert_eq!(
        code,
        0,
        "{label}: exit status after SIGTERM; log:\n{}",
        serve.log()
    );
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

// ---------------------------------------------------------------------------------------------
// RabbitMQ helpers.

fn amqp_url() -> Option<String> {
    let u = std::env::var("IWMO_TEST_AMQP_URL")
        .ok()
        .filter(|s| !s.trim().is_empty());
    if u.is_none() {
        eprintln!("skipped: IWMO_TEST_AMQP_URL not set (RabbitMQ tests)");
    }
    u
}

/// The unique topology names of one test, as IWMO_* variables for the child.
struct Topology {
    url: String,
    inbound: String,
    dlx: String,
    dead: String,
    answers: String,
    unrouted_x: String,
    unrouted_q: String,
}

impl Topology {
    fn new(url: &str, tag: &str) -> Topology {
        let base = unique(tag);
        Topology {
            url: url.to_string(),
            inbound: format!("{base}.inbound"),
            dlx: format!("{base}.dlx"),
            dead: format!("{base}.dead"),
            answers: format!("{base}.answers"),
            unrouted_x: format!("{base}.unrouted.x"),
            unrouted_q: format!("{base}.unrouted.q"),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        [
            ("IWMO_AMQP_URL", &self.url),
            ("IWMO_INBOUND_QUEUE", &self.inbound),
            ("IWMO_DEAD_LETTER_EXCHANGE", &self.dlx),
            ("IWMO_DEAD_LETTER_QUEUE", &self.dead),
            ("IWMO_ANSWERS_EXCHANGE", &self.answers),
            ("IWMO_UNROUTED_EXCHANGE", &self.unrouted_x),
            ("IWMO_UNROUTED_QUEUE", &self.unrouted_q),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }

    /// Best effort: removes the queues and exchanges again.
    async fn cleanup(&self, ch: &Channel) {
        for q in [&self.inbound, &self.dead, &self.unrouted_q] {
            let _ = ch
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for x in [&self.answers, &self.unrouted_x, &self.dlx] {
            let _ = ch
                .exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
    }
}

async fn channel(url: &str) -> (Connection, Channel) {
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ");
    let ch = conn.create_channel().await.expect("channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm_select");
    (conn, ch)
}

/// Ready messages in a queue (passive declare).
async fn queue_len(ch: &Channel, q: &str) -> u32 {
    common::queue_len(ch, q)
        .await
        .expect("passive queue_declare")
}

async fn publish(ch: &Channel, queue: &str, body: &[u8]) {
    let c = ch
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
    assert!(c.is_ack(), "broker did not confirm the publish");
}

/// A test queue bound to the answers exchange for the aanbieder.
async fn bind_answers(ch: &Channel, t: &Topology) -> lapin::Consumer {
    let q = format!("{}.test-answers", t.inbound);
    ch.queue_declare(
        q.as_str().into(),
        QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("declare answers queue");
    ch.queue_bind(
        q.as_str().into(),
        t.answers.as_str().into(),
        AANBIEDER.into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("bind answers queue");
    ch.basic_consume(
        q.as_str().into(),
        "test".into(),
        BasicConsumeOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("consume answers")
}

/// An answer as received: (message id property, type property, body).
type Answer = (Option<String>, Option<String>, String);

/// Receives answers until `until(answers)` holds, then for `quiet` more (to catch extras).
async fn receive(
    consumer: &mut lapin::Consumer,
    timeout: Duration,
    quiet: Duration,
    mut until: impl FnMut(&[Answer]) -> bool,
) -> Vec<Answer> {
    let mut got: Vec<Answer> = Vec::new();
    let start = Instant::now();
    let mut done_at: Option<Instant> = None;
    loop {
        if done_at.is_none() && until(&got) {
            done_at = Some(Instant::now());
        }
        let left = match done_at {
            Some(t) => quiet.checked_sub(t.elapsed()),
            None => timeout.checked_sub(start.elapsed()),
        };
        let Some(left) = left else { break };
        match tokio::time::timeout(left, consumer.next()).await {
            Ok(Some(Ok(d))) => {
                got.push((
                    d.properties.message_id().as_ref().map(|m| m.to_string()),
                    d.properties.kind().as_ref().map(|m| m.to_string()),
                    String::from_utf8_lossy(&d.data).to_string(),
                ));
                d.ack(BasicAckOptions::default()).await.expect("ack answer");
            }
            Ok(other) => panic!("answers consumer ended: {other:?}"),
            Err(_) => break,
        }
    }
    got
}

/// Every answer: the message id is the answer's own identificatie, the type its kind, and it is
/// valid against the official XSD.
fn check_answers(label: &str, dir: &Path, answers: &[Answer]) {
    let mut files = Vec::new();
    for (i, (id, kind, xml)) in answers.iter().enumerate() {
        let want_id = answer_id(xml).unwrap_or_else(|| panic!("{label}: no id in answer {xml}"));
        assert_eq!(id.as_deref(), Some(want_id.as_str()), "{label}: message id");
        assert_eq!(
            kind.as_deref(),
            answer_kind(xml).as_deref(),
            "{label}: type"
        );
        let f = dir.join(format!("answer-{i}.xml"));
        std::fs::write(&f, xml).unwrap();
        files.push(f);
    }
    xsd_check(label, &files);
}

/// Seeds the synthetic toewijzingen (without starts) that the RabbitMQ tests' 305s refer to.
async fn seed_synthetic_toewijzingen(db: &TestDb) {
    let store = iwmo::store::Store::open(db.url())
        .await
        .expect("open store");
    store
        .seed_toewijzingen(200_000, 200_100, false)
        .await
        .expect("seed");
    store.pool().close().await;
}

fn block<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

// ---------------------------------------------------------------------------------------------
// 2. RabbitMQ: answers, duplicates, metrics.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_answers_duplicates_and_metrics() {
    let Some(url) = amqp_url() else { return };
    for db in common::backends() {
        amqp_answers_on(&url, &db).await;
    }
}

async fn amqp_answers_on(url: &str, db: &TestDb) {
    let label = db.backend;
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    block(|| import_contract(db.url(), dir.path()));
    let topo = Topology::new(url, label);
    // One at a time, so that the 305 finds the toewijzing of the 301 published before it (with
    // more, the order between messages about one client is whichever takes the lock first).
    let mut env = topo.env();
    env.push(("IWMO_CONCURRENCY".into(), "1".into()));
    let mut serve = Serve::start(label, dir.path(), db.url(), "amqp", &env);
    block(|| serve.wait_ready());
    let (conn, ch) = channel(url).await;
    let mut consumer = bind_answers(&ch, &topo).await;

    let mut bsns = BTreeSet::new();
    let fixture = |f: &str| std::fs::read(common::root().join("fixtures/valid").join(f)).unwrap();
    for f in ["301a.xml", "305a.xml", "323a.xml"] {
        let body = fixture(f);
        bsns.extend(bsns_of(&String::from_utf8_lossy(&body)));
        publish(&ch, &topo.inbound, &body).await;
    }
    let mut answers = receive(
        &mut consumer,
        Duration::from_secs(30),
        Duration::from_millis(1000),
        |a| a.len() >= 2,
    )
    .await;
    let show = |a: &[Answer]| {
        a.iter()
            .map(|a| (a.0.clone(), a.1.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(answers.len(), 2, "{label}: answers {:?}", show(&answers));
    let kinds: BTreeSet<_> = answers.iter().filter_map(|a| a.1.clone()).collect();
    assert_eq!(
        kinds,
        ["WMO306", "WMO325"].map(String::from).into_iter().collect(),
        "{label}"
    );
    check_answers(label, dir.path(), &answers);

    // The same 305 again, once its answer is confirmed: acknowledged, counted as a duplicate,
    // nothing decided anew, and its answer re-sent unchanged (same message id, same bytes).
    block(|| {
        wait_until(
            &format!("{label}: outbox drained"),
            Duration::from_secs(10),
            || serve.metric("iwmo_outbox_pending") == 0.0,
        )
    });
    publish(&ch, &topo.inbound, &fixture("305a.xml")).await;
    let again = receive(
        &mut consumer,
        Duration::from_secs(15),
        Duration::from_millis(1500),
        |a| !a.is_empty(),
    )
    .await;
    assert_eq!(
        again.len(),
        1,
        "{label}: answers to the duplicate {:?}",
        show(&again)
    );
    let first_306 = answers
        .iter()
        .find(|a| a.1.as_deref() == Some("WMO306"))
        .expect("306");
    assert_eq!(&again[0], first_306, "{label}: the re-sent answer differs");
    answers.extend(again);
    check_answers(label, dir.path(), &answers);

    block(|| {
        wait_until(
            &format!("{label}: 4 processed"),
            Duration::from_secs(15),
            || serve.metric("iwmo_processing_seconds_count") >= 4.0,
        )
    });
    let m = block(|| serve.metrics_text());
    let m = format!(
        "{m}\n--- log:\n{}",
        serve
            .log()
            .lines()
            .filter(|l| l.contains("verwerkt"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(metric(&m, "iwmo_messages_received_total"), Some(4.0), "{m}");
    assert_eq!(
        metric(&m, "iwmo_messages_duplicate_total"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "iwmo_messages_processed_total{outcome=\"duplicate\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "iwmo_messages_processed_total{outcome=\"accepted\"}"),
        Some(2.0),
        "{m}"
    );
    assert_eq!(metric(&m, "iwmo_answers_published_total"), Some(3.0), "{m}");
    assert_eq!(
        metric(&m, "iwmo_messages_dead_lettered_total"),
        Some(0.0),
        "{m}"
    );
    assert_eq!(
        queue_len(&ch, &topo.inbound).await,
        0,
        "{label}: inbound queue"
    );
    assert_eq!(queue_len(&ch, &topo.dead).await, 0, "{label}: dead letters");
    assert_eq!(
        queue_len(&ch, &topo.unrouted_q).await,
        0,
        "{label}: unrouted"
    );

    let (code, took) = block(|| serve.terminate(Duration::from_secs(10)));
    assert_eq!(
        code,
        0,
        "{label}: exit after SIGTERM; log:\n{}",
        serve.log()
    );
    let log = serve.log();
    assert_no_bsn(label, &log, &bsns);
    assert!(
        !log.contains("guest:guest"),
        "{label}: broker password in the log"
    );

    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
    eprintln!(
        "amqp answers on {label}: ok in {:.1} s (SIGTERM → exit in {} ms)",
        t0.elapsed().as_secs_f64(),
        took.as_millis()
    );
}

// ---------------------------------------------------------------------------------------------
// 3. RabbitMQ: exactly once after SIGKILL.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_exactly_once_after_sigkill() {
    let Some(url) = amqp_url() else { return };
    for db in common::backends() {
        amqp_crash_on(&url, &db).await;
    }
}

async fn amqp_crash_on(url: &str, db: &TestDb) {
    const N: u32 = 20;
    let label = db.backend;
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    seed_synthetic_toewijzingen(db).await;
    let topo = Topology::new(url, label);
    let mut env = topo.env();
    // Small batches so that the kill is likely to hit work in progress.
    env.push(("IWMO_CONCURRENCY".into(), "2".into()));
    env.push(("IWMO_PREFETCH".into(), "4".into()));
    let mut first = Serve::start(label, dir.path(), db.url(), "amqp", &env);
    block(|| first.wait_ready());
    let (conn, ch) = channel(url).await;
    let mut consumer = bind_answers(&ch, &topo).await;

    let mut bsns = BTreeSet::new();
    let mut idents = BTreeSet::new();
    for i in 0..N {
        let ident = format!("SY2501{i:06}");
        let xml = iwmo::testkit::synth::wmo305(&ident, 300_000 + i, "2025-01-06");
        bsns.extend(bsns_of(&xml));
        idents.insert(ident);
        publish(&ch, &topo.inbound, xml.as_bytes()).await;
    }
    assert!(bsns.len() >= 2, "{bsns:?}");

    let mut answers = receive(
        &mut consumer,
        Duration::from_secs(30),
        Duration::ZERO,
        |a| a.len() >= 3,
    )
    .await;
    block(|| first.sigkill());
    let before_kill = answers.len();
    let store = iwmo::store::Store::open(db.url())
        .await
        .expect("open store");
    let decided_at_kill: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM decisions")
        .fetch_one(store.pool())
        .await
        .unwrap();

    let mut second = Serve::start(label, dir.path(), db.url(), "amqp", &env);
    block(|| second.wait_ready());
    let distinct = |a: &[Answer]| {
        a.iter()
            .filter_map(|x| x.0.clone())
            .collect::<BTreeSet<_>>()
    };
    let more = receive(
        &mut consumer,
        Duration::from_secs(60),
        Duration::from_millis(1500),
        |a| {
            let mut all = answers.clone();
            all.extend_from_slice(a);
            distinct(&all).len() >= N as usize
        },
    )
    .await;
    answers.extend(more);

    // Duplicates allowed only as the very same answer (same id, same body).
    let mut by_id: BTreeMap<String, String> = BTreeMap::new();
    for (id, _, xml) in &answers {
        let id = id.clone().expect("message id");
        if let Some(prev) = by_id.insert(id.clone(), xml.clone()) {
            assert_eq!(&prev, xml, "{label}: two different answers with id {id}");
        }
    }
    assert_eq!(by_id.len(), N as usize, "{label}: distinct answers");
    let answered: BTreeSet<String> = by_id
        .values()
        .filter_map(|x| tag_text(x, Some("BerichtIdentificatie>"), "Identificatie"))
        .collect();
    assert_eq!(answered, idents, "{label}: every 305 answered once");
    let unique_answers: Vec<Answer> = by_id
        .iter()
        .map(|(id, xml)| (Some(id.clone()), answer_kind(xml), xml.clone()))
        .collect();
    check_answers(label, dir.path(), &unique_answers);

    let (decisions,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM decisions d JOIN messages m ON m.id = d.message_id WHERE m.identificatie LIKE 'SY2501%'",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(decisions, i64::from(N), "{label}: decisions");
    let (all_decisions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM decisions")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(all_decisions, i64::from(N), "{label}: decisions in total");
    // Answers the killed worker published without recording it are published again by the
    // relay's scan of the queue (the same answer, same id): the queue ends empty.
    block(|| {
        wait_until(
            &format!("{label}: outbox drained"),
            Duration::from_secs(10),
            || second.metric("iwmo_outbox_pending") == 0.0,
        )
    });
    let (pending,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox_queue")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(pending, 0, "{label}: unpublished answers");
    assert_eq!(
        queue_len(&ch, &topo.inbound).await,
        0,
        "{label}: inbound queue"
    );
    assert_eq!(queue_len(&ch, &topo.dead).await, 0, "{label}: dead letters");

    let (code, _) = block(|| second.terminate(Duration::from_secs(10)));
    assert_eq!(
        code,
        0,
        "{label}: exit after SIGTERM; log:\n{}",
        second.log()
    );
    assert_no_bsn(&format!("{label} (before kill)"), &first.log(), &bsns);
    assert_no_bsn(&format!("{label} (after restart)"), &second.log(), &bsns);

    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
    eprintln!(
        "amqp crash on {label}: ok in {:.1} s ({before_kill} answers and {} decisions before SIGKILL, {} answers in all)",
        t0.elapsed().as_secs_f64(),
        decided_at_kill.0,
        answers.len()
    );
}

/// While the database is unreachable, the worker keeps the deliveries it holds, is not ready,
/// and returns nothing to the queue; once the database is back, each message is decided once.
/// The queue's delivery limit is 1 here: any return during the outage would show as a dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_database_outage_returns_nothing_to_the_queue() {
    let Some(url) = amqp_url() else { return };
    let Some(pg) = common::pg_server() else {
        eprintln!("skipped: IWMO_TEST_PG_URL not set");
        return;
    };
    const N: u32 = 40;
    let db = TestDb::postgres(&pg);
    let label = "postgres-outage";
    let dir = tempfile::tempdir().unwrap();
    seed_synthetic_toewijzingen(&db).await;
    let topo = Topology::new(&url, label);
    let mut env = topo.env();
    env.push(("IWMO_DELIVERY_LIMIT".into(), "1".into()));
    env.push(("IWMO_PREFETCH".into(), "16".into()));
    env.push(("IWMO_BATCH_SIZE".into(), "4".into()));
    let mut serve = Serve::start(label, dir.path(), db.url(), "amqp", &env);
    block(|| serve.wait_ready());
    let (conn, ch) = channel(&url).await;
    let mut consumer = bind_answers(&ch, &topo).await;

    block(|| db.set_reachable(false));
    let mut idents = BTreeSet::new();
    for i in 0..N {
        let ident = format!("SY2601{i:06}");
        let xml = iwmo::testkit::synth::wmo305(&ident, 300_000 + i, "2025-01-06");
        idents.insert(ident);
        publish(&ch, &topo.inbound, xml.as_bytes()).await;
    }
    block(|| {
        wait_until(
            &format!("{label}: store errors seen"),
            Duration::from_secs(20),
            || serve.metric("iwmo_store_errors_total") > 0.0,
        )
    });
    block(|| {
        wait_until(
            &format!("{label}: not ready"),
            Duration::from_secs(10),
            || serve.get("/readyz").map(|(c, _)| c) == Some(503),
        )
    });
    // Some seconds of outage: the worker retries with backoff, the deliveries stay with it.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        serve.metric("iwmo_messages_returned_total"),
        0.0,
        "{label}: returned during the outage"
    );
    assert_eq!(
        queue_len(&ch, &topo.dead).await,
        0,
        "{label}: dead letters during the outage"
    );
    serve.assert_running();

    block(|| db.set_reachable(true));
    let answers = receive(
        &mut consumer,
        Duration::from_secs(60),
        Duration::from_millis(1000),
        |a| {
            a.iter()
                .filter_map(|x| x.0.clone())
                .collect::<BTreeSet<_>>()
                .len()
                >= N as usize
        },
    )
    .await;
    let answered: BTreeSet<String> = answers
        .iter()
        .filter_map(|(_, _, x)| tag_text(x, Some("BerichtIdentificatie>"), "Identificatie"))
        .collect();
    assert_eq!(
        answered, idents,
        "{label}: every 305 answered after the outage"
    );
    let store = iwmo::store::Store::open(db.url())
        .await
        .expect("open store");
    let (decisions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM decisions")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(decisions, i64::from(N), "{label}: one decision per message");
    assert_eq!(
        serve.metric("iwmo_messages_returned_total"),
        0.0,
        "{label}: returned"
    );
    assert_eq!(queue_len(&ch, &topo.dead).await, 0, "{label}: dead letters");
    assert_eq!(
        queue_len(&ch, &topo.inbound).await,
        0,
        "{label}: inbound queue"
    );
    block(|| {
        wait_until(
            &format!("{label}: ready again"),
            Duration::from_secs(10),
            || serve.get("/readyz").map(|(c, _)| c) == Some(200),
        )
    });
    let (code, _) = block(|| serve.terminate(Duration::from_secs(10)));
    assert_eq!(
        code,
        0,
        "{label}: exit after SIGTERM; log:\n{}",
        serve.log()
    );
    store.pool().close().await;
    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
}

// ---------------------------------------------------------------------------------------------
// 5. Dead letters: the empty list, and garbage is answered as invalid, not dead-lettered.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_garbage_is_not_dead_lettered() {
    let Some(url) = amqp_url() else { return };
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let topo = Topology::new(&url, "dl");
    let env = topo.env();

    let (code, out, err) = block(|| run_cli(db.url(), &env, &["dead-letters", "list"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("geen dead letters"), "{out}{err}");

    let mut serve = Serve::start("dl", dir.path(), db.url(), "amqp", &env);
    block(|| serve.wait_ready());
    let (conn, ch) = channel(&url).await;
    publish(&ch, &topo.inbound, b"dit is geen iWmo-bericht \x00\xff").await;
    publish(&ch, &topo.inbound, b"<a>geen namespace</a>").await;
    block(|| {
        wait_until("garbage processed", Duration::from_secs(15), || {
            serve.metric("iwmo_messages_processed_total{outcome=\"invalid\"}") >= 2.0
        })
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(queue_len(&ch, &topo.inbound).await, 0, "inbound queue");
    assert_eq!(queue_len(&ch, &topo.dead).await, 0, "dead letters");
    assert_eq!(serve.metric("iwmo_messages_dead_lettered_total"), 0.0);

    let (code, out, err) = block(|| run_cli(db.url(), &env, &["dead-letters", "list"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("geen dead letters"), "{out}{err}");

    let (code, _) = block(|| serve.terminate(Duration::from_secs(10)));
    assert_eq!(code, 0, "exit after SIGTERM; log:\n{}", serve.log());
    assert!(!serve.log().is_empty());
    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
}
