//! `no_split_brain`: at no instant of true time do two nodes both hold write authority.
//!
//! A protocol declares authority with `Authority { term, until, clock }`: the node may accept
//! writes until *its own clock* of that kind (wall or monotonic) reads `until` (no `until`: until
//! it stops leading). Authority ends when the clock passes `until`, when the node reports a role
//! that does not lead, or when it crashes. Because the end is measured on the holder's clock, a
//! slow clock stretches the lease in true time, and a backward jump of a wall clock can revive
//! an expired one — exactly the hazards of leases. A monotonic clock never jumps.
//!
//! Overlaps can only begin when a claim is made or renewed, or when a clock jumps back, so the
//! check runs at those instants against every other node's claim, reading each holder's clock
//! as it is at that true instant.

use crate::node::{Applied, FaultRecord, RunView};
use crate::node::{
    ClockKind, LocalNanos, Nanos, Observation, ObservationKinds, format_duration_signed,
    format_instant,
};

use super::blame::{Faults, line};
use super::{Invariant, Property, Status, Violation};

#[derive(Clone, Copy, Debug)]
struct Claim {
    term: u64,
    until: Option<LocalNanos>,
    /// The clock `until` is read on.
    clock: ClockKind,
    /// When this node began holding authority in this term.
    since: Nanos,
}

/// The `no_split_brain` invariant: tracks each node's claim of authority, read on its own
/// clock, and fails when two claims overlap in true time.
pub(crate) struct NoSplitBrain {
    /// Indexed by node.
    claims: Vec<Option<Claim>>,
    /// The faults in force, to name what kept the two holders apart.
    faults: Faults,
    violation: Option<Violation>,
}

impl NoSplitBrain {
    /// A checker for a cluster of `nodes` nodes.
    pub(crate) fn new(nodes: usize) -> Self {
        NoSplitBrain {
            claims: vec![None; nodes],
            faults: Faults::default(),
            violation: None,
        }
    }

    fn holds(&self, node: u32, cluster: &dyn RunView) -> bool {
        match self.claims[node as usize] {
            Some(claim) => claim
                .until
                .is_none_or(|u| cluster.read_clock(node, claim.clock) < u),
            None => false,
        }
    }

    fn describe(&self, node: u32, cluster: &dyn RunView) -> String {
        let claim = self.claims[node as usize].expect("described nodes hold a claim");
        let name = cluster.name(node);
        match claim.until {
            None => format!(
                "{name} holds authority in term {} since {}, with no end",
                claim.term,
                format_instant(claim.since)
            ),
            Some(until) => {
                let reads = cluster.read_clock(node, claim.clock);
                format!(
                    "{name} holds authority in term {} since {}, until its {}clock reads {} (it reads {}, {} left)",
                    claim.term,
                    format_instant(claim.since),
                    match claim.clock {
                        ClockKind::Wall => "",
                        ClockKind::Monotonic => "monotonic ",
                    },
                    format_local(until),
                    format_local(reads),
                    // Rounded to the microsecond: nanoseconds of a drifting clock are noise here.
                    format_duration_signed((until - reads) / 1_000 * 1_000).trim_start_matches('+'),
                )
            }
        }
    }

    /// Called when `node`'s claim may have begun or grown at `at`.
    fn check(&mut self, at: Nanos, node: u32, cluster: &dyn RunView) {
        if self.violation.is_some() || !self.holds(node, cluster) {
            return;
        }
        let rival = (0..self.claims.len() as u32)
            .find(|&other| other != node && self.holds(other, cluster));
        if let Some(other) = rival {
            let (a, b) = (cluster.name(other), cluster.name(node));
            self.violation = Some(Violation {
                at,
                nodes: vec![a.to_string(), b.to_string()],
                message: format!(
                    "{a} and {b} both hold write authority at {}",
                    format_instant(at)
                ),
                evidence: [self.describe(other, cluster), self.describe(node, cluster)]
                    .into_iter()
                    .chain(
                        self.faults
                            .evidence(other, node, false)
                            .iter()
                            .map(|(t, what)| line(*t, what)),
                    )
                    .collect(),
            });
        }
    }
}

/// A local clock reading, which may be negative.
fn format_local(t: LocalNanos) -> String {
    if t < 0 {
        format!("-{}", format_instant(t.unsigned_abs()))
    } else {
        format_instant(t as u64)
    }
}

