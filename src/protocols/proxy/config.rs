//! The `[protocol]` table of `proxy`: how many proxies, how a sender picks one (`routing`),
//! whether senders watch the proxies with a heartbeat (`failover`), how the backend orders what
//! arrives (`order`), and the senders' pace and retries.
//!
//! `validate` rejects only settings that cannot run. The broken designs (one proxy, a proxy per
//! message, a backend that applies in arrival order) are accepted on purpose: lessons use them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{ConfigError, Duration};

/// How a sender picks the proxy for a message.
///
/// ```
/// use sim::protocols::proxy::{ProxyConfig, Routing};
/// let config: ProxyConfig = toml::from_str("routing = \"random\"").unwrap();
/// assert_eq!(config.routing, Routing::Random);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
// The schema's description: the first line above, without the example.
#[schemars(description = "How a sender picks the proxy for a message.")]
pub enum Routing {
    /// The text's load balancing (seed text 000, 「无状态服务的单点问题」): a live proxy drawn at
    /// random for every message. Two messages of one sender may take different proxies.
    Random,
    /// The next live proxy in turn for every message: the same reordering as `random`, on a
    /// fixed rhythm.
    RoundRobin,
    /// The text's fix for ordering: every message of a sender through one designated proxy,
    /// the sender's index modulo the number of proxies (a hash of its id); the next live one
    /// only while that one is suspected.
    Sticky,
}

/// How the backend orders the messages that arrive.
///
/// ```
/// use sim::protocols::proxy::{Order, ProxyConfig};
/// let config: ProxyConfig = toml::from_str("order = \"sequence\"").unwrap();
/// assert_eq!(config.order, Order::Sequence);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
// The schema's description: the first line above, without the example.
#[schemars(description = "How the backend orders the messages that arrive.")]
pub enum Order {
    /// Apply every message the moment it arrives, copies included: the order is the network's.
    Arrival,
    /// Apply each sender's messages in its sequence numbers' order: hold one that arrives
    /// early until the gap before it is filled, drop a copy of one already applied. TCP's
    /// answer, one level up.
    Sequence,
}

/// `[protocol]` settings of `proxy`.
///
/// ```
/// use sim::protocols::proxy::ProxyConfig;
/// let config: ProxyConfig = toml::from_str("proxies = 1\nretry = \"0s\"").unwrap();
/// assert_eq!((config.proxies, config.retry.nanos(), config.messages), (1, 0, 100));
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `proxy`.")]
pub struct ProxyConfig {
    /// How many proxies: the nodes of `[cluster] nodes` are the backend, then this many
    /// proxies, then the senders (at least one).
    pub proxies: u32,
    /// How a sender picks a proxy: `"random"` (a live one drawn for every message, the text's
    /// load balancing), `"round_robin"` or `"sticky"` (one designated proxy per sender).
    pub routing: Routing,
    /// Whether senders ping every proxy and, after `missed_pings` unanswered pings in a row,
    /// suspect it and route around it until it answers again. Without it a sender keeps using
    /// a dead proxy.
    pub failover: bool,
    /// How the backend orders what arrives: `"arrival"` (as it comes) or `"sequence"` (each
    /// sender's messages in sequence order, copies dropped).
    pub order: Order,
    /// How many messages each sender sends, numbered from 1, one every `interval`.
    pub messages: u32,
    /// How long a sender waits between two messages.
    pub interval: Duration,
    /// How long a sender waits for the backend's acknowledgement before sending a message
    /// again, through the proxy it would pick now (and again every `retry`); `"0s"` never
    /// resends.
    pub retry: Duration,
    /// How often a sender pings each proxy (`failover`).
    pub ping_interval: Duration,
    /// Unanswered pings in a row before a sender suspects a proxy (`failover`).
    pub missed_pings: u32,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            proxies: 2,
            routing: Routing::Sticky,
            failover: true,
            order: Order::Arrival,
            messages: 100,
            interval: Duration::from_millis(20),
            retry: Duration::from_millis(300),
            ping_interval: Duration::from_millis(50),
            missed_pings: 3,
        }
    }
}

/// Checks what the types cannot.
pub(crate) fn validate(cfg: &ProxyConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cfg.proxies == 0 {
        return Err(ConfigError::new(
            "proxies",
            "must be at least 1: senders reach the backend only through a proxy (got 0)",
        ));
    }
    let needed = cfg.proxies as usize + 2;
    if cluster_size < needed {
        return Err(ConfigError::new(
            "",
            format!(
                "proxy with {} proxies needs at least {needed} nodes: the backend, then {} \
                 proxies, then at least one sender, in that order (got {cluster_size})",
                cfg.proxies, cfg.proxies
            ),
        ));
    }
    if cfg.messages == 0 {
        return Err(ConfigError::new(
            "messages",
            "must be at least 1: a sender that sends nothing shows nothing (got 0)",
        ));
    }
    if cfg.interval == Duration::ZERO {
        return Err(ConfigError::new(
            "interval",
            "must be greater than zero (got 0s)",
        ));
    }
    if cfg.failover {
        super::super::ping_watch::validate(cfg.ping_interval, cfg.missed_pings)?;
    }
    Ok(())
}
