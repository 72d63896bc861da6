//! Handling a batch of deliveries until each is committed or known not to be committable.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::serve::Worker;
use crate::store::{Fault, Pending, StoreError};

/// Why a delivery was not committed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// The database is out or busy: the same message again, later.
    Store,
    /// The database refused this message (too big, a constraint or data error): trying again
    /// gives the same answer. The reason, in Dutch.
    Poison(String),
    /// Handling it panicked: it cannot be handled at all.
    Panic,
}

/// What becomes of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Settled {
    /// Committed (whatever the outcome): acknowledge.
    Committed,
    /// Nothing committed: back to the queue.
    Return,
    /// Refused for a reason of its own: to the dead-letter queue with the reason
    /// (`kind`: the metrics label).
    DeadLetter { kind: &'static str, reason: String },
}

fn failure(e: StoreError) -> Failure {
    match e.fault() {
        Fault::Permanent => Failure::Poison(e.poison_reason()),
        Fault::Outage | Fault::Transient => Failure::Store,
    }
}

/// One attempt at a batch in one shared transaction where possible; after a panic, each message
/// again on its own, so that only the one that cannot be handled fails.
async fn attempt(
    w: &Arc<Worker>,
    items: Arc<Vec<(String, Vec<u8>)>>,
) -> Vec<Result<Vec<Pending>, Failure>> {
    let handled = tokio::spawn({
        let (w, items) = (w.clone(), items.clone());
        async move { w.handle_batch(&items).await }
    })
    .await;
    match handled {
        Ok(results) => results
            .into_iter()
            .map(|r| r.map(answer_of).map_err(failure))
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "verwerking afgebroken; berichten elk apart opnieuw");
            let mut v = Vec::with_capacity(items.len());
            for i in 0..items.len() {
                let (w2, items) = (w.clone(), items.clone());
                let one = tokio::spawn(async move {
                    let (source, data) = &items[i];
                    w2.handle(source, data).await
                })
                .await;
                v.push(match one {
                    Ok(r) => r.map(answer_of).map_err(failure),
                    Err(e) => {
                        w.metrics.dead_lettered.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(error = %e, "bericht kan niet verwerkt worden; terug naar de queue (na de limiet naar de dead-letter-queue)");
                        Err(Failure::Panic)
                    }
                });
            }
            v
        }
    }
}

/// The answers a committed message left in the outbox (a 325 in parts: all of them), as the
/// relay publishes them.
fn answer_of(o: crate::pipeline::Outcome) -> Vec<Pending> {
    let ontvanger = o.afzender.unwrap_or_default();
    let message_id = o.message_id.unwrap_or_default();
    o.answer_xml
        .into_iter()
        .chain(o.more_answers)
        .map(|(answer_kind, identificatie, xml)| Pending {
            message_id,
            answer_kind,
            identificatie,
            ontvanger: ontvanger.clone(),
            xml,
        })
        .collect()
}

/// Runs a batch until each delivery is committed or known not to be committable; at each index
/// what becomes of that delivery (the answers of those committed come along, for the relay).
/// While the database is unreachable the deliveries stay here and are tried again once it
/// answers, instead of going back to the queue: every return raises the broker's delivery
/// count (RabbitMQ before 4.3 counts each one), and an outage must not dead-letter good
/// messages. A message the database refuses for a reason of its own is dead-lettered with that
/// reason at once; another store failure while the database answers is tried once more, then
/// returned; a panic is returned at once.
pub(super) async fn settle(
    w: &Arc<Worker>,
    items: Arc<Vec<(String, Vec<u8>)>>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> (Vec<Settled>, Vec<Pending>) {
    let mut settled = vec![Settled::Return; items.len()];
    let mut answers = Vec::new();
    let mut todo: Vec<usize> = (0..items.len()).collect();
    let mut retried_while_up = false;
    loop {
        let subset = if todo.len() == items.len() {
            items.clone()
        } else {
            Arc::new(todo.iter().map(|&i| items[i].clone()).collect())
        };
        let results = attempt(w, subset).await;
        let mut failed = Vec::new();
        for (&i, r) in todo.iter().zip(results) {
            match r {
                Ok(answer) => {
                    settled[i] = Settled::Committed;
                    answers.extend(answer);
                }
                Err(Failure::Store) => failed.push(i),
                // Blamed on the message only while the database answers.
                Err(Failure::Poison(_)) if w.store.ping().await.is_err() => failed.push(i),
                Err(Failure::Poison(reason)) => {
                    settled[i] = Settled::DeadLetter {
                        kind: "store",
                        reason,
                    }
                }
                Err(Failure::Panic) => {}
            }
        }
        if failed.is_empty() || *stop.borrow() {
            return (settled, answers);
        }
        if w.store.ping().await.is_ok() {
            if retried_while_up {
                return (settled, answers);
            }
            retried_while_up = true;
        } else {
            w.db_ok.store(false, Ordering::Relaxed);
            tracing::warn!(
                berichten = failed.len(),
                "database onbereikbaar; berichten blijven hier tot ze verwerkt kunnen worden"
            );
            w.wait_for_db(stop).await;
            if *stop.borrow() {
                return (settled, answers);
            }
        }
        todo = failed;
    }
}
