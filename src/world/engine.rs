//! The world: one seeded discrete-event loop driving nodes, network, clocks and faults.
//!
//! The loop pops the earliest event (by true time, then insertion order), applies it, and turns
//! whatever the protocol asked for into new events. It never reads the wall clock, never spawns
//! and never iterates a hash map, so a run is a pure function of (spec, config, seed).
//!
//! Process faults, precisely:
//! - **crash**: the node's protocol state, timers and queued inputs are gone; its durable state
//!   and its clock survive. Messages arriving while it is down are dropped (`node_down`).
//! - **restart**: the protocol is rebuilt from its durable state and started again.
//! - **pause** (a stop-the-world GC pause): the node runs nothing. Messages for it and timers
//!   that come due are held, in order, and handed to it when it resumes; its clock keeps
//!   running, so it learns of the pause only by reading it.
//!
//! Each node has a wall clock (offset, drift, jumps) and a monotonic clock (the same drift, no
//! jumps). Timers are deadlines on the monotonic clock, as real timers are: a drift change
//! re-plans every pending timer of that node in true time; a wall-clock jump moves none. A
//! protocol that measures time on the wall clock (`ctx.now()`) sees the jump; one that uses
//! `ctx.monotonic()` does not.
//!
//! Clients (see `clients` for how their links behave) are driven the same way: their start,
//! the replies that reach them and their timers are events of the one queue, and what they ask
//! for through their context becomes trace records and new events. A world built with
//! [`World::new`] has no clients and runs exactly as it did before clients existed: no client
//! event is queued, no client stream is drawn from, no record is added.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};

use crate::node::{
    Client, ClientCtx, ClientEffect, ClientId, ClientRequest, Completion, Ctx, DiskOf, DiskWrite,
    Effect, LocalNanos, Nanos, NodeId, Observation, Protocol, Reply, RequestId, Rng, Stream,
};

use super::clients::{ClientLinks, ClientSlot, ClientTimer, Direction, NoClients};
use super::clock::Clock;
use super::cluster::{Cluster, NodeStatus};
use super::fault::{FaultRecord, FaultSpec};
use super::network::{Fate, LinkModel, Network};
use super::panic_point::{self, PanicPoint};
use super::queue::EventQueue;
use super::timing::{NodeTiming, Timing};
use super::trace::{DropReason, Event, Observer, Tracer};
use super::wire::Wire;

mod enact;

/// Everything about a run that is not the protocol: who, for how long, over what network, with
/// which clocks and faults.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::world::{Clock, FaultAction, FaultSpec, LinkModel, Origin, Target, WorldSpec};
/// // Three nodes for 5 s; B crashes at 1 s.
/// let spec = WorldSpec {
///     seed: 1,
///     names: vec!["A".into(), "B".into(), "C".into()],
///     duration: 5_000 * MS,
///     max_events: 1_000_000,
///     link: LinkModel::default(),
///     clocks: vec![Clock::honest(); 3],
///     faults: vec![FaultSpec { at: 1_000 * MS, action: FaultAction::Crash(Target::Node(1)), lasting: None, origin: Origin::Schedule(0) }],
///     timing: Default::default(),
/// };
/// assert_eq!(spec.names.len(), spec.clocks.len(), "one clock per node");
/// ```
#[derive(Clone, Debug)]
pub struct WorldSpec {
    /// The run's seed: every random stream (network, nodes, faults, clients) derives from it, so
    /// the same spec and seed give the same trace.
    pub seed: u64,
    /// The nodes' names, by index (`A`, `B`, ...); their number is the cluster's size.
    pub names: Vec<String>,
    /// Virtual time the run lasts; events at or after it do not happen.
    pub duration: Nanos,
    /// A limit on trace records; reaching it ends the run with [`Outcome::EventLimit`].
    pub max_events: u64,
    /// How every node-to-node link behaves: latency, loss, duplication, reordering.
    pub link: LinkModel,
    /// One clock per node.
    pub clocks: Vec<Clock>,
    /// Scripted and nemesis faults together.
    pub faults: Vec<FaultSpec>,
    /// How long disk syncs, timers and processing take inside each node; the default takes no
    /// time (see [`Timing`]).
    pub timing: Timing,
}

/// How a run ended.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::protocols::raft::{Raft, RaftConfig};
/// use sim::world::{Outcome, World};
/// // Ten events are not enough for a second of Raft.
/// let mut spec = world_spec(3, 1, 1_000 * MS);
/// spec.max_events = 10;
/// let mut world: World<Raft, ()> = World::new(spec, RaftConfig::default(), ());
/// assert_eq!(world.run(), Outcome::EventLimit);
/// assert_eq!(world.stats().events, 10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Virtual time reached the scenario's duration.
    Completed,
    /// The event limit was reached first.
    EventLimit,
    /// A link held more messages in flight than [`World::limit_in_flight_per_link`] allows
    /// (node indices of the link's sender and receiver).
    InFlightLimit {
        /// The sending node's index.
        from: u32,
        /// The receiving node's index.
        to: u32,
    },
    /// The observer asked the run to stop ([`Observer::stop`]): one of its own limits.
    Stopped,
}

