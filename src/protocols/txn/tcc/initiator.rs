//! The initiator: it takes each transfer from a client, runs `try` on both branches, decides,
//! and runs `confirm` or `cancel` on both until each has answered; and it serves reads by
//! asking every participant.
//!
//! Every transfer is on disk before its first try ([`Record::Begun`]) and its decision before
//! its first confirm or cancel ([`Record::Decided`]), so a restarted initiator resumes each
//! transfer where its log leaves it: tries again if undecided (a try is idempotent), the
//! decision again if decided. A client's retry of a transfer (the same request id) is answered
//! with the transfer's outcome once it has one; it never starts a second transfer.

use std::collections::BTreeMap;

use crate::node::NodeId;
use crate::protocols::txn::{Account, TxnId};

use super::durable::Record;
use super::messages::Branch;

/// Where a transfer stands at the initiator.
///
/// ```
/// use sim::protocols::txn::tcc::Phase;
/// // A transfer moves forward through these, never back: tried, then confirmed or cancelled.
/// let path = [Phase::Trying, Phase::Cancelling, Phase::Settled];
/// assert_ne!(path[1], Phase::Confirming);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Trying both branches.
    Trying,
    /// Decided to confirm; confirming both branches.
    Confirming,
    /// Decided to cancel; cancelling both branches.
    Cancelling,
    /// Every branch acknowledged the decision.
    Settled,
}

/// One transfer, as the initiator follows it.
#[derive(Clone, Debug)]
pub(crate) struct Transfer {
    /// The source branch (index 0) and the target branch (index 1).
    pub branches: [Branch; 2],
    /// Where it stands.
    pub phase: Phase,
    /// Which branch answered the current phase.
    pub answered: [bool; 2],
    /// How many times the current phase was sent to each branch.
    pub sent: [u32; 2],
    /// Why it was cancelled, once it was.
    pub reason: Option<String>,
    /// A client waits for its outcome (volatile: after a restart, its retry asks again).
    pub waiting: bool,
}

impl Transfer {
    /// A new transfer, before its first try.
    pub(crate) fn new(txn: TxnId, from: Account, to: Account, amount: u64) -> Self {
        let branch = |account, debit| Branch {
            txn,
            account,
            amount,
            debit,
        };
        Transfer {
            branches: [branch(from, true), branch(to, false)],
            phase: Phase::Trying,
            answered: [false; 2],
            sent: [0; 2],
            reason: None,
            waiting: false,
        }
    }

    /// Enters `phase`, with no branch having answered it yet.
    pub(crate) fn enter(&mut self, phase: Phase) {
        self.phase = phase;
        self.answered = [false; 2];
        self.sent = [0; 2];
    }

    /// Which of the two branches `branch` is, if it is one of this transfer's.
    pub(crate) fn index_of(&self, branch: &Branch) -> Option<usize> {
        self.branches.iter().position(|b| b == branch)
    }
}

/// A client's read, waiting for every participant's balances.
#[derive(Clone, Debug, Default)]
pub(crate) struct PendingRead {
    /// What each participant answered.
    pub answers: BTreeMap<NodeId, Vec<(Account, i64)>>,
    /// How many times the read was sent.
    pub sent: u32,
}

/// The initiator's state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Initiator {
    /// Every transfer it took on, settled ones included (to answer retries).
    pub transfers: BTreeMap<TxnId, Transfer>,
    /// Reads waiting for balances (volatile).
    pub reads: BTreeMap<TxnId, PendingRead>,
}

impl Initiator {
    /// The initiator as its log leaves it.
    pub(crate) fn from_log(log: &[Record]) -> Self {
        let mut init = Initiator::default();
        for record in log {
            match record {
                Record::Begun {
                    txn,
                    from,
                    to,
                    amount,
                } => {
                    init.transfers
                        .insert(*txn, Transfer::new(*txn, *from, *to, *amount));
                }
                Record::Decided {
                    txn,
                    commit,
                    reason,
                } => {
                    if let Some(t) = init.transfers.get_mut(txn) {
                        t.enter(if *commit {
                            Phase::Confirming
                        } else {
                            Phase::Cancelling
                        });
                        t.reason.clone_from(reason);
                    }
                }
                Record::Settled { txn } => {
                    if let Some(t) = init.transfers.get_mut(txn) {
                        t.enter(Phase::Settled);
                    }
                }
                Record::Opened | Record::Branch { .. } => {}
            }
        }
        init
    }
}
