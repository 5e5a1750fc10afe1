//! The invariants of `messaging`, over its own facts.
//!
//! - `no_orphan_message` (safety): the consumer never carries out the message of a local
//!   transaction that did not commit: one never committed when its message was consumed, or
//!   rolled back before or after. Violated at the later of the consumption and the rollback.
//! - `no_duplicate_effect` (safety): the consumer carries out each message's effect at most
//!   once, however many copies reach it.
//! - `no_lost_message D` (liveness): from the last fault (or the start), the message of every
//!   local transaction that committed (and stayed committed) is consumed within `D` of the
//!   later of its commit and the last fault. Judged at the end of the run: a transaction whose
//!   deadline has passed unconsumed is a violation, at its deadline; unknown when the run ends
//!   within `D` of the last fault with a committed message not yet consumed.
//!
//! The bound from the last fault is `node::invariant::FromLastFault`, the one
//! `resolved_within` and `lock_progress` keep too.

use std::any::Any;
use std::collections::BTreeMap;

use crate::node::invariant::{FirstViolation, FromLastFault};
use crate::node::{
    BoundInfo, FaultRecord, Invariant, InvariantInfo, Nanos, Observation, ObservationKinds,
    Property, ProtocolInvariant, RunView, Status, Violation, format_duration, format_instant,
};

use super::messages::{By, MessagingFact, Why};

fn why(w: Why) -> &'static str {
    match w {
        Why::Business => "its business logic failed",
        Why::SendFailed => "the broker did not acknowledge the send in time",
        Why::PrepareFailed => "the broker did not acknowledge the prepared message in time",
    }
}

/// What the checkers remember of one transaction.
#[derive(Clone, Debug, Default)]
struct Txn {
    committed: Option<Nanos>,
    rolled_back: Option<(Nanos, Why)>,
    /// Every consumption: when, and the copy.
    consumed: Vec<(Nanos, u64)>,
    /// The broker's part: when it stored a copy, prepared it, resolved it.
    broker: Vec<(Nanos, String)>,
    /// Whether the broker holds it prepared, never resolved.
    pending: bool,
}

/// Every transaction's story, from the facts.
#[derive(Default)]
struct Ledger(BTreeMap<u64, Txn>);

impl Ledger {
    /// Books a fact; returns its transaction.
    fn book(&mut self, at: Nanos, fact: &MessagingFact) -> u64 {
        match *fact {
            MessagingFact::Committed { txn } => {
                self.0.entry(txn).or_default().committed = Some(at);
                txn
            }
            MessagingFact::RolledBack { txn, why } => {
                self.0.entry(txn).or_default().rolled_back = Some((at, why));
                txn
            }
            MessagingFact::Consumed { txn, offset } => {
                self.0.entry(txn).or_default().consumed.push((at, offset));
                txn
            }
            MessagingFact::Stored { txn, offset } => {
                let t = self.0.entry(txn).or_default();
                t.broker
                    .push((at, format!("the broker stored a copy (offset {offset})")));
                txn
            }
            MessagingFact::Prepared { txn } => {
                let t = self.0.entry(txn).or_default();
                t.pending = true;
                t.broker
                    .push((at, "the broker stored the prepared message".into()));
                txn
            }
            MessagingFact::Resolved { txn, commit, by } => {
                let t = self.0.entry(txn).or_default();
                t.pending = false;
                let by = match by {
                    By::Producer => "on the producer's word",
                    By::CheckBack => "after checking back with the producer",
                };
                let what = if commit { "confirmed" } else { "dropped" };
                t.broker
                    .push((at, format!("the broker {what} the prepared message {by}")));
                txn
            }
            MessagingFact::Skipped { txn, .. } => txn,
        }
    }

    /// The transaction's story, oldest first.
    fn evidence(&self, txn: u64) -> Vec<String> {
        let Some(t) = self.0.get(&txn) else {
            return Vec::new();
        };
        let mut lines: Vec<(Nanos, String)> = t.broker.clone();
        if let Some(at) = t.committed {
            lines.push((at, format!("the producer committed transaction {txn}")));
        }
        if let Some((at, w)) = t.rolled_back {
            lines.push((
                at,
                format!("the producer rolled transaction {txn} back: {}", why(w)),
            ));
        }
        for &(at, offset) in &t.consumed {
            lines.push((
                at,
                format!("the consumer carried out its message (offset {offset})"),
            ));
        }
        lines.sort_by_key(|(at, _)| *at);
        lines
            .into_iter()
            .map(|(at, l)| format!("{} {l}", format_instant(at)))
            .collect()
    }
}

