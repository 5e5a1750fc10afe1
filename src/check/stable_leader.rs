//! `stable_leader`: liveness — once the faults stop, nothing deposes a leader a majority follows.
//!
//! At the last fault event (every `[[faults]]` entry, every end of a `for`, the nemesis's final
//! heal; a skipped fault changed nothing and does not count), if some node leads a term T that
//! a majority of the cluster (the leader included) last reported — a healthy leader — then no
//! node may report a term above T for the rest of the run. With every link repaired and nothing
//! crashing, a new term can only come from a server that raised its own while it was cut off
//! and now forces it on everyone: the disruption pre-vote prevents (thesis §9.6). If no leader
//! was healthy at the last fault event, there is nothing to keep and the check passes.

use crate::node::{Applied, FaultRecord, RunView};
use crate::node::{Nanos, Observation, ObservationKinds, Role, format_instant};

use super::leader_within::leader_with_majority;
use super::{Invariant, Property, Status, Violation};

/// The `stable_leader` invariant: notes the healthy leader at each fault event and fails if a
/// higher term is reported after the last one.
pub(crate) struct StableLeader {
    roles: Vec<Option<(Role, u64)>>,
    /// At the last fault event so far: when it was, and the healthy leader then with its term.
    settled: Option<(Nanos, u32, u64)>,
    /// Since then: the first report of a higher term.
    violation: Option<Violation>,
}

impl StableLeader {
    /// A checker for a cluster of `nodes` nodes.
    pub(crate) fn new(nodes: usize) -> Self {
        StableLeader {
            roles: vec![None; nodes],
            settled: None,
            violation: None,
        }
    }
}

impl Invariant for StableLeader {
    fn name(&self) -> String {
        "stable_leader".into()
    }

    fn property(&self) -> Property {
        Property::Liveness
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ROLE
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        if let Observation::Role { role, term } = *obs {
            self.roles[node as usize] = Some((role, term));
            if let Some((settled_at, leader, kept)) = self.settled
                && term > kept
                && self.violation.is_none()
            {
                let (who, led) = (cluster.name(node), cluster.name(leader));
                self.violation = Some(Violation {
                    at,
                    nodes: vec![who.to_string(), led.to_string()],
                    message: format!(
                        "term {term} began at {}, after the last fault at {}, although {led} \
                         led term {kept} with a majority",
                        format_instant(at),
                        format_instant(settled_at),
                    ),
                    evidence: vec![format!(
                        "{who} reported {} in term {term} at {}",
                        role.name(),
                        format_instant(at)
                    )],
                });
            }
        }
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _cluster: &dyn RunView) {
        match &fault.applied {
            Applied::Skipped { .. } => return,
            Applied::Crash { nodes } => {
                for &n in nodes {
                    self.roles[n as usize] = None;
                }
            }
            _ => {}
        }
        self.settled = leader_with_majority(&self.roles).map(|(leader, term)| (at, leader, term));
        self.violation = None;
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }

    fn detail(&self, cluster: &dyn RunView) -> Option<String> {
        let (at, leader, term) = self.settled?;
        self.violation.is_none().then(|| {
            format!(
                "{} led term {term} with a majority at the last fault ({}) and kept it",
                cluster.name(leader),
                format_instant(at)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster_at;
    use crate::world::{Cluster, Origin};

    const MS: u64 = 1_000_000;

    fn heal(at: Nanos) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::Schedule(0),
            written: "heal".into(),
            applied: Applied::Heal,
            lasting: None,
            dynamic: false,
        }
    }

    fn role(role: Role, term: u64) -> Observation {
        Observation::Role { role, term }
    }

    /// A leads term 1, followed by B and C (of 5); D, cut off, has been raising its term.
    fn settled() -> (StableLeader, Cluster) {
        let c = cluster_at(5, 0);
        let mut inv = StableLeader::new(5);
        inv.on_observation(MS, 0, &role(Role::Leader, 1), &c);
        inv.on_observation(MS, 1, &role(Role::Follower, 1), &c);
        inv.on_observation(MS, 2, &role(Role::Follower, 1), &c);
        inv.on_observation(MS, 3, &role(Role::Candidate, 7), &c);
        inv.on_fault(4_000 * MS, &heal(4_000 * MS), &c);
        (inv, c)
    }

    #[test]
    fn a_rejoining_server_that_deposes_a_healthy_leader_fails() {
        let (mut inv, c) = settled();
        inv.on_observation(4_003 * MS, 0, &role(Role::Follower, 7), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(v.at, 4_003 * MS);
        assert_eq!(
            v.message,
            "term 7 began at 4.003s, after the last fault at 4.000s, although A led term 1 with \
             a majority"
        );
        assert_eq!(v.nodes, ["A", "A"]);
        assert_eq!(v.evidence, ["A reported follower in term 7 at 4.003s"]);
    }

    #[test]
    fn a_rejoining_server_that_follows_passes() {
        let (mut inv, c) = settled();
        inv.on_observation(4_003 * MS, 3, &role(Role::Follower, 1), &c);
        assert_eq!(inv.status(), Status::Pass);
        assert!(inv.detail(&c).unwrap().contains("A led term 1"));
    }

    #[test]
    fn new_terms_before_the_last_fault_or_without_a_healthy_leader_are_allowed() {
        let c = cluster_at(5, 0);
        let mut inv = StableLeader::new(5);
        inv.on_observation(MS, 0, &role(Role::Leader, 1), &c);
        inv.on_fault(2_000 * MS, &heal(2_000 * MS), &c); // only A reports term 1: no majority
        inv.on_observation(2_100 * MS, 1, &role(Role::Candidate, 2), &c);
        assert_eq!(inv.status(), Status::Pass);
    }
}
