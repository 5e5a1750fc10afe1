//! Two-phase commit driven by hand: a small cluster whose messages are delivered (or dropped)
//! one by one, whose timers fire when a test says, and whose nodes crash and restart from
//! exactly what they wrote. Each test asserts the story: who voted what, who decided, what each
//! participant applied or rolled back, and in what order the facts were stated.

use std::collections::{BTreeMap, VecDeque};

use crate::node::{
    ClientId, ClientRequest, DiskOf, Effect, LocalNanos, NodeId, Observation, Protocol, Reply,
    RequestId, Role,
};
use crate::protocols::txn::{Account, Bank, BankFact, BankOp, BankOutput};

use super::*;

const MS: LocalNanos = 1_000_000;

fn req(seq: u64) -> RequestId {
    RequestId {
        client: ClientId(0),
        seq,
    }
}

fn transfer(from: u32, to: u32, amount: u64) -> BankOp {
    BankOp::Transfer {
        from: Account(from),
        to: Account(to),
        amount,
    }
}

/// A cluster in a test tube.
struct Cluster {
    cfg: TwoPcConfig,
    nodes: Vec<Option<TwoPhaseCommit>>,
    disks: Vec<Option<DiskOf<TwoPhaseCommit>>>,
    now: LocalNanos,
    /// Messages in flight: (from, to, message).
    queue: VecDeque<(NodeId, NodeId, Msg)>,
    /// Every fact stated, with its node, in order.
    facts: Vec<(u32, BankFact)>,
    replies: Vec<(RequestId, Reply<Bank>)>,
    /// Pending timers per node: name → when it fires.
    timers: Vec<BTreeMap<String, (Timer, LocalNanos)>>,
    /// Every message sent, in words, for assertions on the story.
    told: Vec<String>,
    roles: Vec<(u32, Role, u64)>,
}

impl Cluster {
    fn new(n: u32, cfg: TwoPcConfig) -> Cluster {
        let mut c = Cluster {
            cfg,
            nodes: (0..n).map(|_| None).collect(),
            disks: (0..n).map(|_| None).collect(),
            now: 0,
            queue: VecDeque::new(),
            facts: Vec::new(),
            replies: Vec::new(),
            timers: (0..n).map(|_| BTreeMap::new()).collect(),
            told: Vec::new(),
            roles: Vec::new(),
        };
        for i in 0..n {
            c.boot(i);
        }
        c
    }

    fn peers(&self, id: u32) -> Vec<NodeId> {
        (0..self.nodes.len() as u32)
            .filter(|&p| p != id)
            .map(NodeId)
            .collect()
    }

    /// Builds node `id` from its disk and starts it.
    fn boot(&mut self, id: u32) {
        let peers = self.peers(id);
        let node = TwoPhaseCommit::new(
            NodeId(id),
            &peers,
            &self.cfg,
            self.disks[id as usize].as_ref(),
        );
        self.nodes[id as usize] = Some(node);
        self.run(id, |n, ctx| n.on_start(ctx));
    }

    fn crash(&mut self, id: u32) {
        self.nodes[id as usize] = None;
        self.timers[id as usize].clear();
    }

    fn node(&self, id: u32) -> &TwoPhaseCommit {
        self.nodes[id as usize].as_ref().expect("the node is up")
    }

