//! Primary-backup replication of a key-value store, on two nodes.
//!
//! The first node is the primary (epoch 1), the second its backup. Clients send `get` and `put`
//! to the primary (the backup redirects them). The primary gives each `put` the next position of
//! its log and sends it to the backup, which keeps its log as a copy of the primary's and
//! acknowledges how far its copy reaches. Only then does the primary apply the write and answer
//! the client. With `bugged = true` it answers at once and copies the write with its next
//! heartbeat, asynchronous replication: the mistake the invariant `acked_writes_survive` catches
//! when the primary crashes in between.
//!
//! The primary pings the backup every `heartbeat`; a backup that hears nothing for
//! `failover_after` takes over in the next epoch, applying every write its log holds. A node
//! restarting after a crash rejoins as a backup and asks for the primary's log.
//!
//! Facts of its own: `Acknowledged` when a node answers a `put`, `Promoted` when a backup takes
//! over, with its log. Common observations: `Role` (master or standby) for the story, the
//! `leader` fault target and `election_safety`.

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use sim::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, Duration, NodeId, Observation, Op, OpResult, Protocol,
    ProtocolInvariant, Reply, RequestId, Role,
};

/// `[protocol]` settings of `primary-backup`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// How often the primary pings the backup.
    pub heartbeat: Duration,
    /// How long the backup waits without hearing from the primary before it takes over.
    pub failover_after: Duration,
    /// The deliberate bug: the primary acknowledges a write at once and copies it to the backup
    /// with its next heartbeat, before the backup holds it.
    pub bugged: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            heartbeat: Duration::from_millis(50),
            failover_after: Duration::from_millis(200),
            bugged: false,
        }
    }
}

/// One write, at its position of the log (from 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub seq: u64,
    pub request: RequestId,
    pub key: Arc<str>,
    pub value: Arc<str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Primary to backup: one write to copy.
    Replicate { epoch: u64, entry: Entry },
    /// Backup to primary: my copy of your log holds positions 1 through `held`.
    Ack { epoch: u64, held: u64 },
    /// Primary to backup: I am alive.
    Ping { epoch: u64 },
    /// A restarted node to its peer: send me your log.
    Hello,
    /// Primary to a backup that asked: the whole log.
    Sync { epoch: u64, log: Vec<Entry> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// The primary pings.
    Heartbeat,
    /// The backup has heard nothing for `failover_after`.
    Failover,
}

/// The facts `acked_writes_survive` judges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// This node answered a client's `put` as done.
    Acknowledged {
        epoch: u64,
        seq: u64,
        key: Arc<str>,
        value: Arc<str>,
    },
    /// This node took over as primary in `epoch`, holding these values, in log order.
    Promoted { epoch: u64, log: Vec<Arc<str>> },
}

pub struct PrimaryBackup {
    peer: NodeId,
    cfg: Config,
    primary: bool,
    /// Started again after a crash: its memory, and so its log, is gone.
    restarted: bool,
    epoch: u64,
    log: Vec<Entry>,
    /// Positions of the log the backup holds (the primary's view).
    backup_holds: u64,
    /// Positions applied to `store` and answered.
    applied: u64,
    store: BTreeMap<Arc<str>, Arc<str>>,
}

