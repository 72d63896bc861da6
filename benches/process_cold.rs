//! `iwmo process` of one big declaration as a whole, in a fresh process (what a cron job or a
//! restarted worker sees), side by side with the same work inside one warm process, on a store
//! holding over a million earlier Prestaties: SQLite, and PostgreSQL with IWMO_BENCH_PG_URL or
//! IWMO_TEST_PG_URL.
//!
//! Run: `cargo bench --bench process_cold` (IWMO_BENCH_ONLY=sqlite|postgres for one backend).
//!
//! The seeded store (42,000 clients with ten toewijzingen and a start each, 1,008,000 approved
//! Prestaties over the 12 months of 2024 on two toewijzingen of every client, stored month by
//! month, the contract) is
//! built once and kept between runs: SQLite as `target/bench-data/process_cold-seed-v2.db`
//! (IWMO_BENCH_DATA for another folder), PostgreSQL as database `iwmo_bench_cold_seed_v2`.
//! IWMO_BENCH_RESEED=1 builds them again. Each run works on a copy (a file next to the seed; a
//! database made from the seed as template) and removes it at the end.
//!
//! Every iteration processes a new 10,000-Prestatie WMO323 (its own Identificatie,
//! DeclaratieNummer and ReferentieNummers; the next month; the next 5,000 clients, two lines
//! each on their toewijzingen with history): the
//! binary as `target/release/iwmo --today 2040-01-01 process --out DIR FILE` (IWMO_BENCH_BIN for
//! another build), a child process per iteration, timed from spawn to exit; in-process as `pipeline::process` plus sealing on a
//! store opened once. The children run with RUST_LOG=iwmo=debug; the medians of the timings
//! they log (`*_ms`) are printed at the end with the medians of both figures.

mod common;

// The same allocator as the binary, so that in-process and binary figures compare.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, SamplingMode};
use iwmo::pipeline::{self, Settings};
use iwmo::store::{Backend, Store};
use iwmo::testkit::synth;

/// Synthetic clients in the seed (ten toewijzingen each).
const CLIENTS: u32 = 42_000;
/// Of each client's ten toewijzingen, the first this many have a Prestatie in every month.
const WITH_HISTORY: u32 = 2;
/// Prestaties in each declaration, on the toewijzingen with history of its clients (so each
/// declaration is about PRESTATIES / WITH_HISTORY clients, and every line it holds has twelve
/// earlier ones on its toewijzing).
const PRESTATIES: usize = 10_000;
/// Name of the kept seed; change it when the seed's shape changes.
const SEED: &str = "process_cold-seed-v2";
const PG_SEED: &str = "iwmo_bench_cold_seed_v2";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2040, 1, 1).unwrap()
}

fn pg_url() -> Option<String> {
    std::env::var("IWMO_BENCH_PG_URL")
        .or_else(|_| std::env::var("IWMO_TEST_PG_URL"))
        .ok()
}

fn reseed() -> bool {
    std::env::var("IWMO_BENCH_RESEED").is_ok_and(|v| v == "1")
}

fn data_dir() -> PathBuf {
    let d = std::env::var("IWMO_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data"));
    std::fs::create_dir_all(&d).expect("bench data folder");
    d
}

/// Writes the seed into an empty store.
async fn seed(store: &Store) {
    let t = Instant::now();
    store
        .seed_toewijzingen(0, CLIENTS * 10, true)
        .await
        .unwrap();
    store
        .seed_prestaties_on((0..CLIENTS * 10).filter(|i| i % 10 < WITH_HISTORY), 1..=12)
        .await
        .unwrap();
    store.analyze().await.unwrap();
    if store.backend() == Backend::Postgres {
        // As autovacuum leaves a table long since written: visibility map set, so that
        // index-only scans need not visit the heap.
        sqlx::query("VACUUM").execute(store.pool()).await.unwrap();
    }
    eprintln!(
        "seeded {} Prestaties in {:.1?}",
        store.count_prestaties().await.unwrap(),
        t.elapsed()
    );
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// The kept SQLite seed (built when missing), copied to a working file of this run.
fn sqlite_copy(rt: &tokio::runtime::Runtime) -> PathBuf {
    let dir = data_dir();
    let kept = dir.join(format!("{SEED}.db"));
    if reseed() || !kept.exists() {
        let partial = dir.join(format!("{SEED}.partial.db"));
        remove_sqlite(&partial);
        rt.block_on(async {
            let store = Store::open(&format!("sqlite://{}", partial.display()))
                .await
                .expect("sqlite");
            seed(&store).await;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(store.pool())
                .await
                .unwrap();
            store.pool().close().await;
        });
        remove_sqlite(&kept);
        std::fs::rename(&partial, &kept).expect("keep seed");
        remove_sqlite(&partial);
    }
    let work = dir.join(format!("process_cold-run-{}.db", std::process::id()));
    remove_sqlite(&work);
    std::fs::copy(&kept, &work).expect("copy seed");
    sync(&work);
    work
}

/// Waits until the file is on disk, so that no measured fsync waits for the copy.
fn sync(path: &Path) {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .expect("sync");
}

async fn pg_admin(base: &str) -> sqlx::PgPool {
    let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&format!("{server}/postgres"))
        .await
        .expect("postgres")
}

