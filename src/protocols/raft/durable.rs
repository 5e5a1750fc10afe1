//! What a Raft server keeps on disk (Figure 2's persistent state on all servers) and how it
//! writes it: the term and the vote are the node's small durable state, rewritten whole when
//! either changes; the log is its durable log, written from the first entry that changed since
//! the last write. A write costs what changed, so a server's cost per entry does not grow with
//! its log.
//!
//! The server reads its log constantly, so it keeps it in memory too ([`RaftDurable`]); the
//! rule kept is that once a handler has saved, the disk holds exactly that copy. Debug builds
//! check it cheaply on every save: the lengths agree, and so does the last entry the handler
//! left untouched on disk.

use serde::Serialize;

use crate::node::{Ctx, DiskOf, NodeId};

use super::Raft;
use super::log::{self, Entry};

/// Figure 2's currentTerm and votedFor: the small durable state.
///
/// ```
/// use sim::node::NodeId;
/// use sim::protocols::raft::HardState;
/// // Voted for C in term 4: after a crash it must not vote for anyone else in term 4.
/// let hard = HardState { current_term: 4, voted_for: Some(NodeId(2)) };
/// assert_eq!(serde_json::to_string(&hard).unwrap(), r#"{"current_term":4,"voted_for":2}"#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HardState {
    /// The latest term this server has seen; starts at 0, only grows.
    pub current_term: u64,
    /// The candidate that received this server's vote in the current term.
    pub voted_for: Option<NodeId>,
}

/// Figure 2's persistent state as the server holds it in memory.
///
/// ```
/// use sim::protocols::raft::RaftDurable;
/// // A server that has never run: term 0, no vote, an empty log.
/// let fresh = RaftDurable::default();
/// assert_eq!((fresh.current_term, fresh.voted_for, fresh.log.len()), (0, None, 0));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RaftDurable {
    /// The latest term this server has seen; starts at 0, only grows.
    pub current_term: u64,
    /// The candidate that received this server's vote in the current term.
    pub voted_for: Option<NodeId>,
    /// log[]: the entries, index 1 first; each holds a command and the term it was created in.
    pub log: Vec<Entry>,
}

impl RaftDurable {
    /// currentTerm and votedFor, without the log: what is written to disk when either changes.
    pub(crate) fn hard_state(&self) -> HardState {
        HardState {
            current_term: self.current_term,
            voted_for: self.voted_for,
        }
    }

    /// What a server finds on its disk when it (re)starts; empty if it never wrote.
    pub(crate) fn from_disk(disk: Option<&DiskOf<Raft>>) -> Self {
        let Some(disk) = disk else {
            return RaftDurable::default();
        };
        RaftDurable {
            current_term: disk.state.current_term,
            voted_for: disk.state.voted_for,
            log: disk.log.clone(),
        }
    }

    /// The disk that holds exactly this state.
    #[cfg(test)]
    pub fn to_disk(&self) -> DiskOf<Raft> {
        DiskOf::<Raft> {
            state: self.hard_state(),
            log: self.log.clone(),
        }
    }
}

impl Raft {
    /// The in-memory log changed from index `first` on: entries before it are still as on
    /// disk, and the next save writes the rest.
    pub(super) fn log_changed_from(&mut self, first: u64) {
        debug_assert!(first >= 1, "index 0 is implicit and never written");
        self.log_unsaved_from = Some(self.log_unsaved_from.map_or(first, |f| f.min(first)));
    }

