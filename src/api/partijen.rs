//! `/api/v1/aanbieders` and `/api/v1/gemeenten`: who is paid and from which account. Imports
//! take the same CSV as `iwmo aanbieders|gemeenten import` (all lines or none) and are logged.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::caller::Caller;
use super::problem::{ApiResult, FoutRegel, Problem};
use super::AppState;
use crate::auth::{Principal, Rol};
use crate::imports::{self, CsvErrors};
use crate::store::{NewAction, PartyRow, PartyTable};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/aanbieders", get(list_aanbieders).post(import_aanbieders))
        .route("/gemeenten", get(list_gemeenten).post(import_gemeenten))
}

/// An aanbieder or gemeente with its account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Partij {
    /// AGB-code of gemeentecode.
    pub code: String,
    pub naam: String,
    pub iban: String,
    pub bic: Option<String>,
    pub bijgewerkt_op: String,
}

impl From<PartyRow> for Partij {
    fn from(r: PartyRow) -> Self {
        Partij {
            code: r.code,
            naam: r.naam,
            iban: r.iban,
            bic: r.bic,
            bijgewerkt_op: r.updated_at,
        }
    }
}

/// What an import did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Import {
    pub geimporteerd: usize,
}

#[utoipa::path(get, path = "/api/v1/aanbieders", tag = "partijen",
    responses((status = 200, body = Vec<Partij>)))]
pub async fn list_aanbieders(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Vec<Partij>>> {
    let _ = c.met_rol(&Rol::ALLE)?;
    let rows = s.store.list_parties(PartyTable::Aanbieders).await?;
    Ok(Json(rows.into_iter().map(Partij::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/gemeenten", tag = "partijen",
    responses((status = 200, body = Vec<Partij>)))]
pub async fn list_gemeenten(State(s): State<AppState>, c: Caller) -> ApiResult<Json<Vec<Partij>>> {
    let p = c.met_rol(&Rol::ALLE)?;
    let rows = s.store.list_parties(PartyTable::Gemeenten).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|r| p.mag(&r.code))
            .map(Partij::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/aanbieders", tag = "partijen",
    request_body(content = String, content_type = "text/csv", description = "agb_code,naam,iban,bic"),
    responses((status = 200, body = Import), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn import_aanbieders(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<Import>> {
    let p = c.met_rol(&[Rol::Contractbeheer, Rol::Beheerder])?;
    let text = csv_text(&h, &body)?;
    let rows = imports::parse_aanbieders(text).map_err(fouten)?;
    let n = s
        .store
        .import_parties(PartyTable::Aanbieders, &rows)
        .await?;
    log_import(&s, &p, "aanbieders.importeren", n, &body).await?;
    Ok(Json(Import { geimporteerd: n }))
}

#[utoipa::path(post, path = "/api/v1/gemeenten", tag = "partijen",
    request_body(content = String, content_type = "text/csv", description = "gemeente_code,naam,iban,bic"),
    responses((status = 200, body = Import), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn import_gemeenten(
    State(s): State<AppState>,
    c: Caller,
    h: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<Import>> {
    let p = c.met_rol(&[Rol::Beheerder])?;
    let text = csv_text(&h, &body)?;
    let rows = imports::parse_gemeenten(text).map_err(fouten)?;
    let buiten: Vec<FoutRegel> = rows
        .iter()
        .enumerate()
        .filter(|(_, g)| !p.mag(&g.code.to_string()))
        .map(|(i, _)| FoutRegel {
            regel: i + 2,
            kolom: "gemeente_code".into(),
            melding: "gemeente buiten uw gemeenten".into(),
        })
        .collect();
    if !buiten.is_empty() {
        let mut pr = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Niets geïmporteerd: regels buiten uw gemeenten.",
        );
        pr.fouten = Some(buiten);
        return Err(pr);
    }
    let n = s.store.import_parties(PartyTable::Gemeenten, &rows).await?;
    log_import(&s, &p, "gemeenten.importeren", n, &body).await?;
    Ok(Json(Import { geimporteerd: n }))
}

/// The body as UTF-8 CSV, or 415/400.
fn csv_text<'a>(h: &HeaderMap, body: &'a [u8]) -> ApiResult<&'a str> {
    let ctype = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with("text/csv") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Stuur het bestand als `Content-Type: text/csv`.",
        ));
    }
    std::str::from_utf8(body).map_err(|_| Problem::bad_request("Het CSV-bestand is geen UTF-8."))
}

/// 422 with every wrong line.
fn fouten(e: CsvErrors) -> Problem {
    let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
    p.fouten = Some(
        e.errors
            .into_iter()
            .map(|f| FoutRegel {
                regel: f.line,
                kolom: f.column,
                melding: f.message,
            })
            .collect(),
    );
    p
}

async fn log_import(
    s: &AppState,
    p: &Principal,
    actie: &str,
    n: usize,
    body: &[u8],
) -> ApiResult<()> {
    let a = NewAction {
        gebruiker: &p.naam,
        rol: p.rol.as_str(),
        actie,
        onderwerp: actie.split('.').next().unwrap_or(actie),
        gemeente: None,
        details: serde_json::json!({ "aantal": n, "sha256": crate::pipeline::sha256_hex(body) }),
    };
    s.store.record_action(&a).await?;
    Ok(())
}
