//! The `ids` report section: how many ids each generator issued, and each time a generator
//! found its clock behind or a millisecond full — told in the run's story too, since those are
//! the moments the lessons turn on.

use std::any::Any;
use std::collections::BTreeMap;

use serde_json::json;

use crate::node::section::{plural, thousands};
use crate::node::{Nanos, Observation, ObservationKinds, RunView, Section, SectionBuilder};

use super::api::IdFact;

/// Watches the generators' facts.
#[derive(Default)]
pub(crate) struct IdsSection {
    /// Ids issued, by node.
    issued: BTreeMap<u32, u64>,
    /// Clock-behind sightings by what the generator did (`reuse`, `wait`, `refuse`).
    behind: BTreeMap<&'static str, u64>,
    /// Full milliseconds by what the generator did (`wrap`, `wait`).
    full: BTreeMap<&'static str, u64>,
    /// (when, node, what) of every sighting, for the story.
    moments: Vec<(Nanos, u32, String)>,
}

fn counts(m: &BTreeMap<&'static str, u64>) -> String {
    m.iter()
        .map(|(then, n)| format!("{then} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SectionBuilder for IdsSection {
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        match fact.downcast_ref::<IdFact>() {
            Some(IdFact::Issued { .. }) => *self.issued.entry(node).or_default() += 1,
            Some(&IdFact::ClockBehind { millis, last, then }) => {
                *self.behind.entry(then).or_default() += 1;
                let did = match then {
                    "reuse" => "makes ids in it anyway, reusing milliseconds",
                    "wait" => "holds requests until it catches up",
                    _ => "refuses requests",
                };
                self.moments.push((
                    at,
                    node,
                    format!(
                        "reads millisecond {millis}, {} ms behind the last it used: it {did}",
                        last - millis
                    ),
                ));
            }
            Some(&IdFact::SequenceFull { millis, then }) => {
                *self.full.entry(then).or_default() += 1;
                let did = match then {
                    "wrap" => "wraps to sequence 0 in the same millisecond",
                    _ => "waits for the next millisecond",
                };
                self.moments.push((
                    at,
                    node,
                    format!("has used every sequence number of millisecond {millis}: it {did}"),
                ));
            }
            None => {}
        }
    }
    fn section(&self, view: &dyn RunView) -> Option<Section> {
        let total: u64 = self.issued.values().sum();
        let by_node: Vec<String> = self
            .issued
            .iter()
            .map(|(&n, &c)| format!("{} {}", view.name(n), thousands(c)))
            .collect();
        let mut lines = vec![format!(
            "{} issued ({})",
            plural(total, "id"),
            by_node.join(", ")
        )];
        if !self.behind.is_empty() {
            lines.push(format!("clock found behind: {}", counts(&self.behind)));
        }
        if !self.full.is_empty() {
            lines.push(format!("millisecond full: {}", counts(&self.full)));
        }
        let issued: serde_json::Map<String, serde_json::Value> = self
            .issued
            .iter()
            .map(|(&n, &c)| (view.name(n).to_string(), json!(c)))
            .collect();
        Some(Section {
            key: "ids",
            title: "ids",
            brief: Some(plural(total, "id")),
            lines,
            json: json!({
                "issued": total,
                "by_node": issued,
                "clock_behind": self.behind,
                "sequence_full": self.full,
            }),
        })
    }
    fn story(&self, view: &dyn RunView) -> Vec<(Nanos, String)> {
        self.moments
            .iter()
            .map(|(at, node, what)| (*at, format!("{} {what}", view.name(*node))))
            .collect()
    }
}
