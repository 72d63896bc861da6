//! `iwmo check PATH…`: level 1/2 verdicts of messages on their own; no database.

use std::io::Write;
use std::path::PathBuf;

use crate::app::cli::Format;
use crate::app::config::Config;
use crate::check;
use crate::message::ReadOptions;

/// Exit 0 when every file is valid; 1 when one is not, or cannot be read (each has its verdict
/// line, the reason in Dutch); 2 when the verdicts cannot be written.
pub fn run(paths: &[PathBuf], format: Format, config: &Config) -> i32 {
    let max_bytes = config.max_bytes;
    let opts = ReadOptions { max_bytes };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_valid = true;
    for t in check::expand(paths) {
        let verdict = match check::read_target(&t, max_bytes) {
            Ok(bytes) => check::check_bytes(&t.path().display().to_string(), &bytes, opts),
            Err(v) => *v,
        };
        all_valid &= verdict.is_valid();
        let line = match format {
            Format::Json => serde_json::to_string(&verdict).unwrap_or_default() + "\n",
            Format::Text => check::render_text(&verdict),
        };
        if out.write_all(line.as_bytes()).is_err() {
            return 2;
        }
    }
    if all_valid {
        0
    } else {
        1
    }
}
