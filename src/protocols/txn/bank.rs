//! The bank interface and the facts its protocols state.

use std::fmt;

use serde::Serialize;

use crate::node::{ClientApi, RequestId};

/// An account, numbered from 0.
///
/// ```
/// use sim::protocols::txn::Account;
/// // Named in words in a violation's message, a bare number in a trace.
/// assert_eq!(Account(3).to_string(), "account 3");
/// assert_eq!(serde_json::to_string(&Account(3)).unwrap(), "3");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Account(pub u32);

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account {}", self.0)
    }
}

/// A transfer: the client's request id, shared by every retry of it.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::TxnId;
/// // Transfer ids are per client: client 2's seventh and client 3's seventh are two transfers.
/// let mine: TxnId = RequestId { client: ClientId(2), seq: 7 };
/// assert_ne!(mine, RequestId { client: ClientId(3), seq: 7 });
/// ```
pub type TxnId = RequestId;

/// What a bank client asks.
///
/// ```
/// use sim::protocols::txn::BankOp;
/// assert_eq!(serde_json::to_string(&BankOp::Read).unwrap(), r#"{"f":"read"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "f")]
pub enum BankOp {
    /// Move `amount` from `from` to `to`, atomically; refused (a `Fail` reply) when `from`
    /// holds less than `amount`.
    Transfer {
        /// The account debited.
        from: Account,
        /// The account credited.
        to: Account,
        /// How much, more than zero.
        amount: u64,
    },
    /// Read every account's balance.
    Read,
}

/// What a bank operation that took effect returned.
///
/// ```
/// use sim::node::Reply;
/// use sim::protocols::txn::{Bank, BankOutput};
///
/// // A transfer's reply once it committed, and a read's: every balance, by account.
/// let committed = Reply::<Bank>::Ok(BankOutput::Transferred);
/// assert!(matches!(committed, Reply::Ok(BankOutput::Transferred)));
/// let read = BankOutput::Balances { balances: vec![95, 105] };
/// assert_eq!(serde_json::to_string(&read).unwrap(), r#"{"result":"balances","balances":[95,105]}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum BankOutput {
    /// The transfer committed.
    Transferred,
    /// Every account's balance, by account number.
    Balances {
        /// `balances[i]` is account `i`'s.
        balances: Vec<i64>,
    },
}

/// The bank interface: [`BankOp`] in, [`BankOutput`] out.
///
/// ```
/// use sim::node::{ClientApi, ClientId, ClientRequest, RequestId};
/// use sim::protocols::txn::{Account, Bank, BankOp};
///
/// let transfer = ClientRequest::<Bank> {
///     id: RequestId { client: ClientId(0), seq: 1 },
///     op: BankOp::Transfer { from: Account(0), to: Account(1), amount: 100 },
/// };
/// assert_eq!(
///     serde_json::to_string(&transfer.op).unwrap(),
///     r#"{"f":"transfer","from":0,"to":1,"amount":100}"#
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bank {}

impl ClientApi for Bank {
    type Op = BankOp;
    type Output = BankOutput;
}

/// What a node of a bank protocol states, for the family's invariants. Amounts are in the
/// accounts' unit; a balance may be negative only in a broken design.
///
/// Money is conserved when, at every instant, the balances plus the amounts held by
/// [`BankFact::Held`] `debit`s add up to what the accounts were opened with (a held credit is a
/// promise, not money). Two-phase commit holds nothing between its changes, so for it this is
/// true at every instant; TCC's confirm debits and credits on different nodes, so for it only
/// once every transfer has settled.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::{Account, BankFact};
/// // Participant B commits its half of c0#1: account 1 gains 100.
/// let txn = RequestId { client: ClientId(0), seq: 1 };
/// let applied = BankFact::Applied { txn, account: Account(1), delta: 100, balance: 200 };
/// let json = serde_json::to_value(&applied).unwrap();
/// assert_eq!((json["applied"]["delta"].as_i64(), json["applied"]["balance"].as_i64()), (Some(100), Some(200)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BankFact {
    /// The node holds `account`, opened with `balance` (stated once, at the node's first start).
    Opened {
        /// The account.
        account: Account,
        /// Its balance at the start of the run.
        balance: i64,
    },
    /// Transfer `txn`'s change of `delta` to `account` took effect (a commit in two-phase
    /// commit, a confirm in TCC): −amount on the source, +amount on the target. `balance` is
    /// the account's balance after it — for TCC's source, whose try already lowered the balance
    /// when it froze the amount, the confirm leaves the balance as it is (and states
    /// `Released { debit: true, applied: true }` for the frozen amount).
    Applied {
        /// The transfer.
        txn: TxnId,
        /// The account changed.
        account: Account,
        /// The change: negative for the debit, positive for the credit.
        delta: i64,
        /// The balance after the change.
        balance: i64,
    },
    /// `amount` of `account` is set aside for `txn` (TCC's try: frozen on the source when
    /// `debit`, the balance lowered by it; reserved on the target otherwise, the balance
    /// unchanged).
    Held {
        /// The transfer.
        txn: TxnId,
        /// The account.
        account: Account,
        /// The amount set aside.
        amount: u64,
        /// Frozen on the source (money set aside) rather than reserved on the target.
        debit: bool,
    },
    /// What [`BankFact::Held`] set aside for `txn` is released: by `Applied` on confirm (then
    /// `applied`), or given back on cancel.
    Released {
        /// The transfer.
        txn: TxnId,
        /// The account.
        account: Account,
        /// The amount released.
        amount: u64,
        /// Released from a frozen debit (the balance gets it back on cancel).
        debit: bool,
        /// Released because the transfer was confirmed, not cancelled.
        applied: bool,
    },
    /// A node that decides for `txn` (two-phase commit's coordinator, TCC's initiator) decided
    /// to commit (`true`) or abort (`false`).
    Decided {
        /// The transfer.
        txn: TxnId,
        /// Commit (`true`) or abort / cancel (`false`).
        commit: bool,
    },
    /// A participant of `txn` undid its part, or learned it must never do it: rolled back a
    /// prepared change (two-phase commit) or recorded a cancel (TCC).
    RolledBack {
        /// The transfer.
        txn: TxnId,
        /// The account whose part was undone.
        account: Account,
    },
    /// A participant of `txn` is prepared (voted yes, holding its locks): it may no longer
    /// decide alone.
    Prepared {
        /// The transfer.
        txn: TxnId,
        /// The account it locked.
        account: Account,
    },
    /// The node that drives `txn` (TCC's initiator) sent its current step again to the branch
    /// on `account`: its backoff ran out before that branch answered. Stated once per message
    /// sent again, so a transfer's retries are the count of these (the report's retries per
    /// transfer).
    Retried {
        /// The transfer.
        txn: TxnId,
        /// The account of the branch that had not answered.
        account: Account,
        /// The step sent again: `try`, `confirm` or `cancel`.
        step: &'static str,
        /// How many times that step has now been sent to the branch (2 at the first retry).
        send: u32,
    },
}
