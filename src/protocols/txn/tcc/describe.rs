//! A TCC node's state in a few lines, for `sim step`'s `state` command: the initiator's
//! transfers and their phases, or a participant's accounts (balance, frozen, reserved) and the
//! last step of each branch it recorded.

use crate::node::RequestId;

use super::{Role, Tcc};

/// At most this many transfers or branches are shown, the latest ones.
const SHOWN: usize = 8;

fn txn(t: &RequestId) -> String {
    format!("c{}#{}", t.client.0, t.seq)
}

impl Tcc {
    pub(super) fn describe(&self) -> Vec<String> {
        match &self.role {
            Role::Initiator(i) => {
                let mut lines = vec![format!(
                    "initiator     {} transfers taken on",
                    i.transfers.len()
                )];
                let skip = i.transfers.len().saturating_sub(SHOWN);
                for (t, transfer) in i.transfers.iter().skip(skip) {
                    lines.push(format!(
                        "  {:<10} {:?}, answered {:?}, sent {:?}",
                        txn(t),
                        transfer.phase,
                        transfer.answered,
                        transfer.sent
                    ));
                }
                lines
            }
            Role::Participant(p) => {
                let mut lines = vec!["participant".to_string()];
                for (account, h) in &p.accounts {
                    lines.push(format!(
                        "  account {}  balance {}, frozen {}, reserved {}",
                        account.0, h.balance, h.frozen, h.reserved
                    ));
                }
                let skip = p.branches.len().saturating_sub(SHOWN);
                for ((t, account), step) in p.branches.iter().skip(skip) {
                    lines.push(format!(
                        "  branch {} of account {}: {step:?}",
                        txn(t),
                        account.0
                    ));
                }
                lines
            }
        }
    }
}
