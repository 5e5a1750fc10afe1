//! `acknowledged_writes_survive` (safety): every write a client saw acknowledged is still held by
//! whoever serves as master afterwards — 「即使进程突然崩溃，它也应保留所有成功给过用户ack确认
//! 消息的数据」 (seed text 001, 「1. 进程崩溃」).
//!
//! Precisely, from observable facts: a write is *acknowledged* when the clients' history holds a
//! `put` with outcome `ok` (the client received the answer; a put that timed out is not one).
//! Each node that begins serving as master states its whole log (`Serving`: at the start, after
//! a restart from its disk, promoted at fail-over), and each master states every write it logs
//! (`Logged`). The invariant fails when a write acknowledged at instant `t` is missing from the
//! log of a `Serving` stated after `t`, or from the log at the end of the run of the node of the
//! highest epoch among those whose last role is master and that are up (a crashed one serves
//! nobody; one that forgot its promotion in a crash, or stepped down, says so by its role). Writes are
//! compared by key and value (the clients' values are unique: `c<client>-<op>`).
//!
//! `seen_writes_survive` is the same judgement over what clients *read*: every value a `get`
//! returned (ok, not nil) must be held by each later master — 「如果Master失败并且slave之一成为
//! 新master，那么客户看到的内容就不会出现不一致之处」 (seed text 001, 「2.网络延迟」, the
//! high-water mark).

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use crate::node::history::{Call, History, Operation, Outcome, Output, Value};
use crate::node::{
    Invariant, InvariantInfo, Nanos, NodeStatus, Observation, ObservationKinds, Property,
    ProtocolInvariant, Role, RunView, Status, Violation, format_instant,
};

use super::{MasterSlaveFact, Written};

/// A node began serving as master.
struct Serving {
    at: Nanos,
    node: String,
    epoch: u64,
    log: BTreeSet<Written>,
}

/// A master's log as it grew.
#[derive(Clone)]
struct Current {
    name: String,
    epoch: u64,
    log: Vec<Written>,
}

/// Which writes must survive.
#[derive(Clone, Copy, Default)]
enum Judged {
    /// Those a client saw acknowledged.
    #[default]
    Acknowledged,
    /// Those a client read.
    Seen,
}

impl Judged {
    fn name(self) -> &'static str {
        match self {
            Judged::Acknowledged => "acknowledged_writes_survive",
            Judged::Seen => "seen_writes_survive",
        }
    }

    /// The write `op` vouches for, as this invariant counts them.
    fn write_of(self, op: &Operation) -> Option<Written> {
        let (Some(key), Outcome::Ok(output)) = (&op.key, &op.outcome) else {
            return None;
        };
        let value = match (self, &op.call, output) {
            (Judged::Acknowledged, Call::Write(Value::Str(v)), _) => v,
            (Judged::Seen, Call::Read, Output::Value(Some(Value::Str(v)))) => v,
            _ => return None,
        };
        Some(Written {
            key: key.as_str().into(),
            value: value.as_str().into(),
        })
    }
}

/// The checker.
#[derive(Default)]
struct AcknowledgedWritesSurvive {
    judged: Judged,
    serving: Vec<Serving>,
    /// Each node's log since it last began serving as master.
    logs: BTreeMap<u32, Current>,
    /// Whether each node's last role was master.
    master: BTreeMap<u32, bool>,
    /// The master of the highest epoch among the nodes still master and up at the end, and when
    /// the run ended.
    end: Option<(Option<Current>, Nanos)>,
    acknowledged: usize,
    violation: Option<Violation>,
}

/// One acknowledged write of the history.
struct Acked {
    at: Nanos,
    write: Written,
    by: Option<String>,
}

impl AcknowledgedWritesSurvive {
    fn lost(&mut self, at: Nanos, a: &Acked, holder: &str, epoch: u64, how: &str, held: usize) {
        let by = a.by.clone().unwrap_or_else(|| "the master".into());
        let mut nodes = vec![by.clone()];
        if holder != by {
            nodes.push(holder.to_string());
        }
        let (key, value, when) = (&a.write.key, &a.write.value, format_instant(a.at));
        let (what, lost) = match self.judged {
            Judged::Acknowledged => (
                format!("{by} acknowledged {key} = {value} at {when}"),
                "an acknowledged write is lost",
            ),
            Judged::Seen => (
                format!("a client read {key} = {value} from {by} at {when}"),
                "a write a client saw is gone",
            ),
        };
        self.violation = Some(Violation {
            at,
            nodes,
            message: format!(
                "{what}, but {holder} {how} in epoch {epoch} holding {held} writes without it: \
                 {lost}"
            ),
            evidence: Vec::new(),
        });
    }
}

