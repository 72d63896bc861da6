//! Seeds synthetic toewijzingen (and starts) and writes synthetic 323s/305s to files, for trying
//! `iwmo serve` by hand: `cargo run --release --example seed_synth -- DB_URL OUT_DIR N_TOEWIJZINGEN N_323 PRESTATIES [starts|no-starts]`.
#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    let store = iwmo::store::Store::open(&a[1]).await.unwrap();
    let n: u32 = a[3].parse().unwrap();
    let starts = a.get(6).map(|s| s != "no-starts").unwrap_or(true);
    store.seed_toewijzingen(0, n, starts).await.unwrap();
    store.analyze().await.unwrap();
    std::fs::create_dir_all(&a[2]).unwrap();
    let k: u32 = a[4].parse().unwrap();
    let p: usize = a[5].parse().unwrap();
    for i in 0..k {
        let first = 100_000 + (i * p as u32) % n;
        let x = iwmo::testkit::synth::wmo323_in(
            p,
            &format!("T{i:09}"),
            &format!("D{i:010}"),
            2025,
            1,
            first,
        );
        std::fs::write(format!("{}/323-{i:04}.xml", a[2]), x).unwrap();
    }
}
