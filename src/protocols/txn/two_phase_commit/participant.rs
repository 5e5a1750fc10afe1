//! A participant: a database node holding some accounts. It votes on each transaction's part,
//! holding the accounts' locks from its yes until the decision, and asks for the decision while
//! it is in doubt.

use std::collections::{BTreeMap, BTreeSet};

use crate::node::{LocalNanos, NodeId};
use crate::protocols::txn::{Account, BankFact, TxnId};

use super::messages::{Change, Msg, Record, Refusal, Timer};
use super::{C, Setup};

mod describe;

/// Where a participant is with one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Voted yes, holding the locks: in doubt until the decision arrives.
    Prepared,
    /// Voted no, or gave the transaction up before any prepare: a later prepare is refused.
    Refused,
    /// The decision is carried out: committed (`true`) or rolled back.
    Done(bool),
}

#[derive(Clone, Debug)]
struct Part {
    changes: Vec<Change>,
    read: bool,
    participants: Vec<NodeId>,
    state: State,
    /// When it prepared (or restarted prepared), on the monotonic clock: inquiries start one
    /// `inquiry_interval` later.
    since: LocalNanos,
}

/// A participant's state: balances, locks, and each transaction it has heard of.
pub(super) struct Participant {
    balances: BTreeMap<Account, i64>,
    /// Write locks, taken by a yes vote on a transfer.
    exclusive: BTreeMap<Account, TxnId>,
    /// Read locks, taken by a yes vote on a read.
    shared: BTreeMap<Account, BTreeSet<TxnId>>,
    parts: BTreeMap<TxnId, Part>,
    /// The inquiry timer is pending.
    inquire_armed: bool,
}

impl Participant {
    /// The participant as its log leaves it: balances moved by what it committed, and the
    /// locks of what it is still prepared for.
    pub(super) fn from_log(s: &Setup, id: NodeId, log: &[Record]) -> Participant {
        let mut p = Participant {
            balances: s
                .accounts_of(id)
                .into_iter()
                .map(|a| (a, s.cfg.balance as i64))
                .collect(),
            exclusive: BTreeMap::new(),
            shared: BTreeMap::new(),
            parts: BTreeMap::new(),
            inquire_armed: false,
        };
        for record in log {
            match record {
                Record::Prepared {
                    txn,
                    changes,
                    read,
                    participants,
                } => {
                    p.parts.insert(
                        *txn,
                        Part {
                            changes: changes.clone(),
                            read: *read,
                            participants: participants.clone(),
                            state: State::Prepared,
                            since: 0,
                        },
                    );
                }
                Record::Refused { txn } => {
                    p.parts.entry(*txn).or_insert_with(Part::unknown).state = State::Refused;
                }
                Record::Done { txn, commit } => {
                    let part = p.parts.entry(*txn).or_insert_with(Part::unknown);
                    part.state = State::Done(*commit);
                    if *commit && !part.read {
                        for c in &part.changes {
                            *p.balances.entry(c.account).or_default() += c.delta;
                        }
                    }
                }
                Record::Begin { .. }
                | Record::Decision { .. }
                | Record::End { .. }
                | Record::Raft(_) => {}
            }
        }
        let prepared: Vec<(TxnId, Part)> = p
            .parts
            .iter()
            .filter(|(_, part)| part.state == State::Prepared)
            .map(|(t, part)| (*t, part.clone()))
            .collect();
        for (txn, part) in prepared {
            p.lock(txn, &part);
        }
        p
    }

    pub(super) fn balances(&self) -> Vec<(Account, i64)> {
        self.balances.iter().map(|(a, b)| (*a, *b)).collect()
    }

    pub(super) fn in_doubt(&self) -> Vec<TxnId> {
        self.parts
            .iter()
            .filter(|(_, p)| p.state == State::Prepared)
            .map(|(t, _)| *t)
            .collect()
    }

