//! One room per message kind the gemeente receives: everything that differs between kinds.

use crate::domain::{AgbCode, Bsn, Gemeentecode, RetourCode, ToewijzingNummer};
use crate::message::{Message, Wmo323};
use crate::retour::{DeclaratieAnswer, RetourMeta, StartStopAnswer, WijzigingAnswer};
use crate::rules::Finding;

use super::{Changes, Input, Placed};

/// What a message reads and writes besides its own inbox key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    /// (gemeente, BSN) of every client it is about: locked for its transaction.
    pub clients: Vec<(String, String)>,
    /// (gemeente, ToewijzingNummer) of every toewijzing it reads or writes.
    pub toewijzingen: Vec<(String, u32)>,
    /// Its state is that of its own clients and toewijzingen only, so it can be decided in one
    /// group with messages about other clients (a 323 also reads what its aanbieder declared
    /// before, so it goes alone).
    pub groupable: bool,
}

/// The stored state a decision needs (what the store loads into the snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need<'m> {
    Nothing,
    /// Toewijzingen named, starts and stops of the client, its open lines and the policy.
    StartStop {
        gemeente: Gemeentecode,
        bsn: Bsn,
        nummers: Vec<ToewijzingNummer>,
    },
    /// Everything a 323 is checked against.
    Declaratie(&'m Wmo323),
    /// A request (315/317): the client's toewijzingen and those named, the aanbieder's earlier
    /// and open requests.
    Verzoek {
        gemeente: Gemeentecode,
        aanbieder: AgbCode,
        bsn: Bsn,
        nummers: Vec<ToewijzingNummer>,
        referenties: Vec<String>,
    },
}

/// How a message is answered, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Level 2 (XSLT) failure: header only with 0001.
    Level2,
    /// A header-level rejection (9056, 8848): header only with these codes.
    Header(Vec<RetourCode>),
    /// Everything approved: header only, no codes.
    Approved,
    /// Level 3/4 on the client's classes: the client mirrored with a code on every class;
    /// `products[i]` belongs to the i-th product of the heenbericht.
    Classes {
        client: Vec<RetourCode>,
        products: Vec<Vec<RetourCode>>,
    },
    /// A 325 on a 323 that passed level 2 and the header rules.
    Declaratie(DeclaratieAnswer),
    /// A 318 with the classes of a 317 (Verzoek and its three product lists).
    Wijziging(WijzigingAnswer),
}

impl Answer {
    /// The answer in the shape of a 305/307/315 retour (a client and its product classes).
    pub fn classes(&self) -> Result<StartStopAnswer, String> {
        Ok(match self {
            Answer::Approved => StartStopAnswer::Approved,
            Answer::Level2 => StartStopAnswer::Level2,
            Answer::Header(c) => StartStopAnswer::Header(c.clone()),
            Answer::Classes { client, products } => StartStopAnswer::Classes {
                client: client.clone(),
                products: products.clone(),
            },
            Answer::Declaratie(_) | Answer::Wijziging(_) => {
                return Err("dit antwoord past niet bij dit berichttype".into())
            }
        })
    }
}

/// The level-3/4 decision of a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessed {
    /// accepted, partially-accepted, rejected, registered
    pub outcome: &'static str,
    pub lines: Vec<Placed>,
    /// None when the standard prescribes no answer (301, 302).
    pub answer: Option<Answer>,
    pub changes: Changes,
}

impl Assessed {
    /// Rejected as a whole: these findings, this answer, nothing changes.
    pub fn rejected(lines: Vec<Placed>, answer: Answer) -> Assessed {
        Assessed {
            outcome: "rejected",
            lines,
            answer: Some(answer),
            changes: Changes::default(),
        }
    }
}

/// Everything that differs between the message kinds the gemeente receives. The pipeline, the
/// store and replay are generic over it; [`super::registry`] lists the rooms.
pub trait Room: Sync {
    /// "WMO305", …
    fn name(&self) -> &'static str;
    /// The receiver in the message's header (the gemeente for inbound heenberichten).
    fn ontvanger(&self, msg: &Message) -> Option<String>;
    /// The clients and toewijzingen the message is about.
    fn keys(&self, msg: &Message) -> Keys;
    /// The stored state its level-3/4 rules need.
    fn need<'m>(&self, msg: &'m Message) -> Need<'m>;
    /// Level 2: the in-message rules (official XSLT) of this kind.
    fn level2(&self, msg: &Message) -> Vec<Finding> {
        crate::rules::inmessage::check(msg)
    }
    /// Whether the standard prescribes an answer from the gemeente (all heenberichten it
    /// receives except the 301 it sent itself; retours such as the 302 are not answered).
    fn answers(&self) -> bool {
        true
    }
    /// Levels 3/4 on a message that passed level 2 and the header rules, and what it changes.
    /// An error (the rules' result does not fit the message) stores nothing and approves nothing.
    fn assess(&self, msg: &Message, input: &Input) -> Result<Assessed, String>;
    /// Writes the answer: (kind, xml).
    fn answer(
        &self,
        msg: &Message,
        answer: &Answer,
        meta: &RetourMeta,
    ) -> Result<(String, String), String>;
    /// Writes the answer as files of at most `max_bytes` each (None: no limit): (kind,
    /// Identificatie, xml) per file, the first with `meta`'s Identificatie. Only a 325 can grow
    /// with its message; every other answer is one file.
    fn answer_within(
        &self,
        msg: &Message,
        answer: &Answer,
        meta: &RetourMeta,
        _max_bytes: Option<usize>,
    ) -> Result<Vec<(String, String, String)>, String> {
        let (kind, xml) = self.answer(msg, answer, meta)?;
        Ok(vec![(kind, meta.identificatie.clone(), xml)])
    }
}
