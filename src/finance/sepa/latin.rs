//! The Latin character set of the EPC SEPA rulebooks: `a–z A–Z 0–9 / - ? : ( ) . , ' +` and
//! space. Names and remittance text are brought into it: common diacritics are transliterated
//! (`é` → `e`, `ß` → `ss`, `Æ` → `AE`), combining marks dropped, a few look-alikes mapped (`&` →
//! `+`, `_` and dashes → `-`, curly quotes → `'`), anything else becomes a space; runs of spaces
//! are collapsed and the ends trimmed.

/// Whether `c` belongs to the SEPA Latin character set.
pub fn is_sepa(c: char) -> bool {
    c.is_ascii_alphanumeric() || " /-?:().,'+".contains(c)
}

/// `text` in the SEPA character set, at most `max` characters (cut at a character, the trailing
/// space of a cut removed). May be empty when `text` holds nothing that can be shown.
pub fn opschonen(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    let mut count = 0;
    for c in text.chars() {
        let piece = vertaal(c);
        for p in piece.chars() {
            if count == max {
                return out.trim_end().to_string();
            }
            if p == ' ' && (out.is_empty() || out.ends_with(' ')) {
                continue;
            }
            out.push(p);
            count += 1;
        }
    }
    out.trim_end().to_string()
}

/// One character as SEPA text: itself, a transliteration, nothing (a combining mark) or a space.
fn vertaal(c: char) -> std::borrow::Cow<'static, str> {
    if is_sepa(c) {
        return c.to_string().into();
    }
    if ('\u{300}'..='\u{36f}').contains(&c) {
        return "".into();
    }
    if let Some(s) = teken(c) {
        return s.into();
    }
    let mut lower = c.to_lowercase();
    if let (Some(l), None) = (lower.next(), lower.next()) {
        if let Some(s) = letter(l) {
            if l != c {
                return s.to_uppercase().into();
            }
            return s.into();
        }
    }
    " ".into()
}

/// Punctuation with a SEPA look-alike.
fn teken(c: char) -> Option<&'static str> {
    Some(match c {
        '&' => "+",
        '_' | '–' | '—' | '‐' | '‑' | '−' => "-",
        '‘' | '’' | '‚' | '`' | '´' | '"' | '“' | '”' | '„' => "'",
        'ẞ' => "SS",
        _ => return None,
    })
}

/// A lower-case letter with a diacritic, or a ligature, in plain Latin letters.
fn letter(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ĳ' => "ij",
        'þ' => "th",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_and_replaces() {
        assert_eq!(opschonen("Zorg & Welzijn B.V.", 70), "Zorg + Welzijn B.V.");
        assert_eq!(opschonen("Crème brûlée Groß", 70), "Creme brulee Gross");
        assert_eq!(opschonen("ÆRØ ÉÉN Ĳssel", 70), "AERO EEN IJssel");
        assert_eq!(opschonen("e\u{301}e", 70), "ee");
        assert_eq!(opschonen("a\t\n b€c  ", 70), "a b c");
        assert_eq!(opschonen("漢字", 70), "");
        assert_eq!(opschonen("ab cd", 3), "ab");
        assert_eq!(opschonen(&"ß".repeat(50), 70).len(), 70);
    }

    #[test]
    fn output_is_in_the_set() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(opschonen(&all, 10_000).chars().all(is_sepa));
    }
}
