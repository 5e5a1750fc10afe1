//! What the nodes of `master-slave` send each other, their timer, one entry of the write-ahead
//! log, and the facts the masters state.

use std::sync::Arc;

use serde::Serialize;

use crate::node::RequestId;

/// One write of the write-ahead log (the binlog), as the master logged it.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::master_slave::Entry;
/// let e = Entry { epoch: 1, request: RequestId { client: ClientId(0), seq: 1 }, key: "k1".into(), value: "c0-1".into() };
/// assert_eq!(serde_json::to_value(&e).unwrap()["value"], "c0-1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The epoch of the master that logged it.
    pub epoch: u64,
    /// The client's request (a retry finds its write already logged).
    pub request: RequestId,
    /// The key written.
    pub key: Arc<str>,
    /// The value written.
    pub value: Arc<str>,
}

/// The messages of `master-slave`.
///
/// ```
/// use sim::protocols::master_slave::Msg;
/// // As the trace holds them.
/// let ping = Msg::Ping { seq: 3, epoch: 1, held: Some(2) };
/// assert_eq!(serde_json::to_string(&ping).unwrap(), r#"{"Ping":{"seq":3,"epoch":1,"held":2}}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Msg {
    /// A slave asks its master whether it is alive, and says how much of the master's log it
    /// holds (`None`: its log may disagree with the master's, send all of it).
    Ping {
        /// Numbers the slave's pings, from 1.
        seq: u64,
        /// The highest epoch the slave knows.
        epoch: u64,
        /// How many entries of this epoch's master's log the slave holds.
        held: Option<u64>,
    },
    /// A master answers a ping (a slave does not answer).
    Pong {
        /// The `seq` of the ping answered.
        seq: u64,
        /// The master's epoch.
        epoch: u64,
        /// The master's high-water mark.
        hwm: u64,
    },
    /// Master to slave: the entry at position `index` (from 1) of its log.
    Replicate {
        /// The master's epoch.
        epoch: u64,
        /// The entry's position.
        index: u64,
        /// The entry.
        entry: Entry,
        /// The master's high-water mark: how many entries a slave holds on its disk.
        hwm: u64,
    },
    /// Master to slave: its whole log, when the slave's may disagree (a new master, a slave
    /// that restarted or followed another master).
    Sync {
        /// The master's epoch.
        epoch: u64,
        /// The log.
        log: Vec<Entry>,
    },
    /// Slave to master: my log holds positions 1 through `held` of yours, synced to my disk.
    Ack {
        /// The master's epoch.
        epoch: u64,
        /// How many entries the slave holds.
        held: u64,
    },
    /// A slave refuses a master's message: it follows a newer epoch. The master steps down.
    Stale {
        /// The newer epoch.
        epoch: u64,
    },
}

/// The one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// Every `ping_interval` on a slave: count an unanswered ping, take over after enough in a
    /// row, else ping again.
    Ping,
}

/// One write as `acknowledged_writes_survive` compares them: the key and the value.
///
/// ```
/// use sim::protocols::master_slave::Written;
/// let w = Written { key: "k1".into(), value: "c0-1".into() };
/// assert_eq!(serde_json::to_string(&w).unwrap(), r#"{"key":"k1","value":"c0-1"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Written {
    /// The key.
    pub key: Arc<str>,
    /// The value.
    pub value: Arc<str>,
}

impl Written {
    pub(crate) fn of(e: &Entry) -> Written {
        Written {
            key: e.key.clone(),
            value: e.value.clone(),
        }
    }
}

/// What a master states, for `acknowledged_writes_survive`.
///
/// ```
/// use sim::protocols::master_slave::MasterSlaveFact;
/// let f = MasterSlaveFact::Serving { epoch: 2, log: vec![] };
/// assert_eq!(serde_json::to_value(&f).unwrap()["serving"]["epoch"], 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MasterSlaveFact {
    /// This node begins serving clients as master of `epoch` (at the start, after a restart
    /// from its disk, or promoted at fail-over), holding this log.
    Serving {
        /// Its epoch.
        epoch: u64,
        /// Every write its log holds, in order.
        log: Vec<Written>,
    },
    /// The master of `epoch` logged a client's write at position `index`.
    Logged {
        /// Its epoch.
        epoch: u64,
        /// The position, from 1.
        index: u64,
        /// The write.
        write: Written,
    },
}
