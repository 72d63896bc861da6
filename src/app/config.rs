//! The configuration of every command: one typed struct, each key declared once here (field, doc
//! comment, default in [`Default`]). The layers (defaults → TOML file → `IWMO_*` environment →
//! flags) are in [`super::layers`]; `deploy/iwmo.example.toml` lists every key (checked by
//! `tests/config.rs`).
//! Secrets (passwords in `database_url` and `amqp_url`) are [`SecretUrl`]s: redacted whenever
//! shown, logged or serialized.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::store::redact_url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// Watched inbox directory, answers to the outbox directory.
    File,
    /// RabbitMQ.
    Amqp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `json` for `serve`, `text` for the other commands.
    Auto,
    /// Plain lines (colours only on a terminal).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A URL that may carry a password. Shown, logged and serialized without it; the real value only
/// through [`SecretUrl::expose`].
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> Self {
        SecretUrl(url.into())
    }

    /// The URL with its password, for connecting only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&redact_url(&self.0))
    }
}

/// The effective configuration. Field order is the order of `iwmo config show`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://FILE` (embedded) or `postgres://USER:PASSWORD@HOST/DB`.
    pub database_url: SecretUrl,
    /// `file` (watched inbox directory) or `amqp` (RabbitMQ); `serve` only.
    pub transport: TransportKind,
    /// File transport: new messages are picked up here.
    pub inbox_dir: PathBuf,
    /// File transport: processed messages are moved here.
    pub done_dir: PathBuf,
    /// File transport: unprocessable files are moved here.
    pub failed_dir: PathBuf,
    /// File transport: answers and error reports are written here.
    pub outbox_dir: PathBuf,
    /// File transport: how often the inbox is scanned, in milliseconds.
    pub poll_millis: u64,
    /// File transport: a file is taken once its size and modification time have not changed for
    /// this many milliseconds, or at once when it was renamed into place after writing.
    pub file_settle_millis: u64,
    /// RabbitMQ connection.
    pub amqp_url: SecretUrl,
    pub inbound_queue: String,
    pub dead_letter_exchange: String,
    pub dead_letter_queue: String,
    pub answers_exchange: String,
    pub unrouted_exchange: String,
    pub unrouted_queue: String,
    /// Redeliveries after which a message is dead-lettered (quorum queue x-delivery-limit).
    pub delivery_limit: u32,
    /// Unacknowledged deliveries per worker (basic.qos).
    pub prefetch: u16,
    /// Transactions run at once by one process; 0: one per CPU core available to the process
    /// (see [`Config::handlers`]).
    pub concurrency: usize,
    /// Deliveries already waiting that are decided in one shared transaction (1: one each).
    pub batch_size: usize,
    /// Maximum message size in bytes (the GGk limit is 25 MB); `check`, `process`, `serve`.
    pub max_bytes: usize,
    /// Largest answer file in bytes (the hubs' 25 MB, OP179): a 325 that would be larger is
    /// written compact, or else in parts; `process`, `serve`.
    pub answer_max_bytes: usize,
    /// Threads of the async runtime; 0: one per CPU core available to the process
    /// (see [`Config::worker_threads`]).
    pub worker_threads: usize,
    /// "Today" for the rules (TR135, holds); absent: the local date. For tests and replays.
    pub today: Option<NaiveDate>,
    pub http_addr: String,
    pub metrics_addr: String,
    /// On SIGTERM: seconds to finish in-flight work before giving up.
    pub shutdown_deadline_secs: u64,
    pub log_format: LogFormat,
    /// `iwmo api`: address of the HTTP API (and the metrics at /metrics).
    pub api_listen: String,
    /// `iwmo api`: largest request body in bytes.
    pub api_max_body_bytes: usize,
    /// `iwmo api`: seconds a request may take before it is answered 503.
    pub api_timeout_secs: u64,
    /// OpenID Connect (production): the `iss` every token must carry; unset: OIDC off, only the
    /// tokens of `iwmo gebruikers toevoegen` are accepted.
    pub oidc_issuer: Option<String>,
    /// OpenID Connect: the `aud` every token must carry.
    pub oidc_audience: Option<String>,
    /// OpenID Connect: where the issuer publishes its signing keys (JWKS), fetched at start and
    /// again when a token names a key not yet known.
    pub oidc_jwks_url: Option<String>,
    /// OpenID Connect: the signing keys (JWKS) from a file instead of a URL.
    pub oidc_jwks_file: Option<PathBuf>,
    /// OpenID Connect: the claim that names the person (shown in the action log).
    pub oidc_naam_claim: String,
    /// OpenID Connect: the claim with the iwmo role (a string or a list with one iwmo role).
    pub oidc_rol_claim: String,
    /// OpenID Connect: the claim with the gemeentecodes (a list, or "*" for all).
    pub oidc_gemeenten_claim: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: SecretUrl::new(crate::store::DEFAULT_URL),
            transport: TransportKind::File,
            inbox_dir: "inbox".into(),
            done_dir: "done".into(),
            failed_dir: "failed".into(),
            outbox_dir: "outbox".into(),
            poll_millis: 500,
            file_settle_millis: 1000,
            amqp_url: SecretUrl::new("amqp://guest:guest@127.0.0.1:5672/%2f"),
            inbound_queue: "iwmo.inbound".into(),
            dead_letter_exchange: "iwmo.dlx".into(),
            dead_letter_queue: "iwmo.dead".into(),
            answers_exchange: "iwmo.answers".into(),
            unrouted_exchange: "iwmo.answers.unrouted".into(),
            unrouted_queue: "iwmo.answers.unrouted".into(),
            delivery_limit: 20,
            prefetch: 1024,
            concurrency: 0,
            batch_size: 128,
            max_bytes: crate::intake::DEFAULT_MAX_BYTES,
            answer_max_bytes: crate::pipeline::DEFAULT_ANSWER_MAX_BYTES,
            worker_threads: 0,
            today: None,
            http_addr: "127.0.0.1:8080".into(),
            metrics_addr: "127.0.0.1:9090".into(),
            shutdown_deadline_secs: 30,
            log_format: LogFormat::Auto,
            api_listen: "127.0.0.1:8080".into(),
            api_max_body_bytes: 10 * 1024 * 1024,
            api_timeout_secs: 30,
            oidc_issuer: None,
            oidc_audience: None,
            oidc_jwks_url: None,
            oidc_jwks_file: None,
            oidc_naam_claim: "preferred_username".into(),
            oidc_rol_claim: "iwmo_rol".into(),
            oidc_gemeenten_claim: "iwmo_gemeenten".into(),
        }
    }
}

