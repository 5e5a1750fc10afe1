//! `election_safety`: at most one node leads in any term, over the whole run (Raft §5.2).
//!
//! Every `Role` observation with a leading role (leader or master) claims its term. The claim is
//! remembered for the rest of the run — across crashes, restarts and step-downs — so a second
//! node leading the same term is a violation even if the first is long gone.

use std::collections::BTreeMap;

use crate::node::{FaultRecord, RunView};
use crate::node::{Nanos, Observation, ObservationKinds, format_instant};

use super::blame::{Faults, line};
use super::{Invariant, Property, Status, Violation};

/// The `election_safety` invariant: remembers who first led each term and fails when a second
/// node leads the same term.
#[derive(Default)]
pub(crate) struct ElectionSafety {
    /// term → (leader, when it first led that term)
    leaders: BTreeMap<u64, (u32, Nanos)>,
    /// The faults in force, to name what kept the two leaders apart.
    faults: Faults,
    violation: Option<Violation>,
}

impl Invariant for ElectionSafety {
    fn name(&self) -> String {
        "election_safety".into()
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
        if !role.leads() {
            return;
        }
        match self.leaders.get(&term) {
            None => {
                self.leaders.insert(term, (node, at));
            }
            Some(&(first, since)) if first != node && self.violation.is_none() => {
                let (a, b) = (cluster.name(first), cluster.name(node));
                let mut evidence = vec![
                    format!(
                        "{}  {a} became {} of term {term}",
                        format_instant(since),
                        role.name()
                    ),
                    format!(
                        "{}  {b} became {} of term {term}",
                        format_instant(at),
                        role.name()
                    ),
                ];
                evidence.extend(
                    self.faults
                        .evidence(first, node, false)
                        .iter()
                        .map(|(t, what)| line(*t, what)),
                );
                self.violation = Some(Violation {
                    at,
                    nodes: vec![a.to_string(), b.to_string()],
                    message: format!("{a} and {b} both led term {term}"),
                    evidence,
                });
            }
            Some(_) => {}
        }
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, cluster: &dyn RunView) {
        self.faults.on_fault(at, fault, cluster);
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster;
    use crate::node::Role;

    fn lead(term: u64) -> Observation {
        Observation::Role {
            role: Role::Leader,
            term,
        }
    }

    #[test]
    fn one_leader_per_term_passes() {
        let c = cluster(3);
        let mut inv = ElectionSafety::default();
        inv.on_observation(1, 0, &lead(1), &c);
        inv.on_observation(2, 0, &lead(1), &c); // the same leader again is fine
        inv.on_observation(3, 1, &lead(2), &c);
        inv.on_observation(
            4,
            2,
            &Observation::Role {
                role: Role::Candidate,
                term: 2,
            },
            &c,
        );
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn two_leaders_in_one_term_fail_even_after_the_first_is_gone() {
        let c = cluster(3);
        let mut inv = ElectionSafety::default();
        inv.on_observation(10, 0, &lead(4), &c);
        inv.on_observation(
            20,
            0,
            &Observation::Role {
                role: Role::Follower,
                term: 5,
            },
            &c,
        );
        inv.on_observation(30, 2, &lead(4), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(v.at, 30);
        assert_eq!(v.nodes, ["A", "C"]);
        assert_eq!(v.message, "A and C both led term 4");
    }
}
