//! The story of a run: the few events a reader needs to follow it.
//!
//! Faults, elections, step-downs, failed elections and failure-detector suspicions, each one
//! line with its true time. Everything else (heartbeats, votes, timers) is in the trace. Failed
//! elections are folded into one line per run of them, and simultaneous suspicions of one node
//! into one line, so that a run with a hundred split votes still reads in a screenful.
//!
//! A line is stamped with the last event it tells, so that it never speaks of what happens after
//! the line below it: a term "ends" when some node first moves to a higher term, and a run of
//! failed terms is stamped when its last term ends — and is cut in two where another line (a
//! fault, a suspicion) falls between its terms.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::node::section::plural;
use crate::node::{
    Nanos, Observation, ObservationKinds, Role, RunView, Section, SectionBuilder, format_instant,
};
use crate::world::{Applied, Cluster, FaultRecord};

/// One line of the story.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::run::RunOptions;
/// // Tiny's run, told: node A leads term 1 from the start.
/// let registry = registry();
/// let report = registry.run(&registry.scenario("tiny.toml", SCENARIO)?, &RunOptions::default(), None)?.report;
/// let first = &report.story[0];
/// assert_eq!(first.at, 0);
/// assert!(first.text.contains("A"), "{}", first.text);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoryLine {
    /// True time, in nanoseconds.
    pub at: Nanos,
    /// The sentence, with node names (e.g. `n2 becomes leader of term 3`).
    pub text: String,
}

/// Counts of elections: the `elections` section of a report, in its JSON shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Elections {
    /// The highest term (or epoch) any node reported.
    pub highest_term: u64,
    /// Terms in which some node led.
    pub terms_with_leader: u64,
    /// Terms in which a node stood as candidate but nobody led: split votes and lost elections.
    pub failed: u64,
}

struct Suspicions {
    at: Nanos,
    trust: bool,
    observers: Vec<u32>,
    peers: Vec<u32>,
}

/// A term with candidates and, so far, no leader.
#[derive(Clone, Debug)]
struct Candidacy {
    /// The first candidacy.
    first: Nanos,
    /// The latest candidacy.
    last: Nanos,
    /// When some node first reported a higher term; `None` while the term is the latest.
    ended: Option<Nanos>,
    candidates: Vec<u32>,
    /// How many story lines there were when the term's first candidacy came: any line stamped
    /// after that moment was pushed later, so only those need looking at.
    lines_at: usize,
}

/// The recorder of a run's story: fed every role observation and fault, it keeps the few lines a
/// reader needs (see the module's notes on how lines are grouped and stamped).
pub(crate) struct Story {
    lines: Vec<StoryLine>,
    roles: Vec<Option<(Role, u64)>>,
    /// term → the node that led it.
    leaders: BTreeMap<u64, u32>,
    /// Terms nobody has led yet, in which some node stood as candidate.
    candidacies: BTreeMap<u64, Candidacy>,
    /// The suspicion line being grouped: at one instant, of one kind, either several nodes
    /// about one peer or one node about several peers.
    suspicion: Option<Suspicions>,
}

impl Story {
    /// An empty story for a cluster of `nodes` nodes.
    pub(crate) fn new(nodes: usize) -> Self {
        Story {
            lines: Vec::new(),
            roles: vec![None; nodes],
            leaders: BTreeMap::new(),
            candidacies: BTreeMap::new(),
            suspicion: None,
        }
    }

    fn push(&mut self, at: Nanos, text: String) {
        self.lines.push(StoryLine { at, text });
    }

    /// Reads one observation of `node` at true time `at`: role changes (elections, step-downs,
    /// candidacies) and suspicions become lines; everything else is ignored.
    pub(crate) fn on_observation(
        &mut self,
        at: Nanos,
        node: u32,
        obs: &Observation,
        cluster: &Cluster,
    ) {
        match *obs {
            Observation::Role { role, term } => self.on_role(at, node, role, term, cluster),
            Observation::Suspect { peer } => self.on_suspicion(at, node, peer.0, false, cluster),
            Observation::Trust { peer } => self.on_suspicion(at, node, peer.0, true, cluster),
            Observation::Authority { .. }
            | Observation::Appended { .. }
            | Observation::Committed { .. }
            | Observation::Applied { .. }
            | Observation::Voted { .. } => {}
        }
    }

