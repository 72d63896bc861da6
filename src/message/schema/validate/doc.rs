//! The document tree the validator builds: a flat vector of nodes linked by index.

use std::borrow::Cow;

pub type NodeId = u32;
/// "No node": the parent of the root, the end of a sibling chain.
pub(super) const NONE: NodeId = u32::MAX;

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
