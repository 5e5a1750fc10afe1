//! The session store's invariants, over the clients' history and the primary's facts:
//!
//! - `monotonic_reads` (safety; seed text 004 「2.1一致性模型分类」 单调读一致性: 「如果一个进程，读操作
//!   读到一个值，那么该进程后面的读操作不能读到比这个值更旧的值」): no client reads a key at a
//!   version older than one it read there before.
//! - `read_your_writes` (safety): no client reads a key at a version older than one of its own
//!   acknowledged writes there, acknowledged before the read began.
//! - `converges_within D` (liveness): within `D` of the last write or fault, every live node
//!   holds the same versions (004 「最终一致性」: 「只能保证过了一个时间窗口后才能在数据副本上读取到
//!   最新值」; 002 「基本思路：主从复制」). See [`super::convergence`].
//!
//! A value's version is the one the primary gave its write (`Wrote` facts): values are unique
//! per write, so the history's values name versions; a read of nothing is version 0. The
//! history is what clients saw, so a read answered late or redirected counts as it was taken.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::node::history::{Call, History, Outcome as OpOutcome, Output, Value};
use crate::node::{
    BoundInfo, FaultRecord, Invariant, InvariantInfo, Nanos, Observation, ObservationKinds,
    Property, ProtocolInvariant, RunView, Status, Violation, format_duration, format_instant,
};

use super::api::SessionFact;
use super::convergence::{Outcome, Tracker, describe, from};

/// The version of each (key, value), from the primary's `Wrote` facts.
#[derive(Default)]
struct Versions(BTreeMap<(Arc<str>, Arc<str>), u64>);

impl Versions {
    fn on_fact(&mut self, fact: &dyn Any) {
        if let Some(SessionFact::Wrote {
            key,
            value,
            version,
            ..
        }) = fact.downcast_ref::<SessionFact>()
        {
            self.0
                .entry((key.clone(), value.clone()))
                .or_insert(*version);
        }
    }

    /// The version a read returned: 0 for nothing; `None` for a value no write made.
    fn of_read(&self, key: &str, out: &Output) -> Option<u64> {
        match out {
            Output::Value(None) => Some(0),
            Output::Value(Some(Value::Str(v))) => self
                .0
                .get(&(Arc::from(key), Arc::from(v.as_str())))
                .copied(),
            _ => None,
        }
    }

    fn of_write(&self, key: &str, value: &Value) -> Option<u64> {
        let Value::Str(v) = value else { return None };
        self.0
            .get(&(Arc::from(key), Arc::from(v.as_str())))
            .copied()
    }
}

/// Which session guarantee a [`SessionCheck`] judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Guarantee {
    MonotonicReads,
    ReadYourWrites,
}

/// What a client had seen of a key: the version, and the operation that showed it.
#[derive(Clone)]
struct Seen {
    version: u64,
    at: Nanos,
    what: String,
}

/// `monotonic_reads` or `read_your_writes`: judged over the history once the run is over.
struct SessionCheck {
    guarantee: Guarantee,
    versions: Versions,
    violation: Option<Violation>,
}

impl SessionCheck {
    fn new(guarantee: Guarantee) -> Self {
        SessionCheck {
            guarantee,
            versions: Versions::default(),
            violation: None,
        }
    }

