//! One way through the house for one message: intake → message → rules → store (one
//! transaction) → answer. Used by `iwmo process` (files) and `iwmo serve` (queue, inbox dir).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::decide::{self, Decided, Input, Snapshot};
use crate::domain::{DebetCredit, RetourCode};
use crate::message::{self, Message, ReadError, ReadOptions};
use crate::retour::RetourMeta;
use crate::rules::catalogue::RULESET_VERSION;
use crate::rules::state::Toewijzing;
use crate::store::apply::{DecisionRecord, Line, MessageRecord, NewClass};
use crate::store::{
    Claim, Commit, Effects, InboxKey, NewPrestatie, Store, StoreError, Tx, MAX_STRIPES,
};

/// The result line of one message (`iwmo process` prints it as JSON).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Outcome {
    pub file: String,
    pub kind: Option<String>,
    pub afzender: Option<String>,
    pub identificatie: Option<String>,
    /// accepted | partially-accepted | rejected | invalid | duplicate | registered
    pub outcome: String,
    pub codes: Vec<String>,
    /// Path of the answer written (None when the standard prescribes none).
    pub answer: Option<String>,
    /// Why a message is invalid (intake / level 1), in Dutch, without personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub message_id: Option<i64>,
    /// The answer itself (for transports that publish it).
    #[serde(skip)]
    pub answer_xml: Option<(String, String, String)>,
}

/// Settings of the pipeline.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub read: ReadOptions,
    /// Where answers are written as files right away (`iwmo process`); None: they wait in the
    /// outbox for the relay (`iwmo serve`).
    pub out_dir: Option<PathBuf>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn write_answer(
    out: Option<&Path>,
    kind: &str,
    ident: &str,
    xml: &str,
) -> Result<Option<String>, StoreError> {
    let Some(dir) = out else { return Ok(None) };
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::Corrupt(format!("kan map {} niet maken: {e}", dir.display())))?;
    let path = dir.join(format!("{kind}-{ident}.xml"));
    let tmp = dir.join(format!(".{kind}-{ident}.xml.tmp"));
    std::fs::write(&tmp, xml)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            StoreError::Corrupt(format!(
                "kan antwoord {} niet schrijven: {e}",
                path.display()
            ))
        })?;
    Ok(Some(path.display().to_string()))
}

fn error_text(e: &ReadError) -> String {
    match e {
        ReadError::Intake(i) => i.to_string(),
        ReadError::Structure { kind, errors } => {
            let first: Vec<String> = errors
                .iter()
                .take(3)
                .map(|e| format!("{}: {}", e.path, e.message))
                .collect();
            format!("{kind} voldoet niet aan de XSD: {}", first.join("; "))
        }
        ReadError::Convert { kind, error } => format!("{kind}: {error}"),
    }
}

/// A message that passed intake and level 1 and is about to be decided.
pub struct Valid {
    source: String,
    bytes: Vec<u8>,
    sha: String,
    msg: Message,
    kind: String,
    afzender: String,
    ident: crate::message::common::BerichtIdentificatie,
    base: Outcome,
}

/// What reading a message led to: already handled (invalid, registered), or to be decided.
#[allow(clippy::large_enum_variant)]
enum Prepared {
    Done(Outcome),
    Valid(Valid),
}

/// What one message did inside a (possibly shared) transaction.
enum Step {
    Stored(Outcome),
    /// The very same message was stored before as this message id.
    Duplicate(i64, Outcome),
}

/// Processes one message: decides, stores everything in one transaction, writes the answer.
/// Returns an error only when the store itself fails (then nothing was stored).
pub async fn process(
    store: &Store,
    source: &str,
    bytes: &[u8],
    today: NaiveDate,
    settings: &Settings,
) -> Result<Outcome, StoreError> {
    match prepare(store, source, bytes, settings).await? {
        Prepared::Done(o) => Ok(o),
        Prepared::Valid(v) => process_valid(store, &v, today, settings).await,
    }
}

