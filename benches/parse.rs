//! Parse + level 1 + level 2, side by side with a bare quick-xml tokenizer pass over the same
//! bytes. Peak memory is measured separately in benches/memory.rs (a counting allocator would
//! slow down this comparison).
//!
//! Run: `cargo bench --bench parse`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iwmo::message::{read, ReadOptions};
use quick_xml::events::Event;
use quick_xml::Reader;

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

fn bench(c: &mut Criterion) {
    let m305 = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/valid/305a.xml"
    ))
    .unwrap();
    let mut g = c.benchmark_group("305");
    g.throughput(Throughput::Bytes(m305.len() as u64));
    g.bench_function("tokenizer", |b| b.iter(|| tokenize(black_box(&m305))));
    g.bench_function("parse+l1+l2", |b| b.iter(|| full(black_box(&m305))));
    g.finish();

    let mut g = c.benchmark_group("323");
    for n in [1usize, 100, 10_000] {
        let x = iwmo::testkit::synth::wmo323(n, "BENCH0000001", "DCLBENCH0001").into_bytes();
        g.throughput(Throughput::Bytes(x.len() as u64));
        if n == 10_000 {
            g.sample_size(20);
        }
        g.bench_with_input(BenchmarkId::new("tokenizer", n), &x, |b, x| {
            b.iter(|| tokenize(black_box(x)))
        });
        g.bench_with_input(BenchmarkId::new("parse+l1+l2", n), &x, |b, x| {
            b.iter(|| full(black_box(x)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
