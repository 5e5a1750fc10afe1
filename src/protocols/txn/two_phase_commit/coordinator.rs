//! The coordinator: logs each transfer, prepares it, counts the votes, decides, and sends the
//! decision until every participant has acknowledged it. Its backup (with
//! `backup_coordinator`) is the same machine standing by: it keeps a copy of the coordinator's
//! log and, once it takes over, finishes what the copy shows.

use std::collections::{BTreeMap, BTreeSet};

use crate::node::{ClientRequest, LocalNanos, NodeId, Observation, Reply, Role};
use crate::protocols::txn::{Account, Bank, BankFact, BankOp, BankOutput, TxnId};

use super::messages::{Change, Msg, Record, Refusal, Timer, Transfer};
use super::{C, Setup};

mod describe;

/// One transaction as the coordinator follows it.
#[derive(Clone, Debug)]
struct Txn {
    /// `None`: a read of every balance (never logged).
    transfer: Option<Transfer>,
    /// Each participant and its changes.
    parts: Vec<(NodeId, Vec<Change>)>,
    /// The participants that voted yes.
    yes: BTreeSet<NodeId>,
    /// A read's balances, as the votes bring them.
    balances: BTreeMap<Account, i64>,
    decision: Option<bool>,
    /// Why it aborted, for the client.
    reason: String,
    acked: BTreeSet<NodeId>,
    /// Every participant acknowledged: nothing more to send.
    ended: bool,
    /// A client asked, and has not been answered since.
    client_waiting: bool,
}

impl Txn {
    fn new(transfer: Option<Transfer>, parts: Vec<(NodeId, Vec<Change>)>) -> Txn {
        Txn {
            transfer,
            parts,
            yes: BTreeSet::new(),
            balances: BTreeMap::new(),
            decision: None,
            reason: String::new(),
            acked: BTreeSet::new(),
            ended: false,
            client_waiting: false,
        }
    }

    fn reply(&self) -> Reply<Bank> {
        match (self.decision, self.transfer) {
            (Some(true), Some(_)) => Reply::Ok(BankOutput::Transferred),
            (Some(true), None) => Reply::Ok(BankOutput::Balances {
                balances: self.balances.values().copied().collect(),
            }),
            _ => Reply::Fail {
                reason: self.reason.clone(),
            },
        }
    }
}

/// The coordinator's state, or its backup's.
pub(super) struct Coordinator {
    txns: BTreeMap<TxnId, Txn>,
    /// A backup that has not taken over: it copies the log and watches, nothing more.
    standby: bool,
    /// The backup: when it last heard the coordinator, on its monotonic clock.
    last_heard: LocalNanos,
    /// The retry timer is pending.
    retry_armed: bool,
}

impl Coordinator {
    /// The coordinator (or backup) as its log leaves it.
    pub(super) fn from_log(log: &[Record], standby: bool) -> Coordinator {
        let mut c = Coordinator {
            txns: BTreeMap::new(),
            standby,
            last_heard: 0,
            retry_armed: false,
        };
        for record in log {
            c.apply(record);
        }
        c
    }

    /// Takes one record of the log (its own, or the coordinator's copy) into memory.
    fn apply(&mut self, record: &Record) {
        match record {
            Record::Begin {
                txn,
                transfer,
                parts,
            } => {
                // A copy sent twice (a duplicated Sync) must not forget a later decision.
                self.txns
                    .entry(*txn)
                    .or_insert_with(|| Txn::new(Some(*transfer), parts.clone()));
            }
            Record::Decision { txn, commit } => {
                if let Some(t) = self.txns.get_mut(txn) {
                    t.decision = Some(*commit);
                    if !commit {
                        t.reason = "aborted".into();
                    }
                }
            }
            Record::End { txn } => {
                if let Some(t) = self.txns.get_mut(txn) {
                    t.ended = true;
                }
            }
            Record::Prepared { .. }
            | Record::Refused { .. }
            | Record::Done { .. }
            | Record::Raft(_) => {}
        }
    }

