//! The application around the library: command line, configuration, logging, and one module per
//! command (`commands/`).

pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod layers;
pub mod telemetry;
mod usage;

use cli::{Cli, Command};

/// Exit code when the configuration (file, environment or flags) cannot be used.
pub const EXIT_CONFIG: i32 = 2;

/// Runs the CLI; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let loaded = match layers::load(cli.global.config.as_deref(), cli.flags()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("iwmo: {e}");
            return EXIT_CONFIG;
        }
    };
    let serve = matches!(cli.command, Command::Serve(_) | Command::Api(_));
    telemetry::init(loaded.config.log_format, serve);
    if let Some(code) = commands::run_sync(&cli.command, &loaded) {
        return code;
    }
    let threads = loaded.config.worker_threads();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("iwmo: kan runtime met {threads} threads niet starten: {e}");
            return db::EXIT_DATABASE;
        }
    };
    rt.block_on(commands::run(cli.command, loaded.config))
}