    /// Writes to disk whatever changed since the last save: the term and vote if either did,
    /// and the log from its first changed entry (cutting off what follows it on disk first).
    /// Every send goes through here first, so what a message says about our term, vote and
    /// log is on disk before the message leaves.
    pub(super) fn save(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.unsaved {
            ctx.persist(self.durable.hard_state());
            self.unsaved = false;
        }
        if let Some(first) = self.log_unsaved_from.take() {
            let keep = first - 1;
            debug_assert!(
                keep <= ctx.durable_log_len(),
                "entries before {first} were written by an earlier save"
            );
            if ctx.durable_log_len() > keep {
                ctx.log_truncate(keep);
            }
            for entry in &self.durable.log[keep as usize..] {
                ctx.log_append(entry.clone());
            }
        }
        debug_assert!(
            self.disk_agrees(ctx),
            "the log on disk is the log in memory"
        );
    }

    /// Cheap agreement of the log on disk with the log in memory, once saved: the same length,
    /// and the same last entry of those this handler has not rewritten. (A full comparison
    /// would cost the whole log on every save.)
    fn disk_agrees(&self, ctx: &Ctx<'_, Self>) -> bool {
        let log = &self.durable.log;
        let untouched = ctx.durable_log();
        ctx.durable_log_len() == log::last_index(log)
            && untouched.len() <= log.len()
            && untouched
                .last()
                .is_none_or(|on_disk| *on_disk == log[untouched.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use crate::node::{DiskWrite, Effect, LocalNanos, NodeId, Rng, Stream};

    use super::super::log::Command;
    use super::super::{Msg, RaftConfig};
    use super::*;
    use crate::node::Protocol;

    /// A follower driven by hand whose disk is kept as the world keeps it, and which can crash.
    struct Node {
        raft: Raft,
        disk: Option<DiskOf<Raft>>,
        rng: Rng,
        now: LocalNanos,
    }

    const PEERS: [NodeId; 2] = [NodeId(1), NodeId(2)];

    impl Node {
        fn new() -> Node {
            let mut node = Node {
                raft: Raft::new(NodeId(0), &PEERS, &RaftConfig::default(), None),
                disk: None,
                rng: Rng::derive(1, Stream::Node(0)),
                now: 0,
            };
            node.call(|r, ctx| r.on_start(ctx));
            node
        }

        /// Runs a handler and carries out its disk writes, as the world does; returns them.
        fn call(
            &mut self,
            handler: impl FnOnce(&mut Raft, &mut Ctx<'_, Raft>),
        ) -> Vec<DiskWrite<HardState, Entry>> {
            self.now += 1_000_000;
            let mut effects = Vec::new();
            let ctx = Ctx::new(
                NodeId(0),
                &PEERS,
                self.now,
                self.now,
                &mut self.rng,
                &mut effects,
            );
            handler(&mut self.raft, &mut ctx.with_disk(self.disk.as_ref()));
            let mut writes = Vec::new();
            for effect in effects {
                if let Effect::Persist(write) = effect {
                    writes.push(write.clone());
                    self.disk.get_or_insert_with(Default::default).apply(write);
                }
            }
            writes
        }

        fn append(
            &mut self,
            term: u64,
            prev: (u64, u64),
            terms: &[u64],
        ) -> Vec<DiskWrite<HardState, Entry>> {
            let entries = terms
                .iter()
                .enumerate()
                .map(|(i, &t)| entry(prev.0 + 1 + i as u64, t))
                .collect();
            let msg = Msg::AppendEntries {
                term,
                prev_log_index: prev.0,
                prev_log_term: prev.1,
                entries,
                leader_commit: 0,
                round: 1,
            };
            self.call(|r, ctx| r.on_message(ctx, NodeId(1), msg))
        }

        /// The process dies; only the disk is left, and a new process starts from it.
        fn crash_and_restart(&mut self) {
            self.raft = Raft::new(
                NodeId(0),
                &PEERS,
                &RaftConfig::default(),
                self.disk.as_ref(),
            );
            self.call(|r, ctx| r.on_start(ctx));
        }

        fn terms(&self) -> Vec<u64> {
            self.raft.log().iter().map(|e| e.term).collect()
        }
    }

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            command: std::sync::Arc::new(Command::Noop),
        }
    }

    #[test]
    fn appends_write_only_the_new_entries_and_a_conflict_cuts_the_disk_first() {
        let mut n = Node::new();
        let writes = n.append(1, (0, 0), &[1, 1, 1]);
        assert_eq!(
            writes,
            [
                DiskWrite::State(HardState {
                    current_term: 1,
                    voted_for: None
                }),
                DiskWrite::Append(entry(1, 1)),
                DiskWrite::Append(entry(2, 1)),
                DiskWrite::Append(entry(3, 1)),
            ],
            "the new term, then the entries, and nothing else"
        );
        let writes = n.append(1, (3, 1), &[1]);
        assert_eq!(
            writes,
            [DiskWrite::Append(entry(4, 1))],
            "not the log again"
        );
        assert!(n.append(1, (2, 1), &[1]).is_empty(), "entries already held");

        // A leader of term 2 overwrites entries 3 and 4 with its own.
        let writes = n.append(2, (2, 1), &[2]);
        assert_eq!(
            writes,
            [
                DiskWrite::State(HardState {
                    current_term: 2,
                    voted_for: None
                }),
                DiskWrite::Truncate(2),
                DiskWrite::Append(entry(3, 2)),
            ]
        );
        assert_eq!(n.disk.as_ref().unwrap().log, n.raft.log());
    }

    #[test]
    fn a_restart_recovers_exactly_the_log_written_through_appends_and_truncations() {
        let mut n = Node::new();
        n.append(1, (0, 0), &[1, 1, 1, 1]);
        n.append(2, (1, 1), &[2, 2]);
        n.append(3, (3, 2), &[3, 3]);
        n.append(3, (5, 3), &[]);
        assert_eq!(n.terms(), [1, 2, 2, 3, 3]);
        // Entries 4 and 5 of term 1 were cut off on disk, not just in memory.
        n.crash_and_restart();
        assert_eq!(n.terms(), [1, 2, 2, 3, 3]);
        assert_eq!(n.raft.term(), 3);
        assert_eq!(n.raft.voted_for(), None);

        // After the restart, writes go on from the recovered log.
        assert_eq!(n.append(4, (2, 2), &[4]).len(), 3, "term, cut, entry");
        n.crash_and_restart();
        assert_eq!(n.terms(), [1, 2, 4]);
        assert_eq!(n.raft.term(), 4);
    }

    #[test]
    fn a_vote_is_on_disk_and_the_log_is_left_alone() {
        let mut n = Node::new();
        n.append(1, (0, 0), &[1]);
        n.now += 1_000_000_000; // past vote stickiness
        let ask = Msg::RequestVote {
            term: 2,
            last_log_index: 1,
            last_log_term: 1,
            pre_vote: false,
        };
        let writes = n.call(|r, ctx| r.on_message(ctx, NodeId(2), ask));
        assert_eq!(
            writes,
            [DiskWrite::State(HardState {
                current_term: 2,
                voted_for: Some(NodeId(2))
            })]
        );
        n.crash_and_restart();
        assert_eq!((n.raft.term(), n.raft.voted_for()), (2, Some(NodeId(2))));
        assert_eq!(n.terms(), [1]);
    }

    #[test]
    fn nothing_that_was_not_saved_survives_a_crash() {
        let mut n = Node::new();
        n.append(1, (0, 0), &[1, 1]);
        // Memory runs ahead of the disk (as inside a handler, before its save); a crash then
        // loses it.
        n.raft.durable.log.push(entry(3, 1));
        n.raft.log_changed_from(3);
        n.crash_and_restart();
        assert_eq!(n.terms(), [1, 1]);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "the log on disk is the log in memory")]
    fn a_log_that_changed_without_being_marked_is_caught_on_the_next_save() {
        let mut n = Node::new();
        n.append(1, (0, 0), &[1, 1]);
        n.raft.durable.log.pop();
        n.call(|r, ctx| r.on_timer(ctx, super::super::Timer::Election));
    }
}
