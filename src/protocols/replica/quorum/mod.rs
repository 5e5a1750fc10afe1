//! A Dynamo-style quorum store (DeCandia et al., *Dynamo*, SOSP 2007; seed text 004 §2.3.2
//! 「RWN 协议」): each key has `n` replicas — every node, or the `n` successors of the key on a
//! consistent-hash ring — and any node coordinates a request a client sends it. A put waits for
//! `w` replicas' acknowledgements, a get for `r` replies; the answer is the newest version
//! among them.
//!
//! What `r + w > n` buys, and what it does not, is the point (the lessons of
//! `scenarios/quorum/`): every read quorum overlaps the last *completed* write's quorum, so a
//! get that starts after a put finished sees it (or something newer) — unless clocks order the
//! versions wrongly (`resolve = "lww"` by wall clock under skew). It does not make reads
//! linearizable: a get concurrent with an unfinished put may return the new value, and a later
//! get the old one. `write_back` closes that gap (ABD: Attiya, Bar-Noy & Dolev 1995): a get
//! writes what it returns to `w` replicas before answering. With several writers, versions
//! must also be ordered by real time: `tags` makes a put read the greatest tag from `r`
//! replicas and write one more, tie-broken by the coordinator's index.
//!
//! Settings (see [`QuorumConfig`]): `n`, `r`, `w`, `placement`, `resolve = "lww" |
//! "vector-clock"` (siblings kept, a put's context superseding what it covers), `read_repair`,
//! `write_back`, `tags`, `request_timeout`.
//!
//! Durability: a replica writes every change of a key's versions to its log before it
//! acknowledges, and states `Holds` with it; after a crash it reads the log back and states
//! `Holds` again for every key. The coordinator's requests in flight are volatile (a crash
//! loses them: their clients time out), but the greatest stamp it gave out and its restart
//! count are durable, so a restarted coordinator never reuses a stamp or a request id.

mod config;
mod coordinator;
mod describe;
mod messages;
mod narrate;
mod placement;
mod section;
mod store;
#[cfg(test)]
mod tests;

pub use config::{Placement, QuorumConfig, Resolve};
pub use messages::{Durable, Msg, Record, Timer, Why};
pub use store::{Stamp, Stamped};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, RequestId,
    SectionBuilder,
};
use crate::protocols::replica::{Register, ReplicaFact, Staleness, invariants};

use config::Sizes;
use coordinator::Pending;
use placement::Ring;
use section::QuorumSection;
use store::Store;

type C<'a, 'b> = Ctx<'a, Quorum>;

/// One node of the quorum store: a replica of the keys placed on it, and a coordinator of the
/// requests clients send it.
pub struct Quorum {
    id: NodeId,
    cfg: QuorumConfig,
    sizes: Sizes,
    ring: Ring,
    durable: Durable,
    store: Store,
    /// Requests this node coordinates, by op id.
    pending: BTreeMap<u64, Pending>,
    /// The low half of the next op id.
    next: u64,
    /// Client requests already taken since the last start (duplicates are dropped).
    seen: BTreeSet<RequestId>,
}

impl Quorum {
    /// What this replica holds of `key`.
    pub fn held(&self, key: &str) -> &[Stamped] {
        self.store.get(key)
    }

    /// Merges `versions` into `key`: on disk, then stated, if anything changed.
    fn apply(&mut self, ctx: &mut C<'_, '_>, key: &Arc<str>, versions: &[Stamped]) {
        if let Some(now) = self.store.put(key, versions) {
            let versions = now.iter().map(Stamped::version).collect();
            ctx.log_append(Record {
                key: key.clone(),
                versions: now,
            });
            ctx.fact(ReplicaFact::Holds {
                key: key.clone(),
                versions,
            });
        }
    }
}

impl Protocol for Quorum {
    const NAME: &'static str = "quorum";
    const SUMMARY: &'static str = "Dynamo-style quorum store: n replicas per key, gets wait for r replies, puts for w acks; lww or vector clocks, read repair, ABD write-back";
    // With clients, `linearizable` is checked by default; which of the family's invariants
    // hold depends on the settings, so a scenario names them.
    type Msg = Msg;
    type Timer = Timer;
    type Config = QuorumConfig;
    type Durable = Durable;
    type Api = Register;
    type Fact = ReplicaFact;
    type Record = Record;

    fn situations() -> Vec<crate::node::situation::Situation> {
        super::situations::all()
    }

    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        self.describe()
    }

    fn validate(config: &QuorumConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![invariants::no_lost_update(), invariants::siblings_kept()]
    }

    fn report_sections(nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![
            Box::new(QuorumSection::new(nodes)),
            Box::new(Staleness::default()),
        ]
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &QuorumConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let nodes = peers.len() + 1;
        let sizes = config.sizes(nodes);
        let mut store = Store::default();
        for r in disk.map_or(&[][..], |d| &d.log[..]) {
            store.set(r.key.clone(), r.versions.clone());
        }
        Quorum {
            id,
            cfg: config.clone(),
            sizes,
            ring: Ring::new(config.placement, nodes, sizes.n as usize),
            durable: disk.map_or(Durable::default(), |d| d.state),
            store,
            pending: BTreeMap::new(),
            next: 0,
            seen: BTreeSet::new(),
        }
    }

    fn on_start(&mut self, ctx: &mut C<'_, '_>) {
        self.durable.incarnation += 1;
        ctx.persist(self.durable);
        // The checkers forgot what this node held when it crashed: say it again.
        let recovered: Vec<ReplicaFact> = self
            .store
            .iter()
            .map(|(key, vs)| ReplicaFact::Holds {
                key: key.clone(),
                versions: vs.iter().map(Stamped::version).collect(),
            })
            .collect();
        for fact in recovered {
            ctx.fact(fact);
        }
    }

    fn on_message(&mut self, ctx: &mut C<'_, '_>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Read { op, key } => {
                let versions = self.store.get(&key).to_vec();
                ctx.send(from, Msg::Versions { op, key, versions });
            }
            Msg::Versions { op, versions, .. } => self.on_versions(ctx, op, from, versions),
            Msg::Write {
                op,
                key,
                versions,
                why,
            } => {
                self.apply(ctx, &key, &versions);
                if why != Why::Repair {
                    ctx.send(from, Msg::Ack { op, key });
                }
            }
            Msg::Ack { op, .. } => self.on_ack(ctx, op, from),
        }
    }

    fn on_timer(&mut self, ctx: &mut C<'_, '_>, timer: Timer) {
        match timer {
            Timer::Expire(op) => self.expire(ctx, op),
        }
    }

    fn on_request(&mut self, ctx: &mut C<'_, '_>, request: ClientRequest<Register>) {
        self.coordinate(ctx, request);
    }
}