    pub(super) fn start(&mut self, s: &Setup, ctx: &mut C<'_, '_>) {
        if self.standby {
            ctx.observe(Observation::Role {
                role: Role::Standby,
                term: 1,
            });
            self.last_heard = ctx.monotonic();
            ctx.set_timer(s.cfg.heartbeat_interval.nanos(), Timer::Heartbeat);
            return;
        }
        let backup_in_charge = Some(ctx.id()) == s.backup;
        ctx.observe(Observation::Role {
            role: Role::Master,
            term: if backup_in_charge { 2 } else { 1 },
        });
        if s.backup.is_some() && !backup_in_charge {
            ctx.send(s.backup.unwrap_or(ctx.id()), Msg::Alive);
            ctx.set_timer(s.cfg.heartbeat_interval.nanos(), Timer::Heartbeat);
        }
        self.finish_from_log(s, ctx, "the coordinator restarted before deciding");
    }

    /// After a restart or a takeover: what was decided is sent again, what was not is aborted
    /// (no participant can have committed it, since nobody decided commit — unless the decision
    /// was not logged).
    fn finish_from_log(&mut self, s: &Setup, ctx: &mut C<'_, '_>, why: &str) {
        let undecided: Vec<TxnId> = self
            .txns
            .iter()
            // Without a decision log an ended transaction has no decision on record either;
            // every participant acknowledged it, so there is nothing left to decide or send.
            .filter(|(_, t)| t.decision.is_none() && !t.ended)
            .map(|(id, _)| *id)
            .collect();
        for txn in undecided {
            self.decide(s, ctx, txn, false, why.to_string());
        }
        self.arm_retry(s, ctx);
    }

    /// The backup's silence check fired past its timeout: it takes over.
    pub(super) fn take_over(&mut self, s: &Setup, ctx: &mut C<'_, '_>) {
        self.standby = false;
        ctx.observe(Observation::Role {
            role: Role::Master,
            term: 2,
        });
        self.finish_from_log(s, ctx, "the backup took over before a decision");
    }

