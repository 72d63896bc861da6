//! Upgrading a database made by an earlier release keeps what it holds: the hash chain sealed
//! under schema 2 (columns on `messages`) moves into `chain` unchanged, and a message not yet
//! sealed is sealed after the upgrade, continuing the same chain; an answer not yet published
//! waits in the relay's queue, a published one keeps its publication in the log.

mod common;

use sha2::{Digest, Sha256};
use sqlx::any::AnyPoolOptions;

fn sha_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_2_chain_survives_the_upgrade() {
    for db in common::backends() {
        let l = db.backend;
        let pool = schema_2_pool(&db).await;
        let hashes = fill_schema_2(&pool).await;
        pool.close().await;

        let store = iwmo::store::Store::open(db.url()).await.expect("upgrade");
        let moved: Vec<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM chain ORDER BY seq")
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(
            moved,
            vec![(1, hashes[0].clone()), (2, hashes[1].clone())],
            "[{l}] sealed links moved unchanged"
        );
        let (waiting,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM unsealed")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(waiting, 1, "[{l}] the unsealed message waits");
        assert_outbox_kept(&store, l).await;
        assert_eq!(store.verify_chain().await.unwrap(), Ok(3), "[{l}]");
        let head: (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(head, (3, hashes[2].clone()), "[{l}] the chain continues");
        store.pool().close().await;
    }
}

/// The database with the schema as release 2 left it: only the first two migrations, copied
/// unchanged.
async fn schema_2_pool(db: &common::TestDb) -> sqlx::AnyPool {
    let l = db.backend;
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(l);
    for f in ["0001_init.sql", "0002_pending_indexes.sql"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    sqlx::any::install_default_drivers();
    let url = if l == "sqlite" {
        format!("{}?mode=rwc", db.url())
    } else {
        db.url().to_string()
    };
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool
}

/// Two messages sealed the old way, one committed but not yet sealed; one answer published,
/// one not. The chain hashes of the three messages.
async fn fill_schema_2(pool: &sqlx::AnyPool) -> Vec<String> {
    let payloads: [&[u8]; 3] = [b"<a/>", b"<b/>", b"<c/>"];
    let mut prev = "0".repeat(64);
    let mut hashes = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        let sha = sha_hex(p);
        let sealed = i < 2;
        let hash = sha_hex(format!("{prev}{sha}").as_bytes());
        sqlx::query(
            "INSERT INTO messages (received_at, source, payload_sha256, raw, outcome, chain_seq, prev_hash, chain_hash) \
             VALUES ($1, $2, $3, $4, 'invalid', $5, $6, $7)",
        )
        .bind("2025-01-01T00:00:00Z")
        .bind(format!("old-{i}"))
        .bind(sha.clone())
        .bind(p.to_vec())
        .bind(sealed.then_some(i as i64 + 1))
        .bind(sealed.then(|| prev.clone()))
        .bind(sealed.then(|| hash.clone()))
        .execute(pool)
        .await
        .unwrap();
        hashes.push(hash.clone());
        prev = hash;
    }
    for (ident, published) in [
        ("IW0000000001", Some("2025-01-01T00:00:01Z")),
        ("IW0000000002", None),
    ] {
        sqlx::query(
            "INSERT INTO outbox (message_id, answer_kind, identificatie, ontvanger, xml, created_at, published_at, channel, attempts) \
             VALUES (1, 'WMO306', $1, '87654321', '<x/>', '2025-01-01T00:00:00Z', $2, $3, $4)",
        )
        .bind(ident)
        .bind(published)
        .bind(published.map(|_| "amqp"))
        .bind(if published.is_some() { 1i64 } else { 3 })
        .execute(pool)
        .await
        .unwrap();
    }
    hashes
}

/// The unpublished answer waits in the relay's queue; the published one keeps its publication.
async fn assert_outbox_kept(store: &iwmo::store::Store, l: &str) {
    let queued: Vec<(String, i64)> =
        sqlx::query_as("SELECT identificatie, attempts FROM outbox_queue")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(
        queued,
        vec![("IW0000000002".to_string(), 3)],
        "[{l}] the unpublished answer waits"
    );
    let log: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT identificatie, published_at, channel, attempts FROM outbox_published",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(
        log,
        vec![(
            "IW0000000001".to_string(),
            "2025-01-01T00:00:01Z".to_string(),
            "amqp".to_string(),
            1
        )],
        "[{l}] the publication is kept"
    );
    assert_eq!(store.outbox_pending().await.unwrap(), 1, "[{l}]");
}
