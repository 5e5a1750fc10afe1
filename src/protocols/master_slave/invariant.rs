//! `acknowledged_writes_survive` (safety): every write a client saw acknowledged is still held by
//! whoever serves as master afterwards — 「即使进程突然崩溃，它也应保留所有成功给过用户ack确认
//! 消息的数据」 (seed text 001, 「1. 进程崩溃」).
//!
//! Precisely, from observable facts: a write is *acknowledged* when the clients' history holds a
//! `put` with outcome `ok` (the client received the answer; a put that timed out is not one).
//! Each node that begins serving as master states its whole log (`Serving`: at the start, after
//! a restart from its disk, promoted at fail-over), and each master states every write it logs
//! (`Logged`). The invariant fails when a write acknowledged at instant `t` is missing from the
//! log of a `Serving` stated after `t`, or from the log of the master of the highest epoch at
//! the end of the run, if that node is still up (a crashed one serves nobody). Writes are
//! compared by key and value (the clients' values are unique: `c<client>-<op>`).

use std::any::Any;
use std::collections::BTreeSet;

use crate::node::history::{Call, History, Outcome, Value};
use crate::node::{
    Invariant, InvariantInfo, Nanos, NodeStatus, Observation, ObservationKinds, Property,
    ProtocolInvariant, RunView, Status, Violation, format_instant,
};

use super::{MasterSlaveFact, Written};

/// A node began serving as master.
struct Serving {
    at: Nanos,
    node: String,
    epoch: u64,
    log: BTreeSet<Written>,
}

/// The last master's log as it grew.
struct Current {
    node: u32,
    name: String,
    epoch: u64,
    log: Vec<Written>,
}

/// The checker.
#[derive(Default)]
struct AcknowledgedWritesSurvive {
    serving: Vec<Serving>,
    current: Option<Current>,
    /// The current master was up at the end, and when the run ended.
    end: Option<(bool, Nanos)>,
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
        self.violation = Some(Violation {
            at,
            nodes,
            message: format!(
                "{by} acknowledged {} = {} at {}, but {holder} {how} in epoch {epoch} holding {held} \
                 writes without it: an acknowledged write is lost",
                a.write.key,
                a.write.value,
                format_instant(a.at),
            ),
            evidence: Vec::new(),
        });
    }
}

impl Invariant for AcknowledgedWritesSurvive {
    fn name(&self) -> String {
        "acknowledged_writes_survive".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        match fact.downcast_ref::<MasterSlaveFact>() {
            Some(MasterSlaveFact::Serving { epoch, log }) => {
                self.serving.push(Serving {
                    at,
                    node: view.name(node).to_string(),
                    epoch: *epoch,
                    log: log.iter().cloned().collect(),
                });
                // The newest epoch's master is the one that stays: a slave that took over
                // in an older epoch it had not yet heard was superseded is replaced at once.
                if self.current.as_ref().is_none_or(|c| *epoch >= c.epoch) {
                    self.current = Some(Current {
                        node,
                        name: view.name(node).to_string(),
                        epoch: *epoch,
                        log: log.clone(),
                    });
                }
            }
            Some(MasterSlaveFact::Logged {
                epoch,
                index,
                write,
            }) => {
                if let Some(c) = &mut self.current
                    && c.node == node
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
        let up = self
            .current
            .as_ref()
            .is_some_and(|c| view.status(c.node) != NodeStatus::Crashed);
        self.end = Some((up, view.now()));
    }
    fn on_history(&mut self, history: &History) {
        let acked: Vec<Acked> = history
            .ops
            .iter()
            .filter_map(|op| {
                let (Call::Write(Value::Str(v)), Outcome::Ok(_), Some(at), Some(k)) =
                    (&op.call, &op.outcome, op.complete, &op.key)
                else {
                    return None;
                };
                Some(Acked {
                    at,
                    write: Written {
                        key: k.as_str().into(),
                        value: v.as_str().into(),
                    },
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
            && let (Some(c), Some((true, end))) = (&self.current, self.end)
        {
            let held: BTreeSet<&Written> = c.log.iter().collect();
            if let Some(a) = acked.iter().find(|a| !held.contains(&a.write)) {
                found = Some((
                    end,
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
        Some(format!(
            "{} acknowledged writes; {} times a node began serving as master",
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
