//! Faults as written (targets that may be dynamic) and as applied (concrete nodes and links).
//!
//! A fault's target is resolved at the instant the fault fires, against the cluster as it is
//! then: `leader` is the node currently observed leading, `random` draws from the fault stream.
//! A fault that finds no target (no leader yet, the node is already down) is recorded as
//! skipped with its reason — never silently dropped. The applied form is what the trace, the
//! summary and the story print: the concrete schedule the run used.

use crate::node::{Nanos, Rng, format_duration, format_duration_signed};

use super::cluster::{Cluster, NodeStatus};
pub use crate::node::fault::{Applied, FaultRecord, Origin, Resolved};

/// Who a fault hits, as written in the scenario.
///
/// ```
/// use sim::world::{Clock, Cluster, Target};
/// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(); 3]);
/// // A fixed node is named; a dynamic target is resolved when its fault fires.
/// assert_eq!(Target::Node(1).describe(&cluster), "B");
/// assert_eq!(Target::Leader.describe(&cluster), "leader");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One named node, by its index in the cluster.
    Node(u32),
    /// The node currently observed as leader or master.
    Leader,
    /// One node drawn from the fault stream.
    Random,
    /// One node that is not the leader.
    RandomFollower,
    /// ⌊(n−1)/2⌋ nodes drawn from the fault stream.
    Minority,
    /// ⌊n/2⌋+1 nodes drawn from the fault stream.
    Majority,
}

/// The shape of a partition, as written.
///
/// ```
/// use sim::world::{Clock, Cluster, FaultAction, Shape, Target};
/// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(); 3]);
/// let split = FaultAction::Partition(Shape::Groups(vec![vec![Target::Node(0)], vec![Target::Node(1), Target::Node(2)]]));
/// assert_eq!(split.describe(&cluster), "partition [[A], [B, C]]");
/// assert_eq!(FaultAction::Partition(Shape::Isolate(Target::Leader)).describe(&cluster), "isolate leader");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Explicit groups; nodes not listed form one more group.
    Groups(Vec<Vec<Target>>),
    /// A random split into ⌊n/2⌋ and ⌈n/2⌉ nodes.
    Halves,
    /// A random minority cut from the majority (the same as `halves` for an odd cluster).
    MajorityMinority,
    /// Nodes in a random ring, each seeing only its nearest neighbours (enough for a majority).
    Ring,
    /// One node cut from all others.
    Isolate(Target),
    /// Two halves that cannot see each other, plus one node that sees both.
    Bridge(Target),
}

/// A fault, as written.
///
/// ```
/// use sim::world::{Clock, Cluster, FaultAction, Target};
/// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(); 3]);
/// let one_way = FaultAction::Cut { from: vec![Target::Node(2)], to: vec![Target::Node(0)] };
/// assert_eq!(one_way.describe(&cluster), "cut [C] -> [A]");
/// let step = FaultAction::ClockJump { target: Target::Node(0), by: -400_000_000 };
/// assert_eq!(step.describe(&cluster), "clock jump A by -400ms");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Cuts the cluster into groups that cannot reach each other.
    Partition(Shape),
    /// A one-way cut: messages `from` → `to` are dropped, the reverse direction flows.
    Cut {
        /// The senders whose messages are dropped.
        from: Vec<Target>,
        /// The receivers those messages are dropped on the way to.
        to: Vec<Target>,
    },
    /// Repairs every cut.
    Heal,
    /// Stops a node: its volatile state is lost, what it persisted survives, and messages sent
    /// to it are dropped until it restarts.
    Crash(Target),
    /// Starts a crashed node again from what it persisted.
    Restart(Target),
    /// Freezes a node: its timers and messages wait until it resumes (a long GC pause).
    Pause(Target),
    /// Lets a paused node handle what waited for it.
    Resume(Target),
    /// Steps a node's clock at once.
    ClockJump {
        /// Whose clock jumps.
        target: Target,
        /// The step in nanoseconds: positive moves the clock forward, negative back.
        by: i64,
    },
    /// Changes the rate of a node's clock from then on.
    ClockDrift {
        /// Whose clock drifts.
        target: Target,
        /// The drift in parts per million: +1000 runs the clock 0.1% fast, negative runs it slow.
        ppm: i64,
    },
    /// A delay spike: every message to or from the target takes `by` longer until undone.
    Delay {
        /// Whose links slow down.
        target: Target,
        /// The extra one-way latency, in nanoseconds.
        by: Nanos,
    },
    /// The nemesis's final heal: every cut repaired, paused nodes resumed, crashed restarted.
    /// (The nemesis's delay spikes have ended by then: each lasts until `until` at most.)
    Recover,
    /// A Byzantine fault: the targets turn traitor for the rest of the run. The world only
    /// marks them (`ctx.is_traitor()`); what a traitor sends is its protocol's to say.
    Byzantine(Vec<Target>),
}

