//! The client side of the node API: what a virtual client asks a node, and what the node answers.
//!
//! A client has at most one request outstanding. It numbers its operations (`seq`), and a retry of
//! the same operation — after a redirect, or to another node — keeps the number, so a replicated
//! state machine can apply a retried write once (duplicate suppression by client id + sequence).

use serde::Serialize;
use std::fmt::{self, Debug};
use std::sync::Arc;

use super::NodeId;

/// A virtual client's index (0-based, in creation order). Clients are endpoints of the network,
/// not nodes of the cluster.
///
/// ```
/// use sim::node::ClientId;
/// assert_eq!(ClientId(2).to_string(), "c2");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientId(pub u32);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// One operation of one client: retries of it share the id.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// // A retry keeps the id, so a node can apply a retried write once.
/// let first = RequestId { client: ClientId(1), seq: 7 };
/// let retry = RequestId { client: ClientId(1), seq: 7 };
/// assert_eq!(first, retry);
/// assert!(first < RequestId { client: ClientId(1), seq: 8 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RequestId {
    /// The client that issued it.
    pub client: ClientId,
    /// The client's operation number, from 1, increasing by one per new operation.
    pub seq: u64,
}

/// A key-value operation. Values are strings: `append` concatenates.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Op, OpResult};
/// let mut n0 = node(0);
/// n0.apply(&Op::Put { key: "k".into(), value: "a".into() });
/// n0.apply(&Op::Append { key: "k".into(), value: "b".into() });
/// let swap = Op::Cas { key: "k".into(), expect: "ab".into(), new: "c".into() };
/// assert_eq!(n0.apply(&swap), OpResult::Cas { swapped: true });
/// assert_eq!(n0.apply(&Op::Get { key: "k".into() }), OpResult::Value { value: Some("c".into()) });
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "f")]
pub enum Op {
    /// Reads the key's value (`None` when the key is absent).
    Get {
        /// The key.
        key: Arc<str>,
    },
    /// Sets the key's value.
    Put {
        /// The key.
        key: Arc<str>,
        /// Its new value.
        value: Arc<str>,
    },
    /// Appends to the key's value (an absent key counts as empty).
    Append {
        /// The key.
        key: Arc<str>,
        /// What is added at the end of its value.
        value: Arc<str>,
    },
    /// Sets the key to `new` if and only if its value is `expect` now.
    Cas {
        /// The key.
        key: Arc<str>,
        /// The value it must hold for the swap to happen.
        expect: Arc<str>,
        /// The value it then gets.
        new: Arc<str>,
    },
}

impl Op {
    /// The key the operation reads or writes.
    ///
    /// ```
    /// use sim::node::Op;
    /// let op = Op::Cas { key: "k".into(), expect: "a".into(), new: "b".into() };
    /// assert_eq!(&**op.key(), "k");
    /// ```
    pub fn key(&self) -> &Arc<str> {
        match self {
            Op::Get { key }
            | Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::Cas { key, .. } => key,
        }
    }

    /// Whether the operation can change the state (and so must be applied at most once).
    ///
    /// ```
    /// use sim::node::Op;
    /// assert!(!Op::Get { key: "k".into() }.is_write());
    /// assert!(Op::Append { key: "k".into(), value: "x".into() }.is_write());
    /// ```
    pub fn is_write(&self) -> bool {
        !matches!(self, Op::Get { .. })
    }
}

/// A client interface: the operations clients ask of a protocol (or a family of protocols)
/// and what an operation that took effect returns. The key-value one is [`Kv`]; a bank's
/// transfers or a register that may return siblings are others.
///
/// ```
/// use serde::Serialize;
/// use sim::node::{ClientApi, ClientId, ClientRequest, Reply, RequestId};
///
/// /// A bank's interface: transfers in, the balance after out.
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// enum Bank {}
///
/// #[derive(Clone, Debug, PartialEq, Serialize)]
/// struct Transfer { from: u32, to: u32, amount: u64 }
///
/// impl ClientApi for Bank {
///     type Op = Transfer;
///     type Output = u64;
/// }
///
/// // A protocol with `type Api = Bank` receives these and answers with those.
/// let request: ClientRequest<Bank> = ClientRequest {
///     id: RequestId { client: ClientId(0), seq: 1 },
///     op: Transfer { from: 0, to: 1, amount: 5 },
/// };
/// let answer: Reply<Bank> = Reply::Ok(95);
/// assert_eq!(request.op.amount, 5);
/// assert_eq!(answer, Reply::Ok(95));
/// ```
pub trait ClientApi: Copy + Debug + PartialEq + 'static {
    /// What a client asks. `Serialize` feeds the trace and its hash.
    type Op: Clone + Debug + PartialEq + Serialize;
    /// What an operation that took effect returned.
    type Output: Clone + Debug + PartialEq + Serialize;
}

