//! A participant: the accounts it holds and the record of every branch it has seen.
//!
//! The branch record is what makes a participant safe under retries (TCC's three rules): a
//! repeated confirm or cancel finds its branch already settled and changes nothing
//! (idempotence); a cancel whose try never arrived is recorded as cancelled (empty rollback);
//! and a try that arrives after that finds the cancel and is refused (suspension refused). Each
//! rule has a switch in the config that turns it off, for the lessons.

use std::collections::BTreeMap;

use crate::protocols::txn::{Account, BankFact, TxnId};

use super::config::TccConfig;
use super::durable::{Record, Step};
use super::messages::{Branch, Refusal};

/// One account's money as its participant holds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Holding {
    /// What the account can spend: frozen amounts are already taken out of it.
    pub balance: i64,
    /// Set aside on this account as a source, waiting for confirm or cancel.
    pub frozen: i64,
    /// Promised to this account as a target, waiting for confirm or cancel (not money yet).
    pub reserved: i64,
}

/// A participant's state: its accounts and its branch records, all rebuilt from its log.
#[derive(Clone, Debug, Default)]
pub(crate) struct Participant {
    /// The accounts it holds.
    pub accounts: BTreeMap<Account, Holding>,
    /// Each branch's last step.
    pub branches: BTreeMap<(TxnId, Account), Step>,
    /// The accounts were opened (and the `Opened` facts stated) in an earlier life.
    pub opened: bool,
}

/// What a participant answers a phase with, and what it must write and state first.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Why the phase was refused; `None`: done.
    pub refused: Option<Refusal>,
    /// The record to append before answering, if the phase changed anything.
    pub record: Option<Record>,
    /// The facts the phase made true, in order.
    pub facts: Vec<BankFact>,
}

impl Participant {
    /// A participant holding `accounts`, each opened with `balance`, rebuilt from `log`.
    pub(crate) fn new(
        accounts: impl Iterator<Item = Account>,
        balance: i64,
        log: &[Record],
    ) -> Self {
        let mut p = Participant {
            accounts: accounts
                .map(|a| {
                    (
                        a,
                        Holding {
                            balance,
                            ..Holding::default()
                        },
                    )
                })
                .collect(),
            ..Participant::default()
        };
        for record in log {
            match record {
                Record::Opened => p.opened = true,
                Record::Branch { branch, step } => p.apply(branch, *step),
                _ => {}
            }
        }
        p
    }

    /// The `Opened` facts and record of a participant's first start; nothing on a restart.
    pub(crate) fn open(&mut self) -> Option<(Record, Vec<BankFact>)> {
        if self.opened {
            return None;
        }
        self.opened = true;
        let facts = self
            .accounts
            .iter()
            .map(|(&account, h)| BankFact::Opened {
                account,
                balance: h.balance,
            })
            .collect();
        Some((Record::Opened, facts))
    }

    /// The balance of each account, for a read.
    pub(crate) fn balances(&self) -> Vec<(Account, i64)> {
        self.accounts.iter().map(|(&a, h)| (a, h.balance)).collect()
    }

    fn status(&self, b: &Branch) -> Option<Step> {
        self.branches.get(&(b.txn, b.account)).copied()
    }

    /// Carries out `step`'s effect on the branch's account and makes it the branch's state:
    /// the one place balances change, live and on replay alike.
    fn apply(&mut self, b: &Branch, step: Step) {
        let amount = b.amount as i64;
        let h = self.accounts.entry(b.account).or_default();
        match (step, b.debit) {
            (Step::Tried, true) => {
                h.balance -= amount;
                h.frozen += amount;
            }
            (Step::Tried, false) => h.reserved += amount,
            (Step::Confirmed, true) => h.frozen -= amount,
            (Step::Confirmed, false) => {
                h.reserved -= amount;
                h.balance += amount;
            }
            (Step::Cancelled { released: true }, true) => {
                h.frozen -= amount;
                h.balance += amount;
            }
            (Step::Cancelled { released: true }, false) => h.reserved -= amount,
            (Step::Refused(_) | Step::Cancelled { released: false }, _) => {}
        }
        self.branches.insert((b.txn, b.account), step);
    }

    /// Does `step`, returning the record and the facts that say so.
    fn carry_out(&mut self, b: &Branch, step: Step, facts: Vec<BankFact>) -> Outcome {
        self.apply(b, step);
        Outcome {
            refused: None,
            record: Some(Record::Branch { branch: *b, step }),
            facts,
        }
    }

