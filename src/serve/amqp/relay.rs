//! The outbox relay of one connection: publishes the answers the handlers commit, and scans the
//! outbox queue for the rest.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::Channel;

use super::publish_answers;
use crate::serve::Worker;
use crate::store::Pending;

/// The outbox relay of one connection (see `session`): answers handed over by the handlers are
/// published at once; the queue is scanned for the rest every second (at once after a failed
/// publication); on stop, everything handed over is published and the queue scanned once more.
/// Housekeeping (sealing the chain, statistics) runs whenever the relay is idle.
pub(super) async fn run_relay(
    w: Arc<Worker>,
    ch: Channel,
    mut fresh: tokio::sync::mpsc::UnboundedReceiver<Vec<Pending>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    const SCAN_EVERY: Duration = Duration::from_secs(1);
    const IDLE: Duration = Duration::from_millis(250);
    let mut carry: Vec<Pending> = Vec::new();
    let mut last_scan: Option<Instant> = None;
    // Take everything waiting, however young: at the start (nothing of this worker is on its
    // way yet), after a failed publication, and on stop.
    let mut sweep = true;
    loop {
        while carry.len() < 500 {
            match fresh.try_recv() {
                Ok(v) => carry.extend(v),
                Err(_) => break,
            }
        }
        if !carry.is_empty() {
            let (cfg, ch2) = (w.config.clone(), ch.clone());
            let batch = std::mem::take(&mut carry);
            match w
                .store
                .publish_fresh(batch, "amqp", |b| async move {
                    publish_answers(&ch2, &cfg, b).await
                })
                .await
            {
                Ok((n, failed)) => {
                    w.metrics.published.fetch_add(n as u64, Ordering::Relaxed);
                    if failed > 0 {
                        (last_scan, sweep) = (None, true);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "antwoorden publiceren mislukt; de relay probeert het later opnieuw");
                    (last_scan, sweep) = (None, true);
                }
            }
            if last_scan.is_some_and(|t| t.elapsed() < SCAN_EVERY) {
                continue;
            }
        }
        let stopping = *stop.borrow();
        if stopping || last_scan.is_none_or(|t| t.elapsed() >= SCAN_EVERY) {
            let min_age = if stopping || sweep {
                Duration::ZERO
            } else {
                LEFTOVER_AGE
            };
            scan(&w, &ch, min_age).await;
            (last_scan, sweep) = (Some(Instant::now()), false);
        }
        w.housekeeping().await;
        if stopping {
            if fresh.is_empty() {
                return;
            }
            continue;
        }
        tokio::select! {
            _ = stop.changed() => {}
            v = fresh.recv() => {
                if let Some(v) = v {
                    carry.extend(v);
                }
            }
            _ = tokio::time::sleep(IDLE) => {}
        }
    }
}

/// How old an answer in the queue must be before the scan takes it: younger ones are still on
/// their way from a handler to its relay.
const LEFTOVER_AGE: Duration = Duration::from_secs(2);

/// Publishes what waits in the outbox queue (written at least `min_age` ago), 500 at a time,
/// until less than a full batch is left.
async fn scan(w: &Arc<Worker>, ch: &Channel, min_age: Duration) {
    loop {
        let (cfg, ch2) = (w.config.clone(), ch.clone());
        let r = w
            .store
            .relay_outbox(500, min_age, "amqp", |batch| async move {
                publish_answers(&ch2, &cfg, batch).await
            })
            .await;
        match r {
            Ok((n, full)) => {
                w.metrics.published.fetch_add(n as u64, Ordering::Relaxed);
                if !full {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox-relay mislukt");
                return;
            }
        }
    }
}
