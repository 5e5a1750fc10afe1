//! Vector-clock replicas, the textbook rule (the Dynamo paper's §4.4 vector clocks; the
//! conflict rule as course notes give it), and two ways out of its conflicts.
//!
//! Every node is a replica of every key. A client's put at a replica:
//!
//! 1. The replica makes the new version's clock: its own clock of the key merged with the
//!    put's context (the clocks the client last read), then its **own** entry incremented.
//! 2. It stores the version (on disk before anything else), then sends it with its clock to
//!    every other replica, and waits up to `ack_timeout` for their answers.
//! 3. A receiver compares the incoming clock with its own: *before* → discard; *after* → take
//!    value and clock; *equal* → nothing; *concurrent* → the basic rule keeps its own value
//!    and states a [`ReplicaFact::Conflict`]. Each answers the writer with what it did.
//! 4. The writer answers its client `Written { clock }`, or `Conflict { clock, kept }` when
//!    some replica refused the version as concurrent (what it kept). A lost update or answer
//!    delays the answer to `ack_timeout`, never blocks it: the client hears what arrived.
//!
//! A get answers from the replica asked: every version it holds of the key.
//!
//! `resolve = "siblings"` keeps concurrent versions side by side: a get returns them all and a
//! put whose context covers them replaces them. A put supersedes exactly what its writer had
//! seen (its client's reads, its client's own earlier writes), so under `siblings` the vector
//! has one entry per client rather than per replica (the rules module says why). `resolve = "lww"` keeps one value, the one
//! with the latest writer wall-clock reading (ties: the higher node index), and drops the
//! other without a word: it loses a write, and under clock skew the later one.
//!
//! `stamp = "lamport" | "wall"` stamps every message and states `Sent` and `Received` facts
//! for the `causal_order` invariant.
//!
//! Durable: the versions held, the count of puts taken and of starts (see [`Durable`]). A
//! restarted replica states `Holds` again for every key it recovered.

mod config;
mod describe;
mod messages;
mod narrate;
mod rules;
mod section;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

pub use config::{Resolve, Stamp as StampKind, VcConfig};
pub use messages::{Durable, Msg, Stamp, Timer};
pub use rules::{Dot, Outcome, Stored};

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, Reply,
    SectionBuilder,
};
use crate::protocols::replica::{
    LamportClock, Register, RegisterOp, RegisterOutput, ReplicaFact, VectorClock, Version,
    invariants,
};

/// A put waiting for the other replicas' answers.
#[derive(Clone, Debug)]
struct Pending {
    request: crate::node::RequestId,
    clock: VectorClock,
    awaiting: BTreeSet<NodeId>,
    /// What replicas that refused the version kept.
    kept: Vec<Version>,
}

/// One vector-clock replica.
///
/// ```
/// use sim::node::{NodeId, Protocol};
/// use sim::protocols::replica::vector_clock::{VcConfig, VectorClockReplica};
/// let config: VcConfig = toml::from_str("initial = { x = \"0\" }").unwrap();
/// let a = VectorClockReplica::new(NodeId(0), &[NodeId(1), NodeId(2)], &config, None);
/// assert_eq!(a.holds("x")[0].version().to_string(), "0 []");
/// ```
pub struct VectorClockReplica {
    cfg: VcConfig,
    durable: Durable,
    lamport: LamportClock,
    /// Messages stamped since this start.
    stamped: u32,
    /// Puts taken since this start.
    puts: u32,
    pending: BTreeMap<u64, Pending>,
}

impl VectorClockReplica {
    /// The versions this replica holds of `key`.
    ///
    /// ```
    /// use sim::node::{NodeId, Protocol};
    /// use sim::protocols::replica::vector_clock::{VcConfig, VectorClockReplica};
    /// let b = VectorClockReplica::new(NodeId(1), &[NodeId(0)], &VcConfig::default(), None);
    /// assert!(b.holds("x").is_empty(), "no initial value, no write yet");
    /// ```
    pub fn holds(&self, key: &str) -> &[Stored] {
        self.durable.store.get(key).map_or(&[], |v| &v[..])
    }

