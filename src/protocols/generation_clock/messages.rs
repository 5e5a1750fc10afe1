//! What the nodes of `generation-clock` send each other, their timer and what they keep on disk.
//! The facts the storage states are the fenced storage's (`protocols::stale_write`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::node::{Op, OpResult, RequestId};

/// The messages of `generation-clock`.
///
/// ```
/// use sim::protocols::generation_clock::Msg;
/// // As the trace holds them.
/// assert_eq!(serde_json::to_string(&Msg::Ping { seq: 3 }).unwrap(), r#"{"Ping":{"seq":3}}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Msg {
    /// The standby asks whether the master is alive.
    Ping {
        /// Numbers the standby's pings, from 1.
        seq: u64,
    },
    /// A master answers a ping with its generation (a standby does not answer).
    Pong {
        /// The `seq` of the ping answered.
        seq: u64,
        /// The master's generation.
        generation: u64,
    },
    /// A master asks the storage to carry out a client's operation, stamped with its generation.
    Apply {
        /// The master's generation.
        generation: u64,
        /// The client's request.
        request: RequestId,
        /// The operation.
        op: Op,
    },
    /// The storage carried the operation out.
    Done {
        /// The client's request.
        request: RequestId,
        /// Its result.
        result: OpResult,
    },
    /// The storage refused the operation: its generation is older than one it has seen.
    Stale {
        /// The client's request.
        request: RequestId,
        /// The highest generation the storage has seen.
        highest: u64,
    },
}

/// The one timer: the standby's ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// Every `ping_interval` on a standby: count an unanswered ping, promote after
    /// `missed_pings` in a row, else ping again.
    Ping,
}

/// What a node keeps on disk.
///
/// ```
/// use sim::protocols::generation_clock::Disk;
/// let fresh = Disk::default();
/// assert_eq!((fresh.generation, fresh.master, fresh.highest), (0, false, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Disk {
    /// A candidate's generation: its own while master, the highest it knows otherwise.
    pub generation: u64,
    /// Whether the candidate is master.
    pub master: bool,
    /// The storage's highest generation seen (survives its crash, or a restart would let an
    /// old master in again).
    pub highest: u64,
    /// The storage's data.
    pub data: BTreeMap<String, String>,
}
