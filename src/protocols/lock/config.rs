//! The lock's `[protocol]` table: how the lock server lets a lease go (`expiry`), whether the
//! resource checks fencing tokens (`fencing`), and how the clients use the lock.
//!
//! `validate` rejects only settings that cannot run (too few nodes, a zero TTL or timeout).
//! The broken designs (`expiry = "none"`, `fencing = false`) are accepted on purpose: lessons
//! use them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{ClockKind, ConfigError, Duration};

/// How the lock server lets go of a lease whose holder never released it.
///
/// ```
/// use sim::protocols::lock::{Expiry, LockConfig};
/// let config: LockConfig = toml::from_str("expiry = \"none\"").unwrap();
/// assert_eq!(config.expiry, Expiry::None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
// The schema's description: the first line above, without the example.
#[schemars(description = "How the lock server lets go of a lease whose holder never released it.")]
pub enum Expiry {
    /// Never: the lock is a row inserted under a unique key (seed text 004, 「数据库分布式锁」),
    /// deleted only by its holder's release. A holder that crashes holding it deadlocks
    /// everyone else.
    None,
    /// `SET NX` with an expiry (seed text 004, 「Redis 分布式锁」): the lease lapses `ttl` after
    /// it was granted, on the server's wall clock, whether or not its holder is done.
    Ttl,
}

/// What keeps the lock: a lock server (`SET NX`, RedLock) or a ZooKeeper-like coordination
/// service running the lock recipe over ephemeral sequential nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    /// A lock server holding one lease (`SET lock <me> NX`, seed text 004, 「Redis 分布式锁」),
    /// or RedLock's several.
    SetNx,
    /// A coordination service (seed text 004, 「Zookeeper 分布式锁」): each client opens a
    /// session kept alive by heartbeats and creates an ephemeral sequential node under the
    /// lock; the lowest node holds it, the others wait on a watch (`watch`); a release deletes
    /// the node, and so does the expiry of its session.
    Zookeeper,
}

/// What a waiting client of the ZooKeeper recipe watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Watch {
    /// The lock's children: every change (a node created or deleted) wakes every waiter, who
    /// all read the children again, and all but one go back to waiting: the herd effect
    /// (「羊群效应」).
    Children,
    /// Only the node just before its own (the recipe): a deletion wakes the one waiter behind
    /// it.
    Predecessor,
}

/// `[protocol]` settings of `lock`.
///
/// ```
/// use sim::protocols::lock::LockConfig;
/// let config: LockConfig = toml::from_str("ttl = \"300ms\"\nfencing = true").unwrap();
/// assert_eq!((config.ttl.nanos(), config.fencing, config.writes), (300_000_000, true, 3));
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `lock`.")]
pub struct LockConfig {
    /// What keeps the lock: `"set-nx"` (a lock server, or RedLock's several) or `"zookeeper"`
    /// (a coordination service with sessions, ephemeral sequential nodes and watches, seed text
    /// 004 「Zookeeper 分布式锁」; node 0 is the service).
    pub service: Service,
    /// With `service = "zookeeper"`: what a waiting client watches, `"children"` (every
    /// waiter wakes on every change: the herd) or `"predecessor"` (the recipe; the default).
    pub watch: Option<Watch>,
    /// With `service = "zookeeper"`: how long the service keeps a session it hears nothing
    /// from, on its monotonic clock; when it lapses, the session's nodes are deleted.
    pub session_timeout: Duration,
    /// With `service = "zookeeper"`: how often a client's session sends a heartbeat.
    pub heartbeat: Duration,
    /// How many independent lock servers: 1, or more for RedLock (seed text 004, 「RedLock 算法」):
    /// a client asks every server and holds the lock once a majority (N/2+1) granted it within
    /// the lease's validity time. The first `servers` nodes are the servers, the next the
    /// resource, the rest clients.
    pub servers: u32,
    /// The clock a server measures its leases' TTL on: `"wall"` (the time of day, as Redis
    /// did: a clock step ends a lease early or late) or `"monotonic"` (never jumps).
    pub server_clock: ClockKind,
    /// How a lease the holder never released ends: `"none"` (never: a database row) or `"ttl"`
    /// (after `ttl`: Redis `SET NX` with an expiry).
    pub expiry: Expiry,
    /// How long a lease lasts with `expiry = "ttl"`, measured on the lock server's wall clock
    /// from the grant.
    pub ttl: Duration,
    /// Fencing tokens (an addition beyond the source text, by that name): every grant carries a
    /// token one higher than the last, each write to the resource carries its holder's token,
    /// and the resource refuses a write whose token is lower than the highest it has seen.
    pub fencing: bool,
    /// How many writes a client makes to the resource while it holds the lock.
    pub writes: u32,
    /// How long a client works between two writes of one tenure.
    pub work: Duration,
    /// How long a refused (or unanswered) client waits before asking again; a random jitter of
    /// up to as long again is added, so the clients do not ask in lock-step.
    pub retry: Duration,
    /// How long a client rests after releasing the lock before asking for it again.
    pub think: Duration,
    /// How long a client waits for the lock server's answer or the resource's acknowledgement
    /// before giving up (and, holding the lock, releasing it).
    pub timeout: Duration,
}

