//! Pipeline rate without a broker: N 305s (or 323s of 100 Prestaties) through
//! `pipeline::process` with C concurrent tasks on one store.
//! `cargo run --release --example rate -- DATABASE_URL [N] [C] [305|323]`
use std::sync::Arc;
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::var("RUST_LOG").is_ok() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let mut a = std::env::args().skip(1);
    let url = a.next().expect("DATABASE_URL");
    let n: u32 = a.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let c: u32 = a.next().and_then(|s| s.parse().ok()).unwrap_or(8);
    let kind = a.next().unwrap_or_else(|| "305".into());
    let store = Arc::new(iwmo::store::Store::open(&url).await.unwrap());
    if std::env::var("SEED").is_ok() {
        store
            .seed_toewijzingen(0, 200_000, kind != "305")
            .await
            .unwrap();
        store.analyze().await.unwrap();
    }
    let today = chrono::NaiveDate::from_ymd_opt(2040, 1, 1).unwrap();
    let base: u32 = std::env::var("BASE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let t = Instant::now();
    let mut js = tokio::task::JoinSet::new();
    for w in 0..c {
        let store = store.clone();
        let kind = kind.clone();
        js.spawn(async move {
            let s = iwmo::pipeline::Settings::default();
            let mut i = w;
            while i < n {
                let k = base + i;
                let (_, xml) = iwmo::testkit::synth::load_message(&kind, "R", k);
                let o = iwmo::pipeline::process(&store, "rate", xml.as_bytes(), today, &s)
                    .await
                    .unwrap();
                assert_ne!(o.outcome, "invalid");
                i += c;
            }
        });
    }
    while js.join_next().await.is_some() {}
    let e = t.elapsed();
    println!(
        "{n} x {kind} with {c} tasks: {:?} = {:.0} msg/s",
        e,
        n as f64 / e.as_secs_f64()
    );
}
