//! What a protocol's unit tests read from a handler's effects: the messages it sent, the facts
//! it told, what it wrote to disk, the timers it set. `step` (`node/ctx.rs`) runs the handler;
//! these read what it returned, the same for every protocol; `View` is the run an invariant
//! under test sees.

use super::{
    ClockKind, DiskWrite, Effect, LocalNanos, Nanos, NodeId, NodeStatus, Protocol, RunView,
};

/// The other nodes of a cluster of `n` numbered from 0: the peers of `id`.
pub(crate) fn peers_of(id: NodeId, n: u32) -> Vec<NodeId> {
    (0..n).map(NodeId).filter(|&p| p != id).collect()
}

/// The messages sent, each with its receiver, in order.
pub(crate) fn sent<P: Protocol>(fx: &[Effect<P>]) -> Vec<(NodeId, P::Msg)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send { to, msg } => Some((*to, msg.clone())),
            _ => None,
        })
        .collect()
}

/// The protocol's own facts, in order.
pub(crate) fn facts<P: Protocol>(fx: &[Effect<P>]) -> Vec<P::Fact> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Fact(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

/// The last state written to disk, if any.
pub(crate) fn persisted<P: Protocol>(fx: &[Effect<P>]) -> Option<P::Durable> {
    fx.iter().rev().find_map(|e| match e {
        Effect::Persist(DiskWrite::State(d)) => Some(d.clone()),
        _ => None,
    })
}

/// How long the first setting of `which` waits, if it was set.
pub(crate) fn timer_set<P: Protocol>(fx: &[Effect<P>], which: P::Timer) -> Option<Nanos> {
    fx.iter().find_map(|e| match e {
        Effect::SetTimer { timer, after } if *timer == which => Some(*after),
        _ => None,
    })
}

/// A run seen by an invariant under test: nodes named `names`, every one up, at `now`.
pub(crate) struct View {
    names: Vec<String>,
    now: Nanos,
}

impl View {
    pub(crate) fn new(names: &[&str], now: Nanos) -> View {
        View {
            names: names.iter().map(|n| n.to_string()).collect(),
            now,
        }
    }
}

impl RunView for View {
    fn now(&self) -> Nanos {
        self.now
    }
    fn names(&self) -> &[String] {
        &self.names
    }
    fn status(&self, _: u32) -> NodeStatus {
        NodeStatus::Up
    }
    fn read_clock(&self, _: u32, _: ClockKind) -> LocalNanos {
        0
    }
}
