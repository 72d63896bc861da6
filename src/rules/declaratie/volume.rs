//! Units and volumes (reference §9.3): which units fit, ISO weeks and Sundays, and the maxima of
//! TR321 (per ProductPeriode) and TR322 (over the whole toewijzing).

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::domain::*;
use crate::rules::state::Toewijzing;

/// TR341: hours may be declared as minutes; otherwise the same unit.
pub(super) fn fits(declared: Eenheid, toegewezen: Eenheid) -> bool {
    declared == toegewezen || (toegewezen == Eenheid::Uur && declared == Eenheid::Minuut)
}

pub(super) fn unit(e: Eenheid) -> &'static str {
    match e {
        Eenheid::Minuut => "minuten",
        Eenheid::Uur => "uur",
        Eenheid::Etmaal => "etmalen",
        Eenheid::Dagdeel => "dagdelen",
        Eenheid::StuksOutput => "stuks (output)",
        Eenheid::Euro => "eurocent",
        Eenheid::StuksInspanning => "stuks (inspanning)",
    }
}

pub(super) fn euro(cents: i128) -> Euro {
    Euro(i64::try_from(cents).unwrap_or(if cents < 0 { i64::MIN } else { i64::MAX }))
}

fn is_outputgericht(e: Eenheid) -> bool {
    matches!(e, Eenheid::StuksOutput | Eenheid::Euro)
}

fn days(begin: NaiveDate, end: NaiveDate) -> u128 {
    u128::try_from(end.signed_duration_since(begin).num_days() + 1).unwrap_or(0)
}

fn monday_of(d: NaiveDate) -> NaiveDate {
    d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday())))
        .unwrap_or(d)
}

/// Number of distinct ISO-8601 weeks (Monday–Sunday) that overlap `begin..=end`.
fn iso_weeks(begin: NaiveDate, end: NaiveDate) -> u128 {
    if end < begin {
        return 0;
    }
    days(monday_of(begin), monday_of(end)).saturating_sub(1) / 7 + 1
}

/// Number of Sundays in `begin..=end`.
fn sundays(begin: NaiveDate, end: NaiveDate) -> u128 {
    let to_sunday = 6 - u64::from(begin.weekday().num_days_from_monday());
    match begin.checked_add_days(Days::new(to_sunday)) {
        Some(first) if first <= end => days(first, end).saturating_sub(1) / 7 + 1,
        _ => 0,
    }
}

/// Last Sunday on or before `d`.
fn sunday_on_or_before(d: NaiveDate) -> NaiveDate {
    let back = (d.weekday().num_days_from_monday() + 1) % 7;
    d.checked_sub_days(Days::new(u64::from(back))).unwrap_or(d)
}

/// TR321: the maximum for one ProductPeriode in the toegewezen unit, with how it was computed;
/// `None` when there is no per-period limit (Frequentie 6).
pub(super) fn max_per_periode(
    t: &Toewijzing,
    vol: u128,
    te: Eenheid,
    freq: Frequentie,
    categorie: ProductCategorie,
    pp: &Periode,
) -> Option<(u128, String)> {
    let per = unit(te);
    match freq {
        Frequentie::TotaalBinnenGeldigheidsduur => None,
        Frequentie::PerMaand => Some((vol, format!("{vol} {per} per maand"))),
        Frequentie::PerDag => {
            let n = days(pp.begindatum, pp.einddatum);
            Some((
                vol.saturating_mul(n),
                format!("{n} dagen × {vol} {per} per dag"),
            ))
        }
        Frequentie::PerWeek if is_outputgericht(te) => {
            // A week belongs to the period holding its Sunday; the toewijzing's last, broken
            // week counts in the period that holds its last Sunday.
            let mut n = sundays(pp.begindatum, pp.einddatum);
            if let Some(eind) = t.einddatum {
                let last = sunday_on_or_before(eind);
                if eind.weekday() != Weekday::Sun && last >= pp.begindatum && last <= pp.einddatum {
                    n = n.saturating_add(1);
                }
            }
            Some((
                vol.saturating_mul(n),
                format!("{n} weken (zondagen) × {vol} {per} per week"),
            ))
        }
        Frequentie::PerWeek if categorie == ProductCategorie::HulpBijHetHuishouden => Some((
            vol.saturating_mul(6),
            format!("hulp bij het huishouden: 6 × {vol} {per} per week"),
        )),
        Frequentie::PerWeek => {
            let n = iso_weeks(pp.begindatum, pp.einddatum);
            Some((
                vol.saturating_mul(n),
                format!("{n} ISO-weken × {vol} {per} per week"),
            ))
        }
    }
}

