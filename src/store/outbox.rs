//! The transactional outbox: answers written with their decision, published by the relay.

use super::{Backend, Result, Store};

/// An answer waiting to be published.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
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
    for chunk in idents.chunks(500) {
        let mut ph = super::Ph::new(backend);
        let mut text = sql.to_string();
        for i in 1..=params.len() {
            text = text.replace(&format!("${i}"), &ph.next());
        }
        let text = text.replace("{}", &ph.list(chunk.len()));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text)).persistent(false);
        for p in params {
            q = q.bind(p.clone());
        }
        for id in chunk {
            q = q.bind(id.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Publishes pending answers (in the order of their identificatie, IW + the zero-padded
    /// message id, so oldest first; at most `limit`) through `publish`, which gets
    /// the whole batch at once (so a broker transport can pipeline the publishes and then wait
    /// for all confirms) and says for each answer whether it was delivered (i.e. the broker
    /// confirmed it). Only those are marked published, in one statement. On PostgreSQL rows are
    /// locked with SKIP LOCKED, so several relays never publish the same row at the same time; a
    /// crash after publishing and before marking republishes it with the same message id (at
    /// least once, deduplicated by receivers on the id). Returns the number published and
    /// whether the batch was full (more may be waiting).
    pub async fn relay_outbox<F, Fut>(
        &self,
        limit: i64,
        channel: &str,
        publish: F,
    ) -> Result<(usize, bool)>
    where
        F: FnOnce(Vec<Pending>) -> Fut,
        Fut: std::future::Future<Output = Vec<std::result::Result<(), String>>>,
    {
        let mut tx = self.pool.begin().await?;
        let sql = match self.backend {
            Backend::Postgres => {
                "WITH q AS (SELECT identificatie FROM outbox_queue ORDER BY identificatie LIMIT $1 FOR UPDATE SKIP LOCKED) \
                 SELECT o.id, o.answer_kind, o.identificatie, o.ontvanger, o.xml FROM q \
                 JOIN outbox o ON o.identificatie = q.identificatie ORDER BY q.identificatie"
            }
            Backend::Sqlite => {
                "WITH q AS (SELECT identificatie FROM outbox_queue ORDER BY identificatie LIMIT $1) \
                 SELECT o.id, o.answer_kind, o.identificatie, o.ontvanger, o.xml FROM q \
                 JOIN outbox o ON o.identificatie = q.identificatie ORDER BY q.identificatie"
            }
        };
        let rows: Vec<(i64, String, String, String, String)> =
            sqlx::query_as(sql).bind(limit).fetch_all(&mut *tx).await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok((0, false));
        }
        let full = rows.len() as i64 >= limit;
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let batch: Vec<Pending> = rows
            .into_iter()
            .map(|(id, answer_kind, identificatie, ontvanger, xml)| Pending {
                id,
                answer_kind,
                identificatie,
                ontvanger,
                xml,
            })
            .collect();
        let idents: Vec<String> = batch.iter().map(|p| p.identificatie.clone()).collect();
        let results = publish(batch).await;
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        for (i, (id, ident)) in ids.iter().zip(idents).enumerate() {
            match results.get(i) {
                Some(Ok(())) => sent.push(ident),
                Some(Err(e)) => {
                    tracing::warn!(outbox_id = id, error = %e, "antwoord niet gepubliceerd; later opnieuw");
                    failed.push(ident);
                }
                None => failed.push(ident),
            }
        }
        let now = chrono::Utc::now().to_rfc3339();
        // Confirmed: logged as published through this channel and off the queue; not
        // confirmed: one attempt more.
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
        for_each_chunk(
            self.backend,
            &mut tx,
            "UPDATE outbox_queue SET attempts = attempts + 1 WHERE identificatie IN ({})",
            &[],
            &failed,
        )
        .await?;
        tx.commit().await?;
        Ok((sent.len(), full && failed.is_empty()))
    }

    /// The same message arrived again: send its answer again (same message id, so receivers
    /// that already have it can drop it).
    pub async fn requeue_answer(&self, message_id: i64) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO outbox_queue (identificatie, attempts) SELECT o.identificatie, 0 FROM outbox o \
             WHERE o.message_id = $1 AND NOT EXISTS (SELECT 1 FROM outbox_queue q WHERE q.identificatie = o.identificatie)",
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
