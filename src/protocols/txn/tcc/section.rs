//! TCC's section of a run's report, from the facts its nodes state: how many transfers were
//! confirmed and cancelled, how long money stayed frozen on a source (from the try that froze
//! it to the confirm or cancel that released it), what is still set aside when the run ends,
//! and the marks of a broken participant — cancels with nothing to release (empty rollbacks
//! and the cancels of refused tries) and changes applied more than once; and how many times
//! the initiator sent a step again per transfer (its retries, from `Retried`).

use std::any::Any;
use std::collections::BTreeMap;

use serde_json::json;

use crate::node::section::plural;
use crate::node::{Nanos, RunView, Section, SectionBuilder, format_duration};
use crate::protocols::txn::{Account, BankFact, TxnId};

/// Watches the bank facts of a TCC run.
#[derive(Debug, Default)]
pub(crate) struct Transfers {
    confirmed: u64,
    cancelled: u64,
    /// Amounts set aside and not yet released: when, how much, and whether frozen (a debit).
    held: BTreeMap<(TxnId, Account), (Nanos, u64, bool)>,
    /// Every (txn, account) that was ever set aside.
    ever_held: BTreeMap<(TxnId, Account), ()>,
    /// How long each frozen debit stayed frozen.
    frozen_for: Vec<Nanos>,
    /// Cancels that found nothing set aside.
    nothing_to_release: u64,
    /// Applies per branch.
    applied: BTreeMap<(TxnId, Account), u64>,
    /// Each decided transfer, and the accounts on which its decision was carried out (an
    /// apply for a confirm, a rollback for a cancel): settled once both of its branches are.
    decided: BTreeMap<TxnId, BTreeMap<Account, ()>>,
    /// Messages sent again per transfer, for every transfer decided or retried.
    retries: BTreeMap<TxnId, u64>,
}

impl SectionBuilder for Transfers {
    fn on_fact(&mut self, at: Nanos, _node: u32, fact: &dyn Any, _view: &dyn RunView) {
        let Some(fact) = fact.downcast_ref::<BankFact>() else {
            return;
        };
        match *fact {
            BankFact::Decided { txn, commit } => {
                if commit {
                    self.confirmed += 1;
                } else {
                    self.cancelled += 1;
                }
                self.decided.entry(txn).or_default();
                self.retries.entry(txn).or_default();
            }
            BankFact::Retried { txn, .. } => {
                *self.retries.entry(txn).or_default() += 1;
            }
            BankFact::Held {
                txn,
                account,
                amount,
                debit,
            } => {
                self.held.insert((txn, account), (at, amount, debit));
                self.ever_held.insert((txn, account), ());
            }
            BankFact::Released { txn, account, .. } => {
                if let Some((since, _, true)) = self.held.remove(&(txn, account)) {
                    self.frozen_for.push(at - since);
                }
            }
            BankFact::RolledBack { txn, account } => {
                if !self.ever_held.contains_key(&(txn, account)) {
                    self.nothing_to_release += 1;
                }
                self.decided.entry(txn).or_default().insert(account, ());
            }
            BankFact::Applied { txn, account, .. } => {
                *self.applied.entry((txn, account)).or_default() += 1;
                self.decided.entry(txn).or_default().insert(account, ());
            }
            BankFact::Opened { .. } | BankFact::Prepared { .. } => {}
        }
    }

    fn section(&self, _view: &dyn RunView) -> Option<Section> {
        let mut frozen = self.frozen_for.clone();
        frozen.sort_unstable();
        let (p50, p99, max) = (
            percentile(&frozen, 0.50),
            percentile(&frozen, 0.99),
            frozen.last().copied().unwrap_or(0),
        );
        let mut retries: Vec<u64> = self.retries.values().copied().collect();
        retries.sort_unstable();
        let retried = Retries {
            transfers: retries.len() as u64,
            total: retries.iter().sum(),
            p50: percentile(&retries, 0.50),
            p99: percentile(&retries, 0.99),
            max: retries.last().copied().unwrap_or(0),
        };
        let still_frozen: u64 = self
            .held
            .values()
            .filter(|(_, _, debit)| *debit)
            .map(|(_, amount, _)| amount)
            .sum();
        let repeated = self.applied.values().filter(|&&n| n > 1).count() as u64;
        // A transfer has two branches: it settled once its decision was carried out on both.
        let unsettled = self.decided.values().filter(|done| done.len() < 2).count() as u64;
        let mut lines = vec![format!(
            "{} confirmed, {} cancelled",
            self.confirmed, self.cancelled
        )];
        if retried.transfers > 0 {
            lines.push(format!(
                "retries per transfer: p50 {}, p99 {}, max {} ({} sent again over {})",
                retried.p50,
                retried.p99,
                retried.max,
                plural(retried.total, "message"),
                plural(retried.transfers, "transfer")
            ));
        }
        if !frozen.is_empty() {
            lines.push(format!(
                "time frozen on a source: p50 {}, p99 {}, max {} ({})",
                format_duration(p50),
                format_duration(p99),
                format_duration(max),
                plural(frozen.len() as u64, "release")
            ));
        }
        if unsettled > 0 {
            lines.push(format!(
                "decided but not carried out on both branches at the end: {}",
                plural(unsettled, "transfer")
            ));
        }
        if !self.held.is_empty() {
            lines.push(format!(
                "still set aside at the end: {} ({still_frozen} frozen)",
                branches(self.held.len() as u64)
            ));
        }
        if self.nothing_to_release > 0 {
            lines.push(format!(
                "{} found nothing to release (empty rollbacks, or refused tries)",
                plural(self.nothing_to_release, "cancel")
            ));
        }
        if repeated > 0 {
            lines.push(format!("{} applied more than once", branches(repeated)));
        }
        let mut brief = format!("{} confirmed, {} cancelled", self.confirmed, self.cancelled);
        if retried.total > 0 {
            brief.push_str(&format!(", {} retried", plural(retried.total, "message")));
        }
        if unsettled > 0 {
            brief.push_str(&format!(", {unsettled} unsettled"));
        }
        if !self.held.is_empty() {
            brief.push_str(&format!(", {} still set aside", self.held.len()));
        }
        Some(Section {
            key: "tcc",
            title: "TCC transfers",
            brief: Some(brief),
            lines,
            json: json!({
                "confirmed": self.confirmed,
                "cancelled": self.cancelled,
                "frozen_ns": { "releases": frozen.len(), "p50": p50, "p99": p99, "max": max },
                "unsettled": unsettled,
                "still_held": { "branches": self.held.len(), "frozen": still_frozen },
                "nothing_to_release": self.nothing_to_release,
                "applied_more_than_once": repeated,
                "retries": {
                    "transfers": retried.transfers,
                    "total": retried.total,
                    "p50": retried.p50,
                    "p99": retried.p99,
                    "max": retried.max,
                },
            }),
        })
    }
}

/// Messages sent again per transfer, over the transfers decided or retried.
struct Retries {
    transfers: u64,
    total: u64,
    p50: u64,
    p99: u64,
    max: u64,
}

/// The nearest-rank percentile `p` of `sorted`; 0 when it is empty.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn branches(n: u64) -> String {
    if n == 1 {
        "1 branch".into()
    } else {
        format!("{n} branches")
    }
}
