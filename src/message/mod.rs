//! The iWmo 3.2 message layer: kinds, the typed messages, level-1 parsing and writing.

pub mod common;
pub mod declaratie;
pub mod intake;
pub mod namespaces;
pub mod schema;
pub mod startstop;
pub mod toewijzing;
pub mod verzoek;
pub mod wellformed;
pub mod xml;

pub use common::{
    AanbiederHeader, Class, GemeenteHeader, Header, Product, ProductCode, Retour, RetourHeader,
};
pub use declaratie::{Prestatie, Wmo323, Wmo325};
pub use startstop::{StartProduct, StopProduct, Wmo305, Wmo306, Wmo307, Wmo308};
pub use toewijzing::{ToegewezenProduct, Wmo301, Wmo302};
pub use verzoek::{
    AangevraagdProduct, NieuwProduct, OngewijzigdProduct, TeWijzigenProduct, Wmo315, Wmo316,
    Wmo317, Wmo318,
};

use intake::IntakeError;
use schema::StructureError;
use xml::{ConvertError, El};

/// The iWmo 3.2 message kinds (all 14 XSDs; typed models exist for the ones a municipal back
/// office receives or writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    Wmo301,
    Wmo302,
    Wmo305,
    Wmo306,
    Wmo307,
    Wmo308,
    Wmo315,
    Wmo316,
    Wmo317,
    Wmo318,
    Wmo319,
    Wmo320,
    Wmo323,
    Wmo325,
}

impl MessageKind {
    pub const ALL: [MessageKind; 14] = [
        MessageKind::Wmo301,
        MessageKind::Wmo302,
        MessageKind::Wmo305,
        MessageKind::Wmo306,
        MessageKind::Wmo307,
        MessageKind::Wmo308,
        MessageKind::Wmo315,
        MessageKind::Wmo316,
        MessageKind::Wmo317,
        MessageKind::Wmo318,
        MessageKind::Wmo319,
        MessageKind::Wmo320,
        MessageKind::Wmo323,
        MessageKind::Wmo325,
    ];

    /// 301, 305, …
    pub fn number(&self) -> u16 {
        match self {
            MessageKind::Wmo301 => 301,
            MessageKind::Wmo302 => 302,
            MessageKind::Wmo305 => 305,
            MessageKind::Wmo306 => 306,
            MessageKind::Wmo307 => 307,
            MessageKind::Wmo308 => 308,
            MessageKind::Wmo315 => 315,
            MessageKind::Wmo316 => 316,
            MessageKind::Wmo317 => 317,
            MessageKind::Wmo318 => 318,
            MessageKind::Wmo319 => 319,
            MessageKind::Wmo320 => 320,
            MessageKind::Wmo323 => 323,
            MessageKind::Wmo325 => 325,
        }
    }

    /// BerichtCode (COD002): 301 = 414, 305 = 418, …, 325 = 485.
    pub fn bericht_code(&self) -> u16 {
        match self {
            MessageKind::Wmo301 => 414,
            MessageKind::Wmo302 => 415,
            MessageKind::Wmo305 => 418,
            MessageKind::Wmo306 => 419,
            MessageKind::Wmo307 => 420,
            MessageKind::Wmo308 => 421,
            MessageKind::Wmo315 => 444,
            MessageKind::Wmo316 => 445,
            MessageKind::Wmo317 => 480,
            MessageKind::Wmo318 => 481,
            MessageKind::Wmo319 => 482,
            MessageKind::Wmo320 => 483,
            MessageKind::Wmo323 => 484,
            MessageKind::Wmo325 => 485,
        }
    }

    pub fn from_number(n: u16) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.number() == n)
    }

    /// "WMO305".
    pub fn name(&self) -> String {
        format!("WMO{}", self.number())
    }

    pub fn namespace(&self) -> String {
        namespaces::message_ns(self.number())
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WMO{}", self.number())
    }
}

