//! What the world knows about its nodes apart from their protocol state: names, clocks (a wall
//! and a monotonic one each), whether each is up, paused or crashed, and the role each last
//! reported.
//!
//! This is the read-only view observers get ([`Cluster`] is not generic over the protocol), and
//! what dynamic fault targets (`leader`, `random-follower`) are resolved against.

pub use crate::node::NodeStatus;
use crate::node::{ClockKind, LocalNanos, Nanos, NodeId, Role, RunView};

use super::clock::Clock;

/// The nodes of a run as they are at one instant: their names, whether each is up, paused or
/// crashed, what its wall and monotonic clocks read, and the role it last reported. Observers
/// and checkers get it read-only with every record.
pub struct Cluster {
    now: Nanos,
    names: Vec<String>,
    /// Wall clocks: offset, drift, jumps.
    clocks: Vec<Clock>,
    /// Monotonic clocks: the wall clock's drift, no offset, no jumps.
    monotonic: Vec<Clock>,
    status: Vec<NodeStatus>,
    roles: Vec<Option<(Role, u64)>>,
}

impl Cluster {
    /// `clocks` are the wall clocks; each node's monotonic clock starts with its drift.
    pub fn new(names: Vec<String>, clocks: Vec<Clock>) -> Self {
        let n = names.len();
        assert_eq!(n, clocks.len());
        Cluster {
            now: 0,
            names,
            monotonic: clocks.iter().map(Clock::monotonic_twin).collect(),
            clocks,
            status: vec![NodeStatus::Up; n],
            roles: vec![None; n],
        }
    }

    /// True time now.
    pub fn now(&self) -> Nanos {
        self.now
    }

    pub(crate) fn set_now(&mut self, now: Nanos) {
        self.now = now;
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True for a cluster of no nodes.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The nodes' names, by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of node `node` (its index), as the trace and the story print it.
    pub fn name(&self, node: u32) -> &str {
        &self.names[node as usize]
    }

    /// The name of the node a `NodeId` refers to.
    pub fn name_of(&self, node: NodeId) -> &str {
        self.name(node.0)
    }

    /// What `node`'s wall clock reads now.
    pub fn local_time(&self, node: u32) -> LocalNanos {
        self.clocks[node as usize].local_at(self.now)
    }

    /// What `node`'s monotonic clock reads now.
    pub fn monotonic_time(&self, node: u32) -> LocalNanos {
        self.monotonic[node as usize].local_at(self.now)
    }

    /// What `node`'s clock of this kind reads now.
    pub fn read_clock(&self, node: u32, kind: ClockKind) -> LocalNanos {
        match kind {
            ClockKind::Wall => self.local_time(node),
            ClockKind::Monotonic => self.monotonic_time(node),
        }
    }

    /// `node`'s wall clock.
    pub fn clock(&self, node: u32) -> &Clock {
        &self.clocks[node as usize]
    }

    /// `node`'s monotonic clock: the one its timers run on.
    pub fn monotonic_clock(&self, node: u32) -> &Clock {
        &self.monotonic[node as usize]
    }

    /// `node`'s wall clock, to step it. The monotonic clock never jumps.
    pub(crate) fn clock_mut(&mut self, node: u32) -> &mut Clock {
        &mut self.clocks[node as usize]
    }

    /// A new drift for both of `node`'s clocks: one oscillator drives them.
    pub(crate) fn set_drift(&mut self, node: u32, ppm: i64) {
        let now = self.now;
        self.clocks[node as usize].set_drift(ppm, now);
        self.monotonic[node as usize].set_drift(ppm, now);
    }

    /// Whether `node` (an index) is up, paused or crashed now.
    pub fn status(&self, node: u32) -> NodeStatus {
        self.status[node as usize]
    }

    pub(crate) fn set_status(&mut self, node: u32, status: NodeStatus) {
        self.status[node as usize] = status;
        if status == NodeStatus::Crashed {
            self.roles[node as usize] = None;
        }
    }

    /// True if `node` is crashed now (a paused node is not).
    pub fn is_crashed(&self, node: u32) -> bool {
        self.status(node) == NodeStatus::Crashed
    }

    /// The role `node` last reported (forgotten when it crashes).
    pub fn role(&self, node: u32) -> Option<(Role, u64)> {
        self.roles[node as usize]
    }

    pub(crate) fn set_role(&mut self, node: u32, role: Role, term: u64) {
        self.roles[node as usize] = Some((role, term));
    }

    /// The node currently observed as leader or master: among live nodes whose last reported
    /// role leads, the one with the highest term (then the lowest index).
    pub fn leader(&self) -> Option<u32> {
        (0..self.len() as u32)
            .filter(|&n| !self.is_crashed(n))
            .filter_map(|n| match self.role(n) {
                Some((role, term)) if role.leads() => Some((term, n)),
                _ => None,
            })
            .max_by_key(|&(term, n)| (term, std::cmp::Reverse(n)))
            .map(|(_, n)| n)
    }

    /// Nodes in a given status, in cluster order.
    pub fn nodes_with(&self, status: NodeStatus) -> Vec<u32> {
        (0..self.len() as u32)
            .filter(|&n| self.status(n) == status)
            .collect()
    }

    /// `{A,B}`: a set of nodes by name.
    pub fn set_name(&self, nodes: &[u32]) -> String {
        let names: Vec<&str> = nodes.iter().map(|&n| self.name(n)).collect();
        format!("{{{}}}", names.join(","))
    }
}

/// What checkers may read of the cluster.
impl RunView for Cluster {
    fn now(&self) -> Nanos {
        self.now
    }
    fn names(&self) -> &[String] {
        &self.names
    }
    fn status(&self, node: u32) -> NodeStatus {
        self.status[node as usize]
    }
    fn read_clock(&self, node: u32, kind: ClockKind) -> LocalNanos {
        Cluster::read_clock(self, node, kind)
    }
}
