//! Writing one message's outcome in one transaction: message (hash chain), inbox key, decision
//! with every finding, the answer in the outbox, and the changes the decision computed (see
//! `store::effects`). Nothing here decides: everything written is given.

use chrono::{NaiveDate, Utc};

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe, Transaction};

use super::rows::ymd;
use super::{padded, shape, values_clause, Result, Store, CHUNK};
use crate::decide::{Changes, Rendered};
use crate::rules::Finding;

/// The message as received.
#[derive(Debug, Clone)]
pub struct MessageRecord {
    pub source: String,
    pub sha256: String,
    pub raw: Vec<u8>,
    pub kind: Option<String>,
    pub afzender: Option<String>,
    pub ontvanger: Option<String>,
    pub identificatie: Option<String>,
    pub dagtekening: Option<String>,
    pub outcome: String,
    /// Intake / level-1 error text (no personal data).
    pub error: Option<String>,
    /// The inbox key was claimed in this transaction without an id: point it at this message.
    pub claimed: bool,
    /// The id reserved for this message (see `Tx::reserve_ids`); None: reserved when written.
    pub id: Option<i64>,
}

/// A finding with the class it is on.
#[derive(Debug, Clone)]
pub struct Line {
    /// header, client, product, declaratie, prestatie, bericht
    pub class: &'static str,
    pub position: i64,
    pub referentie_nummer: Option<String>,
    pub finding: Finding,
}

pub struct DecisionRecord {
    pub today: NaiveDate,
    pub ruleset: String,
    pub outcome: String,
    pub codes: Vec<String>,
    pub lines: Vec<Line>,
    pub snapshot_json: String,
    pub changes_json: String,
}

pub struct Commit {
    pub message: MessageRecord,
    pub decision: Option<DecisionRecord>,
    pub changes: Changes,
    /// The answer, written by the decision (its Identificatie derives from the reserved id).
    pub answer: Option<Rendered>,
    /// Further parts of an answer too large for one file (each its own outbox row).
    pub more_answers: Vec<Rendered>,
    /// How the answer leaves: None = to be published by the outbox relay; Some(channel) =
    /// delivered already (e.g. written as a file by `iwmo process`).
    pub delivered_via: Option<String>,
}

/// An answer: (kind, IdentificatieRetour, xml).
pub type Answer = (String, String, String);

/// What was written.
#[derive(Debug, Clone)]
pub struct Committed {
    pub message_id: i64,
    pub answer: Option<Answer>,
    /// Further parts of the answer (usually none).
    pub more_answers: Vec<Answer>,
}

pub(super) fn now() -> String {
    Utc::now().to_rfc3339()
}

pub(super) fn opt_i64(v: Option<u64>) -> Option<i64> {
    v.map(|v| v.min(i64::MAX as u64) as i64)
}

type Q<'q> = Query<'q, Any, AnyArguments>;

