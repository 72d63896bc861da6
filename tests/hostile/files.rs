//! The file transport of `iwmo serve` as operators and hostile testers meet it: a 2 GB sparse
//! file refused in bounded memory, links, FIFOs, directories and other names set aside with
//! their own reason, files written in place taken only once settled, a file the database
//! refuses failed (never taken for an outage), name clashes, and a soak of 1,000 mixed files.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::free_port;
use iwmo::testkit::synth;

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");

/// One `iwmo serve` on a SQLite file in its own directory (inbox, done, failed, outbox).
struct Worker {
    dir: tempfile::TempDir,
    child: Child,
    metrics: u16,
}

impl Worker {
    fn start(settle_ms: u64, before: impl FnOnce(&Path)) -> Worker {
        let dir = tempfile::tempdir().unwrap();
        for d in ["inbox", "done", "failed", "outbox"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        before(dir.path());
        let metrics = free_port();
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let d = |s: &str| dir.path().join(s).display().to_string();
        let mut cmd = crate::common::clean_command(BIN);
        let child = cmd
            .args(["serve", "--transport", "file"])
            .env("IWMO_DATABASE_URL", db_url(dir.path()))
            .env("IWMO_TODAY", "2025-04-10")
            .env("IWMO_LOG_FORMAT", "json")
            .env("IWMO_INBOX_DIR", d("inbox"))
            .env("IWMO_DONE_DIR", d("done"))
            .env("IWMO_FAILED_DIR", d("failed"))
            .env("IWMO_OUTBOX_DIR", d("outbox"))
            .env("IWMO_POLL_MILLIS", "50")
            .env("IWMO_FILE_SETTLE_MILLIS", settle_ms.to_string())
            .env("IWMO_HTTP_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("IWMO_METRICS_ADDR", format!("127.0.0.1:{metrics}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start iwmo serve");
        Worker {
            dir,
            child,
            metrics,
        }
    }

    fn path(&self, s: &str) -> PathBuf {
        self.dir.path().join(s)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("serve.log")).unwrap_or_default()
    }

    /// Waits until `f` holds; the worker must keep running meanwhile.
    fn wait(&mut self, what: &str, secs: u64, mut f: impl FnMut(&Worker) -> bool) {
        let t = Instant::now();
        while !f(self) {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "iwmo serve stopped ({st}) waiting for {what}; log:\n{}",
                    self.log()
                );
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {what}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Peak resident memory so far (the kernel's high-water mark), in KiB.
    fn peak_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        s.lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    fn metric(&self, sample: &str) -> Option<f64> {
        let addr = format!("127.0.0.1:{}", self.metrics).parse().ok()?;
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        use std::io::{Read, Write};
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut body = String::new();
        s.read_to_string(&mut body).ok()?;
        body.lines()
            .find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
    }

    /// SIGTERM: exit 0.
    fn stop(mut self) -> String {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let code = self.child.wait().unwrap().code();
        assert_eq!(code, Some(0), "exit after SIGTERM; log:\n{}", self.log());
        self.log()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("iwmo.db").display())
}

/// Names in a directory (files, links, FIFOs, directories alike).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn fixture(f: &str) -> Vec<u8> {
    std::fs::read(crate::common::root().join("fixtures").join(f)).unwrap()
}

/// Written under a temporary name, then renamed into place (as a download job should).
fn drop_renamed(inbox: &Path, name: &str, bytes: &[u8]) {
    let tmp = inbox.join(format!(".{name}.part"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, inbox.join(name)).unwrap();
}

trait ReplaceIdent {
    fn replace_ident(self) -> Vec<u8>;
}

impl ReplaceIdent for Vec<u8> {
    /// Another message of the same shape (other Identificatie), so it is not a duplicate.
    fn replace_ident(self) -> Vec<u8> {
        String::from_utf8(self)
            .unwrap()
            .replacen("ST2501100001", "ST2501100099", 1)
            .into_bytes()
    }
}

fn reason(failed: &Path, name: &str) -> String {
    std::fs::read_to_string(failed.join(format!("{name}.reden.txt"))).unwrap_or_else(|e| {
        panic!(
            "no reason file for {name}: {e}; failed/: {:?}",
            names(failed)
        )
    })
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success());
}

/// A trigger that makes the database refuse the message stored from source `name` (a
/// constraint error caused by that message, as SQLite's "string or blob too big" is).
fn poison_in_store(dir: &Path, name: &str) {
    let out = Command::new(BIN)
        .args(["policy", "set", "0344", "hold"])
        .env("IWMO_DATABASE_URL", db_url(dir))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let url = db_url(dir);
    let sql = format!(
        "CREATE TRIGGER gif BEFORE INSERT ON messages WHEN NEW.source = '{name}' \
         BEGIN SELECT RAISE(ABORT, 'geweigerd'); END;"
    );
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::ConnectOptions;
        let mut c = url
            .parse::<sqlx::sqlite::SqliteConnectOptions>()
            .unwrap()
            .connect()
            .await
            .unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .unwrap();
    });
}

