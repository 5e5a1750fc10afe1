//! Raft's `[protocol]` table: timeouts, heartbeats, pre-vote, check-quorum, vote stickiness, the
//! lease and the clock it is measured on, log replication's batch size, how reads are served,
//! and the commit rule (with its broken twin).
//!
//! `validate` rejects only settings that cannot run (an empty or reversed timeout range, a zero
//! interval). Settings that are merely unwise — a heartbeat slower than the election timeout, a
//! lease as long as the election timeout — are accepted on purpose: lessons use them to show
//! what goes wrong.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ClockKind, ConfigError, Duration, Nanos};

/// `[protocol]` settings of `raft`.
///
/// ```
/// use sim::protocols::raft::{RaftConfig, ReadMode};
/// // `[protocol]` of a key-value lesson: lease reads, the rest as the thesis recommends.
/// let config: RaftConfig = toml::from_str("read = \"lease\"\nlease_duration = \"100ms\"").unwrap();
/// assert_eq!(config.read, ReadMode::Lease);
/// assert!(config.pre_vote && config.check_quorum, "the thesis's defaults stay on");
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `raft`.")]
pub struct RaftConfig {
    /// The range `[min, max]` each election timeout is drawn from, uniformly at nanosecond
    /// granularity, every time a follower or candidate arms its election timer (Raft §5.2).
    pub election_timeout: [Duration; 2],
    /// How often a leader sends empty AppendEntries (heartbeats) to keep its followers from
    /// starting elections (Raft §5.2).
    pub heartbeat_interval: Duration,
    /// Before starting an election, ask for pre-votes without incrementing the term, so a
    /// server that was cut off cannot disrupt the cluster when it returns (thesis §9.6). On by
    /// default; off, a rejoining server's raised term deposes a healthy leader.
    pub pre_vote: bool,
    /// A leader that has heard from no majority (itself included) for a whole minimum election
    /// timeout steps down (thesis §6.2, §9.6): a leader cut off from the majority stops
    /// believing it leads, and with pre-vote its followers need not raise the term to be free
    /// of it. On by default.
    pub check_quorum: bool,
    /// A server that heard from a current leader within the minimum election timeout ignores
    /// vote requests: it neither adopts their term nor grants its vote (thesis §4.2.3). The
    /// leader lease relies on it; turning it off lets a new leader be elected inside the old
    /// leader's lease.
    pub vote_stickiness: bool,
    /// How long after sending a heartbeat round that a majority acknowledged the leader may
    /// assume no other leader exists (thesis §6.4). Default: 9/10 of the minimum election
    /// timeout, leaving a margin for clock drift.
    pub lease_duration: Option<Duration>,
    /// The clock the lease — the leader's claim and the followers' vote stickiness that backs
    /// it — is measured on. `"monotonic"` (default) is what real servers use: it drifts but
    /// never jumps. `"wall"` is the broken design: a backward NTP step on the leader stretches
    /// or revives its lease, a forward step on a follower cuts its promise short.
    pub lease_clock: ClockKind,
    /// The most entries one AppendEntries carries (Raft §5.3); a follower far behind catches
    /// up over several round trips.
    pub max_entries_per_append: u64,
    /// How the leader serves a `get` (Raft §8, thesis §6.4). Writes always go through the log.
    pub read: ReadMode,
    /// Which entries a leader may commit by counting replicas (Raft §5.4.2, Figure 8).
    pub commit_rule: CommitRule,
}

/// How reads are served.
///
/// ```
/// use sim::protocols::raft::{RaftConfig, ReadMode};
/// let config: RaftConfig = toml::from_str("read = \"read-index\"").unwrap();
/// assert_eq!(config.read, ReadMode::ReadIndex);
/// assert_eq!(ReadMode::default(), ReadMode::Log, "through the log unless told otherwise");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
// The schema's description: the first line above, without the example.
#[schemars(description = "How reads are served.")]
pub enum ReadMode {
    /// A `get` is appended to the log and answered once applied, like a write. Linearizable.
    #[default]
    Log,
    /// The leader notes its commit index, confirms it still leads with a heartbeat round a
    /// majority acknowledges, waits until it has applied that index, then answers from its
    /// state (thesis §6.4). It first needs an entry of its own term committed. Linearizable.
    ReadIndex,
    /// The leader answers from its state at once while its lease (on its own clock) is valid
    /// and its term's no-op is committed; otherwise as `read-index`. Linearizable only while
    /// clocks keep pace (thesis §6.4.1).
    Lease,
    /// Any node answers a `get` from its own applied state at once: stale reads. A broken
    /// design, for lessons.
    Follower,
}

/// When a leader may mark an entry committed.
///
/// ```
/// use sim::protocols::raft::{CommitRule, RaftConfig};
/// // The broken Figure 8 rule, as a lesson writes it.
/// let config: RaftConfig = toml::from_str("commit_rule = \"any-term\"").unwrap();
/// assert_eq!(config.commit_rule, CommitRule::AnyTerm);
/// assert_eq!(CommitRule::default(), CommitRule::CurrentTerm);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
// The schema's description: the first line above, without the example.
#[schemars(description = "When a leader may mark an entry committed.")]
pub enum CommitRule {
    /// Only an entry of the leader's current term is committed by counting replicas; earlier
    /// entries are committed with it (§5.4.2). Correct.
    #[default]
    CurrentTerm,
    /// Any entry stored on a majority is committed, whatever its term. Broken: Figure 8 shows a
    /// later leader overwriting such an entry.
    AnyTerm,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout: [Duration::from_millis(150), Duration::from_millis(300)],
            heartbeat_interval: Duration::from_millis(50),
            pre_vote: true,
            check_quorum: true,
            vote_stickiness: true,
            lease_duration: None,
            lease_clock: ClockKind::Monotonic,
            max_entries_per_append: 64,
            read: ReadMode::Log,
            commit_rule: CommitRule::CurrentTerm,
        }
    }
}

impl RaftConfig {
    /// The lease as configured, or 9/10 of the minimum election timeout.
    pub(crate) fn lease(&self) -> Nanos {
        match self.lease_duration {
            Some(lease) => lease.nanos(),
            None => (u128::from(self.election_timeout[0].nanos()) * 9 / 10) as Nanos,
        }
    }
}

/// Checks what the types cannot. Any cluster size works: one node elects itself.
pub(crate) fn validate(cfg: &RaftConfig, _cluster_size: usize) -> Result<(), ConfigError> {
    let [min, max] = cfg.election_timeout;
    if min.nanos() == 0 {
        return Err(ConfigError::new(
            "election_timeout",
            "the minimum must be greater than zero (got 0s)",
        ));
    }
    if min > max {
        return Err(ConfigError::new(
            "election_timeout",
            format!("the minimum ({min}) exceeds the maximum ({max})"),
        ));
    }
    if cfg.heartbeat_interval.nanos() == 0 {
        return Err(ConfigError::new(
            "heartbeat_interval",
            "must be greater than zero (got 0s)",
        ));
    }
    if cfg.max_entries_per_append == 0 {
        return Err(ConfigError::new(
            "max_entries_per_append",
            "must be at least 1 (got 0)",
        ));
    }
    if cfg.lease_duration.is_some_and(|lease| lease.nanos() == 0) {
        return Err(ConfigError::new(
            "lease_duration",
            "must be greater than zero (got 0s); leave it out for 9/10 of the minimum election timeout",
        ));
    }
    Ok(())
}