    fn run(&mut self, id: u32, handler: impl FnOnce(&mut TwoPhaseCommit, &mut C<'_, '_>)) {
        let peers = self.peers(id);
        let Some(node) = self.nodes[id as usize].as_mut() else {
            return;
        };
        // With the node's disk, as the world gives it: the Raft group's log truncates by
        // length, and the context checks that against what is on disk.
        let mut rng = crate::node::Rng::derive(0, crate::node::Stream::Node(id));
        let mut effects = Vec::new();
        let disk = self.disks[id as usize].as_ref();
        handler(
            node,
            &mut Ctx::new(
                NodeId(id),
                &peers,
                self.now,
                self.now,
                &mut rng,
                &mut effects,
            )
            .with_disk(disk),
        );
        let names: Vec<String> = (0..self.nodes.len()).map(|i| format!("N{i}")).collect();
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    let words = TwoPhaseCommit::narrate_message(
                        &serde_json::to_value(&msg).unwrap(),
                        &names,
                    )
                    .expect("every message is told");
                    self.told.push(format!("N{id}->N{}: {words}", to.0));
                    self.queue.push_back((NodeId(id), to, msg));
                }
                Effect::SetTimer { timer, after } => {
                    self.timers[id as usize].insert(
                        format!("{timer:?}"),
                        (timer, self.now + after as LocalNanos),
                    );
                }
                Effect::CancelTimer { timer } => {
                    self.timers[id as usize].remove(&format!("{timer:?}"));
                }
                Effect::Observe(Observation::Role { role, term }) => {
                    self.roles.push((id, role, term))
                }
                Effect::Observe(_) => {}
                Effect::Fact(f) => self.facts.push((id, f)),
                Effect::Persist(w) => self.disks[id as usize]
                    .get_or_insert_with(DiskOf::<TwoPhaseCommit>::default)
                    .apply(w),
                Effect::Reply { request, reply } => self.replies.push((request, reply)),
            }
        }
    }

    fn request(&mut self, to: u32, seq: u64, op: BankOp) {
        self.run(to, |n, ctx| {
            n.on_request(ctx, ClientRequest::<Bank> { id: req(seq), op })
        });
    }

    /// Delivers messages in order until none is left, dropping those `drop` says to (and any to
    /// a crashed node).
    fn deliver_unless(&mut self, mut drop: impl FnMut(NodeId, NodeId, &Msg) -> bool) {
        while let Some((from, to, msg)) = self.queue.pop_front() {
            if drop(from, to, &msg) || self.nodes[to.index()].is_none() {
                continue;
            }
            self.run(to.0, |n, ctx| n.on_message(ctx, from, msg));
        }
    }

    fn deliver(&mut self) {
        self.deliver_unless(|_, _, _| false);
    }

    /// Advances the clock by `by` and fires every timer due, earliest first (those set while
    /// firing included).
    fn advance(&mut self, by: LocalNanos) {
        let until = self.now + by;
        loop {
            let due = self
                .timers
                .iter()
                .enumerate()
                .flat_map(|(i, ts)| ts.iter().map(move |(k, (t, at))| (*at, i, k.clone(), *t)))
                .filter(|(at, ..)| *at <= until)
                .min_by_key(|(at, i, k, _)| (*at, *i, k.clone()));
            let Some((at, i, key, timer)) = due else {
                break;
            };
            self.timers[i].remove(&key);
            self.now = self.now.max(at);
            self.run(i as u32, |n, ctx| n.on_timer(ctx, timer));
        }
        self.now = until;
    }

    /// The facts stated, without the openings.
    fn story(&self) -> Vec<(u32, BankFact)> {
        self.facts
            .iter()
            .filter(|(_, f)| !matches!(f, BankFact::Opened { .. }))
            .cloned()
            .collect()
    }

    fn reply(&self, seq: u64) -> Option<&Reply<Bank>> {
        self.replies
            .iter()
            .rev()
            .find(|(r, _)| *r == req(seq))
            .map(|(_, reply)| reply)
    }

    fn coordinator_log(&self, id: u32) -> Vec<Record> {
        self.disks[id as usize]
            .as_ref()
            .map_or(Vec::new(), |d| d.log.clone())
    }
}

fn three() -> Cluster {
    Cluster::new(3, TwoPcConfig::default())
}

fn prepared(txn: RequestId, account: u32) -> BankFact {
    BankFact::Prepared {
        txn,
        account: Account(account),
    }
}

fn applied(txn: RequestId, account: u32, delta: i64, balance: i64) -> BankFact {
    BankFact::Applied {
        txn,
        account: Account(account),
        delta,
        balance,
    }
}

fn rolled_back(txn: RequestId, account: u32) -> BankFact {
    BankFact::RolledBack {
        txn,
        account: Account(account),
    }
}

fn decided(txn: RequestId, commit: bool) -> BankFact {
    BankFact::Decided { txn, commit }
}

