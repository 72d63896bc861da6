//! Publishes N synthetic 305s (or 323s of 100 Prestaties) to a queue, with confirms, for
//! draining experiments: `cargo run --release --example preload -- AMQP_URL QUEUE N BASE [305|323]`.
use lapin::options::*;
use lapin::{BasicProperties, Connection, ConnectionProperties};

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (url, queue) = (&a[1], &a[2]);
    let n: u32 = a[3].parse().unwrap();
    let base: u32 = a[4].parse().unwrap();
    let kind = a.get(5).cloned().unwrap_or_else(|| "305".into());
    let conn = Connection::connect(url, ConnectionProperties::default())
        .await
        .unwrap();
    let ch = conn.create_channel().await.unwrap();
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let mut confirms = Vec::new();
    for i in 0..n {
        let k = base + i;
        let (_, body) = iwmo::testkit::synth::load_message(&kind, "P", k);
        confirms.push(
            ch.basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap(),
        );
        if confirms.len() >= 1000 {
            for c in confirms.drain(..) {
                c.await.unwrap();
            }
        }
    }
    for c in confirms {
        c.await.unwrap();
    }
    println!("published {n}");
}
