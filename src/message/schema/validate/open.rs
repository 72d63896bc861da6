//! Start tags: the root picks the schema; every other element is matched against the sequence
//! of its parent's complex type, or reported where it does not fit.

use quick_xml::events::BytesStart;

use super::ctx::{Complex, Ctx, Deferred, Frame, NsClass, Simple};
use super::doc::NONE;
use super::{NotWellFormed, Validator, MAX_DEPTH};
use crate::message::namespaces::BASIS_NS;
use crate::message::schema::model::{ElementDecl, Ns, TypeRef};
use crate::message::schema::tables::COMPLEX_TYPES;

/// A start tag: its name split at the prefix, and the first attribute it may not carry.
pub(super) struct Tag<'t> {
    prefix: &'t str,
    local: &'t str,
    offset: usize,
    rejected_attrs: Vec<String>,
}

impl<'a> Validator<'a> {
    /// Checks that a start tag may stand here at all, binds its namespaces and splits its name.
    pub(super) fn tag<'t>(
        &mut self,
        e: &'t BytesStart<'a>,
        offset: usize,
    ) -> Result<Tag<'t>, NotWellFormed> {
        if self.root_done {
            return Err(self.cx.wf(offset, "meer dan één hoofdelement"));
        }
        let depth = self.stack.len() + 1;
        if depth > MAX_DEPTH {
            return Err(self.cx.wf(
                offset,
                format!("elementen zijn dieper dan {MAX_DEPTH} niveaus genest"),
            ));
        }
        let rejected_attrs = self.cx.bind_attributes(e, depth, offset)?;
        let full: &'t str = e.name().0;
        let (prefix, local) = match full.bytes().position(|b| b == b':') {
            Some(i) => (&full[..i], &full[i + 1..]),
            None => ("", full),
        };
        Ok(Tag {
            prefix,
            local,
            offset,
            rejected_attrs,
        })
    }

    /// The namespace URI of the root tag, which decides the message kind and so the schema.
    pub(super) fn root_uri(&self, tag: &Tag<'_>) -> Result<Option<&str>, NotWellFormed> {
        if tag.prefix.is_empty() {
            return Ok(self
                .cx
                .resolve("")
                .map(|(u, _)| u)
                .filter(|u| !u.is_empty()));
        }
        match self.cx.resolve(tag.prefix) {
            Some((u, _)) => Ok(Some(u)),
            None => Err(undeclared_prefix(&self.cx, tag)),
        }
    }

    /// Opens the element of `tag`: the root (of complex type `root_type`), or a child of the
    /// element on top of the stack.
    pub(super) fn open(&mut self, tag: &Tag<'_>, root_type: u16) -> Result<(), NotWellFormed> {
        let resolved = self.cx.resolve(tag.prefix);
        if resolved.is_none() && !tag.prefix.is_empty() {
            return Err(undeclared_prefix(&self.cx, tag));
        }
        let class = resolved.map_or(NsClass::Other, |(_, c)| c);
        let frame = if !self.seen_root {
            self.seen_root = true;
            open_root(&mut self.cx, tag, class, root_type)
        } else {
            match self.stack.last_mut() {
                None => return Err(self.cx.wf(tag.offset, "element buiten het hoofdelement")),
                Some(Frame::Skip) => Frame::Skip,
                Some(Frame::Simple(s)) => child_of_simple(&mut self.cx, s, tag),
                Some(Frame::Complex(c)) => child_of_complex(&mut self.cx, c, tag, class),
            }
        };
        self.stack.push(frame);
        Ok(())
    }
}

/// A name as it may be shown in an error: element names of the iWmo XSDs are; any other name
/// is content of the message (it could be a BSN or a name) and is not.
fn is_schema_name(local: &str) -> bool {
    local == "Bericht"
        || COMPLEX_TYPES
            .iter()
            .any(|t| t.elements.iter().any(|d| d.name == local))
}

