//! The layers of [`Config`]: built-in defaults (serde) → TOML file (`--config` / `IWMO_CONFIG`)
//! → `IWMO_<KEY>` environment → flags, merged by figment. Flags arrive serialized ([`Flags`]),
//! so no key is merged by hand. Where each value came from is kept for `iwmo config show`.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::Serialize;

use super::config::Config;

/// Prefix of the environment variables: `IWMO_` + the key in upper case.
pub const ENV_PREFIX: &str = "IWMO_";

/// The name of the flag layer in figment's metadata.
const FLAG_LAYER: &str = "opdrachtregel";

/// Values given as flags (serialized clap arguments: only the flags that were given).
#[derive(Debug, Default, Clone)]
pub struct Flags(Dict);

impl Flags {
    /// Adds the set fields of `args` (fields named as the keys, unset ones skipped).
    pub fn with<T: Serialize>(mut self, args: &T) -> Self {
        if let Ok(Value::Dict(_, d)) = Value::serialize(args) {
            self.0.extend(d);
        }
        self
    }
}

impl Provider for Flags {
    fn metadata(&self) -> Metadata {
        Metadata::named(FLAG_LAYER)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.0.clone()))
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    /// The environment variable's name.
    Env(String),
    /// The key (the flag's name is the CLI's business: see `cli::flag_for`).
    Flag(String),
}

/// The configuration and its layers.
pub struct Loaded {
    pub config: Config,
    figment: Figment,
}

impl Loaded {
    /// Where the value of `key` came from (the last layer that set it).
    pub fn origin(&self, key: &str) -> Origin {
        match self.figment.find_metadata(key) {
            None => Origin::Default,
            Some(m) if m.name == FLAG_LAYER => Origin::Flag(key.to_string()),
            Some(Metadata {
                source: Some(Source::File(p)),
                ..
            }) => Origin::File(p.clone()),
            Some(_) => Origin::Env(env_name(key)),
        }
    }
}

fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuratiebestand {0} niet leesbaar: {1}")]
    Read(String, std::io::Error),
    #[error("configuratiebestand {0} is geen geldige TOML: {1}")]
    Syntax(String, String),
    #[error("configuratiebestand {file}: onbekende sleutel `{key}` (zie deploy/iwmo.example.toml voor de sleutels)")]
    UnknownKey { file: String, key: String },
    #[error("{0}")]
    Value(String),
}

/// Reads the layers. `file` must exist, parse and hold known keys only.
pub fn load(file: Option<&Path>, flags: Flags) -> Result<Loaded, ConfigError> {
    let mut figment = Figment::new();
    if let Some(p) = file {
        check_file(p)?;
        figment = figment.merge(Toml::file_exact(p));
    }
    let figment = figment
        .merge(Env::prefixed(ENV_PREFIX).only(Config::keys()))
        .merge(flags);
    let config = figment
        .extract::<Config>()
        .map_err(|e| ConfigError::Value(describe(e)))?;
    Ok(Loaded { config, figment })
}

/// The file's own errors, named by path and key, before the layers are merged.
fn check_file(p: &Path) -> Result<(), ConfigError> {
    let name = p.display().to_string();
    let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read(name.clone(), e))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| ConfigError::Syntax(name.clone(), e.to_string()))?;
    match table.keys().find(|k| !Config::keys().contains(&k.as_str())) {
        Some(key) => Err(ConfigError::UnknownKey {
            file: name,
            key: key.clone(),
        }),
        None => Ok(()),
    }
}

/// figment's errors in Dutch, each naming its layer and key.
fn describe(errors: figment::Error) -> String {
    use figment::error::Kind;
    let lines: Vec<String> = errors
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let layer = match &e.metadata {
                Some(m) if m.name == FLAG_LAYER => format!("vlag voor `{key}`"),
                Some(Metadata {
                    source: Some(Source::File(p)),
                    ..
                }) => format!("configuratiebestand {}, sleutel `{key}`", p.display()),
                Some(_) => format!("omgevingsvariabele {}", env_name(&key)),
                None => format!("sleutel `{key}`"),
            };
            let what = match &e.kind {
                Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
                    format!("ongeldige waarde {actual} (verwacht: {expected})")
                }
                Kind::UnknownVariant(v, allowed) => {
                    format!(
                        "onbekende waarde `{v}` (toegestaan: {})",
                        allowed.join(", ")
                    )
                }
                Kind::UnknownField(f, _) => format!("onbekende sleutel `{f}`"),
                other => other.to_string(),
            };
            format!("{layer}: {what}")
        })
        .collect();
    lines.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Given {
        #[serde(skip_serializing_if = "Option::is_none")]
        prefetch: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        batch_size: Option<usize>,
    }

    #[test]
    fn file_then_flags_and_their_origins() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("iwmo.toml");
        std::fs::write(&f, "transport = \"amqp\"\nprefetch = 10\nbatch_size = 7\n").unwrap();
        let flags = Flags::default().with(&Given {
            prefetch: Some(64),
            batch_size: None,
        });
        let l = load(Some(&f), flags).unwrap();
        assert_eq!(
            l.config.transport,
            super::super::config::TransportKind::Amqp
        );
        assert_eq!((l.config.prefetch, l.config.batch_size), (64, 7));
        assert_eq!(l.origin("prefetch"), Origin::Flag("prefetch".into()));
        assert_eq!(l.origin("batch_size"), Origin::File(f.clone()));
        assert_eq!(l.origin("http_addr"), Origin::Default);
    }

    #[test]
    fn file_errors_name_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("iwmo.toml");
        std::fs::write(&f, "prefetch = 10\nprefech = 11\n").unwrap();
        let e = load(Some(&f), Flags::default()).err().unwrap().to_string();
        assert!(e.contains("onbekende sleutel `prefech`"), "{e}");
        std::fs::write(&f, "prefetch = \"veel\"\n").unwrap();
        let e = load(Some(&f), Flags::default()).err().unwrap().to_string();
        assert!(
            e.contains("prefetch") && e.contains("ongeldige waarde"),
            "{e}"
        );
        std::fs::write(&f, "log_format = \"xml\"\n").unwrap();
        let e = load(Some(&f), Flags::default()).err().unwrap().to_string();
        assert!(e.contains("`xml`") && e.contains("toegestaan"), "{e}");
        let missing = dir.path().join("weg.toml");
        assert!(matches!(
            load(Some(&missing), Flags::default()),
            Err(ConfigError::Read(..))
        ));
    }
}
