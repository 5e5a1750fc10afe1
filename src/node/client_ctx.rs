//! The client side of the sans-I/O contract: the trait a virtual client implements, and the
//! context it answers through.
//!
//! A client, like a protocol, is a state machine the world calls: it starts, it receives
//! replies, its timers fire. It answers only through its [`ClientCtx`] — send a request to a
//! node, set or cancel a timer, and record the invocation and completion of its operations —
//! so the world (which knows no workload) can drive it, and every one of its acts is a trace
//! record. Clients have perfect clocks: `now()` is true time, and their timers are deadlines in
//! true time. They never crash or pause.

use std::fmt::Debug;

use serde::Serialize;

use super::{ClientApi, ClientId, ClientRequest, Kv, Nanos, NodeId, Reply, RequestId, Rng};

/// How an operation ended, as the client saw it.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientEffect, ClientId, Completion, NodeId, OpResult, Reply, RequestId};
///
/// // PutOnce completes its put with the result node 0 returned…
/// let id = RequestId { client: ClientId(0), seq: 1 };
/// let effects = client_step(&mut PutOnce, 3, 0, |c, ctx| c.on_reply(ctx, NodeId(0), id, Reply::Ok(OpResult::Done)));
/// assert!(effects.iter().any(|e| matches!(e, ClientEffect::Complete { completion: Completion::Ok(OpResult::Done), .. })));
/// // …and as unknown (`Info`) when it gives up: the put may or may not have happened.
/// let effects = client_step(&mut PutOnce, 3, 0, |c, ctx| c.on_timer(ctx, ()));
/// assert!(matches!(effects[..], [ClientEffect::Complete { completion: Completion::Info, .. }]));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", bound = "")]
pub enum Completion<A: ClientApi = Kv> {
    /// A node answered `Reply::Ok`: the operation took effect with this result.
    Ok(A::Output),
    /// A node answered `Reply::Fail`: the operation did not take effect.
    Fail {
        /// The node's reason.
        reason: String,
    },
    /// The client gave up waiting: the operation may or may not have taken effect.
    Info,
}

/// One thing a client handler asked the world to do.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientEffect, NodeId};
///
/// // What PutOnce asks for as it starts, in order.
/// let effects = client_step(&mut PutOnce, 3, 0, |c, ctx| c.on_start(ctx));
/// assert!(matches!(effects[0], ClientEffect::Invoke { .. }));
/// assert!(matches!(effects[1], ClientEffect::Send { to: NodeId(0), .. }));
/// assert!(matches!(effects[2], ClientEffect::SetTimer { after, .. } if after == 500 * MS));
/// ```
#[derive(Debug)]
pub enum ClientEffect<C: Client> {
    /// Send a request to a node (a retry sends the same request again).
    Send {
        /// The node addressed.
        to: NodeId,
        /// The request.
        request: ClientRequest<C::Api>,
    },
    /// Fire `timer` after `after` nanoseconds of true time; replaces a pending one of that name.
    SetTimer {
        /// The timer's name.
        timer: C::Timer,
        /// How long from now, in true time.
        after: Nanos,
    },
    /// Cancel the pending timer of this name, if any.
    CancelTimer {
        /// The timer's name.
        timer: C::Timer,
    },
    /// The operation begins: its invocation enters the history.
    Invoke {
        /// The request, as first sent.
        request: ClientRequest<C::Api>,
    },
    /// The operation ends.
    Complete {
        /// The operation that ends.
        request: RequestId,
        /// How it ended.
        completion: Completion<C::Api>,
    },
}

