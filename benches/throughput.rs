//! End-to-end throughput of `iwmo serve` on RabbitMQ + PostgreSQL: publish → commit → answer
//! confirmed and received, for 305s and for 323s of 100 Prestaties, with 1 and 2 workers, side by
//! side with a bare lapin publish/consume/ack loop on the same broker. Needs IWMO_TEST_AMQP_URL and
//! IWMO_TEST_PG_URL (or the IWMO_BENCH_* variants); run `cargo build --release` first.
//!
//! `cargo bench --bench throughput`

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use criterion::{Criterion, Throughput};
use futures_lite::StreamExt;
use lapin::options::*;
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer};

const BATCH: usize = 1000;

struct Workers(Vec<Child>);
impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn env(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok())
}

/// Publishes `bodies` (persistent, on the default exchange) to `queue`, then waits for all
/// confirms.
async fn publish_confirmed<'a>(
    ch: &Channel,
    queue: &str,
    mandatory: bool,
    bodies: impl IntoIterator<Item = &'a [u8]>,
) {
    let mut confirms = Vec::new();
    for body in bodies {
        confirms.push(
            ch.basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions {
                    mandatory,
                    ..Default::default()
                },
                body,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await
            .unwrap(),
        );
    }
    for c in confirms {
        c.await.unwrap();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_workers(n: usize, db: &str, amqp: &str, prefix: &str) -> Workers {
    let bin = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/iwmo");
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(
            Command::new(bin)
                .args(["serve", "--transport", "amqp"])
                .env("IWMO_DATABASE_URL", db)
                .env("IWMO_AMQP_URL", amqp)
                .env("IWMO_TODAY", "2040-01-01")
                .env("IWMO_INBOUND_QUEUE", format!("{prefix}.inbound"))
                .env("IWMO_DEAD_LETTER_EXCHANGE", format!("{prefix}.dlx"))
                .env("IWMO_DEAD_LETTER_QUEUE", format!("{prefix}.dead"))
                .env("IWMO_ANSWERS_EXCHANGE", format!("{prefix}.answers"))
                .env("IWMO_UNROUTED_EXCHANGE", format!("{prefix}.unrouted"))
                .env("IWMO_UNROUTED_QUEUE", format!("{prefix}.unrouted"))
                .env("IWMO_HTTP_ADDR", format!("127.0.0.1:{}", free_port()))
                .env("IWMO_METRICS_ADDR", format!("127.0.0.1:{}", free_port()))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("target/release/iwmo (cargo build --release first)"),
        );
    }
    Workers(v)
}

/// Identificatie of the heenbericht an answer belongs to: a 306/308 copies the heenbericht's
/// header (first Identificatie); a 325 names it in DeclaratieIdentificatie.
fn heen_id(xml: &[u8]) -> String {
    let s = String::from_utf8_lossy(xml);
    let from = s
        .find("DeclaratieIdentificatie>")
        .map(|i| &s[i..])
        .unwrap_or(&s);
    from.split(":Identificatie>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or("")
        .to_string()
}

async fn answers_consumer(
    ch: &Channel,
    exchange_prefix: &str,
    exchange: &str,
    queue: &str,
) -> Consumer {
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap();
    // Declare the answers exchange exactly as the worker does (declarations must agree).
    let mut args = FieldTable::default();
    args.insert(
        "alternate-exchange".into(),
        lapin::types::AMQPValue::LongString(format!("{exchange_prefix}.unrouted").as_str().into()),
    );
    ch.exchange_declare(
        exchange.into(),
        lapin::ExchangeKind::Direct,
        ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        },
        args,
    )
    .await
    .unwrap();
    ch.queue_bind(
        queue.into(),
        exchange.into(),
        "87654321".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    ch.basic_consume(
        queue.into(),
        "bench".into(),
        BasicConsumeOptions {
            no_ack: true,
            ..Default::default()
        },
        FieldTable::default(),
    )
    .await
    .unwrap()
}

/// Publishes `msgs` and waits for one answer each; returns (elapsed, latencies).
async fn run_batch(
    pub_ch: &Channel,
    queue: &str,
    answers: &mut Consumer,
    msgs: Vec<(String, String)>,
) -> (Duration, Vec<Duration>) {
    let start = Instant::now();
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let n = msgs.len();
    // Each message's clock starts right before it is published.
    publish_confirmed(
        pub_ch,
        queue,
        false,
        msgs.iter().map(|(id, body)| {
            sent.insert(id.clone(), Instant::now());
            body.as_bytes()
        }),
    )
    .await;
    let mut lat = Vec::with_capacity(n);
    while lat.len() < n {
        let d = match tokio::time::timeout(Duration::from_secs(120), answers.next()).await {
            Ok(Some(Ok(d))) => d,
            _ => panic!("answers stopped after {} of {n}", lat.len()),
        };
        if let Some(t) = sent.remove(&heen_id(&d.data)) {
            lat.push(t.elapsed());
        }
    }
    (start.elapsed(), lat)
}

/// A queue for the bare loops: durable quorum (like the worker's inbound queue), or a classic
/// queue removed with its last consumer.
async fn declare_bare_queue(ch: &Channel, q: &str, quorum: bool) -> lapin::Result<lapin::Queue> {
    let mut args = FieldTable::default();
    if quorum {
        args.insert(
            "x-queue-type".into(),
            lapin::types::AMQPValue::LongString("quorum".into()),
        );
    }
    ch.queue_declare(
        q.into(),
        QueueDeclareOptions {
            auto_delete: !quorum,
            durable: quorum,
            ..Default::default()
        },
        args,
    )
    .await
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

/// Bare loop: publish with confirms, consume with manual ack, same sizes as a 305; once on a
/// classic queue and once on a durable quorum queue like the worker's inbound queue.
fn bench_bare(rt: &Runtime, c: &mut Criterion, pub_ch: &Channel, sub_ch: &Channel) {
    for quorum in [false, true] {
        let q = format!(
            "bare.{}.{}",
            std::process::id(),
            if quorum { "quorum" } else { "classic" }
        );
        rt.block_on(declare_bare_queue(pub_ch, &q, quorum)).unwrap();
        let body = iwmo::testkit::synth::wmo305("BARE", 100_000, "2025-01-06");
        let mut cons = rt
            .block_on(sub_ch.basic_consume(
                q.as_str().into(),
                q.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            ))
            .unwrap();
        let mut g = c.benchmark_group("bare-lapin");
        g.throughput(Throughput::Elements(BATCH as u64));
        g.bench_function(
            if quorum {
                "quorum-queue"
            } else {
                "classic-queue"
            },
            |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let t = Instant::now();
                        for _ in 0..iters {
                            publish_confirmed(
                                pub_ch,
                                &q,
                                false,
                                (0..BATCH).map(|_| body.as_bytes()),
                            )
                            .await;
                            for _ in 0..BATCH {
                                let d = cons.next().await.unwrap().unwrap();
                                d.ack(BasicAckOptions::default()).await.unwrap();
                            }
                        }
                        t.elapsed()
                    })
                })
            },
        );
        g.finish();
        if quorum {
            let _ =
                rt.block_on(pub_ch.queue_delete(q.as_str().into(), QueueDeleteOptions::default()));
        }
    }
}

