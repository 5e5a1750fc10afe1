//! Unit tests of `master-slave`: nodes driven handler by handler, and the checker over the facts
//! and histories of a broken and a sound design.

use super::*;
use crate::node::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
use crate::node::testing::{View, peers_of};
use crate::node::{ClientId, DiskWrite, Effect, Nanos, Status};

fn config(ack: Ack, replication: Replication) -> MasterSlaveConfig {
    MasterSlaveConfig {
        ack,
        replication,
        ..MasterSlaveConfig::default()
    }
}

fn get() -> ClientRequest {
    ClientRequest {
        id: request(99),
        op: Op::Get { key: "k".into() },
    }
}

/// What a get answers.
fn read(fx: &[Effect<MasterSlave>]) -> Option<Arc<str>> {
    fx.iter()
        .find_map(|e| match e {
            Effect::Reply {
                reply: Reply::Ok(OpResult::Value { value }),
                ..
            } => Some(value.clone()),
            _ => None,
        })
        .expect("a get is answered")
}

#[test]
fn below_the_high_water_mark_reads_see_only_what_a_slave_holds() {
    let mut cfg = config(Ack::AfterSync, Replication::Async);
    cfg.reads = Reads::HighWaterMark;
    let mut m = started(0, 2, &cfg);
    step(&mut m, 0, 2, |m, c| m.on_request(c, put(1)));
    assert_eq!(
        read(&step(&mut m, 0, 2, |m, c| m.on_request(c, get()))),
        None
    );
    let fx = step(&mut m, 0, 2, |m, c| {
        m.on_message(c, NodeId(1), Msg::Ack { epoch: 1, held: 1 })
    });
    assert!(fx.is_empty(), "async: nothing was waiting");
    assert_eq!(
        read(&step(&mut m, 0, 2, |m, c| m.on_request(c, get()))).as_deref(),
        Some("c0-1")
    );
    // Reading the log shows the write at once, before any slave has it.
    let mut log = started(0, 2, &config(Ack::AfterSync, Replication::Async));
    step(&mut log, 0, 2, |m, c| m.on_request(c, put(1)));
    assert_eq!(
        read(&step(&mut log, 0, 2, |m, c| m.on_request(c, get()))).as_deref(),
        Some("c0-1")
    );
}

#[test]
fn a_promoted_slave_shows_only_what_it_learned_was_below_the_mark() {
    let mut cfg = config(Ack::AfterSync, Replication::SemiSync);
    cfg.reads = Reads::HighWaterMark;
    let mut s = started(1, 2, &cfg);
    let mut m = started(0, 2, &cfg);
    step(&mut m, 0, 2, |m, c| m.on_request(c, put(1)));
    step(&mut m, 0, 2, |m, c| m.on_request(c, put(2)));
    for index in 1..=2 {
        let entry = m.log[index as usize - 1].clone();
        replicate(&mut s, index, entry, index - 1);
    }
    for _ in 0..4 {
        step(&mut s, 1, 2, |s, c| s.on_timer(c, Timer::Ping));
    }
    assert_eq!(s.role(), Role::Master);
    assert_eq!(
        s.hwm, 1,
        "the mark the old master sent with the second entry"
    );
    assert_eq!(
        read(&step(&mut s, 1, 2, |s, c| s.on_request(c, get()))).as_deref(),
        Some("c0-1")
    );
}

fn peers(id: u32, n: u32) -> Vec<NodeId> {
    peers_of(NodeId(id), n)
}

