//! Finance: what leaves iwmo when a payment run (betaalronde) is exported. Pure writers, no
//! database: the payment-run code reads the run and streams its parts through these.
//!
//! * [`sepa`]: the payment file, ISO 20022 `pain.001.001.09` as the EPC SEPA Credit Transfer
//!   rulebook and the Dutch banks restrict it (one payment information block per run, one
//!   transfer per aanbieder).
//! * [`journal`]: the journal CSV for the ledger, one row per aanbieder × productcategorie.

pub mod journal;
pub mod sepa;
