//! The coordinator of `decision_on = "raft"`: the textbook coordinator whose log is a Raft
//! group's (Gray & Lamport, *Consensus on Transaction Commit*, 2006, make the same move with
//! Paxos; Spanner's coordinators are Paxos groups).
//!
//! Each of the `coordinators` first nodes runs one replica: a Raft server ([`RaftGroup`]) and
//! the coordinator's state, rebuilt on every replica alike by reading the group's *committed*
//! log. What the textbook coordinator writes to its own disk is here a command of that log, a
//! key-value operation on the transaction's key `txn/c0#1`:
//!
//! - `Begin`: `put txn/c0#1 = "begin 0 1 100"` (from, to, amount), committed before any prepare
//!   leaves;
//! - `Decision`: `cas txn/c0#1 "begin 0 1 100" → "commit"` (or `"abort"`): only the first decision
//!   for a transaction can swap, so a replica that proposed the other outcome adopts the
//!   committed one — the coordinator reads its decisions the same way, first one wins;
//! - `End`: `cas txn/c0#1 "commit" → "commit end"`, once every participant acknowledged.
//!
//! Only the group's leader coordinates, and only once it has committed an entry of its own term
//! (then every earlier decision is in its log): it prepares, counts votes, proposes the
//! decision, and sends it only once committed. A new leader aborts what it finds begun and
//! undecided, and sends again what is decided and not ended. Any replica answers an inquiry
//! with a committed decision; only the caught-up leader presumes abort for a transaction it has
//! no record of (a prepared transfer's begin is always committed first, so it would know it).
//! A partition can therefore never make two coordinators decide one transfer two ways: a
//! leader cut off with a minority commits nothing, and sends no decision it has not committed.
//!
//! Reads of every balance are never logged, as with one coordinator: the leader runs them
//! alone, and a new leader's presumed abort releases the locks of one its predecessor left.

use std::collections::{BTreeMap, BTreeSet};

use crate::node::{ClientId, ClientRequest, NodeId, Op, Reply, RequestId};
use crate::protocols::raft::Command;
use crate::protocols::txn::{Account, Bank, BankFact, BankOutput, TxnId};

use super::coordinator::{parts_of, plan, refusal_words};
use super::messages::{Change, Durable, Msg, Refusal, Timer, Transfer};
use super::raft_group::RaftGroup;
use super::{C, Setup};

/// What the coordinator logs, as a command of the group's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// The transfer begins.
    Begin { txn: TxnId, transfer: Transfer },
    /// The decision (the first one committed for `txn` wins).
    Decision {
        txn: TxnId,
        transfer: Transfer,
        commit: bool,
    },
    /// Every participant acknowledged the decision.
    End { txn: TxnId, commit: bool },
}

fn key(txn: TxnId) -> String {
    format!("txn/c{}#{}", txn.client.0, txn.seq)
}

fn begun(t: &Transfer) -> String {
    format!("begin {} {} {}", t.from.0, t.to.0, t.amount)
}

fn outcome(commit: bool) -> &'static str {
    if commit { "commit" } else { "abort" }
}

impl Step {
    /// The key-value operation that carries it.
    pub(super) fn to_op(self) -> Op {
        match self {
            Step::Begin { txn, transfer } => Op::Put {
                key: key(txn).into(),
                value: begun(&transfer).into(),
            },
            Step::Decision {
                txn,
                transfer,
                commit,
            } => Op::Cas {
                key: key(txn).into(),
                expect: begun(&transfer).into(),
                new: outcome(commit).into(),
            },
            Step::End { txn, commit } => Op::Cas {
                key: key(txn).into(),
                expect: outcome(commit).into(),
                new: format!("{} end", outcome(commit)).into(),
            },
        }
    }

