//! The consume loop of one connection: takes deliveries while a handler is free, handles each
//! batch in a task, and acknowledges or returns its deliveries once they are settled.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_lite::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::Consumer;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::{watch, Mutex, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::settle::settle;
use crate::serve::{acks, Worker};
use crate::store::Pending;

/// Consumes until stop (`Ok`) or until the consumer fails (`Err`); the batches still being
/// handled are left in `inflight`.
pub(super) async fn consume(
    w: &Arc<Worker>,
    consumer: &mut Consumer,
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

/// One batch, in its own task: settled (see `settle`), then acknowledged or returned in the
/// order the ledger gives, and its answers handed to the relay.
async fn handle(
    w: Arc<Worker>,
    stop: watch::Receiver<bool>,
    ledger: Arc<Mutex<acks::Ledger>>,
    fresh: UnboundedSender<Vec<Pending>>,
    permit: OwnedSemaphorePermit,
    batch: Vec<Delivery>,
) {
    let _permit = permit;
    let mut items = Vec::with_capacity(batch.len());
    let mut ackers = Vec::with_capacity(batch.len());
    for d in batch {
        items.push((format!("amqp:{}", d.delivery_tag), d.data));
        ackers.push((d.delivery_tag, d.acker));
    }
    let (committed, answers) = settle(&w, items, &stop).await;
    let outcomes: Vec<(u64, bool)> = ackers.iter().map(|(t, _)| *t).zip(committed).collect();
    // Committed (whatever the outcome): acknowledge. Nothing committed: back to the queue (a
    // return counts toward the delivery limit). Frames go out under the lock, in the order the
    // ledger gives them.
    let mut ledger = ledger.lock().await;
    for frame in ledger.settle(&outcomes) {
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
    drop(ledger);
    if !answers.is_empty() {
        let _ = fresh.send(answers);
    }
}
