//! Paxos's invariants, over its facts alone (never a node's state):
//!
//! - `agreement` (safety): at most one value is chosen — accepted by a majority of the
//!   acceptors in one ballot, counted from the acceptors' `Accepted` facts — and no learner
//!   learns a value other than one learned before (004 「约束条件」: 「只有一个提议值会生效」).
//! - `validity` (safety): a value chosen or learned is one a proposer proposed as its own.
//! - `decided_within D` (liveness): some value is chosen within `D` of the start or, when
//!   faults struck, of the last one (004 「可终止性」: 「最后总会有一个提议生效」 — which
//!   duelling proposers without backoff disprove).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use super::{Ballot, Fact, Value};
use crate::node::invariant::FromLastFault;
use crate::node::{
    BoundInfo, FaultRecord, Invariant, InvariantInfo, Nanos, Observation, ObservationKinds,
    Property, ProtocolInvariant, RunView, Status, Violation, format_duration, format_instant,
};

fn cast(fact: &dyn Any) -> Option<&Fact> {
    fact.downcast_ref::<Fact>()
}

/// `3.A`.
fn ballot(b: Ballot, view: &dyn RunView) -> String {
    format!("{}.{}", b.round, view.name(b.proposer.0))
}

/// `A's value`.
fn value(v: Value, view: &dyn RunView) -> String {
    format!("{}'s value", view.name(v.0.0))
}

/// The acceptances of each ballot, and the values they chose: what `agreement` and
/// `decided_within` both count.
#[derive(Default)]
struct Tally {
    votes: BTreeMap<(Ballot, Value), BTreeSet<u32>>,
    /// Each (ballot, value) that reached a majority: when, and by which acceptors.
    chosen: Vec<(Nanos, Ballot, Value, Vec<u32>)>,
}

impl Tally {
    /// An acceptance; the choice it completes, if it completes one.
    fn accepted(
        &mut self,
        at: Nanos,
        node: u32,
        b: Ballot,
        v: Value,
        quorum: u32,
    ) -> Option<(Nanos, Ballot, Value, Vec<u32>)> {
        let who = self.votes.entry((b, v)).or_default();
        let fresh = who.insert(node);
        if !fresh || who.len() != quorum as usize {
            return None;
        }
        let choice = (at, b, v, who.iter().copied().collect());
        self.chosen.push(choice.clone());
        Some(choice)
    }
}

// ---- agreement ----------------------------------------------------------------------------

/// `agreement`: one value chosen, and every learner learns only it.
#[derive(Default)]
pub(crate) struct Agreement {
    tally: Tally,
    /// The first value learned, by whom, when.
    learned: Option<(Nanos, u32, Value, Ballot)>,
    violation: Option<Violation>,
}

