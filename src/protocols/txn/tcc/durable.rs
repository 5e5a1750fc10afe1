//! What a TCC node writes to its durable log, and how a restarted node rebuilds itself from it.
//!
//! The log is the node's write-ahead log: a participant appends the branch record before it
//! answers a phase, the initiator appends the transfer before its first try and the decision
//! before its first confirm or cancel. Nothing else is kept across a crash; balances, frozen
//! amounts and the initiator's progress are all replayed from the records. Every record says
//! exactly what it did, so replaying it never has to decide anything again (a broken design
//! that confirmed twice finds both confirms on disk, as a real database would).

use crate::protocols::txn::{Account, TxnId};

use super::messages::{Branch, Refusal};

/// One record of a TCC node's durable log.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::{Account, TxnId};
/// use sim::protocols::txn::tcc::Record;
/// // The initiator logs the transfer before its first try, and the decision before it acts on it.
/// let txn: TxnId = RequestId { client: ClientId(0), seq: 1 };
/// let log = vec![
///     Record::Begun { txn, from: Account(0), to: Account(1), amount: 100 },
///     Record::Decided { txn, commit: false, reason: Some("account 0 holds 40".into()) },
/// ];
/// assert!(matches!(&log[1], Record::Decided { commit: false, .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A participant opened its accounts (written at its first start, so that a restart does
    /// not open them again).
    Opened,
    /// The initiator took on transfer `txn`, before sending its first try.
    Begun {
        /// The transfer.
        txn: TxnId,
        /// The source account.
        from: Account,
        /// The target account.
        to: Account,
        /// The amount.
        amount: u64,
    },
    /// The initiator decided: confirm (`commit`) or cancel, with why it cancelled.
    Decided {
        /// The transfer.
        txn: TxnId,
        /// Confirm rather than cancel.
        commit: bool,
        /// Why it cancelled (what the client's failure says); `None` for a confirm.
        reason: Option<String>,
    },
    /// Every branch acknowledged the decision: nothing is left to send for `txn`.
    Settled {
        /// The transfer.
        txn: TxnId,
    },
    /// A participant carried out `step` on `branch`.
    Branch {
        /// The branch.
        branch: Branch,
        /// What was done.
        step: Step,
    },
}

/// What a participant did to a branch; the last step of a branch is its state.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::Account;
/// use sim::protocols::txn::tcc::{Branch, Record, Step};
/// // A participant's record that it froze the debit: replayed after a crash, it freezes it again.
/// let branch = Branch { txn: RequestId { client: ClientId(0), seq: 1 }, account: Account(0), amount: 100, debit: true };
/// let tried = Record::Branch { branch, step: Step::Tried };
/// assert!(matches!(tried, Record::Branch { step: Step::Tried, .. }));
/// assert_ne!(Step::Cancelled { released: true }, Step::Cancelled { released: false });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The try set the amount aside: frozen on the source (the balance lowered by it),
    /// reserved on the target.
    Tried,
    /// The try was refused, for this reason; nothing was set aside.
    Refused(Refusal),
    /// The confirm carried the branch out: the frozen amount left the source, or the reserved
    /// amount was credited to the target.
    Confirmed,
    /// The cancel was recorded; `released` when it gave back what a try had set aside, not when
    /// there was nothing to give back (a refused try, or an empty rollback).
    Cancelled {
        /// Whether an amount was released.
        released: bool,
    },
}
