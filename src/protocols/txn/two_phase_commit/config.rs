//! Two-phase commit's `[protocol]` table: the bank (how many accounts, what each holds), which
//! node coordinates, the timeouts, and the switches that make each lesson.
//!
//! `validate` rejects only what cannot run (no participant, a coordinator outside the cluster, a
//! zero interval). The broken designs — no decision log, a backup coordinator — are accepted on
//! purpose: lessons use them to show what goes wrong.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ConfigError, Duration, Protocol};
use crate::protocols::raft::{Raft, RaftConfig};

/// `[protocol]` settings of `two-phase-commit`.
///
/// ```
/// use sim::protocols::txn::two_phase_commit::TwoPcConfig;
/// // The lesson's broken design: the coordinator forgets its decisions in a crash.
/// let config: TwoPcConfig = toml::from_str("accounts = 2\nbalance = 100\ndecision_log = false").unwrap();
/// assert_eq!((config.accounts, config.balance, config.decision_log), (2, 100, false));
/// assert!(!config.cooperative_termination, "the textbook's other defaults stay");
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `two-phase-commit`.")]
pub struct TwoPcConfig {
    /// How many accounts the bank has, numbered from 0. Account `i` is held by participant
    /// `i % participants` (participants are the nodes that neither coordinate nor stand by, in
    /// `[cluster] nodes` order).
    pub accounts: u32,
    /// Each account's balance when the run starts.
    pub balance: u64,
    /// The index in `[cluster] nodes` of the coordinator (0: the first node). Clients that ask
    /// another node are sent to it.
    pub coordinator: u32,
    /// How long the coordinator waits for every vote before it decides to abort.
    pub vote_timeout: Duration,
    /// How often a prepared participant that has not heard the decision (in doubt) asks for it.
    pub inquiry_interval: Duration,
    /// How often the coordinator sends its decision again to the participants that have not
    /// acknowledged it.
    pub retry_interval: Duration,
    /// The coordinator writes its decision to its log before sending it (the textbook). Off,
    /// it keeps the decision in memory only: after a crash it takes every transaction it had
    /// not finished for undecided and aborts it, though a participant may have committed.
    pub decision_log: bool,
    /// An in-doubt participant also asks the other participants of its transaction: one that
    /// knows the outcome tells it, one that never prepared aborts on its own and says so; when
    /// every one of them is prepared they all stay blocked.
    pub cooperative_termination: bool,
    /// The node after the coordinator (in `[cluster] nodes` order) stands by: the coordinator
    /// copies every log record to it and sends it a heartbeat every `heartbeat_interval`; when
    /// it hears nothing for `takeover_timeout` it takes over, aborting what its copy shows
    /// undecided. A partition makes both decide.
    pub backup_coordinator: bool,
    /// How often the coordinator tells its backup it is alive (with `backup_coordinator`).
    pub heartbeat_interval: Duration,
    /// How long the backup waits without hearing the coordinator before taking over (with
    /// `backup_coordinator`).
    pub takeover_timeout: Duration,
    /// Where the coordinator's log, and so its decision, lives: `"coordinator"` (its own disk,
    /// the textbook) or `"raft"` (a Raft group of `coordinators` replicas).
    pub decision_on: DecisionOn,
    /// With `decision_on = "raft"`: how many nodes, from `coordinator` on in `[cluster] nodes`
    /// order, form the coordinator's Raft group. A majority of them must be up and connected
    /// for transfers to proceed.
    pub coordinators: u32,
    /// With `decision_on = "raft"`: the settings of the coordinator replicas' Raft servers, as
    /// `[protocol.raft]` (the `raft` protocol's own keys).
    pub raft: RaftConfig,
}

/// Where the coordinator keeps its log and makes its decision.
///
/// ```
/// use sim::protocols::txn::two_phase_commit::{DecisionOn, TwoPcConfig};
/// let config: TwoPcConfig = toml::from_str("decision_on = \"raft\"\ncoordinators = 3").unwrap();
/// assert_eq!((config.decision_on, config.coordinators), (DecisionOn::Raft, 3));
/// ```
// The schema's description: the first paragraph above, without the example.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[schemars(description = "Where the coordinator keeps its log and makes its decision.")]
#[serde(rename_all = "kebab-case")]
pub enum DecisionOn {
    /// One coordinator's own disk (and its backup's copy, with `backup_coordinator`): the
    /// textbook.
    #[default]
    Coordinator,
    /// Every record the coordinator writes — begin, decision, end — is a command replicated by
    /// a Raft group of coordinator replicas (the existing `raft` protocol); only the group's
    /// leader coordinates, and a decision counts once committed, the first one for a
    /// transaction winning. Atomic under partitions, and it proceeds while a majority of the
    /// replicas is up.
    Raft,
}

impl Default for TwoPcConfig {
    fn default() -> Self {
        TwoPcConfig {
            accounts: 2,
            balance: 100,
            coordinator: 0,
            vote_timeout: Duration::from_millis(500),
            inquiry_interval: Duration::from_millis(200),
            retry_interval: Duration::from_millis(200),
            decision_log: true,
            cooperative_termination: false,
            backup_coordinator: false,
            heartbeat_interval: Duration::from_millis(50),
            takeover_timeout: Duration::from_millis(500),
            decision_on: DecisionOn::Coordinator,
            coordinators: 3,
            raft: RaftConfig::default(),
        }
    }
}