impl Invariant for Agreement {
    fn name(&self) -> String {
        "agreement".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        if self.violation.is_some() {
            return;
        }
        match cast(fact) {
            Some(&Fact::Accepted {
                ballot: b,
                value: v,
                quorum,
            }) => {
                let Some((_, b2, v2, who2)) = self.tally.accepted(at, node, b, v, quorum) else {
                    return;
                };
                let Some((at1, b1, v1, who1)) =
                    self.tally.chosen.iter().find(|c| c.2 != v2).cloned()
                else {
                    return;
                };
                let mut nodes: Vec<String> = who1
                    .iter()
                    .chain(&who2)
                    .map(|&n| view.name(n).to_string())
                    .collect();
                nodes.sort();
                nodes.dedup();
                self.violation = Some(Violation {
                    at,
                    nodes,
                    message: format!(
                        "two values chosen: {} in ballot {} and {} in ballot {}",
                        value(v1, view),
                        ballot(b1, view),
                        value(v2, view),
                        ballot(b2, view)
                    ),
                    evidence: vec![
                        format!(
                            "{} chosen at {}: accepted by {}",
                            value(v1, view),
                            format_instant(at1),
                            view.set_name(&who1)
                        ),
                        format!(
                            "{} chosen at {}: accepted by {}",
                            value(v2, view),
                            format_instant(at),
                            view.set_name(&who2)
                        ),
                    ],
                });
            }
            Some(&Fact::Learned {
                ballot: b,
                value: v,
            }) => match self.learned {
                None => self.learned = Some((at, node, v, b)),
                Some((at1, n1, v1, b1)) if v1 != v => {
                    self.violation = Some(Violation {
                        at,
                        nodes: vec![view.name(n1).to_string(), view.name(node).to_string()],
                        message: format!(
                            "{} learned {} (ballot {}) but {} had learned {} (ballot {}) at {}",
                            view.name(node),
                            value(v, view),
                            ballot(b, view),
                            view.name(n1),
                            value(v1, view),
                            ballot(b1, view),
                            format_instant(at1)
                        ),
                        evidence: Vec::new(),
                    });
                }
                Some(_) => {}
            },
            _ => {}
        }
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
    fn detail(&self, view: &dyn RunView) -> Option<String> {
        let (at, b, v, _) = self.tally.chosen.first()?;
        Some(format!(
            "{} chosen in ballot {} at {}",
            value(*v, view),
            ballot(*b, view),
            format_instant(*at)
        ))
    }
}

// ---- validity -----------------------------------------------------------------------------

/// `validity`: whatever is chosen or learned was some proposer's own value.
#[derive(Default)]
pub(crate) struct Validity {
    tally: Tally,
    proposed: BTreeSet<Value>,
    violation: Option<Violation>,
}

impl Validity {
    fn check(&mut self, at: Nanos, node: u32, v: Value, what: &str, view: &dyn RunView) {
        if self.violation.is_none() && !self.proposed.contains(&v) {
            self.violation = Some(Violation {
                at,
                nodes: vec![view.name(node).to_string()],
                message: format!("{} {what}, but no proposer proposed it", value(v, view)),
                evidence: Vec::new(),
            });
        }
    }
}

impl Invariant for Validity {
    fn name(&self) -> String {
        "validity".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        match cast(fact) {
            Some(&Fact::Proposed {
                value: v,
                own: true,
                ..
            }) => {
                self.proposed.insert(v);
            }
            Some(&Fact::Accepted {
                ballot: b,
                value: v,
                quorum,
            }) if self.tally.accepted(at, node, b, v, quorum).is_some() => {
                self.check(
                    at,
                    node,
                    v,
                    &format!("was chosen in ballot {}", ballot(b, view)),
                    view,
                );
            }
            Some(&Fact::Learned { value: v, .. }) => {
                self.check(
                    at,
                    node,
                    v,
                    &format!("was learned by {}", view.name(node)),
                    view,
                );
            }
            _ => {}
        }
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

// ---- decided_within -----------------------------------------------------------------------

/// `decided_within D`: a value chosen within `D` of the start or the last fault.
pub(crate) struct DecidedWithin {
    bound: FromLastFault,
    tally: Tally,
    /// Every ballot begun, and when.
    began: Vec<(Nanos, Ballot)>,
    status: Status,
}

impl DecidedWithin {
    pub(crate) fn new(bound: Nanos) -> Self {
        DecidedWithin {
            bound: FromLastFault::new(bound),
            tally: Tally::default(),
            began: Vec::new(),
            status: Status::Unknown("the run has not ended".into()),
        }
    }
}

impl Invariant for DecidedWithin {
    fn name(&self) -> String {
        format!("decided_within {}", format_duration(self.bound.bound))
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        match cast(fact) {
            Some(&Fact::Began { ballot }) => self.began.push((at, ballot)),
            Some(&Fact::Accepted {
                ballot,
                value,
                quorum,
            }) => {
                self.tally.accepted(at, node, ballot, value, quorum);
            }
            _ => {}
        }
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        self.bound.on_fault(at, fault);
    }
    fn on_end(&mut self, view: &dyn RunView) {
        let quiet_since = self.bound.quiet_since;
        let due = self.bound.due(quiet_since);
        let from = if quiet_since == 0 {
            "the start".to_string()
        } else {
            format!("the last fault at {}", format_instant(quiet_since))
        };
        let first = self.tally.chosen.first().map(|c| c.0);
        self.status = match first {
            Some(at) if at <= due => Status::Pass,
            _ if self.bound.cut_short(view.now()) => Status::Unknown(format!(
                "the run ended {} after {from}, before the bound of {} had passed, with no value \
                 chosen",
                format_duration(view.now().saturating_sub(quiet_since)),
                format_duration(self.bound.bound)
            )),
            chosen => {
                // The ballots of the window the bound gave, the last ones as evidence.
                let within: Vec<_> = self.began.iter().filter(|(at, _)| *at <= due).collect();
                let mut evidence: Vec<String> = within
                    .iter()
                    .rev()
                    .take(4)
                    .rev()
                    .map(|&&(at, b)| {
                        format!("{} begins ballot {}", format_instant(at), ballot(b, view))
                    })
                    .collect();
                if within.len() > evidence.len() {
                    evidence.insert(
                        0,
                        format!("… {} earlier ballot(s)", within.len() - evidence.len()),
                    );
                }
                if let Some(at) = chosen {
                    evidence.push(format!("a value was chosen only at {}", format_instant(at)));
                }
                Status::Violated(Violation {
                    at: due,
                    nodes: Vec::new(),
                    message: format!(
                        "no value was chosen within {} of {from}: {} ballots begun and none \
                         accepted by a majority",
                        format_duration(self.bound.bound),
                        within.len()
                    ),
                    evidence,
                })
            }
        };
    }
    fn status(&self) -> Status {
        self.status.clone()
    }
}

// ---- the catalogue entries ----------------------------------------------------------------

/// `agreement`.
pub fn agreement() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "agreement",
            property: Property::Safety,
            definition: "At most one value is chosen (accepted by a majority of the acceptors \
                         in one ballot, counted from what the acceptors accepted), and no \
                         learner learns a value other than one learned before.",
            bound: None,
        },
        build: |_, _| Box::new(Agreement::default()),
    }
}

/// `validity`.
pub fn validity() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "validity",
            property: Property::Safety,
            definition: "A value chosen or learned is one that some proposer proposed as its \
                         own.",
            bound: None,
        },
        build: |_, _| Box::new(Validity::default()),
    }
}

/// `decided_within D`.
pub fn decided_within() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "decided_within",
            property: Property::Liveness,
            definition: "Set by `decided_within = \"2s\"` in [check]. Some value is chosen \
                         (accepted by a majority of the acceptors in one ballot) within the \
                         bound of the start or, when faults struck, of the last one. Unknown \
                         when the run ends before the bound has passed.",
            bound: Some(BoundInfo {
                example: "2s",
                description: "The liveness bound: a value must be chosen within it of the \
                              start or the last fault (decided_within), e.g. \"2s\".",
            }),
        },
        build: |_, bound| {
            Box::new(DecidedWithin::new(
                bound.expect("a bounded invariant gets its bound"),
            ))
        },
    }
}
