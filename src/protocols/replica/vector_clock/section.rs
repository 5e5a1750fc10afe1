//! The `replicas` report section: the conflicts the basic rule reported (who kept what, who
//! refused what) and what each replica holds at the end, values with their clocks — the
//! textbook picture of a run.
//!
//! Built from the family's facts alone (`Holds`, `Conflict`), so it reads any replica run.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::node::section::plural;
use crate::node::{Nanos, RunView, Section, SectionBuilder, format_instant};
use crate::protocols::replica::{ReplicaFact, Version};

/// Conflicts listed one by one; beyond, only counted.
const LISTED: usize = 20;
/// Story lines (changes of what replicas hold, conflicts); beyond, one line counts the rest.
const TOLD: usize = 24;

/// A story line in the making: what one or more replicas did at one instant.
#[derive(Clone, Debug, PartialEq)]
enum Told {
    Holds {
        key: Arc<str>,
        versions: Vec<Version>,
    },
    Conflict {
        key: Arc<str>,
        kept: Version,
        refused: Version,
    },
}

/// Watches `Holds` and `Conflict` facts and answers the `replicas` section.
pub(crate) struct ReplicaSection {
    nodes: usize,
    /// Per node, key → what it holds last.
    holds: Vec<BTreeMap<Arc<str>, Vec<Version>>>,
    conflicts: Vec<(Nanos, u32, Arc<str>, Version, Version)>,
    count: u64,
    /// The story: what happened, at which instant, to which replicas (same thing, same
    /// instant: one line).
    told: Vec<(Nanos, Vec<u32>, Told)>,
    /// Events past [`TOLD`]: when the first was, and how many.
    untold: Option<(Nanos, u64)>,
    /// Whether any version had a clock: last-write-wins keeps none, and its versions are
    /// shown as bare values rather than with a vector of zeros that would mislead.
    vectors: bool,
}

impl ReplicaSection {
    pub(crate) fn new(nodes: usize) -> ReplicaSection {
        ReplicaSection {
            nodes,
            holds: vec![BTreeMap::new(); nodes],
            conflicts: Vec::new(),
            count: 0,
            told: Vec::new(),
            untold: None,
            vectors: false,
        }
    }

    fn tell(&mut self, at: Nanos, node: u32, what: Told) {
        if let Some((last_at, nodes, last)) = self.told.last_mut()
            && *last_at == at
            && *last == what
        {
            nodes.push(node);
            return;
        }
        if self.told.len() < TOLD {
            self.told.push((at, vec![node], what));
        } else {
            self.untold.get_or_insert((at, 0)).1 += 1;
        }
    }

    /// `5 [1,0,1]`; `5` in a run without vectors (last-write-wins).
    fn shown(&self, v: &Version) -> String {
        if self.vectors {
            format!("{} {}", v.value, v.clock.padded(self.nodes))
        } else {
            v.value.to_string()
        }
    }

    fn list(&self, versions: &[Version]) -> String {
        match versions {
            [] => "nothing".into(),
            [one] => self.shown(one),
            many => {
                let all: Vec<String> = many.iter().map(|v| self.shown(v)).collect();
                format!("siblings {}", all.join(" | "))
            }
        }
    }
}

impl SectionBuilder for ReplicaSection {
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        match fact.downcast_ref::<ReplicaFact>() {
            Some(ReplicaFact::Holds { key, versions }) => {
                self.vectors |= versions.iter().any(|v| !v.clock.counts().is_empty());
                if let Some(h) = self.holds.get_mut(node as usize) {
                    h.insert(key.clone(), versions.clone());
                }
                let what = Told::Holds {
                    key: key.clone(),
                    versions: versions.clone(),
                };
                self.tell(at, node, what);
            }
            Some(ReplicaFact::Conflict { key, kept, refused }) => {
                self.count += 1;
                let what = Told::Conflict {
                    key: key.clone(),
                    kept: kept.clone(),
                    refused: refused.clone(),
                };
                self.tell(at, node, what);
                if self.conflicts.len() < LISTED {
                    self.conflicts
                        .push((at, node, key.clone(), kept.clone(), refused.clone()));
                }
            }
            _ => {}
        }
    }

    /// `A, B, C hold x = 0 [0,0,0]`, `B finds x = 2 [2,0,0] concurrent with its 5 [1,0,1]:
    /// keeps 5, reports a conflict`.
    fn story(&self, view: &dyn RunView) -> Vec<(Nanos, String)> {
        let mut lines: Vec<(Nanos, String)> = self
            .told
            .iter()
            .map(|(at, nodes, what)| {
                let names: Vec<&str> = nodes.iter().map(|&n| view.name(n)).collect();
                let who = names.join(", ");
                let text = match what {
                    Told::Holds { key, versions } => format!(
                        "{who} {} {key} = {}",
                        if nodes.len() == 1 { "holds" } else { "hold" },
                        self.list(versions)
                    ),
                    Told::Conflict { key, kept, refused } => format!(
                        "{who} {} {key} = {} concurrent with {} {}: {} {}, {} a conflict",
                        if nodes.len() == 1 { "finds" } else { "find" },
                        self.shown(refused),
                        if nodes.len() == 1 { "its" } else { "their" },
                        self.shown(kept),
                        if nodes.len() == 1 { "keeps" } else { "keep" },
                        kept.value,
                        if nodes.len() == 1 {
                            "reports"
                        } else {
                            "report"
                        },
                    ),
                };
                (*at, text)
            })
            .collect();
        if let Some((at, n)) = self.untold {
            lines.push((
                at,
                format!(
                    "… and {} more (the replicas section has the end state; sim replay has every one)",
                    plural(n, "change")
                ),
            ));
        }
        lines
    }

    fn section(&self, view: &dyn RunView) -> Option<Section> {
        let mut lines = Vec::new();
        let mut conflicts = Vec::new();
        for (at, node, key, kept, refused) in &self.conflicts {
            let name = view.name(*node);
            lines.push(format!(
                "{} {name} kept {key} = {}, refused {} (concurrent)",
                format_instant(*at),
                self.shown(kept),
                self.shown(refused)
            ));
            conflicts.push(json!({
                "at_ns": at, "node": name, "key": key.as_ref(),
                "kept": self.shown(kept), "refused": self.shown(refused),
            }));
        }
        if self.count > LISTED as u64 {
            lines.push(format!(
                "… {} more",
                plural(self.count - LISTED as u64, "conflict")
            ));
        }
        let mut holds = serde_json::Map::new();
        let mut siblings = 0;
        for (node, keys) in self.holds.iter().enumerate() {
            let name = view.name(node as u32).to_string();
            let told: Vec<String> = keys
                .iter()
                .map(|(k, vs)| format!("{k} = {}", self.list(vs)))
                .collect();
            siblings += keys.values().filter(|vs| vs.len() > 1).count();
            if !told.is_empty() {
                lines.push(format!("at the end {name} holds {}", told.join(", ")));
            }
            let by_key: serde_json::Map<String, Value> = keys
                .iter()
                .map(|(k, vs)| {
                    let shown: Vec<String> = vs.iter().map(|v| self.shown(v)).collect();
                    (k.to_string(), json!(shown))
                })
                .collect();
            holds.insert(name, Value::Object(by_key));
        }
        Some(Section {
            key: "replicas",
            title: "replicas",
            brief: Some(format!(
                "{} reported, siblings on {} at the end",
                plural(self.count, "conflict"),
                plural(siblings as u64, "replica")
            )),
            lines,
            json: json!({ "conflicts": self.count, "listed": conflicts, "holds": holds }),
        })
    }
}
