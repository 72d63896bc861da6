//! The consume loop of one connection: takes deliveries while a handler is free, handles each
//! batch in a task, and acknowledges or returns its deliveries once they are settled.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_lite::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::{Channel, Consumer};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{watch, Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::dlq::dead_letter;
use super::refuse;
use super::settle::{settle, Settled};
use crate::serve::{acks, Worker};
use crate::store::Pending;

/// Consumes until stop (`Ok`) or until the consumer fails (`Err`); the batches still being
/// handled are left in `inflight`.
pub(super) async fn consume(
    w: &Arc<Worker>,
    consumer: &mut Consumer,
    dead_letters: &Channel,
    stop: &mut watch::Receiver<bool>,
    fresh: &UnboundedSender<Vec<Pending>>,
    inflight: &mut JoinSet<()>,
) -> Result<(), String> {
    let c = &w.config;
    let permits = Arc::new(Semaphore::new(c.handlers()));
    // Deliveries of this channel taken and not yet settled (see serve::acks).
    let ledger = Arc::new(Mutex::new(acks::Ledger::default()));
    loop {
        // Pause while the database is unreachable: nothing is taken that cannot be committed.
        if !w.db_ok.load(Ordering::Relaxed) {
            w.consuming.store(false, Ordering::Relaxed);
            w.wait_for_db(stop).await;
            w.consuming.store(true, Ordering::Relaxed);
        }
        // A free handler first, then the deliveries: while all handlers are busy, deliveries
        // wait in the consumer (up to the prefetch) and the next batch takes all of them.
        let permit = tokio::select! {
            _ = stop.changed() => return Ok(()),
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return Ok(()),
            },
        };
        let next = tokio::select! {
            _ = stop.changed() => return Ok(()),
            d = consumer.next() => d,
        };
        let first = match next {
            None => return Err("consumer beëindigd".into()),
            Some(Err(e)) => return Err(e.to_string()),
            Some(Ok(d)) => d,
        };
        let (batch, stream_error) = with_waiting(consumer, first, c.batch_size.max(1)).await;
        ledger
            .lock()
            .await
            .taken(batch.iter().map(|d| d.delivery_tag));
        inflight.spawn(handle(
            w.clone(),
            dead_letters.clone(),
            stop.clone(),
            ledger.clone(),
            fresh.clone(),
            permit,
            batch,
        ));
        if let Some(e) = stream_error {
            return Err(e);
        }
        while inflight.try_join_next().is_some() {}
    }
}

/// `first` and the deliveries already waiting, up to `max` (never waits for more): they share
/// one transaction. A stream error ends the batch and is passed on.
async fn with_waiting(
    consumer: &mut Consumer,
    first: Delivery,
    max: usize,
) -> (Vec<Delivery>, Option<String>) {
    let mut batch = vec![first];
    while batch.len() < max {
        match futures_lite::future::poll_once(consumer.next()).await {
            Some(Some(Ok(d))) => batch.push(d),
            Some(Some(Err(e))) => return (batch, Some(e.to_string())),
            Some(None) => return (batch, Some("consumer beëindigd".into())),
            None => break,
        }
    }
    (batch, None)
}

/// One batch, in its own task: deliveries over the size cap refused, the others settled (see
/// `settle`), then each acknowledged, dead-lettered with its reason or returned, in the order
/// the ledger gives, and the answers handed to the relay.
async fn handle(
    w: Arc<Worker>,
    dl: Channel,
    stop: watch::Receiver<bool>,
    ledger: Arc<Mutex<acks::Ledger>>,
    fresh: UnboundedSender<Vec<Pending>>,
    permit: OwnedSemaphorePermit,
    batch: Vec<Delivery>,
) {
    let _permit = permit;
    // Per delivery: refused at once (too large), or the index of its item to settle.
    let mut refused: Vec<Result<usize, (Settled, Vec<u8>)>> = Vec::with_capacity(batch.len());
    let mut items = Vec::with_capacity(batch.len());
    let mut ids = Vec::with_capacity(batch.len());
    let mut ackers = Vec::with_capacity(batch.len());
    for d in batch {
        let source = format!("amqp:{}", d.delivery_tag);
        if refuse::too_large(&w, &d.data) {
            let s = refuse::oversized(&w, &source, &d.data).await;
            refused.push(Err((s, d.data)));
        } else {
            refused.push(Ok(items.len()));
            items.push((source, d.data));
        }
        ids.push(d.properties.message_id().as_ref().map(|m| m.to_string()));
        ackers.push((d.delivery_tag, d.acker));
    }
    let items = Arc::new(items);
    let (results, answers) = settle(&w, items.clone(), &stop).await;
    let mut outcomes: Vec<(u64, bool)> = Vec::with_capacity(ackers.len());
    for (i, r) in refused.iter().enumerate() {
        let (s, body): (Settled, &[u8]) = match r {
            Ok(k) => (
                results.get(*k).cloned().unwrap_or(Settled::Return),
                items.get(*k).map(|(_, b)| b.as_slice()).unwrap_or_default(),
            ),
            Err((s, body)) => (s.clone(), body.as_slice()),
        };
        let ok = match s {
            Settled::Committed => true,
            Settled::Return => false,
            Settled::DeadLetter { kind, reason } => {
                to_dead_letters(&w, &dl, body, ids[i].as_deref(), kind, &reason).await
            }
        };
        outcomes.push((ackers[i].0, ok));
    }
    send_frames(&w, &ledger, &ackers, &outcomes).await;
    if !answers.is_empty() {
        let _ = fresh.send(answers);
    }
}

/// Acknowledges or returns the deliveries of a batch.
async fn send_frames(
    w: &Worker,
    ledger: &Mutex<acks::Ledger>,
    ackers: &[(u64, lapin::Acker)],
    outcomes: &[(u64, bool)],
) {
    // Committed (whatever the outcome): acknowledge. Nothing committed: back to the queue (a
    // return counts toward the delivery limit). Frames go out under the lock, in the order the
    // ledger gives them.
    let mut ledger = ledger.lock().await;
    for frame in ledger.settle(outcomes) {
        let (tag, multiple, ack) = match frame {
            acks::Frame::AckUpTo(t) => (t, true, true),
            acks::Frame::Ack(t) => (t, false, true),
            acks::Frame::Return(t) => (t, false, false),
        };
        let Some((_, acker)) = ackers.iter().find(|(t, _)| *t == tag) else {
            continue;
        };
        if ack {
            if let Err(e) = acker.ack(BasicAckOptions { multiple }).await {
                tracing::warn!(error = %e, "ack mislukt; het bericht komt terug en wordt als duplicaat herkend");
            }
        } else {
            w.metrics.returned.fetch_add(1, Ordering::Relaxed);
            let _ = acker
                .nack(BasicNackOptions {
                    requeue: true,
                    ..Default::default()
                })
                .await;
        }
    }
}

/// Publishes a refused delivery to the dead-letter queue with its reason; true when the broker
/// confirmed it (then the delivery is acknowledged), false to return it to the queue.
async fn to_dead_letters(
    w: &Worker,
    dl: &Channel,
    body: &[u8],
    message_id: Option<&str>,
    kind: &'static str,
    reason: &str,
) -> bool {
    match dead_letter(dl, &w.config, body, message_id, reason).await {
        Ok(()) => {
            w.metrics.delivery_refused(kind);
            tracing::warn!(soort = kind, reden = %reason, "bericht naar de dead-letter-queue");
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "dead letter niet bevestigd; bericht terug naar de queue");
            false
        }
    }
}
