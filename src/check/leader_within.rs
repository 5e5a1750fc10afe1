//! `leader_within`: liveness — after the faults stop, the cluster has a leader within a bound.
//!
//! The clock starts at the last fault event (every `[[faults]]` entry, every end of a `for`, the
//! nemesis's final heal; a skipped fault changed nothing and does not count). Within `bound`
//! after it, some node must report a leading role in a term T that a majority of the cluster
//! (the leader included) last reported: a leader that others follow, not a stale one on the
//! wrong side of a healed partition. If the run ends before the bound has passed and no such
//! leader appeared, the verdict is unknown, not a failure.

use crate::node::invariant::FromLastFault;
use crate::node::{Applied, FaultRecord, RunView};
use crate::node::{Nanos, Observation, ObservationKinds, Role, format_duration, format_instant};

use super::{Invariant, Property, Status, Violation};

/// The `leader_within` invariant: after the last fault event, a leader a majority follows
/// must appear within the bound.
pub(crate) struct LeaderWithin {
    bound: FromLastFault,
    roles: Vec<Option<(Role, u64)>>,
    /// Whether any fault event happened (otherwise the bound starts at time zero).
    faulted: bool,
    /// When, since then, a recognised leader first appeared, and who.
    met: Option<(Nanos, u32, u64)>,
    status: Status,
}

impl LeaderWithin {
    /// A checker for `nodes` nodes that wants a recognised leader within `bound` nanoseconds of
    /// the last fault event (of time zero if there is none).
    pub(crate) fn new(bound: Nanos, nodes: usize) -> Self {
        LeaderWithin {
            bound: FromLastFault::new(bound),
            roles: vec![None; nodes],
            faulted: false,
            met: None,
            status: Status::Unknown("the run has not ended".into()),
        }
    }

    fn check(&mut self, at: Nanos, cluster: &dyn RunView) {
        if self.met.is_some() {
            return;
        }
        debug_assert_eq!(self.roles.len(), cluster.len());
        if let Some((node, term)) = leader_with_majority(&self.roles) {
            self.met = Some((at, node, term));
        }
    }
}

/// The first node leading a term that a majority of the nodes (itself included) last reported,
/// with that term: a leader that can commit. `roles` holds each node's last reported role and
/// term, `None` for a node that never reported one or crashed since.
pub(super) fn leader_with_majority(roles: &[Option<(Role, u64)>]) -> Option<(u32, u64)> {
    let majority = roles.len() / 2 + 1;
    roles.iter().enumerate().find_map(|(node, r)| {
        let (role, term) = (*r)?;
        let followers = roles
            .iter()
            .filter(|r| r.is_some_and(|(_, t)| t == term))
            .count();
        (role.leads() && followers >= majority).then_some((node as u32, term))
    })
}