fn step(
    node: &mut MasterSlave,
    id: u32,
    n: u32,
    f: impl FnOnce(&mut MasterSlave, &mut Ctx<'_, MasterSlave>),
) -> Vec<Effect<MasterSlave>> {
    crate::node::step(node, NodeId(id), &peers(id, n), 0, f)
}

/// The master of epoch 1 (node 0 of 2) sends entry `index`, with the mark at `hwm`, to the
/// slave (node 1).
fn replicate(
    slave: &mut MasterSlave,
    index: u64,
    entry: Entry,
    hwm: u64,
) -> Vec<Effect<MasterSlave>> {
    step(slave, 1, 2, |s, c| {
        s.on_message(
            c,
            NodeId(0),
            Msg::Replicate {
                epoch: 1,
                index,
                entry,
                hwm,
            },
        )
    })
}

fn request(seq: u64) -> RequestId {
    RequestId {
        client: ClientId(0),
        seq,
    }
}

fn put(seq: u64) -> ClientRequest {
    ClientRequest {
        id: request(seq),
        op: Op::Put {
            key: "k".into(),
            value: format!("c0-{seq}").into(),
        },
    }
}

/// Where in `fx` the reply to the client and the log append are: which comes first is the lesson.
fn order(fx: &[Effect<MasterSlave>]) -> (Option<usize>, Option<usize>) {
    let reply = fx.iter().position(|e| {
        matches!(
            e,
            Effect::Reply {
                reply: Reply::Ok(_),
                ..
            }
        )
    });
    let append = fx
        .iter()
        .position(|e| matches!(e, Effect::Persist(DiskWrite::Append(_))));
    (reply, append)
}

fn started(id: u32, n: u32, config: &MasterSlaveConfig) -> MasterSlave {
    let mut node = MasterSlave::new(NodeId(id), &peers(id, n), config, None);
    step(&mut node, id, n, |m, c| m.on_start(c));
    node
}

#[test]
fn before_sync_answers_ahead_of_the_append_and_after_sync_behind_it() {
    let mut early = started(0, 1, &config(Ack::BeforeSync, Replication::Async));
    let (reply, append) = order(&step(&mut early, 0, 1, |m, c| m.on_request(c, put(1))));
    assert!(
        reply.unwrap() < append.unwrap(),
        "before_sync answers first"
    );
    let mut late = started(0, 1, &config(Ack::AfterSync, Replication::Async));
    let (reply, append) = order(&step(&mut late, 0, 1, |m, c| m.on_request(c, put(1))));
    assert!(
        append.unwrap() < reply.unwrap(),
        "after_sync answers after the append, so the world holds it for the sync"
    );
}

#[test]
fn semi_sync_answers_only_when_a_slave_acknowledges() {
    let cfg = config(Ack::AfterSync, Replication::SemiSync);
    let mut m = started(0, 2, &cfg);
    let fx = step(&mut m, 0, 2, |m, c| m.on_request(c, put(1)));
    assert_eq!(order(&fx).0, None, "no answer before a slave holds it");
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Send {
            msg: Msg::Replicate { index: 1, .. },
            ..
        }
    )));
    // The slave appends, and acknowledges after the append (so after its sync).
    let mut s = started(1, 2, &cfg);
    let entry = m.log[0].clone();
    let fx = replicate(&mut s, 1, entry, 0);
    let append = fx
        .iter()
        .position(|e| matches!(e, Effect::Persist(DiskWrite::Append(_))))
        .unwrap();
    let ack = fx
        .iter()
        .position(|e| {
            matches!(
                e,
                Effect::Send {
                    msg: Msg::Ack { held: 1, .. },
                    ..
                }
            )
        })
        .unwrap();
    assert!(append < ack);
    let fx = step(&mut m, 0, 2, |m, c| {
        m.on_message(c, NodeId(1), Msg::Ack { epoch: 1, held: 1 })
    });
    assert!(order(&fx).0.is_some(), "answered once the slave holds it");
}

#[test]
fn async_answers_at_once_and_the_slave_pulls_with_its_ping() {
    let cfg = config(Ack::AfterSync, Replication::Async);
    let mut m = started(0, 2, &cfg);
    let fx = step(&mut m, 0, 2, |m, c| m.on_request(c, put(1)));
    assert!(order(&fx).0.is_some());
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Send { .. })),
        "nothing pushed"
    );
    let fx = step(&mut m, 0, 2, |m, c| {
        m.on_message(
            c,
            NodeId(1),
            Msg::Ping {
                seq: 1,
                epoch: 1,
                held: Some(0),
            },
        )
    });
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Send {
            msg: Msg::Replicate { index: 1, .. },
            ..
        }
    )));
}

#[test]
fn a_silent_master_is_replaced_with_a_new_epoch_and_a_returning_one_steps_down() {
    let cfg = config(Ack::AfterSync, Replication::SemiSync);
    let mut s = started(1, 2, &cfg);
    for _ in 0..3 {
        step(&mut s, 1, 2, |s, c| s.on_timer(c, Timer::Ping));
        assert_eq!(s.role(), Role::Standby);
    }
    let fx = step(&mut s, 1, 2, |s, c| s.on_timer(c, Timer::Ping));
    assert_eq!(
        (s.role(), s.epoch),
        (Role::Master, 2),
        "epoch 2 is node 1's"
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Fact(MasterSlaveFact::Serving { epoch: 2, .. })))
    );
    // The old master, back with a write it cannot get copied: refused, and it steps down.
    let mut old = started(0, 2, &cfg);
    step(&mut old, 0, 2, |m, c| m.on_request(c, put(7)));
    let entry = old.log[0].clone();
    let fx = replicate(&mut s, 1, entry, 0);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Send {
            msg: Msg::Stale { epoch: 2 },
            ..
        }
    )));
    let fx = step(&mut old, 0, 2, |m, c| {
        m.on_message(c, NodeId(1), Msg::Stale { epoch: 2 })
    });
    assert_eq!(old.role(), Role::Standby);
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Reply {
                reply: Reply::NotLeader {
                    leader: Some(NodeId(1))
                },
                ..
            }
        )),
        "its waiting client is sent to the new master, never told ok"
    );
}

#[test]
fn epochs_name_their_master() {
    let m = MasterSlave::new(NodeId(2), &peers(2, 3), &MasterSlaveConfig::default(), None);
    assert_eq!(m.next_epoch(1), 3);
    assert_eq!(m.next_epoch(3), 6);
    assert_eq!(m.master_of(6), NodeId(2));
    assert_eq!(m.rank(), 2, "third in line after node 0");
}

