//! `state_machine_safety`: no two nodes apply different entries at the same log index (Raft
//! §5.4.3, the State Machine Safety Property).
//!
//! The protocol reports each entry it applies as `Applied { index, term, digest }`. Two entries
//! are the same when their term and digest agree; the digest chains the command over the log
//! before it, so equal digests also mean the same commands were applied before. The checker
//! keeps the first application of each index and compares every later one — by any node, in any
//! life of a node (a restarted node applies its log again) — against it. No-ops of different
//! terms differ, so the property has teeth even without clients.

use std::collections::BTreeMap;

use crate::node::RunView;
use crate::node::{Nanos, Observation, ObservationKinds, format_instant};

use super::{Invariant, Property, Status, Violation};

#[derive(Clone, Copy, Debug)]
struct FirstApplied {
    term: u64,
    digest: u64,
    node: u32,
    at: Nanos,
}

/// How far past twice the number of indexes applied so far an index may lie and still get a
/// slot in the dense table. Honest logs are dense from 1; a protocol reporting a wild index
/// gets a sparse entry instead of gigabytes of empty slots.
const DENSE_SLACK: u64 = 1 << 16;

/// The `state_machine_safety` invariant: keeps the first entry applied at each index and
/// fails when any node applies a different one there.
#[derive(Default)]
pub(crate) struct StateMachineSafety {
    /// index → its first application, for indexes near those seen (nearly all of them).
    dense: Vec<Option<FirstApplied>>,
    /// How many slots of `dense` are filled.
    filled: u64,
    /// index → its first application, for the outliers `dense` does not reach.
    sparse: BTreeMap<u64, FirstApplied>,
    violation: Option<Violation>,
}

impl StateMachineSafety {
    /// The first application of `index`, which is `new` if there was none before.
    fn first(&mut self, index: u64, new: FirstApplied) -> FirstApplied {
        let len = self.dense.len() as u64;
        if index >= len && index > 2 * self.filled + DENSE_SLACK {
            return *self.sparse.entry(index).or_insert(new);
        }
        if index >= len {
            self.dense.resize(index as usize + 1, None);
        }
        let slot = &mut self.dense[index as usize];
        if let Some(first) = *slot {
            return first;
        }
        // Reported while `dense` did not reach it yet?
        if let Some(&first) = self.sparse.get(&index) {
            return first;
        }
        *slot = Some(new);
        self.filled += 1;
        new
    }
}

impl Invariant for StateMachineSafety {
    fn name(&self) -> String {
        "state_machine_safety".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::APPLIED
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        let Observation::Applied {
            index,
            term,
            digest,
        } = *obs
        else {
            return;
        };
        let first = self.first(
            index,
            FirstApplied {
                term,
                digest,
                node,
                at,
            },
        );
        if (first.term, first.digest) == (term, digest) || self.violation.is_some() {
            return;
        }
        let (a, b) = (cluster.name(first.node), cluster.name(node));
        self.violation = Some(Violation {
            at,
            nodes: vec![a.to_string(), b.to_string()],
            message: format!(
                "{b} applied an entry of term {term} at index {index}, where {a} had applied one \
                 of term {}",
                first.term
            ),
            evidence: vec![
                format!(
                    "{}  {a} applied index {index} term {} (digest {:016x})",
                    format_instant(first.at),
                    first.term,
                    first.digest
                ),
                format!(
                    "{}  {b} applied index {index} term {term} (digest {digest:016x})",
                    format_instant(at)
                ),
            ],
        });
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster;

    fn applied(index: u64, term: u64, digest: u64) -> Observation {
        Observation::Applied {
            index,
            term,
            digest,
        }
    }

    #[test]
    fn nodes_applying_the_same_entries_pass_even_when_a_restart_applies_them_again() {
        let c = cluster(3);
        let mut inv = StateMachineSafety::default();
        for node in 0..3 {
            inv.on_observation(1, node, &applied(1, 1, 0xa), &c);
            inv.on_observation(2, node, &applied(2, 3, 0xb), &c);
        }
        inv.on_observation(9, 1, &applied(1, 1, 0xa), &c); // after a restart
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn two_nodes_applying_different_entries_at_one_index_fail() {
        let c = cluster(5);
        let mut inv = StateMachineSafety::default();
        inv.on_observation(10, 0, &applied(2, 2, 0xa), &c);
        inv.on_observation(20, 4, &applied(2, 3, 0xb), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(v.nodes, ["A", "E"]);
        assert_eq!(
            v.message,
            "E applied an entry of term 3 at index 2, where A had applied one of term 2"
        );
        // Same term, another command: also a violation.
        let mut inv = StateMachineSafety::default();
        inv.on_observation(10, 0, &applied(2, 2, 0xa), &c);
        inv.on_observation(20, 1, &applied(2, 2, 0xc), &c);
        assert!(matches!(inv.status(), Status::Violated(_)));
    }

    /// A buggy protocol may report any index. Index 0 and wild ones are checked like the rest,
    /// without a table of billions of empty slots — and an outlier the table reaches later is
    /// still the first application of its index.
    #[test]
    fn wild_indexes_are_checked_without_a_giant_table() {
        let c = cluster(3);
        let far = 3 * DENSE_SLACK;
        for wild in [0, far, u64::MAX] {
            let mut inv = StateMachineSafety::default();
            inv.on_observation(1, 0, &applied(wild, 1, 0xa), &c);
            inv.on_observation(2, 1, &applied(wild, 1, 0xa), &c);
            assert!(inv.dense.len() as u64 <= DENSE_SLACK + 1, "index {wild}");
            assert_eq!(inv.status(), Status::Pass);
            // Fill the table until it reaches the outlier, then contradict the outlier.
            for index in 1..far {
                inv.on_observation(3, 0, &applied(index, 1, index), &c);
            }
            assert_eq!(inv.status(), Status::Pass);
            inv.on_observation(4, 2, &applied(wild, 2, 0xb), &c);
            let Status::Violated(v) = inv.status() else {
                panic!("expected a violation at index {wild}")
            };
            assert_eq!(
                v.message,
                format!(
                    "C applied an entry of term 2 at index {wild}, where A had applied one of \
                     term 1"
                )
            );
        }
    }
}
