//! Moving a run's status, one transaction each with its action in the log: the row is locked,
//! [`volgende`] decides, the row is updated (and on withdrawal its lines are freed).

use chrono::{DateTime, Utc};

use super::{status_of, RondeFout, RondeRow};
use crate::domain::betaalronde::{volgende, Stap, Status};
use crate::store::actions::{insert_action, NewAction};
use crate::store::{get_str, Backend, Store};

/// What a step did: the run afterwards, and for an export the payment file.
#[derive(Debug, Clone)]
pub struct StapUitkomst {
    pub ronde: RondeRow,
    pub bestand: Option<Vec<u8>>,
}

/// The person taking a step.
pub struct Door<'a> {
    pub naam: &'a str,
    pub rol: &'a str,
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Locks the run's row; returns its status, maker and gemeente.
async fn lock(
    tx: &mut Tx,
    backend: Backend,
    id: i64,
) -> Result<(Status, String, String), RondeFout> {
    let lock = if backend == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql =
        format!("SELECT status, aangemaakt_door, gemeente FROM betaalrondes WHERE id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(RondeFout::NietGevonden)?;
    Ok((
        status_of(&get_str(&row, "status")?)?,
        get_str(&row, "aangemaakt_door")?,
        get_str(&row, "gemeente")?,
    ))
}

/// The UPDATE for a step into `naar` (who and when go into the step's own columns).
fn update_sql(stap: Stap) -> &'static str {
    match stap {
        Stap::Fiatteren => "UPDATE betaalrondes SET status = $1, gefiatteerd_door = $2, gefiatteerd_op = $3 WHERE id = $4",
        Stap::Exporteren => "UPDATE betaalrondes SET status = $1, geexporteerd_door = $2, geexporteerd_op = $3 WHERE id = $4",
        Stap::Betaald => "UPDATE betaalrondes SET status = $1, betaald_door = $2, betaald_op = $3 WHERE id = $4",
        Stap::Intrekken => "UPDATE betaalrondes SET status = $1, ingetrokken_door = $2, ingetrokken_op = $3 WHERE id = $4",
    }
}

impl Store {
    /// Takes `stap` on run `id` (fiatteren, betaald, intrekken; exports go through
    /// [`Store::export_run`]). `reden` is kept with a withdrawal.
    pub async fn move_run(
        &self,
        id: i64,
        stap: Stap,
        door: Door<'_>,
        reden: Option<&str>,
    ) -> Result<RondeRow, RondeFout> {
        let mut tx = self.begin_write().await?;
        let now = Utc::now();
        let gemeente = step(&mut tx, self.backend, id, stap, &door, now).await?;
        if stap == Stap::Intrekken {
            sqlx::query("UPDATE betaalronde_regels SET actief = 0 WHERE betaalronde_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE betaalrondes SET reden = $1 WHERE id = $2")
                .bind(reden.map(str::to_string))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        log(
            &mut tx,
            id,
            stap,
            &door,
            &gemeente,
            serde_json::json!({ "reden": reden }),
            now,
        )
        .await?;
        tx.commit().await?;
        self.run(id).await?.ok_or(RondeFout::NietGevonden)
    }

    /// Exports run `id` as a payment file: the first export moves it to `geexporteerd` and keeps
    /// the moment (the file's creation time) and the file's hash; a later export renders the same
    /// bytes again from the frozen run and checks them against that hash.
    pub async fn export_run(
        &self,
        id: i64,
        door: Door<'_>,
        render: impl FnOnce(&RondeRow) -> Result<Vec<u8>, String>,
    ) -> Result<StapUitkomst, RondeFout> {
        let mut tx = self.begin_write().await?;
        let now = Utc::now();
        let gemeente = step(&mut tx, self.backend, id, Stap::Exporteren, &door, now).await?;
        // Read through the transaction: it holds the row it just locked and updated.
        let ronde = super::read::run_on(&mut tx, id)
            .await?
            .ok_or(RondeFout::NietGevonden)?;
        let bytes = render(&ronde).map_err(RondeFout::Onvolledig)?;
        let sha = crate::pipeline::sha256_hex(&bytes);
        match &ronde.sepa_sha256 {
            None => {
                sqlx::query("UPDATE betaalrondes SET sepa_sha256 = $1 WHERE id = $2")
                    .bind(sha.clone())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(kept) if *kept != sha => {
                return Err(RondeFout::Store(crate::store::StoreError::Corrupt(
                    format!("het SEPA-bestand van betaalronde {id} wijkt af van de eerste export"),
                )))
            }
            Some(_) => {}
        }
        log(
            &mut tx,
            id,
            Stap::Exporteren,
            &door,
            &gemeente,
            serde_json::json!({ "sha256": sha }),
            now,
        )
        .await?;
        tx.commit().await?;
        let ronde = self.run(id).await?.ok_or(RondeFout::NietGevonden)?;
        Ok(StapUitkomst {
            ronde,
            bestand: Some(bytes),
        })
    }
}

/// Locks, decides and updates; returns the run's gemeente.
async fn step(
    tx: &mut Tx,
    backend: Backend,
    id: i64,
    stap: Stap,
    door: &Door<'_>,
    now: DateTime<Utc>,
) -> Result<String, RondeFout> {
    let (status, maker, gemeente) = lock(tx, backend, id).await?;
    if let Some(naar) = volgende(status, stap, &maker, door.naam)? {
        sqlx::query(update_sql(stap))
            .bind(naar.as_str().to_string())
            .bind(door.naam.to_string())
            .bind(now.to_rfc3339())
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(gemeente)
}

async fn log(
    tx: &mut Tx,
    id: i64,
    stap: Stap,
    door: &Door<'_>,
    gemeente: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), RondeFout> {
    let a = NewAction {
        gebruiker: door.naam,
        rol: door.rol,
        actie: stap.actie(),
        onderwerp: &format!("betaalronde/{id}"),
        gemeente: Some(gemeente),
        details,
    };
    insert_action(tx, &a, now).await?;
    Ok(())
}
