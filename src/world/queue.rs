//! The event queue: events ordered by (true time, sequence number).
//!
//! The sequence number is the order of insertion, so events scheduled for the same instant run
//! in the order they were scheduled — deterministic, and FIFO for same-time deliveries.
//!
//! Events known before the run starts (node starts, the scenario's faults) are `schedule`d into
//! a sorted list instead of the heap: a long run carries hundreds of future faults, and in the
//! heap every push and pop would pay for them in depth. They draw their sequence numbers from
//! the same counter as `push`, and `pop_before` takes whichever source holds the smaller
//! (time, sequence), so the order is exactly the one a single heap would give.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::node::Nanos;

struct Entry<E> {
    at: Nanos,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn key(&self) -> (Nanos, u64) {
        (self.at, self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: `BinaryHeap` is a max-heap and we want the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// The key `next_scheduled` holds when nothing is scheduled: later than any real event, whose
/// sequence number never reaches `u64::MAX`.
const NOTHING: (Nanos, u64) = (Nanos::MAX, u64::MAX);

pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// Events scheduled ahead, latest first (once sorted), so the next one is at the end.
    scheduled: Vec<Entry<E>>,
    /// Whether `scheduled` took an entry since it was last sorted.
    unsorted: bool,
    /// The smallest key in `scheduled`, or [`NOTHING`]: one comparison tells a pop whether the
    /// heap's top comes first, as it nearly always does.
    next_scheduled: (Nanos, u64),
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            scheduled: Vec::new(),
            unsorted: false,
            next_scheduled: NOTHING,
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    fn next_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    #[inline]
    pub fn push(&mut self, at: Nanos, event: E) {
        let seq = self.next_seq();
        self.heap.push(Entry { at, seq, event });
    }

    /// Like `push`, for an event known before the run: it waits outside the heap. Meant for the
    /// bulk of events set up at construction; each call after a pop costs a sort.
    pub fn schedule(&mut self, at: Nanos, event: E) {
        let seq = self.next_seq();
        self.next_scheduled = self.next_scheduled.min((at, seq));
        self.scheduled.push(Entry { at, seq, event });
        self.unsorted = true;
    }

    /// The earliest event, if it is due strictly before `end`.
    #[inline]
    pub fn pop_before(&mut self, end: Nanos) -> Option<(Nanos, E)> {
        if let Some(top) = self.heap.peek()
            && top.key() < self.next_scheduled
        {
            if top.at >= end {
                return None;
            }
            return self.heap.pop().map(|e| (e.at, e.event));
        }
        self.pop_scheduled_before(end)
    }

    /// `pop_before` when the heap is empty or a scheduled event comes before its top.
    #[inline(never)]
    fn pop_scheduled_before(&mut self, end: Nanos) -> Option<(Nanos, E)> {
        if self.unsorted {
            // `Entry`'s order is reversed, so ascending order puts the earliest last.
            self.scheduled.sort_unstable();
            self.unsorted = false;
        }
        if self.scheduled.last()?.at >= end {
            return None;
        }
        let e = self.scheduled.pop()?;
        self.next_scheduled = self.scheduled.last().map_or(NOTHING, Entry::key);
        Some((e.at, e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::rng::{Rng, Stream};

    #[test]
    fn earliest_first_and_ties_in_insertion_order() {
        let mut q = EventQueue::default();
        q.push(5, "c");
        q.push(1, "a");
        q.push(5, "d");
        q.push(3, "b");
        let mut out = vec![];
        while let Some((_, e)) = q.pop_before(u64::MAX) {
            out.push(e);
        }
        assert_eq!(out, ["a", "b", "c", "d"]);
    }

    #[test]
    fn stops_at_the_end_of_time() {
        let mut q = EventQueue::default();
        q.push(10, ());
        assert!(q.pop_before(10).is_none());
        assert_eq!(q.heap.len(), 1);
        assert!(q.pop_before(11).is_some());
    }

    #[test]
    fn a_scheduled_event_waits_for_the_end_of_time_too() {
        let mut q = EventQueue::default();
        q.schedule(10, "fault");
        q.push(12, "timer");
        assert!(q.pop_before(10).is_none());
        assert_eq!(q.pop_before(11), Some((10, "fault")));
        assert!(q.pop_before(12).is_none());
        assert_eq!(q.pop_before(13), Some((12, "timer")));
        assert!(q.pop_before(u64::MAX).is_none());
    }

    /// The engine's pattern, at random: a batch of events known at the start (some scheduled,
    /// some pushed, at few distinct times so ties abound), then pushes and pops interleaved,
    /// with a late `schedule` now and then. The pop order must be a plain heap's, event for
    /// event — the trace hash depends on it.
    #[test]
    fn scheduled_and_pushed_events_pop_in_the_order_one_heap_gives() {
        for seed in 0..200 {
            let mut rng = Rng::derive(seed, Stream::Faults);
            let mut merged = EventQueue::default();
            let mut plain = EventQueue::default();
            let spread = 1 + rng.below(20);
            let mut now = 0;
            let mut next_event = 0u32;
            let mut add = |merged: &mut EventQueue<u32>,
                           plain: &mut EventQueue<u32>,
                           rng: &mut Rng,
                           now: Nanos,
                           ahead: bool| {
                let at = now + rng.below(spread);
                if ahead {
                    merged.schedule(at, next_event);
                } else {
                    merged.push(at, next_event);
                }
                plain.push(at, next_event);
                next_event += 1;
            };
            for _ in 0..rng.below(50) {
                let ahead = rng.chance(0.7);
                add(&mut merged, &mut plain, &mut rng, now, ahead);
            }
            for _ in 0..500 {
                match rng.below(10) {
                    0..=3 => {
                        let end = now + rng.below(spread);
                        let got = merged.pop_before(end);
                        assert_eq!(got, plain.pop_before(end), "seed {seed}");
                        if let Some((at, _)) = got {
                            now = at;
                        }
                    }
                    4 => add(&mut merged, &mut plain, &mut rng, now, true),
                    _ => add(&mut merged, &mut plain, &mut rng, now, false),
                }
            }
            loop {
                let got = merged.pop_before(u64::MAX);
                assert_eq!(got, plain.pop_before(u64::MAX), "seed {seed}");
                if got.is_none() {
                    break;
                }
            }
            assert!(plain.scheduled.is_empty());
        }
    }
}
