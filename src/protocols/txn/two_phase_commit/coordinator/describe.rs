//! A two-phase-commit coordinator's state for `sim step`'s `state` command: each transaction
//! it runs, with the yes votes it has and its decision.

use super::Coordinator;

/// At most this many transactions are shown, the last ones by id.
const SHOWN: usize = 8;

impl Coordinator {
    pub(in crate::protocols::txn::two_phase_commit) fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{}  {} transactions",
            if self.standby {
                "backup (standing by)"
            } else {
                "coordinator"
            },
            self.txns.len()
        )];
        let skip = self.txns.len().saturating_sub(SHOWN);
        for (t, txn) in self.txns.iter().skip(skip) {
            let decision = match txn.decision {
                Some(true) => "commit",
                Some(false) => "abort",
                None => "undecided",
            };
            lines.push(format!(
                "  c{}#{:<6} {} of {} yes votes, {decision}",
                t.client.0,
                t.seq,
                txn.yes.len(),
                txn.parts.len()
            ));
        }
        lines
    }
}
