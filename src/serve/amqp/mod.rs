//! The RabbitMQ transport (lapin): declares its topology, consumes with manual acks (only after
//! commit), publishes answers from the outbox with publisher confirms, reconnects with backoff,
//! pauses while the database is unreachable, and stops gracefully.

//!
//! Parts: [`topology`] (exchanges and queues), [`consume`] (the consume loop and the acks),
//! [`settle`] (a batch until it is committed), [`publish`] and [`relay`] (answers out of the
//! outbox), [`dlq`] (the dead-letter queue for `iwmo dead-letters`).

mod consume;
mod dlq;
mod publish;
mod refuse;
mod relay;
mod settle;
mod topology;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::options::{
    BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, ConfirmSelectOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::{Channel, Connection, ConnectionProperties, Consumer};

pub use dlq::{dead_letters, DeadLetter};
pub use publish::publish_answers;
pub use topology::declare_topology;

use super::Worker;
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

/// The channels and the consumer of one connection.
struct Session {
    conn: Connection,
    consume_ch: Channel,
    publish_ch: Channel,
    consumer: Consumer,
    tag: String,
}

/// Connects, opens a consume channel and a confirm-mode publish channel, declares the topology
/// and starts consuming.
async fn open(c: &Config) -> Result<Session, String> {
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
    let consumer = consume_ch
        .basic_consume(
            s(&c.inbound_queue),
            s(&tag),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(Session {
        conn,
        consume_ch,
        publish_ch,
        consumer,
        tag,
    })
}

/// One connection: consumes until stop or until the connection fails, then stops gracefully.
async fn session(
    w: &Arc<Worker>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(), String> {
    let c = &w.config;
    let Session {
        conn,
        consume_ch,
        publish_ch,
        mut consumer,
        tag,
    } = open(c).await?;
    w.broker_ok.store(true, Ordering::Relaxed);
    w.consuming.store(true, Ordering::Relaxed);
    tracing::info!(queue = %c.inbound_queue, handlers = c.handlers(), "verbonden met RabbitMQ; consumeren gestart");

    // Outbox relay: publishes with confirms, marks as sent only after the confirm. The answers
    // this worker commits come straight from its handlers (not read back); a scan of the queue
    // picks up the rest (answers whose publication failed or whose worker stopped first, and
    // answers re-sent for duplicates), once they are a little older.
    let (fresh_tx, fresh_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Pending>>();
    let (relay_stop_tx, relay_stop) = tokio::sync::watch::channel(false);
    let relay = tokio::spawn(relay::run_relay(
        w.clone(),
        publish_ch.clone(),
        fresh_rx,
        relay_stop,
    ));

    let mut inflight = tokio::task::JoinSet::new();
    let result = consume::consume(
        w,
        &mut consumer,
        &publish_ch,
        &mut stop,
        &fresh_tx,
        &mut inflight,
    )
    .await;

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
