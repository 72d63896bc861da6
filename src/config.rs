//! The configuration of every command (see [`crate::app::config`] and [`crate::app::layers`]).

pub use crate::app::config::*;
pub use crate::app::layers::{load, ConfigError, Flags, Loaded, Origin};
