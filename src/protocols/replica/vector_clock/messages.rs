//! What vector-clock replicas send each other, their timers, and what they keep on disk.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::rules::{Outcome, Stored};

/// A message's timestamp, with the id that names it in `Sent` and `Received` facts.
///
/// ```
/// use sim::protocols::replica::vector_clock::Stamp;
/// // B's first stamped message in its first life, at Lamport time 3.
/// let stamp = Stamp { id: 1 << 48 | 1 << 32 | 1, at: 3 };
/// assert_eq!(stamp.id >> 48, 1, "the sender's index");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Stamp {
    /// Unique in the run: sender index << 48 | incarnation << 32 | the sender's count.
    pub id: u64,
    /// A Lamport time, or the sender's wall clock in nanoseconds.
    pub at: i64,
}

/// A message between replicas.
///
/// ```
/// use sim::protocols::replica::VectorClock;
/// use sim::protocols::replica::vector_clock::{Msg, Outcome, Stored};
/// // A sends its 2 [2,0,0]; B answers that it took it.
/// let two = Stored { clock: VectorClock::from_counts(&[2]), ..Stored::initial("2") };
/// let update = Msg::Update { key: "x".into(), version: two, put: 1, stamp: None };
/// assert_eq!(serde_json::to_value(&update).unwrap()["update"]["version"]["clock"], serde_json::json!([2]));
/// let ack = Msg::Ack { key: "x".into(), put: 1, outcome: Outcome::Newer, stamp: None };
/// assert_eq!(ack.stamp(), None, "stamped only with `stamp` set");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Writer → every other replica: the version a client's put made, with its clock.
    Update {
        /// The key.
        key: Arc<str>,
        /// The new version.
        version: Stored,
        /// The writer's name for the put, echoed by the answer.
        put: u64,
        /// Its timestamp (with `stamp` set).
        stamp: Option<Stamp>,
    },
    /// Replica → writer: what the update did here.
    Ack {
        /// The key.
        key: Arc<str>,
        /// The put answered.
        put: u64,
        /// What it did: taken, discarded, already held, refused as concurrent, or kept beside.
        outcome: Outcome,
        /// Its timestamp (with `stamp` set).
        stamp: Option<Stamp>,
    },
}

impl Msg {
    /// The message's timestamp, if stamped.
    ///
    /// ```
    /// use sim::protocols::replica::vector_clock::{Msg, Outcome, Stamp};
    /// let stamp = Some(Stamp { id: 7, at: 12 });
    /// let ack = Msg::Ack { key: "x".into(), put: 1, outcome: Outcome::Same, stamp };
    /// assert_eq!(ack.stamp(), stamp);
    /// ```
    pub fn stamp(&self) -> Option<Stamp> {
        match self {
            Msg::Update { stamp, .. } | Msg::Ack { stamp, .. } => *stamp,
        }
    }
}

/// The replicas' timers.
///
/// ```
/// use sim::protocols::replica::vector_clock::Timer;
/// let t = Timer::Acks { put: 4 };
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"acks":{"put":4}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Stop waiting for the answers to put `put`: answer the client with what was heard.
    Acks {
        /// The put.
        put: u64,
    },
}

/// What a replica keeps on disk, rewritten whole at every change: every version it holds
/// (written before it answers anyone, so an acknowledged put survives a crash), how many puts
/// it has taken, and how many times it has started (so message and put names stay unique
/// across restarts). Puts waiting for answers are not kept: after a crash their clients time
/// out, though the versions they wrote are on disk.
///
/// ```
/// use sim::protocols::replica::vector_clock::{Durable, Stored};
/// let mut disk = Durable::default();
/// disk.store.insert("x".into(), vec![Stored::initial("0")]);
/// assert_eq!((disk.incarnation, disk.writes, disk.store.len()), (0, 0, 1));
/// ```
#[derive(Clone, Debug, Default, Serialize)]
pub struct Durable {
    /// Starts so far, this one included.
    pub incarnation: u32,
    /// Puts taken so far.
    pub writes: u64,
    /// Key → the versions held.
    pub store: BTreeMap<Arc<str>, Vec<Stored>>,
}
