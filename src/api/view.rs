//! What the API reads and shows: JSON bodies and query strings with Dutch errors, pages with a
//! link to the next one, and runs as finance sees them.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::problem::Problem;
use crate::store::betaalrondes::{Aanbieder, RegelRow, RondeRow, Uitgesloten, Vastgehouden};

/// A JSON body, or 400/422 saying in Dutch what is wrong with it (never echoing its values).
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        let wat = match e.classify() {
            serde_json::error::Category::Data => {
                "een veld ontbreekt, is onbekend of heeft het verkeerde type"
            }
            serde_json::error::Category::Eof => "de JSON is onvolledig",
            _ => "dit is geen geldige JSON",
        };
        Problem::bad_request(format!(
            "Ongeldige inhoud: {wat} (regel {}, kolom {}).",
            e.line(),
            e.column()
        ))
    })
}

/// A query string, or 400 in Dutch.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| Q(t))
            .map_err(|_| Problem::bad_request("Ongeldige of onbekende zoekparameter in de URL."))
    }
}

/// `n` ASCII digits.
pub fn is_code(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// The link to the next page: the same filters, `na` the last key of this page.
pub fn next_link(path: &str, filters: &[(&str, Option<String>)], na: i64, limiet: i64) -> String {
    let mut q: Vec<String> = filters
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect();
    q.push(format!("na={na}"));
    q.push(format!("limiet={limiet}"));
    format!("{path}?{}", q.join("&"))
}

/// Percent-encodes all but unreserved characters.
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Held lines left out of a run: count, amount and per reason.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VastgehoudenView {
    pub aantal: i64,
    pub bedrag_cents: i64,
    pub redenen: Vec<Vastgehouden>,
}

/// A payment run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RondeView {
    pub id: i64,
    pub status: crate::domain::betaalronde::Status,
    pub gemeente: String,
    pub aanbieder: Option<String>,
    pub tot_en_met: String,
    pub aantal_regels: i64,
    pub totaal_cents: i64,
    /// Wie deze ronde betaalt (leeg in lijsten).
    pub aanbieders: Vec<Aanbieder>,
    pub vastgehouden: VastgehoudenView,
    /// Aanbieders die niet meegaan, met de reden.
    pub uitgesloten: Vec<Uitgesloten>,
    pub aangemaakt_door: String,
    pub aangemaakt_op: String,
    pub gefiatteerd_door: Option<String>,
    pub gefiatteerd_op: Option<String>,
    pub geexporteerd_op: Option<String>,
    pub sepa_sha256: Option<String>,
    pub betaald_op: Option<String>,
    pub ingetrokken_door: Option<String>,
    pub ingetrokken_op: Option<String>,
    pub reden: Option<String>,
}

impl From<RondeRow> for RondeView {
    fn from(r: RondeRow) -> Self {
        RondeView {
            vastgehouden: VastgehoudenView {
                aantal: r.vastgehouden.iter().map(|v| v.aantal).sum(),
                bedrag_cents: r.vastgehouden.iter().map(|v| v.bedrag_cents).sum(),
                redenen: r.vastgehouden,
            },
            id: r.id,
            status: r.status,
            gemeente: r.gemeente,
            aanbieder: r.aanbieder,
            tot_en_met: r.tot_en_met,
            aantal_regels: r.aantal_regels,
            totaal_cents: r.totaal_cents,
            aanbieders: r.aanbieders,
            uitgesloten: r.uitgesloten,
            aangemaakt_door: r.aangemaakt_door,
            aangemaakt_op: r.aangemaakt_op,
            gefiatteerd_door: r.gefiatteerd_door,
            gefiatteerd_op: r.gefiatteerd_op,
            geexporteerd_op: r.geexporteerd_op,
            sepa_sha256: r.sepa_sha256,
            betaald_op: r.betaald_op,
            ingetrokken_door: r.ingetrokken_door,
            ingetrokken_op: r.ingetrokken_op,
            reden: r.reden,
        }
    }
}

/// A page of runs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RondePagina {
    pub items: Vec<RondeView>,
    /// De volgende pagina, als die er is.
    pub volgende: Option<String>,
}

/// A page of a run's lines.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegelPagina {
    pub items: Vec<RegelRow>,
    pub volgende: Option<String>,
}

/// The JSON of runs by (id, status), at most [`RunCache::MAX`] of them (then it starts afresh).
/// Everything a run shows is fixed when it is made or set by the step that gives it its status,
/// so (id, status) names one answer; each replica keeps its own.
#[derive(Default)]
pub struct RunCache {
    inner: std::sync::Mutex<
        std::collections::HashMap<(i64, crate::domain::betaalronde::Status), axum::body::Bytes>,
    >,
}

impl RunCache {
    pub const MAX: usize = 256;

    pub fn get(&self, id: i64, s: crate::domain::betaalronde::Status) -> Option<axum::body::Bytes> {
        self.inner.lock().ok()?.get(&(id, s)).cloned()
    }

    pub fn put(&self, id: i64, s: crate::domain::betaalronde::Status, json: axum::body::Bytes) {
        if let Ok(mut m) = self.inner.lock() {
            if m.len() >= Self::MAX {
                m.clear();
            }
            m.insert((id, s), json);
        }
    }
}
