//! Instruction-count profiling aid: `valgrind --tool=callgrind target/release/examples/profile305 FILE N [tok]`.
use quick_xml::events::Event;

fn main() {
    let f = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fixtures/valid/305a.xml".into());
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20000);
    let tok = std::env::args().nth(3).as_deref() == Some("tok");
    let b = std::fs::read(f).unwrap();
    let mut k = 0;
    for _ in 0..n {
        if tok {
            let mut r = quick_xml::Reader::from_str(std::str::from_utf8(&b).unwrap());
            while !matches!(r.read_event(), Ok(Event::Eof) | Err(_)) {
                k += 1;
            }
        } else {
            let p = iwmo::message::read(&b, Default::default()).unwrap();
            k += iwmo::rules::inmessage::check(&p.message).len();
        }
    }
    println!("{k}");
}
