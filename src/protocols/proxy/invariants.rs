//! The invariants of `proxy`, over its own facts.
//!
//! - `fifo_per_sender` (safety): the backend applies each sender's messages in the order the
//!   sender numbered them, each once: applying a message after one the sender sent later (it
//!   was overtaken), or applying one a second time, is a violation. A message never applied is
//!   not this invariant's business (`no_lost_message` is).
//! - `no_lost_message D` (liveness): every message a sender sent is applied by the backend
//!   within `D` of the later of its first send and the last fault. Judged at the end of the
//!   run: a message whose deadline has passed unapplied is a violation, at its deadline;
//!   unknown when the run ends within `D` of the last fault with a message not yet applied.
//!   The same name and meaning as `messaging`'s; the bound from the last fault is
//!   `node::invariant::FromLastFault`, the one every "within D of the last fault" invariant
//!   keeps.
//!
//! Both tell the story of the messages involved: which proxy each send went through, when it
//! arrived, and the crashes and pauses of the proxies on the way.

use std::any::Any;
use std::collections::BTreeMap;

use crate::node::invariant::{FirstViolation, FromLastFault};
use crate::node::{
    Applied as Done, BoundInfo, FaultRecord, Invariant, InvariantInfo, Nanos, NodeId, Observation,
    ObservationKinds, Property, ProtocolInvariant, RunView, Status, Violation, format_duration,
    format_instant,
};

use super::BACKEND;
use super::messages::ProxyFact;

/// One message's story, from the facts.
#[derive(Clone, Debug, Default)]
struct Story {
    /// Every send: when, through which proxy.
    sent: Vec<(Nanos, NodeId)>,
    /// Every arrival at the backend: when, forwarded by which proxy.
    arrived: Vec<(Nanos, NodeId)>,
    /// When the backend applied it, every time it did.
    applied: Vec<Nanos>,
}

/// Every message of every sender, and the proxies' faults.
#[derive(Default)]
struct Ledger {
    messages: BTreeMap<(NodeId, u64), Story>,
    /// Crashes, restarts, pauses and resumes, in words.
    faults: Vec<(Nanos, String)>,
}

impl Ledger {
    fn book(&mut self, at: Nanos, node: u32, fact: &ProxyFact) {
        match *fact {
            ProxyFact::Sent { seq, via, .. } => {
                let m = self.messages.entry((NodeId(node), seq)).or_default();
                m.sent.push((at, via));
            }
            ProxyFact::Arrived { sender, seq, via } => {
                let m = self.messages.entry((sender, seq)).or_default();
                m.arrived.push((at, via));
            }
            ProxyFact::Applied { sender, seq } => {
                let m = self.messages.entry((sender, seq)).or_default();
                m.applied.push(at);
            }
            ProxyFact::Held { .. } | ProxyFact::Dropped { .. } => {}
        }
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        let (nodes, what) = match &fault.applied {
            Done::Crash { nodes } => (nodes, "crashed"),
            Done::Restart { nodes } => (nodes, "restarted"),
            Done::Pause { nodes } => (nodes, "paused"),
            Done::Resume { nodes } => (nodes, "resumed"),
            _ => return,
        };
        let names: Vec<&str> = nodes.iter().map(|&n| view.name(n)).collect();
        self.faults
            .push((at, format!("{} {what}", names.join(", "))));
    }

    /// The story of message `seq` of `sender`, oldest first, each line naming it `label`.
    fn lines(&self, sender: NodeId, seq: u64, view: &dyn RunView) -> Vec<(Nanos, String)> {
        let Some(m) = self.messages.get(&(sender, seq)) else {
            return Vec::new();
        };
        let s = view.name(sender.0);
        let mut lines = Vec::new();
        for (i, &(at, via)) in m.sent.iter().enumerate() {
            let again = if i == 0 { "" } else { " again" };
            lines.push((
                at,
                format!("{s} sent message {seq}{again} through {}", view.name(via.0)),
            ));
        }
        for &(at, via) in &m.arrived {
            lines.push((
                at,
                format!(
                    "message {seq} of {s} arrived at the backend from {}",
                    view.name(via.0)
                ),
            ));
        }
        for &at in &m.applied {
            lines.push((at, format!("the backend applied message {seq} of {s}")));
        }
        lines
    }

    /// The stories of these messages and the faults between `from` and `to`, oldest first.
    fn evidence(
        &self,
        sender: NodeId,
        seqs: &[u64],
        (from, to): (Nanos, Nanos),
        view: &dyn RunView,
    ) -> Vec<String> {
        let mut lines: Vec<(Nanos, String)> = seqs
            .iter()
            .flat_map(|&seq| self.lines(sender, seq, view))
            .collect();
        lines.extend(
            self.faults
                .iter()
                .filter(|(at, _)| (from..=to).contains(at))
                .cloned(),
        );
        // Stable: what happened at one instant keeps the order it was booked in.
        lines.sort_by_key(|(at, _)| *at);
        lines
            .into_iter()
            .map(|(at, l)| format!("{} {l}", format_instant(at)))
            .collect()
    }
}

fn cast(fact: &dyn Any) -> Option<&ProxyFact> {
    fact.downcast_ref::<ProxyFact>()
}

/// The checker of `fifo_per_sender`.
#[derive(Default)]
pub(crate) struct FifoPerSender {
    ledger: Ledger,
    /// Per sender: the highest message applied so far.
    highest: BTreeMap<NodeId, u64>,
    verdict: FirstViolation,
    applied: u64,
}

