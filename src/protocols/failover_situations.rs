//! The fail-over family's named situations for `sim find` (see `node::situation`), read from
//! the common observations (roles, suspicions) and the faults of a run's trace: the heartbeat
//! detector's, and the naive fail-over's.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::node::situation::{Found, Situation, kind, node, time};

/// The heartbeat detector's situations.
pub(crate) fn heartbeat() -> Vec<Situation> {
    vec![
        Situation {
            name: "suspicion",
            definition: "a node starts to suspect a peer (it missed its heartbeats)",
            detect: suspicion,
        },
        Situation {
            name: "false-suspicion",
            definition: "a node suspects a peer that has not crashed (it is slow, paused or cut \
                off): strong accuracy broken",
            detect: false_suspicion,
        },
    ]
}

/// The naive fail-over's situations.
pub(crate) fn naive_failover() -> Vec<Situation> {
    vec![
        Situation {
            name: "failover",
            definition: "the standby declares itself master",
            detect: failover,
        },
        Situation {
            name: "split-brain",
            definition: "two nodes act as master at once, neither crashed",
            detect: split_brain,
        },
    ]
}

/// An observation's fields, when `r` is one of type `ty`.
fn observed<'a>(r: &'a Value, ty: &str) -> Option<&'a Value> {
    let obs = r.get("obs")?;
    (kind(r) == "observe" && obs.get("type")?.as_str()? == ty).then_some(obs)
}

fn suspicion(records: &[Value]) -> Option<Found> {
    records.iter().find_map(|r| {
        let obs = observed(r, "suspect")?;
        Some(Found {
            at: time(r),
            text: format!("{} suspects {}", node(r), obs["peer"].as_str()?),
        })
    })
}

/// The nodes crashed and not restarted, kept from faults and starts.
fn track_crashes<'a>(crashed: &mut BTreeSet<&'a str>, r: &'a Value) {
    match kind(r) {
        "start" => {
            crashed.remove(node(r));
        }
        "fault" if r["fault"] == "crash" => {
            crashed.extend(
                r["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            );
        }
        _ => {}
    }
}

fn false_suspicion(records: &[Value]) -> Option<Found> {
    let mut crashed = BTreeSet::new();
    for r in records {
        track_crashes(&mut crashed, r);
        if let Some(obs) = observed(r, "suspect")
            && let Some(peer) = obs["peer"].as_str()
            && !crashed.contains(peer)
        {
            return Some(Found {
                at: time(r),
                text: format!("{} suspects {peer}, which has not crashed", node(r)),
            });
        }
    }
    None
}

/// A role observation's (role, term).
fn role(r: &Value) -> Option<(&str, u64)> {
    let obs = observed(r, "role")?;
    Some((obs["role"].as_str()?, obs["term"].as_u64()?))
}

fn failover(records: &[Value]) -> Option<Found> {
    let mut masters: BTreeSet<&str> = BTreeSet::new();
    for r in records {
        if let Some(("master", term)) = role(r) {
            let n = node(r);
            if !masters.is_empty() && !masters.contains(n) {
                return Some(Found {
                    at: time(r),
                    text: format!("{n} takes over as master in epoch {term}"),
                });
            }
            masters.insert(n);
        }
    }
    None
}

fn split_brain(records: &[Value]) -> Option<Found> {
    let mut crashed = BTreeSet::new();
    let mut masters: BTreeMap<&str, u64> = BTreeMap::new();
    for r in records {
        track_crashes(&mut crashed, r);
        let Some((role, term)) = role(r) else {
            continue;
        };
        let n = node(r);
        if role != "master" {
            masters.remove(n);
            continue;
        }
        masters.insert(n, term);
        if let Some((other, epoch)) = masters
            .iter()
            .find(|(m, _)| **m != n && !crashed.contains(**m))
        {
            return Some(Found {
                at: time(r),
                text: format!(
                    "{n} becomes master in epoch {term} while {other} still is, in epoch {epoch}"
                ),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obs(t: u64, n: &str, o: Value) -> Value {
        json!({"kind": "observe", "node": n, "t": t, "obs": o})
    }

    #[test]
    fn suspecting_a_crashed_peer_is_no_false_suspicion() {
        let crash = json!({"kind": "fault", "fault": "crash", "nodes": ["A"], "t": 1});
        let suspect = obs(2, "B", json!({"type": "suspect", "peer": "A"}));
        assert_eq!(false_suspicion(&[crash, suspect.clone()]), None);
        assert_eq!(
            false_suspicion(std::slice::from_ref(&suspect)).map(|f| f.at),
            Some(2)
        );
        assert_eq!(suspicion(&[suspect]).map(|f| f.at), Some(2));
    }

    #[test]
    fn a_second_master_beside_a_live_one_is_split_brain() {
        let m = |t: u64, n: &str, term: u64| {
            obs(
                t,
                n,
                json!({"type": "role", "role": "master", "term": term}),
            )
        };
        let trace = [m(0, "master", 0), m(5, "standby", 1)];
        assert_eq!(failover(&trace).map(|f| f.at), Some(5));
        assert_eq!(split_brain(&trace).map(|f| f.at), Some(5));
        let crash = json!({"kind": "fault", "fault": "crash", "nodes": ["master"], "t": 3});
        assert_eq!(
            split_brain(&[m(0, "master", 0), crash, m(5, "standby", 1)]),
            None
        );
    }
}
