//! What a Paxos log's decisions cost, from its nodes' facts: decisions made, messages sent per
//! decision, phase-1 and phase-2 round trips per decision, and the latency from a proposer
//! taking a command up to its learning it chosen — in the report, the story and, as
//! `decision_latency`, a `sim experiment` metric.

use std::any::Any;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::invariants::{Latencies, ballot, command};
use super::{Cmd, Fact};
use crate::node::situation::{kind, time};
use crate::node::{Nanos, RunView, Section, SectionBuilder, format_duration};
use crate::protocols::ProtocolMetric;

/// One decision a proposer learned.
#[derive(Debug)]
struct Decision {
    at: Nanos,
    node: u32,
    instance: u64,
    ballot: super::super::Ballot,
    value: Cmd,
    prepares: u32,
    accepts: u32,
}

/// Watches a Paxos log's facts.
#[derive(Debug, Default)]
pub(crate) struct Cost {
    messages: u64,
    /// Phase-1 runs begun, per proposer.
    began: BTreeMap<u32, u64>,
    /// Each instance's first decision.
    decisions: BTreeMap<u64, Decision>,
    latencies: Latencies,
}

/// `12.3` from a ratio.
fn ratio(n: u64, d: usize) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

impl SectionBuilder for Cost {
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _view: &dyn RunView) {
        match fact.downcast_ref::<Fact>() {
            Some(&Fact::Sent { messages }) => self.messages += u64::from(messages),
            Some(Fact::Began { .. }) => *self.began.entry(node).or_default() += 1,
            Some(&Fact::Took { value }) => self.latencies.took(at, value),
            Some(&Fact::Chosen {
                ballot,
                instance,
                value,
                prepares,
                accepts,
            }) => {
                self.latencies.chosen(at, value, prepares, accepts);
                self.decisions.entry(instance).or_insert(Decision {
                    at,
                    node,
                    instance,
                    ballot,
                    value,
                    prepares,
                    accepts,
                });
            }
            _ => {}
        }
    }

    fn section(&self, view: &dyn RunView) -> Option<Section> {
        let n = self.decisions.len();
        let round_trips: u64 = self
            .decisions
            .values()
            .map(|d| u64::from(d.prepares + d.accepts))
            .sum();
        let prepares: u64 = self.began.values().sum();
        let per = ratio(self.messages, n);
        let rtt = ratio(round_trips, n);
        let commands = self
            .decisions
            .values()
            .filter(|d| d.value != Cmd::Noop)
            .count();
        let median = self.latencies.median();
        let lat: Vec<Nanos> = self.latencies.decided.iter().map(|d| d.1).collect();
        let brief = format!(
            "{n} decision(s), {per:.1} messages and {rtt:.2} round trips each{}",
            median.map_or(String::new(), |m| format!(
                ", median latency {}",
                format_duration(m)
            ))
        );
        let mut lines = vec![
            format!(
                "{n} instance(s) decided ({commands} command(s), {} no-op(s))",
                n - commands
            ),
            format!("{} messages sent: {per:.1} per decision", self.messages),
            format!(
                "phase 1 ran {prepares} time(s); {rtt:.2} round trips per decision (phase 1 and \
                 phase 2 together)"
            ),
        ];
        if let (Some(m), Some(lo), Some(hi)) = (median, lat.iter().min(), lat.iter().max()) {
            lines.push(format!(
                "latency from taking a command up to learning it chosen: median {}, fastest {}, \
                 slowest {}",
                format_duration(m),
                format_duration(*lo),
                format_duration(*hi)
            ));
        }
        Some(Section {
            key: "paxos_log",
            title: "Paxos log: the cost of each decision",
            brief: Some(brief),
            lines,
            json: json!({
                "decisions": n,
                "commands": commands,
                "messages": self.messages,
                "messages_per_decision": per,
                "phase1_runs": prepares,
                "round_trips_per_decision": rtt,
                "median_latency_ns": median,
                "began": self.began.iter().map(|(&k, &v)| (view.name(k).to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "log": self.decisions.values().map(|d| json!({
                    "instance": d.instance,
                    "value": command(d.value, view),
                    "ballot": ballot(d.ballot, view),
                    "by": view.name(d.node),
                    "at_ns": d.at,
                    "phase1": d.prepares,
                    "phase2": d.accepts,
                })).collect::<Vec<_>>(),
            }),
        })
    }

    /// Each decision, with the phases it took and how long.
    fn story(&self, view: &dyn RunView) -> Vec<(Nanos, String)> {
        self.decisions
            .values()
            .map(|d| {
                let took = self
                    .latencies
                    .decided
                    .iter()
                    .find(|l| l.0 == d.value)
                    .map_or(String::new(), |l| {
                        format!(" {} after it was taken up,", format_duration(l.1))
                    });
                let phases = if d.prepares == 0 {
                    "phase 2 only".to_string()
                } else {
                    format!("phase 1 ×{} and phase 2 ×{}", d.prepares, d.accepts)
                };
                (
                    d.at,
                    format!(
                        "instance {} chooses {} (ballot {}):{took} {phases}",
                        d.instance,
                        command(d.value, view),
                        ballot(d.ballot, view)
                    ),
                )
            })
            .collect()
    }
}

/// `decision_latency`.
pub(crate) fn decision_latency() -> ProtocolMetric {
    ProtocolMetric {
        name: "decision_latency",
        definition: "the median time from a proposer taking a command up to its learning the \
            command chosen, over a trial's decisions; none when no command was decided",
        kinds: &["fact"],
        measure: measure_latency,
    }
}

/// A command in its trace form.
fn cmd(v: &Value) -> Option<Cmd> {
    let c = v.get("command")?;
    Some(Cmd::Command {
        by: crate::node::NodeId(u32::try_from(c["by"].as_u64()?).ok()?),
        seq: u32::try_from(c["seq"].as_u64()?).ok()?,
    })
}

/// (the median latency, the decisions it summarises).
fn measure_latency(records: &[Value], _end: Nanos) -> (Option<Nanos>, u64) {
    let mut l = Latencies::default();
    for r in records.iter().filter(|r| kind(r) == "fact") {
        let f = &r["fact"];
        if let Some(c) = f.get("took").and_then(|t| cmd(&t["value"])) {
            l.took(time(r), c);
        } else if let Some(ch) = f.get("chosen")
            && let Some(c) = cmd(&ch["value"])
        {
            l.chosen(time(r), c, 0, 0);
        }
    }
    (l.median(), l.decided.len() as u64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fact(t: Nanos, name: &str, seq: u32) -> Value {
        json!({"kind": "fact", "t": t, "node": "A",
               "fact": {name: {"value": {"command": {"by": 0, "seq": seq}}}}})
    }

    #[test]
    fn the_metric_is_the_median_from_taken_up_to_chosen() {
        let records = [
            fact(0, "took", 0),
            fact(10, "chosen", 0),
            fact(10, "took", 1),
            fact(30, "chosen", 1),
            fact(30, "took", 2),
            fact(35, "chosen", 2),
            fact(35, "took", 3),
        ];
        assert_eq!(measure_latency(&records, 100), (Some(10), 3));
        assert_eq!(measure_latency(&records[..1], 100), (None, 0));
    }
}
