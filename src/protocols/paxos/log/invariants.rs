//! The invariants of a Paxos log, over its facts alone:
//!
//! - `agreement` (safety): each instance chooses at most one value — counted from the
//!   acceptors' `Accepted` facts (a majority in one ballot) and from what proposers learned
//!   (`Chosen`) — so every replica applying the log applies the same commands in the same order
//!   (004 「约束条件」, per instance).
//! - `validity` (safety): a value chosen is a no-op or a command its proposer took up, and no
//!   command is chosen in two instances (a client's command applied twice).
//! - `median_decision_within D` (a bound on cost): the median time from a proposer taking a
//!   command up to its learning that command chosen is at most `D` (003 「3.3 Paxos算法」:
//!   the coordination costs performance). The median, not every decision: the decisions a
//!   crash, a partition or a lost message delays are the tail, and what a design costs is the
//!   typical decision.

use std::any::Any;
use std::collections::BTreeMap;

use super::super::Ballot;
use super::{Cmd, Fact};
use crate::node::{
    BoundInfo, Invariant, InvariantInfo, Nanos, Observation, ObservationKinds, Property,
    ProtocolInvariant, RunView, Status, Violation, format_duration, format_instant,
};

fn cast(fact: &dyn Any) -> Option<&Fact> {
    fact.downcast_ref::<Fact>()
}

/// `A's command 3`, `a no-op`.
pub(crate) fn command(v: Cmd, view: &dyn RunView) -> String {
    match v {
        Cmd::Command { by, seq } => format!("{}'s command {seq}", view.name(by.0)),
        Cmd::Noop => "a no-op".into(),
    }
}

/// `3.A`.
pub(crate) fn ballot(b: Ballot, view: &dyn RunView) -> String {
    format!("{}.{}", b.round, view.name(b.proposer.0))
}

/// The acceptances of each (instance, ballot, value): a majority chooses.
#[derive(Default)]
struct Tally {
    votes: BTreeMap<(u64, Ballot, Cmd), Vec<u32>>,
}

impl Tally {
    /// An acceptance; the majority, when it completes one.
    fn accepted(&mut self, node: u32, key: (u64, Ballot, Cmd), quorum: u32) -> Option<Vec<u32>> {
        let who = self.votes.entry(key).or_default();
        if who.contains(&node) {
            return None;
        }
        who.push(node);
        (who.len() == quorum as usize).then(|| {
            let mut majority = who.clone();
            majority.sort_unstable();
            majority
        })
    }
}

// ---- agreement ----------------------------------------------------------------------------

/// `agreement`: one value per instance.
#[derive(Default)]
pub(crate) struct Agreement {
    tally: Tally,
    /// Per instance, the first value chosen: when, and how it is known.
    chosen: BTreeMap<u64, (Nanos, Cmd, String)>,
    violation: Option<Violation>,
}

impl Agreement {
    fn check(&mut self, at: Nanos, instance: u64, v: Cmd, how: String, view: &dyn RunView) {
        match self.chosen.get(&instance) {
            None => {
                self.chosen.insert(instance, (at, v, how));
            }
            Some((_, first, _)) if *first == v => {}
            Some((at1, first, how1)) => {
                self.violation = Some(Violation {
                    at,
                    nodes: Vec::new(),
                    message: format!(
                        "instance {instance} chose two values: {} and {}",
                        command(*first, view),
                        command(v, view)
                    ),
                    evidence: vec![
                        format!(
                            "{} {} at {}",
                            command(*first, view),
                            how1,
                            format_instant(*at1)
                        ),
                        format!("{} {how} at {}", command(v, view), format_instant(at)),
                    ],
                });
            }
        }
    }
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
                instance,
                value,
                quorum,
            }) => {
                if let Some(who) = self.tally.accepted(node, (instance, b, value), quorum) {
                    let how = format!(
                        "chosen in ballot {}: accepted by {}",
                        ballot(b, view),
                        view.set_name(&who)
                    );
                    self.check(at, instance, value, how, view);
                }
            }
            Some(&Fact::Chosen {
                ballot: b,
                instance,
                value,
                ..
            }) => {
                let how = format!(
                    "learned chosen by {} (ballot {})",
                    view.name(node),
                    ballot(b, view)
                );
                self.check(at, instance, value, how, view);
            }
            _ => {}
        }
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

// ---- validity -----------------------------------------------------------------------------

/// `validity`: only commands taken up are chosen, each in one instance.
#[derive(Default)]
pub(crate) struct Validity {
    tally: Tally,
    taken: Vec<Cmd>,
    /// Each command chosen, and its instance.
    placed: BTreeMap<Cmd, u64>,
    violation: Option<Violation>,
}

