//! What the nodes of a Paxos log send, remember and state: commands, the slots of the log, the
//! five messages of the two phases, the timers, the acceptor's durable state and the facts the
//! invariants and the report read.

use std::collections::BTreeMap;

use serde::Serialize;

use super::super::Ballot;
use crate::node::NodeId;

/// What one instance of the log chooses: a client command handed to a proposer, or a no-op a
/// new leader fills a gap with (an instance its phase 1 found nothing chosen in, below one
/// that has something accepted).
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::paxos::log::Cmd;
/// let c = Cmd::Command { by: NodeId(0), seq: 3 };
/// assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"command":{"by":0,"seq":3}}"#);
/// assert_eq!(serde_json::to_string(&Cmd::Noop).unwrap(), r#""noop""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cmd {
    /// The `seq`-th command (from 0) handed to proposer `by`.
    Command {
        /// The proposer its client handed it to.
        by: NodeId,
        /// Its place among that proposer's commands.
        seq: u32,
    },
    /// Nothing: fills an instance so that the log has no gap.
    Noop,
}

/// One instance's accepted proposal, as a `Promise` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Slot {
    /// The instance (position in the log, from 0).
    pub instance: u64,
    /// The ballot it was accepted in.
    pub ballot: Ballot,
    /// The value accepted.
    pub value: Cmd,
}

/// The messages of the two phases, each for one instance of the log — or, for a `multi`
/// leader's `Prepare`, for an instance and every later one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Phase 1a: promise to ignore every lower ballot. `classic`: for this instance's
    /// decision; `multi`: for this instance and all later ones.
    Prepare {
        /// The ballot asked for.
        ballot: Ballot,
        /// The first instance the proposer does not know to be chosen.
        instance: u64,
    },
    /// Phase 1b: promised, with what this acceptor accepted in the instances the `Prepare`
    /// covers.
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// The instance of the `Prepare`.
        instance: u64,
        /// The acceptor's accepted proposals in the instances covered.
        accepted: Vec<Slot>,
    },
    /// Phase 2a: accept this value in this instance.
    Accept {
        /// The ballot.
        ballot: Ballot,
        /// The instance.
        instance: u64,
        /// The value.
        value: Cmd,
    },
    /// Phase 2b, acceptor → the ballot's proposer (the distinguished learner): accepted.
    Accepted {
        /// The ballot.
        ballot: Ballot,
        /// The instance.
        instance: u64,
        /// The value.
        value: Cmd,
    },
    /// Refused: the acceptor promised a higher ballot.
    Nack {
        /// The ballot refused.
        ballot: Ballot,
        /// The higher ballot promised.
        promised: Ballot,
    },
}

/// The timers of a Paxos log's proposer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// The proposer's client hands it its next command.
    Arrive,
    /// A phase heard no majority in time (start over with a higher ballot), or a backoff
    /// after a preemption is over.
    Retry,
}

/// What a node keeps on disk: the acceptor's promise and every proposal it accepted, and the
/// proposer's highest round.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Durable {
    /// The highest ballot promised (one for every instance, as Multi-Paxos acceptors keep it).
    pub promised: Option<Ballot>,
    /// Per instance, the highest ballot accepted and its value.
    pub accepted: BTreeMap<u64, (Ballot, Cmd)>,
    /// The highest round this node's proposer began.
    pub round: u64,
}

/// The facts of a Paxos log, for its invariants, its report section and `sim replay`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// A proposer takes up one of its commands: the instant its decision's latency counts from.
    Took {
        /// The command.
        value: Cmd,
    },
    /// A proposer begins phase 1 (for `instance`, or from `instance` on).
    Began {
        /// The ballot.
        ballot: Ballot,
        /// The first instance it covers.
        instance: u64,
    },
    /// A proposer sends phase 2's `Accept`.
    Proposed {
        /// The ballot.
        ballot: Ballot,
        /// The instance.
        instance: u64,
        /// The value.
        value: Cmd,
    },
    /// An acceptor accepted a proposal.
    Accepted {
        /// The ballot.
        ballot: Ballot,
        /// The instance.
        instance: u64,
        /// The value.
        value: Cmd,
        /// A majority of the acceptors.
        quorum: u32,
    },
    /// A proposer heard a majority accept its proposal: the instance's value is chosen.
    Chosen {
        /// The ballot.
        ballot: Ballot,
        /// The instance.
        instance: u64,
        /// The value.
        value: Cmd,
        /// How many times phase 1 ran for this decision (one round trip each).
        prepares: u32,
        /// How many times phase 2 ran for it (one round trip each).
        accepts: u32,
    },
    /// A node sent this many messages in one step (what the cost per decision counts).
    Sent {
        /// The messages.
        messages: u32,
    },
}
