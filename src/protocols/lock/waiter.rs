//! A client of the ZooKeeper lock recipe (seed text 004, 「Zookeeper 分布式锁」): it keeps a
//! session alive with heartbeats, creates an ephemeral sequential node under the lock, reads
//! the children, and holds the lock when its node is the lowest; otherwise it waits on a watch
//! (`watch`): on the children (every change wakes it: the herd) or on the node just before its
//! own (`Exists` with a watch: only that node's deletion wakes it). Woken, it reads the children
//! again. Holding, it writes to the resource `writes` times as the `set-nx` client does, then
//! releases by deleting its node (sent again with every heartbeat until answered).
//!
//! It trusts its node until the service says otherwise: a holder paused past its session wakes,
//! and its due write goes out before its heartbeat comes back `SessionExpired` — two holders,
//! unless the resource checks a fencing token (the node's sequence number, ZooKeeper's
//! sequential suffix). Told its session expired, it gives the lock up (or its place in the
//! queue) and opens a new session.

use crate::node::{Ctx, NodeId, Observation, Role};

use super::messages::{Cause, Change, Disk, LockFact, Msg, Timer, Why};
use super::{Lock, LockConfig, Watch};

/// The coordination service.
const SERVICE: NodeId = NodeId(0);
/// The resource.
const RESOURCE: NodeId = NodeId(1);

/// Where a ZooKeeper client is in its loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Waiting for its `Next` timer to create a node.
    Idle,
    /// Asked for a node for try `attempt`.
    Creating { attempt: u64 },
    /// Has node `seq`, reading the children.
    Reading { attempt: u64, seq: u64 },
    /// Asked whether its predecessor `pred` exists (with a watch).
    Checking { attempt: u64, seq: u64, pred: u64 },
    /// Waits on its watch: on `pred`, or on the children (`pred` is `None`).
    Waiting {
        attempt: u64,
        seq: u64,
        pred: Option<u64>,
    },
    /// Holds the lock with node `token`, `sent` writes made.
    Holding { attempt: u64, token: u64, sent: u32 },
}

#[derive(Debug)]
pub(crate) struct Waiter {
    pub(crate) step: Step,
    /// Tries made, across restarts.
    pub(crate) attempts: u64,
    /// The current session's number (on disk: a restart opens a newer one).
    pub(crate) session: u64,
    /// The children's newest version seen (read, or in a notification): an older answer or
    /// notification is stale.
    version: u64,
    /// A released node whose deletion the service has not yet confirmed.
    pub(crate) deleting: Option<u64>,
}

impl Waiter {
    pub(crate) fn new(attempts: u64, session: u64) -> Self {
        Waiter {
            step: Step::Idle,
            attempts,
            session,
            version: 0,
            deleting: None,
        }
    }

    fn save(&self, ctx: &mut Ctx<'_, Lock>) {
        ctx.persist(Disk {
            attempts: self.attempts,
            session: self.session,
            ..Disk::default()
        });
    }

    pub(crate) fn on_start(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig) {
        // A new session: the one before the crash, if any, lapses on its own.
        self.session += 1;
        self.save(ctx);
        ctx.observe(Observation::Role {
            role: Role::Standby,
            term: 0,
        });
        ctx.set_timer(cfg.heartbeat.nanos(), Timer::Heartbeat);
        let first = ctx.rng().below(cfg.retry.nanos());
        ctx.set_timer(first, Timer::Next);
    }

    /// The request of the current step, sent (again).
    fn ask(&self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig) {
        let session = self.session;
        let msg = match self.step {
            Step::Creating { attempt } => Msg::Create { session, attempt },
            Step::Reading { attempt, seq } => Msg::GetChildren {
                session,
                attempt,
                mine: seq,
                watch: cfg.watch() == Watch::Children,
            },
            Step::Checking { attempt, pred, .. } => Msg::Exists {
                session,
                attempt,
                seq: pred,
            },
            _ => return,
        };
        ctx.send(SERVICE, msg);
        ctx.set_timer(cfg.timeout.nanos(), Timer::Timeout);
    }

    fn read(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig, attempt: u64, seq: u64) {
        self.step = Step::Reading { attempt, seq };
        self.ask(ctx, cfg);
    }

    fn write(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig) {
        if let Step::Holding {
            attempt,
            token,
            sent,
        } = &mut self.step
        {
            *sent += 1;
            let write = Msg::Write {
                attempt: *attempt,
                seq: *sent,
                token: cfg.fencing.then_some(*token),
            };
            ctx.send(RESOURCE, write);
            ctx.set_timer(cfg.timeout.nanos(), Timer::Timeout);
        }
    }

