//! A replica's versions of each key, and the one rule that merges versions — used by a replica
//! taking a write, and by a coordinator merging the replies of a get.
//!
//! Last-write-wins keeps one version per key, the one with the greatest stamp; every other is
//! dropped without a word, which is how it loses writes. Vector clocks keep every version no
//! other version's clock covers: concurrent writes survive side by side as siblings.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::protocols::replica::{Causality, VectorClock, Version};

/// What orders a version.
///
/// ```
/// use sim::protocols::replica::Causality;
/// use sim::protocols::replica::quorum::Stamp;
/// // Last-write-wins by wall clock: the later reading wins, ties by node.
/// let a = Stamp::Wall { at: 1_500, node: 0 };
/// let b = Stamp::Wall { at: 1_200, node: 1 };
/// assert_eq!(a.compare(&b), Causality::After);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stamp {
    /// Last-write-wins by the coordinator's wall clock (nanoseconds), ties by its index.
    Wall {
        /// The coordinator's wall clock when it took the put.
        at: i64,
        /// The coordinator's index.
        node: u32,
    },
    /// Last-write-wins by a tag read from a quorum (ABD), ties by the coordinator's index.
    Tag {
        /// One more than the greatest tag the coordinator read.
        tag: i64,
        /// The coordinator's index.
        node: u32,
    },
    /// A vector clock: the put's context with the coordinator's entry increased.
    Clock(VectorClock),
}

impl Stamp {
    /// How `self` stands to `other`: last-write-wins stamps are totally ordered, clocks
    /// partially.
    ///
    /// ```
    /// use sim::protocols::replica::{Causality, VectorClock};
    /// use sim::protocols::replica::quorum::Stamp;
    /// let x = Stamp::Clock(VectorClock::from_counts(&[1, 0]));
    /// let y = Stamp::Clock(VectorClock::from_counts(&[0, 1]));
    /// assert_eq!(x.compare(&y), Causality::Concurrent, "vector clocks: siblings");
    /// let t = Stamp::Tag { tag: 3, node: 1 };
    /// assert_eq!(t.compare(&Stamp::Tag { tag: 3, node: 2 }), Causality::Before, "tags tie-break by node");
    /// ```
    pub fn compare(&self, other: &Stamp) -> Causality {
        let total = |a: (i64, u32), b: (i64, u32)| match a.cmp(&b) {
            std::cmp::Ordering::Less => Causality::Before,
            std::cmp::Ordering::Equal => Causality::Equal,
            std::cmp::Ordering::Greater => Causality::After,
        };
        match (self, other) {
            (Stamp::Clock(a), Stamp::Clock(b)) => a.compare(b),
            (Stamp::Wall { at: a, node: m }, Stamp::Wall { at: b, node: n })
            | (Stamp::Tag { tag: a, node: m }, Stamp::Tag { tag: b, node: n }) => {
                total((*a, *m), (*b, *n))
            }
            // One run uses one kind; the order between kinds only keeps this total.
            _ => total((self.rank(), 0), (other.rank(), 0)),
        }
    }

    fn rank(&self) -> i64 {
        match self {
            Stamp::Wall { .. } => 0,
            Stamp::Tag { .. } => 1,
            Stamp::Clock(_) => 2,
        }
    }

    /// The number a last-write-wins stamp orders by (0 for a clock).
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// use sim::protocols::replica::quorum::Stamp;
    /// assert_eq!(Stamp::Tag { tag: 7, node: 0 }.number(), 7);
    /// assert_eq!(Stamp::Clock(VectorClock::new()).number(), 0);
    /// ```
    pub fn number(&self) -> i64 {
        match self {
            Stamp::Wall { at, .. } => *at,
            Stamp::Tag { tag, .. } => *tag,
            Stamp::Clock(_) => 0,
        }
    }
}

/// A value with its stamp.
///
/// ```
/// use sim::protocols::replica::quorum::{Stamp, Stamped};
/// let v = Stamped { value: "c0-1".into(), stamp: Stamp::Tag { tag: 1, node: 0 } };
/// assert_eq!(serde_json::to_value(&v).unwrap()["stamp"]["tag"]["tag"], 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stamped {
    /// The value.
    pub value: Arc<str>,
    /// What orders it.
    pub stamp: Stamp,
}

impl Stamped {
    /// As the family's facts and the client see it: the clock, or none for last-write-wins.
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// use sim::protocols::replica::quorum::{Stamp, Stamped};
    /// // What the family's facts and a client see: the value, and its clock when it has one.
    /// let v = Stamped { value: "c0-1".into(), stamp: Stamp::Clock(VectorClock::from_counts(&[2])) };
    /// assert_eq!(v.version().clock, VectorClock::from_counts(&[2]));
    /// let lww = Stamped { value: "c0-2".into(), stamp: Stamp::Wall { at: 5, node: 0 } };
    /// assert!(lww.version().clock.counts().is_empty());
    /// ```
    pub fn version(&self) -> Version {
        Version {
            value: self.value.clone(),
            clock: match &self.stamp {
                Stamp::Clock(c) => c.clone(),
                _ => VectorClock::new(),
            },
        }
    }
}

