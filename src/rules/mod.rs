//! Rules: pure functions of a message (and, from level 3 on, a snapshot of the state and a
//! clock) that produce findings. Every rule is in the [`catalogue`].

pub mod catalogue;
pub mod decision;
pub mod declaratie;
pub mod holds;
pub mod inmessage;
pub mod startstop;
pub mod state;
pub mod verzoek;

pub use catalogue::{rule, Level, Rule, RULES};

use crate::domain::RetourCode;

/// One rule that fired, on one place of a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    /// Rule id from the catalogue, e.g. "CS002".
    pub rule: String,
    pub code: RetourCode,
    pub level: Level,
    /// Element path(s) like the XSLT's Locatie, e.g. `/Bericht/Client/StartProducten/StartProduct[2]/Begindatum`.
    pub locations: Vec<String>,
    /// Dutch explanation for back office and provider, naming the facts used. Never a BSN or a name.
    pub text: String,
}

impl Finding {
    /// A finding with the catalogue text of `rule_id`, optionally followed by the facts.
    pub fn new(rule_id: &'static str, locations: Vec<String>, facts: Option<String>) -> Finding {
        let r = rule(rule_id);
        let text = match facts {
            Some(f) if !f.is_empty() => format!("{} ({f})", r.text),
            _ => r.text.to_string(),
        };
        Finding {
            rule: r.id.to_string(),
            code: r.code,
            level: r.level,
            locations,
            text,
        }
    }
}

/// `[n]` index for the n-th (0-based `i`) of `count` same-named siblings, as the XSLT prints it.
pub fn idx(i: usize, count: usize) -> String {
    if count > 1 {
        format!("[{}]", i + 1)
    } else {
        String::new()
    }
}
