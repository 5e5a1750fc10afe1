//! Engine tests of clients as network endpoints: a tiny key-value protocol (node 0 serves,
//! the others redirect to it) and a scripted client that sends one write, follows redirects,
//! retries and gives up. Each test checks one rule of `clients` or of the engine's client path.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{
    Client, ClientCtx, ClientId, ClientRequest, Completion, Ctx, DiskOf, Nanos, NodeId, Op,
    OpResult, Protocol, Reply, RequestId,
};

use super::*;

const MS: u64 = 1_000_000;

/// Node 0 holds a map and answers; every other node answers `NotLeader { leader: Some(0) }`.
/// Node 0 also broadcasts a tick every 10 ms, so runs have node-to-node traffic to compare.
#[derive(Debug)]
struct Store {
    id: NodeId,
    map: BTreeMap<std::sync::Arc<str>, std::sync::Arc<str>>,
    /// Every request this node received, in order.
    seen: Vec<RequestId>,
    ticks: u64,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
struct NoConfig {}

impl Protocol for Store {
    const NAME: &'static str = "store";
    const SUMMARY: &'static str = "test store";
    type Msg = u64;
    type Timer = ();
    type Config = NoConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = ();

    fn new(id: NodeId, _: &[NodeId], _: &NoConfig, _: Option<&DiskOf<Self>>) -> Self {
        Store {
            id,
            map: BTreeMap::new(),
            seen: Vec::new(),
            ticks: 0,
        }
    }
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.id == NodeId(0) {
            ctx.set_timer(10 * MS, ());
        }
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u64) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
        self.ticks += 1;
        ctx.broadcast(self.ticks);
        ctx.set_timer(10 * MS, ());
    }
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest) {
        self.seen.push(request.id);
        if self.id != NodeId(0) {
            let reply = Reply::NotLeader {
                leader: Some(NodeId(0)),
            };
            ctx.reply(request.id, reply);
            return;
        }
        let result = match request.op {
            Op::Get { key } => OpResult::Value {
                value: self.map.get(&key).cloned(),
            },
            Op::Put { key, value } => {
                self.map.insert(key, value);
                OpResult::Done
            }
            other => panic!("the test store serves get and put only, not {other:?}"),
        };
        ctx.reply(request.id, Reply::Ok(result));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
enum ScriptTimer {
    Retry,
    Timeout,
}

/// Writes `c<i>` to key `k` once: first to `target`, following redirects at once, resending to
/// the next node after `retry` without a reply, giving up after `timeout`.
struct Script {
    target: u32,
    retry: Nanos,
    timeout: Nanos,
    current: Option<ClientRequest>,
    /// (request, completion, when).
    completions: Vec<(RequestId, Completion, Nanos)>,
    invoked_at: Option<Nanos>,
    /// Every reply that reached this client: (from, for which request).
    replies: Vec<(NodeId, RequestId)>,
    /// Nodes the request was sent to, in order.
    sent_to: Vec<u32>,
}

impl Script {
    fn new(target: u32, retry_ms: u64, timeout_ms: u64) -> Self {
        Script {
            target,
            retry: retry_ms * MS,
            timeout: timeout_ms * MS,
            current: None,
            completions: Vec::new(),
            invoked_at: None,
            replies: Vec::new(),
            sent_to: Vec::new(),
        }
    }

    fn send(&mut self, ctx: &mut ClientCtx<'_, Self>, to: u32) {
        let request = self.current.clone().expect("an operation is outstanding");
        self.sent_to.push(to);
        ctx.send(NodeId(to), request);
        ctx.set_timer(self.retry, ScriptTimer::Retry);
    }

    fn finish(&mut self, ctx: &mut ClientCtx<'_, Self>, completion: Completion) {
        let request = self.current.take().expect("an operation is outstanding");
        ctx.cancel_timer(ScriptTimer::Retry);
        ctx.cancel_timer(ScriptTimer::Timeout);
        ctx.complete(request.id, completion.clone());
        self.completions.push((request.id, completion, ctx.now()));
    }
}

impl Client for Script {
    type Api = crate::node::Kv;
    type Timer = ScriptTimer;

    fn on_start(&mut self, ctx: &mut ClientCtx<'_, Self>) {
        let request = ClientRequest {
            id: RequestId {
                client: ctx.id(),
                seq: 1,
            },
            op: Op::Put {
                key: "k".into(),
                value: ctx.id().to_string().into(),
            },
        };
        ctx.invoke(&request);
        self.invoked_at = Some(ctx.now());
        self.current = Some(request);
        ctx.set_timer(self.timeout, ScriptTimer::Timeout);
        self.send(ctx, self.target);
    }

    fn on_reply(
        &mut self,
        ctx: &mut ClientCtx<'_, Self>,
        from: NodeId,
        request: RequestId,
        reply: Reply,
    ) {
        self.replies.push((from, request));
        if self.current.as_ref().map(|r| r.id) != Some(request) {
            return; // late: the operation was abandoned
        }
        match reply {
            Reply::Ok(result) => self.finish(ctx, Completion::Ok(result)),
            Reply::Fail { reason } => self.finish(ctx, Completion::Fail { reason }),
            Reply::NotLeader { leader: Some(l) } => self.send(ctx, l.0),
            Reply::NotLeader { leader: None } => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut ClientCtx<'_, Self>, timer: ScriptTimer) {
        match timer {
            ScriptTimer::Retry => {
                let next = (self.sent_to.last().copied().unwrap_or(0) + 1) % ctx.nodes();
                self.send(ctx, next);
            }
            ScriptTimer::Timeout => self.finish(ctx, Completion::Info),
        }
    }
}

/// (time, kind, client) of every record, and (time, from, to) of node-to-node deliveries.
#[derive(Default)]
struct Log {
    records: Vec<(Nanos, &'static str, Option<u32>)>,
    node_deliveries: Vec<(Nanos, u32, u32)>,
    request_seqs: Vec<u64>,
    client_drop_reasons: Vec<&'static str>,
}

impl Observer<Store> for Log {
    fn on_record(&mut self, r: &Record<'_, Store>, _: &Cluster) {
        self.records.push((r.at, r.event.kind(), r.event.client()));
        match r.event {
            Event::Deliver { from, to, .. } => self.node_deliveries.push((r.at, from, to)),
            Event::Request { request, .. } => self.request_seqs.push(request.id.seq),
            Event::ClientDrop { reason, .. } => self.client_drop_reasons.push(reason.name()),
            _ => {}
        }
    }
}

fn spec(n: usize, faults: Vec<FaultSpec>) -> WorldSpec {
    WorldSpec {
        seed: 1,
        names: (0..n)
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect(),
        duration: 200 * MS,
        max_events: 100_000,
        link: LinkModel::default(),
        clocks: vec![Clock::honest(); n],
        faults,
        timing: Default::default(),
    }
}

fn fault(at_ms: u64, action: FaultAction, lasting_ms: Option<u64>) -> FaultSpec {
    FaultSpec {
        at: at_ms * MS,
        action,
        lasting: lasting_ms.map(|l| l * MS),
        origin: Origin::Schedule(0),
    }
}

fn run(spec: WorldSpec, clients: Vec<Script>) -> World<Store, Log, Script> {
    let mut w = World::with_clients(spec, NoConfig {}, Log::default(), clients);
    assert_eq!(w.run(), Outcome::Completed);
    w
}

fn ok_done() -> Completion {
    Completion::Ok(OpResult::Done)
}

#[test]
fn an_operation_completes_when_the_reply_arrives() {
    // 1 ms each way: invoked at 0, request at node 0 at 1 ms, reply back at 2 ms.
    let w = run(spec(3, vec![]), vec![Script::new(0, 500, 1000)]);
    let c = &w.clients()[0];
    assert_eq!(c.invoked_at, Some(0));
    let first = RequestId {
        client: ClientId(0),
        seq: 1,
    };
    assert_eq!(c.completions, vec![(first, ok_done(), 2 * MS)]);
    assert_eq!(w.node(0).unwrap().map.get("k").map(|v| &**v), Some("c0"));
    let kinds: Vec<&str> = w
        .observer()
        .records
        .iter()
        .filter(|r| r.2.is_some())
        .map(|r| r.1)
        .collect();
    assert_eq!(
        kinds,
        [
            "invoke",
            "request",
            "request_deliver",
            "reply",
            "reply_deliver",
            "complete"
        ]
    );
    let stats = w.stats();
    assert_eq!((stats.client_sent, stats.client_delivered), (2, 2));
}

#[test]
fn a_redirect_is_followed_at_once() {
    // To C (1 ms), NotLeader back (2 ms), to A (3 ms), Ok back (4 ms).
    let w = run(spec(3, vec![]), vec![Script::new(2, 500, 1000)]);
    let c = &w.clients()[0];
    assert_eq!(c.sent_to, [2, 0]);
    assert_eq!(c.completions[0].1, ok_done());
    assert_eq!(c.completions[0].2, 4 * MS);
}

#[test]
fn a_request_to_a_crashed_node_is_dropped_and_the_operation_ends_unknown() {
    // Retry later than the timeout: the client never tries another node.
    let crash = fault(0, FaultAction::Crash(Target::Node(0)), None);
    let w = run(spec(3, vec![crash]), vec![Script::new(0, 900, 50)]);
    let c = &w.clients()[0];
    assert_eq!(c.completions.len(), 1);
    assert_eq!(c.completions[0].1, Completion::Info);
    assert_eq!(c.completions[0].2, 50 * MS);
    assert!(c.replies.is_empty());
    let drops = w
        .observer()
        .records
        .iter()
        .filter(|r| r.1 == "client_drop")
        .count();
    assert_eq!(drops, 1);
    assert_eq!(w.stats().client_dropped, 1);
}

#[test]
fn a_retried_write_keeps_its_sequence_number() {
    // B is down: no reply within 10 ms, so the client resends to C, which redirects to A.
    let crash = fault(0, FaultAction::Crash(Target::Node(1)), None);
    let w = run(spec(3, vec![crash]), vec![Script::new(1, 10, 100)]);
    let c = &w.clients()[0];
    assert_eq!(c.sent_to, [1, 2, 0]);
    assert_eq!(w.observer().request_seqs, [1, 1, 1]);
    let leader = w.node(0).unwrap();
    assert_eq!(
        leader.seen,
        [RequestId {
            client: ClientId(0),
            seq: 1
        }]
    );
    // Resent at 10 ms: C at 11, redirect back at 12, A at 13, Ok back at 14.
    assert_eq!(c.completions[0].2, 14 * MS);
}

#[test]
fn a_request_to_a_paused_node_waits_for_the_resume() {
    let pause = fault(0, FaultAction::Pause(Target::Node(0)), Some(30));
    let w = run(spec(3, vec![pause]), vec![Script::new(0, 900, 1000)]);
    let c = &w.clients()[0];
    assert_eq!(c.completions[0].1, ok_done());
    assert_eq!(
        c.completions[0].2,
        31 * MS,
        "held until 30 ms, answered then"
    );
}

#[test]
fn a_request_held_by_a_node_that_crashes_while_paused_is_dropped_with_the_reason() {
    let faults = vec![
        fault(0, FaultAction::Pause(Target::Node(0)), None),
        fault(20, FaultAction::Crash(Target::Node(0)), None),
    ];
    let w = run(spec(3, faults), vec![Script::new(0, 900, 1000)]);
    let drops: Vec<_> = w
        .observer()
        .records
        .iter()
        .filter(|r| r.1 == "client_drop")
        .collect();
    assert_eq!(drops, [&(20 * MS, "client_drop", Some(0))]);
    assert_eq!(w.observer().client_drop_reasons, ["crashed_while_paused"]);
    let s = w.stats();
    assert_eq!(s.client_dropped, 1);
    assert_eq!(
        s.client_sent,
        s.client_delivered + s.client_dropped + s.client_in_flight
    );
}

#[test]
fn replies_reach_only_their_client() {
    let clients = vec![
        Script::new(0, 500, 1000),
        Script::new(1, 500, 1000),
        Script::new(2, 500, 1000),
    ];
    let w = run(spec(3, vec![]), clients);
    for (i, c) in w.clients().iter().enumerate() {
        assert!(!c.replies.is_empty());
        assert!(
            c.replies
                .iter()
                .all(|(_, r)| r.client == ClientId(i as u32)),
            "client {i} got {:?}",
            c.replies
        );
        assert_eq!(c.completions.len(), 1);
        assert_eq!(c.completions[0].1, ok_done());
    }
}

#[test]
fn partitions_do_not_cut_client_links() {
    let cut = fault(
        0,
        FaultAction::Partition(Shape::Groups(vec![
            vec![Target::Node(0)],
            vec![Target::Node(1), Target::Node(2)],
        ])),
        None,
    );
    let w = run(spec(3, vec![cut]), vec![Script::new(2, 500, 1000)]);
    assert_eq!(w.clients()[0].completions[0].1, ok_done());
}

#[test]
fn clients_do_not_change_node_to_node_latencies() {
    let mut s = spec(3, vec![]);
    s.link.latency = Latency::Uniform {
        min: MS,
        max: 9 * MS,
    };
    let without = {
        let mut w: World<Store, Log> = World::new(s.clone(), NoConfig {}, Log::default());
        w.run();
        w.into_observer().node_deliveries
    };
    let with = run(s, vec![Script::new(1, 5, 100), Script::new(2, 5, 100)])
        .into_observer()
        .node_deliveries;
    assert!(without.len() > 10);
    assert_eq!(without, with);
}

#[test]
fn same_seed_same_history_and_hash() {
    let go = |seed: u64| {
        let mut s = spec(3, vec![]);
        s.seed = seed;
        s.link.latency = Latency::Uniform {
            min: MS,
            max: 9 * MS,
        };
        let w = run(s, (0..3).map(|i| Script::new(i, 5, 100)).collect());
        let done: Vec<_> = w.clients().iter().map(|c| c.completions.clone()).collect();
        (w.trace_hash(), done)
    };
    assert_eq!(go(4), go(4));
    assert_ne!(go(4).0, go(5).0);
}

#[test]
fn a_world_without_clients_hashes_as_before() {
    // `World::new` and an empty client list are the same run.
    let a: World<Store, Log> = {
        let mut w = World::new(spec(3, vec![]), NoConfig {}, Log::default());
        w.run();
        w
    };
    let b = run(spec(3, vec![]), vec![]);
    assert_eq!(a.trace_hash(), b.trace_hash());
    assert!(a.observer().records.iter().all(|r| r.2.is_none()));
}

#[test]
fn client_events_keep_records_small() {
    // Every record of every run is built and hashed: client events must not make node
    // events pay for their payloads.
    assert!(std::mem::size_of::<Event<'_, Store>>() <= 32);
}