/// "element 'Client'" for a name of the XSDs, "een onbekend element" for any other.
fn element_text(local: &str) -> String {
    if is_schema_name(local) {
        format!("element '{local}'")
    } else {
        "een onbekend element (geen element van de iWmo-XSD)".into()
    }
}

fn undeclared_prefix(cx: &Ctx<'_>, tag: &Tag<'_>) -> NotWellFormed {
    cx.wf(
        tag.offset,
        format!(
            "de namespace-prefix van {} is niet gedeclareerd (xmlns:… ontbreekt)",
            element_text(tag.local)
        ),
    )
}

fn open_root(cx: &mut Ctx<'_>, tag: &Tag<'_>, class: NsClass, root_type: u16) -> Frame {
    let root = cx.push_node("Bericht", NONE, tag.offset);
    if tag.local != "Bericht" || class != NsClass::Message {
        let (suffix, message) = if tag.local == "Bericht" {
            let m = format!(
                "het hoofdelement 'Bericht' staat in de verkeerde namespace (verwacht: {})",
                cx.message_ns
            );
            (Some("Bericht"), m)
        } else {
            let m = format!(
                "het hoofdelement moet 'Bericht' zijn in namespace {} (gevonden: {})",
                cx.message_ns,
                element_text(tag.local)
            );
            (None, m)
        };
        cx.error_at(NONE, suffix, tag.offset, message);
        return Frame::Skip;
    }
    reject_attributes(cx, root, tag);
    Frame::Complex(Complex::new(root, root_type))
}

/// The XSDs declare no attributes: the first one of an element is reported (not by its name,
/// which is content of the message).
fn reject_attributes(cx: &mut Ctx<'_>, node: u32, tag: &Tag<'_>) {
    if !tag.rejected_attrs.is_empty() {
        let message = "attribuut is niet toegestaan (de iWmo-XSD's declareren geen attributen; \
                       alleen xmlns-declaraties en xsi:schemaLocation mogen)"
            .to_string();
        cx.error_at(node, None, tag.offset, message);
    }
}

fn child_of_simple(cx: &mut Ctx<'_>, s: &mut Simple, tag: &Tag<'_>) -> Frame {
    if !s.has_child {
        s.has_child = true;
        let message = format!(
            "element mag geen onderliggende elementen bevatten (gevonden: {})",
            element_text(tag.local)
        );
        cx.error_at(s.node, None, tag.offset, message);
    }
    Frame::Skip
}

fn child_of_complex(cx: &mut Ctx<'_>, c: &mut Complex, tag: &Tag<'_>, class: NsClass) -> Frame {
    if c.failed {
        if let Some(d) = c.deferred.as_mut() {
            if d.missing == tag.local {
                d.came_later = true;
            }
        }
        return Frame::Skip;
    }
    let elements = COMPLEX_TYPES[c.ctype as usize].elements;
    match find_decl(elements, c, tag.local, class) {
        Ok(i) => open_matched(cx, c, i, &elements[i], tag),
        Err(missing) => {
            c.failed = true;
            misfit(cx, c, elements, missing, tag, class);
            Frame::Skip
        }
    }
}

fn ns_fits(d: &ElementDecl, class: NsClass) -> bool {
    match d.ns {
        Ns::Message => class == NsClass::Message,
        Ns::Basis => class == NsClass::Basis,
    }
}

/// The declaration an element named `local` matches, advancing over satisfied ones from the
/// cursor; or, when it matches none, the first required declaration it skipped (if any).
fn find_decl(
    elements: &[ElementDecl],
    c: &Complex,
    local: &str,
    class: NsClass,
) -> Result<usize, Option<usize>> {
    let mut i = c.cursor;
    let mut cnt = c.count;
    while i < elements.len() {
        let d = &elements[i];
        if d.name == local && ns_fits(d, class) {
            return if cnt < d.max { Ok(i) } else { Err(None) };
        }
        if cnt < d.min {
            return Err(Some(i));
        }
        i += 1;
        cnt = 0;
    }
    Err(None)
}

