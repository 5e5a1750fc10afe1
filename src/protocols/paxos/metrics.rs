//! Paxos's protocol metric for `sim experiment`: how long the cluster takes to decide. Read
//! from the acceptors' `Accepted` facts in a trial's trace, as `agreement` counts them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::node::Nanos;
use crate::node::situation::{kind, node, time};
use crate::protocols::ProtocolMetric;

/// `decide_time`.
pub(crate) fn decide_time() -> ProtocolMetric {
    ProtocolMetric {
        name: "decide_time",
        definition: "the time from the start of the run to the first value chosen (accepted \
            by a majority of the acceptors in one ballot); none when no value was chosen",
        kinds: &["fact"],
        measure: measure_decide,
    }
}

/// (the instant of the first choice, 1), or (`None`, 0) when nothing was chosen.
fn measure_decide(records: &[Value], _end: Nanos) -> (Option<Nanos>, u64) {
    // (ballot, value) → the acceptors that accepted it.
    let mut votes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in records.iter().filter(|r| kind(r) == "fact") {
        let Some(a) = r.get("fact").and_then(|f| f.get("accepted")) else {
            continue;
        };
        let quorum = a["quorum"].as_u64().unwrap_or(u64::MAX) as usize;
        let who = votes
            .entry(format!("{}|{}", a["ballot"], a["value"]))
            .or_default();
        who.insert(node(r).to_string());
        if who.len() == quorum {
            return (Some(time(r)), 1);
        }
    }
    (None, 0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn accepted(t: Nanos, node: &str, round: u64, value: u32) -> Value {
        json!({"kind": "fact", "t": t, "node": node, "fact": {"accepted": {
            "ballot": {"proposer": 0, "round": round}, "quorum": 2, "value": value}}})
    }

    #[test]
    fn the_first_majority_for_one_ballot_decides() {
        let records = [
            accepted(10, "A", 1, 0),
            accepted(12, "B", 2, 0),
            accepted(15, "A", 2, 0),
            accepted(20, "C", 1, 0),
        ];
        assert_eq!(measure_decide(&records, 100), (Some(15), 1));
    }

    #[test]
    fn a_run_that_never_decides_has_no_value() {
        let records = [accepted(10, "A", 1, 0), accepted(12, "B", 2, 0)];
        assert_eq!(measure_decide(&records, 100), (None, 0));
    }
}
