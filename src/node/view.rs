//! The run as checkers see it: a read-only view of who is up and what each clock reads, defined
//! here so that a checker — built in or a protocol's own — judges a run without the engine's
//! types. The world's cluster implements it.

use super::{ClockKind, LocalNanos, Nanos};

/// Whether a node is running.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{NodeStatus, RunView};
/// let mut v = view();
/// v.crashed.push(1);
/// assert_eq!(v.status(0), NodeStatus::Up);
/// assert_eq!(v.status(1), NodeStatus::Crashed);
/// assert!(v.is_crashed(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    /// Running.
    Up,
    /// Stopped the world (a GC pause): alive, but running nothing.
    Paused,
    /// Down: it lost its memory; its disk is kept for a restart.
    Crashed,
}

/// What a checker may read of the run at the instant it is called.
///
/// ```
/// use sim::node::{NodeStatus, RunView};
///
/// /// The nodes that can act now.
/// fn live(view: &dyn RunView) -> Vec<&str> {
///     (0..view.len() as u32)
///         .filter(|&n| view.status(n) == NodeStatus::Up)
///         .map(|n| view.name(n))
///         .collect()
/// }
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
///
/// // A view of three nodes, B crashed (how an invariant's unit test feeds it by hand).
/// let mut v = view();
/// v.crashed.push(1);
/// assert_eq!(live(&v), ["A", "C"]);
/// assert_eq!(v.set_name(&[0, 2]), "{A,C}");
/// ```
pub trait RunView {
    /// True virtual time now, in nanoseconds.
    fn now(&self) -> Nanos;
    /// Node names, by index.
    fn names(&self) -> &[String];
    /// Whether `node` is up, paused or crashed.
    fn status(&self, node: u32) -> NodeStatus;
    /// What `node`'s clock of `kind` reads now: its wall clock (offset, drift, jumps) or its
    /// monotonic one (drift only).
    fn read_clock(&self, node: u32, kind: ClockKind) -> LocalNanos;

    /// How many nodes the cluster has.
    fn len(&self) -> usize {
        self.names().len()
    }
    /// Whether the cluster has no node (never, in a run).
    fn is_empty(&self) -> bool {
        self.names().is_empty()
    }
    /// `node`'s name.
    fn name(&self, node: u32) -> &str {
        &self.names()[node as usize]
    }
    /// Whether `node` is crashed now.
    fn is_crashed(&self, node: u32) -> bool {
        self.status(node) == NodeStatus::Crashed
    }
    /// `{A,B}`: a set of nodes by name.
    fn set_name(&self, nodes: &[u32]) -> String {
        let names: Vec<&str> = nodes.iter().map(|&n| self.name(n)).collect();
        format!("{{{}}}", names.join(","))
    }
}
