//! Unit tests: the producer in each design, the broker and the consumer step by step; each
//! invariant failing on a broken run and holding on a correct one.

use crate::node::{
    Applied, Duration, Effect, FaultRecord, Invariant, LocalNanos, Nanos, NodeId, Origin, Protocol,
    Status,
};

use crate::node::testing::{View, facts, peers_of, persisted, sent};

use super::invariants::{NoDuplicateEffect, NoLostMessage, NoOrphanMessage};
use super::{Design, Disk, Messaging, MessagingConfig, MessagingFact, Msg, Timer, Why};

const MS: i64 = 1_000_000;
const ORDERS: NodeId = NodeId(0);
const MQ: NodeId = NodeId(1);
const STOCK: NodeId = NodeId(2);

fn peers(id: NodeId) -> Vec<NodeId> {
    peers_of(id, 3)
}

fn config(design: Design) -> MessagingConfig {
    MessagingConfig {
        design,
        abort: 0.0,
        ..MessagingConfig::default()
    }
}

fn node(id: NodeId, cfg: &MessagingConfig, disk: Option<Disk>) -> Messaging {
    let disk = disk.map(|state| crate::node::Disk {
        state,
        log: Vec::new(),
    });
    Messaging::new(id, &peers(id), cfg, disk.as_ref())
}

fn step(
    n: &mut Messaging,
    id: NodeId,
    now: LocalNanos,
    f: impl FnOnce(&mut Messaging, &mut crate::node::Ctx<'_, Messaging>),
) -> Vec<Effect<Messaging>> {
    crate::node::step(n, id, &peers(id), now, f)
}

/// The last state the handler wrote to disk.
fn disk(fx: &[Effect<Messaging>]) -> Disk {
    persisted(fx).expect("the handler wrote its database")
}

fn timer(n: &mut Messaging, id: NodeId, now: LocalNanos, t: Timer) -> Vec<Effect<Messaging>> {
    step(n, id, now, |n, c| n.on_timer(c, t))
}

fn msg(
    n: &mut Messaging,
    id: NodeId,
    from: NodeId,
    now: LocalNanos,
    m: Msg,
) -> Vec<Effect<Messaging>> {
    step(n, id, now, |n, c| n.on_message(c, from, m))
}

// ---- the producer ------------------------------------------------------------------------

#[test]
fn send_after_commit_commits_sends_and_rolls_back_a_send_that_timed_out() {
    let cfg = config(Design::SendAfterCommit);
    let mut p = node(ORDERS, &cfg, None);
    let fx = timer(&mut p, ORDERS, 100 * MS, Timer::Next);
    assert_eq!(facts(&fx), [MessagingFact::Committed { txn: 1 }]);
    assert_eq!(sent(&fx), [(MQ, Msg::Publish { txn: 1 })]);
    assert_eq!(disk(&fx).committed.into_iter().collect::<Vec<_>>(), [1]);
    // The acknowledgement never came: the text's rule rolls the transaction back.
    let fx = timer(&mut p, ORDERS, 200 * MS, Timer::Timeout(1));
    assert_eq!(
        facts(&fx),
        [MessagingFact::RolledBack {
            txn: 1,
            why: Why::SendFailed
        }]
    );
    let db = disk(&fx);
    assert!(db.committed.is_empty() && db.rolled_back.contains(&1));
    // An acknowledged send stays committed: its timeout is cancelled.
    timer(&mut p, ORDERS, 300 * MS, Timer::Next);
    let fx = msg(&mut p, ORDERS, MQ, 305 * MS, Msg::PublishAck { txn: 2 });
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::CancelTimer {
            timer: Timer::Timeout(2)
        }
    )));
    assert!(facts(&timer(&mut p, ORDERS, 400 * MS, Timer::Timeout(2))).is_empty());
}

#[test]
fn a_transaction_whose_business_logic_fails_sends_nothing() {
    let cfg = MessagingConfig {
        abort: 1.0,
        ..config(Design::LocalTable)
    };
    let mut p = node(ORDERS, &cfg, None);
    let fx = timer(&mut p, ORDERS, 100 * MS, Timer::Next);
    assert_eq!(
        facts(&fx),
        [MessagingFact::RolledBack {
            txn: 1,
            why: Why::Business
        }]
    );
    assert!(sent(&fx).is_empty());
}

