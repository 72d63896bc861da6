//! `iwmo api` as a process: it listens, publishes its OpenAPI document, answers with the
//! API-Version header and a request id, logs requests without BSN, and stops cleanly on SIGTERM.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use super::common;
use super::harness::{declaratie, start, toewijzingen, World, BIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_api_and_stops_cleanly() {
    for db in common::backends() {
        let l = db.backend;
        let w = World::new(db).await;
        let mut m = toewijzingen("T", 100_000, 100_010);
        m.extend((100_000..100_004).map(|nr| start(&format!("S{nr}"), nr)));
        m.push(declaratie("D1", "DECLA", 4, 1, 100_000));
        w.process(&m);
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
