//! Trace records: every event of a run, in order, and the observers that receive them.
//!
//! The world builds a [`Record`] for each event (start, send, deliver, drop, timer, observation,
//! fault, and the clients' invoke, request, reply, drop and complete), feeds it into the running trace hash, and hands it to its [`Observer`]. Records borrow
//! their payloads, so a run that writes no trace pays for no copies. What observers do with
//! records — check invariants, write `trace.jsonl`, tell the story — is theirs to decide; the
//! world knows none of them.

use serde::Serialize;

use crate::node::{ClientRequest, Completion, Nanos, Observation, Protocol, Reply, RequestId};

use super::cluster::Cluster;
use super::fault::FaultRecord;
use super::hash::TraceHasher;

/// Why a message was not delivered.
///
/// ```
/// use sim::world::DropReason;
/// assert_eq!(serde_json::to_string(&DropReason::NodeDown).unwrap(), "\"node_down\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The network lost it (`loss`).
    Loss,
    /// The link was cut when it was sent or when it arrived.
    Partition,
    /// The receiver was crashed when it arrived.
    NodeDown,
    /// It had arrived while the receiver was paused and was held for it; the receiver crashed
    /// before it resumed, so it was never read.
    CrashedWhilePaused,
}

impl DropReason {
    /// The reason as `trace.jsonl` writes it: `loss`, `partition`, `node_down` or
    /// `crashed_while_paused`.
    ///
    /// ```
    /// use sim::world::DropReason;
    /// assert_eq!(DropReason::CrashedWhilePaused.name(), "crashed_while_paused");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::NodeDown => "node_down",
            DropReason::CrashedWhilePaused => "crashed_while_paused",
        }
    }
}

