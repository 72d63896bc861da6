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

/// `UPDATE outbox SET <set> WHERE id IN (ids)`, where `set` names its parameters $1, $2, …
/// (bound from `params`).
async fn mark(
    backend: Backend,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    set: &str,
    params: &[String],
    ids: &[i64],
) -> Result<()> {
    for chunk in ids.chunks(500) {
        let mut ph = super::Ph::new(backend);
        let mut set = set.to_string();
        for i in 1..=params.len() {
            set = set.replace(&format!("${i}"), &ph.next());
        }
        let sql = format!(
            "UPDATE outbox SET {set} WHERE id IN ({})",
            ph.list(chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for p in params {
            q = q.bind(p.clone());
        }
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// Publishes pending answers (in id order, at most `limit`) through `publish`, which gets
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
                "SELECT id, answer_kind, identificatie, ontvanger, xml FROM outbox WHERE published_at IS NULL \
                 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id, answer_kind, identificatie, ontvanger, xml FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1"
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
        let results = publish(batch).await;
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match results.get(i) {
                Some(Ok(())) => sent.push(*id),
                Some(Err(e)) => {
                    tracing::warn!(outbox_id = id, error = %e, "antwoord niet gepubliceerd; later opnieuw");
                    failed.push(*id);
                }
                None => failed.push(*id),
            }
        }
        let now = chrono::Utc::now().to_rfc3339();
        // Confirmed: published through this channel; not confirmed: one attempt more.
        mark(
            self.backend,
            &mut tx,
            "published_at = $1, channel = $2, attempts = attempts + 1",
            &[now, channel.to_string()],
            &sent,
        )
        .await?;
        mark(
            self.backend,
            &mut tx,
            "attempts = attempts + 1",
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
        let r = sqlx::query("UPDATE outbox SET published_at = NULL WHERE message_id = $1 AND published_at IS NOT NULL")
            .bind(message_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn outbox_pending(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}
