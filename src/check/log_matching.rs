//! `log_matching`: if two logs hold an entry with the same index and term, they are identical in
//! all entries up through that index (Raft §5.3, the Log Matching Property).
//!
//! The protocol reports every entry it writes as `Appended { index, term, digest }`, where the
//! digest chains the entry's term and command over the node's whole log before it, computed by
//! the node itself over its own log. So the property reads: no two `Appended` observations share
//! (index, term) with different digests. The checker keeps one digest per (index, term) seen, the
//! first reporter's, and compares every later one against it.

use std::collections::BTreeMap;

use crate::node::RunView;
use crate::node::{Nanos, Observation, ObservationKinds, format_instant};

use super::{Invariant, Property, Status, Violation};

/// Who first reported an entry, and its digest.
#[derive(Clone, Copy, Debug)]
struct Seen {
    digest: u64,
    node: u32,
    at: Nanos,
}

/// How far past twice the number of indexes reported so far an index may lie and still get a
/// slot in the dense table. Honest logs are dense from 1; a protocol reporting a wild index
/// gets a sparse entry instead of gigabytes of empty slots.
const DENSE_SLACK: u64 = 1 << 16;

/// The first report of each (index, term), kept where it is cheapest to find: nearly every index
/// has entries of one term only, so the first term reported at an index sits in a table by
/// index, and any other term there — a rival entry, later overwritten — or an index too far out
/// for the table goes to a sparse map. Each (index, term) lives in one place only.
#[derive(Default)]
pub(crate) struct LogMatching {
    /// index → the first term reported there, and its first report.
    dense: Vec<Option<(u64, Seen)>>,
    /// How many slots of `dense` are filled.
    filled: u64,
    /// (index, term) → the first report of it, for what `dense` does not hold.
    sparse: BTreeMap<(u64, u64), Seen>,
    violation: Option<Violation>,
}

impl LogMatching {
    /// The first report of (`index`, `term`), which is `new` if there was none before.
    fn first(&mut self, index: u64, term: u64, new: Seen) -> Seen {
        let len = self.dense.len() as u64;
        if index >= len && index > 2 * self.filled + DENSE_SLACK {
            return *self.sparse.entry((index, term)).or_insert(new);
        }
        if index >= len {
            self.dense.resize(index as usize + 1, None);
        }
        let slot = &mut self.dense[index as usize];
        match *slot {
            Some((t, first)) if t == term => first,
            Some(_) => *self.sparse.entry((index, term)).or_insert(new),
            None => {
                // Reported while `dense` did not reach it yet?
                if let Some(&first) = self.sparse.get(&(index, term)) {
                    return first;
                }
                *slot = Some((term, new));
                self.filled += 1;
                new
            }
        }
    }
}

impl Invariant for LogMatching {
    fn name(&self) -> String {
        "log_matching".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::APPENDED
    }

    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &dyn RunView) {
        let Observation::Appended {
            index,
            term,
            digest,
        } = *obs
        else {
            return;
        };
        let first = self.first(index, term, Seen { digest, node, at });
        if first.digest == digest || self.violation.is_some() {
            return;
        }
        let (a, b) = (cluster.name(first.node), cluster.name(node));
        self.violation = Some(Violation {
            at,
            nodes: vec![a.to_string(), b.to_string()],
            message: format!(
                "{a} and {b} both hold an entry of term {term} at index {index}, but their logs \
                 differ up to it"
            ),
            evidence: vec![
                format!(
                    "{}  {a} appended index {index} term {term} (log digest {:016x})",
                    format_instant(first.at),
                    first.digest
                ),
                format!(
                    "{}  {b} appended index {index} term {term} (log digest {digest:016x})",
                    format_instant(at)
                ),
            ],
        });
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster;

    fn appended(index: u64, term: u64, digest: u64) -> Observation {
        Observation::Appended {
            index,
            term,
            digest,
        }
    }

    #[test]
    fn logs_that_agree_where_index_and_term_agree_pass() {
        let c = cluster(3);
        let mut inv = LogMatching::default();
        inv.on_observation(1, 0, &appended(1, 1, 0xa), &c);
        inv.on_observation(2, 1, &appended(1, 1, 0xa), &c);
        inv.on_observation(3, 2, &appended(1, 2, 0xb), &c); // another term: a rival entry, allowed
        inv.on_observation(4, 2, &appended(1, 1, 0xa), &c); // overwritten back, same entry
        assert_eq!(inv.status(), Status::Pass);
    }

    #[test]
    fn two_logs_with_one_index_and_term_but_different_prefixes_fail() {
        let c = cluster(3);
        let mut inv = LogMatching::default();
        inv.on_observation(10, 0, &appended(3, 2, 0xa), &c);
        inv.on_observation(20, 2, &appended(3, 2, 0xb), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!((v.at, v.nodes.clone()), (20, vec!["A".into(), "C".into()]));
        assert!(v.message.contains("term 2 at index 3"), "{}", v.message);
        assert_eq!(v.evidence.len(), 2);
    }

    /// Rival terms at one index are told apart whichever of them came first.
    #[test]
    fn each_term_at_an_index_keeps_its_own_first_report() {
        let c = cluster(3);
        let mut inv = LogMatching::default();
        inv.on_observation(1, 0, &appended(4, 2, 0xa), &c);
        inv.on_observation(2, 1, &appended(4, 3, 0xb), &c);
        inv.on_observation(3, 2, &appended(4, 2, 0xa), &c);
        inv.on_observation(4, 0, &appended(4, 3, 0xb), &c);
        assert_eq!(inv.status(), Status::Pass);
        inv.on_observation(5, 2, &appended(4, 3, 0xc), &c);
        let Status::Violated(v) = inv.status() else {
            panic!("expected a violation")
        };
        assert_eq!(v.nodes, ["B", "C"]);
        assert!(v.message.contains("term 3 at index 4"), "{}", v.message);
    }

    /// A buggy protocol may report any index. Index 0 and wild ones are checked like the rest,
    /// without a table of billions of empty slots — and an outlier the table reaches later is
    /// still the first report of its (index, term).
    #[test]
    fn wild_indexes_are_checked_without_a_giant_table() {
        let c = cluster(3);
        let far = 3 * DENSE_SLACK;
        for wild in [0, far, u64::MAX] {
            let mut inv = LogMatching::default();
            inv.on_observation(1, 0, &appended(wild, 1, 0xa), &c);
            inv.on_observation(2, 1, &appended(wild, 1, 0xa), &c);
            assert!(inv.dense.len() as u64 <= DENSE_SLACK + 1, "index {wild}");
            assert_eq!(inv.status(), Status::Pass);
            // Fill the table until it reaches the outlier, then contradict the outlier.
            for index in 1..far {
                inv.on_observation(3, 0, &appended(index, 1, index), &c);
            }
            inv.on_observation(4, 2, &appended(wild, 2, 0xb), &c); // a rival term: allowed
            assert_eq!(inv.status(), Status::Pass);
            inv.on_observation(5, 2, &appended(wild, 1, 0xc), &c);
            let Status::Violated(v) = inv.status() else {
                panic!("expected a violation at index {wild}")
            };
            assert_eq!(v.nodes, ["A", "C"], "index {wild}");
            assert!(
                v.message.contains(&format!("term 1 at index {wild}")),
                "{}",
                v.message
            );
        }
    }
}
