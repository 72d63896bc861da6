//! Level 2: the in-message rules of the official iWmo 3.2 XSLT (2.10.5), as pure functions of
//! the typed message. Nothing here reads the wall clock: TR134/TR137 compare with the header
//! Dagtekening.

use super::Finding;
use crate::message::Message;

/// All level-2 findings for a message, in document order.
pub fn check(msg: &Message) -> Vec<Finding> {
    let _ = msg;
    Vec::new()
}