    fn state_holds(ctx: &mut C<'_, '_>, key: &Arc<str>, held: &[Stored]) {
        ctx.fact(ReplicaFact::Holds {
            key: key.clone(),
            versions: held.iter().map(Stored::version).collect(),
        });
    }

    /// Keeps `held` as the versions of `key`: on disk, then stated.
    fn keep(&mut self, ctx: &mut C<'_, '_>, key: &Arc<str>, held: Vec<Stored>) {
        Self::state_holds(ctx, key, &held);
        self.durable.store.insert(key.clone(), held);
        ctx.persist(self.durable.clone());
    }

    /// Sends `msg` (built with its stamp) to `to`, stamping it as `stamp` says.
    fn send(&mut self, ctx: &mut C<'_, '_>, to: NodeId, msg: impl FnOnce(Option<Stamp>) -> Msg) {
        let at = match self.cfg.stamp {
            StampKind::None => None,
            StampKind::Lamport => Some(self.lamport.tick() as i64),
            StampKind::Wall => Some(ctx.now()),
        };
        let stamp = at.map(|at| {
            self.stamped += 1;
            let id = (u64::from(ctx.id().0) << 48)
                | (u64::from(self.durable.incarnation & 0xffff) << 32)
                | u64::from(self.stamped);
            ctx.fact(ReplicaFact::Sent { id, stamp: at });
            Stamp { id, at }
        });
        ctx.send(to, msg(stamp));
    }

    fn received(&mut self, ctx: &mut C<'_, '_>, stamp: Option<Stamp>) {
        let Some(stamp) = stamp else { return };
        let at = match self.cfg.stamp {
            StampKind::Lamport => self.lamport.observe(stamp.at.max(0) as u64) as i64,
            StampKind::Wall | StampKind::None => ctx.now(),
        };
        ctx.fact(ReplicaFact::Received {
            id: stamp.id,
            stamp: at,
        });
    }

    fn on_put(
        &mut self,
        ctx: &mut C<'_, '_>,
        request: crate::node::RequestId,
        key: Arc<str>,
        value: Arc<str>,
        context: VectorClock,
    ) {
        self.durable.writes += 1;
        let held = self.holds(&key).to_vec();
        let (new, after) = rules::put(
            self.cfg.resolve,
            ctx.id().0,
            &held,
            &rules::Put {
                value: &value,
                context: &context,
                client: request.client.0,
                wall: ctx.now(),
                seq: self.durable.writes,
                request: request.seq,
            },
        );
        match after {
            Some(after) => self.keep(ctx, &key, after),
            // Older than what is held (last-write-wins; a late request under siblings): dropped.
            None => ctx.persist(self.durable.clone()),
        }
        self.puts += 1;
        let put = (u64::from(self.durable.incarnation) << 32) | u64::from(self.puts);
        let peers: Vec<NodeId> = ctx.peers().to_vec();
        for &to in &peers {
            let (key, version) = (key.clone(), new.clone());
            self.send(ctx, to, |stamp| Msg::Update {
                key,
                version,
                put,
                stamp,
            });
        }
        self.pending.insert(
            put,
            Pending {
                request,
                clock: new.clock.clone(),
                awaiting: peers.into_iter().collect(),
                kept: Vec::new(),
            },
        );
        if ctx.peers().is_empty() {
            self.answer(ctx, put);
        } else {
            ctx.set_timer(self.cfg.ack_timeout.nanos(), Timer::Acks { put });
        }
    }

    fn on_update(
        &mut self,
        ctx: &mut C<'_, '_>,
        from: NodeId,
        key: Arc<str>,
        incoming: Stored,
        put: u64,
    ) {
        let held = self.holds(&key).to_vec();
        let (outcome, after) = rules::receive(self.cfg.resolve, &held, &incoming);
        if let Some(after) = after {
            self.keep(ctx, &key, after);
        }
        if let (Outcome::Concurrent { .. }, Some(own)) = (&outcome, held.first()) {
            ctx.fact(ReplicaFact::Conflict {
                key: key.clone(),
                kept: own.version(),
                refused: incoming.version(),
            });
        }
        self.send(ctx, from, |stamp| Msg::Ack {
            key,
            put,
            outcome,
            stamp,
        });
    }

