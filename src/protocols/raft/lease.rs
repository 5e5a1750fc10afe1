//! The leader lease (thesis §6.4): how long a leader may act without asking anyone.
//!
//! Every heartbeat broadcast is a numbered *round*; the leader remembers when it sent each round
//! on its own clock. A follower that acknowledges a round heard from the leader no earlier than
//! the round was sent, and — with vote stickiness (thesis §4.2.3) — grants no vote for a minimum
//! election timeout after that. So once a majority (the leader included) has acknowledged round
//! R, no other leader can be elected before `sent_at(R) + min election timeout`, clock drift
//! aside. The lease claims `sent_at(R) + lease_duration`, a little less.
//!
//! The rule kept: the claimed end only grows, and it is computed from the highest round a
//! majority acknowledged in the current term — never from an acknowledgement of an earlier term.

use std::collections::VecDeque;

use crate::node::{LocalNanos, Nanos, NodeId};

/// One leadership's rounds and acknowledgements. Dropped when the leader steps down.
#[derive(Debug)]
pub(crate) struct Lease {
    duration: Nanos,
    /// Acknowledgements needed, the leader's own included.
    majority: usize,
    /// The first round of this leadership; lower numbers belong to earlier ones.
    first_round: u64,
    /// The round sent last (`first_round - 1` before the first).
    latest: u64,
    /// Send times of the rounds that can still extend the lease, oldest first.
    sent: VecDeque<(u64, LocalNanos)>,
    /// Per peer, the highest round of this leadership it acknowledged (0: none yet).
    acked: Vec<(NodeId, u64)>,
    /// The end of the lease as last claimed, on the leader's clock.
    until: Option<LocalNanos>,
    /// Reused to find the majority's round without allocating on every acknowledgement.
    scratch: Vec<u64>,
}

impl Lease {
    /// A lease for a leadership whose rounds will be numbered from `first_round`.
    pub(crate) fn new(peers: &[NodeId], duration: Nanos, first_round: u64) -> Self {
        debug_assert!(first_round >= 1, "round 0 means no round");
        let cluster_size = peers.len() + 1;
        Lease {
            duration,
            majority: cluster_size / 2 + 1,
            first_round,
            latest: first_round - 1,
            sent: VecDeque::new(),
            acked: peers.iter().map(|&p| (p, 0)).collect(),
            until: None,
            scratch: Vec::with_capacity(peers.len() + 1),
        }
    }

    /// Records round `round`, sent now. The leader acknowledges its own round at once, so this
    /// may extend the lease (in a single-node cluster it always does).
    pub(crate) fn sent(&mut self, round: u64, now: LocalNanos) -> Option<LocalNanos> {
        debug_assert_eq!(round, self.latest + 1, "rounds are consecutive");
        self.latest = round;
        self.sent.push_back((round, now));
        self.extend(now)
    }

    /// `peer` acknowledged `round`. Returns the new end of the lease if it grew.
    pub(crate) fn acked(
        &mut self,
        peer: NodeId,
        round: u64,
        now: LocalNanos,
    ) -> Option<LocalNanos> {
        if round < self.first_round || round > self.latest {
            return None; // an earlier leadership's round, or none at all
        }
        let slot = self.acked.iter_mut().find(|(p, _)| *p == peer)?;
        if round <= slot.1 {
            return None; // old news: a reordered or duplicated reply
        }
        slot.1 = round;
        self.extend(now)
    }

    /// The highest round of this leadership that a majority (the leader included) has
    /// acknowledged; 0 if none has been. A read-index read waits for its round to be confirmed.
    pub(crate) fn confirmed_round(&mut self) -> u64 {
        self.majority_round()
    }

    /// The end of the lease as last claimed.
    pub(crate) fn until(&self) -> Option<LocalNanos> {
        self.until
    }

    /// Recomputes the majority's round; claims a longer lease if it yields one.
    fn extend(&mut self, now: LocalNanos) -> Option<LocalNanos> {
        let round = self.majority_round();
        let grown = self
            .sent
            .iter()
            .find(|&&(r, _)| r == round)
            .map(|&(_, at)| at.saturating_add(self.duration as LocalNanos))
            .filter(|&end| end > now && self.until.is_none_or(|until| end > until));
        if grown.is_some() {
            self.until = grown;
        }
        self.forget(round, now);
        grown
    }

    /// The highest round acknowledged by a majority, the leader counting as having
    /// acknowledged its latest round; 0 if no round of this leadership is.
    fn majority_round(&mut self) -> u64 {
        self.scratch.clear();
        self.scratch.push(self.latest);
        self.scratch.extend(self.acked.iter().map(|&(_, r)| r));
        self.scratch.sort_unstable_by(|a, b| b.cmp(a));
        let round = self.scratch[self.majority - 1];
        if round >= self.first_round { round } else { 0 }
    }

    /// Rounds below the majority's can no longer become it; rounds whose lease would already
    /// have ended cannot extend it. The latest round, just sent, always stays.
    fn forget(&mut self, majority_round: u64, now: LocalNanos) {
        let duration = self.duration as LocalNanos;
        self.sent
            .retain(|&(r, at)| r >= majority_round && at.saturating_add(duration) > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: LocalNanos = 1_000_000;

    fn peers(n: u32) -> Vec<NodeId> {
        (1..n).map(NodeId).collect()
    }

    #[test]
    fn thesis_6_4_a_lone_leader_leases_from_each_of_its_rounds() {
        let mut lease = Lease::new(&[], 90 * MS as Nanos, 1);
        assert_eq!(lease.sent(1, 0), Some(90 * MS));
        assert_eq!(lease.sent(2, 50 * MS), Some(140 * MS));
    }

    #[test]
    fn thesis_6_4_the_lease_counts_from_the_send_of_the_majority_round() {
        let mut lease = Lease::new(&peers(5), 90 * MS as Nanos, 1);
        assert_eq!(lease.sent(1, 0), None);
        assert_eq!(lease.sent(2, 50 * MS), None);
        assert_eq!(lease.acked(NodeId(1), 2, 55 * MS), None, "2 of 5");
        assert_eq!(
            lease.acked(NodeId(2), 1, 56 * MS),
            Some(90 * MS),
            "3 of 5 hold round 1"
        );
        assert_eq!(
            lease.acked(NodeId(3), 2, 57 * MS),
            Some(140 * MS),
            "3 of 5 hold round 2"
        );
        assert_eq!(
            lease.acked(NodeId(3), 2, 58 * MS),
            None,
            "a duplicate changes nothing"
        );
        assert_eq!(lease.until(), Some(140 * MS));
    }

    #[test]
    fn thesis_6_4_rounds_of_an_earlier_leadership_and_expired_rounds_grant_nothing() {
        let mut lease = Lease::new(&peers(3), 90 * MS as Nanos, 7);
        lease.sent(7, 0);
        assert_eq!(
            lease.acked(NodeId(1), 6, MS),
            None,
            "round 6 was another leadership's"
        );
        assert_eq!(
            lease.acked(NodeId(1), 8, MS),
            None,
            "round 8 was never sent"
        );
        assert_eq!(
            lease.acked(NodeId(1), 7, 90 * MS),
            None,
            "it would end at once"
        );
        assert_eq!(lease.until(), None);
    }
}
