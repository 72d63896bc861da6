//! Deliveries over the size cap: never parsed or stored whole. RabbitMQ bounds what it accepts
//! (`max_message_size` in deploy/rabbitmq/rabbitmq.conf); the worker's own cap (`max_bytes`) is
//! checked on the body's length before anything else. The refusal is recorded (the first bytes
//! and the hash of the whole body, for the operator) and the delivery is dead-lettered with the
//! reason.

use super::settle::Settled;
use crate::fsread::{ReadFailure, PREVIEW_BYTES};
use crate::serve::Worker;
use crate::store::Fault;

/// Whether a body is over the cap.
pub(super) fn too_large(w: &Worker, body: &[u8]) -> bool {
    body.len() > w.config.max_bytes
}

/// Records an oversized delivery and says what becomes of it: dead-lettered with the reason,
/// or back to the queue when the database is out.
pub(super) async fn oversized(w: &Worker, source: &str, body: &[u8]) -> Settled {
    let refusal = ReadFailure::TooLarge {
        size: body.len() as u64,
        limit: w.config.max_bytes,
        preview: Vec::new(),
        sha256: String::new(),
    };
    let reason = refusal.to_string();
    let preview = &body[..body.len().min(PREVIEW_BYTES)];
    let sha = crate::pipeline::sha256_hex(body);
    w.metrics
        .received
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match crate::pipeline::refused(&w.store, source, preview, &sha, reason.clone()).await {
        Ok(_) => {
            tracing::warn!(bron = %source, bytes = body.len(), reden = %reason, "bericht te groot; naar de dead-letter-queue");
            Settled::DeadLetter {
                kind: "too-large",
                reason,
            }
        }
        Err(e) if w.fault_of(&e).await == Fault::Permanent => Settled::DeadLetter {
            kind: "store",
            reason: e.poison_reason(),
        },
        Err(e) => {
            tracing::error!(error = %e, "database niet bruikbaar; bericht terug naar de queue");
            Settled::Return
        }
    }
}
