//! Logical clocks as small exact types: vector clocks (which of two events happened before the
//! other, or neither) and Lamport clocks (one number per event, consistent with causality).
//!
//! A vector clock has one counter per node. Its entries beyond the ones written are zero, so
//! clocks of different lengths compare as the same vector padded with zeros: `[1]` equals
//! `[1,0,0]`. That lets a replica start from the empty clock without knowing the cluster's size.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

use crate::node::NodeId;

/// How two vector clocks, and so the events they stamp, are ordered.
///
/// ```
/// use sim::protocols::replica::{Causality, VectorClock};
/// let a = VectorClock::from_counts(&[2, 0, 0]);
/// let c = VectorClock::from_counts(&[1, 0, 1]);
/// assert_eq!(a.compare(&c), Causality::Concurrent);
/// assert_eq!(Causality::Before.to_string(), "before");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Causality {
    /// Every entry ≤ the other's, one strictly: this one happened before.
    Before,
    /// Every entry ≥ the other's, one strictly: this one happened after.
    After,
    /// The same vector: the same event (or the same state).
    Equal,
    /// Some entry greater and some smaller: neither saw the other.
    Concurrent,
}

impl Causality {
    /// The relation seen from the other side: `a.compare(b).reverse() == b.compare(a)`.
    ///
    /// ```
    /// use sim::protocols::replica::Causality;
    /// assert_eq!(Causality::Before.reverse(), Causality::After);
    /// assert_eq!(Causality::Concurrent.reverse(), Causality::Concurrent);
    /// ```
    pub fn reverse(self) -> Causality {
        match self {
            Causality::Before => Causality::After,
            Causality::After => Causality::Before,
            same => same,
        }
    }

    /// The partial order as `Option<Ordering>`: `None` for concurrent.
    ///
    /// ```
    /// use std::cmp::Ordering;
    /// use sim::protocols::replica::Causality;
    /// assert_eq!(Causality::Before.ordering(), Some(Ordering::Less));
    /// assert_eq!(Causality::Concurrent.ordering(), None);
    /// ```
    pub fn ordering(self) -> Option<Ordering> {
        match self {
            Causality::Before => Some(Ordering::Less),
            Causality::After => Some(Ordering::Greater),
            Causality::Equal => Some(Ordering::Equal),
            Causality::Concurrent => None,
        }
    }
}

impl fmt::Display for Causality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Causality::Before => "before",
            Causality::After => "after",
            Causality::Equal => "equal",
            Causality::Concurrent => "concurrent",
        })
    }
}

/// A vector clock: how many events of each node this state has seen, by node index.
///
/// `Display` gives the plain vector (`[2,0,1]`); [`VectorClock::named`] the sparse form with
/// node names (`[A:2, C:1]`). In a trace it is the plain vector, without trailing zeros.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::replica::{Causality, VectorClock};
/// let names = ["A", "B", "C"];
/// let mut a = VectorClock::new();
/// a.increment(NodeId(0)); // A writes 1: [1,0,0]
/// let mut c = a.clone();
/// c.increment(NodeId(2)); // C, having seen it, writes 5: [1,0,1]
/// a.increment(NodeId(0)); // A, not having seen C's, writes 2: [2,0,0]
/// assert_eq!(a.compare(&c), Causality::Concurrent);
/// assert_eq!(c.named(&names), "[A:1, C:1]");
/// assert_eq!(a.merged(&c).padded(3), "[2,0,1]");
/// ```
#[derive(Clone, Debug, Default, Serialize)]
#[serde(transparent)]
pub struct VectorClock(Vec<u64>);

impl VectorClock {
    /// The clock that has seen nothing: every entry zero.
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// assert_eq!(VectorClock::new(), VectorClock::from_counts(&[0, 0, 0]));
    /// ```
    pub fn new() -> VectorClock {
        VectorClock(Vec::new())
    }

    /// The clock with these counts, by node index.
    ///
    /// ```
    /// use sim::node::NodeId;
    /// use sim::protocols::replica::VectorClock;
    /// assert_eq!(VectorClock::from_counts(&[1, 0, 2]).get(NodeId(2)), 2);
    /// ```
    pub fn from_counts(counts: &[u64]) -> VectorClock {
        let mut clock = VectorClock(counts.to_vec());
        clock.trim();
        clock
    }

