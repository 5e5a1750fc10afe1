//! Faults as they happened: what checkers, the story and reports read of the fault schedule.
//!
//! The world decides and applies faults (`world::fault` has them as written, with their targets
//! and shapes); what it hands on is only this record of what happened, in node indices, so a
//! checker or a protocol's own invariant judges faults without knowing the engine.

use serde::Serialize;

use super::{Nanos, RunView, format_duration, format_duration_signed};

/// Where a fault came from.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Applied, FaultRecord, Invariant, Origin, Status};
/// // An invariant's `on_fault` learns which `[[faults]]` entry did what.
/// let crash = FaultRecord {
///     at: 1_000 * MS,
///     origin: Origin::Schedule(0),
///     written: "crash A".into(),
///     applied: Applied::Crash { nodes: vec![0] },
///     lasting: None,
///     dynamic: false,
/// };
/// let mut check = WritesCounted::default();
/// check.on_fault(crash.at, &crash, &view());
/// assert_eq!(check.status(), Status::Pass, "writes_counted ignores faults");
/// assert_eq!(serde_json::to_value(Origin::Schedule(0)).unwrap()["schedule"], 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The n-th `[[faults]]` entry (0-based).
    Schedule(u32),
    /// Drawn by the nemesis.
    Nemesis,
    /// The nemesis's final heal at `until`.
    FinalHeal,
    /// The end of a fault's `for`.
    End,
}

/// A partition's shape with concrete nodes.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::Resolved;
/// let split = Resolved::Groups(vec![vec![0], vec![1, 2]]);
/// assert_eq!(split.describe(&view()), "{A} | {B,C}");
/// let bridged = Resolved::Bridge { left: vec![0], right: vec![2], bridge: 1 };
/// assert_eq!(bridged.describe(&view()), "{A} | {C} bridged by B");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolved {
    /// Groups that cannot reach each other, in either direction; links inside a group work.
    Groups(Vec<Vec<u32>>),
    /// Two halves that cannot reach each other, and one node that reaches both.
    Bridge {
        /// One half.
        left: Vec<u32>,
        /// The other half.
        right: Vec<u32>,
        /// The node in neither half, linked to every node.
        bridge: u32,
    },
    /// The nodes in a ring, each reaching only its nearest neighbours on either side.
    Ring {
        /// The ring, in order (the last node neighbours the first).
        order: Vec<u32>,
        /// How many neighbours each node reaches on either side.
        reach: u32,
    },
}

/// A fault as it happened.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::Applied;
/// let jump = Applied::ClockJump { nodes: vec![2], by: -500_000_000 };
/// assert_eq!(jump.describe(&view()), "clock of C jumps -500ms");
/// assert_eq!(jump.nodes(), [2]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Applied {
    /// The network was partitioned.
    Partition {
        /// The number the network gave this set of cut links, so that a repair names it.
        cut: u32,
        /// Who was cut off from whom.
        shape: Resolved,
    },
    /// A one-way cut: messages `from` → `to` are dropped; the reverse direction flows.
    Cut {
        /// The number the network gave this set of cut links, so that a repair names it.
        cut: u32,
        /// The senders whose messages are dropped.
        from: Vec<u32>,
        /// The receivers they no longer reach.
        to: Vec<u32>,
    },
    /// Every link repaired.
    Heal,
    /// The end of one timed partition or cut: `healed` is the partition or cut it repairs.
    Repair {
        /// The number of the cut links repaired.
        cut: u32,
        /// The partition or cut as it was applied.
        healed: Box<Applied>,
    },
    /// Nodes crashed: they lose everything but their disk.
    Crash {
        /// The nodes crashed.
        nodes: Vec<u32>,
    },
    /// Crashed nodes started again, from their disk.
    Restart {
        /// The nodes restarted.
        nodes: Vec<u32>,
    },
    /// Nodes stopped the world (a GC pause): alive, but running nothing.
    Pause {
        /// The nodes paused.
        nodes: Vec<u32>,
    },
    /// Paused nodes run again.
    Resume {
        /// The nodes resumed.
        nodes: Vec<u32>,
    },
    /// Nodes' wall clocks stepped (monotonic clocks do not jump).
    ClockJump {
        /// The nodes whose clocks jumped.
        nodes: Vec<u32>,
        /// The step, in nanoseconds: negative is backwards.
        by: i64,
    },
    /// Nodes' oscillators now run fast or slow.
    ClockDrift {
        /// The nodes whose clocks drift.
        nodes: Vec<u32>,
        /// The new drift rate, in parts per million (positive: fast).
        ppm: i64,
    },
    /// A delay spike: every message the nodes send or receive takes `by` longer (a congested
    /// switch, a saturated NIC, a noisy neighbour), on top of the link's own latency.
    Slow {
        /// The nodes whose links slowed.
        nodes: Vec<u32>,
        /// The extra one-way latency, in nanoseconds.
        by: Nanos,
    },
    /// The end of a delay spike: the nodes' links lose the `by` it added.
    Unslow {
        /// The nodes whose links sped up again.
        nodes: Vec<u32>,
        /// The extra latency removed, in nanoseconds.
        by: Nanos,
    },
    /// What a crash took from a node's disk (`[storage] lose_unsynced`): the writes whose sync
    /// had not ended, undone.
    LostWrites {
        /// The node (one per record).
        nodes: Vec<u32>,
        /// How many writes were undone.
        writes: u64,
    },
    /// The nemesis's final heal: every link repaired, every node it had hit running again.
    Recover {
        /// The crashed nodes it restarted.
        restarted: Vec<u32>,
        /// The paused nodes it resumed.
        resumed: Vec<u32>,
    },
    /// The fault could not apply (no node matched its target, the partition was already
    /// healed), and nothing changed.
    Skipped {
        /// Why, in words.
        reason: String,
    },
    /// Nodes turned traitor (a Byzantine fault): from now on each may send different peers
    /// conflicting messages, as its protocol's traitor does. It lasts to the end of the run.
    Traitor {
        /// The nodes that turned.
        nodes: Vec<u32>,
    },
}

