//! TCC, try–confirm–cancel: a bank transfer as two branches (the source account and the target
//! account, each held by a participant) that an initiator drives through a reservation and then
//! a confirmation or a compensation, settling for eventual consistency instead of 2PC's locks.
//!
//! **Try.** The initiator writes the transfer to its log, then asks both branches to set the
//! amount aside: the source's participant freezes it (the balance is lowered by it; refused
//! when the balance is short), the target's reserves it (a promise, not money yet).
//!
//! **Confirm or cancel.** Both tries done → the initiator logs the decision to confirm and
//! sends `confirm` to both: the frozen amount leaves the source, the reserved one is credited
//! to the target. A try refused, or a branch that has not answered after `try_attempts` tries
//! (the failure threshold) → it logs a cancel and sends `cancel` to both: the source gets its
//! frozen amount back, the target's reservation is dropped. A decision is final: confirms and
//! cancels are retried with backoff until every branch has answered, however long that takes.
//! The client hears the outcome once both branches have answered it.
//!
//! **The participant's three rules.** Retries and a lossy, duplicating network mean a branch
//! can see any phase more than once, and a cancel before (or without) its try. Each
//! participant keeps a durable record per branch and follows three rules (002 §TCC, 004
//! §4.2.2 for the first; the other two are the classic pitfalls of TCC beyond the texts):
//! - **idempotence** (幂等): a repeated confirm or cancel finds its branch settled and changes
//!   nothing;
//! - **empty rollback** (空回滚): a cancel for a try that never arrived succeeds and is recorded;
//! - **suspension refused** (防悬挂): a try that arrives after its branch's cancel is refused.
//!
//! Each has a switch (`idempotent`, `empty_rollback`, `refuse_suspension`) that turns it off
//! for a lesson.
//!
//! **Reads** ask every participant for its balances, with no lock: money in flight (frozen on
//! a source whose target is not yet credited) is missing from a read.
//!
//! **Crashes.** Everything a node needs is in its durable log ([`durable`]): a participant's
//! balances and branch records are replayed from it, the initiator's transfers and decisions
//! too, and a restarted initiator resumes every transfer that had not settled.
//!
//! Facts (see [`BankFact`]): a participant states `Opened` for each account it holds at its
//! first start, `Held` at a try it carries out, `Released` then `Applied` at a confirm,
//! `Released` (if a try had set something aside) then `RolledBack` at a cancel; the initiator
//! states `Decided`, and `Retried` for each message it sends again when a backoff runs out.

mod config;
mod describe;
pub mod durable;
mod initiator;
pub mod invariant;
mod messages;
mod narrate;
mod participant;
mod section;

#[cfg(test)]
mod tests;

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, Reply,
    SectionBuilder,
};
use crate::protocols::txn::invariants;
use crate::protocols::txn::{Account, Bank, BankFact, BankOp, BankOutput, TxnId};

pub use config::TccConfig;
pub use durable::{Record, Step};
pub use initiator::Phase;
pub use messages::{Branch, Msg, Refusal, Timer};

use initiator::{Initiator, PendingRead, Transfer};
use participant::{Outcome, Participant};

/// One TCC node: the initiator or a participant.
#[derive(Debug)]
pub struct Tcc {
    config: TccConfig,
    initiator: NodeId,
    /// Every node but the initiator, in cluster order; account `i` is held by
    /// `participants[i % participants.len()]`.
    participants: Vec<NodeId>,
    role: Role,
}

#[derive(Debug)]
enum Role {
    Initiator(Initiator),
    Participant(Participant),
}

