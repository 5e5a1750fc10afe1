//! A master with a write-ahead log, and slaves that replicate it (seed text 001, 「1. 进程崩溃」;
//! seed text 003, 「3.2 主从复制」; seed text 004, 「8.2 MySQL 的主从复制原理」).
//!
//! The master (node 0, epoch 1) takes every client write, appends it to its write-ahead log on
//! its disk (the binlog) and applies it to its in-memory store; reads are served from the store.
//! Each slave keeps a copy of the master's log on its own disk (the relay log): the master sends
//! new entries (`Replicate`), the slave appends it and, once it is synced, says how far its
//! copy reaches (`Ack`). When the master answers a write is the lesson:
//!
//! - `ack = "before_sync"`: as soon as the write is in memory, before the log's sync ends. With
//!   `[storage] lose_unsynced = true` a crash inside the sync loses the acknowledged write.
//!   `ack = "after_sync"` (the default) answers once the log is synced: the world holds a reply
//!   asked after a disk write until that write's sync ends.
//! - `replication = "async"`: the master does not wait for any slave (MySQL's default); each
//!   slave pulls the log with its pings, so it lags by up to `ping_interval`, and a slave
//!   promoted after the master's crash may lack writes the master acknowledged.
//!   `replication = "semi_sync"` answers only once at least one slave has acknowledged the write,
//!   synced to its disk.
//!
//! Fail-over: each slave pings its master every `ping_interval` (`ping_watch`); a slave whose
//! pings go unanswered `missed_pings × rank` times in a row, where `rank` is its place after the
//! master in cluster order, takes over as master of a new epoch with the log it holds and sends
//! it to every other node (`Sync`). Epochs are unique to a node (node `i` of `n` uses the epochs
//! `e` with `e ≡ i + 1 mod n`), so an epoch names its master. Every message carries its sender's
//! epoch: a slave refuses a master of an older epoch (`Stale`), and a master that meets a newer
//! epoch steps down to slave — a returning old master cannot get its writes copied, and with
//! semi-sync cannot acknowledge any. A node that restarts comes back as a slave (of the master its
//! epoch names, or of whoever answers), except in a cluster of one, where it is the master again,
//! rebuilt from its log.
//!
//! Observations: `Role { Master | Standby, epoch }`. Facts ([`MasterSlaveFact`]): `Serving` when
//! a node begins serving as master, with its whole log; `Logged` for each write a master logs.
//! Invariant: `acknowledged_writes_survive`.

pub mod invariant;
mod messages;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, Duration, Kv, NodeId, Observation, Op, OpResult,
    Protocol, ProtocolInvariant, Reply, RequestId, Role,
};

use super::ping_watch::{self, PingWatch, Tick};

pub use messages::{Entry, MasterSlaveFact, Msg, Timer, Written};

/// When the master answers a write, against the sync of its own log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ack {
    /// Before the log's sync ends: a crash in between loses an acknowledged write.
    BeforeSync,
    /// Once the log is synced.
    #[default]
    AfterSync,
}

/// Whether the master waits for a slave before it answers a write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Replication {
    /// It does not wait: slaves copy the log behind it.
    #[default]
    Async,
    /// It answers once at least one slave holds the write on its disk.
    SemiSync,
}

/// What the master's reads return.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reads {
    /// Everything its log holds, copied to a slave or not.
    #[default]
    Log,
    /// Only the entries below the high-water mark: those a slave holds on its disk.
    HighWaterMark,
}

/// `[protocol]` settings of `master-slave`.
///
/// ```
/// use sim::protocols::master_slave::{Ack, MasterSlaveConfig, Replication};
/// let config: MasterSlaveConfig = toml::from_str("replication = \"semi_sync\"").unwrap();
/// assert_eq!((config.ack, config.replication, config.missed_pings), (Ack::AfterSync, Replication::SemiSync, 3));
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `master-slave`.")]
pub struct MasterSlaveConfig {
    /// When the master answers a write: "after_sync" (default), once its log is synced, or
    /// "before_sync", at once.
    pub ack: Ack,
    /// "async" (default): the master answers without waiting for a slave; "semi_sync": once at
    /// least one slave holds the write on its disk.
    pub replication: Replication,
    /// What reads return: "log" (default), every write the master logged, or
    /// "high_water_mark", only the writes a slave holds on its disk.
    pub reads: Reads,
    /// How often a slave pings its master.
    pub ping_interval: Duration,
    /// Unanswered pings in a row after which the first slave takes over (the next one waits
    /// twice as long, and so on).
    pub missed_pings: u32,
}

