//! The composition adapter: a coordinator replica's Raft server (the existing `raft` protocol,
//! unchanged), embedded in two-phase commit for `decision_on = "raft"`.
//!
//! This is the one place a protocol runs another. The rule that protocols do not import each
//! other keeps each one a self-contained lesson; here the issue asks for the decision to be "a
//! command replicated by a Raft group of the existing protocol", and a second Raft written for
//! 2PC would be a second place for consensus bugs to hide. `tests/readme.rs` checks that this
//! folder is the only exception, and that it reaches only `protocols::raft`.
//!
//! Raft stays sans-I/O: each call runs it against a sub-context of its own — the node's id,
//! clocks and random stream, the group's members as its peers — and the effects it asks for
//! are translated into two-phase commit's:
//!
//! - sends and timers are wrapped (`Msg::Raft`, `Timer::Raft`);
//! - its term and vote become `Durable::raft`, persisted with the node's other durable flags;
//! - its log entries become `Record::Raft` records. Raft cuts its log back by *length*, so a
//!   replica's durable log holds Raft's entries and nothing else: what the coordinator logs
//!   (begin, decision, end) travels inside them as commands. A copy of Raft's disk is kept here
//!   so that Raft's own checks of its log against its disk still see exactly its records;
//! - its observations (roles, appended, committed and applied entries) pass through unchanged,
//!   so `election_safety` and the log invariants judge the group like any Raft cluster;
//! - its client replies are dropped: the coordinator learns the outcome of what it proposed
//!   from the committed log ([`RaftGroup::committed`]), which every replica reads alike.

use std::sync::Arc;

use crate::node::{
    ClientId, ClientRequest, Ctx, Disk, DiskOf, DiskWrite, Effect, NodeId, Op, Protocol, RequestId,
    Role,
};
use crate::protocols::raft::{Command, HardState, Raft, RaftConfig};

use super::C;
use super::messages::{Durable, Msg, Record, Timer};

/// One coordinator replica's Raft server, and what it has handed to the coordinator.
pub(super) struct RaftGroup {
    raft: Raft,
    /// The other members of the group: Raft's peers.
    peers: Vec<NodeId>,
    /// Raft's disk as Raft would see it: the node's durable log (all `Record::Raft`) unwrapped,
    /// and its term and vote. Kept in step with every write the node makes.
    disk: DiskOf<Raft>,
    /// The last committed entry handed to the coordinator; volatile, like Raft's lastApplied.
    handed: u64,
    /// Proposals made in `proposals.0`, the current leadership's term: numbers request ids.
    proposals: (u64, u64),
}

impl RaftGroup {
    /// The replica `id` of the group `members`, as its disk leaves it: `state` is its Raft term
    /// and vote (`None`: never written), `log` its durable log.
    pub(super) fn new(
        id: NodeId,
        members: &[NodeId],
        cfg: &RaftConfig,
        state: Option<HardState>,
        log: &[Record],
    ) -> RaftGroup {
        let disk = Disk {
            state: state.unwrap_or_default(),
            log: log
                .iter()
                .filter_map(|r| match r {
                    Record::Raft(entry) => Some(entry.clone()),
                    _ => None,
                })
                .collect(),
        };
        debug_assert_eq!(
            disk.log.len(),
            log.len(),
            "a replica logs only Raft's entries"
        );
        let peers: Vec<NodeId> = members.iter().copied().filter(|&m| m != id).collect();
        let raft = Raft::new(id, &peers, cfg, Some(&disk));
        RaftGroup {
            raft,
            peers,
            disk,
            handed: 0,
            proposals: (0, 0),
        }
    }

