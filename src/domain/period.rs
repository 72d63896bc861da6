//! Periods of dates (both ends inclusive) and month arithmetic.

use chrono::{Datelike, NaiveDate};

/// CDT_GeslotenPeriode: Begindatum and Einddatum, both inclusive.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Periode {
    pub begindatum: NaiveDate,
    pub einddatum: NaiveDate,
}

impl Periode {
    pub fn overlaps(&self, other: &Periode) -> bool {
        self.begindatum <= other.einddatum && other.begindatum <= self.einddatum
    }

    /// Both dates in the same calendar month (CS337).
    pub fn within_one_month(&self) -> bool {
        self.begindatum.year() == self.einddatum.year()
            && self.begindatum.month() == self.einddatum.month()
    }

    /// Exactly one whole calendar month (CS340).
    pub fn is_whole_month(&self) -> bool {
        self.begindatum.day() == 1
            && self.within_one_month()
            && self.einddatum == last_day_of_month(self.begindatum)
    }
}

/// CDT_OpenPeriode: both ends optional.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct OpenPeriode {
    pub begindatum: Option<NaiveDate>,
    pub einddatum: Option<NaiveDate>,
}

pub fn last_day_of_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|n| n.pred_opt())
        .unwrap_or(d)
}

pub fn first_day_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// Months from `a` to `b` counted as calendar months (b.month - a.month).
pub fn months_between(a: NaiveDate, b: NaiveDate) -> i64 {
    (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month()) - i64::from(a.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months() {
        let p = Periode {
            begindatum: d("2024-02-01"),
            einddatum: d("2024-02-29"),
        };
        assert!(p.is_whole_month());
        let q = Periode {
            begindatum: d("2025-01-06"),
            einddatum: d("2025-01-31"),
        };
        assert!(q.within_one_month() && !q.is_whole_month());
        assert_eq!(last_day_of_month(d("2025-12-10")), d("2025-12-31"));
        assert_eq!(months_between(d("2020-12-31"), d("2025-12-01")), 60);
    }
}
