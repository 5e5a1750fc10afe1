//! `stable_master` (liveness): mastership changes hands only when a fault gave a reason — if no
//! fault has struck since the current master took office, no other node becomes master.
//!
//! The text's reason for renewing a lease (seed text 000, 「方案二」): without it every lease
//! runs out, the peers elect again, and 「有可能出现 Master 切换的情况」 — mastership moves
//! although nothing failed. Read from `Role` observations (any protocol that reports
//! `Role::Master` can be judged) and fault records: any fault that was not skipped (a pause, a
//! cut, a crash, a clock step, a delay spike, a heal) excuses the next switch. The evidence
//! names how the last master's reign ended, from `lease-master`'s `Stopped` facts.

use std::any::Any;

use crate::node::{
    Applied, FaultRecord, Invariant, InvariantInfo, Nanos, Observation, ObservationKinds, Property,
    ProtocolInvariant, Role, RunView, Status, Violation, format_instant,
};

use super::LeaseFact;

/// The master in office.
#[derive(Clone, Copy)]
struct Reign {
    node: u32,
    epoch: u64,
    since: Nanos,
}

/// The checker.
#[derive(Default)]
struct StableMaster {
    master: Option<Reign>,
    /// Whether a fault struck since the master in office took office.
    fault_since: bool,
    /// The last time the master in office stopped acting, with its epoch.
    stopped: Option<(Nanos, u64)>,
    violation: Option<Violation>,
}

impl Invariant for StableMaster {
    fn name(&self) -> String {
        "stable_master".into()
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ROLE
    }
    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, view: &dyn RunView) {
        let Observation::Role {
            role: Role::Master,
            term,
        } = *obs
        else {
            return;
        };
        if let Some(old) = self.master
            && old.node != node
            && !self.fault_since
            && self.violation.is_none()
        {
            let (new_name, old_name) = (view.name(node), view.name(old.node));
            let mut evidence = vec![format!(
                "{}: {old_name} became master in epoch {}",
                format_instant(old.since),
                old.epoch
            )];
            if let Some((t, epoch)) = self.stopped {
                evidence.push(format!(
                    "{}: {old_name}'s lease of epoch {epoch} ran out and it stopped acting as master",
                    format_instant(t)
                ));
            }
            evidence.push(format!(
                "{}: {new_name} became master in epoch {term}",
                format_instant(at)
            ));
            evidence.push("no fault struck in between".into());
            self.violation = Some(Violation {
                at,
                nodes: vec![new_name.to_string(), old_name.to_string()],
                message: format!(
                    "{new_name} took over as master (epoch {term}) at {} from {old_name} (master \
                     since {}) although no fault struck in between: a needless switch",
                    format_instant(at),
                    format_instant(old.since)
                ),
                evidence,
            });
        }
        if self
            .master
            .is_none_or(|m| m.node != node || m.epoch != term)
        {
            self.master = Some(Reign {
                node,
                epoch: term,
                since: at,
            });
            self.fault_since = false;
            self.stopped = None;
        }
    }
    fn on_fault(&mut self, _at: Nanos, fault: &FaultRecord, _view: &dyn RunView) {
        if !matches!(fault.applied, Applied::Skipped { .. }) {
            self.fault_since = true;
        }
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _view: &dyn RunView) {
        if let Some(LeaseFact::Stopped { epoch }) = fact.downcast_ref::<LeaseFact>()
            && self.master.is_some_and(|m| m.node == node)
        {
            self.stopped = Some((at, *epoch));
        }
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
    fn detail(&self, view: &dyn RunView) -> Option<String> {
        let m = self.master?;
        self.violation.is_none().then(|| {
            format!(
                "{} has been master since {} (epoch {})",
                view.name(m.node),
                format_instant(m.since),
                m.epoch
            )
        })
    }
}

/// `stable_master`'s catalogue entry.
///
/// ```
/// use sim::protocols::lease_master::invariant::stable_master;
/// assert_eq!(stable_master().info.name, "stable_master");
/// ```
pub fn stable_master() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "stable_master",
            property: Property::Liveness,
            definition: "Mastership changes hands only for a reason: once a node reports master, \
                         no other node reports master until some fault (a pause, a cut, a crash, \
                         a clock step, a delay spike, a heal) has struck. A master that does not \
                         renew its lease fails it with no fault at all (lease-master).",
            bound: None,
        },
        build: |_, _| Box::<StableMaster>::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Origin;
    use crate::node::testing::View;

    /// A, B and C, at 0.
    fn view() -> View {
        View::new(&["A", "B", "C"], 0)
    }

    const MS: Nanos = 1_000_000;

    fn master(epoch: u64) -> Observation {
        Observation::Role {
            role: Role::Master,
            term: epoch,
        }
    }

    fn pause_a(at: Nanos) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::Schedule(0),
            written: "pause A".into(),
            applied: Applied::Pause { nodes: vec![0] },
            lasting: None,
            dynamic: false,
        }
    }

    #[test]
    fn a_switch_with_no_fault_fails() {
        let mut inv = (stable_master().build)(3, None);
        inv.on_observation(100 * MS, 0, &master(1), &view());
        inv.on_fact(600 * MS, 0, &LeaseFact::Stopped { epoch: 1 }, &view());
        inv.on_observation(700 * MS, 1, &master(2), &view());
        let Status::Violated(v) = inv.status() else {
            panic!("a needless switch passed")
        };
        assert_eq!(v.at, 700 * MS);
        assert_eq!(v.nodes, ["B", "A"]);
        assert!(v.message.contains("a needless switch"), "{}", v.message);
        assert!(
            v.evidence[1].contains("A's lease of epoch 1 ran out"),
            "{:?}",
            v.evidence
        );
    }

    #[test]
    fn a_switch_after_a_fault_and_the_same_master_again_pass() {
        let mut inv = (stable_master().build)(3, None);
        inv.on_observation(100 * MS, 0, &master(1), &view());
        inv.on_observation(700 * MS, 0, &master(2), &view()); // the same node again: no switch
        inv.on_fault(800 * MS, &pause_a(800 * MS), &view());
        inv.on_observation(1_500 * MS, 1, &master(3), &view());
        assert_eq!(inv.status(), Status::Pass);
        assert!(inv.detail(&view()).unwrap().contains("B has been master"));
        // But the fault excused one switch only: B's successor needs a fault of its own.
        inv.on_observation(2_500 * MS, 2, &master(4), &view());
        assert!(matches!(inv.status(), Status::Violated(_)));
    }
}