async fn pg_exists(admin: &sqlx::PgPool, name: &str) -> bool {
    sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(admin)
        .await
        .unwrap()
        .is_some()
}

async fn pg_exec(admin: &sqlx::PgPool, sql: String) {
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(admin)
        .await
        .unwrap();
}

/// The kept PostgreSQL seed (built when missing, under another name until it is complete),
/// copied to a scratch database `name` of this run; returns its URL.
async fn pg_copy(base: &str, name: &str) -> String {
    let admin = pg_admin(base).await;
    if reseed() || !pg_exists(&admin, PG_SEED).await {
        let partial = format!("{PG_SEED}_partial");
        let url = common::fresh_pg(base, &partial).await;
        let store = Store::open(&url).await.expect("postgres");
        seed(&store).await;
        store.pool().close().await;
        pg_exec(
            &admin,
            format!("DROP DATABASE IF EXISTS {PG_SEED} WITH (FORCE)"),
        )
        .await;
        pg_exec(
            &admin,
            format!("ALTER DATABASE {partial} RENAME TO {PG_SEED}"),
        )
        .await;
    }
    pg_exec(
        &admin,
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    pg_exec(&admin, format!("CREATE DATABASE {name} TEMPLATE {PG_SEED}")).await;
    admin.close().await;
    let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
    format!("{server}/{name}")
}

/// The next declaration on this database: (Identificatie, xml).
fn next_declaration(tag: &str, k: &mut u32) -> (String, String) {
    let n = *k;
    *k += 1;
    let (y, m) = (2025 + (n / 12) as i32, n % 12 + 1);
    let clients = PRESTATIES as u32 / WITH_HISTORY;
    let first = 100_000 + (n % (CLIENTS / clients)) * clients * 10;
    let id = format!("C{tag}{n:08}");
    let decl = format!("DC{tag}{n:08}");
    let xml = synth::wmo323_spread(PRESTATIES, WITH_HISTORY as usize, &id, &decl, (y, m), first);
    (id, xml)
}

/// Timings (`*_ms=…`) from the debug lines of a child's stderr.
fn phases(stderr: &str, into: &mut BTreeMap<String, Vec<f64>>) {
    for line in stderr.lines().filter(|l| l.contains("DEBUG")) {
        for word in line.split_whitespace() {
            let Some((k, v)) = word.split_once('=') else {
                continue;
            };
            if let (true, Ok(v)) = (k.ends_with("_ms"), v.parse::<f64>()) {
                into.entry(k.to_string()).or_default().push(v);
            }
        }
    }
}

/// Figures of one backend: wall times of both modes, and the children's phase timings.
#[derive(Default)]
struct Figures {
    binary: Vec<Duration>,
    in_process: Vec<Duration>,
    phases: BTreeMap<String, Vec<f64>>,
}

/// One `iwmo process` of a new declaration in a child process; returns its wall time.
fn run_binary(url: &str, dir: &Path, tag: &str, k: &mut u32, fig: &mut Figures) -> Duration {
    let (id, xml) = next_declaration(tag, k);
    let file = dir.join(format!("{id}.xml"));
    std::fs::write(&file, xml).unwrap();
    let out = dir.join("out");
    let t = Instant::now();
    let bin = std::env::var("IWMO_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_iwmo").into());
    let o = Command::new(bin)
        .args([
            "--database",
            url,
            "--today",
            "2040-01-01",
            "process",
            "--out",
        ])
        .arg(&out)
        .arg(&file)
        .env("RUST_LOG", "iwmo=debug")
        .env("NO_COLOR", "1")
        .output()
        .expect("iwmo process");
    let wall = t.elapsed();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && stdout.contains("\"outcome\":\"accepted\""),
        "iwmo process: {:?}\n{stdout}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    phases(&String::from_utf8_lossy(&o.stderr), &mut fig.phases);
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_dir_all(&out);
    fig.binary.push(wall);
    wall
}

