//! Parser errors in Dutch, with line and column, and never with content of the message.
//!
//! The texts of quick-xml's errors carry raw bytes of the input (tag names, attribute values,
//! entity names), which can be a BSN or a name put where it does not belong. Every variant is
//! mapped here to a Dutch text that names what is wrong and where, not what was written.

use quick_xml::errors::{Error, IllFormedError, SyntaxError};
use quick_xml::escape::{EscapeError, ParseCharRefError};
use quick_xml::events::attributes::AttrError;

/// Line and column (both 1-based; the column counted in characters) of a byte offset.
pub fn position(input: &str, offset: usize) -> (u32, u32) {
    let mut end = offset.min(input.len());
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    let before = &input.as_bytes()[..end];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = input[line_start..end].chars().count() as u32 + 1;
    (line, column)
}

/// A quick-xml reader error, in Dutch.
pub fn reader_error(e: &Error) -> String {
    match e {
        Error::Io(_) => "het bericht kon niet worden gelezen".into(),
        Error::Syntax(s) => syntax(s).into(),
        Error::IllFormed(i) => ill_formed(i).into(),
        Error::InvalidAttr(a) => attr_error(a).into(),
        Error::Encoding(_) => "het bericht is geen geldige UTF-8".into(),
        Error::Escape(x) => escape_error(x),
        Error::Namespace(_) => "ongeldige namespace-declaratie".into(),
    }
}

fn syntax(s: &SyntaxError) -> &'static str {
    match s {
        SyntaxError::InvalidBangMarkup => {
            "onbekende opmaak na '<!' (verwacht: commentaar '<!--' of CDATA '<![CDATA[')"
        }
        SyntaxError::UnclosedPI => "verwerkingsinstructie niet afgesloten: '?>' ontbreekt",
        SyntaxError::UnclosedXmlDecl => "XML-declaratie niet afgesloten: '?>' ontbreekt",
        SyntaxError::UnclosedComment => "commentaar niet afgesloten: '-->' ontbreekt",
        SyntaxError::UnclosedDoctype => "DOCTYPE niet afgesloten: '>' ontbreekt",
        SyntaxError::UnclosedCData => "CDATA-sectie niet afgesloten: ']]>' ontbreekt",
        SyntaxError::UnclosedTag => "tag niet afgesloten: '>' ontbreekt voor het einde",
        SyntaxError::UnclosedSingleQuotedAttributeValue => {
            "attribuutwaarde niet afgesloten: afsluitend ' ontbreekt"
        }
        SyntaxError::UnclosedDoubleQuotedAttributeValue => {
            "attribuutwaarde niet afgesloten: afsluitend \" ontbreekt"
        }
    }
}

fn ill_formed(i: &IllFormedError) -> &'static str {
    match i {
        IllFormedError::MissingDeclVersion(_) => {
            "de XML-declaratie moet beginnen met version=\"1.0\""
        }
        IllFormedError::UnknownVersion => "onbekende XML-versie (alleen 1.0 of 1.1)",
        IllFormedError::MissingDoctypeName => "DOCTYPE zonder naam",
        IllFormedError::MissingEndTag(_) => {
            "onverwacht einde van het bestand: een element is niet gesloten"
        }
        IllFormedError::UnmatchedEndTag(_) => "sluittag zonder bijbehorende begintag",
        IllFormedError::MismatchedEndTag { .. } => {
            "sluittag past niet bij de openstaande begintag (andere naam)"
        }
        IllFormedError::DoubleHyphenInComment => "'--' is niet toegestaan in commentaar",
        IllFormedError::UnclosedReference => "entiteit- of tekenreferentie niet afgesloten met ';'",
    }
}

/// An attribute that cannot be read, in Dutch.
pub fn attr_error(a: &AttrError) -> &'static str {
    match a {
        AttrError::ExpectedEq(_) => "ongeldig attribuut: '=' verwacht na de naam",
        AttrError::ExpectedValue(_) => "ongeldig attribuut: waarde ontbreekt",
        AttrError::UnquotedValue(_) => {
            "ongeldig attribuut: waarde staat niet tussen aanhalingstekens"
        }
        AttrError::ExpectedQuote(..) => "ongeldig attribuut: afsluitend aanhalingsteken ontbreekt",
        AttrError::Duplicated(..) => "attribuut komt twee keer voor in dezelfde tag",
    }
}

/// An entity or character reference that cannot be resolved, in Dutch.
pub fn escape_error(x: &EscapeError) -> String {
    match x {
        EscapeError::UnrecognizedEntity(..) => unknown_entity().into(),
        EscapeError::UnterminatedEntity(_) => "'&' zonder afsluitende ';'".into(),
        EscapeError::InvalidCharRef(c) => match c {
            ParseCharRefError::UnexpectedSign => {
                "ongeldige tekenreferentie (teken + of - niet toegestaan)".into()
            }
            ParseCharRefError::InvalidNumber(_) => {
                "ongeldige tekenreferentie (geen geldig getal)".into()
            }
            ParseCharRefError::InvalidCodepoint(_) | ParseCharRefError::IllegalCharacter(_) => {
                invalid_char_ref().into()
            }
        },
        EscapeError::TooManyNestedEntities => "te diep geneste entiteiten".into(),
    }
}

pub fn unknown_entity() -> &'static str {
    "onbekende entiteit (alleen &lt; &gt; &amp; &apos; &quot; en tekenreferenties zijn toegestaan)"
}

pub fn invalid_char_ref() -> &'static str {
    "tekenreferentie naar een teken dat in XML 1.0 niet is toegestaan"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(position("ab\ncdé\nx", 0), (1, 1));
        assert_eq!(position("ab\ncdé\nx", 3), (2, 1));
        // é is two bytes; the column counts characters.
        assert_eq!(position("ab\ncdé\nx", 7), (2, 4));
        assert_eq!(position("ab\ncdé\nx", 6), (2, 3));
        assert_eq!(position("ab", 99), (1, 3));
    }

    #[test]
    fn reader_errors_are_dutch_and_echo_nothing() {
        let input = "<a><999990019X></a>";
        let mut r = quick_xml::Reader::from_str(input);
        r.config_mut().check_end_names = true;
        let e = loop {
            match r.read_event() {
                Err(e) => break e,
                Ok(quick_xml::events::Event::Eof) => panic!("no error"),
                Ok(_) => {}
            }
        };
        let t = reader_error(&e);
        assert!(!t.contains("999990019"), "{t}");
        assert!(!t.contains("expected") && !t.contains("found"), "{t}");
    }
}
