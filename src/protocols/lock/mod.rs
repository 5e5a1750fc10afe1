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
//! **The ZooKeeper recipe** (`service = "zookeeper"`, 「Zookeeper 分布式锁」): node 0 is a
//! coordination service (`coordinator.rs`) instead of a lock server. Each client (`waiter.rs`)
//! keeps a session alive with heartbeats and creates an ephemeral sequential node under the
//! lock (`lock-0000000007`); the lowest node holds the lock, and a release deletes it. A holder
//! that crashes, or is paused or cut off past `session_timeout`, loses its node when its
//! session expires, and the lock moves on: no deadlock. The paused holder wakes still believing
//! it holds the lock and writes before it hears its session is gone — unless the resource
//! checks a fencing token, here the node's sequence number. A waiter waits on a watch (`watch`):
//! on the lock's children, so that every release wakes every waiter, who all read the children
//! again and all but one go back to waiting (the herd effect, 「羊群效应」), or only on its
//! predecessor, so that a release wakes one. `one_wakeup_per_release` and the report section
//! `wakeups` count them (`herd.rs`).
//!
//! Facts ([`LockFact`]): the server states `Granted`, `Expired` and `Freed`; a client
//! `Acquired` and `Released`; the resource `Accepted` and `Rejected`; the ZooKeeper service
//! `Queued` (a node created), `Freed` and `Expired` (a node deleted), and its clients `Woken`. A client that acquires
//! also observes `Role { Master, term: token }` (and `Standby` when it gives the lock up), so
//! the fault target `leader` names the current holder: `pause = "leader"` pauses it.

mod client;
mod config;
mod coordinator;
pub mod herd;
pub mod invariant;
mod messages;
mod narrate;
mod resource;
mod server;
mod waiter;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod zk_tests;

use crate::node::{ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, SectionBuilder};

pub use config::{Expiry, LockConfig, Service, Watch};
pub use messages::{Cause, Change, Disk, Lease, LockFact, Msg, Timer, Tree, Why, Znode};

use client::{Client, Phase};
use coordinator::Coordinator;
use resource::Resource;
use server::Server;
use waiter::{Step, Waiter};

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
    /// `service = "zookeeper"`: the coordination service.
    Coordinator(Coordinator),
    /// `service = "zookeeper"`: a client of the lock recipe.
    Waiter(Waiter),
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
            Node::Waiter(Waiter {
                step: Step::Holding { attempt, token, .. },
                ..
            }) => Some((*attempt, *token)),
            _ => None,
        }
    }
}

impl Protocol for Lock {
    const NAME: &'static str = "lock";
    const SUMMARY: &'static str = "a distributed lock guarding a resource: a lock server \
        (no expiry, or SET NX with a TTL), RedLock's N servers, or ZooKeeper's recipe \
        (ephemeral sequential nodes, sessions, watches on the children or the predecessor); \
        clients that write while they hold it, and optional fencing tokens checked by the \
        resource";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["mutual_exclusion"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = LockConfig;
    type Durable = Disk;
    type Api = crate::node::Kv;
    type Fact = LockFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariant::mutual_exclusion(),
            invariant::lock_progress(),
            herd::one_wakeup_per_release(),
        ]
    }

    fn report_sections(_nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(herd::WakeupSection::default())]
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
            Node::Coordinator(c) => vec![
                "role        coordination service".into(),
                format!(
                    "children    {}",
                    c.nodes
                        .values()
                        .map(|n| format!("{} ({})", znode_name(n.seq), name(n.client)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!("last seq    {} (version {})", c.last_seq, c.version),
            ],
            Node::Waiter(w) => vec![
                format!("role        client (session {})", w.session),
                match w.step {
                    Step::Idle => "phase       idle".into(),
                    Step::Creating { attempt } => {
                        format!("phase       creating its node (try {attempt})")
                    }
                    Step::Reading { seq, .. } => {
                        format!("phase       reading the children ({})", znode_name(seq))
                    }
                    Step::Checking { seq, pred, .. } => format!(
                        "phase       {} asks whether {} exists",
                        znode_name(seq),
                        znode_name(pred)
                    ),
                    Step::Waiting { seq, pred, .. } => format!(
                        "phase       {} waits on {}",
                        znode_name(seq),
                        pred.map_or("the children".into(), znode_name)
                    ),
                    Step::Holding { token, sent, .. } => format!(
                        "phase       holding with {}, {sent} write(s) sent",
                        znode_name(token)
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
        let zookeeper = config.service == Service::Zookeeper;
        let role = if zookeeper && id.0 == 0 {
            Node::Coordinator(Coordinator::from_disk(saved.tree.as_ref()))
        } else if zookeeper && id.0 > servers {
            Node::Waiter(Waiter::new(saved.attempts, saved.session))
        } else if id.0 < servers {
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
        let cfg = &self.config;
        match &mut self.role {
            Node::Client(_) => Self::client_start(ctx, cfg),
            Node::Coordinator(c) => c.on_start(ctx, cfg),
            Node::Waiter(w) => w.on_start(ctx, cfg),
            Node::Server(_) | Node::Resource(_) => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let cfg = &self.config;
        match &mut self.role {
            Node::Server(server) => server.on_message(ctx, cfg, from, msg),
            Node::Resource(resource) => resource.on_message(ctx, cfg, from, msg),
            Node::Client(c) => Self::client_message(ctx, cfg, c, from, msg),
            Node::Coordinator(c) => c.on_message(ctx, cfg, from, msg),
            Node::Waiter(w) => w.on_message(ctx, cfg, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        let cfg = &self.config;
        match &mut self.role {
            Node::Client(c) => Self::client_timer(ctx, cfg, c, timer),
            Node::Coordinator(c) => c.on_timer(ctx, timer),
            Node::Waiter(w) => w.on_timer(ctx, cfg, timer),
            Node::Server(_) | Node::Resource(_) => {}
        }
    }
}

/// A lock node's name, as ZooKeeper names a sequential node: `lock-0000000007`.
pub(crate) fn znode_name(seq: u64) -> String {
    format!("lock-{seq:010}")
}
