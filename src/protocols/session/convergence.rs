//! Eventual convergence, measured: when, after the last write and the last fault, every live
//! node held the same version of every key — for `converges_within` (the invariant), the
//! `convergence` report section and the `converge_time` metric of `sim experiment`, which all
//! count the same way ([`Tracker`]).
//!
//! The clock starts at the later of the last write the primary made and the last fault (a
//! crash, restart, cut, heal, pause, resume…); it stops at the last change of a live node's
//! versions, if at the end every live node (not crashed) holds the same versions. Versions only
//! grow, so once the live nodes agree with no write and no fault to come, they agree for good.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::node::situation::{kind, node, time};
use crate::node::{
    Applied, FaultRecord, Nanos, Observation, ObservationKinds, RunView, Section, SectionBuilder,
    format_duration, format_instant,
};
use crate::protocols::ProtocolMetric;

use super::api::SessionFact;

/// What convergence is counted from: each node's versions, when they last changed, and the
/// last write and fault.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    holds: BTreeMap<u32, BTreeMap<Arc<str>, u64>>,
    changed: BTreeMap<u32, Nanos>,
    last_write: Option<Nanos>,
    last_fault: Option<Nanos>,
    down: BTreeSet<u32>,
}

/// How a run ended, for convergence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every live node held the same versions from `at`, `after` the quiet began.
    Converged {
        /// When the quiet began: the last write or fault (0: the start).
        since: Nanos,
        /// When the last live node caught up.
        at: Nanos,
        /// `at - since` (0 when they agreed before the quiet began).
        after: Nanos,
    },
    /// At the end, the live nodes still differ: per node (by index), what it holds.
    Diverged {
        /// When the quiet began.
        since: Nanos,
        /// Every live node's versions.
        holds: Vec<(u32, BTreeMap<Arc<str>, u64>)>,
    },
}

impl Tracker {
    /// Node `node` holds `key` at `version` from `at`.
    ///
    /// ```
    /// use sim::protocols::session::convergence::{Outcome, Tracker};
    /// let mut t = Tracker::default();
    /// t.wrote(10);
    /// t.holds(10, 0, "x", 1);
    /// t.holds(25, 1, "x", 1);
    /// assert_eq!(t.outcome(2), Outcome::Converged { since: 10, at: 25, after: 15 });
    /// ```
    pub fn holds(&mut self, at: Nanos, node: u32, key: &str, version: u64) {
        let held = self.holds.entry(node).or_default();
        if held.get(key) != Some(&version) {
            held.insert(key.into(), version);
            self.changed.insert(node, at);
        }
    }

    /// The primary made a write at `at`.
    pub fn wrote(&mut self, at: Nanos) {
        self.last_write = Some(at);
    }

    /// A fault at `at`: `crashed` went down, `restarted` came back.
    pub fn fault(&mut self, at: Nanos, crashed: &[u32], restarted: &[u32]) {
        self.last_fault = Some(at);
        self.down.extend(crashed);
        for n in restarted {
            self.down.remove(n);
        }
    }

    /// When the quiet began: the later of the last write and the last fault.
    pub fn since(&self) -> Nanos {
        self.last_write.max(self.last_fault).unwrap_or(0)
    }

    /// The outcome among the live nodes of a cluster of `nodes`.
    pub fn outcome(&self, nodes: usize) -> Outcome {
        let since = self.since();
        let live: Vec<u32> = (0..nodes as u32)
            .filter(|n| !self.down.contains(n))
            .collect();
        let empty = BTreeMap::new();
        let state = |n: u32| self.holds.get(&n).unwrap_or(&empty);
        let agree = live.windows(2).all(|w| state(w[0]) == state(w[1]));
        if !agree {
            return Outcome::Diverged {
                since,
                holds: live.iter().map(|&n| (n, state(n).clone())).collect(),
            };
        }
        let at = live
            .iter()
            .filter_map(|n| self.changed.get(n))
            .copied()
            .max()
            .unwrap_or(0);
        Outcome::Converged {
            since,
            at,
            after: at.saturating_sub(since),
        }
    }

    /// Takes in one of the store's facts.
    pub(crate) fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any) {
        match fact.downcast_ref::<SessionFact>() {
            Some(SessionFact::Holds { key, version }) => self.holds(at, node, key, *version),
            Some(SessionFact::Wrote { .. }) => self.wrote(at),
            _ => {}
        }
    }

    /// Takes in a fault record (a skipped one changed nothing).
    pub(crate) fn on_fault(&mut self, at: Nanos, fault: &FaultRecord) {
        match &fault.applied {
            Applied::Skipped { .. } => {}
            Applied::Crash { nodes } => self.fault(at, nodes, &[]),
            Applied::Restart { nodes } => self.fault(at, &[], nodes),
            _ => self.fault(at, &[], &[]),
        }
    }
}

/// `from the last write at 2.1s`, `from the last fault at 3s`, `from the start`.
pub(crate) fn from(t: &Tracker) -> String {
    match (t.last_write, t.last_fault) {
        (None, None) => "the start".into(),
        (w, f) if f >= w => format!("the last fault at {}", format_instant(t.since())),
        _ => format!("the last write at {}", format_instant(t.since())),
    }
}

