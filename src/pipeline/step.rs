//! Claims, decides and writes a group of messages inside one transaction: the store reads,
//! the pure core decides everything (answer included), the store writes what it is given.

use chrono::NaiveDate;

use super::prepare::Valid;
use super::{Settings, Step};
use crate::decide::{self, Decided, Input};
use crate::rules::catalogue::RULESET_VERSION;
use crate::store::{
    answer_identificatie, Claim, Commit, DecisionRecord, InboxKey, Line, MessageRecord, StoreError,
    Tx,
};

/// A message of the group that is to be decided (not a duplicate).
struct Fresh {
    index: usize,
    reused: bool,
    /// The inbox key was claimed here and still has to point at the message (SQLite).
    claimed: bool,
    id: Option<i64>,
}

/// Claims, decides and writes a group of messages with disjoint keys inside `tx` (not
/// committed here): one claim statement, snapshots read together, all writes set-based.
pub async fn step_group(
    tx: &mut Tx,
    vs: &[&Valid],
    today: NaiveDate,
    settings: &Settings,
) -> Result<Vec<Step>, StoreError> {
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
    let mut steps: Vec<Option<Step>> = (0..vs.len()).map(|_| None).collect();
    let mut fresh: Vec<Fresh> = Vec::new();
    for (i, c) in claims.into_iter().enumerate() {
        match c {
            // The same message again (same sender, kind, Identificatie and bytes).
            Claim::Duplicate(mid) => steps[i] = Some(Step::Duplicate(mid, vs[i].base.clone())),
            Claim::Reused => fresh.push(Fresh {
                index: i,
                reused: true,
                claimed: false,
                id: None,
            }),
            Claim::New(id) => fresh.push(Fresh {
                index: i,
                reused: false,
                claimed: id.is_none(),
                id,
            }),
        }
    }
    // Every message to decide gets its id now: its answer's Identificatie derives from it.
    let mut ids = tx
        .reserve_ids(fresh.iter().filter(|f| f.id.is_none()).count())
        .await?;
    ids.reverse();
    for f in fresh.iter_mut().filter(|f| f.id.is_none()) {
        f.id = ids.pop();
    }

    let t_snapshot = std::time::Instant::now();
    let needs: Vec<_> = fresh
        .iter()
        .map(|f| {
            let v = vs[f.index];
            decide::needs_state(&v.msg, today, f.reused).then(|| v.room.need(&v.msg))
        })
        .collect();
    let snapshots = tx.load(&needs).await?;
    let snapshot_time = t_snapshot.elapsed();

    let t_decide = std::time::Instant::now();
    let mut commits = Vec::with_capacity(fresh.len());
    let mut decided_all = Vec::with_capacity(fresh.len());
    for (f, snapshot) in fresh.iter().zip(snapshots) {
        let v = vs[f.index];
        let id =
            f.id.ok_or_else(|| StoreError::Corrupt("geen berichtnummer".into()))?;
        let input = Input {
            today,
            identificatie_hergebruikt: f.reused,
            snapshot,
            answer_max_bytes: Some(settings.answer_max_bytes),
        };
        let decided = decide::decide(&v.msg, &input, &answer_identificatie(id))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let codes = match &decided.answer {
            Some(_) => decide::answer_codes_all(decided.answers().map(|a| a.xml.as_str())),
            None => decided.codes(),
        };
        decided_all.push((decided.outcome, codes, super::hold_counts(&decided.changes)));
        commits.push(commit_of(v, decided, &input, f, settings)?);
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
    for ((f, (outcome, codes, holds)), c) in fresh.iter().zip(decided_all).zip(committed) {
        let mut out = vs[f.index].base.clone();
        out.outcome = outcome.to_string();
        (out.vastgehouden, out.vrijgegeven) = holds;
        out.message_id = Some(c.message_id);
        out.codes = codes;
        out.answer_xml = c.answer;
        out.more_answers = c.more_answers;
        steps[f.index] = Some(Step::Stored(out));
    }
    steps
        .into_iter()
        .map(|s| s.ok_or_else(|| StoreError::Corrupt("bericht niet verwerkt".into())))
        .collect()
}

/// Everything to write about one decided message. A decision whose state or changes cannot be
/// serialised is not stored (the transaction fails; nothing is acknowledged).
fn commit_of(
    v: &Valid,
    decided: Decided,
    input: &Input,
    f: &Fresh,
    settings: &Settings,
) -> Result<Commit, StoreError> {
    let json = |what: &str, r: serde_json::Result<String>| {
        r.map_err(|e| StoreError::Corrupt(format!("{what} niet op te slaan: {e}")))
    };
    let snapshot_json = json("toestand", serde_json::to_string(input))?;
    let changes_json = json("wijzigingen", serde_json::to_string(&decided.changes))?;
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
    Ok(Commit {
        message: MessageRecord {
            source: v.source.clone(),
            sha256: v.sha.clone(),
            raw: v.bytes.clone(),
            kind: Some(v.kind.clone()),
            afzender: Some(v.afzender.clone()),
            ontvanger: v.room.ontvanger(&v.msg),
            identificatie: Some(v.ident.identificatie.clone()),
            dagtekening: Some(v.ident.dagtekening.format("%Y-%m-%d").to_string()),
            outcome: decided.outcome.to_string(),
            error: None,
            claimed: f.claimed,
            id: f.id,
        },
        decision: Some(DecisionRecord {
            today: input.today,
            ruleset: RULESET_VERSION.to_string(),
            outcome: decided.outcome.to_string(),
            codes: decided.codes(),
            lines,
            snapshot_json,
            changes_json,
        }),
        changes: decided.changes,
        answer: decided.answer,
        more_answers: decided.more_answers,
        delivered_via: settings.out_dir.as_ref().map(|_| "file".to_string()),
    })
}
