//! The hash chain over all stored messages: `chain` rows are only ever appended, each linking a
//! message's payload hash to the previous link; `unsealed` lists the committed messages not yet
//! linked (written in the message's own transaction).

use sha2::{Digest, Sha256};

use super::apply::insert_many;
use super::{get_i64, get_str, Result, Store};

/// sha256 hex of the previous link followed by the message's payload hash.
fn link(prev: &str, payload_sha256: &str) -> String {
    hex::encode(Sha256::digest(format!("{prev}{payload_sha256}").as_bytes()))
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Store {
    /// Seals committed messages into the hash chain in message id order (at most `limit` per
    /// call); returns how many were sealed. One sealer at a time (PostgreSQL: advisory lock;
    /// SQLite: single writer).
    pub async fn seal_chain(&self, limit: i64) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        if self.backend == super::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7274660)")
                .execute(&mut *tx)
                .await?;
        }
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let (last_seq, mut prev) = last.unwrap_or((0, GENESIS.to_string()));
        let todo: Vec<(i64, String)> = sqlx::query_as(
            "SELECT m.id, m.payload_sha256 FROM unsealed u JOIN messages m ON m.id = u.message_id \
             ORDER BY u.message_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if todo.is_empty() {
            return Ok(0);
        }
        let mut links: Vec<(i64, i64, String, String)> = Vec::with_capacity(todo.len());
        for (seq, (id, sha)) in (last_seq + 1..).zip(&todo) {
            let hash = link(&prev, sha);
            links.push((seq, *id, std::mem::replace(&mut prev, hash.clone()), hash));
        }
        insert_many(
            self.backend,
            &mut tx,
            "chain (seq, message_id, prev_hash, hash)",
            4,
            &links,
            |q, (seq, id, p, h)| q.bind(*seq).bind(*id).bind(p.clone()).bind(h.clone()),
        )
        .await?;
        sqlx::query(
            "DELETE FROM unsealed WHERE message_id IN (SELECT message_id FROM chain WHERE seq > $1)",
        )
        .bind(last_seq)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(todo.len())
    }

    /// Seals everything not yet sealed.
    pub async fn seal_all(&self) -> Result<usize> {
        let mut n = 0;
        loop {
            let k = self.seal_chain(5000).await?;
            n += k;
            if k == 0 {
                return Ok(n);
            }
        }
    }

    /// Verifies the hash chain (after sealing what is pending): every link follows from the one
    /// before and from its message's payload, every payload matches its hash, and every stored
    /// message is in the chain. Returns the number checked, or the id of the first message where
    /// it breaks.
    pub async fn verify_chain(&self) -> Result<std::result::Result<usize, i64>> {
        self.seal_all().await?;
        let rows = sqlx::query(
            "SELECT m.id, m.payload_sha256, m.raw, c.prev_hash, c.hash FROM chain c \
             JOIN messages m ON m.id = c.message_id ORDER BY c.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut prev = GENESIS.to_string();
        let mut last_checked = 0;
        for r in &rows {
            let id = get_i64(r, "id")?;
            last_checked = last_checked.max(id);
            let sha = get_str(r, "payload_sha256")?;
            let p = get_str(r, "prev_hash")?;
            let c = get_str(r, "hash")?;
            let raw: Vec<u8> = {
                use sqlx::Row;
                r.try_get("raw")?
            };
            if p != prev || c != link(&prev, &sha) || hex::encode(Sha256::digest(&raw)) != sha {
                return Ok(Err(id));
            }
            prev = c;
        }
        // A message that is neither in the chain nor waiting to be sealed was taken out of it
        // (only up to the last message checked: later ones may be committing right now).
        let outside: Option<(i64,)> = sqlx::query_as(
            "SELECT m.id FROM messages m WHERE m.id <= $1 \
             AND NOT EXISTS (SELECT 1 FROM chain c WHERE c.message_id = m.id) \
             AND NOT EXISTS (SELECT 1 FROM unsealed u WHERE u.message_id = m.id) ORDER BY m.id LIMIT 1",
        )
        .bind(last_checked)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((id,)) = outside {
            return Ok(Err(id));
        }
        Ok(Ok(rows.len()))
    }
}
