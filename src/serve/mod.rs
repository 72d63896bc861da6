//! `iwmo serve`: the worker. A transport (watched inbox directory, or RabbitMQ) feeds the same
//! pipeline as `iwmo process`; answers leave through the transactional outbox and a relay.
//! Nothing is acknowledged (or moved to done/) before its transaction committed; while the
//! database is unreachable, consumption pauses.

pub mod acks;
pub mod amqp;
pub mod file;
pub mod http;
pub mod metrics;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::config::{Config, TransportKind};
use crate::pipeline::{self, Outcome, Settings};
use crate::store::{Fault, Store, StoreError};

/// Shared state of a running worker.
pub struct Worker {
    pub store: Store,
    pub config: Config,
    pub metrics: metrics::Metrics,
    pub db_ok: AtomicBool,
    pub broker_ok: AtomicBool,
    pub consuming: AtomicBool,
    /// Fixed "today" (tests, replays); None: the local date at processing time.
    pub today: Option<NaiveDate>,
    /// Wakes the outbox relay when a commit left an answer to publish.
    pub relay_wake: tokio::sync::Notify,
    /// When housekeeping (sealing, statistics) last ran its slow part.
    pub last_maintenance: std::sync::Mutex<Option<Instant>>,
    /// When committed messages were last sealed into the hash chain.
    pub last_seal: std::sync::Mutex<Option<Instant>>,
}

impl Worker {
    pub fn today(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    fn settings(&self) -> Settings {
        Settings {
            read: crate::message::ReadOptions {
                max_bytes: self.config.max_bytes,
            },
            out_dir: None,
            answer_max_bytes: self.config.answer_max_bytes,
        }
    }

    /// Runs one message through the pipeline (answers stay in the outbox for the relay).
    /// A store error means: nothing was committed; the caller must not acknowledge.
    pub async fn handle(&self, source: &str, bytes: &[u8]) -> Result<Outcome, StoreError> {
        self.metrics.received.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        let r = pipeline::process(&self.store, source, bytes, self.today(), &self.settings()).await;
        self.record(source, &r, t.elapsed().as_secs_f64());
        r
    }

    /// Runs several deliveries through the pipeline in one shared transaction where possible
    /// (see `pipeline::process_batch`); the result for each is at its index.
    pub async fn handle_batch(
        &self,
        items: &[(String, Vec<u8>)],
    ) -> Vec<Result<Outcome, StoreError>> {
        self.metrics
            .received
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        let t = Instant::now();
        let results =
            pipeline::process_batch(&self.store, items, self.today(), &self.settings()).await;
        let secs = t.elapsed().as_secs_f64() / items.len().max(1) as f64;
        for ((source, _), r) in items.iter().zip(&results) {
            self.record(source, r, secs);
        }
        results
    }

    /// Metrics and the log line (in a span per message) of one processed message.
    fn record(&self, source: &str, r: &Result<Outcome, StoreError>, secs: f64) {
        let span = tracing::info_span!("bericht", bron = %source);
        let _g = span.enter();
        match r {
            Ok(o) => {
                self.db_ok.store(true, Ordering::Relaxed);
                if o.answer_xml.is_some() {
                    self.relay_wake.notify_one();
                }
                self.metrics.processed(&o.outcome, secs);
                if !o.more_answers.is_empty() && o.outcome != "duplicate" {
                    self.metrics.answers_split.fetch_add(1, Ordering::Relaxed);
                }
                tracing::info!(
                    kind = o.kind.as_deref().unwrap_or("-"),
                    afzender = o.afzender.as_deref().unwrap_or("-"),
                    identificatie = o.identificatie.as_deref().unwrap_or("-"),
                    outcome = %o.outcome,
                    codes = ?o.codes,
                    ms = secs * 1e3,
                    "verwerkt"
                );
            }
            Err(e) => match e.fault() {
                Fault::Outage => {
                    self.db_ok.store(false, Ordering::Relaxed);
                    self.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, "database niet bruikbaar; niets bevestigd");
                }
                Fault::Transient => {
                    tracing::warn!(error = %e, "database bezet; bericht later opnieuw");
                }
                // The driver's text may quote a value of the message: the class and code only.
                Fault::Permanent => {
                    tracing::warn!(reden = %e.poison_reason(), "database weigert dit bericht; niets opgeslagen");
                }
            },
        }
    }

    /// Seals committed messages into the hash chain (at most twice a second); every 10 s also keeps the planner's
    /// statistics fresh where the database does not (see `Store::maintain_statistics`).
    pub async fn housekeeping(&self) {
        if due(&self.last_seal, Duration::from_millis(500)) {
            if let Err(e) = self.store.seal_chain(5000).await {
                tracing::warn!(error = %e, "verzegelen van de hashketen mislukt; later opnieuw");
            }
        }
        if due(&self.last_maintenance, Duration::from_secs(10)) {
            match self.store.maintain_statistics().await {
                Ok(t) if !t.is_empty() => {
                    tracing::info!(tabellen = ?t, "statistieken bijgewerkt (autovacuum staat uit)")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "statistieken bijwerken mislukt"),
            }
        }
    }

