//! Level 1: the structure of the official iWmo 3.2 XSDs, as generated tables plus a streaming
//! validator that builds a compact document tree while it checks.

pub mod facets;
pub mod model;
#[rustfmt::skip]
pub mod tables;
pub mod validate;

use crate::domain::RetourCode;

pub use model::{ComplexType, ElementDecl, MessageSchema, SimpleType};
pub use validate::{
    validate, validate_with, Doc, Node, NodeId, NotWellFormed, StructureError, StructureErrors,
    ValidateError, MAX_ERRORS,
};

/// "3 fouten", "1 fout", or "eerste 50 fouten getoond, er zijn er meer" when the list was cut off.
pub fn count_text(n: usize, truncated: bool) -> String {
    if truncated {
        format!("eerste {n} fouten getoond; er zijn er meer dan {n} (lijst afgekapt)")
    } else if n == 1 {
        "1 fout".into()
    } else {
        format!("{n} fouten")
    }
}

/// The official Dutch meaning of a RetourCode, from the basisschema (here, not on
/// [`RetourCode`]: the domain layer does not depend on the message layer).
pub fn retour_code_omschrijving(code: RetourCode) -> &'static str {
    tables::RETOUR_CODE_DOCS
        .iter()
        .find(|(c, _)| *c == code.code())
        .map(|(_, d)| *d)
        .unwrap_or("")
}

/// XSD version values of the schemas these tables were generated from (IV034).
pub fn schema_for(number: u16) -> Option<&'static MessageSchema> {
    tables::MESSAGE_SCHEMAS.iter().find(|m| m.number == number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retour_codes_have_their_omschrijving() {
        assert!(retour_code_omschrijving(RetourCode::R8001).len() > 5);
        assert!(RetourCode::ALL
            .iter()
            .all(|c| !retour_code_omschrijving(*c).is_empty()));
    }
}
