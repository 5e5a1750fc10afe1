//! `[protocol]` of `overload`: each node's capacity, and the protections of the front service.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ConfigError, Duration};

/// How the front service limits what it takes in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(description = "How the front service limits what it takes in.")]
pub enum Limiter {
    /// Everything the queue has room for is taken in.
    #[default]
    None,
    /// A request is taken in only if it can take a token (seed text 002, 「令牌桶限流算法」).
    TokenBucket,
}

/// What guards the front service's calls to the downstream service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(description = "What guards the front service's calls to the downstream service.")]
pub enum BreakerMode {
    /// Nothing: every call goes out and holds its worker until answered or timed out.
    #[default]
    None,
    /// A circuit breaker: CLOSED, OPEN after consecutive failures, HALF-OPEN probes.
    CircuitBreaker,
}

/// `[protocol]` settings of `overload`.
///
/// ```
/// use sim::protocols::overload::{Limiter, OverloadConfig};
/// let c: OverloadConfig = toml::from_str("limiter = \"token_bucket\"\nbucket_rate = 80").unwrap();
/// assert_eq!((c.limiter, c.bucket_rate, c.workers), (Limiter::TokenBucket, 80, 1));
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(description = "`[protocol]` settings of `overload`.")]
pub struct OverloadConfig {
    /// Requests a node works on at once (its threads). Default 1.
    pub workers: u32,
    /// How long a worker takes over one request (a call, on the downstream). Default "10ms".
    pub service_time: Duration,
    /// Requests that may wait for a worker; one more is refused at once ("queue_full").
    /// Default 10000.
    pub queue: u32,
    /// "none" (default) or "token_bucket": the front service takes a request in only with a
    /// token.
    pub limiter: Limiter,
    /// With limiter = "token_bucket": tokens added per second. Default 100.
    pub bucket_rate: u64,
    /// With limiter = "token_bucket": the most tokens the bucket holds (it starts full): the
    /// largest burst taken in at once. Default 10.
    pub bucket_capacity: u64,
    /// How long the front service waits for the downstream's answer to a call before failing
    /// the request. Default "250ms".
    pub call_timeout: Duration,
    /// "none" (default) or "circuit_breaker", guarding the calls to the downstream.
    pub breaker: BreakerMode,
    /// With breaker = "circuit_breaker": consecutive failed calls that open it. Default 5.
    pub breaker_failures: u32,
    /// With breaker = "circuit_breaker": how long it stays OPEN before a probe. Default "1s".
    pub breaker_cooldown: Duration,
}

impl Default for OverloadConfig {
    fn default() -> Self {
        OverloadConfig {
            workers: 1,
            service_time: Duration::from_millis(10),
            queue: 10_000,
            limiter: Limiter::None,
            bucket_rate: 100,
            bucket_capacity: 10,
            call_timeout: Duration::from_millis(250),
            breaker: BreakerMode::None,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_millis(1_000),
        }
    }
}

impl OverloadConfig {
    /// Checks the settings against a cluster of `nodes` nodes.
    pub(crate) fn validate(&self, nodes: usize) -> Result<(), ConfigError> {
        let positive = |field: &'static str, ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError::new(
                    field,
                    format!("must be more than zero: {what}"),
                ))
            }
        };
        if nodes > 2 {
            return Err(ConfigError::new(
                "",
                format!(
                    "the overload service has one or two nodes: the front service clients call \
                     and, second, the downstream it depends on; found {nodes}"
                ),
            ));
        }
        positive("workers", self.workers > 0, "a node needs a worker")?;
        positive(
            "service_time",
            self.service_time.nanos() > 0,
            "a request takes time",
        )?;
        positive(
            "bucket_rate",
            self.bucket_rate > 0,
            "tokens per second to refill",
        )?;
        positive(
            "bucket_capacity",
            self.bucket_capacity > 0,
            "the bucket must hold at least one token",
        )?;
        positive(
            "call_timeout",
            self.call_timeout.nanos() > 0,
            "how long to wait for the downstream",
        )?;
        positive(
            "breaker_failures",
            self.breaker_failures > 0,
            "failures that open the breaker",
        )?;
        positive(
            "breaker_cooldown",
            self.breaker_cooldown.nanos() > 0,
            "how long the breaker stays open",
        )?;
        if self.breaker == BreakerMode::CircuitBreaker && nodes < 2 {
            return Err(ConfigError::new(
                "breaker",
                "a circuit breaker guards calls to a downstream service: the cluster needs a \
                 second node",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_breaker_needs_a_downstream_and_three_nodes_are_too_many() {
        let c = OverloadConfig {
            breaker: BreakerMode::CircuitBreaker,
            ..OverloadConfig::default()
        };
        let err = c.validate(1).unwrap_err();
        assert_eq!(err.field, "breaker");
        assert!(c.validate(2).is_ok());
        assert_eq!(
            c.validate(3).unwrap_err().field,
            "",
            "the cluster is at fault"
        );
    }

    #[test]
    fn zero_capacities_are_refused_by_name() {
        let c = OverloadConfig {
            workers: 0,
            ..OverloadConfig::default()
        };
        let err = c.validate(1).unwrap_err();
        assert_eq!(err.field, "workers");
        assert!(err.message.contains("more than zero"), "{}", err.message);
        let c = OverloadConfig {
            bucket_rate: 0,
            ..OverloadConfig::default()
        };
        assert_eq!(c.validate(1).unwrap_err().field, "bucket_rate");
    }
}
