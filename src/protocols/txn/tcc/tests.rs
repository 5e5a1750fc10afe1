//! TCC driven by hand: a small cluster (the initiator A, participants B and C holding accounts 0
//! and 1) whose messages the test delivers, drops, duplicates or holds back one by one, and
//! whose retry timers it fires, so that each rule of the protocol is seen at work — and seen
//! broken when its switch is off.

use std::collections::{BTreeSet, VecDeque};

use crate::node::{
    ClientId, ClientRequest, DiskOf, Effect, NodeId, Protocol, Reply, RequestId, step,
};
use crate::protocols::txn::{Account, Bank, BankFact, BankOp, BankOutput};

use super::{Branch, Msg, Phase, Refusal, Tcc, TccConfig, Timer};

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);

fn txn(seq: u64) -> RequestId {
    RequestId {
        client: ClientId(0),
        seq,
    }
}

/// What the test does with a message in flight.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Deliver,
    Drop,
    Duplicate,
}

struct Cluster {
    cfg: TccConfig,
    nodes: Vec<Tcc>,
    disks: Vec<Option<DiskOf<Tcc>>>,
    /// Messages in flight: (from, to, msg).
    flight: VecDeque<(NodeId, NodeId, Msg)>,
    /// Pending timers per node.
    timers: Vec<BTreeSet<TimerKey>>,
    /// Every fact, with the node that stated it.
    facts: Vec<(NodeId, BankFact)>,
    replies: Vec<(RequestId, Reply<Bank>)>,
    now: i64,
}

/// A timer in a set: `Timer` has no order of its own.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct TimerKey(u8, RequestId);

fn key(t: Timer) -> TimerKey {
    match t {
        Timer::Retry(id) => TimerKey(0, id),
        Timer::ReadRetry(id) => TimerKey(1, id),
    }
}

fn timer(k: TimerKey) -> Timer {
    match k.0 {
        0 => Timer::Retry(k.1),
        _ => Timer::ReadRetry(k.1),
    }
}

fn ids() -> [NodeId; 3] {
    [A, B, C]
}

fn peers(id: NodeId) -> Vec<NodeId> {
    ids().into_iter().filter(|&n| n != id).collect()
}

impl Cluster {
    fn new(cfg: TccConfig) -> Self {
        let mut c = Cluster {
            nodes: ids()
                .iter()
                .map(|&id| Tcc::new(id, &peers(id), &cfg, None))
                .collect(),
            cfg,
            disks: vec![None, None, None],
            flight: VecDeque::new(),
            timers: vec![BTreeSet::new(); 3],
            facts: Vec::new(),
            replies: Vec::new(),
            now: 0,
        };
        for id in ids() {
            c.on(id, |n, ctx| n.on_start(ctx));
        }
        c
    }

