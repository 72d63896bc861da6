//! Phase timings of one 10k-Prestatie 323 on a store with ~1M earlier lines:
//! `cargo run --release --example scale -- [DATABASE_URL]`.
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter("iwmo=debug")
        .with_writer(std::io::stderr)
        .init();
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}/s.db", dir.path().display()));
    let store = iwmo::store::Store::open(&url).await.unwrap();
    let t = Instant::now();
    store.seed_toewijzingen(0, 100_000, true).await.unwrap();
    store.seed_prestaties(0, 100_000, 1..=10).await.unwrap();
    store.analyze().await.unwrap();
    eprintln!(
        "seeded {} in {:?}",
        store.count_prestaties().await.unwrap(),
        t.elapsed()
    );
    let s = iwmo::pipeline::Settings {
        read: Default::default(),
        out_dir: Some(dir.path().join("out")),
        ..Default::default()
    };
    for i in 1..=3u32 {
        let xml = iwmo::testkit::synth::wmo323_in(
            10_000,
            &format!("SC{i}"),
            &format!("DSC{i}"),
            2025,
            i,
            100_000,
        );
        let t = Instant::now();
        let today = chrono::NaiveDate::from_ymd_opt(2040, 1, 1).unwrap();
        let o = iwmo::pipeline::process(&store, "scale", xml.as_bytes(), today, &s)
            .await
            .unwrap();
        eprintln!("323 #{i}: {} in {:?}", o.outcome, t.elapsed());
    }
}
