//! Intake guards: everything that is decided about a message before it is parsed.
//!
//! Size cap (the GGk limit of 25 MB by default), UTF-8 only (a declared other encoding and
//! invalid bytes are refused), a leading BOM tolerated but reported, no DOCTYPE (so no entity
//! expansion of any kind), characters XML 1.0 forbids refused, and the root namespace sniffed to
//! tell the message kind and release.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::namespaces::{classify, NsVerdict};
use super::MessageKind;

/// Default size cap: the GGk hub refuses messages over 25 MB (IB003).
pub const DEFAULT_MAX_BYTES: usize = 25 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("bestand is leeg")]
    Empty,
    #[error("bericht is te groot: {size} bytes, maximaal {limit} bytes toegestaan")]
    TooLarge { size: usize, limit: usize },
    #[error("bericht is geen geldige UTF-8 (ongeldige byte op positie {offset})")]
    InvalidUtf8 { offset: usize },
    #[error("bericht declareert tekenset '{declared}'; iWmo-berichten moeten UTF-8 zijn")]
    Encoding { declared: String },
    #[error("bericht bevat een DOCTYPE-declaratie; die is in iWmo-berichten niet toegestaan")]
    Doctype,
    #[error("bericht is geen goedgevormde XML: regel {line}: {message}")]
    NotWellFormed { line: u32, message: String },
    #[error("iWmo-release {release} wordt niet ondersteund (alleen iWmo 3.2)")]
    UnsupportedRelease { release: String },
    #[error("standaard {standard} {release} wordt niet ondersteund: dit is geen iWmo-bericht")]
    UnsupportedStandard { standard: String, release: String },
    #[error("geen iWmo-bericht: namespace van het hoofdelement is '{namespace}'")]
    NotIwmo { namespace: String },
}

impl IntakeError {
    /// Stable machine name of the error kind (used in JSON output and fixtures).
    pub fn kind(&self) -> &'static str {
        match self {
            IntakeError::Empty => "empty",
            IntakeError::TooLarge { .. } => "too-large",
            IntakeError::InvalidUtf8 { .. } => "utf8",
            IntakeError::Encoding { .. } => "encoding",
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
            namespace: String::new(),
        });
    };
    match classify(uri) {
        NsVerdict::Iwmo32(n) => MessageKind::from_number(n).ok_or(IntakeError::NotIwmo {
            namespace: uri.to_string(),
        }),
        NsVerdict::OtherIwmoRelease { release } => Err(IntakeError::UnsupportedRelease { release }),
        NsVerdict::OtherStandard { standard, release } => Err(IntakeError::UnsupportedStandard {
            standard: display_standard(&standard),
            release,
        }),
        NsVerdict::Foreign => Err(IntakeError::NotIwmo {
            namespace: uri.to_string(),
        }),
    }
}

/// `ijw` → `iJw`, `iwlz` → `iWlz`: the names people know the iStandaarden by.
fn display_standard(s: &str) -> String {
    match s {
        "ijw" => "iJw".into(),
        "iwlz" => "iWlz".into(),
        "ipgb" => "iPgb".into(),
        other => other.to_string(),
    }
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
    // UTF-16 BOMs and other encodings declared in the prolog.
    if body.starts_with(b"\xFF\xFE") || body.starts_with(b"\xFE\xFF") {
        return Err(IntakeError::Encoding {
            declared: "UTF-16".into(),
        });
    }
    if let Some(declared) = declared_encoding(body) {
        if !declared.eq_ignore_ascii_case("UTF-8") {
            return Err(IntakeError::Encoding { declared });
        }
    }
    let text = std::str::from_utf8(body).map_err(|e| IntakeError::InvalidUtf8 {
        offset: e.valid_up_to() + usize::from(had_bom) * 3,
    })?;
    if let Some(pos) = forbidden_control(text.as_bytes()) {
        return Err(IntakeError::NotWellFormed {
            line: line_of(text, pos),
            message: format!("verboden stuurteken U+{:04X}", text.as_bytes()[pos]),
        });
    }
    if contains_doctype(text) {
        return Err(IntakeError::Doctype);
    }
    Ok(Guarded { text, had_bom })
}

fn line_of(text: &str, pos: usize) -> u32 {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
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
        let ev = reader
            .read_event()
            .map_err(|e| IntakeError::NotWellFormed {
                line: line_of(text, reader.error_position() as usize),
                message: e.to_string(),
            })?;
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name();
                let prefix = name.prefix().map(|p| p.as_ref().to_string());
                let wanted = match &prefix {
                    Some(p) => format!("xmlns:{p}"),
                    None => "xmlns".to_string(),
                };
                let mut uri = None;
                for a in e.attributes() {
                    let a = a.map_err(|err| IntakeError::NotWellFormed {
                        line: line_of(text, pos),
                        message: err.to_string(),
                    })?;
                    if a.key.as_ref() == wanted.as_str() {
                        uri = Some(
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map(|v| v.into_owned())
                                .unwrap_or_default(),
                        );
                    }
                }
                if uri.is_none() {
                    if let Some(p) = prefix {
                        return Err(IntakeError::NotWellFormed {
                            line: line_of(text, pos),
                            message: format!("namespace-prefix '{p}' is niet gedeclareerd"),
                        });
                    }
                }
                return kind_of_namespace(uri.as_deref());
            }
            Event::DocType(_) => return Err(IntakeError::Doctype),
            Event::Eof => {
                return Err(IntakeError::NotWellFormed {
                    line: line_of(text, text.len()),
                    message: "geen hoofdelement gevonden".into(),
                })
            }
            Event::Text(t) if !t.bytes().all(|b| b.is_ascii_whitespace()) => {
                return Err(IntakeError::NotWellFormed {
                    line: line_of(text, pos),
                    message: "tekst voor het hoofdelement".into(),
                });
            }
            _ => {}
        }
    }
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
    fn doctype_after_comment() {
        assert!(contains_doctype(
            "<?xml version=\"1.0\"?><!-- x --><!DOCTYPE a [<!ENTITY x 'y'>]><a/>"
        ));
        assert!(!contains_doctype("<a><![CDATA[<!DOCTYPE]]></a>"));
    }
}
