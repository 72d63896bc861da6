//! The validator's working state: the element frames, the namespace bindings in scope, the
//! growing tree and the structure errors found so far.

use std::borrow::Cow;

use quick_xml::events::BytesStart;

use super::doc::{Doc, Node, NodeId, NONE};
use super::{NotWellFormed, StructureError, StructureErrors, MAX_ERRORS};
use crate::message::namespaces::{BASIS_NS, XSI_NS};
use crate::message::wellformed::{attr_error, reader_error};

pub(super) fn line_of(input: &str, offset: usize) -> u32 {
    let end = offset.min(input.len());
    input.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
}

/// One open element.
pub(super) enum Frame {
    /// A complex-typed element being matched against its sequence.
    Complex(Complex),
    /// A simple-typed element collecting its text.
    Simple(Simple),
    /// An element that is not checked (unexpected, or inside a failed parent).
    Skip,
}

/// A complex-typed element: where it stands in its type's sequence.
pub(super) struct Complex {
    pub node: NodeId,
    pub ctype: u16,
    pub cursor: usize,
    pub count: u32,
    pub last_child: NodeId,
    /// After a content-model error the rest of this element is not checked further.
    pub failed: bool,
    /// A required element was not where it should be; decided at the end of the parent
    /// whether it is missing (never came) or out of order (came later).
    pub deferred: Option<Box<Deferred>>,
}

impl Complex {
    pub fn new(node: NodeId, ctype: u16) -> Complex {
        Complex {
            node,
            ctype,
            cursor: 0,
            count: 0,
            last_child: NONE,
            failed: false,
            deferred: None,
        }
    }
}

/// A simple-typed element: its text so far (a slice of the input while that is possible).
pub(super) struct Simple {
    pub node: NodeId,
    pub st: u16,
    pub text: Option<Cow<'static, str>>,
    pub borrowed: Option<(usize, usize)>,
    pub has_child: bool,
}

pub(super) struct Deferred {
    pub missing: &'static str,
    pub found: String,
    pub offset: usize,
    pub message_missing: String,
    pub message_order: String,
    pub came_later: bool,
}

pub(super) struct Ctx<'a> {
    pub input: &'a str,
    pub nodes: Vec<Node<'a>>,
    pub errors: Vec<StructureError>,
    /// Errors found after [`MAX_ERRORS`] were listed.
    pub dropped: usize,
    pending: Vec<(NodeId, Option<String>, u32, String)>,
    /// (prefix, uri, depth) bindings in scope.
    pub ns: Vec<(String, String, usize, NsClass)>,
    pub message_ns: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum NsClass {
    Message,
    Basis,
    Other,
}

impl<'a> Ctx<'a> {
    pub fn new(input: &'a str) -> Ctx<'a> {
        Ctx {
            input,
            nodes: Vec::with_capacity(input.len() / 48 + 8),
            errors: Vec::new(),
            dropped: 0,
            pending: Vec::new(),
            ns: Vec::with_capacity(4),
            message_ns: "",
        }
    }

    pub fn wf(&self, offset: usize, message: impl Into<String>) -> NotWellFormed {
        let (line, column) = crate::message::wellformed::position(self.input, offset);
        NotWellFormed {
            line,
            column,
            message: message.into(),
        }
    }

    pub fn push_node(&mut self, name: &'static str, parent: NodeId, offset: usize) -> NodeId {
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

    pub fn error_at(&mut self, node: NodeId, suffix: Option<&str>, offset: usize, message: String) {
        if self.errors.len() >= MAX_ERRORS {
            self.dropped += 1;
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
    pub fn finish_errors(&mut self) -> StructureErrors {
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
        StructureErrors {
            list: out,
            truncated: self.dropped > 0,
        }
    }

    /// Binds the xmlns attributes of a start tag; reports other attributes. Returns false when
    /// an attribute is not allowed (the XSDs declare none).
    pub fn bind_attributes(
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
            let attr = attr.map_err(|err| self.wf(offset, attr_error(&err)))?;
            let key: &str = attr.key.as_ref();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| {
                    self.wf(
                        offset,
                        format!("ongeldige attribuutwaarde: {}", reader_error(&err)),
                    )
                })?;
            let value = value.into_owned();
            let class = self.classify(Some(value.as_str()).filter(|v| !v.is_empty()));
            if key == "xmlns" {
                self.ns.push((String::new(), value, depth, class));
            } else if let Some(prefix) = key.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(self.wf(
                        offset,
                        "lege namespace-declaratie xmlns:…=\"\" (in XML 1.0 niet toegestaan)",
                    ));
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

    pub fn resolve(&self, prefix: &str) -> Option<(&str, NsClass)> {
        self.ns
            .iter()
            .rev()
            .find(|(p, _, _, _)| p == prefix)
            .map(|(_, u, _, c)| (u.as_str(), *c))
    }

    pub fn classify(&self, uri: Option<&str>) -> NsClass {
        match uri {
            Some(u) if u == self.message_ns => NsClass::Message,
            Some(BASIS_NS) => NsClass::Basis,
            _ => NsClass::Other,
        }
    }

    /// Hangs `id` under `parent` after `last_child` (the parent's last child so far).
    pub fn link_child(&mut self, parent: NodeId, last_child: &mut NodeId, id: NodeId) {
        let prev = *last_child;
        *last_child = id;
        if prev == NONE {
            self.nodes[parent as usize].first_child = id;
        } else {
            self.nodes[prev as usize].next_sibling = id;
        }
    }

    /// The message namespace is known now (from the root): classify the bindings made so far.
    pub fn set_message_ns(&mut self, message_ns: &'static str) {
        self.message_ns = message_ns;
        let reclassified: Vec<NsClass> = self
            .ns
            .iter()
            .map(|(_, u, _, _)| self.classify(Some(u.as_str()).filter(|u| !u.is_empty())))
            .collect();
        for (b, c) in self.ns.iter_mut().zip(reclassified) {
            b.3 = c;
        }
    }

    /// Drops the namespace bindings made at `depth` or deeper (their element has ended).
    pub fn unbind_from(&mut self, depth: usize) {
        while self.ns.last().is_some_and(|(_, _, d, _)| *d >= depth) {
            self.ns.pop();
        }
    }

    /// The element cannot contain character data: the first such is reported, the rest of the
    /// element is not checked further.
    pub fn text_in_complex(&mut self, c: &mut Complex, offset: usize) {
        if !c.failed {
            c.failed = true;
            self.error_at(
                c.node,
                None,
                offset,
                "tekst is hier niet toegestaan (alleen elementen)".into(),
            );
        }
    }
}