/// The key-value interface: [`Op`] in, [`OpResult`] out.
///
/// ```
/// use sim::node::{ClientApi, Kv, Op, OpResult};
/// // The key-value interface's operations and results.
/// fn op_of<A: ClientApi>(op: A::Op) -> A::Op { op }
/// let get: Op = op_of::<Kv>(Op::Get { key: "k".into() });
/// let result: <Kv as ClientApi>::Output = OpResult::Value { value: None };
/// assert!(!get.is_write());
/// assert_eq!(result, OpResult::Value { value: None });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kv {}

impl ClientApi for Kv {
    type Op = Op;
    type Output = OpResult;
}

/// A request as a node receives it.
///
/// ```
/// use sim::node::{ClientId, ClientRequest, Op, RequestId};
/// let request: ClientRequest = ClientRequest {
///     id: RequestId { client: ClientId(0), seq: 1 },
///     op: Op::Get { key: "x".into() },
/// };
/// // As the trace holds it.
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["op"]["f"], "get");
/// assert_eq!(json["id"]["seq"], 1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(bound = "")]
pub struct ClientRequest<A: ClientApi = Kv> {
    /// Which operation of which client (retries share it).
    pub id: RequestId,
    /// What the client asks for.
    pub op: A::Op,
}

/// What the operation did, when it did happen.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Op, OpResult};
/// let mut n0 = node(0);
/// assert_eq!(n0.apply(&Op::Get { key: "x".into() }), OpResult::Value { value: None });
/// assert_eq!(n0.apply(&Op::Put { key: "x".into(), value: "1".into() }), OpResult::Done);
/// let wrong = Op::Cas { key: "x".into(), expect: "2".into(), new: "3".into() };
/// assert_eq!(n0.apply(&wrong), OpResult::Cas { swapped: false });
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum OpResult {
    /// A `get`: the value read (`None`: the key was absent).
    Value {
        /// The value (`None`: absent).
        value: Option<Arc<str>>,
    },
    /// A `put` or an `append` took effect.
    Done,
    /// A `cas`: `true` if it swapped, `false` if the value was not `expect` (nothing changed).
    Cas {
        /// Whether it swapped.
        swapped: bool,
    },
}

/// A node's answer to a request.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientId, ClientRequest, Effect, Op, OpResult, Reply, RequestId};
/// let put = ClientRequest {
///     id: RequestId { client: ClientId(0), seq: 1 },
///     op: Op::Put { key: "x".into(), value: "1".into() },
/// };
/// // Node 0 of Tiny answers Ok; node 1 redirects.
/// let from_0 = step(&mut node(0), 3, 0, |n, ctx| n.on_request(ctx, put.clone()));
/// assert!(matches!(from_0.last(), Some(Effect::Reply { reply: Reply::Ok(OpResult::Done), .. })));
/// let from_1 = step(&mut node(1), 3, 0, |n, ctx| n.on_request(ctx, put));
/// assert!(matches!(from_1[..], [Effect::Reply { reply: Reply::NotLeader { .. }, .. }]));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reply", bound = "")]
pub enum Reply<A: ClientApi = Kv> {
    /// The operation took effect (exactly once) with this result.
    Ok(A::Output),
    /// This node cannot serve the request; `leader` is its best guess of who can. The
    /// operation did not take effect here.
    NotLeader {
        /// Who this node thinks leads (`None`: it does not know).
        leader: Option<NodeId>,
    },
    /// The operation definitely did not take effect (for example the protocol has no client
    /// interface, or refused the request); `reason` says why.
    Fail {
        /// Why, in words.
        reason: String,
    },
}