/// The broker's share of what the worker does, without the worker: consume from a quorum
/// queue, publish an answer the size of a 306 with confirms, ack after the confirm; the bench
/// receives the answers. This is the ceiling for `iwmo serve` on this broker and machine.
fn bench_echo(rt: &Runtime, c: &mut Criterion, amqp: &str, pub_ch: &Channel, sub_ch: &Channel) {
    let q = format!("bare.{}.echo", std::process::id());
    let reply = format!("bare.{}.reply", std::process::id());
    rt.block_on(declare_bare_queue(pub_ch, &q, true)).unwrap();
    rt.block_on(sub_ch.queue_declare(
        reply.as_str().into(),
        QueueDeclareOptions {
            exclusive: true,
            auto_delete: true,
            ..Default::default()
        },
        FieldTable::default(),
    ))
    .unwrap();
    let body = iwmo::testkit::synth::wmo305("BARE", 100_000, "2025-01-06");
    let answer = body.replace("305", "306");
    let echo = rt.spawn({
        let (amqp, q, reply) = (amqp.to_string(), q.clone(), reply.clone());
        async move {
            let conn = Connection::connect(&amqp, ConnectionProperties::default())
                .await
                .unwrap();
            let ch = conn.create_channel().await.unwrap();
            ch.basic_qos(256, BasicQosOptions::default()).await.unwrap();
            let out = conn.create_channel().await.unwrap();
            out.confirm_select(ConfirmSelectOptions::default())
                .await
                .unwrap();
            let mut cons = ch
                .basic_consume(
                    q.as_str().into(),
                    "echo".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .unwrap();
            while let Some(Ok(first)) = cons.next().await {
                let mut batch = vec![first];
                while batch.len() < 32 {
                    match futures_lite::future::poll_once(cons.next()).await {
                        Some(Some(Ok(d))) => batch.push(d),
                        _ => break,
                    }
                }
                let bodies = vec![answer.as_bytes(); batch.len()];
                publish_confirmed(&out, &reply, true, bodies).await;
                for d in batch {
                    d.ack(BasicAckOptions::default()).await.unwrap();
                }
            }
        }
    });
    let mut replies = rt
        .block_on(sub_ch.basic_consume(
            reply.as_str().into(),
            "replies".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        ))
        .unwrap();
    let mut g = c.benchmark_group("bare-lapin");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("quorum-queue-with-answers", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let t = Instant::now();
                for _ in 0..iters {
                    publish_confirmed(pub_ch, &q, false, (0..BATCH).map(|_| body.as_bytes())).await;
                    for _ in 0..BATCH {
                        replies.next().await.unwrap().unwrap();
                    }
                }
                t.elapsed()
            })
        })
    });
    g.finish();
    echo.abort();
    let _ = rt.block_on(pub_ch.queue_delete(q.as_str().into(), QueueDeleteOptions::default()));
}