    fn on(&mut self, id: NodeId, handler: impl FnOnce(&mut Tcc, &mut crate::node::Ctx<'_, Tcc>)) {
        self.now += 1_000;
        let i = id.0 as usize;
        let fx = step(&mut self.nodes[i], id, &peers(id), self.now, handler);
        for e in fx {
            match e {
                Effect::Send { to, msg } => self.flight.push_back((id, to, msg)),
                Effect::SetTimer { timer, .. } => {
                    self.timers[i].insert(key(timer));
                }
                Effect::CancelTimer { timer } => {
                    self.timers[i].remove(&key(timer));
                }
                Effect::Persist(w) => self.disks[i].get_or_insert_with(Default::default).apply(w),
                Effect::Fact(f) => self.facts.push((id, f)),
                Effect::Reply { request, reply } => self.replies.push((request, reply)),
                Effect::Observe(_) => {}
            }
        }
    }

    fn request(&mut self, to: NodeId, id: RequestId, op: BankOp) {
        self.on(to, |n, ctx| {
            n.on_request(ctx, ClientRequest::<Bank> { id, op })
        });
    }

    fn transfer(&mut self, seq: u64, from: u32, to: u32, amount: u64) {
        let op = BankOp::Transfer {
            from: Account(from),
            to: Account(to),
            amount,
        };
        self.request(A, txn(seq), op);
    }

    /// Handles the next message in flight as `fate` says; false when none is left.
    fn next(&mut self, mut fate: impl FnMut(&NodeId, &NodeId, &Msg) -> Fate) -> bool {
        let Some((from, to, msg)) = self.flight.pop_front() else {
            return false;
        };
        match fate(&from, &to, &msg) {
            Fate::Drop => {}
            Fate::Deliver => self.on(to, |n, ctx| n.on_message(ctx, from, msg)),
            Fate::Duplicate => {
                let copy = msg.clone();
                self.on(to, |n, ctx| n.on_message(ctx, from, msg));
                self.on(to, |n, ctx| n.on_message(ctx, from, copy));
            }
        }
        true
    }

    /// Delivers everything in flight, and everything that sends, until nothing is.
    fn settle_network(&mut self) {
        while self.next(|_, _, _| Fate::Deliver) {}
    }

    /// Fires every pending timer of every node once.
    fn fire_timers(&mut self) {
        for id in ids() {
            let pending: Vec<TimerKey> = std::mem::take(&mut self.timers[id.0 as usize])
                .into_iter()
                .collect();
            for k in pending {
                self.on(id, |n, ctx| n.on_timer(ctx, timer(k)));
            }
        }
    }

    fn crash_restart(&mut self, id: NodeId) {
        let i = id.0 as usize;
        self.timers[i].clear();
        self.flight.retain(|(_, to, _)| *to != id);
        self.nodes[i] = Tcc::new(id, &peers(id), &self.cfg, self.disks[i].as_ref());
        self.on(id, |n, ctx| n.on_start(ctx));
    }

    /// The facts stated so far, without the `Opened` ones of the start.
    fn story(&self) -> Vec<BankFact> {
        self.facts
            .iter()
            .map(|(_, f)| f.clone())
            .filter(|f| !matches!(f, BankFact::Opened { .. }))
            .collect()
    }

    fn holding(&self, account: u32) -> (i64, i64, i64) {
        let holder = if account.is_multiple_of(2) { B } else { C };
        self.nodes[holder.0 as usize]
            .holding(Account(account))
            .expect("held")
    }

    fn reply_to(&self, seq: u64) -> Vec<&Reply<Bank>> {
        self.replies
            .iter()
            .filter(|(id, _)| *id == txn(seq))
            .map(|(_, r)| r)
            .collect()
    }

    fn phase(&self, seq: u64) -> Option<Phase> {
        self.nodes[0].transfer_phase(txn(seq))
    }
}

fn held(seq: u64, account: u32, amount: u64, debit: bool) -> BankFact {
    BankFact::Held {
        txn: txn(seq),
        account: Account(account),
        amount,
        debit,
    }
}

fn released(seq: u64, account: u32, amount: u64, debit: bool, applied: bool) -> BankFact {
    BankFact::Released {
        txn: txn(seq),
        account: Account(account),
        amount,
        debit,
        applied,
    }
}

fn applied(seq: u64, account: u32, delta: i64, balance: i64) -> BankFact {
    BankFact::Applied {
        txn: txn(seq),
        account: Account(account),
        delta,
        balance,
    }
}

fn rolled_back(seq: u64, account: u32) -> BankFact {
    BankFact::RolledBack {
        txn: txn(seq),
        account: Account(account),
    }
}

fn decided(seq: u64, commit: bool) -> BankFact {
    BankFact::Decided {
        txn: txn(seq),
        commit,
    }
}

fn is_try_to(to: NodeId) -> impl Fn(&NodeId, &NodeId, &Msg) -> bool {
    move |_, t, m| *t == to && matches!(m, Msg::Try(_))
}

#[test]
fn each_participant_opens_its_accounts_once_and_not_again_after_a_restart() {
    let mut c = Cluster::new(TccConfig {
        accounts: 3,
        ..TccConfig::default()
    });
    let opened = |c: &Cluster| -> Vec<(NodeId, u32)> {
        c.facts
            .iter()
            .filter_map(|(n, f)| match f {
                BankFact::Opened {
                    account,
                    balance: 100,
                } => Some((*n, account.0)),
                _ => None,
            })
            .collect()
    };
    // Accounts 0 and 2 on B (participant 0), account 1 on C; the initiator holds none.
    assert_eq!(opened(&c), [(B, 0), (B, 2), (C, 1)]);
    c.crash_restart(B);
    c.crash_restart(A);
    assert_eq!(opened(&c).len(), 3, "a restart from disk opens nothing");
}

/// The happy path: try on both branches, the decision, confirm on both; the facts in that
/// order, the money moved, the client told once both confirmed.
#[test]
fn a_transfer_tries_both_branches_then_confirms_both() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 1, 30);
    assert_eq!(c.phase(1), Some(Phase::Trying));
    assert_eq!(
        c.flight
            .iter()
            .map(|(_, to, m)| (*to, m.clone()))
            .collect::<Vec<_>>(),
        [
            (
                B,
                Msg::Try(Branch {
                    txn: txn(1),
                    account: Account(0),
                    amount: 30,
                    debit: true
                })
            ),
            (
                C,
                Msg::Try(Branch {
                    txn: txn(1),
                    account: Account(1),
                    amount: 30,
                    debit: false
                })
            ),
        ]
    );
    c.settle_network();
    assert_eq!(
        c.story(),
        [
            held(1, 0, 30, true),
            held(1, 1, 30, false),
            decided(1, true),
            released(1, 0, 30, true, true),
            applied(1, 0, -30, 70),
            released(1, 1, 30, false, true),
            applied(1, 1, 30, 130),
        ]
    );
    assert_eq!(c.holding(0), (70, 0, 0));
    assert_eq!(c.holding(1), (130, 0, 0));
    assert_eq!(c.phase(1), Some(Phase::Settled));
    assert_eq!(c.reply_to(1), [&Reply::Ok(BankOutput::Transferred)]);
    assert!(c.timers[0].is_empty(), "nothing left to retry");
}

