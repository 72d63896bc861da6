//! `iwmo replay` reproduces everything a decision did — outcome, findings, holds placed and
//! released, the answer's bytes — and says precisely what differs when the stored record does
//! not match what the rules decide on the stored state. Both backends.

mod common;

use std::path::PathBuf;

use chrono::NaiveDate;
use iwmo::pipeline::{self, Outcome, Settings};
use iwmo::store::Store;

fn valid(name: &str) -> PathBuf {
    common::root().join("fixtures").join("valid").join(name)
}

async fn process(store: &Store, name: &str) -> Outcome {
    let today = NaiveDate::from_ymd_opt(2025, 4, 10).unwrap();
    let bytes = std::fs::read(valid(name)).unwrap();
    pipeline::process(store, name, &bytes, today, &Settings::default())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn exec(store: &Store, sql: &str, id: i64) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
}

async fn report(store: &Store, id: i64) -> (bool, Vec<String>) {
    let all = iwmo::replay::replay_all(store).await.unwrap();
    let r = all
        .into_iter()
        .find(|r| r.message_id == id)
        .expect("replayed");
    (r.identical, r.differences)
}

/// 301, a 323 before its start (held), the 305 that releases the hold.
async fn timeline(store: &Store) -> (i64, i64) {
    let csv = std::fs::read_to_string(common::root().join("fixtures/contracts.csv")).unwrap();
    let contracts = iwmo::imports::parse_contracts(&csv).unwrap();
    store
        .import_contracts("contracts.csv", &contracts)
        .await
        .unwrap();
    process(store, "301a.xml").await;
    let d = process(store, "323a.xml").await;
    assert_eq!(d.outcome, "accepted", "{d:?}");
    let s = process(store, "305a.xml").await;
    assert_eq!(s.outcome, "accepted");
    (d.message_id.unwrap(), s.message_id.unwrap())
}

#[tokio::test]
async fn replay_reproduces_the_release_of_a_hold_and_names_what_differs() {
    for db in common::backends() {
        let store = Store::open(db.url()).await.unwrap();
        let (decl, start) = timeline(&store).await;
        for r in iwmo::replay::replay_all(&store).await.unwrap() {
            assert!(
                r.identical && r.notes.is_empty(),
                "[{}] {}",
                db.backend,
                r.render()
            );
        }
        // The 305 released the 323's hold: the stored changes say so.
        let changes: String =
            sqlx::query_scalar("SELECT changes_json FROM decisions WHERE message_id = $1")
                .bind(start)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert!(
            changes.contains("\"wijziging\":\"vrijgegeven\""),
            "{changes}"
        );

        // The state the 305 was decided on, without the held line: the rules no longer release
        // it, and replay names the change that is missing.
        let snap: String =
            sqlx::query_scalar("SELECT snapshot_json FROM decisions WHERE message_id = $1")
                .bind(start)
                .fetch_one(store.pool())
                .await
                .unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&snap).unwrap();
        v["snapshot"]["open_lines"] = serde_json::json!([]);
        sqlx::query("UPDATE decisions SET snapshot_json = $1 WHERE message_id = $2")
            .bind(v.to_string())
            .bind(start)
            .execute(store.pool())
            .await
            .unwrap();
        let (identical, diffs) = report(&store, start).await;
        assert!(!identical, "[{}] tampered state must differ", db.backend);
        assert!(
            diffs
                .iter()
                .any(|d| d.starts_with("wijzigingen.holds: toen [")
                    && d.contains("\"wijziging\":\"vrijgegeven\"")
                    && d.ends_with("nu null")),
            "[{}] {diffs:?}",
            db.backend
        );

        // The answer as stored differs from what the rules write: the first differing line.
        exec(
            &store,
            "UPDATE outbox SET xml = REPLACE(xml, '8001', '0200') WHERE message_id = $1",
            decl,
        )
        .await;
        let (identical, diffs) = report(&store, decl).await;
        assert!(!identical);
        assert!(
            diffs
                .iter()
                .any(|d| d.starts_with("antwoordbericht wijkt af vanaf regel")
                    && d.contains("RetourCode")),
            "[{}] {diffs:?}",
            db.backend
        );
        assert!(
            diffs.iter().all(|d| !d.contains("99999")),
            "no BSN in {diffs:?}"
        );
        store.close().await;
    }
}