/// Checks what the types cannot.
pub(crate) fn validate(cfg: &TwoPcConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cfg.coordinator as usize >= cluster_size {
        return Err(ConfigError::new(
            "coordinator",
            format!(
                "must be the index of a node of the cluster, 0 to {} (got {})",
                cluster_size.saturating_sub(1),
                cfg.coordinator
            ),
        ));
    }
    if cfg.decision_on == DecisionOn::Raft {
        return validate_raft(cfg, cluster_size);
    }
    let deciders = if cfg.backup_coordinator { 2 } else { 1 };
    if cluster_size <= deciders {
        return Err(ConfigError::new(
            "",
            format!(
                "two-phase commit needs at least one participant besides the coordinator{}: \
                 at least {} nodes (got {cluster_size})",
                if cfg.backup_coordinator {
                    " and its backup"
                } else {
                    ""
                },
                deciders + 1
            ),
        ));
    }
    validate_common(cfg)
}

/// `decision_on = "raft"`: a group of at least one replica, a participant besides, no standby
/// (the group replaces it), and Raft settings Raft accepts.
fn validate_raft(cfg: &TwoPcConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cfg.backup_coordinator {
        return Err(ConfigError::new(
            "backup_coordinator",
            "cannot be combined with decision_on = \"raft\": the Raft group replaces the backup",
        ));
    }
    if cfg.coordinators == 0 {
        return Err(ConfigError::new(
            "coordinators",
            "must be at least 1 (got 0)",
        ));
    }
    if cfg.coordinators as usize >= cluster_size {
        return Err(ConfigError::new(
            "coordinators",
            format!(
                "must leave at least one participant: fewer than the cluster's {cluster_size} \
                 nodes (got {})",
                cfg.coordinators
            ),
        ));
    }
    if let Err(e) = <Raft as Protocol>::validate(&cfg.raft, cfg.coordinators as usize) {
        return Err(ConfigError::new(
            "raft",
            format!("{}: {}", e.field, e.message),
        ));
    }
    validate_common(cfg)
}

fn validate_common(cfg: &TwoPcConfig) -> Result<(), ConfigError> {
    if cfg.accounts == 0 {
        return Err(ConfigError::new("accounts", "must be at least 1 (got 0)"));
    }
    if cfg.balance > i64::MAX as u64 / u64::from(cfg.accounts) {
        return Err(ConfigError::new(
            "balance",
            format!(
                "is too large: the accounts' total must fit in a signed 64-bit integer (got {})",
                cfg.balance
            ),
        ));
    }
    for (field, d) in [
        ("vote_timeout", cfg.vote_timeout),
        ("inquiry_interval", cfg.inquiry_interval),
        ("retry_interval", cfg.retry_interval),
        ("heartbeat_interval", cfg.heartbeat_interval),
        ("takeover_timeout", cfg.takeover_timeout),
    ] {
        if d.nanos() == 0 {
            return Err(ConfigError::new(
                field,
                "must be greater than zero (got 0s)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_run_on_three_nodes_and_bad_values_name_their_key() {
        let ok = TwoPcConfig::default();
        assert_eq!(validate(&ok, 3), Ok(()));
        assert_eq!(validate(&ok, 1).unwrap_err().field, "");
        let backup = TwoPcConfig {
            backup_coordinator: true,
            ..TwoPcConfig::default()
        };
        assert!(validate(&backup, 2).unwrap_err().message.contains("backup"));
        assert_eq!(validate(&backup, 3), Ok(()));
        let far = TwoPcConfig {
            coordinator: 3,
            ..TwoPcConfig::default()
        };
        assert_eq!(validate(&far, 3).unwrap_err().field, "coordinator");
        let none = TwoPcConfig {
            accounts: 0,
            ..TwoPcConfig::default()
        };
        assert_eq!(validate(&none, 3).unwrap_err().field, "accounts");
        let zero = TwoPcConfig {
            vote_timeout: Duration::ZERO,
            ..TwoPcConfig::default()
        };
        assert_eq!(validate(&zero, 3).unwrap_err().field, "vote_timeout");
    }

    #[test]
    fn a_raft_group_leaves_a_participant_and_replaces_the_backup() {
        let raft = TwoPcConfig {
            decision_on: DecisionOn::Raft,
            ..TwoPcConfig::default()
        };
        assert_eq!(validate(&raft, 4), Ok(()));
        assert_eq!(validate(&raft, 3).unwrap_err().field, "coordinators");
        let both = TwoPcConfig {
            backup_coordinator: true,
            ..raft.clone()
        };
        assert_eq!(validate(&both, 5).unwrap_err().field, "backup_coordinator");
        let none = TwoPcConfig {
            coordinators: 0,
            ..raft.clone()
        };
        assert_eq!(validate(&none, 5).unwrap_err().field, "coordinators");
        let mut bad_raft = raft.clone();
        bad_raft.raft.heartbeat_interval = Duration::ZERO;
        let e = validate(&bad_raft, 5).unwrap_err();
        assert_eq!(e.field, "raft");
        assert!(e.message.starts_with("heartbeat_interval"), "{}", e.message);
    }
}