    /// The step an operation of the group's log carries; `None` for anything else.
    pub(super) fn from_op(op: &Op) -> Option<Step> {
        let (key, value) = match op {
            Op::Put { key, value } => (key, value),
            Op::Cas { key, new, .. } => (key, new),
            Op::Get { .. } | Op::Append { .. } => return None,
        };
        let (client, seq) = key.strip_prefix("txn/c")?.split_once('#')?;
        let txn = RequestId {
            client: ClientId(client.parse().ok()?),
            seq: seq.parse().ok()?,
        };
        let transfer = |text: &str| -> Option<Transfer> {
            let mut words = text.strip_prefix("begin ")?.split(' ');
            let mut next = || words.next()?.parse::<u64>().ok();
            Some(Transfer {
                from: Account(u32::try_from(next()?).ok()?),
                to: Account(u32::try_from(next()?).ok()?),
                amount: next()?,
            })
        };
        Some(match (op, &**value) {
            (Op::Put { .. }, v) => Step::Begin {
                txn,
                transfer: transfer(v)?,
            },
            (Op::Cas { expect, .. }, "commit" | "abort") => Step::Decision {
                txn,
                transfer: transfer(expect)?,
                commit: &**value == "commit",
            },
            (_, "commit end") => Step::End { txn, commit: true },
            (_, "abort end") => Step::End { txn, commit: false },
            _ => return None,
        })
    }
}

/// One transaction as the replicas know it from the log, and as the leader follows it.
#[derive(Clone, Debug)]
struct Txn {
    /// `None`: a read of every balance (never logged; the leader's alone).
    transfer: Option<Transfer>,
    parts: Vec<(NodeId, Vec<Change>)>,
    /// The begin is committed (a read: it runs).
    begun: bool,
    /// The committed decision (a read's: the leader's own).
    decision: Option<bool>,
    /// The end is committed.
    ended: bool,
    // What only the leader keeps, for its leadership:
    yes: BTreeSet<NodeId>,
    balances: BTreeMap<Account, i64>,
    /// It proposed a decision (the committed one may still be another replica's).
    proposed: bool,
    end_proposed: bool,
    /// Why the leader proposed abort, for the client.
    reason: String,
    acked: BTreeSet<NodeId>,
    client_waiting: bool,
}

impl Txn {
    fn new(transfer: Option<Transfer>, parts: Vec<(NodeId, Vec<Change>)>) -> Txn {
        Txn {
            transfer,
            parts,
            begun: false,
            decision: None,
            ended: false,
            yes: BTreeSet::new(),
            balances: BTreeMap::new(),
            proposed: false,
            end_proposed: false,
            reason: String::new(),
            acked: BTreeSet::new(),
            client_waiting: false,
        }
    }

    /// Forgets what the leader kept for a leadership that is over.
    fn forget_leadership(&mut self) {
        self.yes.clear();
        self.balances.clear();
        self.proposed = false;
        self.end_proposed = false;
        self.acked.clear();
        self.client_waiting = false;
    }

    fn reply(&self) -> Reply<Bank> {
        match (self.decision, self.transfer) {
            (Some(true), Some(_)) => Reply::Ok(BankOutput::Transferred),
            (Some(true), None) => Reply::Ok(BankOutput::Balances {
                balances: self.balances.values().copied().collect(),
            }),
            _ if self.reason.is_empty() => Reply::Fail {
                reason: "aborted".into(),
            },
            _ => Reply::Fail {
                reason: self.reason.clone(),
            },
        }
    }
}

/// A coordinator replica.
pub(super) struct Replicated {
    group: RaftGroup,
    txns: BTreeMap<TxnId, Txn>,
    /// The term this replica coordinates in: it leads it and has caught up.
    leading: Option<u64>,
    /// Requests that reached the leader before it caught up.
    held: Vec<ClientRequest<Bank>>,
    retry_armed: bool,
}

impl Replicated {
    /// Replica `id` as its disk leaves it; its coordinator state is rebuilt as the group
    /// commits its log again.
    pub(super) fn new(
        s: &Setup,
        id: NodeId,
        durable: &Durable,
        log: &[super::Record],
    ) -> Replicated {
        Replicated {
            group: RaftGroup::new(id, &s.deciders, &s.cfg.raft, durable.raft, log),
            txns: BTreeMap::new(),
            leading: None,
            held: Vec::new(),
            retry_armed: false,
        }
    }

    pub(super) fn start(&mut self, s: &Setup, ctx: &mut C<'_, '_>, d: &mut Durable) {
        self.group.drive(ctx, d, |raft, sub| {
            crate::node::Protocol::on_start(raft, sub)
        });
        self.after_raft(s, ctx, d);
    }

