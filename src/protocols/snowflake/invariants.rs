//! The id service's invariants, over the generators' [`IdFact::Issued`] facts.
//!
//! - `unique_ids` (safety): no id is issued twice, by one generator or two.
//! - `monotonic_ids` (safety): each generator's ids increase, in the order it issues them,
//!   across its restarts too — what makes Snowflake ids "trend-increasing" (趋势递增).
//!
//! A generator's node number is part of its ids, so two generators can only collide if they
//! share a number; a duplicate comes from one generator using a millisecond twice. The evidence
//! of a violation therefore names what happened to that generator's clock and process before
//! it: the steps of its wall clock, its restarts, and the moment it saw its clock behind.

use std::any::Any;
use std::collections::BTreeMap;

use crate::node::{
    Applied, FaultRecord, Invariant, InvariantInfo, Nanos, Observation, ObservationKinds, Property,
    ProtocolInvariant, RequestId, RunView, Status, Violation, format_duration_signed,
    format_instant,
};

use super::api::IdFact;

/// What happened to each generator that could explain a bad id: its last few clock steps,
/// restarts and clock-behind sightings, oldest first.
#[derive(Default)]
struct History {
    per_node: BTreeMap<u32, Vec<String>>,
}

impl History {
    const KEPT: usize = 4;

    fn note(&mut self, node: u32, line: String) {
        let lines = self.per_node.entry(node).or_default();
        lines.push(line);
        if lines.len() > Self::KEPT {
            lines.remove(0);
        }
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        match &fault.applied {
            Applied::ClockJump { nodes, by } => {
                for &n in nodes {
                    self.note(
                        n,
                        format!(
                            "{}: {}'s wall clock stepped {}",
                            format_instant(at),
                            view.name(n),
                            format_duration_signed(*by)
                        ),
                    );
                }
            }
            Applied::Restart { nodes } => {
                for &n in nodes {
                    self.note(
                        n,
                        format!("{}: {} restarted", format_instant(at), view.name(n)),
                    );
                }
            }
            _ => {}
        }
    }

    fn on_behind(&mut self, at: Nanos, node: u32, fact: &IdFact, view: &dyn RunView) {
        if let IdFact::ClockBehind { millis, last, then } = fact {
            self.note(
                node,
                format!(
                    "{}: {} read millisecond {millis}, {} ms before the last it used ({last}), \
                     and chose to {then}",
                    format_instant(at),
                    view.name(node),
                    last - millis
                ),
            );
        }
    }

    fn of(&self, node: u32) -> Vec<String> {
        self.per_node.get(&node).cloned().unwrap_or_default()
    }
}

/// An issued id, as the checkers remember it.
#[derive(Clone, Copy)]
struct Issue {
    at: Nanos,
    node: u32,
    request: RequestId,
    millis: u64,
    sequence: u64,
}

fn request(r: RequestId) -> String {
    format!("c{}#{}", r.client.0, r.seq)
}

/// Feeds a generator's fact to `history` (the clock-behind moments both checks cite) and
/// returns it as an issued id, when it is one.
fn issue_of(
    history: &mut History,
    at: Nanos,
    node: u32,
    fact: &dyn Any,
    view: &dyn RunView,
) -> Option<(u64, Issue)> {
    let fact = fact.downcast_ref::<IdFact>()?;
    history.on_behind(at, node, fact, view);
    let IdFact::Issued {
        id,
        millis,
        sequence,
        request,
    } = *fact
    else {
        return None;
    };
    Some((
        id,
        Issue {
            at,
            node,
            request,
            millis,
            sequence,
        },
    ))
}

/// `unique_ids`.
#[derive(Default)]
struct UniqueIds {
    seen: BTreeMap<u64, Issue>,
    history: History,
    violation: Option<Violation>,
}

impl Invariant for UniqueIds {
    fn name(&self) -> String {
        "unique_ids".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        self.history.on_fault(at, fault, view);
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some((id, now)) = issue_of(&mut self.history, at, node, fact, view) else {
            return;
        };
        let Some(first) = self.seen.get(&id).copied() else {
            self.seen.insert(id, now);
            return;
        };
        if self.violation.is_some() {
            return;
        }
        let mut nodes = vec![view.name(first.node).to_string()];
        if first.node != node {
            nodes.push(view.name(node).to_string());
        }
        let mut evidence = vec![format!(
            "{}: {} issued id {id} (millisecond {}, sequence {}) for {}",
            format_instant(first.at),
            view.name(first.node),
            first.millis,
            first.sequence,
            request(first.request)
        )];
        evidence.extend(self.history.of(node));
        self.violation = Some(Violation {
            at,
            nodes,
            message: format!(
                "id {id} was issued twice: by {} at {} for {}, and by {} at {} for {} \
                 (millisecond {}, sequence {} used again)",
                view.name(first.node),
                format_instant(first.at),
                request(first.request),
                view.name(node),
                format_instant(at),
                request(now.request),
                now.millis,
                now.sequence
            ),
            evidence,
        });
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        self.violation
            .is_none()
            .then(|| format!("{} ids, all different", self.seen.len()))
    }
}

/// `monotonic_ids`.
#[derive(Default)]
struct MonotonicIds {
    last: BTreeMap<u32, Issue>,
    last_id: BTreeMap<u32, u64>,
    history: History,
    violation: Option<Violation>,
}