    pub(super) fn start(&mut self, s: &Setup, ctx: &mut C<'_, '_>, first: bool) {
        if first {
            for (&account, &balance) in &self.balances {
                ctx.fact(BankFact::Opened { account, balance });
            }
        }
        let now = ctx.monotonic();
        for part in self.parts.values_mut() {
            part.since = now;
        }
        self.arm_inquiry(s, ctx);
    }

    fn lock(&mut self, txn: TxnId, part: &Part) {
        if part.read {
            for &account in self.balances.keys() {
                self.shared.entry(account).or_default().insert(txn);
            }
        } else {
            for c in &part.changes {
                self.exclusive.insert(c.account, txn);
            }
        }
    }

    fn unlock(&mut self, txn: TxnId) {
        self.exclusive.retain(|_, holder| *holder != txn);
        for holders in self.shared.values_mut() {
            holders.remove(&txn);
        }
        self.shared.retain(|_, holders| !holders.is_empty());
    }

    /// Why this participant cannot vote yes on `changes` (or a read) now, if it cannot.
    fn refusal(&self, txn: TxnId, changes: &[Change], read: bool) -> Option<Refusal> {
        if read {
            return self
                .exclusive
                .iter()
                .find(|(_, by)| **by != txn)
                .map(|(&account, &by)| Refusal::Locked { account, by });
        }
        for c in changes {
            if let Some(&by) = self.exclusive.get(&c.account).filter(|by| **by != txn) {
                return Some(Refusal::Locked {
                    account: c.account,
                    by,
                });
            }
            if let Some(&by) = self
                .shared
                .get(&c.account)
                .and_then(|h| h.iter().find(|by| **by != txn))
            {
                return Some(Refusal::Locked {
                    account: c.account,
                    by,
                });
            }
        }
        for c in changes {
            let balance = self.balances.get(&c.account).copied().unwrap_or(0);
            if balance + c.delta < 0 {
                return Some(Refusal::InsufficientFunds {
                    account: c.account,
                    balance,
                    amount: c.delta.unsigned_abs(),
                });
            }
        }
        None
    }

    fn vote_yes(&self, txn: TxnId, read: bool) -> Msg {
        Msg::Vote {
            txn,
            refusal: None,
            balances: if read { self.balances() } else { Vec::new() },
        }
    }

