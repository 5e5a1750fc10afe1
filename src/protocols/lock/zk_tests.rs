//! Unit tests of the ZooKeeper recipe: the coordination service and a client step by step,
//! `one_wakeup_per_release` failing on the herd and holding on the recipe, and
//! `mutual_exclusion` placing tenures by their nodes' creation.

use crate::node::testing::{View, facts, peers_of, sent, timer_set};
use crate::node::{Duration, Effect, Invariant, LocalNanos, Nanos, NodeId, Protocol, Status};

use super::herd::OneWakeup;
use super::invariant::MutualExclusion;
use super::{Cause, Change, Lock, LockConfig, LockFact, Msg, Service, Timer, Watch, Why};

const MS: i64 = 1_000_000;
const ZK: NodeId = NodeId(0);
const A: NodeId = NodeId(2);
const B: NodeId = NodeId(3);
const C: NodeId = NodeId(4);
const NODES: u32 = 5;

fn zk(watch: Watch) -> LockConfig {
    LockConfig {
        service: Service::Zookeeper,
        watch: Some(watch),
        ..LockConfig::default()
    }
}

fn node(id: NodeId, cfg: &LockConfig) -> Lock {
    Lock::new(id, &peers_of(id, NODES), cfg, None)
}

fn step(
    n: &mut Lock,
    id: NodeId,
    now: LocalNanos,
    f: impl FnOnce(&mut Lock, &mut crate::node::Ctx<'_, Lock>),
) -> Vec<Effect<Lock>> {
    crate::node::step(n, id, &peers_of(id, NODES), now, f)
}

fn to(n: &mut Lock, id: NodeId, now: LocalNanos, from: NodeId, msg: Msg) -> Vec<Effect<Lock>> {
    step(n, id, now, |n, c| n.on_message(c, from, msg))
}

fn create(s: &mut Lock, from: NodeId, attempt: u64) -> Vec<Effect<Lock>> {
    to(
        s,
        ZK,
        0,
        from,
        Msg::Create {
            session: 1,
            attempt,
        },
    )
}

fn read(s: &mut Lock, from: NodeId, mine: u64, watch: bool) -> Vec<Effect<Lock>> {
    let msg = Msg::GetChildren {
        session: 1,
        attempt: 1,
        mine,
        watch,
    };
    to(s, ZK, 0, from, msg)
}

fn notified(fx: &[Effect<Lock>]) -> Vec<NodeId> {
    sent(fx)
        .into_iter()
        .filter(|(_, m)| matches!(m, Msg::Notify { .. }))
        .map(|(to, _)| to)
        .collect()
}

#[test]
fn the_service_numbers_nodes_in_order_and_answers_a_repeated_create_with_the_same_node() {
    let mut s = node(ZK, &zk(Watch::Predecessor));
    step(&mut s, ZK, 0, |n, c| n.on_start(c));
    let fx = create(&mut s, A, 1);
    assert_eq!(sent(&fx), [(A, Msg::Created { attempt: 1, seq: 1 })]);
    assert_eq!(
        facts(&fx),
        [LockFact::Queued {
            client: A,
            attempt: 1,
            seq: 1
        }]
    );
    let fx = create(&mut s, B, 1);
    assert_eq!(sent(&fx), [(B, Msg::Created { attempt: 1, seq: 2 })]);
    let fx = create(&mut s, A, 1);
    assert_eq!(sent(&fx), [(A, Msg::Created { attempt: 1, seq: 1 })]);
    assert!(facts(&fx).is_empty(), "a retry creates no second node");
    let fx = read(&mut s, B, 2, false);
    assert_eq!(
        sent(&fx),
        [(
            B,
            Msg::Children {
                attempt: 1,
                version: 2,
                lowest: Some(1),
                predecessor: Some(1),
                count: 2
            }
        )]
    );
}

#[test]
fn a_children_watch_wakes_every_waiter_and_a_node_watch_only_the_one_behind() {
    // The herd: B and C watch the children; A's release notifies both.
    let mut s = node(ZK, &zk(Watch::Children));
    for who in [A, B, C] {
        create(&mut s, who, 1);
    }
    read(&mut s, B, 2, true);
    read(&mut s, C, 3, true);
    let fx = to(&mut s, ZK, 0, A, Msg::Delete { session: 1, seq: 1 });
    assert_eq!(notified(&fx), [B, C]);
    assert!(sent(&fx).contains(&(A, Msg::Deleted { seq: 1 })));
    assert_eq!(
        facts(&fx),
        [LockFact::Freed {
            client: A,
            token: 1
        }]
    );
    // One-shot: the next change notifies nobody until they read again.
    let fx = create(&mut s, A, 2);
    assert!(notified(&fx).is_empty());

    // The recipe: B watches node 1, C node 2; A's release notifies B alone.
    let mut s = node(ZK, &zk(Watch::Predecessor));
    for (who, seq) in [(A, 1), (B, 2), (C, 3)] {
        create(&mut s, who, 1);
        if seq > 1 {
            let fx = to(
                &mut s,
                ZK,
                0,
                who,
                Msg::Exists {
                    session: 1,
                    attempt: 1,
                    seq: seq - 1,
                },
            );
            assert!(matches!(sent(&fx)[0].1, Msg::Stat { exists: true, .. }));
        }
    }
    let fx = to(&mut s, ZK, 0, A, Msg::Delete { session: 1, seq: 1 });
    assert_eq!(notified(&fx), [B]);
    // Only the owner deletes: C cannot delete B's node.
    let fx = to(&mut s, ZK, 0, C, Msg::Delete { session: 1, seq: 2 });
    assert!(facts(&fx).is_empty() && notified(&fx).is_empty());
}

#[test]
fn a_silent_session_expires_with_its_node_and_is_told_so_afterwards() {
    let cfg = zk(Watch::Predecessor);
    let mut s = node(ZK, &cfg);
    create(&mut s, A, 1);
    create(&mut s, B, 1);
    to(
        &mut s,
        ZK,
        0,
        B,
        Msg::Exists {
            session: 1,
            attempt: 1,
            seq: 1,
        },
    );
    let fx = to(&mut s, ZK, 100 * MS, A, Msg::Heartbeat { session: 1 });
    assert_eq!(
        sent(&fx),
        [(
            A,
            Msg::Pong {
                session: 1,
                watching: false
            }
        )]
    );
    assert_eq!(
        timer_set(
            &fx,
            Timer::Session {
                client: A,
                session: 1
            }
        ),
        Some(cfg.session_timeout.nanos()),
        "a heartbeat restarts the session's timeout"
    );
    let fx = to(&mut s, ZK, 100 * MS, B, Msg::Heartbeat { session: 1 });
    assert!(matches!(sent(&fx)[0].1, Msg::Pong { watching: true, .. }));
    let fx = step(&mut s, ZK, 600 * MS, |n, c| {
        n.on_timer(
            c,
            Timer::Session {
                client: A,
                session: 1,
            },
        )
    });
    assert_eq!(
        facts(&fx),
        [LockFact::Expired {
            client: A,
            token: 1
        }]
    );
    assert_eq!(notified(&fx), [B]);
    let fx = to(&mut s, ZK, 700 * MS, A, Msg::Heartbeat { session: 1 });
    assert_eq!(sent(&fx), [(A, Msg::SessionExpired { session: 1 })]);
    // A new session is a new start.
    let fx = to(
        &mut s,
        ZK,
        700 * MS,
        A,
        Msg::Create {
            session: 2,
            attempt: 2,
        },
    );
    assert_eq!(sent(&fx), [(A, Msg::Created { attempt: 2, seq: 3 })]);
}

/// A client of `cfg` that has started and created node `seq` (try 1), now reading.
fn reading(cfg: &LockConfig, seq: u64) -> Lock {
    let mut a = node(A, cfg);
    step(&mut a, A, 0, |n, c| n.on_start(c));
    let fx = step(&mut a, A, MS, |n, c| n.on_timer(c, Timer::Next));
    assert_eq!(
        sent(&fx),
        [(
            ZK,
            Msg::Create {
                session: 1,
                attempt: 1
            }
        )]
    );
    let fx = to(&mut a, A, 2 * MS, ZK, Msg::Created { attempt: 1, seq });
    assert_eq!(
        sent(&fx),
        [(
            ZK,
            Msg::GetChildren {
                session: 1,
                attempt: 1,
                mine: seq,
                watch: cfg.watch() == Watch::Children
            }
        )]
    );
    a
}

fn children(lowest: u64, predecessor: Option<u64>, version: u64) -> Msg {
    Msg::Children {
        attempt: 1,
        version,
        lowest: Some(lowest),
        predecessor,
        count: 3,
    }
}

#[test]
fn the_lowest_node_holds_the_lock_and_writes_with_its_number_as_the_token() {
    let cfg = LockConfig {
        fencing: true,
        ..zk(Watch::Predecessor)
    };
    let mut a = reading(&cfg, 4);
    let fx = to(&mut a, A, 3 * MS, ZK, children(4, None, 5));
    assert_eq!(
        facts(&fx),
        [LockFact::Acquired {
            attempt: 1,
            token: 4
        }]
    );
    assert_eq!(
        sent(&fx),
        [(
            NodeId(1),
            Msg::Write {
                attempt: 1,
                seq: 1,
                token: Some(4)
            }
        )]
    );
    assert_eq!(a.holding(), Some((1, 4)));
    // Its session expires under it: it gives the lock up without deleting (the node is gone).
    let fx = to(&mut a, A, 9 * MS, ZK, Msg::SessionExpired { session: 1 });
    assert_eq!(
        facts(&fx),
        [LockFact::Released {
            attempt: 1,
            why: Why::SessionExpired
        }]
    );
    assert!(sent(&fx).is_empty());
    let fx = step(&mut a, A, 500 * MS, |n, c| n.on_timer(c, Timer::Next));
    assert!(
        sent(&fx).contains(&(
            ZK,
            Msg::Create {
                session: 2,
                attempt: 2
            }
        )),
        "a new session: {:?}",
        sent(&fx)
    );
}

#[test]
fn a_waiter_watches_its_predecessor_and_wakes_only_for_its_deletion() {
    let cfg = zk(Watch::Predecessor);
    let mut a = reading(&cfg, 4);
    let fx = to(&mut a, A, 3 * MS, ZK, children(2, Some(3), 5));
    let exists = Msg::Exists {
        session: 1,
        attempt: 1,
        seq: 3,
    };
    assert_eq!(sent(&fx), [(ZK, exists)]);
    let stat = Msg::Stat {
        attempt: 1,
        seq: 3,
        exists: true,
    };
    assert!(sent(&to(&mut a, A, 4 * MS, ZK, stat)).is_empty(), "waits");
    let notify = |seq| Msg::Notify {
        session: 1,
        version: 6,
        change: Change::Deleted,
        seq,
    };
    let fx = to(&mut a, A, 5 * MS, ZK, notify(2));
    assert!(facts(&fx).is_empty(), "not its predecessor");
    let fx = to(&mut a, A, 6 * MS, ZK, notify(3));
    assert_eq!(
        facts(&fx),
        [LockFact::Woken {
            attempt: 1,
            mine: 4,
            cause: Cause::Notified {
                change: Change::Deleted,
                seq: 3
            }
        }]
    );
    assert!(matches!(sent(&fx)[0].1, Msg::GetChildren { .. }));
}

#[test]
fn a_herd_waiter_wakes_on_every_change_and_a_missed_notification_is_made_good() {
    let cfg = zk(Watch::Children);
    let mut a = reading(&cfg, 4);
    let fx = to(&mut a, A, 3 * MS, ZK, children(2, Some(3), 5));
    assert!(sent(&fx).is_empty(), "the read left its watch: it waits");
    let stale = Msg::Notify {
        session: 1,
        version: 5,
        change: Change::Created,
        seq: 4,
    };
    assert!(facts(&to(&mut a, A, 4 * MS, ZK, stale)).is_empty());
    let created = Msg::Notify {
        session: 1,
        version: 6,
        change: Change::Created,
        seq: 5,
    };
    let fx = to(&mut a, A, 5 * MS, ZK, created);
    assert!(matches!(
        facts(&fx)[..],
        [LockFact::Woken {
            cause: Cause::Notified {
                change: Change::Created,
                seq: 5
            },
            ..
        }]
    ));
    // Read again and waiting; then a heartbeat says its watch is gone: it reads again.
    to(&mut a, A, 6 * MS, ZK, children(2, Some(3), 6));
    let pong = Msg::Pong {
        session: 1,
        watching: false,
    };
    let fx = to(&mut a, A, 7 * MS, ZK, pong);
    assert!(matches!(
        facts(&fx)[..],
        [LockFact::Woken {
            cause: Cause::Missed,
            ..
        }]
    ));
}

#[test]
fn a_holder_deletes_its_node_on_release_until_the_service_confirms() {
    let cfg = LockConfig {
        writes: 1,
        ..zk(Watch::Predecessor)
    };
    let mut a = reading(&cfg, 1);
    to(&mut a, A, 3 * MS, ZK, children(1, None, 1));
    let fx = to(
        &mut a,
        A,
        4 * MS,
        NodeId(1),
        Msg::Ack { attempt: 1, seq: 1 },
    );
    assert_eq!(sent(&fx), [(ZK, Msg::Delete { session: 1, seq: 1 })]);
    let fx = step(&mut a, A, 100 * MS, |n, c| n.on_timer(c, Timer::Heartbeat));
    assert!(sent(&fx).contains(&(ZK, Msg::Delete { session: 1, seq: 1 })));
    to(&mut a, A, 101 * MS, ZK, Msg::Deleted { seq: 1 });
    let fx = step(&mut a, A, 200 * MS, |n, c| n.on_timer(c, Timer::Heartbeat));
    assert_eq!(sent(&fx), [(ZK, Msg::Heartbeat { session: 1 })]);
}

#[test]
fn the_configuration_of_the_recipe_is_checked() {
    let herd_without_zk = LockConfig {
        watch: Some(Watch::Children),
        ..LockConfig::default()
    };
    assert_eq!(
        Lock::validate(&herd_without_zk, 5).unwrap_err().field,
        "watch"
    );
    let slow_heartbeat = LockConfig {
        heartbeat: Duration::from_millis(500),
        ..zk(Watch::Children)
    };
    let err = Lock::validate(&slow_heartbeat, 5).unwrap_err();
    assert_eq!(err.field, "heartbeat");
    assert!(
        err.message.contains("shorter than session_timeout"),
        "{}",
        err.message
    );
    let two_services = LockConfig {
        servers: 3,
        ..zk(Watch::Children)
    };
    assert_eq!(
        Lock::validate(&two_services, 6).unwrap_err().field,
        "servers"
    );
    assert!(Lock::validate(&zk(Watch::Predecessor), 4).is_ok());
}

// ---- the invariants ----------------------------------------------------------------------

fn view(now: Nanos) -> View {
    View::new(&["zk", "store", "A", "B", "C"], now)
}

const M: Nanos = 1_000_000;

fn woken(check: &mut dyn Invariant, at: Nanos, who: NodeId, cause: Cause) {
    let f = LockFact::Woken {
        attempt: 1,
        mine: who.0 as u64,
        cause,
    };
    check.on_fact(at, who.0, &f, &view(at));
}

fn deleted_by(seq: u64) -> Cause {
    Cause::Notified {
        change: Change::Deleted,
        seq,
    }
}

/// The service creates nodes 1 (A), 2 (B), 3 (C), then deletes A's.
fn queue_then_release(check: &mut dyn Invariant) {
    for (who, seq) in [(A, 1), (B, 2), (C, 3)] {
        let f = LockFact::Queued {
            client: who,
            attempt: 1,
            seq,
        };
        check.on_fact(M, 0, &f, &view(M));
    }
    let f = LockFact::Freed {
        client: A,
        token: 1,
    };
    check.on_fact(10 * M, 0, &f, &view(10 * M));
}

#[test]
fn one_wakeup_per_release_fails_when_a_release_wakes_two_waiters() {
    let mut check = OneWakeup::default();
    queue_then_release(&mut check);
    woken(&mut check, 11 * M, B, deleted_by(1));
    assert_eq!(check.status(), Status::Pass);
    woken(&mut check, 12 * M, C, deleted_by(1));
    let Status::Violated(v) = check.status() else {
        panic!("{:?}", check.status())
    };
    assert_eq!(v.nodes, ["B", "C"]);
    assert!(
        v.message.contains("lock-0000000001 woke 2 waiters"),
        "{}",
        v.message
    );
    assert!(
        v.evidence[0].contains("(A's) was deleted: released"),
        "{:?}",
        v.evidence
    );
}

#[test]
fn one_wakeup_per_release_holds_when_each_release_wakes_one() {
    let mut check = OneWakeup::default();
    queue_then_release(&mut check);
    woken(&mut check, 11 * M, B, deleted_by(1));
    // Wake-ups by a creation or a missed notification are no release's.
    woken(
        &mut check,
        12 * M,
        C,
        Cause::Notified {
            change: Change::Created,
            seq: 4,
        },
    );
    woken(&mut check, 13 * M, C, Cause::Missed);
    let f = LockFact::Expired {
        client: B,
        token: 2,
    };
    check.on_fact(20 * M, 0, &f, &view(20 * M));
    woken(&mut check, 21 * M, C, deleted_by(2));
    assert_eq!(check.status(), Status::Pass);
    assert_eq!(
        check.detail(&view(30 * M)).unwrap(),
        "2 deletions woke 2 waiters (at most 1 by one)"
    );
}

#[test]
fn mutual_exclusion_places_a_tenure_at_its_nodes_creation() {
    let run = |late_write_first: bool| {
        let mut check = MutualExclusion::default();
        queue_then_release(&mut check);
        for (who, seq) in [(A, 1), (B, 2)] {
            let f = LockFact::Acquired {
                attempt: 1,
                token: seq,
            };
            check.on_fact(M, who.0, &f, &view(M));
        }
        let writes = if late_write_first { [A, B] } else { [B, A] };
        for (i, who) in writes.into_iter().enumerate() {
            let f = LockFact::Accepted {
                client: who,
                attempt: 1,
                seq: 1,
            };
            let at = (20 + i as u64) * M;
            check.on_fact(at, 1, &f, &view(at));
        }
        check.status()
    };
    assert_eq!(
        run(true),
        Status::Pass,
        "A's write, then B's: in node order"
    );
    let Status::Violated(v) = run(false) else {
        panic!("A (node 1) writing after B (node 2) is two holders")
    };
    assert!(
        v.evidence
            .iter()
            .any(|e| e.contains("created A's lock node lock-0000000001")),
        "{:?}",
        v.evidence
    );
}
