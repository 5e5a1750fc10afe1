//! A client of the lock: ask, and once granted, write to the resource `writes` times, then
//! release; refused, ask again after a while.
//!
//! With several servers (RedLock, seed text 004, 「RedLock 算法」) the client asks every server
//! at once, notes the time on its monotonic clock, and holds the lock once a majority (N/2+1)
//! granted it — provided the time the asking took is still less than the TTL (the lease's
//! validity time). When a majority can no longer grant it, or the time ran out, it releases on
//! every server and tries again after a random while.
//!
//! The client trusts its grant until its work is done: it never checks how much of the lease
//! is left before writing (the text's `SETNX` user does not), so a client paused past the
//! lease's TTL wakes up and writes as if it still held the lock. A check would not save it
//! anyway: the pause can fall between the check and the write.

use crate::node::{Ctx, LocalNanos, NodeId, Observation, Role};

use super::messages::{Disk, LockFact, Msg, Timer, Why};
use super::{Expiry, Lock, LockConfig};

/// Where a client is in its loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for its `Next` timer to ask.
    Idle,
    /// Asked every server with this try at `since` (monotonic); `granted` and `refused` are
    /// bit sets of the servers that answered so, `token` the highest grant number.
    Asking {
        attempt: u64,
        since: LocalNanos,
        granted: u64,
        refused: u64,
        token: u64,
    },
    /// Holds (believes it holds) the grant `token` of try `attempt`, `sent` writes made.
    Holding { attempt: u64, token: u64, sent: u32 },
}

#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) phase: Phase,
    /// Tries made, across restarts.
    pub(crate) attempts: u64,
    /// How many lock servers (the first nodes); the resource is the next node.
    servers: u32,
}

impl Client {
    pub(crate) fn new(attempts: u64, servers: u32) -> Self {
        Client {
            phase: Phase::Idle,
            attempts,
            servers,
        }
    }

    fn resource(&self) -> NodeId {
        NodeId(self.servers)
    }

    fn majority(&self) -> u32 {
        self.servers / 2 + 1
    }

    fn release_everywhere(&self, ctx: &mut Ctx<'_, Lock>, attempt: u64) {
        for s in 0..self.servers {
            ctx.send(NodeId(s), Msg::Release { attempt });
        }
    }
}

impl Lock {
    pub(super) fn client_start(ctx: &mut Ctx<'_, Self>, cfg: &LockConfig) {
        ctx.observe(Observation::Role {
            role: Role::Standby,
            term: 0,
        });
        let first = ctx.rng().below(cfg.retry.nanos());
        ctx.set_timer(first, Timer::Next);
    }

    fn retry_later(ctx: &mut Ctx<'_, Self>, cfg: &LockConfig) {
        let retry = cfg.retry.nanos();
        let jitter = ctx.rng().below(retry);
        ctx.set_timer(retry + jitter, Timer::Next);
    }

    /// The try failed: give back whatever was granted, ask again later.
    fn give_up_try(ctx: &mut Ctx<'_, Self>, cfg: &LockConfig, c: &mut Client, attempt: u64) {
        ctx.cancel_timer(Timer::Timeout);
        c.release_everywhere(ctx, attempt);
        c.phase = Phase::Idle;
        Self::retry_later(ctx, cfg);
    }

    fn send_write(ctx: &mut Ctx<'_, Self>, cfg: &LockConfig, c: &mut Client) {
        let resource = c.resource();
        if let Phase::Holding {
            attempt,
            token,
            sent,
        } = &mut c.phase
        {
            *sent += 1;
            let write = Msg::Write {
                attempt: *attempt,
                seq: *sent,
                token: cfg.fencing.then_some(*token),
            };
            ctx.send(resource, write);
            ctx.set_timer(cfg.timeout.nanos(), Timer::Timeout);
        }
    }

    /// Gives the lock up: tells the servers, states why, rests before asking again.
    fn end_tenure(ctx: &mut Ctx<'_, Self>, cfg: &LockConfig, c: &mut Client, why: Why) {
        let Phase::Holding { attempt, token, .. } = c.phase else {
            return;
        };
        ctx.cancel_timer(Timer::Timeout);
        c.release_everywhere(ctx, attempt);
        ctx.fact(LockFact::Released { attempt, why });
        ctx.observe(Observation::Role {
            role: Role::Standby,
            term: token,
        });
        c.phase = Phase::Idle;
        ctx.set_timer(cfg.think.nanos(), Timer::Next);
    }