    /// `node`'s entry (zero when never incremented).
    ///
    /// ```
    /// use sim::node::NodeId;
    /// use sim::protocols::replica::VectorClock;
    /// assert_eq!(VectorClock::new().get(NodeId(7)), 0);
    /// ```
    pub fn get(&self, node: NodeId) -> u64 {
        self.0.get(node.index()).copied().unwrap_or(0)
    }

    /// Counts one more event of `node`: what a replica does when it writes.
    ///
    /// ```
    /// use sim::node::NodeId;
    /// use sim::protocols::replica::VectorClock;
    /// let mut clock = VectorClock::new();
    /// clock.increment(NodeId(1));
    /// clock.increment(NodeId(1));
    /// assert_eq!(clock.to_string(), "[0,2]");
    /// ```
    pub fn increment(&mut self, node: NodeId) {
        let i = node.index();
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] = self.0[i]
            .checked_add(1)
            .expect("a vector clock entry overflowed u64");
    }

    /// Takes the entrywise maximum with `other`: the clock of a state that has seen both.
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// let mut a = VectorClock::from_counts(&[2, 0, 0]);
    /// a.merge(&VectorClock::from_counts(&[1, 0, 1]));
    /// assert_eq!(a, VectorClock::from_counts(&[2, 0, 1]));
    /// ```
    pub fn merge(&mut self, other: &VectorClock) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// The merge of `self` and `other`, leaving both as they are.
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// let a = VectorClock::from_counts(&[0, 3]);
    /// assert_eq!(a.merged(&VectorClock::from_counts(&[1])).to_string(), "[1,3]");
    /// ```
    pub fn merged(&self, other: &VectorClock) -> VectorClock {
        let mut out = self.clone();
        out.merge(other);
        out
    }

    /// How this clock is ordered with respect to `other`.
    ///
    /// ```
    /// use sim::protocols::replica::{Causality, VectorClock};
    /// let old = VectorClock::from_counts(&[1, 0, 0]);
    /// let new = VectorClock::from_counts(&[1, 0, 1]);
    /// assert_eq!(old.compare(&new), Causality::Before);
    /// assert_eq!(new.compare(&old), Causality::After);
    /// assert_eq!(old.compare(&VectorClock::from_counts(&[1])), Causality::Equal);
    /// ```
    pub fn compare(&self, other: &VectorClock) -> Causality {
        let (mut less, mut greater) = (false, false);
        for i in 0..self.0.len().max(other.0.len()) {
            let a = self.0.get(i).copied().unwrap_or(0);
            let b = other.0.get(i).copied().unwrap_or(0);
            less |= a < b;
            greater |= a > b;
        }
        match (less, greater) {
            (false, false) => Causality::Equal,
            (true, false) => Causality::Before,
            (false, true) => Causality::After,
            (true, true) => Causality::Concurrent,
        }
    }

    /// Whether every event `other` has seen, this one has too (after or equal).
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// let a = VectorClock::from_counts(&[2, 1]);
    /// assert!(a.dominates(&VectorClock::from_counts(&[1, 1])));
    /// assert!(a.dominates(&a));
    /// assert!(!a.dominates(&VectorClock::from_counts(&[0, 2])));
    /// ```
    pub fn dominates(&self, other: &VectorClock) -> bool {
        matches!(self.compare(other), Causality::After | Causality::Equal)
    }

    /// The sparse form with node names, zero entries left out: `[A:2, C:1]` (`[]` for the
    /// empty clock). A node index without a name is shown as `#i`.
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// let clock = VectorClock::from_counts(&[2, 0, 1, 4]);
    /// assert_eq!(clock.named(&["A", "B", "C"]), "[A:2, C:1, #3:4]");
    /// assert_eq!(VectorClock::new().named(&["A"]), "[]");
    /// ```
    pub fn named<S: AsRef<str>>(&self, names: &[S]) -> String {
        let entries: Vec<String> = self
            .0
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| match names.get(i) {
                Some(name) => format!("{}:{n}", name.as_ref()),
                None => format!("#{i}:{n}"),
            })
            .collect();
        format!("[{}]", entries.join(", "))
    }

    /// The plain vector over `nodes` entries: `[2,0,1]`, zeros included (longer when the clock
    /// has entries beyond `nodes`).
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// assert_eq!(VectorClock::from_counts(&[1]).padded(3), "[1,0,0]");
    /// assert_eq!(VectorClock::new().padded(3), "[0,0,0]");
    /// ```
    pub fn padded(&self, nodes: usize) -> String {
        let entries: Vec<String> = (0..nodes.max(self.0.len()))
            .map(|i| self.0.get(i).copied().unwrap_or(0).to_string())
            .collect();
        format!("[{}]", entries.join(","))
    }

    /// The counts by node index, without trailing zeros.
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// assert_eq!(VectorClock::from_counts(&[1, 0, 0]).counts(), &[1]);
    /// ```
    pub fn counts(&self) -> &[u64] {
        &self.0
    }

    /// Drops trailing zeros, so equal vectors have one representation.
    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }
}

