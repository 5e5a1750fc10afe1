//! The generation clock (seed text 001, 「3.进程暂停」): every master carries a generation, a
//! number that only grows; the storage remembers the highest it has seen and refuses a
//! master's request stamped with an older one (「Generation Clock用于标记和检测来自老master的
//! 请求」).
//!
//! Three nodes: the storage (node 0), the first master (node 1, generation 1) and its standby
//! (node 2). Clients send their operations to the master, which has the storage carry them out,
//! each stamped with its generation. The standby pings the master; after `missed_pings`
//! unanswered pings it promotes itself with the next generation (one more than the highest it
//! knows). A master the storage refuses learns the newer generation and steps down to standby.
//!
//! The case of the text: the master is paused (a long GC pause); the standby promotes itself
//! and clients turn to it; the old master wakes and carries on with the requests that reached
//! it meanwhile. With `check_generation = false` the storage carries them out too — an old
//! master's writes land on top of the new master's: `no_stale_write` fails. With the check
//! they are refused, and the old master steps down.
//!
//! Promotion here needs no quorum: two masters may believe they lead at once (the naive
//! fail-over's split brain), and generations come from each candidate's own knowledge, so the
//! check keeps the storage safe only because one node — the storage — orders them. Raft's term
//! is the same idea with a quorum deciding each generation.
//!
//! Observations: `Role { Master | Standby, generation }`. Facts ([`GenerationFact`]): the
//! storage states each operation it carries out and each it refuses; `no_stale_write` judges
//! them (both live in `protocols::stale_write`, shared with the arbiter's storage).

mod messages;
mod store;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, Duration, Kv, NodeId, Observation, Protocol,
    ProtocolInvariant, Reply, Role,
};

pub use messages::{Disk, Msg, Timer};

pub use super::stale_write::GenerationFact;

use super::ping_watch::{self, PingWatch, Tick};
use super::stale_write::no_stale_write;

/// `[protocol]` settings of `generation-clock`.
///
/// ```
/// use sim::protocols::generation_clock::GenerationConfig;
/// let config: GenerationConfig = toml::from_str("check_generation = false").unwrap();
/// assert_eq!((config.check_generation, config.missed_pings), (false, 3));
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `generation-clock`.")]
pub struct GenerationConfig {
    /// Whether the storage refuses a request stamped with a generation older than the highest
    /// it has seen (default true). false: the broken design, where a paused old master's
    /// writes overwrite newer data.
    pub check_generation: bool,
    /// How often the standby pings the master.
    pub ping_interval: Duration,
    /// Unanswered pings in a row after which the standby promotes itself.
    pub missed_pings: u32,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        GenerationConfig {
            check_generation: true,
            ping_interval: Duration::from_millis(100),
            missed_pings: 3,
        }
    }
}

const STORAGE: NodeId = NodeId(0);

/// A master or its standby.
#[derive(Debug)]
struct Candidate {
    master: bool,
    /// Its own generation while master; the highest it knows otherwise.
    generation: u64,
    /// The other candidate.
    other: NodeId,
    /// A standby's count of unanswered pings.
    watch: PingWatch,
}

/// The storage.
#[derive(Debug)]
struct Storage {
    highest: u64,
    data: BTreeMap<String, String>,
    /// Who sent the highest generation: where clients are sent.
    master: NodeId,
}

#[derive(Debug)]
enum Part {
    Storage(Storage),
    Candidate(Candidate),
}

/// One node of `generation-clock`: the storage, or one of the two candidates for master.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Effect, NodeId, Observation, Protocol, Role};
/// use sim::protocols::generation_clock::{GenerationClock, GenerationConfig};
/// // Node 1 starts as the master of generation 1.
/// let mut m1 = GenerationClock::new(NodeId(1), &[NodeId(0), NodeId(2)], &GenerationConfig::default(), None);
/// let fx = step_any(&mut m1, 1, 3, 0, |n, ctx| n.on_start(ctx));
/// assert!(fx.iter().any(|e| matches!(e, Effect::Observe(Observation::Role { role: Role::Master, term: 1 }))));
/// ```
#[derive(Debug)]
pub struct GenerationClock {
    config: GenerationConfig,
    part: Part,
}

impl GenerationClock {
    fn persist(&self, ctx: &mut Ctx<'_, Self>) {
        let disk = match &self.part {
            Part::Storage(s) => Disk {
                highest: s.highest,
                data: s.data.clone(),
                ..Disk::default()
            },
            Part::Candidate(c) => Disk {
                generation: c.generation,
                master: c.master,
                ..Disk::default()
            },
        };
        ctx.persist(disk);
    }

    fn announce(ctx: &mut Ctx<'_, Self>, c: &Candidate) {
        ctx.observe(Observation::Role {
            role: if c.master {
                Role::Master
            } else {
                Role::Standby
            },
            term: c.generation,
        });
    }

    fn set_role(&mut self, ctx: &mut Ctx<'_, Self>, master: bool, generation: u64) {
        let Part::Candidate(c) = &mut self.part else {
            return;
        };
        c.master = master;
        c.generation = generation;
        c.watch.reset();
        Self::announce(ctx, c);
        if !master {
            ctx.set_timer(self.config.ping_interval.nanos(), Timer::Ping);
        }
        self.persist(ctx);
    }

