//! The closed-loop client every workload kind shares: one operation at a time — think, invoke,
//! send, wait, complete, think again — with what it draws and how it records left to a
//! [`Draw`].
//!
//! - It starts talking to a node drawn from its stream, and afterwards to whichever node last
//!   served it or was named leader.
//! - `NotLeader { leader: Some(l) }`: resend the same request (same `seq`) to `l` at once — at
//!   most once per node per attempt, so two nodes naming each other cannot loop at one instant.
//!   `NotLeader { leader: None }`: wait for the retry.
//! - No reply within `retry`: resend the same request to the next node in cluster order.
//! - `Ok` records ok, `Fail` records fail; `timeout` after the invocation it gives up and
//!   records `info`. Replies to an operation it has finished with are ignored.
//! - After each completion it thinks for an exponential time (mean `1 / rate`), and invokes
//!   nothing at or after `stop`.
//!
//! A scripted client ([`ClosedLoop::scripted`], see `script`) replays a fixed list of
//! operations instead of drawing them: the same loop, with each operation and its invoke time
//! taken from the script.

use std::collections::VecDeque;
use std::fmt::Debug;

use serde::Serialize;

use crate::node::{
    Client, ClientApi, ClientCtx, ClientId, ClientRequest, Completion, Nanos, NodeId, Reply,
    RequestId, Rng,
};

use super::generator::{WorkloadSpec, think_time};
use super::history::{Call, Operation, Outcome, Output};

/// An operation of the interface `D` draws for.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientId, Op, Rng, Stream};
/// use sim::workload::closed_loop::{Draw, OpOf};
/// let op: OpOf<GetX> = GetX.draw(&mut Rng::derive(1, Stream::Client(0)), ClientId(0), 1);
/// assert_eq!(op, Op::Get { key: "x".into() });
/// ```
pub type OpOf<D> = <<D as Draw>::Api as ClientApi>::Op;

/// What a closed-loop client asks for, and how what happened reads in a history.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::history::{Call, Output, Value};
/// use sim::node::{ClientId, Op, OpResult, Rng, Stream};
/// use sim::workload::closed_loop::Draw;
/// // `GetX` (hidden) draws `get x` each time and records it as a read of key x.
/// let mut rng = Rng::derive(1, Stream::Client(0));
/// let op = GetX.draw(&mut rng, ClientId(0), 1);
/// assert_eq!(GetX::call(&op), (Some("x".to_string()), Call::Read));
/// let read = OpResult::Value { value: Some("c0-1".into()) };
/// assert_eq!(GetX::output(&read), Output::Value(Some(Value::Str("c0-1".into()))));
/// ```
pub trait Draw: Clone + Debug + 'static {
    /// The interface it draws operations of.
    type Api: ClientApi;

    /// Draws operation number `seq` (from 1) of `client` from the client's own stream.
    fn draw(&mut self, rng: &mut Rng, client: ClientId, seq: u64) -> OpOf<Self>;

    /// What a finished operation teaches the client (a key-value client remembers the value it
    /// read or wrote, for its next compare-and-set).
    fn learn(&mut self, _op: &OpOf<Self>, _completion: &Completion<Self::Api>) {}

    /// The operation's key (if any) and call, as the history records them.
    fn call(op: &OpOf<Self>) -> (Option<String>, Call);

    /// What an operation that took effect returned, as the history records it.
    fn output(output: &<Self::Api as ClientApi>::Output) -> Output;

    /// The operation a script's entry asks for — the inverse of [`Draw::call`] — or `None` when
    /// it is no operation of this interface.
    fn scripted(key: Option<&str>, call: &Call) -> Option<OpOf<Self>>;

    /// Completes a scripted operation, just before it is invoked, with what the client knows
    /// and the script does not say (a register client's put carries the context of its last
    /// read). A drawn operation is complete as drawn.
    fn prepare(&self, _op: &mut OpOf<Self>) {}

    /// The node client `client` talks to first, when it has one of its own (a client that sits
    /// beside a replica); `None`: a node drawn from the client's stream.
    fn home(&self, _client: ClientId, _nodes: u32) -> Option<u32> {
        None
    }

    /// The node an operation is sent to first, when the client picks one per operation (a
    /// read balanced over replicas); `None`: the node it talks to now. A draw that picks draws
    /// from the client's stream; the default draws nothing, so other kinds' runs stay as they
    /// were.
    fn route(&self, _rng: &mut Rng, _op: &OpOf<Self>, _nodes: u32) -> Option<u32> {
        None
    }
}

