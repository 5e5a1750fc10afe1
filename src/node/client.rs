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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientId(pub u32);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// One operation of one client: retries of it share the id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RequestId {
    /// The client that issued it.
    pub client: ClientId,
    /// The client's operation number, from 1, increasing by one per new operation.
    pub seq: u64,
}

/// A key-value operation. Values are strings: `append` concatenates.
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
    pub fn key(&self) -> &Arc<str> {
        match self {
            Op::Get { key }
            | Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::Cas { key, .. } => key,
        }
    }

    /// Whether the operation can change the state (and so must be applied at most once).
    pub fn is_write(&self) -> bool {
        !matches!(self, Op::Get { .. })
    }
}

/// A client interface: the operations clients ask of a protocol (or a family of protocols)
/// and what an operation that took effect returns. The key-value one is [`Kv`]; a bank's
/// transfers or a register that may return siblings are others.
pub trait ClientApi: Copy + Debug + PartialEq + 'static {
    /// What a client asks. `Serialize` feeds the trace and its hash.
    type Op: Clone + Debug + PartialEq + Serialize;
    /// What an operation that took effect returned.
    type Output: Clone + Debug + PartialEq + Serialize;
}

/// The key-value interface: [`Op`] in, [`OpResult`] out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kv {}

impl ClientApi for Kv {
    type Op = Op;
    type Output = OpResult;
}

/// A request as a node receives it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(bound = "")]
pub struct ClientRequest<A: ClientApi = Kv> {
    /// Which operation of which client (retries share it).
    pub id: RequestId,
    /// What the client asks for.
    pub op: A::Op,
}

/// What the operation did, when it did happen.
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