    fn on_storage_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let Part::Storage(s) = &mut self.part else {
            return;
        };
        let Msg::Apply {
            generation,
            request,
            op,
        } = msg
        else {
            return;
        };
        let key = op.key().to_string();
        if self.config.check_generation && generation < s.highest {
            let highest = s.highest;
            ctx.fact(GenerationFact::Rejected {
                generation,
                highest,
                from,
                key,
            });
            ctx.send(from, Msg::Stale { request, highest });
            return;
        }
        let raised = generation > s.highest;
        if raised {
            s.highest = generation;
            s.master = from;
        }
        let result = store::execute(&mut s.data, &op);
        ctx.fact(GenerationFact::Applied {
            generation,
            from,
            key,
            request: Some(request),
            write: op.is_write(),
        });
        if op.is_write() || raised {
            self.persist(ctx);
        }
        ctx.send(from, Msg::Done { request, result });
    }
}

impl Protocol for GenerationClock {
    const NAME: &'static str = "generation-clock";
    const SUMMARY: &'static str = "a master, its standby and a storage that refuses requests of an older generation \
         than it has seen (check_generation)";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["no_stale_write"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = GenerationConfig;
    type Durable = Disk;
    type Api = Kv;
    type Fact = GenerationFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![no_stale_write::<GenerationFact>()]
    }

    /// `Apply(gen 1: put k1=c2-42 for c2#42)`, `Stale(c2#42: highest gen 2)`; the rest
    /// generically.
    fn narrate_message(msg: &serde_json::Value, _names: &[String]) -> Option<String> {
        let request = |r: &serde_json::Value| -> Option<String> {
            Some(format!("c{}#{}", r.get("client")?, r.get("seq")?))
        };
        if let Some(apply) = msg.get("Apply") {
            let op = apply.get("op")?;
            let f = op.get("f")?.as_str()?;
            let key = op.get("key")?.as_str()?;
            let what = match op.get("value").and_then(|v| v.as_str()) {
                Some(value) => format!("{f} {key}={value}"),
                None => format!("{f} {key}"),
            };
            return Some(format!(
                "Apply(gen {}: {what} for {})",
                apply.get("generation")?,
                request(apply.get("request")?)?
            ));
        }
        let stale = msg.get("Stale")?;
        Some(format!(
            "Stale({}: highest gen {})",
            request(stale.get("request")?)?,
            stale.get("highest")?
        ))
    }

    fn validate(config: &GenerationConfig, cluster_size: usize) -> Result<(), ConfigError> {
        if cluster_size != 3 {
            return Err(ConfigError::new(
                "",
                format!(
                    "generation-clock needs exactly 3 nodes (the storage, the first master, its \
                     standby), not {cluster_size}"
                ),
            ));
        }
        ping_watch::validate(config.ping_interval, config.missed_pings)?;
        Ok(())
    }

    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let name = |n: NodeId| names.get(n.0 as usize).cloned().unwrap_or_default();
        match &self.part {
            Part::Storage(s) => vec![
                format!("role        storage"),
                format!(
                    "highest     generation {} (from {})",
                    s.highest,
                    name(s.master)
                ),
                format!("keys        {}", s.data.len()),
            ],
            Part::Candidate(c) => vec![
                format!(
                    "role        {}",
                    if c.master { "master" } else { "standby" }
                ),
                format!("generation  {}", c.generation),
            ],
        }
    }

    fn new(
        id: NodeId,
        _peers: &[NodeId],
        config: &GenerationConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let disk = disk.map(|d| d.state.clone());
        let part = if id == STORAGE {
            let disk = disk.unwrap_or_default();
            Part::Storage(Storage {
                highest: disk.highest,
                data: disk.data,
                master: NodeId(1),
            })
        } else {
            let (master, generation) = match disk {
                Some(d) => (d.master, d.generation),
                // Node 1 is the first master, of generation 1.
                None => (id == NodeId(1), 1),
            };
            Part::Candidate(Candidate {
                master,
                generation,
                other: NodeId(3 - id.0),
                watch: PingWatch::default(),
            })
        };
        GenerationClock {
            config: config.clone(),
            part,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Part::Candidate(c) = &self.part {
            Self::announce(ctx, c);
            if !c.master {
                ctx.set_timer(self.config.ping_interval.nanos(), Timer::Ping);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let Part::Candidate(c) = &mut self.part else {
            return self.on_storage_message(ctx, from, msg);
        };
        match msg {
            Msg::Ping { seq } if c.master => ctx.send(
                from,
                Msg::Pong {
                    seq,
                    generation: c.generation,
                },
            ),
            Msg::Pong { seq, generation } if !c.master => {
                c.generation = c.generation.max(generation);
                c.watch.pong(seq);
            }
            Msg::Done { request, result } => ctx.reply(request, Reply::Ok(result)),
            Msg::Stale { request, highest } => {
                let other = c.other;
                if c.master && highest > c.generation {
                    // Deposed: a newer generation has written. Step down and say who leads.
                    self.set_role(ctx, false, highest);
                }
                ctx.reply(
                    request,
                    Reply::NotLeader {
                        leader: Some(other),
                    },
                );
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, Timer::Ping: Timer) {
        let Part::Candidate(c) = &mut self.part else {
            return;
        };
        if c.master {
            return;
        }
        match c.watch.tick(self.config.missed_pings) {
            Tick::Silent => {
                let next = c.generation + 1;
                self.set_role(ctx, true, next);
            }
            Tick::Ping(seq) => {
                ctx.send(c.other, Msg::Ping { seq });
                ctx.set_timer(self.config.ping_interval.nanos(), Timer::Ping);
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest) {
        match &self.part {
            Part::Storage(s) => ctx.reply(
                request.id,
                Reply::NotLeader {
                    leader: Some(s.master),
                },
            ),
            Part::Candidate(c) if c.master => ctx.send(
                STORAGE,
                Msg::Apply {
                    generation: c.generation,
                    request: request.id,
                    op: request.op,
                },
            ),
            Part::Candidate(c) => ctx.reply(
                request.id,
                Reply::NotLeader {
                    leader: Some(c.other),
                },
            ),
        }
    }
}
