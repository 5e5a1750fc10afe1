//! The replica's rules, as pure functions over what it holds of one key: how a client's put
//! makes a new version, and what an incoming update does — before, after, equal or concurrent.
//!
//! The basic rule and last-write-wins hold one version per key. The basic rule's vector has
//! one entry per replica, as the textbook draws it: a put increments the entry of the replica
//! that took it.
//!
//! `siblings` holds every version no other one supersedes, and a version supersedes exactly
//! those its clock dominates. For that to mean "its writer had seen them", the entries must be
//! exact, and a per-replica entry is not: a replica that takes two blind puts from two clients
//! gives the second a larger entry than the first, so that it seems to have seen the first when
//! its client never read it (the gap dotted version vectors close). So under `siblings` the
//! vector has one entry per **client**: a client's puts are ordered (one at a time), its k-th
//! request's version carries entry k, and its clock is the merge of what the client read (the
//! put's context), of its own earlier versions the replica holds, and that entry. A blind put
//! then supersedes its own client's earlier writes, and nothing it did not see.

use std::sync::Arc;

use serde::Serialize;

use crate::node::NodeId;

use super::config::Resolve;
use crate::protocols::replica::{Causality, VectorClock, Version};

/// Which write made a version: its own entry of the vector, and that entry's count.
///
/// ```
/// use sim::protocols::replica::vector_clock::Dot;
/// // C's first write under the basic rule: entry 2 (C), count 1.
/// let dot = Dot { node: 2, counter: 1 };
/// assert_eq!(serde_json::to_string(&dot).unwrap(), r#"{"node":2,"counter":1}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Dot {
    /// The entry: the replica that took the put (node index); under `siblings`, the client.
    pub node: u32,
    /// The count: the version's value of that entry (last-write-wins: the replica's count of
    /// the puts it took).
    pub counter: u64,
}

/// A version as a replica keeps and sends it.
///
/// ```
/// use sim::protocols::replica::vector_clock::Stored;
/// // What every replica holds at the start with `initial = { x = "0" }`: 0 with [0,0,0].
/// let zero = Stored::initial("0");
/// assert_eq!(zero.version().to_string(), "0 []");
/// assert_eq!(zero.clock.padded(3), "[0,0,0]");
/// assert_eq!(zero.dot, None, "no write made it: every write supersedes it");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// The value.
    pub value: Arc<str>,
    /// Its vector clock (empty under last-write-wins).
    pub clock: VectorClock,
    /// The write that made it; `None` for the value every replica starts with.
    pub dot: Option<Dot>,
    /// The writer's wall-clock reading when it took the put (last-write-wins orders by it).
    pub wall: i64,
    /// The client that wrote it (`None` for the initial value).
    pub writer: Option<u32>,
}

impl Stored {
    /// The value every replica starts with: the empty clock, older than any write.
    ///
    /// ```
    /// use sim::protocols::replica::vector_clock::Stored;
    /// assert_eq!(&*Stored::initial("0").value, "0");
    /// ```
    pub fn initial(value: &str) -> Stored {
        Stored {
            value: value.into(),
            clock: VectorClock::new(),
            dot: None,
            wall: i64::MIN,
            writer: None,
        }
    }

