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

impl Store {
    /// Publishes pending answers through `publish` (in id order, at most `limit`), marking each
    /// one published only after `publish` succeeded (i.e. the broker confirmed it). On
    /// PostgreSQL rows are locked with SKIP LOCKED, so several relays never publish the same row
    /// at the same time; a crash after publishing and before marking republishes it with the
    /// same message id (at least once, deduplicated by receivers on the id).
    pub async fn relay_outbox<F, Fut>(
        &self,
        limit: i64,
        channel: &str,
        mut publish: F,
    ) -> Result<usize>
    where
        F: FnMut(Pending) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<(), String>>,
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
        let mut done = 0;
        for (id, answer_kind, identificatie, ontvanger, xml) in rows {
            let r = publish(Pending {
                id,
                answer_kind,
                identificatie,
                ontvanger,
                xml,
            })
            .await;
            match r {
                Ok(()) => {
                    sqlx::query("UPDATE outbox SET published_at = $1, channel = $2, attempts = attempts + 1 WHERE id = $3")
                        .bind(chrono::Utc::now().to_rfc3339())
                        .bind(channel.to_string())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    done += 1;
                }
                Err(e) => {
                    tracing::warn!(outbox_id = id, error = %e, "antwoord niet gepubliceerd; later opnieuw");
                    sqlx::query("UPDATE outbox SET attempts = attempts + 1 WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    break;
                }
            }
        }
        tx.commit().await?;
        Ok(done)
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
