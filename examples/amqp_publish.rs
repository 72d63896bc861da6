//! Publishes files to a RabbitMQ queue (for trying `iwmo serve --transport amqp`), then prints
//! the answers that arrive on a queue bound to the answers exchange for the given AGB code.
//! `cargo run --example amqp_publish -- AMQP_URL QUEUE AGB FILE…`
use futures_lite::StreamExt;
use lapin::options::*;
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties, ExchangeKind};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, queue, agb) = (&args[1], &args[2], &args[3]);
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let answers = format!("{queue}.answers.{agb}");
    ch.exchange_declare(
        "iwmo.answers".into(),
        ExchangeKind::Direct,
        ExchangeDeclareOptions {
            passive: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .ok();
    ch.queue_declare(
        answers.as_str().into(),
        QueueDeclareOptions {
            auto_delete: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.queue_bind(
        answers.as_str().into(),
        "iwmo.answers".into(),
        agb.as_str().into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let n = args.len() - 4;
    for f in &args[4..] {
        let body = std::fs::read(f).unwrap();
        ch.basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            &body,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    let mut c = ch
        .basic_consume(
            answers.as_str().into(),
            "t".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut got = 0;
    while let Ok(Some(Ok(d))) =
        tokio::time::timeout(std::time::Duration::from_secs(10), c.next()).await
    {
        got += 1;
        println!(
            "answer {} type {:?} id {:?} {} bytes",
            got,
            d.properties.kind(),
            d.properties.message_id(),
            d.data.len()
        );
        d.ack(BasicAckOptions::default()).await.unwrap();
    }
    println!("published {n}, answers received {got}");
}
