//! `strong_accuracy`: no node is suspected while it is up (Chandra & Toueg, 1996).
//!
//! A `Suspect { peer }` observation about a peer that has not crashed is a false suspicion. A
//! paused node, a slow one, or one behind a partition is up, so a heartbeat detector violates
//! this under any of them — the point of the lesson: a heartbeat cannot tell slow from dead.

use crate::node::{Nanos, Observation, format_instant};
use crate::world::{Applied, Cluster, FaultRecord, NodeStatus};

use super::{Invariant, Property, Status, Violation};

pub struct StrongAccuracy {
    /// The latest fault that touched each node, for the evidence.
    last_fault: Vec<Option<(Nanos, String)>>,
    /// The latest partition or cut, for the evidence.
    last_partition: Option<(Nanos, String)>,
    violation: Option<Violation>,
}

impl StrongAccuracy {
    pub fn new(nodes: usize) -> Self {
        StrongAccuracy {
            last_fault: vec![None; nodes],
            last_partition: None,
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

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &Cluster) {
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
        let mut evidence = vec![format!(
            "{} {who} suspects {whom}, which is {state}",
            format_instant(at)
        )];
        if let Some((t, what)) = &self.last_fault[peer.index()] {
            evidence.push(format!("{}  {what}", format_instant(*t)));
        }
        if let Some((t, what)) = &self.last_partition {
            evidence.push(format!("{}  {what}", format_instant(*t)));
        }
        evidence.sort();
        self.violation = Some(Violation {
            at,
            nodes: vec![who.to_string(), whom.to_string()],
            message: format!("{who} suspected {whom}, but {whom} had not crashed (it was {state})"),
            evidence,
        });
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, cluster: &Cluster) {
        let what = fault.applied.describe(cluster);
        match &fault.applied {
            Applied::Partition { .. } | Applied::Cut { .. } => {
                self.last_partition = Some((at, what))
            }
            other => {
                for &n in other.nodes() {
                    self.last_fault[n as usize] = Some((at, what.clone()));
                }
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
    use crate::check::tests::cluster_at;
    use crate::node::NodeId;
    use crate::world::Origin;

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
}
