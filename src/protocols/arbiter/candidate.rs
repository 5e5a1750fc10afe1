//! A candidate for master: it opens a session, registers, keeps the session alive with
//! heartbeats, and watches the list of registrations. It is master while its registration is
//! the lowest in the newest list it has, and as master it writes to the storage every
//! `write_interval`, stamped with its registration's sequence number.
//!
//! It believes the list until a newer one says otherwise: a master paused past its session
//! wakes still believing, and writes before its first heartbeat comes back `Expired`. What
//! stops that write is the storage's check, not the master. Refused by the storage (a newer
//! generation has written there, so its registration is gone), it steps down at once.

use crate::node::{ClockKind, Ctx, NodeId, Observation, Role};

use super::messages::{ArbiterFact, Disk, Msg, Registration, Timer};
use super::{Arbiter, ArbiterConfig, PREFERRED, SERVICE, STORAGE};

/// The one key the masters write.
pub(crate) const KEY: &str = "x";

#[derive(Debug, Default)]
pub(crate) struct Candidate {
    /// The current session's number (on disk: a restart opens a newer one).
    pub(crate) session: u64,
    /// The current session's registration, once the service answered.
    pub(crate) seq: Option<u64>,
    /// The newest list of registrations known, and its version.
    pub(crate) version: u64,
    pub(crate) registrations: Vec<Registration>,
    pub(crate) master: bool,
    /// Refused by the storage under this registration: never master under it again.
    pub(crate) fenced: bool,
    /// Writes sent as master, over every tenure.
    pub(crate) writes: u64,
}

impl Candidate {
    /// Opens a new session and asks for its registration.
    pub(crate) fn register(&mut self, ctx: &mut Ctx<'_, Arbiter>, cfg: &ArbiterConfig) {
        self.session += 1;
        self.seq = None;
        self.fenced = false;
        ctx.persist(Disk {
            session: self.session,
            ..Disk::default()
        });
        ctx.send(
            SERVICE,
            Msg::Register {
                session: self.session,
            },
        );
        ctx.set_timer(cfg.retry.nanos(), Timer::Retry);
    }

    pub(crate) fn on_start(&mut self, ctx: &mut Ctx<'_, Arbiter>, cfg: &ArbiterConfig) {
        ctx.observe(Observation::Role {
            role: Role::Standby,
            term: 0,
        });
        self.register(ctx, cfg);
    }

    fn lead(&mut self, ctx: &mut Ctx<'_, Arbiter>, cfg: &ArbiterConfig, seq: u64) {
        self.master = true;
        ctx.observe(Observation::Role {
            role: Role::Master,
            term: seq,
        });
        // It believes it leads until told otherwise: no end of its own.
        ctx.observe(Observation::Authority {
            term: seq,
            until: None,
            clock: ClockKind::Monotonic,
        });
        ctx.set_timer(cfg.write_interval.nanos(), Timer::Write);
    }

    fn step_down(&mut self, ctx: &mut Ctx<'_, Arbiter>, term: u64) {
        if !self.master {
            return;
        }
        self.master = false;
        ctx.observe(Observation::Role {
            role: Role::Standby,
            term,
        });
        ctx.cancel_timer(Timer::Write);
    }

    /// A list arrived: keep it if it is newer, and see who is master now.
    fn learn(
        &mut self,
        ctx: &mut Ctx<'_, Arbiter>,
        cfg: &ArbiterConfig,
        version: u64,
        registrations: Vec<Registration>,
    ) {
        if version <= self.version {
            return;
        }
        self.version = version;
        self.registrations = registrations;
        let Some(seq) = self.seq else {
            return;
        };
        if !self.registrations.iter().any(|r| r.seq == seq) {
            // Its registration is gone from a list newer than the one that showed it: the
            // session lapsed. Step down and register again.
            self.step_down(ctx, seq);
            return self.register(ctx, cfg);
        }
        let lowest = self.registrations.first().map(|r| r.seq) == Some(seq) && !self.fenced;
        let preferred = self
            .registrations
            .iter()
            .find(|r| r.node == PREFERRED)
            .map(|r| r.seq);
        match preferred {
            Some(to) if cfg.fail_back && lowest && ctx.id() != PREFERRED => {
                // Fail-back: the preferred primary is back. Give way: delete this registration
                // (a new session replaces it) and queue up behind the primary's.
                ctx.fact(ArbiterFact::Yielded { seq, to });
                self.step_down(ctx, seq);
                self.register(ctx, cfg);
            }
            _ if lowest && !self.master => self.lead(ctx, cfg, seq),
            _ if !lowest => self.step_down(ctx, seq),
            _ => {}
        }
    }

    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Arbiter>,
        cfg: &ArbiterConfig,
        from: NodeId,
        msg: Msg,
    ) {
        match msg {
            Msg::Registered {
                session,
                seq,
                version,
                registrations,
            } if session == self.session && from == SERVICE => {
                if self.seq.is_none() {
                    self.seq = Some(seq);
                    ctx.cancel_timer(Timer::Retry);
                    ctx.set_timer(cfg.heartbeat_interval.nanos(), Timer::Heartbeat);
                }
                self.learn(ctx, cfg, version, registrations);
            }
            Msg::Children {
                version,
                registrations,
            } if self.seq.is_some() => self.learn(ctx, cfg, version, registrations),
            Msg::Expired { session } if session == self.session && self.seq.is_some() => {
                let seq = self.seq.unwrap_or(0);
                self.step_down(ctx, seq);
                self.register(ctx, cfg);
            }
            Msg::Stale {
                generation,
                highest,
            } if from == STORAGE && self.seq == Some(generation) => {
                // A newer master has written: this registration is gone, whatever the list
                // says. Stop writing under it.
                self.fenced = true;
                self.step_down(ctx, highest);
            }
            _ => {}
        }
    }

    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_, Arbiter>, cfg: &ArbiterConfig, t: Timer) {
        match t {
            Timer::Heartbeat => {
                if self.seq.is_some() {
                    let session = self.session;
                    ctx.send(SERVICE, Msg::Heartbeat { session });
                    ctx.set_timer(cfg.heartbeat_interval.nanos(), Timer::Heartbeat);
                }
            }
            Timer::Retry => {
                if self.seq.is_none() {
                    let session = self.session;
                    ctx.send(SERVICE, Msg::Register { session });
                    ctx.set_timer(cfg.retry.nanos(), Timer::Retry);
                }
            }
            Timer::Write => {
                if let (true, Some(generation)) = (self.master, self.seq) {
                    self.writes += 1;
                    let value = format!("{}#{}", ctx.id().0, self.writes);
                    let key = KEY.to_string();
                    ctx.send(
                        STORAGE,
                        Msg::Write {
                            generation,
                            key,
                            value,
                        },
                    );
                    ctx.set_timer(cfg.write_interval.nanos(), Timer::Write);
                }
            }
            Timer::Session(_) => {}
        }
    }
}
