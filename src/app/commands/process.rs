//! `iwmo process PATH… [--out DIR]`: messages through the pipeline, one JSON line per file.
//!
//! Exit codes: 0 every file handled, whatever its outcome (an oversized file is recorded and
//! `invalid`); 1 some files could not be read (each named on stderr with the OS reason, and a
//! line with outcome `unreadable`), the others were handled; 3 the database could not be used:
//! the file named and the ones after it were not decided; 4 decided, but an answer could not be
//! written (named; it waits in the outbox for `iwmo answers write` or a rerun). With several,
//! the highest. Usage errors (2) are clap's and [`super::precheck`]'s.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::answers::{self, EXIT_UNWRITTEN};
use crate::app::config::Config;
use crate::app::db::EXIT_DATABASE;
use crate::check::{self, Target};
use crate::fsread::{self, ReadFailure};
use crate::message::ReadOptions;
use crate::pipeline::{self, Settings};
use crate::store::{Store, StoreError};

/// Exit code when some files could not be read.
pub const EXIT_UNREADABLE: i32 = 1;

/// The outcome of a file that could not be read (it is not a message, so not `invalid`).
pub const UNREADABLE: &str = "unreadable";

/// What went wrong on the way, for the exit code.
#[derive(Default)]
struct Tally {
    unreadable: usize,
    unwritten: Vec<String>,
}

pub async fn run(store: &Store, config: &Config, paths: &[PathBuf], out: Option<PathBuf>) -> i32 {
    // Answers are written here, after the commit, not by the pipeline: a failed write then
    // leaves the answer waiting in the outbox instead of failing the message.
    let settings = Settings {
        read: ReadOptions {
            max_bytes: config.max_bytes,
        },
        out_dir: None,
        answer_max_bytes: config.answer_max_bytes,
    };
    let run = Run {
        store,
        settings: &settings,
        today: config.today(),
        out: out.as_deref(),
    };
    let mut tally = Tally::default();
    let stdout = std::io::stdout();
    for t in check::expand(paths) {
        let name = t.path().display().to_string();
        match run.file(&t, &name, &mut tally).await {
            Ok(line) => {
                let _ = writeln!(stdout.lock(), "{line}");
            }
            Err(e) => {
                eprintln!(
                    "iwmo process: {name}: database niet bruikbaar: {e}. Dit bestand en de \
                     volgende zijn niet beslist; opnieuw draaien beslist ze (wat al beslist is, \
                     komt terug als duplicate)."
                );
                return EXIT_DATABASE;
            }
        }
    }
    // Seal what this run stored into the hash chain. The messages are committed either way
    // (listed as unsealed): the next run or `iwmo audit verify` seals them.
    if let Err(e) = store.seal_all().await {
        eprintln!("iwmo process: hashketen nu niet bijgewerkt ({e}); de volgende run of `iwmo audit verify` doet het");
    }
    exit_code(&tally, out.as_deref())
}

/// The exit code of a run that reached its end, with the summary on stderr.
fn exit_code(tally: &Tally, out: Option<&Path>) -> i32 {
    if !tally.unwritten.is_empty() {
        let dir = out.map(|d| d.display().to_string()).unwrap_or_default();
        eprintln!(
            "iwmo process: {} antwoord(en) niet geschreven: {}. De beslissingen zijn opgeslagen; \
             de antwoorden wachten in de database: `iwmo answers write --out {dir}` of opnieuw \
             draaien schrijft ze.",
            tally.unwritten.len(),
            tally.unwritten.join(", ")
        );
        return EXIT_UNWRITTEN;
    }
    if tally.unreadable > 0 {
        eprintln!(
            "iwmo process: {} bestand(en) niet gelezen (hierboven genoemd); de andere zijn verwerkt",
            tally.unreadable
        );
        return EXIT_UNREADABLE;
    }
    0
}

struct Run<'a> {
    store: &'a Store,
    settings: &'a Settings,
    today: NaiveDate,
    out: Option<&'a Path>,
}

impl Run<'_> {
    /// One file: read, decided (or recorded as refused), its answer written; its JSON line.
    async fn file(&self, t: &Target, name: &str, tally: &mut Tally) -> Result<Value, StoreError> {
        let max = self.settings.read.max_bytes;
        let read = match t {
            Target::File(path) => fsread::read_message_file(path, max),
            Target::Unlisted { reason, .. } => Err(check::unlisted(reason)),
        };
        let o = match read {
            Ok(bytes) => {
                pipeline::process(self.store, name, &bytes, self.today, self.settings).await?
            }
            Err(f) => match &f {
                // Too large: recorded by its first bytes and refused, as a message is.
                ReadFailure::TooLarge {
                    preview, sha256, ..
                } => pipeline::refused(self.store, name, preview, sha256, f.to_string()).await?,
                _ => {
                    eprintln!("iwmo process: {name}: {f}");
                    tally.unreadable += 1;
                    return Ok(unreadable_line(name, &f));
                }
            },
        };
        tracing::info!(file = %o.file, kind = o.kind.as_deref().unwrap_or(""), outcome = %o.outcome, codes = ?o.codes, "verwerkt");
        let mut line = serde_json::to_value(&o).unwrap_or(Value::Null);
        if let Some(dir) = self.out {
            let mut paths = Vec::new();
            let idents = o
                .answer_xml
                .iter()
                .chain(&o.more_answers)
                .map(|a| a.1.clone());
            let results = answers::deliver(self.store, dir, &o).await?;
            for (ident, r) in idents.zip(results) {
                match r {
                    Ok(path) => paths.push(path),
                    Err(reason) => {
                        eprintln!("iwmo process: {name}: {reason}");
                        line["answer_error"] = json!(reason);
                        tally.unwritten.push(ident);
                    }
                }
            }
            if let Some(first) = paths.first() {
                line["answer"] = json!(first);
            }
            if paths.len() > 1 {
                line["answer_parts"] = json!(paths);
            }
        }
        Ok(line)
    }
}

/// The line of a file that could not be read: nothing was stored.
fn unreadable_line(name: &str, f: &ReadFailure) -> Value {
    json!({"file": name, "kind": null, "afzender": null, "identificatie": null,
        "outcome": UNREADABLE, "codes": [], "answer": null, "error": f.to_string()})
}
