//! Aanbieders and gemeenten with their accounts (migration 0008): imports replace the row of the
//! same code; listings in code order.

use serde::Serialize;

use super::{get_opt_str, get_str, Result, Store};
use crate::imports::Party;

/// An aanbieder or gemeente as listed (`code` is the AGB code or the gemeentecode).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyRow {
    pub code: String,
    pub naam: String,
    pub iban: String,
    pub bic: Option<String>,
    pub updated_at: String,
}

/// The table and its key column.
#[derive(Debug, Clone, Copy)]
pub enum PartyTable {
    Aanbieders,
    Gemeenten,
}

impl PartyTable {
    /// The upsert of one row: code, naam, iban, bic, updated_at.
    fn upsert(self) -> &'static str {
        match self {
            PartyTable::Aanbieders => {
                "INSERT INTO aanbieders (agb_code, naam, iban, bic, updated_at) VALUES ($1,$2,$3,$4,$5) \
                 ON CONFLICT (agb_code) DO UPDATE SET naam = excluded.naam, iban = excluded.iban, \
                 bic = excluded.bic, updated_at = excluded.updated_at"
            }
            PartyTable::Gemeenten => {
                "INSERT INTO gemeenten (gemeente_code, naam, iban, bic, updated_at) VALUES ($1,$2,$3,$4,$5) \
                 ON CONFLICT (gemeente_code) DO UPDATE SET naam = excluded.naam, iban = excluded.iban, \
                 bic = excluded.bic, updated_at = excluded.updated_at"
            }
        }
    }

    fn select(self) -> &'static str {
        match self {
            PartyTable::Aanbieders => {
                "SELECT agb_code AS code, naam, iban, bic, updated_at FROM aanbieders ORDER BY agb_code"
            }
            PartyTable::Gemeenten => {
                "SELECT gemeente_code AS code, naam, iban, bic, updated_at FROM gemeenten \
                 ORDER BY gemeente_code"
            }
        }
    }
}

impl Store {
    /// Adds the parties, replacing the row of each code that is there already; all or nothing.
    pub async fn import_parties<C: std::fmt::Display>(
        &self,
        table: PartyTable,
        parties: &[Party<C>],
    ) -> Result<usize> {
        let ts = chrono::Utc::now().to_rfc3339();
        let mut tx = self.begin_write().await?;
        for p in parties {
            sqlx::query(table.upsert())
                .bind(p.code.to_string())
                .bind(p.naam.clone())
                .bind(p.iban.clone())
                .bind(p.bic.clone())
                .bind(ts.clone())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(parties.len())
    }

    /// Every row of the table, by code.
    pub async fn list_parties(&self, table: PartyTable) -> Result<Vec<PartyRow>> {
        let rows = sqlx::query(table.select()).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(PartyRow {
                    code: get_str(r, "code")?,
                    naam: get_str(r, "naam")?,
                    iban: get_str(r, "iban")?,
                    bic: get_opt_str(r, "bic")?,
                    updated_at: get_str(r, "updated_at")?,
                })
            })
            .collect()
    }
}