/// CPU cores available to the process (cgroup limits included); 2 when unknown.
fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

impl Config {
    /// The number of transactions run at once: `concurrency`, or when that is 0 one per CPU core
    /// available to the process (cgroup limits included), at least 2 and at most 8 (the
    /// database pool's size, and the memory limit of deploy/k8s holds 8 messages of 25 MB being
    /// checked at once). On a machine whose cores the worker shares with PostgreSQL and
    /// RabbitMQ, more handlers than cores only make the batches smaller and the processes wait
    /// for each other (measured on 2 cores: 4 handlers ~20 % slower than 2; see README,
    /// Performance).
    pub fn handlers(&self) -> usize {
        if self.concurrency > 0 {
            return self.concurrency;
        }
        cores().clamp(2, 8)
    }

    /// Threads of the tokio runtime: `worker_threads`, or when that is 0 one per CPU core
    /// available to the process.
    pub fn worker_threads(&self) -> usize {
        if self.worker_threads > 0 {
            self.worker_threads
        } else {
            cores()
        }
    }

    /// The clock of the rules: `today` when set, else the local date.
    pub fn today(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    /// The keys, in declaration order.
    pub fn keys() -> &'static [&'static str] {
        field_names::<Config>()
    }
}

/// The field names of a struct deriving `Deserialize`: serde's derive hands them to
/// `deserialize_struct`, so the struct stays the only list of keys.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Error as _, Visitor};

    struct Names<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Names<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Self::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Self::Error::custom("field names only"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_struct_and_secrets_never_show() {
        let keys = Config::keys();
        assert_eq!(keys.first(), Some(&"database_url"));
        assert!(keys.contains(&"worker_threads") && keys.contains(&"today"));
        assert_eq!(keys.len(), 37);
        let c = Config {
            database_url: SecretUrl::new("postgres://iwmo:geheim@db/iwmo"),
            ..Config::default()
        };
        let shown = format!("{c:?} {} {}", c.database_url, toml::to_string(&c).unwrap());
        assert!(!shown.contains("geheim"), "{shown}");
        assert!(shown.contains("postgres://iwmo:***@db/iwmo"), "{shown}");
        assert_eq!(c.database_url.expose(), "postgres://iwmo:geheim@db/iwmo");
    }

    #[test]
    fn zero_means_the_cores() {
        let c = Config::default();
        assert!(c.worker_threads() >= 1);
        assert!((2..=8).contains(&c.handlers()));
        let fixed = Config {
            worker_threads: 3,
            concurrency: 5,
            ..Config::default()
        };
        assert_eq!((fixed.worker_threads(), fixed.handlers()), (3, 5));
    }
}
