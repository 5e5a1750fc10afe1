//! The generals' section of a run's report, from their facts and the fault records: who
//! betrayed, what the commander ordered and told each lieutenant, and what each lieutenant
//! heard (its votes) and decided. The story tells the order and each decision as they happen.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{Fact, NodeId, Order};
use crate::node::{Applied, FaultRecord, Nanos, RunView, Section, SectionBuilder};

/// An order for each general: what the commander told each, or a lieutenant's votes.
type Told = Vec<(NodeId, Order)>;

/// Watches a run of oral messages.
#[derive(Debug, Default)]
pub(crate) struct Generals {
    traitors: BTreeSet<u32>,
    /// The commander, its order and what it told each lieutenant, once it commanded.
    command: Option<(Nanos, u32, Order, Told)>,
    /// Each lieutenant's decision and votes, by node.
    decisions: BTreeMap<u32, (Nanos, Order, Told)>,
}

fn said(list: &[(NodeId, Order)], view: &dyn RunView) -> String {
    let each: Vec<String> = list
        .iter()
        .map(|&(g, o)| format!("{} {}", view.name(g.0), o.word()))
        .collect();
    each.join(", ")
}

fn map(list: &[(NodeId, Order)], view: &dyn RunView) -> Value {
    Value::Object(
        list.iter()
            .map(|&(g, o)| (view.name(g.0).to_string(), json!(o.word())))
            .collect::<Map<_, _>>(),
    )
}

impl Generals {
    fn loyal(&self, node: u32) -> &'static str {
        if self.traitors.contains(&node) {
            "traitor"
        } else {
            "loyal"
        }
    }
}

impl SectionBuilder for Generals {
    fn on_fault(&mut self, _: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        if let Applied::Traitor { nodes } = &fault.applied {
            self.traitors.extend(nodes.iter().copied());
        }
    }

    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        match fact.downcast_ref::<Fact>() {
            Some(Fact::Commanded { order, sent }) => {
                self.command = Some((at, node, *order, sent.clone()));
            }
            Some(Fact::Decided { order, votes }) => {
                self.decisions.insert(node, (at, *order, votes.clone()));
            }
            None => {}
        }
    }

    fn section(&self, view: &dyn RunView) -> Option<Section> {
        let name = |n: u32| view.name(n).to_string();
        let mut lines = Vec::new();
        let traitors: Vec<String> = self.traitors.iter().map(|&n| name(n)).collect();
        lines.push(if traitors.is_empty() {
            "no traitor".to_string()
        } else {
            format!("traitors: {}", traitors.join(", "))
        });
        if let Some((_, c, order, sent)) = &self.command {
            lines.push(format!(
                "{} commander {} ordered {}; told {}",
                self.loyal(*c),
                name(*c),
                order.word(),
                said(sent, view)
            ));
        }
        for (&n, (_, order, votes)) in &self.decisions {
            lines.push(format!(
                "{} {} decided {} from {}",
                self.loyal(n),
                name(n),
                order.word(),
                said(votes, view)
            ));
        }
        let loyal: BTreeSet<Order> = self
            .decisions
            .iter()
            .filter(|(n, _)| !self.traitors.contains(n))
            .map(|(_, d)| d.1)
            .collect();
        let brief = match loyal.len() {
            0 => "no loyal lieutenant decided".to_string(),
            1 => format!(
                "the loyal lieutenants all decided {}",
                loyal.first().expect("one").word()
            ),
            _ => "the loyal lieutenants disagree".to_string(),
        };
        Some(Section {
            key: "generals",
            title: "Byzantine generals",
            brief: Some(brief),
            lines,
            json: json!({
                "traitors": traitors,
                "command": self.command.as_ref().map(|(at, c, order, sent)| json!({
                    "commander": name(*c),
                    "order": order.word(),
                    "told": map(sent, view),
                    "at_ns": at,
                })),
                "decisions": self.decisions.iter().map(|(&n, (at, order, votes))| (name(n), json!({
                    "order": order.word(),
                    "loyal": !self.traitors.contains(&n),
                    "heard": map(votes, view),
                    "at_ns": at,
                }))).collect::<Map<_, _>>(),
            }),
        })
    }

    /// The order given, and each decision.
    fn story(&self, view: &dyn RunView) -> Vec<(Nanos, String)> {
        let mut lines = Vec::new();
        if let Some((at, c, order, sent)) = &self.command {
            lines.push((
                *at,
                format!(
                    "{} commander {} orders {}, telling {}",
                    self.loyal(*c),
                    view.name(*c),
                    order.word(),
                    said(sent, view)
                ),
            ));
        }
        for (&n, (at, order, votes)) in &self.decisions {
            lines.push((
                *at,
                format!(
                    "{} {} decides {} from {}",
                    self.loyal(n),
                    view.name(n),
                    order.word(),
                    said(votes, view)
                ),
            ));
        }
        lines.sort_by_key(|l| l.0);
        lines
    }
}
