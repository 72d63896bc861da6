//! End to end (parse → level 1/2 → snapshot → rules → one commit → 325 written), with
//! 10k → 100k → 1M earlier Prestaties in the store, on SQLite and (with IWMO_BENCH_PG_URL or
//! IWMO_TEST_PG_URL) on PostgreSQL; and single 305s on SQLite.
//!
//! Run: `cargo bench --bench pipeline` (seeding 1M rows takes a while). Peak memory (VmHWM) is
//! printed at the end.

mod common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{BenchmarkId, Criterion};
use iwmo::pipeline::{self, Settings};
use iwmo::store::Store;

fn settings(out: &std::path::Path) -> Settings {
    Settings {
        read: Default::default(),
        out_dir: Some(out.to_path_buf()),
        ..Default::default()
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2040, 1, 1).unwrap()
}

fn pg_url() -> Option<String> {
    std::env::var("IWMO_BENCH_PG_URL")
        .or_else(|_| std::env::var("IWMO_TEST_PG_URL"))
        .ok()
}

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

fn bench_323(c: &mut Criterion, rt: &tokio::runtime::Runtime, backend: &str, url: &str) {
    let store = rt.block_on(Store::open(url)).expect("store");
    let out = tempfile::tempdir().unwrap();
    let s = settings(out.path());
    let mut group = c.benchmark_group(format!("323-10000/{backend}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(1));
    let mut month: u32 = 0;
    // 100,000 toewijzingen; earlier Prestaties in stages 10k → 100k → 1M (10 per toewijzing).
    rt.block_on(store.seed_toewijzingen(0, 100_000, true))
        .unwrap();
    let stages: [(u32, u32, std::ops::RangeInclusive<u32>, &str); 3] = [
        (0, 10_000, 1..=1, "10k"),
        (10_000, 100_000, 1..=1, "100k"),
        (0, 100_000, 2..=10, "1M"),
    ];
    for (from, to, months, label) in stages {
        let t = Instant::now();
        rt.block_on(async {
            store
                .seed_prestaties(from, to, months.clone())
                .await
                .unwrap();
            store.analyze().await.unwrap();
        });
        let n = rt.block_on(store.count_prestaties()).unwrap();
        eprintln!(
            "{backend}: seeded to {n} stored Prestaties in {:.1?}",
            t.elapsed()
        );
        group.bench_function(BenchmarkId::new("stored", label), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    month += 1;
                    let (y, m) = (2025 + ((month - 1) / 12) as i32, (month - 1) % 12 + 1);
                    let id = format!("B{backend:.1}{month:08}");
                    // Each declaration on the next block of 10,000 of the 100,000 toewijzingen.
                    let first = 100_000 + ((month - 1) % 10) * 10_000;
                    let xml = iwmo::testkit::synth::wmo323_in(
                        10_000,
                        &id,
                        &format!("DB{month:08}"),
                        y,
                        m,
                        first,
                    );
                    let t = Instant::now();
                    let o = rt
                        .block_on(pipeline::process(
                            &store,
                            "bench",
                            xml.as_bytes(),
                            today(),
                            &s,
                        ))
                        .unwrap();
                    total += t.elapsed();
                    assert_eq!(o.outcome, "accepted", "{:?}", o.codes);
                }
                total
            })
        });
    }
    group.finish();
}

fn bench_305(c: &mut Criterion, rt: &tokio::runtime::Runtime, url: &str) {
    let store = rt.block_on(Store::open(url)).expect("store");
    let out = tempfile::tempdir().unwrap();
    let s = settings(out.path());
    // Toewijzingen without starts, one fresh toewijzing per 305.
    rt.block_on(store.seed_toewijzingen(200_000, 300_000, false))
        .unwrap();
    let mut next: u32 = 300_000;
    let mut group = c.benchmark_group("305/sqlite");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("one message", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                next += 1;
                let xml = iwmo::testkit::synth::wmo305(&format!("S{next}"), next, "2025-01-06");
                let t = Instant::now();
                let o = rt
                    .block_on(pipeline::process(
                        &store,
                        "bench",
                        xml.as_bytes(),
                        today(),
                        &s,
                    ))
                    .unwrap();
                total += t.elapsed();
                assert_eq!(o.outcome, "accepted", "{:?}", o.codes);
            }
            total
        })
    });
    group.finish();
    // And 10,000 in a row, as the issue states the target.
    let t = Instant::now();
    for _ in 0..10_000 {
        next += 1;
        let xml = iwmo::testkit::synth::wmo305(&format!("S{next}"), next, "2025-01-06");
        let o = rt
            .block_on(pipeline::process(
                &store,
                "bench",
                xml.as_bytes(),
                today(),
                &s,
            ))
            .unwrap();
        assert_eq!(o.outcome, "accepted");
    }
    eprintln!(
        "305/sqlite: 10,000 separate messages in a row: {:.2?}",
        t.elapsed()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/bench.db", dir.path().display());
    let only = std::env::var("IWMO_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "305" {
        let f = format!("sqlite://{}/bench305.db", dir.path().display());
        bench_305(&mut c, &rt, &f);
    }
    if only.is_empty() || only == "sqlite" {
        bench_323(&mut c, &rt, "sqlite", &sqlite);
    }
    if only.is_empty() || only == "postgres" {
        if let Some(base) = pg_url() {
            let name = format!("iwmo_bench_{}", std::process::id());
            let url = rt.block_on(common::fresh_pg(&base, &name));
            bench_323(&mut c, &rt, "postgres", &url);
            rt.block_on(common::drop_pg(&base, &name));
        } else {
            eprintln!("postgres: skipped (set IWMO_BENCH_PG_URL or IWMO_TEST_PG_URL)");
        }
    }
    c.final_summary();
    if let Some(kb) = vm_hwm_kb() {
        eprintln!(
            "peak resident memory of the benchmark process (VmHWM): {} MB",
            kb / 1024
        );
    }
}