    /// Runs one of Raft's handlers through a sub-context and carries out what it asked for as
    /// this node's own effects (see the module's doc).
    pub(super) fn drive(
        &mut self,
        ctx: &mut C<'_, '_>,
        durable: &mut Durable,
        handler: impl FnOnce(&mut Raft, &mut Ctx<'_, Raft>),
    ) {
        let mut effects: Vec<Effect<Raft>> = Vec::new();
        {
            let (id, now, monotonic) = (ctx.id(), ctx.now(), ctx.monotonic());
            let mut sub = Ctx::new(id, &self.peers, now, monotonic, ctx.rng(), &mut effects)
                .with_disk(Some(&self.disk));
            handler(&mut self.raft, &mut sub);
        }
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => ctx.send(to, Msg::Raft(msg)),
                Effect::SetTimer { timer, after } => ctx.set_timer(after, Timer::Raft(timer)),
                Effect::CancelTimer { timer } => ctx.cancel_timer(Timer::Raft(timer)),
                Effect::Observe(observation) => ctx.observe(observation),
                Effect::Fact(never) => match never {},
                Effect::Persist(write) => {
                    match &write {
                        DiskWrite::State(state) => {
                            durable.raft = Some(*state);
                            ctx.persist(*durable);
                        }
                        DiskWrite::Append(entry) => ctx.log_append(Record::Raft(entry.clone())),
                        DiskWrite::Truncate(len) => ctx.log_truncate(*len),
                    }
                    self.disk.apply(write);
                }
                // Outcomes are read off the committed log instead, on every replica alike.
                Effect::Reply { .. } => {}
            }
        }
    }

    /// Appends `op` to the group's log if this replica leads (a follower's Raft refuses it, and
    /// the refusal is dropped). Each proposal gets a request id of its own — this node as the
    /// client, the term in the high bits of the sequence number — so Raft's session table,
    /// which drops a client's requests older than its latest, never drops a later leader's.
    pub(super) fn propose(&mut self, ctx: &mut C<'_, '_>, durable: &mut Durable, op: Op) {
        let term = self.raft.term();
        if self.proposals.0 != term {
            self.proposals = (term, 0);
        }
        self.proposals.1 += 1;
        let id = RequestId {
            client: ClientId(ctx.id().0),
            seq: (term << 32) | self.proposals.1,
        };
        self.drive(ctx, durable, |raft, sub| {
            raft.on_request(sub, ClientRequest { id, op })
        });
    }

    /// The commands committed since the last call, in log order (no-ops left out). After a
    /// restart it hands the log over again from the start, as Raft applies it again.
    pub(super) fn committed(&mut self) -> Vec<Arc<Command>> {
        let commit = self.raft.commit_index();
        let log = self.raft.log();
        let new = log[self.handed as usize..commit as usize]
            .iter()
            .filter(|e| !matches!(*e.command, Command::Noop))
            .map(|e| Arc::clone(&e.command))
            .collect();
        self.handed = self.handed.max(commit);
        new
    }

    /// This replica leads its term and has committed an entry of it (its no-op): every entry
    /// committed before its term is in its log, and handed over once [`Self::committed`] has
    /// been called. Only then may it act on what the log does *not* say (presumed abort).
    pub(super) fn leads_caught_up(&self) -> bool {
        let commit = self.raft.commit_index();
        self.raft.role() == Role::Leader
            && commit > 0
            && self.raft.log()[commit as usize - 1].term == self.raft.term()
            && self.handed >= commit
    }

    /// Raft's current term.
    pub(super) fn term(&self) -> u64 {
        self.raft.term()
    }

    /// The leader this replica knows of (itself, if it leads).
    pub(super) fn leader(&self) -> Option<NodeId> {
        self.raft.leader()
    }

    /// The embedded server, for tests.
    #[cfg(test)]
    pub(super) fn raft(&self) -> &Raft {
        &self.raft
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{LocalNanos, Observation, Rng, Stream};

    const MS: LocalNanos = 1_000_000;

    /// A node's effects, and its disk as they leave it.
    struct Node {
        group: RaftGroup,
        durable: Durable,
        disk: Disk<Durable, Record>,
        rng: Rng,
    }

    impl Node {
        fn new(id: u32, members: &[NodeId], disk: Option<Disk<Durable, Record>>) -> Node {
            let disk = disk.unwrap_or_default();
            let group = RaftGroup::new(
                NodeId(id),
                members,
                &RaftConfig::default(),
                disk.state.raft,
                &disk.log,
            );
            Node {
                group,
                durable: disk.state,
                disk,
                rng: Rng::derive(3, Stream::Node(id)),
            }
        }

        /// Runs `f` with a context of the whole cluster `cluster` and returns its effects,
        /// carrying out its disk writes.
        fn step(
            &mut self,
            id: u32,
            cluster: u32,
            now: LocalNanos,
            f: impl FnOnce(&mut RaftGroup, &mut C<'_, '_>, &mut Durable),
        ) -> Vec<Effect<super::super::TwoPhaseCommit>> {
            let peers: Vec<NodeId> = (0..cluster).filter(|&p| p != id).map(NodeId).collect();
            let mut effects = Vec::new();
            {
                let mut ctx = Ctx::new(NodeId(id), &peers, now, now, &mut self.rng, &mut effects)
                    .with_disk(Some(&self.disk));
                f(&mut self.group, &mut ctx, &mut self.durable);
            }
            for e in &effects {
                if let Effect::Persist(w) = e {
                    self.disk.apply(w.clone());
                }
            }
            effects
        }
    }

    fn put(key: &str) -> Op {
        Op::Put {
            key: key.into(),
            value: "v".into(),
        }
    }

    #[test]
    fn a_lone_replica_elects_itself_and_its_writes_come_back_wrapped_and_committed() {
        let members = [NodeId(0)];
        let mut n = Node::new(0, &members, None);
        let start = n.step(0, 3, 0, |g, ctx, d| g.drive(ctx, d, |r, c| r.on_start(c)));
        assert!(
            start.iter().any(|e| matches!(
                e,
                Effect::SetTimer {
                    timer: Timer::Raft(crate::protocols::raft::Timer::Election),
                    ..
                }
            )),
            "Raft's election timer is a 2PC timer"
        );
        assert!(!n.group.leads_caught_up());
        let won = n.step(0, 3, 300 * MS, |g, ctx, d| {
            g.drive(ctx, d, |r, c| {
                r.on_timer(c, crate::protocols::raft::Timer::Election)
            })
        });
        assert!(
            won.iter().any(|e| matches!(
                e,
                Effect::Observe(Observation::Role {
                    role: Role::Leader,
                    term: 1
                })
            )),
            "Raft's observations pass through"
        );
        assert!(
            !won.iter().any(|e| matches!(e, Effect::Send { .. })),
            "a group of one sends to nobody, though the cluster has three nodes"
        );
        assert_eq!(
            n.group.committed(),
            Vec::<Arc<Command>>::new(),
            "the no-op is not handed over"
        );
        assert!(n.group.leads_caught_up(), "its no-op committed at once");
        n.step(0, 3, 301 * MS, |g, ctx, d| g.propose(ctx, d, put("k")));
        let handed = n.group.committed();
        assert_eq!(handed.len(), 1);
        assert!(
            matches!(&*handed[0], Command::Client { request, op: Op::Put { key, .. } }
            if request.client == ClientId(0) && request.seq == (1 << 32) | 1 && &**key == "k")
        );
        assert!(
            n.group.committed().is_empty(),
            "each command is handed over once"
        );
        // On disk: Raft's term and vote beside 2PC's flags, and only Raft entries in the log.
        assert_eq!(n.disk.state.raft.map(|h| h.current_term), Some(1));
        assert_eq!(n.disk.log.len(), 2);
        assert!(n.disk.log.iter().all(|r| matches!(r, Record::Raft(_))));

        // A restart rebuilds Raft from that disk: the same log, committed again once it leads.
        let disk = n.disk.clone();
        let mut back = Node::new(0, &members, Some(disk));
        assert_eq!(back.group.raft().log().len(), 2);
        assert_eq!(back.group.term(), 1);
        back.step(0, 3, 0, |g, ctx, d| g.drive(ctx, d, |r, c| r.on_start(c)));
        back.step(0, 3, 400 * MS, |g, ctx, d| {
            g.drive(ctx, d, |r, c| {
                r.on_timer(c, crate::protocols::raft::Timer::Election)
            })
        });
        assert_eq!(back.group.term(), 2);
        assert_eq!(
            back.group.committed().len(),
            1,
            "the put, handed over again"
        );
    }

    #[test]
    fn a_replica_of_three_talks_only_to_its_group_and_a_follower_cannot_propose() {
        let members = [NodeId(0), NodeId(1), NodeId(2)];
        let mut n = Node::new(1, &members, None);
        n.step(1, 5, 0, |g, ctx, d| g.drive(ctx, d, |r, c| r.on_start(c)));
        let asked = n.step(1, 5, 300 * MS, |g, ctx, d| {
            g.drive(ctx, d, |r, c| {
                r.on_timer(c, crate::protocols::raft::Timer::Election)
            })
        });
        let to: Vec<u32> = asked
            .iter()
            .filter_map(|e| match e {
                Effect::Send {
                    to,
                    msg: Msg::Raft(crate::protocols::raft::Msg::RequestVote { pre_vote: true, .. }),
                } => Some(to.0),
                _ => None,
            })
            .collect();
        assert_eq!(
            to,
            [0, 2],
            "pre-votes to the group, not to the participants 3 and 4"
        );
        let proposed = n.step(1, 5, 301 * MS, |g, ctx, d| g.propose(ctx, d, put("k")));
        assert!(
            proposed
                .iter()
                .all(|e| !matches!(e, Effect::Persist(DiskWrite::Append(_)))),
            "a follower appends nothing"
        );
        assert!(n.group.committed().is_empty());
        assert_eq!(n.group.leader(), None);
    }
}
