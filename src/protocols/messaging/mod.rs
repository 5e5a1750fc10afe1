//! Reliable messaging between two services (seed text 004, 「4.2.3 本地消息表」 and
//! 「4.2.4 MQ事物消息」): a producer whose local transaction must be followed by exactly one
//! effect at a consumer, through a message queue broker.
//!
//! **Nodes**, by position in `[cluster] nodes`: the producer service with its local database
//! (`producer.rs`), the broker (`broker.rs`), the consumer service (`consumer.rs`).
//!
//! **The producer** runs `transactions` local transactions, one every `interval`; a share
//! (`abort`) fails on its own and rolls back. How it gets each committed transaction's message
//! to the consumer, and none of a rolled-back one's, is the design under study (`design`):
//! - `send_after_commit` — the text's queue without transactions: commit, send, and roll back
//!   if the broker does not acknowledge in time (「若投递失败则回滚事物」). A timed-out send may
//!   have been delivered, its acknowledgement lost: the consumer carries out the message of a
//!   transaction the producer rolled back (`no_orphan_message` fails). And a producer that
//!   crashes after committing, before the broker has the message, never sends it
//!   (`no_lost_message` fails).
//! - `local_table` — the message is a row of a table written in the same local transaction as
//!   the business data; it is sent at once (the notification), and a scan of the table every
//!   `scan` resends every row the consumer has not reported done. Nothing committed is lost,
//!   nothing rolled back is sent; but a row is resent whenever its `Done` is slow or lost, so
//!   the consumer sees copies. With `scan = "0s"` only the notification remains, and a lost one
//!   loses the message.
//! - `transactional` — RocketMQ's transactional message: a prepared message to the broker, then
//!   the local transaction, then a confirm (or cancel). The broker delivers only confirmed
//!   messages, and checks back with the producer on one prepared `check_back` or longer; the
//!   producer answers from its database. A lost confirm is found by the check-back; with
//!   `check_back = "0s"` it stays prepared for ever.
//!
//! **The broker** stores every copy on disk before acknowledging, and redelivers it every
//! `redeliver` until the consumer acknowledges: at least once. **The consumer** carries out
//! each delivered message; `idempotent = true` records its id in the same local transaction and
//! skips copies it has seen, `false` carries out every copy (`no_duplicate_effect` fails).
//!
//! Facts ([`MessagingFact`]): the producer states `Committed` and `RolledBack`; the broker
//! `Stored`, `Prepared` and `Resolved`; the consumer `Consumed` and `Skipped`.

mod broker;
mod config;
mod consumer;
pub mod invariants;
mod messages;
mod narrate;
mod producer;

#[cfg(test)]
mod tests;

use crate::node::{ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant};

pub use config::{Design, MessagingConfig};
pub use messages::{By, Disk, Entry, MessagingFact, Msg, Timer, Why};

use broker::Broker;
use consumer::Consumer;
use producer::Producer;

const PRODUCER: NodeId = NodeId(0);
const BROKER: NodeId = NodeId(1);
const CONSUMER: NodeId = NodeId(2);

/// One node: the producer, the broker or the consumer.
#[derive(Debug)]
pub struct Messaging {
    config: MessagingConfig,
    role: Node,
}

#[derive(Debug)]
enum Node {
    Producer(Producer),
    Broker(Broker),
    Consumer(Consumer),
}

impl Protocol for Messaging {
    const NAME: &'static str = "messaging";
    const SUMMARY: &'static str = "reliable messaging between two services through a broker: \
        send after commit, a local message table, or a transactional message with check-back; \
        idempotent or naive consumers";
    const DEFAULT_INVARIANTS: &'static [&'static str] =
        &["no_orphan_message", "no_duplicate_effect"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = MessagingConfig;
    type Durable = Disk;
    type Api = crate::node::Kv;
    type Fact = MessagingFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariants::no_orphan_message(),
            invariants::no_duplicate_effect(),
            invariants::no_lost_message(),
        ]
    }

    fn validate(config: &MessagingConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, _names: &[String]) -> Option<String> {
        narrate::message(msg)
    }

    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        let list = |s: &std::collections::BTreeSet<u64>| {
            s.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
        };
        match &self.role {
            Node::Producer(p) => vec![
                "role         producer".into(),
                format!("transactions {}", p.db.last_txn),
                format!("committed    {}", list(&p.db.committed)),
                format!("rolled back  {}", list(&p.db.rolled_back)),
                format!("table rows   {}", list(&p.db.outbox)),
            ],
            Node::Broker(b) => vec![
                "role         broker".into(),
                format!(
                    "queue        {}",
                    b.db.queue
                        .iter()
                        .map(|(o, e)| format!(
                            "{o}:txn {}{}",
                            e.txn,
                            if e.prepared { " (prepared)" } else { "" }
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ],
            Node::Consumer(c) => vec![
                "role         consumer".into(),
                format!("processed    {}", list(&c.db.processed)),
            ],
        }
    }

    fn new(
        id: NodeId,
        _peers: &[NodeId],
        config: &MessagingConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let saved = disk.map(|d| d.state.clone()).unwrap_or_default();
        let role = match id {
            PRODUCER => Node::Producer(Producer::new(saved)),
            BROKER => Node::Broker(Broker::new(saved)),
            _ => Node::Consumer(Consumer { db: saved }),
        };
        Messaging {
            config: config.clone(),
            role,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        match &mut self.role {
            Node::Producer(p) => p.on_start(ctx, &self.config),
            Node::Broker(b) => b.on_start(ctx, &self.config),
            Node::Consumer(_) => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let cfg = &self.config;
        match &mut self.role {
            Node::Producer(p) => p.on_message(ctx, cfg, from, msg),
            Node::Broker(b) => b.on_message(ctx, cfg, from, msg),
            Node::Consumer(c) => c.on_message(ctx, cfg, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match &mut self.role {
            Node::Producer(p) => p.on_timer(ctx, &self.config, timer),
            Node::Broker(b) if timer == Timer::Tick => b.tick(ctx, &self.config),
            _ => {}
        }
    }
}