#[test]
fn while_tried_the_amount_is_frozen_on_the_source_and_reserved_on_the_target() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 1, 30);
    c.next(|_, _, _| Fate::Deliver);
    c.next(|_, _, _| Fate::Deliver);
    assert_eq!(
        c.holding(0),
        (70, 30, 0),
        "the balance is lowered by the frozen amount"
    );
    assert_eq!(
        c.holding(1),
        (100, 0, 30),
        "a reservation is a promise, not money"
    );
}

#[test]
fn insufficient_funds_cancel_the_transfer_on_both_branches() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 1, 150);
    c.settle_network();
    assert_eq!(
        c.story(),
        [
            held(1, 1, 150, false),
            decided(1, false),
            // The refused try left nothing to release on the source; its cancel is recorded.
            rolled_back(1, 0),
            released(1, 1, 150, false, false),
            rolled_back(1, 1),
        ]
    );
    assert_eq!((c.holding(0), c.holding(1)), ((100, 0, 0), (100, 0, 0)));
    assert_eq!(
        c.reply_to(1),
        [&Reply::Fail {
            reason: "insufficient funds: account 0 holds 100, the transfer moves 150".into()
        }]
    );
}

#[test]
fn a_retried_request_gets_the_known_outcome_and_never_a_second_transfer() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 1, 30);
    c.transfer(1, 0, 1, 30); // the client's retry, in flight at once
    c.settle_network();
    c.transfer(1, 0, 1, 30); // and after it settled
    c.settle_network();
    assert_eq!(c.holding(1), (130, 0, 0), "moved once");
    let ok = Reply::Ok(BankOutput::Transferred);
    assert_eq!(c.reply_to(1), [&ok, &ok]);
    assert_eq!(
        c.story()
            .iter()
            .filter(|f| matches!(f, BankFact::Decided { .. }))
            .count(),
        1
    );
}

#[test]
fn bad_transfers_are_refused_before_anything_is_tried_and_participants_redirect() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 0, 10);
    c.transfer(2, 0, 5, 10);
    c.transfer(3, 0, 1, 0);
    assert!(c.flight.is_empty());
    assert!(
        c.replies
            .iter()
            .all(|(_, r)| matches!(r, Reply::Fail { .. }))
    );
    c.request(B, txn(4), BankOp::Read);
    assert_eq!(c.reply_to(4), [&Reply::NotLeader { leader: Some(A) }]);
}

