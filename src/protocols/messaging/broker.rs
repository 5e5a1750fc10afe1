//! The message queue broker: it stores every published copy on its disk before acknowledging,
//! delivers it to the consumer and redelivers it every `redeliver` until the consumer
//! acknowledges (at-least-once delivery: a copy whose acknowledgement was lost comes again).
//! It does not deduplicate: a copy published twice is stored and delivered twice.
//!
//! With `design = "transactional"` it also keeps prepared (half) messages, undelivered until
//! the producer confirms them, and checks back with the producer on one prepared for
//! `check_back` or longer (RocketMQ's 回查), asking again every `check_back` while the answer is
//! "still running".

use std::collections::BTreeMap;

use crate::node::{Ctx, LocalNanos, NodeId};

use super::messages::{By, Disk, Entry, MessagingFact, Msg, Timer};
use super::{CONSUMER, Messaging, MessagingConfig, PRODUCER};

#[derive(Debug, Default)]
pub(crate) struct Broker {
    /// Its queue, as on disk.
    pub(crate) db: Disk,
    /// When each entry was last delivered, or prepared or checked back on (monotonic): in
    /// memory, so a restarted broker delivers and checks back on everything at once.
    touched: BTreeMap<u64, LocalNanos>,
}

impl Broker {
    pub(crate) fn new(db: Disk) -> Self {
        Broker {
            db,
            ..Broker::default()
        }
    }

    fn save(&self, ctx: &mut Ctx<'_, Messaging>) {
        ctx.persist(Disk {
            last_offset: self.db.last_offset,
            queue: self.db.queue.clone(),
            ..Disk::default()
        });
    }

    fn store(&mut self, ctx: &mut Ctx<'_, Messaging>, txn: u64, prepared: bool) -> u64 {
        self.db.last_offset += 1;
        let offset = self.db.last_offset;
        self.db.queue.insert(offset, Entry { txn, prepared });
        self.save(ctx);
        self.touched.insert(offset, ctx.monotonic());
        offset
    }

    fn deliver(&mut self, ctx: &mut Ctx<'_, Messaging>, offset: u64, txn: u64) {
        ctx.send(CONSUMER, Msg::Deliver { offset, txn });
        self.touched.insert(offset, ctx.monotonic());
    }

    /// The prepared entry of `txn`, if the broker holds one.
    fn prepared(&self, txn: u64) -> Option<u64> {
        self.db
            .queue
            .iter()
            .find(|(_, e)| e.txn == txn && e.prepared)
            .map(|(&o, _)| o)
    }

    fn resolve(&mut self, ctx: &mut Ctx<'_, Messaging>, txn: u64, commit: bool, by: By) {
        let Some(offset) = self.prepared(txn) else {
            return;
        };
        if commit {
            self.db.queue.insert(
                offset,
                Entry {
                    txn,
                    prepared: false,
                },
            );
        } else {
            self.db.queue.remove(&offset);
            self.touched.remove(&offset);
        }
        self.save(ctx);
        ctx.fact(MessagingFact::Resolved { txn, commit, by });
        if commit {
            self.deliver(ctx, offset, txn);
        }
    }

    pub(crate) fn on_start(&mut self, ctx: &mut Ctx<'_, Messaging>, cfg: &MessagingConfig) {
        ctx.set_timer(cfg.redeliver.nanos(), Timer::Tick);
    }

    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Messaging>,
        _cfg: &MessagingConfig,
        from: NodeId,
        msg: Msg,
    ) {
        match msg {
            Msg::Publish { txn } => {
                let offset = self.store(ctx, txn, false);
                ctx.fact(MessagingFact::Stored { txn, offset });
                ctx.send(from, Msg::PublishAck { txn });
                self.deliver(ctx, offset, txn);
            }
            Msg::Prepare { txn } => {
                // A duplicate of a prepare it holds gets the same answer.
                if self.prepared(txn).is_none() {
                    self.store(ctx, txn, true);
                    ctx.fact(MessagingFact::Prepared { txn });
                }
                ctx.send(from, Msg::PrepareAck { txn });
            }
            Msg::Confirm { txn } => self.resolve(ctx, txn, true, By::Producer),
            Msg::Cancel { txn } => self.resolve(ctx, txn, false, By::Producer),
            Msg::CheckResult {
                txn,
                committed: Some(commit),
            } => self.resolve(ctx, txn, commit, By::CheckBack),
            Msg::Ack { offset } if self.db.queue.remove(&offset).is_some() => {
                self.touched.remove(&offset);
                self.save(ctx);
            }
            _ => {}
        }
    }

    /// Redelivers what is unacknowledged and checks back on what is prepared too long.
    pub(crate) fn tick(&mut self, ctx: &mut Ctx<'_, Messaging>, cfg: &MessagingConfig) {
        let now = ctx.monotonic();
        let due =
            |touched: Option<&LocalNanos>, age: u64| touched.is_none_or(|&t| now - t >= age as i64);
        let entries: Vec<(u64, Entry)> = self.db.queue.iter().map(|(&o, &e)| (o, e)).collect();
        for (offset, e) in entries {
            let touched = self.touched.get(&offset);
            if !e.prepared {
                if due(touched, cfg.redeliver.nanos()) {
                    self.deliver(ctx, offset, e.txn);
                }
            } else if cfg.check_back.nanos() > 0 && due(touched, cfg.check_back.nanos()) {
                ctx.send(PRODUCER, Msg::CheckBack { txn: e.txn });
                self.touched.insert(offset, now);
            }
        }
        ctx.set_timer(cfg.redeliver.nanos(), Timer::Tick);
    }
}
