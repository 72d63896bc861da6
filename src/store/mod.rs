//! The store: one interface over SQLite (embedded default) and PostgreSQL (production), picked by
//! the database URL. Portable SQL through sqlx's `Any` driver (integers and text only: dates as
//! ISO text, money as integer cents), one migration set per backend in `schemas/`.

pub mod actions;
pub mod apply;
pub mod betaalrondes;
mod chain;
mod effects;
mod fault;
mod gebruikers;
mod maintain;
mod needs;
mod outbox;
mod parties;
mod read;
mod rows;
mod snapshot;
mod sql;

pub(crate) use sql::{insert_select, padded, shape, values_clause, Ph, CHUNK};

pub use actions::{ActionRow, NewAction};
pub use apply::{answer_identificatie, Commit, Committed, DecisionRecord, Line, MessageRecord};
pub use chain::{ChainCheck, Item as ChainItem};
pub use fault::Fault;
pub use gebruikers::UserRow;
pub use outbox::Pending;
pub use parties::{PartyRow, PartyTable};
pub use read::{HoldRow, SignalRow, StoredDecision, VerzoekRow, WeigeringRow};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Row};

/// Default database: a SQLite file in the working directory.
pub const DEFAULT_URL: &str = "sqlite://iwmo.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migratie mislukt: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("onverwachte gegevens in de database: {0}")]
    Corrupt(String),
    #[error("database-URL niet ondersteund (verwacht sqlite:// of postgres://)")]
    UnsupportedUrl,
    /// The request conflicts with what is stored (e.g. a name already in use); the text says
    /// what, in Dutch, for the person who asked.
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// One processing transaction: locks, snapshot reads and all writes of one message.
pub struct Tx {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Any>,
    pub(crate) backend: Backend,
    /// SQLite: the highest message id handed out in this transaction (see `Tx::reserve_ids`).
    pub(crate) reserved_upto: i64,
}

/// The inbox key of a message: sender, kind and Identificatie, with the hash of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxKey {
    pub afzender: String,
    pub kind: String,
    pub identificatie: String,
    pub sha256: String,
}

/// Result of claiming the inbox key of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time this (Afzender, kind, Identificatie) is seen: registered in this transaction.
    /// On PostgreSQL the key already carries the id its message is to be stored under (taken
    /// from the messages' sequence), so the key need not be updated once the message is written.
    New(Option<i64>),
    /// The very same message (same bytes) was processed before, as message `id`.
    Duplicate(i64),
    /// The Identificatie was used before with other content (TR056 → 9056).
    Reused,
}

/// Advisory-lock key space for client stripes (PostgreSQL): wide enough that the clients of
/// transactions running at the same time (a few hundred) hardly ever share a stripe.
const STRIPES: u64 = 1 << 20;
const STRIPE_BASE: i64 = 0x1_7274_0000_0000;
/// Held in shared mode by every transaction that locks stripes, and exclusively (alone) by one
/// that is about more clients than [`MAX_STRIPES`]: PostgreSQL's lock table is shared and
/// bounded (max_locks_per_transaction × max_connections), so no transaction takes thousands.
const ALL_CLIENTS: i64 = STRIPE_BASE - 1;
/// Most client stripes one transaction locks one by one.
pub const MAX_STRIPES: usize = 128;

/// Stripe of a client: messages about one client are serialised across workers and replicas.
pub fn stripe(gemeente: &str, bsn: &str) -> i64 {
    // FNV-1a: stable across processes and releases.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in gemeente.bytes().chain(bsn.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    STRIPE_BASE + (h % STRIPES) as i64
}

/// The advisory locks for these clients, in the order they are taken: the all-clients key
/// first (shared, or exclusive when there are too many clients to lock one by one), then the
/// client stripes in ascending order. Returns (keys, whether the all-clients key is shared).
pub fn client_locks(keys: &[(String, String)]) -> (Vec<i64>, bool) {
    let mut stripes: Vec<i64> = keys.iter().map(|(g, b)| stripe(g, b)).collect();
    stripes.sort_unstable();
    stripes.dedup();
    if stripes.len() > MAX_STRIPES {
        return (vec![ALL_CLIENTS], false);
    }
    let mut v = Vec::with_capacity(stripes.len() + 1);
    v.push(ALL_CLIENTS);
    v.extend(stripes);
    (v, true)
}

impl Store {
    /// Starts the transaction for one message.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx {
            tx: self.begin_write().await?,
            backend: self.backend,
            reserved_upto: 0,
        })
    }
}