impl serde::Serialize for MessageKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// A level-1-valid message, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Wmo301(Wmo301),
    Wmo302(Wmo302),
    Wmo305(Wmo305),
    Wmo306(Wmo306),
    Wmo307(Wmo307),
    Wmo308(Wmo308),
    Wmo315(Wmo315),
    Wmo316(Wmo316),
    Wmo317(Wmo317),
    Wmo318(Wmo318),
    Wmo323(Wmo323),
    Wmo325(Wmo325),
    /// 319/320: checked at level 1 only; no typed model yet.
    Untyped(MessageKind),
}

impl Message {
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Wmo301(_) => MessageKind::Wmo301,
            Message::Wmo302(_) => MessageKind::Wmo302,
            Message::Wmo305(_) => MessageKind::Wmo305,
            Message::Wmo306(_) => MessageKind::Wmo306,
            Message::Wmo307(_) => MessageKind::Wmo307,
            Message::Wmo308(_) => MessageKind::Wmo308,
            Message::Wmo315(_) => MessageKind::Wmo315,
            Message::Wmo316(_) => MessageKind::Wmo316,
            Message::Wmo317(_) => MessageKind::Wmo317,
            Message::Wmo318(_) => MessageKind::Wmo318,
            Message::Wmo323(_) => MessageKind::Wmo323,
            Message::Wmo325(_) => MessageKind::Wmo325,
            Message::Untyped(k) => *k,
        }
    }

    /// Writes the message as iWmo XML (None for untyped kinds).
    pub fn to_xml(&self) -> Option<String> {
        Some(match self {
            Message::Wmo301(m) => m.to_xml(),
            Message::Wmo302(m) => m.to_xml(),
            Message::Wmo305(m) => m.to_xml(),
            Message::Wmo306(m) => m.to_xml(),
            Message::Wmo307(m) => m.to_xml(),
            Message::Wmo308(m) => m.to_xml(),
            Message::Wmo315(m) => m.to_xml(),
            Message::Wmo316(m) => m.to_xml(),
            Message::Wmo317(m) => m.to_xml(),
            Message::Wmo318(m) => m.to_xml(),
            Message::Wmo323(m) => m.to_xml(),
            Message::Wmo325(m) => m.to_xml(),
            Message::Untyped(_) => return None,
        })
    }

    /// (Afzender, Identificatie, Dagtekening) of the message's own header.
    pub fn identification(&self) -> Option<(String, &common::BerichtIdentificatie)> {
        Some(match self {
            Message::Wmo301(m) => (
                m.header.afzender.to_string(),
                &m.header.bericht_identificatie,
            ),
            Message::Wmo302(m) => (
                m.header.heen.ontvanger.to_string(),
                &m.header.heen.bericht_identificatie,
            ),
            Message::Wmo305(m) => (
                m.header.afzender.to_string(),
                &m.header.bericht_identificatie,
            ),
            Message::Wmo306(m) => (
                m.header.heen.afzender.to_string(),
                &m.header.heen.bericht_identificatie,
            ),
            Message::Wmo307(m) => (
                m.header.afzender.to_string(),
                &m.header.bericht_identificatie,
            ),
            Message::Wmo308(m) => (
                m.header.heen.afzender.to_string(),
                &m.header.heen.bericht_identificatie,
            ),
            Message::Wmo315(m) => (
                m.header.afzender.to_string(),
                &m.header.bericht_identificatie,
            ),
            Message::Wmo316(m) => (
                m.header.heen.afzender.to_string(),
                &m.header.heen.bericht_identificatie,
            ),
            Message::Wmo317(m) => (
                m.header.afzender.to_string(),
                &m.header.bericht_identificatie,
            ),
            Message::Wmo318(m) => (
                m.header.heen.afzender.to_string(),
                &m.header.heen.bericht_identificatie,
            ),
            Message::Wmo323(m) => (
                m.header.afzender.to_string(),
                &m.header.bericht_identificatie,
            ),
            Message::Wmo325(m) => (
                m.header.header.afzender.to_string(),
                &m.header.header.bericht_identificatie,
            ),
            Message::Untyped(_) => return None,
        })
    }
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Refused before parsing (size, encoding, DOCTYPE, not well-formed, unknown namespace).
    #[error(transparent)]
    Intake(#[from] IntakeError),
    /// Level 1: the message does not conform to the XSD.
    #[error("{kind} voldoet niet aan de XSD ({})", schema::count_text(errors.len(), *truncated))]
    Structure {
        kind: MessageKind,
        errors: Vec<StructureError>,
        /// More errors were found than [`schema::validate::MAX_ERRORS`]; the rest is not listed.
        truncated: bool,
    },
    /// A level-1-valid value that the domain types cannot hold (e.g. year 0 after XSD checks).
    #[error("{kind}: {error}")]
    Convert {
        kind: MessageKind,
        error: ConvertError,
    },
}

