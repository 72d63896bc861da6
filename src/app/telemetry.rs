//! Logging: JSON lines for the worker (one span per message), plain text for the tools, as the
//! `log_format` key says. Never a BSN or a name: messages are identified by sender, kind and
//! Identificatie only.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

/// Installs the subscriber: `RUST_LOG`, else `info` for the worker and `warn` for the tools.
/// Colour codes only when stderr is a terminal.
pub fn init(format: LogFormat, serve: bool) {
    let default = if serve { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => serve,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json {
        builder.json().with_current_span(true).try_init()
    } else {
        builder.try_init()
    };
}
