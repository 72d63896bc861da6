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
use serde::{Deserialize, Serialize};

use super::state::{OpenLine, StartPolicy, StartRow, StopRow};
use crate::domain::{Bsn, Periode, ToewijzingNummer};

/// A start a released hold is covered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartRef {
    /// A start stored before this message (its id).
    Opgeslagen(i64),
    /// The n-th new start of this message.
    Nieuw(usize),
}

/// What happens to the hold of an earlier, approved and not credited debit Prestatie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "wijziging", rename_all = "kebab-case")]
pub enum HoldChange {
    /// No hold yet, and no start covers it any more: held.
    Vastgehouden { prestatie_id: i64, reden: String },
    /// Released earlier, and its start is gone: held again.
    OpnieuwVastgehouden { prestatie_id: i64, reden: String },
    /// Held, and a start covers it now: released.
    Vrijgegeven { prestatie_id: i64, start: StartRef },
    /// Held, and credited by this message: nothing left to pay.
    Vervallen { prestatie_id: i64 },
}

/// The starts and stops of one client as they are once a message's changes are applied: the
/// stored rows with the deleted ones inactive, and the new ones with ids `-1, -2, …` (the n-th
/// new start has id `-(n + 1)`).
pub struct After<'a> {
    pub starts: &'a [StartRow],
    pub stops: &'a [StopRow],
}

/// Re-evaluates the holds of a client's open lines after its starts or stops changed: a held
/// line a start now covers is released; a line no start covers any more is held (again) when the
/// policy is `hold`. Lines whose hold is unchanged give nothing. Pure.
pub fn reevaluate(
    bsn: &Bsn,
    lines: &[OpenLine],
    after: &After<'_>,
    policy: StartPolicy,
) -> Vec<HoldChange> {
    let mut out = Vec::new();
    for l in lines {
        let covering = covering_start(
            bsn,
            l.toewijzing_nummer,
            &l.periode,
            after.starts,
            after.stops,
        );
        let reden = || hold_reason(l.toewijzing_nummer, &l.periode);
        let hold = policy == StartPolicy::Hold;
        match (covering, l.hold.as_deref()) {
            (Some(id), Some("held")) => out.push(HoldChange::Vrijgegeven {
                prestatie_id: l.prestatie_id,
                start: if id < 0 {
                    StartRef::Nieuw(usize::try_from(-id - 1).unwrap_or(usize::MAX))
                } else {
                    StartRef::Opgeslagen(id)
                },
            }),
            (None, Some("released")) if hold => out.push(HoldChange::OpnieuwVastgehouden {
                prestatie_id: l.prestatie_id,
                reden: reden(),
            }),
            (None, None) if hold => out.push(HoldChange::Vastgehouden {
                prestatie_id: l.prestatie_id,
                reden: reden(),
            }),
            _ => {}
        }
    }
    out
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AgbCode, Nummer, RedenBeeindiging};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn bsn() -> Bsn {
        Bsn::parse("999990019").unwrap()
    }

    fn januari(hold: Option<&str>) -> OpenLine {
        OpenLine {
            prestatie_id: 7,
            toewijzing_nummer: Nummer::new(40001).unwrap(),
            periode: Periode {
                begindatum: day("2025-01-01"),
                einddatum: day("2025-01-31"),
            },
            hold: hold.map(str::to_string),
        }
    }

    fn start(id: i64, begin: &str, active: bool) -> StartRow {
        StartRow {
            id,
            aanbieder: AgbCode::parse("87654321").unwrap(),
            bsn: bsn(),
            toewijzing_nummer: Some(Nummer::new(40001).unwrap()),
            product: None,
            begindatum: day(begin),
            active,
        }
    }

    fn stop(start: &StartRow, eind: &str) -> StopRow {
        StopRow {
            id: 1,
            aanbieder: start.aanbieder,
            bsn: start.bsn,
            toewijzing_nummer: start.toewijzing_nummer,
            product: None,
            begindatum: start.begindatum,
            reden_beeindiging: RedenBeeindiging::VolgensPlanBeeindigd,
            einddatum: day(eind),
            active: true,
        }
    }

    fn run(
        line: OpenLine,
        starts: &[StartRow],
        stops: &[StopRow],
        policy: StartPolicy,
    ) -> Vec<HoldChange> {
        reevaluate(&bsn(), &[line], &After { starts, stops }, policy)
    }

    #[test]
    fn a_new_start_releases_a_held_line_and_is_named_as_new() {
        let got = run(
            januari(Some("held")),
            &[start(-1, "2025-01-09", true)],
            &[],
            StartPolicy::Hold,
        );
        assert_eq!(
            got,
            vec![HoldChange::Vrijgegeven {
                prestatie_id: 7,
                start: StartRef::Nieuw(0)
            }]
        );
        let got = run(
            januari(Some("held")),
            &[start(12, "2025-01-09", true)],
            &[],
            StartPolicy::Hold,
        );
        assert_eq!(
            got,
            vec![HoldChange::Vrijgegeven {
                prestatie_id: 7,
                start: StartRef::Opgeslagen(12)
            }]
        );
    }

    #[test]
    fn deleting_the_covering_start_holds_the_line_again() {
        let got = run(
            januari(Some("released")),
            &[start(12, "2025-01-09", false)],
            &[],
            StartPolicy::Hold,
        );
        assert!(
            matches!(got.as_slice(), [HoldChange::OpnieuwVastgehouden { prestatie_id: 7, reden }] if reden.contains("40001"))
        );
        // A line that was never held (covered when declared) is held now.
        let got = run(januari(None), &[], &[], StartPolicy::Hold);
        assert!(matches!(
            got.as_slice(),
            [HoldChange::Vastgehouden {
                prestatie_id: 7,
                ..
            }]
        ));
    }

    #[test]
    fn nothing_changes_when_coverage_does_not_or_the_policy_pays() {
        let s = start(12, "2025-01-09", true);
        assert!(run(
            januari(Some("released")),
            std::slice::from_ref(&s),
            &[],
            StartPolicy::Hold
        )
        .is_empty());
        assert!(run(januari(None), &[], &[], StartPolicy::Signal).is_empty());
        assert!(run(januari(Some("released")), &[], &[], StartPolicy::Signal).is_empty());
        // A start after the period, or one stopped before it, covers nothing.
        assert!(run(
            januari(Some("held")),
            &[start(13, "2025-02-01", true)],
            &[],
            StartPolicy::Hold
        )
        .is_empty());
        let old = start(14, "2024-10-01", true);
        assert!(run(
            januari(Some("held")),
            std::slice::from_ref(&old),
            &[stop(&old, "2024-12-31")],
            StartPolicy::Hold
        )
        .is_empty());
    }
}