#[test]
fn the_local_table_writes_the_row_with_the_commit_and_the_scan_resends_it_until_done() {
    let cfg = config(Design::LocalTable);
    let mut p = node(ORDERS, &cfg, None);
    let fx = timer(&mut p, ORDERS, 100 * MS, Timer::Next);
    // One local transaction: the order and its message row, in one write.
    let db = disk(&fx);
    assert!(db.committed.contains(&1) && db.outbox.contains(&1));
    assert_eq!(sent(&fx), [(MQ, Msg::Publish { txn: 1 })]);
    // A scan sooner than `scan` after the send leaves the row alone; a later one resends it.
    assert!(sent(&timer(&mut p, ORDERS, 200 * MS, Timer::Scan)).is_empty());
    let fx = timer(&mut p, ORDERS, 300 * MS, Timer::Scan);
    assert_eq!(sent(&fx), [(MQ, Msg::Publish { txn: 1 })]);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            timer: Timer::Scan,
            after
        } if *after == 200 * MS as u64
    )));
    // Restarted from its disk, the producer resends the row at its first scan.
    let mut restarted = node(ORDERS, &cfg, Some(db));
    let fx = timer(&mut restarted, ORDERS, 10 * MS, Timer::Scan);
    assert_eq!(sent(&fx), [(MQ, Msg::Publish { txn: 1 })]);
    // The consumer's Done clears the row; the scan then sends nothing.
    let fx = msg(&mut restarted, ORDERS, STOCK, 20 * MS, Msg::Done { txn: 1 });
    assert!(disk(&fx).outbox.is_empty());
    assert!(sent(&timer(&mut restarted, ORDERS, 900 * MS, Timer::Scan)).is_empty());
}

#[test]
fn the_transactional_producer_prepares_commits_then_confirms_and_answers_check_backs() {
    let cfg = config(Design::Transactional);
    let mut p = node(ORDERS, &cfg, None);
    let fx = timer(&mut p, ORDERS, 100 * MS, Timer::Next);
    // The number is on disk before the prepared message leaves; nothing is committed yet.
    assert_eq!(disk(&fx).last_txn, 1);
    assert!(facts(&fx).is_empty());
    assert_eq!(sent(&fx), [(MQ, Msg::Prepare { txn: 1 })]);
    // Asked while the transaction is running: "still running".
    let fx = msg(&mut p, ORDERS, MQ, 101 * MS, Msg::CheckBack { txn: 1 });
    let running = Msg::CheckResult {
        txn: 1,
        committed: None,
    };
    assert_eq!(sent(&fx), [(MQ, running)]);
    let fx = msg(&mut p, ORDERS, MQ, 105 * MS, Msg::PrepareAck { txn: 1 });
    assert_eq!(facts(&fx), [MessagingFact::Committed { txn: 1 }]);
    assert_eq!(sent(&fx), [(MQ, Msg::Confirm { txn: 1 })]);
    let fx = msg(&mut p, ORDERS, MQ, 400 * MS, Msg::CheckBack { txn: 1 });
    let committed = Msg::CheckResult {
        txn: 1,
        committed: Some(true),
    };
    assert_eq!(sent(&fx), [(MQ, committed)]);
    // A transaction it began and lost in a crash never commits: "rolled back".
    let mut restarted = node(ORDERS, &cfg, Some(disk(&fx_prepare(&cfg))));
    let fx = msg(
        &mut restarted,
        ORDERS,
        MQ,
        10 * MS,
        Msg::CheckBack { txn: 1 },
    );
    let gone = Msg::CheckResult {
        txn: 1,
        committed: Some(false),
    };
    assert_eq!(sent(&fx), [(MQ, gone)]);
}

/// A transactional producer's disk after it prepared transaction 1.
fn fx_prepare(cfg: &MessagingConfig) -> Vec<Effect<Messaging>> {
    let mut p = node(ORDERS, cfg, None);
    timer(&mut p, ORDERS, 100 * MS, Timer::Next)
}

