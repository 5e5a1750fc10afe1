//! What vector-clock replicas send each other, their timers, and what they keep on disk.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::rules::{Outcome, Stored};

/// A message's timestamp, with the id that names it in `Sent` and `Received` facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Stamp {
    /// Unique in the run: sender index << 48 | incarnation << 32 | the sender's count.
    pub id: u64,
    /// A Lamport time, or the sender's wall clock in nanoseconds.
    pub at: i64,
}

/// A message between replicas.
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
    pub fn stamp(&self) -> Option<Stamp> {
        match self {
            Msg::Update { stamp, .. } | Msg::Ack { stamp, .. } => *stamp,
        }
    }
}

/// The replicas' timers.
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
#[derive(Clone, Debug, Default, Serialize)]
pub struct Durable {
    /// Starts so far, this one included.
    pub incarnation: u32,
    /// Puts taken so far.
    pub writes: u64,
    /// Key → the versions held.
    pub store: BTreeMap<Arc<str>, Vec<Stored>>,
}
