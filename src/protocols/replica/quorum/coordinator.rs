//! The coordinator's side: a node that receives a client's request runs it against the key's
//! replicas — a get waits for `r` replies, a put for `w` acknowledgements — and answers.
//!
//! Phases of a request (one [`Pending`] each, under its `op` id):
//! - a get sends `Read` to every replica and waits for `r` `Versions`; it merges them (the
//!   newest by the rule of `resolve`), then with `write_back` writes that back to `w`
//!   replicas before answering (ABD), or answers at once and, with `read_repair`, sends the
//!   newest to every replica that answered older — the late ones too, until the request
//!   expires;
//! - a put stamps its value and sends `Write` to every replica, answering after `w` `Ack`s;
//!   with `tags` it first reads `r` replicas for the greatest tag (ABD's tagged write).
//!
//! When `request_timeout` passes first: a get answers `Fail` (a read changes nothing, so
//! nothing took effect); a tagged put still reading answers `Fail` (nothing was written); a
//! put whose writes have left is **not** answered. Some replica may have stored it — the
//! `w1-r3-stale` lesson reads it later — so `Fail` ("definitely did not take effect") would
//! be a lie; the client times out and records it as unknown (`info`), which is the truth.
//! The coordinator is usually a replica itself: its own part runs in place, no message.

use std::sync::Arc;

use crate::node::{ClientRequest, NodeId, Reply, RequestId};
use crate::protocols::replica::{Register, RegisterOp, RegisterOutput, VectorClock};

use super::config::Resolve;
use super::messages::{Msg, Timer, Why};
use super::store::{self, Stamp, Stamped};
use super::{C, Quorum};

/// One request a coordinator is running.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    pub request: RequestId,
    pub key: Arc<str>,
    pub replicas: Vec<NodeId>,
    pub phase: Phase,
}

/// Where a request stands.
#[derive(Clone, Debug)]
pub(crate) enum Phase {
    /// A get collecting replies; `answered` once it has answered (then it only repairs).
    Get {
        replies: Vec<(NodeId, Vec<Stamped>)>,
        answered: Option<Vec<Stamped>>,
    },
    /// A tagged put reading the greatest tag.
    Tag {
        value: Arc<str>,
        replies: Vec<(NodeId, Vec<Stamped>)>,
    },
    /// A put, or a get's write-back, collecting acknowledgements.
    Write {
        versions: Vec<Stamped>,
        acks: Vec<NodeId>,
        answer: Answer,
    },
}

/// What a write answers once it has its quorum.
#[derive(Clone, Debug)]
pub(crate) enum Answer {
    /// A put: the new version's clock (empty for last-write-wins).
    Put(VectorClock),
    /// A get's write-back: the versions read.
    Get(Vec<Stamped>),
}

fn versions_out(vs: &[Stamped]) -> RegisterOutput {
    RegisterOutput::Read {
        versions: vs.iter().map(Stamped::version).collect(),
    }
}

impl Quorum {
    /// A client's request arrived: coordinate it (a repeat of one already taken is dropped —
    /// the network may duplicate requests, and running a put twice would write it twice).
    pub(crate) fn coordinate(&mut self, ctx: &mut C<'_, '_>, request: ClientRequest<Register>) {
        if !self.seen.insert(request.id) {
            return;
        }
        match request.op {
            RegisterOp::Get { key } => {
                let phase = Phase::Get {
                    replies: Vec::new(),
                    answered: None,
                };
                self.start_read(ctx, request.id, key, phase);
            }
            RegisterOp::Put { key, value, .. } if self.cfg.tags => {
                let phase = Phase::Tag {
                    value,
                    replies: Vec::new(),
                };
                self.start_read(ctx, request.id, key, phase);
            }
            RegisterOp::Put {
                key,
                value,
                context,
            } => {
                let (stamp, clock, issued) = match self.cfg.resolve {
                    Resolve::Lww => {
                        // Never below a stamp this node gave before: two puts it coordinates
                        // never tie, even within one instant of its clock.
                        let at = ctx.now().max(self.durable.issued + 1);
                        let stamp = Stamp::Wall {
                            at,
                            node: self.id.0,
                        };
                        (stamp, VectorClock::new(), Some(at))
                    }
                    Resolve::VectorClock => {
                        // The writing client is the clock's actor, its request's sequence
                        // number the entry: above every put it made before, and no other
                        // client's entry moves, so the new clock covers exactly the context
                        // and this client's earlier puts. (With the coordinating node as the
                        // actor, two blind puts through one node would look ordered and the
                        // later would silently replace the earlier.)
                        let actor = NodeId(request.id.client.0);
                        let mut clock = context;
                        while clock.get(actor) < request.id.seq {
                            clock.increment(actor);
                        }
                        (Stamp::Clock(clock.clone()), clock, None)
                    }
                };
                if let Some(n) = issued {
                    self.issue(ctx, n);
                }
                let op = self.next_op();
                self.pending.insert(
                    op,
                    Pending {
                        request: request.id,
                        replicas: self.ring.replicas(&key),
                        key,
                        phase: Phase::Write {
                            versions: vec![Stamped { value, stamp }],
                            acks: Vec::new(),
                            answer: Answer::Put(clock),
                        },
                    },
                );
                ctx.set_timer(self.cfg.request_timeout.nanos(), Timer::Expire(op));
                self.send_writes(ctx, op, Why::Put);
            }
        }
    }

