//! Master election by an arbiter (seed text 000, 「方案一: 引入第三方的服务进行裁决」): the
//! candidates register with a coordination service — ZooKeeper in the text — which hands out
//! sequential registrations (`master0000000001`, `master0000000002`, …; the text's `master001`
//! and `master002`); the lowest live one is master.
//!
//! **Nodes**, by position in `[cluster] nodes`: the coordination service (node 0, one node),
//! the storage the master writes to (node 1), and two or more candidates.
//!
//! **Registrations are ephemeral**: each belongs to a session the candidate keeps alive with
//! heartbeats (`service.rs`). When the service hears nothing for `session_timeout`, the session
//! lapses, its registration is deleted, and every live session is told the new list (the
//! watch): the next lowest learns it is master (`candidate.rs`). So a crashed master is
//! replaced — and so is one that is only paused (a long GC pause): it wakes still believing it
//! is master, and writes before its first heartbeat comes back `Expired`.
//!
//! **Generations** (`check_generation`, default true): a registration's sequence number only
//! grows, and the master stamps each write with its own; the storage remembers the highest it
//! has carried out and refuses anything older (`storage.rs`), so the woken master's write is
//! refused and it steps down. Without the check the write lands on top of its successor's:
//! `no_stale_write` fails. The text's scheme says nothing about this; the stamp is the
//! generation clock of seed text 001 (「3.进程暂停」) applied to the registrations. Two nodes
//! may still *believe* they are master at once — the common `no_split_brain`, which judges
//! beliefs (`Authority`), fails in both designs — but only one of them can write.
//!
//! **Fail-back** (`fail_back = true`, seed text 000, 「Fail-Back: 失效自动恢复」): the first
//! candidate is the preferred primary. A master that sees it registered yields: it deletes its
//! registration (a new session replaces it) and queues up behind the primary's, which becomes
//! master. Generations keep the hand-back safe: the primary's registration is newer.
//!
//! Observations: `Role { Master | Standby, seq }` and, on becoming master, `Authority` with no
//! end. Facts ([`ArbiterFact`]): the service states each registration and each lapsed session;
//! a yielding master its yield; the storage each write it carries out or refuses.

mod candidate;
mod config;
mod messages;
mod narrate;
mod service;
mod storage;

#[cfg(test)]
mod tests;

use crate::node::{ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant};
use crate::protocols::stale_write::no_stale_write;

pub use config::ArbiterConfig;
pub use messages::{ArbiterFact, Disk, Msg, Registration, Session, Timer};

use candidate::Candidate;
use service::Service;
use storage::Storage;

/// The coordination service.
const SERVICE: NodeId = NodeId(0);
/// The storage.
const STORAGE: NodeId = NodeId(1);
/// The first candidate: the primary that fail-back hands the master's place back to.
const PREFERRED: NodeId = NodeId(2);

#[derive(Debug)]
enum Part {
    Service(Service),
    Storage(Storage),
    Candidate(Candidate),
}

/// One node of `arbiter`: the coordination service, the storage, or a candidate for master.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Effect, NodeId, Protocol};
/// use sim::protocols::arbiter::{Arbiter, ArbiterConfig, Msg};
/// // A candidate's first act: open session 1 and ask the service (node 0) for a registration.
/// let mut a = Arbiter::new(NodeId(2), &[NodeId(0), NodeId(1), NodeId(3)], &ArbiterConfig::default(), None);
/// let fx = step_any(&mut a, 2, 4, 0, |n, ctx| n.on_start(ctx));
/// assert!(fx.iter().any(|e| matches!(e, Effect::Send { to: NodeId(0), msg: Msg::Register { session: 1 } })));
/// ```
#[derive(Debug)]
pub struct Arbiter {
    config: ArbiterConfig,
    part: Part,
}

impl Protocol for Arbiter {
    const NAME: &'static str = "arbiter";
    const SUMMARY: &'static str = "master election by a coordination service: sequential \
        ephemeral registrations kept alive by heartbeats, the lowest live one is master; \
        optional generation check at the storage and fail-back to the preferred primary";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["no_stale_write"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = ArbiterConfig;
    type Durable = Disk;
    type Api = crate::node::Kv;
    type Fact = ArbiterFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![no_stale_write::<ArbiterFact>()]
    }

    fn validate(config: &ArbiterConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let name = |n: NodeId| names.get(n.0 as usize).cloned().unwrap_or(n.to_string());
        let list = |rs: &[Registration]| {
            rs.iter()
                .map(|r| format!("{} ({})", r.name(), name(r.node)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.part {
            Part::Service(s) => vec![
                "role        coordination service".into(),
                format!("registered  {}", list(&s.registrations())),
                format!("last seq    {}", s.last_seq),
            ],
            Part::Storage(s) => vec![
                "role        storage".into(),
                format!("highest     generation {}", s.highest),
                format!("value       {}", s.value),
            ],
            Part::Candidate(c) => vec![
                format!(
                    "role        {}",
                    if c.master { "master" } else { "candidate" }
                ),
                format!(
                    "session     {} ({})",
                    c.session,
                    c.seq
                        .map_or("registering".into(), |s| messages::name(s).to_string())
                ),
                format!("knows       {} (v{})", list(&c.registrations), c.version),
            ],
        }
    }

    fn new(
        id: NodeId,
        _peers: &[NodeId],
        config: &ArbiterConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let saved = disk.map(|d| d.state.clone()).unwrap_or_default();
        let part = match id {
            SERVICE => Part::Service(Service::from_disk(&saved)),
            STORAGE => Part::Storage(Storage {
                highest: saved.highest,
                value: saved.value,
            }),
            _ => Part::Candidate(Candidate {
                session: saved.session,
                ..Candidate::default()
            }),
        };
        Arbiter {
            config: config.clone(),
            part,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let cfg = &self.config;
        match &mut self.part {
            Part::Service(s) => s.on_start(ctx, cfg),
            Part::Storage(_) => {}
            Part::Candidate(c) => c.on_start(ctx, cfg),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let cfg = &self.config;
        match &mut self.part {
            Part::Service(s) => s.on_message(ctx, cfg, from, msg),
            Part::Storage(s) => s.on_message(ctx, cfg, from, msg),
            Part::Candidate(c) => c.on_message(ctx, cfg, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        let cfg = &self.config;
        match &mut self.part {
            Part::Service(s) => s.on_timer(ctx, timer),
            Part::Storage(_) => {}
            Part::Candidate(c) => c.on_timer(ctx, cfg, timer),
        }
    }
}
