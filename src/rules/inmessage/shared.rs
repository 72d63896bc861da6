//! Helpers shared by the level-2 rules: paths, XSLT-style date numbers and calendar arithmetic,
//! the rules on the client's Bsn and Geboortedatum, and the TR101 duplicate check.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::{Datelike, NaiveDate};

use crate::domain::{Bsn, DatumGebruik};
use crate::message::common::Geboortedatum;
use crate::rules::{idx, Finding};

/// Path of the header Dagtekening that TR002/TR134/TR137 compare with.
pub const DAGTEKENING: &str = "/Bericht/Header/BerichtIdentificatie/Dagtekening";

/// At most this many findings per pair rule (TR302, TR315, TR316, TR383, TR386, TR410, TR416)
/// and message.
pub const MAX_PAIR_FINDINGS: usize = 1000;

/// Collects findings in the order the rules fire.
#[derive(Default)]
pub struct Findings {
    list: Vec<Finding>,
    pairs: HashMap<&'static str, usize>,
}

impl Findings {
    /// Adds a finding; `facts` (may be empty) are appended to the catalogue text. Facts never
    /// contain a BSN, a name or other personal data.
    pub fn add(&mut self, rule: &'static str, locations: Vec<String>, facts: impl Into<String>) {
        self.list
            .push(Finding::new(rule, locations, Some(facts.into())));
    }

    /// Like [`Findings::add`] for rules that report one finding per pair of lines; returns false
    /// (and adds nothing) once [`MAX_PAIR_FINDINGS`] is reached for this rule.
    pub fn add_pair(
        &mut self,
        rule: &'static str,
        locations: Vec<String>,
        facts: impl Into<String>,
    ) -> bool {
        let n = self.pairs.entry(rule).or_insert(0);
        if *n >= MAX_PAIR_FINDINGS {
            return false;
        }
        *n += 1;
        self.add(rule, locations, facts);
        true
    }

    pub fn pair_limit_reached(&self, rule: &'static str) -> bool {
        self.pairs
            .get(rule)
            .is_some_and(|n| *n >= MAX_PAIR_FINDINGS)
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.list
    }
}

/// `base/name`.
pub fn child(base: &str, name: &str) -> String {
    format!("{base}/{name}")
}

/// `base/name[i+1]`, the index only when there are several same-named siblings.
pub fn nth(base: &str, name: &str, i: usize, count: usize) -> String {
    format!("{base}/{name}{}", idx(i, count))
}

/// The XSLT's date number: `2025-01-31` → 20250131 (numeric comparisons are done on this).
pub fn dnum(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// `JJJJ-MM-DD`, as in the message.
pub fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// XPath `normalize-space`: trim and collapse runs of XML whitespace to one space.
pub fn norm(s: &str) -> String {
    s.split([' ', '\t', '\n', '\r'])
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The XSLT's "filled": present and not blank.
pub fn filled(s: Option<&str>) -> bool {
    s.is_some_and(|s| !norm(s).is_empty())
}

/// Leap year as the XSLT computes it (divisible by 4; differs from the calendar only in 2100).
fn xslt_leap(y: i32) -> bool {
    y.rem_euclid(4) == 0
}

/// Days in a month with the XSLT's leap-year rule.
fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if xslt_leap(y) => 29,
        2 => 28,
        _ => 31,
    }
}

/// A calendar day as (year, month, day) under the XSLT's leap-year rule; may name a day that
/// chrono does not have (2100-02-29).
pub type Ymd = (i32, u32, u32);

pub fn to_ymd(d: NaiveDate) -> Ymd {
    (d.year(), d.month(), d.day())
}

/// The day after `d` (CS340).
pub fn plus_one_day((y, m, d): Ymd) -> Ymd {
    if d < days_in_month(y, m) {
        (y, m, d + 1)
    } else if m < 12 {
        (y, m + 1, 1)
    } else {
        (y.saturating_add(1), 1, 1)
    }
}

/// `d` plus one month, an impossible day overflowing into the following month
/// (2025-01-31 → 2025-03-03) (CS340).
pub fn plus_one_month_overflow((y, m, d): Ymd) -> Ymd {
    let (y, m) = if m < 12 {
        (y, m + 1)
    } else {
        (y.saturating_add(1), 1)
    };
    let dim = days_in_month(y, m);
    if d <= dim {
        (y, m, d)
    } else if m < 12 {
        (y, m + 1, d - dim)
    } else {
        (y.saturating_add(1), 1, d - dim)
    }
}

/// `d` minus `years` years, a 29 February that does not exist truncated to the 28th (TR335);
/// as a date number.
pub fn minus_years_truncated(d: NaiveDate, years: i32) -> i64 {
    let y = d.year().saturating_sub(years);
    let day = d.day().min(days_in_month(y, d.month()));
    i64::from(y) * 10_000 + i64::from(d.month()) * 100 + i64::from(day)
}