/// Processes several messages, the valid ones in one shared transaction (one commit, one lock
/// statement, in the given order, so a later message sees what an earlier one stored). If that
/// transaction fails, each message is processed again on its own, so one message can never
/// hold the others back. The result for each message is at its index; an error means nothing
/// of that message was stored.
pub async fn process_batch(
    store: &Store,
    items: &[(String, Vec<u8>)],
    today: NaiveDate,
    settings: &Settings,
) -> Vec<Result<Outcome, StoreError>> {
    let mut results: Vec<Option<Result<Outcome, StoreError>>> =
        (0..items.len()).map(|_| None).collect();
    let mut valid: Vec<(usize, Valid)> = Vec::new();
    for (i, (source, bytes)) in items.iter().enumerate() {
        match prepare(store, source, bytes, settings).await {
            Ok(Prepared::Done(o)) => results[i] = Some(Ok(o)),
            Ok(Prepared::Valid(v)) => valid.push((i, v)),
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    for part in transactions(&valid) {
        let part = &valid[part];
        let shared = if part.len() > 1 {
            match shared_transaction(store, part, today, settings).await {
                Ok(steps) => Some(steps),
                Err(e) => {
                    tracing::warn!(error = %e, berichten = part.len(), "gezamenlijke transactie mislukt; berichten elk apart");
                    None
                }
            }
        } else {
            None
        };
        match shared {
            Some(steps) => {
                for ((i, _), st) in part.iter().zip(steps) {
                    results[*i] = Some(after_commit(store, st, settings).await);
                }
            }
            None => {
                for (i, v) in part {
                    results[*i] = Some(process_valid(store, v, today, settings).await);
                }
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StoreError::Corrupt("bericht niet verwerkt".into()))))
        .collect()
}

/// Splits a batch (in order) into transactions that lock at most [`MAX_STRIPES`] clients
/// each, so a batch of large declarations does not need the exclusive all-clients lock; a
/// single message about more clients is a transaction of its own.
fn transactions(valid: &[(usize, Valid)]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut clients: std::collections::HashSet<(String, String)> = Default::default();
    for (n, (_, v)) in valid.iter().enumerate() {
        let mine = clients_of(&v.msg);
        let new = mine.iter().filter(|c| !clients.contains(*c)).count();
        if n > start && clients.len() + new > MAX_STRIPES {
            out.push(start..n);
            start = n;
            clients.clear();
        }
        clients.extend(mine);
    }
    if start < valid.len() {
        out.push(start..valid.len());
    }
    out
}

/// Decides several messages in one transaction: one lock statement for all their clients, the
/// messages in groups (see [`groups`]), one commit.
async fn shared_transaction(
    store: &Store,
    part: &[(usize, Valid)],
    today: NaiveDate,
    settings: &Settings,
) -> Result<Vec<Step>, StoreError> {
    let mut tx: Tx = store.begin().await?;
    let clients: Vec<(String, String)> =
        part.iter().flat_map(|(_, v)| clients_of(&v.msg)).collect();
    tx.lock_clients(&clients).await?;
    let vs: Vec<&Valid> = part.iter().map(|(_, v)| v).collect();
    let mut steps: Vec<Option<Step>> = (0..vs.len()).map(|_| None).collect();
    for group in groups(&vs) {
        let members: Vec<&Valid> = group.iter().map(|&i| vs[i]).collect();
        for (i, st) in group
            .into_iter()
            .zip(step_group(&mut tx, &members, today, settings).await?)
        {
            steps[i] = Some(st);
        }
    }
    let steps = steps
        .into_iter()
        .map(|s| s.ok_or_else(|| StoreError::Corrupt("bericht niet verwerkt".into())))
        .collect::<Result<Vec<Step>, StoreError>>()?;
    tx.commit().await?;
    Ok(steps)
}

/// Reads a message; invalid ones (and those not decided on) are stored right away.
async fn prepare(
    store: &Store,
    source: &str,
    bytes: &[u8],
    settings: &Settings,
) -> Result<Prepared, StoreError> {
    let sha = sha256_hex(bytes);
    let parsed = match message::read(bytes, settings.read) {
        Ok(p) => p,
        Err(e) => {
            return Ok(Prepared::Done(
                invalid(store, source, bytes, &sha, &e).await?,
            ))
        }
    };
    let msg = parsed.message;
    let kind = msg.kind().name();
    let (afzender, ident) = match msg.identification() {
        Some((a, i)) => (a, i.clone()),
        None => {
            // 315–320: level 1 checked, stored, not processed further yet.
            let c = store
                .commit(Commit {
                    message: MessageRecord {
                        source: source.to_string(),
                        sha256: sha,
                        raw: bytes.to_vec(),
                        kind: Some(kind.clone()),
                        afzender: None,
                        ontvanger: None,
                        identificatie: None,
                        dagtekening: None,
                        outcome: "registered".into(),
                        error: None,
                        claimed: false,
                        id: None,
                    },
                    decision: None,
                    effects: Effects::None,
                    delivered_via: None,
                })
                .await?;
            return Ok(Prepared::Done(Outcome {
                file: source.to_string(),
                kind: Some(kind),
                afzender: None,
                identificatie: None,
                outcome: "registered".into(),
                codes: vec![],
                answer: None,
                error: None,
                message_id: Some(c.message_id),
                answer_xml: None,
            }));
        }
    };
    let base = Outcome {
        file: source.to_string(),
        kind: Some(kind.clone()),
        afzender: Some(afzender.clone()),
        identificatie: Some(ident.identificatie.clone()),
        ..Default::default()
    };
    if matches!(
        msg,
        Message::Wmo306(_) | Message::Wmo308(_) | Message::Wmo325(_)
    ) {
        let e = format!("{kind} wordt door de gemeente verstuurd, niet ontvangen");
        let mut o = invalid_record(store, source, bytes, &sha, Some(&msg), e.clone()).await?;
        o.error = Some(e);
        return Ok(Prepared::Done(o));
    }
    Ok(Prepared::Valid(Valid {
        source: source.to_string(),
        bytes: bytes.to_vec(),
        sha,
        msg,
        kind,
        afzender,
        ident,
        base,
    }))
}

/// One valid message in a transaction of its own; deadlocks or serialisation failures between
/// replicas are retried from the start.
async fn process_valid(
    store: &Store,
    v: &Valid,
    today: NaiveDate,
    settings: &Settings,
) -> Result<Outcome, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let r = async {
            let mut tx: Tx = store.begin().await?;
            tx.lock_clients(&clients_of(&v.msg)).await?;
            let st = step(&mut tx, v, today, settings).await?;
            match st {
                Step::Duplicate(..) => tx.rollback().await?,
                Step::Stored(_) => tx.commit().await?,
            }
            Ok::<_, StoreError>(st)
        }
        .await;
        match r {
            Err(StoreError::Db(e)) if attempt < 4 && is_transient(&e) => {
                tracing::warn!(attempt, "transactie opnieuw na conflict");
                continue;
            }
            Err(e) => return Err(e),
            Ok(st) => return after_commit(store, st, settings).await,
        }
    }
}

