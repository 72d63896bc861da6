//! iwmo: an iWmo 3.2 back-office service for Dutch municipalities.
//!
//! One way through the house: transport → [`intake`] → [`message`] (level 1) → rules
//! (pure: level 2 in-message, later levels 3/4 against state) → store → outbox → transport.
#![forbid(unsafe_code)]

pub mod check;
pub mod cli;
pub mod config;
pub mod decide;
pub mod domain;
pub mod imports;
pub mod intake;
pub mod message;
pub mod pipeline;
pub mod replay;
pub mod retour;
pub mod rules;
pub mod serve;
pub mod store;
pub mod telemetry;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
