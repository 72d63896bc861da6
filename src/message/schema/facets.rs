//! Simple-type checks (XSD lexical space and facets) for the iWmo 3.2 simple types.

use super::model::{Base, SimpleType};

/// What is wrong with a simple value, in Dutch: the rule (type and facet), never the value
/// itself, which may be a BSN or a name even where the element is meant for something else.
pub fn check(st: &SimpleType, raw: &str) -> Result<(), String> {
    let value: &str = match st.base {
        Base::String => raw,
        _ => raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r')),
    };
    let name = st.name;
    lexical(st.base, value).map_err(|why| format!("waarde {why} ({name})"))?;
    if st.base == Base::String {
        let n = value.chars().count() as u32;
        if let Some(min) = st.min_length.filter(|&min| n < min) {
            return Err(format!(
                "waarde is te kort: {n} tekens, minimaal {min} ({name})"
            ));
        }
        if let Some(max) = st.max_length.filter(|&max| n > max) {
            return Err(format!(
                "waarde is te lang: {n} tekens, maximaal {max} ({name})"
            ));
        }
    }
    for step in st.patterns {
        if !step.iter().any(|p| p.matches(value)) {
            let pats: Vec<String> = step.iter().map(|p| p.xsd()).collect();
            return Err(format!(
                "waarde voldoet niet aan het patroon {} ({name})",
                pats.join(" | ")
            ));
        }
    }
    if !st.enumeration.is_empty() && !st.enumeration.contains(&value) {
        return Err(format!(
            "waarde voldoet niet aan de toegestane waarden ({name}: {})",
            summarize_enum(st.enumeration)
        ));
    }
    range(st, value)
}

/// The lexical space of the built-in base type.
fn lexical(base: Base, value: &str) -> Result<(), &'static str> {
    match base {
        Base::String => Ok(()),
        Base::Integer if !is_integer(value) => Err("is geen geheel getal"),
        Base::Date if !is_date(value) => Err("is geen geldige datum (verwacht JJJJ-MM-DD)"),
        Base::Time if !is_time(value) => Err("is geen geldige tijd (verwacht uu:mm:ss)"),
        _ => Ok(()),
    }
}

/// minInclusive / maxInclusive.
fn range(st: &SimpleType, value: &str) -> Result<(), String> {
    if st.min_inclusive.is_none() && st.max_inclusive.is_none() {
        return Ok(());
    }
    // The lexical check guarantees an integer; huge values are out of every range.
    let n: Option<i128> = parse_integer(value);
    let below = matches!((n, st.min_inclusive), (Some(n), Some(min)) if n < min as i128)
        || (n.is_none() && value.starts_with('-'));
    let above = matches!((n, st.max_inclusive), (Some(n), Some(max)) if n > max as i128)
        || (n.is_none() && !value.starts_with('-'));
    let name = st.name;
    if below {
        return Err(format!(
            "waarde is kleiner dan het minimum {} ({name})",
            st.min_inclusive.unwrap_or(0)
        ));
    }
    if above {
        return Err(format!(
            "waarde is groter dan het maximum {} ({name})",
            st.max_inclusive.unwrap_or(0)
        ));
    }
    Ok(())
}

fn summarize_enum(values: &[&str]) -> String {
    if values.len() <= 20 {
        values.join(", ")
    } else {
        format!("{}, … ({} waarden)", values[..10].join(", "), values.len())
    }
}

pub fn is_integer(v: &str) -> bool {
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Parses an XSD integer; None when it does not fit in i128 (or is not an integer).
pub fn parse_integer(v: &str) -> Option<i128> {
    let (neg, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    let digits = digits.trim_start_matches('0');
    if digits.len() > 36 {
        return None;
    }
    let n: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    Some(if neg { -n } else { n })
}

fn two(b: &[u8]) -> Option<u32> {
    if b.len() == 2 && b[0].is_ascii_digit() && b[1].is_ascii_digit() {
        Some(((b[0] - b'0') * 10 + (b[1] - b'0')) as u32)
    } else {
        None
    }
}

fn is_zone(z: &[u8]) -> bool {
    match z {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let (Some(h), Some(m)) = (two(&[*h1, *h2]), two(&[*m1, *m2])) else {
                return false;
            };
            m <= 59 && (h < 14 || (h == 14 && m == 0))
        }
        _ => false,
    }
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap {
                29
            } else {
                28
            }
        }
    }
}

/// xs:date lexical space (XSD 1.0: year 0000 is not allowed).
pub fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    let (neg, rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    let ylen = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if ylen < 4 || (ylen > 4 && rest[0] == b'0') || ylen > 9 {
        return false;
    }
    let ys = &rest[..ylen];
    let year: i64 = match std::str::from_utf8(ys).ok().and_then(|s| s.parse().ok()) {
        Some(y) => y,
        None => return false,
    };
    if year == 0 {
        return false;
    }
    let rest = &rest[ylen..];
    if rest.len() < 6 || rest[0] != b'-' || rest[3] != b'-' {
        return false;
    }
    let (Some(m), Some(d)) = (two(&rest[1..3]), two(&rest[4..6])) else {
        return false;
    };
    let y = if neg { -year } else { year };
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m) && is_zone(&rest[6..])
}

/// xs:time lexical space.
pub fn is_time(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(s)) = (two(&b[0..2]), two(&b[3..5]), two(&b[6..8])) else {
        return false;
    };
    let mut rest = &b[8..];
    let mut frac_nonzero = false;
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        frac_nonzero = rest[1..=n].iter().any(|&c| c != b'0');
        rest = &rest[1 + n..];
    }
    let clock_ok = (h < 24 && m < 60 && s < 60) || (h == 24 && m == 0 && s == 0 && !frac_nonzero);
    clock_ok && is_zone(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2025-02-28"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2025-02-29"));
        assert!(!is_date("2025-1-05"));
        assert!(!is_date("0000-01-01"));
        assert!(is_date("2025-01-01Z"));
        assert!(is_date("2025-01-01+01:00"));
        assert!(!is_date("2025-01-01+1:00"));
        assert!(!is_date(""));
    }

    #[test]
    fn times() {
        assert!(is_time("10:15:00"));
        assert!(is_time("10:15:00.123"));
        assert!(!is_time("10:15"));
        assert!(!is_time("25:00:00"));
        assert!(is_time("24:00:00"));
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("+0012"), Some(12));
        assert_eq!(parse_integer("-5"), Some(-5));
        assert!(!is_integer("1 2"));
        assert!(!is_integer("-"));
    }
}