impl PartialEq for VectorClock {
    fn eq(&self, other: &VectorClock) -> bool {
        self.compare(other) == Causality::Equal
    }
}

impl Eq for VectorClock {}

impl std::hash::Hash for VectorClock {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut end = self.0.len();
        while end > 0 && self.0[end - 1] == 0 {
            end -= 1;
        }
        self.0[..end].hash(state);
    }
}

impl PartialOrd for VectorClock {
    /// The causal partial order: `None` for concurrent clocks.
    fn partial_cmp(&self, other: &VectorClock) -> Option<Ordering> {
        self.compare(other).ordering()
    }
}

impl fmt::Display for VectorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.0.iter().map(u64::to_string).collect();
        write!(f, "[{}]", entries.join(","))
    }
}

/// A Lamport clock: one counter per node, advanced by every event and pushed past every
/// timestamp received, so that a message is always stamped before its receipt.
///
/// ```
/// use sim::protocols::replica::LamportClock;
/// let (mut a, mut b) = (LamportClock::new(), LamportClock::new());
/// b.tick();
/// b.tick(); // b has done two things: 2
/// let request = a.tick(); // a sends at 1
/// let received = b.observe(request); // b receives: max(2, 1) + 1
/// assert_eq!((request, received), (1, 3));
/// let reply = b.tick();
/// assert!(a.observe(reply) > reply, "the reply's receipt is stamped after it was sent");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct LamportClock(u64);

impl LamportClock {
    /// A clock that has seen nothing (time 0).
    ///
    /// ```
    /// use sim::protocols::replica::LamportClock;
    /// assert_eq!(LamportClock::new().now(), 0);
    /// ```
    pub fn new() -> LamportClock {
        LamportClock(0)
    }

    /// The current time.
    ///
    /// ```
    /// use sim::protocols::replica::LamportClock;
    /// let mut clock = LamportClock::new();
    /// clock.tick();
    /// assert_eq!(clock.now(), 1);
    /// ```
    pub fn now(self) -> u64 {
        self.0
    }

    /// A local event or a send: advances the clock and returns the event's timestamp.
    ///
    /// ```
    /// use sim::protocols::replica::LamportClock;
    /// let mut clock = LamportClock::new();
    /// assert_eq!((clock.tick(), clock.tick()), (1, 2));
    /// ```
    pub fn tick(&mut self) -> u64 {
        self.0 = self
            .0
            .checked_add(1)
            .expect("a Lamport clock overflowed u64");
        self.0
    }

    /// A receipt of a message stamped `stamp`: the clock jumps past both its own time and the
    /// stamp, and returns the receipt's timestamp.
    ///
    /// ```
    /// use sim::protocols::replica::LamportClock;
    /// let mut clock = LamportClock::new();
    /// assert_eq!(clock.observe(41), 42, "past a stamp from ahead");
    /// assert_eq!(clock.observe(7), 43, "and past its own time for one from behind");
    /// ```
    pub fn observe(&mut self, stamp: u64) -> u64 {
        self.0 = self.0.max(stamp);
        self.tick()
    }
}

