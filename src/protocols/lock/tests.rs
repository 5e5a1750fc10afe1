//! Unit tests: the server, the resource and a client, step by step; each invariant failing on a
//! broken run and holding on a correct one.

use crate::node::{
    Applied, DiskWrite, Effect, FaultRecord, Invariant, LocalNanos, Nanos, NodeId, Origin,
    Protocol, Status,
};

use crate::node::testing::{View, facts, peers_of, sent};

use super::invariant::{LockProgress, MutualExclusion};
use super::{Expiry, Lock, LockConfig, LockFact, Msg, Timer, Why};

const MS: i64 = 1_000_000;
const SERVER: NodeId = NodeId(0);
const STORE: NodeId = NodeId(1);
const A: NodeId = NodeId(2);
const B: NodeId = NodeId(3);

fn peers(id: NodeId) -> Vec<NodeId> {
    peers_of(id, 4)
}

fn node(id: NodeId, cfg: &LockConfig) -> Lock {
    Lock::new(id, &peers(id), cfg, None)
}

fn step(
    n: &mut Lock,
    id: NodeId,
    now: LocalNanos,
    f: impl FnOnce(&mut Lock, &mut crate::node::Ctx<'_, Lock>),
) -> Vec<Effect<Lock>> {
    crate::node::step(n, id, &peers(id), now, f)
}

fn ask(server: &mut Lock, from: NodeId, attempt: u64, now: LocalNanos) -> Vec<Effect<Lock>> {
    step(server, SERVER, now, |n, c| {
        n.on_message(c, from, Msg::Acquire { attempt })
    })
}

fn ttl(ms: u64) -> LockConfig {
    LockConfig {
        expiry: Expiry::Ttl,
        ttl: crate::node::Duration::from_millis(ms),
        ..LockConfig::default()
    }
}

#[test]
fn the_server_grants_a_free_lock_and_refuses_a_held_one() {
    let mut s = node(SERVER, &LockConfig::default());
    let fx = ask(&mut s, A, 1, 0);
    assert_eq!(
        sent(&fx),
        [(
            A,
            Msg::Granted {
                attempt: 1,
                token: 1
            }
        )]
    );
    assert_eq!(
        facts(&fx),
        [LockFact::Granted {
            client: A,
            attempt: 1,
            token: 1
        }]
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::Persist(_))));
    let fx = ask(&mut s, B, 1, 10 * MS);
    assert_eq!(
        sent(&fx),
        [(
            B,
            Msg::Refused {
                attempt: 1,
                holder: A
            }
        )]
    );
    // A duplicate of A's granted try gets the same grant, not a new one.
    let fx = ask(&mut s, A, 1, 20 * MS);
    assert_eq!(
        sent(&fx),
        [(
            A,
            Msg::Granted {
                attempt: 1,
                token: 1
            }
        )]
    );
    assert!(facts(&fx).is_empty());
}

#[test]
fn a_ttl_lease_lapses_and_the_next_grant_has_a_higher_token() {
    let mut s = node(SERVER, &ttl(500));
    ask(&mut s, A, 1, 0);
    let fx = ask(&mut s, B, 1, 499 * MS);
    assert!(matches!(sent(&fx)[0].1, Msg::Refused { .. }), "still A's");
    let fx = ask(&mut s, B, 2, 500 * MS);
    assert_eq!(
        facts(&fx),
        [
            LockFact::Expired {
                client: A,
                token: 1
            },
            LockFact::Granted {
                client: B,
                attempt: 2,
                token: 2
            }
        ]
    );
}

#[test]
fn a_lease_without_expiry_is_held_for_ever() {
    let cfg = LockConfig {
        expiry: Expiry::None,
        ..LockConfig::default()
    };
    let mut s = node(SERVER, &cfg);
    ask(&mut s, A, 1, 0);
    let fx = ask(&mut s, B, 1, 3_600_000 * MS);
    assert!(matches!(sent(&fx)[0].1, Msg::Refused { holder: A, .. }));
}

