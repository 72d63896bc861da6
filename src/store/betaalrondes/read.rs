//! Reading payment runs: one run with who it pays, lists, and its lines page by page.

use serde::Serialize;

use super::{status_of, Aanbieder, Opgeslagen};
use crate::domain::betaalronde::Status;
use crate::store::{get_i64, get_opt_i64, get_opt_str, get_str, Result, Store};

/// A run as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RondeRow {
    pub id: i64,
    pub status: Status,
    pub gemeente: String,
    pub aanbieder: Option<String>,
    pub tot_en_met: String,
    pub aantal_regels: i64,
    pub totaal_cents: i64,
    pub aanbieders: Vec<Aanbieder>,
    pub vastgehouden: Vec<super::Vastgehouden>,
    pub uitgesloten: Vec<super::Uitgesloten>,
    pub aangemaakt_door: String,
    pub aangemaakt_op: String,
    pub gefiatteerd_door: Option<String>,
    pub gefiatteerd_op: Option<String>,
    pub geexporteerd_door: Option<String>,
    pub geexporteerd_op: Option<String>,
    pub sepa_sha256: Option<String>,
    pub betaald_door: Option<String>,
    pub betaald_op: Option<String>,
    pub ingetrokken_door: Option<String>,
    pub ingetrokken_op: Option<String>,
    pub reden: Option<String>,
    #[serde(skip)]
    pub debiteur: (String, String, Option<String>),
}

/// One line of a run (no BSN: finance pays aanbieders, not clients).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RegelRow {
    pub prestatie_id: i64,
    pub aanbieder: String,
    pub referentie_nummer: String,
    pub declaratie_nummer: String,
    pub toewijzing_nummer: i64,
    pub product_categorie: String,
    pub product_code: String,
    pub periode_begin: String,
    pub periode_eind: String,
    pub debet_credit: String,
    pub bedrag_cents: i64,
}

const RUN_COLS: &str = "id, status, gemeente, aanbieder, tot_en_met, aantal_regels, totaal_cents, \
    samenvatting, debiteur_naam, debiteur_iban, debiteur_bic, aangemaakt_door, aangemaakt_op, \
    gefiatteerd_door, gefiatteerd_op, geexporteerd_door, geexporteerd_op, sepa_sha256, betaald_door, \
    betaald_op, ingetrokken_door, ingetrokken_op, reden";

fn run_row(r: &sqlx::any::AnyRow, aanbieders: Vec<Aanbieder>) -> Result<RondeRow> {
    let sam: Opgeslagen = serde_json::from_str(&get_str(r, "samenvatting")?).unwrap_or_default();
    Ok(RondeRow {
        id: get_i64(r, "id")?,
        status: status_of(&get_str(r, "status")?)?,
        gemeente: get_str(r, "gemeente")?,
        aanbieder: get_opt_str(r, "aanbieder")?,
        tot_en_met: get_str(r, "tot_en_met")?,
        aantal_regels: get_i64(r, "aantal_regels")?,
        totaal_cents: get_i64(r, "totaal_cents")?,
        aanbieders,
        vastgehouden: sam.vastgehouden,
        uitgesloten: sam.uitgesloten,
        aangemaakt_door: get_str(r, "aangemaakt_door")?,
        aangemaakt_op: get_str(r, "aangemaakt_op")?,
        gefiatteerd_door: get_opt_str(r, "gefiatteerd_door")?,
        gefiatteerd_op: get_opt_str(r, "gefiatteerd_op")?,
        geexporteerd_door: get_opt_str(r, "geexporteerd_door")?,
        geexporteerd_op: get_opt_str(r, "geexporteerd_op")?,
        sepa_sha256: get_opt_str(r, "sepa_sha256")?,
        betaald_door: get_opt_str(r, "betaald_door")?,
        betaald_op: get_opt_str(r, "betaald_op")?,
        ingetrokken_door: get_opt_str(r, "ingetrokken_door")?,
        ingetrokken_op: get_opt_str(r, "ingetrokken_op")?,
        reden: get_opt_str(r, "reden")?,
        debiteur: (
            get_str(r, "debiteur_naam")?,
            get_str(r, "debiteur_iban")?,
            get_opt_str(r, "debiteur_bic")?,
        ),
    })
}

