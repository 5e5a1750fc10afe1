//! The interactive consistency conditions of the Byzantine generals (Lamport, Shostak and
//! Pease, 1982, §1), over the generals' facts and the fault records alone:
//!
//! - `byzantine_agreement` (IC1, safety): all loyal lieutenants decide the same order.
//! - `byzantine_validity` (IC2, safety): if the commander is loyal, every loyal lieutenant
//!   decides the order it gave.
//!
//! Who is loyal is read from the world's records (`Applied::Traitor`), never from what a
//! general says of itself: a general is loyal until a `byzantine` fault names it. A traitor's
//! decision is judged by no one (the text: 「忠诚的将军之间如何达成一致」).

use std::any::Any;
use std::collections::BTreeSet;

use super::{Fact, NodeId, Order};
use crate::node::{
    Applied, FaultRecord, Invariant, InvariantInfo, Nanos, Observation, ObservationKinds, Property,
    ProtocolInvariant, RunView, Status, Violation, format_instant,
};

fn cast(fact: &dyn Any) -> Option<&Fact> {
    fact.downcast_ref::<Fact>()
}

/// `A attack, C retreat, D attack`.
fn votes(votes: &[(NodeId, Order)], view: &dyn RunView) -> String {
    let each: Vec<String> = votes
        .iter()
        .map(|&(g, o)| format!("{} {}", view.name(g.0), o.word()))
        .collect();
    each.join(", ")
}

/// The traitors, as the fault records name them.
#[derive(Default)]
struct Traitors(BTreeSet<u32>);

impl Traitors {
    fn on_fault(&mut self, fault: &FaultRecord) {
        if let Applied::Traitor { nodes } = &fault.applied {
            self.0.extend(nodes.iter().copied());
        }
    }

    fn loyal(&self, node: u32) -> bool {
        !self.0.contains(&node)
    }

    /// `traitors: D` or `no traitor`.
    fn describe(&self, view: &dyn RunView) -> String {
        if self.0.is_empty() {
            "no traitor".into()
        } else {
            let all: Vec<u32> = self.0.iter().copied().collect();
            let named: Vec<&str> = all.iter().map(|&n| view.name(n)).collect();
            format!("traitors: {}", named.join(", "))
        }
    }
}

/// One lieutenant's decision.
#[derive(Clone)]
struct Decision {
    at: Nanos,
    node: u32,
    order: Order,
    votes: Vec<(NodeId, Order)>,
}

impl Decision {
    fn of(at: Nanos, node: u32, fact: &Fact) -> Option<Decision> {
        match fact {
            Fact::Decided { order, votes } => Some(Decision {
                at,
                node,
                order: *order,
                votes: votes.clone(),
            }),
            Fact::Commanded { .. } => None,
        }
    }

    /// `B decided attack at 1s from A attack, C attack, D retreat`.
    fn describe(&self, view: &dyn RunView) -> String {
        format!(
            "{} decided {} at {} from {}",
            view.name(self.node),
            self.order.word(),
            format_instant(self.at),
            votes(&self.votes, view)
        )
    }
}

// ---- byzantine_agreement ----------------------------------------------------------------------

/// IC1: every loyal lieutenant decides the same order.
#[derive(Default)]
pub(crate) struct Agreement {
    traitors: Traitors,
    /// Each loyal lieutenant's decision, in the order they came.
    loyal: Vec<Decision>,
    violation: Option<Violation>,
}

impl Invariant for Agreement {
    fn name(&self) -> String {
        "byzantine_agreement".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fault(&mut self, _: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        self.traitors.on_fault(fault);
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(d) = cast(fact).and_then(|f| Decision::of(at, node, f)) else {
            return;
        };
        if self.violation.is_some() || !self.traitors.loyal(node) {
            return;
        }
        if let Some(first) = self.loyal.iter().find(|e| e.order != d.order) {
            self.violation = Some(Violation {
                at,
                nodes: vec![
                    view.name(first.node).to_string(),
                    view.name(node).to_string(),
                ],
                message: format!(
                    "loyal lieutenants disagree: {} decided {} but {} decided {} ({})",
                    view.name(first.node),
                    first.order.word(),
                    view.name(node),
                    d.order.word(),
                    self.traitors.describe(view)
                ),
                evidence: vec![first.describe(view), d.describe(view)],
            });
        }
        self.loyal.push(d);
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
    fn detail(&self, view: &dyn RunView) -> Option<String> {
        let first = self.loyal.first()?;
        let who: Vec<u32> = self.loyal.iter().map(|d| d.node).collect();
        Some(format!(
            "loyal {} decided {} ({})",
            view.set_name(&who),
            first.order.word(),
            self.traitors.describe(view)
        ))
    }
}

// ---- byzantine_validity -----------------------------------------------------------------------

/// IC2: if the commander is loyal, every loyal lieutenant obeys it.
#[derive(Default)]
pub(crate) struct Validity {
    traitors: Traitors,
    /// The commander and its order, once it gave one.
    command: Option<(u32, Order)>,
    obeyed: Vec<u32>,
    violation: Option<Violation>,
}

impl Invariant for Validity {
    fn name(&self) -> String {
        "byzantine_validity".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fault(&mut self, _: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        self.traitors.on_fault(fault);
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = cast(fact) else {
            return;
        };
        if let Fact::Commanded { order, .. } = fact {
            self.command = Some((node, *order));
            return;
        }
        let Some(d) = Decision::of(at, node, fact) else {
            return;
        };
        let Some((commander, order)) = self.command else {
            return;
        };
        if self.violation.is_some() || !self.traitors.loyal(node) || !self.traitors.loyal(commander)
        {
            return;
        }
        if d.order == order {
            self.obeyed.push(node);
            return;
        }
        self.violation = Some(Violation {
            at,
            nodes: vec![
                view.name(commander).to_string(),
                view.name(node).to_string(),
            ],
            message: format!(
                "the loyal commander {} ordered {} but loyal {} decided {} ({})",
                view.name(commander),
                order.word(),
                view.name(node),
                d.order.word(),
                self.traitors.describe(view)
            ),
            evidence: vec![d.describe(view)],
        });
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
    fn detail(&self, view: &dyn RunView) -> Option<String> {
        let (commander, order) = self.command?;
        Some(if self.traitors.loyal(commander) {
            format!(
                "the loyal commander {} ordered {}; {} obeyed",
                view.name(commander),
                order.word(),
                if self.obeyed.is_empty() {
                    "no lieutenant decided, so none".to_string()
                } else {
                    view.set_name(&self.obeyed)
                }
            )
        } else {
            format!(
                "the commander {} is a traitor: validity asks nothing",
                view.name(commander)
            )
        })
    }
}

// ---- the catalogue entries --------------------------------------------------------------------

/// `byzantine_agreement` (IC1).
pub fn agreement() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "byzantine_agreement",
            property: Property::Safety,
            definition: "IC1 of the Byzantine generals: every loyal lieutenant decides the same \
                         order. Loyal: no `byzantine` fault has named it when it decides; a \
                         traitor's decision is not judged.",
            bound: None,
        },
        build: |_, _| Box::new(Agreement::default()),
    }
}

/// `byzantine_validity` (IC2).
pub fn validity() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "byzantine_validity",
            property: Property::Safety,
            definition: "IC2 of the Byzantine generals: if the commander is loyal, every loyal \
                         lieutenant decides the order the commander gave. Nothing is asked of a \
                         run whose commander is a traitor.",
            bound: None,
        },
        build: |_, _| Box::new(Validity::default()),
    }
}
