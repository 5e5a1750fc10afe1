//! Raft's named situations for `sim find` (see `node::situation`), read from the role and
//! log observations and the faults of a run's trace.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::node::situation::{Found, Situation, kind, node, time};

/// Raft's situations, in the order `sim find --list` shows them.
pub(super) fn all() -> Vec<Situation> {
    vec![
        Situation {
            name: "leader-elected",
            definition: "a server becomes leader (the first election won)",
            detect: leader_elected,
        },
        Situation {
            name: "split-vote",
            definition: "two or more candidates stand in one term and none wins it: the votes \
                split and a later term begins",
            detect: split_vote,
        },
        Situation {
            name: "leader-deposed",
            definition: "a running leader steps down (it saw a higher term, or lost its quorum)",
            detect: leader_deposed,
        },
        Situation {
            name: "leader-crashed",
            definition: "a fault crashes the server that is leader at that moment",
            detect: leader_crashed,
        },
        Situation {
            name: "log-truncated",
            definition: "a server overwrites entries of its log with a leader's conflicting ones \
                (§5.3): it appends at an index it already held",
            detect: log_truncated,
        },
    ]
}

/// A role observation: (node, role, term).
fn role(r: &Value) -> Option<(&str, &str, u64)> {
    if kind(r) != "observe" {
        return None;
    }
    let obs = r.get("obs")?;
    if obs.get("type")?.as_str()? != "role" {
        return None;
    }
    Some((
        node(r),
        obs.get("role")?.as_str()?,
        obs.get("term")?.as_u64()?,
    ))
}

fn leader_elected(records: &[Value]) -> Option<Found> {
    records.iter().find_map(|r| {
        let (n, role, term) = role(r)?;
        (role == "leader").then(|| Found {
            at: time(r),
            text: format!("{n} becomes leader in term {term}"),
        })
    })
}

fn split_vote(records: &[Value]) -> Option<Found> {
    let mut candidates: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
    let mut won: BTreeSet<u64> = BTreeSet::new();
    for r in records {
        let Some((n, role, term)) = role(r) else {
            continue;
        };
        // A role in a later term closes every earlier one: was it split?
        if let Some((&t, stood)) = candidates
            .range(..term)
            .find(|(t, stood)| stood.len() >= 2 && !won.contains(t))
        {
            let names: Vec<&str> = stood.iter().copied().collect();
            return Some(Found {
                at: time(r),
                text: format!(
                    "term {t} ends with no leader: {} stood and split the votes; {n} moves on to term {term}",
                    names.join(" and ")
                ),
            });
        }
        match role {
            "candidate" => {
                candidates.entry(term).or_default().insert(n);
            }
            "leader" => {
                won.insert(term);
            }
            _ => {}
        }
        // Terms below this one that were not split never will be.
        let settled: Vec<u64> = candidates.range(..term).map(|(t, _)| *t).collect();
        for t in settled {
            candidates.remove(&t);
        }
    }
    None
}

/// Who leads right now, node → term, kept from role observations, restarts and crashes.
fn leaders_step<'a>(leaders: &mut BTreeMap<&'a str, u64>, r: &'a Value) {
    if let Some((n, role, term)) = role(r) {
        if role == "leader" {
            leaders.insert(n, term);
        } else {
            leaders.remove(n);
        }
    } else if kind(r) == "start" {
        leaders.remove(node(r));
    } else if kind(r) == "fault"
        && r.get("fault").and_then(Value::as_str) == Some("crash")
        && let Some(nodes) = r.get("nodes").and_then(Value::as_array)
    {
        for n in nodes.iter().filter_map(Value::as_str) {
            leaders.remove(n);
        }
    }
}

fn leader_deposed(records: &[Value]) -> Option<Found> {
    let mut leaders = BTreeMap::new();
    for r in records {
        if let Some((n, role, term)) = role(r)
            && role != "leader"
            && let Some(led) = leaders.get(n)
        {
            return Some(Found {
                at: time(r),
                text: format!("{n}, leader of term {led}, steps down to {role} in term {term}"),
            });
        }
        leaders_step(&mut leaders, r);
    }
    None
}

