//! The RabbitMQ transport (tests 2 to 5): answers, duplicates and metrics; exactly once after
//! a SIGKILL; a database outage returns nothing to the queue; garbage is answered, not
//! dead-lettered.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use lapin::Channel;

use crate::common::{self, TestDb};
use crate::rabbit::{
    answered, assert_queues_empty, bind_answers, block, channel, check_answers, count,
    distinct_ids, publish, publish_305s, queue_len, receive, seed_synthetic_toewijzingen, Answer,
    Topology,
};
use crate::worker::{import_contract, run_cli, Serve};
use crate::{answer_kind, assert_no_bsn, bsns_of, metric, wait_until};

// ---------------------------------------------------------------------------------------------
// 2. RabbitMQ: answers, duplicates, metrics.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_answers_duplicates_and_metrics() {
    let Some(url) = common::amqp_server() else {
        return;
    };
    for db in common::backends() {
        amqp_answers_on(&url, &db).await;
    }
}

fn fixture(f: &str) -> Vec<u8> {
    std::fs::read(common::root().join("fixtures/valid").join(f)).unwrap()
}

/// (message id, type) of each answer, for assertion texts.
fn show(a: &[Answer]) -> Vec<(Option<String>, Option<String>)> {
    a.iter().map(|a| (a.0.clone(), a.1.clone())).collect()
}

async fn amqp_answers_on(url: &str, db: &TestDb) {
    let label = db.backend;
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    block(|| import_contract(db.url(), dir.path()));
    let topo = Topology::new(url, label);
    // One at a time, so that the 305 finds the toewijzing of the 301 published before it (with
    // more, the order between messages about one client is whichever takes the lock first).
    let mut env = topo.env();
    env.push(("IWMO_CONCURRENCY".into(), "1".into()));
    let mut serve = Serve::start(label, dir.path(), db.url(), "amqp", &env);
    block(|| serve.wait_ready());
    let (conn, ch) = channel(url).await;
    let mut consumer = bind_answers(&ch, &topo).await;

    let mut bsns = BTreeSet::new();
    for f in ["301a.xml", "305a.xml", "323a.xml"] {
        let body = fixture(f);
        bsns.extend(bsns_of(&String::from_utf8_lossy(&body)));
        publish(&ch, &topo.inbound, &body).await;
    }
    let mut answers = receive(
        &mut consumer,
        Duration::from_secs(30),
        Duration::from_millis(1000),
        |a| a.len() >= 2,
    )
    .await;
    assert_eq!(answers.len(), 2, "{label}: answers {:?}", show(&answers));
    let kinds: BTreeSet<_> = answers.iter().filter_map(|a| a.1.clone()).collect();
    assert_eq!(
        kinds,
        ["WMO306", "WMO325"].map(String::from).into_iter().collect(),
        "{label}"
    );
    check_answers(label, dir.path(), &answers);

    let again = duplicate_305(label, &serve, &ch, &topo, &mut consumer).await;
    let first_306 = answers
        .iter()
        .find(|a| a.1.as_deref() == Some("WMO306"))
        .expect("306");
    assert_eq!(&again[0], first_306, "{label}: the re-sent answer differs");
    answers.extend(again);
    check_answers(label, dir.path(), &answers);

    block(|| assert_counts_after_duplicate(label, &serve));
    assert_queues_empty(&ch, &topo, label).await;
    assert_eq!(
        queue_len(&ch, &topo.unrouted_q).await,
        0,
        "{label}: unrouted"
    );

    let took = block(|| serve.stop_cleanly(label));
    let log = serve.log();
    assert_no_bsn(label, &log, &bsns);
    assert!(
        !log.contains("guest:guest"),
        "{label}: broker password in the log"
    );

    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
    eprintln!(
        "amqp answers on {label}: ok in {:.1} s (SIGTERM → exit in {} ms)",
        t0.elapsed().as_secs_f64(),
        took.as_millis()
    );
}

