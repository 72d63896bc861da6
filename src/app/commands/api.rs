//! `iwmo api`: the HTTP API until SIGTERM/SIGINT, then the requests in flight are finished.

use std::time::Duration;

use crate::api::{self, AppState, Limits};
use crate::app::config::Config;
use crate::auth::Authenticator;
use crate::store::Store;

/// Exit 0 after a clean stop; 1 when the port cannot be opened; 2 when the OIDC configuration
/// cannot be used.
pub async fn run(store: Store, config: &Config) -> i32 {
    let auth = match Authenticator::new(store.clone(), config).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("iwmo api: {e}");
            return crate::app::EXIT_CONFIG;
        }
    };
    let state = AppState::new(store.clone(), auth);
    let limits = Limits {
        max_body_bytes: config.api_max_body_bytes,
        timeout: Duration::from_secs(config.api_timeout_secs.max(1)),
    };
    let listener = match tokio::net::TcpListener::bind(&config.api_listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("iwmo api: kan {} niet openen: {e}", config.api_listen);
            return 1;
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(addr = %addr, database = %config.database_url, "iwmo api luistert");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    crate::serve::on_signal(stop_tx);
    let sealer = tokio::spawn(seal_loop(store.clone(), stop_rx.clone()));
    let result = api::serve(listener, api::router(state, limits), stop_rx).await;
    let _ = sealer.await;
    let _ = store.seal_all().await;
    match result {
        Ok(()) => {
            tracing::info!("iwmo api gestopt");
            0
        }
        Err(e) => {
            tracing::error!(error = %e, "iwmo api gestopt met een fout");
            1
        }
    }
}

/// Links the actions of people into the hash chain every few seconds.
async fn seal_loop(store: Store, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        if *stop.borrow() {
            return;
        }
        if let Err(e) = store.seal_chain(5000).await {
            tracing::warn!(error = %e, "verzegelen van de hashketen mislukt; volgende keer opnieuw");
        }
    }
}
