//! Layered configuration for `iwmo serve`: defaults → TOML file → `IWMO_*` environment → flags.
//! Secrets (database and broker URLs with passwords) are redacted whenever shown.

use std::path::PathBuf;

use serde::Deserialize;

use crate::store::redact_url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    File,
    Amqp,
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database_url: String,
    pub transport: TransportKind,
    pub inbox_dir: PathBuf,
    pub done_dir: PathBuf,
    pub failed_dir: PathBuf,
    pub outbox_dir: PathBuf,
    pub amqp_url: String,
    pub inbound_queue: String,
    pub dead_letter_exchange: String,
    pub dead_letter_queue: String,
    pub answers_exchange: String,
    pub unrouted_exchange: String,
    pub unrouted_queue: String,
    pub delivery_limit: u32,
    pub prefetch: u16,
    /// Transactions run at once by one process; 0: one per CPU core available to the process
    /// (see [`Config::handlers`]).
    pub concurrency: usize,
    /// Deliveries already waiting that are decided in one shared transaction (1: one each).
    pub batch_size: usize,
    pub http_addr: String,
    pub metrics_addr: String,
    pub shutdown_deadline_secs: u64,
    pub log_format: String,
    pub max_bytes: usize,
    pub poll_millis: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: crate::store::DEFAULT_URL.into(),
            transport: TransportKind::File,
            inbox_dir: "inbox".into(),
            done_dir: "done".into(),
            failed_dir: "failed".into(),
            outbox_dir: "outbox".into(),
            amqp_url: "amqp://guest:guest@127.0.0.1:5672/%2f".into(),
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
            http_addr: "127.0.0.1:8080".into(),
            metrics_addr: "127.0.0.1:9090".into(),
            shutdown_deadline_secs: 30,
            log_format: "json".into(),
            max_bytes: crate::intake::DEFAULT_MAX_BYTES,
            poll_millis: 500,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("transport", &self.transport)
            .field("amqp_url", &redact_url(&self.amqp_url))
            .field("inbound_queue", &self.inbound_queue)
            .field("answers_exchange", &self.answers_exchange)
            .field("delivery_limit", &self.delivery_limit)
            .field("prefetch", &self.prefetch)
            .field("concurrency", &self.concurrency)
            .field("batch_size", &self.batch_size)
            .field("http_addr", &self.http_addr)
            .field("metrics_addr", &self.metrics_addr)
            .finish_non_exhaustive()
    }
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
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuratiebestand {0}: {1}")]
    File(String, String),
    #[error("omgevingsvariabele {0}: {1}")]
    Env(String, String),
}

/// Reads the layers: `file` (if any), then the environment (`IWMO_<KEY>`); flags are applied by
/// the caller afterwards.
pub fn load(file: Option<&PathBuf>, env: &[(String, String)]) -> Result<Config, ConfigError> {
    let mut table: toml::Table = match file {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| ConfigError::File(p.display().to_string(), e.to_string()))?;
            text.parse::<toml::Table>()
                .map_err(|e| ConfigError::File(p.display().to_string(), e.to_string()))?
        }
        None => toml::Table::new(),
    };
    let defaults = toml::Table::try_from(DefaultsView::default()).unwrap_or_default();
    for (k, v) in env {
        let Some(key) = k.strip_prefix("IWMO_") else {
            continue;
        };
        let key = key.to_lowercase();
        if !defaults.contains_key(&key) {
            continue;
        }
        let value = match defaults.get(&key) {
            Some(toml::Value::Integer(_)) => toml::Value::Integer(
                v.parse::<i64>()
                    .map_err(|_| ConfigError::Env(k.clone(), "verwacht een geheel getal".into()))?,
            ),
            _ => toml::Value::String(v.clone()),
        };
        table.insert(key, value);
    }
    Config::deserialize(toml::Value::Table(table)).map_err(|e| {
        ConfigError::File(
            file.map(|p| p.display().to_string())
                .unwrap_or_else(|| "omgeving".into()),
            e.to_string(),
        )
    })
}

/// The keys and their kinds (for parsing environment values), mirroring [`Config`].
#[derive(serde::Serialize)]
struct DefaultsView {
    database_url: String,
    transport: String,
    inbox_dir: String,
    done_dir: String,
    failed_dir: String,
    outbox_dir: String,
    amqp_url: String,
    inbound_queue: String,
    dead_letter_exchange: String,
    dead_letter_queue: String,
    answers_exchange: String,
    unrouted_exchange: String,
    unrouted_queue: String,
    delivery_limit: i64,
    prefetch: i64,
    concurrency: i64,
    batch_size: i64,
    http_addr: String,
    metrics_addr: String,
    shutdown_deadline_secs: i64,
    log_format: String,
    max_bytes: i64,
    poll_millis: i64,
}

impl Default for DefaultsView {
    fn default() -> Self {
        let c = Config::default();
        DefaultsView {
            database_url: c.database_url,
            transport: "file".into(),
            inbox_dir: String::new(),
            done_dir: String::new(),
            failed_dir: String::new(),
            outbox_dir: String::new(),
            amqp_url: c.amqp_url,
            inbound_queue: c.inbound_queue,
            dead_letter_exchange: c.dead_letter_exchange,
            dead_letter_queue: c.dead_letter_queue,
            answers_exchange: c.answers_exchange,
            unrouted_exchange: c.unrouted_exchange,
            unrouted_queue: c.unrouted_queue,
            delivery_limit: 0,
            prefetch: 0,
            concurrency: 0,
            batch_size: 0,
            http_addr: c.http_addr,
            metrics_addr: c.metrics_addr,
            shutdown_deadline_secs: 0,
            log_format: c.log_format,
            max_bytes: 0,
            poll_millis: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order_and_secrets_are_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("iwmo.toml");
        std::fs::write(
            &f,
            "transport = \"amqp\"\nprefetch = 10\namqp_url = \"amqp://u:geheim@mq/%2f\"\n",
        )
        .unwrap();
        let env = vec![
            ("IWMO_PREFETCH".to_string(), "64".to_string()),
            (
                "IWMO_DATABASE_URL".to_string(),
                "postgres://iwmo:pw@db/iwmo".to_string(),
            ),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let c = load(Some(&f), &env).unwrap();
        assert_eq!(c.transport, TransportKind::Amqp);
        assert_eq!(c.prefetch, 64);
        assert_eq!(c.concurrency, 0, "0: one handler per core");
        assert!((2..=8).contains(&c.handlers()));
        let fixed = load(None, &[("IWMO_CONCURRENCY".into(), "3".into())]).unwrap();
        assert_eq!(fixed.handlers(), 3);
        assert_eq!(c.batch_size, 128);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("geheim") && !shown.contains(":pw@"),
            "{shown}"
        );
        assert!(load(Some(&f), &[("IWMO_PREFETCH".into(), "veel".into())]).is_err());
    }
}

#[cfg(test)]
mod example_file {
    /// deploy/iwmo.example.toml must stay loadable (unknown keys are refused).
    #[test]
    fn example_config_loads() {
        let p = std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/deploy/iwmo.example.toml"
        ));
        let c = super::load(Some(&p), &[]).unwrap();
        assert_eq!(c.inbound_queue, "iwmo.inbound");
    }
}
