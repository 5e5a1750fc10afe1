//! A two-phase-commit node's state for `sim step`'s `state` command, by its part.

use super::{Part, TwoPhaseCommit};

impl TwoPhaseCommit {
    pub(super) fn describe(&self) -> Vec<String> {
        match &self.part {
            Part::Coordinator(c) => c.describe(),
            Part::Participant(p) => p.describe(),
            Part::Replica(_) => vec!["replica of the coordinators' Raft group".to_string()],
        }
    }
}