impl Protocol for PrimaryBackup {
    const NAME: &'static str = "primary-backup";
    const SUMMARY: &'static str = "a key-value store copied from a primary to a backup, which takes over when the primary falls silent";
    const DEFAULT_INVARIANTS: &'static [&'static str] =
        &["election_safety", "acked_writes_survive"];
    type Msg = Msg;
    type Timer = Timer;
    type Config = Config;
    /// The last epoch this node knew, so that a restarted node does not believe it is the
    /// primary of epoch 1 again.
    type Durable = u64;
    type Api = sim::node::Kv;
    type Fact = Fact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![super::invariant::acked_writes_survive()]
    }

    fn validate(config: &Config, cluster_size: usize) -> Result<(), ConfigError> {
        if cluster_size != 2 {
            return Err(ConfigError::new(
                "",
                format!("primary-backup runs on exactly 2 nodes, not {cluster_size}"),
            ));
        }
        if config.failover_after.nanos() <= config.heartbeat.nanos() {
            return Err(ConfigError::new(
                "failover_after",
                "must be longer than heartbeat, or the backup takes over from a live primary",
            ));
        }
        Ok(())
    }

    fn new(id: NodeId, peers: &[NodeId], config: &Config, disk: Option<&DiskOf<Self>>) -> Self {
        PrimaryBackup {
            peer: peers[0],
            cfg: config.clone(),
            primary: disk.is_none() && id == NodeId(0),
            restarted: disk.is_some(),
            epoch: disk.map_or(1, |d| d.state),
            log: Vec::new(),
            backup_holds: 0,
            applied: 0,
            store: BTreeMap::new(),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.persist(self.epoch);
        if self.primary {
            self.observe_role(ctx);
            ctx.set_timer(self.cfg.heartbeat.nanos(), Timer::Heartbeat);
        } else {
            self.observe_role(ctx);
            if self.restarted {
                ctx.send(self.peer, Msg::Hello);
            }
            ctx.set_timer(self.cfg.failover_after.nanos(), Timer::Failover);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Replicate { epoch, entry } if self.follows(ctx, epoch) => {
                if entry.seq == self.log.len() as u64 + 1 {
                    self.log.push(entry);
                }
                ctx.send(
                    from,
                    Msg::Ack {
                        epoch,
                        held: self.log.len() as u64,
                    },
                );
            }
            Msg::Ping { epoch } => {
                self.follows(ctx, epoch);
            }
            Msg::Sync { epoch, log } if self.follows(ctx, epoch) => {
                self.log = log;
                let held = self.log.len() as u64;
                ctx.send(from, Msg::Ack { epoch, held });
            }
            Msg::Ack { epoch, held } if self.primary && epoch == self.epoch => {
                self.backup_holds = self.backup_holds.max(held);
                self.apply_up_to(ctx, self.backup_holds);
            }
            Msg::Hello if self.primary => {
                self.backup_holds = 0;
                let (epoch, log) = (self.epoch, self.log.clone());
                ctx.send(from, Msg::Sync { epoch, log });
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Heartbeat if self.primary => {
                let epoch = self.epoch;
                ctx.send(self.peer, Msg::Ping { epoch });
                // Writes the backup has not acknowledged go again: a copy may have been lost,
                // or overtaken by the next one (the backup keeps only the next position).
                for entry in &self.log[self.backup_holds.min(self.log.len() as u64) as usize..] {
                    let entry = entry.clone();
                    ctx.send(self.peer, Msg::Replicate { epoch, entry });
                }
                ctx.set_timer(self.cfg.heartbeat.nanos(), Timer::Heartbeat);
            }
            Timer::Failover if !self.primary => self.take_over(ctx),
            _ => {}
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest) {
        if !self.primary {
            let leader = Some(self.peer);
            return ctx.reply(request.id, Reply::NotLeader { leader });
        }
        match request.op {
            Op::Get { key } => {
                let value = self.store.get(&key).cloned();
                ctx.reply(request.id, Reply::Ok(OpResult::Value { value }));
            }
            Op::Put { key, value } => {
                if let Some(e) = self.log.iter().find(|e| e.request == request.id) {
                    // A retry: answered when (or since) the first copy was applied.
                    if e.seq <= self.applied {
                        let e = e.clone();
                        self.acknowledge(ctx, &e);
                    }
                    return;
                }
                let entry = Entry {
                    seq: self.log.len() as u64 + 1,
                    request: request.id,
                    key,
                    value,
                };
                self.log.push(entry.clone());
                if self.cfg.bugged {
                    // Answered now, copied with the next heartbeat.
                    self.apply_up_to(ctx, self.log.len() as u64);
                } else {
                    let epoch = self.epoch;
                    ctx.send(self.peer, Msg::Replicate { epoch, entry });
                }
            }
            _ => ctx.reply(
                request.id,
                Reply::Fail {
                    reason: "primary-backup serves get and put only".into(),
                },
            ),
        }
    }

    fn narrate_message(msg: &Value, _names: &[String]) -> Option<String> {
        let (kind, body) = msg.as_object()?.iter().next()?;
        let epoch = body.get("epoch");
        let epoch = epoch.map_or(String::new(), |e| format!("epoch {e}"));
        Some(match kind.as_str() {
            "replicate" => {
                let e = body.get("entry")?;
                let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
                format!(
                    "Replicate(#{} {} = {}, {epoch})",
                    e.get("seq")?,
                    text("key")?,
                    text("value")?
                )
            }
            "ack" => format!("Ack(holds #1..#{}, {epoch})", body.get("held")?),
            "ping" => format!("Ping({epoch})"),
            "sync" => format!(
                "Sync({} writes, {epoch})",
                body.get("log")?.as_array()?.len()
            ),
            _ => return None,
        })
    }
}

impl PrimaryBackup {
    /// A message from a primary of `epoch`: a newer epoch makes this node its backup (a primary
    /// that was cut off steps down); an older one is ignored. Re-arms the fail-over timer.
    fn follows(&mut self, ctx: &mut Ctx<'_, Self>, epoch: u64) -> bool {
        if epoch < self.epoch || (epoch == self.epoch && self.primary) {
            return false;
        }
        if epoch > self.epoch {
            self.epoch = epoch;
            ctx.persist(epoch);
            if self.primary {
                self.primary = false;
                ctx.cancel_timer(Timer::Heartbeat);
            }
            self.observe_role(ctx);
        }
        ctx.set_timer(self.cfg.failover_after.nanos(), Timer::Failover);
        true
    }

    /// The primary fell silent: this backup becomes the primary of the next epoch, with every
    /// write its log holds.
    fn take_over(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.epoch += 1;
        self.primary = true;
        ctx.persist(self.epoch);
        ctx.fact(Fact::Promoted {
            epoch: self.epoch,
            log: self.log.iter().map(|e| e.value.clone()).collect(),
        });
        self.observe_role(ctx);
        // Its own log is what it replicates from now on; the old primary, if it returns, asks.
        self.backup_holds = 0;
        for e in &self.log[self.applied as usize..] {
            self.store.insert(e.key.clone(), e.value.clone());
        }
        self.applied = self.log.len() as u64;
        ctx.set_timer(self.cfg.heartbeat.nanos(), Timer::Heartbeat);
    }

    /// Applies the log through `seq` and answers each write's client.
    fn apply_up_to(&mut self, ctx: &mut Ctx<'_, Self>, seq: u64) {
        while self.applied < seq.min(self.log.len() as u64) {
            let e = self.log[self.applied as usize].clone();
            self.store.insert(e.key.clone(), e.value.clone());
            self.applied += 1;
            self.acknowledge(ctx, &e);
        }
    }

    fn acknowledge(&mut self, ctx: &mut Ctx<'_, Self>, e: &Entry) {
        ctx.fact(Fact::Acknowledged {
            epoch: self.epoch,
            seq: e.seq,
            key: e.key.clone(),
            value: e.value.clone(),
        });
        ctx.reply(e.request, Reply::Ok(OpResult::Done));
    }

    fn observe_role(&self, ctx: &mut Ctx<'_, Self>) {
        let role = if self.primary {
            Role::Master
        } else {
            Role::Standby
        };
        ctx.observe(Observation::Role {
            role,
            term: self.epoch,
        });
    }
}
