//! The invariants of the txn family, judged from [`BankFact`]s (and, for reads, the clients'
//! history): every protocol of the family lists them in its `Protocol::invariants`.
//!
//! - `atomicity`: no transfer is applied on one account and rolled back on another.
//! - `conservation`: at every fact, the balances, the amounts frozen by TCC's tries and the
//!   halves of transfers still in flight (one side applied, the other not yet) add up to what
//!   the accounts were opened with; with [`conservation_and_reads`], every read of all balances
//!   that returned also sums to it (Jepsen's bank check: for a design whose reads are
//!   snapshots).
//! - `no_negative_balance`: no balance goes below zero, and no account freezes more than it
//!   holds.
//! - `no_double_apply`: no transfer changes one account twice.
//! - `resolved_within D` (liveness): from the last fault, every transfer that began is settled
//!   (applied or rolled back on each account, nothing frozen or prepared) within `D`.

use std::any::Any;
use std::collections::BTreeMap;

use crate::node::BoundInfo;
use crate::node::invariant::{FirstViolation, FromLastFault};
use crate::node::{
    FaultRecord, Invariant, InvariantInfo, Nanos, Observation, Property, ProtocolInvariant,
    RunView, Status, Violation, format_duration, format_instant,
};
use crate::workload::history::{Call, History, Outcome, Output};

use super::bank::{Account, BankFact, TxnId};

/// A transfer as the violations name it: `c0#57`.
pub(crate) fn txn_name(txn: &TxnId) -> String {
    format!("c{}#{}", txn.client.0, txn.seq)
}

/// A fact in words, after the node that states it: `rolled back c0#57 on account 1`.
fn said(fact: &BankFact) -> String {
    match fact {
        BankFact::Opened { account, balance } => format!("opened {account} with {balance}"),
        BankFact::Applied {
            txn,
            account,
            delta,
            balance,
        } => format!(
            "applied {} to {account}: {delta:+}, balance {balance}",
            txn_name(txn)
        ),
        BankFact::Held {
            txn,
            account,
            amount,
            debit,
        } => format!(
            "{} {amount} on {account} for {}",
            if *debit { "froze" } else { "reserved" },
            txn_name(txn)
        ),
        BankFact::Released {
            txn,
            account,
            amount,
            applied,
            ..
        } => format!(
            "released {amount} on {account} for {} ({})",
            txn_name(txn),
            if *applied { "confirmed" } else { "cancelled" }
        ),
        BankFact::Decided { txn, commit } => format!(
            "decided to {} {}",
            if *commit { "commit" } else { "abort" },
            txn_name(txn)
        ),
        BankFact::RolledBack { txn, account } => {
            format!("rolled back {} on {account}", txn_name(txn))
        }
        BankFact::Prepared { txn, account } => {
            format!("prepared {} on {account}", txn_name(txn))
        }
        BankFact::Retried {
            txn,
            account,
            step,
            send,
        } => format!(
            "sent {step} of {} to {account} again (send {send})",
            txn_name(txn)
        ),
    }
}

fn cast(fact: &dyn Any) -> Option<&BankFact> {
    fact.downcast_ref::<BankFact>()
}

// ---- atomicity ----------------------------------------------------------------------------

/// `atomicity`.
#[derive(Default)]
pub(crate) struct Atomicity {
    /// Per transfer: the accounts it was applied on and rolled back on, with who and when.
    outcomes: BTreeMap<TxnId, Vec<(Account, bool, Nanos, u32)>>,
    verdict: FirstViolation,
}

