//! The log as Raft §5.3 defines it, as pure functions over a `Vec<Entry>`.
//!
//! Indexes start at 1; index 0 is an implicit entry of term 0 that every log holds, so the
//! consistency check for the very first entry always passes. The rule kept here: entry `i` is at
//! position `i - 1`, and terms never decrease along the log.
//!
//! Each entry also has a *digest*: a 64-bit FNV-1a hash of the previous entry's digest, the
//! entry's term and its command. Digests are not sent; every server computes them over its own
//! log, so equal digests at an index mean equal logs up through it (hash collisions aside). The
//! log invariants (`log_matching`, `state_machine_safety`, `leader_completeness`) compare them.

use std::sync::Arc;

use serde::Serialize;

use crate::node::{Op, RequestId};

/// What a log entry asks the state machine to do.
///
/// ```
/// use sim::node::{ClientId, Op, RequestId};
/// use sim::protocols::raft::log::Command;
/// // A new leader's first entry, and a client's put.
/// assert_eq!(serde_json::to_string(&Command::Noop).unwrap(), "\"noop\"");
/// let put = Command::Client { request: RequestId { client: ClientId(0), seq: 1 }, op: Op::Put { key: "k".into(), value: "v".into() } };
/// assert_eq!(serde_json::to_value(&put).unwrap()["client"]["op"]["f"], "put");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Does nothing; a new leader appends one at the start of its term so that it can commit
    /// entries of earlier terms (§5.4.2, §8).
    Noop,
    /// A client's key-value operation, tagged with its request id for duplicate suppression.
    /// (The entry shares its command: see [`Entry::command`].)
    Client {
        /// The client and its request's sequence number.
        request: RequestId,
        /// The key-value operation.
        op: Op,
    },
}

/// One entry of the replicated log.
///
/// ```
/// use std::sync::Arc;
/// use sim::protocols::raft::log::{Command, Entry};
/// let first = Entry { index: 1, term: 1, command: Arc::new(Command::Noop) };
/// assert_eq!(serde_json::to_string(&first).unwrap(), r#"{"index":1,"term":1,"command":"noop"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The entry's position in the log, from 1 (Raft's log index).
    pub index: u64,
    /// The term of the leader that created the entry.
    pub term: u64,
    /// What applying the entry does. Shared, never changed: the leader's entry, the copies in
    /// every follower's log and on every disk, and the AppendEntries that carry it are one
    /// allocation.
    pub command: Arc<Command>,
}

/// The index of the last entry (0 for an empty log).
pub(crate) fn last_index(log: &[Entry]) -> u64 {
    log.len() as u64
}

/// The term of the last entry (0 for an empty log).
pub(crate) fn last_term(log: &[Entry]) -> u64 {
    log.last().map_or(0, |e| e.term)
}

/// The term of the entry at `index`; index 0 has term 0; `None` past the end.
pub(crate) fn term_at(log: &[Entry], index: u64) -> Option<u64> {
    match index {
        0 => Some(0),
        i => log.get(usize::try_from(i - 1).ok()?).map(|e| e.term),
    }
}

/// §5.4.1: a candidate's log is at least as up to date as `log` if its last term is higher, or
/// the last terms are equal and its log is at least as long.
pub(crate) fn is_up_to_date(
    log: &[Entry],
    candidate_last_index: u64,
    candidate_last_term: u64,
) -> bool {
    (candidate_last_term, candidate_last_index) >= (last_term(log), last_index(log))
}

/// §5.3, the consistency check: the log holds an entry at `prev_index` whose term is
/// `prev_term`.
pub(crate) fn matches(log: &[Entry], prev_index: u64, prev_term: u64) -> bool {
    term_at(log, prev_index) == Some(prev_term)
}

/// §5.3 receiver rules 3 and 4, once the consistency check at `prev_index` passed: an existing
/// entry that conflicts with a new one (same index, other term) is deleted with all that follow
/// it, and the new entries not already in the log are appended. Entries the log already holds
/// are left alone, so a stale or duplicated AppendEntries never truncates the log. Returns
/// whether the log changed.
///
/// ```
/// use std::sync::Arc;
/// use sim::protocols::raft::log::{Command, Entry, append};
/// let entry = |index, term| Entry { index, term, command: Arc::new(Command::Noop) };
/// let mut log = vec![entry(1, 1), entry(2, 1), entry(3, 2)];
/// // A new leader of term 3 overwrites the conflicting entry 3 (term 2) after entry 2.
/// assert!(append(&mut log, 2, vec![entry(3, 3), entry(4, 3)]));
/// assert_eq!(log.iter().map(|e| e.term).collect::<Vec<_>>(), [1, 1, 3, 3]);
/// // Entries it already has change nothing: a repeated append truncates nothing.
/// assert!(!append(&mut log, 2, vec![entry(3, 3)]));
/// assert_eq!(log.len(), 4);
/// ```
pub fn append(log: &mut Vec<Entry>, prev_index: u64, entries: Vec<Entry>) -> bool {
    append_from(log, prev_index, entries).is_some()
}