impl Default for MasterSlaveConfig {
    fn default() -> Self {
        MasterSlaveConfig {
            ack: Ack::AfterSync,
            replication: Replication::Async,
            reads: Reads::Log,
            ping_interval: Duration::from_millis(100),
            missed_pings: 3,
        }
    }
}

/// One node of `master-slave`: the master, or a slave.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Effect, NodeId, Observation, Protocol, Role};
/// use sim::protocols::master_slave::{MasterSlave, MasterSlaveConfig};
/// // Node 0 starts as the master of epoch 1.
/// let mut m = MasterSlave::new(NodeId(0), &[NodeId(1)], &MasterSlaveConfig::default(), None);
/// let fx = step_any(&mut m, 0, 2, 0, |n, ctx| n.on_start(ctx));
/// assert!(fx.iter().any(|e| matches!(e, Effect::Observe(Observation::Role { role: Role::Master, term: 1 }))));
/// ```
#[derive(Debug)]
pub struct MasterSlave {
    config: MasterSlaveConfig,
    id: NodeId,
    /// The cluster's size: epochs are numbered by it.
    nodes: u64,
    master: bool,
    /// Its own epoch while master; the highest it knows otherwise.
    epoch: u64,
    /// A slave's master, when it knows one: the node whose epoch it follows.
    following: Option<NodeId>,
    /// A slave whose log is known to be a prefix of its master's (after a `Sync`): only then
    /// does it append by position and acknowledge.
    in_sync: bool,
    /// The log, as on disk.
    log: Vec<Entry>,
    /// The store the log builds (the master's; a slave rebuilds it when it takes over).
    store: BTreeMap<Arc<str>, Arc<str>>,
    /// The high-water mark: how many entries of the log a slave holds on its disk, as the
    /// master knows it (and tells its slaves).
    hwm: u64,
    /// The store of the entries below the high-water mark: what `reads = "high_water_mark"`
    /// shows.
    visible: BTreeMap<Arc<str>, Arc<str>>,
    /// The master's view of each slave: how many entries of its log the slave holds.
    held: BTreeMap<NodeId, u64>,
    /// Semi-sync: writes logged and not yet answered, by position.
    waiting: Vec<(u64, RequestId)>,
    watch: PingWatch,
    /// Started again after a crash (a cluster of one serves again from its log).
    restarted: bool,
}

impl MasterSlave {
    /// Master or slave (`Standby`), as this node now believes.
    pub fn role(&self) -> Role {
        if self.master {
            Role::Master
        } else {
            Role::Standby
        }
    }

    /// The master of `epoch`: epochs are unique to a node.
    fn master_of(&self, epoch: u64) -> NodeId {
        NodeId(((epoch.max(1) - 1) % self.nodes) as u32)
    }

    /// The smallest epoch above `known` that is this node's.
    fn next_epoch(&self, known: u64) -> u64 {
        let mine = u64::from(self.id.0) + 1;
        let mut e = known + 1;
        while e % self.nodes != mine % self.nodes {
            e += 1;
        }
        e
    }

    /// This slave's place after its master in cluster order, from 1.
    fn rank(&self) -> u32 {
        let master = u64::from(self.master_of(self.epoch).0);
        let me = u64::from(self.id.0);
        ((me + self.nodes - master - 1) % self.nodes + 1) as u32
    }

    fn observe_role(&self, ctx: &mut Ctx<'_, Self>) {
        ctx.observe(Observation::Role {
            role: self.role(),
            term: self.epoch,
        });
    }

    fn written(&self) -> Vec<Written> {
        self.log.iter().map(Written::of).collect()
    }

    /// Serves as master of `epoch` with the log it holds.
    fn serve(&mut self, ctx: &mut Ctx<'_, Self>, epoch: u64) {
        self.master = true;
        self.epoch = epoch;
        self.following = None;
        ctx.persist(epoch);
        ctx.cancel_timer(Timer::Ping);
        self.store.clear();
        for e in &self.log {
            self.store.insert(e.key.clone(), e.value.clone());
        }
        // The mark it learned as a slave, over the entries it holds.
        self.hwm = self.hwm.min(self.log.len() as u64);
        self.visible.clear();
        for e in &self.log[..self.hwm as usize] {
            self.visible.insert(e.key.clone(), e.value.clone());
        }
        self.held.clear();
        ctx.fact(MasterSlaveFact::Serving {
            epoch,
            log: self.written(),
        });
        self.observe_role(ctx);
    }

