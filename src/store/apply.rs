//! Writing one message's outcome in one transaction: message (hash chain), inbox key,
//! decision with every finding, domain effects, holds and signals.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe, Transaction};

use super::rows::{self, ymd, START_COLS, STOP_COLS};
use super::{padded, shape, values_clause, Ph, Result, Store, CHUNK};
use crate::domain::*;
use crate::message::common::Product;
use crate::rules::decision::{Hold, Signal};
use crate::rules::state::{StartPolicy, Toewijzing};
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
    /// The inbox key was claimed in this transaction: point it at this message.
    pub claimed: bool,
    /// The id reserved for this message when its inbox key was claimed (PostgreSQL; the key
    /// already points at it). None: the database assigns one.
    pub id: Option<i64>,
}

/// A finding with the class it is on.
#[derive(Debug, Clone)]
pub struct Line {
    /// header, client, product, declaratie, prestatie, xsd
    pub class: &'static str,
    pub position: i64,
    pub referentie_nummer: Option<String>,
    pub finding: Finding,
}

/// Builds the answer once its IdentificatieRetour is known: returns (kind, xml).
pub type AnswerBuilder =
    Box<dyn FnOnce(&str) -> std::result::Result<(String, String), String> + Send + Sync>;

pub struct DecisionRecord {
    pub today: NaiveDate,
    pub ruleset: String,
    pub outcome: String,
    pub codes: Vec<String>,
    pub lines: Vec<Line>,
    pub snapshot_json: String,
    pub answer: Option<AnswerBuilder>,
}

/// A start or stop class to add (approved 305/307, status 1).
#[derive(Debug, Clone)]
pub struct NewClass {
    pub toewijzing_nummer: Option<ToewijzingNummer>,
    pub product: Option<Product>,
    pub begindatum: NaiveDate,
    /// Stops only.
    pub reden_beeindiging: Option<RedenBeeindiging>,
    pub einddatum: Option<NaiveDate>,
}

/// One Prestatie of a processed 323, with its decision.
#[derive(Debug, Clone)]
pub struct NewPrestatie {
    pub regel: i64,
    pub bsn: Bsn,
    pub referentie_nummer: String,
    pub vorig_referentie_nummer: Option<String>,
    pub toewijzing_nummer: ToewijzingNummer,
    pub product_categorie: ProductCategorie,
    pub product_code: String,
    pub periode: Periode,
    pub geleverd_volume: u64,
    pub eenheid: Eenheid,
    pub product_tarief: Option<u64>,
    /// Signed cents.
    pub bedrag: i64,
    pub debet_credit: DebetCredit,
    pub approved: bool,
    pub codes: Vec<String>,
    pub hold: Option<Hold>,
    pub signals: Vec<Signal>,
}

pub enum Effects {
    None,
    /// Toewijzingen from a 301 (or a CSV import): every version kept, the latest wins.
    Toewijzingen {
        source: String,
        items: Vec<Toewijzing>,
    },
    /// An approved 305/307.
    StartStop {
        gemeente: Gemeentecode,
        aanbieder: AgbCode,
        bsn: Bsn,
        new_starts: Vec<NewClass>,
        deleted_starts: Vec<i64>,
        new_stops: Vec<NewClass>,
        deleted_stops: Vec<i64>,
    },
    /// A 323 whose Prestaties were assessed.
    Declaratie {
        gemeente: Gemeentecode,
        aanbieder: AgbCode,
        declaratie_nummer: String,
        periode: Periode,
        totaal_ingediend: i64,
        totaal_toegekend: i64,
        prestaties: Vec<NewPrestatie>,
    },
}

pub struct Commit {
    pub message: MessageRecord,
    pub decision: Option<DecisionRecord>,
    pub effects: Effects,
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
    pub answer: Option<(String, String, String)>,
}

fn now() -> String {
    Utc::now().to_rfc3339()
}