/// A fault to fire at `at`, undone `lasting` later when given.
///
/// ```
/// use sim::world::{FaultAction, FaultSpec, Origin, Target};
/// // The first `[[faults]]` entry: crash the leader at 2 s, restart it 1 s later.
/// let crash = FaultSpec {
///     at: 2_000_000_000,
///     action: FaultAction::Crash(Target::Leader),
///     lasting: Some(1_000_000_000),
///     origin: Origin::Schedule(0),
/// };
/// assert!(crash.action.is_dynamic(), "which node is the leader is known only at 2 s");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultSpec {
    /// When it fires, in nanoseconds of true time since the start of the run.
    pub at: Nanos,
    /// What it does.
    pub action: FaultAction,
    /// For a partition, cut, crash or pause: how long until it is undone (healed, restarted,
    /// resumed), in nanoseconds; `None` leaves it in place.
    pub lasting: Option<Nanos>,
    /// Where it comes from: a `[[faults]]` entry, the nemesis, or the final heal.
    pub origin: Origin,
}

impl Target {
    /// The target as the story and `summary.md` print it: a node's name, or `leader`, `random`,
    /// `random-follower`, `minority`, `majority`.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster, Target};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(); 3]);
    /// assert_eq!(Target::Minority.describe(&cluster), "minority");
    /// ```
    pub fn describe(&self, cluster: &Cluster) -> String {
        match self {
            Target::Node(n) => cluster.name(*n).to_string(),
            Target::Leader => "leader".into(),
            Target::Random => "random".into(),
            Target::RandomFollower => "random-follower".into(),
            Target::Minority => "minority".into(),
            Target::Majority => "majority".into(),
        }
    }

    fn is_dynamic(&self) -> bool {
        !matches!(self, Target::Node(_))
    }
}

fn list(targets: &[Target], cluster: &Cluster) -> String {
    let names: Vec<String> = targets.iter().map(|t| t.describe(cluster)).collect();
    format!("[{}]", names.join(", "))
}

impl FaultAction {
    /// The fault as written, in scenario words.
    ///
    /// ```
    /// use sim::world::{Clock, Cluster, FaultAction, Target};
    /// let cluster = Cluster::new(vec!["A".into(), "B".into(), "C".into()], vec![Clock::honest(); 3]);
    /// assert_eq!(FaultAction::Pause(Target::Node(2)).describe(&cluster), "pause C");
    /// assert_eq!(FaultAction::ClockDrift { target: Target::Random, ppm: 500 }.describe(&cluster), "clock drift random +500ppm");
    /// ```
    pub fn describe(&self, cluster: &Cluster) -> String {
        match self {
            FaultAction::Partition(shape) => match shape {
                Shape::Groups(groups) => {
                    let gs: Vec<String> = groups.iter().map(|g| list(g, cluster)).collect();
                    format!("partition [{}]", gs.join(", "))
                }
                Shape::Halves => "partition halves".into(),
                Shape::MajorityMinority => "partition majority-minority".into(),
                Shape::Ring => "partition ring".into(),
                Shape::Isolate(t) => format!("isolate {}", t.describe(cluster)),
                Shape::Bridge(t) => format!("bridge through {}", t.describe(cluster)),
            },
            FaultAction::Cut { from, to } => {
                format!("cut {} -> {}", list(from, cluster), list(to, cluster))
            }
            FaultAction::Heal => "heal".into(),
            FaultAction::Crash(t) => format!("crash {}", t.describe(cluster)),
            FaultAction::Restart(t) => format!("restart {}", t.describe(cluster)),
            FaultAction::Pause(t) => format!("pause {}", t.describe(cluster)),
            FaultAction::Resume(t) => format!("resume {}", t.describe(cluster)),
            FaultAction::ClockJump { target, by } => {
                format!(
                    "clock jump {} by {}",
                    target.describe(cluster),
                    format_duration_signed(*by)
                )
            }
            FaultAction::ClockDrift { target, ppm } => {
                format!("clock drift {} {ppm:+}ppm", target.describe(cluster))
            }
            FaultAction::Delay { target, by } => {
                format!(
                    "delay {} by {}",
                    target.describe(cluster),
                    format_duration(*by)
                )
            }
            FaultAction::Recover => "final heal".into(),
            FaultAction::Byzantine(targets) => format!("byzantine {}", list(targets, cluster)),
        }
    }
}