    fn on_role(&mut self, at: Nanos, node: u32, role: Role, term: u64, cluster: &Cluster) {
        let name = cluster.name(node);
        let previous = self.roles[node as usize].replace((role, term));
        let was_leading = previous.filter(|(r, _)| r.leads());
        // Every term below this one that had not ended ends now.
        for c in self.candidacies.range_mut(..term).map(|(_, c)| c) {
            c.ended.get_or_insert(at);
        }
        match role {
            Role::Leader | Role::Master if previous != Some((role, term)) => {
                self.fold_failed_elections(term, cluster.names());
                self.leaders.insert(term, node);
                let text = match role {
                    Role::Leader => format!("{name} becomes leader of term {term}"),
                    _ => format!("{name} is master (epoch {term})"),
                };
                self.push(at, text);
            }
            Role::Candidate if !self.leaders.contains_key(&term) => {
                let lines_at = self.lines.len();
                let entry = self.candidacies.entry(term).or_insert(Candidacy {
                    first: at,
                    last: at,
                    ended: None,
                    candidates: Vec::new(),
                    lines_at,
                });
                entry.last = at;
                if !entry.candidates.contains(&node) {
                    entry.candidates.push(node);
                }
            }
            _ => {}
        }
        if let Some((old_role, old_term)) = was_leading
            && !role.leads()
        {
            self.push(
                at,
                format!(
                    "{name} steps down: {} of term {old_term} -> {} of term {term}",
                    old_role.name(),
                    role.name()
                ),
            );
        }
    }

    /// Terms before `term` that had candidates and no leader become story lines: one per run of
    /// them with no other line in between, stamped when its last term ended.
    fn fold_failed_elections(&mut self, term: u64, names: &[String]) {
        let failed: Vec<(u64, Candidacy)> = {
            let later = self.candidacies.split_off(&term);
            std::mem::replace(&mut self.candidacies, later)
                .into_iter()
                .collect()
        };
        self.candidacies.remove(&term);
        let mut run: Vec<(u64, Candidacy)> = Vec::new();
        for (t, c) in failed {
            // A term still open at the end stands alone; so does a term another line precedes.
            let interrupted = run.last().is_some_and(|(_, last)| {
                let (from, to) = (last.ended.unwrap_or(last.last), c.ended.unwrap_or(c.last));
                c.ended.is_none()
                    || self.lines[last.lines_at..]
                        .iter()
                        .any(|l| l.at > from && l.at < to)
            });
            if interrupted {
                self.push_failed(&std::mem::take(&mut run), names);
            }
            run.push((t, c));
        }
        self.push_failed(&run, names);
    }

    /// One line for a run of consecutive failed terms.
    fn push_failed(&mut self, run: &[(u64, Candidacy)], names: &[String]) {
        let (Some((first_term, first)), Some((last_term, last))) = (run.first(), run.last()) else {
            return;
        };
        let who = || {
            let v: Vec<&str> = first
                .candidates
                .iter()
                .map(|&c| names[c as usize].as_str())
                .collect();
            v.join(", ")
        };
        let (at, text) = match (run.len(), last.ended) {
            (1, Some(ended)) => (
                ended,
                format!(
                    "term {first_term} ends without a leader (candidates: {})",
                    who()
                ),
            ),
            // The run stopped during this term: it did not end, and its last news is a candidacy.
            (1, None) => (
                first.last,
                format!(
                    "term {first_term} has no leader when the run ends (candidates: {})",
                    who()
                ),
            ),
            (n, ended) => (
                ended.unwrap_or(last.last),
                format!(
                    "terms {first_term}-{last_term}: {n} elections from {} end without a leader",
                    format_instant(first.first)
                ),
            ),
        };
        self.push(at, text);
    }

    fn on_suspicion(&mut self, at: Nanos, node: u32, peer: u32, trust: bool, cluster: &Cluster) {
        if let Some(g) = &mut self.suspicion
            && g.at == at
            && g.trust == trust
        {
            if g.peers == [peer] && !g.observers.contains(&node) {
                g.observers.push(node);
                return;
            }
            if g.observers == [node] && !g.peers.contains(&peer) {
                g.peers.push(peer);
                return;
            }
        }
        self.flush_suspicion(cluster.names());
        self.suspicion = Some(Suspicions {
            at,
            trust,
            observers: vec![node],
            peers: vec![peer],
        });
    }

    fn flush_suspicion(&mut self, names: &[String]) {
        if let Some(g) = self.suspicion.take() {
            let list = |nodes: &[u32]| -> String {
                let v: Vec<&str> = nodes.iter().map(|&n| names[n as usize].as_str()).collect();
                v.join(", ")
            };
            let one = g.observers.len() == 1;
            let (who, whom) = (list(&g.observers), list(&g.peers));
            let text = match g.trust {
                false => format!("{who} {} {whom}", if one { "suspects" } else { "suspect" }),
                true => format!(
                    "{who} {} {whom} again",
                    if one { "trusts" } else { "trust" }
                ),
            };
            self.push(g.at, text);
        }
    }

