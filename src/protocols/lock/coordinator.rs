//! The ZooKeeper-like coordination service of `service = "zookeeper"` (seed text 004,
//! 「Zookeeper 分布式锁」), on one node: sessions kept alive by heartbeats, the lock's ephemeral
//! sequential children, and one-shot watches.
//!
//! A client's first message under a new session number opens it; a session the service hears
//! nothing from for `session_timeout` (its monotonic clock) expires, and its nodes and watches
//! go with it — so a crashed holder's node is deleted and the lock moves on. A message under an
//! expired session is answered `SessionExpired`: that is how a client that was paused or cut
//! off learns it lost its node, as a ZooKeeper client learns of its expiry only on
//! reconnecting.
//!
//! Watches are one-shot, as ZooKeeper's are: a children watch (left by `GetChildren` with
//! `watch`) fires on the next creation or deletion of any child; a node watch (left by
//! `Exists` on a node that exists) fires on that node's deletion. Every heartbeat is answered
//! `Pong`, saying whether the session still has a watch set: a client whose notification was
//! lost learns from it that it must read again (ZooKeeper re-registers watches on reconnecting
//! to the same effect).
//!
//! The tree (sessions and nodes) is on disk before any answer; after a crash every session gets
//! a full timeout again (as ZooKeeper does on a leader change), and the watches are gone: each
//! waiter's next `Pong` tells it so.

use std::collections::{BTreeMap, BTreeSet};

use crate::node::{Ctx, NodeId};

use super::messages::{Change, Disk, LockFact, Msg, Timer, Tree, Znode};
use super::{Lock, LockConfig};

/// A session: a client and its session number.
type SessionId = (NodeId, u64);

#[derive(Debug, Default)]
pub(crate) struct Coordinator {
    pub(crate) last_seq: u64,
    /// Counts the children's changes.
    pub(crate) version: u64,
    /// The newest session each client has opened.
    opened: BTreeMap<NodeId, u64>,
    /// Live sessions, with when each was last heard from (monotonic).
    live: BTreeMap<SessionId, i64>,
    /// The lock's children, by sequence number.
    pub(crate) nodes: BTreeMap<u64, Znode>,
    /// Sessions with a watch on the children.
    child_watches: BTreeSet<SessionId>,
    /// Sessions watching a node, by the node watched.
    node_watches: BTreeMap<u64, BTreeSet<SessionId>>,
}

impl Coordinator {
    pub(crate) fn from_disk(tree: Option<&Tree>) -> Self {
        let Some(tree) = tree else {
            return Coordinator::default();
        };
        Coordinator {
            last_seq: tree.last_seq,
            version: tree.version,
            opened: tree.opened.iter().copied().collect(),
            live: tree.live.iter().map(|&s| (s, 0)).collect(),
            nodes: tree.nodes.iter().map(|n| (n.seq, *n)).collect(),
            ..Coordinator::default()
        }
    }

    fn save(&self, ctx: &mut Ctx<'_, Lock>) {
        ctx.persist(Disk {
            tree: Some(Tree {
                last_seq: self.last_seq,
                version: self.version,
                opened: self.opened.iter().map(|(&c, &s)| (c, s)).collect(),
                live: self.live.keys().copied().collect(),
                nodes: self.nodes.values().copied().collect(),
            }),
            ..Disk::default()
        });
    }

    /// Started (or restarted): every session recovered from disk gets a full timeout.
    pub(crate) fn on_start(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig) {
        let now = ctx.monotonic();
        for (&(client, session), heard) in &mut self.live {
            *heard = now;
            ctx.set_timer(
                cfg.session_timeout.nanos(),
                Timer::Session { client, session },
            );
        }
    }