#[test]
fn only_the_holder_releases_and_the_grant_survives_a_restart() {
    let mut s = node(SERVER, &ttl(500));
    ask(&mut s, A, 1, 0);
    ask(&mut s, B, 1, 600 * MS); // A's lease lapsed: B holds grant 2
    // A's late release names its own grant: it must not free B's.
    let fx = step(&mut s, SERVER, 610 * MS, |n, c| {
        n.on_message(c, A, Msg::Release { attempt: 1 })
    });
    assert!(facts(&fx).is_empty());
    let fx = step(&mut s, SERVER, 620 * MS, |n, c| {
        n.on_message(c, B, Msg::Release { attempt: 1 })
    });
    assert_eq!(
        facts(&fx),
        [LockFact::Freed {
            client: B,
            token: 2
        }]
    );
    let Some(Effect::Persist(DiskWrite::State(state))) =
        fx.iter().find(|e| matches!(e, Effect::Persist(_)))
    else {
        panic!("the release is not on disk");
    };
    // Restarted from its disk, the server keeps counting grants from 2.
    let disk = crate::node::Disk {
        state: state.clone(),
        log: Vec::new(),
    };
    let mut s = Lock::new(SERVER, &peers(SERVER), &ttl(500), Some(&disk));
    let fx = ask(&mut s, A, 2, 700 * MS);
    assert_eq!(
        sent(&fx),
        [(
            A,
            Msg::Granted {
                attempt: 2,
                token: 3
            }
        )]
    );
}

fn write(store: &mut Lock, from: NodeId, attempt: u64, token: u64) -> Vec<Effect<Lock>> {
    step(store, STORE, 0, |n, c| {
        n.on_message(
            c,
            from,
            Msg::Write {
                attempt,
                seq: 1,
                token: Some(token),
            },
        )
    })
}

#[test]
fn a_fencing_resource_refuses_a_token_older_than_the_highest_seen() {
    let cfg = LockConfig {
        fencing: true,
        ..ttl(500)
    };
    let mut store = node(STORE, &cfg);
    assert!(matches!(
        sent(&write(&mut store, B, 1, 2))[0].1,
        Msg::Ack { .. }
    ));
    let fx = write(&mut store, A, 1, 1);
    assert_eq!(
        sent(&fx),
        [(
            A,
            Msg::Fenced {
                attempt: 1,
                seq: 1,
                highest: 2
            }
        )]
    );
    assert_eq!(
        facts(&fx),
        [LockFact::Rejected {
            client: A,
            attempt: 1,
            token: 1,
            highest: 2
        }]
    );
    // The same token again is the same holder: accepted.
    assert!(matches!(
        sent(&write(&mut store, B, 1, 2))[0].1,
        Msg::Ack { .. }
    ));
}

#[test]
fn without_fencing_the_resource_accepts_every_write() {
    let mut store = node(STORE, &ttl(500));
    write(&mut store, B, 1, 2);
    let fx = write(&mut store, A, 1, 1);
    assert!(matches!(sent(&fx)[0].1, Msg::Ack { .. }));
}

#[test]
fn a_client_asks_writes_while_holding_then_releases() {
    let cfg = LockConfig {
        writes: 2,
        fencing: true,
        ..ttl(500)
    };
    let mut a = node(A, &cfg);
    step(&mut a, A, 0, |n, c| n.on_start(c));
    let fx = step(&mut a, A, MS, |n, c| n.on_timer(c, Timer::Next));
    assert_eq!(sent(&fx), [(SERVER, Msg::Acquire { attempt: 1 })]);
    let fx = step(&mut a, A, 2 * MS, |n, c| {
        n.on_message(
            c,
            SERVER,
            Msg::Granted {
                attempt: 1,
                token: 7,
            },
        )
    });
    assert_eq!(a.holding(), Some((1, 7)));
    assert_eq!(
        sent(&fx),
        [(
            STORE,
            Msg::Write {
                attempt: 1,
                seq: 1,
                token: Some(7)
            }
        )]
    );
    step(&mut a, A, 3 * MS, |n, c| {
        n.on_message(c, STORE, Msg::Ack { attempt: 1, seq: 1 })
    });
    let fx = step(&mut a, A, 100 * MS, |n, c| n.on_timer(c, Timer::Next));
    assert!(matches!(sent(&fx)[0].1, Msg::Write { seq: 2, .. }));
    let fx = step(&mut a, A, 101 * MS, |n, c| {
        n.on_message(c, STORE, Msg::Ack { attempt: 1, seq: 2 })
    });
    assert_eq!(sent(&fx), [(SERVER, Msg::Release { attempt: 1 })]);
    assert_eq!(
        facts(&fx),
        [LockFact::Released {
            attempt: 1,
            why: Why::Done
        }]
    );
    assert_eq!(a.holding(), None);
}