#[test]
fn an_unacknowledged_prepare_rolls_back_and_cancels() {
    let cfg = config(Design::Transactional);
    let mut p = node(ORDERS, &cfg, None);
    timer(&mut p, ORDERS, 100 * MS, Timer::Next);
    let fx = timer(&mut p, ORDERS, 200 * MS, Timer::Timeout(1));
    assert_eq!(
        facts(&fx),
        [MessagingFact::RolledBack {
            txn: 1,
            why: Why::PrepareFailed
        }]
    );
    assert_eq!(sent(&fx), [(MQ, Msg::Cancel { txn: 1 })]);
    // A late PrepareAck does not run it.
    assert!(
        facts(&msg(
            &mut p,
            ORDERS,
            MQ,
            210 * MS,
            Msg::PrepareAck { txn: 1 }
        ))
        .is_empty()
    );
}

// ---- the broker and the consumer ----------------------------------------------------------

#[test]
fn the_broker_stores_before_acking_and_redelivers_until_acknowledged() {
    let cfg = config(Design::LocalTable);
    let mut b = node(MQ, &cfg, None);
    let fx = msg(&mut b, MQ, ORDERS, 0, Msg::Publish { txn: 4 });
    assert!(matches!(fx[0], Effect::Persist(_)), "stored first: {fx:?}");
    assert_eq!(
        sent(&fx),
        [
            (ORDERS, Msg::PublishAck { txn: 4 }),
            (STOCK, Msg::Deliver { offset: 1, txn: 4 })
        ]
    );
    // A second publish of the same message is a second copy: no dedupe at the broker.
    let fx = msg(&mut b, MQ, ORDERS, 10 * MS, Msg::Publish { txn: 4 });
    assert_eq!(sent(&fx)[1], (STOCK, Msg::Deliver { offset: 2, txn: 4 }));
    msg(&mut b, MQ, STOCK, 20 * MS, Msg::Ack { offset: 2 });
    // Offset 1 was never acknowledged: redelivered once `redeliver` has passed.
    assert!(sent(&timer(&mut b, MQ, 50 * MS, Timer::Tick)).is_empty());
    let fx = timer(&mut b, MQ, 100 * MS, Timer::Tick);
    assert_eq!(sent(&fx), [(STOCK, Msg::Deliver { offset: 1, txn: 4 })]);
}

#[test]
fn the_broker_holds_a_prepared_message_until_confirmed_and_checks_back_on_it() {
    let cfg = config(Design::Transactional);
    let mut b = node(MQ, &cfg, None);
    let fx = msg(&mut b, MQ, ORDERS, 0, Msg::Prepare { txn: 1 });
    assert_eq!(sent(&fx), [(ORDERS, Msg::PrepareAck { txn: 1 })]);
    assert_eq!(facts(&fx), [MessagingFact::Prepared { txn: 1 }]);
    // Not delivered; after `check_back`, the broker asks the producer.
    assert!(sent(&timer(&mut b, MQ, 100 * MS, Timer::Tick)).is_empty());
    let fx = timer(&mut b, MQ, 200 * MS, Timer::Tick);
    assert_eq!(sent(&fx), [(ORDERS, Msg::CheckBack { txn: 1 })]);
    // "Still running" changes nothing; "committed" delivers it.
    let running = Msg::CheckResult {
        txn: 1,
        committed: None,
    };
    assert!(facts(&msg(&mut b, MQ, ORDERS, 205 * MS, running)).is_empty());
    let committed = Msg::CheckResult {
        txn: 1,
        committed: Some(true),
    };
    let fx = msg(&mut b, MQ, ORDERS, 210 * MS, committed);
    assert_eq!(
        facts(&fx),
        [MessagingFact::Resolved {
            txn: 1,
            commit: true,
            by: super::By::CheckBack
        }]
    );
    assert_eq!(sent(&fx), [(STOCK, Msg::Deliver { offset: 1, txn: 1 })]);

    // Without check-back, a prepared message whose confirm was lost stays for ever.
    let quiet = MessagingConfig {
        check_back: Duration::ZERO,
        ..cfg
    };
    let mut b = node(MQ, &quiet, None);
    msg(&mut b, MQ, ORDERS, 0, Msg::Prepare { txn: 1 });
    assert!(sent(&timer(&mut b, MQ, 10_000 * MS, Timer::Tick)).is_empty());
    // A cancel drops it.
    let fx = msg(&mut b, MQ, ORDERS, 10_001 * MS, Msg::Cancel { txn: 1 });
    assert!(disk(&fx).queue.is_empty());
}

