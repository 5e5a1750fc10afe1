//! Observations: the facts checkers need, emitted by a protocol the moment they become true.
//!
//! Checkers read observations, never protocol state, so one checker serves every protocol that
//! reports the same facts: *no split brain* judges Raft's leases and the naive fail-over's
//! masters alike.

use serde::Serialize;

use super::{ClockKind, LocalNanos, NodeId};

/// A node's role, in the vocabulary of the protocols we model.
///
/// ```
/// use sim::node::Role;
/// // As the trace writes a role.
/// assert_eq!(serde_json::to_string(&Role::PreCandidate).unwrap(), "\"pre_candidate\"");
/// assert_eq!(Role::PreCandidate.name(), "pre-candidate");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Raft: follows a leader, or waits for one.
    Follower,
    /// Raft with pre-vote: asking whether it could win before standing.
    PreCandidate,
    /// Raft: standing for election in a new term.
    Candidate,
    /// Raft: leads its term.
    Leader,
    /// A fail-over design's active node: leads (its epoch is its term).
    Master,
    /// A fail-over design's passive node, ready to take over.
    Standby,
}

impl Role {
    /// Leader and master are the roles that lead: the ones `election_safety` counts and that
    /// the `leader` fault target resolves to.
    ///
    /// ```
    /// use sim::node::Role;
    /// assert!(Role::Leader.leads() && Role::Master.leads());
    /// assert!(!Role::Candidate.leads() && !Role::Standby.leads());
    /// ```
    pub fn leads(self) -> bool {
        matches!(self, Role::Leader | Role::Master)
    }

    /// The role as traces and reports write it: `pre-candidate`.
    ///
    /// ```
    /// use sim::node::Role;
    /// assert_eq!(Role::Standby.name(), "standby");
    /// ```
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
///
/// A Raft leader of term 3 that holds a lease for 500 ms on its monotonic clock says so with
/// two observations, in a handler:
///
/// ```
/// use sim::node::{ClockKind, Observation, Role};
/// # let now: i64 = 2_000_000_000; // ctx.monotonic()
/// let elected = Observation::Role { role: Role::Leader, term: 3 };
/// let lease = Observation::Authority {
///     term: 3,
///     until: Some(now + 500_000_000),
///     clock: ClockKind::Monotonic,
/// };
/// // ctx.observe(elected); ctx.observe(lease);
/// assert_eq!((elected.kind(), lease.kind()), ("role", "authority"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Observation {
    /// The node now plays `role` in `term` (an epoch for designs without terms).
    Role {
        /// The role it now plays.
        role: Role,
        /// The term (or epoch) it plays it in.
        term: u64,
    },
    /// The node holds write authority in `term` until its *own* clock of kind `clock` reads
    /// `until` (`None`: until it observes a role that does not lead, or crashes). Repeating the
    /// observation extends or shortens the claim.
    Authority {
        /// The term the authority belongs to.
        term: u64,
        /// When the claim lapses, on the node's own clock; `None`: no deadline.
        until: Option<LocalNanos>,
        /// The clock `until` is read on.
        clock: ClockKind,
    },
    /// A failure detector at this node now suspects `peer` has crashed.
    Suspect {
        /// The node suspected.
        peer: NodeId,
    },
    /// A failure detector at this node no longer suspects `peer`.
    Trust {
        /// The node trusted again.
        peer: NodeId,
    },
    /// The node's log now *ends* with this entry at `index`: whatever followed it was deleted.
    /// `digest` chains the entry's term and command over the whole log before it, as the node
    /// itself computed it, so two logs agree up through `index` exactly when their digests there
    /// agree. Reported for every entry written, once per write.
    Appended {
        /// The entry's position in the log, from 1.
        index: u64,
        /// The term the entry was created in.
        term: u64,
        /// The chained digest of the log up through this entry.
        digest: u64,
    },
    /// The node, leading, learned that its log is committed up through `index` (the entry there
    /// has `term` and `digest`). Reported when its commit index advances, for the new index only.
    Committed {
        /// The new commit index.
        index: u64,
        /// The term of the entry there.
        term: u64,
        /// The chained digest of the log up through it.
        digest: u64,
    },
    /// The node applied the entry at `index` (of `term`, with `digest`) to its state machine.
    /// Entries are applied in index order; a restarted node applies them again from the start.
    Applied {
        /// The entry's index.
        index: u64,
        /// The entry's term.
        term: u64,
        /// The chained digest of the log up through it.
        digest: u64,
    },
    /// The node gave its vote in `term` to `candidate` (itself, when it stands for election).
    /// Reported for every vote granted, a repeated grant to the same candidate included, so a
    /// second candidate in one term shows even when the node's own record of its vote is wrong.
    /// A pre-vote is not a vote.
    Voted {
        /// The term the vote is for: the voter's current term.
        term: u64,
        /// The candidate that received it.
        candidate: NodeId,
    },
}

/// A set of observation kinds: the ones a checker or a report section reads, so that a run
/// hands it those and no others. Most read one or two kinds, and the log's observations
/// (appended, committed, applied) outnumber all others in a run with clients.
///
/// ```
/// use sim::node::{NodeId, Observation, ObservationKinds};
/// let logs = ObservationKinds::APPENDED.with(ObservationKinds::COMMITTED);
/// assert!(logs.contains(&Observation::Appended { index: 1, term: 1, digest: 7 }));
/// assert!(!logs.contains(&Observation::Suspect { peer: NodeId(1) }));
/// assert!(ObservationKinds::ALL.contains(&Observation::Suspect { peer: NodeId(1) }));
/// assert!(!ObservationKinds::NONE.contains(&Observation::Suspect { peer: NodeId(1) }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObservationKinds(u8);