    fn refuse(why: Refusal) -> Outcome {
        Outcome {
            refused: Some(why),
            ..Outcome::default()
        }
    }

    /// A try arrived.
    pub(crate) fn on_try(&mut self, cfg: &TccConfig, b: &Branch) -> Outcome {
        match self.status(b) {
            // A copy of a try already carried out, or refused: the same answer again.
            Some(Step::Tried | Step::Confirmed) => return Outcome::default(),
            Some(Step::Refused(why)) => return Self::refuse(why),
            Some(Step::Cancelled { .. }) if cfg.refuse_suspension => {
                return Self::refuse(Refusal::AlreadyCancelled);
            }
            // Without the rule, a late try after its cancel is taken as new: it freezes money
            // that no cancel is coming to release.
            Some(Step::Cancelled { .. }) | None => {}
        }
        let balance = self.accounts.get(&b.account).map_or(0, |h| h.balance);
        if b.debit && balance < b.amount as i64 {
            // Recorded, so that a copy of this try gets the same answer whatever the balance
            // is by then, and so that its cancel is not an empty rollback.
            let why = Refusal::InsufficientFunds { balance };
            let mut out = self.carry_out(b, Step::Refused(why), Vec::new());
            out.refused = Some(why);
            return out;
        }
        let held = BankFact::Held {
            txn: b.txn,
            account: b.account,
            amount: b.amount,
            debit: b.debit,
        };
        self.carry_out(b, Step::Tried, vec![held])
    }

    /// A confirm arrived.
    pub(crate) fn on_confirm(&mut self, cfg: &TccConfig, b: &Branch) -> Outcome {
        match self.status(b) {
            Some(Step::Tried) => {}
            Some(Step::Confirmed) if cfg.idempotent => return Outcome::default(),
            // Without idempotence, the confirm is carried out again: the money moves twice.
            Some(Step::Confirmed) => {}
            Some(Step::Cancelled { .. }) => return Self::refuse(Refusal::AlreadySettled),
            Some(Step::Refused(_)) | None => return Self::refuse(Refusal::NotTried),
        }
        let delta = if b.debit {
            -(b.amount as i64)
        } else {
            b.amount as i64
        };
        let released = BankFact::Released {
            txn: b.txn,
            account: b.account,
            amount: b.amount,
            debit: b.debit,
            applied: true,
        };
        let mut out = self.carry_out(b, Step::Confirmed, vec![released]);
        out.facts.push(BankFact::Applied {
            txn: b.txn,
            account: b.account,
            delta,
            balance: self.accounts[&b.account].balance,
        });
        out
    }

    /// A cancel arrived.
    pub(crate) fn on_cancel(&mut self, cfg: &TccConfig, b: &Branch) -> Outcome {
        let rolled_back = BankFact::RolledBack {
            txn: b.txn,
            account: b.account,
        };
        let released = BankFact::Released {
            txn: b.txn,
            account: b.account,
            amount: b.amount,
            debit: b.debit,
            applied: false,
        };
        match self.status(b) {
            Some(Step::Tried) => self.carry_out(
                b,
                Step::Cancelled { released: true },
                vec![released, rolled_back],
            ),
            Some(Step::Refused(_)) => {
                self.carry_out(b, Step::Cancelled { released: false }, vec![rolled_back])
            }
            Some(Step::Cancelled { .. }) if cfg.idempotent => Outcome::default(),
            // Without idempotence, the cancel is carried out again: a release gives the
            // money back a second time.
            Some(Step::Cancelled { released: true }) => self.carry_out(
                b,
                Step::Cancelled { released: true },
                vec![released, rolled_back],
            ),
            Some(Step::Cancelled { released: false }) => {
                self.carry_out(b, Step::Cancelled { released: false }, vec![rolled_back])
            }
            Some(Step::Confirmed) => Self::refuse(Refusal::AlreadySettled),
            // The empty rollback: nothing was set aside, and the cancel is recorded so that a
            // late try is refused.
            None if cfg.empty_rollback => {
                self.carry_out(b, Step::Cancelled { released: false }, vec![rolled_back])
            }
            None => Self::refuse(Refusal::NothingToCancel),
        }
    }
}
