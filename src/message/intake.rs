//! Intake guards: everything that is decided about a message before it is parsed.
//!
//! Size cap (the GGk limit of 25 MB by default), UTF-8 only (a declared other encoding and
//! invalid bytes are refused), a leading BOM tolerated but reported, no DOCTYPE (so no entity
//! expansion of any kind), characters XML 1.0 forbids refused, and the root namespace sniffed to
//! tell the message kind and release.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::namespaces::{classify, NsVerdict};
use super::wellformed::{attr_error, position, reader_error};
use super::MessageKind;

/// Default size cap: 25 MB per file (OP179); the GGk hub refuses larger with IB007 (its error
/// list; the shared reference says IB003).
pub const DEFAULT_MAX_BYTES: usize = 25 * 1024 * 1024;

/// Why a message is refused before parsing. No variant carries content of the message: names of
/// encodings, standards and releases are shown only when they are known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("bestand is leeg")]
    Empty,
    #[error("bericht is te groot: {size} bytes, maximaal {limit} bytes toegestaan")]
    TooLarge { size: usize, limit: usize },
    #[error("bericht is geen geldige UTF-8 (ongeldige byte op positie {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("{}", declared_text(*.declared))]
    Encoding { declared: Option<&'static str> },
    #[error("tekenset {name} ({}); iWmo-berichten moeten UTF-8 zijn", if *.bom { "met BOM" } else { "zonder BOM" })]
    Charset { name: &'static str, bom: bool },
    #[error("bericht bevat een DOCTYPE-declaratie; die is in iWmo-berichten niet toegestaan")]
    Doctype,
    #[error("bericht is geen goedgevormde XML: regel {line}, kolom {column}: {message}")]
    NotWellFormed {
        line: u32,
        column: u32,
        message: String,
    },
    #[error("iWmo-release {release} wordt niet ondersteund (alleen iWmo 3.2)")]
    UnsupportedRelease { release: &'static str },
    #[error("standaard {standard} {release} wordt niet ondersteund: dit is geen iWmo-bericht")]
    UnsupportedStandard {
        standard: &'static str,
        release: &'static str,
    },
    #[error("{}", not_iwmo_text(*.has_namespace))]
    NotIwmo { has_namespace: bool },
}

fn declared_text(declared: Option<&str>) -> String {
    match declared {
        Some(name) => {
            format!("bericht declareert tekenset '{name}'; iWmo-berichten moeten UTF-8 zijn")
        }
        None => {
            "bericht declareert een andere tekenset dan UTF-8; iWmo-berichten moeten UTF-8 zijn"
                .into()
        }
    }
}

fn not_iwmo_text(has_namespace: bool) -> &'static str {
    if has_namespace {
        "geen iWmo-bericht: de namespace van het hoofdelement is geen iWmo 3.2-berichtnamespace \
         (verwacht: http://www.istandaarden.nl/iwmo/3_2/wmoNNN/schema)"
    } else {
        "geen iWmo-bericht: het hoofdelement heeft geen namespace \
         (verwacht: http://www.istandaarden.nl/iwmo/3_2/wmoNNN/schema)"
    }
}

impl IntakeError {
    /// Stable machine name of the error kind (used in JSON output and fixtures).
    pub fn kind(&self) -> &'static str {
        match self {
            IntakeError::Empty => "empty",
            IntakeError::TooLarge { .. } => "too-large",
            IntakeError::InvalidUtf8 { .. } => "utf8",
            IntakeError::Encoding { .. } | IntakeError::Charset { .. } => "encoding",
            IntakeError::Doctype => "doctype",
            IntakeError::NotWellFormed { .. } => "not-well-formed",
            IntakeError::UnsupportedRelease { .. } => "unsupported-release",
            IntakeError::UnsupportedStandard { .. } => "unsupported-standard",
            IntakeError::NotIwmo { .. } => "not-iwmo",
        }
    }
}

/// A message that passed the intake guards.
#[derive(Debug, Clone, Copy)]
pub struct Accepted<'a> {
    /// The XML text, without a leading BOM.
    pub text: &'a str,
    pub kind: MessageKind,
    /// A UTF-8 BOM was present (tolerated, but OP192 says files have none).
    pub had_bom: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bytes that passed the guards, before the root namespace is known.
#[derive(Debug, Clone, Copy)]
pub struct Guarded<'a> {
    /// The XML text, without a leading BOM.
    pub text: &'a str,
    pub had_bom: bool,
}

/// Runs the guards over raw bytes and sniffs the root namespace.
pub fn accept(bytes: &[u8], max_bytes: usize) -> Result<Accepted<'_>, IntakeError> {
    let g = guard(bytes, max_bytes)?;
    let kind = sniff(g.text)?;
    Ok(Accepted {
        text: g.text,
        kind,
        had_bom: g.had_bom,
    })
}