#[test]
fn a_2_gb_sparse_file_is_refused_in_bounded_memory_and_a_301_behind_it_is_processed() {
    let mut w = Worker::start(100, |_| {});
    let inbox = w.path("inbox");
    let big = inbox.join(".a-groot.xml");
    let f = std::fs::File::create(&big).unwrap();
    std::io::Write::write_all(&mut &f, b"<?xml version=\"1.0\"?><groot>").unwrap();
    f.set_len(2_000_000_000).unwrap();
    drop(f);
    std::fs::rename(&big, inbox.join("a-groot.xml")).unwrap();
    drop_renamed(&inbox, "b-301.xml", &fixture("valid/301a.xml"));
    w.wait("301 done", 180, |w| names(&w.path("done")) == ["b-301.xml"]);
    w.wait("big one failed", 180, |w| {
        names(&w.path("failed")).len() == 2
    });
    let failed = w.path("failed");
    assert_eq!(names(&failed), ["a-groot.xml", "a-groot.xml.reden.txt"]);
    let r = reason(&failed, "a-groot.xml");
    assert!(r.contains("te groot: 2000000000 bytes"), "{r}");
    let peak = w.peak_kib();
    eprintln!(
        "2 GB sparse file: refused, serve peak RSS {} MiB",
        peak / 1024
    );
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
    assert_eq!(
        w.metric("iwmo_files_failed_total{reason=\"too-large\"}"),
        Some(1.0)
    );
    let db = std::fs::metadata(w.path("iwmo.db")).unwrap().len();
    assert!(
        db < 50_000_000,
        "the body went into the database: {db} bytes"
    );
    w.stop();
}

