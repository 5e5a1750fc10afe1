//! Stateless proxies between senders and a backend (seed text 000, 「无状态服务的单点问题」): a
//! proxy forwards messages and keeps nothing, so a second one is easy to add — and the text's
//! two questions follow: what happens when a proxy dies, and in what order a sender's messages
//! reach the backend once they may take different proxies.
//!
//! **Nodes**, by position in `[cluster] nodes`: the backend, then `proxies` proxies, then the
//! senders (the text's 业务进程).
//!
//! **A sender** sends `messages` messages, numbered from 1, one every `interval`, each through
//! the proxy its `routing` picks (`sender.rs`): a random live one per message (the text's load
//! balancing), the next in turn, or always the same one (`sticky`, the text's fix for order).
//! It resends a message the backend has not acknowledged after `retry`. With `failover` it
//! pings every proxy and routes around one that misses `missed_pings` pings in a row (the
//! shared `ping_watch`), until it answers again.
//!
//! **A proxy** forwards a sender's message to the backend and the backend's acknowledgement
//! back to the sender, and answers pings: everything it needs is in the message.
//!
//! **The backend** (`backend.rs`) applies each message: as it arrives (`order = "arrival"`),
//! or in each sender's sequence order, holding early ones and dropping copies
//! (`order = "sequence"`).
//!
//! Facts ([`ProxyFact`]): senders state `Sent`; the backend `Arrived`, `Applied`, `Held` and
//! `Dropped`. Invariants (`invariants.rs`): `fifo_per_sender` and `no_lost_message`.
//!
//! Senders and the backend keep their state in memory only: they are the stateful services of
//! the text's next section, and the lessons crash and pause only proxies.

mod backend;
mod config;
pub mod invariants;
mod messages;
mod narrate;
mod sender;

#[cfg(test)]
mod tests;

use crate::node::{ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant};

pub use config::{Order, ProxyConfig, Routing};
pub use messages::{Msg, ProxyFact, Timer};

use backend::Backend;
use sender::Sender;

const BACKEND: NodeId = NodeId(0);

/// One node: the backend, a proxy or a sender.
#[derive(Debug)]
pub struct ProxyNode {
    config: ProxyConfig,
    role: Role,
}

#[derive(Debug)]
enum Role {
    Backend(Backend),
    Proxy,
    Sender(Sender),
}

impl Protocol for ProxyNode {
    const NAME: &'static str = "proxy";
    const SUMMARY: &'static str = "senders reach a backend through stateless proxies: one proxy \
        or several behind a heartbeat; a proxy per message or a sticky one per sender; a backend \
        applying in arrival or in sequence order";
    /// None: which guarantee a design keeps — order, or only delivery — is what its lessons
    /// teach, so each scenario names the ones it checks.
    const DEFAULT_INVARIANTS: &'static [&'static str] = &[];

    type Msg = Msg;
    type Timer = Timer;
    type Config = ProxyConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = ProxyFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![invariants::fifo_per_sender(), invariants::no_lost_message()]
    }

    fn validate(config: &ProxyConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let name = |id: NodeId| {
            names
                .get(id.0 as usize)
                .cloned()
                .unwrap_or(id.0.to_string())
        };
        match &self.role {
            Role::Backend(b) => {
                let mut lines = vec![
                    "role         backend".into(),
                    format!("applied      {}", b.applied),
                ];
                for (s, lane) in &b.lanes {
                    let held: Vec<String> = lane.held.keys().map(u64::to_string).collect();
                    lines.push(format!(
                        "{:<12} next {}, held [{}]",
                        name(*s),
                        lane.next,
                        held.join(" ")
                    ));
                }
                lines
            }
            Role::Proxy => vec!["role         proxy (stateless)".into()],
            Role::Sender(s) => {
                let unacked: Vec<String> = s.unacked.keys().map(u64::to_string).collect();
                let suspected: Vec<String> = s
                    .proxies
                    .iter()
                    .zip(&s.suspected)
                    .filter(|(_, d)| **d)
                    .map(|(&p, _)| name(p))
                    .collect();
                vec![
                    "role         sender".into(),
                    format!("next         {}", s.next),
                    format!("unacked      [{}]", unacked.join(" ")),
                    format!("suspected    [{}]", suspected.join(" ")),
                ]
            }
        }
    }

    fn new(id: NodeId, _: &[NodeId], config: &ProxyConfig, _: Option<&DiskOf<Self>>) -> Self {
        let proxies = config.proxies;
        let role = if id == BACKEND {
            Role::Backend(Backend::default())
        } else if id.0 <= proxies {
            Role::Proxy
        } else {
            Role::Sender(Sender::new(
                (id.0 - proxies - 1) as usize,
                (1..=proxies).map(NodeId).collect(),
            ))
        };
        ProxyNode {
            config: config.clone(),
            role,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Role::Sender(s) = &mut self.role {
            s.on_start(ctx, &self.config);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match &mut self.role {
            Role::Backend(b) => b.on_message(ctx, self.config.order, from, msg),
            Role::Sender(s) => s.on_message(ctx, from, msg),
            // Stateless: all it needs is in the message.
            Role::Proxy => match msg {
                Msg::Send { seq } => ctx.send(BACKEND, Msg::Forward { sender: from, seq }),
                Msg::Ack { sender, seq } => ctx.send(sender, Msg::Acked { seq }),
                Msg::Ping { seq } => ctx.send(from, Msg::Pong { seq }),
                _ => {}
            },
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        if let Role::Sender(s) = &mut self.role {
            s.on_timer(ctx, &self.config, timer);
        }
    }
}
