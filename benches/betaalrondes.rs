//! Payment runs over 1,000,000 approved lines of 1,000 aanbieders, on SQLite and (with
//! IWMO_BENCH_PG_URL or IWMO_TEST_PG_URL) PostgreSQL: making a run (target ≤ 2 s), the SEPA
//! export of that run (≤ 1 s, peak memory of the export measured with VmHWM after a reset), and
//! `GET /api/v1/betaalrondes/{id}` through the real HTTP server under 50 concurrent clients
//! (p50/p99 printed; target p99 ≤ 20 ms).
//!
//! Run: `cargo bench --bench betaalrondes` (seeding takes a while; IWMO_BENCH_LINES changes the
//! number of lines).

mod common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::Criterion;
use iwmo::api::{self, AppState, Limits};
use iwmo::app::config::{Config, SecretUrl};
use iwmo::auth::{token, Authenticator};
use iwmo::domain::betaalronde::Stap;
use iwmo::store::betaalrondes::{Door, NieuweRonde};
use iwmo::store::Store;

const AANBIEDERS: u32 = 1_000;

fn lines() -> u32 {
    std::env::var("IWMO_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn nieuw() -> NieuweRonde {
    NieuweRonde {
        gemeente: "0344".into(),
        tot_en_met: NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
        aanbieder: None,
    }
}

/// Removes a run entirely (between iterations; never done by iwmo itself).
async fn discard(store: &Store, id: i64) {
    for t in ["betaalronde_regels", "betaalronde_aanbieders"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {t} WHERE betaalronde_id = $1"
        )))
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM betaalrondes WHERE id = $1")
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
}

fn vm_hwm_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak-RSS counter (Linux ≥ 4.0: "5" to clear_refs).
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn bench_backend(c: &mut Criterion, rt: &tokio::runtime::Runtime, backend: &str, url: &str) {
    let store = rt.block_on(Store::open(url)).expect("store");
    let t = Instant::now();
    rt.block_on(store.seed_payable("0344", AANBIEDERS, lines()))
        .unwrap();
    rt.block_on(store.analyze()).unwrap();
    eprintln!(
        "[{backend}] seeded {} lines of {AANBIEDERS} aanbieders in {:.1?}",
        lines(),
        t.elapsed()
    );

    let mut g = c.benchmark_group(format!("betaalronde/{backend}"));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("aanmaken-1M", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let id = store
                        .create_run(&nieuw(), "anna", "financien")
                        .await
                        .expect("run");
                    total += t.elapsed();
                    discard(&store, id).await;
                }
                total
            })
        })
    });

    let id = rt
        .block_on(store.create_run(&nieuw(), "anna", "financien"))
        .unwrap();
    let door = || Door {
        naam: "bert",
        rol: "financien",
    };
    rt.block_on(store.move_run(id, Stap::Fiatteren, door(), None))
        .unwrap();
    reset_hwm();
    let before = vm_hwm_kb();
    let t = Instant::now();
    let first = rt
        .block_on(store.export_run(id, door(), iwmo::finance::bestand::sepa))
        .unwrap();
    eprintln!(
        "[{backend}] first SEPA export: {:.1?}, {} bytes, {} transfers, peak RSS during export {} MB (before {} MB)",
        t.elapsed(),
        first.bestand.as_ref().map_or(0, Vec::len),
        first.ronde.aanbieders.len(),
        vm_hwm_kb() / 1024,
        before / 1024
    );
    g.bench_function("sepa-export-1000-aanbieders", |b| {
        b.iter(|| {
            rt.block_on(store.export_run(id, door(), iwmo::finance::bestand::sepa))
                .unwrap()
        })
    });
    g.finish();
    get_under_load(rt, &store, url, backend, id);
}

/// 50 clients, each 200 sequential `GET /api/v1/betaalrondes/{id}` over HTTP/1.1 keep-alive.
fn get_under_load(rt: &tokio::runtime::Runtime, store: &Store, url: &str, backend: &str, id: i64) {
    let tok = token::nieuw_token();
    rt.block_on(store.add_user("lezer", "auditor", "*", &token::token_hash(&tok)))
        .unwrap();
    let config = Config {
        database_url: SecretUrl::new(url),
        ..Config::default()
    };
    let auth = rt
        .block_on(Authenticator::new(store.clone(), &config))
        .unwrap();
    let state = AppState::new(store.clone(), auth);
    let limits = Limits {
        max_body_bytes: 1 << 20,
        timeout: Duration::from_secs(30),
    };
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    rt.spawn(api::serve(listener, api::router(state, limits), stop_rx));
    let uri = format!("http://{addr}/api/v1/betaalrondes/{id}");
    let mut all: Vec<Duration> = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (uri, tok) = (uri.clone(), tok.clone());
            tasks.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut v = Vec::with_capacity(200);
                for _ in 0..200 {
                    let t = Instant::now();
                    let r = http.get(&uri).bearer_auth(&tok).send().await.unwrap();
                    assert_eq!(r.status(), 200);
                    let _ = r.bytes().await.unwrap();
                    v.push(t.elapsed());
                }
                v
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    all.sort();
    let q = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    eprintln!(
        "[{backend}] GET /api/v1/betaalrondes/{{id}} (1000 aanbieders), 50 clients × 200: p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        q(0.50),
        q(0.99),
        all[all.len() - 1]
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    bench_backend(&mut c, &rt, "sqlite", &sqlite);
    if let Ok(pg) =
        std::env::var("IWMO_BENCH_PG_URL").or_else(|_| std::env::var("IWMO_TEST_PG_URL"))
    {
        let url = rt.block_on(common::fresh_pg(&pg, "iwmo_bench_betaalrondes"));
        bench_backend(&mut c, &rt, "postgres", &url);
        rt.block_on(common::drop_pg(&pg, "iwmo_bench_betaalrondes"));
    }
    c.final_summary();
}