fn cast(fact: &dyn Any) -> Option<&MessagingFact> {
    fact.downcast_ref::<MessagingFact>()
}

/// The consumer's name: the third node.
fn consumer(view: &dyn RunView) -> String {
    view.name(2).to_string()
}

/// The checker of `no_orphan_message`.
#[derive(Default)]
pub(crate) struct NoOrphanMessage {
    ledger: Ledger,
    verdict: FirstViolation,
    consumed: u64,
}

impl Invariant for NoOrphanMessage {
    fn name(&self) -> String {
        "no_orphan_message".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, _: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = cast(fact) else { return };
        let txn = self.ledger.book(at, fact);
        let t = &self.ledger.0[&txn];
        let (committed, rolled_back, consumed) =
            (t.committed, t.rolled_back, !t.consumed.is_empty());
        let message = match *fact {
            MessagingFact::Consumed { .. } => {
                self.consumed += 1;
                match (committed, rolled_back) {
                    (_, Some(_)) => format!(
                        "the consumer carried out the message of transaction {txn}, which the \
                         producer had rolled back: an effect for a transaction that did not \
                         happen"
                    ),
                    (None, None) => format!(
                        "the consumer carried out the message of transaction {txn}, which had \
                         not committed"
                    ),
                    _ => return,
                }
            }
            MessagingFact::RolledBack { why: w, .. } if consumed => format!(
                "the producer rolled transaction {txn} back ({}) after the consumer had carried \
                 out its message: an effect for a transaction that did not happen",
                why(w)
            ),
            _ => return,
        };
        let evidence = self.ledger.evidence(txn);
        let nodes = vec![view.name(0).to_string(), consumer(view)];
        self.verdict.fail(at, nodes, message, evidence);
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        Some(format!(
            "{} message(s) consumed, each of a committed transaction",
            self.consumed
        ))
    }
}

/// The checker of `no_duplicate_effect`.
#[derive(Default)]
pub(crate) struct NoDuplicateEffect {
    ledger: Ledger,
    skipped: u64,
    verdict: FirstViolation,
}

impl Invariant for NoDuplicateEffect {
    fn name(&self) -> String {
        "no_duplicate_effect".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, _: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = cast(fact) else { return };
        if let MessagingFact::Skipped { .. } = fact {
            self.skipped += 1;
        }
        let txn = self.ledger.book(at, fact);
        let MessagingFact::Consumed { offset, .. } = *fact else {
            return;
        };
        let consumed = &self.ledger.0[&txn].consumed;
        if consumed.len() == 2 {
            let message = format!(
                "the consumer carried out the message of transaction {txn} a second time (copy \
                 at offset {offset}, first at {}): a duplicate effect",
                format_instant(consumed[0].0)
            );
            let evidence = self.ledger.evidence(txn);
            self.verdict
                .fail(at, vec![consumer(view)], message, evidence);
        }
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        Some(format!(
            "{} duplicate copy(ies) skipped by the consumer",
            self.skipped
        ))
    }
}

/// The checker of `no_lost_message D`.
pub(crate) struct NoLostMessage {
    bound: FromLastFault,
    ledger: Ledger,
    status: Status,
}

impl NoLostMessage {
    pub(crate) fn new(bound: Nanos) -> Self {
        NoLostMessage {
            bound: FromLastFault::new(bound),
            ledger: Ledger::default(),
            status: Status::Unknown("the run has not ended".into()),
        }
    }
}