    /// After Raft ran: take in what it committed, then follow a change of leadership.
    fn after_raft(&mut self, s: &Setup, ctx: &mut C<'_, '_>, d: &mut Durable) {
        self.absorb(s, ctx);
        let leads = self.group.leads_caught_up().then(|| self.group.term());
        if self.leading != leads {
            if self.leading.is_some() {
                self.step_down(ctx);
            }
            if leads.is_some() {
                self.take_over(s, ctx, d, leads);
            }
        }
        if self.leading.is_none() && self.group.leader() != Some(ctx.id()) {
            // It led without catching up, and no longer does.
            let leader = self.group.leader();
            for request in std::mem::take(&mut self.held) {
                ctx.reply(request.id, Reply::NotLeader { leader });
            }
        }
    }

    /// Applies every newly committed step.
    fn absorb(&mut self, s: &Setup, ctx: &mut C<'_, '_>) {
        for command in self.group.committed() {
            if let Command::Client { op, .. } = &*command
                && let Some(step) = Step::from_op(op)
            {
                self.apply(s, ctx, step);
            }
        }
    }

    fn apply(&mut self, s: &Setup, ctx: &mut C<'_, '_>, step: Step) {
        let leading = self.leading.is_some();
        match step {
            Step::Begin { txn, transfer } => {
                let t = self
                    .txns
                    .entry(txn)
                    .or_insert_with(|| Txn::new(Some(transfer), parts_of(s, &transfer)));
                if t.begun {
                    return; // a begin committed twice: the first counts
                }
                t.begun = true;
                if leading {
                    prepare(s, ctx, txn, t);
                }
            }
            Step::Decision { txn, commit, .. } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return; // no begin: the key-value store's cas fails too
                };
                if t.decision.is_some() {
                    return; // the first decision committed wins
                }
                t.decision = Some(commit);
                if leading {
                    ctx.fact(BankFact::Decided { txn, commit });
                    self.send_decision(s, ctx, txn);
                }
            }
            Step::End { txn, .. } => {
                if let Some(t) = self.txns.get_mut(&txn) {
                    t.ended = true;
                }
            }
        }
    }

    /// A decision is known: tell every participant that has not acknowledged it, and the
    /// waiting client.
    fn send_decision(&mut self, s: &Setup, ctx: &mut C<'_, '_>, txn: TxnId) {
        let Some(t) = self.txns.get_mut(&txn) else {
            return;
        };
        let Some(commit) = t.decision else {
            return;
        };
        ctx.cancel_timer(Timer::VoteTimeout(txn));
        for (node, _) in &t.parts {
            if !t.acked.contains(node) {
                ctx.send(*node, Msg::Decision { txn, commit });
            }
        }
        if t.client_waiting {
            t.client_waiting = false;
            ctx.reply(txn, t.reply());
        }
        self.arm_retry(s, ctx);
    }

    /// This replica leads, caught up: it finishes what the log shows unfinished, then serves
    /// the requests it held.
    fn take_over(&mut self, s: &Setup, ctx: &mut C<'_, '_>, d: &mut Durable, term: Option<u64>) {
        self.leading = term;
        let ids: Vec<TxnId> = self.txns.keys().copied().collect();
        for txn in ids {
            let t = &self.txns[&txn];
            match t.decision {
                None if t.begun => self.decide(
                    s,
                    ctx,
                    d,
                    txn,
                    false,
                    "aborted: the coordinators' leader changed before the decision".into(),
                ),
                Some(_) if !t.ended => self.send_decision(s, ctx, txn),
                _ => {}
            }
        }
        for request in std::mem::take(&mut self.held) {
            self.on_request(s, ctx, d, request);
        }
    }

    /// The leadership is over: what it had not logged is forgotten (clients retry at the next
    /// leader, which knows what was committed).
    fn step_down(&mut self, ctx: &mut C<'_, '_>) {
        self.leading = None;
        self.txns.retain(|_, t| t.transfer.is_some() && t.begun);
        for t in self.txns.values_mut() {
            t.forget_leadership();
        }
        let leader = self.group.leader();
        for request in std::mem::take(&mut self.held) {
            ctx.reply(request.id, Reply::NotLeader { leader });
        }
    }

    /// Proposes the decision (a read's is taken at once: it is never logged).
    fn decide(
        &mut self,
        s: &Setup,
        ctx: &mut C<'_, '_>,
        d: &mut Durable,
        txn: TxnId,
        commit: bool,
        reason: String,
    ) {
        let Some(t) = self.txns.get_mut(&txn) else {
            return;
        };
        if t.proposed || t.decision.is_some() {
            return;
        }
        t.proposed = true;
        t.reason = reason;
        ctx.cancel_timer(Timer::VoteTimeout(txn));
        match t.transfer {
            None => {
                t.decision = Some(commit);
                self.send_decision(s, ctx, txn);
            }
            Some(transfer) => self.propose(
                s,
                ctx,
                d,
                Step::Decision {
                    txn,
                    transfer,
                    commit,
                },
            ),
        }
    }

    fn propose(&mut self, s: &Setup, ctx: &mut C<'_, '_>, d: &mut Durable, step: Step) {
        self.group.propose(ctx, d, step.to_op());
        // A group of one commits at once.
        self.absorb(s, ctx);
    }

    fn arm_retry(&mut self, s: &Setup, ctx: &mut C<'_, '_>) {
        let pending = self.txns.values().any(|t| t.decision.is_some() && !t.ended);
        if self.leading.is_some() && pending && !self.retry_armed {
            self.retry_armed = true;
            ctx.set_timer(s.cfg.retry_interval.nanos(), Timer::Retry);
        }
    }

    pub(super) fn on_request(
        &mut self,
        s: &Setup,
        ctx: &mut C<'_, '_>,
        d: &mut Durable,
        request: ClientRequest<Bank>,
    ) {
        let txn = request.id;
        if self.leading.is_none() {
            if self.group.leader() == Some(ctx.id()) {
                self.held.push(request); // leads, not caught up yet
            } else {
                let leader = self.group.leader();
                ctx.reply(txn, Reply::NotLeader { leader });
            }
            return;
        }
        if let Some(t) = self.txns.get_mut(&txn) {
            // A retry: the known outcome, or wait for it. Never a second transaction.
            match t.decision {
                Some(_) => ctx.reply(txn, t.reply()),
                None => t.client_waiting = true,
            }
            return;
        }
        let (transfer, parts) = match plan(s, request.op) {
            Ok(plan) => plan,
            Err(reason) => {
                ctx.reply(txn, Reply::Fail { reason });
                return;
            }
        };
        let mut t = Txn::new(transfer, parts);
        t.client_waiting = true;
        match transfer {
            None => {
                t.begun = true;
                prepare(s, ctx, txn, &t);
                self.txns.insert(txn, t);
            }
            Some(transfer) => {
                // Committed before any prepare leaves (see `apply`).
                self.txns.insert(txn, t);
                self.propose(s, ctx, d, Step::Begin { txn, transfer });
            }
        }
    }

    pub(super) fn on_message(
        &mut self,
        s: &Setup,
        ctx: &mut C<'_, '_>,
        d: &mut Durable,
        from: NodeId,
        msg: Msg,
    ) {
        match msg {
            Msg::Raft(msg) => {
                self.group.drive(ctx, d, |raft, sub| {
                    crate::node::Protocol::on_message(raft, sub, from, msg)
                });
                self.after_raft(s, ctx, d);
            }
            Msg::Inquiry { txn } => {
                let commit = match self.txns.get(&txn) {
                    Some(t) => match t.decision {
                        Some(commit) => commit,
                        None => return, // the leader decides it
                    },
                    // Presumed abort, by the caught-up leader only: a follower may not have
                    // the begin yet.
                    None if self.leading.is_some() => false,
                    None => return,
                };
                ctx.send(from, Msg::Decision { txn, commit });
            }
            _ if self.leading.is_none() => {}
            Msg::Vote {
                txn,
                refusal,
                balances,
            } => self.on_vote(s, ctx, d, from, txn, refusal, balances),
            Msg::Ack { txn } => {
                let Some(t) = self.txns.get_mut(&txn) else {
                    return;
                };
                if t.decision.is_none() || t.ended {
                    return;
                }
                t.acked.insert(from);
                if !t.parts.iter().all(|(n, _)| t.acked.contains(n)) {
                    return;
                }
                match (t.transfer, t.decision) {
                    (None, _) => t.ended = true,
                    (Some(_), Some(commit)) if !t.end_proposed => {
                        t.end_proposed = true;
                        self.propose(s, ctx, d, Step::End { txn, commit });
                    }
                    _ => {}
                }
            }
            Msg::Prepare { .. }
            | Msg::Decision { .. }
            | Msg::Uncertain { .. }
            | Msg::Sync { .. }
            | Msg::Alive => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_vote(
        &mut self,
        s: &Setup,
        ctx: &mut C<'_, '_>,
        d: &mut Durable,
        from: NodeId,
        txn: TxnId,
        refusal: Option<Refusal>,
        balances: Vec<(Account, i64)>,
    ) {
        let Some(t) = self.txns.get_mut(&txn) else {
            // A vote from an earlier leadership's read, or for a transaction never begun here:
            // aborted, and a participant prepared for it must not stay so.
            if refusal.is_none() {
                ctx.send(from, Msg::Decision { txn, commit: false });
            }
            return;
        };
        if !t.begun || t.proposed || t.decision.is_some() {
            return;
        }
        match refusal {
            Some(refusal) => {
                let reason = format!("aborted: {}", refusal_words(&refusal));
                self.decide(s, ctx, d, txn, false, reason);
            }
            None => {
                t.yes.insert(from);
                t.balances.extend(balances);
                if t.parts.iter().all(|(n, _)| t.yes.contains(n)) {
                    self.decide(s, ctx, d, txn, true, String::new());
                }
            }
        }
    }

    pub(super) fn on_timer(
        &mut self,
        s: &Setup,
        ctx: &mut C<'_, '_>,
        d: &mut Durable,
        timer: Timer,
    ) {
        match timer {
            Timer::Raft(timer) => {
                self.group.drive(ctx, d, |raft, sub| {
                    crate::node::Protocol::on_timer(raft, sub, timer)
                });
                self.after_raft(s, ctx, d);
            }
            Timer::VoteTimeout(txn) if self.leading.is_some() => {
                let missing: Vec<String> = match self.txns.get(&txn) {
                    Some(t) if t.decision.is_none() && !t.proposed => t
                        .parts
                        .iter()
                        .filter(|(n, _)| !t.yes.contains(n))
                        .map(|(n, _)| format!("node {}", n.0))
                        .collect(),
                    _ => return,
                };
                let reason = format!(
                    "aborted: no vote from {} within {}",
                    missing.join(", "),
                    s.cfg.vote_timeout
                );
                self.decide(s, ctx, d, txn, false, reason);
            }
            Timer::Retry => {
                self.retry_armed = false;
                if self.leading.is_some() {
                    for (txn, t) in &self.txns {
                        let Some(commit) = t.decision.filter(|_| !t.ended) else {
                            continue;
                        };
                        for (node, _) in &t.parts {
                            if !t.acked.contains(node) {
                                ctx.send(*node, Msg::Decision { txn: *txn, commit });
                            }
                        }
                    }
                }
                self.arm_retry(s, ctx);
            }
            Timer::VoteTimeout(_) | Timer::Inquire | Timer::Heartbeat => {}
        }
    }

    /// The term this replica coordinates in, if it does.
    #[cfg(test)]
    pub(super) fn leading(&self) -> Option<u64> {
        self.leading
    }
}

/// Phase one for `txn`: a prepare to each participant, and the wait for the votes.
fn prepare(s: &Setup, ctx: &mut C<'_, '_>, txn: TxnId, t: &Txn) {
    let participants: Vec<NodeId> = t.parts.iter().map(|(n, _)| *n).collect();
    for (node, changes) in &t.parts {
        ctx.send(
            *node,
            Msg::Prepare {
                txn,
                changes: changes.clone(),
                read: t.transfer.is_none(),
                participants: participants.clone(),
            },
        );
    }
    ctx.set_timer(s.cfg.vote_timeout.nanos(), Timer::VoteTimeout(txn));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_is_a_key_value_operation_and_reads_back() {
        let txn = RequestId {
            client: ClientId(2),
            seq: 53,
        };
        let transfer = Transfer {
            from: Account(1),
            to: Account(0),
            amount: 10,
        };
        let steps = [
            Step::Begin { txn, transfer },
            Step::Decision {
                txn,
                transfer,
                commit: true,
            },
            Step::End { txn, commit: false },
        ];
        for step in steps {
            assert_eq!(Step::from_op(&step.to_op()), Some(step));
        }
        assert_eq!(
            steps[1].to_op(),
            Op::Cas {
                key: "txn/c2#53".into(),
                expect: "begin 1 0 10".into(),
                new: "commit".into()
            },
            "a decision swaps the begin for its outcome: only the first can"
        );
        let other = Op::Put {
            key: "x".into(),
            value: "begin 1 0 10".into(),
        };
        assert_eq!(Step::from_op(&other), None);
    }
}
