//! `[protocol]` of `snowflake`: the id layout and what a generator does when its clock is
//! behind the last millisecond it used, or a millisecond's sequence is used up.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{ConfigError, Duration};

use super::id::Layout;

/// What a generator does when its wall clock reads a millisecond before the last one it made
/// ids in (an NTP step back, a clock set by hand).
///
/// ```
/// use sim::protocols::snowflake::OnClockBehind;
/// let wait: OnClockBehind = serde_json::from_str("\"wait\"").unwrap();
/// assert_eq!(wait, OnClockBehind::Wait);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
// The schema's description: the first line above, without the example.
#[schemars(
    description = "What a generator does when its wall clock reads a millisecond before the last one it made ids in (an NTP step back, a clock set by hand)."
)]
pub enum OnClockBehind {
    /// The naive generator: take the clock as it reads and start the sequence again, reusing
    /// milliseconds it has already made ids in — duplicate ids.
    Ignore,
    /// Hold the request until the clock has caught up with the last millisecond (the text's
    /// 「等待时间追回在生成id」), refusing it when that is more than `max_wait` away.
    #[default]
    Wait,
    /// Refuse the request at once (Twitter's generator throws): the client tries elsewhere.
    Refuse,
}

/// What a generator does when a millisecond's sequence numbers are used up.
///
/// ```
/// use sim::protocols::snowflake::OnSequenceFull;
/// assert_eq!(OnSequenceFull::default(), OnSequenceFull::Wait);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
// The schema's description: the first line above, without the example.
#[schemars(
    description = "What a generator does when a millisecond's sequence numbers are used up."
)]
pub enum OnSequenceFull {
    /// The broken generator: the sequence wraps to 0 in the same millisecond, repeating the
    /// millisecond's first id.
    Wrap,
    /// Hold the request until the next millisecond.
    #[default]
    Wait,
}

/// `[protocol]` settings of `snowflake`.
///
/// ```
/// use sim::protocols::snowflake::{OnClockBehind, SnowflakeConfig};
/// let config: SnowflakeConfig = toml::from_str("on_clock_behind = \"ignore\"\nsequence_bits = 2").unwrap();
/// assert_eq!((config.on_clock_behind, config.sequence_bits, config.node_bits), (OnClockBehind::Ignore, 2, 10));
/// assert!(config.persist_last_millis, "the safe design by default");
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `snowflake`.")]
pub struct SnowflakeConfig {
    /// Bits of the node number (Twitter's 10: 1,024 generators). The cluster may not have more
    /// nodes than they can number.
    pub node_bits: u32,
    /// Bits of the sequence within a millisecond (Twitter's 12: 4,096 ids per millisecond per
    /// generator). With node_bits at most 22 together, leaving 41 bits of milliseconds.
    pub sequence_bits: u32,
    /// "ignore" (the naive generator: duplicate ids after a step back), "wait" (default: hold
    /// the request until the clock catches up) or "refuse" (answer fail at once).
    pub on_clock_behind: OnClockBehind,
    /// With on_clock_behind = "wait": a clock further behind than this is refused instead, so
    /// that a large step does not hold clients for as long. Default "1s".
    pub max_wait: Duration,
    /// "wait" (default: hold the request until the next millisecond) or "wrap" (the sequence
    /// starts again at 0 within the same millisecond: duplicate ids).
    pub on_sequence_full: OnSequenceFull,
    /// Write the last millisecond used to disk before answering with its first id (one write
    /// per millisecond, not per id), so that a restarted generator starts after it. Without it
    /// a generator restarted while its clock is behind reuses milliseconds. Default true.
    pub persist_last_millis: bool,
}

impl Default for SnowflakeConfig {
    fn default() -> Self {
        SnowflakeConfig {
            node_bits: 10,
            sequence_bits: 12,
            on_clock_behind: OnClockBehind::Wait,
            max_wait: Duration::from_millis(1_000),
            on_sequence_full: OnSequenceFull::Wait,
            persist_last_millis: true,
        }
    }
}

impl SnowflakeConfig {
    /// The id layout these settings give.
    pub fn layout(&self) -> Layout {
        Layout {
            node_bits: self.node_bits,
            sequence_bits: self.sequence_bits,
        }
    }

    /// Checks the settings against a cluster of `nodes` nodes.
    pub(crate) fn validate(&self, nodes: usize) -> Result<(), ConfigError> {
        if self.node_bits > 22 {
            return Err(ConfigError::new(
                "node_bits",
                format!(
                    "at most 22 (41 bits must stay for the milliseconds); found {}",
                    self.node_bits
                ),
            ));
        }
        if self.sequence_bits == 0 || self.node_bits + self.sequence_bits > 22 {
            return Err(ConfigError::new(
                "sequence_bits",
                format!(
                    "from 1 to {} (node_bits + sequence_bits at most 22, leaving 41 bits for the \
                     milliseconds); found {}",
                    22u32.saturating_sub(self.node_bits).max(1),
                    self.sequence_bits
                ),
            ));
        }
        if nodes as u64 > self.layout().max_nodes() {
            return Err(ConfigError::new(
                "node_bits",
                format!(
                    "{} node bits number {} generators, but the cluster has {nodes} nodes",
                    self.node_bits,
                    self.layout().max_nodes()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_must_leave_41_bits_of_milliseconds() {
        let wide = SnowflakeConfig {
            sequence_bits: 13,
            ..SnowflakeConfig::default()
        };
        let err = wide.validate(3).unwrap_err();
        assert_eq!(err.field, "sequence_bits");
        assert!(err.message.contains("from 1 to 12"), "{}", err.message);
        assert!(SnowflakeConfig::default().validate(3).is_ok());
    }

    #[test]
    fn the_node_bits_must_number_every_node() {
        let narrow = SnowflakeConfig {
            node_bits: 1,
            ..SnowflakeConfig::default()
        };
        let err = narrow.validate(3).unwrap_err();
        assert_eq!(err.field, "node_bits");
        assert!(
            err.message.contains("cluster has 3 nodes"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_sequence_needs_a_bit() {
        let none = SnowflakeConfig {
            sequence_bits: 0,
            ..SnowflakeConfig::default()
        };
        assert_eq!(none.validate(1).unwrap_err().field, "sequence_bits");
    }
}
