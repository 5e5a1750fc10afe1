//! The quorum store's report section: how the clients' gets and puts ended (answered, failed
//! for want of a quorum, or unanswered) and how many times each replica's versions changed.
//!
//! Built from the history and the family's `Holds` facts alone, so it cannot count read
//! repairs or write-backs (the coordinator states no fact of them; `sim replay` shows each
//! `Repair` and `WriteBack` message). A get the coordinator could
//! not answer fails (`fail`); a put that missed its `w` acknowledgements is left unanswered, so
//! its client times out (`info`) — it may have taken effect where it was written.

use std::any::Any;

use serde_json::json;

use crate::node::history::{Call, History, Outcome, Output};
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
    /// Gets answered with several versions (vector clocks' siblings).
    siblings: u64,
    /// Per node: how many times its versions of some key changed.
    changes: Vec<u64>,
    seen_history: bool,
}

impl QuorumSection {
    pub(crate) fn new(nodes: usize) -> QuorumSection {
        QuorumSection {
            gets: Ends::default(),
            puts: Ends::default(),
            siblings: 0,
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
            match &op.outcome {
                Outcome::Ok(Output::Siblings(_)) => {
                    ends.ok += 1;
                    self.siblings += 1;
                }
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
                "gets: {} answered ({} with siblings), {} failed (no read quorum), {} unanswered",
                g.ok, self.siblings, g.fail, g.unknown
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
                "gets": { "ok": g.ok, "fail": g.fail, "unknown": g.unknown, "siblings": self.siblings },
                "puts": { "ok": p.ok, "fail": p.fail, "unknown": p.unknown },
                "replica_changes": changes,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::history::{Operation, TimeUnit, Value};
    use crate::node::{ClockKind, LocalNanos, NodeStatus};

    struct View(Vec<String>);

    impl RunView for View {
        fn now(&self) -> Nanos {
            0
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

    #[test]
    fn counts_how_gets_and_puts_ended_siblings_and_each_replicas_changes() {
        let view = View(vec!["A".into(), "B".into()]);
        let mut s = QuorumSection::new(2);
        assert!(s.section(&view).is_none(), "nothing happened");
        let holds = ReplicaFact::Holds {
            key: "x".into(),
            versions: Vec::new(),
        };
        s.on_fact(1, 1, &holds, &view);
        s.on_fact(2, 1, &holds, &view);
        let op = |call, outcome| Operation {
            process: 0,
            key: Some("x".into()),
            call,
            invoke: 0,
            complete: Some(1),
            outcome,
            node: None,
        };
        let put = || Call::Write(Value::Str("a".into()));
        let two = Output::Siblings(vec![Value::Str("a".into()), Value::Str("b".into())]);
        s.on_history(&History {
            ops: vec![
                op(put(), Outcome::Ok(Output::Done)),
                op(put(), Outcome::Info),
                op(Call::Read, Outcome::Ok(Output::Value(None))),
                op(Call::Read, Outcome::Ok(two)),
                op(Call::Read, Outcome::Fail),
            ],
            time_unit: TimeUnit::Nanos,
            model: None,
        });
        let section = s.section(&view).unwrap();
        assert_eq!(
            section.json,
            json!({
                "gets": { "ok": 2, "fail": 1, "unknown": 0, "siblings": 1 },
                "puts": { "ok": 1, "fail": 0, "unknown": 1 },
                "replica_changes": { "A": 0, "B": 2 },
            })
        );
        assert_eq!(
            section.brief.as_deref(),
            Some("2 gets and 1 put answered, 2 without a quorum")
        );
        assert_eq!(section.lines[2], "replica changes: A 0, B 2");
    }
}
