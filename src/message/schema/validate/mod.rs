//! Streaming XSD validation against the generated tables.
//!
//! One pass over the quick-xml token stream: namespaces are resolved by hand (prefix stack),
//! every element is matched against the sequence of its parent's complex type, every simple value
//! is checked against its facets, and a flat tree of the document is built on the way (text
//! borrowed from the input where possible). Errors carry the element path the way the iWmo XSLT
//! prints it (`/Bericht/Client/StartProducten/StartProduct[2]/Begindatum`) and a Dutch text.

mod close;
mod ctx;
mod doc;
mod open;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::model::MessageSchema;
use close::Chars;
use ctx::{Ctx, Frame};
pub use doc::{Children, Doc, Node, NodeId};

/// Deepest nesting any iWmo 3.2 message needs is 7; anything far deeper is hostile.
pub const MAX_DEPTH: usize = 32;
/// Stop collecting after this many structure errors.
pub const MAX_ERRORS: usize = 50;

/// A level-1 (XSD) error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StructureError {
    /// Element path, e.g. `/Bericht/Client/StartProducten/StartProduct[2]/Begindatum`.
    pub path: String,
    pub line: u32,
    /// What is wrong, in Dutch; never contains personal data.
    pub message: String,
}

/// The input is not well-formed XML (or uses XML features iWmo does not allow). The message is
/// Dutch and never contains content of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("regel {line}, kolom {column}: {message}")]
pub struct NotWellFormed {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

/// The structure errors of a document: at most [`MAX_ERRORS`], and whether there were more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StructureErrors {
    pub list: Vec<StructureError>,
    /// More errors were found than are listed.
    pub truncated: bool,
}

/// Why validation could not even start checking structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidateError<E> {
    NotWellFormed(NotWellFormed),
    /// The root element's namespace was refused by the caller.
    Root(E),
}

impl<E> From<NotWellFormed> for ValidateError<E> {
    fn from(e: NotWellFormed) -> Self {
        ValidateError::NotWellFormed(e)
    }
}

/// Validates `input` (a whole iWmo message, UTF-8, no DOCTYPE) against `schema`, whose namespace
/// is `message_ns`. Returns the tree and the structure errors (empty when valid), or an error
/// when the input is not well-formed XML.
pub fn validate<'a>(
    input: &'a str,
    schema: &'static MessageSchema,
    message_ns: &'static str,
) -> Result<(Doc<'a>, Vec<StructureError>), NotWellFormed> {
    match validate_with(input, |_| Ok::<_, ()>((schema, message_ns))) {
        Ok((doc, errors, _)) => Ok((doc, errors.list)),
        Err(ValidateError::NotWellFormed(e)) => Err(e),
        Err(ValidateError::Root(())) => Err(NotWellFormed {
            line: 1,
            column: 1,
            message: "onbekend hoofdelement".into(),
        }),
    }
}

/// Like [`validate`], but the schema is chosen from the root element's namespace URI by `pick`
/// (one pass: no separate sniffing of the root).
///
/// A small state machine over the reader's events: a start tag is checked ([`Validator::tag`]),
/// picks the schema when it is the root, and opens a frame ([`Validator::open`]); character data
/// goes to the open frame ([`Validator::chars`]); an end tag closes it ([`Validator::close`]).
pub fn validate_with<'a, E>(
    input: &'a str,
    pick: impl FnOnce(Option<&str>) -> Result<(&'static MessageSchema, &'static str), E>,
) -> Result<(Doc<'a>, StructureErrors, &'static MessageSchema), ValidateError<E>> {
    let mut pick = Some(pick);
    let mut schema: Option<&'static MessageSchema> = None;
    let mut reader = reader_for(input);
    let mut v = Validator {
        cx: Ctx::new(input),
        stack: Vec::with_capacity(12),
        seen_root: false,
        root_done: false,
    };
    loop {
        let offset = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            v.cx.wf(
                reader.error_position() as usize,
                crate::message::wellformed::reader_error(&e),
            )
        })?;
        match event {
            Event::Start(e) => {
                let tag = v.tag(&e, offset)?;
                if !v.seen_root {
                    // The root's namespace decides the message kind and so the schema.
                    let uri = v.root_uri(&tag)?;
                    let Some(pick) = pick.take() else {
                        return Err(v.cx.wf(offset, "meer dan één hoofdelement").into());
                    };
                    let (s, ns) = pick(uri).map_err(ValidateError::Root)?;
                    schema = Some(s);
                    v.cx.set_message_ns(ns);
                }
                v.open(&tag, schema.map_or(0, |s| s.root_type))?;
            }
            Event::End(_) => v.close(offset)?,
            Event::Text(t) => v.chars(offset, Chars::Text(t.into_inner()))?,
            Event::CData(c) => v.chars(offset, Chars::CData(c.into_inner()))?,
            Event::GeneralRef(r) => {
                let resolved = v.reference(&r, offset)?;
                v.chars(offset, Chars::Ref(resolved))?;
            }
            Event::DocType(_) => {
                return Err(v
                    .cx
                    .wf(offset, "DOCTYPE is niet toegestaan in een iWmo-bericht")
                    .into())
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            // expand_empty_elements is on: quick-xml reports <a/> as Start + End.
            Event::Empty(_) => {}
            Event::Eof => {
                v.at_eof()?;
                break;
            }
        }
    }
    let errors = v.cx.finish_errors();
    let schema = schema
        .ok_or_else(|| ValidateError::NotWellFormed(v.cx.wf(0, "geen hoofdelement gevonden")))?;
    Ok((Doc { nodes: v.cx.nodes }, errors, schema))
}

fn reader_for(input: &str) -> Reader<&[u8]> {
    let mut reader = Reader::from_str(input);
    let cfg = reader.config_mut();
    cfg.expand_empty_elements = true;
    cfg.check_end_names = true;
    cfg.check_comments = true;
    cfg.trim_text(false);
    reader
}

/// The validator's state between two reader events.
struct Validator<'a> {
    cx: Ctx<'a>,
    /// The open elements, root first.
    stack: Vec<Frame>,
    seen_root: bool,
    root_done: bool,
}

impl Validator<'_> {
    /// The input ended: every element must be closed and there must have been a root.
    fn at_eof(&self) -> Result<(), NotWellFormed> {
        let input = self.cx.input;
        if !self.stack.is_empty() {
            return Err(self.cx.wf(
                input.len(),
                "onverwacht einde van het bestand (element niet gesloten)",
            ));
        }
        if !self.seen_root {
            return Err(self.cx.wf(input.len(), "geen hoofdelement gevonden"));
        }
        Ok(())
    }
}