#[test]
fn a_fenced_client_gives_up_its_tenure_and_a_late_grant_is_handed_back() {
    let cfg = LockConfig {
        fencing: true,
        ..ttl(500)
    };
    let mut a = node(A, &cfg);
    step(&mut a, A, 0, |n, c| n.on_timer(c, Timer::Next));
    step(&mut a, A, MS, |n, c| {
        n.on_message(
            c,
            SERVER,
            Msg::Granted {
                attempt: 1,
                token: 1,
            },
        )
    });
    let fx = step(&mut a, A, 2 * MS, |n, c| {
        n.on_message(
            c,
            STORE,
            Msg::Fenced {
                attempt: 1,
                seq: 1,
                highest: 2,
            },
        )
    });
    assert_eq!(
        facts(&fx),
        [LockFact::Released {
            attempt: 1,
            why: Why::Fenced
        }]
    );
    // A grant for a try it no longer waits for: given straight back.
    let fx = step(&mut a, A, 3 * MS, |n, c| {
        n.on_message(
            c,
            SERVER,
            Msg::Granted {
                attempt: 1,
                token: 1,
            },
        )
    });
    assert_eq!(sent(&fx), [(SERVER, Msg::Release { attempt: 1 })]);
    assert_eq!(a.holding(), None);
}

#[test]
fn validate_names_the_field() {
    assert!(
        Lock::validate(&LockConfig::default(), 2)
            .unwrap_err()
            .message
            .contains("at least 3 nodes")
    );
    let zero = LockConfig {
        ttl: crate::node::Duration::ZERO,
        ..LockConfig::default()
    };
    assert_eq!(Lock::validate(&zero, 4).unwrap_err().field, "ttl");
    let none = LockConfig {
        expiry: Expiry::None,
        ..zero
    };
    assert!(
        Lock::validate(&none, 4).is_ok(),
        "no TTL is needed without expiry"
    );
}

// ---- the invariants ----------------------------------------------------------------------

/// lock, store, A, B, C; always up; `now` as set.
fn view(now: Nanos) -> View {
    View::new(&["lock", "store", "A", "B", "C"], now)
}

const M: Nanos = 1_000_000;

/// The server grants `client` the lock, and the client acquires it.
fn granted(check: &mut dyn Invariant, at: Nanos, client: NodeId, token: u64) {
    let f = LockFact::Granted {
        client,
        attempt: token,
        token,
    };
    check.on_fact(at, 0, &f, &view(at));
    let f = LockFact::Acquired {
        attempt: token,
        token,
    };
    check.on_fact(at, client.0, &f, &view(at));
}

fn accepted(check: &mut dyn Invariant, at: Nanos, client: NodeId, token: u64) {
    let f = LockFact::Accepted {
        client,
        attempt: token,
        seq: 1,
    };
    check.on_fact(at, 1, &f, &view(at));
}

#[test]
fn mutual_exclusion_fails_when_a_superseded_holder_writes_after_its_successor() {
    let mut check = MutualExclusion::default();
    granted(&mut check, 0, A, 1);
    accepted(&mut check, 5 * M, A, 1);
    check.on_fact(
        600 * M,
        0,
        &LockFact::Expired {
            client: A,
            token: 1,
        },
        &view(0),
    );
    granted(&mut check, 600 * M, B, 2);
    accepted(&mut check, 605 * M, B, 2);
    assert_eq!(check.status(), Status::Pass);
    accepted(&mut check, 1_000 * M, A, 1);
    let Status::Violated(v) = check.status() else {
        panic!("A's stale write passed");
    };
    assert_eq!(
        (v.at, v.nodes.clone()),
        (1_000 * M, vec!["A".into(), "B".into()])
    );
    assert!(
        v.message.contains("A's write 1 under grant 1"),
        "{}",
        v.message
    );
    assert!(v.evidence.iter().any(|e| e.contains("it had expired")));
}