impl Invariant for Atomicity {
    fn name(&self) -> String {
        "atomicity".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let (txn, account, applied) = match cast(fact) {
            Some(BankFact::Applied { txn, account, .. }) => (txn, *account, true),
            Some(BankFact::RolledBack { txn, account }) => (txn, *account, false),
            _ => return,
        };
        let seen = self.outcomes.entry(*txn).or_default();
        seen.push((account, applied, at, node));
        let conflict = seen
            .iter()
            .find(|(a, ok, _, _)| *ok != applied && *a != account);
        if let Some(&(other, _, when, who)) = conflict {
            let (done, undone) = if applied {
                ((account, at, node), (other, when, who))
            } else {
                ((other, when, who), (account, at, node))
            };
            self.verdict.fail(
                at,
                vec![
                    view.name(done.2).to_string(),
                    view.name(undone.2).to_string(),
                ],
                format!(
                    "transfer {} was applied on {} but rolled back on {}",
                    txn_name(txn),
                    done.0,
                    undone.0
                ),
                vec![
                    format!(
                        "{} {} applied {} to {}",
                        format_instant(done.1),
                        view.name(done.2),
                        txn_name(txn),
                        done.0
                    ),
                    format!(
                        "{} {} rolled back {} on {}",
                        format_instant(undone.1),
                        view.name(undone.2),
                        txn_name(txn),
                        undone.0
                    ),
                ],
            );
        }
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
}

// ---- conservation -------------------------------------------------------------------------

/// The money the facts account for, fact by fact.
#[derive(Default)]
struct Ledger {
    /// What the accounts were opened with, in all.
    opened: i64,
    balances: BTreeMap<Account, i64>,
    /// Amounts frozen on a source by a try, per transfer and account.
    frozen: BTreeMap<(TxnId, Account), i64>,
    /// Per transfer applied on one side only: the change its other side still owes.
    in_flight: BTreeMap<TxnId, (Account, i64)>,
    /// Transfers with both sides applied, or broken (one side rolled back after the other
    /// applied): they owe nothing.
    settled: BTreeMap<TxnId, ()>,
}

impl Ledger {
    /// Books one fact.
    fn book(&mut self, fact: &BankFact) {
        match fact {
            BankFact::Opened { account, balance } => {
                self.opened += balance;
                self.balances.insert(*account, *balance);
            }
            BankFact::Applied {
                txn,
                account,
                delta,
                balance,
            } => {
                // TCC's source: the confirm carries out what the try froze, so the frozen amount
                // becomes the change applied here (the `Released { applied: true }` beside it,
                // before or after, moves nothing): the total holds at each of the two facts.
                if *delta < 0
                    && let Some(frozen) = self.frozen.get_mut(&(*txn, *account))
                {
                    *frozen -= (-delta).min(*frozen);
                }
                self.balances.insert(*account, *balance);
                match self.in_flight.remove(txn) {
                    Some((first, _)) if first != *account => {
                        self.settled.insert(*txn, ());
                    }
                    Some(again) => {
                        self.in_flight.insert(*txn, again);
                    }
                    None if !self.settled.contains_key(txn) => {
                        self.in_flight.insert(*txn, (*account, -delta));
                    }
                    None => {}
                }
            }
            BankFact::Held {
                txn,
                account,
                amount,
                debit: true,
            } => {
                *self.frozen.entry((*txn, *account)).or_default() += *amount as i64;
                *self.balances.entry(*account).or_default() -= *amount as i64;
            }
            // Released by a cancel: the balance gets it back. (Released by a confirm moves
            // nothing: its `Applied` took the frozen amount, see above.)
            BankFact::Released {
                txn,
                account,
                amount,
                debit: true,
                applied: false,
            } => {
                *self.frozen.entry((*txn, *account)).or_default() -= *amount as i64;
                *self.balances.entry(*account).or_default() += *amount as i64;
            }
            BankFact::RolledBack { txn, account } => {
                // Its other side applied: that change is now all there will be.
                if let Some((first, _)) = self.in_flight.get(txn)
                    && first != account
                {
                    self.in_flight.remove(txn);
                    self.settled.insert(*txn, ());
                }
            }
            _ => {}
        }
    }

    fn total(&self) -> i64 {
        self.balances.values().sum::<i64>()
            + self.frozen.values().sum::<i64>()
            + self.in_flight.values().map(|(_, owed)| owed).sum::<i64>()
    }

