//! Logging: JSON lines for the worker (one span per message), plain text for the tools.
//! Never a BSN or a name: messages are identified by sender, kind and Identificatie only.

use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};

pub fn init(cli: &Cli) {
    let serve = matches!(cli.command, Command::Serve(_));
    let default = if serve { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = serve
        && std::env::var("IWMO_LOG_FORMAT")
            .map(|f| f != "text")
            .unwrap_or(true);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().with_current_span(true).try_init()
    } else {
        builder.try_init()
    };
}
