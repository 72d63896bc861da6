//! The dead-letter queue, as `iwmo dead-letters` reads and replays it.

use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel};

use super::{connect, declare_topology, s};
use crate::config::Config;

/// A dead letter as seen by `iwmo dead-letters`.
pub struct DeadLetter {
    pub index: usize,
    pub message_id: Option<String>,
    pub size: usize,
    pub reason: String,
    pub body: Vec<u8>,
}

/// Header of a dead letter the worker refused itself: why, in Dutch.
const REASON_HEADER: &str = "x-iwmo-reden";

fn death_reason(props: &BasicProperties) -> String {
    let headers = props.headers().as_ref().map(|h| h.inner());
    if let Some(AMQPValue::LongString(r)) = headers.and_then(|h| h.get(REASON_HEADER)) {
        return String::from_utf8_lossy(r.as_bytes()).to_string();
    }
    headers
        .and_then(|h| h.get("x-first-death-reason").map(|v| format!("{v:?}")))
        .unwrap_or_else(|| "onbekend".into())
}

/// Puts a delivery the worker refused for a reason of its own (too large, refused by the
/// database) into the dead-letter queue with that reason (header `x-iwmo-reden`), through the
/// dead-letter exchange, and waits for the broker's confirm: only then may the delivery be
/// acknowledged. `ch` is in confirm mode.
pub(super) async fn dead_letter(
    ch: &Channel,
    c: &Config,
    body: &[u8],
    message_id: Option<&str>,
    reason: &str,
) -> Result<(), String> {
    let mut headers = FieldTable::default();
    headers.insert(
        s(REASON_HEADER),
        AMQPValue::LongString(LongString::from(reason)),
    );
    let mut props = BasicProperties::default()
        .with_delivery_mode(2)
        .with_headers(headers);
    if let Some(id) = message_id {
        props = props.with_message_id(s(id));
    }
    let confirm = ch
        .basic_publish(
            s(&c.dead_letter_exchange),
            s(""),
            BasicPublishOptions::default(),
            body,
            props,
        )
        .await
        .map_err(|e| e.to_string())?
        .await
        .map_err(|e| e.to_string())?;
    if confirm.is_nack() {
        return Err("broker weigerde de dead letter (nack)".into());
    }
    Ok(())
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