    /// A slave again, of the master of `epoch` (unknown when it is this node's own).
    fn follow(&mut self, ctx: &mut Ctx<'_, Self>, epoch: u64) {
        let was_master = self.master;
        if epoch != self.epoch {
            ctx.persist(epoch);
            self.in_sync = false;
        }
        self.epoch = epoch;
        self.master = false;
        let master = self.master_of(epoch);
        self.following = (master != self.id).then_some(master);
        self.watch.reset();
        for (_, request) in std::mem::take(&mut self.waiting) {
            let leader = self.following;
            ctx.reply(request, Reply::NotLeader { leader });
        }
        if was_master {
            self.observe_role(ctx);
        }
        ctx.set_timer(self.config.ping_interval.nanos(), Timer::Ping);
    }

    /// A message of a newer epoch makes this node a slave of it. True when `epoch` is current
    /// (after adopting it); false when it is older than this node's.
    fn meet(&mut self, ctx: &mut Ctx<'_, Self>, epoch: u64) -> bool {
        if epoch > self.epoch {
            self.follow(ctx, epoch);
        }
        epoch == self.epoch
    }

    /// How far the most advanced slave's copy reaches.
    fn best_slave(&self) -> u64 {
        self.held.values().copied().max().unwrap_or(0)
    }

    /// Raises the high-water mark to `to`, making those entries visible.
    fn raise_hwm(&mut self, to: u64) {
        let to = to.min(self.log.len() as u64);
        while self.hwm < to {
            let e = &self.log[self.hwm as usize];
            self.visible.insert(e.key.clone(), e.value.clone());
            self.hwm += 1;
        }
    }

    /// Semi-sync: answers every waiting write some slave now holds.
    fn release(&mut self, ctx: &mut Ctx<'_, Self>) {
        let best = self.best_slave();
        let (done, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(index, _)| *index <= best);
        self.waiting = still;
        for (_, request) in done {
            ctx.reply(request, Reply::Ok(OpResult::Done));
        }
    }

    fn on_put(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        request: RequestId,
        key: Arc<str>,
        value: Arc<str>,
    ) {
        if let Some(at) = self.log.iter().position(|e| e.request == request) {
            // A retry: answered now if the first copy is safe by this design's rule.
            let index = at as u64 + 1;
            match self.config.replication {
                Replication::SemiSync if index > self.best_slave() => {
                    if !self.waiting.iter().any(|(_, r)| *r == request) {
                        self.waiting.push((index, request));
                    }
                }
                _ => ctx.reply(request, Reply::Ok(OpResult::Done)),
            }
            return;
        }
        let entry = Entry {
            epoch: self.epoch,
            request,
            key: key.clone(),
            value: value.clone(),
        };
        let early = self.config.ack == Ack::BeforeSync;
        if early {
            // The mistake of the lesson: the answer leaves before the write is durable.
            ctx.reply(request, Reply::Ok(OpResult::Done));
        }
        ctx.log_append(entry.clone());
        self.log.push(entry.clone());
        let index = self.log.len() as u64;
        self.store.insert(key.clone(), value.clone());
        ctx.fact(MasterSlaveFact::Logged {
            epoch: self.epoch,
            index,
            write: Written { key, value },
        });
        if self.config.replication == Replication::SemiSync {
            // Pushed at once, since the answer waits for a slave. Asynchronous slaves pull the
            // log with their pings instead (MySQL's I/O thread): they lag by up to a ping.
            let epoch = self.epoch;
            for peer in ctx.peers().to_vec() {
                let entry = entry.clone();
                ctx.send(
                    peer,
                    Msg::Replicate {
                        epoch,
                        index,
                        entry,
                        hwm: self.hwm,
                    },
                );
            }
        }
        match self.config.replication {
            Replication::SemiSync => self.waiting.push((index, request)),
            // Asked after the append, the answer waits for its sync.
            Replication::Async if !early => ctx.reply(request, Reply::Ok(OpResult::Done)),
            Replication::Async => {}
        }
    }

    fn on_ping_tick(&mut self, ctx: &mut Ctx<'_, Self>) {
        let threshold = self.config.missed_pings.saturating_mul(self.rank());
        match self.watch.tick(threshold) {
            Tick::Silent => {
                let epoch = self.next_epoch(self.epoch);
                self.serve(ctx, epoch);
                let (epoch, log) = (self.epoch, self.log.clone());
                for peer in ctx.peers().to_vec() {
                    let log = log.clone();
                    ctx.send(peer, Msg::Sync { epoch, log });
                }
            }
            Tick::Ping(seq) => {
                let epoch = self.epoch;
                let held = self.in_sync.then_some(self.log.len() as u64);
                let ping = Msg::Ping { seq, epoch, held };
                match self.following {
                    Some(master) => ctx.send(master, ping),
                    // Whoever is master will answer.
                    None => ctx.broadcast(ping),
                }
                ctx.set_timer(self.config.ping_interval.nanos(), Timer::Ping);
            }
        }
    }

