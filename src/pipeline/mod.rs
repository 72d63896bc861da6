//! One way through the house: intake → message → room (rules and decide, pure) → store (one
//! transaction, writes only) → answer. Used by `iwmo process` (files) and `iwmo serve` (queue,
//! inbox dir). Generic over the message kinds: everything that differs is in their rooms
//! (`crate::decide`).

mod group;
mod prepare;
pub use prepare::{refused, sha256_hex};
mod step;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use crate::decide;
use crate::message::ReadOptions;
use crate::store::{Store, StoreError, Tx};
use group::{groups, transactions};
use prepare::{prepare, Prepared, Valid};
use step::step_group;

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
    /// Declaration lines this message held from payment (every processed 323, also 0), plus
    /// holds a deleted start put back ("geen startbericht, geen betaling"; `iwmo holds list`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vastgehouden: Option<usize>,
    /// Held lines this message released (a 305 whose start covers them); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vrijgegeven: Option<usize>,
    /// Why a message is invalid (intake / level 1), in Dutch, without personal data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    pub message_id: Option<i64>,
    /// The answer itself (for transports that publish it).
    #[serde(skip)]
    pub answer_xml: Option<(String, String, String)>,
    /// Paths of every file of an answer that was too large for one (a 325 in parts, the first
    /// being `answer`); absent when the answer is one file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answer_parts: Vec<String>,
    /// The further parts themselves (kind, Identificatie, xml), like `answer_xml`.
    #[serde(skip)]
    pub more_answers: Vec<(String, String, String)>,
}

/// The holds a decision placed and released, as [`Outcome::vastgehouden`] and
/// [`Outcome::vrijgegeven`] show them.
pub(crate) fn hold_counts(changes: &decide::changes::Changes) -> (Option<usize>, Option<usize>) {
    use decide::changes::HoldChange as H;
    let count = |f: fn(&H) -> bool| changes.holds.iter().filter(|h| f(h)).count();
    let again = count(|h| matches!(h, H::OpnieuwVastgehouden { .. }));
    let released = count(|h| matches!(h, H::Vrijgegeven { .. }));
    let held = changes
        .declaratie
        .as_ref()
        .map(|d| d.prestaties.iter().filter(|p| p.hold.is_some()).count() + again)
        .or((again > 0).then_some(again));
    (held, (released > 0).then_some(released))
}

/// Settings of the pipeline.
#[derive(Debug, Clone)]
pub struct Settings {
    pub read: ReadOptions,
    /// Where answers are written as files right away (`iwmo process`); None: they wait in the
    /// outbox for the relay (`iwmo serve`).
    pub out_dir: Option<PathBuf>,
    /// The largest answer file the hubs accept (OP179; GGk IB007, VECOZO CC03): a 325 that
    /// would be larger is written compact, or else in parts (see `retour::parts`).
    pub answer_max_bytes: usize,
}

/// The hubs' limit, the same 25 MB as the intake's.
pub const DEFAULT_ANSWER_MAX_BYTES: usize = crate::message::intake::DEFAULT_MAX_BYTES;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            read: ReadOptions::default(),
            out_dir: None,
            answer_max_bytes: DEFAULT_ANSWER_MAX_BYTES,
        }
    }
}

pub(crate) fn write_answer(
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

/// What one message did inside a (possibly shared) transaction.
pub(crate) enum Step {
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

/// Decides several messages in one transaction: one lock statement for all their clients, the
/// messages in groups (see [`groups`]), one commit.
async fn shared_transaction(
    store: &Store,
    part: &[(usize, Valid)],
    today: NaiveDate,
    settings: &Settings,
) -> Result<Vec<Step>, StoreError> {
    let mut tx: Tx = store.begin().await?;
    let clients: Vec<(String, String)> = part
        .iter()
        .flat_map(|(_, v)| v.room.keys(&v.msg).clients)
        .collect();
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
            tx.lock_clients(&v.room.keys(&v.msg).clients).await?;
            let st = step_group(&mut tx, &[v], today, settings)
                .await?
                .pop()
                .ok_or_else(|| StoreError::Corrupt("bericht niet verwerkt".into()))?;
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
            write_answers(&mut out, settings)?;
            if !out.more_answers.is_empty() {
                log_parts(&out, settings);
            }
            Ok(out)
        }
    }
}

/// Writes every file of the answer where the settings say so; `answer` names the first,
/// `answer_parts` all of them when there are several.
fn write_answers(out: &mut Outcome, settings: &Settings) -> Result<(), StoreError> {
    let dir = settings.out_dir.as_deref();
    if let Some((k, id, xml)) = &out.answer_xml {
        out.answer = write_answer(dir, k, id, xml)?;
    }
    if out.more_answers.is_empty() {
        return Ok(());
    }
    let mut paths: Vec<String> = out.answer.iter().cloned().collect();
    for (k, id, xml) in &out.more_answers {
        paths.extend(write_answer(dir, k, id, xml)?);
    }
    out.answer_parts = paths;
    Ok(())
}

/// Tells the operator that an answer went out in parts (no personal data: kinds, ids, sizes).
fn log_parts(out: &Outcome, settings: &Settings) {
    let all: Vec<&(String, String, String)> =
        out.answer_xml.iter().chain(&out.more_answers).collect();
    let ids: Vec<&str> = all.iter().map(|(_, id, _)| id.as_str()).collect();
    let sizes: Vec<usize> = all.iter().map(|(_, _, xml)| xml.len()).collect();
    tracing::warn!(
        bericht = out.identificatie.as_deref().unwrap_or("-"),
        delen = all.len(),
        antwoorden = ?ids,
        bytes = ?sizes,
        grens = settings.answer_max_bytes,
        "antwoord groter dan de grens van de knooppunten (OP179, GGk IB007, VECOZO CC03): \
         verstuurd als {} 325-berichten met dezelfde DeclaratieIdentificatie; IV087 vraagt \
         één 325 per declaratie, meld dit de aanbieder buiten het berichtenverkeer",
        all.len()
    );
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
            base.more_answers = store.further_answers(id).await?;
            base.codes = decide::answer_codes_all(
                std::iter::once(xml.as_str()).chain(base.more_answers.iter().map(|a| a.2.as_str())),
            );
            base.answer_xml = Some((k.clone(), id.clone(), xml.clone()));
            write_answers(&mut base, settings)?;
        } else {
            base.codes = d.codes;
        }
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::group::{groups, transactions};
    use super::*;
    use crate::store::MAX_STRIPES;
    use crate::testkit::synth;

    fn valid(xml: &str) -> Valid {
        let msg = crate::message::read(xml.as_bytes(), ReadOptions::default())
            .unwrap()
            .message;
        let (afzender, ident) = msg.identification().unwrap();
        Valid {
            source: String::new(),
            bytes: xml.as_bytes().to_vec(),
            sha: prepare::sha256_hex(xml.as_bytes()),
            room: crate::decide::registry::room(msg.kind()).unwrap(),
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
