//! Werkdagen, for the standard's deadlines (OP090: a retour within 3 werkdagen; a 301 or 319
//! within 5 werkdagen after a VOT/VOW). A werkdag is a day that is not a Saturday, a Sunday or an
//! algemeen erkende feestdag of the Algemene termijnenwet (art. 3: Nieuwjaarsdag, tweede Paas-
//! en Pinksterdag, beide Kerstdagen, Hemelvaartsdag, Koningsdag, 5 mei; Goede Vrijdag is
//! gelijkgesteld). Days the Crown adds by decree every three years are not included.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Easter Sunday (Gregorian, the anonymous "Meeus/Jones/Butcher" computation).
fn easter(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

/// Koningsdag: 27 April, or the 26th when the 27th is a Sunday.
fn koningsdag(year: i32) -> Option<NaiveDate> {
    let d = NaiveDate::from_ymd_opt(year, 4, 27)?;
    Some(if d.weekday() == Weekday::Sun {
        d.pred_opt()?
    } else {
        d
    })
}

/// Whether `d` is an algemeen erkende feestdag (or Goede Vrijdag).
pub fn is_feestdag(d: NaiveDate) -> bool {
    let y = d.year();
    let fixed = [(1, 1), (5, 5), (12, 25), (12, 26)];
    if fixed
        .iter()
        .any(|&(m, day)| d.month() == m && d.day() == day)
    {
        return true;
    }
    let Some(e) = easter(y) else { return false };
    let around = |offset: i64| e.checked_add_signed(chrono::Duration::days(offset));
    // Goede Vrijdag, tweede Paasdag, Hemelvaartsdag, tweede Pinksterdag.
    [-2, 1, 39, 50].iter().any(|&o| around(o) == Some(d)) || koningsdag(y) == Some(d)
}

pub fn is_werkdag(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !is_feestdag(d)
}

/// The day `n` werkdagen after `from` (the day of receipt does not count).
pub fn werkdagen_na(from: NaiveDate, n: u32) -> NaiveDate {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        match d.checked_add_days(Days::new(1)) {
            Some(next) => d = next,
            None => return d,
        }
        if is_werkdag(d) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn feestdagen_of_2025_and_2026() {
        for d in [
            "2025-01-01",
            "2025-04-18",
            "2025-04-21",
            "2025-04-26",
            "2025-05-05",
            "2025-05-29",
            "2025-06-09",
            "2025-12-25",
            "2025-12-26",
            "2026-04-03",
            "2026-04-06",
            "2026-04-27",
            "2026-05-14",
            "2026-05-25",
        ] {
            assert!(is_feestdag(day(d)), "{d}");
        }
        // 2025: Koningsdag falls on a Sunday, so it is the 26th; the 27th is an ordinary Sunday.
        assert!(!is_feestdag(day("2025-04-27")));
        assert!(!is_feestdag(day("2025-04-22")));
    }

    #[test]
    fn five_werkdagen_skip_weekends_and_feestdagen() {
        // Thursday 17 April 2025: Goede Vrijdag and tweede Paasdag fall in between.
        assert_eq!(werkdagen_na(day("2025-04-17"), 5), day("2025-04-28"));
        // Friday 10 January 2025: the next Friday.
        assert_eq!(werkdagen_na(day("2025-01-10"), 5), day("2025-01-17"));
        assert_eq!(werkdagen_na(day("2025-01-10"), 0), day("2025-01-10"));
        // Received on a Saturday: five werkdagen from the next Monday on.
        assert_eq!(werkdagen_na(day("2025-01-11"), 3), day("2025-01-15"));
    }
}