impl Invariant for AcknowledgedWritesSurvive {
    fn name(&self) -> String {
        self.judged.name().into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ROLE
    }
    fn on_observation(&mut self, _: Nanos, node: u32, obs: &Observation, _: &dyn RunView) {
        if let Observation::Role { role, .. } = obs {
            self.master.insert(node, *role == Role::Master);
        }
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        match fact.downcast_ref::<MasterSlaveFact>() {
            Some(MasterSlaveFact::Serving { epoch, log }) => {
                self.serving.push(Serving {
                    at,
                    node: view.name(node).to_string(),
                    epoch: *epoch,
                    log: log.iter().cloned().collect(),
                });
                self.logs.insert(
                    node,
                    Current {
                        name: view.name(node).to_string(),
                        epoch: *epoch,
                        log: log.clone(),
                    },
                );
            }
            Some(MasterSlaveFact::Logged {
                epoch,
                index,
                write,
            }) => {
                if let Some(c) = self.logs.get_mut(&node)
                    && c.epoch == *epoch
                    && *index == c.log.len() as u64 + 1
                {
                    c.log.push(write.clone());
                }
            }
            None => {}
        }
    }
    fn on_end(&mut self, view: &dyn RunView) {
        // Among the nodes that still act as master (a crash, or a step-down, ended the others'
        // reign; a restarted node says its role again), the newest epoch's is the one that stays.
        let last = self
            .logs
            .iter()
            .filter(|(n, _)| self.master.get(n) == Some(&true))
            .filter(|(n, _)| view.status(**n) != NodeStatus::Crashed)
            .max_by_key(|(_, c)| c.epoch)
            .map(|(_, c)| c.clone());
        self.end = Some((last, view.now()));
    }
    fn on_history(&mut self, history: &History) {
        let acked: Vec<Acked> = history
            .ops
            .iter()
            .filter_map(|op| {
                Some(Acked {
                    at: op.complete?,
                    write: self.judged.write_of(op)?,
                    by: op.node.clone(),
                })
            })
            .collect();
        self.acknowledged = acked.len();
        let mut found = None;
        'serving: for s in &self.serving {
            for a in acked.iter().filter(|a| a.at < s.at) {
                if !s.log.contains(&a.write) {
                    found = Some((
                        s.at,
                        a,
                        s.node.clone(),
                        s.epoch,
                        s.log.len(),
                        "began serving as master",
                    ));
                    break 'serving;
                }
            }
        }
        if found.is_none()
            && let Some((Some(c), end)) = &self.end
        {
            let held: BTreeSet<&Written> = c.log.iter().collect();
            if let Some(a) = acked.iter().find(|a| !held.contains(&a.write)) {
                found = Some((
                    *end,
                    a,
                    c.name.clone(),
                    c.epoch,
                    c.log.len(),
                    "was still master at the end",
                ));
            }
        }
        if let Some((at, a, holder, epoch, held, how)) = found {
            self.lost(at, a, &holder, epoch, how, held);
        }
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        let what = match self.judged {
            Judged::Acknowledged => "acknowledged writes",
            Judged::Seen => "values read",
        };
        Some(format!(
            "{} {what}; {} times a node began serving as master",
            self.acknowledged,
            self.serving.len()
        ))
    }
}

/// `acknowledged_writes_survive`'s catalogue entry.
///
/// ```
/// use sim::protocols::master_slave::invariant::acknowledged_writes_survive;
/// assert_eq!(acknowledged_writes_survive().info.name, "acknowledged_writes_survive");
/// ```
pub fn acknowledged_writes_survive() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "acknowledged_writes_survive",
            property: Property::Safety,
            definition: "Every put a client saw acknowledged (ok in the history) is in the log of \
                         each node that begins serving as master after the acknowledgement (a \
                         restart from its disk, a fail-over), and of the last master at the end \
                         of the run if it is up: a crash or a fail-over loses no acknowledged \
                         write (master-slave).",
            bound: None,
        },
        build: |_, _| Box::<AcknowledgedWritesSurvive>::default(),
    }
}

/// `seen_writes_survive`'s catalogue entry.
///
/// ```
/// use sim::protocols::master_slave::invariant::seen_writes_survive;
/// assert_eq!(seen_writes_survive().info.name, "seen_writes_survive");
/// ```
pub fn seen_writes_survive() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "seen_writes_survive",
            property: Property::Safety,
            definition: "Every value a client read (an ok get that was not nil) is in the log of \
                         each node that begins serving as master after the read, and of the last \
                         master at the end of the run if it is up: no client sees a write that \
                         later disappears (master-slave).",
            bound: None,
        },
        build: |_, _| {
            Box::new(AcknowledgedWritesSurvive {
                judged: Judged::Seen,
                ..AcknowledgedWritesSurvive::default()
            })
        },
    }
}