/// After the commit: a duplicate gets its stored answer again; answers are written as files
/// where the settings say so.
async fn after_commit(store: &Store, st: Step, settings: &Settings) -> Result<Outcome, StoreError> {
    match st {
        Step::Duplicate(mid, base) => duplicate(store, mid, base, settings).await,
        Step::Stored(mut out) => {
            if let Some((k, id, xml)) = &out.answer_xml {
                out.answer = write_answer(settings.out_dir.as_deref(), k, id, xml)?;
            }
            Ok(out)
        }
    }
}

/// A conflict that a retry resolves (deadlock, serialisation failure, busy database).
fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            matches!(code.as_str(), "40P01" | "40001" | "5" | "6" | "517" | "261")
        }
        _ => false,
    }
}

/// Gemeente, client and ToewijzingNummers of a 305/307 (what its snapshot is loaded for).
fn startstop_keys(
    msg: &Message,
) -> Option<(
    crate::domain::Gemeentecode,
    crate::domain::Bsn,
    Vec<crate::domain::ToewijzingNummer>,
)> {
    match msg {
        Message::Wmo305(m) => Some((
            m.header.ontvanger,
            m.client.bsn,
            m.client
                .producten
                .iter()
                .filter_map(|p| p.toewijzing_nummer)
                .collect(),
        )),
        Message::Wmo307(m) => Some((
            m.header.ontvanger,
            m.client.bsn,
            m.client
                .producten
                .iter()
                .filter_map(|p| p.toewijzing_nummer)
                .collect(),
        )),
        _ => None,
    }
}

/// The clients a message is about (locked for the duration of its transaction).
fn clients_of(msg: &Message) -> Vec<(String, String)> {
    match msg {
        Message::Wmo301(m) => vec![(
            m.header.afzender.to_string(),
            m.client.bsn.expose().to_string(),
        )],
        Message::Wmo305(m) => vec![(
            m.header.ontvanger.to_string(),
            m.client.bsn.expose().to_string(),
        )],
        Message::Wmo307(m) => vec![(
            m.header.ontvanger.to_string(),
            m.client.bsn.expose().to_string(),
        )],
        Message::Wmo323(m) => m
            .declaratie
            .clienten
            .iter()
            .map(|c| (m.header.ontvanger.to_string(), c.bsn.expose().to_string()))
            .collect(),
        _ => vec![],
    }
}

/// Claims, decides and writes one message inside `tx` (not committed here).
async fn step(
    tx: &mut Tx,
    v: &Valid,
    today: NaiveDate,
    settings: &Settings,
) -> Result<Step, StoreError> {
    step_group(tx, &[v], today, settings)
        .await?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("bericht niet verwerkt".into()))
}

