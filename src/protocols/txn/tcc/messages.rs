//! What the initiator and the participants say to each other, and the initiator's timers.
//!
//! Every phase message carries the whole branch (transfer, account, amount, side), so a
//! participant can act on a cancel whose try it never saw — an empty rollback — and every
//! answer names the branch it answers, so the initiator can tell which one it still waits for.

use serde::Serialize;

use crate::protocols::txn::{Account, TxnId};

/// One branch of a transfer: its part on one account. A transfer has two, the source (`debit`)
/// and the target.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::Account;
/// use sim::protocols::txn::tcc::Branch;
/// // The debit half of moving 100 out of account 0.
/// let branch = Branch { txn: RequestId { client: ClientId(0), seq: 1 }, account: Account(0), amount: 100, debit: true };
/// assert_eq!(
///     serde_json::to_string(&branch).unwrap(),
///     r#"{"txn":{"client":0,"seq":1},"account":0,"amount":100,"debit":true}"#
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Branch {
    /// The transfer.
    pub txn: TxnId,
    /// The account this branch changes.
    pub account: Account,
    /// The transfer's amount.
    pub amount: u64,
    /// The source (money leaves it) rather than the target.
    pub debit: bool,
}

/// TCC's messages.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::Account;
/// use sim::protocols::txn::tcc::{Branch, Msg, Refusal};
/// let branch = Branch { txn: RequestId { client: ClientId(0), seq: 1 }, account: Account(0), amount: 100, debit: true };
/// // A try refused for lack of funds; the refusal is left out of an acceptance.
/// let refused = Msg::TryAck { branch, refused: Some(Refusal::InsufficientFunds { balance: 40 }) };
/// assert_eq!(serde_json::to_value(&refused).unwrap()["try_ack"]["refused"]["insufficient_funds"]["balance"], 40);
/// let accepted = serde_json::to_value(Msg::TryAck { branch, refused: None }).unwrap();
/// assert!(accepted["try_ack"].get("refused").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Initiator → participant: set the branch's amount aside (freeze it on the source, refused
    /// if the balance is short; reserve it on the target).
    Try(Branch),
    /// Participant → initiator: the try's outcome. `refused` is `None` when the amount is set
    /// aside (now or by an earlier copy of the same try).
    TryAck {
        /// The branch answered.
        branch: Branch,
        /// Why the try was refused; `None`: done.
        #[serde(skip_serializing_if = "Option::is_none")]
        refused: Option<Refusal>,
    },
    /// Initiator → participant: the transfer is confirmed; carry out the branch (the frozen
    /// amount leaves the source, the reserved one is credited to the target).
    Confirm(Branch),
    /// Participant → initiator: the confirm is done, or refused (`refused` says why).
    ConfirmAck {
        /// The branch answered.
        branch: Branch,
        /// Why the confirm was refused; `None`: done.
        #[serde(skip_serializing_if = "Option::is_none")]
        refused: Option<Refusal>,
    },
    /// Initiator → participant: the transfer is cancelled; release what the try set aside, or
    /// record that nothing was (an empty rollback).
    Cancel(Branch),
    /// Participant → initiator: the cancel is done, or refused (`refused` says why).
    CancelAck {
        /// The branch answered.
        branch: Branch,
        /// Why the cancel was refused; `None`: done.
        #[serde(skip_serializing_if = "Option::is_none")]
        refused: Option<Refusal>,
    },
    /// Initiator → participant: what do your accounts hold? For the client's read `read`.
    Read {
        /// The client's read.
        read: TxnId,
    },
    /// Participant → initiator: the balance of each account it holds (frozen money excluded:
    /// a read takes no lock and may miss money in flight).
    Balances {
        /// The client's read.
        read: TxnId,
        /// `(account, balance)`, by account.
        balances: Vec<(Account, i64)>,
    },
}

/// Why a participant refused a phase.
///
/// ```
/// use sim::protocols::txn::tcc::Refusal;
/// // A cancel for a branch whose try never arrived: the empty rollback.
/// assert_eq!(serde_json::to_string(&Refusal::NothingToCancel).unwrap(), r#""nothing_to_cancel""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// A try on the source: the balance is short of the amount.
    InsufficientFunds {
        /// The balance when the try arrived.
        balance: i64,
    },
    /// A try after its branch was cancelled (suspension refused).
    AlreadyCancelled,
    /// A cancel for a try that never arrived, by a participant that allows no empty rollback.
    NothingToCancel,
    /// A confirm for a branch that was never set aside, or was cancelled.
    NotTried,
    /// A confirm for a cancelled branch, or a cancel for a confirmed one.
    AlreadySettled,
}

/// The initiator's timers.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::tcc::Timer;
/// let retry = Timer::Retry(RequestId { client: ClientId(2), seq: 5 });
/// assert_eq!(serde_json::to_string(&retry).unwrap(), r#"{"retry":{"client":2,"seq":5}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Send the transfer's current phase again to every branch that has not answered it.
    Retry(TxnId),
    /// Ask every participant that has not answered the read again.
    ReadRetry(TxnId),
}