impl ObservationKinds {
    /// No kind: for a checker that reads only faults, facts or the history.
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(!ObservationKinds::NONE.contains(&Observation::Role { role: Role::Leader, term: 1 }));
    /// ```
    pub const NONE: Self = ObservationKinds(0);
    /// Every kind: what a checker that says nothing is handed.
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(ObservationKinds::ALL.contains(&Observation::Applied { index: 3, term: 1, digest: 7 }));
    /// ```
    pub const ALL: Self = ObservationKinds(0xff);
    /// [`Observation::Role`].
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(ObservationKinds::ROLE.contains(&Observation::Role { role: Role::Follower, term: 2 }));
    /// ```
    pub const ROLE: Self = ObservationKinds(1);
    /// [`Observation::Authority`].
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(ObservationKinds::AUTHORITY.contains(&Observation::Authority { term: 2, until: None, clock: sim::node::ClockKind::Monotonic }));
    /// ```
    pub const AUTHORITY: Self = ObservationKinds(1 << 1);
    /// [`Observation::Suspect`].
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(ObservationKinds::SUSPECT.contains(&Observation::Suspect { peer: NodeId(1) }));
    /// ```
    pub const SUSPECT: Self = ObservationKinds(1 << 2);
    /// [`Observation::Trust`].
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(ObservationKinds::TRUST.contains(&Observation::Trust { peer: NodeId(1) }));
    /// ```
    pub const TRUST: Self = ObservationKinds(1 << 3);
    /// [`Observation::Appended`].
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(ObservationKinds::APPENDED.contains(&Observation::Appended { index: 1, term: 1, digest: 7 }));
    /// ```
    pub const APPENDED: Self = ObservationKinds(1 << 4);
    /// [`Observation::Committed`].
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(ObservationKinds::COMMITTED.contains(&Observation::Committed { index: 1, term: 1, digest: 7 }));
    /// ```
    pub const COMMITTED: Self = ObservationKinds(1 << 5);
    /// [`Observation::Applied`].
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(!ObservationKinds::APPLIED.contains(&Observation::Committed { index: 1, term: 1, digest: 7 }));
    /// ```
    pub const APPLIED: Self = ObservationKinds(1 << 6);
    /// [`Observation::Voted`].
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds};
    /// assert!(ObservationKinds::VOTED.contains(&Observation::Voted { term: 2, candidate: NodeId(1) }));
    /// assert!(ObservationKinds::ALL.contains(&Observation::Voted { term: 2, candidate: NodeId(1) }));
    /// ```
    pub const VOTED: Self = ObservationKinds(1 << 7);

    /// Both sets together.
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// // What a failure detector's checker reads.
    /// let detector = ObservationKinds::SUSPECT.with(ObservationKinds::TRUST);
    /// assert!(detector.contains(&Observation::Trust { peer: NodeId(2) }));
    /// assert!(!detector.contains(&Observation::Role { role: Role::Leader, term: 1 }));
    /// ```
    pub const fn with(self, other: Self) -> Self {
        ObservationKinds(self.0 | other.0)
    }

    /// Whether `obs` is of a kind in the set.
    ///
    /// ```
    /// use sim::node::{NodeId, Observation, ObservationKinds, Role};
    /// assert!(ObservationKinds::ROLE.contains(&Observation::Role { role: Role::Candidate, term: 5 }));
    /// assert!(!ObservationKinds::ROLE.contains(&Observation::Suspect { peer: NodeId(0) }));
    /// ```
    pub fn contains(self, obs: &Observation) -> bool {
        self.0 & obs.kind_bit() != 0
    }
}

impl Observation {
    /// The kind's bit in an [`ObservationKinds`].
    fn kind_bit(&self) -> u8 {
        let kind = match self {
            Observation::Role { .. } => ObservationKinds::ROLE,
            Observation::Authority { .. } => ObservationKinds::AUTHORITY,
            Observation::Suspect { .. } => ObservationKinds::SUSPECT,
            Observation::Trust { .. } => ObservationKinds::TRUST,
            Observation::Appended { .. } => ObservationKinds::APPENDED,
            Observation::Committed { .. } => ObservationKinds::COMMITTED,
            Observation::Applied { .. } => ObservationKinds::APPLIED,
            Observation::Voted { .. } => ObservationKinds::VOTED,
        };
        kind.0
    }

    /// A short name for the kind, as written in traces.
    ///
    /// ```
    /// use sim::node::{NodeId, Observation};
    /// assert_eq!(Observation::Suspect { peer: NodeId(1) }.kind(), "suspect");
    /// assert_eq!(Observation::Applied { index: 1, term: 1, digest: 7 }.kind(), "applied");
    /// assert_eq!(Observation::Voted { term: 1, candidate: NodeId(0) }.kind(), "voted");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Observation::Role { .. } => "role",
            Observation::Authority { .. } => "authority",
            Observation::Suspect { .. } => "suspect",
            Observation::Trust { .. } => "trust",
            Observation::Appended { .. } => "appended",
            Observation::Committed { .. } => "committed",
            Observation::Applied { .. } => "applied",
            Observation::Voted { .. } => "voted",
        }
    }
}