/// What a message reads and writes besides its own inbox key: its clients and the
/// toewijzingen it names. Messages with disjoint keys can be decided as one group.
fn touches(v: &Valid) -> Vec<String> {
    let mut keys: Vec<String> = clients_of(&v.msg)
        .into_iter()
        .map(|(g, b)| format!("c{g}:{b}"))
        .collect();
    keys.push(format!(
        "k{}:{}:{}",
        v.afzender, v.kind, v.ident.identificatie
    ));
    match &v.msg {
        Message::Wmo301(m) => keys.extend(
            m.client
                .toegewezen_producten
                .iter()
                .map(|p| format!("t{}:{}", m.header.afzender, p.toewijzing_nummer.get())),
        ),
        _ => {
            if let Some((g, _, nrs)) = startstop_keys(&v.msg) {
                keys.extend(nrs.iter().map(|n| format!("t{g}:{}", n.get())));
            }
        }
    }
    keys
}

/// Whether a message can share a group: its state is that of its own clients and toewijzingen
/// (a 323 also reads what its aanbieder declared before, so it goes alone).
fn groupable(msg: &Message) -> bool {
    matches!(
        msg,
        Message::Wmo301(_) | Message::Wmo305(_) | Message::Wmo307(_)
    )
}

/// Splits messages into groups that can be decided together, in the order to process them.
/// A groupable message goes into the first group after every earlier message it shares a key
/// with (so per client, toewijzing and inbox key the delivery order is kept, and a burst for one
/// client does not split the others' group); any other message (a 323) is a barrier, alone in
/// its group after everything before it. Each message sees the state it would see one by one.
fn groups(vs: &[&Valid]) -> Vec<Vec<usize>> {
    let mut level_of_key: std::collections::HashMap<String, usize> = Default::default();
    let mut levels: Vec<Vec<usize>> = Vec::new();
    let mut floor = 0;
    for (i, v) in vs.iter().enumerate() {
        let level = if groupable(&v.msg) {
            let keys = touches(v);
            let level = keys
                .iter()
                .filter_map(|k| level_of_key.get(k).map(|l| l + 1))
                .fold(floor, usize::max);
            for k in keys {
                level_of_key.insert(k, level);
            }
            level
        } else {
            let level = levels.len();
            floor = level + 1;
            level
        };
        if levels.len() <= level {
            levels.resize_with(level + 1, Vec::new);
        }
        levels[level].push(i);
    }
    levels
}