/// [`append`], returning the index of the first entry written (`None` if the log already held
/// them all): every entry from there to the end is new.
pub(crate) fn append_from(
    log: &mut Vec<Entry>,
    prev_index: u64,
    entries: Vec<Entry>,
) -> Option<u64> {
    debug_assert!(
        prev_index <= last_index(log),
        "the consistency check passed"
    );
    let mut first_written = None;
    for (offset, entry) in entries.into_iter().enumerate() {
        let index = prev_index + 1 + offset as u64;
        debug_assert_eq!(
            entry.index, index,
            "AppendEntries carries consecutive entries"
        );
        match term_at(log, index) {
            Some(term) if term == entry.term => continue,
            Some(_) => {
                log.truncate((index - 1) as usize);
                log.push(entry);
            }
            None => log.push(entry),
        }
        first_written.get_or_insert(index);
    }
    // The log was well formed before; only what was written, and where it joins, can break it.
    // (Checking the whole log here made debug builds quadratic in the log's length.)
    debug_assert!(first_written.is_none_or(|from| is_well_formed_from(log, from)));
    first_written
}

/// Where a follower that failed the consistency check at `prev_index` may match the leader
/// (the hint for the leader's fast backup, §5.3): its last index if its log is shorter; else
/// the index before the first entry of the conflicting term, skipping that whole term at once.
pub(crate) fn conflict_hint(log: &[Entry], prev_index: u64) -> u64 {
    let Some(conflicting) = term_at(log, prev_index) else {
        return last_index(log);
    };
    // Index 0 always matches, so a conflict is at index 1 or later, within the term's run. Terms
    // never decrease along a log, so the run's first entry is found by bisection: a scan from the
    // start read the whole log on every rejection (a tenth of the data-cache misses of a
    // ten-minute KV run).
    let first_of_term = log.partition_point(|e| e.term < conflicting) as u64 + 1;
    debug_assert!(
        first_of_term <= prev_index && term_at(log, first_of_term) == Some(conflicting),
        "the run of term {conflicting} holding index {prev_index} starts at {first_of_term}"
    );
    debug_assert!(term_at(log, first_of_term - 1).is_some_and(|t| t < conflicting));
    first_of_term - 1
}

/// The digest of an entry of `term` holding `command`, following an entry with digest `prev`
/// (0 before the first entry).
pub(crate) fn digest(prev: u64, term: u64, command: &Command) -> u64 {
    let mut h = Fnv::new();
    h.u64(prev);
    h.u64(term);
    match command {
        Command::Noop => h.u64(0),
        Command::Client { request, op } => {
            h.u64(1);
            h.u64(u64::from(request.client.0));
            h.u64(request.seq);
            digest_op(&mut h, op);
        }
    }
    h.0
}

fn digest_op(h: &mut Fnv, op: &Op) {
    match op {
        Op::Get { key } => {
            h.u64(0);
            h.str(key);
        }
        Op::Put { key, value } => {
            h.u64(1);
            h.str(key);
            h.str(value);
        }
        Op::Append { key, value } => {
            h.u64(2);
            h.str(key);
            h.str(value);
        }
        Op::Cas { key, expect, new } => {
            h.u64(3);
            h.str(key);
            h.str(expect);
            h.str(new);
        }
    }
}

/// The digests of `log`'s entries from `from` (1-based) on, written into `digests` (one per
/// entry, truncated or extended to the log's length).
pub(crate) fn recompute_digests(log: &[Entry], digests: &mut Vec<u64>, from: u64) {
    let keep = (from.max(1) - 1) as usize;
    digests.truncate(keep.min(log.len()));
    for entry in &log[digests.len()..] {
        let prev = digests.last().copied().unwrap_or(0);
        digests.push(digest(prev, entry.term, &entry.command));
    }
}

/// 64-bit FNV-1a: tiny, stable across versions and machines, good enough to tell logs apart.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }
}

/// Entry `i` sits at position `i - 1` and terms never decrease.
pub(crate) fn is_well_formed(log: &[Entry]) -> bool {
    is_well_formed_from(log, 1)
}

