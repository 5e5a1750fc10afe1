//! A run made explicit: the fault schedule the world applied, as `[[faults]]` entries that name
//! their nodes, so that dropping one fault cannot move another.
//!
//! Dynamic targets (`leader`, `random`, `minority`, random shapes) and the nemesis draw from the
//! fault stream in firing order, so removing one fault would re-aim every later one. Written
//! with the nodes each one hit, no fault draws anything, and the run is the same run: the
//! network, the nodes and the clients draw from streams of their own.
//!
//! One realised fault becomes one [`Unit`] — what the shrinker keeps or drops as a whole:
//! - a partition into groups: one `partition` with those groups;
//! - a bridge: two one-way `cut`s (left to right, right to left); a ring: one `cut` per node,
//!   from it to the nodes it cannot see; both undo after the same `for`;
//! - a crash, pause, restart, resume or clock fault of several nodes: one entry per node;
//! - the nemesis's final heal: `heal`, then a `resume` and a `restart` per node it woke;
//! - a fault that was skipped (no target) did nothing and is left out, as are the ends of
//!   `for`s, which the entries' own `for` brings back.

use crate::node::Nanos;
use crate::world::fault::Resolved;
use crate::world::{Applied, FaultAction, FaultRecord, FaultSpec, Origin, Shape, Target};

/// One realised fault: the entries that write it, all at one instant with one `for`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// The `[[faults]]` entries that write this fault, in the order they are written.
    pub entries: Vec<FaultSpec>,
}

impl Unit {
    /// When the fault fires: the virtual time (nanoseconds) of its entries, 0 if it has none.
    pub fn at(&self) -> Nanos {
        self.entries.first().map_or(0, |e| e.at)
    }

    /// How long it lasts, when it is undone after a while.
    pub fn lasting(&self) -> Option<Nanos> {
        self.entries.first().and_then(|e| e.lasting)
    }

    /// The same fault, undone after `d`.
    pub fn lasting_for(&self, d: Nanos) -> Unit {
        let mut u = self.clone();
        for e in &mut u.entries {
            e.lasting = Some(d);
        }
        u
    }
}