    /// A slave takes a master's log: it keeps the common prefix of its own and appends the rest.
    fn take_log(&mut self, ctx: &mut Ctx<'_, Self>, log: Vec<Entry>) {
        let common = self
            .log
            .iter()
            .zip(&log)
            .take_while(|(a, b)| a == b)
            .count();
        if common < self.log.len() {
            ctx.log_truncate(common as u64);
            self.log.truncate(common);
        }
        for e in log.into_iter().skip(common) {
            ctx.log_append(e.clone());
            self.log.push(e);
        }
        self.in_sync = true;
    }
}

impl Protocol for MasterSlave {
    const NAME: &'static str = "master-slave";
    const SUMMARY: &'static str = "a master with a write-ahead log and slaves that copy it, \
        answering before or after its sync (ack) and with or without a slave's copy \
        (replication); a slave takes over when the master falls silent";
    const DEFAULT_INVARIANTS: &'static [&'static str] =
        &["acknowledged_writes_survive", "seen_writes_survive"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = MasterSlaveConfig;
    /// The highest epoch the node knows (its own while master).
    type Durable = u64;
    type Record = Entry;
    type Api = Kv;
    type Fact = MasterSlaveFact;

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariant::acknowledged_writes_survive(),
            invariant::seen_writes_survive(),
        ]
    }

    fn validate(config: &MasterSlaveConfig, cluster_size: usize) -> Result<(), ConfigError> {
        ping_watch::validate(config.ping_interval, config.missed_pings)?;
        if config.reads == Reads::HighWaterMark && cluster_size < 2 {
            return Err(ConfigError::new(
                "reads",
                "high_water_mark needs at least one slave: a cluster of 2 nodes or more (alone, \
                 the mark never rises and reads see nothing)",
            ));
        }
        if config.replication == Replication::SemiSync {
            if cluster_size < 2 {
                return Err(ConfigError::new(
                    "replication",
                    "semi_sync needs at least one slave: a cluster of 2 nodes or more",
                ));
            }
            if config.ack == Ack::BeforeSync {
                return Err(ConfigError::new(
                    "ack",
                    "ack = \"before_sync\" cannot go with replication = \"semi_sync\": the \
                     slave's acknowledgement already comes after the master's sync",
                ));
            }
        }
        Ok(())
    }

    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &MasterSlaveConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let nodes = peers.len() as u64 + 1;
        let epoch = disk.map_or(1, |d| d.state.max(1));
        let mut node = MasterSlave {
            config: config.clone(),
            id,
            nodes,
            master: false,
            epoch,
            following: None,
            in_sync: disk.is_none(),
            log: disk.map_or_else(Vec::new, |d| d.log.clone()),
            store: BTreeMap::new(),
            hwm: 0,
            visible: BTreeMap::new(),
            held: BTreeMap::new(),
            waiting: Vec::new(),
            watch: PingWatch::default(),
            restarted: disk.is_some(),
        };
        let master = node.master_of(epoch);
        node.master = !node.restarted && master == id;
        node.following = (master != id).then_some(master);
        node
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.master || (self.restarted && self.nodes == 1) {
            // The first master, or a lone server replaying its write-ahead log.
            let epoch = self.epoch;
            self.serve(ctx, epoch);
        } else {
            self.observe_role(ctx);
            ctx.set_timer(self.config.ping_interval.nanos(), Timer::Ping);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ping { seq, epoch, held } => {
                if !self.meet(ctx, epoch) {
                    // An older epoch's slave: bring it over with the whole log.
                    if self.master {
                        let (epoch, log) = (self.epoch, self.log.clone());
                        ctx.send(from, Msg::Sync { epoch, log });
                    }
                    return;
                }
                if !self.master {
                    return;
                }
                let (epoch, hwm) = (self.epoch, self.hwm);
                ctx.send(from, Msg::Pong { seq, epoch, hwm });
                match held {
                    // Anti-entropy: whatever a lost message left out goes again.
                    Some(h) if h <= self.log.len() as u64 => {
                        for index in h + 1..=self.log.len() as u64 {
                            let entry = self.log[index as usize - 1].clone();
                            ctx.send(
                                from,
                                Msg::Replicate {
                                    epoch,
                                    index,
                                    entry,
                                    hwm,
                                },
                            );
                        }
                    }
                    _ => {
                        let log = self.log.clone();
                        ctx.send(from, Msg::Sync { epoch, log });
                    }
                }
            }
            Msg::Pong { seq, epoch, hwm } => {
                if self.meet(ctx, epoch) && !self.master && self.following == Some(from) {
                    self.watch.pong(seq);
                    self.hwm = self.hwm.max(hwm);
                }
            }
            Msg::Replicate {
                epoch,
                index,
                entry,
                hwm,
            } => {
                if !self.meet(ctx, epoch) {
                    let epoch = self.epoch;
                    return ctx.send(from, Msg::Stale { epoch });
                }
                if self.master || !self.in_sync {
                    return;
                }
                self.hwm = self.hwm.max(hwm);
                let len = self.log.len() as u64;
                if index == len + 1 {
                    ctx.log_append(entry.clone());
                    self.log.push(entry);
                }
                if index <= len + 1 {
                    // Sent after the append, the acknowledgement waits for its sync.
                    let held = self.log.len() as u64;
                    ctx.send(from, Msg::Ack { epoch, held });
                }
            }
            Msg::Sync { epoch, log } => {
                if !self.meet(ctx, epoch) {
                    let epoch = self.epoch;
                    return ctx.send(from, Msg::Stale { epoch });
                }
                if self.master {
                    return;
                }
                self.take_log(ctx, log);
                let held = self.log.len() as u64;
                ctx.send(from, Msg::Ack { epoch, held });
            }
            Msg::Ack { epoch, held } => {
                if self.meet(ctx, epoch) && self.master {
                    let h = self.held.entry(from).or_default();
                    *h = (*h).max(held);
                    self.raise_hwm(self.best_slave());
                    self.release(ctx);
                }
            }
            Msg::Stale { epoch } => {
                self.meet(ctx, epoch);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, Timer::Ping: Timer) {
        if !self.master {
            self.on_ping_tick(ctx);
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest) {
        if !self.master {
            let leader = self.following;
            return ctx.reply(request.id, Reply::NotLeader { leader });
        }
        match request.op {
            Op::Get { key } => {
                let store = match self.config.reads {
                    Reads::Log => &self.store,
                    Reads::HighWaterMark => &self.visible,
                };
                let value = store.get(&key).cloned();
                ctx.reply(request.id, Reply::Ok(OpResult::Value { value }));
            }
            Op::Put { key, value } => self.on_put(ctx, request.id, key, value),
            _ => ctx.reply(
                request.id,
                Reply::Fail {
                    reason: "master-slave serves get and put only".into(),
                },
            ),
        }
    }

    /// `Replicate(#3 k1=c0-2, epoch 1)`, `Sync(4 writes, epoch 2)`, `Ack(holds #1..#3, epoch
    /// 1)`; the rest generically.
    fn narrate_message(msg: &serde_json::Value, _names: &[String]) -> Option<String> {
        let (kind, body) = msg.as_object()?.iter().next()?;
        let epoch = body.get("epoch")?;
        Some(match kind.as_str() {
            "Replicate" => {
                let e = body.get("entry")?;
                format!(
                    "Replicate(#{} {}={}, epoch {epoch})",
                    body.get("index")?,
                    e.get("key")?.as_str()?,
                    e.get("value")?.as_str()?
                )
            }
            "Sync" => format!(
                "Sync({} writes, epoch {epoch})",
                body.get("log")?.as_array()?.len()
            ),
            "Ack" => format!("Ack(holds #1..#{}, epoch {epoch})", body.get("held")?),
            "Stale" => format!("Stale(I follow epoch {epoch})"),
            _ => return None,
        })
    }

    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let name = |n: NodeId| names.get(n.0 as usize).cloned().unwrap_or_default();
        let mut lines = vec![
            format!(
                "role        {}",
                if self.master { "master" } else { "slave" }
            ),
            format!("epoch       {}", self.epoch),
            format!("log         {} writes", self.log.len()),
            format!("high-water  #{}", self.hwm),
        ];
        if self.master {
            for (slave, held) in &self.held {
                lines.push(format!("slave       {} holds #1..#{held}", name(*slave)));
            }
            if !self.waiting.is_empty() {
                lines.push(format!("waiting     {} writes", self.waiting.len()));
            }
        } else {
            lines.push(format!(
                "following   {}",
                self.following.map_or("nobody".to_string(), name)
            ));
            lines.push(format!(
                "pings       {} sent; {} unanswered in a row",
                self.watch.sent(),
                self.watch.missed()
            ));
        }
        lines
    }
}
