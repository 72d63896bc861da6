//! The action log: every action of a person (create, approve, export, withdraw, mark paid, every
//! view of a BSN or a raw message), appended in the transaction of the action itself and linked
//! into the hash chain by the sealer, beside the messages.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{get_i64, get_opt_str, get_str, Result, Store};

/// An action about to be logged. `details` never holds a BSN.
#[derive(Debug, Clone)]
pub struct NewAction<'a> {
    /// The person: a user's name (bearer token) or the name claim of an OpenID Connect token.
    pub gebruiker: &'a str,
    pub rol: &'a str,
    /// What was done, e.g. `betaalronde.fiatteren`.
    pub actie: &'a str,
    /// On what, e.g. `betaalronde/12`.
    pub onderwerp: &'a str,
    pub gemeente: Option<&'a str>,
    pub details: serde_json::Value,
}

/// An action as logged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRow {
    pub id: i64,
    pub op: String,
    pub gebruiker: String,
    pub rol: String,
    pub actie: String,
    pub onderwerp: String,
    pub gemeente: Option<String>,
    pub details: String,
}

/// The digest the chain links for an action: sha256 over its fields, one per line.
pub(super) fn digest(a: &ActionRow) -> String {
    let text = format!(
        "actie\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
        a.op,
        a.gebruiker,
        a.rol,
        a.actie,
        a.onderwerp,
        a.gemeente.as_deref().unwrap_or(""),
        a.details
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Appends an action on an open connection or transaction; the sealer links it into the chain.
pub async fn insert_action(
    conn: &mut sqlx::AnyConnection,
    a: &NewAction<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64> {
    let mut row = ActionRow {
        id: 0,
        op: now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        gebruiker: a.gebruiker.to_string(),
        rol: a.rol.to_string(),
        actie: a.actie.to_string(),
        onderwerp: a.onderwerp.to_string(),
        gemeente: a.gemeente.map(str::to_string),
        details: a.details.to_string(),
    };
    let sha = digest(&row);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO acties (op, gebruiker, rol, actie, onderwerp, gemeente, details, sha256) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id",
    )
    .bind(row.op.clone())
    .bind(row.gebruiker.clone())
    .bind(row.rol.clone())
    .bind(row.actie.clone())
    .bind(row.onderwerp.clone())
    .bind(row.gemeente.clone())
    .bind(row.details.clone())
    .bind(sha)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO unsealed_acties (actie_id) VALUES ($1)")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    row.id = id;
    Ok(id)
}

pub(super) fn action_row(r: &sqlx::any::AnyRow) -> Result<ActionRow> {
    Ok(ActionRow {
        id: get_i64(r, "id")?,
        op: get_str(r, "op")?,
        gebruiker: get_str(r, "gebruiker")?,
        rol: get_str(r, "rol")?,
        actie: get_str(r, "actie")?,
        onderwerp: get_str(r, "onderwerp")?,
        gemeente: get_opt_str(r, "gemeente")?,
        details: get_str(r, "details")?,
    })
}

impl Store {
    /// Logs one action in a transaction of its own.
    pub async fn record_action(&self, a: &NewAction<'_>) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_action(&mut tx, a, chrono::Utc::now()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The actions on one subject (e.g. `betaalronde/12`), oldest first.
    pub async fn actions_on(&self, onderwerp: &str) -> Result<Vec<ActionRow>> {
        let rows = sqlx::query(
            "SELECT id, op, gebruiker, rol, actie, onderwerp, gemeente, details FROM acties \
             WHERE onderwerp = $1 ORDER BY id",
        )
        .bind(onderwerp.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(action_row).collect()
    }

    /// The most recent actions, newest first (at most `limit`).
    pub async fn recent_actions(&self, limit: i64) -> Result<Vec<ActionRow>> {
        let rows = sqlx::query(
            "SELECT id, op, gebruiker, rol, actie, onderwerp, gemeente, details FROM acties \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(action_row).collect()
    }
}
