//! `iwmo process` as operators run it: several at once on one SQLite file, files that cannot be
//! read, an `--out` that is not a directory; each with the exit code the README promises.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use iwmo::testkit::synth;

const BIN: &str = env!("CARGO_BIN_EXE_iwmo");
const TODAY: &str = "2025-03-01";

/// `iwmo` with a clean environment (no IWMO_* of the caller), on `db`.
fn iwmo(db: &str) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("IWMO_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("IWMO_DATABASE_URL", db)
        .env("IWMO_TODAY", TODAY)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    cmd
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// The JSON lines of a run's stdout.
fn lines(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `SELECT` one integer from the SQLite file.
fn count(db: &str, sql: &str) -> i64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = iwmo::store::Store::open(db).await.unwrap();
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        n
    })
}

/// Messages of clients of process `k` alone: six toewijzingen (301), each followed by its start
/// (305).
fn own(k: u32) -> Vec<String> {
    (0..6)
        .flat_map(|j| {
            let nr = 100_000 + (k * 6 + j) * 10;
            [
                synth::wmo301(&format!("T{k}X{j}"), nr, "2025-01-01", "2025-12-31"),
                synth::wmo305(&format!("S{k}X{j}"), nr, "2025-01-06"),
            ]
        })
        .collect()
}

/// Messages every process gets, the same bytes: three toewijzingen and their starts.
fn shared() -> Vec<String> {
    (0..3)
        .flat_map(|j| {
            let nr = 200_000 + j * 10;
            [
                synth::wmo301(&format!("GT{j}"), nr, "2025-01-01", "2025-12-31"),
                synth::wmo305(&format!("GS{j}"), nr, "2025-01-06"),
            ]
        })
        .collect()
}

/// Writes the messages as `00.xml`, `01.xml`, … into `dir`.
fn files(dir: &Path, bodies: &[String]) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    bodies
        .iter()
        .enumerate()
        .map(|(i, b)| write(dir, &format!("{i:02}.xml"), b))
        .collect()
}

/// `iwmo serve` on the file transport with its inbox in `dir`, killed when dropped.
struct Serve(std::process::Child);

impl Serve {
    fn start(dir: &Path, db: &str) -> Serve {
        let child = iwmo(db)
            .arg("serve")
            .current_dir(dir)
            .env("IWMO_POLL_MILLIS", "20")
            .env(
                "IWMO_HTTP_ADDR",
                format!("127.0.0.1:{}", crate::common::free_port()),
            )
            .env(
                "IWMO_METRICS_ADDR",
                format!("127.0.0.1:{}", crate::common::free_port()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Serve(child)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (up to 60 s) until `n` messages are stored.
fn wait_for_messages(db: &str, n: i64) -> i64 {
    let t = std::time::Instant::now();
    loop {
        let got = count(db, "SELECT COUNT(*) FROM messages");
        if got >= n || t.elapsed() > std::time::Duration::from_secs(60) {
            return got;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn four_processes_and_a_worker_at_once_on_one_sqlite_file() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite://{}", dir.path().join("iwmo.db").display());
        // The worker's inbox: the messages of a fifth process.
        files(&dir.path().join("inbox"), &own(4));
        let serve = Serve::start(dir.path(), &db);
        let children: Vec<_> = (0..4u32)
            .map(|k| {
                let files = files(
                    &dir.path().join(format!("in{k}")),
                    &[own(k), shared()].concat(),
                );
                let child = iwmo(&db)
                    .arg("process")
                    .arg("--out")
                    .arg(dir.path().join(format!("out{k}")))
                    .args(&files)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (files.len(), child)
            })
            .collect();
        for (k, (n, child)) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}, process {k}: {}",
                text(&out.stderr)
            );
            let ls = lines(&out);
            assert_eq!(ls.len(), n, "round {round}, process {k}");
            for l in &ls {
                let o = l["outcome"].as_str().unwrap_or_default();
                assert!(
                    ["registered", "accepted", "duplicate"].contains(&o),
                    "round {round}, process {k}: {l}"
                );
            }
        }
        // 5 × 12 own messages and 6 shared ones, each stored once and decided once.
        assert_eq!(wait_for_messages(&db, 66), 66, "round {round}");
        drop(serve);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM (SELECT afzender, identificatie FROM messages \
                 GROUP BY afzender, identificatie HAVING COUNT(*) > 1)"
            ),
            0
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM decisions"), 66);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) FROM messages WHERE outcome = 'accepted'"
            ),
            33
        );
        let verify = iwmo(&db).args(["audit", "verify"]).output().unwrap();
        assert_eq!(
            verify.status.code(),
            Some(0),
            "round {round}: {}{}",
            text(&verify.stdout),
            text(&verify.stderr)
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM chain"), 66);
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/valid")
        .join(name)
}

/// A FIFO, a missing file and a directory that cannot be listed are `unreadable` (exit 1, each
/// named on stderr with its reason), not `invalid`; the valid file beside them is processed.
#[test]
fn unreadable_files_are_named_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("iwmo.db").display());
    let fifo = dir.path().join("pijp.xml");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    let out = iwmo(&db)
        .arg("process")
        .arg(&fifo)
        .arg(dir.path().join("weg.xml"))
        .arg(fixture("305a.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let ls = lines(&out);
    assert_eq!(ls.len(), 3);
    assert_eq!(ls[0]["outcome"], "unreadable");
    assert!(ls[0]["error"]
        .as_str()
        .unwrap()
        .contains("named pipe (FIFO)"));
    assert_eq!(ls[1]["outcome"], "unreadable");
    assert!(ls[1]["error"].as_str().unwrap().contains("bestaat niet"));
    assert_eq!(ls[2]["kind"], "WMO305");
    let err = text(&out.stderr);
    assert!(
        err.contains("pijp.xml: geen gewoon bestand (named pipe (FIFO))"),
        "{err}"
    );
    assert!(
        err.contains("weg.xml: kan bestand niet lezen: bestand of map bestaat niet"),
        "{err}"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM messages"),
        1,
        "nothing stored for them"
    );
}

/// An oversized file is handled: recorded by its first bytes, `invalid` with its reason, exit
/// 0, and never read whole (peak memory far below its size).
#[test]
fn an_oversized_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("iwmo.db").display());
    let big = dir.path().join("groot.xml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap();
    let m = crate::common::run_measured(iwmo(&db).arg("process").arg(&big));
    assert_eq!(m.status.code(), Some(0), "{}", m.stderr);
    let line: serde_json::Value = serde_json::from_str(m.stdout.trim()).unwrap();
    assert_eq!(line["outcome"], "invalid");
    assert!(
        line["error"].as_str().unwrap().contains("te groot"),
        "{line}"
    );
    assert!(m.peak_kib < 100 * 1024, "peak {} KiB", m.peak_kib);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM messages"), 1);
    assert_eq!(
        count(&db, "SELECT MAX(LENGTH(raw)) FROM messages"),
        iwmo::fsread::PREVIEW_BYTES as i64
    );
    // The same file again is the same record; the chain covers the first bytes kept.
    let again = iwmo(&db).arg("process").arg(&big).output().unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM messages"), 1);
    let verify = iwmo(&db).args(["audit", "verify"]).output().unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
}