#[test]
fn a_read_asks_every_participant_and_answers_every_balance() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 1, 30);
    c.settle_network();
    c.request(A, txn(2), BankOp::Read);
    // B's answer is lost; the retry asks B alone again.
    c.next(|_, _, _| Fate::Deliver);
    c.next(|_, _, _| Fate::Deliver);
    c.next(|from, _, _| {
        if *from == B {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    });
    c.next(|_, _, _| Fate::Deliver);
    assert!(c.reply_to(2).is_empty());
    c.fire_timers();
    assert_eq!(c.flight.len(), 1);
    c.settle_network();
    assert_eq!(
        c.reply_to(2),
        [&Reply::Ok(BankOutput::Balances {
            balances: vec![70, 130]
        })]
    );
}

/// Heavy loss and duplication: each phase is retried until it is heard, every branch is applied
/// once, and the money adds up.
#[test]
fn loss_and_duplication_only_delay_the_transfers() {
    let mut c = Cluster::new(TccConfig {
        accounts: 4,
        try_attempts: 50,
        ..TccConfig::default()
    });
    for seq in 1..=6 {
        c.transfer(seq, (seq % 4) as u32, ((seq + 1) % 4) as u32, 10 * seq);
    }
    let mut n = 0u32;
    for _ in 0..200 {
        while c.next(|_, _, _| {
            n += 1;
            match n % 3 {
                0 => Fate::Drop,
                1 => Fate::Duplicate,
                _ => Fate::Deliver,
            }
        }) {}
        c.fire_timers();
    }
    for seq in 1..=6 {
        assert_eq!(c.phase(seq), Some(Phase::Settled), "transfer {seq} settled");
        assert_eq!(c.reply_to(seq).len(), 1);
    }
    let mut applies = std::collections::BTreeMap::new();
    for f in c.story() {
        if let BankFact::Applied { txn, account, .. } = f {
            *applies.entry((txn, account)).or_insert(0) += 1;
        }
    }
    assert!(applies.values().all(|&n| n == 1), "{applies:?}");
    let total: i64 = (0..4).map(|a| c.holding(a).0 + c.holding(a).1).sum();
    assert_eq!(total, 400);
}

/// A confirm whose ack is lost is sent again. With the branch record, the participant answers
/// the copy from it; without (`idempotent = false`), it credits the target twice.
#[test]
fn a_repeated_confirm_changes_nothing_unless_idempotence_is_off() {
    for idempotent in [true, false] {
        let mut c = Cluster::new(TccConfig {
            idempotent,
            ..TccConfig::default()
        });
        c.transfer(1, 0, 1, 30);
        while c.next(|_, _, m| match m {
            Msg::Confirm(b) if !b.debit => Fate::Duplicate,
            _ => Fate::Deliver,
        }) {}
        let credits = c
            .story()
            .into_iter()
            .filter(|f| {
                matches!(
                    f,
                    BankFact::Applied {
                        account: Account(1),
                        ..
                    }
                )
            })
            .count();
        if idempotent {
            assert_eq!(credits, 1);
            assert_eq!(c.holding(1), (130, 0, -0));
        } else {
            assert_eq!(credits, 2, "the duplicate credited again");
            assert_eq!(c.holding(1), (160, 0, -30), "30 more than was ever sent");
            assert!(c.story().contains(&applied(1, 1, 30, 160)));
        }
    }
}