#[cfg(test)]
mod tests {
    //! Property tests over random clocks: merge is a join (commutative, associative,
    //! idempotent) and compare is the partial order it induces.

    use super::*;
    use crate::node::{Rng, Stream};

    /// A random clock over up to 4 nodes with small entries, so that equal and ordered pairs
    /// are common, not only concurrent ones.
    fn clock(rng: &mut Rng) -> VectorClock {
        let len = rng.below(5);
        let counts: Vec<u64> = (0..len).map(|_| rng.below(3)).collect();
        // Sometimes with trailing zeros, which must not matter.
        VectorClock(counts)
    }

    fn triples(cases: usize) -> impl Iterator<Item = (VectorClock, VectorClock, VectorClock)> {
        let mut rng = Rng::derive(12, Stream::Faults);
        (0..cases).map(move |_| (clock(&mut rng), clock(&mut rng), clock(&mut rng)))
    }

    #[test]
    fn merge_is_commutative_associative_and_idempotent() {
        for (a, b, c) in triples(5_000) {
            assert_eq!(a.merged(&b), b.merged(&a), "{a} ⊔ {b}");
            assert_eq!(
                a.merged(&b).merged(&c),
                a.merged(&b.merged(&c)),
                "({a} ⊔ {b}) ⊔ {c}"
            );
            assert_eq!(a.merged(&a), a, "{a} ⊔ {a}");
        }
    }

    #[test]
    fn compare_is_a_partial_order() {
        let mut seen = [0usize; 4];
        for (a, b, c) in triples(5_000) {
            // Reflexive, antisymmetric, and each pair is seen the same way from both sides.
            assert_eq!(a.compare(&a), Causality::Equal);
            assert_eq!(a.compare(&b).reverse(), b.compare(&a), "{a} vs {b}");
            if a.dominates(&b) && b.dominates(&a) {
                assert_eq!(a, b);
            }
            // Transitive.
            if b.dominates(&a) && c.dominates(&b) {
                assert!(c.dominates(&a), "{a} ≤ {b} ≤ {c}");
            }
            seen[match a.compare(&b) {
                Causality::Before => 0,
                Causality::After => 1,
                Causality::Equal => 2,
                Causality::Concurrent => 3,
            }] += 1;
        }
        assert!(
            seen.iter().all(|&n| n > 100),
            "every relation drawn: {seen:?}"
        );
    }

    #[test]
    fn compare_agrees_with_merge() {
        for (a, b, _) in triples(5_000) {
            // a ≤ b exactly when merging a into b changes nothing.
            assert_eq!(b.dominates(&a), a.merged(&b) == b, "{a} vs {b}");
            // The merge is an upper bound of both, and the least one: it is below any clock
            // that is above both.
            let m = a.merged(&b);
            assert!(m.dominates(&a) && m.dominates(&b));
            let above = b.merged(&a).merged(&VectorClock::from_counts(&[1]));
            assert!(above.dominates(&m));
        }
    }

    #[test]
    fn incrementing_moves_a_clock_strictly_after() {
        for (mut a, _, _) in triples(1_000) {
            let before = a.clone();
            a.increment(NodeId(2));
            assert_eq!(before.compare(&a), Causality::Before);
        }
    }

    #[test]
    fn trailing_zeros_change_neither_equality_nor_hash() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let h = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
        let (short, long) = (VectorClock(vec![1]), VectorClock(vec![1, 0, 0]));
        assert_eq!(short, long);
        assert_eq!(h.hash_one(&short), h.hash_one(&long));
    }

    #[test]
    fn lamport_receipts_are_stamped_after_their_sends() {
        let mut rng = Rng::derive(3, Stream::Faults);
        let mut clocks = [LamportClock::new(); 3];
        for _ in 0..2_000 {
            let (from, to) = (rng.below(3) as usize, rng.below(3) as usize);
            let sent = clocks[from].tick();
            for _ in 0..rng.below(3) {
                clocks[to].tick();
            }
            assert!(clocks[to].observe(sent) > sent);
        }
    }
}
