//! The event queue: a binary heap ordered by (true time, sequence number).
//!
//! The sequence number is the order of insertion, so events scheduled for the same instant run
//! in the order they were scheduled — deterministic, and FIFO for same-time deliveries.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::node::Nanos;

struct Entry<E> {
    at: Nanos,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
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
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

pub(crate) struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    #[inline]
    pub(crate) fn push(&mut self, at: Nanos, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { at, seq, event });
    }

    /// The earliest event, if it is due strictly before `end`.
    #[inline]
    pub(crate) fn pop_before(&mut self, end: Nanos) -> Option<(Nanos, E)> {
        if self.heap.peek()?.at >= end {
            return None;
        }
        self.heap.pop().map(|e| (e.at, e.event))
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
    fn stops_at_the_end_of_time() {
        let mut q = EventQueue::default();
        q.push(10, ());
        assert!(q.pop_before(10).is_none());
        assert_eq!(q.heap.len(), 1);
        assert!(q.pop_before(11).is_some());
    }
}
