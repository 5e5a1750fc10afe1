//! The herd effect of the ZooKeeper lock (seed text 004, 「Zookeeper 分布式锁」, 「羊群效应」):
//! how many waiting clients each deletion of a lock node wakes.
//!
//! - `one_wakeup_per_release` (safety, of the design's cost): every deletion of a lock node —
//!   a release, or the expiry of its session — wakes at most one waiter (a waiter that acts on
//!   a notification of that deletion and reads the children again). Watching the lock's
//!   children wakes every waiter on every change, so with two or more waiters it fails; the
//!   recipe, each waiter watching only its predecessor, holds it. A waiter that missed its
//!   notification (lost on the way) and reads again on its heartbeat's word is not counted: no
//!   deletion is named.
//! - The report section `wakeups`: deletions (releases and expiries), the wake-ups each caused,
//!   the wake-ups creations caused (the herd's watch fires on those too) and the missed
//!   notifications made good, and the re-reads of the children they all caused (one each).

use std::any::Any;
use std::collections::BTreeMap;

use serde_json::json;

use crate::node::section::plural;
use crate::node::{
    Invariant, InvariantInfo, Nanos, Observation, ObservationKinds, Property, ProtocolInvariant,
    RunView, Section, SectionBuilder, Status, Violation, format_instant,
};

use super::messages::{Cause, Change, LockFact};
use super::znode_name;

/// A lock node's deletion: when, whose, and whether a release (or an expiry).
#[derive(Clone, Copy, Debug)]
struct Deletion {
    at: Nanos,
    client: u32,
    released: bool,
}

/// Deletions and the wake-ups they caused, as both the invariant and the section count them.
#[derive(Debug, Default)]
struct Tally {
    /// By node sequence number.
    deleted: BTreeMap<u64, Deletion>,
    /// The waiters each deletion woke: when, and which client.
    woken: BTreeMap<u64, Vec<(Nanos, u32)>>,
    by_creation: u64,
    missed: u64,
    /// Whether the run is the ZooKeeper recipe's (its service creates nodes).
    zookeeper: bool,
}

impl Tally {
    /// Reads one fact; answers the deletion a wake-up names, if it is one.
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any) -> Option<u64> {
        match *fact.downcast_ref::<LockFact>()? {
            LockFact::Queued { .. } => self.zookeeper = true,
            LockFact::Freed { client, token } if self.zookeeper => {
                self.deleted(at, client.0, token, true)
            }
            LockFact::Expired { client, token } if self.zookeeper => {
                self.deleted(at, client.0, token, false)
            }
            LockFact::Woken { cause, .. } => match cause {
                Cause::Notified {
                    change: Change::Deleted,
                    seq,
                } => {
                    self.woken.entry(seq).or_default().push((at, node));
                    return Some(seq);
                }
                Cause::Notified { .. } => self.by_creation += 1,
                Cause::Missed => self.missed += 1,
            },
            _ => {}
        }
        None
    }

    fn deleted(&mut self, at: Nanos, client: u32, seq: u64, released: bool) {
        let deletion = Deletion {
            at,
            client,
            released,
        };
        let before = self.deleted.insert(seq, deletion);
        debug_assert!(before.is_none(), "a lock node is deleted once");
    }

    fn by_deletion(&self) -> u64 {
        self.woken.values().map(|w| w.len() as u64).sum()
    }

    fn most(&self) -> u64 {
        self.woken
            .values()
            .map(|w| w.len() as u64)
            .max()
            .unwrap_or(0)
    }

    /// `lock-0000000003 (A's) was released at 1.2s`.
    fn told(&self, seq: u64, view: &dyn RunView) -> String {
        match self.deleted.get(&seq) {
            Some(d) => format!(
                "{} {} ({}'s) was {}",
                format_instant(d.at),
                znode_name(seq),
                view.name(d.client),
                if d.released {
                    "deleted: released"
                } else {
                    "deleted: its session expired"
                }
            ),
            None => format!("{} was deleted", znode_name(seq)),
        }
    }
}

/// The checker of `one_wakeup_per_release`.
#[derive(Default)]
pub(crate) struct OneWakeup {
    tally: Tally,
    violation: Option<Violation>,
}

