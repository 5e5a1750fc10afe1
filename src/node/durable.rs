//! What a node keeps on disk, and the writes that change it.
//!
//! Durable state has two parts, because protocols have two kinds of it:
//!
//! - **State**: a few small fields, rewritten whole by each [`Ctx::persist`] (Raft's
//!   currentTerm and votedFor; a failover's epoch). Copying them is cheap.
//! - **The log**: a sequence of records that only grows at its end or is cut back
//!   ([`Ctx::log_append`], [`Ctx::log_truncate`]): Raft's log entries; later a participant's
//!   decision log in two-phase commit, or any write-ahead log. A write costs what it writes,
//!   not what the log already holds, so a run stays linear in its length however long the log
//!   grows. Copying the whole log on each write — a snapshot per persist — made a 10-minute run
//!   cost a hundred times a 1-minute one.
//!
//! Crash semantics, exactly: every write a handler asked for is on disk once the handler
//! returns (handlers are atomic; a crash falls between two), and a restarted node is rebuilt
//! from that disk alone — [`Protocol::new`] receives it. Nothing a protocol holds in memory
//! survives, however it mirrors the disk. Writes are effects, applied in the order they were
//! asked for, so "persist before send" reads in the effect list exactly as it is written.
//!
//! A protocol usually keeps the log in memory too (it reads it constantly) and writes to disk
//! the part that changed since its last write. [`Ctx::durable_log_len`] and
//! [`Ctx::durable_log`] let it check, in debug builds, that its copy and the disk agree.
//!
//! [`Ctx::persist`]: super::Ctx::persist
//! [`Ctx::log_append`]: super::Ctx::log_append
//! [`Ctx::log_truncate`]: super::Ctx::log_truncate
//! [`Ctx::durable_log_len`]: super::Ctx::durable_log_len
//! [`Ctx::durable_log`]: super::Ctx::durable_log
//! [`Protocol::new`]: super::Protocol::new

/// One write to a node's disk.
///
/// ```
/// use sim::node::{Disk, DiskWrite};
/// let mut disk: Disk<u64, &str> = Disk::default();
/// disk.apply(DiskWrite::State(3));
/// disk.apply(DiskWrite::Append("a"));
/// assert_eq!((disk.state, disk.log.as_slice()), (3, ["a"].as_slice()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskWrite<D, R> {
    /// Replaces the small durable state.
    State(D),
    /// Adds a record at the end of the log.
    Append(R),
    /// Keeps the first `len` records of the log and deletes the rest.
    Truncate(u64),
}

/// A node's disk: its small durable state and its durable log.
///
/// ```
/// use sim::node::{Disk, DiskWrite};
///
/// // Raft-like: (term, voted for) as state, log entries as records.
/// let mut disk: Disk<(u64, Option<u32>), &str> = Disk::default();
/// for write in [
///     DiskWrite::State((2, Some(1))),
///     DiskWrite::Append("x=1"),
///     DiskWrite::Append("x=2"),
///     DiskWrite::Truncate(1),
///     DiskWrite::Append("y=3"),
/// ] {
///     disk.apply(write);
/// }
/// // What `Protocol::new` receives after a crash:
/// assert_eq!(disk.state, (2, Some(1)));
/// assert_eq!(disk.log, ["x=1", "y=3"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk<D, R> {
    /// The small durable state, as last persisted ([`DiskWrite::State`]).
    pub state: D,
    /// The durable log, as appended and truncated.
    pub log: Vec<R>,
}

/// A blank disk: the default state and an empty log (records need no default).
impl<D: Default, R> Default for Disk<D, R> {
    fn default() -> Self {
        Disk {
            state: D::default(),
            log: Vec::new(),
        }
    }
}

impl<D, R> Disk<D, R> {
    /// Carries out one write.
    ///
    /// ```
    /// use sim::node::{Disk, DiskWrite};
    /// let mut disk: Disk<(), u32> = Disk { state: (), log: vec![1, 2, 3] };
    /// disk.apply(DiskWrite::Truncate(1));
    /// assert_eq!(disk.log, [1]);
    /// ```
    pub fn apply(&mut self, write: DiskWrite<D, R>) {
        match write {
            DiskWrite::State(state) => self.state = state,
            DiskWrite::Append(record) => self.log.push(record),
            DiskWrite::Truncate(len) => {
                debug_assert!(
                    len <= self.log.len() as u64,
                    "truncating a durable log of {} records to {len}: a protocol's copy of its \
                     log and its disk disagree",
                    self.log.len()
                );
                self.log.truncate(len as usize);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(writes: Vec<DiskWrite<u64, char>>) -> Disk<u64, char> {
        let mut disk = Disk::default();
        for w in writes {
            disk.apply(w);
        }
        disk
    }

    #[test]
    fn appends_and_truncations_leave_exactly_the_records_written_since_the_last_cut() {
        use DiskWrite::*;
        let disk = replay(vec![
            Append('a'),
            Append('b'),
            Append('c'),
            Truncate(1),
            Append('x'),
            State(7),
            Append('y'),
            Truncate(3),
        ]);
        assert_eq!(disk.log, ['a', 'x', 'y']);
        assert_eq!(disk.state, 7);
        assert_eq!(replay(vec![Append('a'), Truncate(0)]).log, []);
    }

    #[test]
    fn the_state_is_replaced_whole_and_leaves_the_log_alone() {
        use DiskWrite::*;
        let disk = replay(vec![Append('a'), State(3), State(5)]);
        assert_eq!(
            disk,
            Disk {
                state: 5,
                log: vec!['a']
            }
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "disagree")]
    fn truncating_past_the_end_is_a_protocol_bug() {
        replay(vec![DiskWrite::Append('a'), DiskWrite::Truncate(2)]);
    }
}
