//! `leader_append_only`: a leader never overwrites or deletes entries in its own log; it only
//! appends new ones (Raft §5.3, Figure 3, the Leader Append-Only Property).
//!
//! Each `Appended { index, .. }` says the node's log now ends at `index`, so the checker knows
//! where each node's log ends. A node leads from its `Role` report with a leading role until its
//! next `Role` report or its crash; while it leads, an `Appended` at or below the end of its
//! log rewrites an entry (and deletes every one after it), which is a violation.
//!
//! What it cannot see: a leader that deletes entries and writes none, since no observation
//! reports a shrinking log. After a crash it forgets where the node's log ends (what survives on
//! disk is the protocol's business), and learns it again from the node's next `Appended`, so the
//! first entry a restarted node writes is not judged.

use crate::node::{Applied, FaultRecord, RunView};
use crate::node::{Nanos, Observation, ObservationKinds, format_instant};

use super::{Invariant, Property, Status, Violation};

/// One node as the checker follows it.
#[derive(Clone, Copy, Debug, Default)]
struct Node {
    /// Where its log ends, from its last `Appended` (`None` after a crash, until it appends).
    end: Option<u64>,
    /// The term it leads, and since when; `None` unless leading.
    leads: Option<(u64, Nanos)>,
}

/// The `leader_append_only` invariant.
#[derive(Default)]
pub(crate) struct LeaderAppendOnly {
    nodes: Vec<Node>,
    violation: Option<Violation>,
}

impl LeaderAppendOnly {
    /// A checker for a cluster of `nodes` nodes, whose logs start empty.
    pub(crate) fn new(nodes: usize) -> Self {
        LeaderAppendOnly {
            nodes: vec![
                Node {
                    end: Some(0),
                    leads: None
                };
                nodes
            ],
            violation: None,
        }
    }

    fn node(&mut self, n: u32) -> &mut Node {
        let n = n as usize;
        if self.nodes.len() <= n {
            self.nodes.resize(
                n + 1,
                Node {
                    end: Some(0),
                    leads: None,
                },
            );
        }
        &mut self.nodes[n]
    }
}

impl Invariant for LeaderAppendOnly {
    fn name(&self) -> String {
        "leader_append_only".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ROLE.with(ObservationKinds::APPENDED)
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        match *obs {
            Observation::Role { role, term } => {
                let state = self.node(node);
                state.leads = match state.leads {
                    Some((t, since)) if role.leads() && t == term => Some((t, since)),
                    _ if role.leads() => Some((term, at)),
                    _ => None,
                };
            }
            Observation::Appended { index, term, .. } => {
                let state = self.node(node);
                let before = state.end.replace(index);
                let (Some(end), Some((leading, since))) = (before, state.leads) else {
                    return;
                };
                if index > end || self.violation.is_some() {
                    return;
                }
                let name = cluster.name(node);
                let lost = if index < end {
                    format!(" and deleted {} after it", entries(end - index))
                } else {
                    String::new()
                };
                self.violation = Some(Violation {
                    at,
                    nodes: vec![name.to_string()],
                    message: format!(
                        "{name}, leader of term {leading}, overwrote index {index} of its own \
                         log{lost}: its log ended at index {end}"
                    ),
                    evidence: vec![
                        format!(
                            "{}  {name} became leader of term {leading}",
                            format_instant(since)
                        ),
                        format!(
                            "{}  {name} wrote index {index} (term {term}), its log ending at \
                             index {end}",
                            format_instant(at)
                        ),
                    ],
                });
            }
            _ => {}
        }
    }

    fn on_fault(&mut self, _: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        if let Applied::Crash { nodes } = &fault.applied {
            for &n in nodes {
                *self.node(n) = Node {
                    end: None,
                    leads: None,
                };
            }
        }
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

/// `1 entry`, `3 entries`.
fn entries(n: u64) -> String {
    if n == 1 {
        "1 entry".into()
    } else {
        format!("{n} entries")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::{appended, cluster, crash, role};
    use crate::node::Role;

    #[test]
    fn a_leader_that_only_appends_passes_and_followers_may_truncate() {
        let c = cluster(3);
        let mut inv = LeaderAppendOnly::new(3);
        // B, a follower, takes three entries of term 1, then a leader of term 2 overwrites two.
        for i in 1..=3 {
            inv.on_observation(i, 1, &appended(i, 1), &c);
        }
        inv.on_observation(5, 1, &appended(2, 2), &c);
        // A leads term 2 and appends; steps down; a new leadership of term 3 appends on.
        inv.on_observation(6, 0, &role(Role::Leader, 2), &c);
        inv.on_observation(7, 0, &appended(1, 2), &c);
        inv.on_observation(8, 0, &appended(2, 2), &c);
        inv.on_observation(9, 0, &role(Role::Follower, 3), &c);
        inv.on_observation(10, 0, &appended(2, 3), &c); // a follower again: allowed
        inv.on_observation(11, 0, &role(Role::Leader, 4), &c);
        inv.on_observation(12, 0, &appended(3, 4), &c);
        // C leads, crashes, and restarts with a log the checker no longer knows.
        inv.on_observation(13, 2, &role(Role::Leader, 5), &c);
        inv.on_observation(14, 2, &appended(1, 5), &c);
        inv.on_fault(15, &crash(0, 2), &c);
        inv.on_observation(16, 2, &role(Role::Leader, 6), &c);
        inv.on_observation(17, 2, &appended(1, 6), &c);
        inv.on_observation(18, 2, &appended(2, 6), &c);
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn a_leader_that_overwrites_its_last_entry_fails() {
        let c = cluster(3);
        let mut inv = LeaderAppendOnly::new(3);
        inv.on_observation(10, 0, &role(Role::Leader, 1), &c);
        inv.on_observation(11, 0, &appended(1, 1), &c);
        inv.on_observation(12, 0, &appended(1, 1), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("a rewrite passed")
        };
        assert_eq!((v.at, v.nodes), (12, vec!["A".to_string()]));
        assert_eq!(
            v.message,
            "A, leader of term 1, overwrote index 1 of its own log: its log ended at index 1"
        );
    }

    /// The entries it held before it led count too: a new leader must not cut them.
    #[test]
    fn a_leader_that_cuts_entries_it_held_before_leading_fails() {
        let c = cluster(3);
        let mut inv = LeaderAppendOnly::new(3);
        for i in 1..=5 {
            inv.on_observation(i, 1, &appended(i, 1), &c);
        }
        inv.on_observation(10, 1, &role(Role::Candidate, 2), &c);
        inv.on_observation(20, 1, &role(Role::Leader, 2), &c);
        inv.on_observation(30, 1, &appended(3, 2), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("a cut passed")
        };
        assert_eq!(
            v.message,
            "B, leader of term 2, overwrote index 3 of its own log and deleted 2 entries after \
             it: its log ended at index 5"
        );
        assert_eq!(v.evidence.len(), 2);
    }
}
