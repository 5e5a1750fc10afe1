//! Log replication (Raft §5.3), commitment (§5.4.2) and applying committed entries, for both
//! sides: the leader's per-follower progress and the follower's acceptance of entries.
//!
//! The rule kept: an index counts as committed only once a majority stores it *and* (under the
//! default `commit_rule`) the entry there is of the leader's current term; the commit index only
//! grows, and entries are applied once each, in order.

use crate::node::{Ctx, NodeId, Observation, Reply, Role};

use super::config::CommitRule;
use super::log::{self, Command, Entry};
use super::{Msg, Raft, Timer};

/// What the leader knows of one follower's log (Figure 2's nextIndex and matchIndex).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Progress {
    pub peer: NodeId,
    /// The next entry to send. Advanced optimistically when entries are sent; backed up on a
    /// rejection.
    pub next: u64,
    /// The highest entry known to be replicated on the follower.
    pub matched: u64,
}

impl Progress {
    pub(crate) fn new(peer: NodeId, next: u64) -> Self {
        Progress {
            peer,
            next,
            matched: 0,
        }
    }
}

/// The highest index stored on a majority, given the leader's last index and every follower's
/// match index. `scratch` is reused storage.
pub(super) fn majority_match(
    leader_last: u64,
    progress: &[Progress],
    scratch: &mut Vec<u64>,
) -> u64 {
    scratch.clear();
    scratch.push(leader_last);
    scratch.extend(progress.iter().map(|p| p.matched));
    scratch.sort_unstable_by(|a, b| b.cmp(a));
    scratch[scratch.len() / 2]
}

// ---- the follower's side -----------------------------------------------------------------------

impl Raft {
    /// §5.3 rules 3–5, once the consistency check passed: delete a conflicting suffix, append
    /// what is new, learn the commit index, apply. Returns the index of the last entry now
    /// known to match the leader's log.
    pub(super) fn append(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        prev_log_index: u64,
        entries: Vec<Entry>,
        leader_commit: u64,
    ) -> u64 {
        let last_new = prev_log_index + entries.len() as u64;
        if let Some(first) = log::append_from(&mut self.durable.log, prev_log_index, entries) {
            debug_assert!(
                first > self.commit_index || self.cfg.commit_rule == CommitRule::AnyTerm,
                "§5.4: a committed entry is never overwritten (index {first}, commit {})",
                self.commit_index
            );
            self.commit_index = self.commit_index.min(first - 1);
            self.wrote_from(ctx, first);
        }
        self.commit_index = self.commit_index.max(leader_commit.min(last_new));
        debug_assert!(self.commit_index <= log::last_index(&self.durable.log));
        self.apply_committed(ctx);
        last_new
    }

    /// The log changed from `first` on: mark it for the next save, recompute the digests and
    /// observe every entry written.
    pub(super) fn wrote_from(&mut self, ctx: &mut Ctx<'_, Self>, first: u64) {
        self.log_changed_from(first);
        log::recompute_digests(&self.durable.log, &mut self.digests, first);
        for entry in &self.durable.log[(first - 1) as usize..] {
            ctx.observe(Observation::Appended {
                index: entry.index,
                term: entry.term,
                digest: self.digests[(entry.index - 1) as usize],
            });
        }
    }

    /// Applies every committed entry not yet applied, in order. The leader answers the clients
    /// of entries it appended in its current term, and then the reads that were waiting.
    pub(super) fn apply_committed(&mut self, ctx: &mut Ctx<'_, Self>) {
        let answers = self.role == Role::Leader;
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            let index = self.last_applied;
            let entry = &self.durable.log[(index - 1) as usize];
            let result = match &*entry.command {
                Command::Noop => None,
                Command::Client { request, op } => {
                    self.kv.apply(*request, op).map(|result| (*request, result))
                }
            };
            ctx.observe(Observation::Applied {
                index,
                term: entry.term,
                digest: self.digests[(index - 1) as usize],
            });
            if answers
                && entry.term == self.durable.current_term
                && let Some((request, result)) = result
            {
                ctx.reply(request, Reply::Ok(result));
            }
        }
        if answers {
            self.serve_reads(ctx);
        }
    }
}

// ---- the leader's side -------------------------------------------------------------------------

impl Raft {
    /// Appends an entry of the current term to the leader's own log.
    pub(super) fn append_own(&mut self, ctx: &mut Ctx<'_, Self>, command: Command) -> u64 {
        debug_assert_eq!(self.role, Role::Leader);
        let index = log::last_index(&self.durable.log) + 1;
        self.durable.log.push(Entry {
            index,
            term: self.term(),
            command: std::sync::Arc::new(command),
        });
        self.wrote_from(ctx, index);
        index
    }

