//! The txn family's named situations for `sim find` (see `node::situation`), read from the
//! bank's facts (`BankFact`: opened, prepared, held, decided, applied, rolled back), the faults
//! and the messages of a run's trace. Two-phase commit and TCC each list the ones that can
//! happen to them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::node::situation::{Found, Situation, kind, node, time};

/// Two-phase commit's situations, in the order `sim find --list` shows them.
pub(crate) fn two_phase_commit() -> Vec<Situation> {
    vec![
        Situation {
            name: "in-doubt",
            definition: "a participant has voted yes (prepared) and not yet learned the outcome \
                while a coordinator is down: it can neither commit nor abort on its own",
            detect: in_doubt,
        },
        abort(),
    ]
}

/// TCC's situations, in the order `sim find --list` shows them.
pub(crate) fn tcc() -> Vec<Situation> {
    vec![
        Situation {
            name: "retry",
            definition: "the coordinator sends the same try, confirm or cancel to the same \
                participant again (its answer was lost or late)",
            detect: retry,
        },
        Situation {
            name: "empty-rollback",
            definition: "a cancel reaches a participant for a branch whose try it never froze \
                (空回滚): it must record the cancel and answer it",
            detect: empty_rollback,
        },
        Situation {
            name: "suspension",
            definition: "a try reaches a participant after it cancelled that branch (悬挂): \
                freezing it now would hold the funds forever",
            detect: suspension,
        },
        abort(),
    ]
}

