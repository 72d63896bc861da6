//! Synthetic bulk data for benchmarks and load tests (see [`super::synth`]): toewijzingen, starts
//! and approved earlier Prestaties, written straight into the tables in large batches.

use sqlx::AssertSqlSafe;

use super::synth;
use crate::store::{values_clause, Result, Store};

const AANBIEDER: &str = "87654321";
const GEMEENTE: &str = "0344";

impl Store {
    /// Adds toewijzingen `from..to` (numbers 100 000 + i, 10 per synthetic client; begeleiding
    /// 02A01, 10 hours per month from 2024-01-01, open-ended), with a start each when
    /// `with_starts`, and the contract.
    pub async fn seed_toewijzingen(&self, from: u32, to: u32, with_starts: bool) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO contracts (aanbieder, gemeente, product_categorie, product_code, eenheid, tarief, ingangsdatum, einddatum, imported_at, source) \
             VALUES ('87654321','0344','02','02A01','04',6850,'2024-01-01',NULL,'seed','seed') ON CONFLICT DO NOTHING",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO declaraties (message_id, gemeente, aanbieder, declaratie_nummer, periode_begin, periode_eind, totaal_ingediend, totaal_toegekend) \
             VALUES (0,'0344','87654321',$1,'2024-12-01','2024-12-31',0,0) ON CONFLICT DO NOTHING",
        )
        .bind(format!("SEED{from}"))
        .execute(&mut *tx)
        .await?;
        let batch = 400usize;
        let nrs: Vec<u32> = (from..to).collect();
        for chunk in nrs.chunks(batch) {
            let sql = format!(
                "INSERT INTO toewijzingen (gemeente, toewijzing_nummer, version_id, moment, bsn, aanbieder, product_categorie, product_code, \
                 toewijzingsdatum, toewijzingstijd, ingangsdatum, einddatum, reden_wijziging, volume, eenheid, frequentie, budget) VALUES {}",
                values_clause(self.backend(), chunk.len(), 17)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for &i in chunk {
                let nr = 100_000 + i;
                q = q
                    .bind(GEMEENTE)
                    .bind(i64::from(nr))
                    .bind(0i64)
                    .bind("2023-12-01T10:00:00")
                    .bind(synth::bsn(synth::client_of(nr)))
                    .bind(AANBIEDER)
                    .bind("02")
                    .bind("02A01")
                    .bind("2023-12-01")
                    .bind("10:00:00")
                    .bind("2024-01-01")
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(Some(10i64))
                    .bind(Some("04"))
                    .bind(Some("4"))
                    .bind(None::<i64>);
            }
            q.execute(&mut *tx).await?;
            if !with_starts {
                continue;
            }
            let sql = format!(
                "INSERT INTO starts (message_id, gemeente, aanbieder, bsn, toewijzing_nummer, product_categorie, product_code, begindatum, active) VALUES {}",
                values_clause(self.backend(), chunk.len(), 9)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for &i in chunk {
                let nr = 100_000 + i;
                q = q
                    .bind(0i64)
                    .bind(GEMEENTE)
                    .bind(AANBIEDER)
                    .bind(synth::bsn(synth::client_of(nr)))
                    .bind(i64::from(nr))
                    .bind("02")
                    .bind("02A01")
                    .bind("2024-01-01")
                    .bind(1i64);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds approved debits on toewijzingen `from..to` for the months `months` of 2024 (1–12).
    pub async fn seed_prestaties(
        &self,
        from: u32,
        to: u32,
        months: std::ops::RangeInclusive<u32>,
    ) -> Result<()> {
        let mut rows: Vec<(u32, u32)> = Vec::new();
        for i in from..to {
            for m in months.clone().filter(|m| (1..=12).contains(m)) {
                rows.push((100_000 + i, m));
            }
        }
        self.insert_prestaties(&rows).await
    }

    /// Like [`Store::seed_prestaties`], on the toewijzingen `toewijzingen` (indices as in
    /// [`Store::seed_toewijzingen`], e.g. the first two of every client), month by month as
    /// monthly declarations would have stored them (so the lines of one toewijzing lie apart).
    pub async fn seed_prestaties_on(
        &self,
        toewijzingen: impl IntoIterator<Item = u32>,
        months: std::ops::RangeInclusive<u32>,
    ) -> Result<()> {
        let nrs: Vec<u32> = toewijzingen.into_iter().collect();
        let mut rows: Vec<(u32, u32)> = Vec::new();
        for m in months.filter(|m| (1..=12).contains(m)) {
            rows.extend(nrs.iter().map(|i| (100_000 + i, m)));
        }
        self.insert_prestaties(&rows).await
    }

    /// Approved debits (toewijzing number, month of 2024), in this order.
    async fn insert_prestaties(&self, rows: &[(u32, u32)]) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let batch = 400usize;
        for chunk in rows.chunks(batch) {
            let sql = format!(
                "INSERT INTO prestaties (declaratie_id, message_id, regel, gemeente, aanbieder, referentie_nummer, vorig_referentie_nummer, \
                 bsn, toewijzing_nummer, product_categorie, product_code, periode_begin, periode_eind, geleverd_volume, eenheid, \
                 product_tarief, bedrag, debet_credit, approved, codes) VALUES {}",
                values_clause(self.backend(), chunk.len(), 20)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for &(nr, m) in chunk {
                let first = chrono::NaiveDate::from_ymd_opt(2024, m, 1).unwrap_or_default();
                let last = crate::domain::last_day_of_month(first);
                q = q
                    .bind(0i64)
                    .bind(0i64)
                    .bind(0i64)
                    .bind(GEMEENTE)
                    .bind(AANBIEDER)
                    .bind(format!("SEED{nr}M{m:02}"))
                    .bind(None::<String>)
                    .bind(synth::bsn(synth::client_of(nr)))
                    .bind(i64::from(nr))
                    .bind("02")
                    .bind("02A01")
                    .bind(first.format("%Y-%m-%d").to_string())
                    .bind(last.format("%Y-%m-%d").to_string())
                    .bind(4i64)
                    .bind("04")
                    .bind(Some(6850i64))
                    .bind(27_400i64)
                    .bind("D")
                    .bind(1i64)
                    .bind("");
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the planner statistics (after bulk loads; autovacuum does it in production).
    pub async fn analyze(&self) -> Result<()> {
        sqlx::query("ANALYZE").execute(self.pool()).await?;
        Ok(())
    }

    /// Number of stored Prestaties.
    pub async fn count_prestaties(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM prestaties")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}

impl Store {
    /// Payment-run data for benchmarks: gemeente `gemeente` with an account, `aanbieders`
    /// aanbieders (AGB 20000000 + k) with accounts, and `lines` approved January 2025 debits
    /// spread over them round-robin (€274.00 each), written in one statement.
    pub async fn seed_payable(&self, gemeente: &str, aanbieders: u32, lines: u32) -> Result<()> {
        let gemeente: String = gemeente
            .chars()
            .filter(char::is_ascii_digit)
            .take(4)
            .collect();
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO gemeenten (gemeente_code, naam, iban, bic, updated_at) \
             VALUES ($1, 'Gemeente Bench', 'NL69INGB0123456789', 'INGBNL2A', 'seed') ON CONFLICT DO NOTHING",
        )
        .bind(gemeente.clone())
        .execute(&mut *tx)
        .await?;
        let aanbieders = aanbieders.max(1);
        let seq = |n: u32| {
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})",
                n - 1
            )
        };
        sqlx::query(AssertSqlSafe(format!(
            "{} INSERT INTO aanbieders (agb_code, naam, iban, bic, updated_at) \
             SELECT CAST(20000000 + i AS TEXT), 'Aanbieder ' || CAST(i AS TEXT), 'NL91ABNA0417164300', NULL, 'seed' \
             FROM n WHERE true ON CONFLICT DO NOTHING",
            seq(aanbieders)
        )))
        .execute(&mut *tx)
        .await?;
        let (decl,): (i64,) = sqlx::query_as(
            "INSERT INTO declaraties (message_id, gemeente, aanbieder, declaratie_nummer, periode_begin, \
             periode_eind, totaal_ingediend, totaal_toegekend) \
             VALUES (0, $1, '20000000', 'BENCH-BR', '2025-01-01', '2025-01-31', 0, 0) RETURNING id",
        )
        .bind(gemeente.clone())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "{} INSERT INTO prestaties (declaratie_id, message_id, regel, gemeente, aanbieder, referentie_nummer, \
             vorig_referentie_nummer, bsn, toewijzing_nummer, product_categorie, product_code, periode_begin, \
             periode_eind, geleverd_volume, eenheid, product_tarief, bedrag, debet_credit, approved, codes) \
             SELECT {decl}, 0, i, '{gemeente}', CAST(20000000 + (i % {aanbieders}) AS TEXT), 'BR' || CAST(i AS TEXT), \
             NULL, '999999990', 100000 + i, '02', '02A01', '2025-01-01', '2025-01-31', 4, '04', 6850, 27400, 'D', 1, '' \
             FROM n",
            seq(lines.max(1))
        )))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