    /// As a client reads it.
    ///
    /// ```
    /// use sim::protocols::replica::VectorClock;
    /// use sim::protocols::replica::vector_clock::Stored;
    /// let five = Stored { clock: VectorClock::from_counts(&[1, 0, 1]), ..Stored::initial("5") };
    /// assert_eq!(five.version().to_string(), "5 [1,0,1]");
    /// ```
    pub fn version(&self) -> Version {
        Version {
            value: self.value.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Last-write-wins order: wall clock, then replica, then that replica's count.
    fn lww_key(&self) -> (i64, u32, u64) {
        self.dot
            .map_or((i64::MIN, 0, 0), |d| (self.wall, d.node, d.counter))
    }
}

/// What an incoming update did at a replica (the answer it sends the writer).
///
/// ```
/// use sim::protocols::replica::{VectorClock, Version};
/// use sim::protocols::replica::vector_clock::Outcome;
/// // B's answer to A's 2 [2,0,0] in the textbook example: concurrent, it kept 5 [1,0,1].
/// let kept = Version { value: "5".into(), clock: VectorClock::from_counts(&[1, 0, 1]) };
/// let refused = Outcome::Concurrent { kept: vec![kept] };
/// assert_eq!(
///     serde_json::to_string(&refused).unwrap(),
///     r#"{"concurrent":{"kept":[{"value":"5","clock":[1,0,1]}]}}"#
/// );
/// assert_eq!(serde_json::to_string(&Outcome::Older).unwrap(), r#""older""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It came before what the replica holds: discarded.
    Older,
    /// The replica already held it.
    Same,
    /// It came after what the replica holds (or supersedes every sibling): taken.
    Newer,
    /// Concurrent with what the replica holds, which it kept (the basic rule).
    Concurrent {
        /// What it kept.
        kept: Vec<Version>,
    },
    /// Concurrent with some of what the replica holds: kept beside them as a sibling.
    Siblings,
}

/// The `n`-entry clock with only `node`'s entry, `counter`.
fn dot_clock(node: u32, counter: u64) -> VectorClock {
    let mut counts = vec![0; node as usize + 1];
    counts[node as usize] = counter;
    VectorClock::from_counts(&counts)
}

/// A client's put at replica `at`.
pub(crate) struct Put<'a> {
    /// The value.
    pub(crate) value: &'a Arc<str>,
    /// The put's context: the clocks of what its client had read.
    pub(crate) context: &'a VectorClock,
    /// The client.
    pub(crate) client: u32,
    /// The replica's wall clock now.
    pub(crate) wall: i64,
    /// The replica's count of the puts it has taken (orders last-write-wins ties).
    pub(crate) seq: u64,
    /// The client's number for the request (its entry under `siblings`).
    pub(crate) request: u64,
}

/// A put at replica `at` holding `held`: the new version, and what the replica holds after it
/// (`None` if unchanged: the put is older than what it holds — by wall clock under
/// last-write-wins, or a late request its client's later write has seen under siblings).
pub(crate) fn put(
    resolve: Resolve,
    at: u32,
    held: &[Stored],
    p: &Put<'_>,
) -> (Stored, Option<Vec<Stored>>) {
    let (clock, dot) = match resolve {
        // The textbook rule: the replica's own clock, merged with what the client read, then
        // the replica's own entry incremented.
        Resolve::Conflict => {
            let context = held
                .iter()
                .fold(p.context.clone(), |c, s| c.merged(&s.clock));
            let counter = context.get(NodeId(at)) + 1;
            let clock = context.merged(&dot_clock(at, counter));
            (clock, Dot { node: at, counter })
        }
        // What the client read, its own earlier writes (and the initial value), and its entry.
        // Earlier by the client's numbering, not by arrival: a request delayed in the network
        // may arrive after the client's next one, whose version it must not claim to have seen.
        Resolve::Siblings => {
            let earlier = |s: &&Stored| match s.dot {
                None => true,
                Some(d) => s.writer == Some(p.client) && d.counter < p.request,
            };
            let context = held
                .iter()
                .filter(earlier)
                .fold(p.context.clone(), |c, s| c.merged(&s.clock));
            let clock = context.merged(&dot_clock(p.client, p.request));
            (
                clock,
                Dot {
                    node: p.client,
                    counter: p.request,
                },
            )
        }
        Resolve::Lww => (
            VectorClock::new(),
            Dot {
                node: at,
                counter: p.seq,
            },
        ),
    };
    let new = Stored {
        value: p.value.clone(),
        clock,
        dot: Some(dot),
        wall: p.wall,
        writer: Some(p.client),
    };
    let after = match resolve {
        Resolve::Conflict => Some(vec![new.clone()]),
        Resolve::Lww => match held.first() {
            Some(old) if old.lww_key() >= new.lww_key() => None,
            _ => Some(vec![new.clone()]),
        },
        // Its client's later write, already here, has seen it: nothing changes.
        Resolve::Siblings if held.iter().any(|s| s.clock.dominates(&new.clock)) => None,
        Resolve::Siblings => Some(
            held.iter()
                .filter(|s| !new.clock.dominates(&s.clock))
                .cloned()
                .chain([new.clone()])
                .collect(),
        ),
    };
    (new, after)
}

