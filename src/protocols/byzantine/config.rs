//! The `[protocol]` table of `oral-messages`: how many rounds of relaying (`m`), the
//! commander's order, and when it is sent and when the lieutenants decide.
//!
//! `validate` refuses only what cannot run. A cluster too small for its traitors (N < 3m + 1)
//! is accepted on purpose: that is the lesson.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Order;
use crate::node::{ConfigError, Duration};

/// The most messages one run of OM(m) may send: the count grows as (N−1)(N−2)…(N−1−m).
const MAX_MESSAGES: u64 = 200_000;

/// `[protocol]` settings of `oral-messages`.
///
/// ```
/// use sim::protocols::byzantine::{OralConfig, Command};
/// let config: OralConfig = toml::from_str("m = 2\norder = \"attack\"").unwrap();
/// assert_eq!((config.m, config.order), (2, Command::Attack));
/// assert_eq!(config.decide_at.nanos(), 1_000_000_000);
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `oral-messages`.")]
pub struct OralConfig {
    /// OM(m): the number of traitors the algorithm is built for, and its rounds of relaying
    /// after the commander's. It tolerates m traitors only among at least 3m + 1 generals.
    pub m: u32,
    /// The commander's order (the first node of `[cluster] nodes` commands): "attack",
    /// "retreat", or "random", drawn from the commander's own stream, so that a sweep sees both.
    pub order: Command,
    /// When the commander sends its order, on its monotonic clock. A `byzantine` fault that
    /// should turn the commander must come before it.
    pub command_at: Duration,
    /// When each lieutenant decides on what it heard, on its monotonic clock: every relay must
    /// have arrived by then (the algorithm assumes synchrony); an order missing at that time
    /// counts as retreat.
    pub decide_at: Duration,
}

impl Default for OralConfig {
    fn default() -> Self {
        OralConfig {
            m: 1,
            order: Command::Random,
            command_at: Duration::from_millis(10),
            decide_at: Duration::from_secs(1),
        }
    }
}

/// What the commander orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// Attack.
    Attack,
    /// Retreat.
    Retreat,
    /// Either, with even odds, drawn from the commander's own stream.
    Random,
}

impl Command {
    /// The order itself, drawing it when random.
    pub(super) fn draw(self, rng: &mut crate::node::Rng) -> Order {
        match self {
            Command::Attack => Order::Attack,
            Command::Retreat => Order::Retreat,
            Command::Random => {
                if rng.below(2) == 0 {
                    Order::Attack
                } else {
                    Order::Retreat
                }
            }
        }
    }
}

/// How many messages OM(m) sends among `n` generals: n−1 orders, then each relay round sends
/// one message per path one longer.
pub(super) fn messages(n: u64, m: u32) -> u64 {
    let mut total = 0u64;
    let mut round = 1u64;
    for k in 0..=u64::from(m) {
        round = round.saturating_mul(n.saturating_sub(1 + k));
        total = total.saturating_add(round);
    }
    total
}

pub(super) fn validate(config: &OralConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cluster_size < 3 {
        return Err(ConfigError::new(
            "",
            format!(
                "oral-messages needs 3 or more generals (a commander and at least two \
                 lieutenants), not {cluster_size}"
            ),
        ));
    }
    let n = cluster_size as u64;
    if u64::from(config.m) > n - 2 {
        return Err(ConfigError::new(
            "m",
            format!(
                "m = {} relays through more generals than there are: with {cluster_size} \
                 generals m is at most {}",
                config.m,
                n - 2
            ),
        ));
    }
    let sent = messages(n, config.m);
    if sent > MAX_MESSAGES {
        return Err(ConfigError::new(
            "m",
            format!(
                "OM({}) among {cluster_size} generals sends {sent} messages, more than the \
                 {MAX_MESSAGES} allowed: lower m or the number of generals",
                config.m
            ),
        ));
    }
    if config.decide_at.nanos() <= config.command_at.nanos() {
        return Err(ConfigError::new(
            "decide_at",
            format!(
                "decide_at = \"{}\" is not after command_at = \"{}\": the lieutenants would \
                 decide before the order is sent",
                config.decide_at, config.command_at
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn om_m_sends_n_minus_1_then_a_relay_per_longer_path() {
        // 4 generals, OM(1): 3 orders, then each lieutenant relays to the 2 others.
        assert_eq!(messages(4, 1), 3 + 3 * 2);
        // 7 generals, OM(2): 6 + 6·5 + 6·5·4.
        assert_eq!(messages(7, 2), 6 + 30 + 120);
        assert_eq!(messages(3, 0), 2);
    }

    #[test]
    fn settings_that_cannot_run_are_refused_and_too_few_generals_are_not() {
        let ok = OralConfig::default();
        assert!(
            validate(&ok, 3).is_ok(),
            "N = 3m is the lesson, not an error"
        );
        let e = validate(&ok, 2).unwrap_err();
        assert!(e.message.contains("3 or more generals"), "{}", e.message);
        let deep = OralConfig {
            m: 3,
            ..OralConfig::default()
        };
        let e = validate(&deep, 4).unwrap_err();
        assert_eq!(e.field, "m");
        assert!(e.message.contains("at most 2"), "{}", e.message);
        let huge = OralConfig {
            m: 6,
            ..OralConfig::default()
        };
        assert!(
            validate(&huge, 12)
                .unwrap_err()
                .message
                .contains("messages")
        );
        let early = OralConfig {
            decide_at: Duration::from_millis(5),
            ..OralConfig::default()
        };
        assert_eq!(validate(&early, 4).unwrap_err().field, "decide_at");
    }
}
