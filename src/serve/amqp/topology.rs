//! Exchanges, queues and bindings of the RabbitMQ transport.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

use super::s;
use crate::config::Config;

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