#[test]
fn a_transfer_prepares_votes_commits_and_is_acknowledged_in_that_order() {
    let mut c = three();
    // Account 0 on N1, account 1 on N2, each opened with 100, once.
    assert_eq!(
        c.facts,
        [
            (
                1,
                BankFact::Opened {
                    account: Account(0),
                    balance: 100
                }
            ),
            (
                2,
                BankFact::Opened {
                    account: Account(1),
                    balance: 100
                }
            ),
        ]
    );
    c.request(0, 1, transfer(0, 1, 100));
    c.deliver();
    assert_eq!(
        c.told,
        [
            "N0->N1: Prepare(t c0#1: account 0 -100)",
            "N0->N2: Prepare(t c0#1: account 1 +100)",
            "N1->N0: Vote yes (t c0#1)",
            "N2->N0: Vote yes (t c0#1)",
            "N0->N1: Commit(t c0#1)",
            "N0->N2: Commit(t c0#1)",
            "N1->N0: Ack(t c0#1)",
            "N2->N0: Ack(t c0#1)",
        ]
    );
    assert_eq!(
        c.story(),
        [
            (1, prepared(req(1), 0)),
            (2, prepared(req(1), 1)),
            (0, decided(req(1), true)),
            (1, applied(req(1), 0, -100, 0)),
            (2, applied(req(1), 1, 100, 200)),
        ]
    );
    assert_eq!(c.reply(1), Some(&Reply::Ok(BankOutput::Transferred)));
    assert_eq!(c.node(1).balances(), [(Account(0), 0)]);
    assert_eq!(c.node(2).balances(), [(Account(1), 200)]);
    // The coordinator's log: begun before the prepares, the decision before the commits, and
    // the end once both acknowledged.
    let log = c.coordinator_log(0);
    assert!(matches!(log[0], Record::Begin { .. }));
    assert_eq!(
        log[1..],
        [
            Record::Decision {
                txn: req(1),
                commit: true
            },
            Record::End { txn: req(1) }
        ]
    );
    assert_eq!(c.roles[0], (0, Role::Master, 1));
}

#[test]
fn a_retried_transfer_gets_its_known_outcome_and_never_runs_twice() {
    let mut c = three();
    c.request(0, 1, transfer(0, 1, 60));
    c.deliver();
    let sent = c.told.len();
    c.request(0, 1, transfer(0, 1, 60));
    c.deliver();
    assert_eq!(c.told.len(), sent, "no second prepare");
    assert_eq!(c.replies.len(), 2);
    assert_eq!(c.reply(1), Some(&Reply::Ok(BankOutput::Transferred)));
    assert_eq!(c.node(1).balances(), [(Account(0), 40)]);
    // A retry while the votes are out waits for the same outcome.
    c.request(0, 2, transfer(1, 0, 10));
    c.request(0, 2, transfer(1, 0, 10));
    c.deliver();
    assert_eq!(
        c.replies.iter().filter(|(r, _)| *r == req(2)).count(),
        1,
        "answered once, when decided"
    );
    assert_eq!(c.node(1).balances(), [(Account(0), 50)]);
}