/// Multi-row insert in chunks; `bind_row` binds one row's columns.
pub(super) async fn insert_many<T>(
    backend: super::Backend,
    tx: &mut Transaction<'static, Any>,
    table_and_cols: &str,
    ncols: usize,
    items: &[T],
    bind_row: impl Fn(Q<'static>, &T) -> Q<'static>,
) -> Result<()> {
    let exprs = vec![""; ncols];
    for chunk in items.chunks(CHUNK.min(16_384 / ncols.max(1))) {
        // Written for the chunk's shape (a few texts per table, kept prepared), padded.
        let sql = super::insert_select(backend, table_and_cols, &exprs, shape(chunk.len()), "");
        let mut q: Q<'static> = sqlx::query(AssertSqlSafe(sql));
        for it in padded(chunk) {
            q = bind_row(q, it);
        }
        q.bind(chunk.len() as i64).execute(&mut **tx).await?;
    }
    Ok(())
}

const MESSAGE_COLS: &str =
    "received_at, source, payload_sha256, raw, kind, afzender, ontvanger, identificatie, \
                            dagtekening, outcome, error";

/// Binds a message's columns (in the order of [`MESSAGE_COLS`]) to a query or query_as.
macro_rules! bind_message {
    ($q:expr, $m:expr, $received:expr) => {
        $q.bind($received.to_string())
            .bind($m.source.clone())
            .bind($m.sha256.clone())
            .bind($m.raw.clone())
            .bind($m.kind.clone())
            .bind($m.afzender.clone())
            .bind($m.ontvanger.clone())
            .bind($m.identificatie.clone())
            .bind($m.dagtekening.clone())
            .bind($m.outcome.clone())
            .bind($m.error.clone())
    };
}

/// Writes every message under its id (reserved before, or now), the largest first so that
/// padding repeats the smallest (a batch may hold a message of megabytes).
async fn insert_messages(
    backend: super::Backend,
    tx: &mut Transaction<'static, Any>,
    rows: &mut [(i64, &MessageRecord)],
    received: &str,
) -> Result<()> {
    if let [(id, m)] = rows {
        // One message (`iwmo process`, or a declaration of megabytes on its own): its values go
        // straight into the row, not through a VALUES row first (one copy of the raw bytes less).
        let sql = format!(
            "INSERT INTO messages (id, {MESSAGE_COLS}) VALUES ({})",
            super::Ph::new(backend).list(12)
        );
        let q = sqlx::query(AssertSqlSafe(sql)).bind(*id);
        bind_message!(q, m, received).execute(&mut **tx).await?;
        return Ok(());
    }
    rows.sort_by_key(|(_, m)| std::cmp::Reverse(m.raw.len()));
    insert_many(
        backend,
        tx,
        &format!("messages (id, {MESSAGE_COLS})"),
        12,
        rows,
        |q, (id, m)| bind_message!(q.bind(*id), m, received),
    )
    .await
}

/// The answer identification of a message: unique per gemeente and kind, ≤ 12 characters.
pub fn answer_identificatie(message_id: i64) -> String {
    format!("IW{message_id:010}")
}

impl Store {
    /// Writes everything about one message in one transaction of its own.
    pub async fn commit(&self, c: Commit) -> Result<Committed> {
        self.begin().await?.finish(c).await
    }
}

impl super::Tx {
    /// Writes everything about one message and commits.
    pub async fn finish(mut self, c: Commit) -> Result<Committed> {
        let done = self.apply(c).await?;
        self.tx.commit().await?;
        Ok(done)
    }

    /// Commits the transaction (after one or more `apply`).
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Writes everything about one message inside this transaction (which may hold several).
    pub async fn apply(&mut self, c: Commit) -> Result<Committed> {
        self.apply_all(vec![c])
            .await?
            .pop()
            .ok_or_else(|| super::StoreError::Corrupt("bericht niet opgeslagen".into()))
    }

    /// Writes everything about several messages inside this transaction, set-based: one
    /// statement per table for all of them. The messages must be about different clients and
    /// toewijzingen (their snapshots were read together, before any of them was written). The
    /// result is in the order of `commits`.
    pub async fn apply_all(&mut self, commits: Vec<Commit>) -> Result<Vec<Committed>> {
        let missing = commits.iter().filter(|c| c.message.id.is_none()).count();
        let mut fresh = self.reserve_ids(missing).await?;
        fresh.reverse();
        let ids: Vec<i64> = commits
            .iter()
            .map(|c| c.message.id.or_else(|| fresh.pop()))
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| super::StoreError::Corrupt("te weinig berichtnummers".into()))?;
        let backend = self.backend;
        let received = now();
        let mut rows: Vec<(i64, &MessageRecord)> = ids
            .iter()
            .zip(&commits)
            .map(|(id, c)| (*id, &c.message))
            .collect();
        insert_messages(backend, &mut self.tx, &mut rows, &received).await?;
        // Each message waits to be sealed into the hash chain (see store::chain).
        insert_many(
            backend,
            &mut self.tx,
            "unsealed (message_id)",
            1,
            &ids,
            |q, id| q.bind(*id),
        )
        .await?;
        self.point_claimed_keys(&ids, &commits).await?;
        self.insert_decisions(&ids, &commits).await?;
        self.insert_answers(&ids, &commits).await?;
        self.apply_changes(&ids, &commits).await?;
        Ok(ids
            .into_iter()
            .zip(commits)
            .map(|(message_id, c)| Committed {
                message_id,
                answer: c.answer.map(|a| (a.kind, a.identificatie, a.xml)),
                more_answers: c
                    .more_answers
                    .into_iter()
                    .map(|a| (a.kind, a.identificatie, a.xml))
                    .collect(),
            })
            .collect())
    }

    /// Hands out `n` fresh message ids (PostgreSQL: the sequence; SQLite: after the highest id
    /// handed out so far, safe because this transaction holds SQLite's single write lock once it
    /// has claimed an inbox key).
    pub async fn reserve_ids(&mut self, n: usize) -> Result<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        match self.backend {
            super::Backend::Postgres => {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT nextval('messages_id_seq') FROM generate_series(1, $1)",
                )
                .bind(n as i64)
                .fetch_all(&mut *self.tx)
                .await?;
                if ids.len() != n {
                    return Err(super::StoreError::Corrupt(
                        "te weinig berichtnummers uitgegeven".into(),
                    ));
                }
                Ok(ids)
            }
            super::Backend::Sqlite => {
                let stored: i64 = sqlx::query_scalar(
                    "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'messages'",
                )
                .fetch_one(&mut *self.tx)
                .await?;
                let from = stored.max(self.reserved_upto) + 1;
                self.reserved_upto = from + n as i64 - 1;
                Ok((from..=self.reserved_upto).collect())
            }
        }
    }

    /// Inbox keys claimed in this transaction without an id (SQLite) point at their message.
    async fn point_claimed_keys(&mut self, ids: &[i64], commits: &[Commit]) -> Result<()> {
        let backend = self.backend;
        let claimed: Vec<(i64, &MessageRecord)> = ids
            .iter()
            .zip(commits)
            .filter(|(_, c)| {
                let m = &c.message;
                m.claimed && m.afzender.is_some() && m.kind.is_some() && m.identificatie.is_some()
            })
            .map(|(id, c)| (*id, &c.message))
            .collect();
        for chunk in claimed.chunks(CHUNK / 4) {
            // Padded with copies of the last row: the same key set to the same id again.
            let sql = format!(
                "WITH v(id, afzender, kind, identificatie) AS (VALUES {}) \
                 UPDATE inbox_keys SET message_id = v.id FROM v WHERE inbox_keys.afzender = v.afzender AND inbox_keys.kind = v.kind AND inbox_keys.identificatie = v.identificatie",
                values_clause(backend, shape(chunk.len()), 4)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, m) in padded(chunk) {
                q = q
                    .bind(*id)
                    .bind(m.afzender.clone())
                    .bind(m.kind.clone())
                    .bind(m.identificatie.clone());
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Decisions (with the state they were made on and what they change) and their findings.
    async fn insert_decisions(&mut self, ids: &[i64], commits: &[Commit]) -> Result<()> {
        let backend = self.backend;
        let decided_at = now();
        let mut decisions: Vec<(i64, &DecisionRecord, String, Option<&Rendered>)> = Vec::new();
        for (c, &message_id) in commits.iter().zip(ids) {
            let Some(d) = &c.decision else { continue };
            let findings = d
                .lines
                .iter()
                .map(|l| (&l.class, l.position, &l.referentie_nummer, &l.finding))
                .collect::<Vec<_>>();
            let findings_json = serde_json::to_string(&findings).map_err(|e| {
                super::StoreError::Corrupt(format!("bevindingen niet op te slaan: {e}"))
            })?;
            decisions.push((message_id, d, findings_json, c.answer.as_ref()));
        }
        let mut lines: Vec<(i64, &Line)> = Vec::new();
        for chunk in decisions.chunks(CHUNK) {
            let sql = super::insert_select(
                backend,
                "decisions (message_id, decided_at, today, ruleset, outcome, codes, findings_json, snapshot_json, \
                 changes_json, answer_kind, answer_identificatie)",
                &[""; 11],
                shape(chunk.len()),
                " RETURNING id, message_id",
            );
            let mut q = sqlx::query_as::<_, (i64, i64)>(AssertSqlSafe(sql));
            // The answer itself is kept once, in the outbox (schemas/*/0005_answer_once.sql).
            for (message_id, d, findings_json, a) in padded(chunk) {
                q = q
                    .bind(*message_id)
                    .bind(decided_at.clone())
                    .bind(ymd(&d.today))
                    .bind(d.ruleset.clone())
                    .bind(d.outcome.clone())
                    .bind(d.codes.join(","))
                    .bind(findings_json.clone())
                    .bind(d.snapshot_json.clone())
                    .bind(d.changes_json.clone())
                    .bind(a.map(|a| a.kind.clone()))
                    .bind(a.map(|a| a.identificatie.clone()));
            }
            let got = q.bind(chunk.len() as i64).fetch_all(&mut *self.tx).await?;
            for (id, mid) in got {
                if let Some((_, d, _, _)) = chunk.iter().find(|(m, ..)| *m == mid) {
                    lines.extend(d.lines.iter().map(|l| (id, l)));
                }
            }
        }
        insert_many(
            backend,
            &mut self.tx,
            "decision_lines (decision_id, class, position, referentie_nummer, rule, code, level, text)",
            8,
            &lines,
            |q, (did, l)| {
                q.bind(*did)
                    .bind(l.class.to_string())
                    .bind(l.position)
                    .bind(l.referentie_nummer.clone())
                    .bind(l.finding.rule.clone())
                    .bind(l.finding.code.code().to_string())
                    .bind(i64::from(l.finding.level.number()))
                    .bind(l.finding.text.clone())
            },
        )
        .await
    }

    /// Answers wait in the outbox for the relay, or are recorded as delivered already.
    async fn insert_answers(&mut self, ids: &[i64], commits: &[Commit]) -> Result<()> {
        let backend = self.backend;
        let at = now();
        type Row<'a> = (i64, &'a Rendered, &'a Option<String>, &'a Option<String>);
        // Every file of an answer is a row of its own (a 325 in parts: see retour::parts).
        let outbox: Vec<Row> = ids
            .iter()
            .zip(commits)
            .flat_map(|(mid, c)| {
                c.answer
                    .iter()
                    .chain(&c.more_answers)
                    .map(move |a| (*mid, a, &c.message.afzender, &c.delivered_via))
            })
            .collect();
        insert_many(
            backend,
            &mut self.tx,
            "outbox (message_id, answer_kind, identificatie, ontvanger, xml, created_at)",
            6,
            &outbox,
            |q, (mid, a, afzender, _)| {
                q.bind(*mid)
                    .bind(a.kind.clone())
                    .bind(a.identificatie.clone())
                    .bind(afzender.as_ref().cloned().unwrap_or_default())
                    .bind(a.xml.clone())
                    .bind(at.clone())
            },
        )
        .await?;
        let (delivered, queued): (Vec<&Row>, Vec<&Row>) =
            outbox.iter().partition(|(_, _, _, via)| via.is_some());
        insert_many(
            backend,
            &mut self.tx,
            "outbox_queue (identificatie)",
            1,
            &queued,
            |q, (_, a, _, _)| q.bind(a.identificatie.clone()),
        )
        .await?;
        insert_many(
            backend,
            &mut self.tx,
            "outbox_published (identificatie, published_at, channel, attempts)",
            4,
            &delivered,
            |q, (_, a, _, via)| {
                q.bind(a.identificatie.clone())
                    .bind(at.clone())
                    .bind(via.as_ref().cloned().unwrap_or_default())
                    .bind(1i64)
            },
        )
        .await
    }
}
