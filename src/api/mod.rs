//! `iwmo api`: the HTTP API over the store (NLGov REST API Design Rules 2.0): everything under
//! `/api/v1`, OpenAPI 3 at `/api/v1/openapi.json`, an `API-Version` header on every answer,
//! errors as `application/problem+json` with a Dutch `detail`. The handlers are read models and
//! commands over the store; the checks of messages never run here.

pub mod afstemming;
pub mod betaalrondes;
pub mod caller;
pub mod layers;
pub mod openapi;
pub mod ops;
pub mod partijen;
pub mod problem;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use crate::auth::Authenticator;
use crate::store::Store;

/// The API's major.minor.patch, sent as `API-Version` (NLGov API-57).
pub const API_VERSION: &str = "1.0.0";

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Arc<Authenticator>,
    pub metrics: Arc<layers::ApiMetrics>,
    /// Runs as JSON by (id, status): a run changes only with its status (see
    /// [`view::RunCache`]), so a hit needs one small query, not its thousand aanbieders.
    pub runs: Arc<view::RunCache>,
}

impl AppState {
    pub fn new(store: Store, auth: Authenticator) -> AppState {
        AppState {
            store,
            auth: Arc::new(auth),
            metrics: Arc::default(),
            runs: Arc::default(),
        }
    }
}

/// Limits of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub timeout: Duration,
}

/// The whole application: `/api/v1/…`, the operations endpoints, and the layers around them.
pub fn router(state: AppState, limits: Limits) -> Router {
    let v1 = Router::new()
        .merge(betaalrondes::routes())
        .merge(partijen::routes())
        .merge(afstemming::routes())
        .route("/openapi.json", axum::routing::get(openapi::document));
    let app = Router::new()
        .nest("/api/v1", v1)
        .merge(ops::routes())
        .fallback(layers::not_found)
        .with_state(state.clone());
    layers::apply(app, state, limits)
}

/// Serves `router` on `listener` until `stop` fires, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}
