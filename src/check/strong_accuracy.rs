//! `strong_accuracy`: no node is suspected while it is up (Chandra & Toueg, 1996).
//!
//! A `Suspect { peer }` observation about a peer that has not crashed is a false suspicion. A
//! paused node, a slow one, or one behind a partition is up, so a heartbeat detector violates
//! this under any of them — the point of the lesson: a heartbeat cannot tell slow from dead.

use crate::node::{FaultRecord, NodeStatus, RunView};
use crate::node::{Nanos, Observation, ObservationKinds};

use super::blame::{Faults, line};
use super::{Invariant, Property, Status, Violation};

/// The `strong_accuracy` invariant: fails at the first suspicion of a node that is up.
pub(crate) struct StrongAccuracy {
    /// The faults in force, to blame the one that silenced the suspected node.
    faults: Faults,
    violation: Option<Violation>,
}

impl StrongAccuracy {
    /// A checker; it needs nothing of the cluster's size.
    pub(crate) fn new(_nodes: usize) -> Self {
        StrongAccuracy {
            faults: Faults::default(),
            violation: None,
        }
    }
}

impl Invariant for StrongAccuracy {
    fn name(&self) -> String {
        "strong_accuracy".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::SUSPECT
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        let Observation::Suspect { peer } = *obs else {
            return;
        };
        if self.violation.is_some() || cluster.is_crashed(peer.0) {
            return;
        }
        let (who, whom) = (cluster.name(node), cluster.name(peer.0));
        let state = match cluster.status(peer.0) {
            NodeStatus::Paused => "paused",
            _ => "up",
        };
        // The fault that kept the peer's heartbeats from this observer, oldest first, then the
        // suspicion itself: by time, not by text ("10.0s" sorts before "9.0s").
        let mut evidence: Vec<String> = self
            .faults
            .evidence(peer.0, node, true)
            .iter()
            .map(|(t, what)| line(*t, what))
            .collect();
        evidence.push(line(
            at,
            &format!("{who} suspects {whom}, which is {state}"),
        ));
        self.violation = Some(Violation {
            at,
            nodes: vec![who.to_string(), whom.to_string()],
            message: format!("{who} suspected {whom}, but {whom} had not crashed (it was {state})"),
            evidence,
        });
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
    use crate::check::tests::cluster_at;
    use crate::node::Nanos;
    use crate::node::NodeId;
    use crate::world::{Applied, Origin};

    #[test]
    fn suspecting_a_crashed_node_is_accurate() {
        let mut c = cluster_at(3, 0);
        c.set_status(1, NodeStatus::Crashed);
        let mut inv = StrongAccuracy::new(3);
        inv.on_observation(5, 0, &Observation::Suspect { peer: NodeId(1) }, &c);
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn suspecting_a_paused_node_is_a_false_suspicion() {
        let mut c = cluster_at(3, 0);
        let pause = FaultRecord {
            at: 1,
            origin: Origin::Schedule(0),
            written: "pause B".into(),
            applied: Applied::Pause { nodes: vec![1] },
            lasting: Some(10),
            dynamic: false,
        };
        c.set_status(1, NodeStatus::Paused);
        let mut inv = StrongAccuracy::new(3);
        inv.on_fault(1, &pause, &c);
        inv.on_observation(5, 0, &Observation::Suspect { peer: NodeId(1) }, &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(
            v.message,
            "A suspected B, but B had not crashed (it was paused)"
        );
        assert!(v.evidence.iter().any(|e| e.contains("pause B")));
    }

    fn cut(at: Nanos, id: u32, from: u32, to: u32) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::Schedule(id),
            written: String::new(),
            applied: Applied::Cut {
                cut: id,
                from: vec![from],
                to: vec![to],
            },
            lasting: None,
            dynamic: false,
        }
    }

    #[test]
    fn the_evidence_blames_the_cut_that_silenced_the_peer_not_a_later_unrelated_one() {
        let c = cluster_at(4, 0);
        let mut inv = StrongAccuracy::new(4);
        inv.on_fault(1_000_000_000, &cut(1_000_000_000, 0, 0, 1), &c);
        inv.on_fault(1_150_000_000, &cut(1_150_000_000, 1, 3, 2), &c);
        inv.on_observation(
            1_300_000_000,
            1,
            &Observation::Suspect { peer: NodeId(0) },
            &c,
        );
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(
            v.evidence,
            [
                "1.000s  one-way cut A -> B (in force)",
                "1.300s  B suspects A, which is up",
            ]
        );
    }

    #[test]
    fn evidence_is_in_time_order_past_ten_seconds() {
        let c = cluster_at(3, 0);
        let mut inv = StrongAccuracy::new(3);
        inv.on_fault(9_000_000_000, &cut(9_000_000_000, 0, 1, 0), &c);
        inv.on_observation(
            10_000_000_000,
            0,
            &Observation::Suspect { peer: NodeId(1) },
            &c,
        );
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert!(v.evidence[0].contains("cut B -> A"), "{:?}", v.evidence);
    }
}
