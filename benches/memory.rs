//! Peak heap while reading and checking a 323 with 10,000 Prestaties, relative to the file size
//! (target: ≤ 4×). A counting global allocator; run: `cargo bench --bench memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

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

fn main() {
    for n in [100usize, 10_000] {
        let x = iwmo::testkit::synth::wmo323(n, "BENCH0000001", "DCLBENCH0001").into_bytes();
        let base = CURRENT.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let parsed = iwmo::message::read(&x, Default::default()).expect("valid");
        let findings = iwmo::rules::inmessage::check(&parsed.message);
        assert!(findings.is_empty());
        let peak = PEAK.load(Ordering::Relaxed) - base;
        drop(parsed);
        // The input buffer itself is held by the caller; the figure is what reading adds to it.
        println!(
            "323 with {n} Prestaties: file {} bytes, peak heap added by read+level 1+level 2: {} bytes = {:.2}x the file (with the file itself: {:.2}x)",
            x.len(),
            peak,
            peak as f64 / x.len() as f64,
            (peak + x.len()) as f64 / x.len() as f64
        );
    }
}