    /// Records that this node gave out stamp number `n`, on disk before any write leaves.
    fn issue(&mut self, ctx: &mut C<'_, '_>, n: i64) {
        self.durable.issued = self.durable.issued.max(n);
        ctx.persist(self.durable);
    }

    fn next_op(&mut self) -> u64 {
        self.next += 1;
        (self.durable.incarnation << 32) | self.next
    }

    fn start_read(&mut self, ctx: &mut C<'_, '_>, request: RequestId, key: Arc<str>, phase: Phase) {
        let op = self.next_op();
        let replicas = self.ring.replicas(&key);
        for &r in &replicas {
            if r != self.id {
                ctx.send(
                    r,
                    Msg::Read {
                        op,
                        key: key.clone(),
                    },
                );
            }
        }
        let local = replicas.contains(&self.id);
        self.pending.insert(
            op,
            Pending {
                request,
                key: key.clone(),
                replicas,
                phase,
            },
        );
        ctx.set_timer(self.cfg.request_timeout.nanos(), Timer::Expire(op));
        if local {
            let mine = self.store.get(&key).to_vec();
            self.on_versions(ctx, op, self.id, mine);
        }
    }

    /// A replica's versions for request `op`.
    pub(crate) fn on_versions(
        &mut self,
        ctx: &mut C<'_, '_>,
        op: u64,
        from: NodeId,
        versions: Vec<Stamped>,
    ) {
        let r = self.sizes.r as usize;
        let Some(p) = self.pending.get_mut(&op) else {
            return;
        };
        match &mut p.phase {
            Phase::Get { replies, answered } => {
                if replies.iter().any(|(n, _)| *n == from) {
                    return;
                }
                replies.push((from, versions.clone()));
                match answered {
                    None if replies.len() >= r => self.answer_get(ctx, op),
                    None => {}
                    Some(newest) => {
                        let newest = newest.clone();
                        let done = replies.len() == p.replicas.len();
                        if !store::covers(&versions, &newest) {
                            self.repair(ctx, op, from, newest);
                        }
                        if done {
                            self.pending.remove(&op);
                            ctx.cancel_timer(Timer::Expire(op));
                        }
                    }
                }
            }
            Phase::Tag { value, replies } => {
                if replies.iter().any(|(n, _)| *n == from) {
                    return;
                }
                replies.push((from, versions));
                if replies.len() < r {
                    return;
                }
                let greatest = replies
                    .iter()
                    .flat_map(|(_, vs)| vs.iter().map(|v| v.stamp.number()))
                    .max()
                    .unwrap_or(0);
                let tag = greatest.max(self.durable.issued) + 1;
                let value = value.clone();
                p.phase = Phase::Write {
                    versions: vec![Stamped {
                        value,
                        stamp: Stamp::Tag {
                            tag,
                            node: self.id.0,
                        },
                    }],
                    acks: Vec::new(),
                    answer: Answer::Put(VectorClock::new()),
                };
                self.issue(ctx, tag);
                self.send_writes(ctx, op, Why::Put);
            }
            Phase::Write { .. } => {}
        }
    }

