//! Node identities. A `NodeId` is an index into the cluster's node list; names live in the world.

use serde::Serialize;
use std::fmt;

/// A node's index in the cluster (0-based, in the order the scenario lists the nodes).
///
/// ```
/// use sim::node::NodeId;
/// assert_eq!(NodeId(2).to_string(), "#2");
/// assert!(NodeId(0) < NodeId(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index, to address per-node tables.
    ///
    /// ```
    /// use sim::node::NodeId;
    /// let votes = [true, false, true];
    /// assert!(!votes[NodeId(1).index()]);
    /// ```
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}
