//! Domain values of iWmo 3.2: newtypes that can only hold what the standard allows.
//! Pure values, no I/O.

pub mod betaalronde;
pub mod calendar;
pub mod codes;
pub mod ids;
pub mod money;
pub mod period;

pub use codes::*;
pub use ids::*;
pub use money::*;
pub use period::*;

/// A value did not fit its domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{type_name}: {reason}")]
pub struct DomainError {
    pub type_name: &'static str,
    pub reason: String,
}

impl DomainError {
    pub fn new(type_name: &'static str, reason: impl Into<String>) -> Self {
        DomainError {
            type_name,
            reason: reason.into(),
        }
    }
}