#[test]
fn an_idempotent_consumer_skips_a_copy_it_has_processed_and_a_naive_one_does_not() {
    for idempotent in [true, false] {
        let cfg = MessagingConfig {
            idempotent,
            ..config(Design::LocalTable)
        };
        let mut c = node(STOCK, &cfg, None);
        let fx = msg(&mut c, STOCK, MQ, 0, Msg::Deliver { offset: 1, txn: 7 });
        assert_eq!(facts(&fx), [MessagingFact::Consumed { txn: 7, offset: 1 }]);
        assert_eq!(
            sent(&fx),
            [(MQ, Msg::Ack { offset: 1 }), (ORDERS, Msg::Done { txn: 7 })]
        );
        let fx = msg(
            &mut c,
            STOCK,
            MQ,
            10 * MS,
            Msg::Deliver { offset: 2, txn: 7 },
        );
        let second = if idempotent {
            MessagingFact::Skipped { txn: 7, offset: 2 }
        } else {
            MessagingFact::Consumed { txn: 7, offset: 2 }
        };
        assert_eq!(facts(&fx), [second], "idempotent = {idempotent}");
    }
    // Outside the local table, the consumer tells only the broker.
    let mut c = node(STOCK, &config(Design::Transactional), None);
    let fx = msg(&mut c, STOCK, MQ, 0, Msg::Deliver { offset: 1, txn: 7 });
    assert_eq!(sent(&fx), [(MQ, Msg::Ack { offset: 1 })]);
}

#[test]
fn validate_wants_three_nodes_and_a_probability() {
    let cfg = MessagingConfig::default();
    let err = Messaging::validate(&cfg, 4).unwrap_err();
    assert!(err.message.contains("exactly 3 nodes"), "{}", err.message);
    let bad = MessagingConfig {
        abort: 1.5,
        ..MessagingConfig::default()
    };
    assert_eq!(Messaging::validate(&bad, 3).unwrap_err().field, "abort");
    let zero = MessagingConfig {
        redeliver: Duration::ZERO,
        ..MessagingConfig::default()
    };
    assert_eq!(
        Messaging::validate(&zero, 3).unwrap_err().field,
        "redeliver"
    );
    assert!(Messaging::validate(&cfg, 3).is_ok());
}

// ---- the invariants ----------------------------------------------------------------------

/// orders, mq, stock; always up; `now` as set.
fn view(now: Nanos) -> View {
    View::new(&["orders", "mq", "stock"], now)
}

const M: Nanos = 1_000_000;

fn fact(check: &mut dyn Invariant, at: Nanos, node: u32, f: MessagingFact) {
    check.on_fact(at, node, &f, &view(at));
}

fn committed(check: &mut dyn Invariant, at: Nanos, txn: u64) {
    fact(check, at, 0, MessagingFact::Committed { txn });
}

fn consumed(check: &mut dyn Invariant, at: Nanos, txn: u64, offset: u64) {
    fact(check, at, 2, MessagingFact::Consumed { txn, offset });
}

fn rolled_back(check: &mut dyn Invariant, at: Nanos, txn: u64) {
    let why = Why::SendFailed;
    fact(check, at, 0, MessagingFact::RolledBack { txn, why });
}