impl Invariant for LeaderWithin {
    fn name(&self) -> String {
        format!("leader_within {}", format_duration(self.bound.bound))
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
            self.check(at, cluster);
        }
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, cluster: &dyn RunView) {
        if !self.bound.on_fault(at, fault) {
            return;
        }
        if let Applied::Crash { nodes } = &fault.applied {
            for &n in nodes {
                self.roles[n as usize] = None;
            }
        }
        self.faulted = true;
        self.met = None;
        self.check(at, cluster);
    }

    fn on_end(&mut self, cluster: &dyn RunView) {
        let quiet_since = self.bound.quiet_since;
        let deadline = self.bound.due(quiet_since);
        let since = if self.faulted {
            format!("the last fault at {}", format_instant(quiet_since))
        } else {
            "the start of the run".to_string()
        };
        self.status = match self.met {
            Some((at, _, _)) if at <= deadline => Status::Pass,
            _ if self.bound.cut_short(cluster.now()) && self.met.is_none() => {
                Status::Unknown(format!(
                    "the run ended {} after {since}, before the {} bound",
                    format_duration(cluster.now() - quiet_since),
                    format_duration(self.bound.bound)
                ))
            }
            met => {
                let mut evidence: Vec<String> = self
                    .roles
                    .iter()
                    .enumerate()
                    .map(|(n, r)| match r {
                        Some((role, term)) => format!(
                            "{} last reported {} in term {term}",
                            cluster.name(n as u32),
                            role.name()
                        ),
                        None => format!(
                            "{} reported no role (crashed, or never started)",
                            cluster.name(n as u32)
                        ),
                    })
                    .collect();
                if let Some((at, leader, term)) = met {
                    evidence.insert(
                        0,
                        format!(
                            "{} led term {term} with a majority only at {}, {} after the bound started",
                            cluster.name(leader),
                            format_instant(at),
                            format_duration(at - quiet_since)
                        ),
                    );
                }
                Status::Violated(Violation {
                    at: deadline,
                    nodes: Vec::new(),
                    message: format!(
                        "no leader followed by a majority within {} of {since}",
                        format_duration(self.bound.bound)
                    ),
                    evidence,
                })
            }
        };
    }

    fn status(&self) -> Status {
        self.status.clone()
    }

    fn detail(&self, cluster: &dyn RunView) -> Option<String> {
        let (at, leader, term) = self.met?;
        Some(format!(
            "{} leads term {term} with a majority at {}, {} after {}",
            cluster.name(leader),
            format_instant(at),
            format_duration((at - self.bound.quiet_since) / 1_000 * 1_000),
            if self.faulted {
                "the last fault"
            } else {
                "the start"
            }
        ))
    }
}

impl LeaderWithin {
    /// The leader that satisfied the bound, its term, and when — for the report.
    #[cfg(test)]
    pub(crate) fn leader(&self) -> Option<(Nanos, u32, u64)> {
        self.met
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster_at;
    use crate::world::Origin;

    const S: u64 = 1_000_000_000;

    fn role(role: Role, term: u64) -> Observation {
        Observation::Role { role, term }
    }

    fn heal(at: Nanos) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::FinalHeal,
            written: "heal".into(),
            applied: Applied::Heal,
            lasting: None,
            dynamic: false,
        }
    }

    #[test]
    fn a_leader_followed_by_a_majority_after_the_heal_passes() {
        let mut c = cluster_at(3, 0);
        let mut inv = LeaderWithin::new(2 * S, 3);
        inv.on_fault(5 * S, &heal(5 * S), &c);
        inv.on_observation(5 * S + 10, 0, &role(Role::Leader, 3), &c);
        inv.on_observation(5 * S + 20, 1, &role(Role::Follower, 3), &c);
        c.set_now(10 * S);
        inv.on_end(&c);
        assert_eq!(inv.status(), Status::Pass);
        assert_eq!(inv.leader(), Some((5 * S + 20, 0, 3)));
    }

    #[test]
    fn a_stale_leader_without_followers_does_not_count() {
        let mut c = cluster_at(3, 0);
        let mut inv = LeaderWithin::new(2 * S, 3);
        inv.on_observation(0, 0, &role(Role::Leader, 1), &c);
        inv.on_observation(0, 1, &role(Role::Follower, 2), &c);
        inv.on_observation(0, 2, &role(Role::Candidate, 2), &c);
        inv.on_fault(S, &heal(S), &c);
        c.set_now(5 * S);
        inv.on_end(&c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(v.at, 3 * S);
        assert!(
            v.message.contains("within 2s of the last fault at 1.000s"),
            "{}",
            v.message
        );
    }

    #[test]
    fn ending_before_the_bound_is_unknown() {
        let mut c = cluster_at(3, 0);
        let mut inv = LeaderWithin::new(2 * S, 3);
        inv.on_fault(9 * S, &heal(9 * S), &c);
        c.set_now(10 * S);
        inv.on_end(&c);
        assert!(
            matches!(inv.status(), Status::Unknown(m) if m.contains("ended 1s after the last fault"))
        );
    }
}
