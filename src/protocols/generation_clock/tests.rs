//! The storage with and without its check, and the checker over what each does.

use super::*;
use crate::node::testing::{View, peers_of};
use crate::node::{ClientId, Effect, Nanos, Op, RequestId, Status};
use crate::protocols::stale_write::no_stale_write;

fn node(id: u32, check: bool) -> GenerationClock {
    let config = GenerationConfig {
        check_generation: check,
        ..GenerationConfig::default()
    };
    GenerationClock::new(NodeId(id), &peers_of(NodeId(id), 3), &config, None)
}

fn step(
    n: &mut GenerationClock,
    id: u32,
    f: impl FnOnce(&mut GenerationClock, &mut Ctx<'_, GenerationClock>),
) -> Vec<Effect<GenerationClock>> {
    crate::node::step(n, NodeId(id), &peers_of(NodeId(id), 3), 0, f)
}

fn put(generation: u64, seq: u64, value: &str) -> Msg {
    Msg::Apply {
        generation,
        request: RequestId {
            client: ClientId(0),
            seq,
        },
        op: Op::Put {
            key: "k".into(),
            value: value.into(),
        },
    }
}

/// The storage's facts for: generation 2 writes, then generation 1 does.
fn old_after_new(check: bool) -> Vec<GenerationFact> {
    let mut s = node(0, check);
    let mut facts = Vec::new();
    for (from, msg) in [(2, put(2, 1, "new")), (1, put(1, 2, "old"))] {
        for e in step(&mut s, 0, |n, c| n.on_message(c, NodeId(from), msg)) {
            if let Effect::Fact(f) = e {
                facts.push(f);
            }
        }
    }
    facts
}

fn judge(facts: &[GenerationFact]) -> Status {
    let view = View::new(&["S", "M1", "M2"], 0);
    let mut check = (no_stale_write::<GenerationFact>().build)(3, None);
    for (t, f) in facts.iter().enumerate() {
        check.on_fact(t as Nanos, 0, f, &view);
    }
    check.status()
}

#[test]
fn without_the_check_the_old_generation_overwrites_and_no_stale_write_fails() {
    let facts = old_after_new(false);
    assert_eq!(facts.len(), 2, "both applied");
    let Status::Violated(v) = judge(&facts) else {
        panic!("a stale write passed")
    };
    assert_eq!(v.nodes, ["M1", "M2"]);
    assert!(v.message.contains("under generation 1"), "{}", v.message);
}

#[test]
fn with_the_check_the_old_generation_is_refused_and_no_stale_write_holds() {
    let facts = old_after_new(true);
    assert!(matches!(
        facts[1],
        GenerationFact::Rejected {
            generation: 1,
            highest: 2,
            ..
        }
    ));
    assert_eq!(judge(&facts), Status::Pass);
}

#[test]
fn a_refused_master_steps_down_and_points_at_the_other() {
    let mut m1 = node(1, true);
    step(&mut m1, 1, |n, c| n.on_start(c));
    let request = RequestId {
        client: ClientId(0),
        seq: 1,
    };
    let fx = step(&mut m1, 1, |n, c| {
        n.on_message(
            c,
            NodeId(0),
            Msg::Stale {
                request,
                highest: 2,
            },
        )
    });
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Observe(Observation::Role {
            role: Role::Standby,
            term: 2
        })
    )));
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Reply {
            reply: Reply::NotLeader {
                leader: Some(NodeId(2))
            },
            ..
        }
    )));
}

#[test]
fn the_standby_promotes_itself_with_the_next_generation() {
    let mut m2 = node(2, true);
    step(&mut m2, 2, |n, c| n.on_start(c));
    let mut promoted = Vec::new();
    for _ in 0..4 {
        promoted = step(&mut m2, 2, |n, c| n.on_timer(c, Timer::Ping));
    }
    assert!(promoted.iter().any(|e| matches!(
        e,
        Effect::Observe(Observation::Role {
            role: Role::Master,
            term: 2
        })
    )));
}

#[test]
fn needs_exactly_three_nodes() {
    let err = GenerationClock::validate(&GenerationConfig::default(), 2).unwrap_err();
    assert!(err.message.contains("exactly 3 nodes"));
}

#[test]
fn applies_and_refusals_are_told_in_words() {
    let apply = serde_json::to_value(put(1, 42, "c2-42")).unwrap();
    assert_eq!(
        GenerationClock::narrate_message(&apply, &[]).as_deref(),
        Some("Apply(gen 1: put k=c2-42 for c0#42)")
    );
    let request = RequestId {
        client: ClientId(2),
        seq: 42,
    };
    let stale = serde_json::to_value(Msg::Stale {
        request,
        highest: 2,
    })
    .unwrap();
    assert_eq!(
        GenerationClock::narrate_message(&stale, &[]).as_deref(),
        Some("Stale(c2#42: highest gen 2)")
    );
    let ping = serde_json::to_value(Msg::Ping { seq: 1 }).unwrap();
    assert_eq!(GenerationClock::narrate_message(&ping, &[]), None);
}
