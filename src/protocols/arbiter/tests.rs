//! The service, a candidate and the storage step by step, and `no_stale_write` over what the
//! storage does with and without its check.

use super::*;
use crate::node::testing::{View, facts, peers_of, sent, timer_set};
use crate::node::{Effect, LocalNanos, Nanos, Observation, Role, Status};
use crate::protocols::stale_write::GenerationFact;

const MS: i64 = 1_000_000;
/// The service, the storage, candidates a (2) and b (3).
const NODES: u32 = 4;
const A: NodeId = NodeId(2);
const B: NodeId = NodeId(3);

fn config(check: bool, fail_back: bool) -> ArbiterConfig {
    ArbiterConfig {
        check_generation: check,
        fail_back,
        ..ArbiterConfig::default()
    }
}

fn node(id: NodeId, config: &ArbiterConfig) -> Arbiter {
    Arbiter::new(id, &peers_of(id, NODES), config, None)
}

fn step(
    n: &mut Arbiter,
    id: NodeId,
    now: LocalNanos,
    f: impl FnOnce(&mut Arbiter, &mut Ctx<'_, Arbiter>),
) -> Vec<Effect<Arbiter>> {
    crate::node::step(n, id, &peers_of(id, NODES), now, f)
}

fn deliver(
    n: &mut Arbiter,
    id: NodeId,
    now: LocalNanos,
    from: NodeId,
    msg: Msg,
) -> Vec<Effect<Arbiter>> {
    step(n, id, now, |n, c| n.on_message(c, from, msg))
}

fn roles(fx: &[Effect<Arbiter>]) -> Vec<(Role, u64)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Observe(Observation::Role { role, term }) => Some((*role, *term)),
            _ => None,
        })
        .collect()
}

fn reg(seq: u64, node: NodeId) -> Registration {
    Registration { seq, node }
}

/// The service after a registers (session 1) then b (session 1).
fn service_with_a_and_b(cfg: &ArbiterConfig) -> Arbiter {
    let mut s = node(SERVICE, cfg);
    step(&mut s, SERVICE, 0, |n, c| n.on_start(c));
    deliver(&mut s, SERVICE, 0, A, Msg::Register { session: 1 });
    deliver(&mut s, SERVICE, 0, B, Msg::Register { session: 1 });
    s
}

#[test]
fn the_service_hands_out_sequential_registrations_and_answers_a_retry_with_the_same_one() {
    let cfg = ArbiterConfig::default();
    let mut s = service_with_a_and_b(&cfg);
    let fx = deliver(&mut s, SERVICE, MS, B, Msg::Register { session: 1 });
    assert!(facts(&fx).is_empty(), "no second registration for a retry");
    assert_eq!(
        sent(&fx),
        [(
            B,
            Msg::Registered {
                session: 1,
                seq: 2,
                version: 2,
                registrations: vec![reg(1, A), reg(2, B)],
            }
        )]
    );
}

#[test]
fn a_silent_session_lapses_its_registration_goes_and_the_others_are_told() {
    let cfg = ArbiterConfig::default();
    let mut s = service_with_a_and_b(&cfg);
    // b beats at 400 ms; a never does.
    let fx = deliver(&mut s, SERVICE, 400 * MS, B, Msg::Heartbeat { session: 1 });
    assert_eq!(timer_set(&fx, Timer::Session(B)), Some(500 * MS as Nanos));
    let fx = step(&mut s, SERVICE, 500 * MS, |n, c| {
        n.on_timer(c, Timer::Session(A))
    });
    assert_eq!(
        facts(&fx),
        [ArbiterFact::Expired {
            node: A,
            seq: 1,
            silent_for: 500 * MS as Nanos
        }]
    );
    assert_eq!(
        sent(&fx),
        [(
            B,
            Msg::Children {
                version: 3,
                registrations: vec![reg(2, B)]
            }
        )],
        "only the live session is told"
    );
    // a wakes and beats: its session is gone.
    let fx = deliver(&mut s, SERVICE, 900 * MS, A, Msg::Heartbeat { session: 1 });
    assert_eq!(sent(&fx), [(A, Msg::Expired { session: 1 })]);
    // It registers again: behind b, with a number never handed out before.
    let fx = deliver(&mut s, SERVICE, 910 * MS, A, Msg::Register { session: 2 });
    assert!(facts(&fx).contains(&ArbiterFact::Registered { node: A, seq: 3 }));
}

