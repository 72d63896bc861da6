//! Amounts in a CSV file, always turned into integer eurocents without floats: whole cents in the
//! `*_cents` columns, euros with a decimal comma or point in the euro columns (`tarief`, `budget`).
//!
//! Euros: `68,50`, `68.50`, `68,5`, `68`, `€ 68,50`, `1.234,56`, `1,234.56`, `1.234.567`. The decimal
//! separator is the last separator when both `,` and `.` occur; a separator that occurs once on its
//! own is the decimal separator (so `1.234` is read as 1,234 euro and refused for its 3 decimals,
//! never silently as 1234 euro); a separator that occurs more than once groups thousands. Thousands
//! groups have exactly 3 digits. At most 2 decimals; negative amounts are refused.

/// A `*_cents` cell: a whole, non-negative number of cents. `euro_column` is named in the error
/// when the value looks like euros.
pub(crate) fn cents(s: &str, euro_column: &str) -> Result<u64, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| format!("'{s}' is te groot"));
    }
    if s.contains([',', '.']) {
        Err(format!(
            "'{s}' is geen geheel aantal centen (een bedrag in euro's hoort in kolom {euro_column})"
        ))
    } else {
        Err(format!("'{s}' is geen geheel aantal centen"))
    }
}

/// A euro cell (see the module documentation for the accepted forms), in cents.
pub(crate) fn euros(s: &str) -> Result<u64, String> {
    let bad = || format!("'{s}' is geen bedrag in euro's (zoals 68,50)");
    let v = s.strip_prefix('€').map(str::trim_start).unwrap_or(s);
    if v.starts_with('-') {
        return Err(format!("'{s}' is negatief"));
    }
    if v.is_empty()
        || !v
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return Err(bad());
    }
    let (commas, points) = (v.matches(',').count(), v.matches('.').count());
    let decimal = match (commas, points) {
        (1, 0) => Some(','),
        (0, 1) => Some('.'),
        (_, 0) | (0, _) => None,
        _ => v[v.rfind([',', '.']).unwrap_or(0)..].chars().next(),
    };
    let (int, frac, thousands) = match decimal {
        Some(d) => {
            let i = v.rfind(d).unwrap_or(0);
            let other = if d == ',' { '.' } else { ',' };
            (&v[..i], &v[i + 1..], other)
        }
        None => (v, "", if commas > 0 { ',' } else { '.' }),
    };
    if decimal.is_some_and(|d| int.contains(d)) {
        return Err(bad());
    }
    if frac.len() > 2 {
        return Err(format!("'{s}' heeft meer dan 2 decimalen"));
    }
    if decimal.is_some() && frac.is_empty() {
        return Err(bad());
    }
    let whole = ungroup(int, thousands).ok_or_else(bad)?;
    let whole: u64 = whole.parse().map_err(|_| format!("'{s}' is te groot"))?;
    // "5" is 50 cents, "05" is 5 cents.
    let fraction: u64 = match frac.len() {
        0 => 0,
        1 => u64::from(frac.as_bytes()[0] - b'0') * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    whole
        .checked_mul(100)
        .and_then(|c| c.checked_add(fraction))
        .ok_or_else(|| format!("'{s}' is te groot"))
}

/// `1.234.567` with `sep` = `.` → `1234567`; None when the groups are not 1–3 digits followed by
/// groups of exactly 3, or when there are no digits.
fn ungroup(int: &str, sep: char) -> Option<String> {
    let mut groups = int.split(sep);
    let first = groups.next()?;
    let several = int.contains(sep);
    if first.is_empty() || (several && first.len() > 3) {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 {
            return None;
        }
        out.push_str(g);
    }
    out.bytes().all(|b| b.is_ascii_digit()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_with_a_decimal_comma_or_point_become_exact_cents() {
        for (s, c) in [
            ("68,50", 6850),
            ("68.50", 6850),
            ("68,5", 6850),
            ("68,05", 6805),
            ("68", 6800),
            ("0,01", 1),
            ("€ 68,50", 6850),
            ("€68,50", 6850),
            ("1.234,56", 123_456),
            ("1,234.56", 123_456),
            ("1.234.567", 123_456_700),
            ("1,234,567", 123_456_700),
            ("1.234.567,89", 123_456_789),
            ("184467440737095516,15", u64::MAX),
        ] {
            assert_eq!(euros(s), Ok(c), "{s}");
        }
    }

    #[test]
    fn ambiguous_or_malformed_euros_are_refused() {
        assert_eq!(
            euros("68,505"),
            Err("'68,505' heeft meer dan 2 decimalen".into())
        );
        // A single separator is decimal: 1.234 is not silently 1234 euro.
        assert_eq!(
            euros("1.234"),
            Err("'1.234' heeft meer dan 2 decimalen".into())
        );
        assert_eq!(euros("-5,00"), Err("'-5,00' is negatief".into()));
        for s in [
            "",
            "68,",
            ",50",
            "6 8",
            "68,50,1",
            "1.2,3.4",
            "12.34,5.6",
            "1234.567,89",
            "1.23.456",
            "abc",
            "1e3",
            "€",
        ] {
            assert_eq!(
                euros(s),
                Err(format!("'{s}' is geen bedrag in euro's (zoals 68,50)")),
                "{s}"
            );
        }
        assert_eq!(
            euros("184467440737095516,16"),
            Err("'184467440737095516,16' is te groot".into())
        );
    }

    #[test]
    fn cents_are_whole_and_point_to_the_euro_column() {
        assert_eq!(cents("6850", "tarief"), Ok(6850));
        assert_eq!(cents("0", "tarief"), Ok(0));
        assert_eq!(
            cents("68,50", "tarief"),
            Err(
                "'68,50' is geen geheel aantal centen (een bedrag in euro's hoort in kolom tarief)"
                    .into()
            )
        );
        assert_eq!(
            cents("-5", "budget"),
            Err("'-5' is geen geheel aantal centen".into())
        );
        assert!(cents("99999999999999999999", "tarief").is_err());
    }
}
