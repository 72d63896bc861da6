//! Level 1: the structure of the official iWmo 3.2 XSDs, as generated tables plus a streaming
//! validator that builds a compact document tree while it checks.

pub mod facets;
pub mod model;
#[rustfmt::skip]
pub mod tables;
pub mod validate;

pub use model::{ComplexType, ElementDecl, MessageSchema, SimpleType};
pub use validate::{
    validate, validate_with, Doc, Node, NodeId, NotWellFormed, StructureError, ValidateError,
};

/// XSD version values of the schemas these tables were generated from (IV034).
pub fn schema_for(number: u16) -> Option<&'static MessageSchema> {
    tables::MESSAGE_SCHEMAS.iter().find(|m| m.number == number)
}