#[test]
fn a_participant_short_of_funds_votes_no_and_every_participant_rolls_back() {
    let mut c = three();
    c.request(0, 1, transfer(0, 1, 150));
    c.deliver();
    assert!(
        c.told
            .contains(&"N1->N0: Vote no (t c0#1: account 0 holds 100, less than 150)".to_string())
    );
    assert!(c.told.contains(&"N0->N2: Abort(t c0#1)".to_string()));
    assert_eq!(
        c.story(),
        [
            (1, rolled_back(req(1), 0)),
            (2, prepared(req(1), 1)),
            (0, decided(req(1), false)),
            (2, rolled_back(req(1), 1)),
        ]
    );
    match c.reply(1) {
        Some(Reply::Fail { reason }) => {
            assert_eq!(reason, "aborted: account 0 holds 100, less than 150")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(c.node(1).balances(), [(Account(0), 100)]);
    assert_eq!(c.node(2).balances(), [(Account(1), 100)]);
    assert!(c.node(2).in_doubt().is_empty(), "the lock is released");
}

#[test]
fn a_locked_account_makes_a_concurrent_transfer_vote_no_without_waiting() {
    let mut c = three();
    c.request(0, 1, transfer(0, 1, 10));
    // Only the prepares of the first arrive before the second transfer is prepared.
    let (f1, t1, m1) = c.queue.pop_front().unwrap();
    let (f2, t2, m2) = c.queue.pop_front().unwrap();
    c.run(t1.0, |n, ctx| n.on_message(ctx, f1, m1));
    c.run(t2.0, |n, ctx| n.on_message(ctx, f2, m2));
    c.request(0, 2, transfer(1, 0, 10));
    c.deliver();
    assert!(
        c.told
            .iter()
            .any(|t| t.contains("Vote no (t c0#2: account") && t.contains("locked by t c0#1"))
    );
    assert_eq!(c.reply(1), Some(&Reply::Ok(BankOutput::Transferred)));
    assert!(matches!(c.reply(2), Some(Reply::Fail { .. })));
    assert_eq!(c.node(1).balances(), [(Account(0), 90)]);
}

#[test]
fn a_read_locks_every_account_shared_and_sees_a_consistent_snapshot() {
    let mut c = three();
    c.request(0, 1, transfer(0, 1, 30));
    c.deliver();
    c.request(0, 2, BankOp::Read);
    c.deliver();
    assert_eq!(
        c.reply(2),
        Some(&Reply::Ok(BankOutput::Balances {
            balances: vec![70, 130]
        }))
    );
    // A read does not state transfer facts.
    assert_eq!(c.story().len(), 5);
    // A read prepared on N1 only (its prepare to N2 still in flight) blocks a transfer
    // touching N1, so the transfer cannot commit between the read's two answers.
    c.request(0, 3, BankOp::Read);
    let (f, t, m) = c.queue.pop_front().unwrap();
    c.run(t.0, |n, ctx| n.on_message(ctx, f, m));
    c.request(0, 4, transfer(0, 1, 5));
    c.deliver();
    assert!(
        matches!(c.reply(4), Some(Reply::Fail { reason }) if reason.contains("locked by t c0#3"))
    );
    assert_eq!(
        c.reply(3),
        Some(&Reply::Ok(BankOutput::Balances {
            balances: vec![70, 130]
        }))
    );
    // And a transfer prepared blocks a read.
    c.request(0, 5, transfer(0, 1, 5));
    let (f, t, m) = c.queue.pop_front().unwrap();
    c.run(t.0, |n, ctx| n.on_message(ctx, f, m));
    c.request(0, 6, BankOp::Read);
    c.deliver();
    assert!(matches!(c.reply(6), Some(Reply::Fail { .. })));
    assert_eq!(c.reply(5), Some(&Reply::Ok(BankOutput::Transferred)));
}

#[test]
fn requests_to_a_participant_are_sent_to_the_coordinator() {
    let mut c = three();
    c.request(2, 1, BankOp::Read);
    assert_eq!(
        c.reply(1),
        Some(&Reply::NotLeader {
            leader: Some(NodeId(0))
        })
    );
}

#[test]
fn bad_transfers_are_refused_before_any_prepare() {
    let mut c = three();
    c.request(0, 1, transfer(0, 0, 5));
    c.request(0, 2, transfer(0, 7, 5));
    c.request(0, 3, transfer(0, 1, 0));
    assert!(c.queue.is_empty());
    for seq in 1..=3 {
        assert!(matches!(c.reply(seq), Some(Reply::Fail { .. })));
    }
}

/// Delivers the prepares and the votes, and stops the decision: the coordinator crashes with
/// the votes in hand, or the decision is lost.
fn prepared_everywhere(c: &mut Cluster, seq: u64) {
    c.request(0, seq, transfer(0, 1, 100));
    c.deliver_unless(|_, _, m| matches!(m, Msg::Vote { .. }));
}

#[test]
fn participants_in_doubt_hold_their_locks_while_the_coordinator_is_down_then_finish() {
    let mut c = three();
    prepared_everywhere(&mut c, 1);
    c.crash(0);
    c.advance(2_000 * MS);
    c.deliver();
    // Blocked: both prepared, both asking, nobody answering.
    assert_eq!(c.node(1).in_doubt(), [req(1)]);
    assert_eq!(c.node(2).in_doubt(), [req(1)]);
    assert!(
        c.told
            .iter()
            .filter(|t| *t == "N1->N0: Inquiry(t c0#1: what was decided?)")
            .count()
            >= 5
    );
    // A participant that restarts is still prepared, its lock still held, and opens nothing.
    c.crash(1);
    c.boot(1);
    assert_eq!(c.node(1).in_doubt(), [req(1)]);
    assert_eq!(
        c.facts
            .iter()
            .filter(|(_, f)| matches!(f, BankFact::Opened { .. }))
            .count(),
        2
    );
    // The coordinator returns: its log has the transfer, not a decision: abort.
    c.boot(0);
    c.deliver();
    assert!(c.node(1).in_doubt().is_empty() && c.node(2).in_doubt().is_empty());
    assert_eq!(
        c.story()[2..],
        [
            (0, decided(req(1), false)),
            (1, rolled_back(req(1), 0)),
            (2, rolled_back(req(1), 1)),
        ]
    );
    assert_eq!(c.node(1).balances(), [(Account(0), 100)]);
}

#[test]
fn a_restarted_coordinator_sends_again_the_commit_it_had_logged() {
    let mut c = three();
    c.request(0, 1, transfer(0, 1, 100));
    // The votes arrive, the coordinator logs commit, and both commits are lost as it crashes.
    c.deliver_unless(|_, _, m| matches!(m, Msg::Decision { .. }));
    c.crash(0);
    assert_eq!(c.node(1).in_doubt(), [req(1)]);
    c.boot(0);
    c.advance(250 * MS);
    c.deliver();
    assert_eq!(c.node(1).balances(), [(Account(0), 0)]);
    assert_eq!(c.node(2).balances(), [(Account(1), 200)]);
    assert!(c.node(1).in_doubt().is_empty());
    // One decision, commit, then two applies: atomic.
    assert_eq!(
        c.story()[2..],
        [
            (0, decided(req(1), true)),
            (1, applied(req(1), 0, -100, 0)),
            (2, applied(req(1), 1, 100, 200)),
        ]
    );
    // A retry of the client after the restart gets the logged outcome.
    c.request(0, 1, transfer(0, 1, 100));
    assert_eq!(c.reply(1), Some(&Reply::Ok(BankOutput::Transferred)));
}

#[test]
fn the_coordinator_sends_its_decision_again_until_acknowledged() {
    let mut c = three();
    c.request(0, 1, transfer(0, 1, 10));
    let mut first = true;
    c.deliver_unless(|_, to, m| {
        let lose = first && to == NodeId(2) && matches!(m, Msg::Decision { .. });
        first &= !lose;
        lose
    });
    assert_eq!(c.node(2).in_doubt(), [req(1)]);
    c.advance(200 * MS);
    c.deliver();
    assert!(c.node(2).in_doubt().is_empty());
    assert_eq!(c.node(2).balances(), [(Account(1), 110)]);
    assert!(matches!(
        c.coordinator_log(0).last(),
        Some(Record::End { .. })
    ));
}

#[test]
fn without_a_decision_log_a_restarted_coordinator_aborts_what_a_participant_committed() {
    let mut c = Cluster::new(
        3,
        TwoPcConfig {
            decision_log: false,
            ..TwoPcConfig::default()
        },
    );
    c.request(0, 1, transfer(0, 1, 100));
    // The commit reaches N1, not N2; the coordinator crashes before any retry.
    c.deliver_unless(|_, to, m| to == NodeId(2) && matches!(m, Msg::Decision { .. }));
    c.crash(0);
    assert!(
        !c.coordinator_log(0)
            .iter()
            .any(|r| matches!(r, Record::Decision { .. })),
        "the decision was never written"
    );
    c.boot(0);
    c.deliver();
    assert_eq!(
        c.story(),
        [
            (1, prepared(req(1), 0)),
            (2, prepared(req(1), 1)),
            (0, decided(req(1), true)),
            (1, applied(req(1), 0, -100, 0)),
            (0, decided(req(1), false)),
            (2, rolled_back(req(1), 1)),
        ]
    );
    // Atomicity is broken: 100 left account 0 and never reached account 1.
    assert_eq!(c.node(1).balances(), [(Account(0), 0)]);
    assert_eq!(c.node(2).balances(), [(Account(1), 100)]);
}

#[test]
fn cooperative_termination_finishes_from_a_participant_that_knows() {
    let mut c = Cluster::new(
        3,
        TwoPcConfig {
            cooperative_termination: true,
            ..TwoPcConfig::default()
        },
    );
    c.request(0, 1, transfer(0, 1, 100));
    c.deliver_unless(|_, to, m| to == NodeId(2) && matches!(m, Msg::Decision { .. }));
    c.crash(0);
    assert_eq!(c.node(2).in_doubt(), [req(1)]);
    c.advance(450 * MS);
    c.deliver();
    assert!(
        c.told
            .contains(&"N2->N1: Inquiry(t c0#1: what was decided?)".to_string())
    );
    assert!(c.told.contains(&"N1->N2: Commit(t c0#1)".to_string()));
    assert!(c.node(2).in_doubt().is_empty());
    assert_eq!(c.node(2).balances(), [(Account(1), 200)]);
    // The one that learned from a fellow participant acknowledges no one.
    assert!(!c.told.iter().any(|t| t.starts_with("N2->N1: Ack")));
}

#[test]
fn cooperative_termination_still_blocks_when_every_participant_is_prepared() {
    let mut c = Cluster::new(
        3,
        TwoPcConfig {
            cooperative_termination: true,
            ..TwoPcConfig::default()
        },
    );
    prepared_everywhere(&mut c, 1);
    c.crash(0);
    c.advance(2_000 * MS);
    c.deliver();
    assert!(
        c.told
            .contains(&"N1->N2: Uncertain(t c0#1: in doubt too)".to_string())
    );
    assert_eq!(c.node(1).in_doubt(), [req(1)]);
    assert_eq!(c.node(2).in_doubt(), [req(1)]);
}

#[test]
fn cooperative_termination_lets_a_participant_that_never_prepared_abort_alone() {
    let mut c = Cluster::new(
        3,
        TwoPcConfig {
            cooperative_termination: true,
            ..TwoPcConfig::default()
        },
    );
    c.request(0, 1, transfer(0, 1, 100));
    // N2's prepare is late; the coordinator crashes; N1 asks N2, which gives the transfer up.
    let late = c.queue.remove(1).unwrap();
    assert_eq!(late.1, NodeId(2));
    c.deliver_unless(|_, _, m| matches!(m, Msg::Vote { .. }));
    c.crash(0);
    c.advance(450 * MS);
    c.deliver();
    assert!(c.told.contains(&"N2->N1: Abort(t c0#1)".to_string()));
    assert!(c.node(1).in_doubt().is_empty());
    assert_eq!(c.node(1).balances(), [(Account(0), 100)]);
    // The late prepare is refused: N2 is bound by what it told N1.
    c.queue.push_back(late);
    c.deliver();
    assert!(
        c.told
            .contains(&"N2->N0: Vote no (t c0#1: already given up)".to_string())
            || c.node(2).in_doubt().is_empty()
    );
    assert!(c.node(2).in_doubt().is_empty());
}

#[test]
fn a_backup_coordinator_cut_off_takes_over_and_decides_against_the_coordinator() {
    // N0 coordinates, N1 stands by, N2 and N3 hold accounts 0 and 1.
    let mut c = Cluster::new(
        4,
        TwoPcConfig {
            backup_coordinator: true,
            ..TwoPcConfig::default()
        },
    );
    assert!(c.roles.contains(&(1, Role::Standby, 1)));
    c.request(0, 1, transfer(0, 1, 100));
    assert!(
        c.told
            .contains(&"N0->N1: Sync(Begin t c0#1: account 0 -> account 1, 100)".to_string())
    );
    // A partition {N0, N2} | {N1, N3} falls once the votes are in, as the commit leaves.
    let cut = |a: NodeId, b: NodeId| a.0 % 2 != b.0 % 2;
    c.deliver_unless(|from, to, m| {
        let after_votes = matches!(
            m,
            Msg::Decision { .. }
                | Msg::Alive
                | Msg::Sync {
                    record: Record::Decision { .. } | Record::End { .. }
                }
        );
        after_votes && cut(from, to)
    });
    assert_eq!(c.node(3).in_doubt(), [req(1)]);
    // N1 hears no heartbeat for the takeover timeout: it takes over and aborts.
    c.advance(700 * MS);
    c.deliver_unless(|from, to, _| cut(from, to));
    assert!(c.roles.contains(&(1, Role::Master, 2)));
    let decisions: Vec<(u32, bool)> = c
        .story()
        .iter()
        .filter_map(|(n, f)| match f {
            BankFact::Decided { commit, .. } => Some((*n, *commit)),
            _ => None,
        })
        .collect();
    assert_eq!(decisions, [(0, true), (1, false)]);
    assert_eq!(c.node(2).balances(), [(Account(0), 0)]);
    assert_eq!(c.node(3).balances(), [(Account(1), 100)]);
    assert!(c.story().contains(&(3, rolled_back(req(1), 1))));
}

#[test]
fn without_a_decision_log_a_restart_leaves_finished_transfers_alone() {
    let mut c = Cluster::new(
        3,
        TwoPcConfig {
            decision_log: false,
            ..TwoPcConfig::default()
        },
    );
    c.request(0, 1, transfer(0, 1, 10));
    c.deliver();
    assert!(matches!(
        c.coordinator_log(0).last(),
        Some(Record::End { .. })
    ));
    c.crash(0);
    c.boot(0);
    c.deliver();
    assert_eq!(
        c.story().last(),
        Some(&(2, applied(req(1), 1, 10, 110))),
        "no abort is sent for a transfer every participant finished"
    );
    // A retry finds the transfer but not its outcome: no answer rather than a wrong one.
    let replies = c.replies.len();
    c.request(0, 1, transfer(0, 1, 10));
    assert_eq!(c.replies.len(), replies);
}

#[test]
fn a_backup_that_takes_over_finishes_what_the_coordinator_had_decided() {
    let mut c = Cluster::new(
        4,
        TwoPcConfig {
            backup_coordinator: true,
            ..TwoPcConfig::default()
        },
    );
    c.request(0, 1, transfer(0, 1, 100));
    // The commit (and its copy) reach everyone but N3; then the coordinator crashes for good.
    c.deliver_unless(|_, to, m| to == NodeId(3) && matches!(m, Msg::Decision { .. }));
    c.crash(0);
    assert_eq!(c.node(3).in_doubt(), [req(1)]);
    c.advance(700 * MS);
    c.deliver();
    // The backup's copy has the commit: it sends it, and atomicity holds.
    assert!(c.roles.contains(&(1, Role::Master, 2)));
    assert!(c.told.contains(&"N1->N3: Commit(t c0#1)".to_string()));
    assert_eq!(c.node(3).balances(), [(Account(1), 200)]);
    assert!(
        !c.story()
            .iter()
            .any(|(_, f)| matches!(f, BankFact::Decided { commit: false, .. }))
    );
}

#[test]
fn a_coordinator_answers_an_inquiry_about_a_transaction_it_never_logged_with_abort() {
    let mut c = three();
    c.request(0, 1, BankOp::Read);
    // The read's prepares arrive; the coordinator crashes: reads are never logged.
    c.deliver_unless(|_, _, m| matches!(m, Msg::Vote { .. }));
    c.crash(0);
    assert_eq!(c.node(1).in_doubt(), [req(1)]);
    c.boot(0);
    c.advance(450 * MS);
    c.deliver();
    assert!(c.told.contains(&"N0->N1: Abort(t c0#1)".to_string()));
    assert!(c.node(1).in_doubt().is_empty() && c.node(2).in_doubt().is_empty());
    // The shared locks are gone: a transfer goes through.
    c.request(0, 2, transfer(0, 1, 1));
    c.deliver();
    assert_eq!(c.reply(2), Some(&Reply::Ok(BankOutput::Transferred)));
}

// ---- decision_on = "raft" ------------------------------------------------------------------

/// Five nodes: N0, N1 and N2 replicate the coordinator; N3 holds account 0, N4 account 1.
fn on_raft() -> Cluster {
    Cluster::new(
        5,
        TwoPcConfig {
            decision_on: DecisionOn::Raft,
            ..TwoPcConfig::default()
        },
    )
}

/// Lets time pass in 10ms steps, delivering what is not dropped after each.
fn run_for(c: &mut Cluster, ms: u64, mut drop: impl FnMut(NodeId, NodeId, &Msg) -> bool) {
    for _ in 0..ms / 10 {
        c.advance(10 * MS);
        c.deliver_unless(&mut drop);
    }
}

/// The replica that coordinates in the latest term led, once it has caught up.
fn coordinating(c: &Cluster) -> u32 {
    (0..3)
        .filter_map(|i| match &c.node(i).part {
            Part::Replica(r) => r.leading().map(|term| (term, i)),
            _ => None,
        })
        .max()
        .expect("a replica coordinates")
        .1
}

#[test]
fn on_raft_only_the_leader_coordinates_and_a_decision_leaves_once_committed() {
    let mut c = on_raft();
    run_for(&mut c, 1_000, |_, _, _| false);
    let leader = coordinating(&c);
    let follower = (0..3).find(|&i| i != leader).unwrap();
    c.request(follower, 1, transfer(0, 1, 30));
    assert!(
        matches!(c.reply(1), Some(Reply::NotLeader { leader: Some(l) }) if l.0 == leader),
        "a follower replica redirects to the leader"
    );
    let before = c.told.len();
    c.request(leader, 1, transfer(0, 1, 30));
    run_for(&mut c, 500, |_, _, _| false);
    let phases: Vec<&String> = c.told[before..]
        .iter()
        .filter(|l| !l.contains("Append") && !l.contains("Heartbeat"))
        .collect();
    let names = |kind: &str| format!("N{leader}->N3: {kind}(t c0#1");
    let prepare = phases.iter().position(|l| l.starts_with(&names("Prepare")));
    let commit = phases.iter().position(|l| l.starts_with(&names("Commit")));
    assert!(prepare.is_some() && prepare < commit, "{phases:#?}");
    assert_eq!(
        c.story(),
        [
            (3, prepared(req(1), 0)),
            (4, prepared(req(1), 1)),
            (leader, decided(req(1), true)),
            (3, applied(req(1), 0, -30, 70)),
            (4, applied(req(1), 1, 30, 130)),
        ]
    );
    assert_eq!(c.reply(1), Some(&Reply::Ok(BankOutput::Transferred)));
    // Every replica's durable log is Raft's alone, the same on all three.
    let logs: Vec<Vec<Record>> = (0..3).map(|i| c.coordinator_log(i)).collect();
    assert!(logs[0].iter().all(|r| matches!(r, Record::Raft(_))));
    assert!(
        logs[0].len() >= 4,
        "no-op, begin, decision, end: {}",
        logs[0].len()
    );
    assert_eq!(logs[0], logs[1]);
    assert_eq!(logs[1], logs[2]);
}

#[test]
fn on_raft_a_leader_cut_off_with_its_votes_sends_no_decision_and_the_new_leader_aborts() {
    let mut c = on_raft();
    run_for(&mut c, 1_000, |_, _, _| false);
    let old = NodeId(coordinating(&c));
    c.request(old.0, 1, transfer(0, 1, 30));
    // Both votes reach the leader; from then on it is cut off from everyone: the commit it
    // proposes reaches no other replica.
    let mut votes = 0;
    c.deliver_unless(|from, to, msg| {
        if votes == 2 {
            return from == old || to == old;
        }
        if to == old && matches!(msg, Msg::Vote { .. }) {
            votes += 1;
        }
        false
    });
    assert_eq!(votes, 2);
    run_for(&mut c, 2_000, |from, to, _| from == old || to == old);
    let new = coordinating(&c);
    assert_ne!(new, old.0, "the majority elected another leader");
    assert!(
        !c.told
            .iter()
            .any(|l| l.starts_with(&format!("N{}->", old.0)) && l.contains("Commit(t c0#1)")),
        "the cut-off leader never sent the commit it could not get stored"
    );
    assert_eq!(
        c.story(),
        [
            (3, prepared(req(1), 0)),
            (4, prepared(req(1), 1)),
            (new, decided(req(1), false)),
            (3, rolled_back(req(1), 0)),
            (4, rolled_back(req(1), 1)),
        ]
    );
    // The client, retrying at the new leader, learns the one outcome.
    c.request(new, 1, transfer(0, 1, 30));
    assert!(
        matches!(c.reply(1), Some(Reply::Fail { reason }) if reason.contains("leader changed"))
    );
    // Healed, the old leader follows and adopts the abort: it answers an inquiry with it.
    run_for(&mut c, 1_000, |_, _, _| false);
    c.run(old.0, |n, ctx| {
        n.on_message(ctx, NodeId(3), Msg::Inquiry { txn: req(1) })
    });
    let last = c.queue.back().expect("an answer");
    assert_eq!(
        (last.0, last.2.clone()),
        (
            old,
            Msg::Decision {
                txn: req(1),
                commit: false
            }
        )
    );
}
