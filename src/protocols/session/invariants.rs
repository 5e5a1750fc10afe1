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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::history::{Operation, TimeUnit};
    use crate::node::{ClientId, ClockKind, LocalNanos, NodeStatus, RequestId};

    const MS: Nanos = 1_000_000;

    /// Three nodes A (the primary), B, C, always up; the run ends at `now`.
    struct View(Vec<String>, Nanos);
    impl RunView for View {
        fn now(&self) -> Nanos {
            self.1
        }
        fn names(&self) -> &[String] {
            &self.0
        }
        fn status(&self, _: u32) -> NodeStatus {
            NodeStatus::Up
        }
        fn read_clock(&self, _: u32, _: ClockKind) -> LocalNanos {
            0
        }
    }

    fn view(now: Nanos) -> View {
        View(vec!["A".into(), "B".into(), "C".into()], now)
    }

    fn wrote(value: &str, version: u64) -> SessionFact {
        SessionFact::Wrote {
            key: "x".into(),
            value: value.into(),
            version,
            request: RequestId {
                client: ClientId(0),
                seq: version,
            },
        }
    }

    fn op(client: u64, call: Call, t: (u64, u64), out: Output, node: &str) -> Operation {
        Operation {
            process: client,
            key: Some("x".into()),
            call,
            invoke: t.0,
            complete: Some(t.1),
            outcome: OpOutcome::Ok(out),
            node: Some(node.into()),
        }
    }

    fn read(client: u64, value: Option<&str>, t: (u64, u64), node: &str) -> Operation {
        let out = Output::Value(value.map(|v| Value::Str(v.into())));
        op(client, Call::Read, t, out, node)
    }

    fn write(client: u64, value: &str, t: (u64, u64), node: &str) -> Operation {
        op(
            client,
            Call::Write(Value::Str(value.into())),
            t,
            Output::Done,
            node,
        )
    }

    /// Judges `ops` after the primary made `a` (v1) and `b` (v2).
    fn judge(guarantee: ProtocolInvariant, ops: Vec<Operation>) -> Status {
        let mut check = (guarantee.build)(3, None);
        let v = view(100 * MS);
        check.on_fact(1, 0, &wrote("a", 1), &v);
        check.on_fact(2, 0, &wrote("b", 2), &v);
        check.on_history(&History {
            ops,
            time_unit: TimeUnit::Nanos,
            model: None,
        });
        check.status()
    }

    #[test]
    fn monotonic_reads_fails_when_a_later_read_is_older() {
        let ops = vec![
            read(0, Some("b"), (10, 20), "A"),
            read(0, Some("a"), (30, 40), "C"),
        ];
        let Status::Violated(v) = judge(monotonic_reads(), ops) else {
            panic!("an older read passed")
        };
        assert_eq!((v.at, v.nodes), (40, vec!["C".to_string()]));
        assert_eq!(
            v.message,
            "c0 read x at v1 from C, older than a version it had read (v2)"
        );
        assert_eq!(v.evidence[0], "0.000s c0 read x = b (v2) from A");
    }

    #[test]
    fn monotonic_reads_holds_for_newer_reads_and_other_clients_older_ones() {
        let ops = vec![
            read(0, None, (5, 8), "B"),
            read(0, Some("a"), (10, 20), "B"),
            read(1, Some("b"), (10, 20), "A"),
            read(0, Some("b"), (30, 40), "C"),
            // Another client's older read is not this one's session.
            read(2, Some("a"), (30, 40), "B"),
            // Its own write does not count for monotonic reads.
            write(3, "b", (1, 3), "A"),
            read(3, Some("a"), (30, 40), "B"),
        ];
        assert_eq!(judge(monotonic_reads(), ops), Status::Pass);
    }

    #[test]
    fn read_your_writes_fails_when_a_read_misses_the_clients_acknowledged_write() {
        let ops = vec![
            write(0, "b", (10, 20), "A"),
            read(0, Some("a"), (30, 40), "B"),
        ];
        let Status::Violated(v) = judge(read_your_writes(), ops.clone()) else {
            panic!("a read that missed the client's own write passed")
        };
        assert_eq!(v.nodes, ["B"]);
        assert_eq!(
            v.message,
            "c0 read x at v1 from B, older than its own acknowledged write (v2)"
        );
        // Nothing read at all is older still.
        let nothing = vec![ops[0].clone(), read(0, None, (30, 40), "C")];
        assert!(matches!(
            judge(read_your_writes(), nothing),
            Status::Violated(_)
        ));
    }

    #[test]
    fn read_your_writes_holds_for_unacknowledged_writes_and_other_clients() {
        let mut lost = write(0, "b", (10, 20), "A");
        lost.outcome = OpOutcome::Info;
        let ops = vec![
            lost,
            read(0, Some("a"), (30, 40), "B"),
            write(1, "b", (10, 20), "A"),
            read(1, Some("b"), (30, 40), "C"),
            read(2, Some("a"), (30, 40), "C"),
        ];
        assert_eq!(judge(read_your_writes(), ops), Status::Pass);
    }

    fn converges(facts: &[(Nanos, u32, u64)], end: Nanos) -> Status {
        let mut check = (converges_within().build)(3, Some(500 * MS));
        let v = view(end);
        check.on_fact(10 * MS, 0, &wrote("a", 1), &v);
        for &(at, node, version) in facts {
            let holds = SessionFact::Holds {
                key: "x".into(),
                version,
            };
            check.on_fact(at, node, &holds, &v);
        }
        check.on_end(&v);
        check.status()
    }

    #[test]
    fn converges_within_holds_when_every_node_catches_up_in_time() {
        let all = [(10 * MS, 0, 1), (40 * MS, 1, 1), (300 * MS, 2, 1)];
        assert_eq!(converges(&all, 2_000 * MS), Status::Pass);
    }

    #[test]
    fn converges_within_fails_when_a_node_stays_behind_or_catches_up_late() {
        let behind = [(10 * MS, 0, 1), (40 * MS, 1, 1)];
        let Status::Violated(v) = converges(&behind, 2_000 * MS) else {
            panic!("a replica left behind passed")
        };
        assert_eq!((v.at, v.nodes.clone()), (510 * MS, vec!["C".to_string()]));
        assert!(v.message.contains("never converge"), "{}", v.message);
        assert_eq!(v.evidence[2], "at the end C holds nothing");
        // Before the bound has passed: unknown, not a failure.
        assert!(matches!(converges(&behind, 400 * MS), Status::Unknown(_)));
        let late = [(10 * MS, 0, 1), (40 * MS, 1, 1), (900 * MS, 2, 1)];
        let Status::Violated(v) = converges(&late, 2_000 * MS) else {
            panic!("a late catch-up passed")
        };
        assert!(
            v.message.contains("only 890ms after the last write"),
            "{}",
            v.message
        );
    }
}
