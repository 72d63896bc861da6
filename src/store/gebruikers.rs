//! People who may use iwmo with a bearer token (migration 0009): only the sha256 of each token is
//! kept. A name is active once at a time; a revoked name may be given out again.

use serde::Serialize;

use super::actions::{insert_action, NewAction};
use super::{get_i64, get_opt_str, get_str, Result, Store, StoreError};

/// A user as listed: never the token or its hash. `gemeenten` is `*` (all) or codes separated by
/// commas, `rol` one of the iwmo roles (checked by `crate::auth`, not here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub naam: String,
    pub rol: String,
    pub gemeenten: String,
    pub aangemaakt_op: String,
    pub ingetrokken_op: Option<String>,
}

const COLUMNS: &str = "id, naam, rol, gemeenten, aangemaakt_op, ingetrokken_op";

fn user_row(r: &sqlx::any::AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        id: get_i64(r, "id")?,
        naam: get_str(r, "naam")?,
        rol: get_str(r, "rol")?,
        gemeenten: get_str(r, "gemeenten")?,
        aangemaakt_op: get_str(r, "aangemaakt_op")?,
        ingetrokken_op: get_opt_str(r, "ingetrokken_op")?,
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// Adds an active user; [`StoreError::Conflict`] when the name is active already (the partial
    /// unique index on active names catches a race between two of these).
    pub async fn add_user(
        &self,
        naam: &str,
        rol: &str,
        gemeenten: &str,
        token_sha256: &str,
    ) -> Result<i64> {
        self.add_user_with(naam, rol, gemeenten, token_sha256, None)
            .await
    }

    /// [`Store::add_user`], with the action that did it logged in the same transaction.
    pub async fn add_user_logged(
        &self,
        naam: &str,
        rol: &str,
        gemeenten: &str,
        token_sha256: &str,
        action: &NewAction<'_>,
    ) -> Result<i64> {
        self.add_user_with(naam, rol, gemeenten, token_sha256, Some(action))
            .await
    }

    async fn add_user_with(
        &self,
        naam: &str,
        rol: &str,
        gemeenten: &str,
        token_sha256: &str,
        action: Option<&NewAction<'_>>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let active: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM gebruikers WHERE naam = $1 AND ingetrokken_op IS NULL")
                .bind(naam.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if active.is_some() {
            return Err(StoreError::Conflict(format!(
                "er is al een actieve gebruiker met de naam '{naam}' (trek die eerst in)"
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO gebruikers (naam, rol, gemeenten, token_sha256, aangemaakt_op) \
             VALUES ($1,$2,$3,$4,$5) RETURNING id",
        )
        .bind(naam.to_string())
        .bind(rol.to_string())
        .bind(gemeenten.to_string())
        .bind(token_sha256.to_string())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(a) = action {
            insert_action(&mut tx, a, chrono::Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Revokes the active user of this name; false when there is none.
    pub async fn revoke_user(&self, naam: &str) -> Result<bool> {
        self.revoke_user_with(naam, None).await
    }

    /// [`Store::revoke_user`], with the action that did it logged in the same transaction (only
    /// when there was a user to revoke).
    pub async fn revoke_user_logged(&self, naam: &str, action: &NewAction<'_>) -> Result<bool> {
        self.revoke_user_with(naam, Some(action)).await
    }

    async fn revoke_user_with(&self, naam: &str, action: Option<&NewAction<'_>>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE gebruikers SET ingetrokken_op = $1 WHERE naam = $2 AND ingetrokken_op IS NULL",
        )
        .bind(now())
        .bind(naam.to_string())
        .execute(&mut *tx)
        .await?;
        let revoked = done.rows_affected() > 0;
        if let (true, Some(a)) = (revoked, action) {
            insert_action(&mut tx, a, chrono::Utc::now()).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Every user, revoked ones included, in the order they were added.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        let sql = format!("SELECT {COLUMNS} FROM gebruikers ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_row).collect()
    }

    /// The active user whose token has this sha256 (hex); revoked users are not found.
    pub async fn user_by_token(&self, token_sha256: &str) -> Result<Option<UserRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM gebruikers WHERE token_sha256 = $1 AND ingetrokken_op IS NULL"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_sha256.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_row).transpose()
    }
}
