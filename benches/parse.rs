//! Parse + level 1 + level 2, side by side with a bare quick-xml tokenizer pass over the same
//! bytes. Also reports peak heap during one read of the 10,000-Prestatie 323 (counting allocator).
//!
//! Run: `cargo bench --bench parse`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iwmo::message::{read, ReadOptions};
use quick_xml::events::Event;
use quick_xml::Reader;

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        CURRENT.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            if new > l.size() {
                let now = CURRENT.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The baseline: every event of the document, nothing else.
fn tokenize(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut r = Reader::from_str(text);
    let mut n = 0;
    loop {
        match r.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => {
                black_box(&e);
                n += 1
            }
            Err(_) => break,
        }
    }
    n
}

fn full(bytes: &[u8]) -> usize {
    let parsed = read(bytes, ReadOptions::default()).expect("valid");
    let findings = iwmo::rules::inmessage::check(&parsed.message);
    assert!(findings.is_empty());
    black_box(&parsed);
    findings.len()
}

fn peak_of(bytes: &[u8]) -> usize {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    full(bytes);
    PEAK.load(Ordering::Relaxed) - base
}

fn bench(c: &mut Criterion) {
    let m305 = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/valid/305a.xml")).unwrap();
    let mut g = c.benchmark_group("305");
    g.throughput(Throughput::Bytes(m305.len() as u64));
    g.bench_function("tokenizer", |b| b.iter(|| tokenize(black_box(&m305))));
    g.bench_function("parse+l1+l2", |b| b.iter(|| full(black_box(&m305))));
    g.finish();

    let mut g = c.benchmark_group("323");
    for n in [1usize, 100, 10_000] {
        let x = iwmo::synth::wmo323(n, "BENCH0000001", "DCLBENCH0001").into_bytes();
        g.throughput(Throughput::Bytes(x.len() as u64));
        if n == 10_000 {
            g.sample_size(20);
            let peak = peak_of(&x);
            eprintln!(
                "323 with {n} Prestaties: {} bytes, peak heap during read+check {} bytes = {:.2}x the file",
                x.len(),
                peak,
                peak as f64 / x.len() as f64
            );
        }
        g.bench_with_input(BenchmarkId::new("tokenizer", n), &x, |b, x| b.iter(|| tokenize(black_box(x))));
        g.bench_with_input(BenchmarkId::new("parse+l1+l2", n), &x, |b, x| b.iter(|| full(black_box(x))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
