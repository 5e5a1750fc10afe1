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

/// The schedule with one crash (or pause) and the restart (or resume) that ends it written as
/// one fault: the crash with the `for` that ends where the restart was. A crash and its restart
/// are one fault to a reader, and `for` says so; the explicit form writes them apart because
/// the run applied them apart (a scripted restart, the nemesis's final heal). One candidate per
/// crash or pause unit whose every node has a later restart (resume), all at one instant, in
/// firing order; the world may order the two spellings' events differently at that instant, so
/// each candidate is judged by a run like any other.
pub fn folded(units: &[Unit]) -> Vec<Vec<Unit>> {
    (0..units.len()).filter_map(|i| fold_at(units, i)).collect()
}

/// `units` with unit `i` folded into the restarts (resumes) that end it, if it has them.
fn fold_at(units: &[Unit], i: usize) -> Option<Vec<Unit>> {
    let u = &units[i];
    let mut ends = Vec::new(); // (unit, entry) of each partner
    for e in &u.entries {
        if e.lasting.is_some() {
            return None;
        }
        let wanted = match &e.action {
            FaultAction::Crash(t @ Target::Node(_)) => FaultAction::Restart(t.clone()),
            FaultAction::Pause(t @ Target::Node(_)) => FaultAction::Resume(t.clone()),
            _ => return None,
        };
        let partner = units
            .iter()
            .enumerate()
            .skip(i + 1)
            .flat_map(|(j, v)| v.entries.iter().enumerate().map(move |(k, f)| (j, k, f)))
            .find(|(_, _, f)| f.action == wanted)?;
        ends.push((partner.0, partner.1, partner.2.at));
    }
    let end = ends.first()?.2;
    if end <= u.at() || ends.iter().any(|&(_, _, at)| at != end) {
        return None;
    }
    let mut out: Vec<Unit> = Vec::with_capacity(units.len());
    for (j, v) in units.iter().enumerate() {
        let entries: Vec<FaultSpec> = v
            .entries
            .iter()
            .enumerate()
            .filter(|&(k, _)| !ends.iter().any(|&(pj, pk, _)| (pj, pk) == (j, k)))
            .map(|(_, f)| f.clone())
            .collect();
        if entries.is_empty() {
            continue;
        }
        let unit = Unit { entries };
        out.push(if j == i {
            unit.lasting_for(end - u.at())
        } else {
            unit
        });
    }
    Some(out)
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
        Applied::Slow { nodes, by } => each(nodes, |target| FaultAction::Delay { target, by: *by }),
        Applied::Traitor { nodes } => each(nodes, |target| FaultAction::Byzantine(vec![target])),
        // Ends of a `for`: the explicit fault carries the same `for`.
        Applied::Repair { .. } | Applied::Unslow { .. } | Applied::Skipped { .. } => Vec::new(),
        // What a crash took: the crash's own entry brings it about again.
        Applied::LostWrites { .. } => Vec::new(),
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

    fn entry(at: Nanos, action: FaultAction) -> FaultSpec {
        FaultSpec {
            at,
            action,
            lasting: None,
            origin: Origin::Schedule(0),
        }
    }

    #[test]
    fn a_crash_and_its_restart_fold_into_one_crash_with_a_for() {
        let node = Target::Node;
        let cut = Unit {
            entries: vec![entry(
                5,
                FaultAction::Cut {
                    from: vec![node(0)],
                    to: vec![node(2)],
                },
            )],
        };
        let crash = Unit {
            entries: vec![entry(10, FaultAction::Crash(node(0)))],
        };
        let pause = Unit {
            entries: vec![
                entry(12, FaultAction::Pause(node(1))),
                entry(12, FaultAction::Pause(node(2))),
            ],
        };
        let restart = Unit {
            entries: vec![entry(30, FaultAction::Restart(node(0)))],
        };
        // The nemesis's final heal: a heal, then the resumes.
        let heal = Unit {
            entries: vec![
                entry(40, FaultAction::Heal),
                entry(40, FaultAction::Resume(node(1))),
                entry(40, FaultAction::Resume(node(2))),
            ],
        };
        let units = vec![cut.clone(), crash, pause, restart, heal];
        let candidates = folded(&units);
        assert_eq!(candidates.len(), 2, "{candidates:#?}");
        // The crash lasts until its restart, which is gone.
        assert_eq!(candidates[0].len(), 4);
        assert_eq!(
            candidates[0][1].entries[0].action,
            FaultAction::Crash(node(0))
        );
        assert_eq!(candidates[0][1].lasting(), Some(20));
        assert!(
            candidates[0]
                .iter()
                .flat_map(|u| &u.entries)
                .all(|e| !matches!(e.action, FaultAction::Restart(_)))
        );
        // Both pauses last until the heal's resumes; the heal stays, alone.
        let paused = &candidates[1];
        assert_eq!(paused[2].lasting(), Some(28));
        assert_eq!(paused[4].entries, [entry(40, FaultAction::Heal)]);
        let count = |us: &[Unit]| us.iter().map(|u| u.entries.len()).sum::<usize>();
        assert_eq!((count(&units), count(&candidates[1])), (8, 6));
        // Nothing to fold: a crash never restarted, a crash that already has its `for`, and
        // pauses resumed at different instants.
        let lone = Unit {
            entries: vec![entry(10, FaultAction::Crash(node(1)))],
        };
        assert!(folded(&[cut.clone(), lone.clone()]).is_empty());
        let timed = lone.lasting_for(3);
        let later = Unit {
            entries: vec![entry(20, FaultAction::Restart(node(1)))],
        };
        assert!(folded(&[timed, later]).is_empty());
        let apart = vec![
            Unit {
                entries: vec![
                    entry(1, FaultAction::Pause(node(0))),
                    entry(1, FaultAction::Pause(node(1))),
                ],
            },
            Unit {
                entries: vec![entry(5, FaultAction::Resume(node(0)))],
            },
            Unit {
                entries: vec![entry(6, FaultAction::Resume(node(1)))],
            },
        ];
        assert!(folded(&apart).is_empty());
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
