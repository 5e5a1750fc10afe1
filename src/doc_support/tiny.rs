// Not a module of the crate: the tiny protocol, client and run view that the documentation's
// examples share. An example includes it on a hidden line,
//
//     /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
//
// so that each example shows only the call it documents while still running a real protocol.
// The path is absolute because rustdoc compiles the examples merged into one crate in a
// temporary directory, where a relative path finds nothing (and the merge would silently fall
// back to one compilation per example: minutes instead of seconds). Items are `pub(crate)`:
// they belong to the example's own crate.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim::node::history::{Call, Output, Value};
use sim::node::{
    Client, ClientCtx, ClientEffect, ClientId, ClientRequest, ClockKind, Completion, Ctx, DiskOf,
    Effect, Invariant, InvariantInfo, Kv, LocalNanos, Nanos, NodeId, NodeStatus, Observation, Op,
    OpResult, Property, Protocol, ProtocolInvariant, Reply, RequestId, Rng, Role, RunView, Status,
    Stream, Violation,
};
use sim::run::registry::Registry;
use sim::workload::closed_loop::Draw;
use sim::workload::{Mix, WorkloadSpec};

// The traits, so that an example calls their methods without importing them.
pub(crate) use sim::node::{Client as _, Invariant as _, Protocol as _, RunView as _};

/// One millisecond, in nanoseconds.
pub(crate) const MS: Nanos = 1_000_000;

/// A key-value store kept by node 0 alone: it serves every request, states a [`Wrote`] fact per
/// write, and pings the others every 100 ms; the others redirect clients to it.
pub(crate) struct Tiny {
    pub(crate) id: NodeId,
    pub(crate) store: BTreeMap<Arc<str>, Arc<str>>,
    pub(crate) writes: u64,
}

/// Tiny's `[protocol]` table: no keys of its own.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {}

/// Tiny's one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Timer {
    Ping,
}

/// Tiny's own fact: node 0 applied its `n`-th write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Wrote {
    pub(crate) n: u64,
}

impl Protocol for Tiny {
    const NAME: &'static str = "tiny";
    const SUMMARY: &'static str = "node 0 keeps the store; the others redirect to it";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["election_safety", "writes_counted"];
    type Msg = u64;
    type Timer = Timer;
    type Config = Config;
    type Durable = u64;
    type Api = Kv;
    type Fact = Wrote;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![ProtocolInvariant {
            info: InvariantInfo {
                name: "writes_counted",
                property: Property::Safety,
                definition: "Each write node 0 applies is numbered one more than the last.",
                bound: None,
            },
            build: |_nodes, _bound| Box::new(WritesCounted::default()),
        }]
    }

    fn new(id: NodeId, _: &[NodeId], _: &Config, disk: Option<&DiskOf<Self>>) -> Self {
        Tiny {
            id,
            store: BTreeMap::new(),
            writes: disk.map_or(0, |d| d.state),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() == NodeId(0) {
            ctx.observe(Observation::Role {
                role: Role::Leader,
                term: 1,
            });
            ctx.set_timer(100 * MS, Timer::Ping);
        } else {
            ctx.observe(Observation::Role {
                role: Role::Follower,
                term: 1,
            });
        }
    }

    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u64) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, Timer::Ping: Timer) {
        ctx.broadcast(self.writes);
        ctx.set_timer(100 * MS, Timer::Ping);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest<Kv>) {
        if ctx.id() != NodeId(0) {
            ctx.reply(
                request.id,
                Reply::NotLeader {
                    leader: Some(NodeId(0)),
                },
            );
            return;
        }
        let result = self.apply(&request.op);
        if request.op.is_write() {
            self.writes += 1;
            ctx.persist(self.writes);
            ctx.fact(Wrote { n: self.writes });
        }
        ctx.reply(request.id, Reply::Ok(result));
    }
}

impl Tiny {
    /// Applies one operation to the store.
    pub(crate) fn apply(&mut self, op: &Op) -> OpResult {
        match op {
            Op::Get { key } => OpResult::Value {
                value: self.store.get(key).cloned(),
            },
            Op::Put { key, value } => {
                self.store.insert(key.clone(), value.clone());
                OpResult::Done
            }
            Op::Append { key, value } => {
                let old = self.store.get(key).map_or("", |v| &**v);
                let new: Arc<str> = format!("{old}{value}").into();
                self.store.insert(key.clone(), new);
                OpResult::Done
            }
            Op::Cas { key, expect, new } => {
                let swapped = self.store.get(key) == Some(expect);
                if swapped {
                    self.store.insert(key.clone(), new.clone());
                }
                OpResult::Cas { swapped }
            }
        }
    }
}

