//! `iwmo config show`: the effective configuration as TOML, each key with where its value came
//! from (default, file, environment variable, flag); secrets redacted.

use crate::app::cli::{flag_for, ConfigAction};
use crate::app::config::Config;
use crate::app::layers::{Loaded, Origin};

pub fn run(action: &ConfigAction, loaded: &Loaded) -> i32 {
    match action {
        ConfigAction::Show { .. } => match render(loaded) {
            Ok(text) => {
                print!("{text}");
                0
            }
            Err(e) => {
                eprintln!("iwmo config show: {e}");
                1
            }
        },
    }
}

/// The configuration as TOML lines `key = value  # origin`.
pub fn render(loaded: &Loaded) -> Result<String, toml::ser::Error> {
    let c = &loaded.config;
    // Serializing redacts the secrets (SecretUrl).
    let table = toml::Table::try_from(c)?;
    let mut out = String::from(
        "# Effectieve configuratie van iwmo; achter elke sleutel de herkomst van de waarde\n\
         # (standaard, configuratiebestand, omgevingsvariabele of vlag). Wachtwoorden verborgen.\n",
    );
    for key in Config::keys() {
        let line = match table.get(*key) {
            Some(v) => format!("{key} = {v}"),
            None => format!("# {key} = (niet gezet)"),
        };
        let origin = match loaded.origin(key) {
            Origin::Default => "standaard".to_string(),
            Origin::File(p) => p.display().to_string(),
            Origin::Env(name) => name,
            Origin::Flag(key) => flag_for(&key),
        };
        let effective = match *key {
            "worker_threads" => format!("; effectief {}", c.worker_threads()),
            "concurrency" => format!("; effectief {}", c.handlers()),
            "today" if c.today.is_none() => "; de systeemdatum".to_string(),
            _ => String::new(),
        };
        out.push_str(&format!("{line:<48} # {origin}{effective}\n"));
    }
    Ok(out)
}
