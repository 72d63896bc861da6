//! Namespace URIs of iWmo (and of neighbouring standards that must be recognised and refused).

pub const BASIS_NS: &str = "http://www.istandaarden.nl/iwmo/3_2/basisschema/schema";
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// `http://www.istandaarden.nl/iwmo/3_2/wmoNNN/schema`.
pub fn message_ns(number: u16) -> String {
    format!("http://www.istandaarden.nl/iwmo/3_2/wmo{number}/schema")
}

/// The same as a static string, for the 14 iWmo 3.2 messages.
pub fn message_ns_static(number: u16) -> Option<&'static str> {
    macro_rules! ns {
        ($($n:literal),*) => {
            match number {
                $($n => Some(concat!("http://www.istandaarden.nl/iwmo/3_2/wmo", $n, "/schema")),)*
                _ => None,
            }
        };
    }
    ns!(301, 302, 305, 306, 307, 308, 315, 316, 317, 318, 319, 320, 323, 325)
}

/// What a root namespace URI says about the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NsVerdict {
    /// iWmo 3.2 message WMOnnn.
    Iwmo32(u16),
    /// An iWmo message of another release (e.g. "3.1"), or an iWmo namespace we do not know.
    OtherIwmoRelease { release: String },
    /// Another iStandaard (iJw, iWlz, …).
    OtherStandard { standard: String, release: String },
    /// Not an iStandaarden namespace at all.
    Foreign,
}

pub fn classify(uri: &str) -> NsVerdict {
    let Some(rest) = uri.strip_prefix("http://www.istandaarden.nl/") else {
        return NsVerdict::Foreign;
    };
    let mut parts = rest.split('/');
    let (Some(std), Some(rel)) = (parts.next(), parts.next()) else {
        return NsVerdict::Foreign;
    };
    let release = rel.replace('_', ".");
    let msg = parts.next().unwrap_or("");
    let tail = parts.next();
    if std != "iwmo" {
        return NsVerdict::OtherStandard {
            standard: std.to_string(),
            release,
        };
    }
    if rel != "3_2" {
        return NsVerdict::OtherIwmoRelease { release };
    }
    if tail != Some("schema") || parts.next().is_some() {
        return NsVerdict::Foreign;
    }
    match msg.strip_prefix("wmo").and_then(|n| n.parse::<u16>().ok()) {
        Some(n) if crate::message::schema::schema_for(n).is_some() && msg.len() == 6 => {
            NsVerdict::Iwmo32(n)
        }
        _ => NsVerdict::Foreign,
    }
}
