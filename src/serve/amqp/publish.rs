//! Publishing answers with publisher confirms.

use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Channel};

use super::s;
use crate::config::Config;
use crate::store::Pending;

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