impl Invariant for FifoPerSender {
    fn name(&self) -> String {
        "fifo_per_sender".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        self.ledger.on_fault(at, fault, view);
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = cast(fact) else { return };
        self.ledger.book(at, node, fact);
        let ProxyFact::Applied { sender, seq } = *fact else {
            return;
        };
        self.applied += 1;
        let highest = self.highest.get(&sender).copied().unwrap_or(0);
        let s = view.name(sender.0);
        let applied = &self.ledger.messages[&(sender, seq)].applied;
        let (message, seqs) = if applied.len() > 1 {
            (
                format!(
                    "the backend applied message {seq} of {s} a second time (first at {}): a \
                     copy sent again reached it by another way",
                    format_instant(applied[0])
                ),
                vec![seq],
            )
        } else if seq < highest {
            (
                format!(
                    "the backend applied message {seq} of {s} after message {highest}: message \
                     {highest} overtook it"
                ),
                vec![seq, highest],
            )
        } else {
            self.highest.insert(sender, seq);
            return;
        };
        let first_sent = seqs
            .iter()
            .filter_map(|q| self.ledger.messages.get(&(sender, *q)))
            .filter_map(|m| m.sent.first().map(|s| s.0))
            .min()
            .unwrap_or(0);
        let evidence = self.ledger.evidence(sender, &seqs, (first_sent, at), view);
        let mut nodes = vec![s.to_string()];
        for q in &seqs {
            for &(_, via) in &self.ledger.messages[&(sender, *q)].arrived {
                let name = view.name(via.0).to_string();
                if !nodes.contains(&name) {
                    nodes.push(name);
                }
            }
        }
        nodes.push(view.name(BACKEND.0).to_string());
        self.verdict.fail(at, nodes, message, evidence);
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        Some(format!(
            "{} message(s) applied, each sender's in its order",
            self.applied
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
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        if let Some(fact) = cast(fact) {
            self.ledger.book(at, node, fact);
        }
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        self.bound.on_fault(at, fault);
        self.ledger.on_fault(at, fault, view);
    }
    fn on_end(&mut self, view: &dyn RunView) {
        let now = view.now();
        // Sent, never applied: (first send, sender, seq).
        let open: Vec<(Nanos, NodeId, u64)> = self
            .ledger
            .messages
            .iter()
            .filter(|(_, m)| m.applied.is_empty())
            .filter_map(|(&(s, seq), m)| m.sent.first().map(|&(at, _)| (at, s, seq)))
            .collect();
        let late = open
            .iter()
            .filter(|&&(at, _, _)| self.bound.due(at) <= now)
            .min();
        self.status = match late {
            Some(&(at, sender, seq)) => {
                let due = self.bound.due(at);
                let since = self.bound.start(at);
                let from = if since == at {
                    "its first send".to_string()
                } else {
                    format!("the last fault at {}", format_instant(since))
                };
                let s = view.name(sender.0);
                Status::Violated(Violation {
                    at: due,
                    nodes: vec![s.to_string(), view.name(BACKEND.0).to_string()],
                    message: format!(
                        "message {seq} of {s}, first sent at {}, was not applied by the \
                         backend within {} of {from}, nor by the end of the run at {}: a lost \
                         message",
                        format_instant(at),
                        format_duration(self.bound.bound),
                        format_instant(now)
                    ),
                    evidence: self.ledger.evidence(sender, &[seq], (0, now), view),
                })
            }
            None if !open.is_empty() && self.bound.cut_short(now) => Status::Unknown(format!(
                "the run ended {} after the last fault, before the bound of {} had passed, \
                 with {} message(s) not yet applied",
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
        Some(format!(
            "{} message(s) sent, each applied",
            self.ledger.messages.len()
        ))
    }
}

/// `fifo_per_sender`'s catalogue entry.
///
/// ```
/// use sim::node::Property;
/// use sim::protocols::proxy::invariants::fifo_per_sender;
/// let entry = fifo_per_sender();
/// assert_eq!((entry.info.name, entry.info.property), ("fifo_per_sender", Property::Safety));
/// ```
pub fn fifo_per_sender() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "fifo_per_sender",
            property: Property::Safety,
            definition: "(proxy) The backend applies each sender's messages in the order the \
                         sender numbered them, each once: a message applied after one its \
                         sender sent later (overtaken on another path), or applied twice, is a \
                         violation. A message never applied is no_lost_message's business.",
            bound: None,
        },
        build: |_, _| Box::new(FifoPerSender::default()),
    }
}

/// `no_lost_message D`'s catalogue entry.
///
/// ```
/// use sim::protocols::proxy::invariants::no_lost_message;
/// const S: u64 = 1_000_000_000;
/// let entry = no_lost_message();
/// assert!(entry.info.bound.is_some(), "[check] no_lost_message = \"2s\" sets its bound");
/// assert_eq!((entry.build)(5, Some(2 * S)).name(), "no_lost_message 2s");
/// ```
pub fn no_lost_message() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_lost_message",
            property: Property::Liveness,
            definition: "Set by `no_lost_message = \"2s\"` in [check] (proxy). Every message a \
                         sender sent is applied by the backend within the bound of the later of \
                         its first send and the last fault. Judged at the end of the run; \
                         unknown when the run ends within the bound of the last fault with a \
                         message not yet applied.",
            bound: Some(BoundInfo {
                example: "2s",
                description: "The liveness bound: from the last fault, every message sent must \
                              be applied by the backend within it (no_lost_message), e.g. \
                              \"2s\".",
            }),
        },
        build: |_, bound| {
            Box::new(NoLostMessage::new(
                bound.expect("a bounded invariant gets its bound"),
            ))
        },
    }
}