/// The client's timers.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientEffect, ClientId};
/// use sim::workload::closed_loop::{ClosedLoop, LoopTimer};
/// // A client starts by thinking.
/// let mut client = ClosedLoop::drawing(ClientId(0), &kv_spec(), GetX);
/// let effects = client_step(&mut client, 3, 0, |c, ctx| c.on_start(ctx));
/// assert!(effects.iter().any(|e| matches!(e, ClientEffect::SetTimer { timer: LoopTimer::Think, .. })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LoopTimer {
    /// Begin the next operation.
    Think,
    /// Resend the outstanding request to the next node.
    Retry,
    /// Give up on the outstanding operation.
    Timeout,
}

/// One operation of a script: invoked at `at`.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientEffect, ClientId, Op};
/// use sim::workload::closed_loop::{ClosedLoop, LoopTimer, Scripted};
/// // One put, at 300 ms exactly, instead of drawn operations.
/// let script = vec![Scripted { at: 300 * MS, op: Op::Put { key: "x".into(), value: "1".into() } }];
/// let mut client = ClosedLoop::scripted(ClientId(0), &kv_spec(), GetX, script);
/// let effects = client_step(&mut client, 3, 0, |c, ctx| c.on_start(ctx));
/// assert!(effects.iter().any(|e| matches!(e, ClientEffect::SetTimer { timer: LoopTimer::Think, after } if *after == 300 * MS)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scripted<O> {
    /// When the client invokes it, in nanoseconds of virtual time since the start of the run.
    pub at: Nanos,
    /// The operation.
    pub op: O,
}

/// The operation in flight.
#[derive(Clone, Debug)]
struct Outstanding<A: ClientApi> {
    request: ClientRequest<A>,
    invoke: Nanos,
    /// Nodes this attempt was redirected to, since the last retry.
    redirects: Vec<u32>,
}

/// A virtual client that runs one operation at a time against the cluster and records each.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::history::{Outcome, Output};
/// use sim::node::{ClientEffect, ClientId, NodeId, OpResult, Reply};
/// use sim::workload::closed_loop::{ClosedLoop, LoopTimer};
///
/// let mut client = ClosedLoop::drawing(ClientId(0), &kv_spec(), GetX);
/// client_step(&mut client, 3, 0, |c, ctx| c.on_start(ctx));
/// // Its think time is over: it invokes `get x` and sends it to a node.
/// let effects = client_step(&mut client, 3, 40 * MS, |c, ctx| c.on_timer(ctx, LoopTimer::Think));
/// let Some(ClientEffect::Send { to, request }) = effects.iter().find(|e| matches!(e, ClientEffect::Send { .. })) else {
///     panic!("nothing sent: {effects:?}")
/// };
/// let (to, id) = (*to, request.id);
/// assert_eq!(client.operations()[0].outcome, Outcome::Info, "pending until answered");
/// // The node answers: the operation completes with what it read.
/// let answer = Reply::Ok(OpResult::Value { value: None });
/// client_step(&mut client, 3, 45 * MS, |c, ctx| c.on_reply(ctx, to, id, answer));
/// assert_eq!(client.operations()[0].outcome, Outcome::Ok(Output::Value(None)));
/// assert_eq!(client.operations()[0].invoke, 40 * MS);
/// ```
#[derive(Clone, Debug)]
pub struct ClosedLoop<D: Draw> {
    pub(super) id: ClientId,
    pub(super) spec: WorkloadSpec,
    pub(super) draw: D,
    /// The node it talks to now.
    guess: u32,
    last_seq: u64,
    current: Option<Outstanding<D::Api>>,
    /// Completed operations, in completion order.
    done: Vec<Operation>,
    /// A scripted client's operations still to invoke; `None`: it draws them.
    script: Option<VecDeque<Scripted<OpOf<D>>>>,
}