/// Counters of a run.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::protocols::raft::{Raft, RaftConfig};
/// use sim::world::World;
/// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
/// world.run();
/// let stats = world.stats();
/// // Every message copy is delivered, dropped or still in flight.
/// assert_eq!(stats.sent + stats.duplicated, stats.delivered + stats.dropped() + stats.in_flight);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Trace records.
    pub events: u64,
    /// Messages nodes handed to the network.
    pub sent: u64,
    /// Message copies that reached their receiver.
    pub delivered: u64,
    /// Messages the network lost.
    pub dropped_loss: u64,
    /// Messages dropped by a cut link.
    pub dropped_partition: u64,
    /// The receiver was down: crashed when the message arrived, or crashed while paused with
    /// the message held for it (`crashed_while_paused` in the trace).
    pub dropped_node_down: u64,
    /// Extra copies created by duplication.
    pub duplicated: u64,
    /// Timers that fired and were handled.
    pub timers_fired: u64,
    /// Messages still on the wire (or held for a paused node) when the run stopped.
    pub in_flight: u64,
    /// Requests and replies clients and nodes sent (counted apart from node messages).
    pub client_sent: u64,
    /// Requests and replies that arrived.
    pub client_delivered: u64,
    /// Requests and replies that were lost, cut, or met a crashed node.
    pub client_dropped: u64,
    /// Requests and replies still on their way when the run stopped.
    pub client_in_flight: u64,
}

impl Stats {
    /// Node messages dropped for any reason: loss, partition, or a receiver that was down.
    ///
    /// ```
    /// use sim::world::Stats;
    /// let stats = Stats { dropped_loss: 2, dropped_partition: 3, dropped_node_down: 1, ..Stats::default() };
    /// assert_eq!(stats.dropped(), 6);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.dropped_loss + self.dropped_partition + self.dropped_node_down
    }
}

/// An event waiting in the queue.
#[derive(Clone, Copy)]
enum Pending {
    Start(u32),
    /// The message itself waits on the [`Wire`], in `slot`.
    Deliver {
        from: u32,
        to: u32,
        id: u64,
        slot: u32,
    },
    Timer {
        node: u32,
        token: u64,
    },
    /// The n-th fault of the spec.
    Fault(u32),
    /// The end of the `for` of the n-th applied fault.
    End(u32),
    ClientStart(u32),
    /// A client's request on its way to a node; the request waits in `requests`, in `slot`.
    Request {
        client: u32,
        to: u32,
        id: u64,
        slot: u32,
    },
    /// A node's reply on its way to a client; it waits in `replies`, in `slot`.
    Reply {
        from: u32,
        client: u32,
        id: u64,
        slot: u32,
    },
    ClientTimer {
        client: u32,
        token: u64,
    },
    /// A test aid: the world panics here (see [`World::panic_at`]).
    Panic,
    /// The front of a node's outgoing queue leaves now, if its `token` is still there (a crash
    /// empties the queue).
    Outbox {
        node: u32,
        token: u64,
    },
}

/// A send or reply waiting in a node's outgoing queue for a sync or its processing delay.
enum Outgoing<P: Protocol> {
    Msg(u32, P::Msg),
    Reply(RequestId, Reply<P::Api>),
}

/// A pending timer. Its `deadline` on the node's clock is the truth; `due` is when its one live
/// queue entry (`token`) wakes up, which may be earlier: re-arming a timer for later only moves
/// the deadline, and the entry, on waking early, goes back to sleep until the deadline. So a
/// follower re-arming its election timer on every heartbeat adds nothing to the queue.
struct PendingTimer<T> {
    timer: T,
    token: u64,
    deadline: LocalNanos,
    due: Nanos,
}

/// A node as the world holds it.
struct Slot<P: Protocol> {
    /// `None` while crashed.
    state: Option<P>,
    /// What the node wrote to disk; `None` until its first write. Survives crashes.
    disk: Option<DiskOf<P>>,
    rng: Rng,
    timers: Vec<PendingTimer<P::Timer>>,
    /// Inputs held while paused, in arrival order.
    held: Vec<Pending>,
    /// Its disk, timer and processing draws, and when its disk and outgoing queue are free.
    timing: NodeTiming,
    /// Sends waiting to leave, in order, each with the token of its `Outbox` event.
    outbox: VecDeque<(u64, Outgoing<P>)>,
    /// With `[storage] lose_unsynced`: how to undo each write whose sync may not have ended,
    /// with the instant its sync ends, oldest first (syncs end in order on one disk).
    journal: VecDeque<(Nanos, Undo<P>)>,
    /// Turned traitor by a `byzantine` fault: for good, crashes and restarts included (a
    /// traitor general stays one).
    traitor: bool,
}

/// What undoes one disk write.
enum Undo<P: Protocol> {
    /// These writes, in order: the old state, the log cut back, or the records a truncation
    /// removed.
    Writes(Vec<DiskWrite<P::Durable, P::Record>>),
    /// The write was the node's first: it had no disk before.
    Unformat,
}

/// A simulated cluster: one protocol state machine per node, clients, a network, clocks and
/// faults, driven by one event queue in virtual time.
///
/// Nothing in it reads the wall clock or iterates a hash map: the same [`WorldSpec`] (and so
/// the same seed) gives the same records in the same order, and the same trace hash. Every
/// record goes to the observer `O`; `C` is the clients' type (none by default).
///
/// ```
/// # use schemars::JsonSchema;
/// # use serde::Deserialize;
/// # use sim::node::{Ctx, DiskOf, NodeId, Observation, Protocol, Role};
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
/// use sim::world::{Clock, LinkModel, Outcome, World, WorldSpec};
///
/// const MS: u64 = 1_000_000;
/// let spec = WorldSpec {
///     seed: 7,
///     names: vec!["A".into(), "B".into(), "C".into()],
///     duration: 500 * MS,
///     max_events: 100_000,
///     link: LinkModel::default(),
///     clocks: vec![Clock::honest(); 3],
///     faults: vec![],
///     timing: Default::default(),
/// };
/// let mut world: World<Hello, ()> = World::new(spec.clone(), Config::default(), ());
/// assert_eq!(world.run(), Outcome::Completed);
/// assert_eq!(world.stats().delivered, 4, "two greetings and two answers");
///
/// // The same seed replays the same run, record for record.
/// let mut again: World<Hello, ()> = World::new(spec, Config::default(), ());
/// again.run();
/// assert_eq!(world.trace_hash(), again.trace_hash());
/// ```
pub struct World<
    P: Protocol,
    O: Observer<P>,
    C: Client<Api = P::Api> = NoClients<<P as Protocol>::Api>,