    /// A get has `r` replies: write back, or answer and repair.
    fn answer_get(&mut self, ctx: &mut C<'_, '_>, op: u64) {
        let (w, read_repair, write_back) = (
            self.sizes.w as usize,
            self.cfg.read_repair,
            self.cfg.write_back,
        );
        let Some(p) = self.pending.get_mut(&op) else {
            return;
        };
        let Phase::Get { replies, answered } = &mut p.phase else {
            return;
        };
        let newest = store::newest(replies.iter().map(|(_, v)| &v[..]));
        let holding = replies
            .iter()
            .filter(|(_, v)| store::covers(v, &newest))
            .count();
        if write_back && holding < w {
            p.phase = Phase::Write {
                versions: newest.clone(),
                acks: Vec::new(),
                answer: Answer::Get(newest),
            };
            self.send_writes(ctx, op, Why::WriteBack);
            return;
        }
        ctx.reply(p.request, Reply::Ok(versions_out(&newest)));
        let stale: Vec<NodeId> = replies
            .iter()
            .filter(|(_, v)| !store::covers(v, &newest))
            .map(|(n, _)| *n)
            .collect();
        let done = !read_repair || replies.len() == p.replicas.len();
        *answered = Some(newest.clone());
        if read_repair {
            for n in stale {
                self.repair(ctx, op, n, newest.clone());
            }
        }
        if done {
            self.pending.remove(&op);
            ctx.cancel_timer(Timer::Expire(op));
        }
    }

    fn repair(&mut self, ctx: &mut C<'_, '_>, op: u64, to: NodeId, newest: Vec<Stamped>) {
        let Some(key) = self.pending.get(&op).map(|p| p.key.clone()) else {
            return;
        };
        if to == self.id {
            self.apply(ctx, &key, &newest);
        } else {
            ctx.send(
                to,
                Msg::Write {
                    op,
                    key,
                    versions: newest,
                    why: Why::Repair,
                },
            );
        }
    }

    /// Sends request `op`'s versions to every replica, applying its own part in place.
    fn send_writes(&mut self, ctx: &mut C<'_, '_>, op: u64, why: Why) {
        let Some(p) = self.pending.get(&op) else {
            return;
        };
        let Phase::Write { versions, .. } = &p.phase else {
            return;
        };
        let (key, versions, replicas) = (p.key.clone(), versions.clone(), p.replicas.clone());
        for &r in &replicas {
            if r != self.id {
                ctx.send(
                    r,
                    Msg::Write {
                        op,
                        key: key.clone(),
                        versions: versions.clone(),
                        why,
                    },
                );
            }
        }
        if replicas.contains(&self.id) {
            self.apply(ctx, &key, &versions);
            self.on_ack(ctx, op, self.id);
        }
    }

    /// A replica has request `op`'s write on disk.
    pub(crate) fn on_ack(&mut self, ctx: &mut C<'_, '_>, op: u64, from: NodeId) {
        let w = self.sizes.w as usize;
        let Some(p) = self.pending.get_mut(&op) else {
            return;
        };
        let Phase::Write { acks, answer, .. } = &mut p.phase else {
            return;
        };
        if acks.contains(&from) {
            return;
        }
        acks.push(from);
        if acks.len() < w {
            return;
        }
        let out = match answer {
            Answer::Put(clock) => RegisterOutput::Written {
                clock: clock.clone(),
            },
            Answer::Get(newest) => versions_out(newest),
        };
        ctx.reply(p.request, Reply::Ok(out));
        self.pending.remove(&op);
        ctx.cancel_timer(Timer::Expire(op));
    }

    /// Request `op`'s time is up: fail it if nothing took effect, else leave the client to
    /// time out.
    pub(crate) fn expire(&mut self, ctx: &mut C<'_, '_>, op: u64) {
        let Some(p) = self.pending.remove(&op) else {
            return;
        };
        let (r, w, n) = (self.sizes.r, self.sizes.w, p.replicas.len());
        let timeout = self.cfg.request_timeout;
        let reason = match &p.phase {
            Phase::Get {
                answered: Some(_), ..
            } => return,
            Phase::Get { replies, .. } => format!(
                "a get needs r = {r} replies; {} of the {n} replicas answered within {timeout}",
                replies.len()
            ),
            Phase::Tag { replies, .. } => format!(
                "a tagged put reads r = {r} replicas first; {} of the {n} answered within \
                 {timeout}, so nothing was written",
                replies.len()
            ),
            Phase::Write {
                acks,
                answer: Answer::Get(_),
                ..
            } => format!(
                "the write-back of the value read needs w = {w} acknowledgements; {} of the \
                 {n} replicas acknowledged within {timeout}",
                acks.len()
            ),
            // Written somewhere, perhaps: not a failure, an unknown.
            Phase::Write {
                answer: Answer::Put(_),
                ..
            } => return,
        };
        ctx.reply(p.request, Reply::Fail { reason });
    }
}
