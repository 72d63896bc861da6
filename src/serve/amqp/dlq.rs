//! The dead-letter queue, as `iwmo dead-letters` reads and replays it.

use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
};
use lapin::BasicProperties;

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
