//! What the lock's nodes say to each other, the timers a client keeps, the facts they state and
//! what they keep on disk.

use serde::Serialize;

use crate::node::{LocalNanos, NodeId};

/// A message between a client, the lock server and the resource.
///
/// ```
/// use sim::protocols::lock::Msg;
/// // As the trace holds them.
/// assert_eq!(serde_json::to_string(&Msg::Acquire { attempt: 2 }).unwrap(), r#"{"acquire":{"attempt":2}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Client → server: `SET lock <me> NX`, for the client's `attempt`-th try.
    Acquire {
        /// Numbers the client's tries, from 1: a late answer to an old try is recognised.
        attempt: u64,
    },
    /// Server → client: the lock is yours.
    Granted {
        /// The try answered.
        attempt: u64,
        /// The grant's number: one higher than the grant before. With fencing it is the
        /// fencing token the client attaches to its writes.
        token: u64,
    },
    /// Server → client: someone else holds the lock.
    Refused {
        /// The try answered.
        attempt: u64,
        /// Who holds it.
        holder: NodeId,
    },
    /// Client → server: `DEL lock` if it is still mine (the server checks who holds it, so a
    /// late release never frees someone else's lease).
    Release {
        /// The try to release.
        attempt: u64,
    },
    /// Client → resource: one write of the holder's work.
    Write {
        /// The try whose grant the client believes it holds.
        attempt: u64,
        /// The write's number within the tenure, from 1.
        seq: u32,
        /// The fencing token, with `fencing = true`; `None` without.
        token: Option<u64>,
    },
    /// Resource → client: the write is done.
    Ack {
        /// The tenure's try.
        attempt: u64,
        /// The write acknowledged.
        seq: u32,
    },
    /// Resource → client: the write is refused: its token is lower than one already seen.
    Fenced {
        /// The tenure's try.
        attempt: u64,
        /// The write refused.
        seq: u32,
        /// The highest token the resource has seen.
        highest: u64,
    },
}

/// A client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The client's next step: ask for the lock (idle), or make the next write (holding).
    Next,
    /// No answer came from the server or the resource in time.
    Timeout,
}

/// Why a client's tenure ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Why {
    /// Its work was done: every write acknowledged.
    Done,
    /// A write went unacknowledged for `timeout`.
    Timeout,
    /// The resource refused a write for its stale token.
    Fenced,
}

/// The lock's own facts: what the checkers read.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::lock::LockFact;
/// let f = LockFact::Granted { client: NodeId(2), attempt: 1, token: 1 };
/// assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"granted":{"client":2,"attempt":1,"token":1}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockFact {
    /// Server: it granted the lock to `client`'s try `attempt`, as grant `token`.
    Granted {
        /// Who holds it now (with several servers: holds this server's part of it).
        client: NodeId,
        /// Which of its tries.
        attempt: u64,
        /// The grant's number (the fencing token).
        token: u64,
    },
    /// Server: the lease of grant `token` had lapsed (its TTL passed) and was let go, its
    /// holder never having released it.
    Expired {
        /// Who held it.
        client: NodeId,
        /// The grant.
        token: u64,
    },
    /// Server: the holder released grant `token`.
    Freed {
        /// Who held it.
        client: NodeId,
        /// The grant.
        token: u64,
    },
    /// Client: it holds the lock (a tenure begins).
    Acquired {
        /// Its try.
        attempt: u64,
        /// The grant.
        token: u64,
    },
    /// Client: it gave the lock up (its tenure ends).
    Released {
        /// Its try.
        attempt: u64,
        /// Why.
        why: Why,
    },
    /// Resource: it carried out a write.
    Accepted {
        /// The writer.
        client: NodeId,
        /// The writer's try whose grant it believed it held.
        attempt: u64,
        /// The write's number in that tenure.
        seq: u32,
    },
    /// Resource: it refused a write whose fencing token was stale.
    Rejected {
        /// The writer.
        client: NodeId,
        /// The writer's try.
        attempt: u64,
        /// The token the write carried.
        token: u64,
        /// The highest token seen before it.
        highest: u64,
    },
}

/// A granted lease, as the lock server keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Lease {
    /// The holder.
    pub client: NodeId,
    /// The holder's try.
    pub attempt: u64,
    /// The grant's number.
    pub token: u64,
    /// When it lapses on the server's wall clock; `None` with `expiry = "none"`.
    pub expires: Option<LocalNanos>,
}

/// What survives a crash: the lock server's lease and grant counter (a database row, or Redis
/// with its append-only file synced on every write), the resource's highest token, a
/// client's count of tries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Disk {
    /// Server: the last grant's number (the next is one higher).
    pub last_token: u64,
    /// Server: the current lease, if any.
    pub lease: Option<Lease>,
    /// Resource: the highest fencing token seen.
    pub highest: u64,
    /// Client: its last try's number, so a restarted client never reuses one.
    pub attempts: u64,
}