impl Tx {
    /// Serialises work on these clients across workers and replicas (PostgreSQL; SQLite has a
    /// single writer). Keys are locked in ascending order (see [`client_locks`]), so two
    /// transactions cannot deadlock.
    pub async fn lock_clients(&mut self, keys: &[(String, String)]) -> Result<()> {
        if self.backend != Backend::Postgres || keys.is_empty() {
            return Ok(());
        }
        let (locks, shared) = client_locks(keys);
        // One statement text whatever the keys (so it stays prepared): they travel as one
        // comma-separated parameter.
        let list: Vec<String> = locks.iter().map(|k| k.to_string()).collect();
        sqlx::query(
            "SELECT CASE WHEN k = $2 THEN pg_advisory_xact_lock_shared(k) ELSE pg_advisory_xact_lock(k) END \
             FROM (SELECT CAST(x AS BIGINT) AS k FROM unnest(string_to_array($1, ',')) AS x ORDER BY 1) AS s",
        )
        .bind(list.join(","))
        .bind(if shared { ALL_CLIENTS } else { 0 })
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Registers (Afzender, kind, Identificatie) for this message, or says it was seen before.
    pub async fn claim(
        &mut self,
        afzender: &str,
        kind: &str,
        identificatie: &str,
        sha: &str,
    ) -> Result<Claim> {
        let key = InboxKey {
            afzender: afzender.to_string(),
            kind: kind.to_string(),
            identificatie: identificatie.to_string(),
            sha256: sha.to_string(),
        };
        self.claim_all(std::slice::from_ref(&key))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("inbox-sleutel niet geclaimd".into()))
    }

    /// Claims the inbox keys of several messages at once (one statement, plus one lookup for
    /// keys seen before). The keys must differ from each other; the result is in their order.
    pub async fn claim_all(&mut self, keys: &[InboxKey]) -> Result<Vec<Claim>> {
        let mut out: Vec<Option<Claim>> = vec![None; keys.len()];
        let index: std::collections::HashMap<(&str, &str, &str), usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                (
                    (
                        k.afzender.as_str(),
                        k.kind.as_str(),
                        k.identificatie.as_str(),
                    ),
                    i,
                )
            })
            .collect();
        if index.len() != keys.len() {
            return Err(StoreError::Corrupt(
                "dezelfde inbox-sleutel twee keer in één groep".into(),
            ));
        }
        // PostgreSQL hands out each new key's message id now; SQLite points the key at its
        // message once that is written (see `Tx::apply_all`).
        let reserve = match self.backend {
            Backend::Postgres => "nextval('messages_id_seq')",
            Backend::Sqlite => "0",
        };
        for chunk in keys.chunks(CHUNK / 4) {
            // Padding rows are cut off by their row number before `reserve` is evaluated.
            let sql = insert_select(
                self.backend,
                "inbox_keys (afzender, kind, identificatie, message_id, payload_sha256)",
                &["", "", "", reserve, ""],
                shape(chunk.len()),
                " ON CONFLICT (afzender, kind, identificatie) DO NOTHING RETURNING afzender, kind, identificatie, message_id",
            );
            let mut q = sqlx::query_as::<_, (String, String, String, i64)>(AssertSqlSafe(sql));
            for k in padded(chunk) {
                q = q
                    .bind(k.afzender.clone())
                    .bind(k.kind.clone())
                    .bind(k.identificatie.clone())
                    .bind(k.sha256.clone());
            }
            for (a, k, i, id) in q.bind(chunk.len() as i64).fetch_all(&mut *self.tx).await? {
                if let Some(&n) = index.get(&(a.as_str(), k.as_str(), i.as_str())) {
                    out[n] = Some(Claim::New((id > 0).then_some(id)));
                }
            }
        }
        let seen: Vec<&InboxKey> = keys
            .iter()
            .zip(&out)
            .filter(|(_, c)| c.is_none())
            .map(|(k, _)| k)
            .collect();
        for chunk in seen.chunks(CHUNK / 4) {
            let mut ph = Ph::new(self.backend);
            let sql = format!(
                "SELECT afzender, kind, identificatie, message_id, payload_sha256 FROM inbox_keys \
                 WHERE (afzender, kind, identificatie) IN (VALUES {})",
                ph.rows(shape(chunk.len()), 3)
            );
            let mut q =
                sqlx::query_as::<_, (String, String, String, i64, String)>(AssertSqlSafe(sql));
            for k in padded(chunk) {
                q = q
                    .bind(k.afzender.clone())
                    .bind(k.kind.clone())
                    .bind(k.identificatie.clone());
            }
            for (a, k, i, id, stored) in q.fetch_all(&mut *self.tx).await? {
                if let Some(&n) = index.get(&(a.as_str(), k.as_str(), i.as_str())) {
                    out[n] = Some(if stored == keys[n].sha256 {
                        Claim::Duplicate(id)
                    } else {
                        Claim::Reused
                    });
                }
            }
        }
        out.into_iter()
            .map(|c| c.ok_or_else(|| StoreError::Corrupt("inbox-sleutel verdwenen".into())))
            .collect()
    }

    /// Points a claimed inbox key at the message stored for it.
    pub async fn set_claim(
        &mut self,
        afzender: &str,
        kind: &str,
        identificatie: &str,
        message_id: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE inbox_keys SET message_id = $1 WHERE afzender = $2 AND kind = $3 AND identificatie = $4",
        )
        .bind(message_id)
        .bind(afzender.to_string())
        .bind(kind.to_string())
        .bind(identificatie.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({:?})", self.backend)
    }
}

