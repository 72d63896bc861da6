//! iwmo: an iWmo 3.2 back-office service for Dutch municipalities.
//!
//! One way through the house: transport → [`intake`] → [`message`] (level 1) → rules
//! (pure: level 2 in-message, later levels 3/4 against state) → store → outbox → transport.
//!
//! Module dependencies point one way, from the bottom up: [`domain`] (iWmo value types) ←
//! [`message`] (intake guards, level 1, typed messages) ← [`rules`] (levels 2–4, pure) ←
//! store, decide, pipeline ← serve, cli. `tests/layers.rs` checks the lower three layers.
//! [`intake`] is the message layer's first step (`message::intake`), re-exported here.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod check;
pub mod cli;
pub mod config;
pub mod decide;
pub mod domain;
pub mod fsread;
pub mod imports;
pub mod message;
pub mod pipeline;
pub mod replay;
pub mod retour;
pub mod rules;
pub mod serve;
pub mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use message::intake;
