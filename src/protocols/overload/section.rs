//! The `overload` report section: how many requests the service took in, served, failed and
//! refused (and why), the latency of those it took in — from acceptance to answer, in true
//! time, as `latency_within` counts it — by percentile, and, in the run's story, each change of
//! a circuit breaker's state.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::node::section::plural;
use crate::node::{
    Nanos, Observation, ObservationKinds, RequestId, RunView, Section, SectionBuilder,
    format_duration,
};

use super::api::OverloadFact;

/// Watches the service's facts.
#[derive(Default)]
pub(crate) struct OverloadSection {
    open: BTreeMap<(u32, RequestId), Nanos>,
    /// Latencies of the answered requests, by op (`local`, `remote`).
    latencies: BTreeMap<&'static str, Vec<Nanos>>,
    served: u64,
    /// Failed after acceptance, by why.
    failed: BTreeMap<&'static str, u64>,
    /// Refused at once, by why.
    rejected: BTreeMap<&'static str, u64>,
    /// (when, node, what) of every breaker change, the first refusal of each kind and each
    /// queue length in [`QUEUE_MARKS`] first reached, for the story.
    moments: Vec<(Nanos, u32, String)>,
    /// What the story has told once already: (node, refusal) and (node, queue mark).
    told: BTreeSet<(u32, String)>,
}

/// Queue lengths the story tells when a node first reaches them.
const QUEUE_MARKS: [u32; 3] = [10, 100, 1_000];

impl OverloadSection {
    fn breaker_changes(&self) -> u64 {
        self.moments
            .iter()
            .filter(|(_, _, w)| w.contains("circuit breaker"))
            .count() as u64
    }

    fn once(&mut self, at: Nanos, node: u32, key: String, what: String) {
        if self.told.insert((node, key)) {
            self.moments.push((at, node, what));
        }
    }
}

/// The `p`-th percentile (nearest rank) of sorted `xs`.
fn percentile(xs: &[Nanos], p: u64) -> Nanos {
    let rank = (p * xs.len() as u64).div_ceil(100).max(1) as usize;
    xs[rank.min(xs.len()) - 1]
}

fn counts(m: &BTreeMap<&'static str, u64>) -> String {
    m.iter()
        .map(|(why, n)| format!("{} {n}", why.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SectionBuilder for OverloadSection {
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        match fact.downcast_ref::<OverloadFact>() {
            Some(&OverloadFact::Accepted {
                request, queued, ..
            }) => {
                self.open.insert((node, request), at);
                if QUEUE_MARKS.contains(&queued) {
                    let what = format!(" has {queued} requests waiting in its queue");
                    self.once(at, node, format!("queue {queued}"), what);
                }
            }
            Some(&OverloadFact::Rejected { why, .. }) => {
                *self.rejected.entry(why).or_default() += 1;
                let what = format!(
                    " refuses a request at once for the first time: {}",
                    why.replace('_', " ")
                );
                self.once(at, node, why.to_string(), what);
            }
            Some(&OverloadFact::Answered {
                request,
                op,
                ok,
                why,
            }) => {
                if let Some(since) = self.open.remove(&(node, request)) {
                    self.latencies.entry(op).or_default().push(at - since);
                }
                if ok {
                    self.served += 1;
                } else {
                    *self.failed.entry(why).or_default() += 1;
                }
            }
            Some(OverloadFact::Breaker { from, to, because }) => self.moments.push((
                at,
                node,
                format!(
                    "'s circuit breaker goes {} → {}: {because}",
                    from.upper(),
                    to.upper()
                ),
            )),
            None => {}
        }
    }
    fn section(&self, _: &dyn RunView) -> Option<Section> {
        let mut lines = vec![format!(
            "{} served, {} failed{}, {} refused at once{}",
            self.served,
            self.failed.values().sum::<u64>(),
            if self.failed.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts(&self.failed))
            },
            self.rejected.values().sum::<u64>(),
            if self.rejected.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts(&self.rejected))
            },
        )];
        let mut by_op = serde_json::Map::new();
        for (op, xs) in &self.latencies {
            let mut xs = xs.clone();
            xs.sort_unstable();
            let [p50, p99, max] = [percentile(&xs, 50), percentile(&xs, 99), xs[xs.len() - 1]];
            lines.push(format!(
                "{op} latency (accepted → answered): p50 {}, p99 {}, max {} over {}",
                format_duration(p50),
                format_duration(p99),
                format_duration(max),
                plural(xs.len() as u64, "request")
            ));
            by_op.insert(
                op.to_string(),
                json!({"count": xs.len(), "p50_ns": p50, "p99_ns": p99, "max_ns": max}),
            );
        }
        let changes = self.breaker_changes();
        if changes > 0 {
            lines.push(format!(
                "circuit breaker: {}",
                plural(changes, "state change")
            ));
        }
        Some(Section {
            key: "overload",
            title: "overload",
            brief: Some(format!(
                "{} served, {} refused",
                self.served,
                self.rejected.values().sum::<u64>()
            )),
            lines,
            json: json!({
                "served": self.served,
                "failed": self.failed,
                "rejected": self.rejected,
                "latency": by_op,
                "breaker_changes": changes,
            }),
        })
    }
    fn story(&self, view: &dyn RunView) -> Vec<(Nanos, String)> {
        self.moments
            .iter()
            .map(|(at, node, what)| (*at, format!("{}{what}", view.name(*node))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let xs: Vec<Nanos> = (1..=100).collect();
        assert_eq!((percentile(&xs, 50), percentile(&xs, 99)), (50, 99));
        assert_eq!(percentile(&[7], 99), 7);
    }
}
