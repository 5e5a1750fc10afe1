//! What Paxos nodes send, remember and state: ballots, values, the five messages of the two
//! phases, the one timer, the acceptor's durable state and the facts the invariants read.

use serde::Serialize;

use crate::node::NodeId;

/// A ballot (proposal number): a round, with the proposer that owns it breaking ties, so that
/// no two proposers ever use the same ballot. Ordered by round, then by proposer.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::paxos::Ballot;
/// let a = Ballot { round: 2, proposer: NodeId(0) };
/// let b = Ballot { round: 2, proposer: NodeId(1) };
/// assert!(a < b && b < Ballot { round: 3, proposer: NodeId(0) });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Ballot {
    /// Raised past every round a proposer has seen before it begins a ballot.
    pub round: u64,
    /// The proposer that began it.
    pub proposer: NodeId,
}

/// A value to choose: the one proposer `0` was handed ("A's value"). Every proposer proposes
/// its own, unless a promise tells it of one already accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Value(pub NodeId);

/// The messages of the two phases.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::paxos::{Ballot, Msg};
/// // As the trace holds them.
/// let prepare = Msg::Prepare { ballot: Ballot { round: 1, proposer: NodeId(0) } };
/// assert_eq!(
///     serde_json::to_string(&prepare).unwrap(),
///     r#"{"prepare":{"ballot":{"round":1,"proposer":0}}}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Phase 1a, proposer → acceptors: promise to ignore every lower ballot.
    Prepare {
        /// The ballot asked for.
        ballot: Ballot,
    },
    /// Phase 1b, acceptor → proposer: promised, with the value it accepted last, if any.
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// The highest ballot this acceptor accepted a value in, and that value.
        accepted: Option<(Ballot, Value)>,
    },
    /// Phase 2a, proposer → acceptors: accept this value in this ballot.
    Accept {
        /// The ballot of the proposal.
        ballot: Ballot,
        /// The value: the proposer's own, or the one the promises reported.
        value: Value,
    },
    /// Phase 2b, acceptor → the ballot's proposer and every learner: accepted.
    Accepted {
        /// The ballot accepted.
        ballot: Ballot,
        /// The value accepted.
        value: Value,
    },
    /// Acceptor → proposer: refused, having promised a higher ballot.
    Nack {
        /// The ballot refused.
        ballot: Ballot,
        /// The higher ballot promised.
        promised: Ballot,
    },
}

/// Paxos's one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// A proposer begins a new ballot: its first, after a backoff, or because the last one
    /// timed out.
    Propose,
}

/// What a node keeps on disk: the acceptor's promise and last accepted proposal (Paxos is safe
/// across crashes only if these survive), and the proposer's highest round (so a restarted
/// proposer never begins a ballot it has used, perhaps with another value).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Durable {
    /// The highest ballot promised.
    pub promised: Option<Ballot>,
    /// The highest ballot accepted, and its value.
    pub accepted: Option<(Ballot, Value)>,
    /// The highest round this node's proposer began.
    pub round: u64,
}

/// Paxos's facts, for its invariants, its report section and `sim replay`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// A proposer begins phase 1 of a ballot.
    Began {
        /// The ballot.
        ballot: Ballot,
    },
    /// An acceptor promised a ballot.
    Promised {
        /// The ballot.
        ballot: Ballot,
    },
    /// A proposer, promised by a majority, asks the acceptors to accept a value (phase 2).
    Proposed {
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
        /// Its own value (`false`: one a promise reported as already accepted).
        own: bool,
    },
    /// An acceptor accepted a proposal.
    Accepted {
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
        /// A majority of the acceptors: how many must accept one ballot to choose its value.
        quorum: u32,
    },
    /// A learner heard a majority of acceptors accept one ballot: the value is chosen.
    Learned {
        /// The ballot.
        ballot: Ballot,
        /// The value.
        value: Value,
    },
}