/// One event of a run.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use std::collections::BTreeMap;
/// use sim::protocols::raft::{Raft, RaftConfig};
/// use sim::world::{Cluster, Observer, Record, World};
/// /// Counts the records of each kind, and the nodes and clients they name.
/// #[derive(Default)]
/// struct Kinds { count: BTreeMap<&'static str, u64>, at_a_node: u64, at_a_client: u64 }
/// impl Observer<Raft> for Kinds {
///     fn on_record(&mut self, record: &Record<'_, Raft>, _: &Cluster) {
///         *self.count.entry(record.event.kind()).or_default() += 1;
///         self.at_a_node += u64::from(record.event.node().is_some());
///         self.at_a_client += u64::from(record.event.client().is_some());
///     }
/// }
/// let mut world = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), Kinds::default());
/// world.run();
/// let kinds = world.into_observer();
/// // Three starts; every message sent was delivered (no faults, no loss).
/// assert_eq!(kinds.count["start"], 3);
/// assert_eq!(kinds.count["send"], kinds.count["deliver"]);
/// ```
pub enum Event<'a, P: Protocol> {
    /// A node starts: at time zero, or again after a crash.
    Start {
        /// The node's index in the cluster (the number of its `NodeId`).
        node: u32,
        /// True when it starts again after a crash, from what it persisted; false at time zero.
        restart: bool,
    },
    /// A node hands a message to the network. It is then delivered (once, or twice when
    /// duplicated) or dropped, each under the same `id`.
    Send {
        /// The sending node's index.
        from: u32,
        /// The addressed node's index.
        to: u32,
        /// The message's number, unique in the run (node and client messages share one counter).
        id: u64,
        /// The message as the sender wrote it.
        msg: &'a P::Msg,
    },
    /// A message reaches its receiver, which handles it at this instant.
    Deliver {
        /// The sending node's index.
        from: u32,
        /// The receiving node's index.
        to: u32,
        /// The number the message was given when it was sent.
        id: u64,
        /// The message as delivered.
        msg: &'a P::Msg,
    },
    /// A node's message is not delivered and its receiver never sees it.
    Drop {
        /// The sending node's index.
        from: u32,
        /// The addressed node's index.
        to: u32,
        /// The number the message was given when it was sent.
        id: u64,
        /// Why it was not delivered.
        reason: DropReason,
    },
    /// A timer a node set fires and the node handles it.
    Timer {
        /// The node's index.
        node: u32,
        /// The timer, as the protocol named it when it set it.
        timer: &'a P::Timer,
    },
    /// A node reports one of the shared facts (its role, authority, a suspicion of a peer or
    /// trust in it, a log entry appended, committed or applied) that the common invariants read.
    Observe {
        /// The reporting node's index.
        node: u32,
        /// What it reports.
        obs: &'a Observation,
    },
    /// One of the protocol's own facts (`Protocol::Fact`).
    Fact {
        /// The reporting node's index.
        node: u32,
        /// The fact, typed by the protocol.
        fact: &'a P::Fact,
    },
    /// A fault fires, ends or is skipped (from the schedule, the nemesis or its final heal), with
    /// the concrete nodes and links it hit.
    Fault(&'a FaultRecord),
    /// A client begins an operation (its invocation in the history).
    Invoke {
        /// The client's number (`c0` is 0).
        client: u32,
        /// The operation and the request id that names it.
        request: &'a ClientRequest<P::Api>,
    },
    /// A client sends a request (the first time, or again) to a node.
    Request {
        /// The client's number.
        client: u32,
        /// The addressed node's index.
        to: u32,
        /// The message's number, unique in the run (shared with node messages).
        id: u64,
        /// The request as sent.
        request: &'a ClientRequest<P::Api>,
    },
    /// A request reaches a node.
    RequestDeliver {
        /// The client's number.
        client: u32,
        /// The receiving node's index.
        to: u32,
        /// The number the request was given when it was sent.
        id: u64,
    },
    /// A node answers a client: the request answered, and the reply.
    Reply {
        /// The answering node's index.
        from: u32,
        /// The client answered.
        client: u32,
        /// The reply message's number, unique in the run.
        id: u64,
        /// The id of the request answered and the reply to it.
        answer: &'a (RequestId, Reply<P::Api>),
    },
    /// A reply reaches its client.
    ReplyDeliver {
        /// The answering node's index.
        from: u32,
        /// The client it reaches.
        client: u32,
        /// The number the reply was given when it was sent.
        id: u64,
    },
    /// A request or a reply was not delivered. `node` is the node end of the link.
    ClientDrop {
        /// The client's number.
        client: u32,
        /// The node at the other end of the link.
        node: u32,
        /// The number the message was given when it was sent.
        id: u64,
        /// True for a request on its way to the node, false for a reply on its way to the client.
        to_node: bool,
        /// Why it was not delivered.
        reason: DropReason,
    },
    /// A client's operation ends (its completion in the history).
    Complete {
        /// The client's number.
        client: u32,
        /// The operation's number.
        seq: u64,
        /// The outcome: the reply it got, or why it gave up.
        completion: &'a Completion<P::Api>,
    },
}

