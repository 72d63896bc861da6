//! The transactional outbox: answers written with their decision, published by the relay.

use super::{Backend, Result, Store};

/// An answer waiting to be published.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The message the answer is to.
    pub message_id: i64,
    pub answer_kind: String,
    /// IdentificatieRetour / BerichtIdentificatie of the answer: the deterministic message id.
    pub identificatie: String,
    /// AGB code of the receiving aanbieder (routing key).
    pub ontvanger: String,
    pub xml: String,
}

/// Runs `sql`, in which `{}` stands for a list of identificaties, for each chunk of `idents`
/// (after the fixed `params`, bound first as $1, $2, …).
async fn for_each_chunk(
    backend: Backend,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sql: &str,
    params: &[String],
    idents: &[String],
) -> Result<()> {
    for chunk in idents.chunks(super::CHUNK) {
        let mut ph = super::Ph::new(backend);
        let mut text = sql.to_string();
        for i in 1..=params.len() {
            text = text.replace(&format!("${i}"), &ph.next());
        }
        let text = text.replace("{}", &ph.list(super::shape(chunk.len())));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
        for p in params {
            q = q.bind(p.clone());
        }
        for id in super::padded(chunk) {
            q = q.bind(id.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The clause that locks the selected queue rows and passes over those another relay holds
/// (PostgreSQL; SQLite has a single writer, so nothing to lock).
fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    }
}

impl Store {
    /// Publishes pending answers (in the order of their identificatie, IW + the zero-padded
    /// message id, so oldest first; at most `limit`) through `publish`, which gets
    /// the whole batch at once (so a broker transport can pipeline the publishes and then wait
    /// for all confirms) and says for each answer whether it was delivered (i.e. the broker
    /// confirmed it). Only those are marked published, in one statement. On PostgreSQL rows are
    /// locked with SKIP LOCKED, so several relays never publish the same row at the same time; a
    /// crash after publishing and before marking republishes it with the same message id (at
    /// least once, deduplicated by receivers on the id). Only answers written at least `min_age`
    /// ago are taken (a worker publishes its own fresh answers itself, see
    /// [`Store::publish_fresh`]). Returns the number published and whether the batch was full
    /// (more may be waiting).
    pub async fn relay_outbox<F, Fut>(
        &self,
        limit: i64,
        min_age: std::time::Duration,
        channel: &str,
        publish: F,
    ) -> Result<(usize, bool)>
    where
        F: FnOnce(Vec<Pending>) -> Fut,
        Fut: std::future::Future<Output = Vec<std::result::Result<(), String>>>,
    {
        let mut tx = self.begin_write().await?;
        // created_at is RFC 3339 in UTC, written by this program: text order is time order. The
        // queue is short and walked in order; each answer's time is looked up on its key.
        let lock = skip_locked(self.backend);
        let sql = format!(
            "WITH q AS (SELECT q.identificatie FROM outbox_queue q \
             WHERE (SELECT o.created_at FROM outbox o WHERE o.identificatie = q.identificatie) <= $2 \
             ORDER BY q.identificatie LIMIT $1{lock}) \
             SELECT o.message_id, o.answer_kind, o.identificatie, o.ontvanger, o.xml FROM q \
             JOIN outbox o ON o.identificatie = q.identificatie ORDER BY q.identificatie"
        );
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(min_age).unwrap_or(chrono::Duration::zero());
        let rows: Vec<(i64, String, String, String, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(limit)
                .bind(cutoff.to_rfc3339())
                .fetch_all(&mut *tx)
                .await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok((0, false));
        }
        let full = rows.len() as i64 >= limit;
        let batch: Vec<Pending> = rows
            .into_iter()
            .map(
                |(message_id, answer_kind, identificatie, ontvanger, xml)| Pending {
                    message_id,
                    answer_kind,
                    identificatie,
                    ontvanger,
                    xml,
                },
            )
            .collect();
        let (sent, failed) = self.publish_locked(tx, batch, channel, publish).await?;
        Ok((sent, full && failed == 0))
    }

    /// Publishes answers this worker has just committed, without reading them back: of
    /// `fresh`, those still waiting in the queue are locked (SKIP LOCKED: a relay that is
    /// publishing one already keeps it), published through `publish` and recorded as in
    /// [`Store::relay_outbox`]. Returns the number published and the number that failed (those
    /// stay in the queue for the relay's next round).
    pub async fn publish_fresh<F, Fut>(
        &self,
        fresh: Vec<Pending>,
        channel: &str,
        publish: F,
    ) -> Result<(usize, usize)>
    where
        F: FnOnce(Vec<Pending>) -> Fut,
        Fut: std::future::Future<Output = Vec<std::result::Result<(), String>>>,
    {
        let mut tx = self.begin_write().await?;
        let lock = skip_locked(self.backend);
        let mut waiting = std::collections::HashSet::new();
        for chunk in fresh.chunks(super::CHUNK) {
            let sql = format!(
                "SELECT identificatie FROM outbox_queue WHERE identificatie IN ({}){lock}",
                super::Ph::new(self.backend).list(super::shape(chunk.len()))
            );
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for p in super::padded(chunk) {
                q = q.bind(p.identificatie.clone());
            }
            waiting.extend(q.fetch_all(&mut *tx).await?);
        }
        let batch: Vec<Pending> = fresh
            .into_iter()
            .filter(|p| waiting.contains(&p.identificatie))
            .collect();
        if batch.is_empty() {
            tx.rollback().await?;
            return Ok((0, 0));
        }
        self.publish_locked(tx, batch, channel, publish).await
    }

    /// Publishes a batch whose queue rows `tx` holds, records the outcome and commits.
    /// Confirmed: logged as published through `channel` and off the queue; not confirmed: one
    /// attempt more. The record may be lost in a crash (PostgreSQL commits it without waiting
    /// for the disk): the answer is then published again, with the same message id.
    async fn publish_locked<F, Fut>(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        batch: Vec<Pending>,
        channel: &str,
        publish: F,
    ) -> Result<(usize, usize)>
    where
        F: FnOnce(Vec<Pending>) -> Fut,
        Fut: std::future::Future<Output = Vec<std::result::Result<(), String>>>,
    {
        let ids: Vec<(i64, String)> = batch
            .iter()
            .map(|p| (p.message_id, p.identificatie.clone()))
            .collect();
        let results = publish(batch).await;
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        for (i, (message_id, ident)) in ids.into_iter().enumerate() {
            match results.get(i) {
                Some(Ok(())) => sent.push(ident),
                Some(Err(e)) => {
                    tracing::warn!(bericht_id = message_id, error = %e, "antwoord niet gepubliceerd; later opnieuw");
                    failed.push(ident);
                }
                None => failed.push(ident),
            }
        }
        let now = chrono::Utc::now().to_rfc3339();
        match self.backend {
            Backend::Postgres => {
                sqlx::query("SET LOCAL synchronous_commit = off")
                    .execute(&mut *tx)
                    .await?;
                for_each_chunk(
                    self.backend,
                    &mut tx,
                    "WITH d AS (DELETE FROM outbox_queue WHERE identificatie IN ({}) RETURNING identificatie, attempts) \
                     INSERT INTO outbox_published (identificatie, published_at, channel, attempts) \
                     SELECT identificatie, $1, $2, attempts + 1 FROM d",
                    &[now, channel.to_string()],
                    &sent,
                )
                .await?;
            }
            Backend::Sqlite => {
                for_each_chunk(
                    self.backend,
                    &mut tx,
                    "INSERT INTO outbox_published (identificatie, published_at, channel, attempts) \
                     SELECT identificatie, $1, $2, attempts + 1 FROM outbox_queue WHERE identificatie IN ({})",
                    &[now, channel.to_string()],
                    &sent,
                )
                .await?;
                for_each_chunk(
                    self.backend,
                    &mut tx,
                    "DELETE FROM outbox_queue WHERE identificatie IN ({})",
                    &[],
                    &sent,
                )
                .await?;
            }
        }
        for_each_chunk(
            self.backend,
            &mut tx,
            "UPDATE outbox_queue SET attempts = attempts + 1 WHERE identificatie IN ({})",
            &[],
            &failed,
        )
        .await?;
        tx.commit().await?;
        Ok((sent.len(), failed.len()))
    }

    /// The further parts of an answer written in parts (see `retour::parts`), by the first
    /// part's Identificatie: (kind, Identificatie, xml) in the order of the parts; usually none.
    /// Found through the outbox's unique Identificatie, the parts' ids being derived from it.
    pub async fn further_answers(&self, first: &str) -> Result<Vec<(String, String, String)>> {
        let candidates = crate::retour::parts::further_identificaties(first);
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let mut ph = super::Ph::new(self.backend);
        let sql = format!(
            "SELECT answer_kind, identificatie, xml FROM outbox WHERE identificatie IN ({})",
            ph.list(candidates.len())
        );
        let mut q = sqlx::query_as::<_, (String, String, String)>(sqlx::AssertSqlSafe(sql));
        for c in &candidates {
            q = q.bind(c.clone());
        }
        let mut rows = q.fetch_all(&self.pool).await?;
        rows.sort_by_key(|(_, id, _)| candidates.iter().position(|c| c == id));
        Ok(rows)
    }

    /// The same message arrived again: send its answer again (same message id, so receivers
    /// that already have it can drop it), every part of it.
    pub async fn requeue_answer(&self, message_id: i64) -> Result<bool> {
        let first: Option<(Option<String>,)> =
            sqlx::query_as("SELECT answer_identificatie FROM decisions WHERE message_id = $1")
                .bind(message_id)
                .fetch_optional(&self.pool)
                .await?;
        let parts = match first.and_then(|f| f.0) {
            Some(f) => self.further_answers(&f).await?,
            None => Vec::new(),
        };
        for (_, ident, _) in &parts {
            sqlx::query(
                "INSERT INTO outbox_queue (identificatie, attempts) SELECT $1, 0 \
                 WHERE NOT EXISTS (SELECT 1 FROM outbox_queue q WHERE q.identificatie = $2)",
            )
            .bind(ident.clone())
            .bind(ident.clone())
            .execute(&self.pool)
            .await?;
        }
        let r = sqlx::query(
            "INSERT INTO outbox_queue (identificatie, attempts) SELECT d.answer_identificatie, 0 FROM decisions d \
             WHERE d.message_id = $1 AND d.answer_identificatie IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM outbox_queue q WHERE q.identificatie = d.answer_identificatie)",
        )
        .bind(message_id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn outbox_pending(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox_queue")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