#[test]
fn a_repeated_cancel_releases_once_unless_idempotence_is_off() {
    for idempotent in [true, false] {
        let mut c = Cluster::new(TccConfig {
            idempotent,
            ..TccConfig::default()
        });
        // A source that froze, then a cancel: the target's try is lost past the threshold of
        // one send.
        c.cfg.try_attempts = 1;
        c.nodes[0] = Tcc::new(A, &peers(A), &c.cfg, None);
        c.transfer(1, 0, 1, 60);
        // B freezes; C never hears the try: after one send, the transfer cancels.
        while c.next(|_, to, m| {
            if *to == C && matches!(m, Msg::Try(_)) {
                Fate::Drop
            } else {
                Fate::Deliver
            }
        }) {}
        c.fire_timers();
        while c.next(|_, to, m| match m {
            Msg::Cancel(_) if *to == B => Fate::Duplicate,
            _ => Fate::Deliver,
        }) {}
        let refunds = c
            .story()
            .into_iter()
            .filter(|f| *f == released(1, 0, 60, true, false))
            .count();
        if idempotent {
            assert_eq!(refunds, 1);
            assert_eq!(c.holding(0), (100, 0, 0));
        } else {
            assert_eq!(refunds, 2, "the copy gave the frozen 60 back again");
            assert_eq!(c.holding(0), (160, -60, 0));
        }
    }
}

/// The try to C is lost until the threshold; the cancel reaches C, which never saw the try.
#[test]
fn a_cancel_without_its_try_is_an_empty_rollback_unless_the_rule_is_off() {
    for empty_rollback in [true, false] {
        let mut c = Cluster::new(TccConfig {
            empty_rollback,
            try_attempts: 2,
            ..TccConfig::default()
        });
        c.transfer(1, 0, 1, 30);
        for _ in 0..2 {
            while c.next(|f, t, m| {
                if is_try_to(C)(f, t, m) {
                    Fate::Drop
                } else {
                    Fate::Deliver
                }
            }) {}
            c.fire_timers();
        }
        assert_eq!(c.phase(1), Some(Phase::Cancelling));
        for _ in 0..10 {
            c.settle_network();
            c.fire_timers();
        }
        let story = c.story();
        if empty_rollback {
            assert!(
                story.contains(&rolled_back(1, 1)),
                "the empty rollback is recorded"
            );
            assert!(!story.iter().any(|f| matches!(
                f,
                BankFact::Held {
                    account: Account(1),
                    ..
                }
            )));
            assert_eq!(c.phase(1), Some(Phase::Settled));
            assert_eq!(c.reply_to(1).len(), 1);
        } else {
            assert!(!story.contains(&rolled_back(1, 1)));
            assert_eq!(
                c.phase(1),
                Some(Phase::Cancelling),
                "the cancel fails forever"
            );
            assert!(c.reply_to(1).is_empty(), "the client never hears");
            assert_eq!(c.holding(0), (100, 0, 0), "the source's part was released");
        }
    }
}

/// The try to B is held back in the network until the transfer has cancelled (the try to C
/// is lost and the threshold is one send); then it arrives.
#[test]
fn a_try_after_its_cancel_is_refused_unless_the_rule_is_off() {
    for refuse_suspension in [true, false] {
        let mut c = Cluster::new(TccConfig {
            refuse_suspension,
            try_attempts: 1,
            ..TccConfig::default()
        });
        c.transfer(1, 0, 1, 40);
        let (late_try, to_c) = (c.flight[0].clone(), c.flight[1].clone());
        assert!(matches!(late_try.2, Msg::Try(Branch { debit: true, .. })));
        assert_eq!(to_c.1, C);
        c.flight.clear();
        c.fire_timers(); // no answer after one send: cancel
        c.settle_network();
        assert_eq!(c.phase(1), Some(Phase::Settled));
        assert_eq!(
            c.story(),
            [decided(1, false), rolled_back(1, 0), rolled_back(1, 1)],
            "two empty rollbacks"
        );
        c.flight.push_back(late_try);
        c.settle_network();
        if refuse_suspension {
            assert_eq!(c.story().len(), 3, "the late try changed nothing");
            assert_eq!(c.holding(0), (100, 0, 0));
        } else {
            assert_eq!(
                c.story()[3],
                held(1, 0, 40, true),
                "frozen after its cancel"
            );
            assert_eq!(c.holding(0), (60, 40, 0), "and nobody will ever release it");
            c.fire_timers();
            assert!(
                c.flight.is_empty(),
                "the initiator has nothing left to send"
            );
        }
    }
}