#[test]
fn no_orphan_message_fails_when_a_consumed_transaction_is_rolled_back() {
    let mut check = NoOrphanMessage::default();
    committed(&mut check, 100 * M, 1);
    consumed(&mut check, 115 * M, 1, 1);
    assert_eq!(check.status(), Status::Pass);
    rolled_back(&mut check, 200 * M, 1);
    let Status::Violated(v) = check.status() else {
        panic!("an orphan effect passed");
    };
    assert_eq!(
        (v.at, v.nodes.clone()),
        (200 * M, vec!["orders".into(), "stock".into()])
    );
    assert!(
        v.message.contains("rolled transaction 1 back"),
        "{}",
        v.message
    );
    assert_eq!(
        v.evidence,
        [
            "0.100s the producer committed transaction 1",
            "0.115s the consumer carried out its message (offset 1)",
            "0.200s the producer rolled transaction 1 back: the broker did not acknowledge the send in time"
        ]
    );

    // Consumed with no commit at all is an orphan at once.
    let mut never = NoOrphanMessage::default();
    consumed(&mut never, 50 * M, 9, 3);
    assert!(matches!(never.status(), Status::Violated(v) if v.at == 50 * M));
}

#[test]
fn no_orphan_message_holds_when_only_committed_transactions_are_consumed() {
    let mut check = NoOrphanMessage::default();
    committed(&mut check, 100 * M, 1);
    consumed(&mut check, 115 * M, 1, 1);
    // A rolled-back transaction whose message never arrives is no orphan.
    rolled_back(&mut check, 300 * M, 2);
    assert_eq!(check.status(), Status::Pass);
}

#[test]
fn no_duplicate_effect_fails_on_a_second_consumption_and_holds_on_a_skip() {
    let mut check = NoDuplicateEffect::default();
    committed(&mut check, 100 * M, 1);
    consumed(&mut check, 115 * M, 1, 1);
    fact(
        &mut check,
        300 * M,
        2,
        MessagingFact::Skipped { txn: 1, offset: 2 },
    );
    assert_eq!(check.status(), Status::Pass);
    consumed(&mut check, 400 * M, 1, 3);
    let Status::Violated(v) = check.status() else {
        panic!("a duplicate effect passed");
    };
    assert_eq!((v.at, v.nodes), (400 * M, vec!["stock".to_string()]));
    assert!(
        v.message
            .contains("a second time (copy at offset 3, first at 0.115s)")
    );
}

fn crash(check: &mut dyn Invariant, at: Nanos, node: u32) {
    let record = FaultRecord {
        at,
        origin: Origin::Schedule(0),
        written: "orders".into(),
        applied: Applied::Crash { nodes: vec![node] },
        lasting: None,
        dynamic: false,
    };
    check.on_fault(at, &record, &view(at));
}

#[test]
fn no_lost_message_fails_when_a_committed_message_is_never_consumed() {
    let mut check = NoLostMessage::new(2_000 * M);
    committed(&mut check, 100 * M, 1);
    consumed(&mut check, 110 * M, 1, 1);
    committed(&mut check, 1_000 * M, 2);
    crash(&mut check, 1_050 * M, 0);
    check.on_end(&view(4_000 * M));
    let Status::Violated(v) = check.status() else {
        panic!("a lost message passed");
    };
    // Its deadline counts from the crash, the later of its commit and the last fault.
    assert_eq!(v.at, 3_050 * M);
    assert!(
        v.message
            .contains("transaction 2 committed at 1.000s and its message was not consumed within 2s of the last fault at 1.050s"),
        "{}",
        v.message
    );
    assert!(
        v.evidence
            .contains(&"the broker never stored its message".to_string())
    );
}

#[test]
fn no_lost_message_holds_when_every_committed_message_is_consumed_and_is_unknown_when_cut_short() {
    let mut check = NoLostMessage::new(2_000 * M);
    committed(&mut check, 100 * M, 1);
    consumed(&mut check, 110 * M, 1, 1);
    // Committed then rolled back: nothing to deliver.
    committed(&mut check, 200 * M, 2);
    rolled_back(&mut check, 300 * M, 2);
    // Committed too late for its deadline to have passed: not judged.
    committed(&mut check, 3_500 * M, 3);
    check.on_end(&view(4_000 * M));
    assert_eq!(check.status(), Status::Pass);

    let mut short = NoLostMessage::new(2_000 * M);
    committed(&mut short, 100 * M, 1);
    crash(&mut short, 1_000 * M, 1);
    short.on_end(&view(1_500 * M));
    assert!(matches!(short.status(), Status::Unknown(_)));
}