> {
    config: P::Config,
    spec: WorldSpec,
    now: Nanos,
    queue: EventQueue<Pending>,
    wire: Wire<P::Msg>,
    slots: Vec<Slot<P>>,
    peers: Vec<Vec<NodeId>>,
    cluster: Cluster,
    net: Network,
    fault_rng: Rng,
    applied: Vec<FaultRecord>,
    tracer: Tracer<O>,
    stats: Stats,
    effects: Vec<Effect<P>>,
    /// Inputs a crash took from paused nodes, `(node, input)`, waiting to be dropped.
    lost: Vec<(u32, Pending)>,
    /// Unsynced disk writes a crash took, `(node, writes)`, waiting to be recorded.
    lost_writes: Vec<(u32, u64)>,
    next_msg: u64,
    next_token: u64,
    clients: Vec<C>,
    client_slots: Vec<ClientSlot<C::Timer>>,
    client_links: ClientLinks,
    requests: Wire<ClientRequest<P::Api>>,
    replies: Wire<(RequestId, Reply<P::Api>)>,
    client_effects: Vec<ClientEffect<C>>,
    /// Messages on the wire per link, `from * n + to` (held ones included): what
    /// `in_flight_limit` bounds.
    link_load: Vec<u64>,
    in_flight_limit: u64,
    /// The first link found over `in_flight_limit`.
    overloaded: Option<(u32, u32)>,
}

impl<P: Protocol, O: Observer<P>> World<P, O, NoClients<P::Api>> {
    /// A world of nodes only.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
    /// assert_eq!(world.now(), 0, "nothing has run yet");
    /// ```
    pub fn new(spec: WorldSpec, config: P::Config, observer: O) -> Self {
        World::with_clients(spec, config, observer, Vec::new())
    }
}

impl<P: Protocol, O: Observer<P>, C: Client<Api = P::Api>> World<P, O, C> {
    /// A world whose nodes serve `clients`; client `i` is `ClientId(i)`. Clients start at time
    /// zero, after the nodes.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClientId;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::workload::KvClient;
    /// use sim::world::World;
    /// // Two key-value clients against three Raft nodes for two seconds.
    /// let clients = vec![KvClient::new(ClientId(0), &kv_spec()), KvClient::new(ClientId(1), &kv_spec())];
    /// let mut world: World<Raft, (), KvClient> = World::with_clients(world_spec(3, 1, 2_000 * MS), RaftConfig::default(), (), clients);
    /// world.run();
    /// assert!(world.clients().iter().all(|c| !c.operations().is_empty()), "both clients ran operations");
    /// ```
    pub fn with_clients(spec: WorldSpec, config: P::Config, observer: O, clients: Vec<C>) -> Self {
        let n = spec.names.len();
        assert!(n > 0, "a world needs at least one node");
        assert_eq!(spec.clocks.len(), n, "one clock per node");
        let ids: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
        let peers: Vec<Vec<NodeId>> = ids
            .iter()
            .map(|me| ids.iter().copied().filter(|p| p != me).collect())
            .collect();
        let slots = ids
            .iter()
            .map(|&id| Slot {
                state: Some(P::new(id, &peers[id.index()], &config, None)),
                disk: None,
                rng: Rng::derive(spec.seed, Stream::Node(id.0)),
                timers: Vec::new(),
                held: Vec::new(),
                timing: NodeTiming::new(spec.seed, id),
                outbox: VecDeque::new(),
                journal: VecDeque::new(),
                traitor: false,
            })
            .collect();
        let mut queue = EventQueue::default();
        for node in 0..n as u32 {
            queue.push(0, Pending::Start(node));
        }
        queue.push_timetable(
            (spec.faults.iter().enumerate()).map(|(i, f)| (f.at, Pending::Fault(i as u32))),
        );
        for client in 0..clients.len() as u32 {
            queue.push(0, Pending::ClientStart(client));
        }
        World {
            client_links: ClientLinks::new(&spec.link, clients.len(), n, spec.seed),
            client_slots: (0..clients.len() as u32)
                .map(|i| ClientSlot::new(spec.seed, i))
                .collect(),
            clients,
            requests: Wire::default(),
            replies: Wire::default(),
            client_effects: Vec::new(),
            net: Network::new(spec.link.clone(), n, spec.seed),
            fault_rng: Rng::derive(spec.seed, Stream::Faults),
            cluster: Cluster::new(spec.names.clone(), spec.clocks.clone()),
            config,
            spec,
            now: 0,
            queue,
            wire: Wire::default(),
            slots,
            peers,
            applied: Vec::new(),
            tracer: Tracer {
                hasher: Default::default(),
                records: 0,
                observer,
            },
            stats: Stats::default(),
            effects: Vec::new(),
            lost: Vec::new(),
            lost_writes: Vec::new(),
            next_msg: 0,
            next_token: 0,
            link_load: vec![0; n * n],
            in_flight_limit: u64::MAX,
            overloaded: None,
        }
    }

    /// Ends the run with [`Outcome::InFlightLimit`] once a link holds more than `max` messages
    /// on the wire at once (none by default). A protocol that floods one link then stops with a
    /// named limit instead of growing the wire until memory runs out. Counting changes nothing
    /// in the trace.
    pub fn limit_in_flight_per_link(&mut self, max: u64) {
        self.in_flight_limit = max;
    }