    pub(super) fn on_request(
        &mut self,
        s: &Setup,
        ctx: &mut C<'_, '_>,
        request: ClientRequest<Bank>,
    ) {
        let txn = request.id;
        if let Some(t) = self.txns.get_mut(&txn) {
            // A retry: the known outcome, or wait for it. Never a second transaction.
            match t.decision {
                Some(_) => ctx.reply(txn, t.reply()),
                // Finished, its outcome not on record (no decision log): better no answer than
                // a wrong one; the client records it as unknown.
                None if t.ended => {}
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
        if let Some(transfer) = transfer {
            // Logged before any prepare leaves: a restart finds it and aborts it, so no
            // participant stays prepared for a transaction its coordinator forgot.
            let record = Record::Begin {
                txn,
                transfer,
                parts: parts.clone(),
            };
            self.log(s, ctx, record);
        }
        let participants: Vec<NodeId> = parts.iter().map(|(n, _)| *n).collect();
        for (node, changes) in &parts {
            ctx.send(
                *node,
                Msg::Prepare {
                    txn,
                    changes: changes.clone(),
                    read: transfer.is_none(),
                    participants: participants.clone(),
                },
            );
        }
        let mut t = Txn::new(transfer, parts);
        t.client_waiting = true;
        self.txns.insert(txn, t);
        ctx.set_timer(s.cfg.vote_timeout.nanos(), Timer::VoteTimeout(txn));
    }

    /// Writes `record` to the log, and copies it to the backup when this is the coordinator.
    fn log(&mut self, s: &Setup, ctx: &mut C<'_, '_>, record: Record) {
        ctx.log_append(record.clone());
        if let Some(backup) = s.backup.filter(|&b| b != ctx.id()) {
            ctx.send(backup, Msg::Sync { record });
        }
    }

    fn decide(&mut self, s: &Setup, ctx: &mut C<'_, '_>, txn: TxnId, commit: bool, reason: String) {
        let Some(t) = self.txns.get_mut(&txn) else {
            return;
        };
        t.decision = Some(commit);
        t.reason = reason;
        let is_transfer = t.transfer.is_some();
        let unacked: Vec<NodeId> = t
            .parts
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !t.acked.contains(n))
            .collect();
        let answer = t.client_waiting.then(|| t.reply());
        t.client_waiting = false;
        ctx.cancel_timer(Timer::VoteTimeout(txn));
        if is_transfer {
            if s.cfg.decision_log {
                self.log(s, ctx, Record::Decision { txn, commit });
            }
            ctx.fact(BankFact::Decided { txn, commit });
        }
        for node in unacked {
            ctx.send(node, Msg::Decision { txn, commit });
        }
        if let Some(reply) = answer {
            ctx.reply(txn, reply);
        }
        self.arm_retry(s, ctx);
    }

    fn arm_retry(&mut self, s: &Setup, ctx: &mut C<'_, '_>) {
        let pending = self.txns.values().any(|t| t.decision.is_some() && !t.ended);
        if pending && !self.retry_armed {
            self.retry_armed = true;
            ctx.set_timer(s.cfg.retry_interval.nanos(), Timer::Retry);
        }
    }

    pub(super) fn on_message(&mut self, s: &Setup, ctx: &mut C<'_, '_>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Sync { record } => {
                // A backup copies the coordinator's log until it takes over; then it decides
                // alone, from what it had.
                if self.standby {
                    self.last_heard = ctx.monotonic();
                    ctx.log_append(record.clone());
                    self.apply(&record);
                }
            }
            Msg::Alive => self.last_heard = ctx.monotonic(),
            _ if self.standby => {}
            Msg::Vote {
                txn,
                refusal,
                balances,
            } => self.on_vote(s, ctx, from, txn, refusal, balances),
            Msg::Ack { txn } => self.on_ack(s, ctx, from, txn),
            Msg::Inquiry { txn } => {
                let commit = match self.txns.get(&txn) {
                    Some(t) => match t.decision {
                        Some(commit) => commit,
                        None => return, // still counting votes: the decision will come
                    },
                    // Presumed abort: a transaction this coordinator has no record of never
                    // reached a commit decision here.
                    None => false,
                };
                ctx.send(from, Msg::Decision { txn, commit });
            }
            Msg::Prepare { .. } | Msg::Decision { .. } | Msg::Uncertain { .. } | Msg::Raft(_) => {}
        }
    }

    fn on_vote(
        &mut self,
        s: &Setup,
        ctx: &mut C<'_, '_>,
        from: NodeId,
        txn: TxnId,
        refusal: Option<Refusal>,
        balances: Vec<(Account, i64)>,
    ) {
        let Some(t) = self.txns.get_mut(&txn) else {
            // A vote for a transaction forgotten in a crash (a read is never logged): it is
            // aborted, and a participant prepared for it must not stay so.
            if refusal.is_none() {
                ctx.send(from, Msg::Decision { txn, commit: false });
            }
            return;
        };
        if t.decision.is_some() {
            // Decided before this vote came: the decision went to every participant then, and
            // the retry timer sends it again until acknowledged.
            return;
        }
        match refusal {
            Some(refusal) => {
                let reason = format!("aborted: {}", refusal_words(&refusal));
                self.decide(s, ctx, txn, false, reason);
            }
            None => {
                t.yes.insert(from);
                t.balances.extend(balances);
                if t.parts.iter().all(|(n, _)| t.yes.contains(n)) {
                    self.decide(s, ctx, txn, true, String::new());
                }
            }
        }
    }

    fn on_ack(&mut self, s: &Setup, ctx: &mut C<'_, '_>, from: NodeId, txn: TxnId) {
        let Some(t) = self.txns.get_mut(&txn) else {
            return;
        };
        if t.decision.is_none() || t.ended {
            return;
        }
        t.acked.insert(from);
        if t.parts.iter().all(|(n, _)| t.acked.contains(n)) {
            t.ended = true;
            if t.transfer.is_some() {
                self.log(s, ctx, Record::End { txn });
            }
        }
    }

