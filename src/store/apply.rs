//! Writing one message's outcome in one transaction: message (hash chain), inbox key,
//! decision with every finding, domain effects, holds and signals.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe, Transaction};

use super::rows::{self, ymd, START_COLS, STOP_COLS};
use super::{values_clause, Result, Store, CHUNK};
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
    Box<dyn FnOnce(&str) -> std::result::Result<(String, String), String> + Send>;

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
async fn insert_many<T>(
    backend: super::Backend,
    tx: &mut Transaction<'static, Any>,
    table_and_cols: &str,
    ncols: usize,
    items: &[T],
    bind_row: impl Fn(Q<'static>, &T) -> Q<'static>,
) -> Result<()> {
    for chunk in items.chunks(CHUNK.min(30_000 / ncols.max(1))) {
        let sql = format!(
            "INSERT INTO {table_and_cols} VALUES {}",
            values_clause(backend, chunk.len(), ncols)
        );
        // Statements for many rows are one-offs: not kept prepared (they would push the
        // common ones out of the statement cache).
        let mut q: Q<'static> = sqlx::query(AssertSqlSafe(sql)).persistent(chunk.len() <= 4);
        for it in chunk {
            q = bind_row(q, it);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
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
        let backend = self.backend;
        let tx = &mut self.tx;
        let m = &c.message;
        let (message_id,): (i64,) = sqlx::query_as(
            "INSERT INTO messages (received_at, source, payload_sha256, raw, kind, afzender, ontvanger, identificatie, \
             dagtekening, outcome, error) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
        )
        .bind(now())
        .bind(m.source.clone())
        .bind(m.sha256.clone())
        .bind(m.raw.clone())
        .bind(m.kind.clone())
        .bind(m.afzender.clone())
        .bind(m.ontvanger.clone())
        .bind(m.identificatie.clone())
        .bind(m.dagtekening.clone())
        .bind(m.outcome.clone())
        .bind(m.error.clone())
        .fetch_one(&mut **tx)
        .await?;
        if m.claimed {
            if let (Some(a), Some(k), Some(i)) = (&m.afzender, &m.kind, &m.identificatie) {
                sqlx::query("UPDATE inbox_keys SET message_id = $1 WHERE afzender = $2 AND kind = $3 AND identificatie = $4")
                    .bind(message_id)
                    .bind(a.clone())
                    .bind(k.clone())
                    .bind(i.clone())
                    .execute(&mut **tx)
                    .await?;
            }
        }

        let mut answer_out = None;
        if let Some(d) = c.decision {
            let answer = match d.answer {
                None => None,
                Some(build) => {
                    // IdentificatieRetour: unique per gemeente and message kind because message
                    // ids are unique; at most 12 characters.
                    let ident = format!("IW{message_id:010}");
                    let (kind, xml) = build(&ident).map_err(super::StoreError::Corrupt)?;
                    Some((kind, ident, xml))
                }
            };
            let findings_json = serde_json::to_string(
                &d.lines
                    .iter()
                    .map(|l| (&l.class, l.position, &l.referentie_nummer, &l.finding))
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_else(|_| "[]".into());
            let (decision_id,): (i64,) = sqlx::query_as(
                "INSERT INTO decisions (message_id, decided_at, today, ruleset, outcome, codes, findings_json, snapshot_json, \
                 answer_kind, answer_identificatie, answer_xml) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
            )
            .bind(message_id)
            .bind(now())
            .bind(ymd(&d.today))
            .bind(d.ruleset.clone())
            .bind(d.outcome.clone())
            .bind(d.codes.join(","))
            .bind(findings_json)
            .bind(d.snapshot_json)
            .bind(answer.as_ref().map(|a| a.0.clone()))
            .bind(answer.as_ref().map(|a| a.1.clone()))
            .bind(answer.as_ref().map(|a| a.2.clone()))
            .fetch_one(&mut **tx)
            .await?;
            insert_many(
                backend,
                &mut *tx,
                "decision_lines (decision_id, class, position, referentie_nummer, rule, code, level, text)",
                8,
                &d.lines,
                |q, l| {
                    q.bind(decision_id)
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
            if let Some((kind, ident, xml)) = &answer {
                let delivered = c.delivered_via.is_some();
                sqlx::query(
                    "INSERT INTO outbox (message_id, answer_kind, identificatie, ontvanger, xml, created_at, published_at, channel) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
                )
                .bind(message_id)
                .bind(kind.clone())
                .bind(ident.clone())
                .bind(m.afzender.clone().unwrap_or_default())
                .bind(xml.clone())
                .bind(now())
                .bind(if delivered { Some(now()) } else { None })
                .bind(c.delivered_via.clone())
                .execute(&mut **tx)
                .await?;
            }
            answer_out = answer;
        }

        match c.effects {
            Effects::None => {}
            Effects::Toewijzingen { source, items } => {
                Store::apply_toewijzingen(&mut *tx, Some(message_id), &source, &items).await?
            }
            Effects::StartStop {
                gemeente,
                aanbieder,
                bsn,
                new_starts,
                deleted_starts,
                new_stops,
                deleted_stops,
            } => {
                for id in deleted_starts {
                    sqlx::query("UPDATE starts SET active = 0, deleted_by = $1 WHERE id = $2")
                        .bind(message_id)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                }
                for id in deleted_stops {
                    sqlx::query("UPDATE stops SET active = 0, deleted_by = $1 WHERE id = $2")
                        .bind(message_id)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                }
                for s in &new_starts {
                    sqlx::query(
                        "INSERT INTO starts (message_id, gemeente, aanbieder, bsn, toewijzing_nummer, product_categorie, \
                         product_code, begindatum, active) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,1)",
                    )
                    .bind(message_id)
                    .bind(gemeente.to_string())
                    .bind(aanbieder.to_string())
                    .bind(bsn.expose().to_string())
                    .bind(s.toewijzing_nummer.map(|n| i64::from(n.get())))
                    .bind(s.product.as_ref().map(|p| p.categorie.code().to_string()))
                    .bind(s.product.as_ref().and_then(|p| p.code.as_ref().map(|c| c.to_string())))
                    .bind(ymd(&s.begindatum))
                    .execute(&mut **tx)
                    .await?;
                }
                for s in &new_stops {
                    sqlx::query(
                        "INSERT INTO stops (message_id, gemeente, aanbieder, bsn, toewijzing_nummer, product_categorie, \
                         product_code, begindatum, reden_beeindiging, einddatum, active) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,1)",
                    )
                    .bind(message_id)
                    .bind(gemeente.to_string())
                    .bind(aanbieder.to_string())
                    .bind(bsn.expose().to_string())
                    .bind(s.toewijzing_nummer.map(|n| i64::from(n.get())))
                    .bind(s.product.as_ref().map(|p| p.categorie.code().to_string()))
                    .bind(s.product.as_ref().and_then(|p| p.code.as_ref().map(|c| c.to_string())))
                    .bind(ymd(&s.begindatum))
                    .bind(s.reden_beeindiging.map(|r| r.code().to_string()).unwrap_or_default())
                    .bind(s.einddatum.map(|d| ymd(&d)).unwrap_or_default())
                    .execute(&mut **tx)
                    .await?;
                }
                Store::reevaluate_holds(&mut *tx, message_id, &gemeente, &bsn).await?;
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
                    &prestaties,
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
            }
        }
        Ok(Committed {
            message_id,
            answer: answer_out,
        })
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
