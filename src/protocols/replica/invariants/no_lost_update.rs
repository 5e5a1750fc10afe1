//! `no_lost_update`: an acknowledged put survives, or a put that saw it supersedes it.
//!
//! Causality comes from the history, not from the protocol's clocks (which are what is being
//! judged): put `b` follows put `a` when `b`'s client had, before invoking `b`, issued `a`
//! itself or completed a read that returned `a`'s value or the value of a put that follows `a`
//! — transitively. Each operation gets a vector over clients, as a vector clock over processes:
//! entry `c` counts the operations of client `c` it knows of.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::node::history::{Call, History, Outcome, Output, Value};
use crate::node::{
    Applied, FaultRecord, Invariant, Nanos, NodeId, Observation, Property, RunView, Status,
    format_instant,
};

use super::super::clocks::VectorClock;
use super::super::register::ReplicaFact;
use super::cast;
use crate::node::invariant::FirstViolation;

/// Why a replica stopped holding a value: when, who, and what it held instead.
#[derive(Clone, Debug)]
struct Drop {
    at: Nanos,
    node: u32,
    /// What it held of the key afterwards; `None`: it restarted without the value.
    instead: Option<Vec<Arc<str>>>,
}

/// `no_lost_update`.
#[derive(Default)]
pub(crate) struct NoLostUpdate {
    /// The values each replica holds of each key, as last stated.
    holds: BTreeMap<(u32, Arc<str>), Vec<Arc<str>>>,
    /// The last time each (key, value) was dropped by a replica.
    dropped: BTreeMap<(Arc<str>, Arc<str>), Drop>,
    names: Vec<String>,
    verdict: FirstViolation,
}

impl NoLostUpdate {
    fn name_of(&self, node: u32) -> String {
        self.names
            .get(node as usize)
            .cloned()
            .unwrap_or_else(|| format!("#{node}"))
    }

    fn drop_values(
        &mut self,
        at: Nanos,
        node: u32,
        key: &Arc<str>,
        gone: &[Arc<str>],
        instead: Option<Vec<Arc<str>>>,
    ) {
        for value in gone {
            self.dropped.insert(
                (key.clone(), value.clone()),
                Drop {
                    at,
                    node,
                    instead: instead.clone(),
                },
            );
        }
    }

    /// Every value some replica holds of `key` at the end, and who holds each.
    fn held(&self, key: &str) -> BTreeMap<Arc<str>, Vec<u32>> {
        let mut held: BTreeMap<Arc<str>, Vec<u32>> = BTreeMap::new();
        for ((node, k), values) in &self.holds {
            if &**k == key {
                for v in values {
                    held.entry(v.clone()).or_default().push(*node);
                }
            }
        }
        held
    }
}

/// The puts of a history with what each knew: its client, its number in its client's
/// sequence, and its vector over clients.
struct Causality {
    /// By (key, value): the put's operation index.
    writer: BTreeMap<(String, String), usize>,
    /// By operation index (puts only): (client, number, vector).
    knew: BTreeMap<usize, (u64, u64, VectorClock)>,
}