    pub(super) fn client_timer(
        ctx: &mut Ctx<'_, Self>,
        cfg: &LockConfig,
        c: &mut Client,
        timer: Timer,
    ) {
        match (timer, c.phase) {
            (Timer::Next, Phase::Idle) => {
                c.attempts += 1;
                ctx.persist(Disk {
                    attempts: c.attempts,
                    ..Disk::default()
                });
                let attempt = c.attempts;
                c.phase = Phase::Asking {
                    attempt,
                    since: ctx.monotonic(),
                    granted: 0,
                    refused: 0,
                    token: 0,
                };
                for s in 0..c.servers {
                    ctx.send(NodeId(s), Msg::Acquire { attempt });
                }
                ctx.set_timer(cfg.timeout.nanos(), Timer::Timeout);
            }
            (Timer::Next, Phase::Holding { .. }) => Self::send_write(ctx, cfg, c),
            (Timer::Timeout, Phase::Asking { attempt, .. }) => {
                Self::give_up_try(ctx, cfg, c, attempt)
            }
            (Timer::Timeout, Phase::Holding { .. }) => Self::end_tenure(ctx, cfg, c, Why::Timeout),
            _ => {}
        }
    }

    fn on_grant(
        ctx: &mut Ctx<'_, Self>,
        cfg: &LockConfig,
        c: &mut Client,
        from: NodeId,
        attempt: u64,
        token: u64,
    ) {
        let majority = c.majority();
        let Phase::Asking {
            attempt: asked,
            since,
            granted,
            token: highest,
            ..
        } = &mut c.phase
        else {
            // A grant for a try this client gave up on (it timed out): hand it straight back,
            // or a lock that never expires would stay held by nobody. A late grant for the try
            // it holds is released with the others at the end of its tenure.
            if !matches!(c.phase, Phase::Holding { attempt: a, .. } if a == attempt) {
                ctx.send(from, Msg::Release { attempt });
            }
            return;
        };
        if *asked != attempt {
            ctx.send(from, Msg::Release { attempt });
            return;
        }
        *granted |= 1 << from.0;
        *highest = (*highest).max(token);
        if granted.count_ones() < majority {
            return;
        }
        // The lease's validity time: what is left of the TTL after the time asking took.
        let took = ctx.monotonic().saturating_sub(*since);
        let token = *highest;
        if cfg.expiry == Expiry::Ttl && took >= cfg.ttl.nanos() as i64 {
            Self::give_up_try(ctx, cfg, c, attempt);
            return;
        }
        ctx.cancel_timer(Timer::Timeout);
        c.phase = Phase::Holding {
            attempt,
            token,
            sent: 0,
        };
        ctx.fact(LockFact::Acquired { attempt, token });
        ctx.observe(Observation::Role {
            role: Role::Master,
            term: token,
        });
        Self::send_write(ctx, cfg, c);
    }

    pub(super) fn client_message(
        ctx: &mut Ctx<'_, Self>,
        cfg: &LockConfig,
        c: &mut Client,
        from: NodeId,
        msg: Msg,
    ) {
        match msg {
            Msg::Granted { attempt, token } => Self::on_grant(ctx, cfg, c, from, attempt, token),
            Msg::Refused { attempt, .. } => {
                let (servers, majority) = (c.servers, c.majority());
                if let Phase::Asking {
                    attempt: asked,
                    refused,
                    ..
                } = &mut c.phase
                    && *asked == attempt
                {
                    *refused |= 1 << from.0;
                    // A majority can no longer grant it.
                    if refused.count_ones() > servers - majority {
                        Self::give_up_try(ctx, cfg, c, attempt);
                    }
                }
            }
            Msg::Ack { attempt, seq } => {
                if let Phase::Holding {
                    attempt: a, sent, ..
                } = c.phase
                    && a == attempt
                    && sent == seq
                {
                    ctx.cancel_timer(Timer::Timeout);
                    if seq >= cfg.writes {
                        Self::end_tenure(ctx, cfg, c, Why::Done);
                    } else {
                        ctx.set_timer(cfg.work.nanos(), Timer::Next);
                    }
                }
            }
            Msg::Fenced { attempt, .. } => {
                if matches!(c.phase, Phase::Holding { attempt: a, .. } if a == attempt) {
                    Self::end_tenure(ctx, cfg, c, Why::Fenced);
                }
            }
            _ => {}
        }
    }
}
