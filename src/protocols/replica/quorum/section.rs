//! The quorum store's report section: how the clients' gets and puts ended (answered, failed
//! for want of a quorum, or unanswered) and how many times each replica's versions changed.
//!
//! Built from the history and the family's `Holds` facts alone. A get the coordinator could
//! not answer fails (`fail`); a put that missed its `w` acknowledgements is left unanswered, so
//! its client times out (`info`) — it may have taken effect where it was written.

use std::any::Any;

use serde_json::json;

use crate::node::history::{Call, History, Outcome};
use crate::node::section::plural;
use crate::node::{Nanos, RunView, Section, SectionBuilder};
use crate::protocols::replica::ReplicaFact;

/// How a kind of operation ended: ok, fail, unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Ends {
    ok: u64,
    fail: u64,
    unknown: u64,
}

/// Watches a run and answers the `quorum` section.
pub(crate) struct QuorumSection {
    gets: Ends,
    puts: Ends,
    /// Per node: how many times its versions of some key changed.
    changes: Vec<u64>,
    seen_history: bool,
}

impl QuorumSection {
    pub(crate) fn new(nodes: usize) -> QuorumSection {
        QuorumSection {
            gets: Ends::default(),
            puts: Ends::default(),
            changes: vec![0; nodes],
            seen_history: false,
        }
    }
}

impl SectionBuilder for QuorumSection {
    fn on_fact(&mut self, _at: Nanos, node: u32, fact: &dyn Any, _view: &dyn RunView) {
        if let Some(ReplicaFact::Holds { .. }) = fact.downcast_ref::<ReplicaFact>()
            && let Some(c) = self.changes.get_mut(node as usize)
        {
            *c += 1;
        }
    }

    fn on_history(&mut self, history: &History) {
        self.seen_history = true;
        for op in &history.ops {
            let ends = match op.call {
                Call::Read => &mut self.gets,
                Call::Write(_) => &mut self.puts,
                _ => continue,
            };
            match op.outcome {
                Outcome::Ok(_) => ends.ok += 1,
                Outcome::Fail => ends.fail += 1,
                Outcome::Info => ends.unknown += 1,
            }
        }
    }

    fn section(&self, view: &dyn RunView) -> Option<Section> {
        if !self.seen_history && self.changes.iter().all(|&c| c == 0) {
            return None;
        }
        let (g, p) = (self.gets, self.puts);
        let mut lines = vec![
            format!(
                "gets: {} answered, {} failed (no read quorum), {} unanswered",
                g.ok, g.fail, g.unknown
            ),
            format!(
                "puts: {} acknowledged, {} failed, {} unknown (no write quorum in time: the \
                 client timed out; it may have taken effect)",
                p.ok, p.fail, p.unknown
            ),
        ];
        let per_node: Vec<String> = self
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} {c}", view.name(i as u32)))
            .collect();
        lines.push(format!("replica changes: {}", per_node.join(", ")));
        let changes: serde_json::Map<String, serde_json::Value> = self
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| (view.name(i as u32).to_string(), json!(c)))
            .collect();
        Some(Section {
            key: "quorum",
            title: "quorum",
            brief: Some(format!(
                "{} and {} answered, {} without a quorum",
                plural(g.ok, "get"),
                plural(p.ok, "put"),
                g.fail + g.unknown + p.fail + p.unknown
            )),
            lines,
            json: json!({
                "gets": { "ok": g.ok, "fail": g.fail, "unknown": g.unknown },
                "puts": { "ok": p.ok, "fail": p.fail, "unknown": p.unknown },
                "replica_changes": changes,
            }),
        })
    }
}
