//! The command line (see [`crate::app`]): `iwmo::cli::Cli` and `iwmo::cli::run`.

pub use crate::app::cli::*;
pub use crate::app::run;
