//! `commit_needs_all_votes`: two-phase commit's own rule of atomic commitment, beside the money
//! checks the txn family shares (Bernstein, Hadzilacos and Goodman 1987, §7.2, AC3: the commit
//! decision can be reached only if every participant voted yes; Gray 1978).
//!
//! Judged from the participants' and the coordinator's facts, in true time:
//! - a participant carries out (`Applied`) only a transfer it prepared (`Prepared`: voted yes,
//!   the vote on its disk), in this life or an earlier one;
//! - no participant prepares a transfer after a commit decision for it (`Decided { commit:
//!   true }`): a yes vote that arrives after the commit shows the decision did not wait for it.
//!
//! A coordinator that commits on the first yes, or counts a vote twice, fails the second rule
//! as soon as the late participant votes; one that tells a participant to commit what it never
//! prepared fails the first. Money checks (`atomicity`, `conservation`) see such a bug only if
//! the late participant then refuses, and only as lost money, not as the rule it broke.

use std::any::Any;
use std::collections::BTreeMap;

use crate::node::invariant::FirstViolation;
use crate::node::{
    Invariant, InvariantInfo, Nanos, Observation, Property, ProtocolInvariant, RunView, Status,
    format_instant,
};
use crate::protocols::txn::invariants::txn_name;
use crate::protocols::txn::{Account, BankFact, TxnId};

/// `commit_needs_all_votes`.
#[derive(Default)]
pub(crate) struct CommitNeedsAllVotes {
    /// Per transfer: the first commit decision, when and by whom.
    committed: BTreeMap<TxnId, (Nanos, u32)>,
    /// Per transfer and account: when its participant first prepared it.
    prepared: BTreeMap<(TxnId, Account), Nanos>,
    verdict: FirstViolation,
}

impl Invariant for CommitNeedsAllVotes {
    fn name(&self) -> String {
        "commit_needs_all_votes".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}

    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = fact.downcast_ref::<BankFact>() else {
            return;
        };
        match *fact {
            BankFact::Decided { txn, commit: true } => {
                self.committed.entry(txn).or_insert((at, node));
            }
            BankFact::Prepared { txn, account } => {
                self.prepared.entry((txn, account)).or_insert(at);
                if let Some(&(decided, by)) = self.committed.get(&txn) {
                    self.verdict.fail(
                        at,
                        vec![view.name(node).to_string()],
                        format!(
                            "{} committed {} before {account} voted yes",
                            view.name(by),
                            txn_name(&txn)
                        ),
                        vec![
                            format!(
                                "{} {} decided to commit {}",
                                format_instant(decided),
                                view.name(by),
                                txn_name(&txn)
                            ),
                            format!(
                                "{} {} prepared {account} for it, voting yes",
                                format_instant(at),
                                view.name(node)
                            ),
                        ],
                    );
                }
            }
            BankFact::Applied { txn, account, .. }
                if !self.prepared.contains_key(&(txn, account)) =>
            {
                self.verdict.fail(
                    at,
                    vec![view.name(node).to_string()],
                    format!(
                        "{} applied {} to {account} without having voted yes",
                        view.name(node),
                        txn_name(&txn)
                    ),
                    vec![format!(
                        "{} {} applied it; {account} never prepared it",
                        format_instant(at),
                        view.name(node)
                    )],
                );
            }
            _ => {}
        }
    }

    fn status(&self) -> Status {
        self.verdict.status()
    }
}

/// `commit_needs_all_votes` for `[check]`.
pub(crate) fn commit_needs_all_votes() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "commit_needs_all_votes",
            property: Property::Safety,
            definition: "A transfer commits only with every participant's yes vote (atomic \
                         commitment, AC3): a participant applies only a transfer it prepared, \
                         and none prepares a transfer after a commit decision for it.",
            bound: None,
        },
        build: |_, _| Box::new(CommitNeedsAllVotes::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::testing::View;
    use crate::node::{ClientId, RequestId};

    const MS: Nanos = 1_000_000;

    const TXN: TxnId = RequestId {
        client: ClientId(0),
        seq: 7,
    };

    fn run(facts: &[(Nanos, u32, BankFact)]) -> Status {
        let view = View::new(&["TC", "A", "B"], 0);
        let mut check = (commit_needs_all_votes().build)(3, None);
        for (at, node, fact) in facts {
            check.on_fact(*at, *node, fact, &view);
        }
        check.status()
    }

    fn prepared(account: u32) -> BankFact {
        BankFact::Prepared {
            txn: TXN,
            account: Account(account),
        }
    }

    fn applied(account: u32) -> BankFact {
        BankFact::Applied {
            txn: TXN,
            account: Account(account),
            delta: 5,
            balance: 105,
        }
    }

    const COMMIT: BankFact = BankFact::Decided {
        txn: TXN,
        commit: true,
    };

    #[test]
    fn both_votes_then_the_commit_then_both_applies_pass() {
        let status = run(&[
            (MS, 1, prepared(0)),
            (2 * MS, 2, prepared(1)),
            (3 * MS, 0, COMMIT),
            (4 * MS, 1, applied(0)),
            (5 * MS, 2, applied(1)),
        ]);
        assert_eq!(status, Status::Pass);
    }

    #[test]
    fn a_commit_decided_before_the_second_yes_fails_when_that_yes_comes() {
        let status = run(&[
            (MS, 1, prepared(0)),
            (2 * MS, 0, COMMIT),
            (3 * MS, 1, applied(0)),
            (4 * MS, 2, prepared(1)),
        ]);
        let Status::Violated(v) = status else {
            panic!("a commit on one vote passed: {status:?}")
        };
        assert_eq!((v.at, v.nodes), (4 * MS, vec!["B".to_string()]));
        assert_eq!(v.message, "TC committed c0#7 before account 1 voted yes");
    }

    #[test]
    fn applying_a_transfer_never_prepared_fails() {
        let status = run(&[
            (MS, 1, prepared(0)),
            (2 * MS, 0, COMMIT),
            (3 * MS, 2, applied(1)),
        ]);
        let Status::Violated(v) = status else {
            panic!("an apply without a vote passed: {status:?}")
        };
        assert_eq!(
            v.message,
            "B applied c0#7 to account 1 without having voted yes"
        );
    }

    #[test]
    fn an_abort_decided_early_and_a_late_vote_pass() {
        // Deciding abort needs no vote at all; a yes that arrives after it is rolled back.
        let status = run(&[
            (
                MS,
                0,
                BankFact::Decided {
                    txn: TXN,
                    commit: false,
                },
            ),
            (2 * MS, 1, prepared(0)),
        ]);
        assert_eq!(status, Status::Pass);
    }
}