/// The same 305 again, once its answer is confirmed: acknowledged, counted as a duplicate,
/// nothing decided anew, and its answer re-sent unchanged (same message id, same bytes). The
/// one answer it gets.
async fn duplicate_305(
    label: &str,
    serve: &Serve,
    ch: &Channel,
    topo: &Topology,
    consumer: &mut lapin::Consumer,
) -> Vec<Answer> {
    block(|| {
        wait_until(
            &format!("{label}: outbox drained"),
            Duration::from_secs(10),
            || serve.metric("iwmo_outbox_pending") == 0.0,
        )
    });
    publish(ch, &topo.inbound, &fixture("305a.xml")).await;
    let again = receive(
        consumer,
        Duration::from_secs(15),
        Duration::from_millis(1500),
        |a| !a.is_empty(),
    )
    .await;
    assert_eq!(
        again.len(),
        1,
        "{label}: answers to the duplicate {:?}",
        show(&again)
    );
    again
}

/// Four received, one a duplicate, two accepted, three answers published, nothing
/// dead-lettered.
fn assert_counts_after_duplicate(label: &str, serve: &Serve) {
    wait_until(
        &format!("{label}: 4 processed"),
        Duration::from_secs(15),
        || serve.metric("iwmo_processing_seconds_count") >= 4.0,
    );
    let m = serve.metrics_text();
    let m = format!(
        "{m}\n--- log:\n{}",
        serve
            .log()
            .lines()
            .filter(|l| l.contains("verwerkt"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(metric(&m, "iwmo_messages_received_total"), Some(4.0), "{m}");
    assert_eq!(
        metric(&m, "iwmo_messages_duplicate_total"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "iwmo_messages_processed_total{outcome=\"duplicate\"}"),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "iwmo_messages_processed_total{outcome=\"accepted\"}"),
        Some(2.0),
        "{m}"
    );
    assert_eq!(metric(&m, "iwmo_answers_published_total"), Some(3.0), "{m}");
    assert_eq!(
        metric(&m, "iwmo_messages_dead_lettered_total"),
        Some(0.0),
        "{m}"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. RabbitMQ: exactly once after SIGKILL.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_exactly_once_after_sigkill() {
    let Some(url) = common::amqp_server() else {
        return;
    };
    for db in common::backends() {
        amqp_crash_on(&url, &db).await;
    }
}

async fn amqp_crash_on(url: &str, db: &TestDb) {
    const N: u32 = 20;
    let label = db.backend;
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    seed_synthetic_toewijzingen(db).await;
    let topo = Topology::new(url, label);
    let mut env = topo.env();
    // Small batches so that the kill is likely to hit work in progress.
    env.push(("IWMO_CONCURRENCY".into(), "2".into()));
    env.push(("IWMO_PREFETCH".into(), "4".into()));
    let mut first = Serve::start(label, dir.path(), db.url(), "amqp", &env);
    block(|| first.wait_ready());
    let (conn, ch) = channel(url).await;
    let mut consumer = bind_answers(&ch, &topo).await;

    let (idents, bsns) = publish_305s(&ch, &topo.inbound, "SY2501", N).await;
    assert!(bsns.len() >= 2, "{bsns:?}");
    let mut answers = receive(
        &mut consumer,
        Duration::from_secs(30),
        Duration::ZERO,
        |a| a.len() >= 3,
    )
    .await;
    block(|| first.sigkill());
    let before_kill = answers.len();
    let store = iwmo::store::Store::open(db.url())
        .await
        .expect("open store");
    let decided_at_kill = count(&store, "SELECT COUNT(*) FROM decisions").await;

    let mut second = Serve::start(label, dir.path(), db.url(), "amqp", &env);
    block(|| second.wait_ready());
    let more = receive(
        &mut consumer,
        Duration::from_secs(60),
        Duration::from_millis(1500),
        |a| {
            let mut all = answers.clone();
            all.extend_from_slice(a);
            distinct_ids(&all).len() >= N as usize
        },
    )
    .await;
    answers.extend(more);
    assert_each_answered_once(label, dir.path(), &answers, &idents);
    assert_decided_once(label, &store, N).await;

    // Answers the killed worker published without recording it are published again by the
    // relay's scan of the queue (the same answer, same id): the queue ends empty.
    block(|| {
        wait_until(
            &format!("{label}: outbox drained"),
            Duration::from_secs(10),
            || second.metric("iwmo_outbox_pending") == 0.0,
        )
    });
    let pending = count(&store, "SELECT COUNT(*) FROM outbox_queue").await;
    assert_eq!(pending, 0, "{label}: unpublished answers");
    assert_queues_empty(&ch, &topo, label).await;

    block(|| second.stop_cleanly(label));
    assert_no_bsn(&format!("{label} (before kill)"), &first.log(), &bsns);
    assert_no_bsn(&format!("{label} (after restart)"), &second.log(), &bsns);

    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
    eprintln!(
        "amqp crash on {label}: ok in {:.1} s ({before_kill} answers and {decided_at_kill} decisions before SIGKILL, {} answers in all)",
        t0.elapsed().as_secs_f64(),
        answers.len()
    );
}

/// Duplicates allowed only as the very same answer (same id, same body); every message answered,
/// and every answer valid.
fn assert_each_answered_once(
    label: &str,
    dir: &Path,
    answers: &[Answer],
    idents: &BTreeSet<String>,
) {
    let mut by_id: BTreeMap<String, String> = BTreeMap::new();
    for (id, _, xml) in answers {
        let id = id.clone().expect("message id");
        if let Some(prev) = by_id.insert(id.clone(), xml.clone()) {
            assert_eq!(&prev, xml, "{label}: two different answers with id {id}");
        }
    }
    assert_eq!(by_id.len(), idents.len(), "{label}: distinct answers");
    assert_eq!(
        &answered(by_id.values()),
        idents,
        "{label}: every 305 answered once"
    );
    let unique_answers: Vec<Answer> = by_id
        .iter()
        .map(|(id, xml)| (Some(id.clone()), answer_kind(xml), xml.clone()))
        .collect();
    check_answers(label, dir, &unique_answers);
}

/// One decision per synthetic message, and no others.
async fn assert_decided_once(label: &str, store: &iwmo::store::Store, n: u32) {
    let decisions = count(
        store,
        "SELECT COUNT(*) FROM decisions d JOIN messages m ON m.id = d.message_id WHERE m.identificatie LIKE 'SY2501%'",
    )
    .await;
    assert_eq!(decisions, i64::from(n), "{label}: decisions");
    let all_decisions = count(store, "SELECT COUNT(*) FROM decisions").await;
    assert_eq!(all_decisions, i64::from(n), "{label}: decisions in total");
}

// ---------------------------------------------------------------------------------------------
// 4. RabbitMQ: a database outage.

/// While the database is unreachable, the worker keeps the deliveries it holds, is not ready,
/// and returns nothing to the queue; once the database is back, each message is decided once.
/// The queue's delivery limit is 1 here: any return during the outage would show as a dead letter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_database_outage_returns_nothing_to_the_queue() {
    let Some(url) = common::amqp_server() else {
        return;
    };
    let Some(pg) = common::pg_server() else {
        return;
    };
    const N: u32 = 40;
    let db = TestDb::postgres(&pg);
    let label = "postgres-outage";
    let dir = tempfile::tempdir().unwrap();
    seed_synthetic_toewijzingen(&db).await;
    let topo = Topology::new(&url, label);
    let mut env = topo.env();
    env.push(("IWMO_DELIVERY_LIMIT".into(), "1".into()));
    env.push(("IWMO_PREFETCH".into(), "16".into()));
    env.push(("IWMO_BATCH_SIZE".into(), "4".into()));
    let mut serve = Serve::start(label, dir.path(), db.url(), "amqp", &env);
    block(|| serve.wait_ready());
    let (conn, ch) = channel(&url).await;
    let mut consumer = bind_answers(&ch, &topo).await;

    block(|| db.set_reachable(false));
    let (idents, _) = publish_305s(&ch, &topo.inbound, "SY2601", N).await;
    hold_through_outage(label, &mut serve, &ch, &topo).await;

    block(|| db.set_reachable(true));
    let answers = receive(
        &mut consumer,
        Duration::from_secs(60),
        Duration::from_millis(1000),
        |a| distinct_ids(a).len() >= N as usize,
    )
    .await;
    assert_eq!(
        answered(answers.iter().map(|a| &a.2)),
        idents,
        "{label}: every 305 answered after the outage"
    );
    let store = iwmo::store::Store::open(db.url())
        .await
        .expect("open store");
    let decisions = count(&store, "SELECT COUNT(*) FROM decisions").await;
    assert_eq!(decisions, i64::from(N), "{label}: one decision per message");
    assert_eq!(
        serve.metric("iwmo_messages_returned_total"),
        0.0,
        "{label}: returned"
    );
    assert_queues_empty(&ch, &topo, label).await;
    block(|| {
        wait_until(
            &format!("{label}: ready again"),
            Duration::from_secs(10),
            || serve.get("/readyz").map(|(c, _)| c) == Some(200),
        )
    });
    block(|| serve.stop_cleanly(label));
    store.pool().close().await;
    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
}

/// During the outage: store errors, not ready, and for some seconds (the worker retries with
/// backoff) nothing returned to the queue and nothing dead-lettered.
async fn hold_through_outage(label: &str, serve: &mut Serve, ch: &Channel, topo: &Topology) {
    block(|| {
        wait_until(
            &format!("{label}: store errors seen"),
            Duration::from_secs(20),
            || serve.metric("iwmo_store_errors_total") > 0.0,
        )
    });
    block(|| {
        wait_until(
            &format!("{label}: not ready"),
            Duration::from_secs(10),
            || serve.get("/readyz").map(|(c, _)| c) == Some(503),
        )
    });
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        serve.metric("iwmo_messages_returned_total"),
        0.0,
        "{label}: returned during the outage"
    );
    assert_eq!(
        queue_len(ch, &topo.dead).await,
        0,
        "{label}: dead letters during the outage"
    );
    serve.assert_running();
}

// ---------------------------------------------------------------------------------------------
// 5. Dead letters: the empty list, and garbage is answered as invalid, not dead-lettered.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_garbage_is_not_dead_lettered() {
    let Some(url) = common::amqp_server() else {
        return;
    };
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let topo = Topology::new(&url, "dl");
    let env = topo.env();

    let (code, out, err) = block(|| run_cli(db.url(), &env, &["dead-letters", "list"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("geen dead letters"), "{out}{err}");

    let mut serve = Serve::start("dl", dir.path(), db.url(), "amqp", &env);
    block(|| serve.wait_ready());
    let (conn, ch) = channel(&url).await;
    publish(&ch, &topo.inbound, b"dit is geen iWmo-bericht \x00\xff").await;
    publish(&ch, &topo.inbound, b"<a>geen namespace</a>").await;
    block(|| {
        wait_until("garbage processed", Duration::from_secs(15), || {
            serve.metric("iwmo_messages_processed_total{outcome=\"invalid\"}") >= 2.0
        })
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_queues_empty(&ch, &topo, "dl").await;
    assert_eq!(serve.metric("iwmo_messages_dead_lettered_total"), 0.0);

    let (code, out, err) = block(|| run_cli(db.url(), &env, &["dead-letters", "list"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("geen dead letters"), "{out}{err}");

    block(|| serve.stop_cleanly("dl"));
    assert!(!serve.log().is_empty());
    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
}

// ---------------------------------------------------------------------------------------------
// 6. A body over the size cap: never processed, recorded by its first bytes, dead-lettered with
//    the reason; the valid message behind it is processed.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_oversized_body_is_dead_lettered_with_its_reason() {
    let Some(url) = common::amqp_server() else {
        return;
    };
    let db = TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let topo = Topology::new(&url, "big");
    let mut env = topo.env();
    env.push(("IWMO_MAX_BYTES".into(), "4000".into()));
    let mut serve = Serve::start("big", dir.path(), db.url(), "amqp", &env);
    block(|| serve.wait_ready());
    let (conn, ch) = channel(&url).await;
    let mut big = b"<?xml version=\"1.0\"?><groot>".to_vec();
    big.resize(50_000, b' ');
    publish(&ch, &topo.inbound, &big).await;
    publish(&ch, &topo.inbound, &fixture("301a.xml")).await;
    block(|| {
        wait_until("refused and processed", Duration::from_secs(20), || {
            serve.metric("iwmo_deliveries_refused_total{reason=\"too-large\"}") >= 1.0
                && serve.metric("iwmo_processing_seconds_count") >= 1.0
        })
    });
    assert_eq!(queue_len(&ch, &topo.dead).await, 1, "dead letters");
    assert_eq!(queue_len(&ch, &topo.inbound).await, 0, "inbound");
    let (code, out, err) = block(|| run_cli(db.url(), &env, &["dead-letters", "list"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("bericht is te groot: 50000 bytes, maximaal 4000 bytes"),
        "{out}{err}"
    );
    // Recorded by its first bytes only.
    let store = iwmo::store::Store::open(db.url()).await.unwrap();
    let n = count(
        &store,
        "SELECT COUNT(*) FROM messages WHERE outcome = 'invalid' AND length(raw) <= 512",
    )
    .await;
    assert_eq!(n, 1);
    block(|| serve.stop_cleanly("big"));
    topo.cleanup(&ch).await;
    let _ = conn.close(200, "OK".into()).await;
}
