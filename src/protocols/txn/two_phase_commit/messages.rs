//! What two-phase commit's nodes send each other, the timers they set, and what they write to
//! disk.

use serde::Serialize;

use crate::node::NodeId;
// The one place a protocol uses another: with `decision_on = "raft"` the coordinator replicas
// carry Raft's messages, timers, log entries and term/vote inside two-phase commit's own (see
// `raft_group`).
use crate::protocols::raft;
use crate::protocols::txn::{Account, TxnId};

/// One account's part of a transfer, as a participant runs it: `delta` is added to the balance
/// on commit (negative for the debit).
///
/// ```
/// use sim::protocols::txn::Account;
/// use sim::protocols::txn::two_phase_commit::Change;
/// // Moving 100 out of account 0: its participant adds -100 on commit.
/// let debit = Change { account: Account(0), delta: -100 };
/// assert_eq!(serde_json::to_string(&debit).unwrap(), r#"{"account":0,"delta":-100}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The account changed.
    pub account: Account,
    /// What commit adds to its balance.
    pub delta: i64,
}

/// Why a participant votes no.
///
/// ```
/// use sim::protocols::txn::Account;
/// use sim::protocols::txn::two_phase_commit::Refusal;
/// let short = Refusal::InsufficientFunds { account: Account(0), balance: 40, amount: 100 };
/// assert_eq!(
///     serde_json::to_string(&short).unwrap(),
///     r#"{"insufficient_funds":{"account":0,"balance":40,"amount":100}}"#
/// );
/// ```
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
///
/// ```
/// use sim::node::{ClientId, NodeId, RequestId};
/// use sim::protocols::txn::Account;
/// use sim::protocols::txn::two_phase_commit::{Change, Msg};
/// let txn = RequestId { client: ClientId(0), seq: 1 };
/// let prepare = Msg::Prepare {
///     txn,
///     changes: vec![Change { account: Account(0), delta: -100 }],
///     read: false,
///     participants: vec![NodeId(1), NodeId(2)],
/// };
/// let json = serde_json::to_value(&prepare).unwrap();
/// assert_eq!(json["prepare"]["changes"][0]["delta"], -100);
/// assert_eq!(serde_json::to_string(&Msg::Ack { txn }).unwrap(), r#"{"ack":{"txn":{"client":0,"seq":1}}}"#);
/// ```
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
    /// Between the coordinator replicas of `decision_on = "raft"`: a message of their Raft
    /// group, which replicates the coordinator's log.
    Raft(raft::Msg),
}

/// The timers of two-phase commit.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::two_phase_commit::Timer;
/// let timeout = Timer::VoteTimeout(RequestId { client: ClientId(0), seq: 1 });
/// assert_eq!(serde_json::to_string(&timeout).unwrap(), r#"{"vote_timeout":{"client":0,"seq":1}}"#);
/// assert_eq!(serde_json::to_string(&Timer::Retry).unwrap(), r#""retry""#);
/// ```
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
    /// A timer of a coordinator replica's Raft server (`decision_on = "raft"`).
    Raft(raft::Timer),
}

/// The transfer a coordinator logs before it prepares it.
///
/// ```
/// use sim::protocols::txn::Account;
/// use sim::protocols::txn::two_phase_commit::Transfer;
/// // The classroom example: 100 from A's payment account to B's savings fund.
/// let transfer = Transfer { from: Account(0), to: Account(1), amount: 100 };
/// assert_eq!(serde_json::to_string(&transfer).unwrap(), r#"{"from":0,"to":1,"amount":100}"#);
/// ```
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
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::txn::two_phase_commit::Record;
/// // The coordinator's decision, on disk before it is sent.
/// let decided = Record::Decision { txn: RequestId { client: ClientId(0), seq: 1 }, commit: true };
/// assert_eq!(serde_json::to_value(&decided).unwrap()["decision"]["commit"], true);
/// ```
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
    /// Coordinator replica (`decision_on = "raft"`): an entry of its Raft log. Its whole log is
    /// Raft's, since Raft cuts its log back by length; the coordinator's begin, decision and
    /// end are commands inside these entries.
    Raft(raft::Entry),
}

impl Record {
    /// The transaction the record is about (`None` for a Raft entry, which may hold any).
    ///
    /// ```
    /// use sim::node::{ClientId, RequestId};
    /// use sim::protocols::txn::two_phase_commit::Record;
    /// let txn = RequestId { client: ClientId(3), seq: 9 };
    /// assert_eq!(Record::End { txn }.txn(), Some(txn));
    /// assert_eq!(Record::Done { txn, commit: false }.txn(), Some(txn));
    /// ```
    pub fn txn(&self) -> Option<TxnId> {
        match self {
            Record::Begin { txn, .. }
            | Record::Decision { txn, .. }
            | Record::End { txn }
            | Record::Prepared { txn, .. }
            | Record::Refused { txn }
            | Record::Done { txn, .. } => Some(*txn),
            Record::Raft(_) => None,
        }
    }
}

/// The small durable state: what the log cannot say.
///
/// ```
/// use sim::protocols::txn::two_phase_commit::Durable;
/// // A node that never ran: its accounts are opened on its first start, once.
/// let fresh = Durable::default();
/// assert!(!fresh.started && !fresh.taken_over);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Durable {
    /// The node has started once: its accounts are opened (stated once per run, not again
    /// after a restart).
    pub started: bool,
    /// The backup has taken over from the coordinator (it never hands back).
    pub taken_over: bool,
    /// A coordinator replica's Raft currentTerm and votedFor (`decision_on = "raft"`). Left
    /// out of the trace when absent, so the other designs' traces are unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raft: Option<raft::HardState>,
}
