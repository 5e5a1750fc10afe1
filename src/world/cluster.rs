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
///
/// ```
/// use sim::node::NodeStatus;
/// use sim::world::{Clock, Cluster};
/// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
/// // Before the run: everyone up, nobody leading, true time zero.
/// assert_eq!((cluster.len(), cluster.now(), cluster.leader()), (3, 0, None));
/// assert_eq!(cluster.nodes_with(NodeStatus::Up), [0, 1, 2]);
/// ```
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
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into()], vec![Clock::honest(); 2]);
    /// assert_eq!(cluster.names(), ["A", "B"]);
    /// ```
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
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// assert_eq!(Cluster::new(vec!["A".into()], vec![Clock::honest()]).now(), 0);
    /// ```
    pub fn now(&self) -> Nanos {
        self.now
    }

    pub(crate) fn set_now(&mut self, now: Nanos) {
        self.now = now;
    }

    /// The number of nodes.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(cluster.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True for a cluster of no nodes.
    ///
    /// ```
    /// use sim::world::Cluster;
    /// assert!(Cluster::new(Vec::new(), Vec::new()).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The nodes' names, by index.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(cluster.names().join(","), "A,B,C");
    /// ```
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of node `node` (its index), as the trace and the story print it.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(cluster.name(2), "C");
    /// ```
    pub fn name(&self, node: u32) -> &str {
        &self.names[node as usize]
    }

    /// The name of the node a `NodeId` refers to.
    ///
    /// ```
    /// use sim::node::NodeId;
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(cluster.name_of(NodeId(1)), "B");
    /// ```
    pub fn name_of(&self, node: NodeId) -> &str {
        self.name(node.0)
    }

    /// What `node`'s wall clock reads now.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// // B's wall clock is 5 ms behind.
    /// assert_eq!((cluster.local_time(0), cluster.local_time(1)), (0, -5_000_000));
    /// ```
    pub fn local_time(&self, node: u32) -> LocalNanos {
        self.clocks[node as usize].local_at(self.now)
    }

    /// What `node`'s monotonic clock reads now.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// // The monotonic clock has no offset.
    /// assert_eq!(cluster.monotonic_time(1), 0);
    /// ```
    pub fn monotonic_time(&self, node: u32) -> LocalNanos {
        self.monotonic[node as usize].local_at(self.now)
    }

    /// What `node`'s clock of this kind reads now.
    ///
    /// ```
    /// use sim::node::ClockKind;
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(cluster.read_clock(1, ClockKind::Wall), -5_000_000);
    /// assert_eq!(cluster.read_clock(1, ClockKind::Monotonic), 0);
    /// ```
    pub fn read_clock(&self, node: u32, kind: ClockKind) -> LocalNanos {
        match kind {
            ClockKind::Wall => self.local_time(node),
            ClockKind::Monotonic => self.monotonic_time(node),
        }
    }

    /// `node`'s wall clock.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(*cluster.clock(1), Clock::new(-5_000_000, 0));
    /// ```
    pub fn clock(&self, node: u32) -> &Clock {
        &self.clocks[node as usize]
    }

    /// `node`'s monotonic clock: the one its timers run on.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(*cluster.monotonic_clock(1), Clock::honest());
    /// ```
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
    ///
    /// ```
    /// use sim::node::NodeStatus;
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(cluster.status(0), NodeStatus::Up);
    /// ```
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
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert!(!cluster.is_crashed(0));
    /// ```
    pub fn is_crashed(&self, node: u32) -> bool {
        self.status(node) == NodeStatus::Crashed
    }

    /// The role `node` last reported (forgotten when it crashes).
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(cluster.role(0), None, "no node has observed a role yet");
    /// ```
    pub fn role(&self, node: u32) -> Option<(Role, u64)> {
        self.roles[node as usize]
    }

    pub(crate) fn set_role(&mut self, node: u32, role: Role, term: u64) {
        self.roles[node as usize] = Some((role, term));
    }

    /// The node currently observed as leader or master: among live nodes whose last reported
    /// role leads, the one with the highest term (then the lowest index).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::protocols::raft::{Raft, RaftConfig};
    /// use sim::world::{Outcome, World};
    /// // Three Raft nodes for two seconds: by then one of them leads.
    /// let mut world: World<Raft, ()> = World::new(world_spec(3, 1, 2_000 * MS), RaftConfig::default(), ());
    /// assert_eq!(world.run(), Outcome::Completed);
    /// let leader = world.cluster().leader().expect("a leader within 2 s");
    /// assert!(world.cluster().role(leader).is_some_and(|(role, _)| role.leads()));
    /// ```
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
    ///
    /// ```
    /// use sim::node::NodeStatus;
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert!(cluster.nodes_with(NodeStatus::Crashed).is_empty());
    /// ```
    pub fn nodes_with(&self, status: NodeStatus) -> Vec<u32> {
        (0..self.len() as u32)
            .filter(|&n| self.status(n) == status)
            .collect()
    }

    /// `{A,B}`: a set of nodes by name.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(), Clock::new(-5_000_000, 0), Clock::honest()]);
    /// assert_eq!(cluster.set_name(&[0, 2]), "{A,C}");
    /// ```
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
