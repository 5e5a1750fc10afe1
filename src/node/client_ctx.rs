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
pub struct ClientCtx<'a, C: Client> {
    id: ClientId,
    nodes: u32,
    now: Nanos,
    rng: &'a mut Rng,
    effects: &'a mut Vec<ClientEffect<C>>,
}

impl<'a, C: Client> ClientCtx<'a, C> {
    /// Built by the world for each handler call (and by client unit tests).
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
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// How many nodes the cluster has: a client may address `NodeId(0)` to `NodeId(nodes - 1)`.
    pub fn nodes(&self) -> u32 {
        self.nodes
    }

    /// True time: a client's clock is perfect.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// The client's own random stream.
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    /// Sends `request` to node `to`.
    pub fn send(&mut self, to: NodeId, request: ClientRequest<C::Api>) {
        debug_assert!(to.0 < self.nodes, "{} sent to node #{}", self.id, to.0);
        self.effects.push(ClientEffect::Send { to, request });
    }

    /// Fires `timer` after `after` nanoseconds of true time; replaces a pending one of that name.
    pub fn set_timer(&mut self, after: Nanos, timer: C::Timer) {
        self.effects.push(ClientEffect::SetTimer { timer, after });
    }

    /// Cancels the pending timer of this name, if any.
    pub fn cancel_timer(&mut self, timer: C::Timer) {
        self.effects.push(ClientEffect::CancelTimer { timer });
    }

    /// Records that the operation begins now.
    pub fn invoke(&mut self, request: &ClientRequest<C::Api>) {
        self.effects.push(ClientEffect::Invoke {
            request: request.clone(),
        });
    }

    /// Records that the operation ended now.
    pub fn complete(&mut self, request: RequestId, completion: Completion<C::Api>) {
        self.effects.push(ClientEffect::Complete {
            request,
            completion,
        });
    }
}