impl FaultAction {
    /// Whether the fault names a target or a shape that is only resolved when it fires.
    ///
    /// ```
    /// use sim::world::{FaultAction, Shape, Target};
    /// assert!(!FaultAction::Crash(Target::Node(0)).is_dynamic());
    /// assert!(FaultAction::Partition(Shape::Halves).is_dynamic(), "which halves is drawn when it fires");
    /// ```
    pub fn is_dynamic(&self) -> bool {
        match self {
            FaultAction::Partition(shape) => match shape {
                Shape::Groups(groups) => groups.iter().flatten().any(Target::is_dynamic),
                Shape::Isolate(t) | Shape::Bridge(t) => t.is_dynamic(),
                Shape::Halves | Shape::MajorityMinority | Shape::Ring => true,
            },
            FaultAction::Cut { from, to } => from.iter().chain(to).any(Target::is_dynamic),
            FaultAction::Crash(t)
            | FaultAction::Restart(t)
            | FaultAction::Pause(t)
            | FaultAction::Resume(t)
            | FaultAction::ClockJump { target: t, .. }
            | FaultAction::ClockDrift { target: t, .. }
            | FaultAction::Delay { target: t, .. } => t.is_dynamic(),
            FaultAction::Byzantine(targets) => targets.iter().any(Target::is_dynamic),
            FaultAction::Heal | FaultAction::Recover => false,
        }
    }
}

/// Which nodes a fault of each kind may pick from.
pub(crate) fn eligible(action: &FaultAction, cluster: &Cluster) -> Vec<u32> {
    match action {
        FaultAction::Crash(_) => (0..cluster.len() as u32)
            .filter(|&n| !cluster.is_crashed(n))
            .collect(),
        FaultAction::Pause(_) => cluster.nodes_with(NodeStatus::Up),
        FaultAction::Restart(_) => cluster.nodes_with(NodeStatus::Crashed),
        FaultAction::Resume(_) => cluster.nodes_with(NodeStatus::Paused),
        _ => (0..cluster.len() as u32).collect(),
    }
}

/// Resolves a target to concrete nodes among `eligible`.
pub(crate) fn resolve_target(
    target: &Target,
    eligible: &[u32],
    cluster: &Cluster,
    rng: &mut Rng,
) -> Result<Vec<u32>, String> {
    let n = cluster.len();
    let pick = |pool: Vec<u32>, count: usize, rng: &mut Rng| -> Result<Vec<u32>, String> {
        if pool.is_empty() || count == 0 {
            return Err(format!(
                "no node to pick for `{}`",
                target.describe(cluster)
            ));
        }
        let mut pool = pool;
        rng.shuffle(&mut pool);
        pool.truncate(count);
        pool.sort_unstable();
        Ok(pool)
    };
    match target {
        Target::Node(node) => {
            if eligible.contains(node) {
                Ok(vec![*node])
            } else {
                Err(format!(
                    "{} is {}",
                    cluster.name(*node),
                    status_word(cluster.status(*node))
                ))
            }
        }
        Target::Leader => match cluster.leader() {
            Some(l) if eligible.contains(&l) => Ok(vec![l]),
            Some(l) => Err(format!(
                "the leader {} is {}",
                cluster.name(l),
                status_word(cluster.status(l))
            )),
            None => Err("no node is leader".into()),
        },
        Target::Random => pick(eligible.to_vec(), 1, rng),
        Target::RandomFollower => {
            let leader = cluster.leader();
            let pool = eligible
                .iter()
                .copied()
                .filter(|&x| Some(x) != leader)
                .collect();
            pick(pool, 1, rng)
        }
        Target::Minority => pick(eligible.to_vec(), (n - 1) / 2, rng),
        Target::Majority => pick(eligible.to_vec(), n / 2 + 1, rng),
    }
}

fn status_word(s: NodeStatus) -> &'static str {
    match s {
        NodeStatus::Up => "up",
        NodeStatus::Paused => "paused",
        NodeStatus::Crashed => "crashed",
    }
}

