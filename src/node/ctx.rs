//! `Ctx`: everything a protocol may do, recorded as effects the world carries out in order.
//!
//! Effects are applied after the handler returns, in the order they were requested, so
//! "persist before send" holds exactly as written, and a handler is atomic: a crash can only
//! fall between two handlers.

use super::{
    ClockKind, DiskOf, DiskWrite, LocalNanos, Nanos, NodeId, Observation, Protocol, Reply,
    RequestId, Rng,
};

/// One thing a handler asked the world to do.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Effect, Observation, Role};
///
/// // What node 0 of Tiny asks for as it starts: the world carries these out in this order.
/// let effects = step(&mut node(0), 3, 0, |n, ctx| n.on_start(ctx));
/// assert!(matches!(effects[0], Effect::Observe(Observation::Role { role: Role::Leader, term: 1 })));
/// assert!(matches!(effects[1], Effect::SetTimer { timer: Timer::Ping, after } if after == 100 * MS));
/// assert_eq!(effects.len(), 2);
/// ```
#[derive(Debug)]
pub enum Effect<P: Protocol> {
    /// Send `msg` to node `to`.
    Send {
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: P::Msg,
    },
    /// Fire `timer` once `after` nanoseconds pass on the node's monotonic clock.
    SetTimer {
        /// The timer's name; a pending one of that name is replaced.
        timer: P::Timer,
        /// How long from now, on the monotonic clock.
        after: Nanos,
    },
    /// Cancel the pending timer of this name, if any.
    CancelTimer {
        /// The timer's name.
        timer: P::Timer,
    },
    /// A common fact, for the checkers.
    Observe(Observation),
    /// One of the protocol's own facts.
    Fact(P::Fact),
    /// A write to the node's disk (see [`super::durable`]).
    Persist(DiskWrite<P::Durable, P::Record>),
    /// An answer to a client's request, sent back over the network.
    Reply {
        /// The request answered.
        request: RequestId,
        /// The answer.
        reply: Reply<P::Api>,
    },
}

/// The context a handler runs in: its identity, its clock, its randomness and its outbox.
///
/// Every call only records an [`Effect`]; the world carries them out after the handler returns,
/// in order. A protocol's unit test can build a `Ctx` by hand, call a handler and read what it
/// asked for:
///
/// ```
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
/// use sim::node::{
///     Ctx, DiskOf, DiskWrite, Effect, NodeId, Observation, Protocol, Rng, Role, Stream,
/// };
///
/// /// Counts ticks; persists the count, tells node 1, and states it as a fact.
/// struct Counter(u64);
///
/// #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
/// struct Config {}
///
/// #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
/// enum Timer {
///     Tick,
/// }
///
/// impl Protocol for Counter {
///     const NAME: &'static str = "counter";
///     const SUMMARY: &'static str = "counts ticks";
///     type Msg = u64;
///     type Timer = Timer;
///     type Config = Config;
///     type Durable = u64;
///     type Api = sim::node::Kv;
///     type Fact = u64;
///     type Record = ();
///     fn new(_: NodeId, _: &[NodeId], _: &Config, disk: Option<&DiskOf<Self>>) -> Self {
///         Counter(disk.map_or(0, |d| d.state))
///     }
///     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
///         ctx.observe(Observation::Role { role: Role::Follower, term: 0 });
///         ctx.set_timer(1_000_000, Timer::Tick);
///     }
///     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u64) {}
///     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, Timer::Tick: Timer) {
///         self.0 += 1;
///         ctx.persist(self.0); // on disk before the send below leaves
///         ctx.send(NodeId(1), self.0);
///         ctx.fact(self.0);
///         ctx.set_timer(1_000_000, Timer::Tick);
///     }
/// }
///
/// let peers = [NodeId(1)];
/// let mut rng = Rng::derive(7, Stream::Node(0));
/// let mut effects = Vec::new();
/// let mut ctx = Ctx::new(NodeId(0), &peers, 5_000_000, 5_000_000, &mut rng, &mut effects);
/// let mut node = Counter(41);
/// node.on_timer(&mut ctx, Timer::Tick);
///
/// assert_eq!(effects.len(), 4);
/// assert!(matches!(effects[0], Effect::Persist(DiskWrite::State(42))));
/// assert!(matches!(effects[1], Effect::Send { to: NodeId(1), msg: 42 }));
/// assert!(matches!(effects[2], Effect::Fact(42)));
/// assert!(matches!(effects[3], Effect::SetTimer { timer: Timer::Tick, after: 1_000_000 }));
/// ```
pub struct Ctx<'a, P: Protocol> {
    id: NodeId,
    peers: &'a [NodeId],
    now: LocalNanos,
    monotonic: LocalNanos,
    rng: &'a mut Rng,
    effects: &'a mut Vec<Effect<P>>,
    /// The durable log's records that this handler has not cut off: the disk's log when the
    /// handler began, shortened by each truncation below its end.
    untouched: &'a [P::Record],
    /// The durable log's length once the writes asked for so far are carried out.
    log_len: u64,
    /// Whether a `byzantine` fault has turned this node traitor.
    traitor: bool,
}