    fn on_ack(&mut self, ctx: &mut C<'_, '_>, from: NodeId, put: u64, outcome: Outcome) {
        let Some(p) = self.pending.get_mut(&put) else {
            return;
        };
        p.awaiting.remove(&from);
        if let Outcome::Concurrent { kept } = outcome {
            for v in kept {
                if !p.kept.contains(&v) {
                    p.kept.push(v);
                }
            }
        }
        if p.awaiting.is_empty() {
            ctx.cancel_timer(Timer::Acks { put });
            self.answer(ctx, put);
        }
    }

    /// Answers put `put`'s client with what the other replicas said.
    fn answer(&mut self, ctx: &mut C<'_, '_>, put: u64) {
        let Some(p) = self.pending.remove(&put) else {
            return;
        };
        let output = if p.kept.is_empty() {
            RegisterOutput::Written { clock: p.clock }
        } else {
            RegisterOutput::Conflict {
                clock: p.clock,
                kept: p.kept,
            }
        };
        ctx.reply(p.request, Reply::Ok(output));
    }
}

type C<'a, 'b> = Ctx<'a, VectorClockReplica>;

impl Protocol for VectorClockReplica {
    const NAME: &'static str = "vector-clock";
    const SUMMARY: &'static str = "Dynamo-style replicas of every key with vector clocks: the basic conflict rule, siblings, or last-write-wins";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["no_lost_update", "siblings_kept"];
    type Msg = Msg;
    type Timer = Timer;
    type Config = VcConfig;
    type Durable = Durable;
    type Api = Register;
    type Fact = ReplicaFact;
    type Record = ();

    fn situations() -> Vec<crate::node::situation::Situation> {
        super::situations::all()
    }

    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        self.describe()
    }

    fn validate(config: &VcConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariants::no_lost_update(),
            invariants::siblings_kept(),
            invariants::causal_order(),
        ]
    }

    fn report_sections(nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(section::ReplicaSection::new(nodes))]
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn new(_: NodeId, _: &[NodeId], config: &VcConfig, disk: Option<&DiskOf<Self>>) -> Self {
        let durable = match disk {
            Some(d) => d.state.clone(),
            None => Durable {
                store: config
                    .initial
                    .iter()
                    .map(|(k, v)| (Arc::from(k.as_str()), vec![Stored::initial(v)]))
                    .collect(),
                ..Durable::default()
            },
        };
        VectorClockReplica {
            cfg: config.clone(),
            durable,
            lamport: LamportClock::new(),
            stamped: 0,
            puts: 0,
            pending: BTreeMap::new(),
        }
    }

    fn on_start(&mut self, ctx: &mut C<'_, '_>) {
        self.durable.incarnation += 1;
        ctx.persist(self.durable.clone());
        for (key, held) in &self.durable.store {
            Self::state_holds(ctx, key, held);
        }
    }

    fn on_message(&mut self, ctx: &mut C<'_, '_>, from: NodeId, msg: Msg) {
        self.received(ctx, msg.stamp());
        match msg {
            Msg::Update {
                key, version, put, ..
            } => self.on_update(ctx, from, key, version, put),
            Msg::Ack { put, outcome, .. } => self.on_ack(ctx, from, put, outcome),
        }
    }

    fn on_timer(&mut self, ctx: &mut C<'_, '_>, timer: Timer) {
        let Timer::Acks { put } = timer;
        self.answer(ctx, put);
    }

    fn on_request(&mut self, ctx: &mut C<'_, '_>, request: ClientRequest<Register>) {
        match request.op {
            RegisterOp::Get { key } => {
                let versions = self.holds(&key).iter().map(Stored::version).collect();
                ctx.reply(request.id, Reply::Ok(RegisterOutput::Read { versions }));
            }
            RegisterOp::Put {
                key,
                value,
                context,
            } => self.on_put(ctx, request.id, key, value, context),
        }
    }
}