    /// The class of a store error as the transports act on it: an error taken as caused by
    /// the message counts as one only while the database answers a ping; otherwise it is an
    /// outage (a message cannot be blamed while the database is away).
    pub async fn fault_of(&self, e: &StoreError) -> Fault {
        match e.fault() {
            Fault::Permanent if self.store.ping().await.is_err() => {
                self.db_ok.store(false, Ordering::Relaxed);
                Fault::Outage
            }
            f => f,
        }
    }

    /// Waits (with backoff) until the database answers again.
    pub async fn wait_for_db(&self, stop: &tokio::sync::watch::Receiver<bool>) {
        let mut delay = Duration::from_millis(200);
        loop {
            if *stop.borrow() {
                return;
            }
            if self.store.ping().await.is_ok() {
                self.db_ok.store(true, Ordering::Relaxed);
                tracing::info!("database weer bereikbaar; verwerking hervat");
                return;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    fn ready(&self) -> bool {
        self.db_ok.load(Ordering::Relaxed)
            && (self.config.transport == TransportKind::File
                || self.broker_ok.load(Ordering::Relaxed))
            && self.consuming.load(Ordering::Relaxed)
    }
}

/// Whether `every` has passed since the time in `last` (then it becomes now).
fn due(last: &std::sync::Mutex<Option<Instant>>, every: Duration) -> bool {
    let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
    let due = last.is_none_or(|t| t.elapsed() > every);
    if due {
        *last = Some(Instant::now());
    }
    due
}

/// Opens the database, waiting while it is unreachable; None when its schema does not match.
async fn open_store(config: &Config) -> Option<Store> {
    loop {
        match Store::open(config.database_url.expose()).await {
            Ok(s) => return Some(s),
            // A schema that does not match this release does not heal by waiting.
            Err(StoreError::Migrate(e))
                if !matches!(e, sqlx::migrate::MigrateError::Execute(_)) =>
            {
                tracing::error!(error = %e, database = %config.database_url, "databaseschema past niet bij deze versie; gestopt");
                return None;
            }
            Err(e) => {
                tracing::error!(error = %e, database = %config.database_url, "database niet bereikbaar; opnieuw over 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// `/healthz` and `/readyz` (database, broker, consumer).
fn health_routes(w: Arc<Worker>) -> axum::Router {
    use axum::http::{header, StatusCode};
    use axum::routing::get;
    let ready = move || {
        let w = w.clone();
        async move {
            let db = w.store.ping().await.is_ok();
            w.db_ok.store(db, Ordering::Relaxed);
            let body = format!(
                "{{\"database\":{},\"broker\":{},\"consuming\":{}}}\n",
                db,
                w.config.transport == TransportKind::File || w.broker_ok.load(Ordering::Relaxed),
                w.consuming.load(Ordering::Relaxed)
            );
            let status = if w.ready() {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, [(header::CONTENT_TYPE, "application/json")], body)
        }
    };
    axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
}

/// Prometheus `/metrics`.
fn metrics_routes(w: Arc<Worker>) -> axum::Router {
    use axum::http::header;
    let render = move || {
        let w = w.clone();
        async move {
            if let Ok(n) = w.store.outbox_pending().await {
                w.metrics
                    .outbox_pending
                    .store(n.max(0) as u64, Ordering::Relaxed);
            }
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                w.metrics.render(),
            )
        }
    };
    axum::Router::new().route("/metrics", axum::routing::get(render))
}

/// SIGTERM/SIGINT: stop consuming, finish the work in flight.
pub fn on_signal(stop: tokio::sync::watch::Sender<bool>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopsignaal ontvangen: stoppen met consumeren, lopend werk afmaken");
        let _ = stop.send(true);
    });
}

/// Runs the worker until SIGTERM/SIGINT; returns the exit code.
pub async fn run(config: Config, today: Option<NaiveDate>) -> i32 {
    let threads = tokio::runtime::Handle::current().metrics().num_workers();
    tracing::info!(config = ?config, worker_threads = threads, handlers = config.handlers(), "iwmo serve start");
    let Some(store) = open_store(&config).await else {
        return 1;
    };
    let worker = Arc::new(Worker {
        store,
        config: config.clone(),
        metrics: metrics::Metrics::default(),
        db_ok: AtomicBool::new(true),
        broker_ok: AtomicBool::new(false),
        consuming: AtomicBool::new(false),
        today,
        relay_wake: tokio::sync::Notify::new(),
        last_maintenance: std::sync::Mutex::new(None),
        last_seal: std::sync::Mutex::new(None),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let h1 = tokio::spawn(http::serve(
        config.http_addr.clone(),
        health_routes(worker.clone()),
        stop_rx.clone(),
    ));
    let h2 = tokio::spawn(http::serve(
        config.metrics_addr.clone(),
        metrics_routes(worker.clone()),
        stop_rx.clone(),
    ));
    on_signal(stop_tx.clone());
    let code = match config.transport {
        TransportKind::File => file::run(worker.clone(), stop_rx.clone()).await,
        TransportKind::Amqp => amqp::run(worker.clone(), stop_rx.clone()).await,
    };
    let _ = stop_tx.send(true);
    let _ = h1.await;
    let _ = h2.await;
    // Seal what was stored into the hash chain before leaving.
    let _ = worker.store.seal_all().await;
    tracing::info!("iwmo serve gestopt");
    code
}
