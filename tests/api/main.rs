//! The HTTP API (`iwmo api`) through its real router on SQLite and PostgreSQL: the payment-run
//! lifecycle, four-eyes, 409s, holds and credits across runs, concurrent creation, SEPA against
//! the XSD, gemeente scope on every endpoint, and the running binary.

#[path = "../common/mod.rs"]
mod common;

mod binary;
mod harness;
mod lifecycle;
mod oidc;
mod scope;