impl Invariant for NoSplitBrain {
    fn name(&self) -> String {
        "no_split_brain".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::AUTHORITY.with(ObservationKinds::ROLE)
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        match *obs {
            Observation::Authority { term, until, clock } => {
                let since = match self.claims[node as usize] {
                    Some(c) if c.term == term && self.holds(node, cluster) => c.since,
                    _ => at,
                };
                self.claims[node as usize] = Some(Claim {
                    term,
                    until,
                    clock,
                    since,
                });
                self.check(at, node, cluster);
            }
            Observation::Role { role, .. } if !role.leads() => self.claims[node as usize] = None,
            _ => {}
        }
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, cluster: &dyn RunView) {
        self.faults.on_fault(at, fault, cluster);
        match &fault.applied {
            Applied::Crash { nodes } => {
                for &n in nodes {
                    self.claims[n as usize] = None;
                }
            }
            // A backward jump can bring an expired lease on the wall clock back to life.
            Applied::ClockJump { nodes, .. } => {
                for &n in nodes {
                    self.check(at, n, cluster);
                }
            }
            _ => {}
        }
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster_at;
    use crate::node::Role;
    use crate::world::Clock;

    const MS: u64 = 1_000_000;

    fn lease(term: u64, until_ms: i64) -> Observation {
        Observation::Authority {
            term,
            until: Some(until_ms * MS as i64),
            clock: ClockKind::Wall,
        }
    }

    fn monotonic_lease(term: u64, until_ms: i64) -> Observation {
        Observation::Authority {
            term,
            until: Some(until_ms * MS as i64),
            clock: ClockKind::Monotonic,
        }
    }

    #[test]
    fn back_to_back_leases_pass() {
        let mut c = cluster_at(3, 100 * MS);
        let mut inv = NoSplitBrain::new(3);
        inv.on_observation(100 * MS, 0, &lease(1, 200), &c);
        c.set_now(200 * MS); // A's lease has just run out
        inv.on_observation(200 * MS, 1, &lease(2, 300), &c);
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn stepping_down_revokes_authority() {
        let c = cluster_at(3, 100 * MS);
        let mut inv = NoSplitBrain::new(3);
        inv.on_observation(
            100 * MS,
            0,
            &Observation::Authority {
                term: 0,
                until: None,
                clock: ClockKind::Monotonic,
            },
            &c,
        );
        inv.on_observation(
            100 * MS,
            0,
            &Observation::Role {
                role: Role::Follower,
                term: 1,
            },
            &c,
        );
        inv.on_observation(100 * MS, 1, &lease(1, 300), &c);
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn overlapping_leases_fail() {
        let c = cluster_at(3, 150 * MS);
        let mut inv = NoSplitBrain::new(3);
        inv.on_observation(150 * MS, 0, &lease(1, 200), &c);
        inv.on_observation(150 * MS, 2, &lease(2, 400), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(v.nodes, ["A", "C"]);
        assert!(
            v.evidence[0].contains("until its clock reads 0.200s (it reads 0.150s, 50ms left)"),
            "{:?}",
            v.evidence
        );
    }

    #[test]
    fn a_slow_clock_stretches_a_lease_into_a_violation() {
        // A's clock runs at half speed: at true 300 ms it reads 150 ms, short of its 200 ms lease.
        let mut c = crate::check::tests::cluster_with_clocks(vec![
            Clock::new(0, -500_000),
            Clock::honest(),
        ]);
        c.set_now(100 * MS);
        let mut inv = NoSplitBrain::new(3);
        inv.on_observation(100 * MS, 0, &lease(1, 200), &c);
        c.set_now(300 * MS);
        inv.on_observation(300 * MS, 1, &lease(2, 400), &c);
        assert!(matches!(inv.status(), Status::Violated(_)));
    }

    #[test]
    fn a_backward_jump_revives_an_expired_lease() {
        let mut c = cluster_at(2, 100 * MS);
        let mut inv = NoSplitBrain::new(3);
        inv.on_observation(100 * MS, 0, &lease(1, 200), &c);
        c.set_now(250 * MS); // A's lease ran out at 200
        inv.on_observation(250 * MS, 1, &lease(2, 400), &c);
        assert_eq!(inv.status(), Status::Pass);
        c.clock_mut(0).jump(-(100 * MS as i64), 260 * MS);
        c.set_now(260 * MS); // A's clock now reads 160: its lease is alive again
        let jump = jump_a_back_100ms();
        inv.on_fault(260 * MS, &jump, &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(v.at, 260 * MS);
        assert_eq!(v.nodes, ["B", "A"]);
    }

    /// At 260 ms, A's wall clock steps back 100 ms (the first scripted fault).
    fn jump_a_back_100ms() -> crate::world::FaultRecord {
        crate::world::FaultRecord {
            at: 260 * MS,
            origin: crate::world::Origin::Schedule(0),
            written: "clock jump A by -100ms".into(),
            applied: Applied::ClockJump {
                nodes: vec![0],
                by: -(100 * MS as i64),
            },
            lasting: None,
            dynamic: false,
        }
    }

    #[test]
    fn a_backward_jump_of_the_wall_clock_leaves_a_monotonic_lease_expired() {
        let mut c = cluster_at(2, 100 * MS);
        let mut inv = NoSplitBrain::new(3);
        inv.on_observation(100 * MS, 0, &monotonic_lease(1, 200), &c);
        c.set_now(250 * MS);
        inv.on_observation(250 * MS, 1, &monotonic_lease(2, 400), &c);
        c.clock_mut(0).jump(-(100 * MS as i64), 260 * MS);
        c.set_now(260 * MS);
        let jump = jump_a_back_100ms();
        inv.on_fault(260 * MS, &jump, &c);
        assert_eq!(
            inv.status(),
            Status::Pass,
            "A's monotonic clock reads 260 ms"
        );
    }

    #[test]
    fn masters_without_an_end_overlap_forever() {
        let c = cluster_at(2, 0);
        let mut inv = NoSplitBrain::new(3);
        inv.on_observation(
            0,
            0,
            &Observation::Authority {
                term: 0,
                until: None,
                clock: ClockKind::Monotonic,
            },
            &c,
        );
        inv.on_observation(
            5 * MS,
            1,
            &Observation::Authority {
                term: 1,
                until: None,
                clock: ClockKind::Monotonic,
            },
            &c,
        );
        let Status::Violated(v) = inv.status() else {
            panic!()
        };
        assert!(v.evidence[0].contains("with no end"));
    }
}
