//! `monotonic_term`: a node's term never goes back, across crashes and restarts (Raft §5.1,
//! Figure 2: currentTerm is persistent state and only grows).
//!
//! Every `Role { role, term }` a node reports is compared with the highest term it reported
//! before, in this life or an earlier one: a lower term is a violation. A restarted node reports
//! the term it read from its disk, so a term that was not made durable shows at once. For a
//! fail-over design the term is its epoch, under the same rule.
//!
//! One exception: a crash that lost unsynced disk writes (`[storage] lose_unsynced`) may take
//! back a term the node had not yet synced — and so had shown to nobody, since its sends wait
//! for the sync. The first term it reports after such a crash is where it starts again; a term
//! that goes back after that, or after a crash that lost nothing, is still a violation.

use crate::node::{Applied, FaultRecord, RunView};
use crate::node::{Nanos, Observation, ObservationKinds, Role, format_instant};

use super::{Invariant, Property, Status, Violation};

/// The highest term a node reported, and how.
#[derive(Clone, Copy, Debug)]
struct Reached {
    term: u64,
    role: Role,
    at: Nanos,
}

/// The `monotonic_term` invariant: remembers each node's highest term.
#[derive(Default)]
pub(crate) struct MonotonicTerm {
    /// Per node, the highest term it reported.
    reached: Vec<Option<Reached>>,
    /// Per node, when it last crashed.
    crashed: Vec<Option<Nanos>>,
    /// Per node: its last crash lost unsynced writes, and it has reported no term since.
    forgiven: Vec<bool>,
    violation: Option<Violation>,
}

impl MonotonicTerm {
    /// A checker for a cluster of `nodes` nodes.
    pub(crate) fn new(nodes: usize) -> Self {
        MonotonicTerm {
            reached: vec![None; nodes],
            crashed: vec![None; nodes],
            forgiven: vec![false; nodes],
            violation: None,
        }
    }
}

impl Invariant for MonotonicTerm {
    fn name(&self) -> String {
        "monotonic_term".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ROLE
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        let Observation::Role { role, term } = *obs else {
            return;
        };
        let n = node as usize;
        if self.reached.len() <= n {
            self.reached.resize(n + 1, None);
            self.crashed.resize(n + 1, None);
            self.forgiven.resize(n + 1, false);
        }
        if std::mem::take(&mut self.forgiven[n]) {
            // What its disk kept: the term it starts again from.
            self.reached[n] = Some(Reached { term, role, at });
            return;
        }
        let before = self.reached[n];
        if before.is_none_or(|b| term > b.term) {
            self.reached[n] = Some(Reached { term, role, at });
        }
        let Some(before) = before.filter(|b| term < b.term) else {
            return;
        };
        if self.violation.is_some() {
            return;
        }
        let name = cluster.name(node);
        let mut evidence = vec![format!(
            "{}  {name} was {} in term {}",
            format_instant(before.at),
            before.role.name(),
            before.term
        )];
        let mut message = format!("{name}'s term went back from {} to {term}", before.term);
        if let Some(crash) = self.crashed[n].filter(|&t| t >= before.at) {
            evidence.push(format!("{}  {name} crashed", format_instant(crash)));
            message += ": its term did not survive a crash";
        }
        evidence.push(format!(
            "{}  {name} is {} in term {term}",
            format_instant(at),
            role.name()
        ));
        self.violation = Some(Violation {
            at,
            nodes: vec![name.to_string()],
            message,
            evidence,
        });
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        let (Applied::Crash { nodes } | Applied::LostWrites { nodes, .. }) = &fault.applied else {
            return;
        };
        for &n in nodes {
            let n = n as usize;
            if self.crashed.len() <= n {
                self.reached.resize(n + 1, None);
                self.crashed.resize(n + 1, None);
                self.forgiven.resize(n + 1, false);
            }
            match fault.applied {
                Applied::Crash { .. } => self.crashed[n] = Some(at),
                _ => self.forgiven[n] = true,
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
    use crate::check::tests::{cluster, crash, role};

    #[test]
    fn terms_that_only_grow_pass_across_a_restart() {
        let c = cluster(3);
        let mut inv = MonotonicTerm::new(3);
        inv.on_observation(1, 0, &role(Role::Follower, 0), &c);
        inv.on_observation(2, 0, &role(Role::Candidate, 1), &c);
        inv.on_observation(3, 0, &role(Role::Leader, 1), &c);
        inv.on_observation(4, 0, &role(Role::Follower, 1), &c); // stepped down in its term
        inv.on_fault(5, &crash(5, 0), &c);
        inv.on_observation(6, 0, &role(Role::Follower, 1), &c); // restarted with its term
        inv.on_observation(7, 1, &role(Role::Follower, 0), &c); // another node, its own terms
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn a_term_that_goes_back_fails() {
        let c = cluster(3);
        let mut inv = MonotonicTerm::new(3);
        inv.on_observation(10, 1, &role(Role::Leader, 4), &c);
        inv.on_observation(20, 1, &role(Role::Follower, 3), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("a falling term passed")
        };
        assert_eq!((v.at, v.nodes), (20, vec!["B".to_string()]));
        assert_eq!(v.message, "B's term went back from 4 to 3");
        assert_eq!(v.evidence.len(), 2);
    }

    /// currentTerm not made durable: the restarted node is back in an earlier term.
    #[test]
    fn a_term_lost_in_a_crash_fails_and_the_evidence_names_the_crash() {
        let c = cluster(3);
        let mut inv = MonotonicTerm::new(3);
        inv.on_observation(10, 2, &role(Role::Candidate, 5), &c);
        inv.on_fault(20, &crash(20, 2), &c);
        inv.on_observation(30, 2, &role(Role::Follower, 2), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("a term lost in a crash passed")
        };
        assert_eq!(
            v.message,
            "C's term went back from 5 to 2: its term did not survive a crash"
        );
        assert!(v.evidence[1].contains("C crashed"), "{:?}", v.evidence);
    }

    /// `[storage] lose_unsynced`: a crash that lost writes may take back a term nobody saw; the
    /// node starts again from what its disk kept, and must only grow from there.
    #[test]
    fn a_crash_that_lost_unsynced_writes_may_take_back_an_unsynced_term_once() {
        let c = cluster(3);
        let lost = |at| FaultRecord {
            applied: Applied::LostWrites {
                nodes: vec![2],
                writes: 1,
            },
            ..crash(at, 2)
        };
        let mut inv = MonotonicTerm::new(3);
        inv.on_observation(10, 2, &role(Role::Candidate, 5), &c);
        inv.on_fault(20, &crash(20, 2), &c);
        inv.on_fault(20, &lost(20), &c);
        inv.on_observation(30, 2, &role(Role::Follower, 4), &c);
        assert_eq!(inv.status(), Status::Pass);
        // From there, the rule again: 4 may not fall to 3.
        inv.on_observation(40, 2, &role(Role::Follower, 3), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("a term that went back after the restart passed")
        };
        assert_eq!(v.message, "C's term went back from 4 to 3");
    }
}