/// A virtual client, as the world drives it.
///
/// ```
/// use sim::node::{
///     Client, ClientCtx, ClientEffect, ClientId, ClientRequest, Completion, Kv, NodeId, Op, Reply,
///     RequestId, Rng, Stream,
/// };
///
/// /// Reads key `x` from node 0, once.
/// struct GetOnce;
///
/// impl Client for GetOnce {
///     type Api = Kv;
///     type Timer = ();
///     fn on_start(&mut self, ctx: &mut ClientCtx<'_, Self>) {
///         let request = ClientRequest {
///             id: RequestId { client: ctx.id(), seq: 1 },
///             op: Op::Get { key: "x".into() },
///         };
///         ctx.invoke(&request); // the operation begins, in the history
///         ctx.send(NodeId(0), request);
///     }
///     fn on_reply(&mut self, ctx: &mut ClientCtx<'_, Self>, _: NodeId, id: RequestId, reply: Reply) {
///         match reply {
///             Reply::Ok(result) => ctx.complete(id, Completion::Ok(result)),
///             Reply::NotLeader { .. } | Reply::Fail { .. } => {
///                 ctx.complete(id, Completion::Fail { reason: "refused".into() })
///             }
///         }
///     }
///     fn on_timer(&mut self, _: &mut ClientCtx<'_, Self>, (): ()) {}
/// }
///
/// let mut rng = Rng::derive(1, Stream::Client(0));
/// let mut effects = Vec::new();
/// GetOnce.on_start(&mut ClientCtx::new(ClientId(0), 3, 0, &mut rng, &mut effects));
/// assert!(matches!(effects[..], [ClientEffect::Invoke { .. }, ClientEffect::Send { to: NodeId(0), .. }]));
/// ```
pub trait Client: Sized + 'static {
    /// The interface it speaks: the operations it asks for and the results it expects.
    type Api: ClientApi;
    /// The client's timer names. Setting a timer that is pending replaces it.
    type Timer: Copy + Eq + Debug + Serialize;

    /// The client begins: at time zero.
    fn on_start(&mut self, ctx: &mut ClientCtx<'_, Self>);

    /// A node's reply reached the client. Replies to operations the client has given up on
    /// still arrive; the client decides to ignore them.
    fn on_reply(
        &mut self,
        ctx: &mut ClientCtx<'_, Self>,
        from: NodeId,
        request: RequestId,
        reply: Reply<Self::Api>,
    );

    /// A timer set earlier fired.
    fn on_timer(&mut self, ctx: &mut ClientCtx<'_, Self>, timer: Self::Timer);
}

/// The context a client handler runs in.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientEffect, ClientId};
///
/// // Every act of a client goes through its context, as an effect the world carries out.
/// let effects = client_step(&mut PutOnce, 3, 0, |c, ctx| {
///     assert_eq!(ctx.id(), ClientId(0));
///     c.on_start(ctx);
/// });
/// assert_eq!(effects.len(), 3);
/// ```
pub struct ClientCtx<'a, C: Client> {
    id: ClientId,
    nodes: u32,
    now: Nanos,
    rng: &'a mut Rng,
    effects: &'a mut Vec<ClientEffect<C>>,
}

impl<'a, C: Client> ClientCtx<'a, C> {
    /// Built by the world for each handler call (and by client unit tests).
    ///
    /// ```
    /// use sim::node::{ClientCtx, ClientEffect, ClientId, Rng, Stream};
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    ///
    /// // Drive PutOnce by hand, as a client's unit test does: client 4 of a three-node cluster.
    /// let mut rng = Rng::derive(1, Stream::Client(4));
    /// let mut effects: Vec<ClientEffect<PutOnce>> = Vec::new();
    /// let mut ctx = ClientCtx::new(ClientId(4), 3, 0, &mut rng, &mut effects);
    /// assert_eq!((ctx.id(), ctx.nodes()), (ClientId(4), 3));
    /// PutOnce.on_start(&mut ctx);
    /// assert_eq!(effects.len(), 3);
    /// ```
    pub fn new(
        id: ClientId,
        nodes: u32,
        now: Nanos,
        rng: &'a mut Rng,
        effects: &'a mut Vec<ClientEffect<C>>,
    ) -> Self {
        ClientCtx {
            id,
            nodes,
            now,
            rng,
            effects,
        }
    }

    /// This client.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClientId;
    /// client_step(&mut PutOnce, 3, 0, |_, ctx| assert_eq!(ctx.id(), ClientId(0)));
    /// ```
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// How many nodes the cluster has: a client may address `NodeId(0)` to `NodeId(nodes - 1)`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::NodeId;
    /// // The nodes a client may address: `NodeId(0)` to `NodeId(nodes - 1)`.
    /// client_step(&mut PutOnce, 5, 0, |_, ctx| {
    ///     let last = NodeId(ctx.nodes() - 1);
    ///     assert_eq!(last, NodeId(4));
    /// });
    /// ```
    pub fn nodes(&self) -> u32 {
        self.nodes
    }