    /// Tells a fault (a crash, a partition, a heal…) as one line, and forgets the roles of the
    /// nodes it crashed.
    pub(crate) fn on_fault(&mut self, fault: &FaultRecord, cluster: &Cluster) {
        if let Applied::Crash { nodes } = &fault.applied {
            for &n in nodes {
                self.roles[n as usize] = None;
            }
        }
        self.push(fault.at, fault.describe(cluster));
    }

    /// Adds a line that did not come from a record (a violation, the end of the run).
    pub(crate) fn note(&mut self, at: Nanos, text: String) {
        self.push(at, text);
    }

    /// The lines in time order, with pending groups flushed.
    pub(crate) fn finish(&mut self, names: &[String]) -> Vec<StoryLine> {
        self.flush_suspicion(names);
        self.fold_failed_elections(u64::MAX, names);
        let mut lines = std::mem::take(&mut self.lines);
        lines.sort_by_key(|l| l.at); // stable: same-instant lines keep their order
        lines
    }
}

/// The `elections` section of every run's report, fed role observations and crashes: any
/// protocol that reports roles gets it. It counts elections as the story tells them: a term is
/// led once some node reports leading it, and a term in which some node stood as candidate
/// fails when a later term is led, or when the run ends, with nobody leading it.
pub(crate) struct ElectionsSection {
    /// Each node's last role, forgotten when it crashes: a restarted leader reporting its term
    /// again leads anew.
    roles: Vec<Option<(Role, u64)>>,
    led: BTreeSet<u64>,
    /// Terms with candidates that nobody has led yet.
    open: BTreeSet<u64>,
    failed: u64,
    highest_term: u64,
}

impl ElectionsSection {
    /// An empty section for a cluster of `nodes` nodes.
    pub(crate) fn new(nodes: usize) -> Self {
        ElectionsSection {
            roles: vec![None; nodes],
            led: BTreeSet::new(),
            open: BTreeSet::new(),
            failed: 0,
            highest_term: 0,
        }
    }

    fn on_role(&mut self, node: u32, role: Role, term: u64) {
        let previous = self.roles[node as usize].replace((role, term));
        self.highest_term = self.highest_term.max(term);
        if role.leads() && previous != Some((role, term)) {
            // Every open term below this one has failed; this one has not.
            let later = self.open.split_off(&term);
            self.failed += std::mem::replace(&mut self.open, later).len() as u64;
            self.open.remove(&term);
            self.led.insert(term);
        } else if role == Role::Candidate && !self.led.contains(&term) {
            self.open.insert(term);
        }
    }

    /// The counts so far, as if the run ended now.
    pub(crate) fn counts(&self) -> Elections {
        Elections {
            highest_term: self.highest_term,
            terms_with_leader: self.led.len() as u64,
            failed: self.failed + self.open.len() as u64,
        }
    }
}

