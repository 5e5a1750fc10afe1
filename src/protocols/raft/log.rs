//! The log as Raft §5.3 defines it, as pure functions over a `Vec<Entry>`.
//!
//! Indexes start at 1; index 0 is an implicit entry of term 0 that every log holds, so the
//! consistency check for the very first entry always passes. The rule kept here: entry `i` is at
//! position `i - 1`, and terms never decrease along the log.

use serde::Serialize;

/// What a log entry asks the state machine to do. Log replication (a later issue) adds the
/// key-value commands; leader election needs none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Does nothing; a new leader may append one to commit entries of earlier terms (§8).
    Noop,
}

/// One entry of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub index: u64,
    /// The term of the leader that created the entry.
    pub term: u64,
    pub command: Command,
}

/// The index of the last entry (0 for an empty log).
pub fn last_index(log: &[Entry]) -> u64 {
    log.len() as u64
}

/// The term of the last entry (0 for an empty log).
pub fn last_term(log: &[Entry]) -> u64 {
    log.last().map_or(0, |e| e.term)
}

/// The term of the entry at `index`; index 0 has term 0; `None` past the end.
pub fn term_at(log: &[Entry], index: u64) -> Option<u64> {
    match index {
        0 => Some(0),
        i => log.get(usize::try_from(i - 1).ok()?).map(|e| e.term),
    }
}

/// §5.4.1: a candidate's log is at least as up to date as `log` if its last term is higher, or
/// the last terms are equal and its log is at least as long.
pub fn is_up_to_date(log: &[Entry], candidate_last_index: u64, candidate_last_term: u64) -> bool {
    (candidate_last_term, candidate_last_index) >= (last_term(log), last_index(log))
}

/// §5.3, the consistency check: the log holds an entry at `prev_index` whose term is
/// `prev_term`.
pub fn matches(log: &[Entry], prev_index: u64, prev_term: u64) -> bool {
    term_at(log, prev_index) == Some(prev_term)
}

/// §5.3 receiver rules 3 and 4, once the consistency check at `prev_index` passed: an existing
/// entry that conflicts with a new one (same index, other term) is deleted with all that follow
/// it, and the new entries not already in the log are appended. Entries the log already holds
/// are left alone, so a stale or duplicated AppendEntries never truncates the log. Returns
/// whether the log changed.
pub fn append(log: &mut Vec<Entry>, prev_index: u64, entries: Vec<Entry>) -> bool {
    debug_assert!(
        prev_index <= last_index(log),
        "the consistency check passed"
    );
    let mut changed = false;
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
        changed = true;
    }
    debug_assert!(is_well_formed(log));
    changed
}

/// Entry `i` sits at position `i - 1` and terms never decrease.
pub fn is_well_formed(log: &[Entry]) -> bool {
    log.iter()
        .enumerate()
        .all(|(pos, e)| e.index == pos as u64 + 1)
        && log.windows(2).all(|pair| pair[0].term <= pair[1].term)
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
                command: Command::Noop,
            })
            .collect()
    }

    fn terms(log: &[Entry]) -> Vec<u64> {
        log.iter().map(|e| e.term).collect()
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
