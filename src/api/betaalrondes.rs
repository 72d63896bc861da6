//! `/api/v1/betaalrondes`: payment runs for finance (create, approve as the second person,
//! export SEPA and journal, mark paid, withdraw) and for auditors (read).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::caller::Caller;
use super::problem::{ApiResult, Problem};
use super::view::{self, RegelPagina, RondePagina, RondeView};
use super::AppState;
use crate::domain::betaalronde::{Stap, Status};
use crate::finance::rondes::{self, LEZERS};
use crate::store::betaalrondes::{NieuweRonde, RondeFilter};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/betaalrondes", post(create).get(list))
        .route("/betaalrondes/{id}", get(one))
        .route("/betaalrondes/{id}/regels", get(lines))
        .route("/betaalrondes/{id}/fiattering", post(approve))
        .route("/betaalrondes/{id}/sepa", get(sepa))
        .route("/betaalrondes/{id}/journaal.csv", get(journal))
        .route("/betaalrondes/{id}/betaald", post(paid))
        .route("/betaalrondes/{id}/intrekking", post(withdraw))
}

/// Body of `POST /betaalrondes`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NieuweRondeBody {
    /// Gemeentecode (4 cijfers).
    pub gemeente: String,
    /// Laatste dag van de ProductPeriode die meegaat (JJJJ-MM-DD).
    pub tot_en_met: String,
    /// Alleen deze aanbieder (AGB-code).
    pub aanbieder: Option<String>,
}

/// Body of `POST /betaalrondes/{id}/intrekking`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrekkingBody {
    pub reden: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/betaalrondes", tag = "betaalrondes",
    request_body = NieuweRondeBody,
    responses((status = 201, body = RondeView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    c: Caller,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b: NieuweRondeBody = view::json(&body)?;
    let n = nieuwe_ronde(b)?;
    let run = rondes::maak(&s.store, &c.0, &n).await?;
    let mut resp = (StatusCode::CREATED, Json(RondeView::from(run.clone()))).into_response();
    if let Ok(v) = format!("/api/v1/betaalrondes/{}", run.id).parse() {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

fn nieuwe_ronde(b: NieuweRondeBody) -> ApiResult<NieuweRonde> {
    if !view::is_code(&b.gemeente, 4) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "`gemeente` moet een gemeentecode van 4 cijfers zijn.",
        ));
    }
    let tot_en_met =
        chrono::NaiveDate::parse_from_str(&b.tot_en_met, "%Y-%m-%d").map_err(|_| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "`tot_en_met` moet een datum JJJJ-MM-DD zijn.",
            )
        })?;
    if let Some(a) = &b.aanbieder {
        if !view::is_code(a, 8) {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "`aanbieder` moet een AGB-code van 8 cijfers zijn.",
            ));
        }
    }
    Ok(NieuweRonde {
        gemeente: b.gemeente,
        tot_en_met,
        aanbieder: b.aanbieder,
    })
}

/// Filters of `GET /betaalrondes`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LijstQuery {
    pub gemeente: Option<String>,
    pub status: Option<String>,
    /// Sleutel van de volgende pagina (uit `volgende`).
    pub na: Option<i64>,
    pub limiet: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/betaalrondes", tag = "betaalrondes", params(LijstQuery),
    responses((status = 200, body = RondePagina), (status = 400, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    c: Caller,
    q: view::Q<LijstQuery>,
) -> ApiResult<Json<RondePagina>> {
    let p = c.met_rol(LEZERS)?;
    let q = q.0;
    let status = match q.status.as_deref() {
        None => None,
        Some(t) => Some(Status::parse(t).ok_or_else(|| {
            Problem::bad_request(
                "`status` is een van: concept, gefiatteerd, geexporteerd, betaald, ingetrokken.",
            )
        })?),
    };
    let limiet = q.limiet.unwrap_or(100).clamp(1, 1000);
    let f = RondeFilter {
        binnen: p.gemeenten.codes(),
        gemeente: q.gemeente.clone(),
        status,
        na_id: q.na,
        limiet,
    };
    let runs = s.store.runs(&f).await?;
    let volgende = (runs.len() as i64 == limiet)
        .then(|| runs.last().map(|r| r.id))
        .flatten()
        .map(|na| {
            view::next_link(
                "/api/v1/betaalrondes",
                &[
                    ("gemeente", q.gemeente.clone()),
                    ("status", q.status.clone()),
                ],
                na,
                limiet,
            )
        });
    Ok(Json(RondePagina {
        items: runs.into_iter().map(RondeView::from).collect(),
        volgende,
    }))
}

/// A run id from the path; anything else is a run that does not exist.
fn run_id(id: &str) -> ApiResult<i64> {
    id.parse().map_err(|_| Problem::not_found())
}

#[utoipa::path(get, path = "/api/v1/betaalrondes/{id}", tag = "betaalrondes", params(("id" = i64, Path, description = "Id van de betaalronde")),
    responses((status = 200, body = RondeView), (status = 404, body = Problem)))]