/// One line of the concrete schedule.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Applied, FaultRecord, Origin};
/// // `crash = "leader"` resolved to C, undone after a second.
/// let record = FaultRecord {
///     at: 1_000 * MS,
///     origin: Origin::Schedule(0),
///     written: "leader".into(),
///     applied: Applied::Crash { nodes: vec![2] },
///     lasting: Some(1_000 * MS),
///     dynamic: true,
/// };
/// assert_eq!(record.describe(&view()), "crash C (leader) for 1s");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FaultRecord {
    /// True time it happened, in nanoseconds.
    pub at: Nanos,
    /// Which entry of the schedule, or the nemesis, caused it.
    pub origin: Origin,
    /// The fault as written (`crash leader`), for a reader who wants to see what resolved.
    pub written: String,
    /// What it did, in node indices.
    pub applied: Applied,
    /// When the fault is undone, for a fault with `for`.
    pub lasting: Option<Nanos>,
    /// The fault named a dynamic target or a random shape, so what was written says more
    /// than the nodes it hit. Derived from the scenario, so not part of the trace hash.
    #[serde(skip)]
    pub dynamic: bool,
}

impl Resolved {
    /// The directed links this partition cuts.
    ///
    /// ```
    /// use sim::node::Resolved;
    /// let links = Resolved::Groups(vec![vec![0], vec![1]]).cut_links();
    /// assert_eq!(links, [(0, 1), (1, 0)]);
    /// ```
    pub fn cut_links(&self) -> Vec<(u32, u32)> {
        let mut links = Vec::new();
        let mut both = |a: u32, b: u32| {
            links.push((a, b));
            links.push((b, a));
        };
        match self {
            Resolved::Groups(groups) => {
                for (i, g) in groups.iter().enumerate() {
                    for h in &groups[i + 1..] {
                        for &a in g {
                            for &b in h {
                                both(a, b);
                            }
                        }
                    }
                }
            }
            Resolved::Bridge { left, right, .. } => {
                for &a in left {
                    for &b in right {
                        both(a, b);
                    }
                }
            }
            Resolved::Ring { order, reach } => {
                let n = order.len();
                for i in 0..n {
                    for j in i + 1..n {
                        let d = (j - i).min(n - (j - i));
                        if d > *reach as usize {
                            both(order[i], order[j]);
                        }
                    }
                }
            }
        }
        links
    }

    /// The shape with node names: `{A,B} | {C,D,E}`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::Resolved;
    /// let ring = Resolved::Ring { order: vec![0, 1, 2], reach: 1 };
    /// assert_eq!(ring.describe(&view()), "ring A-B-C (each sees 1 on either side)");
    /// ```
    pub fn describe(&self, cluster: &dyn RunView) -> String {
        match self {
            Resolved::Groups(groups) => {
                let gs: Vec<String> = groups.iter().map(|g| cluster.set_name(g)).collect();
                gs.join(" | ")
            }
            Resolved::Bridge {
                left,
                right,
                bridge,
            } => format!(
                "{} | {} bridged by {}",
                cluster.set_name(left),
                cluster.set_name(right),
                cluster.name(*bridge)
            ),
            Resolved::Ring { order, reach } => {
                let names: Vec<&str> = order.iter().map(|&x| cluster.name(x)).collect();
                format!(
                    "ring {} (each sees {} on either side)",
                    names.join("-"),
                    reach
                )
            }
        }
    }
}