#[test]
fn a_restarted_service_keeps_its_registrations_and_numbers() {
    let cfg = ArbiterConfig::default();
    let mut s = node(SERVICE, &cfg);
    let fx = deliver(&mut s, SERVICE, 0, A, Msg::Register { session: 1 });
    let disk = crate::node::testing::persisted(&fx).expect("on disk before the answer");
    assert_eq!(disk.last_seq, 1);
    let durable = crate::node::DiskOf::<Arbiter> {
        state: disk,
        ..Default::default()
    };
    let mut s = Arbiter::new(SERVICE, &peers_of(SERVICE, NODES), &cfg, Some(&durable));
    let fx = step(&mut s, SERVICE, 0, |n, c| n.on_start(c));
    assert!(
        timer_set(&fx, Timer::Session(A)).is_some(),
        "a full timeout again"
    );
    let fx = deliver(&mut s, SERVICE, 0, B, Msg::Register { session: 1 });
    assert!(facts(&fx).contains(&ArbiterFact::Registered { node: B, seq: 2 }));
}

/// Candidate `id` registered as `seq`, told the list `list` (version 1).
fn candidate(
    id: NodeId,
    cfg: &ArbiterConfig,
    seq: u64,
    list: Vec<Registration>,
) -> (Arbiter, Vec<Effect<Arbiter>>) {
    let mut c = node(id, cfg);
    step(&mut c, id, 0, |n, ctx| n.on_start(ctx));
    let fx = deliver(
        &mut c,
        id,
        MS,
        SERVICE,
        Msg::Registered {
            session: 1,
            seq,
            version: 1,
            registrations: list,
        },
    );
    (c, fx)
}

#[test]
fn the_lowest_registration_is_master_and_stamps_its_writes_with_its_number() {
    let cfg = ArbiterConfig::default();
    let (mut a, fx) = candidate(A, &cfg, 1, vec![reg(1, A), reg(2, B)]);
    assert_eq!(roles(&fx), [(Role::Master, 1)]);
    let fx = step(&mut a, A, 60 * MS, |n, c| n.on_timer(c, Timer::Write));
    assert_eq!(
        sent(&fx),
        [(
            STORAGE,
            Msg::Write {
                generation: 1,
                key: "x".into(),
                value: "2#1".into()
            }
        )]
    );
    let (_, fx) = candidate(B, &cfg, 2, vec![reg(1, A), reg(2, B)]);
    assert!(
        roles(&fx).is_empty(),
        "master0000000002 waits behind master0000000001"
    );
}

#[test]
fn a_waiting_candidate_learns_from_the_watch_that_it_is_master() {
    let cfg = ArbiterConfig::default();
    let (mut b, _) = candidate(B, &cfg, 2, vec![reg(1, A), reg(2, B)]);
    let children = Msg::Children {
        version: 2,
        registrations: vec![reg(2, B)],
    };
    let fx = deliver(&mut b, B, 600 * MS, SERVICE, children.clone());
    assert_eq!(roles(&fx), [(Role::Master, 2)]);
    // An older list changes nothing.
    let stale = Msg::Children {
        version: 1,
        registrations: vec![reg(1, A), reg(2, B)],
    };
    assert!(roles(&deliver(&mut b, B, 601 * MS, SERVICE, stale)).is_empty());
}

#[test]
fn a_master_told_its_session_expired_steps_down_and_registers_again() {
    let cfg = ArbiterConfig::default();
    let (mut a, _) = candidate(A, &cfg, 1, vec![reg(1, A), reg(2, B)]);
    // Paused past its session: on waking its write timer fires first, and it still writes.
    let fx = step(&mut a, A, 2_000 * MS, |n, c| n.on_timer(c, Timer::Write));
    assert!(matches!(
        sent(&fx)[..],
        [(STORAGE, Msg::Write { generation: 1, .. })]
    ));
    let fx = deliver(&mut a, A, 2_004 * MS, SERVICE, Msg::Expired { session: 1 });
    assert_eq!(roles(&fx), [(Role::Standby, 1)]);
    assert_eq!(sent(&fx), [(SERVICE, Msg::Register { session: 2 })]);
}