/// The URL without a password, for logs and messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Store {
    /// Opens (and for SQLite creates) the database and runs the migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let started = std::time::Instant::now();
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        if backend == Backend::Sqlite {
            return open_sqlite(url, started).await;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .connect(&with_statement_cache(url))
            .await?;
        let connected = started.elapsed();
        let store = Store { pool, backend };
        store.migrate().await?;
        tracing::debug!(
            connect_ms = connected.as_secs_f64() * 1e3,
            migrate_ms = (started.elapsed() - connected).as_secs_f64() * 1e3,
            "database geopend"
        );
        Ok(store)
    }

    /// A transaction that writes. SQLite: `BEGIN IMMEDIATE`, which takes the write lock at once
    /// (waiting up to the busy timeout while another process writes). A deferred transaction
    /// would read first and then fail to upgrade with SQLITE_BUSY_SNAPSHOT (517) when another
    /// process committed in between: waiting cannot cure that, only starting over.
    pub(crate) async fn begin_write(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("./schemas/sqlite").run(&self.pool).await?,
            Backend::Postgres => sqlx::migrate!("./schemas/postgres").run(&self.pool).await?,
        }
        Ok(())
    }

    /// Closes the pool (waits for its connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Liveness of the database (for readiness checks).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

pub(crate) fn get_str(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn get_opt_str(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn get_i64(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn get_opt_i64(row: &AnyRow, col: &str) -> Result<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

/// Opens a SQLite file: one connection, WAL, a busy timeout of 60 s; then
/// the migrations. Several processes may open one new file at once: the one that loses the race
/// to create a table or switch to WAL tries again (up to [`SQLITE_OPEN_ATTEMPTS`] times) and
/// then finds the schema in place.
async fn open_sqlite(url: &str, started: std::time::Instant) -> Result<Store> {
    let url = if url.contains('?') {
        url.to_string()
    } else {
        format!("{url}?mode=rwc")
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let opened = async {
            let pool = sqlite_pool(&url).await?;
            let store = Store {
                pool,
                backend: Backend::Sqlite,
            };
            let connected = started.elapsed();
            if let Err(e) = store.migrate().await {
                store.close().await;
                return Err(e);
            }
            tracing::debug!(
                connect_ms = connected.as_secs_f64() * 1e3,
                migrate_ms = (started.elapsed() - connected).as_secs_f64() * 1e3,
                "database geopend"
            );
            Ok(store)
        }
        .await;
        match opened {
            Err(e) if attempt < SQLITE_OPEN_ATTEMPTS && contended(&e) => {
                tracing::debug!(attempt, error = %e, "database bezet bij openen; opnieuw");
                tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
}

async fn sqlite_pool(url: &str) -> std::result::Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        // SQLite has one writer; one connection per process, and between processes the busy
        // timeout and write transactions that lock at BEGIN (see `Store::begin_write`).
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute(SQLITE_BUSY_TIMEOUT).await?;
                conn.execute("PRAGMA journal_mode=WAL").await?;
                conn.execute("PRAGMA synchronous=NORMAL").await?;
                conn.execute("PRAGMA foreign_keys=ON").await?;
                // Pages stay cached within the connection (a large declaration
                // reads and writes thousands; the cache grows only as far as used),
                // and temporary b-trees (GROUP BY, key sets) stay in memory.
                conn.execute(SQLITE_CACHE_SIZE).await?;
                conn.execute("PRAGMA temp_store=MEMORY").await?;
                Ok(())
            })
        })
        .connect(url)
        .await
}

/// Opening a SQLite file failed because another process was busy with it (creating the
/// schema, switching to WAL): worth another try.
fn contended(e: &StoreError) -> bool {
    match e {
        StoreError::Db(e) => is_busy(e),
        StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => is_busy(e),
        // Another process applied the same migration first ("table … already exists").
        StoreError::Migrate(sqlx::migrate::MigrateError::ExecuteMigration(..)) => true,
        _ => false,
    }
}

/// SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes (517 BUSY_SNAPSHOT, 261
/// BUSY_RECOVERY, 262 LOCKED_SHAREDCACHE): another connection holds what this one needs.
pub fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            matches!(code.as_str(), "5" | "6" | "261" | "262" | "517")
                || d.message().contains("database is locked")
        }
        _ => false,
    }
}

