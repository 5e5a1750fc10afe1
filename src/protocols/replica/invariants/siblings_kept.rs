//! `siblings_kept`: a replica drops a version only for one whose clock dominates it, and never
//! refuses a concurrent one.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::node::{Applied, FaultRecord, Invariant, Nanos, Observation, Property, RunView, Status};

use super::super::register::{ReplicaFact, Version};
use super::{cast, line};
use crate::node::invariant::FirstViolation;

/// A version as a story shows it: its value and its full vector, `5 [1,0,1]`.
fn shown(v: &Version, nodes: usize) -> String {
    format!("{} {}", v.value, v.clock.padded(nodes))
}

/// `siblings_kept`.
#[derive(Default)]
pub(crate) struct SiblingsKept {
    /// What each replica holds of each key, as last stated since it last started.
    holds: BTreeMap<(u32, Arc<str>), Vec<Version>>,
    /// Versions dropped that carried no clock, so the rule could not judge them.
    unjudged: u64,
    verdict: FirstViolation,
}

impl Invariant for SiblingsKept {
    fn name(&self) -> String {
        "siblings_kept".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fault(&mut self, _: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        // A restarted replica states again what it recovered: that is no drop.
        if let Applied::Restart { nodes } = &fault.applied {
            self.holds.retain(|(n, _), _| !nodes.contains(n));
        }
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        match cast(fact) {
            Some(ReplicaFact::Holds { key, versions }) => {
                let before = self
                    .holds
                    .insert((node, key.clone()), versions.clone())
                    .unwrap_or_default();
                let n = view.names().len();
                for gone in before.iter().filter(|v| !versions.contains(v)) {
                    let dominated = versions
                        .iter()
                        .any(|kept| kept.clock.dominates(&gone.clock) && kept.clock != gone.clock);
                    // An empty clock is judged when something kept has a clock (the initial
                    // value, which every write follows); only clockless designs go unjudged.
                    let clockless = versions.iter().all(|v| v.clock.counts().is_empty());
                    if gone.clock.counts().is_empty() && clockless {
                        self.unjudged += 1;
                    } else if !dominated {
                        let kept: Vec<String> = versions.iter().map(|v| shown(v, n)).collect();
                        self.verdict.fail(
                            at,
                            vec![view.name(node).to_string()],
                            format!(
                                "{} dropped {key} = {}, which none of the versions it keeps \
                                 ({}) follows: a concurrent write was lost",
                                view.name(node),
                                shown(gone, n),
                                kept.join(", ")
                            ),
                            vec![line(
                                at,
                                view,
                                node,
                                format!("now holds {key} = [{}]", kept.join(", ")),
                            )],
                        );
                    }
                }
            }
            Some(ReplicaFact::Conflict { key, kept, refused }) => {
                let n = view.names().len();
                self.verdict.fail(
                    at,
                    vec![view.name(node).to_string()],
                    format!(
                        "{} refused {key} = {}, concurrent with its {}, and kept only its own: \
                         the siblings were not both kept",
                        view.name(node),
                        shown(refused, n),
                        shown(kept, n)
                    ),
                    vec![line(
                        at,
                        view,
                        node,
                        format!(
                            "found {} and {} concurrent",
                            refused.clock.padded(n),
                            kept.clock.padded(n)
                        ),
                    )],
                );
            }
            _ => {}
        }
    }
    fn status(&self) -> Status {
        match self.verdict.status() {
            Status::Pass if self.unjudged > 0 => Status::Unknown(format!(
                "{} dropped versions carried no vector clock (last-write-wins): whether they \
                 were concurrent cannot be told; no_lost_update judges such designs",
                self.unjudged
            )),
            status => status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::replica::VectorClock;
    use crate::protocols::replica::invariants::tests::View;

    fn version(value: &str, counts: &[u64]) -> Version {
        Version {
            value: value.into(),
            clock: VectorClock::from_counts(counts),
        }
    }

    fn holds(versions: Vec<Version>) -> ReplicaFact {
        ReplicaFact::Holds {
            key: "x".into(),
            versions,
        }
    }

    #[test]
    fn replacing_a_version_by_one_that_follows_it_holds_and_by_a_concurrent_one_does_not() {
        let view = View::abc();
        let mut check = SiblingsKept::default();
        check.on_fact(1, 1, &holds(vec![version("1", &[1, 0, 0])]), &view);
        check.on_fact(2, 1, &holds(vec![version("5", &[1, 0, 1])]), &view);
        // Siblings: both kept, then merged by a put whose clock covers both.
        check.on_fact(
            3,
            1,
            &holds(vec![version("5", &[1, 0, 1]), version("2", &[2, 0, 0])]),
            &view,
        );
        check.on_fact(4, 1, &holds(vec![version("7", &[2, 1, 1])]), &view);
        assert_eq!(check.status(), Status::Pass);
        check.on_fact(5, 1, &holds(vec![version("8", &[2, 2, 0])]), &view);
        let Status::Violated(v) = check.status() else {
            panic!("a version dropped for a concurrent one passed")
        };
        assert_eq!((v.at, &v.nodes[..]), (5, &["B".to_string()][..]));
        assert!(
            v.message.contains("B dropped x = 7 [2,1,1]"),
            "{}",
            v.message
        );
    }

    #[test]
    fn a_refused_concurrent_version_is_a_violation() {
        let view = View::abc();
        let mut check = SiblingsKept::default();
        let conflict = ReplicaFact::Conflict {
            key: "x".into(),
            kept: version("5", &[1, 0, 1]),
            refused: version("2", &[2, 0, 0]),
        };
        check.on_fact(9, 2, &conflict, &view);
        let Status::Violated(v) = check.status() else {
            panic!("the basic rule's conflict passed")
        };
        assert!(
            v.message
                .starts_with("C refused x = 2 [2,0,0], concurrent with its 5 [1,0,1]")
        );
    }

    #[test]
    fn versions_without_clocks_leave_it_unknown_and_a_restart_is_no_drop() {
        let view = View::abc();
        let mut check = SiblingsKept::default();
        check.on_fact(1, 0, &holds(vec![version("1", &[1])]), &view);
        let restart = FaultRecord {
            at: 2,
            origin: crate::node::Origin::Schedule(0),
            written: "restart A".into(),
            applied: Applied::Restart { nodes: vec![0] },
            lasting: None,
            dynamic: false,
        };
        check.on_fault(2, &restart, &view);
        check.on_fact(2, 0, &holds(vec![]), &view);
        assert_eq!(
            check.status(),
            Status::Pass,
            "a restart that lost x is no drop here"
        );
        check.on_fact(3, 1, &holds(vec![version("a", &[])]), &view);
        check.on_fact(4, 1, &holds(vec![version("b", &[])]), &view);
        assert!(matches!(check.status(), Status::Unknown(why) if why.contains("last-write-wins")));
    }

    #[test]
    fn the_initial_value_replaced_by_a_write_with_a_clock_is_judged() {
        let view = View::abc();
        let mut check = SiblingsKept::default();
        check.on_fact(0, 0, &holds(vec![version("0", &[])]), &view);
        check.on_fact(1, 0, &holds(vec![version("1", &[1])]), &view);
        assert_eq!(
            check.status(),
            Status::Pass,
            "every write follows the initial value"
        );
    }
}