    pub(super) fn on_message(&mut self, s: &Setup, ctx: &mut C<'_, '_>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare {
                txn,
                changes,
                read,
                participants,
            } => self.on_prepare(s, ctx, from, txn, changes, read, participants),
            Msg::Decision { txn, commit } => {
                self.finish(ctx, txn, commit);
                // The coordinator (or its backup) waits for this; a fellow participant
                // answering an inquiry does not.
                if !s.is_participant(from) {
                    ctx.send(from, Msg::Ack { txn });
                }
            }
            Msg::Inquiry { txn } => {
                // Cooperative termination: a fellow participant in doubt asks what we know.
                let answer = match self.parts.get(&txn).map(|p| p.state) {
                    Some(State::Done(commit)) => Msg::Decision { txn, commit },
                    Some(State::Refused) => Msg::Decision { txn, commit: false },
                    Some(State::Prepared) => Msg::Uncertain { txn },
                    None => {
                        // Never prepared: free to abort alone, and from now on bound by it.
                        self.parts.insert(txn, Part::unknown());
                        ctx.log_append(Record::Refused { txn });
                        Msg::Decision { txn, commit: false }
                    }
                };
                ctx.send(from, answer);
            }
            Msg::Vote { .. }
            | Msg::Ack { .. }
            | Msg::Uncertain { .. }
            | Msg::Sync { .. }
            | Msg::Alive
            | Msg::Raft(_) => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_prepare(
        &mut self,
        s: &Setup,
        ctx: &mut C<'_, '_>,
        from: NodeId,
        txn: TxnId,
        changes: Vec<Change>,
        read: bool,
        participants: Vec<NodeId>,
    ) {
        if let Some(part) = self.parts.get(&txn) {
            // A repeated prepare: the same vote again.
            let vote = match part.state {
                State::Prepared | State::Done(true) => self.vote_yes(txn, part.read),
                State::Refused | State::Done(false) => Msg::Vote {
                    txn,
                    refusal: Some(Refusal::Aborted),
                    balances: Vec::new(),
                },
            };
            ctx.send(from, vote);
            return;
        }
        let part = Part {
            changes,
            read,
            participants,
            state: State::Prepared,
            since: ctx.monotonic(),
        };
        if let Some(refusal) = self.refusal(txn, &part.changes, read) {
            ctx.log_append(Record::Refused { txn });
            for c in &part.changes {
                ctx.fact(BankFact::RolledBack {
                    txn,
                    account: c.account,
                });
            }
            self.parts.insert(
                txn,
                Part {
                    state: State::Refused,
                    ..part
                },
            );
            ctx.send(
                from,
                Msg::Vote {
                    txn,
                    refusal: Some(refusal),
                    balances: Vec::new(),
                },
            );
            return;
        }
        // The vote is on disk before it leaves: a restart finds it prepared, locks held.
        self.lock(txn, &part);
        ctx.log_append(Record::Prepared {
            txn,
            changes: part.changes.clone(),
            read,
            participants: part.participants.clone(),
        });
        for c in &part.changes {
            ctx.fact(BankFact::Prepared {
                txn,
                account: c.account,
            });
        }
        self.parts.insert(txn, part);
        ctx.send(from, self.vote_yes(txn, read));
        self.arm_inquiry(s, ctx);
    }

    /// Carries out the decision on `txn`, once.
    fn finish(&mut self, ctx: &mut C<'_, '_>, txn: TxnId, commit: bool) {
        let Some(part) = self.parts.get_mut(&txn) else {
            if !commit {
                // An abort for a transaction never prepared here: remember it, so that a
                // late prepare is refused.
                self.parts.insert(txn, Part::unknown());
                ctx.log_append(Record::Refused { txn });
            }
            return;
        };
        if part.state != State::Prepared {
            return;
        }
        part.state = State::Done(commit);
        let (changes, read) = (part.changes.clone(), part.read);
        ctx.log_append(Record::Done { txn, commit });
        if !read {
            for c in changes {
                if commit {
                    let balance = self.balances.entry(c.account).or_default();
                    *balance += c.delta;
                    ctx.fact(BankFact::Applied {
                        txn,
                        account: c.account,
                        delta: c.delta,
                        balance: *balance,
                    });
                } else {
                    ctx.fact(BankFact::RolledBack {
                        txn,
                        account: c.account,
                    });
                }
            }
        }
        self.unlock(txn);
    }

    fn arm_inquiry(&mut self, s: &Setup, ctx: &mut C<'_, '_>) {
        if !self.inquire_armed && self.parts.values().any(|p| p.state == State::Prepared) {
            self.inquire_armed = true;
            ctx.set_timer(s.cfg.inquiry_interval.nanos(), Timer::Inquire);
        }
    }

    pub(super) fn on_timer(&mut self, s: &Setup, ctx: &mut C<'_, '_>, timer: Timer) {
        if timer != Timer::Inquire {
            return;
        }
        self.inquire_armed = false;
        let now = ctx.monotonic();
        let interval = s.cfg.inquiry_interval.as_local();
        for (&txn, part) in &self.parts {
            if part.state != State::Prepared || now - part.since < interval {
                continue;
            }
            for &decider in &s.deciders {
                ctx.send(decider, Msg::Inquiry { txn });
            }
            if s.cfg.cooperative_termination {
                for &peer in &part.participants {
                    if peer != ctx.id() {
                        ctx.send(peer, Msg::Inquiry { txn });
                    }
                }
            }
        }
        self.arm_inquiry(s, ctx);
    }
}

impl Part {
    /// A transaction known only by its id: given up before any prepare arrived.
    fn unknown() -> Part {
        Part {
            changes: Vec::new(),
            read: false,
            participants: Vec::new(),
            state: State::Refused,
            since: 0,
        }
    }
}