/// The same in this (warm) process: `pipeline::process` and sealing, as `iwmo process` does.
fn run_in_process(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    settings: &Settings,
    tag: &str,
    k: &mut u32,
    fig: &mut Figures,
) -> Duration {
    let (id, xml) = next_declaration(tag, k);
    let t = Instant::now();
    let o = rt
        .block_on(pipeline::process(
            store,
            &id,
            xml.as_bytes(),
            today(),
            settings,
        ))
        .unwrap();
    rt.block_on(store.seal_all()).unwrap();
    let wall = t.elapsed();
    assert_eq!(o.outcome, "accepted", "{:?}", o.codes);
    fig.in_process.push(wall);
    wall
}

fn bench_backend(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    backend: &str,
    url: &str,
) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        read: Default::default(),
        out_dir: Some(dir.path().join("out-in-process")),
        ..Default::default()
    };
    let tag = &backend[..1].to_uppercase();
    // Opening the working copy runs any migration newer than the seed (and ANALYZE refreshes
    // the statistics after it), so no iteration pays for that.
    let store = rt.block_on(Store::open(url)).expect("store");
    rt.block_on(store.analyze()).unwrap();
    if let Some(file) = url.strip_prefix("sqlite://") {
        rt.block_on(sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(store.pool()))
            .unwrap();
        sync(Path::new(file));
    }
    let mut k = 0u32;
    let mut fig = Figures::default();
    let mut group = c.benchmark_group(format!("process_cold/{backend}"));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("binary", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| run_binary(url, dir.path(), tag, &mut k, &mut fig))
                .sum()
        })
    });
    group.bench_function("in-process", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| run_in_process(rt, &store, &settings, tag, &mut k, &mut fig))
                .sum()
        })
    });
    group.finish();
    rt.block_on(store.pool().close());
    fig
}

fn median<T: Copy + PartialOrd>(v: &[T]) -> Option<T> {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.get(v.len() / 2).copied()
}

fn report(all: &[(String, Figures)]) {
    eprintln!("\nprocess_cold: medians of the iterations (one 10,000-Prestatie WMO323 each)");
    eprintln!(
        "{:<10} {:>6} {:>14} {:>14}",
        "backend", "runs", "binary", "in-process"
    );
    for (backend, f) in all {
        let ms = |v: &[Duration]| {
            median(v).map_or("-".into(), |d| format!("{:.0} ms", d.as_secs_f64() * 1e3))
        };
        eprintln!(
            "{backend:<10} {:>6} {:>14} {:>14}",
            f.binary.len(),
            ms(&f.binary),
            ms(&f.in_process)
        );
    }
    for (backend, f) in all {
        eprintln!("{backend}: phases logged by the children (median ms):");
        for (k, v) in &f.phases {
            eprintln!("  {k:<28} {:>9.1}", median(v).unwrap_or_default());
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    let only = std::env::var("IWMO_BENCH_ONLY").unwrap_or_default();
    let mut all = Vec::new();
    if only.is_empty() || only == "sqlite" {
        let work = sqlite_copy(&rt);
        let url = format!("sqlite://{}", work.display());
        all.push((
            "sqlite".to_string(),
            bench_backend(&mut c, &rt, "sqlite", &url),
        ));
        remove_sqlite(&work);
    }
    if only.is_empty() || only == "postgres" {
        if let Some(base) = pg_url() {
            let name = format!("iwmo_bench_cold_{}", std::process::id());
            let url = rt.block_on(pg_copy(&base, &name));
            all.push((
                "postgres".to_string(),
                bench_backend(&mut c, &rt, "postgres", &url),
            ));
            rt.block_on(common::drop_pg(&base, &name));
        } else {
            eprintln!("postgres: skipped (set IWMO_BENCH_PG_URL or IWMO_TEST_PG_URL)");
        }
    }
    c.final_summary();
    report(&all);
}