impl Protocol for Tcc {
    const NAME: &'static str = "tcc";
    const SUMMARY: &'static str = "TCC (try–confirm–cancel) bank transfers: an initiator tries \
        both branches, then confirms or cancels them, retrying with backoff; participants \
        idempotent, with empty rollback and suspension refused";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &[
        "atomicity",
        "conservation",
        "no_negative_balance",
        "no_double_apply",
    ];

    type Msg = Msg;
    type Timer = Timer;
    type Config = TccConfig;
    type Durable = ();
    type Api = Bank;
    type Fact = BankFact;
    type Record = Record;

    fn situations() -> Vec<crate::node::situation::Situation> {
        super::situations::tcc()
    }

    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        self.describe()
    }

    /// The family's invariants — conservation from the facts alone, since a read takes no lock
    /// and may miss money in flight — and TCC's own `settled_within`.
    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariants::atomicity(),
            invariants::conservation(),
            invariants::no_negative_balance(),
            invariants::no_double_apply(),
            invariants::resolved_within(),
            invariant::settled_within(),
        ]
    }

    fn validate(config: &TccConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn report_sections(_nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(section::Transfers::default())]
    }

    fn new(id: NodeId, peers: &[NodeId], config: &TccConfig, disk: Option<&DiskOf<Self>>) -> Self {
        let initiator = NodeId(config.initiator);
        let mut cluster: Vec<NodeId> = peers.iter().copied().chain([id]).collect();
        cluster.sort();
        let participants: Vec<NodeId> = cluster.into_iter().filter(|&n| n != initiator).collect();
        let log = disk.map_or(&[][..], |d| &d.log[..]);
        let role = if id == initiator {
            Role::Initiator(Initiator::from_log(log))
        } else {
            let me = participants.iter().position(|&n| n == id).unwrap_or(0);
            let count = participants.len().max(1);
            let held = (0..config.accounts)
                .filter(move |a| *a as usize % count == me)
                .map(Account);
            Role::Participant(Participant::new(held, config.balance as i64, log))
        };
        Tcc {
            config: config.clone(),
            initiator,
            participants,
            role,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match &mut self.role {
            Role::Participant(p) => {
                if let Some((record, facts)) = p.open() {
                    ctx.log_append(record);
                    for fact in facts {
                        ctx.fact(fact);
                    }
                }
            }
            Role::Initiator(init) => {
                // Resume every transfer the log leaves unsettled, from its current phase.
                let unsettled: Vec<TxnId> = init
                    .transfers
                    .iter()
                    .filter(|(_, t)| t.phase != Phase::Settled)
                    .map(|(&txn, _)| txn)
                    .collect();
                for txn in unsettled {
                    self.send_unanswered(ctx, txn, false);
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        if let Role::Participant(p) = &mut self.role {
            let cfg = &self.config;
            match msg {
                Msg::Try(b) => {
                    let out = p.on_try(cfg, &b);
                    answer(
                        ctx,
                        from,
                        out,
                        |branch, refused| Msg::TryAck { branch, refused },
                        b,
                    );
                }
                Msg::Confirm(b) => {
                    let out = p.on_confirm(cfg, &b);
                    answer(
                        ctx,
                        from,
                        out,
                        |branch, refused| Msg::ConfirmAck { branch, refused },
                        b,
                    );
                }
                Msg::Cancel(b) => {
                    let out = p.on_cancel(cfg, &b);
                    answer(
                        ctx,
                        from,
                        out,
                        |branch, refused| Msg::CancelAck { branch, refused },
                        b,
                    );
                }
                Msg::Read { read } => {
                    let balances = p.balances();
                    ctx.send(from, Msg::Balances { read, balances });
                }
                // Answers go to the initiator; no node sends them to a participant.
                Msg::TryAck { .. }
                | Msg::ConfirmAck { .. }
                | Msg::CancelAck { .. }
                | Msg::Balances { .. } => {}
            }
            return;
        }
        match msg {
            Msg::TryAck { branch, refused } => {
                self.on_ack(ctx, Phase::Trying, branch, refused.map(|why| (branch, why)));
            }
            // A refused confirm cannot happen to a sound participant; it is retried.
            Msg::ConfirmAck {
                branch,
                refused: None,
            } => {
                self.on_ack(ctx, Phase::Confirming, branch, None);
            }
            // A refused cancel (no empty rollback) is retried: a decision must settle.
            Msg::CancelAck {
                branch,
                refused: None,
            } => {
                self.on_ack(ctx, Phase::Cancelling, branch, None);
            }
            Msg::Balances { read, balances } => self.on_balances(ctx, from, read, balances),
            // Refused confirms and cancels wait for the retry; phases go to participants only.
            Msg::ConfirmAck { .. }
            | Msg::CancelAck { .. }
            | Msg::Try(_)
            | Msg::Confirm(_)
            | Msg::Cancel(_)
            | Msg::Read { .. } => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Retry(txn) => self.retry(ctx, txn),
            Timer::ReadRetry(read) => self.retry_read(ctx, read),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest<Bank>) {
        if !matches!(self.role, Role::Initiator(_)) {
            ctx.reply(
                request.id,
                Reply::NotLeader {
                    leader: Some(self.initiator),
                },
            );
            return;
        }
        match request.op {
            BankOp::Transfer { from, to, amount } => {
                self.on_transfer(ctx, request.id, from, to, amount)
            }
            BankOp::Read => self.on_read(ctx, request.id),
        }
    }
}

/// A participant's answer to a phase: the record on disk first, then the facts, then the ack.
fn answer(
    ctx: &mut Ctx<'_, Tcc>,
    to: NodeId,
    out: Outcome,
    ack: impl FnOnce(Branch, Option<Refusal>) -> Msg,
    branch: Branch,
) {
    if let Some(record) = out.record {
        ctx.log_append(record);
    }
    for fact in out.facts {
        ctx.fact(fact);
    }
    ctx.send(to, ack(branch, out.refused));
}

/// The initiator's side.
impl Tcc {
    fn init(&mut self) -> &mut Initiator {
        match &mut self.role {
            Role::Initiator(init) => init,
            Role::Participant(_) => unreachable!("only the initiator drives transfers"),
        }
    }

    /// The participant that holds `account`.
    fn holder(&self, account: Account) -> NodeId {
        self.participants[account.0 as usize % self.participants.len()]
    }

    fn on_transfer(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        txn: TxnId,
        from: Account,
        to: Account,
        amount: u64,
    ) {
        if let Some(t) = self.init().transfers.get_mut(&txn) {
            // A retry of a transfer already taken on: its outcome, now or once settled.
            t.waiting = true;
            if t.phase == Phase::Settled {
                self.reply_outcome(ctx, txn);
            }
            return;
        }
        let accounts = self.config.accounts;
        let refused = if amount == 0 {
            Some("a transfer moves more than 0".to_string())
        } else if from.0 >= accounts || to.0 >= accounts {
            Some(format!("the bank has accounts 0 to {}", accounts - 1))
        } else if from == to {
            Some(format!("a transfer from {from} to itself"))
        } else {
            None
        };
        if let Some(reason) = refused {
            ctx.reply(txn, Reply::Fail { reason });
            return;
        }
        ctx.log_append(Record::Begun {
            txn,
            from,
            to,
            amount,
        });
        let mut t = Transfer::new(txn, from, to, amount);
        t.waiting = true;
        self.init().transfers.insert(txn, t);
        self.send_unanswered(ctx, txn, false);
    }

    /// Sends the transfer's current phase to each branch that has not answered it, and arms
    /// the retry for the longest backoff among them. `retry`: the backoff ran out, and each
    /// send is stated as a [`BankFact::Retried`] (not so the first send of a phase, nor the
    /// resend of a restarted initiator, which comes from its log rather than a backoff).
    fn send_unanswered(&mut self, ctx: &mut Ctx<'_, Self>, txn: TxnId, retry: bool) {
        let Some(t) = self.init().transfers.get(&txn).cloned() else {
            return;
        };
        let mut most = 0;
        for (i, b) in t.branches.iter().enumerate() {
            if t.answered[i] {
                continue;
            }
            let (msg, step) = match t.phase {
                Phase::Trying => (Msg::Try(*b), "try"),
                Phase::Confirming => (Msg::Confirm(*b), "confirm"),
                Phase::Cancelling => (Msg::Cancel(*b), "cancel"),
                Phase::Settled => return,
            };
            let sent = &mut self.init().transfers.get_mut(&txn).expect("present").sent[i];
            *sent += 1;
            let send = *sent;
            most = most.max(send);
            if retry {
                ctx.fact(BankFact::Retried {
                    txn,
                    account: b.account,
                    step,
                    send,
                });
            }
            ctx.send(self.holder(b.account), msg);
        }
        ctx.set_timer(self.config.backoff(most), Timer::Retry(txn));
    }

    fn retry(&mut self, ctx: &mut Ctx<'_, Self>, txn: TxnId) {
        let attempts = self.config.try_attempts;
        let Some(t) = self.init().transfers.get(&txn).cloned() else {
            return;
        };
        if t.phase == Phase::Settled {
            return;
        }
        if t.phase == Phase::Trying {
            // A branch that failed past the threshold cancels the whole transfer.
            let failed = (0..2).find(|&i| !t.answered[i] && t.sent[i] >= attempts);
            if let Some(i) = failed {
                let b = t.branches[i];
                let reason = format!(
                    "the try on {} got no answer from {} after {attempts} sends",
                    b.account,
                    self.holder(b.account)
                );
                self.decide(ctx, txn, false, Some(reason));
                return;
            }
        }
        self.send_unanswered(ctx, txn, true);
    }

    /// A branch answered `phase` (`refusal`: a try refused, and why).
    fn on_ack(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        phase: Phase,
        branch: Branch,
        refusal: Option<(Branch, Refusal)>,
    ) {
        let Some(t) = self.init().transfers.get_mut(&branch.txn) else {
            return;
        };
        let Some(i) = t.index_of(&branch) else {
            return;
        };
        if t.phase != phase || t.answered[i] {
            // A late or duplicated answer to a phase already passed.
            return;
        }
        if let Some((b, why)) = refusal {
            let reason = match why {
                Refusal::InsufficientFunds { balance } => format!(
                    "insufficient funds: {} holds {balance}, the transfer moves {}",
                    b.account, b.amount
                ),
                other => format!("the try on {} was refused: {other:?}", b.account),
            };
            self.decide(ctx, branch.txn, false, Some(reason));
            return;
        }
        t.answered[i] = true;
        if t.answered == [true; 2] {
            match phase {
                Phase::Trying => self.decide(ctx, branch.txn, true, None),
                Phase::Confirming | Phase::Cancelling => self.settle(ctx, branch.txn),
                Phase::Settled => {}
            }
        }
    }

    /// Decides the transfer, durably, and sends the decision to both branches.
    fn decide(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        txn: TxnId,
        commit: bool,
        reason: Option<String>,
    ) {
        ctx.log_append(Record::Decided {
            txn,
            commit,
            reason: reason.clone(),
        });
        ctx.fact(BankFact::Decided { txn, commit });
        let t = self
            .init()
            .transfers
            .get_mut(&txn)
            .expect("deciding a known transfer");
        t.enter(if commit {
            Phase::Confirming
        } else {
            Phase::Cancelling
        });
        t.reason = reason;
        self.send_unanswered(ctx, txn, false);
    }

    /// Every branch answered the decision: nothing is left to send.
    fn settle(&mut self, ctx: &mut Ctx<'_, Self>, txn: TxnId) {
        ctx.log_append(Record::Settled { txn });
        ctx.cancel_timer(Timer::Retry(txn));
        let t = self
            .init()
            .transfers
            .get_mut(&txn)
            .expect("settling a known transfer");
        t.enter(Phase::Settled);
        if t.waiting {
            self.reply_outcome(ctx, txn);
        }
    }

    fn reply_outcome(&mut self, ctx: &mut Ctx<'_, Self>, txn: TxnId) {
        let t = self
            .init()
            .transfers
            .get_mut(&txn)
            .expect("a known transfer");
        t.waiting = false;
        let reply = match &t.reason {
            None => Reply::Ok(BankOutput::Transferred),
            Some(reason) => Reply::Fail {
                reason: reason.clone(),
            },
        };
        ctx.reply(txn, reply);
    }

    fn on_read(&mut self, ctx: &mut Ctx<'_, Self>, read: TxnId) {
        if self.init().reads.contains_key(&read) {
            return;
        }
        self.init().reads.insert(read, PendingRead::default());
        self.send_read(ctx, read);
    }

    /// Asks every participant that has not answered the read, and arms its retry.
    fn send_read(&mut self, ctx: &mut Ctx<'_, Self>, read: TxnId) {
        let participants = self.participants.clone();
        let pending = self.init().reads.get_mut(&read).expect("a pending read");
        pending.sent += 1;
        let sent = pending.sent;
        let missing: Vec<NodeId> = participants
            .into_iter()
            .filter(|n| !pending.answers.contains_key(n))
            .collect();
        for n in missing {
            ctx.send(n, Msg::Read { read });
        }
        ctx.set_timer(self.config.backoff(sent), Timer::ReadRetry(read));
    }

    fn retry_read(&mut self, ctx: &mut Ctx<'_, Self>, read: TxnId) {
        let attempts = self.config.try_attempts;
        let Some(pending) = self.init().reads.get(&read) else {
            return;
        };
        if pending.sent >= attempts {
            self.init().reads.remove(&read);
            let reason = format!("not every participant answered the read after {attempts} sends");
            ctx.reply(read, Reply::Fail { reason });
            return;
        }
        self.send_read(ctx, read);
    }

    fn on_balances(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        read: TxnId,
        balances: Vec<(Account, i64)>,
    ) {
        let participants = self.participants.len();
        let accounts = self.config.accounts as usize;
        let Some(pending) = self.init().reads.get_mut(&read) else {
            return;
        };
        pending.answers.insert(from, balances);
        if pending.answers.len() < participants {
            return;
        }
        let mut all = vec![0; accounts];
        for (account, balance) in pending.answers.values().flatten() {
            if let Some(slot) = all.get_mut(account.0 as usize) {
                *slot = *balance;
            }
        }
        self.init().reads.remove(&read);
        ctx.cancel_timer(Timer::ReadRetry(read));
        ctx.reply(read, Reply::Ok(BankOutput::Balances { balances: all }));
    }
}

/// What tests and the lessons' assertions read of a node.
impl Tcc {
    /// The initiator's transfer `txn`, if this is the initiator and it knows it.
    pub fn transfer_phase(&self, txn: TxnId) -> Option<Phase> {
        match &self.role {
            Role::Initiator(init) => init.transfers.get(&txn).map(|t| t.phase),
            Role::Participant(_) => None,
        }
    }

    /// A participant's `(balance, frozen, reserved)` of `account`, if it holds it.
    pub fn holding(&self, account: Account) -> Option<(i64, i64, i64)> {
        match &self.role {
            Role::Participant(p) => p
                .accounts
                .get(&account)
                .map(|h| (h.balance, h.frozen, h.reserved)),
            Role::Initiator(_) => None,
        }
    }
}
