//! The store contract, through the library API, on every backend: SQLite always, PostgreSQL when
//! IWMO_TEST_PG_URL is set (a fresh database per test and backend).
//!
//! Open creates and migrates (and again is fine); toewijzing versions (latest Toewijzingsdatum +
//! Toewijzingstijd wins, an older version arriving later does not, a RedenWijziging 13 delete);
//! contracts import is idempotent; the inbox key and duplicate detection; the hash chain; a failed
//! commit leaves nothing behind, and a rejected message writes its decision and nothing else.

mod common;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use iwmo::domain::{Gemeentecode, Nummer};
use iwmo::pipeline::{self, Outcome, Settings};
use iwmo::store::{Backend, Store};
use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;

const TOEWIJZING_HDR: &str = "gemeente_code,toewijzing_nummer,bsn,agb_code,product_categorie,product_code,toewijzingsdatum,toewijzingstijd,ingangsdatum,einddatum,reden_wijziging,volume,eenheid,frequentie,budget_cents\n";
const CONTRACT_HDR: &str = "agb_code,gemeente_code,product_categorie,product_code,eenheid,tarief_cents,ingangsdatum,einddatum\n";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 4, 10).unwrap()
}

fn valid(name: &str) -> PathBuf {
    common::root().join("fixtures").join("valid").join(name)
}

fn story(dir: &str, name: &str) -> PathBuf {
    common::root()
        .join("fixtures")
        .join("stories")
        .join(dir)
        .join(name)
}

fn settings(out: Option<&Path>) -> Settings {
    Settings {
        read: Default::default(),
        out_dir: out.map(Path::to_path_buf),
        ..Default::default()
    }
}

async fn process_bytes(store: &Store, source: &str, bytes: &[u8]) -> Outcome {
    pipeline::process(store, source, bytes, today(), &settings(None))
        .await
        .unwrap_or_else(|e| panic!("process {source}: {e}"))
}

async fn process(store: &Store, path: &Path) -> Outcome {
    process_bytes(
        store,
        &path.display().to_string(),
        &std::fs::read(path).unwrap(),
    )
    .await
}

async fn count(store: &Store, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("count {table}: {e}"));
    n
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(AssertSqlSafe(sql.to_string()))
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

const TABLES: &[&str] = &[
    "messages",
    "inbox_keys",
    "decisions",
    "decision_lines",
    "toewijzing_versies",
    "toewijzingen",
    "starts",
    "stops",
    "declaraties",
    "prestaties",
    "holds",
    "signals",
];

async fn counts(store: &Store) -> Vec<(&'static str, i64)> {
    let mut v = Vec::new();
    for t in TABLES {
        v.push((*t, count(store, t).await));
    }
    v
}

fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn gemeente() -> Gemeentecode {
    Gemeentecode::parse("0344").unwrap()
}