/// Resolves a partition shape to concrete groups.
pub(crate) fn resolve_shape(
    shape: &Shape,
    cluster: &Cluster,
    rng: &mut Rng,
) -> Result<Resolved, String> {
    let all: Vec<u32> = (0..cluster.len() as u32).collect();
    let n = all.len();
    let shuffled = |rng: &mut Rng| {
        let mut v = all.clone();
        rng.shuffle(&mut v);
        v
    };
    let split = |mut v: Vec<u32>, at: usize| {
        let mut right = v.split_off(at);
        v.sort_unstable();
        right.sort_unstable();
        Resolved::Groups(vec![v, right])
    };
    if n < 2 {
        return Err("a partition needs at least two nodes".into());
    }
    Ok(match shape {
        Shape::Halves | Shape::MajorityMinority => split(shuffled(rng), n / 2),
        Shape::Isolate(t) => {
            let node = resolve_target(t, &all, cluster, rng)?[0];
            let rest = all.iter().copied().filter(|&x| x != node).collect();
            Resolved::Groups(vec![vec![node], rest])
        }
        Shape::Bridge(t) => {
            if n < 3 {
                return Err("a bridge needs at least three nodes".into());
            }
            let bridge = resolve_target(t, &all, cluster, rng)?[0];
            let mut rest: Vec<u32> = all.iter().copied().filter(|&x| x != bridge).collect();
            rng.shuffle(&mut rest);
            let Resolved::Groups(mut halves) = split(rest, (n - 1) / 2) else {
                unreachable!("split makes groups")
            };
            let right = halves.pop().expect("two halves");
            let left = halves.pop().expect("two halves");
            Resolved::Bridge {
                left,
                right,
                bridge,
            }
        }
        Shape::Ring => {
            // Each node must see a majority counting itself: ⌊n/2⌋ others, half on each side.
            let reach = (n / 2).div_ceil(2) as u32;
            Resolved::Ring {
                order: shuffled(rng),
                reach,
            }
        }
        Shape::Groups(groups) => resolve_groups(groups, cluster, rng)?,
    })
}

/// Explicit groups. Dynamic targets resolve first and win: a node named in one group and
/// resolved as `leader` in another belongs to the `leader` group. Unlisted nodes form a group.
fn resolve_groups(
    groups: &[Vec<Target>],
    cluster: &Cluster,
    rng: &mut Rng,
) -> Result<Resolved, String> {
    let all: Vec<u32> = (0..cluster.len() as u32).collect();
    let mut owner: Vec<Option<usize>> = vec![None; all.len()];
    for dynamic in [true, false] {
        for (g, group) in groups.iter().enumerate() {
            for t in group.iter().filter(|t| t.is_dynamic() == dynamic) {
                let free: Vec<u32> = all
                    .iter()
                    .copied()
                    .filter(|&x| owner[x as usize].is_none())
                    .collect();
                let nodes = match t {
                    Target::Node(x) if owner[*x as usize].is_some() => continue,
                    _ => resolve_target(t, &free, cluster, rng)?,
                };
                for x in nodes {
                    owner[x as usize] = Some(g);
                }
            }
        }
    }
    let mut resolved: Vec<Vec<u32>> = vec![Vec::new(); groups.len()];
    let mut rest = Vec::new();
    for (x, o) in owner.iter().enumerate() {
        match o {
            Some(g) => resolved[*g].push(x as u32),
            None => rest.push(x as u32),
        }
    }
    if !rest.is_empty() {
        resolved.push(rest);
    }
    resolved.retain(|g| !g.is_empty());
    if resolved.len() < 2 {
        return Err("every node ended up in one group".into());
    }
    Ok(Resolved::Groups(resolved))
}

