//! The arbiter's `[protocol]` table: how long a session lives without a heartbeat, how often
//! the candidates beat and the master writes, whether the storage checks generations
//! (`check_generation`) and whether a recovered primary takes its place back (`fail_back`).
//!
//! `validate` rejects only settings that cannot run (too few nodes, a zero interval, a
//! heartbeat no quicker than the session it keeps alive). The broken design
//! (`check_generation = false`) is accepted on purpose: a lesson uses it.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ConfigError, Duration};

/// `[protocol]` settings of `arbiter`.
///
/// ```
/// use sim::protocols::arbiter::ArbiterConfig;
/// let config: ArbiterConfig = toml::from_str("check_generation = false\nfail_back = true").unwrap();
/// assert_eq!((config.check_generation, config.fail_back), (false, true));
/// assert_eq!(config.session_timeout.nanos(), 500_000_000);
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `arbiter`.")]
pub struct ArbiterConfig {
    /// How long the coordination service keeps a session it hears no heartbeat from, on its
    /// own monotonic clock; when it lapses, the session's registration is deleted (an
    /// ephemeral node).
    pub session_timeout: Duration,
    /// How often each candidate sends its session a heartbeat.
    pub heartbeat_interval: Duration,
    /// How often the master writes to the storage.
    pub write_interval: Duration,
    /// How long a candidate waits for its registration to be answered before asking again.
    pub retry: Duration,
    /// Whether every write carries the master's generation (its registration's sequence
    /// number) and the storage refuses one older than the highest it has seen (default true).
    /// false: the broken design, where a master paused past its session writes on waking.
    pub check_generation: bool,
    /// Fail-back (seed text 000, 「Fail-Back: 失效自动恢复」): the first candidate is the
    /// preferred primary, and a master that sees it registered yields to it (deletes its own
    /// registration and registers again, behind it). Default false: a recovered primary waits
    /// its turn like any other.
    pub fail_back: bool,
}

impl Default for ArbiterConfig {
    fn default() -> Self {
        ArbiterConfig {
            session_timeout: Duration::from_millis(500),
            heartbeat_interval: Duration::from_millis(100),
            write_interval: Duration::from_millis(50),
            retry: Duration::from_millis(200),
            check_generation: true,
            fail_back: false,
        }
    }
}

/// The nodes: the coordination service, the storage, and at least two candidates.
pub(crate) fn validate(config: &ArbiterConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cluster_size < 4 {
        return Err(ConfigError::new(
            "",
            format!(
                "arbiter needs at least 4 nodes (the coordination service, the storage, and two \
                 or more candidates for master), not {cluster_size}"
            ),
        ));
    }
    for (field, value) in [
        ("session_timeout", config.session_timeout),
        ("heartbeat_interval", config.heartbeat_interval),
        ("write_interval", config.write_interval),
        ("retry", config.retry),
    ] {
        if value == Duration::ZERO {
            return Err(ConfigError::new(
                field,
                format!("{field} must be greater than zero"),
            ));
        }
    }
    if config.heartbeat_interval >= config.session_timeout {
        return Err(ConfigError::new(
            "heartbeat_interval",
            "heartbeat_interval must be shorter than session_timeout, or every session lapses \
             between two heartbeats",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_with_two_candidates() {
        assert!(validate(&ArbiterConfig::default(), 4).is_ok());
    }

    #[test]
    fn too_few_nodes_are_refused() {
        let err = validate(&ArbiterConfig::default(), 3).unwrap_err();
        assert!(err.message.contains("at least 4 nodes"), "{}", err.message);
    }

    #[test]
    fn a_heartbeat_slower_than_the_session_is_refused() {
        let config = ArbiterConfig {
            heartbeat_interval: Duration::from_millis(500),
            ..ArbiterConfig::default()
        };
        let err = validate(&config, 4).unwrap_err();
        assert_eq!(err.field, "heartbeat_interval");
    }

    #[test]
    fn a_zero_interval_is_refused() {
        let config = ArbiterConfig {
            write_interval: Duration::ZERO,
            ..ArbiterConfig::default()
        };
        assert_eq!(validate(&config, 4).unwrap_err().field, "write_interval");
    }
}