    /// True time: a client's clock is perfect.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// client_step(&mut PutOnce, 3, 2_000 * MS, |_, ctx| assert_eq!(ctx.now(), 2_000_000_000));
    /// ```
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The client's own random stream.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// // Seeded: the same client, the same draws.
    /// let mut first = 0;
    /// client_step(&mut PutOnce, 3, 0, |_, ctx| first = ctx.rng().next_u64());
    /// client_step(&mut PutOnce, 3, 0, |_, ctx| assert_eq!(ctx.rng().next_u64(), first));
    /// ```
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    /// Sends `request` to node `to`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientEffect, ClientRequest, NodeId, Op, RequestId};
    /// let effects = client_step(&mut PutOnce, 3, 0, |_, ctx| {
    ///     let id = RequestId { client: ctx.id(), seq: 1 };
    ///     ctx.send(NodeId(2), ClientRequest { id, op: Op::Get { key: "k".into() } });
    /// });
    /// assert!(matches!(&effects[..], [ClientEffect::Send { to: NodeId(2), request }] if request.id.seq == 1));
    /// ```
    pub fn send(&mut self, to: NodeId, request: ClientRequest<C::Api>) {
        debug_assert!(to.0 < self.nodes, "{} sent to node #{}", self.id, to.0);
        self.effects.push(ClientEffect::Send { to, request });
    }

    /// Fires `timer` after `after` nanoseconds of true time; replaces a pending one of that name.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClientEffect;
    /// let effects = client_step(&mut PutOnce, 3, 0, |_, ctx| ctx.set_timer(500 * MS, ()));
    /// assert!(matches!(effects[..], [ClientEffect::SetTimer { after: 500_000_000, .. }]));
    /// ```
    pub fn set_timer(&mut self, after: Nanos, timer: C::Timer) {
        self.effects.push(ClientEffect::SetTimer { timer, after });
    }

    /// Cancels the pending timer of this name, if any.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientEffect, ClientId, NodeId, OpResult, Reply, RequestId};
    /// // PutOnce stops its timeout when the answer comes.
    /// let id = RequestId { client: ClientId(0), seq: 1 };
    /// let effects = client_step(&mut PutOnce, 3, 0, |c, ctx| c.on_reply(ctx, NodeId(0), id, Reply::Ok(OpResult::Done)));
    /// assert!(matches!(effects[0], ClientEffect::CancelTimer { .. }));
    /// ```
    pub fn cancel_timer(&mut self, timer: C::Timer) {
        self.effects.push(ClientEffect::CancelTimer { timer });
    }

    /// Records that the operation begins now.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientEffect, Op};
    /// let effects = client_step(&mut PutOnce, 3, 0, |c, ctx| c.on_start(ctx));
    /// let ClientEffect::Invoke { request } = &effects[0] else { panic!("the put begins first") };
    /// assert_eq!(request.op, Op::Put { key: "x".into(), value: "1".into() });
    /// ```
    pub fn invoke(&mut self, request: &ClientRequest<C::Api>) {
        self.effects.push(ClientEffect::Invoke {
            request: request.clone(),
        });
    }

    /// Records that the operation ended now.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientEffect, ClientId, Completion, RequestId};
    /// let effects = client_step(&mut PutOnce, 3, 0, |_, ctx| {
    ///     ctx.complete(RequestId { client: ctx.id(), seq: 1 }, Completion::Fail { reason: "full".into() });
    /// });
    /// assert!(matches!(
    ///     &effects[..],
    ///     [ClientEffect::Complete { request: RequestId { client: ClientId(0), seq: 1 }, completion: Completion::Fail { .. } }]
    /// ));
    /// ```
    pub fn complete(&mut self, request: RequestId, completion: Completion<C::Api>) {
        self.effects.push(ClientEffect::Complete {
            request,
            completion,
        });
    }
}