/// Tiny's own invariant: the [`Wrote`] facts count 1, 2, 3, …
#[derive(Default)]
pub(crate) struct WritesCounted {
    pub(crate) last: u64,
    pub(crate) violation: Option<Violation>,
}

impl Invariant for WritesCounted {
    fn name(&self) -> String {
        "writes_counted".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(&Wrote { n }) = fact.downcast_ref::<Wrote>() else {
            return;
        };
        if n != self.last + 1 && self.violation.is_none() {
            self.violation = Some(Violation {
                at,
                nodes: vec![view.name(node).to_string()],
                message: format!("write {n} came after write {}", self.last),
                evidence: Vec::new(),
            });
        }
        self.last = n;
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

/// The built-in protocols and Tiny.
pub(crate) fn registry() -> Registry {
    Registry::builtin().with::<Tiny>()
}

/// Three nodes of Tiny for two seconds, with two key-value clients.
pub(crate) const SCENARIO: &str = r#"
name = "tiny"
duration = "2s"

[cluster]
nodes = ["A", "B", "C"]
protocol = "tiny"

[workload]
clients = 2
rate = "20/s"
mix = { get = 0.5, put = 0.5 }
keys = 2
timeout = "500ms"
retry = "100ms"

[check]
invariants = ["election_safety", "writes_counted", "linearizable"]
"#;

/// Runs `handler` on `node` (node `id` of a cluster of `nodes`) outside any world, both clocks
/// reading `now`, and returns the effects it asked for, in order.
pub(crate) fn step(
    node: &mut Tiny,
    nodes: u32,
    now: LocalNanos,
    handler: impl FnOnce(&mut Tiny, &mut Ctx<'_, Tiny>),
) -> Vec<Effect<Tiny>> {
    let peers: Vec<NodeId> = (0..nodes).map(NodeId).filter(|&p| p != node.id).collect();
    let mut rng = Rng::derive(1, Stream::Node(node.id.0));
    let mut effects = Vec::new();
    let mut ctx = Ctx::new(node.id, &peers, now, now, &mut rng, &mut effects);
    handler(node, &mut ctx);
    effects
}

/// A fresh Tiny node.
pub(crate) fn node(id: u32) -> Tiny {
    Tiny::new(NodeId(id), &[], &Config {}, None)
}

/// A client that puts `x = 1` on node 0 once, and gives up after 500 ms.
pub(crate) struct PutOnce;

impl Client for PutOnce {
    type Api = Kv;
    type Timer = ();

    fn on_start(&mut self, ctx: &mut ClientCtx<'_, Self>) {
        let request = ClientRequest {
            id: RequestId {
                client: ctx.id(),
                seq: 1,
            },
            op: Op::Put {
                key: "x".into(),
                value: "1".into(),
            },
        };
        ctx.invoke(&request);
        ctx.send(NodeId(0), request);
        ctx.set_timer(500 * MS, ());
    }

    fn on_reply(&mut self, ctx: &mut ClientCtx<'_, Self>, _: NodeId, id: RequestId, reply: Reply) {
        if let Reply::Ok(result) = reply {
            ctx.cancel_timer(());
            ctx.complete(id, Completion::Ok(result));
        }
    }

    fn on_timer(&mut self, ctx: &mut ClientCtx<'_, Self>, (): ()) {
        let id = RequestId {
            client: ctx.id(),
            seq: 1,
        };
        ctx.complete(id, Completion::Info);
    }
}

/// Runs `handler` on a client (client 0 of a cluster of `nodes`) at true time `now`, and returns
/// the effects it asked for, in order.
pub(crate) fn client_step<C: Client>(
    client: &mut C,
    nodes: u32,
    now: Nanos,
    handler: impl FnOnce(&mut C, &mut ClientCtx<'_, C>),
) -> Vec<ClientEffect<C>> {
    let mut rng = Rng::derive(1, Stream::Client(0));
    let mut effects = Vec::new();
    let mut ctx = ClientCtx::new(ClientId(0), nodes, now, &mut rng, &mut effects);
    handler(client, &mut ctx);
    effects
}

/// A run as a checker sees it, by hand: named nodes, all up unless said otherwise, clocks
/// reading `clock`, true time `now`.
pub(crate) struct View {
    pub(crate) names: Vec<String>,
    pub(crate) crashed: Vec<u32>,
    pub(crate) now: Nanos,
    pub(crate) clock: LocalNanos,
}

/// Nodes `A`, `B`, `C`, all up, at time zero.
pub(crate) fn view() -> View {
    View {
        names: vec!["A".into(), "B".into(), "C".into()],
        crashed: Vec::new(),
        now: 0,
        clock: 0,
    }
}

impl RunView for View {
    fn now(&self) -> Nanos {
        self.now
    }
    fn names(&self) -> &[String] {
        &self.names
    }
    fn status(&self, node: u32) -> NodeStatus {
        if self.crashed.contains(&node) {
            NodeStatus::Crashed
        } else {
            NodeStatus::Up
        }
    }
    fn read_clock(&self, _: u32, _: ClockKind) -> LocalNanos {
        self.clock
    }
}

/// One client's `[workload]`: about 20 operations a second, gets and puts over two keys, from
/// the start to 2 s.
pub(crate) fn kv_spec() -> WorkloadSpec {
    WorkloadSpec {
        clients: 1,
        think_mean: 50 * MS,
        mix: Mix {
            get: 1.0,
            put: 1.0,
            append: 0.0,
            cas: 0.0,
        },
        keys: 2,
        timeout: 500 * MS,
        retry: 100 * MS,
        start: 0,
        stop: 2_000 * MS,
    }
}

/// A closed-loop client's draw: `get x`, every time.
#[derive(Clone, Debug)]
pub(crate) struct GetX;

impl Draw for GetX {
    type Api = Kv;

    fn draw(&mut self, _: &mut Rng, _: ClientId, _: u64) -> Op {
        Op::Get { key: "x".into() }
    }

    fn call(op: &Op) -> (Option<String>, Call) {
        (Some(op.key().to_string()), Call::Read)
    }

    fn output(output: &OpResult) -> Output {
        match output {
            OpResult::Value { value } => {
                Output::Value(value.as_ref().map(|v| Value::Str(v.to_string())))
            }
            _ => Output::Done,
        }
    }

    fn scripted(key: Option<&str>, call: &Call) -> Option<Op> {
        match (key, call) {
            (Some(key), Call::Read) => Some(Op::Get { key: key.into() }),
            _ => None,
        }
    }
}

/// Runs `handler` on `node`, any protocol's node `id` of a cluster of `nodes`, outside any
/// world, both clocks reading `now`; returns the effects it asked for, in order.
pub(crate) fn step_any<P: Protocol>(
    node: &mut P,
    id: u32,
    nodes: u32,
    now: LocalNanos,
    handler: impl FnOnce(&mut P, &mut Ctx<'_, P>),
) -> Vec<Effect<P>> {
    let peers: Vec<NodeId> = (0..nodes).map(NodeId).filter(|&p| p != NodeId(id)).collect();
    let mut rng = Rng::derive(1, Stream::Node(id));
    let mut effects = Vec::new();
    let mut ctx = Ctx::new(NodeId(id), &peers, now, now, &mut rng, &mut effects);
    handler(node, &mut ctx);
    effects
}

/// The ids of a cluster of `nodes` other than `id`.
pub(crate) fn peers_of(id: u32, nodes: u32) -> Vec<NodeId> {
    (0..nodes).map(NodeId).filter(|&p| p != NodeId(id)).collect()
}

/// A world of `n` nodes named A, B, … on 1 ms links, honest clocks, no faults.
pub(crate) fn world_spec(n: usize, seed: u64, duration: Nanos) -> sim::world::WorldSpec {
    sim::world::WorldSpec {
        seed,
        names: (0..n).map(|i| ((b'A' + i as u8) as char).to_string()).collect(),
        duration,
        max_events: 1_000_000,
        link: sim::world::LinkModel::default(),
        clocks: vec![sim::world::Clock::honest(); n],
        faults: Vec::new(),
        timing: Default::default(),
    }
}
