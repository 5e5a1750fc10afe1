//! A two-phase-commit participant's state for `sim step`'s `state` command: balances, the
//! locks its yes votes hold, and where it stands with each transaction it heard of (prepared
//! ones are in doubt until the decision arrives).

use super::{Participant, State};

/// At most this many transactions are shown: the prepared ones, then the last ones by id.
const SHOWN: usize = 8;

impl Participant {
    pub(in crate::protocols::txn::two_phase_commit) fn describe(&self) -> Vec<String> {
        let txn = |t: &crate::protocols::txn::TxnId| format!("c{}#{}", t.client.0, t.seq);
        let mut lines = vec!["participant".to_string()];
        for (account, balance) in &self.balances {
            let lock = match self.exclusive.get(account) {
                Some(t) => format!(", locked by {}", txn(t)),
                None => String::new(),
            };
            let readers = self.shared.get(account).map_or(0, |r| r.len());
            let read = if readers > 0 {
                format!(", {readers} read locks")
            } else {
                String::new()
            };
            lines.push(format!(
                "  account {}  balance {balance}{lock}{read}",
                account.0
            ));
        }
        let prepared: Vec<String> = self
            .parts
            .iter()
            .filter(|(_, p)| p.state == State::Prepared)
            .map(|(t, _)| txn(t))
            .collect();
        lines.push(format!(
            "  in doubt    {}",
            if prepared.is_empty() {
                "nothing".to_string()
            } else {
                format!("{} (prepared, awaiting the decision)", prepared.join(", "))
            }
        ));
        let skip = self.parts.len().saturating_sub(SHOWN);
        for (t, part) in self.parts.iter().skip(skip) {
            let state = match part.state {
                State::Prepared => "prepared".to_string(),
                State::Refused => "refused".to_string(),
                State::Done(true) => "committed".to_string(),
                State::Done(false) => "rolled back".to_string(),
            };
            lines.push(format!("  {:<10} {state}", txn(t)));
        }
        lines
    }
}
