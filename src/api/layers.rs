//! What wraps every request: a request id (taken from `X-Request-ID` when sane, else made), the
//! `API-Version` header, an access log line without query or body (so never a BSN), metrics,
//! a timeout and a body limit. Every error answer leaves as problem+json, also those made by the
//! framework itself (405, 413, the timeout's 503).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::problem::Problem;
use super::{AppState, Limits, API_VERSION};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static API_VERSION_HEADER: HeaderName = HeaderName::from_static("api-version");

/// Wraps `router` in the layers (the last one added is the outermost).
pub fn apply(router: Router, state: AppState, limits: Limits) -> Router {
    router
        .route_layer(middleware::from_fn(mark_route))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.timeout,
        ))
        .layer(middleware::from_fn_with_state(state, around))
}

/// The route template of a matched request, handed out to [`around`] with the answer.
#[derive(Debug, Clone)]
struct RouteName(String);

async fn mark_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| RouteName(m.as_str().to_string()));
    let mut resp = next.run(req).await;
    if let Some(r) = route {
        resp.extensions_mut().insert(r);
    }
    resp
}

/// Where the caller extractor leaves the caller's name for the access log.
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(pub Arc<Mutex<Option<String>>>);

/// Request id, API-Version, problem+json for every error, access log and metrics.
async fn around(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    req.headers_mut().insert(REQUEST_ID.clone(), id.clone());
    let method = req.method().clone();
    let slot = CallerSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut resp = next.run(req).await;
    let route = resp
        .extensions()
        .get::<RouteName>()
        .map_or_else(|| "(geen route)".to_string(), |r| r.0.clone());
    if needs_problem(&resp) {
        resp = Problem::new(resp.status(), standaard_tekst(resp.status())).into_response();
    }
    let h = resp.headers_mut();
    h.insert(
        API_VERSION_HEADER.clone(),
        HeaderValue::from_static(API_VERSION),
    );
    h.insert(REQUEST_ID.clone(), id.clone());
    let secs = started.elapsed().as_secs_f64();
    let gebruiker = slot.0.lock().ok().and_then(|g| g.clone());
    tracing::info!(
        request_id = id.to_str().unwrap_or(""),
        method = %method,
        route = %route,
        status = resp.status().as_u16(),
        ms = (secs * 1000.0).round() as u64,
        gebruiker = gebruiker.as_deref().unwrap_or("-"),
        "http"
    );
    state.metrics.observe(&route, resp.status().as_u16(), secs);
    resp
}

/// The caller's `X-Request-ID` when it is short and plain, else a new random one.
fn request_id(req: &Request) -> HeaderValue {
    let given = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok());
    if let Some(v) = given.filter(|v| {
        !v.is_empty()
            && v.len() <= 64
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    }) {
        if let Ok(h) = HeaderValue::from_str(v) {
            return h;
        }
    }
    let mut b = [0u8; 12];
    let _ = getrandom::fill(&mut b);
    HeaderValue::from_str(&hex::encode(b)).unwrap_or(HeaderValue::from_static("0"))
}

/// An error answer that is not problem+json yet (made by the framework or a layer).
fn needs_problem(resp: &Response) -> bool {
    let s = resp.status();
    (s.is_client_error() || s.is_server_error())
        && resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|c| c.as_bytes() != b"application/problem+json")
}

fn standaard_tekst(s: StatusCode) -> &'static str {
    match s.as_u16() {
        400 => "Het verzoek is niet goed gevormd.",
        404 => "Niet gevonden.",
        405 => "Deze methode is hier niet toegestaan.",
        408 | 503 => "Het verzoek duurde te lang of de dienst is tijdelijk niet beschikbaar; probeer het opnieuw.",
        413 => "Het verzoek is te groot.",
        415 => "Dit inhoudstype wordt hier niet geaccepteerd.",
        422 => "De inhoud van het verzoek is niet bruikbaar.",
        _ => "Er ging iets mis.",
    }
}

/// Unknown paths (a trailing slash included: NLGov API-48 allows none).
pub async fn not_found(req: Request<Body>) -> Problem {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        return Problem::new(
            StatusCode::NOT_FOUND,
            "Niet gevonden: paden eindigen nooit op een schuine streep.",
        );
    }
    Problem::not_found()
}

/// Request counts per route and status, and a latency histogram, for `/metrics`.
#[derive(Default)]
pub struct ApiMetrics {
    inner: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    requests: BTreeMap<(String, u16), u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

impl ApiMetrics {
    fn observe(&self, route: &str, status: u16, secs: f64) {
        let Ok(mut c) = self.inner.lock() else { return };
        *c.requests.entry((route.to_string(), status)).or_default() += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                c.buckets[i] += 1;
            }
        }
        c.sum += secs;
        c.count += 1;
    }

    /// Prometheus text format.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let Ok(c) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::from(
            "# HELP iwmo_api_requests_total HTTP requests by route and status.\n\
             # TYPE iwmo_api_requests_total counter\n",
        );
        for ((route, status), n) in &c.requests {
            let _ = writeln!(
                out,
                "iwmo_api_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out += "# HELP iwmo_api_request_seconds Time to answer an HTTP request.\n\
                # TYPE iwmo_api_request_seconds histogram\n";
        for (b, n) in BUCKETS.iter().zip(c.buckets) {
            let _ = writeln!(out, "iwmo_api_request_seconds_bucket{{le=\"{b}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "iwmo_api_request_seconds_bucket{{le=\"+Inf\"}} {}",
            c.count
        );
        let _ = writeln!(out, "iwmo_api_request_seconds_sum {}", c.sum);
        let _ = writeln!(out, "iwmo_api_request_seconds_count {}", c.count);
        out
    }
}