/// CS002 on a `Bsn` element.
pub fn cs002(out: &mut Findings, path: impl FnOnce() -> String, bsn: &Bsn) {
    if !bsn.passes_elfproef() {
        out.add("CS002", vec![path()], "");
    }
}

/// TR002 and TR134 (at `Geboortedatum/Datum`), then CS139 (at `Geboortedatum`). The birth
/// date itself is personal data and is not repeated in the text.
pub fn geboortedatum(out: &mut Findings, path: &str, g: &Geboortedatum, dagtekening: NaiveDate) {
    let datum = || child(path, "Datum");
    let is_1900 = to_ymd(g.datum) == (1900, 1, 1);
    let onbekend = g.datum_gebruik == Some(DatumGebruik::GeheelOnbekend) && is_1900;
    if !onbekend && dnum(g.datum) + 1_200_000 < dnum(dagtekening) {
        out.add(
            "TR002",
            vec![DAGTEKENING.to_string(), datum()],
            format!("Dagtekening {}", ymd(dagtekening)),
        );
    }
    tr134(out, datum, "Geboortedatum", g.datum, dagtekening, false);
    if let Some(gebruik) = g.datum_gebruik {
        let wrong = match gebruik {
            DatumGebruik::GeheelOnbekend => !is_1900,
            DatumGebruik::DagEnMaandOnbekend => g.datum.month() != 1 || g.datum.day() != 1,
            DatumGebruik::DagOnbekend => g.datum.day() != 1,
        };
        if wrong {
            out.add(
                "CS139",
                vec![datum(), child(path, "DatumGebruik")],
                format!("DatumGebruik {gebruik}"),
            );
        }
    }
}

/// TR134: the element's date may not be after the header Dagtekening. `show` says whether
/// the date itself may be named in the text (not for a birth date).
pub fn tr134(
    out: &mut Findings,
    path: impl FnOnce() -> String,
    what: &str,
    date: NaiveDate,
    dagtekening: NaiveDate,
    show: bool,
) {
    if dnum(date) > dnum(dagtekening) {
        let facts = if show {
            format!(
                "{what} {} ligt na Dagtekening {}",
                ymd(date),
                ymd(dagtekening)
            )
        } else {
            format!("{what} ligt na Dagtekening {}", ymd(dagtekening))
        };
        out.add("TR134", vec![DAGTEKENING.to_string(), path()], facts);
    }
}

/// TR101 among the same-named children of one parent: every group of two or more members with
/// the same key gives one finding (ordered by the group's last member) that lists all members.
/// `path(i)` is the path of member i; `describe(i)` names the key of member i for the text.
pub fn tr101<K: Eq + Hash>(
    out: &mut Findings,
    path: impl Fn(usize) -> String,
    keys: Vec<K>,
    describe: impl Fn(usize) -> String,
) {
    if keys.len() < 2 {
        return;
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<K, usize> = HashMap::new();
    for (i, k) in keys.into_iter().enumerate() {
        match by_key.get(&k) {
            Some(&g) => {
                if let Some(members) = groups.get_mut(g) {
                    members.push(i);
                }
            }
            None => {
                by_key.insert(k, groups.len());
                groups.push(vec![i]);
            }
        }
    }
    let mut dups: Vec<Vec<usize>> = groups.into_iter().filter(|g| g.len() > 1).collect();
    dups.sort_by_key(|g| g.last().copied().unwrap_or(0));
    for g in dups {
        let first = g.first().copied().unwrap_or(0);
        let locations = g.iter().map(|&i| path(i)).collect();
        out.add(
            "TR101",
            locations,
            format!("{} komt {} keer voor", describe(first), g.len()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn calendar_arithmetic_follows_the_xslt() {
        assert_eq!(plus_one_month_overflow((2025, 1, 31)), (2025, 3, 3));
        assert_eq!(plus_one_month_overflow((2024, 1, 31)), (2024, 3, 2));
        assert_eq!(plus_one_month_overflow((2025, 12, 1)), (2026, 1, 1));
        assert_eq!(plus_one_day((2025, 12, 31)), (2026, 1, 1));
        assert_eq!(plus_one_day((2024, 2, 28)), (2024, 2, 29));
        assert_eq!(plus_one_day((2100, 2, 28)), (2100, 2, 29));
        assert_eq!(minus_years_truncated(d("2024-02-29"), 5), 20190228);
        assert_eq!(minus_years_truncated(d("2026-03-05"), 5), 20210305);
        assert_eq!(dnum(d("2025-01-31")), 20250131);
    }

    #[test]
    fn normalize_space() {
        assert_eq!(norm("  a \n b  "), "a b");
        assert!(!filled(Some(" \t")));
        assert!(!filled(None));
        assert!(filled(Some(" x ")));
    }
}
