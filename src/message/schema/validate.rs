//! Streaming XSD validation against the generated tables.
//!
//! One pass over the quick-xml token stream: namespaces are resolved by hand (prefix stack),
//! every element is matched against the sequence of its parent's complex type, every simple value
//! is checked against its facets, and a flat tree of the document is built on the way (text
//! borrowed from the input where possible). Errors carry the element path the way the iWmo XSLT
//! prints it (`/Bericht/Client/StartProducten/StartProduct[2]/Begindatum`) and a Dutch text.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::facets;
use super::model::{ElementDecl, MessageSchema, Ns, TypeRef};
use super::tables::{COMPLEX_TYPES, SIMPLE_TYPES};
use crate::message::namespaces::{BASIS_NS, XSI_NS};

/// Deepest nesting any iWmo 3.2 message needs is 7; anything far deeper is hostile.
pub const MAX_DEPTH: usize = 32;
/// Stop collecting after this many structure errors.
pub const MAX_ERRORS: usize = 50;

pub type NodeId = u32;
const NONE: NodeId = u32::MAX;

/// One element of the document.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub name: &'static str,
    pub parent: NodeId,
    pub first_child: NodeId,
    pub next_sibling: NodeId,
    /// Text of a simple-typed element (entity references resolved, line ends normalised).
    pub text: Cow<'a, str>,
    /// Byte offset of the start tag in the input.
    pub offset: u32,
}

/// The document as a flat tree; node 0 is `Bericht`.
#[derive(Debug, Clone, Default)]
pub struct Doc<'a> {
    pub nodes: Vec<Node<'a>>,
}

impl<'a> Doc<'a> {
    pub fn root(&self) -> NodeId {
        0
    }
    pub fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id as usize]
    }
    pub fn name(&self, id: NodeId) -> &'static str {
        self.nodes[id as usize].name
    }
    pub fn text(&self, id: NodeId) -> &str {
        &self.nodes[id as usize].text
    }
    pub fn children(&self, id: NodeId) -> Children<'_, 'a> {
        Children {
            doc: self,
            next: self.nodes.get(id as usize).map_or(NONE, |n| n.first_child),
        }
    }
    pub fn child(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.children(id).find(|&c| self.name(c) == name)
    }
    /// Path as the iWmo XSLT prints it: `[n]` only where same-named siblings exist.
    pub fn path(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut cur = id;
        while cur != NONE {
            let n = &self.nodes[cur as usize];
            let mut label = n.name.to_string();
            if n.parent != NONE {
                let same: Vec<NodeId> = self
                    .children(n.parent)
                    .filter(|&c| self.name(c) == n.name)
                    .collect();
                if same.len() > 1 {
                    let pos = same.iter().position(|&c| c == cur).unwrap_or(0) + 1;
                    label = format!("{label}[{pos}]");
                }
            }
            parts.push(label);
            cur = n.parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }
}

pub struct Children<'d, 'a> {
    doc: &'d Doc<'a>,
    next: NodeId,
}

impl Iterator for Children<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let cur = self.next;
        self.next = self.doc.nodes[cur as usize].next_sibling;
        Some(cur)
    }
}

/// A level-1 (XSD) error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StructureError {
    /// Element path, e.g. `/Bericht/Client/StartProducten/StartProduct[2]/Begindatum`.
    pub path: String,
    pub line: u32,
    /// What is wrong, in Dutch; never contains personal data.
    pub message: String,
}

/// The input is not well-formed XML (or uses XML features iWmo does not allow).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("regel {line}: {message}")]
pub struct NotWellFormed {
    pub line: u32,
    pub message: String,
}

fn line_of(input: &str, offset: usize) -> u32 {
    let end = offset.min(input.len());
    input.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
}

