//! Session guarantees over asynchronous primary–replica replication (seed text 002,
//! 「基本思路：主从复制」; seed text 004, 「2.1一致性模型分类」).
//!
//! The first node is the primary: it gives every write the next version (its count of
//! writes), writes it to its log, answers, and sends it to every replica without waiting for
//! them — so a replica may be behind, by a message in flight or by one the network lost. Any
//! node serves reads from what it holds. A write sent to a replica is forwarded to the
//! primary, and the replica applies the primary's answer before it answers the client.
//!
//! What a client sees depends on where its reads go (`[workload] reads`, see [`workload`]):
//! spread over replicas, a later read can come from a replica further behind than an earlier
//! one (`monotonic_reads` fails) or from one the client's own write has not reached yet
//! (`read_your_writes` fails). A sticky session keeps both as long as its replica lives; a
//! version token keeps both anywhere, because a replica behind the token holds the read
//! (`token_wait`) and then sends the client to the primary, which is never behind.
//!
//! Replication is fire-and-forget: a replica that missed a write stays behind until the key is
//! written again, unless `anti_entropy` has the nodes exchange what they hold (push–pull with
//! one peer per period). `converges_within D` judges that every live node holds the same
//! versions within `D` of the last write or fault; [`convergence`] measures how long it took
//! (the report's `convergence` section, and `converge_time` for `sim experiment`).
//!
//! Durability: every node appends each version it takes to its log before acting on it, and
//! after a restart reads the log back (a replica does not forget what a session saw there).

mod api;
mod config;
pub mod convergence;
pub mod invariants;
mod narrate;
#[cfg(test)]
mod tests;
pub mod workload;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, Reply, RequestId,
    SectionBuilder,
};

pub use api::{Session, SessionFact, SessionOp, SessionOutput};
pub use config::SessionConfig;
pub use workload::{Reads, SessionClient, SessionDraw, SessionOptions};

/// The primary: the first node.
const PRIMARY: NodeId = NodeId(0);

/// One version of a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The key.
    pub key: Arc<str>,
    /// Its version.
    pub version: u64,
    /// The value.
    pub value: Arc<str>,
}

/// The session store's messages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Msg {
    /// A replica passes a client's write to the primary.
    Forward {
        /// The client request.
        request: RequestId,
        /// The key.
        key: Arc<str>,
        /// The value.
        value: Arc<str>,
    },
    /// The primary's answer to a forwarded write: its version.
    Ack {
        /// The client request.
        request: RequestId,
        /// The version made.
        entry: Entry,
    },
    /// The primary sends new versions to a replica, without waiting for an answer.
    Replicate(Vec<Entry>),
    /// Anti-entropy: everything the sender holds.
    Digest(Vec<Entry>),
    /// Anti-entropy's answer: what the digest's sender lacked.
    Patch(Vec<Entry>),
}

/// The session store's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// Send a digest to a peer.
    AntiEntropy,
    /// The primary ships what accumulated.
    Ship,
    /// A held read has waited `token_wait`: redirect it to the primary.
    Held(RequestId),
}

/// One node: the primary or a replica.
#[derive(Debug)]
pub struct SessionNode {
    id: NodeId,
    config: SessionConfig,
    /// What it holds, by key.
    store: BTreeMap<Arc<str>, Entry>,
    /// The primary's count of writes.
    last_version: u64,
    /// The primary's versions by client request: a retried write is not applied twice.
    made: BTreeMap<RequestId, Entry>,
    /// Writes forwarded to the primary, awaiting its answer.
    forwarded: BTreeMap<RequestId, ClientRequest<Session>>,
    /// Reads whose token is ahead of what this node holds.
    held: BTreeMap<RequestId, ClientRequest<Session>>,
    /// The primary's versions not yet shipped (with `ship_every`).
    unshipped: Vec<Entry>,
}

type C<'a> = Ctx<'a, SessionNode>;

impl SessionNode {
    /// What this node holds of `key`: its version (0: nothing).
    pub fn version(&self, key: &str) -> u64 {
        self.store.get(key).map_or(0, |e| e.version)
    }

