//! A client of the lock: ask, and once granted, write to the resource `writes` times, then
//! release; refused, ask again after a while.
//!
//! The client trusts its grant until its work is done: it never checks how much of the lease
//! is left before writing (the text's `SETNX` user does not), so a client paused past the
//! lease's TTL wakes up and writes as if it still held the lock. A check would not save it
//! anyway: the pause can fall between the check and the write.

use crate::node::{Ctx, NodeId, Observation, Role};

use super::messages::{Disk, LockFact, Msg, Timer, Why};
use super::{Lock, LockConfig};

/// Where a client is in its loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for its `Next` timer to ask.
    Idle,
    /// Asked with this try; waiting for the answer.
    Asking { attempt: u64 },
    /// Holds (believes it holds) the grant `token` of try `attempt`, `sent` writes made.
    Holding { attempt: u64, token: u64, sent: u32 },
}

#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) phase: Phase,
    /// Tries made, across restarts.
    pub(crate) attempts: u64,
}

impl Client {
    pub(crate) fn new(attempts: u64) -> Self {
        Client {
            phase: Phase::Idle,
            attempts,
        }
    }
}

/// The lock server: always the first node.
const SERVER: NodeId = NodeId(0);
/// The resource: always the second node.
const RESOURCE: NodeId = NodeId(1);

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

    fn send_write(ctx: &mut Ctx<'_, Self>, cfg: &LockConfig, c: &mut Client) {
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
            ctx.send(RESOURCE, write);
            ctx.set_timer(cfg.timeout.nanos(), Timer::Timeout);
        }
    }

    /// Gives the lock up: tells the server, states why, rests before asking again.
    fn end_tenure(ctx: &mut Ctx<'_, Self>, cfg: &LockConfig, c: &mut Client, why: Why) {
        let Phase::Holding { attempt, token, .. } = c.phase else {
            return;
        };
        ctx.cancel_timer(Timer::Timeout);
        ctx.send(SERVER, Msg::Release { attempt, token });
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
                c.phase = Phase::Asking {
                    attempt: c.attempts,
                };
                ctx.send(
                    SERVER,
                    Msg::Acquire {
                        attempt: c.attempts,
                    },
                );
                ctx.set_timer(cfg.timeout.nanos(), Timer::Timeout);
            }
            (Timer::Next, Phase::Holding { .. }) => Self::send_write(ctx, cfg, c),
            (Timer::Timeout, Phase::Asking { .. }) => {
                c.phase = Phase::Idle;
                Self::retry_later(ctx, cfg);
            }
            (Timer::Timeout, Phase::Holding { .. }) => Self::end_tenure(ctx, cfg, c, Why::Timeout),
            _ => {}
        }
    }

    pub(super) fn client_message(
        ctx: &mut Ctx<'_, Self>,
        cfg: &LockConfig,
        c: &mut Client,
        msg: Msg,
    ) {
        match msg {
            Msg::Granted { attempt, token } if c.phase == Phase::Asking { attempt } => {
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
            // A grant for a try this client gave up on (it timed out): hand it straight back,
            // or a lock that never expires would stay held by nobody.
            Msg::Granted { attempt, token } => {
                let holding = matches!(c.phase, Phase::Holding { attempt: a, .. } if a == attempt);
                if !holding {
                    ctx.send(SERVER, Msg::Release { attempt, token });
                }
            }
            Msg::Refused { attempt, .. } if c.phase == Phase::Asking { attempt } => {
                ctx.cancel_timer(Timer::Timeout);
                c.phase = Phase::Idle;
                Self::retry_later(ctx, cfg);
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
