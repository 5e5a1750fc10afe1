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
    /// Client → coordination service (ZooKeeper): create an ephemeral sequential node under
    /// the lock for try `attempt`, owned by `session` (opened by its first message). Asked
    /// again (a lost answer), the service answers with the same node.
    Create {
        /// The client's session (its own count, from 1).
        session: u64,
        /// The try.
        attempt: u64,
    },
    /// Service → client: the node was created, its sequence number `seq` (`lock-0000000007`).
    Created {
        /// The try answered.
        attempt: u64,
        /// The node's sequence number: one higher than the last node created, never reused
        /// (ZooKeeper's sequential suffix, from the parent's `cversion`). With fencing it is the
        /// token.
        seq: u64,
    },
    /// Client → service: read the lock's children (`getChildren`), with a watch on them when
    /// `watch` (the herd design). `mine` is the client's node, so the answer can name the
    /// node just before it.
    GetChildren {
        /// The session.
        session: u64,
        /// The try.
        attempt: u64,
        /// The client's node.
        mine: u64,
        /// Leave a one-shot watch on the children.
        watch: bool,
    },
    /// Service → client: the children as the recipe reads them: the lowest, the one just
    /// before the asker's, and how many.
    Children {
        /// The try answered.
        attempt: u64,
        /// Counts the children's changes (ZooKeeper's `cversion`).
        version: u64,
        /// The lowest node (the holder's), if any.
        lowest: Option<u64>,
        /// The highest node below the asker's, if any.
        predecessor: Option<u64>,
        /// How many nodes there are.
        count: u32,
    },
    /// Client → service: does node `seq` exist (`exists`, with a watch on it)?
    Exists {
        /// The session.
        session: u64,
        /// The try.
        attempt: u64,
        /// The node asked about (the client's predecessor).
        seq: u64,
    },
    /// Service → client: whether node `seq` exists; if it does, a watch is left on it.
    Stat {
        /// The try answered.
        attempt: u64,
        /// The node.
        seq: u64,
        /// Whether it exists.
        exists: bool,
    },
    /// Service → a watching session: a watch fired (one-shot).
    Notify {
        /// The watching session.
        session: u64,
        /// The children's version after the change.
        version: u64,
        /// What changed.
        change: Change,
        /// The node created or deleted.
        seq: u64,
    },
    /// Client → service: delete node `seq` (the release). Sent again with every heartbeat
    /// until answered.
    Delete {
        /// The session.
        session: u64,
        /// The node.
        seq: u64,
    },
    /// Service → client: node `seq` is gone (deleted now, or before).
    Deleted {
        /// The node.
        seq: u64,
    },
    /// Client → service: the session is alive.
    Heartbeat {
        /// The session.
        session: u64,
    },
    /// Service → client: the heartbeat's answer, and whether a watch of the session is still
    /// set: a client that waits on a watch the service no longer holds missed its notification
    /// (lost on the way), and reads again.
    Pong {
        /// The session.
        session: u64,
        /// Whether the service holds a watch for the session.
        watching: bool,
    },
    /// Service → client: the session named has expired; its nodes and watches are gone.
    SessionExpired {
        /// The session.
        session: u64,
    },
}

/// What changed under the lock, as a watch reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A node was created.
    Created,
    /// A node was deleted (released, or its session expired).
    Deleted,
}

/// A client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The client's next step: ask for the lock (idle), or make the next write (holding).
    Next,
    /// No answer came from the server or the resource in time.
    Timeout,
    /// ZooKeeper client: send the session's next heartbeat.
    Heartbeat,
    /// ZooKeeper service: a session has heard nothing for `session_timeout`.
    Session {
        /// The client.
        client: NodeId,
        /// Its session.
        session: u64,
    },
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
    /// ZooKeeper: the service said its session had expired (its node is gone).
    SessionExpired,
}

/// Why a waiting ZooKeeper client read the children again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A watch notification: node `seq` was created or deleted.
    Notified {
        /// What changed.
        change: Change,
        /// The node.
        seq: u64,
    },
    /// A heartbeat's answer said its watch had fired, and no notification had come (lost).
    Missed,
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
    // Added after the others: a variant's index is part of the trace hash.
    /// ZooKeeper service: it created `client`'s ephemeral sequential node `seq` for try
    /// `attempt`: its place in the queue for the lock (the checkers place the tenure there).
    Queued {
        /// The client.
        client: NodeId,
        /// Its try.
        attempt: u64,
        /// The node's sequence number.
        seq: u64,
    },
    /// ZooKeeper client: waiting on a watch for try `attempt`, it woke and reads the children
    /// again.
    Woken {
        /// Its try.
        attempt: u64,
        /// Its own node.
        mine: u64,
        /// What woke it.
        cause: Cause,
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

/// One ephemeral sequential node under the lock, as the ZooKeeper service keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Znode {
    /// Its sequence number.
    pub seq: u64,
    /// The client whose session created it.
    pub client: NodeId,
    /// That session.
    pub session: u64,
    /// The client's try.
    pub attempt: u64,
}

/// What the ZooKeeper service keeps on disk (a replicated ensemble keeps it through a crash).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tree {
    /// The last sequence number handed out.
    pub last_seq: u64,
    /// Counts the children's changes.
    pub version: u64,
    /// The newest session each client has opened: an older one is expired.
    pub opened: Vec<(NodeId, u64)>,
    /// The live sessions.
    pub live: Vec<(NodeId, u64)>,
    /// The nodes, lowest first.
    pub nodes: Vec<Znode>,
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
    /// ZooKeeper client: its last session's number, so a restarted client opens a newer one.
    #[serde(skip_serializing_if = "is_zero")]
    pub session: u64,
    /// ZooKeeper service: its sessions and nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree: Option<Tree>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