    /// §5.2, §5.3: a heartbeat round — AppendEntries to every follower, carrying whatever it
    /// has not been sent, numbered for the lease — and the next round a heartbeat interval
    /// from now.
    pub(super) fn send_heartbeats(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.round += 1;
        for i in 0..self.progress.len() {
            self.replicate_to(ctx, i);
        }
        let round = self.round;
        let now = self.lease_clock(ctx);
        let until = self.lease_mut().sent(round, now);
        self.claim_authority(ctx, until);
        ctx.set_timer(self.cfg.heartbeat_interval.nanos(), Timer::Heartbeat);
    }

    /// Sends a newly appended entry at once to every follower that has been sent everything
    /// before it; the others are still being caught up by their replies.
    pub(super) fn replicate_new(&mut self, ctx: &mut Ctx<'_, Self>, index: u64) {
        for i in 0..self.progress.len() {
            if self.progress[i].next == index {
                self.replicate_to(ctx, i);
            }
        }
    }

    /// One AppendEntries to follower `i` with the entries from its `next` index on (at most
    /// `max_entries_per_append`), numbered with the latest round.
    fn replicate_to(&mut self, ctx: &mut Ctx<'_, Self>, i: usize) {
        let last = log::last_index(&self.durable.log);
        let progress = &mut self.progress[i];
        let prev_log_index = progress.next - 1;
        let end = last.min(prev_log_index + self.cfg.max_entries_per_append);
        progress.next = end + 1;
        let to = progress.peer;
        let msg = Msg::AppendEntries {
            term: self.durable.current_term,
            prev_log_index,
            prev_log_term: log::term_at(&self.durable.log, prev_log_index)
                .expect("next_index is at most one past the leader's last entry"),
            entries: self.durable.log[prev_log_index as usize..end as usize].to_vec(),
            leader_commit: self.commit_index,
            round: self.round,
        };
        self.send(ctx, to, msg);
    }

    fn progress_index(&self, peer: NodeId) -> Option<usize> {
        self.progress.iter().position(|p| p.peer == peer)
    }

    /// §5.3: `peer` stores the leader's entries up to `match_index`. Commit what a majority
    /// stores, and send on what the follower still lacks.
    pub(super) fn on_append_accepted(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        peer: NodeId,
        match_index: u64,
    ) {
        let Some(i) = self.progress_index(peer) else {
            return;
        };
        debug_assert!(match_index <= log::last_index(&self.durable.log));
        let progress = &mut self.progress[i];
        let advanced = match_index > progress.matched;
        progress.matched = progress.matched.max(match_index);
        progress.next = progress.next.max(progress.matched + 1);
        if advanced {
            self.advance_commit(ctx);
        }
        if self.progress[i].next <= log::last_index(&self.durable.log) {
            self.replicate_to(ctx, i);
        }
    }

    /// §5.3: the consistency check failed at `peer`. Back `next` up to just past the hint (but
    /// never to or below what is known to match) and try again at once.
    pub(super) fn on_append_rejected(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId, hint: u64) {
        let Some(i) = self.progress_index(peer) else {
            return;
        };
        let progress = &mut self.progress[i];
        progress.next = (hint + 1).min(progress.next).max(progress.matched + 1);
        self.replicate_to(ctx, i);
    }

    /// §5.4.2: commit the highest index a majority stores if the entry there is of the current
    /// term (or, under the broken `any-term` rule, whatever its term), then apply.
    pub(super) fn advance_commit(&mut self, ctx: &mut Ctx<'_, Self>) {
        let last = log::last_index(&self.durable.log);
        let n = majority_match(last, &self.progress, &mut self.scratch);
        if n <= self.commit_index {
            return;
        }
        let term = log::term_at(&self.durable.log, n).expect("n is within the log");
        if self.cfg.commit_rule == CommitRule::CurrentTerm && term != self.term() {
            return;
        }
        self.commit_index = n;
        ctx.observe(Observation::Committed {
            index: n,
            term,
            digest: self.digests[(n - 1) as usize],
        });
        self.apply_committed(ctx);
    }

    /// Whether the leader has committed an entry of its own term: until it has, it does not
    /// know the commit index of the cluster (§8).
    pub(super) fn committed_in_term(&self) -> bool {
        log::term_at(&self.durable.log, self.commit_index) == Some(self.term())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(matched: &[u64]) -> Vec<Progress> {
        matched
            .iter()
            .enumerate()
            .map(|(i, &m)| Progress {
                peer: NodeId(i as u32 + 1),
                next: m + 1,
                matched: m,
            })
            .collect()
    }

    #[test]
    fn section_5_3_the_majority_match_counts_the_leader_and_ignores_the_slowest() {
        let mut scratch = Vec::new();
        assert_eq!(majority_match(7, &progress(&[7, 3, 0, 0]), &mut scratch), 3);
        assert_eq!(majority_match(7, &progress(&[7, 7, 0, 0]), &mut scratch), 7);
        assert_eq!(majority_match(5, &progress(&[2, 1]), &mut scratch), 2);
        assert_eq!(
            majority_match(4, &[], &mut scratch),
            4,
            "alone, its own log"
        );
        assert_eq!(majority_match(9, &progress(&[1, 9, 4]), &mut scratch), 4);
    }
}