/// Element names whose values are personal data: never echoed in an error text.
fn value_may_be_shown(decl: &ElementDecl, st_name: &str) -> bool {
    const PERSONAL_TYPES: &[&str] = &[
        "LDT_BurgerServicenummer",
        "LDT_Naam",
        "LDT_Voorvoegsel",
        "LDT_Voorletters",
        "LDT_Postcode",
        "LDT_Straatnaam",
        "LDT_Plaatsnaam",
        "LDT_Huisnummer",
        "LDT_Huisletter",
        "LDT_HuisnummerToevoeging",
        "LDT_Telefoonnummer",
        "LDT_Landnummer",
        "LDT_Emailadres",
        "LDT_Commentaar",
        "LDT_Persoonsid",
        "LDT_NaamVerwijzer",
        "LDT_Organisatienaam",
        "LDT_Taal",
    ];
    decl.name != "Datum" && !PERSONAL_TYPES.contains(&st_name)
}

enum Frame {
    /// A complex-typed element being matched against its sequence.
    Complex {
        node: NodeId,
        ctype: u16,
        cursor: usize,
        count: u32,
        last_child: NodeId,
        /// After a content-model error the rest of this element is not checked further.
        failed: bool,
        /// A required element was not where it should be; decided at the end of the parent
        /// whether it is missing (never came) or out of order (came later).
        deferred: Option<Box<Deferred>>,
    },
    /// A simple-typed element collecting its text.
    Simple {
        node: NodeId,
        decl: &'static ElementDecl,
        st: u16,
        text: Option<Cow<'static, str>>,
        borrowed: Option<(usize, usize)>,
        has_child: bool,
    },
    /// An element that is not checked (unexpected, or inside a failed parent).
    Skip,
}

struct Deferred {
    missing: &'static str,
    found: String,
    offset: usize,
    message_missing: String,
    message_order: String,
    came_later: bool,
}

struct Ctx<'a> {
    input: &'a str,
    nodes: Vec<Node<'a>>,
    errors: Vec<StructureError>,
    pending: Vec<(NodeId, Option<String>, u32, String)>,
    /// (prefix, uri, depth) bindings in scope.
    ns: Vec<(String, String, usize, NsClass)>,
    message_ns: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NsClass {
    Message,
    Basis,
    Other,
}

impl<'a> Ctx<'a> {
    fn wf(&self, offset: usize, message: impl Into<String>) -> NotWellFormed {
        NotWellFormed {
            line: line_of(self.input, offset),
            message: message.into(),
        }
    }