impl<'a, P: Protocol> Ctx<'a, P> {
    /// Built by the world for each handler call (and by protocol unit tests), with what the
    /// node's wall clock (`now`) and monotonic clock read.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{Ctx, Effect, NodeId, Rng, Stream};
    ///
    /// // Drive Tiny's node 0 by hand: start it, then read what it asked for.
    /// let peers = [NodeId(1), NodeId(2)];
    /// let mut rng = Rng::derive(1, Stream::Node(0));
    /// let mut effects: Vec<Effect<Tiny>> = Vec::new();
    /// let mut ctx = Ctx::new(NodeId(0), &peers, 0, 0, &mut rng, &mut effects);
    /// let mut n0 = node(0);
    /// n0.on_start(&mut ctx);
    /// assert_eq!(effects.len(), 2, "a role and a timer");
    /// ```
    pub fn new(
        id: NodeId,
        peers: &'a [NodeId],
        now: LocalNanos,
        monotonic: LocalNanos,
        rng: &'a mut Rng,
        effects: &'a mut Vec<Effect<P>>,
    ) -> Self {
        Ctx {
            id,
            peers,
            now,
            monotonic,
            rng,
            effects,
            untouched: &[],
            log_len: 0,
            traitor: false,
        }
    }

    /// Marks the node a traitor (the world does so once a `byzantine` fault has turned it; a
    /// test that drives a traitor by hand does the same).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{Ctx, Effect, NodeId, Rng, Stream};
    /// let (mut rng, mut effects) = (Rng::derive(1, Stream::Node(0)), Vec::<Effect<Tiny>>::new());
    /// let ctx = Ctx::new(NodeId(0), &[NodeId(1)], 0, 0, &mut rng, &mut effects).with_traitor(true);
    /// assert!(ctx.is_traitor());
    /// ```
    pub fn with_traitor(mut self, traitor: bool) -> Self {
        self.traitor = traitor;
        self
    }

    /// Whether this node is a traitor: a `byzantine` fault named it. Only a protocol that
    /// models traitors (`Protocol::TRAITORS`) reads it: what a traitor sends is the protocol's
    /// to say (its lies drawn from [`Self::rng`], so a run stays a function of its seed), and
    /// every other protocol refuses a scenario with a `byzantine` fault.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// step(&mut node(0), 3, 0, |_, ctx| assert!(!ctx.is_traitor(), "loyal until a fault says not"));
    /// ```
    pub fn is_traitor(&self) -> bool {
        self.traitor
    }

