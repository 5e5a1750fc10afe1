//! Trace records: every event of a run, in order, and the observers that receive them.
//!
//! The world builds a [`Record`] for each event (start, send, deliver, drop, timer, observation,
//! fault, and the clients' invoke, request, reply, drop and complete), feeds it into the running trace hash, and hands it to its [`Observer`]. Records borrow
//! their payloads, so a run that writes no trace pays for no copies. What observers do with
//! records — check invariants, write `trace.jsonl`, tell the story — is theirs to decide; the
//! world knows none of them.

use serde::Serialize;

use crate::node::{ClientRequest, Completion, Nanos, Observation, Protocol, Reply, RequestId};

use super::cluster::Cluster;
use super::fault::FaultRecord;
use super::hash::TraceHasher;

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The network lost it (`loss`).
    Loss,
    /// The link was cut when it was sent or when it arrived.
    Partition,
    /// The receiver was crashed when it arrived.
    NodeDown,
    /// It had arrived while the receiver was paused and was held for it; the receiver crashed
    /// before it resumed, so it was never read.
    CrashedWhilePaused,
}

impl DropReason {
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::NodeDown => "node_down",
            DropReason::CrashedWhilePaused => "crashed_while_paused",
        }
    }
}

/// One event of a run.
pub enum Event<'a, P: Protocol> {
    /// A node starts: at time zero, or again after a crash.
    Start {
        node: u32,
        restart: bool,
    },
    Send {
        from: u32,
        to: u32,
        id: u64,
        msg: &'a P::Msg,
    },
    Deliver {
        from: u32,
        to: u32,
        id: u64,
        msg: &'a P::Msg,
    },
    Drop {
        from: u32,
        to: u32,
        id: u64,
        reason: DropReason,
    },
    Timer {
        node: u32,
        timer: &'a P::Timer,
    },
    Observe {
        node: u32,
        obs: &'a Observation,
    },
    /// One of the protocol's own facts (`Protocol::Fact`).
    Fact {
        node: u32,
        fact: &'a P::Fact,
    },
    Fault(&'a FaultRecord),
    /// A client begins an operation (its invocation in the history).
    Invoke {
        client: u32,
        request: &'a ClientRequest<P::Api>,
    },
    /// A client sends a request (the first time, or again) to a node.
    Request {
        client: u32,
        to: u32,
        id: u64,
        request: &'a ClientRequest<P::Api>,
    },
    /// A request reaches a node.
    RequestDeliver {
        client: u32,
        to: u32,
        id: u64,
    },
    /// A node answers a client: the request answered, and the reply.
    Reply {
        from: u32,
        client: u32,
        id: u64,
        answer: &'a (RequestId, Reply<P::Api>),
    },
    /// A reply reaches its client.
    ReplyDeliver {
        from: u32,
        client: u32,
        id: u64,
    },
    /// A request or a reply was not delivered. `node` is the node end of the link.
    ClientDrop {
        client: u32,
        node: u32,
        id: u64,
        to_node: bool,
        reason: DropReason,
    },
    /// A client's operation ends (its completion in the history).
    Complete {
        client: u32,
        /// The operation's number.
        seq: u64,
        completion: &'a Completion<P::Api>,
    },
}