impl<P: Protocol> Event<'_, P> {
    /// The trace's name for the kind.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use std::collections::BTreeMap;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Cluster, Observer, Record, World};
    /// /// Counts the records of each kind, and the nodes and clients they name.
    /// #[derive(Default)]
    /// struct Kinds { count: BTreeMap<&'static str, u64>, at_a_node: u64, at_a_client: u64 }
    /// impl Observer<Raft> for Kinds {
    ///     fn on_record(&mut self, record: &Record<'_, Raft>, _: &Cluster) {
    ///         *self.count.entry(record.event.kind()).or_default() += 1;
    ///         self.at_a_node += u64::from(record.event.node().is_some());
    ///         self.at_a_client += u64::from(record.event.client().is_some());
    ///     }
    /// }
    /// let mut world = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), Kinds::default());
    /// world.run();
    /// let kinds = world.into_observer();
    /// assert!(kinds.count.contains_key("timer") && !kinds.count.contains_key("drop"));
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Start { .. } => "start",
            Event::Send { .. } => "send",
            Event::Deliver { .. } => "deliver",
            Event::Drop { .. } => "drop",
            Event::Timer { .. } => "timer",
            Event::Observe { .. } => "observe",
            Event::Fact { .. } => "fact",
            Event::Fault(_) => "fault",
            Event::Invoke { .. } => "invoke",
            Event::Request { .. } => "request",
            Event::RequestDeliver { .. } => "request_deliver",
            Event::Reply { .. } => "reply",
            Event::ReplyDeliver { .. } => "reply_deliver",
            Event::ClientDrop { .. } => "client_drop",
            Event::Complete { .. } => "complete",
        }
    }

    /// The client the event concerns, if it concerns one.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use std::collections::BTreeMap;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Cluster, Observer, Record, World};
    /// /// Counts the records of each kind, and the nodes and clients they name.
    /// #[derive(Default)]
    /// struct Kinds { count: BTreeMap<&'static str, u64>, at_a_node: u64, at_a_client: u64 }
    /// impl Observer<Raft> for Kinds {
    ///     fn on_record(&mut self, record: &Record<'_, Raft>, _: &Cluster) {
    ///         *self.count.entry(record.event.kind()).or_default() += 1;
    ///         self.at_a_node += u64::from(record.event.node().is_some());
    ///         self.at_a_client += u64::from(record.event.client().is_some());
    ///     }
    /// }
    /// let mut world = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), Kinds::default());
    /// world.run();
    /// let kinds = world.into_observer();
    /// assert_eq!(kinds.at_a_client, 0, "a world without clients");
    /// ```
    pub fn client(&self) -> Option<u32> {
        match *self {
            Event::Invoke { client, .. }
            | Event::Request { client, .. }
            | Event::RequestDeliver { client, .. }
            | Event::Reply { client, .. }
            | Event::ReplyDeliver { client, .. }
            | Event::ClientDrop { client, .. }
            | Event::Complete { client, .. } => Some(client),
            _ => None,
        }
    }

    /// The node the event happened at, if it happened at one.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use std::collections::BTreeMap;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Cluster, Observer, Record, World};
    /// /// Counts the records of each kind, and the nodes and clients they name.
    /// #[derive(Default)]
    /// struct Kinds { count: BTreeMap<&'static str, u64>, at_a_node: u64, at_a_client: u64 }
    /// impl Observer<Raft> for Kinds {
    ///     fn on_record(&mut self, record: &Record<'_, Raft>, _: &Cluster) {
    ///         *self.count.entry(record.event.kind()).or_default() += 1;
    ///         self.at_a_node += u64::from(record.event.node().is_some());
    ///         self.at_a_client += u64::from(record.event.client().is_some());
    ///     }
    /// }
    /// let mut world = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), Kinds::default());
    /// world.run();
    /// let kinds = world.into_observer();
    /// // Every event of a run without clients or faults happens at a node.
    /// assert_eq!(kinds.at_a_node, kinds.count.values().sum::<u64>());
    /// ```
    pub fn node(&self) -> Option<u32> {
        match *self {
            Event::Start { node, .. }
            | Event::Timer { node, .. }
            | Event::Observe { node, .. }
            | Event::Fact { node, .. } => Some(node),
            Event::Send { from, .. } => Some(from),
            Event::Deliver { to, .. } | Event::Drop { to, .. } => Some(to),
            Event::RequestDeliver { to, .. } => Some(to),
            Event::Reply { from, .. } => Some(from),
            Event::Fault(_)
            | Event::Invoke { .. }
            | Event::Request { .. }
            | Event::ReplyDeliver { .. }
            | Event::ClientDrop { .. }
            | Event::Complete { .. } => None,
        }
    }

    /// Feeds the event into the trace hash. The layout is part of the hash promise.
    pub(crate) fn hash_into(&self, h: &mut TraceHasher) {
        match self {
            Event::Start { node, restart } => {
                h.word(1);
                h.word(u64::from(*node));
                h.word(u64::from(*restart));
            }
            Event::Send { from, to, id, msg } => {
                h.word(2);
                h.word(u64::from(*from) << 32 | u64::from(*to));
                h.word(*id);
                h.value(*msg);
            }
            Event::Deliver { from, to, id, .. } => {
                h.word(3);
                h.word(u64::from(*from) << 32 | u64::from(*to));
                h.word(*id);
            }
            Event::Drop {
                from,
                to,
                id,
                reason,
            } => {
                h.word(4);
                h.word(u64::from(*from) << 32 | u64::from(*to));
                h.word(*id);
                h.word(*reason as u64);
            }
            Event::Timer { node, timer } => {
                h.word(5);
                h.word(u64::from(*node));
                h.value(*timer);
            }
            Event::Observe { node, obs } => {
                h.word(6);
                h.word(u64::from(*node));
                h.value(*obs);
            }
            Event::Fact { node, fact } => {
                h.word(15);
                h.word(u64::from(*node));
                h.value(*fact);
            }
            Event::Fault(record) => {
                h.word(7);
                h.value(*record);
            }
            Event::Invoke { client, request } => {
                h.word(8);
                h.word(u64::from(*client));
                h.value(*request);
            }
            Event::Request {
                client,
                to,
                id,
                request,
            } => {
                h.word(9);
                h.word(u64::from(*client) << 32 | u64::from(*to));
                h.word(*id);
                h.value(&request.id);
            }
            Event::RequestDeliver { client, to, id } => {
                h.word(10);
                h.word(u64::from(*client) << 32 | u64::from(*to));
                h.word(*id);
            }
            Event::Reply {
                from,
                client,
                id,
                answer,
            } => {
                h.word(11);
                h.word(u64::from(*from) << 32 | u64::from(*client));
                h.word(*id);
                h.value(*answer);
            }
            Event::ReplyDeliver { from, client, id } => {
                h.word(12);
                h.word(u64::from(*from) << 32 | u64::from(*client));
                h.word(*id);
            }
            Event::ClientDrop {
                client,
                node,
                id,
                to_node,
                reason,
            } => {
                h.word(13);
                h.word(u64::from(*client) << 32 | u64::from(*node));
                h.word(*id);
                h.word(u64::from(*to_node) << 8 | *reason as u64);
            }
            Event::Complete {
                client,
                seq,
                completion,
            } => {
                h.word(14);
                h.word(u64::from(*client));
                h.word(*seq);
                h.value(*completion);
            }
        }
    }
}