impl fmt::Display for Stamped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stamp {
            Stamp::Wall { at, node } => write!(f, "{} @{at}ns/{node}", self.value),
            Stamp::Tag { tag, node } => write!(f, "{} tag {tag}.{node}", self.value),
            Stamp::Clock(c) => write!(f, "{} {c}", self.value),
        }
    }
}

/// Merges `incoming` into `held` by the rule: a version is dropped when a held one is equal
/// to or after it; otherwise it is kept and every held version before it is dropped. Siblings
/// are kept in value order, so that replicas holding the same versions hold them alike.
/// Returns whether `held` changed.
pub(crate) fn absorb(held: &mut Vec<Stamped>, incoming: &[Stamped]) -> bool {
    let mut changed = false;
    for v in incoming {
        if held.iter().any(|h| {
            matches!(
                h.stamp.compare(&v.stamp),
                Causality::After | Causality::Equal
            )
        }) {
            continue;
        }
        held.retain(|h| h.stamp.compare(&v.stamp) != Causality::Before);
        held.push(v.clone());
        changed = true;
    }
    if changed {
        held.sort_by(|a, b| a.value.cmp(&b.value));
    }
    changed
}

/// The newest of several replicas' versions: one for last-write-wins, the siblings no other
/// covers for vector clocks.
pub(crate) fn newest<'a>(replies: impl IntoIterator<Item = &'a [Stamped]>) -> Vec<Stamped> {
    let mut out = Vec::new();
    for r in replies {
        absorb(&mut out, r);
    }
    out
}

/// Whether `held` already has everything `newest` would bring (absorbing it changes nothing).
pub(crate) fn covers(held: &[Stamped], newest: &[Stamped]) -> bool {
    let mut copy = held.to_vec();
    !absorb(&mut copy, newest)
}

/// A replica's store: every key it holds, with its versions.
#[derive(Clone, Debug, Default)]
pub(crate) struct Store {
    keys: BTreeMap<Arc<str>, Vec<Stamped>>,
}

impl Store {
    /// The versions of `key` (none when absent).
    pub(crate) fn get(&self, key: &str) -> &[Stamped] {
        self.keys.get(key).map_or(&[], |v| &v[..])
    }

    /// Merges `incoming` into `key`; the versions now held if they changed.
    pub(crate) fn put(&mut self, key: &Arc<str>, incoming: &[Stamped]) -> Option<Vec<Stamped>> {
        let held = self.keys.entry(key.clone()).or_default();
        absorb(held, incoming).then(|| held.clone())
    }

    /// Replaces `key`'s versions (recovery from the log).
    pub(crate) fn set(&mut self, key: Arc<str>, versions: Vec<Stamped>) {
        self.keys.insert(key, versions);
    }

    /// Every key and its versions, in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &Vec<Stamped>)> {
        self.keys.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(v: &str, at: i64, node: u32) -> Stamped {
        Stamped {
            value: v.into(),
            stamp: Stamp::Wall { at, node },
        }
    }

    fn clock(v: &str, counts: &[u64]) -> Stamped {
        Stamped {
            value: v.into(),
            stamp: Stamp::Clock(VectorClock::from_counts(counts)),
        }
    }

    #[test]
    fn last_write_wins_keeps_the_greatest_stamp_and_drops_the_rest_silently() {
        let mut held = vec![wall("a", 100, 1)];
        assert!(!absorb(&mut held, &[wall("b", 90, 4)]), "older: dropped");
        assert_eq!(held, [wall("a", 100, 1)]);
        assert!(
            !absorb(&mut held, &[wall("a", 100, 1)]),
            "the same: nothing new"
        );
        // A tie on time goes to the greater node index.
        assert!(absorb(&mut held, &[wall("c", 100, 2)]));
        assert_eq!(held, [wall("c", 100, 2)]);
        assert_eq!(
            newest([&[wall("a", 5, 0)][..], &[wall("b", 7, 0)], &[]]),
            [wall("b", 7, 0)]
        );
    }

    #[test]
    fn vector_clocks_keep_concurrent_versions_as_siblings_and_a_covering_one_replaces_them() {
        let mut held = vec![clock("1", &[1, 0, 0])];
        assert!(
            absorb(&mut held, &[clock("5", &[1, 0, 1])]),
            "after: replaces"
        );
        assert_eq!(held, [clock("5", &[1, 0, 1])]);
        assert!(
            absorb(&mut held, &[clock("2", &[2, 0, 0])]),
            "concurrent: kept"
        );
        assert_eq!(held, [clock("2", &[2, 0, 0]), clock("5", &[1, 0, 1])]);
        assert!(
            !absorb(&mut held, &[clock("1", &[1, 0, 0])]),
            "covered: dropped"
        );
        // A put whose context covers both siblings supersedes them.
        assert!(absorb(&mut held, &[clock("7", &[2, 1, 1])]));
        assert_eq!(held, [clock("7", &[2, 1, 1])]);
        assert!(covers(&held, &[clock("5", &[1, 0, 1])]));
        assert!(!covers(&[clock("5", &[1, 0, 1])], &held));
    }
}
