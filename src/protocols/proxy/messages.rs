//! What senders, proxies and the backend say to each other, their timers, and the facts they
//! state.

use serde::Serialize;

use crate::node::NodeId;

/// A message between a sender, a proxy and the backend. `seq` numbers a sender's messages
/// from 1, in the order it sends them; a resent message keeps its number.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::proxy::Msg;
/// // As the trace holds them.
/// let m = Msg::Forward { sender: NodeId(3), seq: 7 };
/// assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"forward":{"sender":3,"seq":7}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// Sender → proxy: carry message `seq` to the backend.
    Send {
        /// The sender's number for it.
        seq: u64,
    },
    /// Proxy → backend: message `seq` of `sender`. Everything the proxy needs to forward it,
    /// and the acknowledgement back, is in the message: the proxy keeps no state.
    Forward {
        /// Who sent it.
        sender: NodeId,
        /// The sender's number for it.
        seq: u64,
    },
    /// Backend → proxy: message `seq` of `sender` is applied (or was already).
    Ack {
        /// Who sent it.
        sender: NodeId,
        /// The sender's number for it.
        seq: u64,
    },
    /// Proxy → sender: the backend's acknowledgement of message `seq`.
    Acked {
        /// The sender's number for it.
        seq: u64,
    },
    /// Sender → proxy: the heartbeat (`failover`).
    Ping {
        /// The ping's number.
        seq: u64,
    },
    /// Proxy → sender: the answer to ping `seq`.
    Pong {
        /// The ping answered.
        seq: u64,
    },
}

/// A sender's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// Send the next message.
    Next,
    /// Message `seq` is still unacknowledged: send it again.
    Retry(u64),
    /// Ping every proxy, and count the pings they left unanswered.
    Ping,
}

/// The facts of `proxy`: what its invariants read.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::proxy::ProxyFact;
/// let f = ProxyFact::Applied { sender: NodeId(3), seq: 4 };
/// assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"applied":{"sender":3,"seq":4}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyFact {
    /// Sender: it sent message `seq` through proxy `via`; `attempt` 1 is the first send, a
    /// higher one a resend.
    Sent {
        /// Its number.
        seq: u64,
        /// The proxy it went to.
        via: NodeId,
        /// Which send of it this is, from 1.
        attempt: u32,
    },
    /// Backend: message `seq` of `sender` arrived, forwarded by proxy `via`.
    Arrived {
        /// Who sent it.
        sender: NodeId,
        /// Its number.
        seq: u64,
        /// The proxy that forwarded it.
        via: NodeId,
    },
    /// Backend: it applied message `seq` of `sender` (the business effect of the message).
    Applied {
        /// Who sent it.
        sender: NodeId,
        /// Its number.
        seq: u64,
    },
    /// Backend, `order = "sequence"`: message `seq` of `sender` arrived before `next`, the
    /// first one not yet applied: it is held until the gap is filled.
    Held {
        /// Who sent it.
        sender: NodeId,
        /// Its number.
        seq: u64,
        /// The message the backend waits for first.
        next: u64,
    },
    /// Backend, `order = "sequence"`: a copy of message `seq` of `sender`, already applied or
    /// held, is dropped (and acknowledged again if applied).
    Dropped {
        /// Who sent it.
        sender: NodeId,
        /// Its number.
        seq: u64,
    },
}
