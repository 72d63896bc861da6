//! Paying what was approved: the payment file (SEPA pain.001.001.09, [`sepa`]), the journal for
//! the ledger ([`journal`]), and how a stored run becomes either ([`bestand`]).

pub mod bestand;
pub mod journal;
pub mod rondes;
pub mod sepa;
