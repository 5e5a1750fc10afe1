//! Which fault explains a violation: the faults in force, by the links and nodes they hold.
//!
//! Evidence that names the wrong fault is worse than none: a reader who sees "B suspects A"
//! beside an unrelated `D -> C` cut goes looking in the wrong place. So a checker does not cite
//! the latest fault that happened; it asks [`Faults`] which faults *separate the nodes
//! involved at the instant of the violation* — a pause of the silent node, a partition or a
//! one-way cut on the link between them — and only when none is in force, the latest fault that
//! involved those nodes at all (a pause that just ended, a repaired cut), said as such.

use crate::node::{Applied, FaultRecord, RunView};
use crate::node::{Nanos, format_duration, format_instant};

/// A partition or cut not yet repaired.
#[derive(Clone, Debug)]
struct Cut {
    id: u32,
    at: Nanos,
    text: String,
    /// Directed links (from, to) it drops.
    links: Vec<(u32, u32)>,
}

/// A fault that happened, for the fallback: which nodes and links it involved.
#[derive(Clone, Debug)]
struct Past {
    at: Nanos,
    text: String,
    nodes: Vec<u32>,
    links: Vec<(u32, u32)>,
}

/// The faults in force, and the ones that were.
#[derive(Clone, Debug, Default)]
pub(crate) struct Faults {
    cuts: Vec<Cut>,
    /// Indexed by node: the pause in force, if any.
    paused: Vec<Option<(Nanos, String)>>,
    history: Vec<Past>,
}

/// One line of evidence: `1.300s  one-way cut A -> B`.
pub(crate) fn line(at: Nanos, text: &str) -> String {
    format!("{}  {text}", format_instant(at))
}

