//! `monotonic_commit`: within one life of a node — from its start to its crash — its commit
//! index never goes back (Raft §5.3, Figure 2), and so no entry at or below it is deleted or
//! overwritten (§5.4).
//!
//! Raft keeps commitIndex in volatile state (Figure 2): a restarted server starts again from 0
//! and learns it anew, so the rule holds per life, and a crash resets it. What the checker knows
//! of a node's commit index is a lower bound: the highest index it reported `Committed` (a
//! leader's commit index as it advances) or `Applied` (only committed entries are applied) in
//! this life. Two things then show that the commit index went back:
//! - a `Committed` at or below that bound: a leader reports only advances, so its commit index
//!   had fallen below an index it had already committed or applied;
//! - an `Appended` that cuts the log below that bound, or rewrites the entry at it with another
//!   (a different term or digest): an entry the node knew to be committed is gone.
//!
//! A follower's commit index shows only through what it applies; its fall between two
//! applications, with nothing applied or written in between, is invisible.

use crate::node::{Applied, FaultRecord, RunView};
use crate::node::{Nanos, Observation, ObservationKinds, format_instant};

use super::{Invariant, Property, Status, Violation};

/// The highest entry a node knows to be committed in this life, and how it showed.
#[derive(Clone, Copy, Debug)]
struct Known {
    index: u64,
    term: u64,
    digest: u64,
    at: Nanos,
    /// `committed` or `applied`.
    how: &'static str,
}

/// The `monotonic_commit` invariant.
#[derive(Default)]
pub(crate) struct MonotonicCommit {
    /// Per node, in its current life.
    known: Vec<Option<Known>>,
    violation: Option<Violation>,
}

impl MonotonicCommit {
    /// A checker for a cluster of `nodes` nodes.
    pub(crate) fn new(nodes: usize) -> Self {
        MonotonicCommit {
            known: vec![None; nodes],
            violation: None,
        }
    }

    fn known(&mut self, node: u32) -> &mut Option<Known> {
        let n = node as usize;
        if self.known.len() <= n {
            self.known.resize(n + 1, None);
        }
        &mut self.known[n]
    }

    fn fail(&mut self, at: Nanos, node: u32, before: Known, what: String, cluster: &dyn RunView) {
        if self.violation.is_some() {
            return;
        }
        let name = cluster.name(node);
        self.violation = Some(Violation {
            at,
            nodes: vec![name.to_string()],
            message: format!(
                "{name}'s commit index went back: it {what} after it had {} index {} in the \
                 same life",
                before.how, before.index
            ),
            evidence: vec![
                format!(
                    "{}  {name} {} index {} (term {})",
                    format_instant(before.at),
                    before.how,
                    before.index,
                    before.term
                ),
                format!("{}  {name} {what}", format_instant(at)),
            ],
        });
    }
}

impl Invariant for MonotonicCommit {
    fn name(&self) -> String {
        "monotonic_commit".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::COMMITTED
            .with(ObservationKinds::APPLIED)
            .with(ObservationKinds::APPENDED)
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        let (index, term, digest, how) = match *obs {
            Observation::Committed {
                index,
                term,
                digest,
            } => (index, term, digest, "committed"),
            Observation::Applied {
                index,
                term,
                digest,
            } => (index, term, digest, "applied"),
            Observation::Appended {
                index,
                term,
                digest,
            } => {
                let Some(before) = *self.known(node) else {
                    return;
                };
                let cut = index < before.index;
                let rewritten =
                    index == before.index && (term, digest) != (before.term, before.digest);
                if cut || rewritten {
                    let what = format!(
                        "wrote index {index} (term {term}), {}",
                        if cut {
                            "deleting every entry after it"
                        } else {
                            "replacing the entry there"
                        }
                    );
                    self.fail(at, node, before, what, cluster);
                }
                return;
            }
            _ => return,
        };
        let before = *self.known(node);
        if let Some(before) = before.filter(|b| index <= b.index) {
            if how == "committed" {
                self.fail(
                    at,
                    node,
                    before,
                    format!("committed index {index}"),
                    cluster,
                );
            }
            return;
        }
        *self.known(node) = Some(Known {
            index,
            term,
            digest,
            at,
            how,
        });
    }

