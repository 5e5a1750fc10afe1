//! The coordination service (ZooKeeper's part, on one node): sessions kept alive by
//! heartbeats, one ephemeral sequential registration per session, and the list of
//! registrations sent to every live session when it changes (the watch) and with each
//! heartbeat's answer.
//!
//! A session lapses when the service hears nothing from it for `session_timeout` on its own
//! monotonic clock: its registration is deleted, and the next lowest becomes master. The
//! service tells nothing to the lapsed session itself — it learns only when its next heartbeat
//! is answered `Expired`, as a ZooKeeper client learns of its expiry only on reconnecting.
//! Everything but the heartbeats' times is on disk before it is answered; after a crash the
//! service gives every session a full timeout again (as ZooKeeper does on a leader change).

use std::collections::BTreeMap;

use crate::node::{Ctx, Nanos, NodeId};

use super::messages::{ArbiterFact, Disk, Msg, Registration, Session, Timer};
use super::{Arbiter, ArbiterConfig};

/// A live session.
#[derive(Clone, Debug)]
pub(crate) struct Live {
    /// The candidate's session number.
    pub(crate) session: u64,
    /// Its registration's sequence number.
    pub(crate) seq: u64,
    /// When the service last heard from it, on its monotonic clock.
    pub(crate) heard: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Service {
    pub(crate) last_seq: u64,
    pub(crate) version: u64,
    /// By candidate: at most one live session each.
    pub(crate) sessions: BTreeMap<NodeId, Live>,
}

impl Service {
    pub(crate) fn from_disk(disk: &Disk) -> Self {
        Service {
            last_seq: disk.last_seq,
            version: disk.version,
            sessions: disk
                .sessions
                .iter()
                .map(|s| {
                    let live = Live {
                        session: s.session,
                        seq: s.seq,
                        heard: 0,
                    };
                    (s.node, live)
                })
                .collect(),
        }
    }

    /// Every live registration, lowest first.
    pub(crate) fn registrations(&self) -> Vec<Registration> {
        let mut list: Vec<Registration> = self
            .sessions
            .iter()
            .map(|(&node, l)| Registration { seq: l.seq, node })
            .collect();
        list.sort();
        list
    }

    fn persist(&self, ctx: &mut Ctx<'_, Arbiter>) {
        ctx.persist(Disk {
            last_seq: self.last_seq,
            version: self.version,
            sessions: self
                .sessions
                .iter()
                .map(|(&node, l)| Session {
                    node,
                    session: l.session,
                    seq: l.seq,
                })
                .collect(),
            ..Disk::default()
        });
    }

    /// After a restart: every session recovered from disk gets a full timeout.
    pub(crate) fn on_start(&mut self, ctx: &mut Ctx<'_, Arbiter>, cfg: &ArbiterConfig) {
        let now = ctx.monotonic();
        for (&node, live) in &mut self.sessions {
            live.heard = now;
            ctx.set_timer(cfg.session_timeout.nanos(), Timer::Session(node));
        }
    }

    /// The list changed: tell every live session (the watch).
    fn notify(&self, ctx: &mut Ctx<'_, Arbiter>) {
        let registrations = self.registrations();
        for &node in self.sessions.keys() {
            ctx.send(
                node,
                Msg::Children {
                    version: self.version,
                    registrations: registrations.clone(),
                },
            );
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
            Msg::Register { session } => self.register(ctx, cfg, from, session),
            Msg::Heartbeat { session } => match self.sessions.get_mut(&from) {
                Some(live) if live.session == session => {
                    live.heard = ctx.monotonic();
                    ctx.set_timer(cfg.session_timeout.nanos(), Timer::Session(from));
                    let msg = Msg::Children {
                        version: self.version,
                        registrations: self.registrations(),
                    };
                    ctx.send(from, msg);
                }
                // A newer session of the same candidate: this beat is a late copy.
                Some(live) if live.session > session => {}
                _ => ctx.send(from, Msg::Expired { session }),
            },
            _ => {}
        }
    }

    fn register(
        &mut self,
        ctx: &mut Ctx<'_, Arbiter>,
        cfg: &ArbiterConfig,
        from: NodeId,
        session: u64,
    ) {
        let seq = match self.sessions.get(&from) {
            // Asked again: the answer was lost. The same registration, not a second one.
            Some(live) if live.session == session => live.seq,
            Some(live) if live.session > session => return,
            // A new session (the candidate restarted, or was told its session lapsed, or
            // yields): it replaces the candidate's older one, whose registration goes with it.
            _ => {
                self.last_seq += 1;
                self.version += 1;
                let seq = self.last_seq;
                let heard = ctx.monotonic();
                self.sessions.insert(
                    from,
                    Live {
                        session,
                        seq,
                        heard,
                    },
                );
                ctx.set_timer(cfg.session_timeout.nanos(), Timer::Session(from));
                self.persist(ctx);
                ctx.fact(ArbiterFact::Registered { node: from, seq });
                self.notify(ctx);
                seq
            }
        };
        ctx.send(
            from,
            Msg::Registered {
                session,
                seq,
                version: self.version,
                registrations: self.registrations(),
            },
        );
    }

    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_, Arbiter>, timer: Timer) {
        let Timer::Session(node) = timer else {
            return;
        };
        let Some(live) = self.sessions.remove(&node) else {
            return;
        };
        self.version += 1;
        self.persist(ctx);
        let silent_for = (ctx.monotonic() - live.heard).max(0) as Nanos;
        ctx.fact(ArbiterFact::Expired {
            node,
            seq: live.seq,
            silent_for,
        });
        self.notify(ctx);
    }
}