impl<D: Draw> ClosedLoop<D> {
    /// A client numbered `id` that draws its operations with `draw`, paced by `spec`: it
    /// thinks, invokes one operation, waits for its reply (resending after `spec.retry`, giving
    /// up after `spec.timeout`), and begins the next.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClientId;
    /// use sim::workload::closed_loop::ClosedLoop;
    /// let client = ClosedLoop::drawing(ClientId(3), &kv_spec(), GetX);
    /// assert!(client.operations().is_empty(), "nothing before it runs");
    /// ```
    pub fn drawing(id: ClientId, spec: &WorkloadSpec, draw: D) -> Self {
        ClosedLoop {
            id,
            spec: spec.clone(),
            draw,
            guess: 0,
            last_seq: 0,
            current: None,
            done: Vec::new(),
            script: None,
        }
    }

    /// A client that invokes `script`'s operations, in order, instead of drawing them;
    /// `spec`'s timeout and retry still apply.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientEffect, ClientId, Op};
    /// use sim::workload::closed_loop::{ClosedLoop, LoopTimer, Scripted};
    /// let script = vec![
    ///     Scripted { at: 100 * MS, op: Op::Get { key: "x".into() } },
    ///     Scripted { at: 200 * MS, op: Op::Put { key: "x".into(), value: "2".into() } },
    /// ];
    /// let mut client = ClosedLoop::scripted(ClientId(0), &kv_spec(), GetX, script);
    /// client_step(&mut client, 3, 0, |c, ctx| c.on_start(ctx));
    /// let effects = client_step(&mut client, 3, 100 * MS, |c, ctx| c.on_timer(ctx, LoopTimer::Think));
    /// assert!(effects.iter().any(|e| matches!(e, ClientEffect::Invoke { request } if request.op == Op::Get { key: "x".into() })));
    /// ```
    pub fn scripted(
        id: ClientId,
        spec: &WorkloadSpec,
        draw: D,
        script: Vec<Scripted<OpOf<D>>>,
    ) -> Self {
        ClosedLoop {
            script: Some(script.into()),
            ..ClosedLoop::drawing(id, spec, draw)
        }
    }

    /// Every operation this client invoked, in invocation order; the one outstanding (if any)
    /// is pending: no completion, outcome `info`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClientId;
    /// use sim::node::history::Call;
    /// use sim::workload::closed_loop::{ClosedLoop, LoopTimer};
    /// let mut client = ClosedLoop::drawing(ClientId(0), &kv_spec(), GetX);
    /// client_step(&mut client, 3, 0, |c, ctx| c.on_start(ctx));
    /// client_step(&mut client, 3, 40 * MS, |c, ctx| c.on_timer(ctx, LoopTimer::Think));
    /// let ops = client.operations();
    /// assert_eq!((ops.len(), &ops[0].call, ops[0].complete), (1, &Call::Read, None));
    /// ```
    pub fn operations(&self) -> Vec<Operation> {
        self.clone().into_operations()
    }

    /// [`Self::operations`], taking them instead of copying them: what a finished run does
    /// with its clients.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClientId;
    /// use sim::workload::closed_loop::{ClosedLoop, LoopTimer};
    /// let mut client = ClosedLoop::drawing(ClientId(0), &kv_spec(), GetX);
    /// client_step(&mut client, 3, 0, |c, ctx| c.on_start(ctx));
    /// client_step(&mut client, 3, 40 * MS, |c, ctx| c.on_timer(ctx, LoopTimer::Think));
    /// // The same operations as `operations`, the pending one included.
    /// assert_eq!(client.operations(), client.clone().into_operations());
    /// ```
    pub fn into_operations(mut self) -> Vec<Operation> {
        if let Some(out) = self.current.take() {
            let pending = self.operation(&out.request.op, out.invoke, None, Outcome::Info);
            self.done.push(pending);
        }
        self.done
    }

    fn operation(
        &self,
        op: &OpOf<D>,
        invoke: Nanos,
        complete: Option<Nanos>,
        outcome: Outcome,
    ) -> Operation {
        let (key, call) = D::call(op);
        Operation {
            process: u64::from(self.id.0),
            key,
            call,
            invoke,
            complete,
            outcome,
            node: None,
        }
    }

