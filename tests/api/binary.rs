//! `iwmo api` as a process: it listens, publishes its OpenAPI document, answers with the
//! API-Version header and a request id, logs requests without BSN, and stops cleanly on SIGTERM.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use super::common;
use super::harness::{started_january, World, BIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_api_and_stops_cleanly() {
    for db in common::backends() {
        let l = db.backend;
        let w = World::new(db).await;
        w.process(&started_january());
        let anna = w.user("anna", "financien", &["0344"]);
        let port = common::free_port();
        let mut child = common::clean_command(BIN)
            .args(["api", "--listen", &format!("127.0.0.1:{port}")])
            .env("IWMO_DATABASE_URL", w.db.url())
            .env("IWMO_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start iwmo api");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        while http.get(format!("{base}/healthz")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "[{l}] iwmo api did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let doc = http
            .get(format!("{base}/api/v1/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(doc.status(), 200);
        assert_eq!(doc.headers()["api-version"], "1.0.0");
        let doc: serde_json::Value = doc.json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "[{l}]");
        assert!(doc["paths"]["/api/v1/betaalrondes/{id}/fiattering"]["post"].is_object());

        let r = http
            .post(format!("{base}/api/v1/betaalrondes"))
            .bearer_auth(&anna)
            .header("x-request-id", "test-123")
            .json(&json!({"gemeente": "0344", "tot_en_met": "2025-01-31"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "[{l}]");
        assert_eq!(r.headers()["x-request-id"], "test-123");
        let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        let metrics = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains(
                "iwmo_api_requests_total{route=\"/api/v1/betaalrondes\",status=\"201\"} 1"
            ),
            "[{l}] {metrics}"
        );

        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = child.wait().unwrap();
        assert!(status.success(), "[{l}] clean stop: {status}");
        let mut log = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        assert!(
            log.contains("\"request_id\":\"test-123\""),
            "[{l}] access log: {log}"
        );
        for k in 0..2 {
            assert!(
                !log.contains(&iwmo::testkit::synth::bsn(k)),
                "[{l}] no BSN in the log"
            );
        }
        assert!(!log.contains(&anna), "[{l}] no token in the log");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_acts_as_a_user_and_keeps_four_eyes() {
    for db in common::backends() {
        let l = db.backend;
        let w = World::new(db).await;
        w.process(&started_january());
        let anna = w.user("anna", "financien", &["0344"]);
        let bert = w.user("bert", "financien", &["0344"]);
        let ad = w.user("ad", "auditor", &["0344"]);
        let run = |args: &[&str], tok: Option<&str>| w.cli_raw(args, tok);
        let out = run(
            &[
                "betaalrondes",
                "maak",
                "--gemeente",
                "0344",
                "--tot-en-met",
                "2025-01-31",
            ],
            Some(&anna),
        );
        assert!(
            out.status.success(),
            "[{l}] {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let id = made["id"].to_string();
        assert_eq!(made["aantal_regels"], 4);
        let out = run(&["betaalrondes", "fiatteer", &id], Some(&anna));
        assert_eq!(out.status.code(), Some(1), "[{l}] the maker is refused");
        assert!(String::from_utf8_lossy(&out.stderr).contains("vier-ogen"));
        let out = run(&["betaalrondes", "fiatteer", &id], Some(&ad));
        assert_eq!(
            out.status.code(),
            Some(1),
            "[{l}] an auditor changes nothing"
        );
        let out = run(&["betaalrondes", "fiatteer", &id], None);
        assert_eq!(out.status.code(), Some(2), "[{l}] no token");
        let out = run(&["betaalrondes", "fiatteer", &id], Some(&bert));
        assert!(
            out.status.success(),
            "[{l}] {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = w.path("cli-sepa.xml");
        let out = run(&["betaalrondes", "sepa", &id, "--uit", &file], Some(&bert));
        assert!(
            out.status.success(),
            "[{l}] {}",
            String::from_utf8_lossy(&out.stderr)
        );
        super::harness::sepa_valid(std::path::Path::new(&file)).unwrap();
        let again = w.path("cli-sepa-2.xml");
        assert!(
            run(&["betaalrondes", "sepa", &id, "--uit", &again], Some(&anna))
                .status
                .success()
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            std::fs::read(&again).unwrap(),
            "[{l}] same bytes"
        );
        let out = run(&["betaalrondes", "list"], Some(&ad));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.lines().nth(1).unwrap().contains("geexporteerd"),
            "[{l}] {text}"
        );
        let out = run(&["betaalrondes", "intrekken", &id], Some(&anna));
        assert_eq!(
            out.status.code(),
            Some(1),
            "[{l}] exported: cannot be withdrawn"
        );
    }
}