#[test]
fn validate_refuses_semi_sync_without_a_slave_and_with_an_early_answer() {
    let semi = config(Ack::AfterSync, Replication::SemiSync);
    let err = MasterSlave::validate(&semi, 1).unwrap_err();
    assert_eq!(err.field, "replication");
    let early = config(Ack::BeforeSync, Replication::SemiSync);
    let err = MasterSlave::validate(&early, 2).unwrap_err();
    assert!(err.message.contains("before_sync"), "{}", err.message);
    assert!(MasterSlave::validate(&semi, 2).is_ok());
}

/// A and B, at 100 ns.
fn view() -> View {
    View::new(&["A", "B"], 100)
}

fn written(value: &str) -> Written {
    Written {
        key: "k".into(),
        value: value.into(),
    }
}

/// A put of `value` answered ok at `at` by A.
fn acked(value: &str, at: Nanos) -> Operation {
    Operation {
        process: 0,
        key: Some("k".into()),
        call: Call::Write(Value::Str(value.into())),
        invoke: at - 1,
        complete: Some(at),
        outcome: Outcome::Ok(Output::Done),
        node: Some("A".into()),
    }
}

/// A get that returned `value` at `at`, from A.
fn seen(value: &str, at: Nanos) -> Operation {
    Operation {
        call: Call::Read,
        outcome: Outcome::Ok(Output::Value(Some(Value::Str(value.into())))),
        ..acked(value, at)
    }
}

/// The checker over: A serves with nothing, logs c0-1, acknowledged at 10; then B serves at 20
/// holding `b_holds`.
fn judge(b_holds: Vec<Written>) -> Status {
    judge_with(
        invariant::acknowledged_writes_survive(),
        acked("c0-1", 10),
        b_holds,
        &[],
    )
}

/// `judge` with another invariant, operation and role observations.
fn judge_with(
    invariant: ProtocolInvariant,
    op: Operation,
    b_holds: Vec<Written>,
    roles: &[(u32, Role)],
) -> Status {
    let mut check = (invariant.build)(2, None);
    for (node, role) in roles {
        let obs = Observation::Role {
            role: *role,
            term: 1,
        };
        check.on_observation(0, *node, &obs, &view());
    }
    let facts = [
        (
            0,
            0,
            MasterSlaveFact::Serving {
                epoch: 1,
                log: vec![],
            },
        ),
        (
            5,
            0,
            MasterSlaveFact::Logged {
                epoch: 1,
                index: 1,
                write: written("c0-1"),
            },
        ),
        (
            20,
            1,
            MasterSlaveFact::Serving {
                epoch: 2,
                log: b_holds,
            },
        ),
    ];
    for (at, node, f) in &facts {
        check.on_fact(*at, *node, f, &view());
    }
    check.on_end(&view());
    check.on_history(&History {
        ops: vec![op],
        time_unit: TimeUnit::Nanos,
        model: None,
    });
    check.status()
}

#[test]
fn a_master_that_serves_without_an_acknowledged_write_fails_the_invariant() {
    let Status::Violated(v) = judge(vec![]) else {
        panic!("a lost write passed");
    };
    assert_eq!(v.nodes, ["A", "B"]);
    assert_eq!(v.at, 20);
    assert!(v.message.contains("k = c0-1"), "{}", v.message);
}

#[test]
fn a_master_that_holds_every_acknowledged_write_passes() {
    assert!(matches!(judge(vec![written("c0-1")]), Status::Pass));
}

#[test]
fn a_value_read_that_a_later_master_lacks_fails_seen_writes_survive() {
    let Status::Violated(v) = judge_with(
        invariant::seen_writes_survive(),
        seen("c0-1", 10),
        vec![],
        &[],
    ) else {
        panic!("a vanished read passed");
    };
    assert!(
        v.message.starts_with("a client read k = c0-1 from A"),
        "{}",
        v.message
    );
    let held = judge_with(
        invariant::seen_writes_survive(),
        seen("c0-1", 10),
        vec![written("c0-1")],
        &[],
    );
    assert!(matches!(held, Status::Pass));
    // A write only acknowledged is not a value seen.
    let unseen = judge_with(
        invariant::seen_writes_survive(),
        acked("c0-1", 10),
        vec![],
        &[],
    );
    assert!(matches!(unseen, Status::Pass));
}

#[test]
fn at_the_end_the_master_that_still_acts_is_judged_not_one_that_forgot_its_promotion() {
    // B took over holding the write, then crashed and came back a slave; A is master again and
    // never had c0-2: judged on A.
    let roles = [(0, Role::Master), (1, Role::Standby)];
    let b = vec![written("c0-2")];
    let Status::Violated(v) = judge_with(
        invariant::acknowledged_writes_survive(),
        acked("c0-2", 30),
        b.clone(),
        &roles,
    ) else {
        panic!("the end check judged the wrong master");
    };
    assert!(
        v.message
            .contains("A was still master at the end in epoch 1"),
        "{}",
        v.message
    );
    // With B still master, its log (which holds the write) is the one that counts.
    let roles = [(0, Role::Standby), (1, Role::Master)];
    let ok = judge_with(
        invariant::acknowledged_writes_survive(),
        acked("c0-2", 30),
        b,
        &roles,
    );
    assert!(matches!(ok, Status::Pass));
}
