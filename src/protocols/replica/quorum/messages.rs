//! What the quorum store's nodes send each other, the timers they set, and what they write to
//! disk.

use std::sync::Arc;

use serde::Serialize;

use super::store::Stamped;

/// Why a coordinator sends versions to a replica.
///
/// ```
/// use sim::protocols::replica::quorum::Why;
/// assert_eq!(serde_json::to_string(&Why::WriteBack).unwrap(), "\"write_back\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// A client's put.
    Put,
    /// Read repair: the replica answered a get with an older version.
    Repair,
    /// ABD's write-back: a get writes what it returns to a write quorum before answering.
    WriteBack,
}

/// A message between a coordinator (the node a client asked) and a key's replicas. `op` names
/// the coordinator's request, so that replies find it; it is unique per coordinator across
/// restarts.
///
/// ```
/// use sim::protocols::replica::quorum::Msg;
/// // A coordinator asks a replica for its versions of x, as the trace holds it.
/// let read = Msg::Read { op: 7, key: "x".into() };
/// assert_eq!(serde_json::to_string(&read).unwrap(), r#"{"read":{"op":7,"key":"x"}}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Coordinator → replica: what do you hold of `key`? (A get, or a tagged put's first phase.)
    Read {
        /// The coordinator's request.
        op: u64,
        /// The key.
        key: Arc<str>,
    },
    /// Replica → coordinator: every version it holds of `key`.
    Versions {
        /// The request answered.
        op: u64,
        /// The key.
        key: Arc<str>,
        /// What it holds.
        versions: Vec<Stamped>,
    },
    /// Coordinator → replica: merge these versions of `key` into yours (and, unless it is a
    /// repair, acknowledge once they are on disk).
    Write {
        /// The coordinator's request.
        op: u64,
        /// The key.
        key: Arc<str>,
        /// The versions.
        versions: Vec<Stamped>,
        /// A put, a repair, or a write-back.
        why: Why,
    },
    /// Replica → coordinator: the write is on disk (it may have been older than what the
    /// replica holds and dropped: last-write-wins acknowledges it all the same).
    Ack {
        /// The request acknowledged.
        op: u64,
        /// The key.
        key: Arc<str>,
    },
}

/// A coordinator's per-request deadline: `op` gives up `request_timeout` after it began.
///
/// ```
/// use sim::protocols::replica::quorum::Timer;
/// assert_eq!(serde_json::to_string(&Timer::Expire(7)).unwrap(), r#"{"expire":7}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The request's quorum is late.
    Expire(u64),
}

/// What survives a crash besides the log of versions.
///
/// ```
/// use sim::protocols::replica::quorum::Durable;
/// // A node that never ran: no restart yet, no stamp issued.
/// assert_eq!(Durable::default(), Durable { incarnation: 0, issued: 0 });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Durable {
    /// How many times the node has started: the high half of its request ids, so that replies
    /// to a request from before a crash never match one after it.
    pub incarnation: u64,
    /// The greatest last-write-wins stamp this node has given a version as coordinator (a
    /// wall-clock reading or a tag), so that two puts it coordinates never share a stamp, even
    /// across a crash.
    pub issued: i64,
}

/// One record of a replica's log: the versions of `key` it holds from now on.
///
/// ```
/// use sim::protocols::replica::quorum::Record;
/// // A replica that now holds nothing of x (as a restart reloads it).
/// let record = Record { key: "x".into(), versions: Vec::new() };
/// assert!(record.versions.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The key.
    pub key: Arc<str>,
    /// Every version held.
    pub versions: Vec<Stamped>,
}
