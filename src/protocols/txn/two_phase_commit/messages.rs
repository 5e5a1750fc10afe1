//! What two-phase commit's nodes send each other, the timers they set, and what they write to
//! disk.

use serde::Serialize;

use crate::node::NodeId;
use crate::protocols::txn::{Account, TxnId};

/// One account's part of a transfer, as a participant runs it: `delta` is added to the balance
/// on commit (negative for the debit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The account changed.
    pub account: Account,
    /// What commit adds to its balance.
    pub delta: i64,
}

/// Why a participant votes no.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The debit would leave the account negative.
    InsufficientFunds {
        /// The account debited.
        account: Account,
        /// Its balance.
        balance: i64,
        /// What the transfer takes from it.
        amount: u64,
    },
    /// Another transaction holds the account's lock: the participant does not wait for it
    /// (no-wait), so two transfers can never wait for each other.
    Locked {
        /// The account.
        account: Account,
        /// The transaction holding it (a read's shared lock counts).
        by: TxnId,
    },
    /// The participant already gave the transaction up (it voted no before, or aborted it on
    /// its own before the prepare arrived).
    Aborted,
}

/// A message between the coordinator (or its backup) and the participants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Phase one, coordinator → participant: run your part of `txn` without committing, hold
    /// its locks, and vote. A read (`read`) locks every account of the participant, shared, and
    /// changes nothing.
    Prepare {
        /// The transaction.
        txn: TxnId,
        /// This participant's changes (none for a read).
        changes: Vec<Change>,
        /// A read-only transaction.
        read: bool,
        /// Every participant of the transaction, for cooperative termination.
        participants: Vec<NodeId>,
    },
    /// Participant → coordinator: yes (`refusal` is `None`: prepared, its vote on disk), or no.
    Vote {
        /// The transaction.
        txn: TxnId,
        /// Why no; `None` for yes.
        refusal: Option<Refusal>,
        /// A read's answer: the balances of the participant's accounts, read under the lock.
        balances: Vec<(Account, i64)>,
    },
    /// Phase two: commit or abort `txn` (for a read: release its locks). Sent by whoever knows
    /// the outcome: the coordinator, its backup, or a participant answering an inquiry.
    Decision {
        /// The transaction.
        txn: TxnId,
        /// Commit (`true`) or abort.
        commit: bool,
    },
    /// Participant → coordinator: the decision is carried out; stop sending it.
    Ack {
        /// The transaction.
        txn: TxnId,
    },
    /// An in-doubt participant asks for the outcome of `txn`.
    Inquiry {
        /// The transaction.
        txn: TxnId,
    },
    /// Cooperative termination: the asked participant is in doubt too.
    Uncertain {
        /// The transaction.
        txn: TxnId,
    },
    /// Coordinator → backup: a copy of a record it wrote to its log.
    Sync {
        /// The record.
        record: Record,
    },
    /// Coordinator → backup: still alive.
    Alive,
}

/// The timers of two-phase commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The coordinator stops waiting for the votes of `txn`.
    VoteTimeout(TxnId),
    /// The coordinator sends every unacknowledged decision again.
    Retry,
    /// A participant asks about every transaction it is in doubt of.
    Inquire,
    /// The coordinator tells its backup it is alive; the backup checks it heard it lately.
    Heartbeat,
}

/// The transfer a coordinator logs before it prepares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Transfer {
    /// The account debited.
    pub from: Account,
    /// The account credited.
    pub to: Account,
    /// How much.
    pub amount: u64,
}

/// One record of a node's durable log: the coordinator's (and its backup's copy of it) or a
/// participant's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Record {
    /// Coordinator: `txn` begins, with these participants and their changes; written before
    /// any prepare leaves.
    Begin {
        /// The transaction.
        txn: TxnId,
        /// What it does.
        transfer: Transfer,
        /// Each participant and its changes.
        parts: Vec<(NodeId, Vec<Change>)>,
    },
    /// Coordinator: the decision, written before it is sent (unless `decision_log = false`).
    Decision {
        /// The transaction.
        txn: TxnId,
        /// Commit or abort.
        commit: bool,
    },
    /// Coordinator: every participant acknowledged the decision; nothing more to do.
    End {
        /// The transaction.
        txn: TxnId,
    },
    /// Participant: it voted yes, holding the locks of these changes; written before the vote
    /// leaves.
    Prepared {
        /// The transaction.
        txn: TxnId,
        /// Its changes here.
        changes: Vec<Change>,
        /// A read (shared locks on every account held here).
        read: bool,
        /// Every participant of it.
        participants: Vec<NodeId>,
    },
    /// Participant: it voted no, or gave the transaction up before any prepare arrived; a
    /// later prepare is refused.
    Refused {
        /// The transaction.
        txn: TxnId,
    },
    /// Participant: the decision is carried out (the changes applied, or rolled back) and the
    /// locks released.
    Done {
        /// The transaction.
        txn: TxnId,
        /// Committed or aborted.
        commit: bool,
    },
}

impl Record {
    /// The transaction the record is about.
    pub fn txn(&self) -> TxnId {
        match self {
            Record::Begin { txn, .. }
            | Record::Decision { txn, .. }
            | Record::End { txn }
            | Record::Prepared { txn, .. }
            | Record::Refused { txn }
            | Record::Done { txn, .. } => *txn,
        }
    }
}

/// The small durable state: what the log cannot say.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Durable {
    /// The node has started once: its accounts are opened (stated once per run, not again
    /// after a restart).
    pub started: bool,
    /// The backup has taken over from the coordinator (it never hands back).
    pub taken_over: bool,
}