/// `x v7, y v2` (or `nothing`).
pub(crate) fn describe(holds: &BTreeMap<Arc<str>, u64>) -> String {
    if holds.is_empty() {
        return "nothing".into();
    }
    holds
        .iter()
        .map(|(k, v)| format!("{k} v{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `convergence` report section: when the live nodes came to hold the same versions.
pub(crate) struct ConvergenceSection {
    nodes: usize,
    tracker: Tracker,
}

impl ConvergenceSection {
    pub(crate) fn new(nodes: usize) -> Self {
        ConvergenceSection {
            nodes,
            tracker: Tracker::default(),
        }
    }
}

impl SectionBuilder for ConvergenceSection {
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        self.tracker.on_fact(at, node, fact);
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        self.tracker.on_fault(at, fault);
    }
    fn section(&self, view: &dyn RunView) -> Option<Section> {
        let from = from(&self.tracker);
        let (brief, line, json) = match self.tracker.outcome(self.nodes) {
            Outcome::Converged { since, at, after } => (
                format!("converged {} after the quiet", format_duration(after)),
                format!(
                    "every live node holds the same versions from {}, {} after {from}",
                    format_instant(at),
                    format_duration(after)
                ),
                json!({"converged": true, "since_ns": since, "at_ns": at, "after_ns": after}),
            ),
            Outcome::Diverged { since, holds } => {
                let each: Vec<String> = holds
                    .iter()
                    .map(|(n, h)| format!("{} {}", view.name(*n), describe(h)))
                    .collect();
                (
                    "not converged".to_string(),
                    format!(
                        "the live nodes still differ at the end, {} after {from}: {}",
                        format_duration(view.now().saturating_sub(since)),
                        each.join("; ")
                    ),
                    json!({"converged": false, "since_ns": since}),
                )
            }
        };
        Some(Section {
            key: "convergence",
            title: "convergence",
            brief: Some(brief),
            lines: vec![line],
            json,
        })
    }
    fn story(&self, _view: &dyn RunView) -> Vec<(Nanos, String)> {
        match self.tracker.outcome(self.nodes) {
            Outcome::Converged { at, after, .. } if at > 0 => vec![(
                at,
                format!(
                    "every live node now holds the same versions: converged {} after {}",
                    format_duration(after),
                    from(&self.tracker)
                ),
            )],
            _ => Vec::new(),
        }
    }
}

/// `converge_time`.
pub(crate) fn converge_time() -> ProtocolMetric {
    ProtocolMetric {
        name: "converge_time",
        definition: "the time from the last write or fault to the moment every live node \
            holds the same versions of every key; none when they still differ at the end",
        kinds: &["start", "fact", "fault"],
        measure: measure_converge,
    }
}

fn measure_converge(records: &[Value], _end: Nanos) -> (Option<Nanos>, u64) {
    let mut names: Vec<String> = Vec::new();
    let mut index = |name: &str| -> u32 {
        match names.iter().position(|n| n == name) {
            Some(i) => i as u32,
            None => {
                names.push(name.to_string());
                (names.len() - 1) as u32
            }
        }
    };
    let mut t = Tracker::default();
    for r in records {
        let at = time(r);
        match kind(r) {
            "start" => {
                index(node(r));
            }
            "fact" => {
                let n = index(node(r));
                if let Some(h) = r.get("fact").and_then(|f| f.get("holds")) {
                    let key = h["key"].as_str().unwrap_or("");
                    t.holds(at, n, key, h["version"].as_u64().unwrap_or(0));
                } else if r.get("fact").and_then(|f| f.get("wrote")).is_some() {
                    t.wrote(at);
                }
            }
            "fault" => {
                let nodes: Vec<u32> = r["nodes"]
                    .as_array()
                    .map(|ns| {
                        ns.iter()
                            .filter_map(Value::as_str)
                            .map(&mut index)
                            .collect()
                    })
                    .unwrap_or_default();
                match r["fault"].as_str() {
                    Some("skipped") => {}
                    Some("crash") => t.fault(at, &nodes, &[]),
                    Some("restart") => t.fault(at, &[], &nodes),
                    _ => t.fault(at, &[], &[]),
                }
            }
            _ => {}
        }
    }
    match t.outcome(names.len()) {
        Outcome::Converged { after, .. } => (Some(after), 1),
        Outcome::Diverged { .. } => (None, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(t: Nanos, node: &str, f: Value) -> Value {
        json!({"kind": "fact", "t": t, "node": node, "fact": f})
    }

    #[test]
    fn a_replica_that_catches_up_late_sets_the_time() {
        let records = [
            json!({"kind": "start", "t": 0, "node": "A"}),
            json!({"kind": "start", "t": 0, "node": "B"}),
            json!({"kind": "start", "t": 0, "node": "C"}),
            fact(10, "A", json!({"wrote": {"key": "x", "version": 1}})),
            fact(10, "A", json!({"holds": {"key": "x", "version": 1}})),
            fact(12, "B", json!({"holds": {"key": "x", "version": 1}})),
            fact(210, "C", json!({"holds": {"key": "x", "version": 1}})),
        ];
        assert_eq!(measure_converge(&records, 500), (Some(200), 1));
        // Without C's catch-up, C holds nothing: no value.
        assert_eq!(measure_converge(&records[..6], 500), (None, 0));
    }

    #[test]
    fn a_crashed_node_does_not_count_and_a_fault_restarts_the_clock() {
        let mut t = Tracker::default();
        t.wrote(10);
        t.holds(10, 0, "x", 1);
        t.holds(11, 1, "x", 1);
        t.fault(50, &[2], &[]);
        assert_eq!(
            t.outcome(3),
            Outcome::Converged {
                since: 50,
                at: 11,
                after: 0
            }
        );
        t.fault(80, &[], &[2]);
        assert!(matches!(t.outcome(3), Outcome::Diverged { since: 80, .. }));
        t.holds(95, 2, "x", 1);
        assert_eq!(
            t.outcome(3),
            Outcome::Converged {
                since: 80,
                at: 95,
                after: 15
            }
        );
    }
}
