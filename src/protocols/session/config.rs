//! The session store's `[protocol]` table: how long a replica holds a read that is ahead of it,
//! and whether the nodes repair each other by anti-entropy.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ConfigError, Duration};

/// `[protocol]` settings of `session`.
///
/// ```
/// use sim::protocols::session::SessionConfig;
/// let config: SessionConfig = toml::from_str("anti_entropy = \"200ms\"").unwrap();
/// assert_eq!(config.anti_entropy.map(|d| d.to_string()), Some("200ms".into()));
/// assert_eq!(config.token_wait.to_string(), "100ms");
/// ```
// The schema's description: the first line above, without the example.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(description = "`[protocol]` settings of `session`.")]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// Every this often, each node sends what it holds (every key's version and value) to one
    /// peer drawn from its stream, which takes what is newer and answers with what the sender
    /// lacks: lost replication messages are repaired. Default none: a replica that missed a
    /// write keeps its older version until the key is written again.
    pub anti_entropy: Option<Duration>,
    /// How long a replica holds a read whose session token is ahead of what it holds before
    /// redirecting the client to the primary. Default 100ms.
    pub token_wait: Duration,
    /// How often the primary ships new versions to the replicas: every write at once
    /// (default "0s"), or, like a log shipped in batches, what accumulated every this often.
    /// What the primary had not shipped when it crashed is never shipped.
    pub ship_every: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            anti_entropy: None,
            token_wait: Duration::from_millis(100),
            ship_every: Duration::ZERO,
        }
    }
}

/// Checks what the types cannot: positive periods, and a replica to read from.
pub(crate) fn validate(cfg: &SessionConfig, nodes: usize) -> Result<(), ConfigError> {
    if nodes < 2 {
        return Err(ConfigError::new(
            "",
            format!(
                "a primary and at least one replica: at least 2 nodes (got {nodes}); the first \
                 node is the primary"
            ),
        ));
    }
    if cfg.anti_entropy.is_some_and(|d| d.nanos() == 0) {
        return Err(ConfigError::new(
            "anti_entropy",
            "a period greater than zero, e.g. \"200ms\" (or leave it out for none)",
        ));
    }
    if cfg.token_wait.nanos() == 0 {
        return Err(ConfigError::new(
            "token_wait",
            "must be greater than zero, e.g. \"100ms\" (got 0s)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_and_bad_values_name_their_key() {
        assert_eq!(validate(&SessionConfig::default(), 3), Ok(()));
        assert_eq!(
            validate(&SessionConfig::default(), 1).unwrap_err().field,
            ""
        );
        let zero = SessionConfig {
            anti_entropy: Some(Duration::ZERO),
            ..SessionConfig::default()
        };
        let e = validate(&zero, 3).unwrap_err();
        assert_eq!(e.field, "anti_entropy");
        assert!(e.message.contains("200ms"), "{}", e.message);
        let zero = SessionConfig {
            token_wait: Duration::ZERO,
            ..SessionConfig::default()
        };
        assert_eq!(validate(&zero, 3).unwrap_err().field, "token_wait");
    }
}
