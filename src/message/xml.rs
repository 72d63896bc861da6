//! Reading typed values out of a validated [`Doc`], and writing iWmo XML.

use chrono::{NaiveDate, NaiveTime};

use super::schema::{Doc, NodeId};
use crate::domain::*;

/// A value in a level-1-valid document could not be turned into its domain type. Only happens
/// for values the XSD allows but the domain does not represent (e.g. a date before year 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{path}: {message}")]
pub struct ConvertError {
    pub path: String,
    pub message: String,
}

/// An element of a validated document.
#[derive(Clone, Copy)]
pub struct El<'d, 'a> {
    pub doc: &'d Doc<'a>,
    pub id: NodeId,
}

impl<'d, 'a> El<'d, 'a> {
    pub fn root(doc: &'d Doc<'a>) -> Self {
        El {
            doc,
            id: doc.root(),
        }
    }
    pub fn err(&self, message: impl Into<String>) -> ConvertError {
        ConvertError {
            path: self.doc.path(self.id),
            message: message.into(),
        }
    }
    pub fn text(&self) -> &'d str {
        self.doc.text(self.id)
    }
    pub fn opt(&self, name: &str) -> Option<El<'d, 'a>> {
        self.doc
            .child(self.id, name)
            .map(|id| El { doc: self.doc, id })
    }
    pub fn req(&self, name: &str) -> Result<El<'d, 'a>, ConvertError> {
        self.opt(name)
            .ok_or_else(|| self.err(format!("element '{name}' ontbreekt")))
    }
    pub fn all(&self, name: &'static str) -> impl Iterator<Item = El<'d, 'a>> + 'd {
        let doc = self.doc;
        doc.children(self.id)
            .filter(move |&c| doc.name(c) == name)
            .map(move |id| El { doc, id })
    }
    /// Parse this element's text with a domain constructor.
    pub fn val<T>(
        &self,
        f: impl FnOnce(&str) -> Result<T, DomainError>,
    ) -> Result<T, ConvertError> {
        f(self.text()).map_err(|e| self.err(e.to_string()))
    }
    pub fn get<T>(
        &self,
        name: &str,
        f: impl FnOnce(&str) -> Result<T, DomainError>,
    ) -> Result<T, ConvertError> {
        self.req(name)?.val(f)
    }
    pub fn get_opt<T>(
        &self,
        name: &str,
        f: impl FnOnce(&str) -> Result<T, DomainError>,
    ) -> Result<Option<T>, ConvertError> {
        self.opt(name).map(|e| e.val(f)).transpose()
    }
    pub fn string(&self, name: &str) -> Result<String, ConvertError> {
        Ok(self.req(name)?.text().to_string())
    }
    pub fn string_opt(&self, name: &str) -> Option<String> {
        self.opt(name).map(|e| e.text().to_string())
    }
}

fn collapse(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

pub fn date(s: &str) -> Result<NaiveDate, DomainError> {
    let s = collapse(s);
    let b = s.as_bytes();
    // Fast path for the only form seen in practice: YYYY-MM-DD.
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) {
            if let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                return Ok(date);
            }
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| DomainError::new("Datum", "geen geldige datum JJJJ-MM-DD"))
}

pub fn time(s: &str) -> Result<NaiveTime, DomainError> {
    let s = collapse(s);
    NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .map_err(|_| DomainError::new("Tijd", "geen geldige tijd uu:mm:ss"))
}

pub fn integer(s: &str) -> Result<u64, DomainError> {
    match super::schema::facets::parse_integer(collapse(s)) {
        Some(n) if n >= 0 && n <= i128::from(u64::MAX) => Ok(n as u64),
        _ => Err(DomainError::new(
            "Getal",
            "geen geldig niet-negatief geheel getal",
        )),
    }
}

pub fn nummer(s: &str) -> Result<Nummer, DomainError> {
    Nummer::new(integer(s)?)
}
pub fn bedrag(s: &str) -> Result<Bedrag, DomainError> {
    Bedrag::new(integer(s)?)
}
pub fn totaal(s: &str) -> Result<TotaalBedrag, DomainError> {
    TotaalBedrag::new(integer(s)?)
}
pub fn volume(s: &str) -> Result<Volume, DomainError> {
    Volume::new(integer(s)?)
}
pub fn small(s: &str) -> Result<u32, DomainError> {
    let n = integer(s)?;
    u32::try_from(n).map_err(|_| DomainError::new("Getal", "te groot"))
}