    /// Sets the timer for the next operation: a think time after `from`, or a scripted
    /// operation's `at` (never before `from`).
    fn think(&mut self, ctx: &mut ClientCtx<'_, Self>, from: Nanos) {
        let at = match &self.script {
            None => from.saturating_add(think_time(ctx.rng(), self.spec.think_mean)),
            Some(script) => match script.front() {
                Some(next) => next.at.max(from),
                None => return,
            },
        };
        if at < self.spec.stop {
            ctx.set_timer(at - ctx.now(), LoopTimer::Think);
        }
    }

    fn begin(&mut self, ctx: &mut ClientCtx<'_, Self>) {
        let op = match &mut self.script {
            None => {
                self.last_seq += 1;
                self.draw.draw(ctx.rng(), self.id, self.last_seq)
            }
            Some(script) => match script.pop_front() {
                Some(mut next) => {
                    self.last_seq += 1;
                    self.draw.prepare(&mut next.op);
                    next.op
                }
                None => return,
            },
        };
        let request = ClientRequest {
            id: RequestId {
                client: self.id,
                seq: self.last_seq,
            },
            op,
        };
        ctx.invoke(&request);
        let nodes = ctx.nodes();
        if let Some(node) = self.draw.route(ctx.rng(), &request.op, nodes) {
            self.guess = node;
        }
        ctx.set_timer(self.spec.timeout, LoopTimer::Timeout);
        self.current = Some(Outstanding {
            request,
            invoke: ctx.now(),
            redirects: Vec::new(),
        });
        self.send(ctx);
    }

    fn send(&mut self, ctx: &mut ClientCtx<'_, Self>) {
        let Some(out) = &self.current else { return };
        ctx.send(NodeId(self.guess), out.request.clone());
        ctx.set_timer(self.spec.retry, LoopTimer::Retry);
    }

    fn finish(&mut self, ctx: &mut ClientCtx<'_, Self>, completion: Completion<D::Api>) {
        let Some(out) = self.current.take() else {
            return;
        };
        ctx.cancel_timer(LoopTimer::Retry);
        ctx.cancel_timer(LoopTimer::Timeout);
        ctx.complete(out.request.id, completion.clone());
        self.draw.learn(&out.request.op, &completion);
        let outcome = match completion {
            Completion::Ok(result) => Outcome::Ok(D::output(&result)),
            Completion::Fail { .. } => Outcome::Fail,
            Completion::Info => Outcome::Info,
        };
        let now = ctx.now();
        let op = self.operation(&out.request.op, out.invoke, Some(now), outcome);
        self.done.push(op);
        // A drawn think time is at least 1 ns; a scripted operation waits as long.
        let from = if self.script.is_some() { now + 1 } else { now };
        self.think(ctx, from);
    }

    fn on_not_leader(&mut self, ctx: &mut ClientCtx<'_, Self>, from: u32, leader: Option<NodeId>) {
        let Some(out) = &mut self.current else { return };
        let Some(l) = leader.map(|l| l.0) else {
            return; // no guess: the retry timer moves on to the next node
        };
        if l >= ctx.nodes() || l == from || out.redirects.contains(&l) {
            return;
        }
        out.redirects.push(l);
        self.guess = l;
        self.send(ctx);
    }
}

impl<D: Draw> Client for ClosedLoop<D> {
    type Api = D::Api;
    type Timer = LoopTimer;

    fn on_start(&mut self, ctx: &mut ClientCtx<'_, Self>) {
        let nodes = u64::from(ctx.nodes());
        // Drawn even for a client with a home, so that its stream stays where a drawing
        // client's is.
        let drawn = ctx.rng().below(nodes) as u32;
        self.guess = self.draw.home(self.id, ctx.nodes()).unwrap_or(drawn);
        let start = self.spec.start.max(ctx.now());
        self.think(ctx, start);
    }

    fn on_reply(
        &mut self,
        ctx: &mut ClientCtx<'_, Self>,
        from: NodeId,
        request: RequestId,
        reply: Reply<D::Api>,
    ) {
        let current = self.current.as_ref().map(|o| o.request.id);
        if current != Some(request) {
            return; // late: that operation is over
        }
        match reply {
            Reply::Ok(result) => {
                self.guess = from.0;
                self.finish(ctx, Completion::Ok(result));
            }
            Reply::Fail { reason } => self.finish(ctx, Completion::Fail { reason }),
            Reply::NotLeader { leader } => self.on_not_leader(ctx, from.0, leader),
        }
    }