    fn push_node(&mut self, name: &'static str, parent: NodeId, offset: usize) -> NodeId {
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            name,
            parent,
            first_child: NONE,
            next_sibling: NONE,
            text: Cow::Borrowed(""),
            offset: offset as u32,
        });
        id
    }

    fn error_at(&mut self, node: NodeId, suffix: Option<&str>, offset: usize, message: String) {
        if self.errors.len() >= MAX_ERRORS {
            return;
        }
        // For an element that is not in the tree (unexpected or missing), name it with its
        // position among the same-named children already seen.
        let suffix = suffix.map(|name| {
            if node == NONE {
                return name.to_string();
            }
            let mut same = 0;
            let mut c = self.nodes[node as usize].first_child;
            while c != NONE {
                if self.nodes[c as usize].name == name {
                    same += 1;
                }
                c = self.nodes[c as usize].next_sibling;
            }
            if same > 0 {
                format!("{name}[{}]", same + 1)
            } else {
                name.to_string()
            }
        });
        self.pending
            .push((node, suffix, line_of(self.input, offset), message));
        self.errors.push(StructureError {
            path: String::new(),
            line: 0,
            message: String::new(),
        });
    }

    /// Paths are computed once the tree is complete, so `[n]` reflects all siblings.
    fn finish_errors(&mut self) -> Vec<StructureError> {
        let doc = Doc {
            nodes: std::mem::take(&mut self.nodes),
        };
        let out = self
            .pending
            .drain(..)
            .map(|(node, suffix, line, message)| {
                let mut path = if node == NONE {
                    String::new()
                } else {
                    doc.path(node)
                };
                if let Some(s) = suffix {
                    path.push('/');
                    path.push_str(&s);
                }
                if path.is_empty() {
                    path.push('/');
                }
                StructureError {
                    path,
                    line,
                    message,
                }
            })
            .collect();
        self.nodes = doc.nodes;
        out
    }

    /// Binds the xmlns attributes of a start tag; reports other attributes. Returns false when
    /// an attribute is not allowed (the XSDs declare none).
    fn bind_attributes(
        &mut self,
        e: &BytesStart<'a>,
        depth: usize,
        offset: usize,
    ) -> Result<Vec<String>, NotWellFormed> {
        let mut rejected = Vec::new();
        let raw = e.attributes_raw();
        if raw.trim().is_empty() {
            return Ok(rejected);
        }
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.wf(offset, format!("ongeldig attribuut: {err}")))?;
            let key: &str = attr.key.as_ref();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| self.wf(offset, format!("ongeldige attribuutwaarde: {err}")))?;
            let value = value.into_owned();
            let class = self.classify(Some(value.as_str()).filter(|v| !v.is_empty()));
            if key == "xmlns" {
                self.ns.push((String::new(), value, depth, class));
            } else if let Some(prefix) = key.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(self.wf(offset, format!("lege namespace voor prefix '{prefix}'")));
                }
                self.ns.push((prefix.to_string(), value, depth, class));
            } else {
                rejected.push(key.to_string());
            }
        }
        // xsi:schemaLocation and xsi:noNamespaceSchemaLocation are always allowed.
        let xsi_prefixes: Vec<&str> = self
            .ns
            .iter()
            .filter(|(_, uri, _, _)| uri == XSI_NS)
            .map(|(p, _, _, _)| p.as_str())
            .collect();
        rejected.retain(|k| match k.split_once(':') {
            Some((p, local)) if xsi_prefixes.contains(&p) => {
                !(local == "schemaLocation" || local == "noNamespaceSchemaLocation")
            }
            _ => true,
        });
        Ok(rejected)
    }

    fn resolve(&self, prefix: &str) -> Option<(&str, NsClass)> {
        self.ns
            .iter()
            .rev()
            .find(|(p, _, _, _)| p == prefix)
            .map(|(_, u, _, c)| (u.as_str(), *c))
    }

    fn classify(&self, uri: Option<&str>) -> NsClass {
        match uri {
            Some(u) if u == self.message_ns => NsClass::Message,
            Some(BASIS_NS) => NsClass::Basis,
            _ => NsClass::Other,
        }
    }
}

fn is_xml_space(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

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
        Ok((doc, errors, _)) => Ok((doc, errors)),
        Err(ValidateError::NotWellFormed(e)) => Err(e),
        Err(ValidateError::Root(())) => Err(NotWellFormed {
            line: 1,
            message: "onbekend hoofdelement".into(),
        }),
    }
}

