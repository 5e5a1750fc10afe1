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
use crate::node::{Nanos, Observation, format_instant};

use super::{Invariant, Property, Status, Violation};

/// Who first reported an entry, and its digest.
#[derive(Clone, Copy, Debug)]
struct Seen {
    digest: u64,
    node: u32,
    at: Nanos,
}

#[derive(Default)]
pub struct LogMatching {
    /// (index, term) → the first report of it.
    entries: BTreeMap<(u64, u64), Seen>,
    violation: Option<Violation>,
}

impl Invariant for LogMatching {
    fn name(&self) -> String {
        "log_matching".into()
    }

    fn property(&self) -> Property {
        Property::Safety
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
        let first = *self
            .entries
            .entry((index, term))
            .or_insert(Seen { digest, node, at });
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
}
