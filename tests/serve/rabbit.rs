//! RabbitMQ helpers: a unique topology per test, publishing, receiving and checking answers.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions,
    ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};

use crate::common::{self, TestDb};
use crate::{answer_id, answer_kind, bsns_of, tag_text, unique, xsd_check, AANBIEDER};

/// The unique topology names of one test, as IWMO_* variables for the child.
pub struct Topology {
    pub url: String,
    pub inbound: String,
    pub dlx: String,
    pub dead: String,
    pub answers: String,
    pub unrouted_x: String,
    pub unrouted_q: String,
}

impl Topology {
    pub fn new(url: &str, tag: &str) -> Topology {
        let base = unique(tag);
        Topology {
            url: url.to_string(),
            inbound: format!("{base}.inbound"),
            dlx: format!("{base}.dlx"),
            dead: format!("{base}.dead"),
            answers: format!("{base}.answers"),
            unrouted_x: format!("{base}.unrouted.x"),
            unrouted_q: format!("{base}.unrouted.q"),
        }
    }

    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("IWMO_AMQP_URL", &self.url),
            ("IWMO_INBOUND_QUEUE", &self.inbound),
            ("IWMO_DEAD_LETTER_EXCHANGE", &self.dlx),
            ("IWMO_DEAD_LETTER_QUEUE", &self.dead),
            ("IWMO_ANSWERS_EXCHANGE", &self.answers),
            ("IWMO_UNROUTED_EXCHANGE", &self.unrouted_x),
            ("IWMO_UNROUTED_QUEUE", &self.unrouted_q),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }

    /// Best effort: removes the queues and exchanges again.
    pub async fn cleanup(&self, ch: &Channel) {
        for q in [&self.inbound, &self.dead, &self.unrouted_q] {
            let _ = ch
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        for x in [&self.answers, &self.unrouted_x, &self.dlx] {
            let _ = ch
                .exchange_delete(x.as_str().into(), ExchangeDeleteOptions::default())
                .await;
        }
    }
}

pub async fn channel(url: &str) -> (Connection, Channel) {
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .expect("connect to RabbitMQ");
    let ch = conn.create_channel().await.expect("channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm_select");
    (conn, ch)
}

/// Ready messages in a queue (passive declare).
pub async fn queue_len(ch: &Channel, q: &str) -> u32 {
    common::queue_len(ch, q)
        .await
        .expect("passive queue_declare")
}

pub async fn publish(ch: &Channel, queue: &str, body: &[u8]) {
    let c = ch
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
    assert!(c.is_ack(), "broker did not confirm the publish");
}

/// A test queue bound to the answers exchange for the aanbieder.
pub async fn bind_answers(ch: &Channel, t: &Topology) -> lapin::Consumer {
    let q = format!("{}.test-answers", t.inbound);
    ch.queue_declare(
        q.as_str().into(),
        QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .expect("declare answers queue");
    ch.queue_bind(
        q.as_str().into(),
        t.answers.as_str().into(),
        AANBIEDER.into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("bind answers queue");
    ch.basic_consume(
        q.as_str().into(),
        "test".into(),
        BasicConsumeOptions::default(),
        FieldTable::default(),
    )
    .await
    .expect("consume answers")
}

/// An answer as received: (message id property, type property, body).
pub type Answer = (Option<String>, Option<String>, String);

/// Receives answers until `until(answers)` holds, then for `quiet` more (to catch extras).
pub async fn receive(
    consumer: &mut lapin::Consumer,
    timeout: Duration,
    quiet: Duration,
    mut until: impl FnMut(&[Answer]) -> bool,
) -> Vec<Answer> {
    let mut got: Vec<Answer> = Vec::new();
    let start = Instant::now();
    let mut done_at: Option<Instant> = None;
    loop {
        if done_at.is_none() && until(&got) {
            done_at = Some(Instant::now());
        }
        let left = match done_at {
            Some(t) => quiet.checked_sub(t.elapsed()),
            None => timeout.checked_sub(start.elapsed()),
        };
        let Some(left) = left else { break };
        match tokio::time::timeout(left, consumer.next()).await {
            Ok(Some(Ok(d))) => {
                got.push((
                    d.properties.message_id().as_ref().map(|m| m.to_string()),
                    d.properties.kind().as_ref().map(|m| m.to_string()),
                    String::from_utf8_lossy(&d.data).to_string(),
                ));
                d.ack(BasicAckOptions::default()).await.expect("ack answer");
            }
            Ok(other) => panic!("answers consumer ended: {other:?}"),
            Err(_) => break,
        }
    }
    got
}

/// Every answer: the message id is the answer's own identificatie, the type its kind, and it is
/// valid against the official XSD.
pub fn check_answers(label: &str, dir: &Path, answers: &[Answer]) {
    let mut files = Vec::new();
    for (i, (id, kind, xml)) in answers.iter().enumerate() {
        let want_id = answer_id(xml).unwrap_or_else(|| panic!("{label}: no id in answer {xml}"));
        assert_eq!(id.as_deref(), Some(want_id.as_str()), "{label}: message id");
        assert_eq!(
            kind.as_deref(),
            answer_kind(xml).as_deref(),
            "{label}: type"
        );
        let f = dir.join(format!("answer-{i}.xml"));
        std::fs::write(&f, xml).unwrap();
        files.push(f);
    }
    xsd_check(label, &files);
}

/// Seeds the synthetic toewijzingen (without starts) that the RabbitMQ tests' 305s refer to.
pub async fn seed_synthetic_toewijzingen(db: &TestDb) {
    let store = iwmo::store::Store::open(db.url())
        .await
        .expect("open store");
    store
        .seed_toewijzingen(200_000, 200_100, false)
        .await
        .expect("seed");
    store.pool().close().await;
}

pub fn block<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Publishes `n` synthetic 305s (Identificatie `<prefix>000000`, …) about the seeded
/// toewijzingen; their Identificaties and BSNs.
pub async fn publish_305s(
    ch: &Channel,
    queue: &str,
    prefix: &str,
    n: u32,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut idents, mut bsns) = (BTreeSet::new(), BTreeSet::new());
    for i in 0..n {
        let ident = format!("{prefix}{i:06}");
        let xml = iwmo::testkit::synth::wmo305(&ident, 300_000 + i, "2025-01-06");
        bsns.extend(bsns_of(&xml));
        idents.insert(ident);
        publish(ch, queue, xml.as_bytes()).await;
    }
    (idents, bsns)
}

/// The message ids among the answers, each once.
pub fn distinct_ids(answers: &[Answer]) -> BTreeSet<String> {
    answers.iter().filter_map(|x| x.0.clone()).collect()
}

/// The Identificaties of the messages the answers answer.
pub fn answered<'a>(answers: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    answers
        .into_iter()
        .filter_map(|x| tag_text(x, Some("BerichtIdentificatie>"), "Identificatie"))
        .collect()
}

/// Nothing left in the inbound queue and nothing dead-lettered.
pub async fn assert_queues_empty(ch: &Channel, t: &Topology, label: &str) {
    assert_eq!(queue_len(ch, &t.inbound).await, 0, "{label}: inbound queue");
    assert_eq!(queue_len(ch, &t.dead).await, 0, "{label}: dead letters");
}

/// One `SELECT COUNT(*) …` on the store.
pub async fn count(store: &iwmo::store::Store, sql: &'static str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(store.pool()).await.unwrap();
    n
}