    /// Takes `entry` if it is newer than what this node holds: on disk, then stated. Held reads
    /// it satisfies are answered.
    fn take(&mut self, ctx: &mut C<'_>, entry: &Entry, request: Option<RequestId>) {
        if entry.version <= self.version(&entry.key) {
            return;
        }
        ctx.log_append(Record {
            entry: entry.clone(),
            request,
        });
        self.store.insert(entry.key.clone(), entry.clone());
        ctx.fact(SessionFact::Holds {
            key: entry.key.clone(),
            version: entry.version,
        });
        let ready: Vec<RequestId> = self
            .held
            .iter()
            .filter(|(_, r)| matches!(&r.op, SessionOp::Read { key, after } if self.version(key) >= *after))
            .map(|(id, _)| *id)
            .collect();
        for id in ready {
            if let Some(read) = self.held.remove(&id) {
                ctx.cancel_timer(Timer::Held(id));
                self.serve(ctx, &read);
            }
        }
    }

    /// The primary makes (or finds again) the version of a write.
    fn make(
        &mut self,
        ctx: &mut C<'_>,
        request: RequestId,
        key: &Arc<str>,
        value: &Arc<str>,
    ) -> Entry {
        if let Some(entry) = self.made.get(&request) {
            return entry.clone();
        }
        self.last_version += 1;
        let entry = Entry {
            key: key.clone(),
            version: self.last_version,
            value: value.clone(),
        };
        self.made.insert(request, entry.clone());
        ctx.fact(SessionFact::Wrote {
            key: key.clone(),
            value: value.clone(),
            version: entry.version,
            request,
        });
        self.take(ctx, &entry, Some(request));
        if self.config.ship_every.nanos() == 0 {
            self.ship(ctx, vec![entry.clone()]);
        } else {
            if self.unshipped.is_empty() {
                ctx.set_timer(self.config.ship_every.nanos(), Timer::Ship);
            }
            self.unshipped.push(entry.clone());
        }
        entry
    }

    /// Sends `entries` to every replica, without waiting for an answer.
    fn ship(&mut self, ctx: &mut C<'_>, entries: Vec<Entry>) {
        for peer in ctx.peers().to_vec() {
            ctx.send(peer, Msg::Replicate(entries.clone()));
        }
    }

    fn serve(&mut self, ctx: &mut C<'_>, read: &ClientRequest<Session>) {
        let key = read.op.key();
        let (value, version) = match self.store.get(key) {
            Some(e) => (Some(e.value.clone()), e.version),
            None => (None, 0),
        };
        ctx.fact(SessionFact::Served {
            request: read.id,
            key: key.clone(),
            version,
        });
        ctx.reply(read.id, Reply::Ok(SessionOutput::Read { value, version }));
    }

    /// Everything this node holds that `digest` lacks or holds older.
    fn newer_than(&self, digest: &[Entry]) -> Vec<Entry> {
        let theirs: BTreeMap<&str, u64> = digest.iter().map(|e| (&*e.key, e.version)).collect();
        self.store
            .values()
            .filter(|e| theirs.get(&*e.key).is_none_or(|&v| v < e.version))
            .cloned()
            .collect()
    }
}

/// One entry of a node's log: a version it took, and the client request that made it (the
/// primary's own writes), so that a restarted primary still knows its retried writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The version taken.
    pub entry: Entry,
    /// The request that made it, at the primary.
    pub request: Option<RequestId>,
}

impl Protocol for SessionNode {
    const NAME: &'static str = "session";
    const SUMMARY: &'static str = "A primary replicating asynchronously to replicas read by clients: \
         any-replica reads, sticky sessions or version tokens; anti-entropy";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["monotonic_reads", "read_your_writes"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = SessionConfig;
    type Durable = ();
    type Record = Record;
    type Api = Session;
    type Fact = SessionFact;

    fn invariants() -> Vec<ProtocolInvariant> {
        invariants::catalogue()
    }