impl Invariant for MonotonicIds {
    fn name(&self) -> String {
        "monotonic_ids".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        self.history.on_fault(at, fault, view);
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some((id, now)) = issue_of(&mut self.history, at, node, fact, view) else {
            return;
        };
        let before = self.last.insert(node, now);
        let before_id = self.last_id.insert(node, id);
        let (Some(before), Some(before_id)) = (before, before_id) else {
            return;
        };
        if id > before_id || self.violation.is_some() {
            return;
        }
        let name = view.name(node);
        let mut evidence = vec![format!(
            "{}: {name} issued id {before_id} (millisecond {}, sequence {}) for {}",
            format_instant(before.at),
            before.millis,
            before.sequence,
            request(before.request)
        )];
        evidence.extend(self.history.of(node));
        self.violation = Some(Violation {
            at,
            nodes: vec![name.to_string()],
            message: format!(
                "{name} issued id {id} (millisecond {}, sequence {}) for {} at {}, \
                 not greater than the id {before_id} it issued before (millisecond {})",
                now.millis,
                now.sequence,
                request(now.request),
                format_instant(at),
                before.millis
            ),
            evidence,
        });
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

/// The catalogue entries of the id service's invariants.
///
/// ```
/// use sim::protocols::snowflake::invariants::catalogue;
/// let names: Vec<&str> = catalogue().iter().map(|i| i.info.name).collect();
/// assert_eq!(names, ["unique_ids", "monotonic_ids"]);
/// ```
pub fn catalogue() -> Vec<ProtocolInvariant> {
    vec![
        ProtocolInvariant {
            info: InvariantInfo {
                name: "unique_ids",
                property: Property::Safety,
                definition: "No id is issued twice, by one generator or by two (snowflake). \
                             Read from the generators' Issued facts: an id a client never \
                             received (its request had timed out) counts too.",
                bound: None,
            },
            build: |_, _| Box::<UniqueIds>::default(),
        },
        ProtocolInvariant {
            info: InvariantInfo {
                name: "monotonic_ids",
                property: Property::Safety,
                definition: "Each generator's ids increase in the order it issues them, across \
                             its crashes and restarts too (snowflake).",
                bound: None,
            },
            build: |_, _| Box::<MonotonicIds>::default(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::testing::View;
    use crate::node::{ClientId, Origin};

    fn view() -> View {
        View::new(&["A", "B"], 0)
    }

    fn issued(id: u64, millis: u64, seq: u64) -> IdFact {
        IdFact::Issued {
            id,
            millis,
            sequence: seq,
            request: RequestId {
                client: ClientId(0),
                seq,
            },
        }
    }

    fn build(name: &str) -> Box<dyn Invariant> {
        let entry = catalogue().into_iter().find(|i| i.info.name == name);
        (entry.expect("in the catalogue").build)(2, None)
    }

    fn jump(node: u32, by: i64) -> FaultRecord {
        FaultRecord {
            at: 5,
            origin: Origin::Nemesis,
            written: "clock_jump".into(),
            applied: Applied::ClockJump {
                nodes: vec![node],
                by,
            },
            lasting: None,
            dynamic: false,
        }
    }

    #[test]
    fn an_id_issued_twice_fails_unique_ids_naming_the_clock_step() {
        let (mut check, v) = (build("unique_ids"), view());
        check.on_fact(1, 0, &issued(100, 10, 0), &v);
        check.on_fact(2, 0, &issued(101, 11, 0), &v);
        check.on_fault(5, &jump(0, -2_000_000), &v);
        assert_eq!(check.status(), Status::Pass);
        check.on_fact(9, 0, &issued(100, 10, 0), &v);
        let Status::Violated(violation) = check.status() else {
            panic!("a duplicate passed")
        };
        assert_eq!((violation.at, violation.nodes), (9, vec!["A".to_string()]));
        assert!(violation.message.contains("id 100 was issued twice"));
        assert!(
            violation
                .evidence
                .iter()
                .any(|e| e.contains("stepped -2ms")),
            "{:?}",
            violation.evidence
        );
    }

    #[test]
    fn different_ids_from_two_generators_pass_unique_ids() {
        let (mut check, v) = (build("unique_ids"), view());
        check.on_fact(1, 0, &issued(100, 10, 0), &v);
        check.on_fact(1, 1, &issued(200, 10, 0), &v);
        check.on_fact(2, 0, &issued(101, 10, 1), &v);
        assert_eq!(check.status(), Status::Pass);
        assert_eq!(check.detail(&v).as_deref(), Some("3 ids, all different"));
    }

    #[test]
    fn a_smaller_id_from_one_generator_fails_monotonic_ids() {
        let (mut check, v) = (build("monotonic_ids"), view());
        check.on_fact(1, 0, &issued(100, 10, 0), &v);
        check.on_fact(2, 1, &issued(50, 5, 0), &v);
        assert_eq!(
            check.status(),
            Status::Pass,
            "another generator's ids are apart"
        );
        check.on_fact(3, 0, &issued(90, 9, 0), &v);
        let Status::Violated(violation) = check.status() else {
            panic!("a smaller id passed")
        };
        assert_eq!(violation.nodes, ["A"]);
        assert!(violation.message.contains("not greater than the id 100"));
    }

    #[test]
    fn increasing_ids_pass_monotonic_ids() {
        let (mut check, v) = (build("monotonic_ids"), view());
        for (t, id) in [(1, 10), (2, 11), (3, 30)] {
            check.on_fact(t, 0, &issued(id, id, 0), &v);
        }
        assert_eq!(check.status(), Status::Pass);
    }
}