#[test]
fn links_fifos_directories_and_other_names_are_set_aside_with_their_own_reason() {
    let mut w = Worker::start(100, |_| {});
    let inbox = w.path("inbox");
    std::os::unix::fs::symlink("/etc/passwd", inbox.join("link.xml")).unwrap();
    mkfifo(&inbox.join("pijp.xml"));
    std::fs::create_dir(inbox.join("map.xml")).unwrap();
    std::fs::write(inbox.join("notities.txt"), "geen bericht").unwrap();
    std::fs::write(inbox.join("bezig.xml.part"), "half").unwrap();
    std::fs::write(inbox.join(".verborgen.xml"), "half").unwrap();
    std::fs::write(inbox.join("kopie.xml.tmp"), "half").unwrap();
    let failed = w.path("failed");
    w.wait("four set aside", 30, |w| {
        names(&w.path("failed")).len() == 8
    });
    assert!(std::fs::symlink_metadata(failed.join("link.xml"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(reason(&failed, "link.xml").contains("symbolische link"));
    assert!(reason(&failed, "pijp.xml").contains("FIFO"));
    assert!(reason(&failed, "map.xml").contains("map"));
    assert!(reason(&failed, "notities.txt").contains("geen .xml-bestand"));
    // Temporary names stay, untouched.
    assert_eq!(
        names(&inbox),
        [
            ".processing",
            ".verborgen.xml",
            "bezig.xml.part",
            "kopie.xml.tmp"
        ]
    );
    assert_eq!(
        w.metric("iwmo_files_failed_total{reason=\"not-regular\"}"),
        Some(3.0)
    );
    assert_eq!(
        w.metric("iwmo_files_failed_total{reason=\"not-xml\"}"),
        Some(1.0)
    );
    let log = w.stop();
    // Each reported once; the link's target never read or stored.
    for n in ["link.xml", "pijp.xml", "map.xml", "notities.txt"] {
        let k = log
            .lines()
            .filter(|l| l.contains(&format!("\"{n}\"")))
            .count();
        assert_eq!(k, 1, "{n} reported {k} times:\n{log}");
    }
    let db = std::fs::read(w_db(&failed)).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&db).contains("root:x:0:0"));
}

fn w_db(failed: &Path) -> PathBuf {
    failed.parent().unwrap().join("iwmo.db")
}

#[test]
fn a_paused_writer_is_waited_for_and_a_renamed_file_is_taken_at_once() {
    let mut w = Worker::start(5000, |_| {});
    let inbox = w.path("inbox");
    drop_renamed(&inbox, "eerst.xml", &fixture("valid/301a.xml"));
    w.wait("worker running", 60, |w| {
        names(&w.path("done")) == ["eerst.xml"]
    });
    let xml = fixture("valid/305a.xml");
    let (a, b) = xml.split_at(xml.len() / 2);
    let mut f = std::fs::File::create(inbox.join("traag.xml")).unwrap();
    std::io::Write::write_all(&mut f, a).unwrap();
    // The writer pauses 1.5 s mid-file (less than the settle time, 5 s).
    std::thread::sleep(Duration::from_millis(1500));
    assert!(inbox.join("traag.xml").exists(), "half-written file taken");
    std::io::Write::write_all(&mut f, b).unwrap();
    drop(f);
    // A file renamed into place goes at once, before the settle time of the one written in place.
    // (The rename a clock tick after the last write, so the change time differs.)
    let tmp = inbox.join("snel.xml.part");
    std::fs::write(&tmp, fixture("valid/305a.xml").replace_ident()).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    std::fs::rename(&tmp, inbox.join("snel.xml")).unwrap();
    w.wait("renamed file done", 30, |w| {
        names(&w.path("done")).len() == 2
    });
    assert_eq!(names(&w.path("done")), ["eerst.xml", "snel.xml"]);
    assert!(
        inbox.join("traag.xml").exists(),
        "file written in place taken before settling"
    );
    w.wait("slow file done", 30, |w| names(&w.path("done")).len() == 3);
    assert!(
        names(&w.path("failed")).is_empty(),
        "{:?}",
        names(&w.path("failed"))
    );
    w.stop();
}

#[test]
fn a_file_the_database_refuses_fails_with_its_reason_and_the_worker_goes_on() {
    let mut w = Worker::start(50, |dir| poison_in_store(dir, "gif.xml"));
    let inbox = w.path("inbox");
    drop_renamed(&inbox, "gif.xml", &fixture("valid/305a.xml"));
    drop_renamed(&inbox, "goed.xml", &fixture("valid/301a.xml"));
    w.wait("both handled", 30, |w| {
        names(&w.path("done")) == ["goed.xml"] && names(&w.path("failed")).len() == 2
    });
    let r = reason(&w.path("failed"), "gif.xml");
    assert!(
        r.contains("blijvende fout") && r.contains("databasecode 1811"),
        "{r}"
    );
    assert_eq!(
        w.metric("iwmo_files_failed_total{reason=\"store\"}"),
        Some(1.0)
    );
    assert_eq!(w.metric("iwmo_store_errors_total"), Some(0.0));
    let log = w.stop();
    assert!(!log.contains("database niet bruikbaar"), "{log}");
}

#[test]
fn the_same_name_failing_three_times_keeps_three_reasons_and_done_keeps_both() {
    let mut w = Worker::start(50, |_| {});
    let inbox = w.path("inbox");
    let (failed, done) = (w.path("failed"), w.path("done"));
    for i in 1..=3 {
        let bad = format!("<?xml version=\"1.0\"?><kapot nr=\"{i}\">");
        drop_renamed(&inbox, "x.xml", bad.as_bytes());
        w.wait("failed", 30, |w| names(&w.path("failed")).len() == 2 * i);
        drop_renamed(&inbox, "301.xml", &fixture("valid/301a.xml"));
        w.wait("done", 30, |w| names(&w.path("done")).len() == i);
    }
    assert_eq!(
        names(&failed),
        [
            "x.xml",
            "x.xml.reden.txt",
            "x~2.xml",
            "x~2.xml.reden.txt",
            "x~3.xml",
            "x~3.xml.reden.txt"
        ]
    );
    for n in ["x.xml", "x~2.xml", "x~3.xml"] {
        assert!(!reason(&failed, n).trim().is_empty());
    }
    assert_eq!(names(&done), ["301.xml", "301~2.xml", "301~3.xml"]);
    w.stop();
}

/// 1,000 files, 10 of them poison, through one worker: every good file done, every poison
/// file failed with its own reason, the worker never stops, exit 0 on SIGTERM.
#[test]
fn soak_1000_mixed_files_with_10_poison() {
    let mut w = Worker::start(200, |dir| poison_in_store(dir, "p09-gif.xml"));
    let inbox = w.path("inbox");
    let poison = drop_poison(&inbox);
    for i in 0..990u32 {
        let xml = synth::wmo301(
            &format!("SOAK{i:06}"),
            500_000 + i,
            "2025-01-01",
            "2025-12-31",
        );
        drop_renamed(&inbox, &format!("g{i:04}.xml"), xml.as_bytes());
    }
    w.wait("all handled", 240, |w| {
        names(&w.path("done")).len() == 990 && names(&w.path("failed")).len() == 2 * 9
    });
    // The second file of the same name, once the first is in failed/.
    drop_renamed(
        &inbox,
        "p07-dubbel.xml",
        b"<?xml version=\"1.0\"?><nogmaals>",
    );
    w.wait("tenth poison", 30, |w| names(&w.path("failed")).len() == 20);
    let failed = w.path("failed");
    for n in poison
        .iter()
        .map(String::as_str)
        .chain(["p07-dubbel~2.xml"])
    {
        assert!(!reason(&failed, n).trim().is_empty(), "{n}");
    }
    let total: f64 = [
        "invalid",
        "too-large",
        "store",
        "io",
        "not-regular",
        "not-xml",
    ]
    .iter()
    .filter_map(|r| w.metric(&format!("iwmo_files_failed_total{{reason=\"{r}\"}}")))
    .sum();
    assert_eq!(total, 10.0);
    assert_eq!(names(&inbox), [".processing"]);
    w.stop();
}

/// Nine poison files (the tenth, a second file of the same name, comes later).
fn drop_poison(inbox: &Path) -> Vec<String> {
    let big = std::fs::File::create(inbox.join(".p01")).unwrap();
    big.set_len(30 * 1024 * 1024).unwrap();
    drop(big);
    std::fs::rename(inbox.join(".p01"), inbox.join("p01-groot.xml")).unwrap();
    let latin1 = String::from_utf8(fixture("valid/305a.xml"))
        .unwrap()
        .replacen(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<?xml version=\"1.0\"?>",
            1,
        )
        .into_bytes()
        .into_iter()
        .chain([0xe9, 0xff])
        .collect::<Vec<u8>>();
    drop_renamed(inbox, "p02-latin1.xml", &latin1);
    std::os::unix::fs::symlink("/etc/passwd", inbox.join("p03-link.xml")).unwrap();
    mkfifo(&inbox.join("p04-pijp.xml"));
    drop_renamed(inbox, "p05-notities.txt", b"geen bericht");
    drop_renamed(inbox, "p06-kapot.xml", b"<?xml version=\"1.0\"?><a><b></a>");
    drop_renamed(inbox, "p07-dubbel.xml", b"<?xml version=\"1.0\"?><eerste>");
    std::fs::create_dir(inbox.join("p08-map.xml")).unwrap();
    drop_renamed(inbox, "p09-gif.xml", &fixture("valid/305a.xml"));
    [
        "p01-groot.xml",
        "p02-latin1.xml",
        "p03-link.xml",
        "p04-pijp.xml",
        "p05-notities.txt",
        "p06-kapot.xml",
        "p07-dubbel.xml",
        "p08-map.xml",
        "p09-gif.xml",
    ]
    .map(String::from)
    .to_vec()
}