/// The schedule a run applied, as explicit units in firing order.
pub fn units(applied: &[FaultRecord]) -> Vec<Unit> {
    applied
        .iter()
        .filter(|r| r.origin != Origin::End)
        .filter_map(|r| {
            let actions = actions(&r.applied);
            (!actions.is_empty()).then(|| Unit {
                entries: actions
                    .into_iter()
                    .map(|action| FaultSpec {
                        at: r.at,
                        action,
                        lasting: r.lasting,
                        origin: Origin::Schedule(0),
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The units' entries in order, numbered as `[[faults]]` entries are.
pub fn flatten(units: &[Unit]) -> Vec<FaultSpec> {
    units
        .iter()
        .flat_map(|u| u.entries.iter().cloned())
        .enumerate()
        .map(|(i, mut f)| {
            f.origin = Origin::Schedule(i as u32);
            f
        })
        .collect()
}

fn nodes(ns: &[u32]) -> Vec<Target> {
    ns.iter().map(|&n| Target::Node(n)).collect()
}

fn each(ns: &[u32], action: impl Fn(Target) -> FaultAction) -> Vec<FaultAction> {
    ns.iter().map(|&n| action(Target::Node(n))).collect()
}

/// The explicit actions that do what `applied` did.
fn actions(applied: &Applied) -> Vec<FaultAction> {
    match applied {
        Applied::Partition { shape, .. } => partition(shape),
        Applied::Cut { from, to, .. } => vec![FaultAction::Cut {
            from: nodes(from),
            to: nodes(to),
        }],
        Applied::Heal => vec![FaultAction::Heal],
        Applied::Crash { nodes } => each(nodes, FaultAction::Crash),
        Applied::Restart { nodes } => each(nodes, FaultAction::Restart),
        Applied::Pause { nodes } => each(nodes, FaultAction::Pause),
        Applied::Resume { nodes } => each(nodes, FaultAction::Resume),
        Applied::ClockJump { nodes, by } => {
            each(nodes, |target| FaultAction::ClockJump { target, by: *by })
        }
        Applied::ClockDrift { nodes, ppm } => each(nodes, |target| FaultAction::ClockDrift {
            target,
            ppm: *ppm,
        }),
        Applied::Recover { restarted, resumed } => {
            let mut out = vec![FaultAction::Heal];
            out.extend(each(resumed, FaultAction::Resume));
            out.extend(each(restarted, FaultAction::Restart));
            out
        }
        Applied::Repair { .. } | Applied::Skipped { .. } => Vec::new(),
    }
}

fn partition(shape: &Resolved) -> Vec<FaultAction> {
    let cut = |from: &[u32], to: &[u32]| FaultAction::Cut {
        from: nodes(from),
        to: nodes(to),
    };
    match shape {
        Resolved::Groups(groups) => vec![FaultAction::Partition(Shape::Groups(
            groups.iter().map(|g| nodes(g)).collect(),
        ))],
        Resolved::Bridge { left, right, .. } => vec![cut(left, right), cut(right, left)],
        Resolved::Ring { .. } => {
            let links = shape.cut_links();
            let mut sources: Vec<u32> = links.iter().map(|&(a, _)| a).collect();
            sources.sort_unstable();
            sources.dedup();
            sources
                .into_iter()
                .map(|a| {
                    let mut far: Vec<u32> =
                        links.iter().filter(|l| l.0 == a).map(|l| l.1).collect();
                    far.sort_unstable();
                    cut(&[a], &far)
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: Nanos, origin: Origin, applied: Applied, lasting: Option<Nanos>) -> FaultRecord {
        FaultRecord {
            at,
            origin,
            written: String::new(),
            applied,
            lasting,
            dynamic: true,
        }
    }

    #[test]
    fn each_applied_fault_becomes_entries_that_name_their_nodes() {
        let applied = vec![
            record(
                5,
                Origin::Nemesis,
                Applied::Partition {
                    cut: 0,
                    shape: Resolved::Groups(vec![vec![0, 2], vec![1]]),
                },
                Some(7),
            ),
            record(12, Origin::End, Applied::Restart { nodes: vec![1] }, None),
            record(
                13,
                Origin::Schedule(0),
                Applied::Skipped {
                    reason: "no node is leader".into(),
                },
                None,
            ),
            record(
                20,
                Origin::Nemesis,
                Applied::Crash { nodes: vec![1, 2] },
                Some(3),
            ),
            record(
                30,
                Origin::FinalHeal,
                Applied::Recover {
                    restarted: vec![0],
                    resumed: vec![],
                },
                None,
            ),
        ];
        let units = units(&applied);
        assert_eq!(units.len(), 3, "{units:#?}");
        assert_eq!(
            units[0].entries[0].action,
            FaultAction::Partition(Shape::Groups(vec![
                vec![Target::Node(0), Target::Node(2)],
                vec![Target::Node(1)]
            ]))
        );
        assert_eq!(units[0].lasting(), Some(7));
        assert_eq!(
            units[1]
                .entries
                .iter()
                .map(|e| (e.at, e.action.clone(), e.lasting))
                .collect::<Vec<_>>(),
            [
                (20, FaultAction::Crash(Target::Node(1)), Some(3)),
                (20, FaultAction::Crash(Target::Node(2)), Some(3)),
            ]
        );
        assert_eq!(
            units[2]
                .entries
                .iter()
                .map(|e| e.action.clone())
                .collect::<Vec<_>>(),
            [FaultAction::Heal, FaultAction::Restart(Target::Node(0))]
        );
        let flat = flatten(&units);
        assert_eq!(flat.len(), 5);
        assert_eq!(flat[4].origin, Origin::Schedule(4));
        assert_eq!(units[1].lasting_for(1).entries[1].lasting, Some(1));
    }

    #[test]
    fn a_ring_and_a_bridge_become_one_way_cuts_of_the_same_links() {
        let ring = Resolved::Ring {
            order: vec![3, 0, 4, 1, 2],
            reach: 1,
        };
        let mut links: Vec<(u32, u32)> = partition(&ring)
            .iter()
            .flat_map(|a| match a {
                FaultAction::Cut { from, to } => {
                    let node = |t: &Target| match t {
                        Target::Node(n) => *n,
                        other => panic!("{other:?}"),
                    };
                    let to: Vec<u32> = to.iter().map(node).collect();
                    from.iter()
                        .map(node)
                        .flat_map(|f| to.iter().map(move |&t| (f, t)))
                        .collect::<Vec<_>>()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        let mut want = ring.cut_links();
        links.sort_unstable();
        want.sort_unstable();
        assert_eq!(links, want);
        let bridge = Resolved::Bridge {
            left: vec![0, 1],
            right: vec![3, 4],
            bridge: 2,
        };
        assert_eq!(partition(&bridge).len(), 2);
    }
}