/// What `sim list faults` prints: every fault a scenario can write, and what it does.
pub(crate) const CATALOG: &[(&str, &str)] = &[
    (
        "partition",
        "Cuts the network into groups that cannot reach each other (both directions). Explicit \
         groups `[[\"A\",\"B\"],[\"C\",\"D\",\"E\"]]` (targets allowed; unlisted nodes form one more \
         group), or a shape: \"halves\", \"majority-minority\", \"ring\" (each node sees only its \
         nearest neighbours, enough for a majority), { isolate = T }, { bridge = T } (two halves \
         plus one node that sees both). Messages in flight across a new cut are dropped when they \
         arrive. With `for`, exactly this partition's cuts are repaired afterwards.",
    ),
    (
        "cut",
        "A one-way cut: `cut = { from = [..], to = [..] }` drops messages from the first set to the \
         second; the reverse direction flows. With `for`, repaired afterwards.",
    ),
    (
        "heal",
        "`heal = true` repairs every cut, scripted or random.",
    ),
    (
        "crash",
        "`crash = T`: the node stops; its protocol state, timers and held messages are lost, its \
         durable state (what it persisted) and its clock survive. Messages arriving while it is \
         down are dropped. With `for`, it restarts afterwards.",
    ),
    (
        "restart",
        "`restart = T`: a crashed node starts again from its durable state.",
    ),
    (
        "pause",
        "`pause = T`: a stop-the-world pause (a GC pause). The node runs nothing; messages for it \
         and timers that come due are held and handed to it, in order, when it resumes. Its clock \
         keeps running, so it sees the pause only by reading it. With `for`, it resumes afterwards.",
    ),
    (
        "resume",
        "`resume = T`: a paused node runs again and receives what was held for it.",
    ),
    (
        "clock_jump",
        "`clock_jump = T, by = \"-500ms\"`: the node's wall clock steps forward or backward, like an \
         NTP step. Its monotonic clock, and the timers that run on it, do not move: only what the \
         node measures on the wall clock (Raft's lease with `lease_clock = \"wall\"`) sees the step.",
    ),
    (
        "clock_drift",
        "`clock_drift = T, ppm = -500000`: from now on the node's oscillator gains (or, negative, \
         loses) that many parts per million: its wall and monotonic clocks both, so its timers \
         stretch or shrink with it.",
    ),
    (
        "delay",
        "`delay = T, by = \"200ms\"`: a delay spike (a congested switch, a saturated link). Every \
         message the node sends or receives from now on takes `by` longer than its drawn latency; \
         nothing is lost, and nothing else draws differently. Messages already in flight keep \
         their time, so a spike lets later messages on other links overtake them: a vote reply \
         can arrive after its election is over. With `for`, it ends afterwards.",
    ),
    (
        "byzantine",
        "`byzantine = T` or `byzantine = [\"A\", \"B\"]`: the nodes turn traitor from `at` to the \
         end of the run (a Byzantine fault: no `for`). The world changes nothing else; the node's \
         protocol reads `ctx.is_traitor()` and sends what its traitor sends — oral-messages' \
         traitors tell each peer an order drawn at random, so different peers hear conflicting \
         orders. Only a protocol that models traitors accepts it (oral-messages); any other \
         refuses the scenario when it is read, rather than ignore the fault. The nemesis does \
         not draw it.",
    ),
    (
        "nemesis",
        "[nemesis]: random partitions, crashes, pauses, clock jumps and delay spikes drawn from \
         the fault stream (`every` = the quiet interval before each fault, `last` = how long it \
         lasts, `by` = a jump's step or a spike's extra latency) until `until`, then a final heal: \
         every cut repaired, paused nodes resumed, crashed nodes restarted.",
    ),
    (
        "targets",
        "Where a fault names a node T, it may also say: leader (the node currently observed \
         leading, highest term first), random, random-follower, minority (⌊(n−1)/2⌋ random nodes), \
         majority (⌊n/2⌋+1 random nodes). Resolved when the fault fires; a fault with no possible \
         target is recorded as skipped, with the reason.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{Role, Stream};
    use crate::world::clock::Clock;

    fn cluster(n: usize) -> Cluster {
        let names = (0..n)
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect();
        Cluster::new(names, vec![Clock::honest(); n])
    }

    fn rng() -> Rng {
        Rng::derive(5, Stream::Faults)
    }

    #[test]
    fn leader_resolves_to_the_highest_term_leader() {
        let mut c = cluster(5);
        assert!(resolve_target(&Target::Leader, &[0, 1, 2, 3, 4], &c, &mut rng()).is_err());
        c.set_role(1, Role::Leader, 1);
        c.set_role(3, Role::Leader, 2);
        assert_eq!(
            resolve_target(&Target::Leader, &[0, 1, 2, 3, 4], &c, &mut rng()),
            Ok(vec![3])
        );
        c.set_status(3, NodeStatus::Crashed);
        assert_eq!(c.leader(), Some(1));
    }

    #[test]
    fn minority_and_majority_have_the_right_sizes() {
        let c = cluster(5);
        let all = [0, 1, 2, 3, 4];
        assert_eq!(
            resolve_target(&Target::Minority, &all, &c, &mut rng())
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            resolve_target(&Target::Majority, &all, &c, &mut rng())
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn random_follower_never_picks_the_leader() {
        let mut c = cluster(3);
        c.set_role(2, Role::Leader, 1);
        let mut r = rng();
        for _ in 0..50 {
            let got = resolve_target(&Target::RandomFollower, &[0, 1, 2], &c, &mut r).unwrap();
            assert_ne!(got, vec![2]);
        }
    }

    #[test]
    fn explicit_groups_put_unlisted_nodes_together() {
        let c = cluster(5);
        let shape = Shape::Groups(vec![vec![Target::Node(0), Target::Node(1)]]);
        let r = resolve_shape(&shape, &c, &mut rng()).unwrap();
        assert_eq!(r, Resolved::Groups(vec![vec![0, 1], vec![2, 3, 4]]));
        assert_eq!(r.describe(&c), "{A,B} | {C,D,E}");
        assert_eq!(r.cut_links().len(), 2 * 2 * 3);
    }

    #[test]
    fn a_dynamic_target_wins_over_a_name_in_another_group() {
        let mut c = cluster(5);
        c.set_role(2, Role::Leader, 4);
        let shape = Shape::Groups(vec![
            vec![Target::Leader, Target::Node(1)],
            vec![Target::Node(2), Target::Node(3), Target::Node(4)],
        ]);
        let r = resolve_shape(&shape, &c, &mut rng()).unwrap();
        assert_eq!(r, Resolved::Groups(vec![vec![1, 2], vec![3, 4], vec![0]]));
    }

    #[test]
    fn ring_lets_every_node_see_a_majority_but_not_all() {
        let c = cluster(5);
        let r = resolve_shape(&Shape::Ring, &c, &mut rng()).unwrap();
        let cuts = r.cut_links();
        for node in 0..5u32 {
            let cut_from = cuts.iter().filter(|(a, _)| *a == node).count();
            assert_eq!(
                5 - cut_from,
                3,
                "node {node} sees itself and two neighbours"
            );
        }
    }

    #[test]
    fn bridge_node_sees_both_halves() {
        let c = cluster(5);
        let r = resolve_shape(&Shape::Bridge(Target::Node(2)), &c, &mut rng()).unwrap();
        let Resolved::Bridge {
            left,
            right,
            bridge,
        } = &r
        else {
            panic!()
        };
        assert_eq!(*bridge, 2);
        assert_eq!(left.len() + right.len(), 4);
        assert!(r.cut_links().iter().all(|&(a, b)| a != 2 && b != 2));
    }

    #[test]
    fn a_fault_is_dynamic_when_it_names_a_role_or_a_random_shape() {
        let named = FaultAction::Partition(Shape::Groups(vec![vec![Target::Node(0)]]));
        assert!(!named.is_dynamic());
        assert!(!FaultAction::Crash(Target::Node(3)).is_dynamic());
        assert!(FaultAction::Crash(Target::Leader).is_dynamic());
        assert!(FaultAction::Partition(Shape::Ring).is_dynamic());
        let mixed = FaultAction::Cut {
            from: vec![Target::Node(0)],
            to: vec![Target::Minority],
        };
        assert!(mixed.is_dynamic());
        assert!(!FaultAction::Heal.is_dynamic());
    }

    #[test]
    fn touched_names_every_node_a_fault_reached() {
        let bridge = Applied::Partition {
            cut: 0,
            shape: Resolved::Bridge {
                left: vec![3, 0],
                right: vec![4],
                bridge: 1,
            },
        };
        assert_eq!(bridge.touched(), [0, 1, 3, 4]);
        let repair = Applied::Repair {
            cut: 0,
            healed: Box::new(bridge),
        };
        assert_eq!(repair.touched(), [0, 1, 3, 4]);
        assert_eq!(Applied::Crash { nodes: vec![2] }.touched(), [2]);
        assert!(Applied::Heal.touched().is_empty());
    }

    #[test]
    fn halves_split_evenly() {
        let c = cluster(5);
        let Resolved::Groups(g) = resolve_shape(&Shape::Halves, &c, &mut rng()).unwrap() else {
            panic!()
        };
        assert_eq!((g[0].len(), g[1].len()), (2, 3));
    }
}
