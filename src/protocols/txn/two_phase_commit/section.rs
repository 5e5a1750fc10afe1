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
pub(crate) struct TxnSection {
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
    pub(crate) fn new(nodes: usize) -> TxnSection {
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
            BankFact::Opened { .. }
            | BankFact::Held { .. }
            | BankFact::Released { .. }
            | BankFact::Retried { .. } => {}
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
            brief.push_str(&format!(", in doubt at the end: {}", who.join(" ")));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::ClientId;
    use crate::node::testing::View;

    const MS: Nanos = 1_000_000;

    #[test]
    fn counts_outcomes_and_measures_doubt_per_participant_and_what_is_still_blocked() {
        let view = View::new(&["A", "B", "C"], 5_000 * MS);
        let t = |seq| TxnId {
            client: ClientId(0),
            seq,
        };
        let mut s = TxnSection::new(3);
        let facts = [
            (
                10,
                1,
                BankFact::Prepared {
                    txn: t(1),
                    account: Account(0),
                },
            ),
            (
                12,
                2,
                BankFact::Prepared {
                    txn: t(1),
                    account: Account(1),
                },
            ),
            (
                13,
                0,
                BankFact::Decided {
                    txn: t(1),
                    commit: true,
                },
            ),
            (
                15,
                1,
                BankFact::Applied {
                    txn: t(1),
                    account: Account(0),
                    delta: -5,
                    balance: 95,
                },
            ),
            (
                16,
                2,
                BankFact::Applied {
                    txn: t(1),
                    account: Account(1),
                    delta: 5,
                    balance: 105,
                },
            ),
            (
                20,
                1,
                BankFact::RolledBack {
                    txn: t(2),
                    account: Account(0),
                },
            ),
            (
                21,
                0,
                BankFact::Decided {
                    txn: t(2),
                    commit: false,
                },
            ),
            (
                30,
                1,
                BankFact::Prepared {
                    txn: t(3),
                    account: Account(0),
                },
            ),
            (
                31,
                0,
                BankFact::Decided {
                    txn: t(3),
                    commit: true,
                },
            ),
            (
                40,
                0,
                BankFact::Decided {
                    txn: t(3),
                    commit: false,
                },
            ),
        ];
        for (at, node, fact) in &facts {
            s.on_fact(at * MS, *node, fact, &view);
        }
        let section = s.section(&view).expect("a section");
        assert_eq!(
            section.brief.as_deref(),
            Some("2 committed, 1 aborted, 1 transfer decided both ways, in doubt at the end: B")
        );
        assert_eq!(
            section.lines,
            [
                "2 committed, 1 aborted",
                "1 transfer decided both ways (commit by one coordinator, abort by another)",
                "in doubt at B: 1 time, p50 5ms, p99 5ms, max 5ms",
                "in doubt at C: 1 time, p50 4ms, p99 4ms, max 4ms",
                "locks held: 2 times, p50 4ms, p99 5ms, max 5ms",
                "still in doubt at the end: 1 transaction part on B (the longest for 4.97s), holding their locks",
            ]
        );
        assert_eq!(section.json["in_doubt"]["B"]["max_ns"], 5 * MS);
        assert_eq!(section.json["in_doubt_at_end"][0]["txn"], "c0#3");
        assert_eq!(section.json["decided_both_ways"], 1);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let xs: Vec<Nanos> = (1..=100).collect();
        assert_eq!(percentile(&xs, 50), 50);
        assert_eq!(percentile(&xs, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
    }
}