/// `--out` that is a file: refused before anything is decided (exit 2, no database created).
#[test]
fn an_out_that_is_a_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let dbfile = dir.path().join("iwmo.db");
    let db = format!("sqlite://{}", dbfile.display());
    let file = write(dir.path(), "uit", "");
    let out = iwmo(&db)
        .args(["process", "--out"])
        .arg(&file)
        .arg(fixture("305a.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is geen map; er is niets beslist"));
    assert!(!dbfile.exists());
}

/// Decided, but the answer cannot be written: exit 4, the answer named; it waits in the
/// database and `iwmo answers write` writes it (once).
#[test]
fn an_answer_not_written_exits_4_and_answers_write_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("iwmo.db").display());
    // /proc is a directory in which no one can create a file.
    let out = iwmo(&db)
        .args(["process", "--out", "/proc"])
        .arg(fixture("305a.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let l = &lines(&out)[0];
    assert_eq!(l["outcome"], "rejected", "{l}");
    assert!(l["answer"].is_null());
    let reason = l["answer_error"].as_str().unwrap();
    assert!(reason.starts_with("kan antwoord /proc/WMO306-"), "{reason}");
    let err = text(&out.stderr);
    assert!(err.contains("1 antwoord(en) niet geschreven: IW"), "{err}");
    assert!(err.contains("iwmo answers write --out /proc"), "{err}");
    let target = dir.path().join("antwoorden");
    let w = iwmo(&db)
        .args(["answers", "write", "--out"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(w.status.code(), Some(0), "{}", text(&w.stderr));
    let written = text(&w.stdout);
    assert_eq!(written.lines().count(), 1, "{written}");
    assert!(Path::new(written.trim()).is_file());
    let again = iwmo(&db)
        .args(["answers", "write", "--out"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(text(&again.stdout), "", "written once");
}

/// A database that cannot be used: exit 3, nothing decided.
#[test]
fn a_database_that_cannot_be_opened_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/geen-map/iwmo.db", dir.path().display());
    let out = iwmo(&db)
        .arg("process")
        .arg(fixture("305a.xml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stdout).is_empty());
}

/// JSON logs carry field values as JSON: the codes as an array; no colour codes when stderr is
/// not a terminal.
#[test]
fn json_logs_have_json_values_and_no_colour() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("iwmo.db").display());
    let run = |format: &str| {
        iwmo(&db)
            .env("RUST_LOG", "iwmo=info")
            .args(["--log-format", format, "process"])
            .arg(fixture("323b.xml"))
            .output()
            .unwrap()
    };
    let out = run("json");
    assert_eq!(out.status.code(), Some(0));
    let logged: Vec<serde_json::Value> = text(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let done = logged
        .iter()
        .find(|v| v["fields"]["message"] == "verwerkt")
        .expect("the verwerkt line");
    assert!(done["fields"]["codes"].is_array(), "{done}");
    assert!(done["timestamp"].is_string() && done["level"] == "INFO");
    let plain = text(&run("text").stderr);
    assert!(
        plain.contains("verwerkt") && !plain.contains('\x1b'),
        "{plain}"
    );
}
