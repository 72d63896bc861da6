//! What finance exports and reconciles: the journal of a run (aanbieder × productcategorie) and
//! the reconciliation per aanbieder and month (declared → approved / rejected / held → in a run
//! → paid).

use serde::Serialize;

use super::signed;
use crate::store::{get_i64, get_str, Result, Store};

/// One journal row of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournaalRow {
    pub agb_code: String,
    pub aanbieder: String,
    pub product_categorie: String,
    pub aantal_regels: i64,
    pub debet_cents: i64,
    pub credit_cents: i64,
}

/// One reconciliation row: an aanbieder's lines of one month (ProductPeriode start), in cents.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AfstemmingRow {
    pub agb_code: String,
    pub maand: String,
    pub aantal_regels: i64,
    pub gedeclareerd_cents: i64,
    pub goedgekeurd_cents: i64,
    pub afgewezen_cents: i64,
    pub vastgehouden_cents: i64,
    pub in_betaalronde_cents: i64,
    pub betaald_cents: i64,
}

impl Store {
    /// The journal of run `id`, by aanbieder and productcategorie.
    pub async fn run_journal(&self, id: i64) -> Result<Vec<JournaalRow>> {
        let rows = sqlx::query(
            "SELECT r.aanbieder, a.naam, p.product_categorie, COUNT(*) AS aantal, \
             CAST(SUM(CASE WHEN r.bedrag_cents > 0 THEN r.bedrag_cents ELSE 0 END) AS BIGINT) AS debet, \
             CAST(SUM(CASE WHEN r.bedrag_cents < 0 THEN -r.bedrag_cents ELSE 0 END) AS BIGINT) AS credit \
             FROM betaalronde_regels r JOIN prestaties p ON p.id = r.prestatie_id \
             JOIN betaalronde_aanbieders a ON a.betaalronde_id = r.betaalronde_id AND a.agb_code = r.aanbieder \
             WHERE r.betaalronde_id = $1 GROUP BY r.aanbieder, a.naam, p.product_categorie \
             ORDER BY r.aanbieder, p.product_categorie",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JournaalRow {
                    agb_code: get_str(r, "aanbieder")?,
                    aanbieder: get_str(r, "naam")?,
                    product_categorie: get_str(r, "product_categorie")?,
                    aantal_regels: get_i64(r, "aantal")?,
                    debet_cents: get_i64(r, "debet")?,
                    credit_cents: get_i64(r, "credit")?,
                })
            })
            .collect()
    }

    /// The reconciliation of a gemeente for a year, per aanbieder (optionally one) and month.
    pub async fn reconciliation(
        &self,
        gemeente: &str,
        aanbieder: Option<&str>,
        jaar: i32,
    ) -> Result<Vec<AfstemmingRow>> {
        let s = signed("p");
        let sql = format!(
            "SELECT p.aanbieder, SUBSTR(p.periode_begin, 1, 7) AS maand, COUNT(*) AS aantal, \
             CAST(SUM({s}) AS BIGINT) AS gedeclareerd, \
             CAST(SUM(CASE WHEN p.approved = 1 THEN {s} ELSE 0 END) AS BIGINT) AS goedgekeurd, \
             CAST(SUM(CASE WHEN p.approved = 0 THEN {s} ELSE 0 END) AS BIGINT) AS afgewezen, \
             CAST(SUM(CASE WHEN p.approved = 1 AND h.status = 'held' AND b.id IS NULL THEN {s} ELSE 0 END) AS BIGINT) AS vastgehouden, \
             CAST(SUM(CASE WHEN b.status IN ('concept', 'gefiatteerd', 'geexporteerd') THEN r.bedrag_cents ELSE 0 END) AS BIGINT) AS in_ronde, \
             CAST(SUM(CASE WHEN b.status = 'betaald' THEN r.bedrag_cents ELSE 0 END) AS BIGINT) AS betaald \
             FROM prestaties p LEFT JOIN holds h ON h.prestatie_id = p.id \
             LEFT JOIN betaalronde_regels r ON r.prestatie_id = p.id AND r.actief = 1 \
             LEFT JOIN betaalrondes b ON b.id = r.betaalronde_id \
             WHERE p.gemeente = $1 AND p.periode_begin >= $2 AND p.periode_begin < $3{} \
             GROUP BY p.aanbieder, SUBSTR(p.periode_begin, 1, 7) ORDER BY p.aanbieder, maand",
            if aanbieder.is_some() { " AND p.aanbieder = $4" } else { "" }
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(gemeente.to_string())
            .bind(format!("{jaar:04}-01-01"))
            .bind(format!("{:04}-01-01", jaar + 1));
        if let Some(a) = aanbieder {
            q = q.bind(a.to_string());
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(afstemming_row).collect()
    }
}

fn afstemming_row(r: &sqlx::any::AnyRow) -> Result<AfstemmingRow> {
    Ok(AfstemmingRow {
        agb_code: get_str(r, "aanbieder")?,
        maand: get_str(r, "maand")?,
        aantal_regels: get_i64(r, "aantal")?,
        gedeclareerd_cents: get_i64(r, "gedeclareerd")?,
        goedgekeurd_cents: get_i64(r, "goedgekeurd")?,
        afgewezen_cents: get_i64(r, "afgewezen")?,
        vastgehouden_cents: get_i64(r, "vastgehouden")?,
        in_betaalronde_cents: get_i64(r, "in_ronde")?,
        betaald_cents: get_i64(r, "betaald")?,
    })
}