/// Writes indented iWmo XML: message elements with prefix `wmoNNN`, basisschema ones with `iwmo`.
pub struct XmlOut {
    buf: String,
    prefix: String,
    depth: usize,
    /// No indentation and no line ends between elements (see [`XmlOut::compact`]).
    compact: bool,
}

impl XmlOut {
    pub fn new(number: u16) -> XmlOut {
        let mut buf = String::with_capacity(4096);
        buf.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let prefix = format!("wmo{number}");
        buf.push_str(&format!(
            "<{prefix}:Bericht xmlns:iwmo=\"{}\" xmlns:{prefix}=\"{}\">\n",
            super::namespaces::BASIS_NS,
            super::namespaces::message_ns(number)
        ));
        XmlOut {
            buf,
            prefix,
            depth: 1,
            compact: false,
        }
    }

    /// The same elements without indentation or line ends between them: the smallest form of a
    /// message (used for an answer that would otherwise exceed the hubs' size limit). Its only
    /// line ends, after the XML declaration and at the end, are CR/LF (OP192).
    pub fn compact(number: u16) -> XmlOut {
        let mut w = XmlOut::new(number);
        w.compact = true;
        w.buf = w.buf.replacen("?>\n", "?>\r\n", 1);
        if w.buf.ends_with(">\n") {
            w.buf.pop();
        }
        w
    }

    /// The line end after an element.
    fn newline(&mut self) {
        if !self.compact {
            self.buf.push('\n');
        }
    }

    fn indent(&mut self) {
        if self.compact {
            return;
        }
        for _ in 0..self.depth {
            self.buf.push_str("  ");
        }
    }

    /// Opens a message-namespace element.
    pub fn open(&mut self, name: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(&self.prefix);
        self.buf.push(':');
        self.buf.push_str(name);
        self.buf.push('>');
        self.newline();
        self.depth += 1;
    }
    pub fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.buf.push_str("</");
        self.buf.push_str(&self.prefix);
        self.buf.push(':');
        self.buf.push_str(name);
        self.buf.push('>');
        self.newline();
    }
    /// Opens a basisschema-namespace element.
    pub fn bopen(&mut self, name: &str) {
        self.indent();
        self.buf.push_str("<iwmo:");
        self.buf.push_str(name);
        self.buf.push('>');
        self.newline();
        self.depth += 1;
    }
    pub fn bclose(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.buf.push_str("</iwmo:");
        self.buf.push_str(name);
        self.buf.push('>');
        self.newline();
    }
    fn leaf_with(&mut self, prefix: &str, name: &str, value: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(prefix);
        self.buf.push(':');
        self.buf.push_str(name);
        self.buf.push('>');
        escape_into(&mut self.buf, value);
        self.buf.push_str("</");
        self.buf.push_str(prefix);
        self.buf.push(':');
        self.buf.push_str(name);
        self.buf.push('>');
        self.newline();
    }
    /// A message-namespace element with text.
    pub fn leaf(&mut self, name: &str, value: impl std::fmt::Display) {
        let prefix = self.prefix.clone();
        self.leaf_with(&prefix, name, &value.to_string());
    }
    pub fn leaf_opt<T: std::fmt::Display>(&mut self, name: &str, value: &Option<T>) {
        if let Some(v) = value {
            self.leaf(name, v);
        }
    }
    /// A basisschema-namespace element with text.
    pub fn bleaf(&mut self, name: &str, value: impl std::fmt::Display) {
        self.leaf_with("iwmo", name, &value.to_string());
    }
    pub fn bleaf_opt<T: std::fmt::Display>(&mut self, name: &str, value: &Option<T>) {
        if let Some(v) = value {
            self.bleaf(name, v);
        }
    }
    pub fn finish(mut self) -> String {
        self.buf.push_str(&format!("</{}:Bericht>", self.prefix));
        self.buf.push_str(if self.compact { "\r\n" } else { "\n" });
        self.buf
    }
}

fn escape_into(buf: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => buf.push_str("&amp;"),
            '<' => buf.push_str("&lt;"),
            '>' => buf.push_str("&gt;"),
            '\r' => buf.push_str("&#13;"),
            _ => buf.push(c),
        }
    }
}

/// Dates in messages: `YYYY-MM-DD`.
pub fn fmt_date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn fmt_time(t: &NaiveTime) -> String {
    t.format("%H:%M:%S%.f").to_string()
}