fn open_matched(
    cx: &mut Ctx<'_>,
    c: &mut Complex,
    i: usize,
    d: &'static ElementDecl,
    tag: &Tag<'_>,
) -> Frame {
    if i != c.cursor {
        c.cursor = i;
        c.count = 0;
    }
    c.count += 1;
    let id = cx.push_node(d.name, c.node, tag.offset);
    cx.link_child(c.node, &mut c.last_child, id);
    reject_attributes(cx, id, tag);
    match d.ty {
        TypeRef::Complex(ct) => Frame::Complex(Complex::new(id, ct)),
        TypeRef::Simple(st) => Frame::Simple(Simple {
            node: id,
            st,
            text: None,
            borrowed: None,
            has_child: false,
        }),
    }
}

/// An element that fits nowhere in its parent's sequence. When a required element was skipped
/// for a known one, whether it is missing or out of order is decided at the parent's end.
fn misfit(
    cx: &mut Ctx<'_>,
    c: &mut Complex,
    elements: &[ElementDecl],
    missing: Option<usize>,
    tag: &Tag<'_>,
    class: NsClass,
) {
    let local = tag.local;
    let known = elements.iter().any(|d| d.name == local);
    let fits_ns = elements
        .iter()
        .any(|d| d.name == local && ns_fits(d, class));
    if known && !fits_ns {
        // The right name in the wrong namespace (e.g. a prefix bound to another URI).
        let ns = elements
            .iter()
            .find(|d| d.name == local)
            .map_or(cx.message_ns, |d| match d.ns {
                Ns::Message => cx.message_ns,
                Ns::Basis => BASIS_NS,
            });
        let message = format!("element '{local}' staat in de verkeerde namespace (verwacht: {ns})");
        cx.error_at(c.node, Some(local), tag.offset, message);
        return;
    }
    if let Some(m) = missing.filter(|_| known) {
        defer(c, elements, m, tag);
        return;
    }
    let message = if known {
        if c.cursor < elements.len() && elements[c.cursor].name == local {
            format!("element '{local}' komt vaker voor dan toegestaan")
        } else {
            format!("element '{local}' staat op de verkeerde plaats (volgorde)")
        }
    } else {
        let expected = match missing {
            Some(m) => expected_list(elements, m),
            None if c.cursor < elements.len() => expected_list(elements, c.cursor),
            None => String::new(),
        };
        let what = element_text(local);
        if expected.is_empty() {
            format!("{what} is hier niet toegestaan")
        } else {
            format!("{what} is hier niet toegestaan (verwacht: {expected})")
        }
    };
    // An unknown name is not put in the path either: the path is its parent's.
    let suffix = is_schema_name(local).then_some(local);
    cx.error_at(c.node, suffix, tag.offset, message);
}

/// A required element was skipped for `tag`, a known one: missing or out of order is decided
/// at the end of the parent.
fn defer(c: &mut Complex, elements: &[ElementDecl], m: usize, tag: &Tag<'_>) {
    let local = tag.local;
    let expected = expected_list(elements, m);
    c.deferred = Some(Box::new(Deferred {
        missing: elements[m].name,
        found: local.to_string(),
        offset: tag.offset,
        message_missing: format!(
            "verplicht element '{}' ontbreekt (verwacht: {expected}; gevonden: '{local}')",
            elements[m].name
        ),
        message_order: format!(
            "element '{local}' staat op de verkeerde plaats (volgorde): eerst verwacht: {expected}"
        ),
        came_later: false,
    }));
}

/// The names that may come next from `from` on: up to and including the first required one.
fn expected_list(elements: &[ElementDecl], from: usize) -> String {
    let mut names = Vec::new();
    for d in &elements[from..] {
        names.push(d.name);
        if d.min > 0 {
            break;
        }
    }
    names.join(", ")
}