    fn on_timer(&mut self, ctx: &mut ClientCtx<'_, Self>, timer: LoopTimer) {
        match timer {
            LoopTimer::Think => self.begin(ctx),
            LoopTimer::Retry => {
                if let Some(out) = &mut self.current {
                    out.redirects.clear();
                    self.guess = (self.guess + 1) % ctx.nodes();
                    self.send(ctx);
                }
            }
            LoopTimer::Timeout => self.finish(ctx, Completion::Info),
        }
    }
}

/// Every operation of `clients`, ordered by invocation time (then client): the body of a
/// history.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::ClientId;
/// use sim::workload::closed_loop::{ClosedLoop, LoopTimer, operations};
/// let mut a = ClosedLoop::drawing(ClientId(0), &kv_spec(), GetX);
/// let mut b = ClosedLoop::drawing(ClientId(1), &kv_spec(), GetX);
/// client_step(&mut a, 3, 0, |c, ctx| c.on_start(ctx));
/// client_step(&mut b, 3, 0, |c, ctx| c.on_start(ctx));
/// client_step(&mut b, 3, 10 * MS, |c, ctx| c.on_timer(ctx, LoopTimer::Think));
/// client_step(&mut a, 3, 20 * MS, |c, ctx| c.on_timer(ctx, LoopTimer::Think));
/// let ops = operations(&[a, b]);
/// let order: Vec<u64> = ops.iter().map(|op| op.process).collect();
/// assert_eq!(order, [1, 0], "by invocation time, then client");
/// ```
pub fn operations<D: Draw>(clients: &[ClosedLoop<D>]) -> Vec<Operation> {
    merge_by_invocation(clients.iter().map(ClosedLoop::operations).collect())
}

/// [`operations`], taking the clients' records instead of copying them.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::ClientId;
/// use sim::workload::closed_loop::{ClosedLoop, LoopTimer, into_operations, operations};
/// let mut a = ClosedLoop::drawing(ClientId(0), &kv_spec(), GetX);
/// let mut b = ClosedLoop::drawing(ClientId(1), &kv_spec(), GetX);
/// client_step(&mut a, 3, 0, |c, ctx| c.on_start(ctx));
/// client_step(&mut b, 3, 0, |c, ctx| c.on_start(ctx));
/// client_step(&mut b, 3, 10 * MS, |c, ctx| c.on_timer(ctx, LoopTimer::Think));
/// let copied = operations(&[a.clone(), b.clone()]);
/// assert_eq!(into_operations(vec![a, b]), copied);
/// ```
pub fn into_operations<D: Draw>(clients: Vec<ClosedLoop<D>>) -> Vec<Operation> {
    merge_by_invocation(
        clients
            .into_iter()
            .map(ClosedLoop::into_operations)
            .collect(),
    )
}

/// One list of every client's operations, ordered by (invocation, client). A closed-loop
/// client's own list is in invocation order already (one operation at a time), so the lists
/// are merged, which moves each operation once; a list out of order is sorted first.
fn merge_by_invocation(mut lists: Vec<Vec<Operation>>) -> Vec<Operation> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let key = |op: &Operation| (op.invoke, op.process);
    for list in &mut lists {
        if !list.is_sorted_by_key(key) {
            list.sort_by_key(key);
        }
    }
    let total = lists.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    let mut iters: Vec<_> = lists
        .into_iter()
        .map(|l| l.into_iter().peekable())
        .collect();
    // (key of the list's next operation, the list's position): ties go to the earlier list,
    // as the stable sort this replaces kept them.
    let mut heads: BinaryHeap<Reverse<((u64, u64), usize)>> = iters
        .iter_mut()
        .enumerate()
        .filter_map(|(i, it)| it.peek().map(|op| Reverse((key(op), i))))
        .collect();
    while let Some(Reverse((_, i))) = heads.pop() {
        let op = iters[i]
            .next()
            .expect("a list in the heap has a next operation");
        out.push(op);
        if let Some(next) = iters[i].peek() {
            heads.push(Reverse((key(next), i)));
        }
    }
    out
}
