//! "Geen startbericht, geen betaling" as a payment hold (design decision 3, OP364).
//!
//! OP364 forbids rejecting a Prestatie because a start (305) is missing or because of start/stop
//! dates. So the level-3 rules approve such a line in the 325 and the gemeente holds payment until
//! a start covers its ProductPeriode. These functions are pure: the 323 check uses them to set
//! holds, and the 305/307 handling uses them again to release (or restore) holds when starts and
//! stops arrive or are deleted.
//!
//! Coverage: a start covers a ProductPeriode when there is at least one day of the period on which
//! delivery was started (on or after the start's Begindatum) and not yet stopped. A stop belongs
//! to a start through the start's key elements (Bsn, ToewijzingNummer, Product, Begindatum); its
//! Einddatum is the last day of delivery. A temporary stop (reden 20) without a new start ends
//! delivery just like a definitive one: only a new start (a new Begindatum, so a new key) opens a
//! new stretch of coverage. When several stops belong to one start (temporary, then definitive,
//! TR414: Einddatum never earlier) the earliest Einddatum counts.

use chrono::NaiveDate;

use super::state::{StartRow, StopRow};
use crate::domain::{Bsn, Periode, ToewijzingNummer};

/// Id of an active start of this client on this toewijzing that covers at least one day of
/// `periode`, or `None` if none does. When several do, the one with the latest Begindatum (then
/// the highest id) is returned, so the answer does not depend on the order of the rows.
pub fn covering_start(
    bsn: &Bsn,
    toewijzing: ToewijzingNummer,
    periode: &Periode,
    starts: &[StartRow],
    stops: &[StopRow],
) -> Option<i64> {
    let starts: Vec<&StartRow> = starts
        .iter()
        .filter(|s| s.bsn == *bsn && s.toewijzing_nummer == Some(toewijzing))
        .collect();
    if starts.is_empty() {
        return None;
    }
    let stops: Vec<&StopRow> = stops
        .iter()
        .filter(|s| s.bsn == *bsn && s.toewijzing_nummer == Some(toewijzing))
        .collect();
    covering_start_in(periode, &starts, &stops)
}

/// [`covering_start`] on rows already narrowed to one client and toewijzing (the 323 check
/// groups the snapshot once instead of scanning it per Prestatie).
pub(crate) fn covering_start_in(
    periode: &Periode,
    starts: &[&StartRow],
    stops: &[&StopRow],
) -> Option<i64> {
    let mut best: Option<(NaiveDate, i64)> = None;
    for s in starts.iter().filter(|s| s.active) {
        if s.begindatum > periode.einddatum {
            continue;
        }
        let end = stops
            .iter()
            .filter(|t| t.active && belongs_to(t, s))
            .map(|t| t.einddatum)
            .min();
        // Delivery runs from the start's Begindatum through the stop's Einddatum (inclusive).
        let covered = match end {
            None => true,
            Some(e) => e >= periode.begindatum && e >= s.begindatum,
        };
        if covered && best.is_none_or(|b| (s.begindatum, s.id) > b) {
            best = Some((s.begindatum, s.id));
        }
    }
    best.map(|(_, id)| id)
}

/// A stop belongs to a start when it repeats the start's key elements (TR382).
fn belongs_to(stop: &StopRow, start: &StartRow) -> bool {
    stop.bsn == start.bsn
        && stop.toewijzing_nummer == start.toewijzing_nummer
        && stop.begindatum == start.begindatum
        && match (&stop.product, &start.product) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// Dutch reason for a hold (no BSN, no name).
pub fn hold_reason(toewijzing: ToewijzingNummer, periode: &Periode) -> String {
    format!(
        "Geen start ontvangen voor toewijzing {toewijzing} die de periode {} t/m {} dekt",
        periode.begindatum, periode.einddatum
    )
}