fn nr(n: u64) -> Nummer {
    Nummer::new(n).unwrap()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_creates_and_migrates_and_again_is_fine() {
    for db in common::backends() {
        let l = db.backend;
        let s = Store::open(db.url())
            .await
            .unwrap_or_else(|e| panic!("[{l}] open: {e}"));
        assert_eq!(
            s.backend(),
            if l == "sqlite" {
                Backend::Sqlite
            } else {
                Backend::Postgres
            }
        );
        for (t, n) in counts(&s).await {
            assert_eq!(n, 0, "[{l}] {t} starts empty");
        }
        s.ping().await.unwrap();
        // A second store on the same database while the first is open, then a reopen.
        let s2 = Store::open(db.url())
            .await
            .unwrap_or_else(|e| panic!("[{l}] open again: {e}"));
        assert_eq!(process(&s2, &valid("301a.xml")).await.outcome, "registered");
        s2.pool().close().await;
        s.pool().close().await;
        let s3 = Store::open(db.url())
            .await
            .unwrap_or_else(|e| panic!("[{l}] reopen: {e}"));
        assert_eq!(
            count(&s3, "messages").await,
            1,
            "[{l}] data survives a reopen"
        );
        assert_eq!(count(&s3, "toewijzingen").await, 1, "[{l}]");
        s3.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_url_is_refused() {
    assert!(Store::open("mysql://localhost/x").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toewijzing_versions_latest_moment_wins() {
    let row = |tijd: &str, datum: &str, eind: &str, reden: &str| {
        format!("0344,40001,999990019,87654321,02,02A01,{datum},{tijd},2025-01-06,{eind},{reden},4,04,2,\n")
    };
    for db in common::backends() {
        let l = db.backend;
        let s = Store::open(db.url()).await.unwrap();
        let import = |csv: String| {
            let s = s.clone();
            async move {
                let t =
                    iwmo::imports::parse_toewijzingen(&format!("{TOEWIJZING_HDR}{csv}")).unwrap();
                s.import_toewijzingen("csv:test", &t).await.unwrap();
            }
        };
        let current = || {
            let s = s.clone();
            async move {
                let mut v = s.toewijzingen(&gemeente(), &[nr(40001)]).await.unwrap();
                assert_eq!(v.len(), 1, "one current version per number");
                v.remove(0)
            }
        };
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();

        import(row("10:15:00", "2024-12-20", "2025-12-31", "")).await;
        assert_eq!(current().await.einddatum, Some(d("2025-12-31")), "[{l}]");

        // A newer version wins.
        import(row("09:30:00", "2025-04-01", "2025-04-30", "05")).await;
        assert_eq!(current().await.einddatum, Some(d("2025-04-30")), "[{l}]");

        // An older version arriving later does not win (older date; same date, earlier time).
        import(row("10:00:00", "2024-12-20", "2025-06-30", "")).await;
        import(row("09:29:59", "2025-04-01", "2025-05-31", "05")).await;
        assert_eq!(
            current().await.einddatum,
            Some(d("2025-04-30")),
            "[{l}] older loses"
        );

        // One second later on the same day wins.
        import(row("09:30:01", "2025-04-01", "2025-05-31", "05")).await;
        assert_eq!(
            current().await.einddatum,
            Some(d("2025-05-31")),
            "[{l}] time counts"
        );

        // A RedenWijziging 13 delete (Einddatum = Ingangsdatum).
        import(row("08:00:00", "2025-04-02", "2025-01-06", "13")).await;
        let t = current().await;
        assert!(t.is_verwijderd(), "[{l}] deleted: {t:?}");

        // Every version is kept.
        assert_eq!(count(&s, "toewijzing_versies").await, 6, "[{l}]");
        assert_eq!(count(&s, "toewijzingen").await, 1, "[{l}]");
        s.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toewijzing_versions_from_301_messages_out_of_order() {
    for db in common::backends() {
        let l = db.backend;
        let s = Store::open(db.url()).await.unwrap();
        // 301b (2025-04-01: 40001 shortened, 40002 new) before 301a (2024-12-20).
        assert_eq!(process(&s, &valid("301b.xml")).await.outcome, "registered");
        assert_eq!(process(&s, &valid("301a.xml")).await.outcome, "registered");
        let v = s
            .toewijzingen(&gemeente(), &[nr(40001), nr(40002)])
            .await
            .unwrap();
        let t1 = v.iter().find(|t| t.toewijzing_nummer == nr(40001)).unwrap();
        assert_eq!(
            t1.einddatum,
            "2025-04-30".parse().ok(),
            "[{l}] 301b stays current"
        );
        assert!(v.iter().any(|t| t.toewijzing_nummer == nr(40002)), "[{l}]");
        assert_eq!(count(&s, "toewijzing_versies").await, 3, "[{l}]");

        // The delete version (fixture of the 9384 story) wins over both.
        let del = story("323-9384-deleted-toewijzing", "02-301.xml");
        let bytes = std::fs::read(&del).unwrap();
        // It is dated 2024-12-20 10:16, older than 301b: it must not win …
        assert_eq!(process_bytes(&s, "del", &bytes).await.outcome, "registered");
        let t1 = s
            .toewijzingen(&gemeente(), &[nr(40001)])
            .await
            .unwrap()
            .remove(0);
        assert!(!t1.is_verwijderd(), "[{l}] an older delete does not win");
        // … but on a fresh database after 301a it does.
        s.pool().close().await;
        drop(db);
        let db2 = match common::pg_server() {
            Some(pg) if l == "postgres" => common::TestDb::postgres(&pg),
            _ => common::TestDb::sqlite(),
        };
        let s = Store::open(db2.url()).await.unwrap();
        process(&s, &valid("301a.xml")).await;
        process_bytes(&s, "del", &bytes).await;
        let t1 = s
            .toewijzingen(&gemeente(), &[nr(40001)])
            .await
            .unwrap()
            .remove(0);
        assert!(t1.is_verwijderd(), "[{l}] the later delete wins: {t1:?}");
        s.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contracts_import_is_idempotent() {
    let csv = format!(
        "{CONTRACT_HDR}87654321,0344,02,02A01,04,6850,2025-01-01,\n11223344,0363,07,07A03,16,5120,2025-01-01,2025-12-31\n"
    );
    for db in common::backends() {
        let l = db.backend;
        let s = Store::open(db.url()).await.unwrap();
        let c = iwmo::imports::parse_contracts(&csv).unwrap();
        assert_eq!(s.import_contracts("a.csv", &c).await.unwrap(), 2);
        assert_eq!(s.import_contracts("a.csv", &c).await.unwrap(), 2);
        assert_eq!(
            count(&s, "contracts").await,
            2,
            "[{l}] the same file twice: same rows"
        );
        // A changed tariff for the same key updates, it does not add.
        let c2 = iwmo::imports::parse_contracts(&csv.replace("6850", "6900")).unwrap();
        s.import_contracts("b.csv", &c2).await.unwrap();
        assert_eq!(count(&s, "contracts").await, 2, "[{l}]");
        let (t,): (i64,) = sqlx::query_as(
            "SELECT tarief FROM contracts WHERE aanbieder = '87654321' AND product_code = '02A01'",
        )
        .fetch_one(s.pool())
        .await
        .unwrap();
        assert_eq!(t, 6900, "[{l}]");
        // A new Ingangsdatum is a new row.
        let c3 = iwmo::imports::parse_contracts(&csv.replace("6850,2025-01-01", "7000,2026-01-01"))
            .unwrap();
        s.import_contracts("c.csv", &c3).await.unwrap();
        assert_eq!(count(&s, "contracts").await, 3, "[{l}]");
        s.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_key_and_duplicate_detection() {
    for db in common::backends() {
        let l = db.backend;
        let s = Store::open(db.url()).await.unwrap();
        process(&s, &valid("301a.xml")).await;
        let bytes = std::fs::read(valid("305a.xml")).unwrap();
        assert_eq!(
            s.inbox_key("87654321", "WMO305", "ST2501100001")
                .await
                .unwrap(),
            None
        );
        let first = process_bytes(&s, "305a", &bytes).await;
        assert_eq!(first.outcome, "accepted", "[{l}] {first:?}");
        let key = s
            .inbox_key("87654321", "WMO305", "ST2501100001")
            .await
            .unwrap();
        assert_eq!(
            key,
            Some((first.message_id.unwrap(), sha_hex(&bytes))),
            "[{l}]"
        );
        let before = counts(&s).await;

        // The very same bytes again: a duplicate, answered the same way, nothing written.
        let again = process_bytes(&s, "305a again", &bytes).await;
        assert_eq!(again.outcome, "duplicate", "[{l}]");
        assert_eq!(again.message_id, first.message_id, "[{l}]");
        assert_eq!(again.codes, first.codes, "[{l}]");
        assert_eq!(
            again.answer_xml, first.answer_xml,
            "[{l}] the stored answer, unchanged"
        );
        assert_eq!(counts(&s).await, before, "[{l}] a duplicate writes nothing");

        // Same Identificatie, other content: 9056; the key keeps pointing at the first message.
        let other =
            std::fs::read_to_string(story("305-9056-identificatie-reused", "03-305.xml")).unwrap();
        let o = process_bytes(&s, "305a changed", other.as_bytes()).await;
        assert_eq!(o.outcome, "rejected", "[{l}]");
        assert!(o.codes.contains(&"9056".to_string()), "[{l}] {o:?}");
        assert_eq!(
            s.inbox_key("87654321", "WMO305", "ST2501100001")
                .await
                .unwrap(),
            key,
            "[{l}]"
        );

        // The key is per (Afzender, berichtsoort): the same Identificatie on a 307 is no reuse.
        let stop = std::fs::read_to_string(valid("307a.xml"))
            .unwrap()
            .replace("SP2503170001", "ST2501100001");
        let o = process_bytes(&s, "307 same ident", stop.as_bytes()).await;
        assert!(!o.codes.contains(&"9056".to_string()), "[{l}] {o:?}");
        assert_eq!(
            o.outcome, "rejected",
            "[{l}] (9069: no start of 2025-01-08) {o:?}"
        );

        // An invalid message is stored once per distinct content.
        let n = count(&s, "messages").await;
        for _ in 0..2 {
            let o = process_bytes(&s, "junk", b"<not-xml").await;
            assert_eq!(o.outcome, "invalid", "[{l}]");
        }
        assert_eq!(count(&s, "messages").await, n + 1, "[{l}]");
        assert!(s
            .invalid_by_hash(&sha_hex(b"<not-xml"))
            .await
            .unwrap()
            .is_some());
        s.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_chain_links_every_message_and_detects_tampering() {
    for db in common::backends() {
        let l = db.backend;
        let s = Store::open(db.url()).await.unwrap();
        let files = ["301a.xml", "305a.xml", "305b.xml", "323a.xml", "323b.xml"];
        for f in files {
            process(&s, &valid(f)).await;
        }
        process_bytes(&s, "junk", b"\xff\xfe").await; // invalid ones are in the chain too
        assert_eq!(s.verify_chain().await.unwrap(), Ok(6), "[{l}]");

        // Recompute the chain independently.
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT m.id, m.payload_sha256, c.prev_hash, c.hash FROM messages m JOIN chain c ON c.message_id = m.id ORDER BY c.seq",
        )
        .fetch_all(s.pool())
        .await
        .unwrap();
        let mut prev = "0".repeat(64);
        for (i, (_, sha, p, c)) in rows.iter().enumerate() {
            if i < files.len() {
                assert_eq!(
                    *sha,
                    sha_hex(&std::fs::read(valid(files[i])).unwrap()),
                    "[{l}]"
                );
            }
            assert_eq!(*p, prev, "[{l}]");
            assert_eq!(*c, sha_hex(format!("{prev}{sha}").as_bytes()), "[{l}]");
            prev = c.clone();
        }

        // Change one stored payload hash: the chain breaks exactly there.
        let victim = rows[2].0;
        exec(
            &s,
            &format!(
                "UPDATE messages SET payload_sha256 = '{}' WHERE id = {victim}",
                "1".repeat(64)
            ),
        )
        .await;
        assert_eq!(s.verify_chain().await.unwrap(), Err(victim), "[{l}]");
        exec(
            &s,
            &format!(
                "UPDATE messages SET payload_sha256 = '{}' WHERE id = {victim}",
                rows[2].1
            ),
        )
        .await;
        assert_eq!(s.verify_chain().await.unwrap(), Ok(6), "[{l}] repaired");

        // A message taken out of the chain (its link removed, the chain re-linked around it) is
        // found too, while messages stored after the check began are not counted against it.
        exec(
            &s,
            &format!("DELETE FROM chain WHERE message_id = {victim}"),
        )
        .await;
        // Re-link the rest of the chain so that only the missing message tells.
        let kept: Vec<(i64, String)> =
            sqlx::query_as("SELECT message_id, prev_hash FROM chain ORDER BY seq")
                .fetch_all(s.pool())
                .await
                .unwrap();
        let sha_of = |id: i64| rows.iter().find(|r| r.0 == id).unwrap().1.clone();
        let mut prev = "0".repeat(64);
        for (id, _) in &kept {
            let h = sha_hex(format!("{prev}{}", sha_of(*id)).as_bytes());
            exec(
                &s,
                &format!(
                    "UPDATE chain SET prev_hash = '{prev}', hash = '{h}' WHERE message_id = {id}"
                ),
            )
            .await;
            prev = h;
        }
        assert_eq!(
            s.verify_chain().await.unwrap(),
            Err(victim),
            "[{l}] a message outside the chain"
        );
        s.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_leaves_nothing_behind() {
    for db in common::backends() {
        let l = db.backend;
        let out = tempfile::tempdir().unwrap();
        let s = Store::open(db.url()).await.unwrap();
        process(&s, &valid("301a.xml")).await;
        let before = counts(&s).await;

        // A failure in the middle of the transaction: the insert of the start is refused
        // after the message, inbox key, decision and its lines were written.
        match s.backend() {
            Backend::Sqlite => {
                exec(
                    &s,
                    "CREATE TRIGGER iwmo_test_fail BEFORE INSERT ON starts BEGIN SELECT RAISE(ABORT, 'test failure'); END",
                )
                .await
            }
            Backend::Postgres => {
                exec(
                    &s,
                    "CREATE FUNCTION iwmo_test_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'test failure'; END $$ LANGUAGE plpgsql",
                )
                .await;
                exec(
                    &s,
                    "CREATE TRIGGER iwmo_test_fail BEFORE INSERT ON starts FOR EACH ROW EXECUTE FUNCTION iwmo_test_fail()",
                )
                .await;
            }
        }
        let bytes = std::fs::read(valid("305a.xml")).unwrap();
        let r = pipeline::process(&s, "305a", &bytes, today(), &settings(Some(out.path()))).await;
        assert!(r.is_err(), "[{l}] the commit must fail: {r:?}");
        assert_eq!(
            counts(&s).await,
            before,
            "[{l}] nothing of the failed message is stored"
        );
        assert_eq!(
            s.inbox_key("87654321", "WMO305", "ST2501100001")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            std::fs::read_dir(out.path())
                .map(|d| d.count())
                .unwrap_or(0),
            0,
            "[{l}] no answer written for an uncommitted decision"
        );
        assert_eq!(s.verify_chain().await.unwrap(), Ok(1), "[{l}]");

        // Once the database works again the same message is processed as new, not as a duplicate.
        match s.backend() {
            Backend::Sqlite => exec(&s, "DROP TRIGGER iwmo_test_fail").await,
            Backend::Postgres => exec(&s, "DROP TRIGGER iwmo_test_fail ON starts").await,
        }
        let o = pipeline::process(&s, "305a", &bytes, today(), &settings(Some(out.path())))
            .await
            .unwrap();
        assert_eq!(o.outcome, "accepted", "[{l}] {o:?}");
        assert_eq!(count(&s, "starts").await, 1, "[{l}]");

        // A closed pool: the store fails, nothing is written.
        let before = counts(&s).await;
        s.pool().close().await;
        let r = pipeline::process(
            &s,
            "305b",
            &std::fs::read(valid("305b.xml")).unwrap(),
            today(),
            &settings(Some(out.path())),
        )
        .await;
        assert!(r.is_err(), "[{l}] {r:?}");
        let s = Store::open(db.url()).await.unwrap();
        assert_eq!(counts(&s).await, before, "[{l}]");
        s.pool().close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_message_writes_its_decision_and_nothing_else() {
    for db in common::backends() {
        let l = db.backend;
        let s = Store::open(db.url()).await.unwrap();
        process(&s, &valid("301a.xml")).await;

        // A rejected 305 (9019): message, inbox key, decision, its lines; no start, no hold.
        let before = counts(&s).await;
        let o = process(&s, &story("305-9019-unknown-toewijzing", "02-305.xml")).await;
        assert_eq!(o.outcome, "rejected", "[{l}]");
        let after = counts(&s).await;
        for ((t, b), (_, a)) in before.iter().zip(&after) {
            let expect = match *t {
                "messages" | "inbox_keys" | "decisions" | "decision_lines" => b + 1,
                _ => *b,
            };
            assert_eq!(*a, expect, "[{l}] {t}");
        }
        let d = s.decision(o.message_id.unwrap()).await.unwrap().unwrap();
        assert_eq!(d.outcome, "rejected");
        assert_eq!(d.codes, ["9019"], "[{l}]");
        assert!(
            d.answer_xml.is_some(),
            "[{l}] the 306 is stored with the decision"
        );

        // A level-2 rejection: the same, without any domain row.
        let before = counts(&s).await;
        let o = process(
            &s,
            &common::root().join("fixtures/broken/305-bsn-elfproef.xml"),
        )
        .await;
        assert_ne!(o.outcome, "accepted", "[{l}] {o:?}");
        let after = counts(&s).await;
        for ((t, b), (_, a)) in before.iter().zip(&after) {
            if !matches!(
                *t,
                "messages" | "inbox_keys" | "decisions" | "decision_lines"
            ) {
                assert_eq!(a, b, "[{l}] {t}");
            }
        }

        // A declaration rejected as a whole (9333): no declaration, no lines, no holds.
        let c = iwmo::imports::parse_contracts(&format!(
            "{CONTRACT_HDR}87654321,0344,02,02A01,04,6850,2025-01-01,\n"
        ))
        .unwrap();
        s.import_contracts("c.csv", &c).await.unwrap();
        process(&s, &valid("305a.xml")).await;
        process(&s, &valid("305b.xml")).await;
        assert_eq!(process(&s, &valid("323a.xml")).await.outcome, "accepted");
        let before = counts(&s).await;
        let o = process(&s, &story("323-9333-declaratienummer-reused", "05-323.xml")).await;
        assert_eq!(o.outcome, "rejected", "[{l}]");
        let after = counts(&s).await;
        for ((t, b), (_, a)) in before.iter().zip(&after) {
            if matches!(
                *t,
                "declaraties" | "prestaties" | "holds" | "signals" | "starts" | "stops"
            ) {
                assert_eq!(a, b, "[{l}] {t}");
            }
        }
        s.pool().close().await;
    }
}

/// Several messages decided in one shared transaction (`iwmo serve` batches deliveries that are
/// already waiting) get exactly the outcomes, answers and rows they get one by one, including a
/// duplicate inside the batch and an invalid message; when the shared transaction fails, each
/// message is processed on its own, so only the failing one is left unstored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_decides_like_one_by_one_and_isolates_a_failure() {
    let names = [
        "301a.xml", "305a.xml", "305a.xml", "garbage", "323a.xml", "305b.xml", "307a.xml",
        "323b.xml",
    ];
    let items: Vec<(String, Vec<u8>)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let bytes = if *n == "garbage" {
                b"geen xml".to_vec()
            } else {
                std::fs::read(valid(n)).unwrap()
            };
            (format!("{i}:{n}"), bytes)
        })
        .collect();
    for (one, batch) in common::backends().into_iter().zip(common::backends()) {
        let l = one.backend;
        let s1 = Store::open(one.url()).await.unwrap();
        let s2 = Store::open(batch.url()).await.unwrap();
        let mut singles = Vec::new();
        for (src, bytes) in &items {
            singles.push(process_bytes(&s1, src, bytes).await);
        }
        let batched = pipeline::process_batch(&s2, &items, today(), &settings(None)).await;
        assert_same_as_one_by_one(l, &names, &singles, &batched);
        assert_eq!(batched[2].as_ref().unwrap().outcome, "duplicate", "[{l}]");
        assert_eq!(counts(&s1).await, counts(&s2).await, "[{l}] same rows");

        // A failure in the shared transaction: the others are still stored, one by one.
        let fresh = common::backends();
        let db = fresh.iter().find(|d| d.backend == l).unwrap();
        let s = Store::open(db.url()).await.unwrap();
        match s.backend() {
            Backend::Sqlite => {
                exec(
                    &s,
                    "CREATE TRIGGER iwmo_test_fail BEFORE INSERT ON stops BEGIN SELECT RAISE(ABORT, 'test failure'); END",
                )
                .await
            }
            Backend::Postgres => {
                exec(
                    &s,
                    "CREATE FUNCTION iwmo_test_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'test failure'; END $$ LANGUAGE plpgsql",
                )
                .await;
                exec(
                    &s,
                    "CREATE TRIGGER iwmo_test_fail BEFORE INSERT ON stops FOR EACH ROW EXECUTE FUNCTION iwmo_test_fail()",
                )
                .await;
            }
        }
        let r = pipeline::process_batch(&s, &items, today(), &settings(None)).await;
        for (i, x) in r.iter().enumerate() {
            if names[i] == "307a.xml" {
                assert!(x.is_err(), "[{l}] the stop cannot be stored: {x:?}");
            } else {
                assert!(
                    x.is_ok(),
                    "[{l}] item {i} ({}) stored on its own: {x:?}",
                    names[i]
                );
            }
        }
        assert_eq!(count(&s, "stops").await, 0, "[{l}]");
        assert_eq!(
            s.inbox_key("87654321", "WMO307", "SP2503170001")
                .await
                .unwrap(),
            None,
            "[{l}] the failed stop is not claimed"
        );
        assert_eq!(count(&s, "starts").await, 2, "[{l}] both starts stored");
    }
}

/// Many clients in one batch: 305/307/301s about different clients are decided as one group
/// (set-based reads and writes), the rest in order; every message gets the outcome, answer and
/// rows it gets one by one, and holds are released for all clients whose start arrives.
#[tokio::test]
async fn a_group_of_clients_decides_like_one_by_one() {
    use iwmo::testkit::synth;
    let mut names: Vec<&str> = Vec::new();
    let mut items: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |name: &'static str, xml: String| {
        names.push(name);
        items.push((format!("{}:{name}", items.len()), xml.into_bytes()));
    };
    add("start client 0", synth::wmo305("G0", 100_000, "2025-01-01"));
    add("start client 1", synth::wmo305("G1", 100_010, "2025-01-01"));
    add("start client 2", synth::wmo305("G2", 100_020, "2025-01-01"));
    add(
        "stop client 2",
        synth::wmo307("G3", 100_020, "2024-01-01", "2025-01-01", "2025-03-31"),
    );
    add("start client 3", synth::wmo305("G4", 100_030, "2025-01-01"));
    add("same again", synth::wmo305("G4", 100_030, "2025-01-01"));
    add("id reused", synth::wmo305("G4", 100_031, "2025-01-01"));
    add(
        "toewijzing client 4",
        synth::wmo301("G5", 100_040, "2025-01-01", "2025-12-31"),
    );
    add("start client 4", synth::wmo305("G6", 100_040, "2025-01-01"));
    add(
        "unknown toewijzing",
        synth::wmo305("G7", 100_950, "2025-01-01"),
    );
    for k in 0..12u32 {
        add(
            "start",
            synth::wmo305(&format!("H{k}"), 100_100 + 10 * k, "2025-01-02"),
        );
    }
    let declaratie = synth::wmo323(20, "D1", "DECL1");
    for (one, batch) in common::backends().into_iter().zip(common::backends()) {
        let l = one.backend;
        let s1 = Store::open(one.url()).await.unwrap();
        let s2 = Store::open(batch.url()).await.unwrap();
        for s in [&s1, &s2] {
            s.seed_toewijzingen(0, 40, false).await.unwrap();
            s.seed_toewijzingen(100, 220, false).await.unwrap();
            let o = process_bytes(s, "decl", declaratie.as_bytes()).await;
            assert_eq!(o.outcome, "accepted", "[{l}] {o:?}");
        }
        let held = |s: &Store| {
            let s = s.clone();
            async move {
                sqlx::query_as::<_, (String, i64)>(
                    "SELECT status, COUNT(*) FROM holds GROUP BY status ORDER BY status",
                )
                .fetch_all(s.pool())
                .await
                .unwrap()
            }
        };
        assert_eq!(held(&s1).await, vec![("held".to_string(), 20)], "[{l}]");
        let mut singles = Vec::new();
        for (src, bytes) in &items {
            singles.push(process_bytes(&s1, src, bytes).await);
        }
        let batched = pipeline::process_batch(&s2, &items, today(), &settings(None)).await;
        assert_same_as_one_by_one(l, &names, &singles, &batched);
        let outcome = |n: &str| {
            batched[names.iter().position(|x| *x == n).unwrap()]
                .as_ref()
                .unwrap()
                .outcome
                .clone()
        };
        assert_eq!(outcome("same again"), "duplicate", "[{l}]");
        assert_eq!(outcome("id reused"), "rejected", "[{l}]");
        assert_eq!(
            outcome("start client 4"),
            "accepted",
            "[{l}] sees the 301 before it"
        );
        assert_eq!(outcome("unknown toewijzing"), "rejected", "[{l}]");
        assert_eq!(
            outcome("stop client 2"),
            "accepted",
            "[{l}] sees the start before it"
        );
        assert_eq!(counts(&s1).await, counts(&s2).await, "[{l}] same rows");
        assert_eq!(count(&s2, "starts").await, 17, "[{l}]");
        // Each Prestatie is on its own toewijzing: the starts of clients 0 and 1 release one each.
        assert_eq!(
            held(&s2).await,
            vec![("held".to_string(), 18), ("released".to_string(), 2)],
            "[{l}]"
        );
        assert_eq!(held(&s1).await, held(&s2).await, "[{l}]");
        // Every stored message's inbox key points at it.
        let (dangling,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM inbox_keys k LEFT JOIN messages m ON m.id = k.message_id WHERE m.id IS NULL",
        )
        .fetch_one(s2.pool())
        .await
        .unwrap();
        assert_eq!(dangling, 0, "[{l}]");
    }
}

/// PostgreSQL client locks: a second transaction about the same client waits for the first,
/// one about another client does not, and one about more clients than can be locked one by one
/// waits for every transaction holding client locks (and they for it).
#[tokio::test]
async fn client_locks_serialise_one_client_and_bound_the_lock_table() {
    let Some(server) = common::pg_server() else {
        return;
    };
    let db = common::TestDb::postgres(&server);
    let s = Store::open(db.url()).await.unwrap();
    let client = |i: usize| ("0344".to_string(), iwmo::testkit::synth::bsn(i as u32));
    let wait = std::time::Duration::from_millis(400);
    let mut t1 = s.begin().await.unwrap();
    t1.lock_clients(&[client(1)]).await.unwrap();
    // Another client: not held up.
    let mut t2 = s.begin().await.unwrap();
    tokio::time::timeout(wait, t2.lock_clients(&[client(2)]))
        .await
        .expect("another client is not blocked")
        .unwrap();
    t2.rollback().await.unwrap();
    // The same client: waits until the first commits.
    let same = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut t = s.begin().await.unwrap();
            t.lock_clients(&[client(3), client(1)]).await.unwrap();
            t.rollback().await.unwrap();
        })
    };
    // Too many clients for one by one: everything.
    let many = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut t = s.begin().await.unwrap();
            let all: Vec<_> = (100..100 + iwmo::store::MAX_STRIPES + 5)
                .map(client)
                .collect();
            t.lock_clients(&all).await.unwrap();
            t.rollback().await.unwrap();
        })
    };
    tokio::time::sleep(wait).await;
    assert!(
        !same.is_finished(),
        "same client waits for the first transaction"
    );
    assert!(
        !many.is_finished(),
        "a many-client transaction waits for the first transaction"
    );
    t1.commit().await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        same.await.unwrap();
        many.await.unwrap();
    })
    .await
    .expect("both go on once the first committed");
}

/// A batch gave every message the outcome, codes and answer it got one by one (the answer for
/// its own Identificatie: numbered in storing order).
fn assert_same_as_one_by_one(
    l: &str,
    names: &[&str],
    singles: &[Outcome],
    batched: &[Result<Outcome, iwmo::store::StoreError>],
) {
    assert_eq!(singles.len(), batched.len(), "[{l}]");
    let own_id = |x: &Option<(String, String, String)>| {
        x.as_ref()
            .map(|(_, id, xml)| xml.replace(id.as_str(), "ID"))
    };
    for (i, (a, b)) in singles.iter().zip(batched).enumerate() {
        let b = b.as_ref().unwrap_or_else(|e| panic!("[{l}] item {i}: {e}"));
        assert_eq!(
            (&a.outcome, &a.codes, &a.kind, &a.identificatie),
            (&b.outcome, &b.codes, &b.kind, &b.identificatie),
            "[{l}] item {i} ({})",
            names[i]
        );
        assert_eq!(
            own_id(&a.answer_xml),
            own_id(&b.answer_xml),
            "[{l}] item {i} ({}): same answer",
            names[i]
        );
    }
}