impl Default for LockConfig {
    fn default() -> Self {
        LockConfig {
            service: Service::SetNx,
            watch: None,
            session_timeout: Duration::from_millis(500),
            heartbeat: Duration::from_millis(100),
            servers: 1,
            server_clock: ClockKind::Wall,
            expiry: Expiry::Ttl,
            ttl: Duration::from_millis(500),
            fencing: false,
            writes: 3,
            work: Duration::from_millis(100),
            retry: Duration::from_millis(20),
            think: Duration::from_millis(200),
            timeout: Duration::from_millis(200),
        }
    }
}

impl LockConfig {
    /// What a waiting client watches under the ZooKeeper recipe (the predecessor unless set).
    pub fn watch(&self) -> Watch {
        self.watch.unwrap_or(Watch::Predecessor)
    }
}

/// The ZooKeeper recipe's settings: one service, a heartbeat quicker than the session.
fn validate_zookeeper(cfg: &LockConfig) -> Result<(), ConfigError> {
    if cfg.servers != 1 {
        return Err(ConfigError::new(
            "servers",
            format!(
                "service = \"zookeeper\" runs one coordination service (node 0), not {} lock \
                 servers: use servers = 1",
                cfg.servers
            ),
        ));
    }
    for (field, value) in [
        ("session_timeout", cfg.session_timeout),
        ("heartbeat", cfg.heartbeat),
    ] {
        if value == Duration::ZERO {
            return Err(ConfigError::new(
                field,
                "must be greater than zero (got 0s)",
            ));
        }
    }
    if cfg.heartbeat >= cfg.session_timeout {
        return Err(ConfigError::new(
            "heartbeat",
            format!(
                "must be shorter than session_timeout ({}), or every session lapses between two \
                 heartbeats",
                cfg.session_timeout
            ),
        ));
    }
    Ok(())
}

/// Checks what the types cannot.
pub(crate) fn validate(cfg: &LockConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cfg.servers == 0 || cfg.servers > 63 {
        return Err(ConfigError::new(
            "servers",
            format!("must be 1 to 63 (got {})", cfg.servers),
        ));
    }
    let servers = cfg.servers as usize;
    if cluster_size < servers + 2 {
        return Err(ConfigError::new(
            "",
            format!(
                "lock needs {servers} lock server(s), the resource and at least one client, in \
                 that order: at least {} nodes (got {cluster_size})",
                servers + 2
            ),
        ));
    }
    if cfg.fencing && servers > 1 {
        return Err(ConfigError::new(
            "fencing",
            format!(
                "fencing tokens need one counter, and {servers} independent servers have one \
                 each: use servers = 1 with fencing"
            ),
        ));
    }
    if cfg.expiry == Expiry::Ttl && cfg.ttl == Duration::ZERO {
        return Err(ConfigError::new(
            "ttl",
            "must be greater than zero with expiry = \"ttl\" (got 0s)",
        ));
    }
    for (field, value) in [("retry", cfg.retry), ("timeout", cfg.timeout)] {
        if value == Duration::ZERO {
            return Err(ConfigError::new(
                field,
                "must be greater than zero (got 0s)",
            ));
        }
    }
    if cfg.service == Service::Zookeeper {
        validate_zookeeper(cfg)?;
    } else if cfg.watch.is_some() {
        return Err(ConfigError::new(
            "watch",
            "watch applies only to the ZooKeeper recipe: set service = \"zookeeper\" with it, \
             or remove it",
        ));
    }
    if cfg.writes == 0 {
        return Err(ConfigError::new(
            "writes",
            "must be at least 1: a holder that never writes shows nothing (got 0)",
        ));
    }
    Ok(())
}
