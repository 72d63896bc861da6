//! The RabbitMQ transport (lapin): declares its topology, consumes with manual acks (only after
//! commit), publishes answers from the outbox with publisher confirms, reconnects with backoff,
//! pauses while the database is unreachable, and stops gracefully.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions,
    BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions,
    QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use super::{acks, Worker};
use crate::config::Config;
use crate::store::Pending;

fn s(v: &str) -> ShortString {
    ShortString::from(v)
}

pub async fn connect(c: &Config) -> lapin::Result<Connection> {
    let name = format!("iwmo-{}@{}", env!("CARGO_PKG_VERSION"), std::process::id());
    Connection::connect(
        c.amqp_url.expose(),
        ConnectionProperties::default().with_connection_name(name.into()),
    )
    .await
}

/// Declares exchanges, queues and bindings (idempotent; same as deploy/rabbitmq/definitions.json).
pub async fn declare_topology(ch: &Channel, c: &Config) -> lapin::Result<()> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.exchange_declare(
        s(&c.dead_letter_exchange),
        ExchangeKind::Fanout,
        durable,
        FieldTable::default(),
    )
    .await?;
    ch.exchange_declare(
        s(&c.unrouted_exchange),
        ExchangeKind::Fanout,
        durable,
        FieldTable::default(),
    )
    .await?;
    let mut ans = FieldTable::default();
    ans.insert(
        s("alternate-exchange"),
        AMQPValue::LongString(LongString::from(c.unrouted_exchange.as_str())),
    );
    ch.exchange_declare(s(&c.answers_exchange), ExchangeKind::Direct, durable, ans)
        .await?;
    let q = QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    let quorum = || {
        let mut t = FieldTable::default();
        t.insert(
            s("x-queue-type"),
            AMQPValue::LongString(LongString::from("quorum")),
        );
        t
    };
    ch.queue_declare(s(&c.dead_letter_queue), q, quorum())
        .await?;
    ch.queue_bind(
        s(&c.dead_letter_queue),
        s(&c.dead_letter_exchange),
        s(""),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    ch.queue_declare(s(&c.unrouted_queue), q, quorum()).await?;
    ch.queue_bind(
        s(&c.unrouted_queue),
        s(&c.unrouted_exchange),
        s(""),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    let mut inbound = quorum();
    inbound.insert(
        s("x-dead-letter-exchange"),
        AMQPValue::LongString(LongString::from(c.dead_letter_exchange.as_str())),
    );
    inbound.insert(
        s("x-delivery-limit"),
        AMQPValue::LongInt(c.delivery_limit as i32),
    );
    ch.queue_declare(s(&c.inbound_queue), q, inbound).await?;
    Ok(())
}

/// Publishes a batch of answers: all publishes are sent first (pipelined on the confirm-mode
/// channel), then every confirm is awaited. An answer counts as delivered only when the broker
/// acked it and did not return it (mandatory: unroutable answers come back).
pub async fn publish_answers(
    ch: &Channel,
    c: &Config,
    batch: Vec<Pending>,
) -> Vec<Result<(), String>> {
    let mut confirms = Vec::with_capacity(batch.len());
    for p in &batch {
        let props = BasicProperties::default()
            .with_message_id(s(&p.identificatie))
            .with_content_type(s("application/xml"))
            .with_delivery_mode(2)
            .with_type(s(&p.answer_kind));
        let sent = ch
            .basic_publish(
                s(&c.answers_exchange),
                s(&p.ontvanger),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                p.xml.as_bytes(),
                props,
            )
            .await
            .map_err(|e| e.to_string());
        confirms.push(sent);
    }
    let mut out = Vec::with_capacity(confirms.len());
    for c in confirms {
        out.push(match c {
            Err(e) => Err(e),
            Ok(pending) => match pending.await {
                Err(e) => Err(e.to_string()),
                Ok(confirm) => {
                    if confirm.is_ack() && confirm.take_message().is_none() {
                        Ok(())
                    } else {
                        Err("broker bevestigde het antwoord niet".into())
                    }
                }
            },
        });
    }
    out
}

pub async fn run(w: Arc<Worker>, stop: tokio::sync::watch::Receiver<bool>) -> i32 {
    let mut delay = Duration::from_millis(200);
    loop {
        if *stop.borrow() {
            return 0;
        }
        let started = Instant::now();
        match session(&w, stop.clone()).await {
            Ok(()) => return 0,
            Err(e) => {
                w.broker_ok.store(false, Ordering::Relaxed);
                w.consuming.store(false, Ordering::Relaxed);
                if started.elapsed() > Duration::from_secs(30) {
                    delay = Duration::from_millis(200);
                }
                tracing::warn!(error = %e, retry_ms = delay.as_millis() as u64, "verbinding met RabbitMQ verbroken; opnieuw verbinden");
                let mut st = stop.clone();
                tokio::select! {
                    _ = st.changed() => return 0,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

async fn session(
    w: &Arc<Worker>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), String> {
    let c = &w.config;
    let conn = connect(c).await.map_err(|e| e.to_string())?;
    let consume_ch = conn.create_channel().await.map_err(|e| e.to_string())?;
    let publish_ch = conn.create_channel().await.map_err(|e| e.to_string())?;
    publish_ch
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    declare_topology(&consume_ch, c)
        .await
        .map_err(|e| e.to_string())?;
    consume_ch
        .basic_qos(c.prefetch, BasicQosOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    let tag = format!("iwmo-{}", std::process::id());
    let mut consumer = consume_ch
        .basic_consume(
            s(&c.inbound_queue),
            s(&tag),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| e.to_string())?;
    w.broker_ok.store(true, Ordering::Relaxed);
    w.consuming.store(true, Ordering::Relaxed);
    tracing::info!(queue = %c.inbound_queue, handlers = c.handlers(), "verbonden met RabbitMQ; consumeren gestart");

    // Outbox relay: publishes with confirms, marks as sent only after the confirm. The answers
    // this worker commits come straight from its handlers (not read back); a scan of the queue
    // picks up the rest (answers whose publication failed or whose worker stopped first, and
    // answers re-sent for duplicates), once they are a little older.
    let (fresh_tx, fresh_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Pending>>();
    let relay_w = w.clone();
    let relay_ch = publish_ch.clone();
    let (relay_stop_tx, relay_stop) = tokio::sync::watch::channel(false);
    let relay = tokio::spawn(run_relay(relay_w, relay_ch, fresh_rx, relay_stop));

    let permits = Arc::new(tokio::sync::Semaphore::new(c.handlers()));
    // Deliveries of this channel taken and not yet settled (see serve::acks).
    let ledger = Arc::new(tokio::sync::Mutex::new(acks::Ledger::default()));
    let mut inflight = tokio::task::JoinSet::new();
    let result: Result<(), String> = loop {
        // Pause while the database is unreachable: nothing is taken that cannot be committed.
        if !w.db_ok.load(Ordering::Relaxed) {
            w.consuming.store(false, Ordering::Relaxed);
            w.wait_for_db(&stop).await;
            w.consuming.store(true, Ordering::Relaxed);
        }
        // A free handler first, then the deliveries: while all handlers are busy, deliveries
        // wait in the consumer (up to the prefetch) and the next batch takes all of them.
        let permit = tokio::select! {
            _ = stop.changed() => break Ok(()),
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break Ok(()),
            },
        };
        let next = tokio::select! {
            _ = stop.changed() => break Ok(()),
            d = consumer.next() => d,
        };
        let mut batch = match next {
            None => break Err("consumer beëindigd".into()),
            Some(Err(e)) => break Err(e.to_string()),
            Some(Ok(d)) => vec![d],
        };
        // Deliveries already waiting join this one's transaction (never waits for more).
        let mut stream_error = None;
        while batch.len() < c.batch_size.max(1) {
            match futures_lite::future::poll_once(consumer.next()).await {
                Some(Some(Ok(d))) => batch.push(d),
                Some(Some(Err(e))) => {
                    stream_error = Some(e.to_string());
                    break;
                }
                Some(None) => {
                    stream_error = Some("consumer beëindigd".into());
                    break;
                }
                None => break,
            }
        }
        ledger
            .lock()
            .await
            .taken(batch.iter().map(|d| d.delivery_tag));
        let (w2, stop2, ledger2, fresh) =
            (w.clone(), stop.clone(), ledger.clone(), fresh_tx.clone());
        inflight.spawn(async move {
            let _permit = permit;
            let mut items = Vec::with_capacity(batch.len());
            let mut ackers = Vec::with_capacity(batch.len());
            for d in batch {
                items.push((format!("amqp:{}", d.delivery_tag), d.data));
                ackers.push((d.delivery_tag, d.acker));
            }
            let (committed, answers) = settle(&w2, items, &stop2).await;
            let outcomes: Vec<(u64, bool)> =
                ackers.iter().map(|(t, _)| *t).zip(committed).collect();
            // Committed (whatever the outcome): acknowledge. Nothing committed: back to the
            // queue (a return counts toward the delivery limit). Frames go out under the lock,
            // in the order the ledger gives them.
            let mut ledger = ledger2.lock().await;
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
                    w2.metrics.returned.fetch_add(1, Ordering::Relaxed);
                    let _ = acker
                        .nack(BasicNackOptions { requeue: true, ..Default::default() })
                        .await;
                }
            }
            drop(ledger);
            if !answers.is_empty() {
                let _ = fresh.send(answers);
            }
        });
        if let Some(e) = stream_error {
            break Err(e);
        }
        while inflight.try_join_next().is_some() {}
    };

    // Graceful: stop consuming, finish in-flight work within the deadline, flush the relay.
    w.consuming.store(false, Ordering::Relaxed);
    let _ = consume_ch
        .basic_cancel(s(&tag), BasicCancelOptions::default())
        .await;
    let deadline = Duration::from_secs(w.config.shutdown_deadline_secs);
    let _ = tokio::time::timeout(deadline, async {
        while inflight.join_next().await.is_some() {}
    })
    .await;
    let _ = relay_stop_tx.send(true);
    let _ = tokio::time::timeout(deadline, relay).await;
    let _ = consume_ch.close(200, s("OK")).await;
    let _ = publish_ch.close(200, s("OK")).await;
    let _ = conn.close(200, s("OK")).await;
    result
}

/// The outbox relay of one connection (see `session`): answers handed over by the handlers are
/// published at once; the queue is scanned for the rest every second (at once after a failed
/// publication); on stop, everything handed over is published and the queue scanned once more.
/// Housekeeping (sealing the chain, statistics) runs whenever the relay is idle.
async fn run_relay(
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

/// Why a delivery was not committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// The store failed (the database, or something about this message in it).
    Store,
    /// Handling it panicked: it cannot be handled at all.
    Panic,
}

/// One attempt at a batch in one shared transaction where possible; after a panic, each message
/// again on its own, so that only the one that cannot be handled fails.
async fn attempt(
    w: &Arc<Worker>,
    items: Arc<Vec<(String, Vec<u8>)>>,
) -> Vec<Result<Option<Pending>, Failure>> {
    let handled = tokio::spawn({
        let (w, items) = (w.clone(), items.clone());
        async move { w.handle_batch(&items).await }
    })
    .await;
    match handled {
        Ok(results) => results
            .into_iter()
            .map(|r| r.map(answer_of).map_err(|_| Failure::Store))
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
                    Ok(r) => r.map(answer_of).map_err(|_| Failure::Store),
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

/// The answer a committed message left in the outbox, as the relay publishes it.
fn answer_of(o: crate::pipeline::Outcome) -> Option<Pending> {
    let (answer_kind, identificatie, xml) = o.answer_xml?;
    Some(Pending {
        message_id: o.message_id.unwrap_or_default(),
        answer_kind,
        identificatie,
        ontvanger: o.afzender.unwrap_or_default(),
        xml,
    })
}

/// Runs a batch until each delivery is committed or known not to be committable; true at an index
/// means: committed, acknowledge (the answers of those committed come along, for the relay). While the database is unreachable the deliveries stay here and
/// are tried again once it answers, instead of going back to the queue: every return raises the
/// broker's delivery count (RabbitMQ before 4.3 counts each one), and an outage must not
/// dead-letter good messages. A store failure while the database answers is tried once more, then
/// returned; a panic is returned at once.
async fn settle(
    w: &Arc<Worker>,
    items: Vec<(String, Vec<u8>)>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> (Vec<bool>, Vec<Pending>) {
    let items = Arc::new(items);
    let mut committed = vec![false; items.len()];
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
                    committed[i] = true;
                    answers.extend(answer);
                }
                Err(Failure::Store) => failed.push(i),
                Err(Failure::Panic) => {}
            }
        }
        if failed.is_empty() || *stop.borrow() {
            return (committed, answers);
        }
        if w.store.ping().await.is_ok() {
            if retried_while_up {
                return (committed, answers);
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
                return (committed, answers);
            }
        }
        todo = failed;
    }
}

/// A dead letter as seen by `iwmo dead-letters`.
pub struct DeadLetter {
    pub index: usize,
    pub message_id: Option<String>,
    pub size: usize,
    pub reason: String,
    pub body: Vec<u8>,
}

fn death_reason(props: &BasicProperties) -> String {
    props
        .headers()
        .as_ref()
        .and_then(|h| {
            h.inner()
                .get("x-first-death-reason")
                .map(|v| format!("{v:?}"))
        })
        .unwrap_or_else(|| "onbekend".into())
}

/// Reads the dead-letter queue without removing anything (all are returned to the queue);
/// with `replay = Some(i)`, the i-th is republished to the inbound queue and removed.
pub async fn dead_letters(c: &Config, replay: Option<usize>) -> Result<Vec<DeadLetter>, String> {
    let conn = connect(c).await.map_err(|e| e.to_string())?;
    let ch = conn.create_channel().await.map_err(|e| e.to_string())?;
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(|e| e.to_string())?;
    declare_topology(&ch, c).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut held = Vec::new();
    for index in 1..=10_000usize {
        let Some(m) = ch
            .basic_get(s(&c.dead_letter_queue), BasicGetOptions::default())
            .await
            .map_err(|e| e.to_string())?
        else {
            break;
        };
        let d = m.delivery;
        out.push(DeadLetter {
            index,
            message_id: d.properties.message_id().as_ref().map(|m| m.to_string()),
            size: d.data.len(),
            reason: death_reason(&d.properties),
            body: d.data.clone(),
        });
        if replay == Some(index) {
            ch.basic_publish(
                s(""),
                s(&c.inbound_queue),
                BasicPublishOptions::default(),
                &d.data,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .map_err(|e| e.to_string())?
            .await
            .map_err(|e| e.to_string())?;
            d.acker
                .ack(BasicAckOptions::default())
                .await
                .map_err(|e| e.to_string())?;
        } else {
            held.push(d.acker);
        }
    }
    for a in held {
        let _ = a
            .nack(BasicNackOptions {
                requeue: true,
                ..Default::default()
            })
            .await;
    }
    let _ = ch.close(200, s("OK")).await;
    let _ = conn.close(200, s("OK")).await;
    Ok(out)
}