    fn on_fault(&mut self, _: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        if let Applied::Crash { nodes } = &fault.applied {
            for &n in nodes {
                *self.known(n) = None;
            }
        }
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{appended, cluster, crash};

    fn committed(index: u64, term: u64) -> Observation {
        Observation::Committed {
            index,
            term,
            digest: index * 100 + term,
        }
    }

    fn applied(index: u64, term: u64) -> Observation {
        Observation::Applied {
            index,
            term,
            digest: index * 100 + term,
        }
    }

    #[test]
    fn a_commit_index_that_grows_in_each_life_passes() {
        let c = cluster(3);
        let mut inv = MonotonicCommit::new(3);
        // A leads: writes, commits and applies 1 and 2.
        inv.on_observation(1, 0, &appended(1, 1), &c);
        inv.on_observation(2, 0, &appended(2, 1), &c);
        inv.on_observation(3, 0, &committed(2, 1), &c);
        inv.on_observation(3, 0, &applied(1, 1), &c);
        inv.on_observation(3, 0, &applied(2, 1), &c);
        // An uncommitted suffix may be cut and rewritten.
        inv.on_observation(4, 0, &appended(3, 1), &c);
        inv.on_observation(5, 0, &appended(3, 2), &c);
        // The entry at the commit index, written again unchanged, is not a rewrite.
        inv.on_observation(6, 0, &appended(2, 1), &c);
        inv.on_observation(7, 0, &committed(3, 2), &c);
        // After a crash the commit index starts again from 0: Raft keeps it in volatile state.
        inv.on_fault(8, &crash(0, 0), &c);
        inv.on_observation(9, 0, &applied(1, 1), &c);
        inv.on_observation(10, 0, &committed(2, 3), &c);
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn a_leader_that_commits_below_its_commit_index_fails() {
        let c = cluster(3);
        let mut inv = MonotonicCommit::new(3);
        inv.on_observation(10, 1, &applied(1, 1), &c);
        inv.on_observation(11, 1, &applied(2, 1), &c);
        inv.on_observation(20, 1, &committed(2, 2), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("a commit index that fell passed")
        };
        assert_eq!((v.at, v.nodes), (20, vec!["B".to_string()]));
        assert_eq!(
            v.message,
            "B's commit index went back: it committed index 2 after it had applied index 2 in \
             the same life"
        );
    }

    /// Figure 8's harm on a follower: an entry it applied is replaced.
    #[test]
    fn a_node_that_overwrites_an_entry_it_applied_fails() {
        let c = cluster(3);
        let mut inv = MonotonicCommit::new(3);
        inv.on_observation(10, 2, &appended(1, 1), &c);
        inv.on_observation(11, 2, &appended(2, 2), &c);
        inv.on_observation(12, 2, &applied(1, 1), &c);
        inv.on_observation(13, 2, &applied(2, 2), &c);
        inv.on_observation(20, 2, &appended(2, 3), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("an overwritten committed entry passed")
        };
        assert_eq!(
            v.message,
            "C's commit index went back: it wrote index 2 (term 3), replacing the entry there \
             after it had applied index 2 in the same life"
        );
        let mut cut = MonotonicCommit::new(3);
        cut.on_observation(10, 2, &committed(3, 1), &c);
        cut.on_observation(20, 2, &appended(1, 4), &c);
        let Status::Violated(v) = cut.status() else {
            panic!("a cut below the commit index passed")
        };
        assert!(
            v.message.contains("deleting every entry after it"),
            "{}",
            v.message
        );
    }
}