fn abort() -> Situation {
    Situation {
        name: "abort",
        definition: "a transfer is decided abort (a participant refused, or answered too late)",
        detect: aborted,
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

/// A transaction as the story names it: `c2#1`.
fn txn(fields: &Value) -> String {
    let t = &fields["txn"];
    format!("c{}#{}", t["client"], t["seq"])
}

/// The branch a fact or a message is about: (account, transaction).
fn branch(fields: &Value) -> (String, String) {
    (fields["account"].to_string(), txn(fields))
}

fn in_doubt(records: &[Value]) -> Option<Found> {
    let mut participants: BTreeSet<&str> = BTreeSet::new();
    // Coordinators crashed and not restarted.
    let mut down: BTreeSet<&str> = BTreeSet::new();
    // Per participant, the transactions it prepared and has not applied or rolled back.
    let mut prepared: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let in_doubt = |at, coordinator: &str, p: &str, txns: &BTreeSet<String>| {
        let list: Vec<&str> = txns.iter().map(String::as_str).collect();
        Found {
            at,
            text: format!(
                "{p} holds {} prepared, voted yes and undecided, while coordinator {coordinator} is down: in doubt",
                list.join(", ")
            ),
        }
    };
    for r in records {
        if let Some((name, fields)) = fact(r) {
            let n = node(r);
            match name {
                "opened" => {
                    participants.insert(n);
                }
                "prepared" => {
                    let txns = prepared.entry(n).or_default();
                    txns.insert(txn(fields));
                    // A prepare that was in flight when its coordinator crashed.
                    if let Some(c) = down.first() {
                        return Some(in_doubt(time(r), c, n, txns));
                    }
                }
                "applied" | "rolled_back" => {
                    prepared.entry(n).or_default().remove(&txn(fields));
                }
                _ => {}
            }
            continue;
        }
        if kind(r) == "start" {
            down.remove(node(r));
        }
        if kind(r) != "fault" || r.get("fault").and_then(Value::as_str) != Some("crash") {
            continue;
        }
        for crashed in r["nodes"].as_array().into_iter().flatten() {
            let Some(crashed) = crashed.as_str() else {
                continue;
            };
            // Participants are the nodes that hold accounts; the others coordinate.
            if participants.contains(crashed) {
                continue;
            }
            down.insert(crashed);
            if let Some((p, txns)) = prepared.iter().find(|(_, t)| !t.is_empty()) {
                return Some(in_doubt(time(r), crashed, p, txns));
            }
        }
    }
    None
}

fn aborted(records: &[Value]) -> Option<Found> {
    records.iter().find_map(|r| {
        let (name, fields) = fact(r)?;
        (name == "decided" && fields["commit"] == false).then(|| Found {
            at: time(r),
            text: format!("{} decides to abort transfer {}", node(r), txn(fields)),
        })
    })
}

/// A message's name and fields: `{"try": {...}}` → ("try", {...}).
fn message(msg: &Value) -> Option<(&str, &Value)> {
    let (name, fields) = msg.as_object()?.iter().next()?;
    Some((name.as_str(), fields))
}

fn retry(records: &[Value]) -> Option<Found> {
    let mut sent: BTreeSet<(String, String, String)> = BTreeSet::new();
    for r in records {
        if kind(r) != "send" {
            continue;
        }
        let Some((name, fields)) = message(&r["msg"]) else {
            continue;
        };
        if !matches!(name, "try" | "confirm" | "cancel") {
            continue;
        }
        let to = r["to"].as_str().unwrap_or("");
        if !sent.insert((node(r).to_string(), to.to_string(), r["msg"].to_string())) {
            return Some(Found {
                at: time(r),
                text: format!(
                    "{} sends {to} the {name} of transfer {} again: a retry",
                    node(r),
                    txn(fields)
                ),
            });
        }
    }
    None
}

/// The TCC messages delivered, in order: (record, message name, message fields).
fn deliveries(records: &[Value]) -> impl Iterator<Item = (&Value, &str, &Value)> {
    let mut sends: BTreeMap<u64, &Value> = BTreeMap::new();
    records.iter().filter_map(move |r| {
        let id = r.get("id").and_then(Value::as_u64)?;
        match kind(r) {
            "send" => {
                sends.insert(id, &r["msg"]);
                None
            }
            "deliver" => {
                let (name, fields) = message(sends.get(&id)?)?;
                Some((r, name, fields))
            }
            _ => None,
        }
    })
}

/// Per participant, the branches it froze (`held`) and cancelled (`rolled_back`) so far,
/// updated by `r`.
#[derive(Default)]
struct Branches<'a> {
    held: BTreeSet<(&'a str, (String, String))>,
    cancelled: BTreeSet<(&'a str, (String, String))>,
}

impl<'a> Branches<'a> {
    fn note(&mut self, r: &'a Value) {
        if let Some((name, fields)) = fact(r) {
            match name {
                "held" => {
                    self.held.insert((node(r), branch(fields)));
                }
                "rolled_back" => {
                    self.cancelled.insert((node(r), branch(fields)));
                }
                _ => {}
            }
        }
    }
}

fn empty_rollback(records: &[Value]) -> Option<Found> {
    let mut branches = Branches::default();
    let mut delivered = deliveries(records).peekable();
    for r in records {
        branches.note(r);
        while let Some((d, name, fields)) = delivered.next_if(|(d, _, _)| std::ptr::eq(*d, r)) {
            if name == "cancel" && !branches.held.contains(&(node(d), branch(fields))) {
                return Some(Found {
                    at: time(d),
                    text: format!(
                        "{} receives the cancel of transfer {} for account {}, whose try it never froze: an empty rollback",
                        node(d),
                        txn(fields),
                        fields["account"]
                    ),
                });
            }
        }
    }
    None
}

fn suspension(records: &[Value]) -> Option<Found> {
    let mut branches = Branches::default();
    let mut delivered = deliveries(records).peekable();
    for r in records {
        branches.note(r);
        while let Some((d, name, fields)) = delivered.next_if(|(d, _, _)| std::ptr::eq(*d, r)) {
            if name == "try" && branches.cancelled.contains(&(node(d), branch(fields))) {
                return Some(Found {
                    at: time(d),
                    text: format!(
                        "the try of transfer {} reaches {} after it cancelled that branch: a suspension",
                        txn(fields),
                        node(d)
                    ),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fact_at(t: u64, n: &str, f: Value) -> Value {
        json!({"kind": "fact", "node": n, "t": t, "fact": f})
    }

    #[test]
    fn a_coordinator_crash_over_a_prepared_branch_is_in_doubt_and_one_after_it_is_not() {
        let t = json!({"client": 2, "seq": 1});
        let opened = fact_at(0, "A", json!({"opened": {"account": 0, "balance": 100}}));
        let prepared = fact_at(1, "A", json!({"prepared": {"account": 0, "txn": t}}));
        let applied = fact_at(2, "A", json!({"applied": {"account": 0, "txn": t}}));
        let crash = json!({"kind": "fault", "fault": "crash", "nodes": ["TC"], "t": 3});
        let doubt = in_doubt(&[opened.clone(), prepared.clone(), crash.clone()]).unwrap();
        assert_eq!(doubt.at, 3);
        assert!(
            doubt.text.contains("A holds c2#1 prepared"),
            "{}",
            doubt.text
        );
        assert_eq!(
            in_doubt(&[opened.clone(), prepared.clone(), applied, crash.clone()]),
            None
        );
        // A prepare that arrives after its coordinator crashed.
        let late = fact_at(4, "A", json!({"prepared": {"account": 0, "txn": t}}));
        assert_eq!(
            in_doubt(&[opened.clone(), crash, late]).map(|f| f.at),
            Some(4)
        );
        // A participant's own crash is no coordinator's.
        let own = json!({"kind": "fault", "fault": "crash", "nodes": ["A"], "t": 3});
        let prepared = fact_at(1, "A", json!({"prepared": {"account": 0, "txn": t}}));
        assert_eq!(in_doubt(&[opened, prepared, own]), None);
    }

    #[test]
    fn a_cancel_without_a_try_is_an_empty_rollback_and_a_try_after_it_a_suspension() {
        let b = json!({"account": 1, "amount": 5, "debit": false, "txn": {"client": 1, "seq": 1}});
        let send = |id: u64, t: u64, m: &str| json!({"kind": "send", "id": id, "t": t, "node": "A", "to": "C", "msg": {m: b}});
        let deliver = |id: u64, t: u64| json!({"kind": "deliver", "id": id, "t": t, "node": "C", "from": "A"});
        let cancelled = fact_at(
            6,
            "C",
            json!({"rolled_back": {"account": 1, "txn": {"client": 1, "seq": 1}}}),
        );
        let trace = [
            send(0, 1, "try"),
            send(1, 2, "cancel"),
            deliver(1, 5),
            cancelled,
            deliver(0, 9),
        ];
        assert_eq!(empty_rollback(&trace).map(|f| f.at), Some(5));
        assert_eq!(suspension(&trace).map(|f| f.at), Some(9));
        let held = fact_at(2, "C", json!({"held": b}));
        let in_order = [
            send(0, 1, "try"),
            deliver(0, 2),
            held,
            send(1, 3, "cancel"),
            deliver(1, 4),
        ];
        assert_eq!(empty_rollback(&in_order), None);
        assert_eq!(suspension(&in_order), None);
        assert_eq!(retry(&in_order), None);
        assert_eq!(
            retry(&[send(0, 1, "try"), send(2, 3, "try")]).map(|f| f.at),
            Some(3)
        );
    }
}
