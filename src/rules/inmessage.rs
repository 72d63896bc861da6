//! Level 2: the in-message rules of the official iWmo 3.2 XSLT (2.10.5), as pure functions of
//! the typed message. Nothing here reads the wall clock: TR134/TR137 compare with the header
//! Dagtekening (TR335 with the DeclaratieDagtekening).
//!
//! The rules and their quirks are specified in `docs/level2-rules.md`. Findings come out in the
//! order the XSLT would report them: the message is walked post-order in document order (children
//! before their parent) and at every element the rules are tried in the XSLT's fixed rule order.
//! Locations follow the XSLT's `printXPath` (`[n]` only where same-named siblings exist) and are
//! listed in document order.
//!
//! Deviations that follow from working on the typed message instead of the raw XML text (only
//! reachable with values that differ from their canonical form, e.g. leading zeros):
//! * numbers and dates are compared by value, not by raw text (TR101 keys with ToewijzingNummer
//!   `040001` vs `40001` are duplicates here; TR358 accepts a TotaalBedrag `095900` for 95900);
//! * rules that report one finding per *pair* of lines (TR302, TR315, TR316, TR383, TR386,
//!   TR410, TR416) stop after `MAX_PAIR_FINDINGS` (1000) findings per rule, so that a hostile
//!   message cannot make the report grow quadratically. Real messages never come near that limit.

mod declaratie;
pub(crate) mod shape;
mod shared;
mod startstop;
mod toewijzing;
mod verzoek;

use super::Finding;
use crate::message::Message;

/// At most this many findings per pair rule and message (the list of such a rule is cut off).
pub use shared::MAX_PAIR_FINDINGS;

/// All level-2 findings for a message, in document order. The retours we receive or write
/// (302, 306, 308, 316, 318) and the untyped 319/320 give none.
pub fn check(msg: &Message) -> Vec<Finding> {
    match msg {
        Message::Wmo301(m) => toewijzing::check_301(m),
        Message::Wmo305(m) => startstop::check_305(m),
        Message::Wmo307(m) => startstop::check_307(m),
        Message::Wmo323(m) => declaratie::check_323(m),
        Message::Wmo325(m) => declaratie::check_325(m),
        Message::Wmo315(m) => verzoek::check_315(m),
        Message::Wmo317(m) => verzoek::check_317(m),
        Message::Wmo302(_)
        | Message::Wmo306(_)
        | Message::Wmo308(_)
        | Message::Wmo316(_)
        | Message::Wmo318(_)
        | Message::Untyped(_) => Vec::new(),
    }
}