    /// One more (or, `-1`, one fewer) message on the wire from `from` to `to`.
    #[inline]
    fn load(&mut self, from: u32, to: u32, more: bool) {
        let n = self.slots.len();
        let load = &mut self.link_load[from as usize * n + to as usize];
        if more {
            *load += 1;
            if *load > self.in_flight_limit && self.overloaded.is_none() {
                self.overloaded = Some((from, to));
            }
        } else {
            *load -= 1;
        }
    }

    /// Runs to the end of the scenario's duration, or to the event limit.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
    /// assert_eq!(world.run(), sim::world::Outcome::Completed);
    /// assert!(world.now() <= 1_000 * MS);
    /// ```
    pub fn run(&mut self) -> Outcome {
        self.noting_panics(|w| {
            let outcome = w.step_until(w.spec.duration);
            if outcome == Outcome::Completed {
                w.now = w.spec.duration;
                w.cluster.set_now(w.now);
            }
            w.tracer.observer.on_end(&w.cluster);
            outcome
        })
    }

    /// Runs `f` on the world; if it panics, notes where the world was (`PanicPoint`) and lets
    /// the panic go on. For work on a run's results after it ended (a checker reading the
    /// history): a panic there is then placed at the run's end.
    pub(crate) fn noting_panics<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> R {
        // Unwind safety: after a panic the world is only read (time, record count, hash).
        match panic::catch_unwind(AssertUnwindSafe(|| f(&mut *self))) {
            Ok(r) => r,
            Err(payload) => {
                panic_point::note(|| PanicPoint {
                    at: self.now,
                    events: self.tracer.records,
                    trace_hash: self.trace_hash(),
                });
                panic::resume_unwind(payload)
            }
        }
    }

    /// Runs every event due strictly before `until` (or until the event limit).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
    /// // Stop at 300 ms to look, then go on.
    /// world.run_until(300 * MS);
    /// assert!(world.now() < 300 * MS);
    /// let events = world.stats().events;
    /// world.run();
    /// assert!(world.stats().events > events);
    /// ```
    pub fn run_until(&mut self, until: Nanos) -> Outcome {
        self.noting_panics(|w| w.step_until(until))
    }

    fn step_until(&mut self, until: Nanos) -> Outcome {
        let until = until.min(self.spec.duration);
        while let Some((at, event)) = self.queue.pop_before(until) {
            debug_assert!(at >= self.now, "time never goes back");
            self.now = at;
            self.cluster.set_now(at);
            self.step(event);
            if self.tracer.records >= self.spec.max_events {
                return Outcome::EventLimit;
            }
            if let Some((from, to)) = self.overloaded {
                return Outcome::InFlightLimit { from, to };
            }
            if self.tracer.observer.stop() {
                return Outcome::Stopped;
            }
        }
        Outcome::Completed
    }