impl Applied {
    /// The fault as it happened, with node names: `partition {A,B} | {C,D,E}`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{Applied, Resolved};
    /// let p = Applied::Partition { cut: 1, shape: Resolved::Groups(vec![vec![0, 1], vec![2]]) };
    /// assert_eq!(p.describe(&view()), "partition {A,B} | {C}");
    /// ```
    pub fn describe(&self, cluster: &dyn RunView) -> String {
        let set = |nodes: &[u32]| {
            if nodes.len() == 1 {
                cluster.name(nodes[0]).to_string()
            } else {
                cluster.set_name(nodes)
            }
        };
        match self {
            Applied::Partition { shape, .. } => format!("partition {}", shape.describe(cluster)),
            Applied::Cut { from, to, .. } => format!("one-way cut {} -> {}", set(from), set(to)),
            Applied::Heal => "heal: every link repaired".into(),
            Applied::Repair { healed, .. } => match healed.as_ref() {
                Applied::Partition { shape, .. } => {
                    format!("heal partition {}", shape.describe(cluster))
                }
                other => format!("heal {}", other.describe(cluster)),
            },
            Applied::Crash { nodes } => format!("crash {}", set(nodes)),
            Applied::Restart { nodes } => format!("restart {}", set(nodes)),
            Applied::Pause { nodes } => format!("pause {}", set(nodes)),
            Applied::Resume { nodes } => format!("resume {}", set(nodes)),
            Applied::ClockJump { nodes, by } => {
                format!(
                    "clock of {} jumps {}",
                    set(nodes),
                    format_duration_signed(*by)
                )
            }
            Applied::ClockDrift { nodes, ppm } => {
                format!("clock of {} drifts {ppm:+}ppm", set(nodes))
            }
            Applied::Slow { nodes, by } => {
                format!(
                    "slow the links of {} by {}",
                    set(nodes),
                    format_duration(*by)
                )
            }
            Applied::Unslow { nodes, by } => {
                format!(
                    "the links of {} lose their extra {}",
                    set(nodes),
                    format_duration(*by)
                )
            }
            Applied::LostWrites { nodes, writes } => format!(
                "{} loses {writes} unsynced disk write{}",
                set(nodes),
                if *writes == 1 { "" } else { "s" }
            ),
            Applied::Recover { restarted, resumed } => {
                let mut s = "final heal: every link repaired".to_string();
                if !resumed.is_empty() {
                    s += &format!(", {} resumed", set(resumed));
                }
                if !restarted.is_empty() {
                    s += &format!(", {} restarted", set(restarted));
                }
                s
            }
            Applied::Skipped { reason } => format!("skipped: {reason}"),
            Applied::Traitor { nodes } => format!(
                "{} turn{} traitor",
                set(nodes),
                if nodes.len() == 1 { "s" } else { "" }
            ),
        }
    }

    /// Every node the fault touched, partitions and repairs included, in cluster order.
    ///
    /// ```
    /// use sim::node::{Applied, Resolved};
    /// let p = Applied::Partition { cut: 1, shape: Resolved::Groups(vec![vec![2], vec![0, 1]]) };
    /// assert_eq!(p.touched(), [0, 1, 2]);
    /// assert_eq!(p.nodes(), [] as [u32; 0], "a partition acts on links, not nodes");
    /// ```
    pub fn touched(&self) -> Vec<u32> {
        let mut nodes = match self {
            Applied::Partition { shape, .. } => match shape {
                Resolved::Groups(groups) => groups.concat(),
                Resolved::Bridge {
                    left,
                    right,
                    bridge,
                } => [left.as_slice(), right.as_slice(), &[*bridge]].concat(),
                Resolved::Ring { order, .. } => order.clone(),
            },
            Applied::Cut { from, to, .. } => [from.as_slice(), to.as_slice()].concat(),
            Applied::Repair { healed, .. } => healed.touched(),
            Applied::Recover { restarted, resumed } => {
                [restarted.as_slice(), resumed.as_slice()].concat()
            }
            other => other.nodes().to_vec(),
        };
        nodes.sort_unstable();
        nodes.dedup();
        nodes
    }

    /// The nodes this fault acted on directly.
    ///
    /// ```
    /// use sim::node::Applied;
    /// assert_eq!(Applied::Pause { nodes: vec![1] }.nodes(), [1]);
    /// assert!(Applied::Heal.nodes().is_empty());
    /// ```
    pub fn nodes(&self) -> &[u32] {
        match self {
            Applied::Crash { nodes }
            | Applied::Restart { nodes }
            | Applied::Pause { nodes }
            | Applied::Resume { nodes }
            | Applied::ClockJump { nodes, .. }
            | Applied::ClockDrift { nodes, .. }
            | Applied::Slow { nodes, .. }
            | Applied::Unslow { nodes, .. }
            | Applied::LostWrites { nodes, .. }
            | Applied::Traitor { nodes } => nodes,
            _ => &[],
        }
    }
}

impl FaultRecord {
    /// One line of the schedule: `crash C (leader) for 1s`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{Applied, FaultRecord, Origin};
    /// let record = FaultRecord {
    ///     at: 0,
    ///     origin: Origin::Nemesis,
    ///     written: "pause B".into(),
    ///     applied: Applied::Pause { nodes: vec![1] },
    ///     lasting: Some(200 * MS),
    ///     dynamic: false,
    /// };
    /// assert_eq!(record.describe(&view()), "pause B for 200ms");
    /// ```
    pub fn describe(&self, cluster: &dyn RunView) -> String {
        let mut s = self.applied.describe(cluster);
        if let Applied::Skipped { .. } = self.applied {
            s = format!("{}: {s}", self.written);
        } else if self.dynamic {
            s += &format!(" ({})", self.written);
        }
        if let Some(d) = self.lasting {
            s += &format!(" for {}", crate::node::time::format_duration(d));
        }
        s
    }
}