    /// The node's disk as the handler begins (`None`: nothing was ever written). The world
    /// always gives it; a test that drives a protocol by hand gives it if the protocol checks
    /// its log against the disk.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{Disk, Effect, NodeId, Rng, Stream};
    ///
    /// // Node 0 restarts with two records on disk, then cuts one.
    /// let disk = Disk { state: 7, log: vec![(), ()] };
    /// let (mut rng, mut effects) = (Rng::derive(1, Stream::Node(0)), Vec::<Effect<Tiny>>::new());
    /// let mut ctx = sim::node::Ctx::new(NodeId(0), &[NodeId(1)], 0, 0, &mut rng, &mut effects)
    ///     .with_disk(Some(&disk));
    /// assert_eq!(ctx.durable_log_len(), 2);
    /// ctx.log_truncate(1);
    /// assert_eq!(ctx.durable_log(), &[()]);
    /// ```
    pub fn with_disk(mut self, disk: Option<&'a DiskOf<P>>) -> Self {
        self.untouched = disk.map_or(&[], |d| &d.log[..]);
        self.log_len = self.untouched.len() as u64;
        self
    }

    /// This node.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::NodeId;
    /// step(&mut node(2), 3, 0, |_, ctx| assert_eq!(ctx.id(), NodeId(2)));
    /// ```
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Every other node of the cluster, in cluster order.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::NodeId;
    /// step(&mut node(1), 3, 0, |_, ctx| assert_eq!(ctx.peers(), [NodeId(0), NodeId(2)]));
    /// ```
    pub fn peers(&self) -> &[NodeId] {
        self.peers
    }

    /// The number of nodes in the cluster, this one included.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// step(&mut node(1), 3, 0, |_, ctx| assert_eq!(ctx.cluster_size(), 3));
    /// ```
    pub fn cluster_size(&self) -> usize {
        self.peers.len() + 1
    }

    /// The node's *wall* clock, the time of day: offset, drift and jumps applied. It can go
    /// backwards. Right for timestamps a human reads; wrong for measuring a duration.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// // `step` sets both clocks to the time it is given.
    /// step(&mut node(0), 3, 1_500 * MS as i64, |_, ctx| assert_eq!(ctx.now(), 1_500_000_000));
    /// ```
    pub fn now(&self) -> LocalNanos {
        self.now
    }

    /// The node's *monotonic* clock: it drifts with the node's oscillator (the wall clock's
    /// drift) but never jumps and never goes backwards; it read 0 when the run began. Right for
    /// measuring durations: leases, timeouts, how long ago something was heard.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// step(&mut node(0), 3, 42, |_, ctx| assert_eq!(ctx.monotonic(), 42));
    /// ```
    pub fn monotonic(&self) -> LocalNanos {
        self.monotonic
    }

    /// What the named clock reads.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClockKind;
    /// step(&mut node(0), 3, 9, |_, ctx| {
    ///     assert_eq!(ctx.clock(ClockKind::Wall), ctx.now());
    ///     assert_eq!(ctx.clock(ClockKind::Monotonic), ctx.monotonic());
    /// });
    /// ```
    pub fn clock(&self, kind: ClockKind) -> LocalNanos {
        match kind {
            ClockKind::Wall => self.now,
            ClockKind::Monotonic => self.monotonic,
        }
    }

