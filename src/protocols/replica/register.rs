//! The replicated-register interface and the facts its protocols state.

use std::sync::Arc;

use serde::Serialize;

use crate::node::ClientApi;

use super::clocks::VectorClock;

/// The interface of Dynamo-style replicas: `get` and `put` on keys. A `get` may return several
/// versions at once (siblings: writes no replica could order), and a `put` carries the
/// context of the versions its client read, which it supersedes.
///
/// ```
/// use sim::node::{ClientId, ClientRequest, RequestId};
/// use sim::protocols::replica::{Register, RegisterOp, VectorClock};
/// // A put that supersedes what its client read of x: the version with clock [1,0,1].
/// let put: ClientRequest<Register> = ClientRequest {
///     id: RequestId { client: ClientId(0), seq: 2 },
///     op: RegisterOp::Put {
///         key: "x".into(),
///         value: "2".into(),
///         context: VectorClock::from_counts(&[1, 0, 1]),
///     },
/// };
/// assert_eq!(serde_json::to_value(&put.op).unwrap()["context"], serde_json::json!([1, 0, 1]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {}

impl ClientApi for Register {
    type Op = RegisterOp;
    type Output = RegisterOutput;
}

/// What a register client asks.
///
/// ```
/// use sim::protocols::replica::RegisterOp;
/// let get = RegisterOp::Get { key: "x".into() };
/// assert_eq!(serde_json::to_string(&get).unwrap(), r#"{"f":"get","key":"x"}"#);
/// assert_eq!(&**get.key(), "x");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "f")]
pub enum RegisterOp {
    /// Read every version of `key` the replicas asked hold.
    Get {
        /// The key.
        key: Arc<str>,
    },
    /// Write `value`, superseding the versions whose clocks `context` covers: the merge of
    /// the clocks of what this client last read of `key` (empty: a blind write, which
    /// supersedes nothing).
    Put {
        /// The key.
        key: Arc<str>,
        /// The new value.
        value: Arc<str>,
        /// The versions it supersedes, as the merge of their clocks.
        context: VectorClock,
    },
}

impl RegisterOp {
    /// The key it reads or writes.
    ///
    /// ```
    /// use sim::protocols::replica::{RegisterOp, VectorClock};
    /// let put = RegisterOp::Put { key: "y".into(), value: "1".into(), context: VectorClock::new() };
    /// assert_eq!(&**put.key(), "y");
    /// ```
    pub fn key(&self) -> &Arc<str> {
        match self {
            RegisterOp::Get { key } | RegisterOp::Put { key, .. } => key,
        }
    }
}

/// A value with the vector clock of the write that made it.
///
/// ```
/// use sim::protocols::replica::{Version, VectorClock};
/// let v = Version { value: "5".into(), clock: VectorClock::from_counts(&[1, 0, 1]) };
/// assert_eq!(v.to_string(), "5 [1,0,1]");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Version {
    /// The value.
    pub value: Arc<str>,
    /// Which writes it has seen. Last-write-wins designs, which keep no clock, leave it empty.
    pub clock: VectorClock,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.value, self.clock)
    }
}

/// What a register operation that took effect returned.
///
/// ```
/// use sim::protocols::replica::{RegisterOutput, Version, VectorClock};
/// // Two siblings: the client's next put should carry the merge of their clocks.
/// let read = RegisterOutput::Read {
///     versions: vec![
///         Version { value: "2".into(), clock: VectorClock::from_counts(&[2, 0, 0]) },
///         Version { value: "5".into(), clock: VectorClock::from_counts(&[1, 0, 1]) },
///     ],
/// };
/// assert_eq!(read.context(), VectorClock::from_counts(&[2, 0, 1]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum RegisterOutput {
    /// A get: the versions held. None: the key is absent; several: siblings.
    Read {
        /// The versions, in the order the replica keeps them.
        versions: Vec<Version>,
    },
    /// A put took effect; the clock of the version it made.
    Written {
        /// The new version's clock.
        clock: VectorClock,
    },
    /// A put took effect at the replica that took it, but other replicas found it concurrent
    /// with what they hold and kept theirs (the basic vector-clock rule detects conflicts, it
    /// does not resolve them).
    Conflict {
        /// The new version's clock.
        clock: VectorClock,
        /// What the replicas that refused it kept.
        kept: Vec<Version>,
    },
}

impl RegisterOutput {
    /// The context a client's next put of the key carries after this: the merge of the clocks
    /// it has seen.
    ///
    /// ```
    /// use sim::protocols::replica::{RegisterOutput, VectorClock};
    /// let nothing = RegisterOutput::Read { versions: vec![] };
    /// assert_eq!(nothing.context(), VectorClock::new(), "a read of nothing supersedes nothing");
    /// let wrote = RegisterOutput::Written { clock: VectorClock::from_counts(&[0, 1]) };
    /// assert_eq!(wrote.context().to_string(), "[0,1]");
    /// ```
    pub fn context(&self) -> VectorClock {
        match self {
            RegisterOutput::Read { versions } => {
                versions.iter().fold(VectorClock::new(), |mut c, v| {
                    c.merge(&v.clock);
                    c
                })
            }
            RegisterOutput::Written { clock } | RegisterOutput::Conflict { clock, .. } => {
                clock.clone()
            }
        }
    }
}

/// What replicas state for the family's invariants.
///
/// ```
/// use sim::protocols::replica::{ReplicaFact, Version, VectorClock};
/// let holds = ReplicaFact::Holds {
///     key: "x".into(),
///     versions: vec![Version { value: "5".into(), clock: VectorClock::from_counts(&[1, 0, 1]) }],
/// };
/// assert_eq!(serde_json::to_value(&holds).unwrap()["fact"], "holds");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "fact")]
pub enum ReplicaFact {
    /// This replica's versions of `key` changed: every version it holds now (several:
    /// siblings). Stated at every change, durable or not, so the last one per replica and key
    /// is what it holds.
    Holds {
        /// The key.
        key: Arc<str>,
        /// What it holds now.
        versions: Vec<Version>,
    },
    /// An incoming version was concurrent with this replica's, and it kept its own (the basic
    /// rule).
    Conflict {
        /// The key.
        key: Arc<str>,
        /// What it kept.
        kept: Version,
        /// What it refused.
        refused: Version,
    },
    /// A message left this node stamped `stamp` by the node's clock (a Lamport time, or a wall
    /// clock reading in nanoseconds): `id` names the message, unique in the run.
    Sent {
        /// The message.
        id: u64,
        /// Its timestamp.
        stamp: i64,
    },
    /// A message arrived and its receipt was stamped `stamp` by this node's clock.
    Received {
        /// The message (as its `Sent` named it).
        id: u64,
        /// The receipt's timestamp.
        stamp: i64,
    },
}
