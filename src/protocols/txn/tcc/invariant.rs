//! `settled_within D`, TCC's own liveness bound: from the last fault, every transfer the
//! initiator decided is carried out on both of its branches — applied on each for a confirm,
//! rolled back on each for a cancel — within `D`.
//!
//! The family's `resolved_within` follows what was set aside (`Held`) until it is released; a
//! branch whose try never arrived set nothing aside, so a cancel that can never be carried out
//! there (a participant that allows no empty rollback) leaves nothing for it to follow. This
//! one follows the decision instead: a TCC transfer always has two branches, so it is settled
//! once two accounts have stated the decision's outcome for it.

use std::any::Any;
use std::collections::{BTreeMap, BTreeSet};

use crate::node::invariant::FromLastFault;
use crate::node::{
    BoundInfo, FaultRecord, Invariant, InvariantInfo, Nanos, Observation, Property,
    ProtocolInvariant, RunView, Status, Violation, format_duration, format_instant,
};
use crate::protocols::txn::{Account, BankFact, TxnId};

/// The checker.
pub(crate) struct SettledWithin {
    bound: FromLastFault,
    /// Decided transfers not yet carried out on both branches: when decided, whether to
    /// confirm, and the accounts that have carried it out.
    /// (The initiator decides before it sends the decision, so no branch states an outcome
    /// before its `Decided`.)
    open: BTreeMap<TxnId, (Nanos, bool, BTreeSet<Account>)>,
    status: Status,
}

impl SettledWithin {
    /// Wants every decided transfer settled within `bound` of the last fault.
    pub(crate) fn new(bound: Nanos) -> Self {
        SettledWithin {
            bound: FromLastFault::new(bound),
            open: BTreeMap::new(),
            status: Status::Unknown("the run has not ended".into()),
        }
    }
}

impl Invariant for SettledWithin {
    fn name(&self) -> String {
        format!("settled_within {}", format_duration(self.bound.bound))
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, _: u32, fact: &dyn Any, _: &dyn RunView) {
        let Some(fact) = fact.downcast_ref::<BankFact>() else {
            return;
        };
        let (txn, account, confirmed) = match *fact {
            BankFact::Decided { txn, commit } => {
                self.open.insert(txn, (at, commit, BTreeSet::new()));
                return;
            }
            BankFact::Applied { txn, account, .. } => (txn, account, true),
            BankFact::RolledBack { txn, account } => (txn, account, false),
            _ => return,
        };
        if let Some((_, commit, done)) = self.open.get_mut(&txn)
            && *commit == confirmed
        {
            done.insert(account);
            if done.len() >= 2 {
                self.open.remove(&txn);
            }
        }
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        self.bound.on_fault(at, fault);
    }
    fn on_end(&mut self, view: &dyn RunView) {
        let now = view.now();
        let due = |decided: Nanos| self.bound.due(decided);
        let late = self
            .open
            .iter()
            .filter(|(_, (decided, _, _))| due(*decided) <= now)
            .min_by_key(|(_, (decided, _, _))| *decided);
        self.status = match late {
            Some((txn, (decided, commit, done))) => {
                let (what, verb) = if *commit {
                    ("confirm", "applied")
                } else {
                    ("cancel", "rolled back")
                };
                let carried: Vec<String> = done.iter().map(|a| a.to_string()).collect();
                Status::Violated(Violation {
                    at: due(*decided),
                    nodes: Vec::new(),
                    message: format!(
                        "transfer c{}#{} was decided ({what}) at {} and was still not {verb} \
                         on both of its branches {} later, at the end of the run",
                        txn.client.0,
                        txn.seq,
                        format_instant(*decided),
                        format_duration(now - self.bound.start(*decided))
                    ),
                    evidence: vec![match carried.len() {
                        0 => format!("no branch has {verb} it"),
                        _ => format!("only {} has {verb} it", carried.join(", ")),
                    }],
                })
            }
            // Transfers decided too late for their bound to have passed are not late; only a
            // run that ends within the bound of the last fault cannot tell.
            None if self.bound.cut_short(now) && !self.open.is_empty() => Status::Unknown(format!(
                "the run ended {} after the last fault, before the bound of {} had passed, \
                     with {} decided transfer(s) not yet settled",
                format_duration(now - self.bound.quiet_since),
                format_duration(self.bound.bound),
                self.open.len()
            )),
            None => Status::Pass,
        };
    }
    fn status(&self) -> Status {
        self.status.clone()
    }
}

/// `settled_within`'s catalogue entry.
///
/// ```
/// use sim::node::Property;
/// use sim::protocols::txn::tcc::invariant::settled_within;
/// let entry = settled_within();
/// assert_eq!((entry.info.name, entry.info.property), ("settled_within", Property::Liveness));
/// assert!(entry.info.bound.is_some(), "[check] settled_within = \"2s\" sets its bound");
/// ```
pub fn settled_within() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "settled_within",
            property: Property::Liveness,
            definition: "Set by `settled_within = \"5s\"` in [check] (TCC). From the last fault \
                         (or the start), every transfer the initiator decided is carried out on \
                         both of its branches within the bound: applied on each for a confirm, \
                         rolled back on each for a cancel. Unknown when the run ends before the \
                         bound has passed.",
            bound: Some(BoundInfo {
                example: "5s",
                description: "The liveness bound: from the last fault, every decided TCC \
                              transfer must be carried out on both branches within it \
                              (settled_within), e.g. \"5s\".",
            }),
        },
        build: |_, bound| {
            Box::new(SettledWithin::new(
                bound.expect("a bounded invariant gets its bound"),
            ))
        },
    }
}