/// Like [`validate`], but the schema is chosen from the root element's namespace URI by `pick`
/// (one pass: no separate sniffing of the root).
pub fn validate_with<'a, E>(
    input: &'a str,
    pick: impl FnOnce(Option<&str>) -> Result<(&'static MessageSchema, &'static str), E>,
) -> Result<(Doc<'a>, Vec<StructureError>, &'static MessageSchema), ValidateError<E>> {
    let mut pick = Some(pick);
    let mut schema: Option<&'static MessageSchema> = None;
    let mut reader = Reader::from_str(input);
    {
        let cfg = reader.config_mut();
        cfg.expand_empty_elements = true;
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.trim_text(false);
    }
    let mut cx = Ctx {
        input,
        nodes: Vec::with_capacity(input.len() / 48 + 8),
        errors: Vec::new(),
        pending: Vec::new(),
        ns: Vec::with_capacity(4),
        message_ns: "",
    };
    let mut stack: Vec<Frame> = Vec::with_capacity(12);
    let mut seen_root = false;
    let mut root_done = false;

    loop {
        let offset = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            ValidateError::NotWellFormed(cx.wf(
                reader.error_position() as usize,
                format!("geen geldige XML: {e}"),
            ))
        })?;
        match event {
            Event::Start(e) => {
                if root_done {
                    return Err(cx.wf(offset, "meer dan één hoofdelement").into());
                }
                let depth = stack.len() + 1;
                if depth > MAX_DEPTH {
                    return Err(cx
                        .wf(
                            offset,
                            format!("elementen zijn dieper dan {MAX_DEPTH} niveaus genest"),
                        )
                        .into());
                }
                let rejected_attrs = cx
                    .bind_attributes(&e, depth, offset)
                    .map_err(ValidateError::NotWellFormed)?;
                let qname = e.name();
                let full: &str = qname.as_ref();
                let (prefix, local) = match full.bytes().position(|b| b == b':') {
                    Some(i) => (&full[..i], &full[i + 1..]),
                    None => ("", full),
                };
                if !seen_root {
                    // The root's namespace decides the message kind and so the schema.
                    let uri = if prefix.is_empty() {
                        cx.resolve("").map(|(u, _)| u).filter(|u| !u.is_empty())
                    } else {
                        match cx.resolve(prefix) {
                            Some((u, _)) => Some(u),
                            None => {
                                return Err(cx
                                    .wf(
                                        offset,
                                        format!("namespace-prefix '{prefix}' is niet gedeclareerd"),
                                    )
                                    .into())
                            }
                        }
                    };
                    let Some(pick) = pick.take() else {
                        return Err(cx.wf(offset, "meer dan één hoofdelement").into());
                    };
                    let (s, ns) = pick(uri).map_err(ValidateError::Root)?;
                    schema = Some(s);
                    cx.message_ns = ns;
                    let reclassified: Vec<NsClass> = cx
                        .ns
                        .iter()
                        .map(|(_, u, _, _)| cx.classify(Some(u.as_str()).filter(|u| !u.is_empty())))
                        .collect();
                    for (b, c) in cx.ns.iter_mut().zip(reclassified) {
                        b.3 = c;
                    }
                }
                let resolved = cx.resolve(prefix);
                if resolved.is_none() && !prefix.is_empty() {
                    return Err(cx
                        .wf(
                            offset,
                            format!("namespace-prefix '{prefix}' is niet gedeclareerd"),
                        )
                        .into());
                }
                let uri = resolved.map(|(u, _)| u).filter(|u| !u.is_empty());
                let class = resolved.map_or(NsClass::Other, |(_, c)| c);

                // Root element.
                if !seen_root {
                    seen_root = true;
                    let root = cx.push_node("Bericht", NONE, offset);
                    let message_ns = cx.message_ns;
                    if local != "Bericht" || class != NsClass::Message {
                        cx.error_at(
                            NONE,
                            Some(local),
                            offset,
                            format!(
                                "het hoofdelement moet 'Bericht' zijn in namespace {message_ns}"
                            ),
                        );
                        stack.push(Frame::Skip);
                        continue;
                    }
                    if !rejected_attrs.is_empty() {
                        cx.error_at(
                            root,
                            None,
                            offset,
                            format!("attribuut '{}' is niet toegestaan", rejected_attrs[0]),
                        );
                    }
                    stack.push(Frame::Complex {
                        node: root,
                        ctype: schema.map_or(0, |s| s.root_type),
                        cursor: 0,
                        count: 0,
                        last_child: NONE,
                        failed: false,
                        deferred: None,
                    });
                    continue;
                }

                let parent = match stack.last_mut() {
                    Some(f) => f,
                    None => return Err(cx.wf(offset, "element buiten het hoofdelement").into()),
                };
                match parent {
                    Frame::Skip => stack.push(Frame::Skip),
                    Frame::Simple {
                        node, has_child, ..
                    } => {
                        let node = *node;
                        let first = !*has_child;
                        *has_child = true;
                        if first {
                            cx.error_at(
                                node,
                                None,
                                offset,
                                format!("element mag geen onderliggende elementen bevatten (gevonden: '{local}')"),
                            );
                        }
                        stack.push(Frame::Skip);
                    }
                    Frame::Complex {
                        node,
                        ctype,
                        cursor,
                        count,
                        last_child,
                        failed,
                        deferred,
                    } => {
                        if *failed {
                            if let Some(d) = deferred.as_mut() {
                                if d.missing == local {
                                    d.came_later = true;
                                }
                            }
                            stack.push(Frame::Skip);
                            continue;
                        }
                        let parent_node = *node;
                        let elements = COMPLEX_TYPES[*ctype as usize].elements;
                        // Find the declaration this element matches, advancing over satisfied ones.
                        let mut i = *cursor;
                        let mut cnt = *count;
                        let mut matched: Option<usize> = None;
                        let mut missing: Option<usize> = None;
                        while i < elements.len() {
                            let d = &elements[i];
                            let ns_ok = match d.ns {
                                Ns::Message => class == NsClass::Message,
                                Ns::Basis => class == NsClass::Basis,
                            };
                            if d.name == local && ns_ok {
                                if cnt < d.max {
                                    matched = Some(i);
                                }
                                break;
                            }
                            if cnt < d.min {
                                missing = Some(i);
                                break;
                            }
                            i += 1;
                            cnt = 0;
                        }
                        match matched {
                            Some(i) => {
                                let d = &elements[i];
                                if i != *cursor {
                                    *cursor = i;
                                    *count = 0;
                                }
                                *count += 1;
                                let id = cx.push_node(d.name, parent_node, offset);
                                let prev = *last_child;
                                *last_child = id;
                                if prev == NONE {
                                    cx.nodes[parent_node as usize].first_child = id;
                                } else {
                                    cx.nodes[prev as usize].next_sibling = id;
                                }
                                if !rejected_attrs.is_empty() {
                                    cx.error_at(
                                        id,
                                        None,
                                        offset,
                                        format!(
                                            "attribuut '{}' is niet toegestaan",
                                            rejected_attrs[0]
                                        ),
                                    );
                                }
                                match d.ty {
                                    TypeRef::Complex(ct) => stack.push(Frame::Complex {
                                        node: id,
                                        ctype: ct,
                                        cursor: 0,
                                        count: 0,
                                        last_child: NONE,
                                        failed: false,
                                        deferred: None,
                                    }),
                                    TypeRef::Simple(st) => stack.push(Frame::Simple {
                                        node: id,
                                        decl: d,
                                        st,
                                        text: None,
                                        borrowed: None,
                                        has_child: false,
                                    }),
                                }
                            }
                            None => {
                                *failed = true;
                                let known = elements.iter().any(|d| d.name == local);
                                let msg = if let Some(m) = missing.filter(|_| known) {
                                    let d = &elements[m];
                                    *deferred = Some(Box::new(Deferred {
                                        missing: d.name,
                                        found: local.to_string(),
                                        offset,
                                        message_missing: format!(
                                            "verplicht element '{}' ontbreekt (verwacht: {}; gevonden: '{local}')",
                                            d.name,
                                            expected_list(elements, m)
                                        ),
                                        message_order: format!(
                                            "element '{local}' staat op de verkeerde plaats (volgorde): eerst verwacht: {}",
                                            expected_list(elements, m)
                                        ),
                                        came_later: false,
                                    }));
                                    stack.push(Frame::Skip);
                                    continue;
                                } else if elements.iter().any(|d| d.name == local) {
                                    let wrong_ns = elements.iter().any(|d| {
                                        d.name == local
                                            && match d.ns {
                                                Ns::Message => class != NsClass::Message,
                                                Ns::Basis => class != NsClass::Basis,
                                            }
                                    });
                                    if wrong_ns {
                                        format!(
                                            "element '{local}' staat in de verkeerde namespace ({})",
                                            uri.unwrap_or("geen namespace")
                                        )
                                    } else if *cursor < elements.len()
                                        && elements[*cursor].name == local
                                    {
                                        format!("element '{local}' komt vaker voor dan toegestaan")
                                    } else {
                                        format!("element '{local}' staat op de verkeerde plaats (volgorde)")
                                    }
                                } else {
                                    let exp = if let Some(m) = missing {
                                        expected_list(elements, m)
                                    } else if *cursor < elements.len() {
                                        expected_list(elements, *cursor)
                                    } else {
                                        String::new()
                                    };
                                    if exp.is_empty() {
                                        format!("element '{local}' is hier niet toegestaan")
                                    } else {
                                        format!("element '{local}' is hier niet toegestaan (verwacht: {exp})")
                                    }
                                };
                                cx.error_at(parent_node, Some(local), offset, msg);
                                stack.push(Frame::Skip);
                            }
                        }
                    }
                }
            }
            Event::End(_) => {
                let frame = match stack.pop() {
                    Some(f) => f,
                    None => return Err(cx.wf(offset, "sluittag zonder begintag").into()),
                };
                // Drop namespace bindings of the element that ends.
                let depth = stack.len() + 1;
                while cx.ns.last().is_some_and(|(_, _, d, _)| *d >= depth) {
                    cx.ns.pop();
                }
                match frame {
                    Frame::Skip => {}
                    Frame::Complex {
                        node,
                        ctype,
                        cursor,
                        count,
                        failed,
                        deferred,
                        ..
                    } => {
                        if let Some(d) = deferred.map(|d| *d) {
                            if d.came_later {
                                cx.error_at(node, Some(&d.found), d.offset, d.message_order);
                            } else {
                                cx.error_at(node, Some(d.missing), d.offset, d.message_missing);
                            }
                        }
                        if !failed {
                            let elements = COMPLEX_TYPES[ctype as usize].elements;
                            let mut cnt = count;
                            for (i, d) in elements.iter().enumerate().skip(cursor) {
                                if i > cursor {
                                    cnt = 0;
                                }
                                if cnt < d.min {
                                    cx.error_at(
                                        node,
                                        Some(d.name),
                                        offset,
                                        format!("verplicht element '{}' ontbreekt", d.name),
                                    );
                                    break;
                                }
                            }
                        }
                    }
                    Frame::Simple {
                        node,
                        decl,
                        st,
                        text,
                        borrowed,
                        has_child,
                    } => {
                        let value: Cow<'a, str> = match (text, borrowed) {
                            (Some(t), _) => Cow::Owned(t.into_owned()),
                            (None, Some((s, e))) => Cow::Borrowed(&input[s..e]),
                            (None, None) => Cow::Borrowed(""),
                        };
                        if !has_child {
                            let stype = &SIMPLE_TYPES[st as usize];
                            if let Err(why) = facets::check(stype, &value) {
                                let shown = if value_may_be_shown(decl, stype.name) {
                                    format!("waarde '{}' ", truncate(&value, 40))
                                } else {
                                    "waarde ".to_string()
                                };
                                let off = cx.nodes[node as usize].offset as usize;
                                cx.error_at(node, None, off, format!("{shown}{why}"));
                            }
                        }
                        cx.nodes[node as usize].text = value;
                    }
                }
                if stack.is_empty() {
                    root_done = true;
                }
            }
            Event::Text(t) => {
                let raw = t.into_inner();
                match stack.last_mut() {
                    Some(Frame::Simple { text, borrowed, .. }) => {
                        append_text(input, text, borrowed, raw);
                    }
                    Some(Frame::Complex { node, failed, .. }) => {
                        if !is_xml_space(&raw) && !*failed {
                            let node = *node;
                            *failed = true;
                            cx.error_at(
                                node,
                                None,
                                offset,
                                "tekst is hier niet toegestaan (alleen elementen)".into(),
                            );
                        }
                    }
                    Some(Frame::Skip) => {}
                    None => {
                        if !is_xml_space(&raw) {
                            return Err(cx.wf(offset, "tekst buiten het hoofdelement").into());
                        }
                    }
                }
            }
            Event::CData(c) => {
                let raw = c.into_inner();
                match stack.last_mut() {
                    Some(Frame::Simple { text, borrowed, .. }) => {
                        append_owned(text, borrowed, input, &raw);
                    }
                    Some(Frame::Complex { node, failed, .. }) => {
                        if !raw.is_empty() && !*failed {
                            let node = *node;
                            *failed = true;
                            cx.error_at(
                                node,
                                None,
                                offset,
                                "tekst is hier niet toegestaan (alleen elementen)".into(),
                            );
                        }
                    }
                    Some(Frame::Skip) => {}
                    None => return Err(cx.wf(offset, "tekst buiten het hoofdelement").into()),
                }
            }
            Event::GeneralRef(r) => {
                let ch: String = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => c.to_string(),
                        _ => {
                            return Err(cx
                                .wf(offset, format!("ongeldige tekenreferentie '&{};'", &*r))
                                .into())
                        }
                    }
                } else {
                    match &*r {
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "amp" => "&".into(),
                        "apos" => "'".into(),
                        "quot" => "\"".into(),
                        other => {
                            return Err(cx
                                .wf(offset, format!("onbekende entiteit '&{other};'"))
                                .into())
                        }
                    }
                };
                match stack.last_mut() {
                    Some(Frame::Simple { text, borrowed, .. }) => {
                        append_owned(text, borrowed, input, &ch)
                    }
                    Some(Frame::Complex { node, failed, .. }) => {
                        if !*failed {
                            let node = *node;
                            *failed = true;
                            cx.error_at(
                                node,
                                None,
                                offset,
                                "tekst is hier niet toegestaan (alleen elementen)".into(),
                            );
                        }
                    }
                    Some(Frame::Skip) => {}
                    None => return Err(cx.wf(offset, "tekst buiten het hoofdelement").into()),
                }
            }
            Event::DocType(_) => {
                return Err(cx
                    .wf(offset, "DOCTYPE is niet toegestaan in een iWmo-bericht")
                    .into())
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Empty(_) => unreachable_empty(),
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(cx
                        .wf(
                            input.len(),
                            "onverwacht einde van het bestand (element niet gesloten)",
                        )
                        .into());
                }
                if !seen_root {
                    return Err(cx.wf(input.len(), "geen hoofdelement gevonden").into());
                }
                break;
            }
        }
    }
    let errors = cx.finish_errors();
    let schema = schema
        .ok_or_else(|| ValidateError::NotWellFormed(cx.wf(0, "geen hoofdelement gevonden")))?;
    Ok((Doc { nodes: cx.nodes }, errors, schema))
}