fn leader_crashed(records: &[Value]) -> Option<Found> {
    let mut leaders = BTreeMap::new();
    for r in records {
        if kind(r) == "fault"
            && r.get("fault").and_then(Value::as_str) == Some("crash")
            && let Some(nodes) = r.get("nodes").and_then(Value::as_array)
            && let Some((n, term)) = nodes
                .iter()
                .filter_map(Value::as_str)
                .find_map(|n| leaders.get(n).map(|t| (n, *t)))
        {
            return Some(Found {
                at: time(r),
                text: format!("{n}, leader of term {term}, crashes"),
            });
        }
        leaders_step(&mut leaders, r);
    }
    None
}

fn log_truncated(records: &[Value]) -> Option<Found> {
    let mut last: BTreeMap<&str, u64> = BTreeMap::new();
    for r in records {
        if kind(r) != "observe" {
            continue;
        }
        let Some(obs) = r.get("obs") else { continue };
        if obs.get("type").and_then(Value::as_str) != Some("appended") {
            continue;
        }
        let (Some(index), Some(term)) = (
            obs.get("index").and_then(Value::as_u64),
            obs.get("term").and_then(Value::as_u64),
        ) else {
            continue;
        };
        let n = node(r);
        if let Some(&held) = last.get(n)
            && index <= held
        {
            return Some(Found {
                at: time(r),
                text: format!(
                    "{n} cuts its log back from index {held} and appends a term-{term} entry at index {index}"
                ),
            });
        }
        last.insert(n, index);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role_at(t: u64, n: &str, role: &str, term: u64) -> Value {
        json!({"kind": "observe", "node": n, "t": t, "obs": {"type": "role", "role": role, "term": term}})
    }

    #[test]
    fn two_candidates_without_a_leader_are_a_split_vote_and_a_win_is_not() {
        let split = [
            role_at(1, "A", "candidate", 1),
            role_at(2, "B", "candidate", 1),
            role_at(9, "A", "candidate", 2),
        ];
        let found = split_vote(&split).expect("term 1 split");
        assert_eq!(found.at, 9);
        assert!(
            found
                .text
                .starts_with("term 1 ends with no leader: A and B"),
            "{}",
            found.text
        );
        let won = [
            role_at(1, "A", "candidate", 1),
            role_at(2, "B", "candidate", 1),
            role_at(3, "A", "leader", 1),
            role_at(9, "B", "follower", 2),
        ];
        assert_eq!(split_vote(&won), None);
    }

    #[test]
    fn a_leader_that_steps_down_is_deposed_but_one_that_crashes_is_not() {
        let down = [role_at(1, "A", "leader", 1), role_at(5, "A", "follower", 2)];
        assert_eq!(leader_deposed(&down).map(|f| f.at), Some(5));
        let crash = [
            role_at(1, "A", "leader", 1),
            json!({"kind": "fault", "fault": "crash", "nodes": ["A"], "t": 3, "text": "crash A"}),
            json!({"kind": "start", "node": "A", "t": 4}),
            role_at(4, "A", "follower", 1),
        ];
        assert_eq!(leader_deposed(&crash), None);
        assert_eq!(leader_crashed(&crash).map(|f| f.at), Some(3));
    }

    #[test]
    fn an_append_at_an_index_already_held_is_a_truncation() {
        let app = |t: u64, index: u64, term: u64| json!({"kind": "observe", "node": "C", "t": t, "obs": {"type": "appended", "index": index, "term": term}});
        assert_eq!(log_truncated(&[app(1, 1, 1), app(2, 2, 1)]), None);
        let cut = log_truncated(&[app(1, 1, 1), app(2, 2, 1), app(3, 2, 3)]).unwrap();
        assert_eq!(cut.at, 3);
        assert!(cut.text.contains("index 2"), "{}", cut.text);
    }
}