/// [`is_well_formed`] for the entries from index `from` on and where they join the entry
/// before: all that can break when a well-formed log is written from `from` on.
pub(crate) fn is_well_formed_from(log: &[Entry], from: u64) -> bool {
    let start = (from.max(1) - 1) as usize;
    let Some(tail) = log.get(start.saturating_sub(1)..) else {
        return true;
    };
    let first = start.saturating_sub(1) as u64 + 1;
    tail.iter()
        .enumerate()
        .all(|(pos, e)| e.index == first + pos as u64)
        && tail.windows(2).all(|pair| pair[0].term <= pair[1].term)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(terms: &[u64], first_index: u64) -> Vec<Entry> {
        terms
            .iter()
            .enumerate()
            .map(|(i, &term)| Entry {
                index: first_index + i as u64,
                term,
                command: Arc::new(Command::Noop),
            })
            .collect()
    }

    fn terms(log: &[Entry]) -> Vec<u64> {
        log.iter().map(|e| e.term).collect()
    }

    #[test]
    fn the_conflict_hint_skips_the_whole_conflicting_term() {
        // Terms 1 1 2 2 2 4: a rejection at index 5 (term 2) points the leader before index 3,
        // the first entry of term 2; at index 6 (term 4, alone in its run) before index 6; past
        // the end, at the follower's last index; at index 1, at 0.
        let log = entries(&[1, 1, 2, 2, 2, 4], 1);
        assert_eq!(conflict_hint(&log, 5), 2);
        assert_eq!(conflict_hint(&log, 3), 2);
        assert_eq!(conflict_hint(&log, 6), 5);
        assert_eq!(conflict_hint(&log, 9), 6);
        assert_eq!(conflict_hint(&log, 1), 0);
        assert_eq!(conflict_hint(&[], 3), 0);
        // The bisection finds what a scan from the start finds, on every index of logs with runs
        // of every length.
        for runs in [&[3, 1, 4][..], &[1], &[5, 5], &[1, 1, 1, 1], &[2, 7, 1, 3]] {
            let terms: Vec<u64> = runs
                .iter()
                .enumerate()
                .flat_map(|(t, &len)| std::iter::repeat_n(2 * t as u64 + 1, len))
                .collect();
            let log = entries(&terms, 1);
            for prev in 1..=log.len() as u64 {
                let term = log[prev as usize - 1].term;
                let scanned = log.iter().position(|e| e.term == term).unwrap() as u64;
                assert_eq!(conflict_hint(&log, prev), scanned, "{terms:?} at {prev}");
            }
        }
    }

    #[test]
    fn a_digest_keeps_apart_logs_that_differ_before_its_entry() {
        // log_matching compares one digest per entry, so the chain must not forget: an FNV-1a
        // step (xor a byte, multiply by an odd prime) is a bijection of the state, so two
        // predecessors that differ in one byte differ after every later step. All 256
        // predecessors differing only in their first byte fed give 256 digests.
        let mut seen = std::collections::BTreeSet::new();
        for prev in 0..=255u64 {
            assert!(
                seen.insert(digest(prev, 7, &Command::Noop)),
                "predecessor {prev} collides with an earlier one"
            );
        }
        assert_ne!(
            digest(0, 1, &Command::Noop),
            digest(0, 2, &Command::Noop),
            "the term is in it"
        );
    }

    #[test]
    fn section_5_3_the_consistency_check_finds_the_entry_at_prev_index() {
        let log = entries(&[1, 1, 2], 1);
        assert!(matches(&log, 0, 0), "index 0 always matches");
        assert!(matches(&log, 3, 2));
        assert!(!matches(&log, 3, 1), "same index, other term");
        assert!(!matches(&log, 4, 2), "past the end");
        assert!(matches(&[], 0, 0));
    }

    #[test]
    fn section_5_3_a_conflicting_suffix_is_replaced() {
        let mut log = entries(&[1, 1, 2, 2], 1);
        assert!(append(&mut log, 2, entries(&[3], 3)));
        assert_eq!(terms(&log), [1, 1, 3], "entries 3 and 4 of term 2 deleted");
    }

    #[test]
    fn section_5_3_entries_already_held_are_kept_and_a_stale_append_truncates_nothing() {
        let mut log = entries(&[1, 1, 2, 2], 1);
        assert!(!append(&mut log, 1, entries(&[1, 2], 2)));
        assert_eq!(terms(&log), [1, 1, 2, 2]);
        assert!(!append(&mut log, 4, vec![]), "a heartbeat changes nothing");
        assert!(append(&mut log, 3, entries(&[2, 3], 4)));
        assert_eq!(terms(&log), [1, 1, 2, 2, 3]);
    }

    #[test]
    fn well_formedness_from_an_index_checks_the_suffix_and_where_it_joins() {
        let log = entries(&[1, 1, 2, 2], 1);
        assert!(is_well_formed(&log) && is_well_formed_from(&log, 3));
        assert!(is_well_formed_from(&log, 5), "nothing written");
        let mut lower = log.clone();
        lower[2].term = 0; // terms 1, 1, 0, 2
        assert!(
            !is_well_formed_from(&lower, 3),
            "a term below the one before it"
        );
        assert!(!is_well_formed_from(&lower, 2), "a fall inside the suffix");
        let mut last_lower = log.clone();
        last_lower[3].term = 1; // terms 1, 1, 2, 1
        assert!(
            !is_well_formed_from(&last_lower, 4),
            "the join with the entry before"
        );
        let mut misplaced = log.clone();
        misplaced[3].index = 7;
        assert!(!is_well_formed_from(&misplaced, 4));
        assert!(!is_well_formed(&misplaced));
    }

    #[test]
    fn section_5_4_1_up_to_date_compares_last_terms_then_lengths() {
        let log = entries(&[1, 2, 2], 1);
        assert!(
            is_up_to_date(&log, 1, 3),
            "higher last term wins even when shorter"
        );
        assert!(is_up_to_date(&log, 3, 2), "same last term, same length");
        assert!(!is_up_to_date(&log, 2, 2), "same last term, shorter");
        assert!(
            !is_up_to_date(&log, 9, 1),
            "lower last term loses even when longer"
        );
        assert!(is_up_to_date(&[], 0, 0));
    }
}
