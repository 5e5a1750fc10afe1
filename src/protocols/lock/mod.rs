//! A distributed lock guarding a shared resource (seed text 004, 「分布式锁」): a lock server,
//! the resource the lock protects (a storage node), and clients that take the lock, write to the
//! resource while they hold it, and release it.
//!
//! **Nodes**, by position in `[cluster] nodes`: the first `servers` (1 unless RedLock) are
//! lock servers (`server.rs`), the next is the resource (`resource.rs`), every other one a
//! client (`client.rs`).
//!
//! **The server** keeps one lease: `Acquire` grants it when nobody holds it (`SET lock <me>
//! NX`), or refuses naming the holder; `Release` frees it only if it is still the releaser's
//! (so a late release never frees someone else's). Every grant is numbered, one higher than the
//! last. How a lease ends when its holder never releases it is the design under study:
//! - `expiry = "none"` — never, as with a row under a unique key in a database (「数据库分布式锁」:
//!   「锁没有失效时间，解锁失败会导致死锁」). A holder that crashes holding it blocks everyone:
//!   `lock_progress` fails.
//! - `expiry = "ttl"` — the lease lapses `ttl` after its grant on the server's clock (Redis
//!   `SETNX` + `EXPIRE`, 「Redis 分布式锁」). Nobody deadlocks, but a holder paused past the TTL
//!   (a GC pause) wakes up still believing it holds the lock and writes after the next holder
//!   has: `mutual_exclusion` fails.
//!
//! **RedLock** (`servers = N`, 「RedLock 算法」): N independent servers, each with its own lease;
//! a client asks them all and holds the lock once a majority (N/2+1) granted it before its TTL
//! ran out on the client's monotonic clock, else gives back what it got and retries after a
//! random while. A server measuring the TTL on its wall clock (`server_clock = "wall"`, as
//! Redis did) lets a lease go early when its clock is stepped forward, and two clients can each
//! hold a majority; on the monotonic clock the step changes nothing.
//!
//! **Fencing tokens** (`fencing = true`; an addition beyond the source text, by that name): the
//! grant's number goes with each write, and the resource refuses a write whose token is lower
//! than the highest it has seen. The paused holder's late write is refused, so with a TTL the
//! lock both recovers from crashes and keeps the resource's writes one holder at a time.
//!
//! Everything a server and the resource decide is on disk before they answer ([`Disk`]): a
//! crash of either loses nothing. A client keeps only its count of tries. Fencing needs one
//! counter, so it needs one server (`validate` refuses it with several).
//!
//! Facts ([`LockFact`]): the server states `Granted`, `Expired` and `Freed`; a client
//! `Acquired` and `Released`; the resource `Accepted` and `Rejected`. A client that acquires
//! also observes `Role { Master, term: token }` (and `Standby` when it gives the lock up), so
//! the fault target `leader` names the current holder: `pause = "leader"` pauses it.

mod client;
mod config;
pub mod invariant;
mod messages;
mod narrate;
mod resource;
mod server;

#[cfg(test)]
mod tests;

use crate::node::{ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant};

pub use config::{Expiry, LockConfig};
pub use messages::{Disk, Lease, LockFact, Msg, Timer, Why};

use client::{Client, Phase};
use resource::Resource;
use server::Server;

/// One node of the lock: the server, the resource or a client.
#[derive(Debug)]
pub struct Lock {
    config: LockConfig,
    role: Node,
}

#[derive(Debug)]
enum Node {
    Server(Server),
    Resource(Resource),
    Client(Client),
}

impl Lock {
    /// The grant this client believes it holds, if any: `(attempt, token)`.
    ///
    /// ```
    /// use sim::node::{NodeId, Protocol};
    /// use sim::protocols::lock::{Lock, LockConfig};
    /// let client = Lock::new(NodeId(2), &[NodeId(0), NodeId(1)], &LockConfig::default(), None);
    /// assert_eq!(client.holding(), None);
    /// ```
    pub fn holding(&self) -> Option<(u64, u64)> {
        match &self.role {
            Node::Client(Client {
                phase: Phase::Holding { attempt, token, .. },
                ..
            }) => Some((*attempt, *token)),
            _ => None,
        }
    }
}

impl Protocol for Lock {
    const NAME: &'static str = "lock";
    const SUMMARY: &'static str = "a distributed lock guarding a resource: a lock server \
        (no expiry, or SET NX with a TTL) or RedLock's N servers, clients that write while they \
        hold it, and optional fencing tokens checked by the resource";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["mutual_exclusion"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = LockConfig;
    type Durable = Disk;
    type Api = crate::node::Kv;
    type Fact = LockFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![invariant::mutual_exclusion(), invariant::lock_progress()]
    }

    fn validate(config: &LockConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let name = |n: NodeId| names.get(n.0 as usize).cloned().unwrap_or(n.to_string());
        match &self.role {
            Node::Server(Server { last_token, lease }) => vec![
                "role        lock server".into(),
                format!("grants      {last_token}"),
                match lease {
                    None => "lease       none".into(),
                    Some(l) => format!(
                        "lease       grant {} to {} (try {}){}",
                        l.token,
                        name(l.client),
                        l.attempt,
                        l.expires
                            .map_or(", never expires".into(), |e| format!(", expires at {e}"))
                    ),
                },
            ],
            Node::Resource(Resource { highest }) => vec![
                "role        resource".into(),
                format!("highest     token {highest}"),
            ],
            Node::Client(c) => vec![
                "role        client".into(),
                match c.phase {
                    Phase::Idle => "phase       idle".into(),
                    Phase::Asking {
                        attempt,
                        granted,
                        refused,
                        ..
                    } => format!(
                        "phase       asking (try {attempt}): {} granted, {} refused",
                        granted.count_ones(),
                        refused.count_ones()
                    ),
                    Phase::Holding {
                        attempt,
                        token,
                        sent,
                    } => format!(
                        "phase       holding grant {token} (try {attempt}), {sent} write(s) sent"
                    ),
                },
            ],
        }
    }

    fn new(
        id: NodeId,
        _peers: &[NodeId],
        config: &LockConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let saved = disk.map(|d| d.state.clone()).unwrap_or_default();
        let servers = config.servers;
        let role = if id.0 < servers {
            Node::Server(Server {
                last_token: saved.last_token,
                lease: saved.lease,
            })
        } else if id.0 == servers {
            Node::Resource(Resource {
                highest: saved.highest,
            })
        } else {
            Node::Client(Client::new(saved.attempts, servers))
        };
        Lock {
            config: config.clone(),
            role,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Node::Client(_) = self.role {
            Self::client_start(ctx, &self.config);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let cfg = &self.config;
        match &mut self.role {
            Node::Server(server) => server.on_message(ctx, cfg, from, msg),
            Node::Resource(resource) => resource.on_message(ctx, cfg, from, msg),
            Node::Client(c) => Self::client_message(ctx, cfg, c, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        if let Node::Client(c) = &mut self.role {
            Self::client_timer(ctx, &self.config, c, timer);
        }
    }
}
