//! The txn family's protocol metric for `sim experiment`: how long a transaction stays in doubt.
//! Read, like the family's situations, from the bank's facts and the faults of a trial's trace.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::node::Nanos;
use crate::node::situation::{kind, node, time};
use crate::protocols::ProtocolMetric;

/// `in_doubt_time`, for two-phase commit and TCC.
pub(crate) fn in_doubt_time() -> ProtocolMetric {
    ProtocolMetric {
        name: "in_doubt_time",
        definition: "the longest time a transaction stays in doubt: a participant holds its part \
            (prepared, or funds held by a try) without knowing the outcome while a node that \
            decides (a coordinator, an initiator) is down — the time the protocol blocks; \
            0 when no transaction was ever in doubt",
        kinds: &["fact", "fault", "start"],
        measure: measure_in_doubt,
    }
}

/// A fact record's fact: (its name, its fields).
fn fact(r: &Value) -> Option<(&str, &Value)> {
    if kind(r) != "fact" {
        return None;
    }
    let (name, fields) = r.get("fact")?.as_object()?.iter().next()?;
    Some((name.as_str(), fields))
}

/// (value, samples): the longest in-doubt time of any transaction, to `end` for one still in
/// doubt when the run ended; the number of transactions ever in doubt.
fn measure_in_doubt(records: &[Value], end: Nanos) -> (Option<Nanos>, u64) {
    // Participants are the nodes that hold accounts; the others decide.
    let mut participants: BTreeSet<String> = BTreeSet::new();
    let mut down: BTreeSet<String> = BTreeSet::new();
    // (participant, account, transaction) → time in doubt so far, while its part is held.
    let mut held: BTreeMap<(String, String, String), Nanos> = BTreeMap::new();
    // Per transaction, the longest time any of its parts was in doubt.
    let mut per_txn: BTreeMap<String, Nanos> = BTreeMap::new();
    let mut last = 0;
    let mut advance = |to: Nanos,
                       down: &BTreeSet<String>,
                       held: &mut BTreeMap<(String, String, String), Nanos>,
                       per_txn: &mut BTreeMap<String, Nanos>| {
        if !down.is_empty() && to > last {
            for ((_, _, txn), t) in held.iter_mut() {
                *t += to - last;
                let most = per_txn.entry(txn.clone()).or_default();
                *most = (*most).max(*t);
            }
        }
        last = last.max(to);
    };
    for r in records {
        advance(time(r), &down, &mut held, &mut per_txn);
        if let Some((name, fields)) = fact(r) {
            let part = || {
                let t = &fields["txn"];
                (
                    node(r).to_string(),
                    fields["account"].to_string(),
                    format!("c{}#{}", t["client"], t["seq"]),
                )
            };
            match name {
                "opened" => {
                    participants.insert(node(r).to_string());
                }
                "prepared" | "held" => {
                    held.entry(part()).or_default();
                }
                "applied" | "rolled_back" | "released" => {
                    held.remove(&part());
                }
                _ => {}
            }
        } else if kind(r) == "start" {
            down.remove(node(r));
        } else if kind(r) == "fault" && r["fault"] == "crash" {
            for n in r["nodes"].as_array().into_iter().flatten() {
                if let Some(n) = n.as_str().filter(|n| !participants.contains(*n)) {
                    down.insert(n.to_string());
                }
            }
        }
    }
    advance(end, &down, &mut held, &mut per_txn);
    let in_doubt: Vec<Nanos> = per_txn.into_values().filter(|&t| t > 0).collect();
    (
        Some(in_doubt.iter().copied().max().unwrap_or(0)),
        in_doubt.len() as u64,
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fact(t: Nanos, node: &str, name: &str, account: u32, seq: u64) -> Value {
        json!({"kind": "fact", "t": t, "node": node,
            "fact": {name: {"account": account, "txn": {"client": 1, "seq": seq}}}})
    }

    fn opened(node: &str, account: u32) -> Value {
        json!({"kind": "fact", "t": 0, "node": node, "fact": {"opened": {"account": account, "balance": 100}}})
    }

    fn crash(t: Nanos, node: &str) -> Value {
        json!({"kind": "fault", "t": t, "fault": "crash", "nodes": [node]})
    }

    #[test]
    fn a_prepared_part_is_in_doubt_while_its_coordinator_is_down_until_the_end() {
        let records = [
            opened("A", 0),
            opened("B", 1),
            fact(10, "A", "prepared", 0, 1),
            fact(12, "B", "prepared", 1, 1),
            crash(20, "TC"),
        ];
        // Both parts of c1#1 stay prepared from the crash at 20 to the end at 100.
        assert_eq!(measure_in_doubt(&records, 100), (Some(80), 1));
    }

    #[test]
    fn a_run_where_every_outcome_arrives_has_no_time_in_doubt() {
        // Prepared and committed while the coordinator is up; it crashes afterwards.
        let records = [
            opened("A", 0),
            fact(10, "A", "prepared", 0, 1),
            fact(15, "A", "applied", 0, 1),
            crash(20, "TC"),
        ];
        assert_eq!(measure_in_doubt(&records, 100), (Some(0), 0));
    }

    #[test]
    fn a_restart_ends_the_doubt_and_a_crashed_participant_does_not_start_it() {
        let records = [
            opened("A", 0),
            opened("B", 1),
            fact(10, "A", "held", 0, 1),
            crash(15, "B"),
            crash(20, "TC"),
            json!({"kind": "start", "t": 50, "node": "TC", "restart": true}),
            fact(60, "A", "released", 0, 1),
        ];
        assert_eq!(measure_in_doubt(&records, 100), (Some(30), 1));
    }
}
