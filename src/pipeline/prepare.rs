//! Reading a message before it is decided: intake and level 1, the room it goes to, and storing
//! the messages that are not decided on (invalid ones, and kinds that are only registered).

use sha2::{Digest, Sha256};

use super::{Outcome, Settings};
use crate::decide::{registry, Room};
use crate::message::common::BerichtIdentificatie;
use crate::message::{self, Message, ReadError};
use crate::store::{Claim, Commit, MessageRecord, Store, StoreError};

/// A message that passed intake and level 1 and is about to be decided in its room.
pub struct Valid {
    pub source: String,
    pub bytes: Vec<u8>,
    pub sha: String,
    pub msg: Message,
    pub room: &'static dyn Room,
    pub kind: String,
    pub afzender: String,
    pub ident: BerichtIdentificatie,
    pub base: Outcome,
}

/// What reading a message led to: already handled (invalid, registered), or to be decided.
#[allow(clippy::large_enum_variant)]
pub enum Prepared {
    Done(Outcome),
    Valid(Valid),
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The reason stored with an invalid message (and shown by `process`): Dutch, element paths and
/// rules only, never a value from the message; says so when the list is cut off.
fn error_text(e: &ReadError) -> String {
    const SHOWN: usize = 3;
    match e {
        ReadError::Intake(i) => i.to_string(),
        ReadError::Structure {
            kind,
            errors,
            truncated,
        } => {
            let first: Vec<String> = errors
                .iter()
                .take(SHOWN)
                .map(|e| format!("{} (regel {}): {}", e.path, e.line, e.message))
                .collect();
            let rest = match (errors.len() > SHOWN, truncated) {
                (_, true) => format!(
                    " (eerste {} van meer dan {} fouten getoond; `iwmo check` toont er {})",
                    first.len(),
                    errors.len(),
                    errors.len()
                ),
                (true, false) => format!(
                    " (eerste {} van {} fouten getoond; `iwmo check` toont ze alle)",
                    first.len(),
                    errors.len()
                ),
                _ => String::new(),
            };
            format!("{kind} voldoet niet aan de XSD: {}{rest}", first.join("; "))
        }
        ReadError::Convert { kind, error } => format!("{kind}: {error}"),
    }
}

/// Reads a message; invalid ones (and those not decided on) are stored right away.
pub async fn prepare(
    store: &Store,
    source: &str,
    bytes: &[u8],
    settings: &Settings,
) -> Result<Prepared, StoreError> {
    let sha = sha256_hex(bytes);
    let msg = match message::read(bytes, settings.read) {
        Ok(p) => p.message,
        Err(e) => {
            return Ok(Prepared::Done(
                invalid(store, source, bytes, &sha, &e).await?,
            ))
        }
    };
    let kind = msg.kind();
    if registry::sent_by_gemeente(kind) {
        let e = format!("{kind} wordt door de gemeente verstuurd, niet ontvangen");
        let mut o =
            invalid_record(store, source, bytes, (&sha, &sha), Some(&msg), e.clone()).await?;
        o.error = Some(e);
        return Ok(Prepared::Done(o));
    }
    let (Some(room), Some((afzender, ident))) = (registry::room(kind), msg.identification()) else {
        return Ok(Prepared::Done(
            registered(store, source, bytes, sha, &msg).await?,
        ));
    };
    let base = Outcome {
        file: source.to_string(),
        kind: Some(kind.name()),
        afzender: Some(afzender.clone()),
        identificatie: Some(ident.identificatie.clone()),
        ..Default::default()
    };
    let ident = ident.clone();
    Ok(Prepared::Valid(Valid {
        source: source.to_string(),
        bytes: bytes.to_vec(),
        sha,
        room,
        kind: kind.name(),
        afzender,
        ident,
        msg,
        base,
    }))
}

/// A level-1-valid kind without a room of its own (a WMO320): stored, not decided on.
async fn registered(
    store: &Store,
    source: &str,
    bytes: &[u8],
    sha: String,
    msg: &Message,
) -> Result<Outcome, StoreError> {
    let kind = msg.kind().name();
    let c = store
        .commit(Commit {
            message: record(source, bytes, sha, Some(msg), "registered", None),
            decision: None,
            changes: Default::default(),
            answer: None,
            more_answers: Vec::new(),
            delivered_via: None,
        })
        .await?;
    Ok(Outcome {
        file: source.to_string(),
        kind: Some(kind),
        outcome: "registered".into(),
        message_id: Some(c.message_id),
        ..Default::default()
    })
}

/// The message row of a message that is not decided on.
fn record(
    source: &str,
    bytes: &[u8],
    sha: String,
    msg: Option<&Message>,
    outcome: &str,
    error: Option<String>,
) -> MessageRecord {
    let ident = msg.and_then(|m| m.identification());
    MessageRecord {
        source: source.to_string(),
        sha256: sha,
        raw: bytes.to_vec(),
        kind: msg.map(|m| m.kind().name()),
        afzender: ident.as_ref().map(|(a, _)| a.clone()),
        ontvanger: msg.and_then(|m| registry::room(m.kind())?.ontvanger(m)),
        identificatie: ident.as_ref().map(|(_, i)| i.identificatie.clone()),
        dagtekening: ident
            .as_ref()
            .map(|(_, i)| i.dagtekening.format("%Y-%m-%d").to_string()),
        outcome: outcome.into(),
        error,
        claimed: false,
        id: None,
    }
}

async fn invalid(
    store: &Store,
    source: &str,
    bytes: &[u8],
    sha: &str,
    e: &ReadError,
) -> Result<Outcome, StoreError> {
    let kind = match e {
        ReadError::Structure { kind, .. } | ReadError::Convert { kind, .. } => Some(kind.name()),
        ReadError::Intake(_) => None,
    };
    let text = error_text(e);
    let mut o = invalid_record(store, source, bytes, (sha, sha), None, text.clone()).await?;
    o.kind = kind;
    o.error = Some(text);
    Ok(o)
}

/// Inbox-key sender under which invalid messages are claimed by their hash.
const INVALID_SENDER: &str = "-";

/// Stores an invalid message (once per distinct content); no answer (the hub reports it).
async fn invalid_record(
    store: &Store,
    source: &str,
    bytes: &[u8],
    (sha, key): (&str, &str),
    msg: Option<&Message>,
    error: String,
) -> Result<Outcome, StoreError> {
    let ident = msg.and_then(|m| m.identification());
    let message_id = match store.invalid_by_hash(key).await? {
        Some((id, _)) => id,
        // Claimed under its hash, so two workers receiving the same bytes at the same moment
        // store it once.
        None => {
            let mut tx = store.begin().await?;
            match tx.claim(INVALID_SENDER, "ongeldig", key, key).await? {
                Claim::Duplicate(id) => {
                    tx.rollback().await?;
                    id
                }
                claim => {
                    let mut m = record(source, bytes, sha.to_string(), msg, "invalid", Some(error));
                    m.id = match claim {
                        Claim::New(id) => id,
                        _ => None,
                    };
                    let reserved = m.id;
                    let c = tx
                        .apply(Commit {
                            message: m,
                            decision: None,
                            changes: Default::default(),
                            answer: None,
                            more_answers: Vec::new(),
                            delivered_via: None,
                        })
                        .await?;
                    if reserved.is_none() {
                        tx.set_claim(INVALID_SENDER, "ongeldig", key, c.message_id)
                            .await?;
                    }
                    tx.commit().await?;
                    c.message_id
                }
            }
        }
    };
    Ok(Outcome {
        file: source.to_string(),
        kind: msg.map(|m| m.kind().name()),
        afzender: ident.as_ref().map(|(a, _)| a.clone()),
        identificatie: ident.as_ref().map(|(_, i)| i.identificatie.clone()),
        outcome: "invalid".into(),
        message_id: Some(message_id),
        ..Default::default()
    })
}

/// Records a message refused before it could be read whole (over the size cap): its first
/// bytes stand in for the body (and are what the hash chain covers: the stored hash is theirs),
/// claimed under the hash of the whole body (so the same file again is the same record), which
/// the stored reason names; no answer. The outcome is `invalid`, with `reason`.
pub async fn refused(
    store: &Store,
    source: &str,
    preview: &[u8],
    sha_of_whole: &str,
    reason: String,
) -> Result<Outcome, StoreError> {
    let stored = format!(
        "{reason} (opgeslagen: de eerste {} bytes; sha256 van het hele bericht {sha_of_whole})",
        preview.len()
    );
    let sha = sha256_hex(preview);
    let mut o = invalid_record(store, source, preview, (&sha, sha_of_whole), None, stored).await?;
    o.error = Some(reason);
    Ok(o)
}
