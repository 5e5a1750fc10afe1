//! `one_vote_per_term`: a server votes for at most one candidate in any term, across crashes
//! and restarts (Raft §5.2, Figure 2: votedFor is persistent state).
//!
//! Every `Voted { term, candidate }` a node reports — each vote it grants, and its vote for
//! itself when it stands — is remembered for the rest of the run, crashes included: a node that
//! reports a vote in a term for a candidate other than the one it voted for before in that term
//! is a violation. When a crash of the voter came between the two votes, the evidence says so:
//! the first vote did not survive the restart, so it was not durable.

use std::collections::BTreeMap;

use crate::node::{Applied, FaultRecord, NodeId, RunView};
use crate::node::{Nanos, Observation, ObservationKinds, format_instant};

use super::{Invariant, Property, Status, Violation};

/// The `one_vote_per_term` invariant: remembers each node's vote in each term.
#[derive(Default)]
pub(crate) struct OneVotePerTerm {
    /// (voter, term) → (the candidate it voted for first, when).
    votes: BTreeMap<(u32, u64), (NodeId, Nanos)>,
    /// Per node, when it crashed.
    crashes: Vec<Vec<Nanos>>,
    violation: Option<Violation>,
}

impl OneVotePerTerm {
    /// The first crash of `node` after `since` (and at or before `until`), if any.
    fn crash_between(&self, node: u32, since: Nanos, until: Nanos) -> Option<Nanos> {
        self.crashes
            .get(node as usize)?
            .iter()
            .copied()
            .find(|&t| t >= since && t <= until)
    }
}

impl Invariant for OneVotePerTerm {
    fn name(&self) -> String {
        "one_vote_per_term".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::VOTED
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        let Observation::Voted { term, candidate } = *obs else {
            return;
        };
        let (first, since) = *self.votes.entry((node, term)).or_insert((candidate, at));
        if first == candidate || self.violation.is_some() {
            return;
        }
        let voter = cluster.name(node);
        let (a, b) = (cluster.name(first.0), cluster.name(candidate.0));
        let mut evidence = vec![format!(
            "{}  {voter} voted for {a} in term {term}",
            format_instant(since)
        )];
        let mut message = format!("{voter} voted for both {a} and {b} in term {term}");
        if let Some(crash) = self.crash_between(node, since, at) {
            evidence.push(format!(
                "{}  {voter} crashed, and restarted without its vote",
                format_instant(crash)
            ));
            message += ": its first vote did not survive a crash";
        }
        evidence.push(format!(
            "{}  {voter} voted for {b} in term {term}",
            format_instant(at)
        ));
        self.violation = Some(Violation {
            at,
            nodes: vec![voter.to_string(), a.to_string(), b.to_string()],
            message,
            evidence,
        });
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        if let Applied::Crash { nodes } = &fault.applied {
            for &n in nodes {
                if self.crashes.len() <= n as usize {
                    self.crashes.resize(n as usize + 1, Vec::new());
                }
                self.crashes[n as usize].push(at);
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
    use crate::check::tests::{cluster, crash};

    fn voted(term: u64, candidate: u32) -> Observation {
        Observation::Voted {
            term,
            candidate: NodeId(candidate),
        }
    }

    #[test]
    fn one_candidate_per_voter_and_term_passes() {
        let c = cluster(3);
        let mut inv = OneVotePerTerm::default();
        inv.on_observation(1, 0, &voted(1, 0), &c); // A stands and votes for itself
        inv.on_observation(2, 1, &voted(1, 0), &c); // B votes for A
        inv.on_observation(3, 1, &voted(1, 0), &c); // a duplicated request, granted again
        inv.on_fault(4, &crash(4, 1), &c);
        inv.on_observation(5, 1, &voted(1, 0), &c); // after a restart, the same vote
        inv.on_observation(6, 1, &voted(2, 2), &c); // another term, another candidate
        inv.on_observation(7, 2, &voted(1, 2), &c); // C voted for itself in term 1: its own vote
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn a_second_candidate_in_one_term_fails() {
        let c = cluster(3);
        let mut inv = OneVotePerTerm::default();
        inv.on_observation(10, 2, &voted(3, 0), &c);
        inv.on_observation(20, 2, &voted(3, 1), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("two votes in one term passed")
        };
        assert_eq!(
            (v.at, v.nodes.clone()),
            (20, vec!["C".into(), "A".into(), "B".into()])
        );
        assert_eq!(v.message, "C voted for both A and B in term 3");
        assert_eq!(v.evidence.len(), 2, "{:?}", v.evidence);
    }

    /// A vote that was not made durable: the restarted voter votes again in the same term.
    #[test]
    fn a_vote_lost_in_a_crash_fails_and_the_evidence_names_the_crash() {
        let c = cluster(3);
        let mut inv = OneVotePerTerm::default();
        inv.on_observation(10, 1, &voted(2, 1), &c); // B stands in term 2
        inv.on_fault(15, &crash(15, 2), &c); // someone else's crash is not the reason
        inv.on_fault(20, &crash(20, 1), &c);
        inv.on_observation(30, 1, &voted(2, 0), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("a vote lost in a crash passed")
        };
        assert_eq!(
            v.message,
            "B voted for both B and A in term 2: its first vote did not survive a crash"
        );
        assert!(v.evidence[1].contains("B crashed"), "{:?}", v.evidence);
    }
}