    fn report_sections(nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(convergence::ConvergenceSection::new(nodes))]
    }

    fn validate(config: &SessionConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn new(
        id: NodeId,
        _peers: &[NodeId],
        config: &SessionConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let mut node = SessionNode {
            id,
            config: config.clone(),
            store: BTreeMap::new(),
            last_version: 0,
            made: BTreeMap::new(),
            forwarded: BTreeMap::new(),
            held: BTreeMap::new(),
            unshipped: Vec::new(),
        };
        for r in disk.map_or(&[][..], |d| &d.log[..]) {
            node.last_version = node.last_version.max(r.entry.version);
            if let Some(request) = r.request {
                node.made.insert(request, r.entry.clone());
            }
            node.store.insert(r.entry.key.clone(), r.entry.clone());
        }
        node
    }

    fn on_start(&mut self, ctx: &mut C<'_>) {
        // The checkers forgot what this node held when it crashed: say it again.
        let held: Vec<SessionFact> = self
            .store
            .values()
            .map(|e| SessionFact::Holds {
                key: e.key.clone(),
                version: e.version,
            })
            .collect();
        for fact in held {
            ctx.fact(fact);
        }
        if let Some(period) = self.config.anti_entropy {
            ctx.set_timer(period.nanos(), Timer::AntiEntropy);
        }
    }

    fn on_message(&mut self, ctx: &mut C<'_>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Forward {
                request,
                key,
                value,
            } => {
                if self.id == PRIMARY {
                    let entry = self.make(ctx, request, &key, &value);
                    ctx.send(from, Msg::Ack { request, entry });
                }
            }
            Msg::Ack { request, entry } => {
                self.take(ctx, &entry, None);
                if let Some(write) = self.forwarded.remove(&request) {
                    let version = entry.version;
                    ctx.reply(write.id, Reply::Ok(SessionOutput::Written { version }));
                }
            }
            Msg::Digest(theirs) => {
                for e in &theirs {
                    self.take(ctx, e, None);
                }
                let patch = self.newer_than(&theirs);
                if !patch.is_empty() {
                    ctx.send(from, Msg::Patch(patch));
                }
            }
            Msg::Replicate(entries) | Msg::Patch(entries) => {
                for e in &entries {
                    self.take(ctx, e, None);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut C<'_>, timer: Timer) {
        match timer {
            Timer::AntiEntropy => {
                let peers = ctx.peers().to_vec();
                let peer = peers[ctx.rng().below(peers.len() as u64) as usize];
                ctx.send(peer, Msg::Digest(self.store.values().cloned().collect()));
                if let Some(period) = self.config.anti_entropy {
                    ctx.set_timer(period.nanos(), Timer::AntiEntropy);
                }
            }
            Timer::Ship => {
                let entries = std::mem::take(&mut self.unshipped);
                if !entries.is_empty() {
                    self.ship(ctx, entries);
                }
            }
            Timer::Held(id) => {
                if let Some(read) = self.held.remove(&id) {
                    ctx.reply(
                        read.id,
                        Reply::NotLeader {
                            leader: Some(PRIMARY),
                        },
                    );
                }
            }
        }
    }

    fn on_request(&mut self, ctx: &mut C<'_>, request: ClientRequest<Session>) {
        match &request.op {
            SessionOp::Write { key, value } => {
                if self.id == PRIMARY {
                    let entry = self.make(ctx, request.id, key, value);
                    let version = entry.version;
                    ctx.reply(request.id, Reply::Ok(SessionOutput::Written { version }));
                } else {
                    ctx.send(
                        PRIMARY,
                        Msg::Forward {
                            request: request.id,
                            key: key.clone(),
                            value: value.clone(),
                        },
                    );
                    self.forwarded.insert(request.id, request);
                }
            }
            SessionOp::Read { key, after } => {
                if self.version(key) >= *after {
                    self.serve(ctx, &request);
                } else {
                    ctx.set_timer(self.config.token_wait.nanos(), Timer::Held(request.id));
                    self.held.insert(request.id, request);
                }
            }
        }
    }
}
