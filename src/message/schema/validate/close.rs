//! End tags and character data: a complex element checks that nothing required is left, a
//! simple one checks its collected text against the facets of its type.

use std::borrow::Cow;

use quick_xml::events::BytesRef;

use super::ctx::{Complex, Ctx, Frame, Simple};
use super::{NotWellFormed, Validator};
use crate::message::schema::facets;
use crate::message::schema::tables::{COMPLEX_TYPES, SIMPLE_TYPES};
use crate::message::wellformed::{invalid_char_ref, reader_error, unknown_entity};

/// Character data as the reader reports it.
pub(super) enum Chars<'a> {
    /// A text event: kept as a slice of the input where possible.
    Text(Cow<'a, str>),
    /// A CDATA section.
    CData(Cow<'a, str>),
    /// A resolved character or entity reference.
    Ref(String),
}

impl Chars<'_> {
    /// Counts as text where only elements may stand.
    fn significant(&self) -> bool {
        match self {
            Chars::Text(t) => !is_xml_space(t),
            Chars::CData(c) => !c.is_empty(),
            Chars::Ref(_) => true,
        }
    }
}

impl<'a> Validator<'a> {
    /// Closes the element on top of the stack.
    pub(super) fn close(&mut self, offset: usize) -> Result<(), NotWellFormed> {
        let Some(frame) = self.stack.pop() else {
            return Err(self.cx.wf(offset, "sluittag zonder begintag"));
        };
        // Drop namespace bindings of the element that ends.
        self.cx.unbind_from(self.stack.len() + 1);
        match frame {
            Frame::Skip => {}
            Frame::Complex(c) => close_complex(&mut self.cx, c, offset),
            Frame::Simple(s) => close_simple(&mut self.cx, s),
        }
        if self.stack.is_empty() {
            self.root_done = true;
        }
        Ok(())
    }

    /// Character data for the element on top of the stack (or outside the root).
    pub(super) fn chars(&mut self, offset: usize, chars: Chars<'a>) -> Result<(), NotWellFormed> {
        match self.stack.last_mut() {
            Some(Frame::Simple(s)) => match chars {
                Chars::Text(raw) => append_text(self.cx.input, s, raw),
                Chars::CData(raw) => append_owned(s, self.cx.input, &raw),
                Chars::Ref(ch) => append_owned(s, self.cx.input, &ch),
            },
            Some(Frame::Complex(c)) => {
                if chars.significant() {
                    self.cx.text_in_complex(c, offset);
                }
            }
            Some(Frame::Skip) => {}
            None => {
                let white_text = matches!(&chars, Chars::Text(t) if is_xml_space(t));
                if !white_text {
                    return Err(self.cx.wf(offset, "tekst buiten het hoofdelement"));
                }
            }
        }
        Ok(())
    }

    /// The text a character reference or one of the five predefined entities stands for.
    pub(super) fn reference(
        &self,
        r: &BytesRef<'_>,
        offset: usize,
    ) -> Result<String, NotWellFormed> {
        if r.is_char_ref() {
            return match r.resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => Ok(c.to_string()),
                Ok(_) => Err(self.cx.wf(offset, invalid_char_ref())),
                Err(e) => Err(self.cx.wf(offset, reader_error(&e))),
            };
        }
        Ok(match &**r {
            "lt" => "<".into(),
            "gt" => ">".into(),
            "amp" => "&".into(),
            "apos" => "'".into(),
            "quot" => "\"".into(),
            _ => return Err(self.cx.wf(offset, unknown_entity())),
        })
    }
}

/// A deferred misfit is decided now; otherwise the first required element not seen is missing.
fn close_complex(cx: &mut Ctx<'_>, c: Complex, offset: usize) {
    if let Some(d) = c.deferred.map(|d| *d) {
        if d.came_later {
            cx.error_at(c.node, Some(&d.found), d.offset, d.message_order);
        } else {
            cx.error_at(c.node, Some(d.missing), d.offset, d.message_missing);
        }
    }
    if c.failed {
        return;
    }
    let elements = COMPLEX_TYPES[c.ctype as usize].elements;
    let mut cnt = c.count;
    for (i, d) in elements.iter().enumerate().skip(c.cursor) {
        if i > c.cursor {
            cnt = 0;
        }
        if cnt < d.min {
            let message = format!("verplicht element '{}' ontbreekt", d.name);
            cx.error_at(c.node, Some(d.name), offset, message);
            break;
        }
    }
}

fn close_simple<'a>(cx: &mut Ctx<'a>, s: Simple) {
    let input = cx.input;
    let value: Cow<'a, str> = match (s.text, s.borrowed) {
        (Some(t), _) => Cow::Owned(t.into_owned()),
        (None, Some((a, b))) => Cow::Borrowed(&input[a..b]),
        (None, None) => Cow::Borrowed(""),
    };
    if !s.has_child {
        let stype = &SIMPLE_TYPES[s.st as usize];
        // The text names the rule, never the value: it may be a BSN or a name, even in an
        // element meant for something else.
        if let Err(why) = facets::check(stype, &value) {
            let off = cx.nodes[s.node as usize].offset as usize;
            cx.error_at(s.node, None, off, why);
        }
    }
    cx.nodes[s.node as usize].text = value;
}

fn is_xml_space(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Appends a text event. Borrowed, CR-free text that is the first piece stays a slice of the input.
fn append_text(input: &str, s: &mut Simple, raw: Cow<'_, str>) {
    if s.text.is_none() && s.borrowed.is_none() && !raw.contains('\r') {
        if let Cow::Borrowed(t) = raw {
            let start = t.as_ptr() as usize - input.as_ptr() as usize;
            s.borrowed = Some((start, start + t.len()));
            return;
        }
    }
    let normalized = if raw.contains('\r') {
        raw.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        raw.into_owned()
    };
    append_owned(s, input, &normalized);
}

fn append_owned(s: &mut Simple, input: &str, more: &str) {
    let mut text = match (s.text.take(), s.borrowed.take()) {
        (Some(t), _) => t.into_owned(),
        (None, Some((a, b))) => input[a..b].to_string(),
        (None, None) => String::new(),
    };
    text.push_str(more);
    s.text = Some(Cow::Owned(text));
}