    /// Ends a tenure: states why, deletes the node (unless the session took it), rests.
    fn give_up(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig, why: Why) {
        let Step::Holding { attempt, token, .. } = self.step else {
            return;
        };
        ctx.cancel_timer(Timer::Timeout);
        ctx.fact(LockFact::Released { attempt, why });
        ctx.observe(Observation::Role {
            role: Role::Standby,
            term: token,
        });
        if why != Why::SessionExpired {
            self.deleting = Some(token);
            let session = self.session;
            ctx.send(
                SERVICE,
                Msg::Delete {
                    session,
                    seq: token,
                },
            );
        }
        self.step = Step::Idle;
        ctx.set_timer(cfg.think.nanos(), Timer::Next);
    }

    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig, timer: Timer) {
        match (timer, self.step) {
            (Timer::Heartbeat, _) => {
                let session = self.session;
                ctx.send(SERVICE, Msg::Heartbeat { session });
                if let Some(seq) = self.deleting {
                    ctx.send(SERVICE, Msg::Delete { session, seq });
                }
                ctx.set_timer(cfg.heartbeat.nanos(), Timer::Heartbeat);
            }
            (Timer::Next, Step::Idle) => {
                self.attempts += 1;
                self.save(ctx);
                self.step = Step::Creating {
                    attempt: self.attempts,
                };
                self.ask(ctx, cfg);
            }
            (Timer::Next, Step::Holding { .. }) => self.write(ctx, cfg),
            (Timer::Timeout, Step::Holding { .. }) => self.give_up(ctx, cfg, Why::Timeout),
            // Unanswered: ask again (the service answers a repeated question the same way).
            (Timer::Timeout, _) => self.ask(ctx, cfg),
            _ => {}
        }
    }

    /// Read the children: hold the lock, or wait on a watch.
    #[allow(clippy::too_many_arguments)]
    fn children(
        &mut self,
        ctx: &mut Ctx<'_, Lock>,
        cfg: &LockConfig,
        attempt: u64,
        seq: u64,
        version: u64,
        lowest: Option<u64>,
        predecessor: Option<u64>,
    ) {
        ctx.cancel_timer(Timer::Timeout);
        self.version = self.version.max(version);
        debug_assert!(
            lowest.is_some_and(|l| l <= seq),
            "the service lists a live session's node: the lowest is at most it"
        );
        if lowest == Some(seq) {
            debug_assert_eq!(predecessor, None, "the lowest node has no predecessor");
            self.step = Step::Holding {
                attempt,
                token: seq,
                sent: 0,
            };
            ctx.fact(LockFact::Acquired {
                attempt,
                token: seq,
            });
            ctx.observe(Observation::Role {
                role: Role::Master,
                term: seq,
            });
            return self.write(ctx, cfg);
        }
        match (cfg.watch(), predecessor) {
            // The watch on the children was left by the read itself.
            (Watch::Children, _) => {
                self.step = Step::Waiting {
                    attempt,
                    seq,
                    pred: None,
                }
            }
            (Watch::Predecessor, Some(pred)) => {
                debug_assert!(pred < seq, "a predecessor is lower");
                self.step = Step::Checking { attempt, seq, pred };
                self.ask(ctx, cfg);
            }
            // Not the lowest, yet nothing below it: the list changed under the read. Again.
            (Watch::Predecessor, None) => self.read(ctx, cfg, attempt, seq),
        }
    }

    /// Its session expired: whatever it held or waited for is gone. A new session.
    fn expired(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig) {
        if let Step::Holding { .. } = self.step {
            self.give_up(ctx, cfg, Why::SessionExpired);
        } else if self.step != Step::Idle {
            ctx.cancel_timer(Timer::Timeout);
            self.step = Step::Idle;
            ctx.set_timer(cfg.retry.nanos(), Timer::Next);
        }
        self.deleting = None;
        self.session += 1;
        self.save(ctx);
    }

    fn woken(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig, cause: Cause) {
        let Step::Waiting { attempt, seq, .. } = self.step else {
            return;
        };
        ctx.fact(LockFact::Woken {
            attempt,
            mine: seq,
            cause,
        });
        self.read(ctx, cfg, attempt, seq);
    }

    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Lock>,
        cfg: &LockConfig,
        _from: NodeId,
        msg: Msg,
    ) {
        match (msg, self.step) {
            (Msg::SessionExpired { session }, _) if session == self.session => {
                self.expired(ctx, cfg)
            }
            (Msg::Created { attempt, seq }, Step::Creating { attempt: a }) if a == attempt => {
                ctx.cancel_timer(Timer::Timeout);
                self.read(ctx, cfg, attempt, seq);
            }
            (
                Msg::Children {
                    attempt,
                    version,
                    lowest,
                    predecessor,
                    ..
                },
                Step::Reading { attempt: a, seq },
                // An answer older than a change already seen is a late copy of an earlier read.
            ) if a == attempt && version >= self.version => {
                self.children(ctx, cfg, attempt, seq, version, lowest, predecessor)
            }
            (
                Msg::Stat {
                    attempt,
                    seq: p,
                    exists,
                },
                Step::Checking {
                    attempt: a,
                    seq,
                    pred,
                },
            ) if a == attempt && p == pred => {
                ctx.cancel_timer(Timer::Timeout);
                if exists {
                    let pred = Some(pred);
                    self.step = Step::Waiting { attempt, seq, pred };
                } else {
                    // Gone between the read and the question: read again.
                    self.read(ctx, cfg, attempt, seq);
                }
            }
            (
                Msg::Notify {
                    session,
                    version,
                    change,
                    seq: changed,
                },
                Step::Waiting { pred, .. },
            ) if session == self.session => {
                let fresh = match pred {
                    Some(p) => change == Change::Deleted && changed == p,
                    None => version > self.version,
                };
                if fresh {
                    self.version = self.version.max(version);
                    let cause = Cause::Notified {
                        change,
                        seq: changed,
                    };
                    self.woken(ctx, cfg, cause);
                }
            }
            (Msg::Pong { session, watching }, Step::Waiting { .. })
                if session == self.session && !watching =>
            {
                self.woken(ctx, cfg, Cause::Missed)
            }
            (Msg::Deleted { seq }, _) if self.deleting == Some(seq) => self.deleting = None,
            (
                Msg::Ack { attempt, seq },
                Step::Holding {
                    attempt: a, sent, ..
                },
            ) if a == attempt && sent == seq => {
                ctx.cancel_timer(Timer::Timeout);
                if seq >= cfg.writes {
                    self.give_up(ctx, cfg, Why::Done);
                } else {
                    ctx.set_timer(cfg.work.nanos(), Timer::Next);
                }
            }
            (Msg::Fenced { attempt, .. }, Step::Holding { attempt: a, .. }) if a == attempt => {
                self.give_up(ctx, cfg, Why::Fenced)
            }
            _ => {}
        }
    }
}