/// An update `incoming` arriving at a replica holding `held`: what it did, and what the
/// replica holds after it (`None` if unchanged).
pub(crate) fn receive(
    resolve: Resolve,
    held: &[Stored],
    incoming: &Stored,
) -> (Outcome, Option<Vec<Stored>>) {
    match resolve {
        Resolve::Conflict => {
            let Some(own) = held.first() else {
                return (Outcome::Newer, Some(vec![incoming.clone()]));
            };
            match incoming.clock.compare(&own.clock) {
                Causality::Before => (Outcome::Older, None),
                Causality::Equal => (Outcome::Same, None),
                Causality::After => (Outcome::Newer, Some(vec![incoming.clone()])),
                Causality::Concurrent => (
                    Outcome::Concurrent {
                        kept: vec![own.version()],
                    },
                    None,
                ),
            }
        }
        Resolve::Lww => match held.first() {
            Some(own) if own.lww_key() == incoming.lww_key() => (Outcome::Same, None),
            Some(own) if own.lww_key() > incoming.lww_key() => (Outcome::Older, None),
            _ => (Outcome::Newer, Some(vec![incoming.clone()])),
        },
        Resolve::Siblings => {
            if held.iter().any(|s| s.dot == incoming.dot) {
                return (Outcome::Same, None);
            }
            if held.iter().any(|s| s.clock.dominates(&incoming.clock)) {
                return (Outcome::Older, None);
            }
            let kept: Vec<Stored> = held
                .iter()
                .filter(|s| !incoming.clock.dominates(&s.clock))
                .cloned()
                .collect();
            let outcome = if kept.is_empty() {
                Outcome::Newer
            } else {
                Outcome::Siblings
            };
            (
                outcome,
                Some(kept.into_iter().chain([incoming.clone()]).collect()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_at(
        resolve: Resolve,
        at: u32,
        held: &[Stored],
        value: &str,
        client: u32,
    ) -> (Stored, Option<Vec<Stored>>) {
        put_ctx(
            resolve,
            at,
            held,
            value,
            (client, 1),
            &VectorClock::new(),
            0,
        )
    }

    fn put_ctx(
        resolve: Resolve,
        at: u32,
        held: &[Stored],
        value: &str,
        (client, request): (u32, u64),
        context: &VectorClock,
        wall: i64,
    ) -> (Stored, Option<Vec<Stored>>) {
        let value: Arc<str> = value.into();
        put(
            resolve,
            at,
            held,
            &Put {
                value: &value,
                context,
                client,
                wall,
                seq: 1,
                request,
            },
        )
    }

    fn shown(held: &[Stored]) -> Vec<String> {
        held.iter()
            .map(|s| format!("{} {}", s.value, s.clock.padded(3)))
            .collect()
    }

    /// The issue's example, rule by rule: A writes 1, C (having 1) writes 5, A (not having 5)
    /// writes 2; the basic rule at C finds 2 concurrent and keeps 5.
    #[test]
    fn the_textbook_rule_increments_the_writers_entry_and_refuses_a_concurrent_update() {
        let zero = vec![Stored::initial("0")];
        let (one, a) = put_at(Resolve::Conflict, 0, &zero, "1", 0);
        assert_eq!(shown(&a.unwrap()), ["1 [1,0,0]"]);
        let (outcome, c) = receive(Resolve::Conflict, &zero, &one);
        assert_eq!(outcome, Outcome::Newer, "after the initial value: taken");
        let c = c.unwrap();
        let (five, c) = put_at(Resolve::Conflict, 2, &c, "5", 2);
        let c = c.unwrap();
        assert_eq!(shown(&c), ["5 [1,0,1]"]);
        let (two, a) = put_at(Resolve::Conflict, 0, std::slice::from_ref(&one), "2", 0);
        assert_eq!(shown(&a.unwrap()), ["2 [2,0,0]"]);
        // Concurrent: kept 5, reported.
        let (outcome, after) = receive(Resolve::Conflict, &c, &two);
        assert_eq!(
            outcome,
            Outcome::Concurrent {
                kept: vec![five.version()]
            }
        );
        assert_eq!(after, None);
        // Before: 1 arriving late at C, which holds 5 [1,0,1], is discarded.
        assert_eq!(receive(Resolve::Conflict, &c, &one), (Outcome::Older, None));
        // Equal: 5 again.
        assert_eq!(receive(Resolve::Conflict, &c, &five), (Outcome::Same, None));
        // After: 5 reaching B, which holds 1.
        let (outcome, b) = receive(Resolve::Conflict, &[one], &five);
        assert_eq!(outcome, Outcome::Newer);
        assert_eq!(shown(&b.unwrap()), ["5 [1,0,1]"]);
    }

    #[test]
    fn a_put_merges_its_context_into_the_replicas_clock() {
        let held = vec![Stored::initial("0")];
        let ctx = VectorClock::from_counts(&[0, 3, 1]);
        let (new, _) = put_ctx(Resolve::Conflict, 0, &held, "v", (0, 1), &ctx, 0);
        assert_eq!(new.clock.padded(3), "[1,3,1]");
    }

    #[test]
    fn siblings_keep_a_concurrent_version_and_a_put_that_read_both_merges_them() {
        let zero = vec![Stored::initial("0")];
        let (one, a) = put_at(Resolve::Siblings, 0, &zero, "1", 0);
        let a = a.unwrap();
        assert_eq!(
            shown(&a),
            ["1 [1,0,0]"],
            "the initial value is superseded by any write"
        );
        // C's client never read 1: its blind put does not supersede it.
        let (_, c) = receive(Resolve::Siblings, &zero, &one);
        let (five, c) = put_at(Resolve::Siblings, 2, &c.unwrap(), "5", 2);
        let c = c.unwrap();
        assert_eq!(shown(&c), ["1 [1,0,0]", "5 [0,0,1]"]);
        // A's client writes 2 (its request 2) after its own 1: that one it supersedes, 5 it
        // never saw.
        let (two, a) = put_ctx(
            Resolve::Siblings,
            0,
            &a,
            "2",
            (0, 2),
            &VectorClock::new(),
            0,
        );
        assert_eq!(shown(&a.unwrap()), ["2 [2,0,0]"]);
        let (outcome, c) = receive(Resolve::Siblings, &c, &two);
        assert_eq!(outcome, Outcome::Siblings);
        let c = c.unwrap();
        assert_eq!(shown(&c), ["5 [0,0,1]", "2 [2,0,0]"]);
        // A stale copy of 1 arriving now is older than 2, which had seen it.
        assert_eq!(receive(Resolve::Siblings, &c, &one), (Outcome::Older, None));
        assert_eq!(receive(Resolve::Siblings, &c, &five), (Outcome::Same, None));
        // C's client, having read both siblings, writes 7 (its request 3): it supersedes both.
        let read = c.iter().fold(VectorClock::new(), |m, s| m.merged(&s.clock));
        assert_eq!(read.padded(3), "[2,0,1]");
        let (merged, c2) = put_ctx(Resolve::Siblings, 2, &c, "7", (2, 3), &read, 0);
        assert_eq!(shown(&c2.unwrap()), ["7 [2,0,3]"]);
        // Elsewhere it supersedes both as well.
        let (outcome, b) = receive(Resolve::Siblings, &c, &merged);
        assert_eq!(outcome, Outcome::Newer);
        assert_eq!(shown(&b.unwrap()), ["7 [2,0,3]"]);
    }

    /// The gap a per-replica entry leaves: two blind puts at one replica. With one entry per
    /// client the second does not seem to have seen the first.
    #[test]
    fn two_blind_puts_from_two_clients_at_one_replica_stay_siblings() {
        let zero = vec![Stored::initial("0")];
        let (_, a) = put_at(Resolve::Siblings, 0, &zero, "p", 3);
        let (_, a) = put_at(Resolve::Siblings, 0, &a.unwrap(), "q", 0);
        let a = a.unwrap();
        assert_eq!(shown(&a), ["p [0,0,0,1]", "q [1,0,0]"]);
        // Under the basic rule the second simply replaces the first.
        let (_, a) = put_at(Resolve::Conflict, 0, &zero, "p", 3);
        let (_, a) = put_at(Resolve::Conflict, 0, &a.unwrap(), "q", 0);
        assert_eq!(shown(&a.unwrap()), ["q [2,0,0]"]);
    }

    #[test]
    fn last_write_wins_by_wall_clock_then_node_and_drops_the_other_silently() {
        let zero = vec![Stored::initial("0")];
        let (early, _) = put_ctx(
            Resolve::Lww,
            2,
            &zero,
            "5",
            (2, 1),
            &VectorClock::new(),
            100,
        );
        let (late, _) = put_ctx(
            Resolve::Lww,
            0,
            &zero,
            "2",
            (0, 1),
            &VectorClock::new(),
            200,
        );
        assert_eq!(early.clock, VectorClock::new(), "no vector is kept");
        let (outcome, after) = receive(Resolve::Lww, std::slice::from_ref(&early), &late);
        assert_eq!(outcome, Outcome::Newer);
        assert_eq!(after.unwrap()[0].value.as_ref(), "2");
        assert_eq!(
            receive(Resolve::Lww, std::slice::from_ref(&late), &early),
            (Outcome::Older, None)
        );
        assert_eq!(
            receive(Resolve::Lww, std::slice::from_ref(&late), &late),
            (Outcome::Same, None)
        );
        // The same wall reading: the higher node index wins.
        let (tie_c, _) = put_ctx(
            Resolve::Lww,
            2,
            &zero,
            "c",
            (2, 1),
            &VectorClock::new(),
            200,
        );
        assert_eq!(
            receive(Resolve::Lww, std::slice::from_ref(&late), &tie_c).0,
            Outcome::Newer
        );
        assert_eq!(
            receive(Resolve::Lww, std::slice::from_ref(&tie_c), &late).0,
            Outcome::Older
        );
        // A writer whose clock is behind loses its own, later, write on the spot.
        let (_, at_writer) = put_ctx(
            Resolve::Lww,
            0,
            &[early],
            "9",
            (0, 2),
            &VectorClock::new(),
            50,
        );
        assert_eq!(at_writer, None);
    }

    /// A put delayed in the network arrives after its client's next one: it must not take the
    /// later version's clock as its own past, or the two would have equal clocks.
    #[test]
    fn a_late_request_does_not_claim_its_clients_later_write() {
        let zero = vec![Stored::initial("0")];
        let none = VectorClock::new();
        let (_, a) = put_ctx(Resolve::Siblings, 0, &zero, "c0-5", (0, 5), &none, 0);
        let (four, after) = put_ctx(Resolve::Siblings, 0, &a.unwrap(), "c0-4", (0, 4), &none, 0);
        assert_eq!(four.clock.padded(3), "[4,0,0]");
        assert_eq!(after, None, "4 arrives late: 5 has already seen it");
    }
}