/// Maps the root namespace URI to a message kind, or says why it is refused.
pub fn kind_of_namespace(uri: Option<&str>) -> Result<MessageKind, IntakeError> {
    let Some(uri) = uri else {
        return Err(IntakeError::NotIwmo {
            has_namespace: false,
        });
    };
    let foreign = IntakeError::NotIwmo {
        has_namespace: true,
    };
    match classify(uri) {
        NsVerdict::Iwmo32(n) => MessageKind::from_number(n).ok_or(foreign),
        NsVerdict::OtherIwmoRelease { release } => Err(IntakeError::UnsupportedRelease {
            release: known_release(&release),
        }),
        NsVerdict::OtherStandard { standard, release } => Err(IntakeError::UnsupportedStandard {
            standard: display_standard(&standard),
            release: known_release(&release),
        }),
        NsVerdict::Foreign => Err(foreign),
    }
}

/// `ijw` → `iJw`, `iwlz` → `iWlz`: the names people know the iStandaarden by; any other
/// name is content of the message and is not shown.
fn display_standard(s: &str) -> &'static str {
    const KNOWN: &[(&str, &str)] = &[
        ("ijw", "iJw"),
        ("iwlz", "iWlz"),
        ("ipgb", "iPgb"),
        ("iwmo", "iWmo"),
        ("ijz", "iJz"),
    ];
    KNOWN
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(s))
        .map_or("(onbekende iStandaard)", |(_, v)| v)
}

/// A release such as "3.1" as the namespace has it, when it is one of the releases of the
/// iStandaarden; otherwise not shown.
fn known_release(r: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "1.0", "1.1", "1.2", "2.0", "2.1", "2.2", "2.3", "2.4", "3.0", "3.1", "3.2", "3.3", "4.0",
        "4.1",
    ];
    KNOWN
        .iter()
        .find(|k| **k == r)
        .map_or("(onbekende release)", |k| k)
}

/// The names of encodings a declaration may be echoed with; any other value is not shown.
fn known_encoding(declared: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "UTF-16",
        "UTF-16LE",
        "UTF-16BE",
        "UTF-32",
        "ISO-8859-1",
        "ISO-8859-15",
        "Latin1",
        "windows-1252",
        "cp1252",
        "US-ASCII",
        "ASCII",
        "UTF-7",
        "EBCDIC",
    ];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(declared))
        .copied()
}

/// UTF-16 or UTF-32, told by a BOM or (without one) by the NUL bytes around the first `<`.
fn wide_charset(body: &[u8]) -> Option<IntakeError> {
    let b: [u8; 4] = std::array::from_fn(|i| body.get(i).copied().unwrap_or(0xAA));
    let (name, bom) = match b {
        [0xFF, 0xFE, 0, 0] => ("UTF-32", true),
        [0, 0, 0xFE, 0xFF] => ("UTF-32", true),
        [0xFF, 0xFE, _, _] | [0xFE, 0xFF, _, _] => ("UTF-16", true),
        [0, 0, 0, x] | [x, 0, 0, 0] if x != 0 => ("UTF-32", false),
        [0, x, 0, _] | [x, 0, _, 0] if x != 0 => ("UTF-16", false),
        _ => return None,
    };
    Some(IntakeError::Charset { name, bom })
}

/// The guards alone (size, BOM, encoding, UTF-8, forbidden characters, DOCTYPE).
pub fn guard(bytes: &[u8], max_bytes: usize) -> Result<Guarded<'_>, IntakeError> {
    if bytes.len() > max_bytes {
        return Err(IntakeError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    let (body, had_bom) = match bytes.strip_prefix(BOM) {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IntakeError::Empty);
    }
    // UTF-16/UTF-32 (with or without a BOM) and other encodings declared in the prolog.
    if let Some(e) = wide_charset(body) {
        return Err(e);
    }
    if let Some(declared) = declared_encoding(body) {
        if !declared.eq_ignore_ascii_case("UTF-8") {
            return Err(IntakeError::Encoding {
                declared: known_encoding(&declared),
            });
        }
    }
    let text = std::str::from_utf8(body).map_err(|e| IntakeError::InvalidUtf8 {
        offset: e.valid_up_to() + usize::from(had_bom) * 3,
    })?;
    if let Some(pos) = forbidden_control(text.as_bytes()) {
        return Err(not_well_formed(
            text,
            pos,
            format!(
                "verboden stuurteken U+{:04X} (XML 1.0 staat alleen tab, LF en CR toe)",
                text.as_bytes()[pos]
            ),
        ));
    }
    if contains_doctype(text) {
        return Err(IntakeError::Doctype);
    }
    Ok(Guarded { text, had_bom })
}

/// A not-well-formed error at byte `pos` of `text`.
pub fn not_well_formed(text: &str, pos: usize, message: impl Into<String>) -> IntakeError {
    let (line, column) = position(text, pos);
    IntakeError::NotWellFormed {
        line,
        column,
        message: message.into(),
    }
}