/// A numbered event at a true instant.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::protocols::raft::{Raft, RaftConfig};
/// use sim::world::{Cluster, Observer, Record, World};
/// /// Checks that records come numbered from 0, in time order.
/// #[derive(Default)]
/// struct InOrder { next: u64, last_at: u64 }
/// impl Observer<Raft> for InOrder {
///     fn on_record(&mut self, record: &Record<'_, Raft>, _: &Cluster) {
///         assert_eq!(record.seq, self.next);
///         assert!(record.at >= self.last_at);
///         (self.next, self.last_at) = (record.seq + 1, record.at);
///     }
/// }
/// let mut world = World::new(world_spec(3, 1, 500 * MS), RaftConfig::default(), InOrder::default());
/// world.run();
/// assert_eq!(world.observer().next, world.stats().events);
/// ```
pub struct Record<'a, P: Protocol> {
    /// The record's position in the trace (0-based).
    pub seq: u64,
    /// True time in nanoseconds.
    pub at: Nanos,
    /// What happened.
    pub event: Event<'a, P>,
}

/// Receives every record of a run as it happens, with the cluster as it is at that instant.
///
/// An observer is how a test or a tool sees a run: it gets each record once, in order, and
/// keeps what it needs. A pair `(A, B)` of observers feeds both; `()` observes nothing.
///
/// ```
/// # use schemars::JsonSchema;
/// # use serde::Deserialize;
/// # use sim::node::{Ctx, DiskOf, NodeId, Protocol};
/// use sim::node::{Observation, Role};
/// # #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
/// # #[serde(deny_unknown_fields)]
/// # struct Config {}
/// /// Node 0 leads term 1 and greets every peer once; each greets it back.
/// struct Hello;
///
/// impl Protocol for Hello {
///     const NAME: &'static str = "hello";
///     const SUMMARY: &'static str = "node 0 leads and greets every peer";
///     type Msg = ();
///     type Timer = ();
///     type Config = Config;
///     type Durable = ();
///     type Api = sim::node::Kv;
///     type Fact = sim::node::NoFacts;
///     type Record = ();
///     fn new(_: NodeId, _: &[NodeId], _: &Config, _: Option<&DiskOf<Self>>) -> Self {
///         Hello
///     }
///     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
///         if ctx.id() == NodeId(0) {
///             ctx.observe(Observation::Role { role: Role::Leader, term: 1 });
///             ctx.broadcast(());
///         }
///     }
///     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, (): ()) {
///         if ctx.id() != NodeId(0) {
///             ctx.send(from, ());
///         }
///     }
///     fn on_timer(&mut self, _: &mut Ctx<'_, Self>, (): ()) {}
/// }
///
/// use sim::world::{Clock, Cluster, Event, LinkModel, Observer, Record, World, WorldSpec};
///
/// /// Every (true time, node, term) at which a node became leader.
/// #[derive(Default)]
/// struct Leaders(Vec<(u64, u32, u64)>);
///
/// impl Observer<Hello> for Leaders {
///     fn on_record(&mut self, record: &Record<'_, Hello>, _: &Cluster) {
///         if let Event::Observe { node, obs: Observation::Role { role: Role::Leader, term } } =
///             record.event
///         {
///             self.0.push((record.at, node, *term));
///         }
///     }
/// }
///
/// let spec = WorldSpec {
///     seed: 1,
///     names: vec!["A".into(), "B".into(), "C".into()],
///     duration: 1_000_000_000,
///     max_events: 100_000,
///     link: LinkModel::default(),
///     clocks: vec![Clock::honest(); 3],
///     faults: vec![],
///     timing: Default::default(),
/// };
/// let mut world = World::new(spec, Config::default(), Leaders::default());
/// world.run();
/// let leaders = world.into_observer().0;
/// assert_eq!(leaders, [(0, 0, 1)], "node 0 leads term 1 from the start");
/// ```
pub trait Observer<P: Protocol> {
    /// Called once per record, in trace order, after the record is folded into the trace hash;
    /// `cluster` says who is up and what each clock reads at that instant.
    fn on_record(&mut self, record: &Record<'_, P>, cluster: &Cluster);

    /// The run reached its end (its duration, or a limit).
    fn on_end(&mut self, _cluster: &Cluster) {}

    /// Asked after every event: `true` ends the run there with [`super::Outcome::Stopped`]
    /// (an observer's own limit: trace bytes, history length).
    #[inline]
    fn stop(&self) -> bool {
        false
    }
}

/// Observes nothing: for runs that only want the hash.
impl<P: Protocol> Observer<P> for () {
    #[inline]
    fn on_record(&mut self, _: &Record<'_, P>, _: &Cluster) {}
}

/// Two observers side by side.
impl<P: Protocol, A: Observer<P>, B: Observer<P>> Observer<P> for (A, B) {
    #[inline]
    fn on_record(&mut self, record: &Record<'_, P>, cluster: &Cluster) {
        self.0.on_record(record, cluster);
        self.1.on_record(record, cluster);
    }
    fn on_end(&mut self, cluster: &Cluster) {
        self.0.on_end(cluster);
        self.1.on_end(cluster);
    }
    #[inline]
    fn stop(&self) -> bool {
        self.0.stop() || self.1.stop()
    }
}

/// Hashes and numbers records, then passes them on.
pub(crate) struct Tracer<O> {
    pub hasher: TraceHasher,
    pub records: u64,
    pub observer: O,
}

impl<O> Tracer<O> {
    #[inline]
    pub(crate) fn emit<P: Protocol>(&mut self, at: Nanos, cluster: &Cluster, event: Event<'_, P>)
    where
        O: Observer<P>,
    {
        self.hasher.word(at);
        event.hash_into(&mut self.hasher);
        let record = Record {
            seq: self.records,
            at,
            event,
        };
        self.records += 1;
        self.observer.on_record(&record, cluster);
    }
}
