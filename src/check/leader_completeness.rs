//! `leader_completeness`: an entry committed in term T is in the log of every leader of every
//! term after T (Raft §5.4, the Leader Completeness Property).
//!
//! Read from observations only. Each node's log is rebuilt from its `Appended { index, term,
//! digest }` reports (each one says the log now ends with that entry; logs survive crashes). A
//! leader reports `Committed { index, term, digest }` when its commit index advances; the term
//! it was committed *in* is the leader's own term, from its last `Role` report. When a node
//! reports `Role { leader, L }`, its log must hold, at the index of the highest entry committed
//! in a term before L, the same (term, digest) — and since the digest chains the log before
//! it, that covers every entry committed before it too.

use crate::node::RunView;
use crate::node::{Nanos, Observation, ObservationKinds, format_instant};

use super::{Invariant, Property, Status, Violation};

/// An entry as a node's log holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    term: u64,
    digest: u64,
}

/// What a log holds at an index it never had reported: a gap, which only a log written out of
/// order has.
const NEVER: Held = Held {
    term: u64::MAX,
    digest: 0,
};

/// A node's log as reported, in runs of consecutive entries by their first index. An honest log
/// is one run from index 1; a report past the end (a buggy protocol) starts a new run, so the
/// gap before it costs nothing however wide it is, and reads as [`NEVER`].
#[derive(Clone, Default)]
struct Log {
    /// (first index, entries), in order, none empty.
    runs: Vec<(u64, Vec<Held>)>,
}

impl Log {
    /// The last index it holds, 0 if empty.
    fn len(&self) -> u64 {
        self.runs
            .last()
            .map_or(0, |(start, entries)| start + (entries.len() as u64 - 1))
    }

    /// The log now ends with `entry` at `index`: whatever it held from `index` on is gone. An
    /// entry at index 0, where no log has one, leaves it empty.
    fn append(&mut self, index: u64, entry: Held) {
        while let Some((start, entries)) = self.runs.last_mut() {
            if *start < index {
                entries.truncate((index - *start) as usize);
                break;
            }
            self.runs.pop();
        }
        if index == 0 {
            return;
        }
        match self.runs.last_mut() {
            Some((start, entries)) if index - *start == entries.len() as u64 => entries.push(entry),
            _ => self.runs.push((index, vec![entry])),
        }
    }

    fn get(&self, index: u64) -> Option<Held> {
        if index == 0 || index > self.len() {
            return None;
        }
        let run = self.runs.partition_point(|(start, _)| *start <= index) - 1;
        let (start, entries) = &self.runs[run];
        Some(
            entries
                .get((index - start) as usize)
                .copied()
                .unwrap_or(NEVER),
        )
    }
}

/// A commit that raised the highest committed index.
#[derive(Clone, Copy, Debug)]
struct Commit {
    index: u64,
    entry: Held,
    /// The committing leader's term.
    in_term: u64,
    node: u32,
    at: Nanos,
}

/// The `leader_completeness` invariant: rebuilds each node's log from its reports and fails
/// when a new leader lacks an entry committed in an earlier term.
#[derive(Default)]
pub(crate) struct LeaderCompleteness {
    /// Per node, its log as reported.
    logs: Vec<Log>,
    /// Per node, the term of its last `Role` report.
    terms: Vec<u64>,
    /// Commits in order of increasing index.
    commits: Vec<Commit>,
    violation: Option<Violation>,
}

impl LeaderCompleteness {
    /// A checker for a cluster of `nodes` nodes.
    pub(crate) fn new(nodes: usize) -> Self {
        LeaderCompleteness {
            logs: vec![Log::default(); nodes],
            terms: vec![0; nodes],
            ..Default::default()
        }
    }

    fn appended(&mut self, node: usize, index: u64, entry: Held) {
        self.logs[node].append(index, entry);
    }

    fn committed(&mut self, at: Nanos, node: u32, index: u64, entry: Held) {
        if self.commits.last().is_some_and(|c| c.index >= index) {
            return;
        }
        self.commits.push(Commit {
            index,
            entry,
            in_term: self.terms[node as usize],
            node,
            at,
        });
    }