impl Invariant for NoLostMessage {
    fn name(&self) -> String {
        format!("no_lost_message {}", format_duration(self.bound.bound))
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, _: u32, fact: &dyn Any, _: &dyn RunView) {
        if let Some(fact) = cast(fact) {
            self.ledger.book(at, fact);
        }
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        self.bound.on_fault(at, fault);
    }
    fn on_end(&mut self, view: &dyn RunView) {
        let now = view.now();
        // Committed, still committed, never consumed.
        let open: Vec<(u64, Nanos)> = self
            .ledger
            .0
            .iter()
            .filter(|(_, t)| t.rolled_back.is_none() && t.consumed.is_empty())
            .filter_map(|(&txn, t)| t.committed.map(|at| (txn, at)))
            .collect();
        let late = open
            .iter()
            .filter(|&&(_, at)| self.bound.due(at) <= now)
            .min_by_key(|&&(_, at)| at);
        self.status = match late {
            Some(&(txn, at)) => {
                let mut evidence = self.ledger.evidence(txn);
                let t = &self.ledger.0[&txn];
                if t.broker.is_empty() {
                    evidence.push("the broker never stored its message".into());
                } else if t.pending {
                    evidence.push(
                        "its message is still prepared on the broker: no confirm reached it".into(),
                    );
                }
                let since = self.bound.start(at);
                let from = if since == at {
                    "its commit".to_string()
                } else {
                    format!("the last fault at {}", format_instant(since))
                };
                Status::Violated(Violation {
                    at: self.bound.due(at),
                    nodes: vec![view.name(0).to_string(), consumer(view)],
                    message: format!(
                        "transaction {txn} committed at {} and its message was not consumed \
                         within {} of {from}, nor by the end of the run at {}: a lost message",
                        format_instant(at),
                        format_duration(self.bound.bound),
                        format_instant(now)
                    ),
                    evidence,
                })
            }
            None if !open.is_empty() && self.bound.cut_short(now) => Status::Unknown(format!(
                "the run ended {} after the last fault, before the bound of {} had \
                     passed, with {} committed message(s) not yet consumed",
                format_duration(now - self.bound.quiet_since),
                format_duration(self.bound.bound),
                open.len()
            )),
            None => Status::Pass,
        };
    }
    fn status(&self) -> Status {
        self.status.clone()
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        let committed = self
            .ledger
            .0
            .values()
            .filter(|t| t.committed.is_some() && t.rolled_back.is_none())
            .count();
        Some(format!(
            "{committed} committed transaction(s), each message consumed"
        ))
    }
}

/// `no_orphan_message`'s catalogue entry.
///
/// ```
/// use sim::node::Property;
/// use sim::protocols::messaging::invariants::no_orphan_message;
/// let entry = no_orphan_message();
/// assert_eq!((entry.info.name, entry.info.property), ("no_orphan_message", Property::Safety));
/// ```
pub fn no_orphan_message() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_orphan_message",
            property: Property::Safety,
            definition: "(messaging) The consumer never carries out the message of a local \
                         transaction that did not commit: one not committed when its message \
                         was consumed, or rolled back before or after (the send that timed out \
                         but was delivered).",
            bound: None,
        },
        build: |_, _| Box::new(NoOrphanMessage::default()),
    }
}

/// `no_duplicate_effect`'s catalogue entry.
///
/// ```
/// use sim::node::Property;
/// use sim::protocols::messaging::invariants::no_duplicate_effect;
/// assert_eq!(no_duplicate_effect().info.name, "no_duplicate_effect");
/// ```
pub fn no_duplicate_effect() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_duplicate_effect",
            property: Property::Safety,
            definition: "(messaging) The consumer carries out each message's effect at most \
                         once, however many copies of it are delivered.",
            bound: None,
        },
        build: |_, _| Box::new(NoDuplicateEffect::default()),
    }
}

/// `no_lost_message D`'s catalogue entry.
///
/// ```
/// use sim::protocols::messaging::invariants::no_lost_message;
/// const S: u64 = 1_000_000_000;
/// let entry = no_lost_message();
/// assert!(entry.info.bound.is_some(), "[check] no_lost_message = \"3s\" sets its bound");
/// assert_eq!((entry.build)(3, Some(3 * S)).name(), "no_lost_message 3s");
/// ```
pub fn no_lost_message() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_lost_message",
            property: Property::Liveness,
            definition: "Set by `no_lost_message = \"3s\"` in [check] (messaging). The message \
                         of every local transaction that committed (and stayed committed) is \
                         consumed within the bound of the later of its commit and the last \
                         fault. Judged at the end of the run; unknown when the run ends within \
                         the bound of the last fault with a committed message not yet consumed.",
            bound: Some(BoundInfo {
                example: "3s",
                description: "The liveness bound: from the last fault, every committed \
                              transaction's message must be consumed within it \
                              (no_lost_message), e.g. \"3s\".",
            }),
        },
        build: |_, bound| {
            Box::new(NoLostMessage::new(
                bound.expect("a bounded invariant gets its bound"),
            ))
        },
    }
}
