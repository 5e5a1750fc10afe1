//! `[protocol]` settings of `lease-master`, and the checks that refuse the meaningless ones.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ClockKind, ConfigError, Duration};

/// `[protocol]` settings of `lease-master`.
///
/// ```
/// use sim::protocols::lease_master::LeaseMasterConfig;
/// let config: LeaseMasterConfig = toml::from_str("lease = \"1s\"\nrenew = false").unwrap();
/// assert!(!config.renew);
/// // Left out, the margins follow the lease: renew with half of it left, wait a tenth longer.
/// assert_eq!(config.renew_before().nanos(), 500_000_000);
/// assert_eq!(config.drift_bound().nanos(), 100_000_000);
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `lease-master`.")]
pub struct LeaseMasterConfig {
    /// How long a granted lease lets the master act, measured on the master's own clock from
    /// the instant it asked for it.
    pub lease: Duration,
    /// Whether the master asks its peers to renew its lease before it runs out (default true).
    /// false is the broken design of the text's warning: every lease runs out, the peers elect
    /// again, and mastership moves for no reason.
    pub renew: bool,
    /// How much of the lease is left when the master asks to renew it. Default: half the lease.
    pub renew_before: Option<Duration>,
    /// How much longer than the lease a node that granted it waits, on its own clock, before it
    /// grants the lease to anyone else: the margin for the two clocks running at different
    /// rates. Default: a tenth of the lease (safe while the clocks' rates differ by less than
    /// 10%).
    pub drift_bound: Option<Duration>,
    /// The clock leases are measured on, the master's and the grantors' alike. `"monotonic"`
    /// (default) drifts but never jumps; `"wall"` is the broken design: a backward NTP step on
    /// the master stretches its lease.
    pub lease_clock: ClockKind,
    /// The range `[min, max]` of the random wait, drawn each time, before a node whose promise
    /// has run out asks to become master: it keeps peers from asking at the same instant.
    pub backoff: [Duration; 2],
}

impl Default for LeaseMasterConfig {
    fn default() -> Self {
        LeaseMasterConfig {
            lease: Duration::from_millis(500),
            renew: true,
            renew_before: None,
            drift_bound: None,
            lease_clock: ClockKind::Monotonic,
            backoff: [Duration::from_millis(10), Duration::from_millis(100)],
        }
    }
}

impl LeaseMasterConfig {
    /// `renew_before`, or half the lease.
    pub fn renew_before(&self) -> Duration {
        self.renew_before
            .unwrap_or(Duration::from_nanos(self.lease.nanos() / 2))
    }

    /// `drift_bound`, or a tenth of the lease.
    pub fn drift_bound(&self) -> Duration {
        self.drift_bound
            .unwrap_or(Duration::from_nanos(self.lease.nanos() / 10))
    }

    pub(crate) fn validate(&self, cluster_size: usize) -> Result<(), ConfigError> {
        if cluster_size < 2 {
            return Err(ConfigError::new(
                "",
                format!(
                    "lease-master needs at least 2 nodes (a master and a peer to grant its lease), \
                     not {cluster_size}"
                ),
            ));
        }
        if self.lease == Duration::ZERO {
            return Err(ConfigError::new(
                "lease",
                "must be greater than zero (got 0s)",
            ));
        }
        let renew_before = self.renew_before();
        if self.renew_before.is_some()
            && (renew_before == Duration::ZERO || renew_before >= self.lease)
        {
            return Err(ConfigError::new(
                "renew_before",
                format!(
                    "must be greater than zero and less than the lease ({}), got {renew_before}",
                    self.lease
                ),
            ));
        }
        let [min, max] = self.backoff;
        if min > max {
            return Err(ConfigError::new(
                "backoff",
                format!("the minimum ({min}) exceeds the maximum ({max})"),
            ));
        }
        if max == Duration::ZERO {
            return Err(ConfigError::new(
                "backoff",
                "the maximum must be greater than zero (got 0s): peers would ask at the same instant",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> LeaseMasterConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_are_valid_and_margins_follow_the_lease() {
        let c = LeaseMasterConfig::default();
        assert_eq!(c.validate(3), Ok(()));
        assert_eq!(c.renew_before(), Duration::from_millis(250));
        assert_eq!(c.drift_bound(), Duration::from_millis(50));
    }

    #[test]
    fn bad_values_are_refused_at_their_key() {
        let cases = [
            ("lease = \"0s\"", 3, "lease"),
            ("renew_before = \"500ms\"", 3, "renew_before"),
            ("renew_before = \"0s\"", 3, "renew_before"),
            ("backoff = [\"2s\", \"1s\"]", 3, "backoff"),
            ("backoff = [\"0s\", \"0s\"]", 3, "backoff"),
            ("", 1, ""),
        ];
        for (text, nodes, key) in cases {
            let err = config(text).validate(nodes).unwrap_err();
            assert_eq!(err.field, key, "{text}: {}", err.message);
        }
    }
}