    /// `node` now leads `term`: it must hold the highest entry committed in an earlier term.
    fn leads(&mut self, at: Nanos, node: u32, term: u64, cluster: &dyn RunView) {
        let Some(commit) = self.commits.iter().rev().find(|c| c.in_term < term) else {
            return;
        };
        let held = self.logs[node as usize].get(commit.index);
        if held == Some(commit.entry) {
            return;
        }
        let (a, b) = (cluster.name(commit.node), cluster.name(node));
        let has = match held {
            None => format!("its log ends at index {}", self.logs[node as usize].len()),
            Some(h) => format!("it holds an entry of term {} there", h.term),
        };
        self.violation = Some(Violation {
            at,
            nodes: vec![b.to_string(), a.to_string()],
            message: format!(
                "{b} leads term {term} without the entry at index {} (term {}) that {a} \
                 committed in term {}: {has}",
                commit.index, commit.entry.term, commit.in_term
            ),
            evidence: vec![
                format!(
                    "{}  {a}, leading term {}, committed index {} (term {})",
                    format_instant(commit.at),
                    commit.in_term,
                    commit.index,
                    commit.entry.term
                ),
                format!("{}  {b} became leader of term {term}", format_instant(at)),
            ],
        });
    }
}

impl Invariant for LeaderCompleteness {
    fn name(&self) -> String {
        "leader_completeness".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::APPENDED
            .with(ObservationKinds::COMMITTED)
            .with(ObservationKinds::ROLE)
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        if self.violation.is_some() {
            return;
        }
        match *obs {
            Observation::Appended {
                index,
                term,
                digest,
            } => self.appended(node as usize, index, Held { term, digest }),
            Observation::Committed {
                index,
                term,
                digest,
            } => self.committed(at, node, index, Held { term, digest }),
            Observation::Role { role, term } => {
                self.terms[node as usize] = term;
                if role.leads() {
                    self.leads(at, node, term, cluster);
                }
            }
            _ => {}
        }
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster;
    use crate::node::Role;

    fn appended(index: u64, term: u64, digest: u64) -> Observation {
        Observation::Appended {
            index,
            term,
            digest,
        }
    }

    fn committed(index: u64, term: u64, digest: u64) -> Observation {
        Observation::Committed {
            index,
            term,
            digest,
        }
    }

    fn role(role: Role, term: u64) -> Observation {
        Observation::Role { role, term }
    }

    /// A (node 0) leads term 4 and commits index 2 of term 2 — the Figure 8 situation.
    fn figure_8_commit(inv: &mut LeaderCompleteness, c: &dyn RunView) {
        inv.on_observation(1, 0, &appended(1, 1, 0x1), c);
        inv.on_observation(2, 0, &appended(2, 2, 0x2), c);
        inv.on_observation(3, 0, &role(Role::Leader, 4), c);
        inv.on_observation(4, 0, &committed(2, 2, 0x2), c);
    }

    #[test]
    fn a_later_leader_holding_the_committed_entry_passes() {
        let c = cluster(5);
        let mut inv = LeaderCompleteness::new(5);
        figure_8_commit(&mut inv, &c);
        inv.on_observation(5, 1, &appended(1, 1, 0x1), &c);
        inv.on_observation(6, 1, &appended(2, 2, 0x2), &c);
        inv.on_observation(7, 1, &appended(3, 4, 0x3), &c);
        inv.on_observation(8, 1, &role(Role::Leader, 5), &c);
        // A leader of an earlier term need not hold what was committed later.
        inv.on_observation(9, 4, &role(Role::Leader, 3), &c);
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn a_later_leader_whose_log_overwrote_the_committed_entry_fails() {
        let c = cluster(5);
        let mut inv = LeaderCompleteness::new(5);
        figure_8_commit(&mut inv, &c);
        inv.on_observation(5, 4, &appended(1, 1, 0x1), &c);
        inv.on_observation(6, 4, &appended(2, 3, 0x9), &c);
        inv.on_observation(7, 4, &role(Role::Leader, 5), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(v.nodes, ["E", "A"]);
        assert_eq!(
            v.message,
            "E leads term 5 without the entry at index 2 (term 2) that A committed in term 4: \
             it holds an entry of term 3 there"
        );
    }

    #[test]
    fn a_later_leader_with_a_short_log_fails_and_truncation_is_seen() {
        let c = cluster(3);
        let mut inv = LeaderCompleteness::new(3);
        figure_8_commit(&mut inv, &c);
        inv.on_observation(5, 2, &appended(1, 1, 0x1), &c);
        inv.on_observation(6, 2, &appended(2, 2, 0x2), &c);
        inv.on_observation(7, 2, &appended(3, 2, 0x5), &c);
        inv.on_observation(8, 2, &appended(2, 3, 0x7), &c); // truncates 2.. and rewrites 2
        inv.on_observation(9, 2, &appended(1, 5, 0x8), &c); // truncates everything
        inv.on_observation(10, 2, &role(Role::Leader, 6), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert!(
            v.message.ends_with("its log ends at index 1"),
            "{}",
            v.message
        );
    }

    /// A buggy protocol may report any index: a gap reads as an entry of no real term, a wild
    /// index costs no giant table, and index 0 empties the log — none of it panics.
    #[test]
    fn gaps_wild_indexes_and_index_0_are_read_without_a_giant_table() {
        let c = cluster(3);
        let mut inv = LeaderCompleteness::new(3);
        figure_8_commit(&mut inv, &c);
        inv.on_observation(5, 1, &appended(1, 1, 0x1), &c);
        inv.on_observation(6, 1, &appended(3, 2, 0x3), &c); // skips index 2
        inv.on_observation(7, 1, &appended(u64::MAX, 4, 0x4), &c);
        assert_eq!(inv.logs[1].len(), u64::MAX);
        assert_eq!(inv.logs[1].get(2), Some(NEVER));
        assert_eq!(inv.logs[1].get(1 << 40), Some(NEVER));
        assert_eq!(
            inv.logs[1].get(3),
            Some(Held {
                term: 2,
                digest: 0x3
            })
        );
        inv.on_observation(8, 1, &role(Role::Leader, 5), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert!(
            v.message
                .ends_with(&format!("it holds an entry of term {} there", u64::MAX)),
            "{}",
            v.message
        );

        let mut inv = LeaderCompleteness::new(3);
        figure_8_commit(&mut inv, &c);
        inv.on_observation(5, 2, &appended(1, 1, 0x1), &c);
        inv.on_observation(6, 2, &appended(2, 2, 0x2), &c);
        inv.on_observation(7, 2, &appended(0, 3, 0x9), &c);
        assert_eq!(inv.logs[2].len(), 0);
        inv.on_observation(8, 2, &role(Role::Leader, 5), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert!(
            v.message.ends_with("its log ends at index 0"),
            "{}",
            v.message
        );
    }

    /// Runs are cut and rejoined as a log is truncated and rewritten.
    #[test]
    fn a_log_with_gaps_truncates_across_runs() {
        let mut log = Log::default();
        let e = |term| Held { term, digest: term };
        for (index, term) in [(1, 1), (2, 1), (10, 2), (11, 2), (20, 3)] {
            log.append(index, e(term));
        }
        assert_eq!((log.len(), log.runs.len()), (20, 3));
        log.append(11, e(4)); // drops 20, rewrites 11
        assert_eq!((log.len(), log.runs.len()), (11, 2));
        assert_eq!(log.get(11), Some(e(4)));
        assert_eq!(log.get(5), Some(NEVER));
        log.append(3, e(5)); // drops the second run, joins the first
        assert_eq!((log.len(), log.runs.len()), (3, 1));
        assert_eq!(log.get(3), Some(e(5)));
        assert_eq!(log.get(4), None);
    }
}
