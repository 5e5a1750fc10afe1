//! The event queue: a 4-ary min-heap ordered by (true time, sequence number).
//!
//! The sequence number is the order of insertion, so events scheduled for the same instant run
//! in the order they were scheduled — deterministic, and FIFO for same-time deliveries. Keys are
//! unique, so any correct priority queue pops the same order; this one is shaped for the
//! engine's load (one pop and about one push per event, entries of a few words): four children
//! per node halve the depth of a binary heap, and events are plain `Copy` data, so sifting
//! moves each entry once into the hole instead of swapping.
//!
//! Events known before the run starts (a nemesis's whole schedule: hundreds of partitions in a
//! ten-minute run) wait in a sorted timetable beside the heap, not in it, so the heap holds only
//! what is in flight and its depth does not grow with the run's length. They keep the sequence
//! numbers they were given, so the order of events is the same as if they had been pushed.

use crate::node::Nanos;

#[derive(Clone, Copy)]
struct Entry<E> {
    at: Nanos,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    #[inline]
    fn key(&self) -> (Nanos, u64) {
        (self.at, self.seq)
    }
}

/// Children per node.
const ARITY: usize = 4;

pub(crate) struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    /// Events scheduled in advance, latest first (the next one is popped off the end).
    timetable: Vec<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            timetable: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    #[inline]
    pub(crate) fn push(&mut self, at: Nanos, event: E) {
        let entry = Entry {
            at,
            seq: self.next_seq,
            event,
        };
        self.next_seq += 1;
        // Sift up: move each later parent down into the hole until the entry's place is found.
        let mut i = self.heap.len();
        self.heap.push(entry);
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.heap[parent].key() < entry.key() {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = entry;
    }

    /// Schedules events known in advance, in this order (which sets their tie order, as
    /// `push` would), into the timetable rather than the heap.
    pub(crate) fn push_timetable(&mut self, events: impl IntoIterator<Item = (Nanos, E)>) {
        for (at, event) in events {
            self.timetable.push(Entry {
                at,
                seq: self.next_seq,
                event,
            });
            self.next_seq += 1;
        }
        // Latest first; keys are unique, so the order is total.
        self.timetable
            .sort_unstable_by_key(|e| std::cmp::Reverse(e.key()));
    }

    /// The earliest event, if it is due strictly before `end`.
    #[inline]
    pub(crate) fn pop_before(&mut self, end: Nanos) -> Option<(Nanos, E)> {
        if let Some(next) = self.timetable.last()
            && self.heap.first().is_none_or(|h| next.key() < h.key())
        {
            if next.at >= end {
                return None;
            }
            let next = self
                .timetable
                .pop()
                .expect("the timetable has a last entry");
            return Some((next.at, next.event));
        }
        let first = *self.heap.first()?;
        if first.at >= end {
            return None;
        }
        let last = self.heap.pop().expect("the heap has a first entry");
        let n = self.heap.len();
        if n > 0 {
            // Sift the last entry down from the root: the earliest child moves up into the
            // hole until no child is earlier than it.
            let mut i = 0;
            loop {
                let child = i * ARITY + 1;
                if child >= n {
                    break;
                }
                let mut earliest = child;
                for c in child + 1..(child + ARITY).min(n) {
                    if self.heap[c].key() < self.heap[earliest].key() {
                        earliest = c;
                    }
                }
                if self.heap[earliest].key() > last.key() {
                    break;
                }
                self.heap[i] = self.heap[earliest];
                i = earliest;
            }
            self.heap[i] = last;
        }
        Some((first.at, first.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn pops_in_key_order_whatever_the_order_of_pushes() {
        // A deterministic shuffle of many times, with repeats, pushed and popped interleaved:
        // the queue must agree with a sort by (time, insertion).
        let mut q = EventQueue::default();
        let mut expected = Vec::new();
        let mut popped = Vec::new();
        let mut x: u64 = 12345;
        for i in 0..5_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (x >> 33) % 700;
            q.push(at, i);
            expected.push((at, i));
            if i % 3 == 0 {
                popped.extend(q.pop_before(u64::MAX));
            }
        }
        while let Some(e) = q.pop_before(u64::MAX) {
            popped.push(e);
        }
        assert_eq!(popped.len(), expected.len());
        // Between two pops, everything popped is the minimum of what was queued; checking the
        // final order against a model queue says the same more simply.
        let mut model = std::collections::BTreeSet::new();
        let mut check = Vec::new();
        let mut y: u64 = 12345;
        for i in 0..5_000u32 {
            y = y
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (y >> 33) % 700;
            model.insert((at, i));
            if i % 3 == 0 {
                check.extend(model.pop_first());
            }
        }
        check.extend(std::iter::from_fn(|| model.pop_first()));
        assert_eq!(popped, check);
    }

    #[test]
    fn the_timetable_interleaves_as_if_pushed() {
        // The same events, some pushed and some timetabled, pop in the same order as when all
        // are pushed: the timetable changes where events wait, never when they run.
        let plan = [(7, 'x'), (3, 'y'), (7, 'z'), (0, 'w')];
        let mut pushed = EventQueue::default();
        let mut tabled = EventQueue::default();
        pushed.push(3, 'a');
        tabled.push(3, 'a');
        for (at, e) in plan {
            pushed.push(at, e);
        }
        tabled.push_timetable(plan);
        for (at, e) in [(7, 'b'), (1, 'c'), (3, 'd')] {
            pushed.push(at, e);
            tabled.push(at, e);
        }
        let drain = |q: &mut EventQueue<char>| {
            let mut out = vec![];
            while let Some(e) = q.pop_before(u64::MAX) {
                out.push(e);
            }
            out
        };
        let order = drain(&mut pushed);
        assert_eq!(drain(&mut tabled), order);
        let letters: String = order.iter().map(|&(_, e)| e).collect();
        assert_eq!(letters, "wcaydxzb");
        // The timetable also respects the end of time.
        tabled.push_timetable([(10, 'e')]);
        assert!(tabled.pop_before(10).is_none());
        assert_eq!(tabled.pop_before(11), Some((10, 'e')));
    }

    #[test]
    fn stops_at_the_end_of_time() {
        let mut q = EventQueue::default();
        q.push(10, ());
        assert!(q.pop_before(10).is_none());
        assert_eq!(q.heap.len(), 1);
        assert!(q.pop_before(11).is_some());
    }
}
