//! Prometheus metrics (text exposition), kept in atomics: no registry, no allocation per event.

use std::sync::atomic::{AtomicU64, Ordering};

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0];
const OUTCOMES: [&str; 6] = [
    "accepted",
    "partially-accepted",
    "rejected",
    "invalid",
    "duplicate",
    "registered",
];

/// Why a file was moved to failed/ or a delivery dead-lettered by the worker itself (label
/// `reason` of `iwmo_files_failed_total` and `iwmo_deliveries_refused_total`).
pub const FAILURES: [&str; 6] = [
    "invalid",
    "too-large",
    "store",
    "io",
    "not-regular",
    "not-xml",
];

#[derive(Default)]
pub struct Metrics {
    /// Files moved to failed/, by reason (index into [`FAILURES`]).
    files_failed: [AtomicU64; 6],
    /// Deliveries dead-lettered by the worker, by reason (index into [`FAILURES`]).
    deliveries_refused: [AtomicU64; 6],
    pub received: AtomicU64,
    processed: [AtomicU64; 6],
    pub dead_lettered: AtomicU64,
    /// Deliveries given back to the queue uncommitted (each raises the broker's delivery count).
    pub returned: AtomicU64,
    pub published: AtomicU64,
    /// Answers too large for the hubs' limit, sent as several files (a 325 in parts).
    pub answers_split: AtomicU64,
    pub outbox_pending: AtomicU64,
    pub store_errors: AtomicU64,
    buckets: [AtomicU64; 10],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Metrics {
    pub fn processed(&self, outcome: &str, seconds: f64) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.processed[i].fetch_add(1, Ordering::Relaxed);
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// A file moved to failed/ for `reason` (one of [`FAILURES`]).
    pub fn file_failed(&self, reason: &str) {
        if let Some(i) = FAILURES.iter().position(|r| *r == reason) {
            self.files_failed[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A delivery dead-lettered by the worker for `reason` (one of [`FAILURES`]).
    pub fn delivery_refused(&self, reason: &str) {
        if let Some(i) = FAILURES.iter().position(|r| *r == reason) {
            self.deliveries_refused[i].fetch_add(1, Ordering::Relaxed);
        }
        self.dead_lettered.fetch_add(1, Ordering::Relaxed);
    }

    fn render_failures(&self, s: &mut String) {
        s.push_str("# HELP iwmo_files_failed_total Files moved to failed/ (with a reason file), by reason.\n# TYPE iwmo_files_failed_total counter\n");
        for (i, r) in FAILURES.iter().enumerate() {
            s.push_str(&format!(
                "iwmo_files_failed_total{{reason=\"{r}\"}} {}\n",
                self.files_failed[i].load(Ordering::Relaxed)
            ));
        }
        s.push_str("# HELP iwmo_deliveries_refused_total Deliveries dead-lettered by the worker with a reason (too large, refused by the database).\n# TYPE iwmo_deliveries_refused_total counter\n");
        for (i, r) in FAILURES.iter().enumerate() {
            s.push_str(&format!(
                "iwmo_deliveries_refused_total{{reason=\"{r}\"}} {}\n",
                self.deliveries_refused[i].load(Ordering::Relaxed)
            ));
        }
    }

    pub fn render(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut s = String::new();
        s.push_str("# HELP iwmo_messages_received_total Messages received from the transport.\n# TYPE iwmo_messages_received_total counter\n");
        s.push_str(&format!(
            "iwmo_messages_received_total {}\n",
            g(&self.received)
        ));
        s.push_str("# HELP iwmo_messages_processed_total Messages processed, by outcome.\n# TYPE iwmo_messages_processed_total counter\n");
        for (i, o) in OUTCOMES.iter().enumerate() {
            s.push_str(&format!(
                "iwmo_messages_processed_total{{outcome=\"{o}\"}} {}\n",
                g(&self.processed[i])
            ));
        }
        s.push_str("# HELP iwmo_messages_duplicate_total Messages received again (answered the same way).\n# TYPE iwmo_messages_duplicate_total counter\n");
        s.push_str(&format!(
            "iwmo_messages_duplicate_total {}\n",
            g(&self.processed[4])
        ));
        s.push_str("# HELP iwmo_messages_dead_lettered_total Deliveries that could not be handled at all.\n# TYPE iwmo_messages_dead_lettered_total counter\n");
        s.push_str(&format!(
            "iwmo_messages_dead_lettered_total {}\n",
            g(&self.dead_lettered)
        ));
        s.push_str("# HELP iwmo_messages_returned_total Deliveries returned to the queue uncommitted (they count toward the delivery limit).\n# TYPE iwmo_messages_returned_total counter\n");
        s.push_str(&format!(
            "iwmo_messages_returned_total {}\n",
            g(&self.returned)
        ));
        s.push_str("# HELP iwmo_answers_published_total Answers published and confirmed.\n# TYPE iwmo_answers_published_total counter\n");
        s.push_str(&format!(
            "iwmo_answers_published_total {}\n",
            g(&self.published)
        ));
        s.push_str("# HELP iwmo_answers_split_total Answers larger than answer_max_bytes, sent as several 325s with the same DeclaratieIdentificatie.\n# TYPE iwmo_answers_split_total counter\n");
        s.push_str(&format!(
            "iwmo_answers_split_total {}\n",
            g(&self.answers_split)
        ));
        s.push_str("# HELP iwmo_outbox_pending Answers waiting in the outbox.\n# TYPE iwmo_outbox_pending gauge\n");
        s.push_str(&format!(
            "iwmo_outbox_pending {}\n",
            g(&self.outbox_pending)
        ));
        s.push_str("# HELP iwmo_store_errors_total Store (database) failures; processing pauses.\n# TYPE iwmo_store_errors_total counter\n");
        s.push_str(&format!(
            "iwmo_store_errors_total {}\n",
            g(&self.store_errors)
        ));
        self.render_failures(&mut s);
        s.push_str("# HELP iwmo_processing_seconds Time to process one message (decide and commit).\n# TYPE iwmo_processing_seconds histogram\n");
        for (i, b) in BUCKETS.iter().enumerate() {
            s.push_str(&format!(
                "iwmo_processing_seconds_bucket{{le=\"{b}\"}} {}\n",
                g(&self.buckets[i])
            ));
        }
        s.push_str(&format!(
            "iwmo_processing_seconds_bucket{{le=\"+Inf\"}} {}\n",
            g(&self.count)
        ));
        s.push_str(&format!(
            "iwmo_processing_seconds_sum {}\n",
            g(&self.sum_micros) as f64 / 1e6
        ));
        s.push_str(&format!(
            "iwmo_processing_seconds_count {}\n",
            g(&self.count)
        ));
        s
    }
}