#[inline]
fn unreachable_empty() {
    // expand_empty_elements is on: quick-xml reports <a/> as Start + End.
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n).collect();
        format!("{t}…")
    }
}

/// Appends a text event. Borrowed, CR-free text that is the first piece stays a slice of the input.
fn append_text(
    input: &str,
    text: &mut Option<Cow<'static, str>>,
    borrowed: &mut Option<(usize, usize)>,
    raw: Cow<'_, str>,
) {
    if text.is_none() && borrowed.is_none() && !raw.contains('\r') {
        if let Cow::Borrowed(s) = raw {
            let start = s.as_ptr() as usize - input.as_ptr() as usize;
            *borrowed = Some((start, start + s.len()));
            return;
        }
    }
    let normalized = if raw.contains('\r') {
        raw.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        raw.into_owned()
    };
    append_owned(text, borrowed, input, &normalized);
}

fn append_owned(
    text: &mut Option<Cow<'static, str>>,
    borrowed: &mut Option<(usize, usize)>,
    input: &str,
    more: &str,
) {
    let mut s = match (text.take(), borrowed.take()) {
        (Some(t), _) => t.into_owned(),
        (None, Some((a, b))) => input[a..b].to_string(),
        (None, None) => String::new(),
    };
    s.push_str(more);
    *text = Some(Cow::Owned(s));
}
