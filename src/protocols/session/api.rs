//! The session store's client interface and the facts its nodes state.

use std::sync::Arc;

use serde::Serialize;

use crate::node::{ClientApi, RequestId};

/// The interface of a primary-ordered store read at replicas: `read` and `write` on keys. A
/// read carries the client's session token for its key (the highest version it has seen or
/// written there; 0 for none), which a replica that is behind it must wait for.
///
/// ```
/// use sim::protocols::session::SessionOp;
/// let read = SessionOp::Read { key: "x".into(), after: 4 };
/// assert_eq!(serde_json::to_string(&read).unwrap(), r#"{"f":"read","key":"x","after":4}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Session {}

impl ClientApi for Session {
    type Op = SessionOp;
    type Output = SessionOutput;
}

/// What a session client asks.
///
/// ```
/// use sim::protocols::session::SessionOp;
/// let write = SessionOp::Write { key: "x".into(), value: "c0-1".into() };
/// assert_eq!(&**write.key(), "x");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "f")]
pub enum SessionOp {
    /// Read `key` at a version no older than `after` (0: any version).
    Read {
        /// The key.
        key: Arc<str>,
        /// The session token: the lowest version the answer may have.
        after: u64,
    },
    /// Write `value` to `key`: the primary gives it the next version.
    Write {
        /// The key.
        key: Arc<str>,
        /// The new value.
        value: Arc<str>,
    },
}

impl SessionOp {
    /// The key it reads or writes.
    ///
    /// ```
    /// use sim::protocols::session::SessionOp;
    /// assert_eq!(&**SessionOp::Read { key: "y".into(), after: 0 }.key(), "y");
    /// ```
    pub fn key(&self) -> &Arc<str> {
        match self {
            SessionOp::Read { key, .. } | SessionOp::Write { key, .. } => key,
        }
    }
}

/// What a session operation that took effect returned.
///
/// ```
/// use sim::protocols::session::SessionOutput;
/// let read = SessionOutput::Read { value: Some("c0-1".into()), version: 1 };
/// assert_eq!(read.version(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum SessionOutput {
    /// A read: the value the replica held and its version (0 and none: never written).
    Read {
        /// The value.
        value: Option<Arc<str>>,
        /// Its version.
        version: u64,
    },
    /// A write took effect at the primary with this version.
    Written {
        /// The write's version.
        version: u64,
    },
}

impl SessionOutput {
    /// The version read or written: what a client's token takes in.
    ///
    /// ```
    /// use sim::protocols::session::SessionOutput;
    /// assert_eq!(SessionOutput::Written { version: 7 }.version(), 7);
    /// ```
    pub fn version(&self) -> u64 {
        match self {
            SessionOutput::Read { version, .. } | SessionOutput::Written { version } => *version,
        }
    }
}

/// What the session store's nodes state for its invariants and report.
///
/// ```
/// use sim::protocols::session::SessionFact;
/// let holds = SessionFact::Holds { key: "x".into(), version: 3 };
/// assert_eq!(serde_json::to_value(&holds).unwrap()["holds"]["version"], 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionFact {
    /// The primary gave a write its version (once per write, a retried one included).
    Wrote {
        /// The key.
        key: Arc<str>,
        /// The value written.
        value: Arc<str>,
        /// Its version: the primary's count of writes.
        version: u64,
        /// The client request.
        request: RequestId,
    },
    /// This node's copy of `key` is now at `version` (stated at every change, and again for
    /// every key after a restart).
    Holds {
        /// The key.
        key: Arc<str>,
        /// The version held.
        version: u64,
    },
    /// This node answered a read with `version`.
    Served {
        /// The client request.
        request: RequestId,
        /// The key.
        key: Arc<str>,
        /// The version answered.
        version: u64,
    },
}