    fn breakdown(&self) -> String {
        let balances: Vec<String> = self
            .balances
            .iter()
            .map(|(a, b)| format!("{a}: {b}"))
            .collect();
        format!(
            "balances {}; frozen {}; owed by transfers in flight {}",
            balances.join(", "),
            self.frozen.values().sum::<i64>(),
            self.in_flight.values().map(|(_, owed)| owed).sum::<i64>()
        )
    }
}

/// `conservation`: no money made or lost, at every fact; with `reads`, every read of all
/// balances sums to the opening total too.
pub(crate) struct Conservation {
    ledger: Ledger,
    reads: bool,
    verdict: FirstViolation,
}

impl Conservation {
    /// Judges the facts; with `reads`, the clients' reads of every balance as well.
    pub(crate) fn new(reads: bool) -> Self {
        Conservation {
            ledger: Ledger::default(),
            reads,
            verdict: FirstViolation::default(),
        }
    }
}

impl Invariant for Conservation {
    fn name(&self) -> String {
        "conservation".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = cast(fact) else { return };
        self.ledger.book(fact);
        if matches!(fact, BankFact::Opened { .. }) {
            return; // the total is still being opened
        }
        let total = self.ledger.total();
        if total != self.ledger.opened {
            self.verdict.fail(
                at,
                vec![view.name(node).to_string()],
                format!(
                    "the bank holds {total} but was opened with {}: {} {}",
                    self.ledger.opened,
                    if total > self.ledger.opened {
                        "money was made from nothing"
                    } else {
                        "money was lost"
                    },
                    (total - self.ledger.opened).abs()
                ),
                vec![
                    format!("{} {} {}", format_instant(at), view.name(node), said(fact)),
                    self.ledger.breakdown(),
                ],
            );
        }
    }
    fn on_history(&mut self, history: &History) {
        if !self.reads {
            return;
        }
        for op in &history.ops {
            if let (Call::ReadAll, Outcome::Ok(Output::Balances(balances))) =
                (&op.call, &op.outcome)
            {
                let sum: i64 = balances.iter().sum();
                if sum != self.ledger.opened {
                    let at = op.complete.unwrap_or(op.invoke);
                    self.verdict.fail(
                        at,
                        Vec::new(),
                        format!(
                            "client c{} read balances {balances:?} summing to {sum}, but the bank \
                             was opened with {}",
                            op.process, self.ledger.opened
                        ),
                        vec![format!(
                            "the read ran from {} to {}",
                            format_instant(op.invoke),
                            format_instant(at)
                        )],
                    );
                }
            }
        }
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
}

// ---- no_negative_balance ------------------------------------------------------------------

/// `no_negative_balance`.
#[derive(Default)]
pub(crate) struct NoNegativeBalance {
    ledger: Ledger,
    verdict: FirstViolation,
}

impl Invariant for NoNegativeBalance {
    fn name(&self) -> String {
        "no_negative_balance".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = cast(fact) else { return };
        self.ledger.book(fact);
        let account = match fact {
            BankFact::Applied { account, .. } | BankFact::Held { account, .. } => *account,
            _ => return,
        };
        let balance = self.ledger.balances.get(&account).copied().unwrap_or(0);
        if balance < 0 {
            self.verdict.fail(
                at,
                vec![view.name(node).to_string()],
                format!("{account} went negative: its balance is {balance}"),
                vec![format!(
                    "{} {} {}",
                    format_instant(at),
                    view.name(node),
                    said(fact)
                )],
            );
        }
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
}

// ---- no_double_apply ----------------------------------------------------------------------

/// `no_double_apply`.
#[derive(Default)]
pub(crate) struct NoDoubleApply {
    applied: BTreeMap<(TxnId, Account), Nanos>,
    verdict: FirstViolation,
}

impl Invariant for NoDoubleApply {
    fn name(&self) -> String {
        "no_double_apply".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(BankFact::Applied { txn, account, .. }) = cast(fact) else {
            return;
        };
        if let Some(first) = self.applied.insert((*txn, *account), at) {
            self.verdict.fail(
                at,
                vec![view.name(node).to_string()],
                format!("transfer {} changed {account} twice", txn_name(txn)),
                vec![
                    format!("{} first applied", format_instant(first)),
                    format!(
                        "{} {} applied it again",
                        format_instant(at),
                        view.name(node)
                    ),
                ],
            );
        }
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
}

// ---- resolved_within ----------------------------------------------------------------------

/// `resolved_within D`: liveness — from the last fault (or the start), every transfer that
/// began settles within `D`: each account it touched applied or rolled back, nothing left
/// frozen or prepared.
pub(crate) struct ResolvedWithin {
    bound: FromLastFault,
    /// Transfers begun and not settled: when each began, and its open parts.
    open: BTreeMap<TxnId, (Nanos, BTreeMap<Account, &'static str>)>,
    status: Status,
}

impl ResolvedWithin {
    /// Wants every transfer settled within `bound` of the last fault.
    pub(crate) fn new(bound: Nanos) -> Self {
        ResolvedWithin {
            bound: FromLastFault::new(bound),
            open: BTreeMap::new(),
            status: Status::Unknown("the run has not ended".into()),
        }
    }
}

impl Invariant for ResolvedWithin {
    fn name(&self) -> String {
        format!("resolved_within {}", format_duration(self.bound.bound))
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, _: u32, fact: &dyn Any, _: &dyn RunView) {
        let Some(fact) = cast(fact) else { return };
        match fact {
            BankFact::Prepared { txn, account } => {
                let entry = self.open.entry(*txn).or_insert((at, BTreeMap::new()));
                entry.1.insert(*account, "prepared, holding its lock");
            }
            BankFact::Held { txn, account, .. } => {
                let entry = self.open.entry(*txn).or_insert((at, BTreeMap::new()));
                entry
                    .1
                    .insert(*account, "holding a frozen or reserved amount");
            }
            BankFact::Applied { txn, account, .. }
            | BankFact::RolledBack { txn, account }
            | BankFact::Released { txn, account, .. } => {
                if let Some((_, parts)) = self.open.get_mut(txn) {
                    parts.remove(account);
                    if parts.is_empty() {
                        self.open.remove(txn);
                    }
                }
            }
            _ => {}
        }
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        self.bound.on_fault(at, fault);
    }
    fn on_end(&mut self, view: &dyn RunView) {
        let now = view.now();
        // The oldest unsettled transfer whose own bound has passed.
        let late = self
            .open
            .iter()
            .filter(|(_, (began, _))| self.bound.due(*began) <= now)
            .min_by_key(|(_, (began, _))| *began);
        self.status = match late {
            Some((txn, (began, parts))) => {
                let from = self.bound.start(*began);
                let evidence = parts
                    .iter()
                    .map(|(account, what)| format!("{account} is still {what}"))
                    .collect();
                Status::Violated(Violation {
                    at: self.bound.due(*began),
                    nodes: Vec::new(),
                    message: format!(
                        "transfer {} began at {} and was still unsettled {} later, at the end of the run",
                        txn_name(txn),
                        format_instant(*began),
                        format_duration(now - from)
                    ),
                    evidence,
                })
            }
            None if self.bound.cut_short(now) && !self.open.is_empty() => Status::Unknown(format!(
                "the run ended {} after the last fault, before the bound of {} had passed, with \
                 {} transfer(s) unsettled",
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

// ---- the catalogue entries ----------------------------------------------------------------

/// `atomicity`.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientId, RequestId, Status};
/// use sim::protocols::txn::{invariants, Account, BankFact};
///
/// let txn = RequestId { client: ClientId(0), seq: 1 };
/// let mut check = (invariants::atomicity().build)(3, None);
/// // Node A applies the debit of account 0; node B rolls back the credit of account 1.
/// let debit = BankFact::Applied { txn, account: Account(0), delta: -5, balance: 95 };
/// check.on_fact(10 * MS, 0, &debit, &view());
/// assert_eq!(check.status(), Status::Pass);
/// check.on_fact(20 * MS, 1, &BankFact::RolledBack { txn, account: Account(1) }, &view());
/// let Status::Violated(v) = check.status() else { panic!("a half-applied transfer passed") };
/// assert_eq!((v.at, v.nodes), (20 * MS, vec!["A".to_string(), "B".to_string()]));
/// ```
pub fn atomicity() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "atomicity",
            property: Property::Safety,
            definition: "No transfer is applied on one account and rolled back on another: all \
                         of it or none of it.",
            bound: None,
        },
        build: |_, _| Box::new(Atomicity::default()),
    }
}

/// `conservation` from the facts alone: for a design whose reads are not snapshots (TCC).
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientId, RequestId, Status};
/// use sim::protocols::txn::{invariants, Account, BankFact};
/// let txn = RequestId { client: ClientId(0), seq: 1 };
/// let mut check = (invariants::conservation().build)(3, None);
/// check.on_fact(0, 1, &BankFact::Opened { account: Account(0), balance: 100 }, &view());
/// check.on_fact(0, 2, &BankFact::Opened { account: Account(1), balance: 100 }, &view());
/// // A transfer that debits 50 and credits 80 makes 30 from nothing.
/// let debit = BankFact::Applied { txn, account: Account(0), delta: -50, balance: 50 };
/// check.on_fact(10 * MS, 1, &debit, &view());
/// let credit = BankFact::Applied { txn, account: Account(1), delta: 80, balance: 180 };
/// check.on_fact(20 * MS, 2, &credit, &view());
/// let Status::Violated(v) = check.status() else { panic!("money made from nothing passed") };
/// assert!(v.message.starts_with("the bank holds 230 but was opened with 200"), "{}", v.message);
/// ```
pub fn conservation() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "conservation",
            property: Property::Safety,
            definition: "At every fact, the balances, the amounts frozen by tries and the halves \
                         of transfers still in flight add up to what the accounts were opened \
                         with.",
            bound: None,
        },
        build: |_, _| Box::new(Conservation::new(false)),
    }
}

/// `conservation` from the facts and the clients' reads: for a design whose reads are
/// snapshots (two-phase commit).
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::Status;
/// use sim::node::history::{Call, History, Operation, Outcome, Output, TimeUnit};
/// use sim::protocols::txn::{invariants, Account, BankFact};
/// let mut check = (invariants::conservation_and_reads().build)(3, None);
/// check.on_fact(0, 1, &BankFact::Opened { account: Account(0), balance: 100 }, &view());
/// check.on_fact(0, 2, &BankFact::Opened { account: Account(1), balance: 100 }, &view());
/// // A read saw the debit of a transfer but not its credit: no snapshot.
/// let read = Operation { process: 0, key: None, call: Call::ReadAll, invoke: 5, complete: Some(9), outcome: Outcome::Ok(Output::Balances(vec![0, 100])), node: None };
/// check.on_history(&History { ops: vec![read], time_unit: TimeUnit::Nanos, model: None });
/// let Status::Violated(v) = check.status() else { panic!("a torn read passed") };
/// assert!(v.message.contains("summing to 100"), "{}", v.message);
/// ```
pub fn conservation_and_reads() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "conservation",
            property: Property::Safety,
            definition: "At every fact, the balances and the halves of transfers still in flight \
                         add up to what the accounts were opened with, and every read of all \
                         balances sums to it (Jepsen's bank check).",
            bound: None,
        },
        build: |_, _| Box::new(Conservation::new(true)),
    }
}