    /// Returns true when the backup must take over now.
    pub(super) fn on_timer(&mut self, s: &Setup, ctx: &mut C<'_, '_>, timer: Timer) -> bool {
        match timer {
            Timer::VoteTimeout(txn) => {
                let missing = match self.txns.get(&txn) {
                    Some(t) if t.decision.is_none() && !self.standby => t
                        .parts
                        .iter()
                        .map(|(n, _)| *n)
                        .filter(|n| !t.yes.contains(n))
                        .collect::<Vec<_>>(),
                    _ => return false,
                };
                let names: Vec<String> = missing.iter().map(|n| format!("node {}", n.0)).collect();
                let reason = format!(
                    "aborted: no vote from {} within {}",
                    names.join(", "),
                    s.cfg.vote_timeout
                );
                self.decide(s, ctx, txn, false, reason);
            }
            Timer::Retry => {
                self.retry_armed = false;
                if self.standby {
                    return false;
                }
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
                self.arm_retry(s, ctx);
            }
            Timer::Heartbeat => {
                if self.standby {
                    let silent = ctx.monotonic() - self.last_heard;
                    if silent >= s.cfg.takeover_timeout.as_local() {
                        return true;
                    }
                    ctx.set_timer(s.cfg.heartbeat_interval.nanos(), Timer::Heartbeat);
                } else if let Some(backup) = s.backup.filter(|&b| b != ctx.id()) {
                    ctx.send(backup, Msg::Alive);
                    ctx.set_timer(s.cfg.heartbeat_interval.nanos(), Timer::Heartbeat);
                }
            }
            Timer::Inquire | Timer::Raft(_) => {}
        }
        false
    }
}

/// Each participant of a transaction and its changes.
pub(super) type Parts = Vec<(NodeId, Vec<Change>)>;

/// What a client's operation asks of the participants: the transfer (`None` for a read of every
/// balance) and each participant's changes, in node order; or why it is refused outright.
pub(super) fn plan(s: &Setup, op: BankOp) -> Result<(Option<Transfer>, Parts), String> {
    match op {
        BankOp::Transfer { from, to, amount } => {
            let accounts = s.cfg.accounts;
            if from.0 >= accounts || to.0 >= accounts {
                return Err(format!(
                    "no such account: the bank has accounts 0 to {}",
                    accounts - 1
                ));
            } else if from == to {
                return Err(format!("a transfer from {from} to itself"));
            } else if amount == 0 || amount > i64::MAX as u64 {
                return Err(format!("an amount of {amount}"));
            }
            let transfer = Transfer { from, to, amount };
            Ok((Some(transfer), parts_of(s, &transfer)))
        }
        BankOp::Read => Ok((
            None,
            s.participants.iter().map(|&p| (p, Vec::new())).collect(),
        )),
    }
}

/// Each participant of `transfer` and its changes, in node order.
pub(super) fn parts_of(s: &Setup, transfer: &Transfer) -> Vec<(NodeId, Vec<Change>)> {
    let Transfer { from, to, amount } = *transfer;
    let mut parts: Vec<(NodeId, Vec<Change>)> = Vec::new();
    for (account, delta) in [(from, -(amount as i64)), (to, amount as i64)] {
        let change = Change { account, delta };
        let holder = s.holder(account);
        match parts.iter_mut().find(|(n, _)| *n == holder) {
            Some((_, changes)) => changes.push(change),
            None => parts.push((holder, vec![change])),
        }
    }
    parts.sort_by_key(|(n, _)| *n);
    parts
}

/// Why a participant voted no, in words (for the client's `Fail` and the story).
pub(super) fn refusal_words(refusal: &Refusal) -> String {
    match refusal {
        Refusal::InsufficientFunds {
            account,
            balance,
            amount,
        } => format!("{account} holds {balance}, less than {amount}"),
        Refusal::Locked { account, by } => {
            format!("{account} is locked by t {}#{}", by.client, by.seq)
        }
        Refusal::Aborted => "a participant had already given the transaction up".into(),
    }
}