    /// Whether `session` of `from` is live, opening it if it is new, and hearing from it.
    /// An expired one is answered `SessionExpired`.
    fn session(
        &mut self,
        ctx: &mut Ctx<'_, Lock>,
        cfg: &LockConfig,
        from: NodeId,
        session: u64,
    ) -> bool {
        let newest = self.opened.get(&from).copied().unwrap_or(0);
        if session > newest {
            self.opened.insert(from, session);
            self.live.insert((from, session), 0);
            self.save(ctx);
        }
        let Some(heard) = self.live.get_mut(&(from, session)) else {
            ctx.send(from, Msg::SessionExpired { session });
            return false;
        };
        *heard = ctx.monotonic();
        ctx.set_timer(
            cfg.session_timeout.nanos(),
            Timer::Session {
                client: from,
                session,
            },
        );
        true
    }

    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Lock>,
        cfg: &LockConfig,
        from: NodeId,
        msg: Msg,
    ) {
        match msg {
            Msg::Create { session, attempt } if self.session(ctx, cfg, from, session) => {
                self.create(ctx, from, session, attempt)
            }
            Msg::GetChildren {
                session,
                attempt,
                mine,
                watch,
            } if self.session(ctx, cfg, from, session) => {
                if watch {
                    self.child_watches.insert((from, session));
                }
                let reply = Msg::Children {
                    attempt,
                    version: self.version,
                    lowest: self.nodes.keys().next().copied(),
                    predecessor: self.nodes.range(..mine).next_back().map(|(&s, _)| s),
                    count: self.nodes.len() as u32,
                };
                ctx.send(from, reply);
            }
            Msg::Exists {
                session,
                attempt,
                seq,
            } if self.session(ctx, cfg, from, session) => {
                let exists = self.nodes.contains_key(&seq);
                if exists {
                    self.node_watches
                        .entry(seq)
                        .or_default()
                        .insert((from, session));
                }
                ctx.send(
                    from,
                    Msg::Stat {
                        attempt,
                        seq,
                        exists,
                    },
                );
            }
            Msg::Delete { session, seq } if self.session(ctx, cfg, from, session) => {
                if self
                    .nodes
                    .get(&seq)
                    .is_some_and(|n| (n.client, n.session) == (from, session))
                {
                    self.nodes.remove(&seq);
                    self.version += 1;
                    self.save(ctx);
                    ctx.fact(LockFact::Freed {
                        client: from,
                        token: seq,
                    });
                    self.fire(ctx, Change::Deleted, seq);
                }
                // Only its owner deletes a node: a node of someone else's is not touched, and
                // one already gone is answered gone.
                if !self.nodes.contains_key(&seq) {
                    ctx.send(from, Msg::Deleted { seq });
                }
            }
            Msg::Heartbeat { session } if self.session(ctx, cfg, from, session) => {
                let id = (from, session);
                let watching = self.child_watches.contains(&id)
                    || self.node_watches.values().any(|w| w.contains(&id));
                ctx.send(from, Msg::Pong { session, watching });
            }
            _ => {}
        }
    }

    fn create(&mut self, ctx: &mut Ctx<'_, Lock>, from: NodeId, session: u64, attempt: u64) {
        let mine = |n: &&Znode| (n.client, n.session, n.attempt) == (from, session, attempt);
        // Asked again (the answer was lost): the same node, not a second one.
        if let Some(node) = self.nodes.values().find(mine) {
            let seq = node.seq;
            ctx.send(from, Msg::Created { attempt, seq });
            return;
        }
        self.last_seq += 1;
        self.version += 1;
        let seq = self.last_seq;
        let node = Znode {
            seq,
            client: from,
            session,
            attempt,
        };
        self.nodes.insert(seq, node);
        self.save(ctx);
        ctx.fact(LockFact::Queued {
            client: from,
            attempt,
            seq,
        });
        self.fire(ctx, Change::Created, seq);
        ctx.send(from, Msg::Created { attempt, seq });
    }

    /// A child was created or deleted: the watches it triggers fire, once each.
    fn fire(&mut self, ctx: &mut Ctx<'_, Lock>, change: Change, seq: u64) {
        let mut woken = std::mem::take(&mut self.child_watches);
        if change == Change::Deleted {
            woken.extend(self.node_watches.remove(&seq).unwrap_or_default());
        }
        let version = self.version;
        for (client, session) in woken {
            debug_assert!(
                self.live.contains_key(&(client, session)),
                "a watch outlived its session"
            );
            ctx.send(
                client,
                Msg::Notify {
                    session,
                    version,
                    change,
                    seq,
                },
            );
        }
    }

    /// A session heard nothing for `session_timeout`: it expires, and its nodes and watches
    /// with it.
    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_, Lock>, timer: Timer) {
        let Timer::Session { client, session } = timer else {
            return;
        };
        let id = (client, session);
        if self.live.remove(&id).is_none() {
            return;
        }
        self.child_watches.remove(&id);
        for watchers in self.node_watches.values_mut() {
            watchers.remove(&id);
        }
        self.node_watches.retain(|_, w| !w.is_empty());
        let gone: Vec<u64> = self
            .nodes
            .values()
            .filter(|n| (n.client, n.session) == id)
            .map(|n| n.seq)
            .collect();
        for &seq in &gone {
            self.nodes.remove(&seq);
            self.version += 1;
        }
        self.save(ctx);
        for seq in gone {
            ctx.fact(LockFact::Expired { client, token: seq });
            self.fire(ctx, Change::Deleted, seq);
        }
    }
}
