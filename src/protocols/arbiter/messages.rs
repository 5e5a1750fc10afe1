//! What the nodes of `arbiter` send each other, their timers, what they keep on disk, and the
//! facts they state.

use serde::Serialize;

use crate::node::{Nanos, NodeId};

use crate::protocols::stale_write::{GenerationFact, StatesGenerations};

/// One ephemeral sequential registration: `master0000000007`, created by a candidate's
/// session and deleted with it.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::arbiter::Registration;
/// let r = Registration { seq: 7, node: NodeId(3) };
/// assert_eq!(r.name(), "master0000000007");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Registration {
    /// Its sequence number: one more than the last one created, never reused. The lowest live
    /// one is master, and it is the master's generation.
    pub seq: u64,
    /// The candidate whose session created it.
    pub node: NodeId,
}

impl Registration {
    /// Its name, as ZooKeeper names a sequential node: the prefix and ten digits.
    pub fn name(&self) -> String {
        name(self.seq)
    }
}

/// `master0000000007`.
pub(crate) fn name(seq: u64) -> String {
    format!("master{seq:010}")
}

/// The messages of `arbiter`.
///
/// ```
/// use sim::protocols::arbiter::Msg;
/// // As the trace holds them.
/// assert_eq!(serde_json::to_string(&Msg::Heartbeat { session: 2 }).unwrap(), r#"{"Heartbeat":{"session":2}}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Msg {
    /// A candidate opens its session number `session` (its own count, from 1) and asks for a
    /// registration under it. Asked again (a lost answer), it gets the same one back.
    Register {
        /// The candidate's session number.
        session: u64,
    },
    /// The service created the session's registration; here is the list as it now stands.
    Registered {
        /// The session it answers.
        session: u64,
        /// The sequence number of the session's registration.
        seq: u64,
        /// Counts the list's changes: a candidate ignores a list older than one it has.
        version: u64,
        /// Every live registration, lowest first.
        registrations: Vec<Registration>,
    },
    /// A candidate keeps its session alive.
    Heartbeat {
        /// The session.
        session: u64,
    },
    /// The list of registrations, to every live session: when it changes (the watch), and in
    /// answer to each heartbeat (so a lost notification is made good).
    Children {
        /// Counts the list's changes.
        version: u64,
        /// Every live registration, lowest first.
        registrations: Vec<Registration>,
    },
    /// The session a heartbeat named is gone (it lapsed, or a newer one replaced it).
    Expired {
        /// The session.
        session: u64,
    },
    /// The master writes to the storage, stamped with its generation.
    Write {
        /// The master's generation: its registration's sequence number.
        generation: u64,
        /// The key.
        key: String,
        /// The value: the writer and its count of writes, `a#12`.
        value: String,
    },
    /// The storage refused a write: its generation is older than one it has carried out.
    Stale {
        /// The refused write's generation.
        generation: u64,
        /// The highest generation the storage has seen.
        highest: u64,
    },
}

/// The timers of `arbiter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// On the service: this node's session has heard no heartbeat for `session_timeout`.
    Session(NodeId),
    /// On a candidate: send the next heartbeat.
    Heartbeat,
    /// On a candidate: its registration went unanswered; ask again.
    Retry,
    /// On the master: write to the storage.
    Write,
}

/// One session the service keeps on disk: a crash of the service keeps every registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    /// The candidate.
    pub node: NodeId,
    /// The candidate's session number.
    pub session: u64,
    /// Its registration's sequence number.
    pub seq: u64,
}

/// What a node keeps on disk.
///
/// ```
/// use sim::protocols::arbiter::Disk;
/// let fresh = Disk::default();
/// assert_eq!((fresh.last_seq, fresh.session, fresh.highest), (0, 0, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Disk {
    /// The service's last sequence number handed out: never handed out again.
    pub last_seq: u64,
    /// The service's count of changes to the list.
    pub version: u64,
    /// The service's live sessions, one per candidate at most.
    pub sessions: Vec<Session>,
    /// A candidate's last session number: a restarted candidate opens a newer one.
    pub session: u64,
    /// The storage's highest generation seen (survives its crash, or a restart would let an old
    /// master in again).
    pub highest: u64,
    /// The storage's one value and who wrote it, `a#12`.
    pub value: String,
}

/// What the nodes of `arbiter` state.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::arbiter::ArbiterFact;
/// let fact = ArbiterFact::Expired { node: NodeId(2), seq: 1, silent_for: 500_000_000 };
/// assert_eq!(serde_json::to_value(&fact).unwrap()["expired"]["seq"], 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArbiterFact {
    /// The service created a registration for a candidate's session.
    Registered {
        /// The candidate.
        node: NodeId,
        /// The registration's sequence number.
        seq: u64,
    },
    /// The service let a session lapse: no heartbeat for `silent_for` (its monotonic clock);
    /// its registration is deleted.
    Expired {
        /// The candidate.
        node: NodeId,
        /// The deleted registration's sequence number.
        seq: u64,
        /// How long the service had heard nothing.
        silent_for: Nanos,
    },
    /// A master yielded to the preferred primary (fail-back): it deletes its registration and
    /// registers again, behind it.
    Yielded {
        /// The yielding master's registration.
        seq: u64,
        /// The preferred primary's.
        to: u64,
    },
    /// What the storage carried out or refused (`no_stale_write` reads it).
    #[serde(untagged)]
    Storage(GenerationFact),
}

impl StatesGenerations for ArbiterFact {
    fn generation_fact(&self) -> Option<&GenerationFact> {
        match self {
            ArbiterFact::Storage(f) => Some(f),
            _ => None,
        }
    }
}