/// Claims, decides and writes a group of messages with disjoint keys inside `tx` (not
/// committed here): one claim statement, snapshots read together, all writes set-based.
async fn step_group(
    tx: &mut Tx,
    vs: &[&Valid],
    today: NaiveDate,
    settings: &Settings,
) -> Result<Vec<Step>, StoreError> {
    // The same message again (same sender, kind, Identificatie and bytes): answer the same way.
    let keys: Vec<InboxKey> = vs
        .iter()
        .map(|v| InboxKey {
            afzender: v.afzender.clone(),
            kind: v.kind.clone(),
            identificatie: v.ident.identificatie.clone(),
            sha256: v.sha.clone(),
        })
        .collect();
    let claims = tx.claim_all(&keys).await?;

    // Snapshots: those of 305/307s in one go, a 323's on its own.
    let t_snapshot = std::time::Instant::now();
    let mut snapshots: Vec<Snapshot> = (0..vs.len()).map(|_| Snapshot::Geen).collect();
    let mut startstop: Vec<(usize, _)> = Vec::new();
    for (i, (v, c)) in vs.iter().zip(&claims).enumerate() {
        if matches!(c, Claim::Duplicate(_))
            || !decide::needs_state(&v.msg, today, *c == Claim::Reused)
        {
            continue;
        }
        match &v.msg {
            Message::Wmo323(m) => {
                snapshots[i] = Snapshot::Declaratie(tx.declaratie_snapshot(m).await?)
            }
            msg => {
                if let Some(k) = startstop_keys(msg) {
                    startstop.push((i, k));
                }
            }
        }
    }
    if !startstop.is_empty() {
        let requests: Vec<_> = startstop.iter().map(|(_, k)| k.clone()).collect();
        for ((i, _), s) in startstop
            .iter()
            .zip(tx.startstop_snapshots(&requests).await?)
        {
            snapshots[*i] = Snapshot::StartStop(s);
        }
    }
    let snapshot_time = t_snapshot.elapsed();

    let t_decide = std::time::Instant::now();
    let mut steps: Vec<Option<Step>> = Vec::with_capacity(vs.len());
    let mut commits = Vec::new();
    let mut pending = Vec::new();
    for ((v, claim), snapshot) in vs.iter().zip(claims).zip(snapshots) {
        let (reused, reserved) = match claim {
            Claim::Duplicate(mid) => {
                steps.push(Some(Step::Duplicate(mid, v.base.clone())));
                continue;
            }
            Claim::Reused => (true, None),
            Claim::New(id) => (false, id),
        };
        let input = Input {
            today,
            identificatie_hergebruikt: reused,
            snapshot,
        };
        let decided = decide::decide(&v.msg, &input);
        commits.push(commit_of(
            v,
            &decided,
            &input,
            (reused, reserved),
            today,
            settings,
        )?);
        pending.push((steps.len(), decided));
        steps.push(None);
    }
    let decide_time = t_decide.elapsed();

    let t_commit = std::time::Instant::now();
    let committed = tx.apply_all(commits).await?;
    tracing::debug!(
        berichten = vs.len(),
        snapshot_ms = snapshot_time.as_secs_f64() * 1e3,
        decide_ms = decide_time.as_secs_f64() * 1e3,
        commit_ms = t_commit.elapsed().as_secs_f64() * 1e3,
        "fasen"
    );
    for ((n, decided), c) in pending.into_iter().zip(committed) {
        let mut out = vs[n].base.clone();
        out.outcome = decided.outcome.to_string();
        out.message_id = Some(c.message_id);
        out.codes = match &c.answer {
            Some((_, _, xml)) => decide::answer_codes(xml),
            None => decided
                .lines
                .iter()
                .map(|l| l.finding.code.code().to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
        };
        out.answer_xml = c.answer;
        steps[n] = Some(Step::Stored(out));
    }
    steps
        .into_iter()
        .map(|s| s.ok_or_else(|| StoreError::Corrupt("bericht niet verwerkt".into())))
        .collect()
}

/// Everything to write about one decided message.
fn commit_of(
    v: &Valid,
    decided: &Decided,
    input: &Input,
    (reused, reserved): (bool, Option<i64>),
    today: NaiveDate,
    settings: &Settings,
) -> Result<Commit, StoreError> {
    let effects = effects_of(&v.msg, decided, input)?;
    let snapshot_json = serde_json::to_string(input).unwrap_or_default();
    let answer: Option<crate::store::apply::AnswerBuilder> = decided.answer.clone().map(|a| {
        let msg = v.msg.clone();
        let f: crate::store::apply::AnswerBuilder = Box::new(move |ident: &str| {
            decide::render(
                &msg,
                &a,
                &RetourMeta {
                    identificatie: ident.to_string(),
                    dagtekening: today,
                },
            )
        });
        f
    });
    let lines = decided
        .lines
        .iter()
        .map(|p| Line {
            class: p.class,
            position: p.position,
            referentie_nummer: p.referentie_nummer.clone(),
            finding: p.finding.clone(),
        })
        .collect();
    let mut codes: Vec<String> = decided
        .lines
        .iter()
        .map(|l| l.finding.code.code().to_string())
        .collect();
    codes.sort();
    codes.dedup();
    Ok(Commit {
        message: MessageRecord {
            source: v.source.clone(),
            sha256: v.sha.clone(),
            raw: v.bytes.clone(),
            kind: Some(v.kind.clone()),
            afzender: Some(v.afzender.clone()),
            ontvanger: recipient(&v.msg),
            identificatie: Some(v.ident.identificatie.clone()),
            dagtekening: Some(v.ident.dagtekening.format("%Y-%m-%d").to_string()),
            outcome: decided.outcome.to_string(),
            error: None,
            claimed: !reused,
            id: reserved,
        },
        decision: Some(DecisionRecord {
            today,
            ruleset: RULESET_VERSION.to_string(),
            outcome: decided.outcome.to_string(),
            codes,
            lines,
            snapshot_json,
            answer,
        }),
        effects,
        delivered_via: settings.out_dir.as_ref().map(|_| "file".to_string()),
    })
}

fn recipient(msg: &Message) -> Option<String> {
    Some(match msg {
        Message::Wmo301(m) => m.header.ontvanger.to_string(),
        Message::Wmo302(m) => m.header.heen.afzender.to_string(),
        Message::Wmo305(m) => m.header.ontvanger.to_string(),
        Message::Wmo307(m) => m.header.ontvanger.to_string(),
        Message::Wmo323(m) => m.header.ontvanger.to_string(),
        _ => return None,
    })
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
    let mut o = invalid_record(store, source, bytes, sha, None, text.clone()).await?;
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
    sha: &str,
    msg: Option<&Message>,
    error: String,
) -> Result<Outcome, StoreError> {
    let ident = msg.and_then(|m| m.identification());
    let message_id = match store.invalid_by_hash(sha).await? {
        Some((id, _)) => id,
        None => {
            // Claimed under its hash, so two workers receiving the same bytes at the same
            // moment store it once.
            let mut tx = store.begin().await?;
            match tx.claim(INVALID_SENDER, "ongeldig", sha, sha).await? {
                Claim::Duplicate(id) => {
                    tx.rollback().await?;
                    id
                }
                claim @ (Claim::New(_) | Claim::Reused) => {
                    let reserved = match claim {
                        Claim::New(id) => id,
                        _ => None,
                    };
                    let c = tx
                        .apply(Commit {
                            message: MessageRecord {
                                source: source.to_string(),
                                sha256: sha.to_string(),
                                raw: bytes.to_vec(),
                                kind: msg.map(|m| m.kind().name()),
                                afzender: ident.as_ref().map(|(a, _)| a.clone()),
                                ontvanger: msg.and_then(recipient),
                                identificatie: ident.as_ref().map(|(_, i)| i.identificatie.clone()),
                                dagtekening: ident
                                    .as_ref()
                                    .map(|(_, i)| i.dagtekening.format("%Y-%m-%d").to_string()),
                                outcome: "invalid".into(),
                                error: Some(error),
                                claimed: false,
                                id: reserved,
                            },
                            decision: None,
                            effects: Effects::None,
                            delivered_via: None,
                        })
                        .await?;
                    if reserved.is_none() {
                        tx.set_claim(INVALID_SENDER, "ongeldig", sha, c.message_id)
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
        codes: vec![],
        answer: None,
        error: None,
        message_id: Some(message_id),
        answer_xml: None,
    })
}

/// The very same message again: nothing changes; the stored answer is given again.
async fn duplicate(
    store: &Store,
    message_id: i64,
    mut base: Outcome,
    settings: &Settings,
) -> Result<Outcome, StoreError> {
    base.outcome = "duplicate".into();
    base.message_id = Some(message_id);
    if settings.out_dir.is_none() {
        store.requeue_answer(message_id).await?;
    }
    if let Some(d) = store.decision(message_id).await? {
        if let (Some(k), Some(id), Some(xml)) =
            (&d.answer_kind, &d.answer_identificatie, &d.answer_xml)
        {
            base.codes = decide::answer_codes(xml);
            base.answer = write_answer(settings.out_dir.as_deref(), k, id, xml)?;
            base.answer_xml = Some((k.clone(), id.clone(), xml.clone()));
        } else {
            base.codes = d.codes;
        }
    }
    Ok(base)
}

/// What an approved decision changes in the stored state.
/// What an approved 305 or 307 changes: a product with StatusAanlevering 1 is a new class; any
/// other status deletes the client's active stored classes that it repeats. Returns (new, ids
/// of the deleted).
fn class_changes<'r, P, R: 'r>(
    producten: &[P],
    status: impl Fn(&P) -> &str,
    new: impl Fn(&P) -> NewClass,
    stored: impl Iterator<Item = &'r R> + Clone,
    repeats: impl Fn(&R, &P) -> bool,
    id: impl Fn(&R) -> i64,
) -> (Vec<NewClass>, Vec<i64>) {
    let mut added = Vec::new();
    let mut deleted = Vec::new();
    for p in producten {
        if status(p) == "1" {
            added.push(new(p));
        } else {
            deleted.extend(stored.clone().filter(|r| repeats(r, p)).map(&id));
        }
    }
    (added, deleted)
}

fn effects_of(msg: &Message, d: &Decided, input: &Input) -> Result<Effects, StoreError> {
    Ok(match msg {
        Message::Wmo301(m) if d.outcome == "registered" => {
            let h = &m.header;
            Effects::Toewijzingen {
                source: "WMO301".into(),
                items: m
                    .client
                    .toegewezen_producten
                    .iter()
                    .map(|p| Toewijzing {
                        gemeente: h.afzender,
                        toewijzing_nummer: p.toewijzing_nummer,
                        bsn: m.client.bsn,
                        aanbieder: h.ontvanger,
                        product: p.product.clone(),
                        toewijzingsdatum: p.toewijzingsdatum,
                        toewijzingstijd: p.toewijzingstijd,
                        ingangsdatum: p.ingangsdatum,
                        einddatum: p.einddatum,
                        reden_wijziging: p.reden_wijziging,
                        volume: p.omvang.map(|o| o.volume.get()),
                        eenheid: p.omvang.map(|o| o.eenheid),
                        frequentie: p.omvang.map(|o| o.frequentie),
                        budget: p.budget.map(|b| b.cents()),
                    })
                    .collect(),
            }
        }
        Message::Wmo305(m) if d.outcome == "accepted" => {
            let Snapshot::StartStop(s) = &input.snapshot else {
                return Ok(Effects::None);
            };
            let (new_starts, deleted_starts) = class_changes(
                &m.client.producten,
                |p| p.status_aanlevering.code(),
                |p| NewClass {
                    toewijzing_nummer: p.toewijzing_nummer,
                    product: p.product.clone(),
                    begindatum: p.begindatum,
                    reden_beeindiging: None,
                    einddatum: None,
                },
                s.starts.iter().filter(|r| {
                    r.active && r.aanbieder == m.header.afzender && r.bsn == m.client.bsn
                }),
                |r, p| {
                    r.toewijzing_nummer == p.toewijzing_nummer
                        && r.product == p.product
                        && r.begindatum == p.begindatum
                },
                |r| r.id,
            );
            Effects::StartStop {
                gemeente: m.header.ontvanger,
                aanbieder: m.header.afzender,
                bsn: m.client.bsn,
                new_starts,
                deleted_starts,
                new_stops: vec![],
                deleted_stops: vec![],
            }
        }
        Message::Wmo307(m) if d.outcome == "accepted" => {
            let Snapshot::StartStop(s) = &input.snapshot else {
                return Ok(Effects::None);
            };
            let (new_stops, deleted_stops) = class_changes(
                &m.client.producten,
                |p| p.status_aanlevering.code(),
                |p| NewClass {
                    toewijzing_nummer: p.toewijzing_nummer,
                    product: p.product.clone(),
                    begindatum: p.begindatum,
                    reden_beeindiging: Some(p.reden_beeindiging),
                    einddatum: Some(p.einddatum),
                },
                s.stops.iter().filter(|r| {
                    r.active && r.aanbieder == m.header.afzender && r.bsn == m.client.bsn
                }),
                |r, p| {
                    r.toewijzing_nummer == p.toewijzing_nummer
                        && r.product == p.product
                        && r.begindatum == p.begindatum
                        && r.reden_beeindiging == p.reden_beeindiging
                        && r.einddatum == p.einddatum
                },
                |r| r.id,
            );
            Effects::StartStop {
                gemeente: m.header.ontvanger,
                aanbieder: m.header.afzender,
                bsn: m.client.bsn,
                new_starts: vec![],
                deleted_starts: vec![],
                new_stops,
                deleted_stops,
            }
        }
        Message::Wmo323(m) => {
            let Some(dd) = &d.declaratie else {
                return Ok(Effects::None);
            };
            if !dd.declaratie.is_empty() || !d.lines.iter().all(|l| l.class == "prestatie") {
                // Declaration-level or header rejection: the declaration counts as not processed.
                return Ok(Effects::None);
            }
            let mut prestaties = Vec::new();
            let mut regel = 0i64;
            let mut toegekend = 0i64;
            for (ci, c) in m.declaratie.clienten.iter().enumerate() {
                for (pi, p) in c.prestaties.iter().enumerate() {
                    let pd = dd
                        .prestaties
                        .get(ci)
                        .and_then(|v| v.get(pi))
                        .cloned()
                        .unwrap_or_default();
                    if pd.approved() {
                        toegekend = toegekend.saturating_add(p.ingediend_bedrag.signed());
                    }
                    prestaties.push(NewPrestatie {
                        regel,
                        bsn: c.bsn,
                        referentie_nummer: p.product_referentie.referentie_nummer.clone(),
                        vorig_referentie_nummer: p
                            .product_referentie
                            .vorig_referentie_nummer
                            .clone(),
                        toewijzing_nummer: p.toewijzing_nummer,
                        product_categorie: p.product_categorie,
                        product_code: p.product_code.to_string(),
                        periode: p.product_periode,
                        geleverd_volume: p.geleverd_volume.get(),
                        eenheid: p.eenheid,
                        product_tarief: p.product_tarief.map(|t| t.cents()),
                        bedrag: p.ingediend_bedrag.signed(),
                        debet_credit: p.ingediend_bedrag.debet_credit,
                        approved: pd.approved(),
                        codes: pd
                            .codes()
                            .iter()
                            .map(|c: &RetourCode| c.code().to_string())
                            .collect(),
                        hold: if pd.approved()
                            && p.ingediend_bedrag.debet_credit == DebetCredit::Debet
                        {
                            pd.hold.clone()
                        } else {
                            None
                        },
                        signals: pd.signals.clone(),
                    });
                    regel += 1;
                }
            }
            Effects::Declaratie {
                gemeente: m.header.ontvanger,
                aanbieder: m.header.afzender,
                declaratie_nummer: m.declaratie.declaratie_nummer.clone(),
                periode: m.declaratie.declaratie_periode,
                totaal_ingediend: m.declaratie.totaal_ingediend_bedrag.signed(),
                totaal_toegekend: toegekend,
                prestaties,
            }
        }
        _ => Effects::None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::synth;

    fn valid(xml: &str) -> Valid {
        let msg = message::read(xml.as_bytes(), ReadOptions::default())
            .unwrap()
            .message;
        let (afzender, ident) = msg.identification().unwrap();
        Valid {
            source: String::new(),
            bytes: xml.as_bytes().to_vec(),
            sha: sha256_hex(xml.as_bytes()),
            kind: msg.kind().name(),
            afzender,
            ident: ident.clone(),
            msg,
            base: Outcome::default(),
        }
    }

    #[test]
    fn a_batch_is_split_into_transactions_of_at_most_max_stripes_clients() {
        // Declarations of 10 clients each (100 Prestaties), all different clients.
        let decl = |k: u32| {
            valid(&synth::wmo323_in(
                100,
                &format!("D{k}"),
                &format!("N{k}"),
                2025,
                1,
                100_000 + k * 100,
            ))
        };
        let mut batch: Vec<(usize, Valid)> = (0..13).map(|k| (k as usize, decl(k))).collect();
        assert_eq!(MAX_STRIPES, 128);
        assert_eq!(transactions(&batch), vec![0..12, 12..13]);
        // One declaration about more clients than that: a transaction of its own.
        batch.insert(
            1,
            (
                99,
                valid(&synth::wmo323_in(1400, "BIG", "NBIG", 2025, 1, 200_000)),
            ),
        );
        assert_eq!(transactions(&batch), vec![0..1, 1..2, 2..14]);
        // The same clients again do not count twice.
        let same: Vec<(usize, Valid)> = (0..20).map(|k| (k, decl(0))).collect();
        assert_eq!(transactions(&same), vec![0..20]);
    }

    #[test]
    fn groups_hold_messages_with_disjoint_clients_toewijzingen_and_keys() {
        let vs: Vec<Valid> = [
            synth::wmo305("A", 100_000, "2025-01-01"), // 0: client 0
            synth::wmo305("B", 100_010, "2025-01-01"), // 1: client 1
            synth::wmo301("C", 100_020, "2025-01-01", "2025-12-31"), // 2: client 2
            synth::wmo305("D", 100_030, "2025-01-01"), // 3: client 3
            synth::wmo305("E", 100_001, "2025-01-01"), // 4: client 0 again → new run
            synth::wmo305("F", 100_040, "2025-01-01"), // 5
            synth::wmo305("F", 100_050, "2025-01-01"), // 6: same inbox key → new run
            synth::wmo323(2, "G", "G1"),               // 7: a 323 goes alone
            synth::wmo305("H", 100_060, "2025-01-01"), // 8
            synth::wmo307("I", 100_070, "2024-01-01", "2025-01-01", "2025-03-31"), // 9
        ]
        .iter()
        .map(|x| valid(x))
        .collect();
        let refs: Vec<&Valid> = vs.iter().collect();
        assert_eq!(
            groups(&refs),
            vec![vec![0, 1, 2, 3, 5], vec![4, 6], vec![7], vec![8, 9]]
        );
        // A 305 naming a toewijzing that a 301 earlier in the run allocates (to another
        // client) must see it: the toewijzing number is a key of its own.
        let t = valid(&synth::wmo301("J", 100_080, "2025-01-01", "2025-12-31"));
        let s = valid(&synth::wmo305("K", 100_090, "2025-01-01").replace(">100090<", ">100080<"));
        assert_eq!(groups(&[&t, &s]), vec![vec![0], vec![1]]);
        // Per client the order is kept however many others come in between.
        let a = valid(&synth::wmo305("L", 100_100, "2025-01-01"));
        let b = valid(&synth::wmo305("M", 100_110, "2025-01-01"));
        let c = valid(&synth::wmo307(
            "N",
            100_100,
            "2024-01-01",
            "2025-01-01",
            "2025-03-31",
        ));
        let d = valid(&synth::wmo305("O", 100_101, "2025-01-01"));
        assert_eq!(
            groups(&[&a, &b, &c, &d]),
            vec![vec![0, 1], vec![2], vec![3]]
        );
    }
}
