//! The worker process: one `iwmo serve` child per test run, and the one-shot CLI.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::common::free_port;
use crate::{http_get, metric, BIN, CONTRACT_CSV, NAME_COUNTER, TODAY};

/// One `iwmo serve` child; killed (SIGKILL) when dropped if still running. Its stderr goes to a
/// file so it survives a kill and can be checked for privacy afterwards.
pub struct Serve {
    child: Child,
    log: PathBuf,
    http: u16,
    metrics: u16,
}

impl Serve {
    pub fn start(
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

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn assert_running(&mut self) {
        if let Ok(Some(st)) = self.child.try_wait() {
            panic!("iwmo serve exited early ({st}); log:\n{}", self.log());
        }
    }

    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        http_get(self.http, path)
    }

    pub fn metrics_text(&self) -> String {
        http_get(self.metrics, "/metrics")
            .filter(|(s, _)| *s == 200)
            .map(|(_, b)| b)
            .unwrap_or_default()
    }

    pub fn metric(&self, sample: &str) -> f64 {
        metric(&self.metrics_text(), sample).unwrap_or(-1.0)
    }

    pub fn wait_ready(&mut self) {
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
    pub fn terminate(&mut self, within: Duration) -> (i32, Duration) {
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

    /// SIGTERM; the worker must exit with status 0 within 10 s. How long it took.
    pub fn stop_cleanly(&mut self, label: &str) -> Duration {
        let (code, took) = self.terminate(Duration::from_secs(10));
        assert_eq!(code, 0, "{label}: exit after SIGTERM; log:\n{}", self.log());
        took
    }

    pub fn sigkill(&mut self) {
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

pub fn run_cli(db: &str, env: &[(String, String)], args: &[&str]) -> (i32, String, String) {
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

pub fn import_contract(db: &str, dir: &Path) {
    let csv = dir.join("contracts.csv");
    std::fs::write(&csv, CONTRACT_CSV).unwrap();
    let (code, out, err) = run_cli(db, &[], &["contracts", "import", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "contracts import failed: {out}{err}");
}

pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
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

pub fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default()
}