/// A message that passed intake and level 1.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub message: Message,
    pub had_bom: bool,
}

/// Options for reading messages.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub max_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_bytes: intake::DEFAULT_MAX_BYTES,
        }
    }
}

/// Intake guards + level 1 + typed model, in one pass over the bytes.
pub fn read(bytes: &[u8], opts: ReadOptions) -> Result<Parsed, ReadError> {
    let guarded = intake::guard(bytes, opts.max_bytes)?;
    let (doc, errors, schema) = schema::validate_with(guarded.text, |uri| {
        let kind = intake::kind_of_namespace(uri)?;
        match (
            schema::schema_for(kind.number()),
            namespaces::message_ns_static(kind.number()),
        ) {
            (Some(s), Some(ns)) => Ok((s, ns)),
            _ => Err(IntakeError::NotIwmo {
                has_namespace: true,
            }),
        }
    })
    .map_err(|e| match e {
        schema::ValidateError::NotWellFormed(e) => IntakeError::NotWellFormed {
            line: e.line,
            column: e.column,
            message: e.message,
        },
        schema::ValidateError::Root(e) => e,
    })?;
    let kind = MessageKind::from_number(schema.number).ok_or(IntakeError::NotIwmo {
        has_namespace: true,
    })?;
    if !errors.list.is_empty() {
        return Err(ReadError::Structure {
            kind,
            errors: errors.list,
            truncated: errors.truncated,
        });
    }
    let message =
        typed(kind, El::root(&doc)).map_err(|error| ReadError::Convert { kind, error })?;
    Ok(Parsed {
        message,
        had_bom: guarded.had_bom,
    })
}

fn typed(kind: MessageKind, root: El<'_, '_>) -> Result<Message, ConvertError> {
    Ok(match kind {
        MessageKind::Wmo301 => Message::Wmo301(Wmo301::from_doc(root)?),
        MessageKind::Wmo302 => Message::Wmo302(Wmo302::from_doc(root)?),
        MessageKind::Wmo305 => Message::Wmo305(Wmo305::from_doc(root)?),
        MessageKind::Wmo306 => Message::Wmo306(Wmo306::from_doc(root)?),
        MessageKind::Wmo307 => Message::Wmo307(Wmo307::from_doc(root)?),
        MessageKind::Wmo308 => Message::Wmo308(Wmo308::from_doc(root)?),
        MessageKind::Wmo315 => Message::Wmo315(Wmo315::from_doc(root)?),
        MessageKind::Wmo316 => Message::Wmo316(Wmo316::from_doc(root)?),
        MessageKind::Wmo317 => Message::Wmo317(Wmo317::from_doc(root)?),
        MessageKind::Wmo318 => Message::Wmo318(Wmo318::from_doc(root)?),
        MessageKind::Wmo323 => Message::Wmo323(Wmo323::from_doc(root)?),
        MessageKind::Wmo325 => Message::Wmo325(Wmo325::from_doc(root)?),
        other => Message::Untyped(other),
    })
}
