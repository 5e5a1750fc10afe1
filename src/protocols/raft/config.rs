//! Raft's `[protocol]` table: timeouts, heartbeats, pre-vote, vote stickiness and the lease.
//!
//! `validate` rejects only settings that cannot run (an empty or reversed timeout range, a zero
//! interval). Settings that are merely unwise — a heartbeat slower than the election timeout, a
//! lease as long as the election timeout — are accepted on purpose: lessons use them to show
//! what goes wrong.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ConfigError, Duration, Nanos};

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RaftConfig {
    /// The range `[min, max]` each election timeout is drawn from, uniformly at nanosecond
    /// granularity, every time a follower or candidate arms its election timer (Raft §5.2).
    pub election_timeout: [Duration; 2],
    /// How often a leader sends empty AppendEntries (heartbeats) to keep its followers from
    /// starting elections (Raft §5.2).
    pub heartbeat_interval: Duration,
    /// Before starting an election, ask for pre-votes without incrementing the term, so a
    /// server that was cut off cannot disrupt the cluster when it returns (thesis §9.6).
    pub pre_vote: bool,
    /// A server that heard from a current leader within the minimum election timeout ignores
    /// vote requests: it neither adopts their term nor grants its vote (thesis §4.2.3). The
    /// leader lease relies on it; turning it off lets a new leader be elected inside the old
    /// leader's lease.
    pub vote_stickiness: bool,
    /// How long after sending a heartbeat round that a majority acknowledged the leader may
    /// assume no other leader exists (thesis §6.4). Default: 9/10 of the minimum election
    /// timeout, leaving a margin for clock drift.
    pub lease_duration: Option<Duration>,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout: [Duration::from_millis(150), Duration::from_millis(300)],
            heartbeat_interval: Duration::from_millis(50),
            pre_vote: false,
            vote_stickiness: true,
            lease_duration: None,
        }
    }
}

impl RaftConfig {
    /// The lease as configured, or 9/10 of the minimum election timeout.
    pub fn lease(&self) -> Nanos {
        match self.lease_duration {
            Some(lease) => lease.nanos(),
            None => (u128::from(self.election_timeout[0].nanos()) * 9 / 10) as Nanos,
        }
    }
}

/// Checks what the types cannot. Any cluster size works: one node elects itself.
pub fn validate(cfg: &RaftConfig, _cluster_size: usize) -> Result<(), ConfigError> {
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
    if cfg.lease_duration.is_some_and(|lease| lease.nanos() == 0) {
        return Err(ConfigError::new(
            "lease_duration",
            "must be greater than zero (got 0s); leave it out for 9/10 of the minimum election timeout",
        ));
    }
    Ok(())
}
