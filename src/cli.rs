//! Command line: `iwmo check`, and later the worker and the tools around it.

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check;
use crate::message::ReadOptions;

#[derive(Parser, Debug)]
#[command(
    name = "iwmo",
    version,
    about = "iWmo 3.2 berichtenverwerking voor gemeenten"
)]
pub struct Cli {
    /// Maximum message size in bytes (the GGk limit is 25 MB).
    #[arg(long, global = true, env = "IWMO_MAX_BYTES", default_value_t = crate::intake::DEFAULT_MAX_BYTES)]
    pub max_bytes: usize,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check messages on their own: intake, structure (level 1), in-message rules (level 2).
    Check {
        /// Files, or directories whose *.xml files are checked in name order.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Runs the CLI; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Check { paths, format } => run_check(&paths, format, cli.max_bytes),
    }
}

fn run_check(paths: &[PathBuf], format: Format, max_bytes: usize) -> i32 {
    let files = match check::expand(paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("iwmo check: {e}");
            return 2;
        }
    };
    let opts = ReadOptions { max_bytes };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_valid = true;
    for f in files {
        let verdict = match check::read_file(&f, max_bytes) {
            Ok(bytes) => check::check_bytes(&f.display().to_string(), &bytes, opts),
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