/// `no_negative_balance`.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientId, RequestId, Status};
/// use sim::protocols::txn::{invariants, Account, BankFact};
///
/// let txn = RequestId { client: ClientId(0), seq: 1 };
/// let mut check = (invariants::no_negative_balance().build)(3, None);
/// check.on_fact(0, 0, &BankFact::Opened { account: Account(0), balance: 100 }, &view());
/// // A debit the account could not cover: 150 out of 100.
/// let overdraft = BankFact::Applied { txn, account: Account(0), delta: -150, balance: -50 };
/// check.on_fact(10 * MS, 0, &overdraft, &view());
/// let Status::Violated(v) = check.status() else { panic!("an overdraft passed") };
/// assert_eq!(v.message, "account 0 went negative: its balance is -50");
/// ```
pub fn no_negative_balance() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_negative_balance",
            property: Property::Safety,
            definition: "No account's balance goes below zero.",
            bound: None,
        },
        build: |_, _| Box::new(NoNegativeBalance::default()),
    }
}

/// `no_double_apply`.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientId, RequestId, Status};
/// use sim::protocols::txn::{invariants, Account, BankFact};
///
/// let txn = RequestId { client: ClientId(0), seq: 1 };
/// let mut check = (invariants::no_double_apply().build)(3, None);
/// // A retried commit that credits account 1 a second time.
/// check.on_fact(10 * MS, 1, &BankFact::Applied { txn, account: Account(1), delta: 5, balance: 105 }, &view());
/// assert_eq!(check.status(), Status::Pass);
/// check.on_fact(30 * MS, 1, &BankFact::Applied { txn, account: Account(1), delta: 5, balance: 110 }, &view());
/// let Status::Violated(v) = check.status() else { panic!("a double credit passed") };
/// assert_eq!((v.at, v.nodes), (30 * MS, vec!["B".to_string()]));
/// ```
pub fn no_double_apply() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_double_apply",
            property: Property::Safety,
            definition: "No transfer changes an account more than once.",
            bound: None,
        },
        build: |_, _| Box::new(NoDoubleApply::default()),
    }
}

/// `resolved_within D`.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::protocols::txn::invariants;
/// // `[check] resolved_within = "2s"` enables it with that bound.
/// let entry = invariants::resolved_within();
/// assert!(entry.info.bound.is_some());
/// assert_eq!((entry.build)(3, Some(2_000 * MS)).name(), "resolved_within 2s");
/// ```
pub fn resolved_within() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "resolved_within",
            property: Property::Liveness,
            definition: "Set by `resolved_within = \"5s\"` in [check]. From the last fault (or \
                         the start), every transfer that began settles within the bound: each \
                         account it touched applied or rolled back, nothing left prepared or \
                         frozen. Unknown when the run ends before the bound has passed.",
            bound: Some(BoundInfo {
                example: "5s",
                description: "The liveness bound: from the last fault, every transfer must \
                              settle within it (resolved_within), e.g. \"5s\".",
            }),
        },
        build: |_, bound| {
            Box::new(ResolvedWithin::new(
                bound.expect("a bounded invariant gets its bound"),
            ))
        },
    }
}
