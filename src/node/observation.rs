//! Observations: the facts checkers need, emitted by a protocol the moment they become true.
//!
//! Checkers read observations, never protocol state, so one checker serves every protocol that
//! reports the same facts: *no split brain* judges Raft's leases and the naive fail-over's
//! masters alike.

use serde::Serialize;

use super::{ClockKind, LocalNanos, NodeId};

/// A node's role, in the vocabulary of the protocols we model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
    Master,
    Standby,
}

impl Role {
    /// Leader and master are the roles that lead: the ones `election_safety` counts and that
    /// the `leader` fault target resolves to.
    pub fn leads(self) -> bool {
        matches!(self, Role::Leader | Role::Master)
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Follower => "follower",
            Role::PreCandidate => "pre-candidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
            Role::Master => "master",
            Role::Standby => "standby",
        }
    }
}

/// A fact about one node, true from the instant it is observed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Observation {
    /// The node now plays `role` in `term` (an epoch for designs without terms).
    Role { role: Role, term: u64 },
    /// The node holds write authority in `term` until its *own* clock of kind `clock` reads
    /// `until` (`None`: until it observes a role that does not lead, or crashes). Repeating the
    /// observation extends or shortens the claim.
    Authority {
        term: u64,
        until: Option<LocalNanos>,
        clock: ClockKind,
    },
    /// A failure detector at this node now suspects `peer` has crashed.
    Suspect { peer: NodeId },
    /// A failure detector at this node no longer suspects `peer`.
    Trust { peer: NodeId },
    /// The node's log now *ends* with this entry at `index`: whatever followed it was deleted.
    /// `digest` chains the entry's term and command over the whole log before it, as the node
    /// itself computed it, so two logs agree up through `index` exactly when their digests there
    /// agree. Reported for every entry written, once per write.
    Appended { index: u64, term: u64, digest: u64 },
    /// The node, leading, learned that its log is committed up through `index` (the entry there
    /// has `term` and `digest`). Reported when its commit index advances, for the new index only.
    Committed { index: u64, term: u64, digest: u64 },
    /// The node applied the entry at `index` (of `term`, with `digest`) to its state machine.
    /// Entries are applied in index order; a restarted node applies them again from the start.
    Applied { index: u64, term: u64, digest: u64 },
}

impl Observation {
    /// A short name for the kind, as written in traces.
    pub fn kind(&self) -> &'static str {
        match self {
            Observation::Role { .. } => "role",
            Observation::Authority { .. } => "authority",
            Observation::Suspect { .. } => "suspect",
            Observation::Trust { .. } => "trust",
            Observation::Appended { .. } => "appended",
            Observation::Committed { .. } => "committed",
            Observation::Applied { .. } => "applied",
        }
    }
}