#[test]
fn a_late_try_is_answered_with_the_refusal() {
    let mut c = Cluster::new(TccConfig {
        try_attempts: 1,
        ..TccConfig::default()
    });
    c.transfer(1, 0, 1, 40);
    let late = c.flight.pop_front().unwrap();
    c.flight.clear();
    c.fire_timers();
    c.settle_network();
    c.flight.push_back(late);
    c.next(|_, _, _| Fate::Deliver);
    assert_eq!(
        c.flight.back().map(|(_, _, m)| m.clone()),
        Some(Msg::TryAck {
            branch: Branch {
                txn: txn(1),
                account: Account(0),
                amount: 40,
                debit: true
            },
            refused: Some(Refusal::AlreadyCancelled),
        })
    );
}

/// Everything a node needs is on its disk: a participant that restarts keeps its balances and
/// its branch records, and an initiator that restarts resumes from its log.
#[test]
fn crashes_lose_nothing_and_the_initiator_resumes_from_its_log() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 1, 30);
    // Both tries done, the decision made and sent; then the initiator crashes with the
    // confirms in flight (lost) and B crashes too.
    c.next(|_, _, _| Fate::Deliver);
    c.next(|_, _, _| Fate::Deliver);
    c.next(|_, _, _| Fate::Deliver);
    c.next(|_, _, _| Fate::Deliver);
    assert_eq!(c.phase(1), Some(Phase::Confirming));
    c.crash_restart(B);
    assert_eq!(c.holding(0), (70, 30, 0), "the freeze survived");
    c.crash_restart(A);
    assert_eq!(
        c.phase(1),
        Some(Phase::Confirming),
        "resumed from the decision"
    );
    c.settle_network();
    assert_eq!((c.holding(0), c.holding(1)), ((70, 0, 0), (130, 0, 0)));
    assert_eq!(
        c.story()
            .iter()
            .filter(|f| matches!(f, BankFact::Decided { .. }))
            .count(),
        1
    );
    // The client's retry after the restart learns the outcome.
    c.transfer(1, 0, 1, 30);
    assert_eq!(c.reply_to(1), [&Reply::Ok(BankOutput::Transferred)]);
    c.crash_restart(A);
    assert!(c.flight.is_empty(), "a settled transfer is not resumed");
}

#[test]
fn an_undecided_transfer_is_tried_again_after_the_initiator_restarts() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 1, 30);
    c.flight.clear();
    c.crash_restart(A);
    assert_eq!(c.flight.len(), 2);
    c.settle_network();
    assert_eq!(c.phase(1), Some(Phase::Settled));
    assert_eq!(c.holding(1), (130, 0, 0));
}

fn retried(seq: u64, account: u32, step: &'static str, send: u32) -> BankFact {
    BankFact::Retried {
        txn: txn(seq),
        account: Account(account),
        step,
        send,
    }
}

#[test]
fn a_step_sent_again_after_its_backoff_is_stated_once_per_branch_a_restart_is_not() {
    let mut c = Cluster::new(TccConfig::default());
    c.transfer(1, 0, 1, 30);
    // The try to C is lost; B's answers. The backoff resends to C alone.
    c.next(|_, _, _| Fate::Deliver);
    c.next(|_, _, _| Fate::Drop);
    c.settle_network();
    assert!(
        !c.story()
            .iter()
            .any(|f| matches!(f, BankFact::Retried { .. }))
    );
    c.fire_timers();
    assert_eq!(c.story().last(), Some(&retried(1, 1, "try", 2)));
    // C tries, A hears it and decides: both branches' confirms are lost once, and each is
    // sent again, stated per branch.
    c.next(|_, _, _| Fate::Deliver);
    c.next(|_, _, _| Fate::Deliver);
    assert_eq!(c.phase(1), Some(Phase::Confirming));
    c.next(|_, _, _| Fate::Drop);
    c.next(|_, _, _| Fate::Drop);
    c.fire_timers();
    let story = c.story();
    assert_eq!(
        story[story.len() - 2..],
        [retried(1, 0, "confirm", 2), retried(1, 1, "confirm", 2)]
    );
    c.settle_network();
    assert_eq!(c.phase(1), Some(Phase::Settled));
    // A restarted initiator resends an undecided transfer from its log: not a backoff's retry.
    c.transfer(2, 0, 1, 10);
    c.flight.clear();
    c.crash_restart(A);
    assert_eq!(c.flight.len(), 2);
    let retries = c
        .story()
        .iter()
        .filter(|f| matches!(f, BankFact::Retried { .. }))
        .count();
    assert_eq!(retries, 3);
}

