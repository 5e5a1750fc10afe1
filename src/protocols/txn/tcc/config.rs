//! TCC's `[protocol]` table: the accounts and what each opens with, which node initiates, how
//! the initiator retries, when it gives up on a try, and the three participant rules that a
//! lesson can switch off.
//!
//! `validate` rejects only settings that cannot run (no participant, an initiator that is not a
//! node, a reversed backoff). The bug flags are accepted on purpose: lessons use them.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{ConfigError, Duration, Nanos};

/// `[protocol]` settings of `tcc`.
///
/// ```
/// use sim::protocols::txn::tcc::TccConfig;
/// let config: TccConfig = toml::from_str("accounts = 2\nbalance = 100\ninitiator = 0").unwrap();
/// assert_eq!((config.accounts, config.balance, config.initiator), (2, 100, 0));
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `tcc`.")]
pub struct TccConfig {
    /// How many accounts the bank has, numbered from 0. Account `i` is held by participant
    /// `i % participants`, participants being every node but the initiator, in cluster order.
    pub accounts: u32,
    /// What each account holds at the start of the run.
    pub balance: u64,
    /// The node that initiates every transfer and serves the clients, as its index in
    /// `[cluster] nodes` (0: the first). Every other node is a participant.
    pub initiator: u32,
    /// The initiator's retry delay `[initial, max]`: a phase's message to a branch that has not
    /// answered is sent again after the initial delay, then after twice as long each time, up
    /// to the maximum.
    pub retry_backoff: [Duration; 2],
    /// How many times the initiator sends a `try` to one branch before it counts the branch as
    /// failed and cancels the whole transfer (the text's "超过一定阈值"). Confirms and cancels are
    /// retried without limit: once decided, a transfer must settle.
    pub try_attempts: u32,
    /// A participant answers a repeated confirm or cancel from its branch record, changing
    /// nothing (幂等). Off, the broken design: every confirm or cancel that arrives is carried
    /// out, so a duplicated or retried one moves the money twice.
    pub idempotent: bool,
    /// A cancel for a branch whose try never arrived succeeds and is recorded (空回滚, empty
    /// rollback). Off, the broken design: the participant refuses to cancel what it never
    /// froze, the initiator retries forever and the transfer never settles.
    pub empty_rollback: bool,
    /// A try arriving after its branch was cancelled is refused (防悬挂, refusing suspension).
    /// Off, the broken design: the late try freezes money that no cancel will ever release.
    pub refuse_suspension: bool,
}

impl Default for TccConfig {
    fn default() -> Self {
        TccConfig {
            accounts: 2,
            balance: 100,
            initiator: 0,
            retry_backoff: [Duration::from_millis(10), Duration::from_millis(200)],
            try_attempts: 5,
            idempotent: true,
            empty_rollback: true,
            refuse_suspension: true,
        }
    }
}

impl TccConfig {
    /// How long to wait before sending a phase's message for the `sent`-th time (`sent` ≥ 1
    /// sends so far): the initial delay, doubled per send already made, capped at the maximum.
    pub(crate) fn backoff(&self, sent: u32) -> Nanos {
        let [initial, max] = self.retry_backoff;
        let doublings = sent.saturating_sub(1).min(32);
        initial
            .nanos()
            .saturating_mul(1u64 << doublings)
            .min(max.nanos())
    }
}

/// Checks what the types cannot.
pub(crate) fn validate(cfg: &TccConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cluster_size < 2 {
        return Err(ConfigError::new(
            "",
            format!(
                "tcc needs an initiator and at least one participant: at least 2 nodes (got {cluster_size})"
            ),
        ));
    }
    if cfg.initiator as usize >= cluster_size {
        return Err(ConfigError::new(
            "initiator",
            format!(
                "must be the index of a node of [cluster] nodes, 0 to {} (got {})",
                cluster_size - 1,
                cfg.initiator
            ),
        ));
    }
    if cfg.accounts == 0 {
        return Err(ConfigError::new("accounts", "must be at least 1 (got 0)"));
    }
    if i64::try_from(cfg.balance).is_err() {
        return Err(ConfigError::new(
            "balance",
            format!("must be at most {} (got {})", i64::MAX, cfg.balance),
        ));
    }
    let [initial, max] = cfg.retry_backoff;
    if initial.nanos() == 0 {
        return Err(ConfigError::new(
            "retry_backoff",
            "the initial delay must be greater than zero (got 0s)",
        ));
    }
    if initial > max {
        return Err(ConfigError::new(
            "retry_backoff",
            format!("the initial delay ({initial}) exceeds the maximum ({max})"),
        ));
    }
    if cfg.try_attempts == 0 {
        return Err(ConfigError::new(
            "try_attempts",
            "must be at least 1 (got 0)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_the_initial_delay_up_to_the_maximum() {
        let cfg = TccConfig::default();
        let ms = |n: u64| n * 1_000_000;
        let waits: Vec<_> = (1..=7).map(|sent| cfg.backoff(sent)).collect();
        assert_eq!(
            waits,
            [ms(10), ms(20), ms(40), ms(80), ms(160), ms(200), ms(200)]
        );
        assert_eq!(cfg.backoff(u32::MAX), ms(200), "no overflow");
    }

    #[test]
    fn validate_names_the_key_that_cannot_run() {
        let field = |cfg: TccConfig, nodes: usize| validate(&cfg, nodes).unwrap_err().field;
        assert_eq!(field(TccConfig::default(), 1), "");
        let d = TccConfig::default;
        assert_eq!(
            field(
                TccConfig {
                    initiator: 3,
                    ..d()
                },
                3
            ),
            "initiator"
        );
        assert_eq!(field(TccConfig { accounts: 0, ..d() }, 3), "accounts");
        assert_eq!(
            field(
                TccConfig {
                    balance: u64::MAX,
                    ..d()
                },
                3
            ),
            "balance"
        );
        assert_eq!(
            field(
                TccConfig {
                    try_attempts: 0,
                    ..d()
                },
                3
            ),
            "try_attempts"
        );
        let reversed = [Duration::from_millis(50), Duration::from_millis(10)];
        assert_eq!(
            field(
                TccConfig {
                    retry_backoff: reversed,
                    ..d()
                },
                3
            ),
            "retry_backoff"
        );
        let zero = [Duration::ZERO, Duration::from_millis(10)];
        assert_eq!(
            field(
                TccConfig {
                    retry_backoff: zero,
                    ..d()
                },
                3
            ),
            "retry_backoff"
        );
        assert!(validate(&d(), 2).is_ok());
    }
}
