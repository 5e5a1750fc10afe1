//! What the producer, the broker and the consumer say to each other, their timers, the facts
//! they state and what each keeps on disk.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// A message between the producer, the broker and the consumer. `txn` is the producer's
/// local transaction, and also the message's id: one message per transaction.
///
/// ```
/// use sim::protocols::messaging::Msg;
/// // As the trace holds them.
/// assert_eq!(serde_json::to_string(&Msg::Publish { txn: 3 }).unwrap(), r#"{"publish":{"txn":3}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Producer → broker: queue the message of transaction `txn` for the consumer.
    Publish {
        /// The transaction (and message id).
        txn: u64,
    },
    /// Broker → producer: the message is stored (on the broker's disk).
    PublishAck {
        /// The transaction.
        txn: u64,
    },
    /// Producer → broker: a half (prepared) message, stored but not delivered until confirmed
    /// (`design = "transactional"`).
    Prepare {
        /// The transaction.
        txn: u64,
    },
    /// Broker → producer: the prepared message is stored.
    PrepareAck {
        /// The transaction.
        txn: u64,
    },
    /// Producer → broker: the local transaction committed: deliver the prepared message.
    Confirm {
        /// The transaction.
        txn: u64,
    },
    /// Producer → broker: the local transaction rolled back: drop the prepared message.
    Cancel {
        /// The transaction.
        txn: u64,
    },
    /// Broker → producer: a message has been prepared for a while with no confirm or cancel:
    /// did the local transaction commit?
    CheckBack {
        /// The transaction.
        txn: u64,
    },
    /// Producer → broker: the answer to a check-back, from the producer's local database.
    CheckResult {
        /// The transaction.
        txn: u64,
        /// `Some(true)` committed, `Some(false)` rolled back (or never ran), `None` still
        /// running: ask again later.
        committed: Option<bool>,
    },
    /// Broker → consumer: one delivery of a stored message.
    Deliver {
        /// The broker's number for the stored copy (a resent message is a new copy).
        offset: u64,
        /// The transaction (the message id the consumer deduplicates by).
        txn: u64,
    },
    /// Consumer → broker: the delivery is processed; stop redelivering it.
    Ack {
        /// The copy processed.
        offset: u64,
    },
    /// Consumer → producer: the message of `txn` is processed (`design = "local_table"`): the
    /// producer marks its table row done.
    Done {
        /// The transaction.
        txn: u64,
    },
}

/// The nodes' timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Producer: begin the next local transaction.
    Next,
    /// Producer: the broker has not answered the publish (or the prepare) of `txn` in time.
    Timeout(u64),
    /// Producer, `local_table`: scan the message table and resend what is not done.
    Scan,
    /// Broker: redeliver what the consumer has not acknowledged, and check back on messages
    /// prepared too long.
    Tick,
}

/// Why the producer's local transaction did not commit, or was undone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// The business logic failed (the text's 业务上面的失败): nothing to send.
    Business,
    /// `send_after_commit`: the broker did not acknowledge the send in time; the text's rule
    /// (「若投递失败则回滚事物」) rolls the transaction back.
    SendFailed,
    /// `transactional`: the broker did not acknowledge the prepared message in time; the local
    /// transaction never ran.
    PrepareFailed,
}

/// How the broker learned a prepared message's fate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// The producer's confirm or cancel.
    Producer,
    /// Its own check-back, answered from the producer's database.
    CheckBack,
}

/// The facts of `messaging`: what its invariants read.
///
/// ```
/// use sim::protocols::messaging::MessagingFact;
/// let f = MessagingFact::Consumed { txn: 4, offset: 9 };
/// assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"consumed":{"txn":4,"offset":9}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessagingFact {
    /// Producer: local transaction `txn` committed (its business data, and with `local_table`
    /// its message row, are on disk).
    Committed {
        /// The transaction.
        txn: u64,
    },
    /// Producer: `txn` rolled back — never committed, or (`send_after_commit`) undone after
    /// its commit because the send failed.
    RolledBack {
        /// The transaction.
        txn: u64,
        /// Why.
        why: Why,
    },
    /// Broker: it stored a copy of `txn`'s message, ready for delivery, as `offset`.
    Stored {
        /// The transaction.
        txn: u64,
        /// The copy's number.
        offset: u64,
    },
    /// Broker: it stored `txn`'s prepared (half) message.
    Prepared {
        /// The transaction.
        txn: u64,
    },
    /// Broker: `txn`'s prepared message was confirmed (`commit`) or dropped.
    Resolved {
        /// The transaction.
        txn: u64,
        /// Confirmed: it becomes deliverable.
        commit: bool,
        /// Who told it.
        by: By,
    },
    /// Consumer: it carried out `txn`'s effect (its own local transaction).
    Consumed {
        /// The transaction.
        txn: u64,
        /// The copy delivered.
        offset: u64,
    },
    /// Consumer: it had already carried out `txn`'s effect and skipped the copy (idempotent).
    Skipped {
        /// The transaction.
        txn: u64,
        /// The copy delivered.
        offset: u64,
    },
}

/// A message the broker holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The transaction.
    pub txn: u64,
    /// Prepared (half) and not yet confirmed: not delivered.
    pub prepared: bool,
}

/// What survives a crash: each node's local database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Disk {
    /// Producer: the last transaction begun (a restarted producer never reuses a number).
    pub last_txn: u64,
    /// Producer: the transactions committed (the business table).
    pub committed: BTreeSet<u64>,
    /// Producer: the transactions rolled back.
    pub rolled_back: BTreeSet<u64>,
    /// Producer, `local_table`: the message table's rows not yet done (the consumer has not
    /// said it processed them).
    pub outbox: BTreeSet<u64>,
    /// Broker: the last offset given.
    pub last_offset: u64,
    /// Broker: the messages it holds, by offset.
    pub queue: BTreeMap<u64, Entry>,
    /// Consumer: the message ids whose effect it carried out (its dedupe table).
    pub processed: BTreeSet<u64>,
}