#[test]
fn the_report_section_counts_outcomes_and_what_stays_frozen() {
    use crate::node::SectionBuilder;
    let mut s = super::section::Transfers::default();
    struct NoView;
    impl crate::node::RunView for NoView {
        fn now(&self) -> u64 {
            0
        }
        fn names(&self) -> &[String] {
            &[]
        }
        fn status(&self, _: u32) -> crate::node::NodeStatus {
            unimplemented!("the section reads no node")
        }
        fn read_clock(&self, _: u32, _: crate::node::ClockKind) -> i64 {
            0
        }
    }
    let v = NoView;
    let facts = [
        (10, held(1, 0, 30, true)),
        (20, decided(1, true)),
        (50, released(1, 0, 30, true, true)),
        (60, held(2, 0, 5, true)),
        (70, decided(3, false)),
        (80, rolled_back(3, 1)),
    ];
    for (at, f) in facts {
        s.on_fact(at, 0, &f, &v);
    }
    let sec = s.section(&v).unwrap();
    assert_eq!(
        sec.brief.as_deref(),
        Some("1 confirmed, 1 cancelled, 2 unsettled, 1 still set aside")
    );
    assert_eq!(sec.json["frozen_ns"]["max"], 40);
    assert_eq!(sec.json["still_held"]["frozen"], 5);
    assert_eq!(sec.json["nothing_to_release"], 1);
    // Two transfers decided, none retried.
    assert_eq!(sec.json["retries"]["transfers"], 2);
    assert_eq!(sec.json["retries"]["total"], 0);
}

#[test]
fn the_report_section_gives_retries_per_transfer() {
    use crate::node::SectionBuilder;
    let mut s = super::section::Transfers::default();
    struct NoView;
    impl crate::node::RunView for NoView {
        fn now(&self) -> u64 {
            0
        }
        fn names(&self) -> &[String] {
            &[]
        }
        fn status(&self, _: u32) -> crate::node::NodeStatus {
            unimplemented!("the section reads no node")
        }
        fn read_clock(&self, _: u32, _: crate::node::ClockKind) -> i64 {
            0
        }
    }
    let v = NoView;
    // Transfer 1: no retry. Transfer 2: a try and a confirm sent again (2). Transfer 3, still
    // trying at the end: its try sent again on both branches, then once more on one (3).
    let facts = [
        decided(1, true),
        retried(2, 1, "try", 2),
        decided(2, true),
        retried(2, 0, "confirm", 2),
        retried(3, 0, "try", 2),
        retried(3, 1, "try", 2),
        retried(3, 1, "try", 3),
    ];
    for f in facts {
        s.on_fact(0, 0, &f, &v);
    }
    let sec = s.section(&v).unwrap();
    assert_eq!(
        sec.json["retries"],
        serde_json::json!({ "transfers": 3, "total": 5, "p50": 2, "p99": 3, "max": 3 })
    );
    assert!(
        sec.lines.contains(
            &"retries per transfer: p50 2, p99 3, max 3 (5 messages sent again over 3 transfers)"
                .to_string()
        ),
        "{:?}",
        sec.lines
    );
    assert_eq!(
        sec.brief.as_deref(),
        Some("2 confirmed, 0 cancelled, 5 messages retried, 2 unsettled")
    );
}

/// What went wrong in a run, once the network is quiet again.
#[derive(Debug, Default, PartialEq, Eq)]
struct Damage {
    unsettled: usize,
    applied_twice: usize,
    half_applied: usize,
    money_off_by: i64,
    still_frozen: i64,
}