/// `iwmo serve` with `workers` worker processes on a fresh database, fed 305s or 323s of 100
/// lines; returns the latency line for the report.
#[allow(clippy::too_many_arguments)]
fn bench_serve(
    rt: &Runtime,
    c: &mut Criterion,
    (amqp, pg): (&str, &str),
    conn: &Connection,
    pub_ch: &Channel,
    sub_ch: &Channel,
    workers: usize,
    kind: &str,
) -> Option<String> {
    let prefix = format!("tp{}w{workers}{kind}", std::process::id());
    let db_name = prefix.replace('x', "_");
    let db = rt.block_on(common::fresh_pg(pg, &db_name));
    let store = rt.block_on(iwmo::store::Store::open(&db)).unwrap();
    rt.block_on(store.seed_toewijzingen(0, 200_000, kind != "305"))
        .unwrap();
    rt.block_on(store.analyze()).unwrap();
    let w = start_workers(workers, &db, amqp, &prefix);
    // Publishing before the worker declared its queue would lose the messages.
    rt.block_on(async {
        for _ in 0..300 {
            let ch = conn.create_channel().await.unwrap();
            let ok = ch
                .queue_declare(
                    format!("{prefix}.inbound").as_str().into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .is_ok();
            let _ = ch.close(200, "OK".into()).await;
            if ok {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answers = rt.block_on(answers_consumer(
        sub_ch,
        &prefix,
        &format!("{prefix}.answers"),
        &format!("{prefix}.got"),
    ));
    let inbound = format!("{prefix}.inbound");
    let mut next = 0u32;
    let mut all_lat = Vec::new();
    let per = if kind == "305" { BATCH } else { BATCH / 10 };
    let mut g = c.benchmark_group(format!("serve-{kind}"));
    g.throughput(Throughput::Elements(per as u64));
    g.bench_function(format!("{workers}-worker(s)"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let msgs: Vec<(String, String)> = (0..per)
                    .map(|_| {
                        next += 1;
                        iwmo::testkit::synth::load_message(kind, "T", next)
                    })
                    .collect();
                let (t, lat) = rt.block_on(run_batch(pub_ch, &inbound, &mut answers, msgs));
                total += t;
                all_lat.extend(lat);
            }
            total
        })
    });
    g.finish();
    drop(w);
    drop(store);
    rt.block_on(common::drop_pg(pg, &db_name));
    // Leave nothing behind on the broker: every quorum queue left over is a Raft group
    // RabbitMQ keeps running (a few hundred of them made this broker unresponsive).
    rt.block_on(async {
        for q in ["inbound", "dead", "unrouted", "got"] {
            let _ = pub_ch
                .queue_delete(
                    format!("{prefix}.{q}").as_str().into(),
                    QueueDeleteOptions::default(),
                )
                .await;
        }
        for x in ["dlx", "answers", "unrouted"] {
            let _ = pub_ch
                .exchange_delete(
                    format!("{prefix}.{x}").as_str().into(),
                    ExchangeDeleteOptions::default(),
                )
                .await;
        }
    });
    (!all_lat.is_empty()).then(|| {
        format!(
            "serve-{kind} {workers} worker(s): latency publish → answer p50 {:?}, p99 {:?} over {} messages",
            pct(&mut all_lat, 0.5),
            pct(&mut all_lat, 0.99),
            all_lat.len()
        )
    })
}

fn main() {
    let (Some(amqp), Some(pg)) = (
        env(&["IWMO_BENCH_AMQP_URL", "IWMO_TEST_AMQP_URL"]),
        env(&["IWMO_BENCH_PG_URL", "IWMO_TEST_PG_URL"]),
    ) else {
        eprintln!("throughput: skipped (set IWMO_TEST_AMQP_URL and IWMO_TEST_PG_URL)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1));
    let conn = rt
        .block_on(Connection::connect(&amqp, ConnectionProperties::default()))
        .unwrap();
    let pub_ch = rt.block_on(conn.create_channel()).unwrap();
    rt.block_on(pub_ch.confirm_select(ConfirmSelectOptions::default()))
        .unwrap();
    let sub_ch = rt.block_on(conn.create_channel()).unwrap();
    let mut report: Vec<String> = Vec::new();

    bench_bare(&rt, &mut c, &pub_ch, &sub_ch);
    bench_echo(&rt, &mut c, &amqp, &pub_ch, &sub_ch);
    for workers in [1usize, 2] {
        for kind in ["305", "323x100"] {
            let line = bench_serve(
                &rt,
                &mut c,
                (&amqp, &pg),
                &conn,
                &pub_ch,
                &sub_ch,
                workers,
                kind,
            );
            report.extend(line);
        }
    }
    c.final_summary();
    for r in report {
        eprintln!("{r}");
    }
}