impl SectionBuilder for ElectionsSection {
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ROLE
    }

    fn on_observation(&mut self, _at: Nanos, node: u32, obs: &Observation, _view: &dyn RunView) {
        if let Observation::Role { role, term } = *obs {
            self.on_role(node, role, term);
        }
    }

    fn on_fault(&mut self, _at: Nanos, fault: &FaultRecord, _view: &dyn RunView) {
        if let Applied::Crash { nodes } = &fault.applied {
            for &n in nodes {
                self.roles[n as usize] = None;
            }
        }
    }

    /// Always a section: `summary.md` and the JSON count elections in every run (zeros when
    /// no node reported a role); the terminal mentions them only when some node did.
    fn section(&self, _view: &dyn RunView) -> Option<Section> {
        let e = self.counts();
        Some(Section {
            key: "elections",
            title: "elections",
            brief: (e.highest_term > 0 || e.terms_with_leader > 0).then(|| {
                format!(
                    "highest term {}, {} led",
                    e.highest_term,
                    plural(e.terms_with_leader, "term")
                )
            }),
            lines: vec![format!(
                "highest term {}, {} terms with a leader, {} elections without one",
                e.highest_term, e.terms_with_leader, e.failed
            )],
            json: serde_json::to_value(e).expect("plain numbers"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeId;
    use crate::world::{Clock, Origin};

    fn cluster() -> Cluster {
        Cluster::new(
            vec!["A".into(), "B".into(), "C".into()],
            vec![Clock::honest(); 3],
        )
    }

    /// A story and the elections section, fed the same records, as a run feeds them.
    struct Told {
        story: Story,
        elections: ElectionsSection,
    }

    impl Told {
        fn new(nodes: usize) -> Self {
            Told {
                story: Story::new(nodes),
                elections: ElectionsSection::new(nodes),
            }
        }
        fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, c: &Cluster) {
            self.story.on_observation(at, node, obs, c);
            SectionBuilder::on_observation(&mut self.elections, at, node, obs, c);
        }
        fn on_fault(&mut self, fault: &FaultRecord, c: &Cluster) {
            self.story.on_fault(fault, c);
            SectionBuilder::on_fault(&mut self.elections, fault.at, fault, c);
        }
        fn finish(&mut self, names: &[String]) -> (Vec<StoryLine>, Elections) {
            (self.story.finish(names), self.elections.counts())
        }
    }

    fn role(role: Role, term: u64) -> Observation {
        Observation::Role { role, term }
    }

    #[test]
    fn elections_step_downs_and_split_votes_read_as_lines() {
        let c = cluster();
        let mut s = Told::new(3);
        s.on_observation(1, 0, &role(Role::Candidate, 1), &c);
        s.on_observation(1, 1, &role(Role::Candidate, 1), &c);
        s.on_observation(5, 2, &role(Role::Candidate, 2), &c);
        s.on_observation(6, 2, &role(Role::Leader, 2), &c);
        s.on_observation(9, 0, &role(Role::Candidate, 3), &c);
        s.on_observation(9, 0, &role(Role::Candidate, 4), &c);
        s.on_observation(10, 1, &role(Role::Leader, 5), &c);
        s.on_observation(11, 2, &role(Role::Follower, 5), &c);
        let (lines, elections) = s.finish(c.names());
        let text: Vec<(Nanos, &str)> = lines.iter().map(|l| (l.at, l.text.as_str())).collect();
        assert_eq!(
            text,
            [
                (5, "term 1 ends without a leader (candidates: A, B)"),
                (6, "C becomes leader of term 2"),
                (
                    10,
                    "terms 3-4: 2 elections from 0.000s end without a leader"
                ),
                (10, "B becomes leader of term 5"),
                (11, "C steps down: leader of term 2 -> follower of term 5"),
            ]
        );
        assert_eq!(
            elections,
            Elections {
                highest_term: 5,
                terms_with_leader: 2,
                failed: 3
            }
        );
    }

    const MS: Nanos = 1_000_000;

    fn pause(at: Nanos) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::Schedule(0),
            written: "pause C".into(),
            applied: Applied::Pause { nodes: vec![2] },
            lasting: None,
            dynamic: false,
        }
    }

    /// Each line is stamped with its last event, so no line tells of what comes after the next.
    #[test]
    fn failed_terms_are_stamped_when_they_end_and_split_around_other_lines() {
        let c = cluster();
        let mut s = Told::new(3);
        s.on_observation(100 * MS, 0, &role(Role::Candidate, 1), &c);
        s.on_observation(110 * MS, 1, &role(Role::Candidate, 1), &c);
        s.on_observation(300 * MS, 0, &role(Role::Candidate, 2), &c);
        s.on_observation(500 * MS, 1, &role(Role::Candidate, 3), &c);
        s.on_fault(&pause(600 * MS), &c);
        s.on_observation(700 * MS, 0, &role(Role::Candidate, 4), &c);
        s.on_observation(900 * MS, 1, &role(Role::Candidate, 5), &c);
        s.on_observation(950 * MS, 1, &role(Role::Leader, 5), &c);
        s.on_observation(2000 * MS, 0, &role(Role::Candidate, 6), &c);
        s.on_observation(2100 * MS, 1, &role(Role::Candidate, 7), &c);
        s.on_observation(2200 * MS, 0, &role(Role::Candidate, 8), &c);
        let (lines, elections) = s.finish(c.names());
        let text: Vec<(Nanos, &str)> = lines.iter().map(|l| (l.at, l.text.as_str())).collect();
        assert_eq!(
            text,
            [
                (
                    500 * MS,
                    "terms 1-2: 2 elections from 0.100s end without a leader"
                ),
                (600 * MS, "pause C"),
                (
                    900 * MS,
                    "terms 3-4: 2 elections from 0.500s end without a leader"
                ),
                (950 * MS, "B becomes leader of term 5"),
                (
                    2100 * MS,
                    "B steps down: leader of term 5 -> candidate of term 7"
                ),
                (
                    2200 * MS,
                    "terms 6-7: 2 elections from 2.000s end without a leader"
                ),
                (
                    2200 * MS,
                    "term 8 has no leader when the run ends (candidates: A)"
                ),
            ]
        );
        assert_eq!(elections.failed, 7);
    }

    #[test]
    fn simultaneous_suspicions_are_grouped() {
        let c = cluster();
        let mut s = Told::new(3);
        s.on_observation(7, 1, &Observation::Suspect { peer: NodeId(0) }, &c);
        s.on_observation(7, 2, &Observation::Suspect { peer: NodeId(0) }, &c);
        s.on_observation(9, 1, &Observation::Trust { peer: NodeId(0) }, &c);
        s.on_observation(12, 0, &Observation::Suspect { peer: NodeId(1) }, &c);
        s.on_observation(12, 0, &Observation::Suspect { peer: NodeId(2) }, &c);
        let (lines, _) = s.finish(c.names());
        let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            text,
            ["B, C suspect A", "B trusts A again", "A suspects B, C"]
        );
    }

    #[test]
    fn a_crashed_leader_does_not_step_down_on_restart() {
        let c = cluster();
        let mut s = Told::new(3);
        s.on_observation(1, 0, &role(Role::Leader, 1), &c);
        let crash = FaultRecord {
            at: 2,
            origin: Origin::Schedule(0),
            written: "crash leader".into(),
            applied: Applied::Crash { nodes: vec![0] },
            lasting: None,
            dynamic: true,
        };
        s.on_fault(&crash, &c);
        s.on_observation(3, 0, &role(Role::Follower, 1), &c);
        let (lines, _) = s.finish(c.names());
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].text, "crash A (crash leader)");
    }

    /// A protocol that reports roles has its elections in the terminal's verdict line; one that
    /// reports none keeps them out of it, and `summary.md` and the JSON count zeros (as they
    /// always have).
    #[test]
    fn the_elections_section_speaks_in_the_terminal_only_of_protocols_with_roles() {
        let c = cluster();
        let silent = ElectionsSection::new(3)
            .section(&c)
            .expect("always a section");
        assert_eq!(silent.key, "elections");
        assert_eq!(silent.brief, None);
        assert_eq!(
            silent.lines,
            ["highest term 0, 0 terms with a leader, 0 elections without one"]
        );
        assert_eq!(
            silent.json,
            serde_json::json!({"highest_term": 0, "terms_with_leader": 0, "failed": 0})
        );

        let mut e = ElectionsSection::new(3);
        let suspect = Observation::Suspect { peer: NodeId(1) };
        e.on_observation(1, 0, &suspect, &c);
        assert_eq!(e.counts(), Elections::default(), "only roles count");
        e.on_observation(2, 0, &role(Role::Candidate, 1), &c);
        e.on_observation(3, 1, &role(Role::Candidate, 2), &c);
        e.on_observation(4, 1, &role(Role::Leader, 2), &c);
        let told = e.section(&c).unwrap();
        assert_eq!(told.brief.as_deref(), Some("highest term 2, 1 term led"));
        assert_eq!(
            told.lines,
            ["highest term 2, 1 terms with a leader, 1 elections without one"]
        );
        assert_eq!(told.json["failed"], 1);
    }

    /// A leader that crashes and reports the same term again after its restart leads anew: the
    /// open terms below it fail then, as the story tells it.
    #[test]
    fn a_leader_back_from_a_crash_closes_the_terms_below_it() {
        let c = cluster();
        let mut s = Told::new(3);
        s.on_observation(1, 0, &role(Role::Leader, 3), &c);
        s.on_observation(2, 1, &role(Role::Candidate, 2), &c);
        s.on_observation(3, 0, &role(Role::Leader, 3), &c);
        assert_eq!(s.elections.counts().failed, 1, "still open");
        let crash = FaultRecord {
            at: 4,
            origin: Origin::Schedule(0),
            written: "crash A".into(),
            applied: Applied::Crash { nodes: vec![0] },
            lasting: None,
            dynamic: false,
        };
        s.on_fault(&crash, &c);
        s.on_observation(5, 0, &role(Role::Leader, 3), &c);
        s.on_observation(6, 2, &role(Role::Candidate, 1), &c);
        let (lines, elections) = s.finish(c.names());
        let failed = lines.iter().filter(|l| l.text.contains("(candidates: "));
        assert_eq!(failed.count(), 2, "{lines:?}");
        assert_eq!(
            elections,
            Elections {
                highest_term: 3,
                terms_with_leader: 1,
                failed: 2
            }
        );
    }
}