/// `encoding="…"` of the XML declaration, if any (looked up without assuming UTF-8).
fn declared_encoding(body: &[u8]) -> Option<String> {
    if !body.starts_with(b"<?xml") {
        return None;
    }
    let end = body.windows(2).position(|w| w == b"?>")?;
    let decl = String::from_utf8_lossy(&body[..end]);
    let i = decl.find("encoding")?;
    let rest = decl[i + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let val = &rest[1..];
    let close = val.find(quote)?;
    Some(val[..close].to_string())
}

/// Position of the first character XML 1.0 forbids (C0 controls other than tab, LF, CR).
/// Written branch-free so that it vectorises: this runs over every byte of every message.
fn forbidden_control(b: &[u8]) -> Option<usize> {
    let bad = |c: u8| (c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r');
    let any = b
        .chunks(64)
        .any(|chunk| chunk.iter().fold(false, |acc, &c| acc | bad(c)));
    if any {
        b.iter().position(|&c| bad(c))
    } else {
        None
    }
}

/// A DOCTYPE in the prolog. Only the prolog is scanned: it ends at the first `<` that starts
/// neither a declaration/PI (`<?`) nor a comment or DOCTYPE (`<!`).
fn contains_doctype(text: &str) -> bool {
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        if let Some(pi) = after.strip_prefix('?') {
            match pi.find("?>") {
                Some(j) => rest = &pi[j + 2..],
                None => return false,
            }
        } else if let Some(comment) = after.strip_prefix("!--") {
            match comment.find("-->") {
                Some(j) => rest = &comment[j + 3..],
                None => return false,
            }
        } else if let Some(decl) = after.strip_prefix('!') {
            return decl.len() >= 7 && decl[..7].eq_ignore_ascii_case("DOCTYPE");
        } else {
            // The root element: past the prolog.
            return false;
        }
    }
    false
}

/// Reads up to the root start tag and classifies its namespace.
pub fn sniff(text: &str) -> Result<MessageKind, IntakeError> {
    let mut reader = Reader::from_str(text);
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader.read_event().map_err(|e| {
            not_well_formed(text, reader.error_position() as usize, reader_error(&e))
        })?;
        match ev {
            Event::Start(e) | Event::Empty(e) => return root_kind(text, pos, &e),
            Event::DocType(_) => return Err(IntakeError::Doctype),
            Event::Eof => {
                return Err(not_well_formed(
                    text,
                    text.len(),
                    "geen hoofdelement gevonden",
                ))
            }
            Event::Text(t) if !t.bytes().all(|b| b.is_ascii_whitespace()) => {
                return Err(not_well_formed(text, pos, "tekst voor het hoofdelement"));
            }
            _ => {}
        }
    }
}

/// The kind of message the root start tag `e` (at byte `pos`) names by its namespace.
fn root_kind(text: &str, pos: usize, e: &BytesStart<'_>) -> Result<MessageKind, IntakeError> {
    let name = e.name();
    let prefix = name.prefix().map(|p| p.as_ref().to_string());
    let wanted = match &prefix {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".to_string(),
    };
    let mut uri = None;
    for a in e.attributes() {
        let a = a.map_err(|err| not_well_formed(text, pos, attr_error(&err)))?;
        if a.key.as_ref() == wanted.as_str() {
            uri = Some(
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    if uri.is_none() && prefix.is_some() {
        return Err(not_well_formed(
            text,
            pos,
            "de namespace-prefix van het hoofdelement is niet gedeclareerd",
        ));
    }
    kind_of_namespace(uri.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_declaration() {
        assert_eq!(
            declared_encoding(b"<?xml version=\"1.0\" encoding='ISO-8859-1'?><a/>"),
            Some("ISO-8859-1".into())
        );
        assert_eq!(declared_encoding(b"<a/>"), None);
    }

    #[test]
    fn utf16_and_utf32_without_bom_are_named() {
        let le: Vec<u8> = "<a/>".bytes().flat_map(|b| [b, 0]).collect();
        let be: Vec<u8> = "<a/>".bytes().flat_map(|b| [0, b]).collect();
        let le32: Vec<u8> = "<a/>".bytes().flat_map(|b| [b, 0, 0, 0]).collect();
        for (bytes, name) in [(le, "UTF-16"), (be, "UTF-16"), (le32, "UTF-32")] {
            let e = guard(&bytes, 1000).unwrap_err();
            assert_eq!(e, IntakeError::Charset { name, bom: false });
            assert_eq!(
                e.to_string(),
                format!("tekenset {name} (zonder BOM); iWmo-berichten moeten UTF-8 zijn")
            );
        }
        assert!(guard(b"<a/>", 1000).is_ok());
    }

    #[test]
    fn unknown_names_in_the_namespace_are_not_shown() {
        let e = kind_of_namespace(Some("http://www.istandaarden.nl/Jansen/999_99/x")).unwrap_err();
        let t = e.to_string();
        assert!(!t.contains("Jansen") && !t.contains("999"), "{t}");
        let e = kind_of_namespace(Some("http://www.istandaarden.nl/ijw/3_1/jw305/schema"));
        assert_eq!(
            e.unwrap_err().to_string(),
            "standaard iJw 3.1 wordt niet ondersteund: dit is geen iWmo-bericht"
        );
    }

    #[test]
    fn doctype_after_comment() {
        assert!(contains_doctype(
            "<?xml version=\"1.0\"?><!-- x --><!DOCTYPE a [<!ENTITY x 'y'>]><a/>"
        ));
        assert!(!contains_doctype("<a><![CDATA[<!DOCTYPE]]></a>"));
    }
}