#[test]
fn a_master_refused_by_the_storage_stops_writing_at_once() {
    let cfg = ArbiterConfig::default();
    let (mut a, _) = candidate(A, &cfg, 1, vec![reg(1, A), reg(2, B)]);
    let refused = Msg::Stale {
        generation: 1,
        highest: 2,
    };
    let fx = deliver(&mut a, A, 2_004 * MS, STORAGE, refused);
    assert_eq!(roles(&fx), [(Role::Standby, 2)]);
    assert!(sent(&step(&mut a, A, 2_050 * MS, |n, c| n.on_timer(c, Timer::Write))).is_empty());
}

/// The storage's facts for: generation 2 writes, then generation 1 does.
fn old_after_new(check: bool) -> Vec<ArbiterFact> {
    let cfg = config(check, false);
    let mut s = node(STORAGE, &cfg);
    let mut out = Vec::new();
    for (from, generation, value) in [(B, 2, "3#1"), (A, 1, "2#9")] {
        let write = Msg::Write {
            generation,
            key: "x".into(),
            value: value.into(),
        };
        out.extend(facts(&deliver(&mut s, STORAGE, 0, from, write)));
    }
    out
}

fn judge(facts: &[ArbiterFact]) -> Status {
    let view = View::new(&["zk", "storage", "a", "b"], 0);
    let mut check = (no_stale_write::<ArbiterFact>().build)(4, None);
    for (t, f) in facts.iter().enumerate() {
        check.on_fact(t as Nanos, 1, f, &view);
    }
    check.status()
}

#[test]
fn without_the_check_the_woken_master_overwrites_and_no_stale_write_fails() {
    let facts = old_after_new(false);
    assert_eq!(facts.len(), 2, "both carried out");
    let Status::Violated(v) = judge(&facts) else {
        panic!("a stale write passed")
    };
    assert_eq!(v.nodes, ["a", "b"]);
    assert!(
        v.message.contains("a's write of x under generation 1"),
        "{}",
        v.message
    );
}

#[test]
fn with_the_check_the_woken_master_is_refused_and_no_stale_write_holds() {
    let facts = old_after_new(true);
    assert_eq!(
        facts[1],
        ArbiterFact::Storage(GenerationFact::Rejected {
            generation: 1,
            highest: 2,
            from: A,
            key: "x".into()
        })
    );
    assert_eq!(judge(&facts), Status::Pass);
}

#[test]
fn with_fail_back_a_master_yields_to_the_preferred_primary() {
    let cfg = config(true, true);
    // b is master (2); a, the preferred primary, comes back as 3.
    let (mut b, fx) = candidate(B, &cfg, 2, vec![reg(2, B)]);
    assert_eq!(roles(&fx), [(Role::Master, 2)]);
    let back = Msg::Children {
        version: 2,
        registrations: vec![reg(2, B), reg(3, A)],
    };
    let fx = deliver(&mut b, B, 900 * MS, SERVICE, back);
    assert_eq!(facts(&fx), [ArbiterFact::Yielded { seq: 2, to: 3 }]);
    assert_eq!(roles(&fx), [(Role::Standby, 2)]);
    assert_eq!(sent(&fx), [(SERVICE, Msg::Register { session: 2 })]);
    // Without fail-back the primary waits its turn.
    let (mut b, _) = candidate(B, &ArbiterConfig::default(), 2, vec![reg(2, B)]);
    let back = Msg::Children {
        version: 2,
        registrations: vec![reg(2, B), reg(3, A)],
    };
    assert!(facts(&deliver(&mut b, B, 900 * MS, SERVICE, back)).is_empty());
}

#[test]
fn messages_are_told_in_words() {
    let names: Vec<String> = ["zk", "storage", "a", "b"].map(String::from).into();
    let told = |m: Msg| Arbiter::narrate_message(&serde_json::to_value(m).unwrap(), &names);
    assert_eq!(
        told(Msg::Registered {
            session: 1,
            seq: 2,
            version: 2,
            registrations: vec![reg(1, A), reg(2, B)]
        })
        .as_deref(),
        Some(
            "Registered(session 1: master0000000002; list v2: master0000000001 (a), master0000000002 (b))"
        )
    );
    assert_eq!(
        told(Msg::Stale {
            generation: 1,
            highest: 2
        })
        .as_deref(),
        Some("Stale(gen 1 < highest 2)")
    );
    assert_eq!(told(Msg::Heartbeat { session: 1 }), None);
}