impl Validity {
    fn chosen(&mut self, at: Nanos, instance: u64, v: Cmd, view: &dyn RunView) {
        if v == Cmd::Noop {
            return;
        }
        if !self.taken.contains(&v) {
            self.violation = Some(Violation {
                at,
                nodes: Vec::new(),
                message: format!(
                    "instance {instance} chose {}, which no proposer took up",
                    command(v, view)
                ),
                evidence: Vec::new(),
            });
            return;
        }
        match self.placed.get(&v) {
            None => {
                self.placed.insert(v, instance);
            }
            Some(&i) if i == instance => {}
            Some(&i) => {
                self.violation = Some(Violation {
                    at,
                    nodes: Vec::new(),
                    message: format!(
                        "{} chosen twice: in instance {i} and in instance {instance}",
                        command(v, view)
                    ),
                    evidence: vec!["a replica applying the log applies it twice".into()],
                });
            }
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
        if self.violation.is_some() {
            return;
        }
        match cast(fact) {
            Some(&Fact::Took { value }) => self.taken.push(value),
            Some(&Fact::Accepted {
                ballot,
                instance,
                value,
                quorum,
            }) if self
                .tally
                .accepted(node, (instance, ballot, value), quorum)
                .is_some() =>
            {
                self.chosen(at, instance, value, view);
            }
            Some(&Fact::Chosen {
                instance, value, ..
            }) => self.chosen(at, instance, value, view),
            _ => {}
        }
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

// ---- median_decision_within ---------------------------------------------------------------

/// The latency of each decision of a command: from the first `Took` of the command to the
/// first `Chosen` of it, with the phases that `Chosen` says ran. Shared by the bound, the
/// report section and the experiment metric.
#[derive(Debug, Default)]
pub(crate) struct Latencies {
    took: BTreeMap<Cmd, Nanos>,
    /// Each command decided: (its latency, phase-1 runs, phase-2 runs), in the order decided.
    pub(crate) decided: Vec<(Cmd, Nanos, u32, u32)>,
}

impl Latencies {
    pub(crate) fn took(&mut self, at: Nanos, v: Cmd) {
        self.took.entry(v).or_insert(at);
    }

    pub(crate) fn chosen(&mut self, at: Nanos, v: Cmd, prepares: u32, accepts: u32) {
        if self.decided.iter().any(|d| d.0 == v) {
            return;
        }
        if let Some(&from) = self.took.get(&v) {
            self.decided
                .push((v, at.saturating_sub(from), prepares, accepts));
        }
    }

    /// The lower median of the latencies, if any decision was made.
    pub(crate) fn median(&self) -> Option<Nanos> {
        let mut all: Vec<Nanos> = self.decided.iter().map(|d| d.1).collect();
        all.sort_unstable();
        all.get(all.len().saturating_sub(1) / 2).copied()
    }
}

/// `median_decision_within D`.
pub(crate) struct MedianDecisionWithin {
    bound: Nanos,
    latencies: Latencies,
    status: Status,
}

impl MedianDecisionWithin {
    pub(crate) fn new(bound: Nanos) -> Self {
        MedianDecisionWithin {
            bound,
            latencies: Latencies::default(),
            status: Status::Unknown("the run has not ended".into()),
        }
    }
}

impl Invariant for MedianDecisionWithin {
    fn name(&self) -> String {
        format!("median_decision_within {}", format_duration(self.bound))
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, _: u32, fact: &dyn Any, _: &dyn RunView) {
        match cast(fact) {
            Some(&Fact::Took { value }) => self.latencies.took(at, value),
            Some(&Fact::Chosen {
                value,
                prepares,
                accepts,
                ..
            }) => self.latencies.chosen(at, value, prepares, accepts),
            _ => {}
        }
    }
    fn on_end(&mut self, view: &dyn RunView) {
        let decided = &self.latencies.decided;
        self.status = match self.latencies.median() {
            None => Status::Unknown("no command was decided".into()),
            Some(m) if m <= self.bound => Status::Pass,
            Some(m) => {
                let both = decided.iter().filter(|d| d.2 > 0).count();
                let slowest = decided.iter().max_by_key(|d| d.1).expect("some decided");
                Status::Violated(Violation {
                    at: view.now(),
                    nodes: Vec::new(),
                    message: format!(
                        "the median decision took {}, over the bound of {}: {} of {} decisions \
                         ran phase 1 as well as phase 2",
                        format_duration(m),
                        format_duration(self.bound),
                        both,
                        decided.len()
                    ),
                    evidence: vec![
                        format!(
                            "fastest {}, slowest {} ({})",
                            format_duration(decided.iter().map(|d| d.1).min().unwrap_or(0)),
                            format_duration(slowest.1),
                            command(slowest.0, view)
                        ),
                        format!(
                            "round trips per decision: {:.2}",
                            decided.iter().map(|d| u64::from(d.2 + d.3)).sum::<u64>() as f64
                                / decided.len() as f64
                        ),
                    ],
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
            definition: "Each instance of the log chooses at most one value (accepted by a \
                         majority of the acceptors in one ballot, or learned chosen by a \
                         proposer).",
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
            definition: "A value chosen is a no-op or a command its proposer took up, and no \
                         command is chosen in two instances.",
            bound: None,
        },
        build: |_, _| Box::new(Validity::default()),
    }
}

/// `median_decision_within D`.
pub fn median_decision_within() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "median_decision_within",
            property: Property::Liveness,
            definition: "Set by `median_decision_within = \"15ms\"` in [check]. The median \
                         time from a proposer taking a command up to its learning the command \
                         chosen is within the bound. Unknown when no command was decided.",
            bound: Some(BoundInfo {
                example: "15ms",
                description: "The bound on the median decision's latency \
                              (median_decision_within), e.g. \"15ms\".",
            }),
        },
        build: |_, bound| {
            Box::new(MedianDecisionWithin::new(
                bound.expect("a bounded invariant gets its bound"),
            ))
        },
    }
}