impl Faults {
    /// Notes a fault as it fires or ends: a cut or pause comes into force, a repair or a resume
    /// ends one, and every fault is remembered for the fallback.
    pub(crate) fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, cluster: &dyn RunView) {
        if self.paused.len() < cluster.len() {
            self.paused.resize(cluster.len(), None);
        }
        // What happened, not how it was written: a run and its explicit form (`sim shrink`
        // writes resolved targets) must give the same evidence.
        let mut text = fault.applied.describe(cluster);
        if let Some(d) = fault.lasting {
            text += &format!(" for {}", format_duration(d));
        }
        let mut links = Vec::new();
        match &fault.applied {
            Applied::Partition { cut, shape } => {
                links = shape.cut_links();
                self.cuts.push(Cut {
                    id: *cut,
                    at,
                    text: text.clone(),
                    links: links.clone(),
                });
            }
            Applied::Cut { cut, from, to } => {
                links = from
                    .iter()
                    .flat_map(|&f| to.iter().map(move |&t| (f, t)))
                    .collect();
                self.cuts.push(Cut {
                    id: *cut,
                    at,
                    text: text.clone(),
                    links: links.clone(),
                });
            }
            Applied::Repair { cut, healed } => {
                self.cuts.retain(|c| c.id != *cut);
                links = match healed.as_ref() {
                    Applied::Partition { shape, .. } => shape.cut_links(),
                    Applied::Cut { from, to, .. } => from
                        .iter()
                        .flat_map(|&f| to.iter().map(move |&t| (f, t)))
                        .collect(),
                    _ => Vec::new(),
                };
            }
            Applied::Heal => self.cuts.clear(),
            Applied::Recover { resumed, .. } => {
                self.cuts.clear();
                for &n in resumed {
                    self.paused[n as usize] = None;
                }
            }
            Applied::Pause { nodes } => {
                for &n in nodes {
                    self.paused[n as usize] = Some((at, text.clone()));
                }
            }
            Applied::Resume { nodes } | Applied::Crash { nodes } => {
                for &n in nodes {
                    self.paused[n as usize] = None;
                }
            }
            _ => {}
        }
        if !matches!(fault.applied, Applied::Skipped { .. }) {
            self.history.push(Past {
                at,
                text,
                nodes: fault.applied.nodes().to_vec(),
                links,
            });
        }
    }

    /// Why `to` hears nothing from `from` now: the pause of `from` and the cuts of the link
    /// `from -> to` in force, oldest first. Empty when nothing in force separates them.
    pub(crate) fn silencing(&self, from: u32, to: u32) -> Vec<(Nanos, String)> {
        let mut out: Vec<(Nanos, String)> = self
            .paused
            .get(from as usize)
            .cloned()
            .flatten()
            .into_iter()
            .collect();
        out.extend(
            self.cuts
                .iter()
                .filter(|c| c.links.contains(&(from, to)))
                .map(|c| (c.at, c.text.clone())),
        );
        out.sort_by_key(|(at, _)| *at);
        out
    }

    /// What keeps `a` and `b` apart now, in either direction, oldest first.
    pub(crate) fn separating(&self, a: u32, b: u32) -> Vec<(Nanos, String)> {
        let mut out = self.silencing(a, b);
        for f in self.silencing(b, a) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out.sort_by_key(|(at, _)| *at);
        out
    }

    /// The latest fault that acted on `a` or `b`, or on a link between them, in force or not.
    pub(crate) fn latest_involving(&self, a: u32, b: u32) -> Option<(Nanos, String)> {
        self.history
            .iter()
            .rev()
            .find(|p| {
                p.nodes.contains(&a)
                    || p.nodes.contains(&b)
                    || p.links.contains(&(a, b))
                    || p.links.contains(&(b, a))
            })
            .map(|p| (p.at, p.text.clone()))
    }

    /// Evidence lines for a violation between `a` and `b` (`from -> to` when `directed`): the
    /// faults in force that separate them; else the latest fault that involved them, marked as
    /// over or merely related; else nothing.
    pub(crate) fn evidence(&self, a: u32, b: u32, directed: bool) -> Vec<(Nanos, String)> {
        let in_force = if directed {
            self.silencing(a, b)
        } else {
            self.separating(a, b)
        };
        if !in_force.is_empty() {
            return in_force
                .into_iter()
                .map(|(at, t)| (at, format!("{t} (in force)")))
                .collect();
        }
        self.latest_involving(a, b)
            .map(|(at, t)| (at, format!("{t} (the latest fault involving them)")))
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster;
    use crate::world::Origin;

    fn record(at: Nanos, applied: Applied) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::Schedule(0),
            written: String::new(),
            applied,
            lasting: None,
            dynamic: false,
        }
    }

    fn cut(id: u32, from: u32, to: u32) -> Applied {
        Applied::Cut {
            cut: id,
            from: vec![from],
            to: vec![to],
        }
    }

    #[test]
    fn a_cut_in_force_on_the_link_is_blamed_not_a_later_unrelated_one() {
        let c = cluster(4);
        let mut f = Faults::default();
        f.on_fault(10, &record(10, cut(0, 0, 1)), &c);
        f.on_fault(20, &record(20, cut(1, 3, 0)), &c);
        assert_eq!(f.silencing(0, 1), [(10, "one-way cut A -> B".to_string())]);
        assert!(f.silencing(1, 0).is_empty(), "one way only");
        assert_eq!(f.separating(1, 0).len(), 1);
        assert_eq!(
            f.evidence(0, 1, true),
            [(10, "one-way cut A -> B (in force)".to_string())]
        );
    }

    #[test]
    fn repairs_pauses_and_heals_end_what_is_in_force() {
        let c = cluster(3);
        let mut f = Faults::default();
        f.on_fault(1, &record(1, cut(7, 0, 1)), &c);
        f.on_fault(
            2,
            &record(
                2,
                Applied::Repair {
                    cut: 7,
                    healed: Box::new(cut(7, 0, 1)),
                },
            ),
            &c,
        );
        assert!(f.silencing(0, 1).is_empty());
        assert_eq!(
            f.evidence(0, 1, true),
            [(
                2,
                "heal one-way cut A -> B (the latest fault involving them)".to_string()
            )]
        );
        f.on_fault(3, &record(3, Applied::Pause { nodes: vec![0] }), &c);
        assert_eq!(f.silencing(0, 2), [(3, "pause A".to_string())]);
        assert!(f.silencing(2, 0).is_empty(), "a paused node still hears");
        f.on_fault(4, &record(4, Applied::Resume { nodes: vec![0] }), &c);
        assert!(f.silencing(0, 2).is_empty());
        let groups = crate::world::fault::Resolved::Groups(vec![vec![0], vec![1, 2]]);
        f.on_fault(
            5,
            &record(
                5,
                Applied::Partition {
                    cut: 8,
                    shape: groups,
                },
            ),
            &c,
        );
        assert_eq!(f.separating(2, 0).len(), 1);
        assert!(f.separating(1, 2).is_empty());
        f.on_fault(6, &record(6, Applied::Heal), &c);
        assert!(f.separating(2, 0).is_empty());
        assert_eq!(f.evidence(1, 2, false), []);
    }
}
