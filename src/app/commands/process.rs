//! `iwmo process PATH… [--out DIR]`: messages through the pipeline, one JSON line per file.

use std::io::Write;
use std::path::PathBuf;

use crate::app::config::Config;
use crate::check;
use crate::message::ReadOptions;
use crate::pipeline::{self, Settings};
use crate::store::Store;

/// Exit 0 whenever every file was handled (whatever the outcome), 2 when the paths cannot be
/// read, 3 when the store fails.
pub async fn run(store: &Store, config: &Config, paths: &[PathBuf], out: Option<PathBuf>) -> i32 {
    let files = match check::expand(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("iwmo process: {e}");
            return 2;
        }
    };
    let max_bytes = config.max_bytes;
    let settings = Settings {
        read: ReadOptions { max_bytes },
        out_dir: out,
        answer_max_bytes: config.answer_max_bytes,
    };
    let today = config.today();
    let stdout = std::io::stdout();
    for f in files {
        let name = f.display().to_string();
        let bytes = match check::read_file(&f, max_bytes) {
            Ok(b) => b,
            Err(v) => {
                // Too large or unreadable: reported as invalid, nothing stored.
                let line = serde_json::json!({"file": name, "kind": null, "afzender": null,
                    "identificatie": null, "outcome": "invalid", "codes": [], "answer": null,
                    "error": v.error.map(|e| e.message)});
                let _ = writeln!(stdout.lock(), "{line}");
                continue;
            }
        };
        match pipeline::process(store, &name, &bytes, today, &settings).await {
            Ok(o) => {
                tracing::info!(file = %o.file, kind = ?o.kind, outcome = %o.outcome, codes = ?o.codes, "verwerkt");
                let line = serde_json::to_string(&o).unwrap_or_default();
                let _ = writeln!(stdout.lock(), "{line}");
            }
            Err(e) => {
                eprintln!("iwmo process: {name}: opslag mislukt: {e}");
                return 3;
            }
        }
    }
    // Seal what this run stored into the hash chain.
    if let Err(e) = store.seal_all().await {
        eprintln!("iwmo process: hashketen bijwerken mislukt: {e}");
        return 3;
    }
    0
}