impl Causality {
    fn of(history: &History) -> Causality {
        let mut writer = BTreeMap::new();
        for (i, op) in history.ops.iter().enumerate() {
            if let (Some(key), Call::Write(Value::Str(v))) = (&op.key, &op.call) {
                writer.insert((key.clone(), v.clone()), i);
            }
        }
        // Completions before invocations at one instant: a client invokes after it completed.
        let mut events: Vec<(u64, bool, usize)> = Vec::new();
        for (i, op) in history.ops.iter().enumerate() {
            events.push((op.invoke, true, i));
            if let Some(done) = op.complete {
                events.push((done, false, i));
            }
        }
        events.sort_unstable();
        let mut know: BTreeMap<u64, VectorClock> = BTreeMap::new();
        let mut knew = BTreeMap::new();
        for (_, invoke, i) in events {
            let op = &history.ops[i];
            let client = op.process;
            let k = know.entry(client).or_default();
            if invoke {
                k.increment(NodeId(client as u32));
                if matches!(op.call, Call::Write(_)) {
                    knew.insert(i, (client, k.get(NodeId(client as u32)), k.clone()));
                }
                continue;
            }
            let read: Vec<&Value> = match &op.outcome {
                Outcome::Ok(Output::Value(Some(v))) => vec![v],
                Outcome::Ok(Output::Siblings(vs)) => vs.iter().collect(),
                _ => continue,
            };
            let Some(key) = &op.key else { continue };
            for v in read {
                let Value::Str(v) = v else { continue };
                if let Some((_, _, seen)) = writer
                    .get(&(key.clone(), v.clone()))
                    .and_then(|w| knew.get(w))
                {
                    let seen = seen.clone();
                    know.entry(client).or_default().merge(&seen);
                }
            }
        }
        Causality { writer, knew }
    }

    /// Whether put `b` causally follows put `a` (both operation indexes).
    fn follows(&self, b: usize, a: usize) -> bool {
        let (Some((client, n, _)), Some((_, _, vector))) = (self.knew.get(&a), self.knew.get(&b))
        else {
            return false;
        };
        a != b && vector.get(NodeId(*client as u32)) >= *n
    }
}