/// Opening attempts of a SQLite file that another process is busy creating.
const SQLITE_OPEN_ATTEMPTS: u32 = 12;

/// How long a SQLite statement waits for another process's write transaction (60 s). Several
/// `iwmo process` and a `serve` may share one file; each waits its turn. A large declaration
/// holds the write lock for about a second.
const SQLITE_BUSY_TIMEOUT: &str = "PRAGMA busy_timeout=60000";

/// SQLite page cache per connection: up to 64 MiB (the default is 2 MiB).
const SQLITE_CACHE_SIZE: &str = "PRAGMA cache_size=-65536";

/// Statements kept prepared per PostgreSQL connection (sqlx keeps 100 unless the URL says
/// otherwise): every batch statement in its [`shape`]s, about 200 texts, with room to spare.
const STATEMENT_CACHE: usize = 512;

/// The PostgreSQL URL with a statement cache of [`STATEMENT_CACHE`], unless it sets one itself.
fn with_statement_cache(url: &str) -> String {
    if url.contains("statement-cache-capacity=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}statement-cache-capacity={STATEMENT_CACHE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_clients_lock_their_stripes_many_lock_everything() {
        let few: Vec<(String, String)> = (0..3)
            .map(|i| ("0344".to_string(), format!("{i:09}")))
            .collect();
        let (keys, shared) = client_locks(&few);
        assert!(shared);
        assert_eq!(keys.len(), 4);
        assert_eq!(keys[0], ALL_CLIENTS);
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "ascending");
        let many: Vec<(String, String)> = (0..MAX_STRIPES + 1)
            .map(|i| ("0344".to_string(), format!("{i:09}")))
            .collect();
        assert_eq!(client_locks(&many), (vec![ALL_CLIENTS], false));
        assert_ne!(stripe("0344", "000000001"), stripe("0344", "000000002"));
    }

    #[test]
    fn placeholders_number_on_across_lists_and_rows() {
        let mut ph = Ph::new(Backend::Postgres);
        assert_eq!(ph.next(), "$1");
        assert_eq!(ph.list(3), "$2,$3,$4");
        assert_eq!(ph.rows(2, 2), "($5,$6),($7,$8)");
        assert_eq!(ph.list(0), "");
        assert_eq!(values_clause(Backend::Sqlite, 2, 3), "(?,?,?),(?,?,?)");
    }

    #[test]
    fn postgres_connections_keep_every_shape_prepared() {
        assert_eq!(
            with_statement_cache("postgres://db/x"),
            "postgres://db/x?statement-cache-capacity=512"
        );
        assert_eq!(
            with_statement_cache("postgres://db/x?sslmode=require"),
            "postgres://db/x?sslmode=require&statement-cache-capacity=512"
        );
        assert_eq!(
            with_statement_cache("postgres://db/x?statement-cache-capacity=9"),
            "postgres://db/x?statement-cache-capacity=9"
        );
    }

    #[test]
    fn batches_travel_in_a_few_shapes() {
        let shapes: std::collections::BTreeSet<usize> = (1..=CHUNK).map(shape).collect();
        assert_eq!(shapes.len(), 10, "1, 2, 4, … 512");
        assert!((1..=CHUNK).all(|n| shape(n) >= n && shape(n) < 2 * n.max(1)));
        assert_eq!(shape(0), 1);
        let v = [1, 2, 3, 4, 5];
        assert_eq!(
            padded(&v).copied().collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 5, 5, 5]
        );
        assert_eq!(padded(&v[..4]).count(), 4);
        assert_eq!(padded::<i32>(&[]).count(), 0);
    }

    #[test]
    fn insert_select_numbers_its_rows_and_binds_the_count_last() {
        assert_eq!(
            insert_select(Backend::Postgres, "t (a, b, c)", &["", "nextval('s')", ""], 2, " RETURNING a"),
            "INSERT INTO t (a, b, c) SELECT column2, nextval('s'), column3 FROM (VALUES (1,$1,$2),(2,$3,$4)) AS v \
             WHERE column1 <= $5 RETURNING a"
        );
        assert_eq!(
            insert_select(Backend::Sqlite, "t (a)", &[""], 1, ""),
            "INSERT INTO t (a) SELECT column2 FROM (VALUES (1,?)) AS v WHERE column1 <= ?"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://iwmo:geheim@db:5432/iwmo"),
            "postgres://iwmo:***@db:5432/iwmo"
        );
        assert_eq!(redact_url("sqlite://iwmo.db"), "sqlite://iwmo.db");
        assert_eq!(values_clause(Backend::Postgres, 2, 2), "($1,$2),($3,$4)");
        assert_eq!(values_clause(Backend::Sqlite, 1, 2), "(?,?)");
    }
}