/// TR322: the total allowed over the whole toewijzing in the toegewezen unit; `None` without a
/// cumulative limit (open-ended toewijzing, except Frequentie 6).
pub(super) fn max_totaal(
    t: &Toewijzing,
    vol: u128,
    te: Eenheid,
    freq: Frequentie,
) -> Option<(u128, String)> {
    let per = unit(te);
    if freq == Frequentie::TotaalBinnenGeldigheidsduur {
        return Some((vol, format!("{vol} {per} totaal binnen de geldigheidsduur")));
    }
    let eind = t.einddatum?;
    let ing = t.ingangsdatum;
    if eind < ing {
        return Some((0, "toewijzing zonder geldige periode".into()));
    }
    let (n, what) = match freq {
        Frequentie::PerMaand => (
            u128::try_from(months_between(ing, eind) + 1).unwrap_or(0),
            "maanden",
        ),
        Frequentie::PerDag => (days(ing, eind), "dagen"),
        Frequentie::PerWeek if is_outputgericht(te) => (
            sundays(ing, eind).saturating_add(u128::from(eind.weekday() != Weekday::Sun)),
            "weken",
        ),
        _ => (iso_weeks(ing, eind), "ISO-weken"),
    };
    Some((
        vol.saturating_mul(n),
        format!(
            "{n} {what} × {vol} {per} per {}",
            match freq {
                Frequentie::PerMaand => "maand",
                Frequentie::PerDag => "dag",
                _ => "week",
            }
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weeks_and_sundays() {
        // Reference §10: January from the 6th = 4 ISO weeks, February 2025 = 5.
        assert_eq!(iso_weeks(d("2025-01-06"), d("2025-01-31")), 4);
        assert_eq!(iso_weeks(d("2025-02-01"), d("2025-02-28")), 5);
        // IV077: 07-10-2025 … 30-12-2025 = 13 weeks.
        assert_eq!(iso_weeks(d("2025-10-07"), d("2025-12-30")), 13);
        assert_eq!(iso_weeks(d("2025-10-07"), d("2025-10-31")), 4);
        assert_eq!(iso_weeks(d("2025-06-01"), d("2025-06-30")), 6);
        assert_eq!(sundays(d("2025-06-01"), d("2025-06-30")), 5);
        assert_eq!(sundays(d("2025-06-02"), d("2025-06-07")), 0);
        assert_eq!(sundays(d("2025-06-02"), d("2025-06-08")), 1);
        assert_eq!(sunday_on_or_before(d("2025-06-08")), d("2025-06-08"));
        assert_eq!(sunday_on_or_before(d("2025-06-10")), d("2025-06-08"));
        assert_eq!(days(d("2025-02-01"), d("2025-02-28")), 28);
    }

    #[test]
    fn outputgericht_weeks_belong_to_their_sunday() {
        let t = Toewijzing {
            gemeente: Gemeentecode::parse("0344").unwrap(),
            toewijzing_nummer: Nummer::new(1).unwrap(),
            bsn: Bsn::parse("999990019").unwrap(),
            aanbieder: AgbCode::parse("87654321").unwrap(),
            product: None,
            toewijzingsdatum: d("2025-05-01"),
            toewijzingstijd: chrono::NaiveTime::MIN,
            ingangsdatum: d("2025-06-02"),
            einddatum: Some(d("2025-07-15")),
            reden_wijziging: None,
            volume: Some(1),
            eenheid: Some(Eenheid::StuksOutput),
            frequentie: Some(Frequentie::PerWeek),
            budget: None,
        };
        let max = |b: &str, e: &str| {
            let pp = Periode {
                begindatum: d(b),
                einddatum: d(e),
            };
            let c = ProductCategorie::Dagbesteding;
            max_per_periode(&t, 1, Eenheid::StuksOutput, Frequentie::PerWeek, c, &pp)
                .unwrap()
                .0
        };
        // June: Sundays 8, 15, 22, 29; July: 6 and 13, plus the broken last week.
        assert_eq!(max("2025-06-02", "2025-06-30"), 4);
        assert_eq!(max("2025-07-01", "2025-07-15"), 3);
        assert_eq!(
            max_totaal(&t, 1, Eenheid::StuksOutput, Frequentie::PerWeek)
                .unwrap()
                .0,
            7
        );
    }
}