pub async fn one(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = run_id(&id)?;
    let status = rondes::status(&s.store, &c.0, id).await?;
    let json = match s.runs.get(id, status) {
        Some(j) => j,
        None => {
            let run = rondes::toon(&s.store, &c.0, id).await?;
            let (status, j) = (
                run.status,
                serde_json::to_vec(&RondeView::from(run)).unwrap_or_default(),
            );
            let j = axum::body::Bytes::from(j);
            s.runs.put(id, status, j.clone());
            j
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// Keyset pagination of lines.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegelsQuery {
    /// Prestatie-id waarna de pagina begint (uit `volgende`).
    pub na: Option<i64>,
    pub limiet: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/betaalrondes/{id}/regels", tag = "betaalrondes", params(("id" = i64, Path, description = "Id van de betaalronde"), RegelsQuery),
    responses((status = 200, body = RegelPagina), (status = 404, body = Problem)))]
pub async fn lines(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    q: view::Q<RegelsQuery>,
) -> ApiResult<Json<RegelPagina>> {
    let run = rondes::toon(&s.store, &c.0, run_id(&id)?).await?;
    let limiet = q.0.limiet.unwrap_or(500).clamp(1, 1000);
    let items = s.store.run_lines(run.id, q.0.na, limiet).await?;
    let volgende = (items.len() as i64 == limiet)
        .then(|| items.last().map(|r| r.prestatie_id))
        .flatten()
        .map(|na| {
            view::next_link(
                &format!("/api/v1/betaalrondes/{}/regels", run.id),
                &[],
                na,
                limiet,
            )
        });
    Ok(Json(RegelPagina { items, volgende }))
}

async fn take_step(
    s: &AppState,
    c: Caller,
    id: &str,
    stap: Stap,
    reden: Option<String>,
) -> ApiResult<Json<RondeView>> {
    let run = rondes::stap(&s.store, &c.0, run_id(id)?, stap, reden.as_deref()).await?;
    Ok(Json(RondeView::from(run)))
}

#[utoipa::path(post, path = "/api/v1/betaalrondes/{id}/fiattering", tag = "betaalrondes", params(("id" = i64, Path, description = "Id van de betaalronde")),
    responses((status = 200, body = RondeView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RondeView>> {
    take_step(&s, c, &id, Stap::Fiatteren, None).await
}

#[utoipa::path(post, path = "/api/v1/betaalrondes/{id}/betaald", tag = "betaalrondes", params(("id" = i64, Path, description = "Id van de betaalronde")),
    responses((status = 200, body = RondeView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn paid(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RondeView>> {
    take_step(&s, c, &id, Stap::Betaald, None).await
}

#[utoipa::path(post, path = "/api/v1/betaalrondes/{id}/intrekking", tag = "betaalrondes", params(("id" = i64, Path, description = "Id van de betaalronde")),
    request_body(content = IntrekkingBody, description = "Optioneel: de reden"),
    responses((status = 200, body = RondeView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn withdraw(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<RondeView>> {
    let b: IntrekkingBody = if body.is_empty() {
        IntrekkingBody::default()
    } else {
        view::json(&body)?
    };
    take_step(&s, c, &id, Stap::Intrekken, b.reden).await
}

#[utoipa::path(get, path = "/api/v1/betaalrondes/{id}/sepa", tag = "betaalrondes", params(("id" = i64, Path, description = "Id van de betaalronde")),
    responses((status = 200, content_type = "application/xml", description = "pain.001.001.09"), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn sepa(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (run, bytes) = rondes::sepa(&s.store, &c.0, run_id(&id)?).await?;
    let name = format!("betaalronde-{}-{}.xml", run.gemeente, run.id);
    Ok(attachment(bytes, "application/xml", &name))
}

#[utoipa::path(get, path = "/api/v1/betaalrondes/{id}/journaal.csv", tag = "betaalrondes", params(("id" = i64, Path, description = "Id van de betaalronde")),
    responses((status = 200, content_type = "text/csv"), (status = 404, body = Problem)))]
pub async fn journal(
    State(s): State<AppState>,
    c: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (run, bytes) = rondes::journaal(&s.store, &c.0, run_id(&id)?).await?;
    let name = format!("journaal-{}-{}.csv", run.gemeente, run.id);
    Ok(attachment(bytes, "text/csv; charset=utf-8", &name))
}

fn attachment(bytes: Vec<u8>, ctype: &'static str, name: &str) -> Response {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(ctype),
    );
    if let Ok(v) = format!("attachment; filename=\"{name}\"").parse() {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    (h, bytes).into_response()
}
