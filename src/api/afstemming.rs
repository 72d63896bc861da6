//! `/api/v1/afstemming`: the reconciliation an accountant asks for, per aanbieder and month:
//! declared → approved / rejected / held → in a payment run → paid, in cents.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::caller::{in_scope, Caller};
use super::problem::{ApiResult, Problem};
use super::view::{self, Q};
use super::AppState;
use crate::auth::Rol;
use crate::store::betaalrondes::AfstemmingRow;

pub fn routes() -> Router<AppState> {
    Router::new().route("/afstemming", get(reconcile))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AfstemmingQuery {
    /// Gemeentecode (verplicht).
    pub gemeente: String,
    /// AGB-code; zonder: alle aanbieders.
    pub aanbieder: Option<String>,
    /// Jaar van de ProductPeriode; zonder: dit jaar.
    pub jaar: Option<i32>,
}

/// The reconciliation of one gemeente and year.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Afstemming {
    pub gemeente: String,
    pub jaar: i32,
    pub regels: Vec<AfstemmingRow>,
}

#[utoipa::path(get, path = "/api/v1/afstemming", tag = "afstemming", params(AfstemmingQuery),
    responses((status = 200, body = Afstemming), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn reconcile(
    State(s): State<AppState>,
    c: Caller,
    q: Q<AfstemmingQuery>,
) -> ApiResult<Json<Afstemming>> {
    let p = c.met_rol(&[Rol::Financien, Rol::Auditor])?;
    let q = q.0;
    if !view::is_code(&q.gemeente, 4) {
        return Err(Problem::bad_request(
            "`gemeente` moet een gemeentecode van 4 cijfers zijn.",
        ));
    }
    if q.aanbieder.as_deref().is_some_and(|a| !view::is_code(a, 8)) {
        return Err(Problem::bad_request(
            "`aanbieder` moet een AGB-code van 8 cijfers zijn.",
        ));
    }
    let jaar = q.jaar.unwrap_or_else(|| chrono::Local::now().year());
    if !(2015..=2100).contains(&jaar) {
        return Err(Problem::bad_request("`jaar` ligt tussen 2015 en 2100."));
    }
    in_scope(&p, &q.gemeente)?;
    let regels = s
        .store
        .reconciliation(&q.gemeente, q.aanbieder.as_deref(), jaar)
        .await?;
    Ok(Json(Afstemming {
        gemeente: q.gemeente,
        jaar,
        regels,
    }))
}
