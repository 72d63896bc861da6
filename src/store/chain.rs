//! The hash chain over all stored messages and all actions of people: `chain` rows are only ever
//! appended, each linking a message's payload hash (or an action's digest) to the previous link;
//! `unsealed` and `unsealed_acties` list what is committed and not yet linked (written in the
//! message's or action's own transaction).

use sha2::{Digest, Sha256};

use super::apply::insert_many;
use super::{get_opt_i64, get_str, Result, Store};

/// sha256 hex of the previous link followed by the message's payload hash.
fn link(prev: &str, payload_sha256: &str) -> String {
    hex::encode(Sha256::digest(format!("{prev}{payload_sha256}").as_bytes()))
}

/// What a link of the chain is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Bericht(i64),
    Actie(i64),
}

impl Item {
    fn bericht(self) -> Option<i64> {
        match self {
            Item::Bericht(id) => Some(id),
            Item::Actie(_) => None,
        }
    }
    fn actie(self) -> Option<i64> {
        match self {
            Item::Actie(id) => Some(id),
            Item::Bericht(_) => None,
        }
    }
}

/// What `verify_links` found: the links checked (messages, actions) and the first broken one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCheck {
    pub berichten: usize,
    pub acties: usize,
    pub verbroken: Option<Item>,
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
        let mut todo: Vec<(Item, String)> = sqlx::query_as::<_, (i64, String)>(
            "SELECT m.id, m.payload_sha256 FROM unsealed u JOIN messages m ON m.id = u.message_id \
             ORDER BY u.message_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(id, sha)| (Item::Bericht(id), sha))
        .collect();
        let acties: Vec<(i64, String)> = sqlx::query_as(
            "SELECT a.id, a.sha256 FROM unsealed_acties u JOIN acties a ON a.id = u.actie_id \
             ORDER BY u.actie_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        todo.extend(acties.into_iter().map(|(id, sha)| (Item::Actie(id), sha)));
        if todo.is_empty() {
            return Ok(0);
        }
        let mut links: Vec<(i64, Item, String, String)> = Vec::with_capacity(todo.len());
        for (seq, (item, sha)) in (last_seq + 1..).zip(&todo) {
            let hash = link(&prev, sha);
            links.push((seq, *item, std::mem::replace(&mut prev, hash.clone()), hash));
        }
        insert_many(
            self.backend,
            &mut tx,
            "chain (seq, message_id, actie_id, prev_hash, hash)",
            5,
            &links,
            |q, (seq, item, p, h)| {
                q.bind(*seq)
                    .bind(item.bericht())
                    .bind(item.actie())
                    .bind(p.clone())
                    .bind(h.clone())
            },
        )
        .await?;
        sqlx::query(
            "DELETE FROM unsealed WHERE message_id IN (SELECT message_id FROM chain WHERE seq > $1)",
        )
        .bind(last_seq)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM unsealed_acties WHERE actie_id IN (SELECT actie_id FROM chain WHERE seq > $1)",
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
    /// before and from its message's payload (or its action's record), every payload matches its
    /// hash, and every stored message and action is in the chain. Returns the number of links
    /// checked, or the id of the first message (or action) where it breaks.
    pub async fn verify_chain(&self) -> Result<std::result::Result<usize, i64>> {
        let c = self.verify_links().await?;
        Ok(match c.verbroken {
            None => Ok(c.berichten + c.acties),
            Some(Item::Bericht(id) | Item::Actie(id)) => Err(id),
        })
    }

    /// [`Store::verify_chain`] with messages and actions told apart.
    pub async fn verify_links(&self) -> Result<ChainCheck> {
        self.seal_all().await?;
        let rows = sqlx::query(
            "SELECT c.message_id, c.actie_id, c.prev_hash, c.hash, m.payload_sha256, m.raw \
             FROM chain c LEFT JOIN messages m ON m.id = c.message_id ORDER BY c.seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let acties = self.action_digests().await?;
        let mut check = ChainCheck {
            berichten: 0,
            acties: 0,
            verbroken: None,
        };
        let (mut last_msg, mut last_actie) = (0, 0);
        let mut prev = GENESIS.to_string();
        for r in &rows {
            let (item, ok) = match get_opt_i64(r, "message_id")? {
                Some(id) => (Item::Bericht(id), message_ok(r)?),
                None => {
                    let id = get_opt_i64(r, "actie_id")?.unwrap_or(0);
                    (Item::Actie(id), acties.get(&id).cloned())
                }
            };
            let p = get_str(r, "prev_hash")?;
            let c = get_str(r, "hash")?;
            let intact = ok.is_some_and(|sha| p == prev && c == link(&prev, &sha));
            if !intact {
                check.verbroken = Some(item);
                return Ok(check);
            }
            match item {
                Item::Bericht(id) => {
                    (check.berichten, last_msg) = (check.berichten + 1, id.max(last_msg))
                }
                Item::Actie(id) => {
                    (check.acties, last_actie) = (check.acties + 1, id.max(last_actie))
                }
            }
            prev = c;
        }
        check.verbroken = self.outside_chain(last_msg, last_actie).await?;
        Ok(check)
    }

    /// Every action's digest recomputed from its row (id → digest).
    async fn action_digests(&self) -> Result<std::collections::HashMap<i64, String>> {
        let rows = sqlx::query(
            "SELECT id, op, gebruiker, rol, actie, onderwerp, gemeente, details FROM acties",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let a = super::actions::action_row(r)?;
                Ok((a.id, super::actions::digest(&a)))
            })
            .collect()
    }

    /// A message or action that is neither in the chain nor waiting to be sealed was taken out
    /// of it (only up to the last one checked: later ones may be committing right now).
    async fn outside_chain(&self, last_msg: i64, last_actie: i64) -> Result<Option<Item>> {
        let outside: Option<(i64,)> = sqlx::query_as(
            "SELECT m.id FROM messages m WHERE m.id <= $1 \
             AND NOT EXISTS (SELECT 1 FROM chain c WHERE c.message_id = m.id) \
             AND NOT EXISTS (SELECT 1 FROM unsealed u WHERE u.message_id = m.id) ORDER BY m.id LIMIT 1",
        )
        .bind(last_msg)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((id,)) = outside {
            return Ok(Some(Item::Bericht(id)));
        }
        let outside: Option<(i64,)> = sqlx::query_as(
            "SELECT a.id FROM acties a WHERE a.id <= $1 \
             AND NOT EXISTS (SELECT 1 FROM chain c WHERE c.actie_id = a.id) \
             AND NOT EXISTS (SELECT 1 FROM unsealed_acties u WHERE u.actie_id = a.id) ORDER BY a.id LIMIT 1",
        )
        .bind(last_actie)
        .fetch_optional(&self.pool)
        .await?;
        Ok(outside.map(|(id,)| Item::Actie(id)))
    }
}

/// A message link's payload hash when the stored bytes still match it.
fn message_ok(r: &sqlx::any::AnyRow) -> Result<Option<String>> {
    use sqlx::Row;
    let Some(sha) = super::get_opt_str(r, "payload_sha256")? else {
        return Ok(None);
    };
    let raw: Vec<u8> = r.try_get("raw")?;
    Ok((hex::encode(Sha256::digest(&raw)) == sha).then_some(sha))
}
