//! The producer service and its local database: one local transaction every `interval`, and the
//! design under study for getting its message to the broker (`Design`).
//!
//! Its database is on the simulated disk ([`Disk`]): the last transaction number, the
//! transactions committed and rolled back and, with `local_table`, the message table. What it
//! is waiting for (an acknowledgement, a prepared message's answer) and when it last sent each
//! row are in memory, and a crash forgets them — which is what the broken designs trip on.

use std::collections::BTreeMap;

use crate::node::{Ctx, LocalNanos, NodeId};

use super::messages::{Disk, MessagingFact, Msg, Timer, Why};
use super::{BROKER, Design, Messaging, MessagingConfig};

#[derive(Debug, Default)]
pub(crate) struct Producer {
    /// Its local database, as on disk.
    pub(crate) db: Disk,
    /// Transactions waiting for the broker's answer, with whether the business logic will
    /// fail (drawn when the transaction began): `send_after_commit`'s committed transactions
    /// whose publish is unacknowledged, `transactional`'s whose prepared message is.
    pub(crate) waiting: BTreeMap<u64, bool>,
    /// `local_table`: when each row of the table was last sent (monotonic).
    sent_at: BTreeMap<u64, LocalNanos>,
}

impl Producer {
    pub(crate) fn new(db: Disk) -> Self {
        Producer {
            db,
            ..Producer::default()
        }
    }

    fn save(&self, ctx: &mut Ctx<'_, Messaging>) {
        ctx.persist(Disk {
            last_txn: self.db.last_txn,
            committed: self.db.committed.clone(),
            rolled_back: self.db.rolled_back.clone(),
            outbox: self.db.outbox.clone(),
            ..Disk::default()
        });
    }

    fn commit(&mut self, ctx: &mut Ctx<'_, Messaging>, txn: u64, row: bool) {
        self.db.committed.insert(txn);
        if row {
            self.db.outbox.insert(txn);
        }
        self.save(ctx);
        ctx.fact(MessagingFact::Committed { txn });
    }

    fn roll_back(&mut self, ctx: &mut Ctx<'_, Messaging>, txn: u64, why: Why) {
        self.db.committed.remove(&txn);
        self.db.rolled_back.insert(txn);
        self.save(ctx);
        ctx.fact(MessagingFact::RolledBack { txn, why });
    }

    pub(crate) fn on_start(&mut self, ctx: &mut Ctx<'_, Messaging>, cfg: &MessagingConfig) {
        ctx.set_timer(cfg.interval.nanos(), Timer::Next);
        if cfg.design == Design::LocalTable && cfg.scan.nanos() > 0 {
            ctx.set_timer(cfg.scan.nanos(), Timer::Scan);
        }
    }

    pub(crate) fn on_timer(
        &mut self,
        ctx: &mut Ctx<'_, Messaging>,
        cfg: &MessagingConfig,
        timer: Timer,
    ) {
        match timer {
            Timer::Next => self.next(ctx, cfg),
            Timer::Timeout(txn) => {
                if self.waiting.remove(&txn).is_none() {
                    return;
                }
                match cfg.design {
                    // The text's rule: the send failed, so roll the transaction back — though
                    // the message may be on the broker, its acknowledgement lost.
                    Design::SendAfterCommit => self.roll_back(ctx, txn, Why::SendFailed),
                    // The local transaction never ran; the prepared message, if the broker has
                    // it, is cancelled (or found out by the check-back).
                    Design::Transactional => {
                        self.roll_back(ctx, txn, Why::PrepareFailed);
                        ctx.send(BROKER, Msg::Cancel { txn });
                    }
                    Design::LocalTable => {}
                }
            }
            Timer::Scan => {
                let now = ctx.monotonic();
                let age = cfg.scan.nanos() as i64;
                let due: Vec<u64> = self
                    .db
                    .outbox
                    .iter()
                    .copied()
                    .filter(|t| self.sent_at.get(t).is_none_or(|&s| now - s >= age))
                    .collect();
                for txn in due {
                    ctx.send(BROKER, Msg::Publish { txn });
                    self.sent_at.insert(txn, now);
                }
                ctx.set_timer(cfg.scan.nanos(), Timer::Scan);
            }
            Timer::Tick => {}
        }
    }

    /// Begins the next local transaction.
    fn next(&mut self, ctx: &mut Ctx<'_, Messaging>, cfg: &MessagingConfig) {
        if self.db.last_txn >= u64::from(cfg.transactions) {
            return;
        }
        self.db.last_txn += 1;
        let txn = self.db.last_txn;
        let fails = ctx.rng().chance(cfg.abort);
        ctx.set_timer(cfg.interval.nanos(), Timer::Next);
        match cfg.design {
            Design::Transactional => {
                // The number is on disk before the prepared message leaves: a restarted
                // producer never reuses it.
                self.save(ctx);
                ctx.send(BROKER, Msg::Prepare { txn });
                self.waiting.insert(txn, fails);
                ctx.set_timer(cfg.timeout.nanos(), Timer::Timeout(txn));
            }
            _ if fails => self.roll_back(ctx, txn, Why::Business),
            Design::SendAfterCommit => {
                self.commit(ctx, txn, false);
                ctx.send(BROKER, Msg::Publish { txn });
                self.waiting.insert(txn, false);
                ctx.set_timer(cfg.timeout.nanos(), Timer::Timeout(txn));
            }
            Design::LocalTable => {
                // The business data and the message row in one local transaction; then the
                // notification, at once.
                self.commit(ctx, txn, true);
                ctx.send(BROKER, Msg::Publish { txn });
                self.sent_at.insert(txn, ctx.monotonic());
            }
        }
    }

    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Messaging>,
        cfg: &MessagingConfig,
        from: NodeId,
        msg: Msg,
    ) {
        match msg {
            Msg::PublishAck { txn }
                if cfg.design == Design::SendAfterCommit && self.waiting.remove(&txn).is_some() =>
            {
                ctx.cancel_timer(Timer::Timeout(txn));
            }
            Msg::PrepareAck { txn } if cfg.design == Design::Transactional => {
                let Some(fails) = self.waiting.remove(&txn) else {
                    return;
                };
                ctx.cancel_timer(Timer::Timeout(txn));
                // The local transaction, then its outcome to the broker.
                if fails {
                    self.roll_back(ctx, txn, Why::Business);
                    ctx.send(BROKER, Msg::Cancel { txn });
                } else {
                    self.commit(ctx, txn, false);
                    ctx.send(BROKER, Msg::Confirm { txn });
                }
            }
            Msg::CheckBack { txn } => {
                // Answered from the database: a transaction neither committed nor still
                // running never will commit (a restarted producer never resumes one).
                let committed = if self.db.committed.contains(&txn) {
                    Some(true)
                } else if self.waiting.contains_key(&txn) {
                    None
                } else {
                    Some(false)
                };
                ctx.send(from, Msg::CheckResult { txn, committed });
            }
            Msg::Done { txn } if self.db.outbox.remove(&txn) => {
                self.sent_at.remove(&txn);
                self.save(ctx);
            }
            _ => {}
        }
    }
}
