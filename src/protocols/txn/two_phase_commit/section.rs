//! Two-phase commit's report section: how many transfers committed and aborted, how long each
//! participant was in doubt (prepared, decision unknown — the time two-phase commit blocks),
//! how long locks were held, and who was still in doubt when the run ended.
//!
//! Built from the bank facts alone, so it reads any run of the family: `Prepared` opens a
//! participant's doubt and its account's lock, `Applied` or `RolledBack` of the same
//! transaction on the same node closes them. For a transfer the two intervals are the same
//! events; they are kept apart because one is counted per participant, the other per account
//! (a participant holding both accounts of a transfer holds two locks).

use std::any::Any;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::node::section::plural;
use crate::node::{Nanos, RunView, Section, SectionBuilder, format_duration};
use crate::protocols::txn::{Account, BankFact, TxnId};

/// Watches a run's bank facts and answers the `transactions` section.
pub struct TxnSection {
    /// Each transaction's first decision, and whether another decision contradicted it.
    decided: BTreeMap<TxnId, (bool, bool)>,
    /// (participant, transaction) → when it prepared.
    prepared: BTreeMap<(u32, TxnId), Nanos>,
    /// (account, transaction) → when its lock was taken.
    locked: BTreeMap<(Account, TxnId), Nanos>,
    /// Per node: how long each doubt lasted.
    in_doubt: Vec<Vec<Nanos>>,
    lock_hold: Vec<Nanos>,
}

impl TxnSection {
    /// A section for a run of `nodes` nodes.
    pub fn new(nodes: usize) -> TxnSection {
        TxnSection {
            decided: BTreeMap::new(),
            prepared: BTreeMap::new(),
            locked: BTreeMap::new(),
            in_doubt: vec![Vec::new(); nodes],
            lock_hold: Vec::new(),
        }
    }

    fn resolved(&mut self, at: Nanos, node: u32, txn: TxnId, account: Account) {
        if let Some(since) = self.prepared.remove(&(node, txn))
            && let Some(times) = self.in_doubt.get_mut(node as usize)
        {
            times.push(at - since);
        }
        if let Some(since) = self.locked.remove(&(account, txn)) {
            self.lock_hold.push(at - since);
        }
    }
}

/// The nearest-rank percentile `p` (0–100) of sorted `xs`.
fn percentile(xs: &[Nanos], p: u64) -> Nanos {
    let rank = (xs.len() as u64 * p).div_ceil(100).max(1);
    xs[rank as usize - 1]
}

/// `(line, json)` for a list of durations: count, p50, p99, max.
fn spread(mut xs: Vec<Nanos>) -> (String, Value) {
    xs.sort_unstable();
    if xs.is_empty() {
        return ("never".into(), json!({ "count": 0 }));
    }
    let (p50, p99, max) = (percentile(&xs, 50), percentile(&xs, 99), xs[xs.len() - 1]);
    (
        format!(
            "{}, p50 {}, p99 {}, max {}",
            plural(xs.len() as u64, "time"),
            format_duration(p50),
            format_duration(p99),
            format_duration(max)
        ),
        json!({ "count": xs.len(), "p50_ns": p50, "p99_ns": p99, "max_ns": max }),
    )
}

impl SectionBuilder for TxnSection {
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, _view: &dyn RunView) {
        let Some(fact) = fact.downcast_ref::<BankFact>() else {
            return;
        };
        match *fact {
            BankFact::Decided { txn, commit } => {
                let entry = self.decided.entry(txn).or_insert((commit, false));
                if entry.0 != commit {
                    entry.1 = true;
                }
            }
            BankFact::Prepared { txn, account } => {
                self.prepared.entry((node, txn)).or_insert(at);
                self.locked.entry((account, txn)).or_insert(at);
            }
            BankFact::Applied { txn, account, .. } | BankFact::RolledBack { txn, account } => {
                self.resolved(at, node, txn, account);
            }
            BankFact::Opened { .. } | BankFact::Held { .. } | BankFact::Released { .. } => {}
        }
    }

    fn section(&self, view: &dyn RunView) -> Option<Section> {
        if self.decided.is_empty() && self.prepared.is_empty() && self.lock_hold.is_empty() {
            return None;
        }
        let committed = self.decided.values().filter(|(c, _)| *c).count() as u64;
        let aborted = self.decided.len() as u64 - committed;
        let both = self.decided.values().filter(|(_, b)| *b).count() as u64;
        let mut brief = format!("{committed} committed, {aborted} aborted");
        let mut lines = vec![format!("{committed} committed, {aborted} aborted")];
        if both > 0 {
            brief.push_str(&format!(", {} decided both ways", plural(both, "transfer")));
            lines.push(format!(
                "{} decided both ways (commit by one coordinator, abort by another)",
                plural(both, "transfer")
            ));
        }
        let mut doubt_json = serde_json::Map::new();
        for (node, times) in self.in_doubt.iter().enumerate() {
            if times.is_empty() {
                continue;
            }
            let name = view.name(node as u32).to_string();
            let (line, js) = spread(times.clone());
            lines.push(format!("in doubt at {name}: {line}"));
            doubt_json.insert(name, js);
        }
        let (lock_line, lock_json) = spread(self.lock_hold.clone());
        lines.push(format!("locks held: {lock_line}"));
        let now = view.now();
        let still: Vec<Value> = self
            .prepared
            .iter()
            .map(|((node, txn), since)| {
                json!({
                    "node": view.name(*node),
                    "txn": format!("c{}#{}", txn.client.0, txn.seq),
                    "since_ns": since,
                    "for_ns": now - since,
                })
            })
            .collect();
        if !self.prepared.is_empty() {
            let longest = self.prepared.values().map(|s| now - s).max().unwrap_or(0);
            let mut who: Vec<&str> = self.prepared.keys().map(|(n, _)| view.name(*n)).collect();
            who.dedup();
            brief.push_str(&format!(", {} in doubt at the end", who.join(", ")));
            lines.push(format!(
                "still in doubt at the end: {} on {} (the longest for {}), holding their locks",
                plural(self.prepared.len() as u64, "transaction part"),
                who.join(", "),
                format_duration(longest)
            ));
        }
        Some(Section {
            key: "transactions",
            title: "transactions",
            brief: Some(brief),
            lines,
            json: json!({
                "committed": committed,
                "aborted": aborted,
                "decided_both_ways": both,
                "in_doubt": doubt_json,
                "lock_hold": lock_json,
                "in_doubt_at_end": still,
            }),
        })
    }
}
