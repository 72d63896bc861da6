//! Which acknowledgement frames settle a batch of deliveries on one channel. A run of committed
//! deliveries with nothing unsettled before it is one `basic.ack` with `multiple`; deliveries
//! settled while an earlier one is still being handled are acknowledged one by one (so a slow
//! batch does not hold back the prefetch window); a delivery that was not committed is returned
//! on its own, before any frame that could cover it.

use std::collections::BTreeSet;

/// One frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// `basic.ack(tag, multiple)`: this delivery and every earlier one still unacknowledged.
    AckUpTo(u64),
    /// `basic.ack(tag)`: this delivery only.
    Ack(u64),
    /// `basic.nack(tag, requeue)`: back to the queue.
    Return(u64),
}

/// The deliveries of one channel taken for handling and not yet settled.
#[derive(Debug, Default)]
pub struct Ledger {
    unsettled: BTreeSet<u64>,
}

impl Ledger {
    /// Deliveries taken for handling (in the order the channel delivered them).
    pub fn taken(&mut self, tags: impl IntoIterator<Item = u64>) {
        self.unsettled.extend(tags);
    }

    /// Settles deliveries (tag, committed) and returns the frames to send, in order. The caller
    /// sends them before the next call (under the same lock), so a later `AckUpTo` never covers
    /// a delivery that is still to be returned.
    pub fn settle(&mut self, outcomes: &[(u64, bool)]) -> Vec<Frame> {
        for (tag, _) in outcomes {
            self.unsettled.remove(tag);
        }
        let mut frames: Vec<Frame> = outcomes
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(tag, _)| Frame::Return(*tag))
            .collect();
        let mut committed: Vec<u64> = outcomes
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(tag, _)| *tag)
            .collect();
        committed.sort_unstable();
        // Everything below the first unsettled delivery is settled: one frame covers it.
        let floor = self.unsettled.first().copied().unwrap_or(u64::MAX);
        let below = committed.partition_point(|t| *t < floor);
        if below > 0 {
            frames.push(Frame::AckUpTo(committed[below - 1]));
        }
        frames.extend(committed[below..].iter().map(|t| Frame::Ack(*t)));
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_with_nothing_unsettled_before_it_is_one_frame() {
        let mut l = Ledger::default();
        l.taken(1..=4);
        let f = l.settle(&[(1, true), (2, true), (3, true), (4, true)]);
        assert_eq!(f, vec![Frame::AckUpTo(4)]);
    }

    #[test]
    fn a_batch_overtaking_an_earlier_one_is_acknowledged_one_by_one() {
        let mut l = Ledger::default();
        l.taken(1..=2);
        l.taken(3..=4);
        assert_eq!(
            l.settle(&[(3, true), (4, true)]),
            vec![Frame::Ack(3), Frame::Ack(4)]
        );
        // The earlier batch then covers itself (3 and 4 are no longer outstanding).
        assert_eq!(l.settle(&[(1, true), (2, true)]), vec![Frame::AckUpTo(2)]);
        l.taken(5..=5);
        assert_eq!(l.settle(&[(5, true)]), vec![Frame::AckUpTo(5)]);
    }

    #[test]
    fn returns_come_before_the_frame_that_would_cover_them() {
        let mut l = Ledger::default();
        l.taken(1..=3);
        assert_eq!(
            l.settle(&[(1, true), (2, false), (3, true)]),
            vec![Frame::Return(2), Frame::AckUpTo(3)]
        );
        l.taken(4..=5);
        assert_eq!(
            l.settle(&[(4, false), (5, false)]),
            vec![Frame::Return(4), Frame::Return(5)]
        );
    }

    #[test]
    fn part_below_the_first_unsettled_is_covered_the_rest_one_by_one() {
        let mut l = Ledger::default();
        l.taken([1, 2, 5, 6]);
        l.taken([3, 4]);
        // 3 and 4 still unsettled: of {1, 2, 5, 6}, 1–2 in one frame, 5 and 6 alone.
        assert_eq!(
            l.settle(&[(1, true), (2, true), (5, true), (6, true)]),
            vec![Frame::AckUpTo(2), Frame::Ack(5), Frame::Ack(6)]
        );
        assert_eq!(l.settle(&[(3, true), (4, true)]), vec![Frame::AckUpTo(4)]);
    }
}
