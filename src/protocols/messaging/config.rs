//! The `[protocol]` table of `messaging`: which producer design (`design`), whether the
//! consumer deduplicates (`idempotent`), and the periods of the retries.
//!
//! `validate` rejects only settings that cannot run. The broken designs (`send_after_commit`,
//! `idempotent = false`, a `local_table` without its scan, a `transactional` broker without its
//! check-back) are accepted on purpose: lessons use them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{ConfigError, Duration};

/// How the producer gets its local transaction and its message to agree.
///
/// ```
/// use sim::protocols::messaging::{Design, MessagingConfig};
/// let config: MessagingConfig = toml::from_str("design = \"transactional\"").unwrap();
/// assert_eq!(config.design, Design::Transactional);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
// The schema's description: the first line above, without the example.
#[schemars(description = "How the producer gets its local transaction and its message to agree.")]
pub enum Design {
    /// The text's queue without transactions (seed text 004, 「4.2.4 MQ事物消息」, 不支持事物的MQ):
    /// commit the local transaction, send the message, and roll the transaction back if the
    /// broker does not acknowledge within `timeout`. A send that timed out may have been
    /// delivered (its acknowledgement was lost): the message then outlives its transaction.
    /// A crash before the acknowledgement forgets the send: a lost one is never resent.
    SendAfterCommit,
    /// The local message table (「4.2.3 本地消息表」): the message is a row written in the same
    /// local transaction as the business data, sent at once, and resent by a periodic scan of
    /// the table (`scan`) until the consumer says it is done.
    LocalTable,
    /// The transactional message (「4.2.4 MQ事物消息」, 支持事物的MQ, RocketMQ): a prepared message
    /// to the broker first, then the local transaction, then a confirm or cancel; the broker
    /// checks back (`check_back`) on a message prepared too long.
    Transactional,
}

/// `[protocol]` settings of `messaging`.
///
/// ```
/// use sim::protocols::messaging::MessagingConfig;
/// let config: MessagingConfig = toml::from_str("idempotent = false\nscan = \"0s\"").unwrap();
/// assert_eq!((config.idempotent, config.scan.nanos(), config.transactions), (false, 0, 20));
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `messaging`.")]
pub struct MessagingConfig {
    /// The producer's design: `"send_after_commit"` (commit, send, roll back if the send
    /// fails), `"local_table"` (a message table in the local transaction, resent by a scan) or
    /// `"transactional"` (a prepared message, the local transaction, a confirm, and the
    /// broker's check-back). The nodes are the producer, the broker and the consumer, in that
    /// order.
    pub design: Design,
    /// Whether the consumer deduplicates by message id: it records each id it processed in the
    /// same local transaction as the effect, and skips a copy it has seen. Without it, every
    /// redelivered or resent copy is carried out again.
    pub idempotent: bool,
    /// How many local transactions the producer runs, one every `interval`.
    pub transactions: u32,
    /// How long the producer waits between two local transactions.
    pub interval: Duration,
    /// The chance that a local transaction fails on its own (its business logic), in [0, 1]:
    /// it rolls back and no message must reach the consumer.
    pub abort: f64,
    /// How long the producer waits for the broker to acknowledge a send or a prepared message.
    pub timeout: Duration,
    /// `local_table`: how often the producer scans its message table and resends the rows not
    /// done whose last send is at least this old; `"0s"` never scans (the send at commit is
    /// the only one).
    pub scan: Duration,
    /// How often the broker redelivers a message the consumer has not acknowledged.
    pub redeliver: Duration,
    /// `transactional`: how long a message may stay prepared before the broker checks back
    /// with the producer (and how often it asks again); `"0s"` never checks back.
    pub check_back: Duration,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        MessagingConfig {
            design: Design::LocalTable,
            idempotent: true,
            transactions: 20,
            interval: Duration::from_millis(100),
            abort: 0.2,
            timeout: Duration::from_millis(100),
            scan: Duration::from_millis(200),
            redeliver: Duration::from_millis(100),
            check_back: Duration::from_millis(200),
        }
    }
}

/// Checks what the types cannot.
pub(crate) fn validate(cfg: &MessagingConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cluster_size != 3 {
        return Err(ConfigError::new(
            "",
            format!(
                "messaging needs exactly 3 nodes: the producer, the broker and the consumer, in \
                 that order (got {cluster_size})"
            ),
        ));
    }
    if !(0.0..=1.0).contains(&cfg.abort) {
        return Err(ConfigError::new(
            "abort",
            format!("must be a probability in [0, 1] (got {})", cfg.abort),
        ));
    }
    if cfg.transactions == 0 {
        return Err(ConfigError::new(
            "transactions",
            "must be at least 1: a producer that runs no transaction shows nothing (got 0)",
        ));
    }
    for (field, value) in [
        ("interval", cfg.interval),
        ("timeout", cfg.timeout),
        ("redeliver", cfg.redeliver),
    ] {
        if value == Duration::ZERO {
            return Err(ConfigError::new(
                field,
                "must be greater than zero (got 0s)",
            ));
        }
    }
    Ok(())
}