impl<P: Protocol> Event<'_, P> {
    /// The trace's name for the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Start { .. } => "start",
            Event::Send { .. } => "send",
            Event::Deliver { .. } => "deliver",
            Event::Drop { .. } => "drop",
            Event::Timer { .. } => "timer",
            Event::Observe { .. } => "observe",
            Event::Fact { .. } => "fact",
            Event::Fault(_) => "fault",
            Event::Invoke { .. } => "invoke",
            Event::Request { .. } => "request",
            Event::RequestDeliver { .. } => "request_deliver",
            Event::Reply { .. } => "reply",
            Event::ReplyDeliver { .. } => "reply_deliver",
            Event::ClientDrop { .. } => "client_drop",
            Event::Complete { .. } => "complete",
        }
    }

    /// The client the event concerns, if it concerns one.
    pub fn client(&self) -> Option<u32> {
        match *self {
            Event::Invoke { client, .. }
            | Event::Request { client, .. }
            | Event::RequestDeliver { client, .. }
            | Event::Reply { client, .. }
            | Event::ReplyDeliver { client, .. }
            | Event::ClientDrop { client, .. }
            | Event::Complete { client, .. } => Some(client),
            _ => None,
        }
    }

    /// The node the event happened at, if it happened at one.
    pub fn node(&self) -> Option<u32> {
        match *self {
            Event::Start { node, .. }
            | Event::Timer { node, .. }
            | Event::Observe { node, .. }
            | Event::Fact { node, .. } => Some(node),
            Event::Send { from, .. } => Some(from),
            Event::Deliver { to, .. } | Event::Drop { to, .. } => Some(to),
            Event::RequestDeliver { to, .. } => Some(to),
            Event::Reply { from, .. } => Some(from),
            Event::Fault(_)
            | Event::Invoke { .. }
            | Event::Request { .. }
            | Event::ReplyDeliver { .. }
            | Event::ClientDrop { .. }
            | Event::Complete { .. } => None,
        }
    }

    /// Feeds the event into the trace hash. The layout is part of the hash promise.
    pub(crate) fn hash_into(&self, h: &mut TraceHasher) {
        match self {
            Event::Start { node, restart } => {
                h.word(1);
                h.word(u64::from(*node));
                h.word(u64::from(*restart));
            }
            Event::Send { from, to, id, msg } => {
                h.word(2);
                h.word(u64::from(*from) << 32 | u64::from(*to));
                h.word(*id);
                h.value(*msg);
            }
            Event::Deliver { from, to, id, .. } => {
                h.word(3);
                h.word(u64::from(*from) << 32 | u64::from(*to));
                h.word(*id);
            }
            Event::Drop {
                from,
                to,
                id,
                reason,
            } => {
                h.word(4);
                h.word(u64::from(*from) << 32 | u64::from(*to));
                h.word(*id);
                h.word(*reason as u64);
            }
            Event::Timer { node, timer } => {
                h.word(5);
                h.word(u64::from(*node));
                h.value(*timer);
            }
            Event::Observe { node, obs } => {
                h.word(6);
                h.word(u64::from(*node));
                h.value(*obs);
            }
            Event::Fact { node, fact } => {
                h.word(15);
                h.word(u64::from(*node));
                h.value(*fact);
            }
            Event::Fault(record) => {
                h.word(7);
                h.value(*record);
            }
            Event::Invoke { client, request } => {
                h.word(8);
                h.word(u64::from(*client));
                h.value(*request);
            }
            Event::Request {
                client,
                to,
                id,
                request,
            } => {
                h.word(9);
                h.word(u64::from(*client) << 32 | u64::from(*to));
                h.word(*id);
                h.value(&request.id);
            }
            Event::RequestDeliver { client, to, id } => {
                h.word(10);
                h.word(u64::from(*client) << 32 | u64::from(*to));
                h.word(*id);
            }
            Event::Reply {
                from,
                client,
                id,
                answer,
            } => {
                h.word(11);
                h.word(u64::from(*from) << 32 | u64::from(*client));
                h.word(*id);
                h.value(*answer);
            }
            Event::ReplyDeliver { from, client, id } => {
                h.word(12);
                h.word(u64::from(*from) << 32 | u64::from(*client));
                h.word(*id);
            }
            Event::ClientDrop {
                client,
                node,
                id,
                to_node,
                reason,
            } => {
                h.word(13);
                h.word(u64::from(*client) << 32 | u64::from(*node));
                h.word(*id);
                h.word(u64::from(*to_node) << 8 | *reason as u64);
            }
            Event::Complete {
                client,
                seq,
                completion,
            } => {
                h.word(14);
                h.word(u64::from(*client));
                h.word(*seq);
                h.value(*completion);
            }
        }
    }
}

/// A numbered event at a true instant.
pub struct Record<'a, P: Protocol> {
    /// The record's position in the trace (0-based).
    pub seq: u64,
    /// True time in nanoseconds.
    pub at: Nanos,
    pub event: Event<'a, P>,
}

/// Receives every record of a run as it happens, with the cluster as it is at that instant.
pub trait Observer<P: Protocol> {
    fn on_record(&mut self, record: &Record<'_, P>, cluster: &Cluster);

    /// The run reached its end (its duration, or a limit).
    fn on_end(&mut self, _cluster: &Cluster) {}
}

/// Observes nothing: for runs that only want the hash.
impl<P: Protocol> Observer<P> for () {
    #[inline]
    fn on_record(&mut self, _: &Record<'_, P>, _: &Cluster) {}
}

/// Two observers side by side.
impl<P: Protocol, A: Observer<P>, B: Observer<P>> Observer<P> for (A, B) {
    #[inline]
    fn on_record(&mut self, record: &Record<'_, P>, cluster: &Cluster) {
        self.0.on_record(record, cluster);
        self.1.on_record(record, cluster);
    }
    fn on_end(&mut self, cluster: &Cluster) {
        self.0.on_end(cluster);
        self.1.on_end(cluster);
    }
}

/// Hashes and numbers records, then passes them on.
pub(crate) struct Tracer<O> {
    pub hasher: TraceHasher,
    pub records: u64,
    pub observer: O,
}

impl<O> Tracer<O> {
    #[inline]
    pub fn emit<P: Protocol>(&mut self, at: Nanos, cluster: &Cluster, event: Event<'_, P>)
    where
        O: Observer<P>,
    {
        self.hasher.word(at);
        event.hash_into(&mut self.hasher);
        let record = Record {
            seq: self.records,
            at,
            event,
        };
        self.records += 1;
        self.observer.on_record(&record, cluster);
    }
}