impl Invariant for NoLostUpdate {
    fn name(&self) -> String {
        "no_lost_update".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        // A restarted replica states again what it recovered; what it does not is dropped.
        if let Applied::Restart { nodes } = &fault.applied {
            let restarted: Vec<(u32, Arc<str>)> = self
                .holds
                .keys()
                .filter(|(n, _)| nodes.contains(n))
                .cloned()
                .collect();
            for (node, key) in restarted {
                let values = self.holds.remove(&(node, key.clone())).unwrap_or_default();
                self.drop_values(at, node, &key, &values, None);
            }
        }
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _: &dyn RunView) {
        let Some(ReplicaFact::Holds { key, versions }) = cast(fact) else {
            return;
        };
        let now: Vec<Arc<str>> = versions.iter().map(|v| v.value.clone()).collect();
        let before = self
            .holds
            .insert((node, key.clone()), now.clone())
            .unwrap_or_default();
        let gone: Vec<Arc<str>> = before.into_iter().filter(|v| !now.contains(v)).collect();
        self.drop_values(at, node, key, &gone, Some(now));
    }
    fn on_end(&mut self, view: &dyn RunView) {
        self.names = view.names().to_vec();
    }
    fn on_history(&mut self, history: &History) {
        let causality = Causality::of(history);
        // Every acknowledged put that is neither held nor superseded, with when it was lost.
        let mut lost: Vec<(Nanos, usize)> = Vec::new();
        for (i, op) in history.ops.iter().enumerate() {
            let (Some(key), Call::Write(Value::Str(value)), Outcome::Ok(_)) =
                (&op.key, &op.call, &op.outcome)
            else {
                continue;
            };
            let held = self.held(key);
            if held.contains_key(value.as_str()) {
                continue;
            }
            let superseded = held.keys().any(|v| {
                causality
                    .writer
                    .get(&(key.clone(), v.to_string()))
                    .is_some_and(|&b| causality.follows(b, i))
            });
            if superseded {
                continue;
            }
            let acked = op.complete.unwrap_or(op.invoke);
            let when = self
                .dropped
                .get(&(Arc::from(key.as_str()), Arc::from(value.as_str())))
                .map_or(acked, |d| d.at.max(acked));
            lost.push((when, i));
        }
        lost.sort_unstable();
        let Some(&(at, i)) = lost.first() else { return };
        let op = &history.ops[i];
        let (Some(key), Call::Write(Value::Str(value))) = (&op.key, &op.call) else {
            unreachable!("only keyed string puts are judged")
        };
        let mut evidence = vec![format!(
            "{} c{} put {key} = {value}, acknowledged at {}",
            format_instant(op.invoke),
            op.process,
            format_instant(op.complete.unwrap_or(op.invoke))
        )];
        let drop = self
            .dropped
            .get(&(Arc::from(key.as_str()), Arc::from(value.as_str())))
            .cloned();
        let mut nodes = Vec::new();
        match &drop {
            Some(d) => {
                nodes.push(self.name_of(d.node));
                evidence.push(match &d.instead {
                    Some(instead) => {
                        let instead: Vec<String> = instead.iter().map(|v| v.to_string()).collect();
                        format!(
                            "{} {} dropped it for [{}], whose puts had not seen it (the last \
                             replica to hold it)",
                            format_instant(d.at),
                            self.name_of(d.node),
                            instead.join(", ")
                        )
                    }
                    None => format!(
                        "{} {} restarted without it (the last replica to hold it)",
                        format_instant(d.at),
                        self.name_of(d.node)
                    ),
                });
            }
            None => evidence.push("no replica ever stated that it held it".into()),
        }
        let held = self.held(key);
        let shown: Vec<String> = held
            .iter()
            .map(|(v, who)| {
                let who: Vec<String> = who.iter().map(|n| self.name_of(*n)).collect();
                format!("{v} on {}", who.join(", "))
            })
            .collect();
        evidence.push(format!(
            "at the end {key} is {}",
            if shown.is_empty() {
                "held by no replica".to_string()
            } else {
                shown.join("; ")
            }
        ));
        if lost.len() > 1 {
            evidence.push(format!(
                "{} more acknowledged puts were lost",
                lost.len() - 1
            ));
        }
        self.verdict.fail(
            at,
            nodes,
            format!(
                "c{}'s acknowledged put of {key} = {value} is lost: no replica holds it, nor a \
                 value whose put had seen it",
                op.process
            ),
            evidence,
        );
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::history::{Operation, TimeUnit};
    use crate::protocols::replica::invariants::tests::View;
    use crate::protocols::replica::{VectorClock, Version};

    fn holds(values: &[&str]) -> ReplicaFact {
        ReplicaFact::Holds {
            key: "x".into(),
            versions: values
                .iter()
                .map(|v| Version {
                    value: (*v).into(),
                    clock: VectorClock::new(),
                })
                .collect(),
        }
    }

    fn op(process: u64, call: Call, invoke: u64, complete: u64, out: Output) -> Operation {
        Operation {
            process,
            key: Some("x".into()),
            call,
            invoke,
            complete: Some(complete),
            outcome: Outcome::Ok(out),
            node: None,
        }
    }

    fn put(process: u64, v: &str, t: (u64, u64)) -> Operation {
        op(
            process,
            Call::Write(Value::Str(v.into())),
            t.0,
            t.1,
            Output::Done,
        )
    }

    fn get(process: u64, v: &str, t: (u64, u64)) -> Operation {
        op(
            process,
            Call::Read,
            t.0,
            t.1,
            Output::Value(Some(Value::Str(v.into()))),
        )
    }

    fn judge(facts: &[(Nanos, u32, ReplicaFact)], ops: Vec<Operation>) -> Status {
        let view = View::abc();
        let mut check = NoLostUpdate::default();
        for (at, node, fact) in facts {
            check.on_fact(*at, *node, fact, &view);
        }
        check.on_end(&view);
        check.on_history(&History {
            ops,
            time_unit: TimeUnit::Nanos,
            model: None,
        });
        check.status()
    }

    #[test]
    fn a_put_overwritten_by_one_that_never_saw_it_is_lost() {
        // c0 puts a; c1 puts b without having read a; last-write-wins keeps b everywhere.
        let facts = [
            (10, 0, holds(&["a"])),
            (20, 1, holds(&["b"])),
            (30, 0, holds(&["b"])),
        ];
        let ops = vec![put(0, "a", (5, 10)), put(1, "b", (15, 20))];
        let Status::Violated(v) = judge(&facts, ops) else {
            panic!("a lost write passed")
        };
        assert_eq!(v.at, 30, "when A, the last to hold it, dropped it");
        assert_eq!(v.nodes, ["A"]);
        assert!(
            v.message
                .starts_with("c0's acknowledged put of x = a is lost"),
            "{}",
            v.message
        );
        assert!(
            v.evidence[1].contains("A dropped it for [b]"),
            "{:?}",
            v.evidence
        );
        assert_eq!(v.evidence[2], "at the end x is b on A, B");
    }

    #[test]
    fn a_put_superseded_by_one_that_read_it_is_not_lost() {
        let facts = [(10, 0, holds(&["a"])), (30, 0, holds(&["b"]))];
        // c1 read a, then put b: b follows a.
        let ops = vec![
            put(0, "a", (5, 10)),
            get(1, "a", (11, 12)),
            put(1, "b", (13, 30)),
        ];
        assert_eq!(judge(&facts, ops), Status::Pass);
    }

    #[test]
    fn causality_is_transitive_through_other_clients_and_sessions() {
        // c0 puts a; c1 reads a and puts m; c2 reads m and puts z, which replaces a.
        let facts = [(10, 0, holds(&["a"])), (60, 0, holds(&["z"]))];
        let ops = vec![
            put(0, "a", (5, 10)),
            get(1, "a", (11, 12)),
            put(1, "m", (13, 20)),
            get(2, "m", (21, 22)),
            put(2, "z", (23, 60)),
        ];
        assert_eq!(judge(&facts, ops.clone()), Status::Pass);
        // Its own client's next put follows it too.
        let own = vec![put(0, "a", (5, 10)), put(0, "z", (11, 60))];
        assert_eq!(judge(&facts, own), Status::Pass);
        // A read that began before the put it returns and ended before c2 read: still fine;
        // but a put invoked before the read completed did not see it.
        let early = vec![
            put(0, "a", (5, 10)),
            put(2, "z", (8, 60)),
            get(2, "a", (61, 62)),
        ];
        assert!(matches!(judge(&facts, early), Status::Violated(_)));
    }

    #[test]
    fn siblings_keep_both_and_an_unacknowledged_put_is_not_judged() {
        let facts = [(10, 0, holds(&["a"])), (20, 0, holds(&["a", "b"]))];
        let ops = vec![put(0, "a", (5, 10)), put(1, "b", (15, 20))];
        assert_eq!(judge(&facts, ops), Status::Pass);
        let mut info = put(0, "a", (5, 10));
        info.outcome = Outcome::Info;
        let facts = [(10, 0, holds(&["b"]))];
        assert_eq!(
            judge(&facts, vec![info, put(1, "b", (15, 20))]),
            Status::Pass
        );
    }

    #[test]
    fn a_restart_that_loses_the_only_copy_loses_the_put() {
        let view = View::abc();
        let mut check = NoLostUpdate::default();
        check.on_fact(10, 2, &holds(&["a"]), &view);
        let restart = FaultRecord {
            at: 50,
            origin: crate::node::Origin::Schedule(0),
            written: "restart C".into(),
            applied: Applied::Restart { nodes: vec![2] },
            lasting: None,
            dynamic: false,
        };
        check.on_fault(50, &restart, &view);
        check.on_end(&view);
        check.on_history(&History {
            ops: vec![put(0, "a", (5, 10))],
            time_unit: TimeUnit::Nanos,
            model: None,
        });
        let Status::Violated(v) = check.status() else {
            panic!("a put lost in a restart passed")
        };
        assert_eq!(v.at, 50);
        assert!(
            v.evidence[1].contains("C restarted without it"),
            "{:?}",
            v.evidence
        );
    }
}
