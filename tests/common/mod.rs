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

// ---------------------------------------------------------------------------------------------
// Fresh databases per test: SQLite always, PostgreSQL too when IWMO_TEST_PG_URL is set.

static DB_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A fresh, empty database for one test. A PostgreSQL database is dropped again when this
/// value is dropped; a SQLite file lives in a temporary directory that goes with it.
pub struct TestDb {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// (URL of the server's `postgres` database, name of the test database).
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A fresh SQLite file in its own temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("iwmo.db").display());
        TestDb {
            backend: "sqlite",
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh PostgreSQL database `iwmo_t_<unique>` on the server of `server_url` (any database
    /// path in it is ignored; the `postgres` database is used to create and drop).
    pub fn postgres(server_url: &str) -> TestDb {
        let name = format!(
            "iwmo_t_{}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0),
            DB_COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let admin = pg_url_with_db(server_url, "postgres");
        pg_exec(&admin, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        TestDb {
            backend: "postgres",
            url: pg_url_with_db(server_url, &name),
            _dir: None,
            pg: Some((admin, name)),
        }
    }
}

impl TestDb {
    /// PostgreSQL only: makes this test's database refuse connections and ends the open ones
    /// (`reachable = false`), or accepts them again; the server and other tests are untouched.
    #[allow(dead_code)]
    pub fn set_reachable(&self, reachable: bool) {
        let (admin, name) = self.pg.as_ref().expect("a PostgreSQL test database");
        pg_exec(
            admin,
            &format!("ALTER DATABASE {name} WITH ALLOW_CONNECTIONS {reachable}"),
        )
        .expect("ALTER DATABASE");
        if !reachable {
            pg_exec(
                admin,
                &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
            )
            .expect("pg_terminate_backend");
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Err(e) = pg_exec(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ) {
                eprintln!("warning: could not drop test database {name}: {e}");
            }
        }
    }
}

/// `postgres://user@host:port/anything?x` → the same server with database `db`.
pub fn pg_url_with_db(url: &str, db: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let server = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    format!("{server}/{db}{query}")
}

/// Runs one statement on PostgreSQL on a thread of its own (usable from sync and async tests).
pub fn pg_exec(url: &str, sql: &str) -> Result<(), String> {
    let url = url.to_string();
    let sql = sql.to_string();
    std::thread::spawn(move || -> Result<(), String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&url)
                .await
                .map_err(|e| e.to_string())?;
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .map_err(|e| e.to_string())?;
            c.close().await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "thread panicked".to_string())?
}

// ---------------------------------------------------------------------------------------------
// Services (PostgreSQL, RabbitMQ). A test that needs one skips when its URL is not set; with
// IWMO_REQUIRE_SERVICES=1 (set by .ci/run) it fails instead. A URL that is set must answer.

/// The PostgreSQL server to test against (IWMO_TEST_PG_URL); `None`: skip.
pub fn pg_server() -> Option<String> {
    service_url("IWMO_TEST_PG_URL", "PostgreSQL", 5432)
}

/// The RabbitMQ broker to test against (IWMO_TEST_AMQP_URL); `None`: skip.
pub fn amqp_server() -> Option<String> {
    service_url("IWMO_TEST_AMQP_URL", "RabbitMQ", 5672)
}

/// Whether tests that need PostgreSQL or RabbitMQ must run (IWMO_REQUIRE_SERVICES=1).
pub fn services_required() -> bool {
    std::env::var("IWMO_REQUIRE_SERVICES").as_deref() == Ok("1")
}

/// The URL in `var`, checked to answer on TCP. Unset: `None` (a skip, said on stderr), or a
/// panic when services are required. Set but not answering: a panic either way.
fn service_url(var: &str, service: &str, default_port: u16) -> Option<String> {
    let Some(url) = std::env::var(var).ok().filter(|s| !s.trim().is_empty()) else {
        if services_required() {
            panic!("{service} required (IWMO_REQUIRE_SERVICES=1) but {var} is not set");
        }
        eprintln!("skipped: {var} not set ({service} tests)");
        return None;
    };
    let addr = host_port(&url, default_port);
    if let Err(e) = tcp_answers(&addr) {
        panic!("{service} at {addr} ({var}) does not answer: {e}");
    }
    Some(url)
}

/// `scheme://user:password@host:port/path?query` → `host:port` (never the credentials).
pub fn host_port(url: &str, default_port: u16) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let host = if host.is_empty() { "localhost" } else { host };
    if has_port {
        host.to_string()
    } else {
        format!("{host}:{default_port}")
    }
}

fn tcp_answers(addr: &str) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let timeout = std::time::Duration::from_secs(3);
    let addrs: Vec<_> = addr.to_socket_addrs().map_err(|e| e.to_string())?.collect();
    let mut last = format!("{addr} resolves to no address");
    for a in addrs {
        match std::net::TcpStream::connect_timeout(&a, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// One fresh database per backend under test: SQLite always, PostgreSQL when IWMO_TEST_PG_URL
/// is set (required with IWMO_REQUIRE_SERVICES=1, see [`pg_server`]).
pub fn backends() -> Vec<TestDb> {
    let mut v = vec![TestDb::sqlite()];
    if let Some(pg) = pg_server() {
        v.push(TestDb::postgres(&pg));
    }
    v
}

/// A TCP port nobody listens on right now (for a worker's HTTP and metrics endpoints).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Ready messages in a RabbitMQ queue (passive declare); None when the queue or channel is gone.
pub async fn queue_len(ch: &lapin::Channel, q: &str) -> Option<u32> {
    ch.queue_declare(
        q.into(),
        lapin::options::QueueDeclareOptions {
            passive: true,
            ..Default::default()
        },
        lapin::types::FieldTable::default(),
    )
    .await
    .ok()
    .map(|q| q.message_count())
}

/// What a child process did, with its peak resident memory as the kernel counted it.
pub struct Measured {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident set size (ru_maxrss of wait4), in KiB.
    pub peak_kib: u64,
}

/// Runs a command to its end and measures its peak memory with `wait4` (not by timing, not by
/// sampling): the kernel's high-water mark of this one child.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, not by Child::wait
pub fn run_measured(cmd: &mut Command) -> Measured {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start child");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 writes both out-parameters for this pid,
    // which is our own child and is reaped here (std's Child is not waited on afterwards).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    Measured {
        status: std::process::ExitStatus::from_raw(status),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
        peak_kib: usage.ru_maxrss as u64,
    }
}

/// A command for the built binary with the caller's `IWMO_*` settings removed (the tests'
/// own `IWMO_TEST_*` stay), so a worker started by a test sees only what the test gives it.
pub fn clean_command(bin: &str) -> Command {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars() {
        if k.starts_with("IWMO_") && !k.starts_with("IWMO_TEST_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// base64url without padding (JWK key material and JWT parts made by the tests).
pub fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}