impl Invariant for OneWakeup {
    fn name(&self) -> String {
        "one_wakeup_per_release".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(seq) = self.tally.on_fact(at, node, fact) else {
            return;
        };
        let woken = &self.tally.woken[&seq];
        if woken.len() < 2 || self.violation.is_some() {
            return;
        }
        let mut evidence = vec![self.tally.told(seq, view)];
        evidence.extend(woken.iter().map(|&(at, n)| {
            format!(
                "{} {} woke on it and read the children again",
                format_instant(at),
                view.name(n)
            )
        }));
        let names = woken.iter().map(|&(_, n)| view.name(n).to_string());
        self.violation = Some(Violation {
            at,
            nodes: names.collect(),
            message: format!(
                "the deletion of {} woke {} waiters (at most one may wake): each watched the \
                 lock's children, so every change wakes them all, and all but one go back to \
                 waiting (the herd effect)",
                znode_name(seq),
                woken.len()
            ),
            evidence,
        });
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        Some(format!(
            "{} woke {} (at most {} by one)",
            plural(self.tally.deleted.len() as u64, "deletion"),
            plural(self.tally.by_deletion(), "waiter"),
            self.tally.most()
        ))
    }
}

/// `one_wakeup_per_release`'s catalogue entry.
///
/// ```
/// use sim::node::Property;
/// use sim::protocols::lock::herd::one_wakeup_per_release;
/// let entry = one_wakeup_per_release();
/// assert_eq!((entry.info.name, entry.info.property), ("one_wakeup_per_release", Property::Safety));
/// ```
pub fn one_wakeup_per_release() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "one_wakeup_per_release",
            property: Property::Safety,
            definition: "(lock, service = \"zookeeper\") Every deletion of a lock node (a \
                         release, or its session's expiry) wakes at most one waiting client (one \
                         acting on a notification of that deletion by reading the children \
                         again). Watching the children wakes every waiter (the herd effect); \
                         watching the predecessor wakes one.",
            bound: None,
        },
        build: |_, _| Box::new(OneWakeup::default()),
    }
}

/// The report section `wakeups`: what the watches cost.
#[derive(Default)]
pub(crate) struct WakeupSection {
    tally: Tally,
}

impl SectionBuilder for WakeupSection {
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        self.tally.on_fact(at, node, fact);
    }
    fn section(&self, _: &dyn RunView) -> Option<Section> {
        let t = &self.tally;
        if !t.zookeeper {
            return None;
        }
        let deletions = t.deleted.len() as u64;
        let released = t.deleted.values().filter(|d| d.released).count() as u64;
        let by_deletion = t.by_deletion();
        let rereads = by_deletion + t.by_creation + t.missed;
        let per = if deletions == 0 {
            0.0
        } else {
            by_deletion as f64 / deletions as f64
        };
        Some(Section {
            key: "wakeups",
            title: "wake-ups",
            brief: Some(format!(
                "{} woke {} ({per:.2} each, at most {})",
                plural(deletions, "deletion"),
                plural(by_deletion, "waiter"),
                t.most()
            )),
            lines: vec![
                format!(
                    "{} ({released} released, {} expired) woke {}: {per:.2} per deletion, at \
                     most {} by one",
                    plural(deletions, "lock node deletion"),
                    deletions - released,
                    plural(by_deletion, "waiter"),
                    t.most()
                ),
                format!(
                    "{} by a node's creation, {} made good on a heartbeat; {} of the children \
                     in all",
                    plural(t.by_creation, "wake-up"),
                    plural(t.missed, "missed notification"),
                    plural(rereads, "re-read")
                ),
            ],
            json: json!({
                "deletions": deletions,
                "released": released,
                "expired": deletions - released,
                "woken_by_deletion": by_deletion,
                "woken_by_creation": t.by_creation,
                "missed": t.missed,
                "rereads": rereads,
                "most_by_one_deletion": t.most(),
            }),
        })
    }
    fn story(&self, view: &dyn RunView) -> Vec<(Nanos, String)> {
        // The first few deletions that woke anyone: the story shows the pattern, the section
        // counts it.
        self.tally
            .woken
            .iter()
            .filter_map(|(&seq, woken)| {
                let d = self.tally.deleted.get(&seq)?;
                let who: Vec<&str> = woken.iter().map(|&(_, n)| view.name(n)).collect();
                Some((
                    d.at,
                    format!(
                        "{} ({}'s) deleted: {} woke and read the children again ({})",
                        znode_name(seq),
                        view.name(d.client),
                        who.join(", "),
                        plural(woken.len() as u64, "waiter")
                    ),
                ))
            })
            .take(4)
            .collect()
    }
}
