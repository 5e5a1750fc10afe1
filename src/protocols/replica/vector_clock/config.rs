//! The `[protocol]` table of `vector-clock`: how replicas resolve concurrent writes, how they
//! stamp their messages, what every replica holds when the run starts, and how long a writer
//! waits for the other replicas' answers.
//!
//! The broken designs — the basic rule that only reports a conflict, last-write-wins by wall
//! clock, wall-clock message stamps — are accepted on purpose: lessons use them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{ConfigError, Duration};

/// What a replica does with an incoming version concurrent with its own.
///
/// ```
/// use sim::protocols::replica::vector_clock::Resolve;
/// let r: Resolve = serde_json::from_str(r#""siblings""#).unwrap();
/// assert_eq!(r, Resolve::Siblings);
/// assert_eq!(Resolve::default(), Resolve::Conflict, "the textbook rule");
/// ```
// The schema's description: the first paragraph above, without the example.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[schemars(description = "What a replica does with an incoming version concurrent with its own.")]
#[serde(rename_all = "snake_case")]
pub enum Resolve {
    /// The basic rule: keep its own value and report a conflict (to the writer, whose client
    /// hears `conflict`). Detects, does not resolve.
    #[default]
    Conflict,
    /// Keep both as siblings; a get returns them together and the client's next put, whose
    /// context covers both, replaces them.
    Siblings,
    /// Last write wins by the writer's wall-clock reading (ties by node index); no vector is
    /// kept. Silently drops the other write — under clock skew, the later one.
    Lww,
}

/// How messages between replicas are timestamped (for the `causal_order` invariant).
///
/// ```
/// use sim::protocols::replica::vector_clock::StampKind;
/// let s: StampKind = serde_json::from_str(r#""lamport""#).unwrap();
/// assert_eq!(s, StampKind::Lamport);
/// assert_eq!(StampKind::default(), StampKind::None);
/// ```
// The schema's description: the first paragraph above, without the example.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[schemars(
    description = "How messages between replicas are timestamped (for the `causal_order` invariant)."
)]
#[serde(rename_all = "snake_case")]
pub enum Stamp {
    /// No timestamps, no `Sent`/`Received` facts.
    #[default]
    None,
    /// Lamport time: a send ticks the sender's clock, a receipt jumps past the stamp.
    Lamport,
    /// The sender's and the receiver's wall-clock readings, in nanoseconds: skewed clocks
    /// stamp a receipt before its send.
    Wall,
}

/// `[protocol]` settings of `vector-clock`.
///
/// ```
/// use sim::protocols::replica::vector_clock::{Resolve, VcConfig};
/// // The textbook example's replicas: all start with x = 0.
/// let config: VcConfig = toml::from_str("resolve = \"conflict\"\ninitial = { x = \"0\" }").unwrap();
/// assert_eq!(config.resolve, Resolve::Conflict);
/// assert_eq!(config.initial["x"], "0");
/// assert_eq!(config.ack_timeout.to_string(), "50ms");
/// ```
// The schema's description: the first paragraph above, without the example.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(description = "`[protocol]` settings of `vector-clock`.")]
#[serde(deny_unknown_fields, default)]
pub struct VcConfig {
    /// "conflict" (default): the textbook rule, a concurrent update is refused and reported;
    /// "siblings": both kept; "lww": last write wins by wall clock.
    pub resolve: Resolve,
    /// "none" (default), "lamport" or "wall": how every message between replicas is stamped.
    pub stamp: Stamp,
    /// What every replica holds when the run starts, key → value, with the empty clock
    /// (`initial = { x = "0" }`: `x = 0 [0,0,0]` everywhere). Every write supersedes it.
    pub initial: BTreeMap<String, String>,
    /// How long a writer waits for the other replicas to answer its update before it answers
    /// its client with what it heard (a lost message must not leave a put unanswered).
    pub ack_timeout: Duration,
}

impl Default for VcConfig {
    fn default() -> Self {
        VcConfig {
            resolve: Resolve::Conflict,
            stamp: Stamp::None,
            initial: BTreeMap::new(),
            ack_timeout: Duration::from_millis(50),
        }
    }
}

/// Checks what the types cannot.
pub(crate) fn validate(cfg: &VcConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cluster_size > u16::MAX as usize {
        return Err(ConfigError::new(
            "",
            format!("at most 65535 replicas (got {cluster_size})"),
        ));
    }
    if cfg.ack_timeout.nanos() == 0 {
        return Err(ConfigError::new(
            "ack_timeout",
            "must be greater than zero (got 0s)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_basic_rule_and_a_zero_timeout_is_refused() {
        let cfg = VcConfig::default();
        assert_eq!((cfg.resolve, cfg.stamp), (Resolve::Conflict, Stamp::None));
        assert_eq!(validate(&cfg, 3), Ok(()));
        let zero = VcConfig {
            ack_timeout: Duration::ZERO,
            ..VcConfig::default()
        };
        assert_eq!(validate(&zero, 3).unwrap_err().field, "ack_timeout");
    }
}