/// The aanbieders a run pays, by AGB code.
pub(super) async fn aanbieders_of(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<Vec<Aanbieder>> {
    let rows = sqlx::query(
        "SELECT agb_code, naam, iban, bic, aantal_regels, bedrag_cents FROM betaalronde_aanbieders \
         WHERE betaalronde_id = $1 ORDER BY agb_code",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Aanbieder {
                agb_code: get_str(r, "agb_code")?,
                naam: get_str(r, "naam")?,
                iban: get_str(r, "iban")?,
                bic: get_opt_str(r, "bic")?,
                aantal_regels: get_i64(r, "aantal_regels")?,
                bedrag_cents: get_i64(r, "bedrag_cents")?,
            })
        })
        .collect()
}

/// One run with its aanbieders, on a connection or transaction.
pub(super) async fn run_on(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Option<RondeRow>> {
    let sql = format!("SELECT {RUN_COLS} FROM betaalrondes WHERE id = $1");
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let aanbieders = aanbieders_of(conn, id).await?;
    run_row(&r, aanbieders).map(Some)
}

/// The filter of a list of runs: the caller's gemeenten (None: all), and optional filters.
#[derive(Debug, Clone, Default)]
pub struct RondeFilter {
    pub binnen: Option<Vec<String>>,
    pub gemeente: Option<String>,
    pub status: Option<Status>,
    pub na_id: Option<i64>,
    pub limiet: i64,
}

impl Store {
    /// One run with its aanbieders; None when there is none with this id.
    pub async fn run(&self, id: i64) -> Result<Option<RondeRow>> {
        let mut conn = self.pool.acquire().await?;
        run_on(&mut conn, id).await
    }

    /// A run's gemeente and status, without the rest (None when there is no such run).
    pub async fn run_head(&self, id: i64) -> Result<Option<(String, Status)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT gemeente, status FROM betaalrondes WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(g, s)| Ok((g, status_of(&s)?))).transpose()
    }

    /// Runs by id, newest first, within the filter (the aanbieders are left empty: a list).
    pub async fn runs(&self, f: &RondeFilter) -> Result<Vec<RondeRow>> {
        let mut sql = format!("SELECT {RUN_COLS} FROM betaalrondes WHERE id < $1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(codes) = &f.binnen {
            let mut marks = vec!["''".to_string()];
            for c in codes {
                binds.push(c.clone());
                marks.push(format!("${}", binds.len() + 1));
            }
            sql += &format!(" AND gemeente IN ({})", marks.join(","));
        }
        if let Some(g) = &f.gemeente {
            binds.push(g.clone());
            sql += &format!(" AND gemeente = ${}", binds.len() + 1);
        }
        if let Some(s) = f.status {
            binds.push(s.as_str().to_string());
            sql += &format!(" AND status = ${}", binds.len() + 1);
        }
        sql += &format!(" ORDER BY id DESC LIMIT {}", f.limiet.clamp(1, 1000));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(f.na_id.unwrap_or(i64::MAX));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| run_row(r, Vec::new())).collect()
    }

    /// A page of a run's lines after `na` (prestatie id), in prestatie order.
    pub async fn run_lines(&self, id: i64, na: Option<i64>, limiet: i64) -> Result<Vec<RegelRow>> {
        let rows = sqlx::query(
            "SELECT r.prestatie_id, r.aanbieder, r.bedrag_cents, p.referentie_nummer, d.declaratie_nummer, \
             p.toewijzing_nummer, p.product_categorie, p.product_code, p.periode_begin, p.periode_eind, \
             p.debet_credit FROM betaalronde_regels r JOIN prestaties p ON p.id = r.prestatie_id \
             JOIN declaraties d ON d.id = p.declaratie_id \
             WHERE r.betaalronde_id = $1 AND r.prestatie_id > $2 ORDER BY r.prestatie_id LIMIT $3",
        )
        .bind(id)
        .bind(na.unwrap_or(0))
        .bind(limiet.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(regel_row).collect()
    }
}

fn regel_row(r: &sqlx::any::AnyRow) -> Result<RegelRow> {
    Ok(RegelRow {
        prestatie_id: get_i64(r, "prestatie_id")?,
        aanbieder: get_str(r, "aanbieder")?,
        referentie_nummer: get_str(r, "referentie_nummer")?,
        declaratie_nummer: get_str(r, "declaratie_nummer")?,
        toewijzing_nummer: get_opt_i64(r, "toewijzing_nummer")?.unwrap_or_default(),
        product_categorie: get_str(r, "product_categorie")?,
        product_code: get_str(r, "product_code")?,
        periode_begin: get_str(r, "periode_begin")?,
        periode_eind: get_str(r, "periode_eind")?,
        debet_credit: get_str(r, "debet_credit")?,
        bedrag_cents: get_i64(r, "bedrag_cents")?,
    })
}
