//! The operations endpoints of `iwmo serve` (health, readiness, metrics) on axum, like the API.

use axum::Router;
use tokio::net::TcpListener;

/// Serves `router` on `addr` until `stop` fires.
pub async fn serve(
    addr: String,
    router: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let listener = match TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(addr = %addr, error = %e, "kan HTTP-poort niet openen");
            return Err(e);
        }
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}