    /// Adds a fault to the schedule while the world runs, for a driver that decides what to do
    /// from what it saw (`sim experiment` crashes the leader once there is one). It must not lie
    /// in the past.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Applied, FaultAction, FaultSpec, Origin, Target, World};
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 2_000 * MS), RaftConfig::default(), ());
    /// world.run_until(1_000 * MS);
    /// world.schedule(FaultSpec { at: 1_000 * MS, action: FaultAction::Crash(Target::Leader), lasting: None, origin: Origin::Schedule(0) });
    /// world.run();
    /// assert!(matches!(world.faults()[0].applied, Applied::Crash { .. }), "the leader of the moment crashed");
    /// ```
    pub fn schedule(&mut self, fault: FaultSpec) {
        assert!(fault.at >= self.now, "a fault in the past");
        self.queue
            .push(fault.at, Pending::Fault(self.spec.faults.len() as u32));
        self.spec.faults.push(fault);
    }

    /// A test aid: the run panics when virtual time reaches `at`, as a protocol or checker bug
    /// would, so that whatever catches panics (sweeps, `sim run`) can be tested end to end. Its
    /// event joins the queue like any other, so events before `at` run exactly as without it.
    pub(crate) fn panic_at(&mut self, at: Nanos) {
        self.queue.push(at, Pending::Panic);
    }

    /// True time now.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
    /// world.run_until(250 * MS);
    /// assert!(world.now() < 250 * MS);
    /// ```
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The nodes as they are now: names, who is up, paused or crashed, what each clock reads.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
    /// assert_eq!(world.cluster().names(), ["A", "B", "C"]);
    /// ```
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// The run's counters so far; every message copy is delivered, dropped or in flight.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
    /// world.run();
    /// assert!(world.stats().timers_fired > 0);
    /// ```
    pub fn stats(&self) -> Stats {
        let stats = Stats {
            events: self.tracer.records,
            in_flight: self.wire.len() as u64,
            client_in_flight: (self.requests.len() + self.replies.len()) as u64,
            ..self.stats
        };
        debug_assert_eq!(
            stats.sent + stats.duplicated,
            stats.delivered + stats.dropped() + stats.in_flight,
            "every message copy is delivered, dropped or still in flight"
        );
        debug_assert_eq!(
            stats.client_sent,
            stats.client_delivered + stats.client_dropped + stats.client_in_flight,
            "every request and reply is delivered, dropped or still in flight"
        );
        stats
    }

    /// The trace hash so far, as printed.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// // The same spec gives the same trace, so the same hash.
    /// let hash = || {
    ///     let mut world: World<Raft, ()> = World::new(world_spec(3, 7, 500 * MS), RaftConfig::default(), ());
    ///     world.run();
    ///     world.trace_hash()
    /// };
    /// assert_eq!(hash(), hash());
    /// assert_eq!(hash().len(), 16);
    /// ```
    pub fn trace_hash(&self) -> String {
        self.tracer.hasher.hex()
    }

    /// The concrete fault schedule so far.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Applied, FaultAction, FaultSpec, Origin, Target, World};
    /// let mut spec = world_spec(3, 1, 1_000 * MS);
    /// spec.faults.push(FaultSpec { at: 500 * MS, action: FaultAction::Crash(Target::Node(2)), lasting: None, origin: Origin::Schedule(0) });
    /// let mut world: World<Raft, ()> = World::new(spec, RaftConfig::default(), ());
    /// world.run();
    /// assert_eq!(world.faults()[0].applied, Applied::Crash { nodes: vec![2] });
    /// ```
    pub fn faults(&self) -> &[FaultRecord] {
        &self.applied
    }

    /// The observer, to read what it gathered so far.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Cluster, Observer, Record, World};
    /// struct Count(u64);
    /// impl Observer<Raft> for Count {
    ///     fn on_record(&mut self, _: &Record<'_, Raft>, _: &Cluster) { self.0 += 1; }
    /// }
    /// let mut world = World::new(world_spec(3, 1, 200 * MS), RaftConfig::default(), Count(0));
    /// world.run();
    /// assert_eq!(world.observer().0, world.stats().events);
    /// ```
    pub fn observer(&self) -> &O {
        &self.tracer.observer
    }

    /// The observer, to change or drain it between steps of `run_until`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Cluster, Observer, Record, World};
    /// struct Count(u64);
    /// impl Observer<Raft> for Count {
    ///     fn on_record(&mut self, _: &Record<'_, Raft>, _: &Cluster) { self.0 += 1; }
    /// }
    /// let mut world = World::new(world_spec(3, 1, 400 * MS), RaftConfig::default(), Count(0));
    /// world.run_until(200 * MS);
    /// world.observer_mut().0 = 0; // count only the second half
    /// world.run();
    /// assert!(world.observer().0 < world.stats().events);
    /// ```
    pub fn observer_mut(&mut self) -> &mut O {
        &mut self.tracer.observer
    }

    /// Ends the world and hands back its observer, with everything it gathered.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Cluster, Observer, Record, World};
    /// struct Count(u64);
    /// impl Observer<Raft> for Count {
    ///     fn on_record(&mut self, _: &Record<'_, Raft>, _: &Cluster) { self.0 += 1; }
    /// }
    /// let mut world = World::new(world_spec(3, 1, 200 * MS), RaftConfig::default(), Count(0));
    /// world.run();
    /// let events = world.stats().events;
    /// assert_eq!(world.into_observer().0, events);
    /// ```
    pub fn into_observer(self) -> O {
        self.tracer.observer
    }

    /// A node's protocol state (`None` while crashed), for tests and reports.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{FaultAction, FaultSpec, Origin, Target, World};
    /// let mut spec = world_spec(3, 1, 1_000 * MS);
    /// spec.faults.push(FaultSpec { at: 500 * MS, action: FaultAction::Crash(Target::Node(2)), lasting: None, origin: Origin::Schedule(0) });
    /// let mut world: World<Raft, ()> = World::new(spec, RaftConfig::default(), ());
    /// world.run();
    /// assert!(world.node(0).is_some() && world.node(2).is_none(), "C is crashed");
    /// ```
    pub fn node(&self, node: u32) -> Option<&P> {
        self.slots[node as usize].state.as_ref()
    }

    /// The spec the world was built from.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
    /// assert_eq!(world.spec().duration, 1_000 * MS);
    /// ```
    pub fn spec(&self) -> &WorldSpec {
        &self.spec
    }

    /// The clients, in id order: what they recorded is theirs to give.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::World;
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), ());
    /// assert!(world.clients().is_empty());
    /// ```
    pub fn clients(&self) -> &[C] {
        &self.clients
    }

    /// Takes the clients out of a world that is done with them (their records are then moved
    /// instead of copied); the world has none afterwards.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClientId;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::workload::KvClient;
    /// use sim::world::World;
    /// let clients = vec![KvClient::new(ClientId(0), &kv_spec())];
    /// let mut world: World<Raft, (), KvClient> = World::with_clients(world_spec(3, 1, 1_000 * MS), RaftConfig::default(), (), clients);
    /// world.run();
    /// let taken = world.take_clients();
    /// assert_eq!((taken.len(), world.clients().len()), (1, 0));
    /// ```
    pub fn take_clients(&mut self) -> Vec<C> {
        std::mem::take(&mut self.clients)
    }

    fn step(&mut self, event: Pending) {
        match event {
            Pending::Start(node) => self.start(node, false),
            Pending::Deliver { from, to, id, slot } => self.deliver(from, to, id, slot),
            Pending::Timer { node, token } => self.fire(node, token),
            Pending::Fault(index) => self.fault(index),
            Pending::End(index) => self.end_fault(index),
            Pending::ClientStart(client) => self.call_client(client, |c, ctx| c.on_start(ctx)),
            Pending::Request {
                client,
                to,
                id,
                slot,
            } => self.deliver_request(client, to, id, slot),
            Pending::Reply {
                from,
                client,
                id,
                slot,
            } => self.deliver_reply(from, client, id, slot),
            Pending::ClientTimer { client, token } => self.fire_client(client, token),
            Pending::Outbox { node, token } => self.leave(node, token),
            Pending::Panic => panic!(
                "a deliberate panic at {} of virtual time (the test aid --panic-at)",
                crate::node::format_duration(self.now)
            ),
        }
    }

    fn start(&mut self, node: u32, restart: bool) {
        if restart {
            let slot = &mut self.slots[node as usize];
            slot.state = Some(P::new(
                NodeId(node),
                &self.peers[node as usize],
                &self.config,
                slot.disk.as_ref(),
            ));
        }
        self.tracer
            .emit::<P>(self.now, &self.cluster, Event::Start { node, restart });
        self.call(node, |p, ctx| p.on_start(ctx));
    }

    fn deliver(&mut self, from: u32, to: u32, id: u64, slot: u32) {
        let reason = match self.cluster.status(to) {
            NodeStatus::Crashed => Some(DropReason::NodeDown),
            _ if self.net.cuts.is_cut(from, to) => Some(DropReason::Partition),
            NodeStatus::Paused => {
                self.slots[to as usize]
                    .held
                    .push(Pending::Deliver { from, to, id, slot });
                return;
            }
            NodeStatus::Up => None,
        };
        let msg = self.wire.take(slot);
        self.load(from, to, false);
        if let Some(reason) = reason {
            self.drop_message(from, to, id, reason);
            return;
        }
        self.stats.delivered += 1;
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::Deliver {
                from,
                to,
                id,
                msg: &msg,
            },
        );
        self.call(to, |p, ctx| p.on_message(ctx, NodeId(from), msg));
    }

    fn drop_message(&mut self, from: u32, to: u32, id: u64, reason: DropReason) {
        match reason {
            DropReason::Loss => self.stats.dropped_loss += 1,
            DropReason::Partition => self.stats.dropped_partition += 1,
            DropReason::NodeDown | DropReason::CrashedWhilePaused => {
                self.stats.dropped_node_down += 1
            }
        }
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::Drop {
                from,
                to,
                id,
                reason,
            },
        );
    }

    fn fire(&mut self, node: u32, token: u64) {
        let slot = &mut self.slots[node as usize];
        let Some(pos) = slot.timers.iter().position(|t| t.token == token) else {
            return; // cancelled, replaced, re-planned or cleared by a crash
        };
        let pending = &mut slot.timers[pos];
        let target = self
            .cluster
            .monotonic_clock(node)
            .true_time_of(pending.deadline, self.now);
        if target > self.now {
            // Re-armed for later since this entry was queued: sleep until the new deadline.
            pending.due = target;
            self.queue.push(target, Pending::Timer { node, token });
            return;
        }
        if self.cluster.status(node) == NodeStatus::Paused {
            slot.held.push(Pending::Timer { node, token });
            return;
        }
        let timer = slot.timers.swap_remove(pos).timer;
        self.stats.timers_fired += 1;
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::Timer {
                node,
                timer: &timer,
            },
        );
        self.call(node, |p, ctx| p.on_timer(ctx, timer));
    }

    /// Runs one handler of a running node, then carries out its effects in order.
    fn call(&mut self, node: u32, handler: impl FnOnce(&mut P, &mut Ctx<'_, P>)) {
        let local = self.cluster.local_time(node);
        let monotonic = self.cluster.monotonic_time(node);
        let mut effects = std::mem::take(&mut self.effects);
        {
            let slot = &mut self.slots[node as usize];
            let state = slot
                .state
                .as_mut()
                .expect("the world calls only running nodes");
            let mut ctx = Ctx::new(
                NodeId(node),
                &self.peers[node as usize],
                local,
                monotonic,
                &mut slot.rng,
                &mut effects,
            )
            .with_disk(slot.disk.as_ref())
            .with_traitor(slot.traitor);
            handler(state, &mut ctx);
        }
        if self.spec.timing.is_instant() {
            for effect in effects.drain(..) {
                self.apply(node, monotonic, effect);
            }
        } else {
            self.apply_timed(node, monotonic, &mut effects);
        }
        self.effects = effects;
    }

    /// [`Self::apply`] with time inside the node (`world/timing.rs`): sends wait for the
    /// handler's processing delay and for the sync of every write asked for before them, and
    /// leave in order through the node's outgoing queue.
    fn apply_timed(&mut self, node: u32, monotonic: LocalNanos, effects: &mut Vec<Effect<P>>) {
        let timing = self.spec.timing.clone();
        let timing = &timing;
        let n = node as usize;
        // When this handler's sends may leave: after its processing, then after each sync.
        let mut ready: Option<Nanos> = None;
        let mut unsynced = false;
        // With `lose_unsynced`: the undo of each write of this handler, until its sync's end is
        // known; and the writes whose sync has ended are durable for good.
        let mut batch: Vec<Undo<P>> = Vec::new();
        if timing.lose_unsynced {
            let journal = &mut self.slots[n].journal;
            while journal.front().is_some_and(|(done, _)| *done <= self.now) {
                journal.pop_front();
            }
        }
        for effect in effects.drain(..) {
            let outgoing = match effect {
                Effect::Persist(write) => {
                    unsynced = true;
                    if timing.lose_unsynced {
                        batch.push(undo_of(self.slots[n].disk.as_ref(), &write));
                    }
                    self.apply(node, monotonic, Effect::Persist(write));
                    continue;
                }
                Effect::Send { to, msg } => Outgoing::Msg(to.0, msg),
                Effect::Reply { request, reply } => Outgoing::Reply(request, reply),
                effect => {
                    self.apply(node, monotonic, effect);
                    continue;
                }
            };
            let slot = &mut self.slots[n];
            let mut at = *ready
                .get_or_insert_with(|| self.now.saturating_add(slot.timing.processing(timing)));
            if unsynced {
                unsynced = false;
                at = slot.timing.sync(timing, at);
                ready = Some(at);
                slot.journal.extend(batch.drain(..).map(|u| (at, u)));
            }
            let at = at.max(slot.timing.out_free);
            if at == self.now && slot.outbox.is_empty() {
                self.send_outgoing(node, outgoing);
            } else {
                slot.timing.out_free = at;
                self.next_token += 1;
                slot.outbox.push_back((self.next_token, outgoing));
                let token = self.next_token;
                self.queue.push(at, Pending::Outbox { node, token });
            }
        }
        if unsynced {
            // Nothing waits for it, but the disk is busy until it ends.
            let at = ready.unwrap_or(self.now);
            let slot = &mut self.slots[n];
            let done = slot.timing.sync(timing, at);
            slot.journal.extend(batch.drain(..).map(|u| (done, u)));
        }
        debug_assert!(batch.is_empty(), "every write's undo waits for its sync");
    }

    /// A waiting send's time has come: it leaves now, unless a crash took it.
    fn leave(&mut self, node: u32, token: u64) {
        let slot = &mut self.slots[node as usize];
        // Lost in a crash: the crash emptied the outbox, and tokens only grow.
        if slot.outbox.front().is_none_or(|(t, _)| *t > token) {
            return;
        }
        // Held before the order check: while a node is paused, every waiting send of its
        // queue comes due and must wait for the resume, not only the first. (Checking the order
        // first dropped the second one's event, and the send, and every later one queued behind
        // it, stayed in the outbox for good: a node that never spoke again.)
        if self.cluster.status(node) == NodeStatus::Paused {
            slot.held.push(Pending::Outbox { node, token });
            return;
        }
        debug_assert_eq!(
            slot.outbox.front().map(|(t, _)| *t),
            Some(token),
            "a node's sends leave in the order it asked for them"
        );
        let (_, outgoing) = slot.outbox.pop_front().expect("checked above");
        self.send_outgoing(node, outgoing);
    }

    fn send_outgoing(&mut self, node: u32, outgoing: Outgoing<P>) {
        match outgoing {
            Outgoing::Msg(to, msg) => self.send(node, to, msg),
            Outgoing::Reply(request, reply) => self.send_reply(node, request, reply),
        }
    }

    /// `monotonic`: what the node's monotonic clock read when the handler ran; timers count
    /// from it.
    fn apply(&mut self, node: u32, monotonic: LocalNanos, effect: Effect<P>) {
        match effect {
            Effect::Send { to, msg } => self.send(node, to.0, msg),
            Effect::SetTimer { timer, after } => {
                let slot = &mut self.slots[node as usize];
                let after = after.saturating_add(slot.timing.timer_jitter(&self.spec.timing));
                let deadline = monotonic.saturating_add(i64::try_from(after).unwrap_or(i64::MAX));
                let at = self
                    .cluster
                    .monotonic_clock(node)
                    .true_time_of(deadline, self.now);
                let timers = &mut self.slots[node as usize].timers;
                let token = match timers.iter_mut().find(|t| t.timer == timer) {
                    // Its queue entry wakes first and will wait for the new deadline.
                    Some(t) if t.due <= at => {
                        t.deadline = deadline;
                        return;
                    }
                    Some(t) => {
                        self.next_token += 1;
                        *t = PendingTimer {
                            timer,
                            token: self.next_token,
                            deadline,
                            due: at,
                        };
                        self.next_token
                    }
                    None => {
                        self.next_token += 1;
                        let token = self.next_token;
                        timers.push(PendingTimer {
                            timer,
                            token,
                            deadline,
                            due: at,
                        });
                        token
                    }
                };
                self.queue.push(at, Pending::Timer { node, token });
            }
            Effect::CancelTimer { timer } => {
                self.slots[node as usize]
                    .timers
                    .retain(|t| t.timer != timer);
            }
            Effect::Observe(obs) => {
                if let Observation::Role { role, term } = obs {
                    self.cluster.set_role(node, role, term);
                }
                self.tracer
                    .emit::<P>(self.now, &self.cluster, Event::Observe { node, obs: &obs });
            }
            Effect::Fact(fact) => {
                self.tracer
                    .emit::<P>(self.now, &self.cluster, Event::Fact { node, fact: &fact });
            }
            Effect::Persist(write) => self.slots[node as usize]
                .disk
                .get_or_insert_with(Default::default)
                .apply(write),
            Effect::Reply { request, reply } => self.send_reply(node, request, reply),
        }
    }

    fn send(&mut self, from: u32, to: u32, msg: P::Msg) {
        assert!(
            (to as usize) < self.slots.len(),
            "{} sent to node #{to}, which does not exist",
            self.cluster.name(from)
        );
        let id = self.next_msg;
        self.next_msg += 1;
        self.stats.sent += 1;
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::Send {
                from,
                to,
                id,
                msg: &msg,
            },
        );
        match self.net.send(from, to, self.now) {
            Fate::Lost => self.drop_message(from, to, id, DropReason::Loss),
            Fate::Cut => self.drop_message(from, to, id, DropReason::Partition),
            Fate::Arrive(at) => {
                let slot = self.wire.put(msg);
                self.load(from, to, true);
                self.queue.push(at, Pending::Deliver { from, to, id, slot });
            }
            Fate::Twice(first, second) => {
                self.stats.duplicated += 1;
                let slot = self.wire.put(msg.clone());
                self.load(from, to, true);
                self.queue
                    .push(first, Pending::Deliver { from, to, id, slot });
                let slot = self.wire.put(msg);
                self.load(from, to, true);
                self.queue
                    .push(second, Pending::Deliver { from, to, id, slot });
            }
        }
    }

    // ---- clients -----------------------------------------------------------------------------

    /// Runs one handler of a client, then carries out its effects in order.
    #[inline(never)]
    fn call_client(&mut self, client: u32, handler: impl FnOnce(&mut C, &mut ClientCtx<'_, C>)) {
        let mut effects = std::mem::take(&mut self.client_effects);
        {
            let mut ctx = ClientCtx::new(
                ClientId(client),
                self.slots.len() as u32,
                self.now,
                &mut self.client_slots[client as usize].rng,
                &mut effects,
            );
            handler(&mut self.clients[client as usize], &mut ctx);
        }
        for effect in effects.drain(..) {
            self.apply_client(client, effect);
        }
        self.client_effects = effects;
    }

    fn apply_client(&mut self, client: u32, effect: ClientEffect<C>) {
        match effect {
            ClientEffect::Send { to, request } => self.send_request(client, to.0, request),
            ClientEffect::SetTimer { timer, after } => {
                self.next_token += 1;
                let token = self.next_token;
                let timers = &mut self.client_slots[client as usize].timers;
                match timers.iter_mut().find(|t| t.timer == timer) {
                    // The replaced entry finds its token gone when it wakes.
                    Some(t) => t.token = token,
                    None => timers.push(ClientTimer { timer, token }),
                }
                self.queue.push(
                    self.now.saturating_add(after),
                    Pending::ClientTimer { client, token },
                );
            }
            ClientEffect::CancelTimer { timer } => {
                self.client_slots[client as usize]
                    .timers
                    .retain(|t| t.timer != timer);
            }
            ClientEffect::Invoke { request } => {
                debug_assert_eq!(request.id.client, ClientId(client));
                self.tracer.emit::<P>(
                    self.now,
                    &self.cluster,
                    Event::Invoke {
                        client,
                        request: &request,
                    },
                );
            }
            ClientEffect::Complete {
                request,
                completion,
            } => self.complete(client, request, &completion),
        }
    }

    fn complete(&mut self, client: u32, request: RequestId, completion: &Completion<P::Api>) {
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::Complete {
                client,
                seq: request.seq,
                completion,
            },
        );
    }

    #[inline(never)]
    fn send_request(&mut self, client: u32, to: u32, request: ClientRequest<P::Api>) {
        assert!(
            (to as usize) < self.slots.len(),
            "client c{client} sent to node #{to}, which does not exist"
        );
        let id = self.next_msg;
        self.next_msg += 1;
        self.stats.client_sent += 1;
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::Request {
                client,
                to,
                id,
                request: &request,
            },
        );
        match self
            .client_links
            .send(client, to, Direction::ToNode, self.now)
        {
            None => self.drop_client_message(client, to, id, true, DropReason::Loss),
            Some(at) => {
                let slot = self.requests.put(request);
                self.queue.push(
                    at,
                    Pending::Request {
                        client,
                        to,
                        id,
                        slot,
                    },
                );
            }
        }
    }

    #[inline(never)]
    fn deliver_request(&mut self, client: u32, to: u32, id: u64, slot: u32) {
        match self.cluster.status(to) {
            NodeStatus::Crashed => {
                drop(self.requests.take(slot));
                self.drop_client_message(client, to, id, true, DropReason::NodeDown);
            }
            NodeStatus::Paused => {
                self.slots[to as usize].held.push(Pending::Request {
                    client,
                    to,
                    id,
                    slot,
                });
            }
            NodeStatus::Up => {
                let request = self.requests.take(slot);
                self.stats.client_delivered += 1;
                self.tracer.emit::<P>(
                    self.now,
                    &self.cluster,
                    Event::RequestDeliver { client, to, id },
                );
                self.call(to, |p, ctx| p.on_request(ctx, request));
            }
        }
    }

    /// A node's answer. One addressed to a client that does not exist goes nowhere: only a
    /// protocol bug can make one, since requests come from clients.
    #[inline(never)]
    fn send_reply(&mut self, from: u32, request: RequestId, reply: Reply<P::Api>) {
        let client = request.client.0;
        if client as usize >= self.clients.len() {
            return;
        }
        let id = self.next_msg;
        self.next_msg += 1;
        self.stats.client_sent += 1;
        let answer = (request, reply);
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::Reply {
                from,
                client,
                id,
                answer: &answer,
            },
        );
        match self
            .client_links
            .send(client, from, Direction::ToClient, self.now)
        {
            None => self.drop_client_message(client, from, id, false, DropReason::Loss),
            Some(at) => {
                let slot = self.replies.put(answer);
                self.queue.push(
                    at,
                    Pending::Reply {
                        from,
                        client,
                        id,
                        slot,
                    },
                );
            }
        }
    }

    #[inline(never)]
    fn deliver_reply(&mut self, from: u32, client: u32, id: u64, slot: u32) {
        let (request, reply) = self.replies.take(slot);
        self.stats.client_delivered += 1;
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::ReplyDeliver { from, client, id },
        );
        self.call_client(client, |c, ctx| {
            c.on_reply(ctx, NodeId(from), request, reply)
        });
    }

    fn drop_client_message(
        &mut self,
        client: u32,
        node: u32,
        id: u64,
        to_node: bool,
        reason: DropReason,
    ) {
        self.stats.client_dropped += 1;
        self.tracer.emit::<P>(
            self.now,
            &self.cluster,
            Event::ClientDrop {
                client,
                node,
                id,
                to_node,
                reason,
            },
        );
    }

    /// Client timers are not trace records: what a client does when one fires (resend, give
    /// up, begin the next operation) is.
    #[inline(never)]
    fn fire_client(&mut self, client: u32, token: u64) {
        let timers = &mut self.client_slots[client as usize].timers;
        let Some(pos) = timers.iter().position(|t| t.token == token) else {
            return; // cancelled or replaced
        };
        let timer = timers.swap_remove(pos).timer;
        self.call_client(client, |c, ctx| c.on_timer(ctx, timer));
    }
}

/// What undoes `write` on `disk` (the node's disk before it).
fn undo_of<P: Protocol>(
    disk: Option<&DiskOf<P>>,
    write: &DiskWrite<P::Durable, P::Record>,
) -> Undo<P> {
    let Some(disk) = disk else {
        return Undo::Unformat;
    };
    Undo::Writes(match write {
        DiskWrite::State(_) => vec![DiskWrite::State(disk.state.clone())],
        DiskWrite::Append(_) => vec![DiskWrite::Truncate(disk.log.len() as u64)],
        DiskWrite::Truncate(len) => disk.log[(*len as usize).min(disk.log.len())..]
            .iter()
            .cloned()
            .map(DiskWrite::Append)
            .collect(),
    })
}