#[test]
fn mutual_exclusion_holds_for_writes_in_grant_order() {
    let mut check = MutualExclusion::default();
    granted(&mut check, 0, A, 1);
    accepted(&mut check, 5 * M, A, 1);
    accepted(&mut check, 10 * M, A, 1);
    granted(&mut check, 600 * M, B, 2);
    // A superseded holder's write before its successor's first: still one holder after the
    // other, as the resource sees it.
    accepted(&mut check, 601 * M, A, 1);
    accepted(&mut check, 605 * M, B, 2);
    assert_eq!(check.status(), Status::Pass);
}

fn crash(check: &mut dyn Invariant, at: Nanos, node: u32) {
    let record = FaultRecord {
        at,
        origin: Origin::Schedule(0),
        written: "leader".into(),
        applied: Applied::Crash { nodes: vec![node] },
        lasting: None,
        dynamic: true,
    };
    check.on_fault(at, &record, &view(at));
}

fn acquired(check: &mut dyn Invariant, at: Nanos, node: NodeId, token: u64) {
    let f = LockFact::Acquired {
        attempt: token,
        token,
    };
    check.on_fact(at, node.0, &f, &view(at));
}

#[test]
fn lock_progress_fails_when_a_holder_crashes_holding_a_lock_that_never_expires() {
    let mut check = LockProgress::new(2_000 * M);
    acquired(&mut check, 100 * M, A, 1);
    crash(&mut check, 1_000 * M, A.0);
    check.on_end(&view(5_000 * M));
    let Status::Violated(v) = check.status() else {
        panic!("a stuck lock passed");
    };
    assert_eq!(v.at, 3_000 * M, "2s after the crash, the last fault");
    assert_eq!(v.nodes, ["A"]);
    assert!(
        v.evidence
            .iter()
            .any(|e| e.contains("A crashed holding the lock (grant 1)"))
    );
}

#[test]
fn lock_progress_holds_when_the_lock_moves_on_and_is_unknown_when_cut_short() {
    let mut check = LockProgress::new(2_000 * M);
    acquired(&mut check, 100 * M, A, 1);
    crash(&mut check, 1_000 * M, A.0);
    acquired(&mut check, 1_500 * M, B, 2);
    acquired(&mut check, 3_000 * M, A, 3);
    check.on_end(&view(4_500 * M));
    assert_eq!(check.status(), Status::Pass);

    let mut short = LockProgress::new(2_000 * M);
    acquired(&mut short, 100 * M, A, 1);
    crash(&mut short, 1_000 * M, A.0);
    short.on_end(&view(1_500 * M));
    assert!(matches!(short.status(), Status::Unknown(_)));
}

#[test]
fn lock_progress_fails_on_a_long_gap_between_two_acquisitions() {
    let mut check = LockProgress::new(2_000 * M);
    acquired(&mut check, 100 * M, A, 1);
    acquired(&mut check, 2_500 * M, B, 2);
    let Status::Violated(v) = check.status() else {
        panic!("a 2.4s gap passed");
    };
    assert_eq!(v.at, 2_100 * M);
}

// ---- RedLock ----------------------------------------------------------------------------

fn redlock() -> LockConfig {
    LockConfig {
        servers: 3,
        ttl: crate::node::Duration::from_millis(1_000),
        ..LockConfig::default()
    }
}