    /// The node's own random stream (kept across crashes).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// // A node's draws come from its own seeded stream: the same seed, the same draws.
    /// let mut first = 0;
    /// step(&mut node(0), 3, 0, |_, ctx| first = ctx.rng().below(1_000));
    /// step(&mut node(0), 3, 0, |_, ctx| assert_eq!(ctx.rng().below(1_000), first));
    /// ```
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    /// Sends `msg` to node `to` (never to itself: a node changes its own state directly).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{Effect, NodeId};
    /// let effects = step(&mut node(0), 3, 0, |_, ctx| ctx.send(NodeId(2), 5));
    /// assert!(matches!(effects[..], [Effect::Send { to: NodeId(2), msg: 5 }]));
    /// ```
    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        debug_assert_ne!(
            to, self.id,
            "a node sends to itself only through its own state"
        );
        self.effects.push(Effect::Send { to, msg });
    }

    /// Sends `msg` to every peer, in cluster order.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{Effect, NodeId};
    /// // Tiny's node 0 pings every peer, in cluster order, when its timer fires.
    /// let effects = step(&mut node(0), 3, 0, |n, ctx| n.on_timer(ctx, Timer::Ping));
    /// assert!(matches!(effects[0], Effect::Send { to: NodeId(1), msg: 0 }));
    /// assert!(matches!(effects[1], Effect::Send { to: NodeId(2), msg: 0 }));
    /// ```
    pub fn broadcast(&mut self, msg: P::Msg) {
        for &to in self.peers {
            self.effects.push(Effect::Send {
                to,
                msg: msg.clone(),
            });
        }
    }

    /// Fires `timer` once `after` nanoseconds have passed on this node's *monotonic* clock, as
    /// a real timer (`timerfd` on `CLOCK_MONOTONIC`, a Tokio sleep) does: a drifting clock
    /// stretches or shrinks it, a wall-clock jump does not move it. A pending timer with the
    /// same name is replaced.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::Effect;
    /// let effects = step(&mut node(0), 3, 0, |_, ctx| ctx.set_timer(250 * MS, Timer::Ping));
    /// assert!(matches!(effects[..], [Effect::SetTimer { timer: Timer::Ping, after: 250_000_000 }]));
    /// ```
    pub fn set_timer(&mut self, after: Nanos, timer: P::Timer) {
        self.effects.push(Effect::SetTimer { timer, after });
    }

    /// Cancels the pending timer with this name, if any.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::Effect;
    /// let effects = step(&mut node(0), 3, 0, |_, ctx| ctx.cancel_timer(Timer::Ping));
    /// assert!(matches!(effects[..], [Effect::CancelTimer { timer: Timer::Ping }]));
    /// ```
    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }

    /// Replaces the node's small durable state; it is on disk before any later effect happens.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientId, ClientRequest, DiskWrite, Effect, Op, RequestId};
    /// // Tiny's node 0 persists its write count before it answers the write.
    /// let put = ClientRequest {
    ///     id: RequestId { client: ClientId(0), seq: 1 },
    ///     op: Op::Put { key: "x".into(), value: "1".into() },
    /// };
    /// let effects = step(&mut node(0), 3, 0, |n, ctx| n.on_request(ctx, put));
    /// assert!(matches!(effects[0], Effect::Persist(DiskWrite::State(1))));
    /// assert!(matches!(effects.last(), Some(Effect::Reply { .. })));
    /// ```
    pub fn persist(&mut self, state: P::Durable) {
        self.effects.push(Effect::Persist(DiskWrite::State(state)));
    }

    /// Adds `record` at the end of the node's durable log; on disk before any later effect.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{DiskWrite, Effect};
    /// let effects = step(&mut node(0), 3, 0, |_, ctx| {
    ///     ctx.log_append(());
    ///     assert_eq!(ctx.durable_log_len(), 1);
    /// });
    /// assert!(matches!(effects[..], [Effect::Persist(DiskWrite::Append(()))]));
    /// ```
    pub fn log_append(&mut self, record: P::Record) {
        self.log_len += 1;
        self.effects
            .push(Effect::Persist(DiskWrite::Append(record)));
    }

    /// Keeps the first `len` records of the durable log and deletes the rest; `len` is at most
    /// the log's length.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{DiskWrite, Effect};
    /// let effects = step(&mut node(0), 3, 0, |_, ctx| {
    ///     ctx.log_append(());
    ///     ctx.log_append(());
    ///     ctx.log_truncate(1);
    ///     assert_eq!(ctx.durable_log_len(), 1);
    /// });
    /// assert!(matches!(effects[2], Effect::Persist(DiskWrite::Truncate(1))));
    /// ```
    pub fn log_truncate(&mut self, len: u64) {
        debug_assert!(
            len <= self.log_len,
            "truncating a durable log of {} records to {len}",
            self.log_len
        );
        self.log_len = self.log_len.min(len);
        let keep = self.untouched.len().min(len as usize);
        self.untouched = &self.untouched[..keep];
        self.effects.push(Effect::Persist(DiskWrite::Truncate(len)));
    }

    /// The durable log's length once this handler's writes so far are carried out.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// step(&mut node(0), 3, 0, |_, ctx| {
    ///     assert_eq!(ctx.durable_log_len(), 0, "a fresh node's disk is empty");
    ///     ctx.log_append(());
    ///     assert_eq!(ctx.durable_log_len(), 1, "counts the appends asked for so far");
    /// });
    /// ```
    pub fn durable_log_len(&self) -> u64 {
        self.log_len
    }

    /// The records of the durable log that this handler has not rewritten, as they are on
    /// disk: a prefix of the log. Records appended by this handler are not in it. For
    /// assertions that a protocol's copy of its log agrees with its disk.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// step(&mut node(0), 3, 0, |_, ctx| {
    ///     ctx.log_append(());
    ///     assert!(ctx.durable_log().is_empty(), "this handler's own appends are not in it");
    /// });
    /// ```
    pub fn durable_log(&self) -> &[P::Record] {
        self.untouched
    }

    /// Answers a client's request. A node may answer later than the handler that received it
    /// (once the operation commits), or never (the client then times out).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientId, ClientRequest, Effect, NodeId, Op, Reply, RequestId};
    /// // Tiny's node 1 sends clients to node 0.
    /// let id = RequestId { client: ClientId(3), seq: 1 };
    /// let get = ClientRequest { id, op: Op::Get { key: "x".into() } };
    /// let effects = step(&mut node(1), 3, 0, |n, ctx| n.on_request(ctx, get));
    /// assert!(matches!(
    ///     &effects[..],
    ///     [Effect::Reply { request, reply: Reply::NotLeader { leader: Some(NodeId(0)) } }] if *request == id
    /// ));
    /// ```
    pub fn reply(&mut self, request: RequestId, reply: Reply<P::Api>) {
        self.effects.push(Effect::Reply { request, reply });
    }

    /// Reports a common fact to the checkers.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{Effect, Observation, Role};
    /// let effects = step(&mut node(1), 3, 0, |n, ctx| n.on_start(ctx));
    /// assert!(matches!(effects[..], [Effect::Observe(Observation::Role { role: Role::Follower, term: 1 })]));
    /// ```
    pub fn observe(&mut self, observation: Observation) {
        self.effects.push(Effect::Observe(observation));
    }

    /// States one of the protocol's own facts, for its own invariants (and the trace).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientId, ClientRequest, Effect, Op, RequestId};
    /// // Tiny's node 0 states `Wrote { n }` for its n-th write; its invariant `writes_counted` reads it.
    /// let mut n0 = node(0);
    /// for seq in 1..=2 {
    ///     let put = ClientRequest {
    ///         id: RequestId { client: ClientId(0), seq },
    ///         op: Op::Put { key: "x".into(), value: seq.to_string().into() },
    ///     };
    ///     let effects = step(&mut n0, 3, 0, |n, ctx| n.on_request(ctx, put));
    ///     assert!(effects.iter().any(|e| matches!(e, Effect::Fact(Wrote { n }) if *n == seq)));
    /// }
    /// ```
    pub fn fact(&mut self, fact: P::Fact) {
        self.effects.push(Effect::Fact(fact));
    }
}

/// Runs one handler outside any world and returns the effects it asked for, in order: how a
/// protocol's unit tests drive a node step by step and assert on what it did. Both clocks read
/// `now`: an honest clock that has never jumped.
#[cfg(test)]
pub(crate) fn step<P: Protocol>(
    state: &mut P,
    id: NodeId,
    peers: &[NodeId],
    now: LocalNanos,
    handler: impl FnOnce(&mut P, &mut Ctx<'_, P>),
) -> Vec<Effect<P>> {
    let mut rng = Rng::derive(0, super::Stream::Node(id.0));
    let mut effects = Vec::new();
    handler(
        state,
        &mut Ctx::new(id, peers, now, now, &mut rng, &mut effects),
    );
    effects
}