    /// The first violation in `history`, by the time the offending read completed.
    fn judge(&self, history: &History) -> Option<Violation> {
        // Per client, its operations in invocation order (one at a time: also completion order).
        let mut by_client: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (i, op) in history.ops.iter().enumerate() {
            by_client.entry(op.process).or_default().push(i);
        }
        let mut first: Option<Violation> = None;
        for (client, ops) in by_client {
            let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
            for i in ops {
                let op = &history.ops[i];
                let (Some(key), OpOutcome::Ok(out), Some(done)) =
                    (&op.key, &op.outcome, op.complete)
                else {
                    continue;
                };
                let by = op
                    .node
                    .as_deref()
                    .map(|n| format!(" from {n}"))
                    .unwrap_or_default();
                match &op.call {
                    Call::Write(v) => {
                        if self.guarantee != Guarantee::ReadYourWrites {
                            continue;
                        }
                        let Some(version) = self.versions.of_write(key, v) else {
                            continue;
                        };
                        if seen.get(key.as_str()).is_none_or(|s| s.version < version) {
                            seen.insert(
                                key,
                                Seen {
                                    version,
                                    at: done,
                                    what: format!(
                                        "c{client} wrote {key} = {} (v{version}), acknowledged{by}",
                                        show(v)
                                    ),
                                },
                            );
                        }
                    }
                    Call::Read => {
                        let Some(version) = self.versions.of_read(key, out) else {
                            continue;
                        };
                        let read =
                            format!("c{client} read {key} = {} (v{version}){by}", shown(out));
                        if let Some(before) = seen.get(key.as_str()).filter(|s| s.version > version)
                        {
                            let what = match self.guarantee {
                                Guarantee::MonotonicReads => "older than a version it had read",
                                Guarantee::ReadYourWrites => {
                                    "older than its own acknowledged write"
                                }
                            };
                            let v = Violation {
                                at: done,
                                nodes: op.node.iter().cloned().collect(),
                                message: format!(
                                    "c{client} read {key} at v{version}{by}, {what} (v{})",
                                    before.version
                                ),
                                evidence: vec![
                                    format!("{} {}", format_instant(before.at), before.what),
                                    format!("{} {read}", format_instant(done)),
                                ],
                            };
                            if first.as_ref().is_none_or(|f| v.at < f.at) {
                                first = Some(v);
                            }
                            break;
                        }
                        if self.guarantee == Guarantee::MonotonicReads
                            && seen.get(key.as_str()).is_none_or(|s| s.version < version)
                        {
                            seen.insert(
                                key,
                                Seen {
                                    version,
                                    at: done,
                                    what: read,
                                },
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
        first
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn shown(out: &Output) -> String {
    match out {
        Output::Value(Some(v)) => show(v),
        _ => "nothing".into(),
    }
}

impl Invariant for SessionCheck {
    fn name(&self) -> String {
        match self.guarantee {
            Guarantee::MonotonicReads => "monotonic_reads",
            Guarantee::ReadYourWrites => "read_your_writes",
        }
        .into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, _: Nanos, _: u32, fact: &dyn Any, _: &dyn RunView) {
        self.versions.on_fact(fact);
    }
    fn on_history(&mut self, history: &History) {
        self.violation = self.judge(history);
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

/// `converges_within D`.
pub(crate) struct ConvergesWithin {
    bound: Nanos,
    nodes: usize,
    tracker: Tracker,
    status: Status,
}

impl Invariant for ConvergesWithin {
    fn name(&self) -> String {
        format!("converges_within {}", format_duration(self.bound))
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        self.tracker.on_fact(at, node, fact);
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        self.tracker.on_fault(at, fault);
    }
    fn on_end(&mut self, view: &dyn RunView) {
        let since = self.tracker.since();
        let due = since.saturating_add(self.bound);
        let from = from(&self.tracker);
        let bound = format_duration(self.bound);
        self.status = match self.tracker.outcome(self.nodes) {
            Outcome::Converged { after, .. } if after <= self.bound => Status::Pass,
            Outcome::Converged { at, after, .. } => Status::Violated(Violation {
                at: due,
                nodes: Vec::new(),
                message: format!(
                    "the live nodes came to hold the same versions only {} after {from}, \
                     more than {bound}",
                    format_duration(after)
                ),
                evidence: vec![format!(
                    "{} the last live node caught up",
                    format_instant(at)
                )],
            }),
            Outcome::Diverged { .. } if view.now() < due => Status::Unknown(format!(
                "the run ended {} after {from}, before the bound of {bound} had passed, with the \
                 live nodes still holding different versions",
                format_duration(view.now().saturating_sub(since))
            )),
            Outcome::Diverged { holds, .. } => {
                let evidence: Vec<String> = holds
                    .iter()
                    .map(|(n, h)| format!("at the end {} holds {}", view.name(*n), describe(h)))
                    .collect();
                let newest = holds
                    .iter()
                    .map(|(_, h)| h)
                    .max_by_key(|h| h.values().sum::<u64>());
                let behind: Vec<String> = holds
                    .iter()
                    .filter(|(_, h)| Some(h) != newest)
                    .map(|(n, _)| view.name(*n).to_string())
                    .collect();
                Status::Violated(Violation {
                    at: due,
                    nodes: behind.clone(),
                    message: format!(
                        "{bound} after {from}, the live nodes still hold different versions \
                         ({} behind): they never converge",
                        behind.join(", ")
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

/// `monotonic_reads`.
pub fn monotonic_reads() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "monotonic_reads",
            property: Property::Safety,
            definition: "No client reads a key at a version older than one it has read there \
                         before (versions as the primary ordered the writes; a read of nothing \
                         is version 0).",
            bound: None,
        },
        build: |_, _| Box::new(SessionCheck::new(Guarantee::MonotonicReads)),
    }
}

/// `read_your_writes`.
pub fn read_your_writes() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "read_your_writes",
            property: Property::Safety,
            definition: "No client reads a key at a version older than one of its own writes \
                         of that key acknowledged before the read began.",
            bound: None,
        },
        build: |_, _| Box::new(SessionCheck::new(Guarantee::ReadYourWrites)),
    }
}

/// `converges_within D`.
pub fn converges_within() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "converges_within",
            property: Property::Liveness,
            definition: "Set by `converges_within = \"1s\"` in [check]. Within the bound of the \
                         last write or fault, every live (not crashed) node holds the same \
                         version of every key. Unknown when the run ends before the bound has \
                         passed with the nodes still apart.",
            bound: Some(BoundInfo {
                example: "1s",
                description: "The liveness bound: every live node must hold the same versions \
                              within it of the last write or fault (converges_within), e.g. \
                              \"1s\".",
            }),
        },
        build: |nodes, bound| {
            Box::new(ConvergesWithin {
                bound: bound.expect("a bounded invariant gets its bound"),
                nodes,
                tracker: Tracker::default(),
                status: Status::Unknown("the run has not ended".into()),
            })
        },
    }
}

/// The store's invariants, for `Protocol::invariants`.
pub(crate) fn catalogue() -> Vec<ProtocolInvariant> {
    vec![monotonic_reads(), read_your_writes(), converges_within()]
}