fn opt_i64(v: Option<u64>) -> Option<i64> {
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

/// PostgreSQL: every message is written under a known id (reserved with its inbox key, or taken
/// from the sequence here for all others in one statement), so nothing is read back.
async fn insert_messages_with_ids(
    tx: &mut Transaction<'static, Any>,
    commits: &[Commit],
    received: &str,
) -> Result<Vec<i64>> {
    let missing = commits.iter().filter(|c| c.message.id.is_none()).count();
    let mut fresh: Vec<i64> = if missing > 0 {
        sqlx::query_scalar("SELECT nextval('messages_id_seq') FROM generate_series(1, $1)")
            .bind(missing as i64)
            .fetch_all(&mut **tx)
            .await?
    } else {
        Vec::new()
    };
    if fresh.len() != missing {
        return Err(super::StoreError::Corrupt(
            "te weinig berichtnummers uitgegeven".into(),
        ));
    }
    fresh.reverse();
    let ids: Vec<i64> = commits
        .iter()
        .map(|c| c.message.id.or_else(|| fresh.pop()).unwrap_or_default())
        .collect();
    let mut rows: Vec<(i64, &MessageRecord)> = ids
        .iter()
        .zip(commits)
        .map(|(id, c)| (*id, &c.message))
        .collect();
    // The ids are given, so the order of the rows does not matter: the smallest message last,
    // so padding repeats that one (not a message of megabytes).
    rows.sort_by_key(|(_, m)| std::cmp::Reverse(m.raw.len()));
    insert_many(
        super::Backend::Postgres,
        tx,
        &format!("messages (id, {MESSAGE_COLS})"),
        12,
        &rows,
        |q, (id, m)| bind_message!(q.bind(*id), m, received),
    )
    .await?;
    Ok(ids)
}

/// SQLite: ids are handed out in the order of the rows; RETURNING may list them in any order,
/// so they are sorted and checked against the Identificatie of each row.
async fn insert_messages_returning_ids(
    tx: &mut Transaction<'static, Any>,
    commits: &[Commit],
    received: &str,
) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = Vec::with_capacity(commits.len());
    for chunk in commits.chunks(CHUNK) {
        let single = chunk.len() == 1;
        let sql = if single {
            // One message (`iwmo process`, or a declaration of megabytes on its own): its
            // values go straight into the row, not through a VALUES row first (one copy less).
            format!(
                "INSERT INTO messages ({MESSAGE_COLS}) VALUES ({}) RETURNING id, identificatie",
                Ph::new(super::Backend::Sqlite).list(11)
            )
        } else {
            super::insert_select(
                super::Backend::Sqlite,
                &format!("messages ({MESSAGE_COLS})"),
                &[""; 11],
                shape(chunk.len()),
                " RETURNING id, identificatie",
            )
        };
        let mut q = sqlx::query_as::<_, (i64, Option<String>)>(AssertSqlSafe(sql));
        // Padding repeats the smallest message (its copies are not inserted).
        let Some(smallest) = chunk.iter().min_by_key(|c| c.message.raw.len()) else {
            continue;
        };
        for c in super::padded_with(chunk, smallest) {
            q = bind_message!(q, c.message, received);
        }
        if !single {
            q = q.bind(chunk.len() as i64);
        }
        let mut got = q.fetch_all(&mut **tx).await?;
        got.sort_by_key(|r| r.0);
        if got.len() != chunk.len()
            || got
                .iter()
                .zip(chunk)
                .any(|((_, i), c)| *i != c.message.identificatie)
        {
            return Err(super::StoreError::Corrupt(
                "berichtnummers komen niet overeen met de opgeslagen berichten".into(),
            ));
        }
        ids.extend(got.into_iter().map(|r| r.0));
    }
    Ok(ids)
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
    /// statement per table for all of them (toewijzingen and declaraties per message). The
    /// messages must be about different clients and toewijzingen (their snapshots were read
    /// together, before any of them was written). The result is in the order of `commits`.
    pub async fn apply_all(&mut self, commits: Vec<Commit>) -> Result<Vec<Committed>> {
        let backend = self.backend;
        let tx = &mut self.tx;
        let received = now();
        let ids = match backend {
            super::Backend::Postgres => insert_messages_with_ids(tx, &commits, &received).await?,
            super::Backend::Sqlite => {
                insert_messages_returning_ids(tx, &commits, &received).await?
            }
        };

        // Each message waits to be sealed into the hash chain (see store::chain).
        insert_many(backend, tx, "unsealed (message_id)", 1, &ids, |q, id| {
            q.bind(*id)
        })
        .await?;

        // Inbox keys claimed in this transaction without a reserved id (SQLite) point at their
        // message (matched on the key's primary key; the messages just written are not read back).
        let claimed: Vec<(i64, &MessageRecord)> = ids
            .iter()
            .zip(&commits)
            .filter(|(_, c)| {
                let m = &c.message;
                m.claimed
                    && m.id.is_none()
                    && m.afzender.is_some()
                    && m.kind.is_some()
                    && m.identificatie.is_some()
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
            q.execute(&mut **tx).await?;
        }

        // Decisions, with their answers (IdentificatieRetour from the message id: unique per
        // gemeente and message kind, at most 12 characters).
        let mut answers: Vec<Option<(String, String, String)>> = Vec::with_capacity(ids.len());
        // (message id, decision, findings, index of its answer in `answers`)
        let mut decisions: Vec<(i64, DecisionRecord, String, usize)> = Vec::new();
        let mut rest: Vec<(i64, Option<String>, Effects, Option<String>)> = Vec::new();
        for (c, &message_id) in commits.into_iter().zip(&ids) {
            let mut answer = None;
            if let Some(mut d) = c.decision {
                if let Some(build) = d.answer.take() {
                    let ident = format!("IW{message_id:010}");
                    let (kind, xml) = build(&ident).map_err(super::StoreError::Corrupt)?;
                    answer = Some((kind, ident, xml));
                }
                let findings_json = serde_json::to_string(
                    &d.lines
                        .iter()
                        .map(|l| (&l.class, l.position, &l.referentie_nummer, &l.finding))
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_else(|_| "[]".into());
                decisions.push((message_id, d, findings_json, answers.len()));
            }
            answers.push(answer);
            rest.push((message_id, c.message.afzender, c.effects, c.delivered_via));
        }
        let decided_at = now();
        let mut decision_ids: HashMap<i64, i64> = HashMap::new();
        for chunk in decisions.chunks(CHUNK) {
            let sql = super::insert_select(
                backend,
                "decisions (message_id, decided_at, today, ruleset, outcome, codes, findings_json, snapshot_json, \
                 answer_kind, answer_identificatie)",
                &[""; 10],
                shape(chunk.len()),
                " RETURNING id, message_id",
            );
            let mut q = sqlx::query_as::<_, (i64, i64)>(AssertSqlSafe(sql));
            // The answer itself is kept once, in the outbox (schemas/*/0005_answer_once.sql).
            for (message_id, d, findings_json, answer) in padded(chunk) {
                let a = answers[*answer].as_ref();
                q = q
                    .bind(*message_id)
                    .bind(decided_at.clone())
                    .bind(ymd(&d.today))
                    .bind(d.ruleset.clone())
                    .bind(d.outcome.clone())
                    .bind(d.codes.join(","))
                    .bind(findings_json.clone())
                    .bind(d.snapshot_json.clone())
                    .bind(a.map(|a| a.0.clone()))
                    .bind(a.map(|a| a.1.clone()));
            }
            for (id, mid) in q.bind(chunk.len() as i64).fetch_all(&mut **tx).await? {
                decision_ids.insert(mid, id);
            }
        }
        let lines: Vec<(i64, &Line)> = decisions
            .iter()
            .filter_map(|(mid, d, _, _)| Some((*decision_ids.get(mid)?, d)))
            .flat_map(|(did, d)| d.lines.iter().map(move |l| (did, l)))
            .collect();
        insert_many(
            backend,
            &mut *tx,
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
        .await?;
        // Answers wait in the outbox (or are recorded as delivered through another channel).
        type OutboxRow<'a> = (i64, &'a Answer, &'a Option<String>, &'a Option<String>);
        let outbox: Vec<OutboxRow> = rest
            .iter()
            .zip(&answers)
            .filter_map(|((mid, afzender, _, via), a)| Some((*mid, a.as_ref()?, afzender, via)))
            .collect();
        insert_many(
            backend,
            &mut *tx,
            "outbox (message_id, answer_kind, identificatie, ontvanger, xml, created_at)",
            6,
            &outbox,
            |q, (mid, (kind, ident, xml), afzender, _)| {
                q.bind(*mid)
                    .bind(kind.clone())
                    .bind(ident.clone())
                    .bind(afzender.as_ref().cloned().unwrap_or_default())
                    .bind(xml.clone())
                    .bind(decided_at.clone())
            },
        )
        .await?;
        // To the relay's queue, or (delivered otherwise, e.g. written to the outbox directory)
        // straight into the publication log.
        let (delivered, queued): (Vec<&OutboxRow>, Vec<&OutboxRow>) =
            outbox.iter().partition(|(_, _, _, via)| via.is_some());
        insert_many(
            backend,
            &mut *tx,
            "outbox_queue (identificatie)",
            1,
            &queued,
            |q, (_, (_, ident, _), _, _)| q.bind(ident.clone()),
        )
        .await?;
        insert_many(
            backend,
            &mut *tx,
            "outbox_published (identificatie, published_at, channel, attempts)",
            4,
            &delivered,
            |q, (_, (_, ident, _), _, via)| {
                q.bind(ident.clone())
                    .bind(decided_at.clone())
                    .bind(via.as_ref().cloned().unwrap_or_default())
                    .bind(1i64)
            },
        )
        .await?;

        // Domain effects.
        let mut new_starts: Vec<(i64, String, String, String, NewClass)> = Vec::new();
        let mut new_stops: Vec<(i64, String, String, String, NewClass)> = Vec::new();
        let mut clients: Vec<(i64, Gemeentecode, Bsn)> = Vec::new();
        for (message_id, _, effects, _) in rest {
            match effects {
                Effects::None => {}
                Effects::Toewijzingen { source, items } => {
                    Store::apply_toewijzingen(&mut *tx, Some(message_id), &source, &items).await?
                }
                Effects::StartStop {
                    gemeente,
                    aanbieder,
                    bsn,
                    new_starts: starts,
                    deleted_starts,
                    new_stops: stops,
                    deleted_stops,
                } => {
                    for (table, ids) in [("starts", deleted_starts), ("stops", deleted_stops)] {
                        for id in ids {
                            sqlx::query(AssertSqlSafe(format!(
                                "UPDATE {table} SET active = 0, deleted_by = $1 WHERE id = $2"
                            )))
                            .bind(message_id)
                            .bind(id)
                            .execute(&mut **tx)
                            .await?;
                        }
                    }
                    let (g, a, b) = (
                        gemeente.to_string(),
                        aanbieder.to_string(),
                        bsn.expose().to_string(),
                    );
                    for s in starts {
                        new_starts.push((message_id, g.clone(), a.clone(), b.clone(), s));
                    }
                    for s in stops {
                        new_stops.push((message_id, g.clone(), a.clone(), b.clone(), s));
                    }
                    clients.push((message_id, gemeente, bsn));
                }
                Effects::Declaratie {
                    gemeente,
                    aanbieder,
                    declaratie_nummer,
                    periode,
                    totaal_ingediend,
                    totaal_toegekend,
                    prestaties,
                } => {
                    Store::apply_declaratie(
                        backend,
                        &mut *tx,
                        message_id,
                        (&gemeente, &aanbieder, declaratie_nummer, &periode),
                        (totaal_ingediend, totaal_toegekend),
                        &prestaties,
                    )
                    .await?
                }
            }
        }
        insert_many(
            backend,
            &mut *tx,
            "starts (message_id, gemeente, aanbieder, bsn, toewijzing_nummer, product_categorie, product_code, begindatum, active)",
            9,
            &new_starts,
            |q, (mid, g, a, b, s)| {
                q.bind(*mid)
                    .bind(g.clone())
                    .bind(a.clone())
                    .bind(b.clone())
                    .bind(s.toewijzing_nummer.map(|n| i64::from(n.get())))
                    .bind(s.product.as_ref().map(|p| p.categorie.code().to_string()))
                    .bind(s.product.as_ref().and_then(|p| p.code.as_ref().map(|c| c.to_string())))
                    .bind(ymd(&s.begindatum))
                    .bind(1i64)
            },
        )
        .await?;
        insert_many(
            backend,
            &mut *tx,
            "stops (message_id, gemeente, aanbieder, bsn, toewijzing_nummer, product_categorie, product_code, begindatum, \
             reden_beeindiging, einddatum, active)",
            11,
            &new_stops,
            |q, (mid, g, a, b, s)| {
                q.bind(*mid)
                    .bind(g.clone())
                    .bind(a.clone())
                    .bind(b.clone())
                    .bind(s.toewijzing_nummer.map(|n| i64::from(n.get())))
                    .bind(s.product.as_ref().map(|p| p.categorie.code().to_string()))
                    .bind(s.product.as_ref().and_then(|p| p.code.as_ref().map(|c| c.to_string())))
                    .bind(ymd(&s.begindatum))
                    .bind(s.reden_beeindiging.map(|r| r.code().to_string()).unwrap_or_default())
                    .bind(s.einddatum.map(|d| ymd(&d)).unwrap_or_default())
                    .bind(1i64)
            },
        )
        .await?;
        Store::reevaluate_holds_of(backend, &mut *tx, &clients).await?;

        Ok(ids
            .into_iter()
            .zip(answers)
            .map(|(message_id, answer)| Committed { message_id, answer })
            .collect())
    }
}

impl Store {
    /// A processed 323: the declaratie, its Prestaties, credits, holds and signals.
    async fn apply_declaratie(
        backend: super::Backend,
        tx: &mut Transaction<'static, Any>,
        message_id: i64,
        (gemeente, aanbieder, declaratie_nummer, periode): (
            &Gemeentecode,
            &AgbCode,
            String,
            &Periode,
        ),
        (totaal_ingediend, totaal_toegekend): (i64, i64),
        prestaties: &[NewPrestatie],
    ) -> Result<()> {
        let (declaratie_id,): (i64,) = sqlx::query_as(
            "INSERT INTO declaraties (message_id, gemeente, aanbieder, declaratie_nummer, periode_begin, periode_eind, \
             totaal_ingediend, totaal_toegekend) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
        )
        .bind(message_id)
        .bind(gemeente.to_string())
        .bind(aanbieder.to_string())
        .bind(declaratie_nummer)
        .bind(ymd(&periode.begindatum))
        .bind(ymd(&periode.einddatum))
        .bind(totaal_ingediend)
        .bind(totaal_toegekend)
        .fetch_one(&mut **tx)
        .await?;
        let g = gemeente.to_string();
        let a = aanbieder.to_string();
        insert_many(
            backend,
            &mut *tx,
            "prestaties (declaratie_id, message_id, regel, gemeente, aanbieder, referentie_nummer, vorig_referentie_nummer, \
             bsn, toewijzing_nummer, product_categorie, product_code, periode_begin, periode_eind, geleverd_volume, \
             eenheid, product_tarief, bedrag, debet_credit, approved, codes)",
            20,
            prestaties,
            |q, p| {
                q.bind(declaratie_id)
                    .bind(message_id)
                    .bind(p.regel)
                    .bind(g.clone())
                    .bind(a.clone())
                    .bind(p.referentie_nummer.clone())
                    .bind(p.vorig_referentie_nummer.clone())
                    .bind(p.bsn.expose().to_string())
                    .bind(i64::from(p.toewijzing_nummer.get()))
                    .bind(p.product_categorie.code().to_string())
                    .bind(p.product_code.clone())
                    .bind(ymd(&p.periode.begindatum))
                    .bind(ymd(&p.periode.einddatum))
                    .bind(p.geleverd_volume as i64)
                    .bind(p.eenheid.code().to_string())
                    .bind(opt_i64(p.product_tarief))
                    .bind(p.bedrag)
                    .bind(p.debet_credit.code().to_string())
                    .bind(i64::from(p.approved))
                    .bind(p.codes.join(","))
            },
        )
        .await?;
        // Approved credits cancel their debit.
        for p in prestaties
            .iter()
            .filter(|p| p.approved && p.debet_credit == DebetCredit::Credit)
        {
            if let Some(v) = &p.vorig_referentie_nummer {
                sqlx::query(
                    "UPDATE prestaties SET gecrediteerd_door = $1 WHERE aanbieder = $2 AND referentie_nummer = $3 \
                     AND approved = 1 AND debet_credit = 'D' AND gecrediteerd_door IS NULL",
                )
                .bind(p.referentie_nummer.clone())
                .bind(a.clone())
                .bind(v.clone())
                .execute(&mut **tx)
                .await?;
                // A credited line is no longer held: nothing to pay.
                sqlx::query(
                    "UPDATE holds SET status = 'vervallen', changed_at = $1, changed_by_message = $2 \
                     WHERE status = 'held' AND prestatie_id IN (SELECT id FROM prestaties WHERE aanbieder = $3 AND referentie_nummer = $4)",
                )
                .bind(now())
                .bind(message_id)
                .bind(a.clone())
                .bind(v.clone())
                .execute(&mut **tx)
                .await?;
            }
        }
        let ids: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
            "SELECT regel, id FROM prestaties WHERE message_id = $1",
        )
        .bind(message_id)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
        let ts = now();
        let holds: Vec<(i64, &Hold)> = prestaties
            .iter()
            .filter_map(|p| Some((*ids.get(&p.regel)?, p.hold.as_ref()?)))
            .collect();
        insert_many(
            backend,
            &mut *tx,
            "holds (prestatie_id, status, reden, created_at, changed_at, changed_by_message)",
            6,
            &holds,
            |q, (id, h)| {
                q.bind(*id)
                    .bind("held".to_string())
                    .bind(h.reden.clone())
                    .bind(ts.clone())
                    .bind(ts.clone())
                    .bind(message_id)
            },
        )
        .await?;
        let signals: Vec<(i64, &Signal)> = prestaties
            .iter()
            .filter_map(|p| ids.get(&p.regel).map(|id| (*id, p)))
            .flat_map(|(id, p)| p.signals.iter().map(move |s| (id, s)))
            .collect();
        insert_many(
            backend,
            &mut *tx,
            "signals (prestatie_id, soort, andere_referentie, tekst, created_at)",
            5,
            &signals,
            |q, (id, s)| {
                q.bind(*id)
                    .bind(s.soort.clone())
                    .bind(s.andere_referentie.clone())
                    .bind(s.tekst.clone())
                    .bind(ts.clone())
            },
        )
        .await?;
        Ok(())
    }
}

impl Store {
    /// Toewijzing versions: all kept; the current table follows the latest moment (IV013).
    async fn apply_toewijzingen(
        tx: &mut Transaction<'static, Any>,
        message_id: Option<i64>,
        source: &str,
        items: &[Toewijzing],
    ) -> Result<()> {
        for t in items {
            let moment = format!(
                "{}T{}",
                ymd(&t.toewijzingsdatum),
                t.toewijzingstijd.format("%H:%M:%S%.f")
            );
            let vals = (
                t.gemeente.to_string(),
                i64::from(t.toewijzing_nummer.get()),
                t.bsn.expose().to_string(),
                t.aanbieder.to_string(),
                t.product.as_ref().map(|p| p.categorie.code().to_string()),
                t.product
                    .as_ref()
                    .and_then(|p| p.code.as_ref().map(|c| c.to_string())),
                ymd(&t.toewijzingsdatum),
                t.toewijzingstijd.format("%H:%M:%S%.f").to_string(),
                ymd(&t.ingangsdatum),
                t.einddatum.map(|d| ymd(&d)),
                t.reden_wijziging.map(|r| r.code().to_string()),
                opt_i64(t.volume),
                t.eenheid.map(|e| e.code().to_string()),
                t.frequentie.map(|f| f.code().to_string()),
                opt_i64(t.budget),
            );
            let (vid,): (i64,) = sqlx::query_as(
                "INSERT INTO toewijzing_versies (message_id, source, gemeente, toewijzing_nummer, bsn, aanbieder, product_categorie, \
                 product_code, toewijzingsdatum, toewijzingstijd, ingangsdatum, einddatum, reden_wijziging, volume, eenheid, \
                 frequentie, budget) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) RETURNING id",
            )
            .bind(message_id)
            .bind(source.to_string())
            .bind(vals.0.clone())
            .bind(vals.1)
            .bind(vals.2.clone())
            .bind(vals.3.clone())
            .bind(vals.4.clone())
            .bind(vals.5.clone())
            .bind(vals.6.clone())
            .bind(vals.7.clone())
            .bind(vals.8.clone())
            .bind(vals.9.clone())
            .bind(vals.10.clone())
            .bind(vals.11)
            .bind(vals.12.clone())
            .bind(vals.13.clone())
            .bind(vals.14)
            .fetch_one(&mut **tx)
            .await?;
            // Latest Toewijzingsdatum + Toewijzingstijd wins; on an equal moment the later arrival wins.
            sqlx::query(
                "INSERT INTO toewijzingen (gemeente, toewijzing_nummer, version_id, moment, bsn, aanbieder, product_categorie, \
                 product_code, toewijzingsdatum, toewijzingstijd, ingangsdatum, einddatum, reden_wijziging, volume, eenheid, \
                 frequentie, budget) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) \
                 ON CONFLICT (gemeente, toewijzing_nummer) DO UPDATE SET version_id = excluded.version_id, moment = excluded.moment, \
                 bsn = excluded.bsn, aanbieder = excluded.aanbieder, product_categorie = excluded.product_categorie, \
                 product_code = excluded.product_code, toewijzingsdatum = excluded.toewijzingsdatum, \
                 toewijzingstijd = excluded.toewijzingstijd, ingangsdatum = excluded.ingangsdatum, einddatum = excluded.einddatum, \
                 reden_wijziging = excluded.reden_wijziging, volume = excluded.volume, eenheid = excluded.eenheid, \
                 frequentie = excluded.frequentie, budget = excluded.budget WHERE toewijzingen.moment <= excluded.moment",
            )
            .bind(vals.0)
            .bind(vals.1)
            .bind(vid)
            .bind(moment)
            .bind(vals.2)
            .bind(vals.3)
            .bind(vals.4)
            .bind(vals.5)
            .bind(vals.6)
            .bind(vals.7)
            .bind(vals.8)
            .bind(vals.9)
            .bind(vals.10)
            .bind(vals.11)
            .bind(vals.12)
            .bind(vals.13)
            .bind(vals.14)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Toewijzingen from a case system (CSV import), outside any message.
    pub async fn import_toewijzingen(&self, source: &str, items: &[Toewijzing]) -> Result<()> {
        let mut tx: Transaction<'static, Any> = self.pool.begin().await?;
        Self::apply_toewijzingen(&mut tx, None, source, items).await?;
        tx.commit().await?;
        Ok(())
    }

    /// After starts/stops of these clients changed (message, gemeente, client): re-evaluates
    /// the holds of those with approved debits (one query finds them when there are several).
    async fn reevaluate_holds_of(
        backend: super::Backend,
        tx: &mut Transaction<'static, Any>,
        clients: &[(i64, Gemeentecode, Bsn)],
    ) -> Result<()> {
        if clients.len() <= 1 {
            for (mid, g, b) in clients {
                Self::reevaluate_holds(&mut *tx, *mid, g, b).await?;
            }
            return Ok(());
        }
        let mut with_lines: std::collections::HashSet<(String, String)> = Default::default();
        for chunk in clients.chunks(CHUNK / 2) {
            let sql = format!(
                "SELECT DISTINCT gemeente, bsn FROM prestaties WHERE approved = 1 AND debet_credit = 'D' \
                 AND gecrediteerd_door IS NULL AND (gemeente, bsn) IN (VALUES {})",
                Ph::new(backend).rows(shape(chunk.len()), 2)
            );
            let mut q = sqlx::query_as::<_, (String, String)>(AssertSqlSafe(sql));
            for (_, g, b) in padded(chunk) {
                q = q.bind(g.to_string()).bind(b.expose().to_string());
            }
            with_lines.extend(q.fetch_all(&mut **tx).await?);
        }
        for (mid, g, b) in clients {
            if with_lines.contains(&(g.to_string(), b.expose().to_string())) {
                Self::reevaluate_holds(&mut *tx, *mid, g, b).await?;
            }
        }
        Ok(())
    }

    /// After starts/stops of a client changed: every approved, not credited debit of that client
    /// is held exactly when no active start covers it (a later 305 releases, a delete restores).
    async fn reevaluate_holds(
        tx: &mut Transaction<'static, Any>,
        message_id: i64,
        gemeente: &Gemeentecode,
        bsn: &Bsn,
    ) -> Result<()> {
        let g = gemeente.to_string();
        let b = bsn.expose().to_string();
        let lines: Vec<(i64, i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT p.id, p.toewijzing_nummer, p.periode_begin, p.periode_eind, h.status FROM prestaties p \
             LEFT JOIN holds h ON h.prestatie_id = p.id \
             WHERE p.gemeente = $1 AND p.bsn = $2 AND p.approved = 1 AND p.debet_credit = 'D' AND p.gecrediteerd_door IS NULL",
        )
        .bind(g.clone())
        .bind(b.clone())
        .fetch_all(&mut **tx)
        .await?;
        if lines.is_empty() {
            return Ok(());
        }
        let policy: StartPolicy =
            sqlx::query_as::<_, (String,)>("SELECT start_policy FROM policies WHERE gemeente = $1")
                .bind(g.clone())
                .fetch_optional(&mut **tx)
                .await?
                .and_then(|(p,)| StartPolicy::parse(&p))
                .unwrap_or_default();
        let starts = sqlx::query(AssertSqlSafe(format!(
            "SELECT {START_COLS} FROM starts WHERE gemeente = $1 AND bsn = $2"
        )))
        .bind(g.clone())
        .bind(b.clone())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(rows::start)
        .collect::<Result<Vec<_>>>()?;
        let stops = sqlx::query(AssertSqlSafe(format!(
            "SELECT {STOP_COLS} FROM stops WHERE gemeente = $1 AND bsn = $2"
        )))
        .bind(g.clone())
        .bind(b.clone())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(rows::stop)
        .collect::<Result<Vec<_>>>()?;
        let ts = now();
        for (id, nr, begin, eind, status) in lines {
            let Ok(nr) = u64::try_from(nr)
                .map_err(|_| ())
                .and_then(|n| Nummer::new(n).map_err(|_| ()))
            else {
                continue;
            };
            let periode = Periode {
                begindatum: rows::date(&begin)?,
                einddatum: rows::date(&eind)?,
            };
            let covering = crate::rules::holds::covering_start(bsn, nr, &periode, &starts, &stops);
            match (covering, status.as_deref()) {
                (Some(start_id), Some("held")) => {
                    sqlx::query(
                        "UPDATE holds SET status = 'released', changed_at = $1, changed_by_message = $2, start_id = $3 WHERE prestatie_id = $4",
                    )
                    .bind(ts.clone())
                    .bind(message_id)
                    .bind(start_id)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                }
                (None, Some("released")) if policy == StartPolicy::Hold => {
                    sqlx::query(
                        "UPDATE holds SET status = 'held', reden = $1, changed_at = $2, changed_by_message = $3, start_id = NULL WHERE prestatie_id = $4",
                    )
                    .bind(crate::rules::holds::hold_reason(nr, &periode))
                    .bind(ts.clone())
                    .bind(message_id)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                }
                (None, None) if policy == StartPolicy::Hold => {
                    sqlx::query(
                        "INSERT INTO holds (prestatie_id, status, reden, created_at, changed_at, changed_by_message) VALUES ($1,'held',$2,$3,$4,$5)",
                    )
                    .bind(id)
                    .bind(crate::rules::holds::hold_reason(nr, &periode))
                    .bind(ts.clone())
                    .bind(ts.clone())
                    .bind(message_id)
                    .execute(&mut **tx)
                    .await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}
