//! Rough per-phase timing of one message (for finding where the time goes).
use std::time::Instant;

fn main() {
    let f = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/valid/305a.xml".into());
    let n = 200_000;
    let b = std::fs::read(f).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        let mut r = quick_xml::Reader::from_str(std::str::from_utf8(&b).unwrap());
        while !matches!(r.read_event(), Ok(quick_xml::events::Event::Eof) | Err(_)) {}
    }
    let tok = t.elapsed().as_nanos() as f64 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(iwmo::intake::guard(&b, 1 << 30).unwrap());
    }
    let a = t.elapsed().as_nanos() as f64 / n as f64;
    let acc = iwmo::intake::accept(&b, 1 << 30).unwrap();
    let schema = iwmo::message::schema::schema_for(acc.kind.number()).unwrap();
    let ns = iwmo::message::namespaces::message_ns_static(acc.kind.number()).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(iwmo::message::schema::validate(acc.text, schema, ns).unwrap());
    }
    let v = t.elapsed().as_nanos() as f64 / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(iwmo::message::read(&b, Default::default()).unwrap());
    }
    let r = t.elapsed().as_nanos() as f64 / n as f64;
    let p = iwmo::message::read(&b, Default::default()).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(iwmo::rules::inmessage::check(&p.message));
    }
    let c = t.elapsed().as_nanos() as f64 / n as f64;
    println!("tokenizer {tok:.0} ns | intake {a:.0} | validate {v:.0} | read total {r:.0} (typed ≈ {:.0}) | level 2 {c:.0} | all {:.0} = {:.2}x", r - a - v, r + c, (r + c) / tok);
}