/// Three servers (0, 1, 2), the store (3), a client (4).
fn red_step(
    n: &mut Lock,
    now: LocalNanos,
    f: impl FnOnce(&mut Lock, &mut crate::node::Ctx<'_, Lock>),
) -> Vec<Effect<Lock>> {
    let peers: Vec<NodeId> = (0..4).map(NodeId).collect();
    crate::node::step(n, NodeId(4), &peers, now, f)
}

fn red_client() -> Lock {
    let peers: Vec<NodeId> = (0..4).map(NodeId).collect();
    Lock::new(NodeId(4), &peers, &redlock(), None)
}

#[test]
fn a_redlock_client_asks_every_server_and_holds_on_a_majority() {
    let mut c = red_client();
    let fx = red_step(&mut c, 0, |n, ctx| n.on_timer(ctx, Timer::Next));
    let asked: Vec<NodeId> = sent(&fx).iter().map(|(to, _)| *to).collect();
    assert_eq!(asked, [NodeId(0), NodeId(1), NodeId(2)]);
    let grant = |token| Msg::Granted { attempt: 1, token };
    red_step(&mut c, MS, |n, ctx| n.on_message(ctx, NodeId(0), grant(4)));
    assert_eq!(c.holding(), None, "one of three is no majority");
    let fx = red_step(&mut c, 2 * MS, |n, ctx| {
        n.on_message(ctx, NodeId(2), grant(9))
    });
    assert_eq!(c.holding(), Some((1, 9)));
    // It writes to the store, the node after the servers.
    assert!(matches!(
        sent(&fx)[..],
        [(NodeId(3), Msg::Write { seq: 1, .. })]
    ));
}

#[test]
fn a_redlock_client_gives_up_when_no_majority_is_left_or_the_validity_time_ran_out() {
    let mut c = red_client();
    red_step(&mut c, 0, |n, ctx| n.on_timer(ctx, Timer::Next));
    let refused = Msg::Refused {
        attempt: 1,
        holder: NodeId(5),
    };
    red_step(&mut c, MS, |n, ctx| {
        n.on_message(
            ctx,
            NodeId(0),
            Msg::Granted {
                attempt: 1,
                token: 1,
            },
        )
    });
    red_step(&mut c, MS, |n, ctx| n.on_message(ctx, NodeId(1), refused));
    let fx = red_step(&mut c, MS, |n, ctx| n.on_message(ctx, NodeId(2), refused));
    // Two refusals of three: it releases everywhere and retries later.
    let released: Vec<NodeId> = sent(&fx)
        .iter()
        .filter(|(_, m)| matches!(m, Msg::Release { attempt: 1 }))
        .map(|(to, _)| *to)
        .collect();
    assert_eq!(released, [NodeId(0), NodeId(1), NodeId(2)]);
    assert_eq!(c.holding(), None);

    // A majority reached after the TTL has passed is worth nothing.
    let mut late = red_client();
    red_step(&mut late, 0, |n, ctx| n.on_timer(ctx, Timer::Next));
    red_step(&mut late, MS, |n, ctx| {
        n.on_message(
            ctx,
            NodeId(0),
            Msg::Granted {
                attempt: 1,
                token: 1,
            },
        )
    });
    let fx = red_step(&mut late, 1_000 * MS, |n, ctx| {
        n.on_message(
            ctx,
            NodeId(1),
            Msg::Granted {
                attempt: 1,
                token: 1,
            },
        )
    });
    assert_eq!(late.holding(), None);
    assert!(facts(&fx).is_empty(), "no tenure begins");
}

#[test]
fn fencing_needs_a_single_server() {
    let cfg = LockConfig {
        fencing: true,
        ..redlock()
    };
    let err = Lock::validate(&cfg, 6).unwrap_err();
    assert_eq!(err.field, "fencing");
    assert!(
        Lock::validate(&redlock(), 4)
            .unwrap_err()
            .message
            .contains("at least 5 nodes")
    );
}

#[test]
fn a_server_on_the_monotonic_clock_ignores_a_wall_clock_step() {
    use crate::node::ClockKind;
    let wall = ttl(500);
    let mono = LockConfig {
        server_clock: ClockKind::Monotonic,
        ..ttl(500)
    };
    for (cfg, lapsed) in [(wall, true), (mono, false)] {
        let mut s = node(SERVER, &cfg);
        ask(&mut s, A, 1, 0);
        // The wall clock stepped 2s forward; the monotonic one reads 100ms.
        let mut rng = crate::node::Rng::derive(0, crate::node::Stream::Node(0));
        let mut fx = Vec::new();
        let peers = peers(SERVER);
        let mut ctx =
            crate::node::Ctx::new(SERVER, &peers, 2_100 * MS, 100 * MS, &mut rng, &mut fx);
        s.on_message(&mut ctx, B, Msg::Acquire { attempt: 1 });
        let granted = fx.iter().any(|e| {
            matches!(
                e,
                Effect::Send {
                    msg: Msg::Granted { .. },
                    ..
                }
            )
        });
        assert_eq!(granted, lapsed, "{:?}", cfg.server_clock);
    }
}
