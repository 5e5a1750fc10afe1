//! Paxos's section of a run's report, from the facts its nodes state: the values chosen (one,
//! unless the design is broken), when, in which ballot, after how many ballots begun by each
//! proposer, and what each learner learned.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::{Ballot, Fact, Value};
use crate::node::section::plural;
use crate::node::{Nanos, RunView, Section, SectionBuilder, format_instant};

/// Watches a Paxos run's facts.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    /// Ballots begun, per proposer.
    began: BTreeMap<u32, u64>,
    votes: BTreeMap<(Ballot, Value), BTreeSet<u32>>,
    /// Each ballot whose value a majority accepted, in the order chosen, with that majority.
    chosen: Vec<(Nanos, Ballot, Value, Vec<u32>)>,
    /// Each learner's last value learned, and how many times it learned one.
    learned: BTreeMap<u32, (Value, u64)>,
    /// Every value learned: when, by whom, in which ballot.
    learnings: Vec<(Nanos, u32, Ballot, Value)>,
}

impl SectionBuilder for Decision {
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _view: &dyn RunView) {
        match fact.downcast_ref::<Fact>() {
            Some(Fact::Began { .. }) => *self.began.entry(node).or_default() += 1,
            Some(&Fact::Accepted {
                ballot,
                value,
                quorum,
            }) => {
                let who = self.votes.entry((ballot, value)).or_default();
                if who.insert(node) && who.len() == quorum as usize {
                    let majority = who.iter().copied().collect();
                    self.chosen.push((at, ballot, value, majority));
                }
            }
            Some(&Fact::Learned { ballot, value }) => {
                self.learnings.push((at, node, ballot, value));
                let e = self.learned.entry(node).or_insert((value, 0));
                *e = (value, e.1 + 1);
            }
            _ => {}
        }
    }

    fn section(&self, view: &dyn RunView) -> Option<Section> {
        let name = |n: u32| view.name(n).to_string();
        let ballots: u64 = self.began.values().sum();
        let values: BTreeSet<Value> = self.chosen.iter().map(|c| c.2).collect();
        let began = self
            .began
            .iter()
            .map(|(&n, &k)| format!("{} {k}", name(n)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut lines = Vec::new();
        let brief = match self.chosen.first() {
            Some(&(at, b, v, _)) => {
                lines.push(format!(
                    "{}'s value chosen in ballot {}.{} at {}",
                    name(v.0.0),
                    b.round,
                    name(b.proposer.0),
                    format_instant(at)
                ));
                if values.len() > 1 {
                    lines.push(format!(
                        "{} different values chosen: agreement is broken",
                        values.len()
                    ));
                }
                let mut brief = format!(
                    "{}'s value chosen at {} after {}",
                    name(v.0.0),
                    format_instant(at),
                    plural(ballots, "ballot")
                );
                if values.len() > 1 {
                    brief.push_str(&format!(
                        ", then {} more value(s): agreement broken",
                        values.len() - 1
                    ));
                }
                brief
            }
            None => {
                lines.push("no value chosen".into());
                format!("no value chosen after {}", plural(ballots, "ballot"))
            }
        };
        if !began.is_empty() {
            lines.push(format!("ballots begun: {began}"));
        }
        let learners = self
            .learned
            .iter()
            .map(|(&n, &(v, k))| {
                let again = if k > 1 {
                    format!(" ({k} times)")
                } else {
                    String::new()
                };
                format!("{} {}'s{again}", name(n), name(v.0.0))
            })
            .collect::<Vec<_>>()
            .join(", ");
        if !learners.is_empty() {
            lines.push(format!("learned: {learners}"));
        }
        Some(Section {
            key: "paxos",
            title: "Paxos",
            brief: Some(brief),
            lines,
            json: json!({
                "chosen": self.chosen.iter().map(|&(at, b, v, _)| json!({
                    "value": name(v.0.0),
                    "ballot": format!("{}.{}", b.round, name(b.proposer.0)),
                    "at_ns": at,
                })).collect::<Vec<_>>(),
                "ballots": ballots,
                "began": self.began.iter().map(|(&n, &k)| (name(n), json!(k))).collect::<serde_json::Map<_, _>>(),
                "learned": self.learned.iter().map(|(&n, &(v, k))| (name(n), json!({"value": name(v.0.0), "times": k}))).collect::<serde_json::Map<_, _>>(),
            }),
        })
    }

    /// Each choice, and each value a learner learns.
    fn story(&self, view: &dyn RunView) -> Vec<(Nanos, String)> {
        let name = |n: u32| view.name(n).to_string();
        let ballot = |b: Ballot| format!("{}.{}", b.round, name(b.proposer.0));
        let mut lines: Vec<(Nanos, String)> = self
            .chosen
            .iter()
            .map(|(at, b, v, who)| {
                let (at, b, v) = (*at, *b, *v);
                (
                    at,
                    format!(
                        "{}'s value chosen in ballot {}: accepted by {}",
                        name(v.0.0),
                        ballot(b),
                        view.set_name(who)
                    ),
                )
            })
            .collect();
        lines.extend(self.learnings.iter().map(|&(at, n, b, v)| {
            (
                at,
                format!(
                    "{} learns {}'s value (ballot {})",
                    name(n),
                    name(v.0.0),
                    ballot(b)
                ),
            )
        }));
        lines.sort_by_key(|l| l.0);
        lines
    }
}
