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
use crate::node::{Nanos, Observation, format_instant};

use super::{Invariant, Property, Status, Violation};

/// An entry as a node's log holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    term: u64,
    digest: u64,
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

#[derive(Default)]
pub struct LeaderCompleteness {
    /// Per node, its log as reported.
    logs: Vec<Vec<Held>>,
    /// Per node, the term of its last `Role` report.
    terms: Vec<u64>,
    /// Commits in order of increasing index.
    commits: Vec<Commit>,
    violation: Option<Violation>,
}

impl LeaderCompleteness {
    pub fn new(nodes: usize) -> Self {
        LeaderCompleteness {
            logs: vec![Vec::new(); nodes],
            terms: vec![0; nodes],
            ..Default::default()
        }
    }

    fn appended(&mut self, node: usize, index: u64, entry: Held) {
        let log = &mut self.logs[node];
        let before = (index - 1) as usize;
        // A gap would mean a log written out of order; mark what was never reported.
        log.resize(
            before,
            Held {
                term: u64::MAX,
                digest: 0,
            },
        );
        log.push(entry);
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
        let held = self.logs[node as usize]
            .get((commit.index - 1) as usize)
            .copied();
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
}