/// Eight random transfers over four accounts, through a network that loses 30% of messages,
/// duplicates 20%, reorders freely and crashes a node now and then; then calm until every
/// retry has run its course.
fn chaos(cfg: TccConfig, seed: u64) -> Damage {
    use crate::node::{Rng, Stream};
    let mut rng = Rng::derive(seed, Stream::Node(99));
    let mut c = Cluster::new(TccConfig { accounts: 4, ..cfg });
    for seq in 1..=8 {
        let from = rng.below(4) as u32;
        let to = (from + 1 + rng.below(3) as u32) % 4;
        c.transfer(seq, from, to, rng.between(1, 80));
    }
    for _ in 0..60 {
        for _ in 0..c.flight.len() {
            let i = rng.below(c.flight.len() as u64) as usize;
            let (from, to, msg) = c.flight.remove(i).expect("in range");
            c.flight.push_front((from, to, msg));
            let fate = if rng.chance(0.3) {
                Fate::Drop
            } else if rng.chance(0.2) {
                Fate::Duplicate
            } else if rng.chance(0.3) {
                // Left in flight: it may arrive rounds later, after what was sent since.
                let m = c.flight.pop_front().expect("just put");
                c.flight.push_back(m);
                continue;
            } else {
                Fate::Deliver
            };
            c.next(|_, _, _| fate);
        }
        if rng.chance(0.05) {
            c.crash_restart(ids()[rng.below(3) as usize]);
        }
        c.fire_timers();
    }
    for _ in 0..100 {
        c.settle_network();
        c.fire_timers();
    }
    let mut d = Damage::default();
    let mut applies = std::collections::BTreeMap::<_, usize>::new();
    for f in c.story() {
        if let BankFact::Applied { txn, account, .. } = f {
            *applies.entry((txn, account)).or_default() += 1;
        }
    }
    d.applied_twice = applies.values().filter(|&&n| n > 1).count();
    for seq in 1..=8 {
        if c.phase(seq) != Some(Phase::Settled) {
            d.unsettled += 1;
        }
        let sides = applies.keys().filter(|(t, _)| *t == txn(seq)).count();
        if sides == 1 {
            d.half_applied += 1;
        }
    }
    let (mut total, mut frozen) = (0, 0);
    for a in 0..4 {
        let (balance, f, _) = c.holding(a);
        total += balance + f;
        frozen += f;
    }
    d.money_off_by = total - 400;
    d.still_frozen = frozen;
    d
}

/// The correct design under loss, duplication, reordering and crashes: every transfer settles,
/// all or nothing, each change applied once, no money made or lost or left frozen.
#[test]
fn under_chaos_the_correct_design_always_settles_every_transfer_cleanly() {
    let cfg = TccConfig {
        try_attempts: 4,
        ..TccConfig::default()
    };
    for seed in 0..300 {
        assert_eq!(chaos(cfg.clone(), seed), Damage::default(), "seed {seed}");
    }
}

/// Each rule switched off, under the same chaos: its own damage shows on some seeds.
#[test]
fn under_chaos_each_rule_switched_off_does_its_own_damage() {
    let base = TccConfig {
        try_attempts: 4,
        ..TccConfig::default()
    };
    let runs =
        |cfg: TccConfig| -> Vec<Damage> { (0..300).map(|s| chaos(cfg.clone(), s)).collect() };
    let not_idempotent = runs(TccConfig {
        idempotent: false,
        ..base.clone()
    });
    assert!(
        not_idempotent
            .iter()
            .any(|d| d.applied_twice > 0 && d.money_off_by != 0)
    );
    let no_empty_rollback = runs(TccConfig {
        empty_rollback: false,
        ..base.clone()
    });
    assert!(no_empty_rollback.iter().any(|d| d.unsettled > 0));
    assert!(
        no_empty_rollback
            .iter()
            .all(|d| d.applied_twice == 0 && d.money_off_by == 0)
    );
    let suspended = runs(TccConfig {
        refuse_suspension: false,
        ..base
    });
    assert!(suspended.iter().any(|d| d.still_frozen > 0));
    assert!(
        suspended
            .iter()
            .all(|d| d.unsettled == 0 && d.money_off_by == 0)
    );
}
