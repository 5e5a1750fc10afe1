//! One Raft server driven by hand: each test delivers inputs and asserts on the exact effects,
//! citing the section of the paper (Ongaro & Ousterhout 2014) or the thesis (Ongaro 2014) it
//! checks, in the manner of raft-rs's `test_raft_paper.rs`.

use crate::node::{
    ClientId, ClientRequest, ClockKind, Ctx, DiskOf, DiskWrite, Duration, Effect, LocalNanos,
    NodeId, Observation, Op, OpResult, Protocol, Reply, RequestId, Rng, Role, Stream,
};

use super::*;

const MS: LocalNanos = 1_000_000;

/// The paper's Raft: the defaults, without the thesis's pre-vote and check-quorum, which the
/// tests that cite §9.6 switch on. Most steps below are those of the paper.
fn cfg() -> RaftConfig {
    RaftConfig {
        pre_vote: false,
        check_quorum: false,
        ..RaftConfig::default()
    }
}

/// A server and the world around it, reduced to a clock, a random stream and a disk.
struct Server {
    raft: Raft,
    /// What the server wrote, kept as the world keeps it.
    disk: Option<DiskOf<Raft>>,
    id: NodeId,
    peers: Vec<NodeId>,
    cfg: RaftConfig,
    rng: Rng,
    /// The monotonic clock, in nanoseconds.
    now: LocalNanos,
    /// How far the wall clock reads ahead of the monotonic one.
    wall_ahead: LocalNanos,
}

impl Server {
    /// Server `id` of a cluster of `n`, not yet started.
    fn new(id: u32, n: u32, cfg: RaftConfig) -> Server {
        let me = NodeId(id);
        let peers: Vec<NodeId> = (0..n).map(NodeId).filter(|&p| p != me).collect();
        Server {
            raft: Raft::new(me, &peers, &cfg, None),
            disk: None,
            id: me,
            peers,
            cfg,
            rng: Rng::derive(1, Stream::Node(id)),
            now: 0,
            wall_ahead: 0,
        }
    }

    /// The same server after a crash, rebuilt from a disk holding `durable`, and started.
    fn restart(&mut self, durable: &RaftDurable) -> Vec<Effect<Raft>> {
        self.disk = Some(durable.to_disk());
        self.raft = Raft::new(self.id, &self.peers, &self.cfg, self.disk.as_ref());
        self.start()
    }

    /// What is on the server's disk, in the shape it holds in memory.
    fn on_disk(&self) -> RaftDurable {
        RaftDurable::from_disk(self.disk.as_ref())
    }

    /// Sets the server's clock, in milliseconds.
    fn at(&mut self, ms: i64) -> &mut Server {
        self.now = ms * MS;
        self
    }

    fn call(&mut self, handler: impl FnOnce(&mut Raft, &mut Ctx<'_, Raft>)) -> Vec<Effect<Raft>> {
        let mut effects = Vec::new();
        let ctx = Ctx::new(
            self.id,
            &self.peers,
            self.now + self.wall_ahead,
            self.now,
            &mut self.rng,
            &mut effects,
        );
        handler(&mut self.raft, &mut ctx.with_disk(self.disk.as_ref()));
        for effect in &effects {
            if let Effect::Persist(write) = effect {
                let disk = self.disk.get_or_insert_with(Default::default);
                disk.apply(write.clone());
            }
        }
        effects
    }

    fn start(&mut self) -> Vec<Effect<Raft>> {
        self.call(|r, ctx| r.on_start(ctx))
    }

    fn deliver(&mut self, from: u32, msg: Msg) -> Vec<Effect<Raft>> {
        self.call(|r, ctx| r.on_message(ctx, NodeId(from), msg))
    }

    fn fire(&mut self, timer: Timer) -> Vec<Effect<Raft>> {
        self.call(|r, ctx| r.on_timer(ctx, timer))
    }
}

/// Server 0 of `n`, started at time 0, that won term 1 with the votes of servers 1, 2, ...
fn leader(n: u32, cfg: RaftConfig) -> Server {
    let mut s = Server::new(0, n, cfg);
    s.start();
    s.fire(Timer::Election);
    for voter in 1..=n / 2 {
        s.deliver(voter, vote(1, true));
    }
    assert_eq!(s.raft.role(), Role::Leader);
    s
}

fn request_vote(term: u64, last_log_index: u64, last_log_term: u64) -> Msg {
    Msg::RequestVote {
        term,
        last_log_index,
        last_log_term,
        pre_vote: false,
    }
}

fn pre_vote(term: u64, last_log_index: u64, last_log_term: u64) -> Msg {
    Msg::RequestVote {
        term,
        last_log_index,
        last_log_term,
        pre_vote: true,
    }
}

/// A vote reply as a candidate receives it; refusals built by hand carry no reason.
fn vote(term: u64, granted: bool) -> Msg {
    Msg::VoteReply {
        term,
        granted,
        pre_vote: false,
        refused: None,
    }
}

fn pre_vote_reply(term: u64, granted: bool) -> Msg {
    Msg::VoteReply {
        term,
        granted,
        pre_vote: true,
        refused: None,
    }
}

/// A refusal as a voter sends it, with its reason.
fn refusal(term: u64, pre_vote: bool, why: Refusal) -> Msg {
    Msg::VoteReply {
        term,
        granted: false,
        pre_vote,
        refused: Some(why),
    }
}

fn already_voted(term: u64, candidate: u32) -> Refusal {
    Refusal::AlreadyVoted {
        candidate: NodeId(candidate),
        term,
    }
}

fn leader_alive(leader: Option<u32>) -> Refusal {
    Refusal::LeaderAlive {
        leader: leader.map(NodeId),
    }
}

fn heartbeat(term: u64, round: u64) -> Msg {
    Msg::AppendEntries {
        term,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![],
        leader_commit: 0,
        round,
    }
}

/// AppendEntries of `term` after `prev` = (index, term).
fn append_entries(
    term: u64,
    prev: (u64, u64),
    entries: Vec<Entry>,
    commit: u64,
    round: u64,
) -> Msg {
    Msg::AppendEntries {
        term,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries,
        leader_commit: commit,
        round,
    }
}

fn ack(term: u64, round: u64) -> Msg {
    Msg::AppendReply {
        term,
        success: true,
        match_index: 0,
        round,
    }
}

fn entry(index: u64, term: u64) -> Entry {
    Entry {
        index,
        term,
        command: std::sync::Arc::new(Command::Noop),
    }
}

fn sends(effects: &[Effect<Raft>]) -> Vec<(u32, Msg)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, msg } => Some((to.0, msg.clone())),
            _ => None,
        })
        .collect()
}

fn observations(effects: &[Effect<Raft>]) -> Vec<Observation> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Observe(o) => Some(o.clone()),
            _ => None,
        })
        .collect()
}

/// The disk writes, in order.
fn persisted(effects: &[Effect<Raft>]) -> Vec<DiskWrite<HardState, Entry>> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Persist(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

/// The delays of every `timer` the effects set.
fn timers_set(effects: &[Effect<Raft>], timer: Timer) -> Vec<u64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SetTimer { timer: t, after } if *t == timer => Some(*after),
            _ => None,
        })
        .collect()
}

/// Persist before send: something was persisted, and before the first message left.
fn persists_before_sending(effects: &[Effect<Raft>]) -> bool {
    let persist = effects.iter().position(|e| matches!(e, Effect::Persist(_)));
    let send = effects
        .iter()
        .position(|e| matches!(e, Effect::Send { .. }));
    matches!((persist, send), (Some(p), Some(s)) if p < s)
}

fn cancels(effects: &[Effect<Raft>], timer: Timer) -> bool {
    effects
        .iter()
        .any(|e| matches!(e, Effect::CancelTimer { timer: t } if *t == timer))
}

fn role(role: Role, term: u64) -> Observation {
    Observation::Role { role, term }
}

/// A candidate's vote for itself, which it observes as it stands.
fn voted_for_self(term: u64) -> Observation {
    Observation::Voted {
        term,
        candidate: NodeId(0),
    }
}

fn authority(term: u64, until: LocalNanos) -> Observation {
    Observation::Authority {
        term,
        until: Some(until),
        clock: ClockKind::Monotonic,
    }
}

fn assert_election_timeout(after: u64) {
    assert!(
        (150 * MS as u64..=300 * MS as u64).contains(&after),
        "{after} ns is outside the election timeout range"
    );
}

// ---- §5.2 elections ----------------------------------------------------------------------------

#[test]
fn section_5_2_a_server_starts_as_a_follower_of_its_persisted_term() {
    let mut s = Server::new(0, 3, cfg());
    let fx = s.start();
    assert_eq!(observations(&fx), [role(Role::Follower, 0)]);
    let timers = timers_set(&fx, Timer::Election);
    assert_eq!(timers.len(), 1);
    assert_election_timeout(timers[0]);

    let durable = RaftDurable {
        current_term: 7,
        voted_for: Some(NodeId(2)),
        log: vec![entry(1, 3)],
    };
    let fx = s.restart(&durable);
    assert_eq!(observations(&fx), [role(Role::Follower, 7)]);
    assert_eq!((s.raft.term(), s.raft.voted_for()), (7, Some(NodeId(2))));
    assert_eq!(s.raft.log(), [entry(1, 3)]);
    assert!(
        persisted(&fx).is_empty(),
        "nothing changed, nothing to write"
    );
}

#[test]
fn section_5_2_a_follower_that_times_out_becomes_candidate_votes_for_itself_and_asks_for_votes() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    let fx = s.at(200).fire(Timer::Election);

    assert_eq!(s.raft.role(), Role::Candidate);
    assert_eq!(s.raft.term(), 1, "the term is incremented");
    assert_eq!(s.raft.voted_for(), Some(NodeId(0)), "it votes for itself");
    assert_eq!(
        observations(&fx),
        [voted_for_self(1), role(Role::Candidate, 1)]
    );
    let ask = request_vote(1, 0, 0);
    assert_eq!(sends(&fx), [(1, ask.clone()), (2, ask)]);

    // Persist before send: the new term and the vote are on disk before the first request.
    assert!(persists_before_sending(&fx));
    assert_eq!(
        persisted(&fx),
        [DiskWrite::State(HardState {
            current_term: 1,
            voted_for: Some(NodeId(0)),
        })]
    );
    let timers = timers_set(&fx, Timer::Election);
    assert_eq!(timers.len(), 1, "a fresh election timeout");
    assert_election_timeout(timers[0]);
}

#[test]
fn section_5_2_election_timeouts_are_drawn_afresh_from_the_configured_range() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    let draws: Vec<u64> = (0..20)
        .flat_map(|_| timers_set(&s.fire(Timer::Election), Timer::Election))
        .collect();
    draws.iter().copied().for_each(assert_election_timeout);
    let mut distinct = draws.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 15, "randomized: {draws:?}");
}

#[test]
fn section_5_2_each_server_votes_at_most_once_per_term_even_across_a_restart() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    s.at(200); // past the quiet time after a start (see thesis_6_4_… below)

    let fx = s.deliver(1, request_vote(1, 0, 0));
    assert_eq!(sends(&fx), [(1, vote(1, true))]);
    assert_eq!(s.raft.voted_for(), Some(NodeId(1)));
    let durable = s.on_disk();
    assert_eq!(durable.voted_for, Some(NodeId(1)));
    assert!(
        persists_before_sending(&fx),
        "the vote is durable before the candidate learns of it"
    );
    assert_eq!(
        timers_set(&fx, Timer::Election).len(),
        1,
        "granting resets the timer"
    );

    let fx = s.deliver(2, request_vote(1, 0, 0));
    assert_eq!(
        sends(&fx),
        [(2, refusal(1, false, already_voted(1, 1)))],
        "a second candidate in term 1"
    );

    // A crash forgets nothing that matters: the vote comes back from disk.
    s.restart(&durable);
    s.at(400);
    let fx = s.deliver(2, request_vote(1, 0, 0));
    assert_eq!(sends(&fx), [(2, refusal(1, false, already_voted(1, 1)))]);
    let fx = s.deliver(1, request_vote(1, 0, 0));
    assert_eq!(
        sends(&fx),
        [(1, vote(1, true))],
        "the same candidate asking again"
    );
    assert!(persisted(&fx).is_empty(), "the vote was already on disk");
}

#[test]
fn section_5_4_1_a_candidate_whose_log_is_behind_is_denied() {
    let mut s = Server::new(0, 3, cfg());
    s.restart(&RaftDurable {
        current_term: 2,
        voted_for: None,
        log: vec![entry(1, 1), entry(2, 2)],
    });
    s.at(200);

    let fx = s.deliver(1, request_vote(3, 5, 1));
    assert_eq!(
        sends(&fx),
        [(
            1,
            refusal(
                3,
                false,
                Refusal::LogBehind {
                    candidate_index: 5,
                    candidate_term: 1,
                    voter_index: 2,
                    voter_term: 2
                }
            )
        )],
        "last term 1 < 2, however long"
    );
    assert_eq!(s.raft.term(), 3, "the term is adopted all the same (§5.1)");
    assert_eq!(s.raft.voted_for(), None);
    assert_eq!(observations(&fx), [role(Role::Follower, 3)]);

    let fx = s.deliver(1, request_vote(3, 1, 2));
    assert_eq!(
        sends(&fx),
        [(
            1,
            refusal(
                3,
                false,
                Refusal::LogBehind {
                    candidate_index: 1,
                    candidate_term: 2,
                    voter_index: 2,
                    voter_term: 2
                }
            )
        )],
        "same last term, shorter log"
    );

    let fx = s.deliver(2, request_vote(3, 2, 2));
    assert_eq!(
        sends(&fx),
        [(2, vote(3, true))],
        "same last term, same length"
    );
}

#[test]
fn section_5_2_a_candidate_with_a_majority_becomes_leader_and_heartbeats_at_once() {
    let mut s = Server::new(0, 5, cfg());
    s.start();
    s.fire(Timer::Election);

    let fx = s.deliver(1, vote(1, true));
    assert_eq!(s.raft.role(), Role::Candidate, "2 of 5");
    assert!(fx.is_empty());
    s.deliver(1, vote(1, true));
    assert_eq!(
        s.raft.role(),
        Role::Candidate,
        "a duplicated vote counts once"
    );
    s.deliver(2, vote(1, false));
    assert_eq!(
        s.raft.role(),
        Role::Candidate,
        "a denial counts for nothing"
    );

    let fx = s.at(20).deliver(3, vote(1, true));
    assert_eq!(s.raft.role(), Role::Leader, "3 of 5");
    assert_eq!(s.raft.leader(), Some(NodeId(0)));
    assert_eq!(observations(&fx)[0], role(Role::Leader, 1));
    assert!(cancels(&fx, Timer::Election));
    // §8: the first heartbeat carries the new term's no-op.
    let beat = append_entries(1, (0, 0), vec![entry(1, 1)], 0, 1);
    assert_eq!(
        sends(&fx),
        [1, 2, 3, 4].map(|to| (to, beat.clone())),
        "a heartbeat to every follower at once"
    );
    assert_eq!(timers_set(&fx, Timer::Heartbeat), [50 * MS as u64]);

    let fx = s.at(70).fire(Timer::Heartbeat);
    assert_eq!(sends(&fx).len(), 4);
    let next = append_entries(1, (1, 1), vec![], 0, 2);
    assert_eq!(sends(&fx)[0].1, next, "the next round, past the no-op sent");
    assert_eq!(timers_set(&fx, Timer::Heartbeat), [50 * MS as u64]);
    assert!(
        observations(&fx).is_empty(),
        "no majority has acknowledged yet"
    );
}

#[test]
fn section_5_2_a_split_vote_leaves_the_candidate_waiting_for_its_timer_and_a_new_term() {
    let mut s = Server::new(0, 4, cfg());
    s.start();
    s.fire(Timer::Election);
    s.deliver(1, vote(1, true));
    s.deliver(2, vote(1, false));
    s.deliver(3, vote(1, false));
    assert_eq!(s.raft.role(), Role::Candidate, "2 of 4 is no majority");
    assert_eq!(s.raft.term(), 1);

    let fx = s.fire(Timer::Election);
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Candidate, 2));
    assert_eq!(
        observations(&fx),
        [voted_for_self(2), role(Role::Candidate, 2)]
    );
    assert_eq!(sends(&fx)[0], (1, request_vote(2, 0, 0)));

    s.deliver(2, vote(1, true));
    s.deliver(3, vote(1, true));
    assert_eq!(
        s.raft.role(),
        Role::Candidate,
        "votes of term 1 do not count in term 2"
    );
}

#[test]
fn section_5_2_a_lone_server_elects_itself_when_its_timer_fires() {
    let mut s = Server::new(0, 1, cfg());
    s.start();
    let fx = s.fire(Timer::Election);
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Leader, 1));
    assert_eq!(
        observations(&fx)[..3],
        [
            voted_for_self(1),
            role(Role::Candidate, 1),
            role(Role::Leader, 1)
        ]
    );
    assert!(sends(&fx).is_empty());
}

#[test]
fn section_5_2_a_candidate_that_hears_from_the_leader_of_its_term_becomes_its_follower() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    s.fire(Timer::Election);
    let fx = s.deliver(2, heartbeat(1, 4));
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Follower, 1));
    assert_eq!(s.raft.leader(), Some(NodeId(2)));
    assert_eq!(observations(&fx), [role(Role::Follower, 1)]);
    let reply = Msg::AppendReply {
        term: 1,
        success: true,
        match_index: 0,
        round: 4,
    };
    assert_eq!(sends(&fx), [(2, reply)]);
    assert_eq!(timers_set(&fx, Timer::Election).len(), 1);

    let fx = s.deliver(2, heartbeat(1, 5));
    assert!(
        observations(&fx).is_empty(),
        "roles are observed on change only"
    );
}

// ---- §5.1 terms --------------------------------------------------------------------------------

#[test]
fn section_5_1_any_message_with_a_higher_term_turns_a_leader_into_a_follower() {
    let stickiness_off = RaftConfig {
        vote_stickiness: false,
        ..cfg()
    };
    let messages = [
        heartbeat(5, 1),
        ack(5, 1),
        vote(5, false),
        pre_vote_reply(5, false),
        request_vote(5, 0, 0),
    ];
    for msg in messages {
        let mut s = leader(3, stickiness_off.clone());
        let fx = s.at(10).deliver(2, msg.clone());
        assert_eq!(s.raft.role(), Role::Follower, "{msg:?}");
        assert_eq!(s.raft.term(), 5, "{msg:?}");
        assert_eq!(observations(&fx), [role(Role::Follower, 5)], "{msg:?}");
        assert!(cancels(&fx, Timer::Heartbeat), "{msg:?}");
        assert!(!timers_set(&fx, Timer::Election).is_empty(), "{msg:?}");
        assert!(
            matches!(persisted(&fx)[0], DiskWrite::State(h) if h.current_term == 5),
            "{msg:?}"
        );
        assert_eq!(s.raft.lease_until(), None, "{msg:?}");
    }
}

#[test]
fn section_5_1_a_message_from_a_stale_term_is_rejected_with_the_current_term() {
    let mut s = Server::new(0, 3, cfg());
    s.restart(&RaftDurable {
        current_term: 4,
        ..RaftDurable::default()
    });
    let fx = s.deliver(1, heartbeat(3, 9));
    let reject = Msg::AppendReply {
        term: 4,
        success: false,
        match_index: 0,
        round: 0,
    };
    assert_eq!(
        sends(&fx),
        [(1, reject)],
        "round 0: the reply acknowledges no leadership"
    );
    assert_eq!(s.raft.leader(), None);
    assert!(
        timers_set(&fx, Timer::Election).is_empty(),
        "a stale leader resets nothing"
    );
    // A minimum election timeout after its start, so stickiness has nothing to say.
    let fx = s.at(150).deliver(2, request_vote(3, 9, 3));
    assert_eq!(
        sends(&fx),
        [(2, refusal(4, false, Refusal::StaleTerm { term: 4 }))]
    );
}

// ---- §5.3 the consistency check ----------------------------------------------------------------

#[test]
fn section_5_3_append_entries_runs_the_consistency_check_and_persists_new_entries_first() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    let missing = Msg::AppendEntries {
        term: 1,
        prev_log_index: 1,
        prev_log_term: 1,
        entries: vec![entry(2, 1)],
        leader_commit: 0,
        round: 1,
    };
    let fx = s.deliver(1, missing);
    let reject = Msg::AppendReply {
        term: 1,
        success: false,
        match_index: 0,
        round: 1,
    };
    assert_eq!(sends(&fx), [(1, reject)], "no entry at index 1");
    assert_eq!(
        s.raft.leader(),
        Some(NodeId(1)),
        "still the leader of the term"
    );
    assert!(
        matches!(persisted(&fx)[..], [DiskWrite::State(_)]),
        "only the term was written"
    );

    let from_start = Msg::AppendEntries {
        term: 1,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![entry(1, 1), entry(2, 1)],
        leader_commit: 1,
        round: 2,
    };
    let fx = s.deliver(1, from_start);
    let accept = Msg::AppendReply {
        term: 1,
        success: true,
        match_index: 2,
        round: 2,
    };
    assert!(
        persists_before_sending(&fx),
        "the entries are durable first"
    );
    assert_eq!(
        persisted(&fx),
        [
            DiskWrite::Append(entry(1, 1)),
            DiskWrite::Append(entry(2, 1))
        ]
    );
    assert_eq!(sends(&fx), [(1, accept)]);
    assert_eq!(s.raft.commit_index(), 1);

    let fx = s.deliver(1, heartbeat(1, 3));
    assert!(persisted(&fx).is_empty(), "a heartbeat changes no log");
    assert_eq!(s.raft.log().len(), 2, "and truncates nothing");
}

// ---- thesis §4.2.3 vote stickiness -------------------------------------------------------------

#[test]
fn thesis_4_2_3_a_follower_that_hears_from_its_leader_ignores_vote_requests() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    s.at(1_000).deliver(1, heartbeat(1, 1));

    let fx = s.at(1_149).deliver(2, request_vote(2, 0, 0));
    assert_eq!(
        sends(&fx),
        [(2, refusal(1, false, leader_alive(Some(1))))],
        "denied with its own term, naming the leader it heard"
    );
    assert_eq!(s.raft.term(), 1, "the term is not adopted");
    assert_eq!(s.raft.voted_for(), None);
    assert!(persisted(&fx).is_empty() && observations(&fx).is_empty());
    assert_eq!(s.raft.leader(), Some(NodeId(1)));

    let fx = s.at(1_150).deliver(2, request_vote(2, 0, 0));
    assert_eq!(
        sends(&fx),
        [(2, vote(2, true))],
        "a minimum election timeout later"
    );
    assert_eq!((s.raft.term(), s.raft.voted_for()), (2, Some(NodeId(2))));
}

#[test]
fn thesis_4_2_3_a_higher_term_learned_from_a_reply_does_not_release_the_promise_to_the_leader() {
    // Found by raft/vote-replies-outlive-their-election.toml: a follower that acknowledged
    // leader 1 got a candidate's reply (to a heartbeat it sent long ago, as a leader) carrying
    // term 3, adopted the term, forgot its leader and voted at once, while leader 1's lease,
    // counting on this follower's acknowledgement, still ran: two leaders held authority.
    let mut s = Server::new(0, 3, cfg());
    s.start();
    s.at(1_000).deliver(1, heartbeat(2, 1));

    let fx = s.at(1_020).deliver(2, rejected(3, 0, 7));
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Follower, 3));
    assert_eq!(s.raft.leader(), None, "no leader of term 3 is known");
    assert!(sends(&fx).is_empty());

    let fx = s.at(1_030).deliver(2, request_vote(3, 0, 0));
    assert_eq!(
        sends(&fx),
        [(2, refusal(3, false, leader_alive(None)))],
        "refused: leader 1 was heard within the minimum election timeout"
    );
    assert_eq!(s.raft.voted_for(), None);

    let fx = s.at(1_150).deliver(2, request_vote(3, 0, 0));
    assert_eq!(
        sends(&fx),
        [(2, vote(3, true))],
        "a minimum election timeout later"
    );
}

#[test]
fn thesis_4_2_3_a_leader_ignores_vote_requests() {
    let mut s = leader(3, cfg());
    let fx = s.at(5_000).deliver(2, request_vote(9, 0, 0));
    assert_eq!(sends(&fx), [(2, refusal(1, false, leader_alive(Some(0))))]);
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Leader, 1));
}

#[test]
fn thesis_4_2_3_without_stickiness_a_follower_grants_at_once() {
    let mut s = Server::new(
        0,
        3,
        RaftConfig {
            vote_stickiness: false,
            ..cfg()
        },
    );
    s.start();
    s.at(1_000).deliver(1, heartbeat(1, 1));
    let fx = s.at(1_001).deliver(2, request_vote(2, 0, 0));
    assert_eq!(sends(&fx), [(2, vote(2, true))]);
    assert_eq!(s.raft.leader(), None, "the old leader's term is over");
}

/// A follower that acknowledged a lease round and then crashed has no record of it: the ack
/// time is not durable. Its promise not to vote for a minimum election timeout must survive
/// the crash, so a restarted server ignores vote requests for that long after it starts.
#[test]
fn thesis_6_4_a_restarted_server_votes_only_a_minimum_election_timeout_after_starting() {
    let durable = RaftDurable {
        current_term: 1,
        voted_for: Some(NodeId(2)),
        log: vec![],
    };
    let mut s = Server::new(0, 3, cfg());
    s.at(1_000).restart(&durable);
    let fx = s.at(1_149).deliver(1, request_vote(2, 0, 0));
    assert_eq!(
        sends(&fx),
        [(1, refusal(1, false, leader_alive(None)))],
        "149 ms after the start: ignored, for its own recent start"
    );
    assert_eq!(s.raft.term(), 1, "not even the term is adopted");
    let fx = s.at(1_150).deliver(1, request_vote(2, 0, 0));
    assert_eq!(
        sends(&fx),
        [(1, vote(2, true))],
        "a full minimum election timeout later"
    );

    let mut loose = Server::new(
        0,
        3,
        RaftConfig {
            vote_stickiness: false,
            ..cfg()
        },
    );
    loose.at(1_000).restart(&durable);
    let fx = loose.at(1_001).deliver(1, request_vote(2, 0, 0));
    assert_eq!(
        sends(&fx),
        [(1, vote(2, true))],
        "without stickiness there is no such promise"
    );
}

// ---- thesis §9.6 pre-vote ----------------------------------------------------------------------

fn with_pre_vote() -> RaftConfig {
    RaftConfig {
        pre_vote: true,
        ..cfg()
    }
}

#[test]
fn thesis_9_6_a_pre_vote_request_changes_neither_term_nor_vote() {
    let mut s = Server::new(0, 3, with_pre_vote());
    s.start();
    s.at(200);
    s.deliver(1, request_vote(1, 0, 0));
    assert_eq!(s.raft.voted_for(), Some(NodeId(1)));

    let fx = s.deliver(2, pre_vote(5, 0, 0));
    assert_eq!(
        sends(&fx),
        [(2, pre_vote_reply(5, true))],
        "it would vote in term 5"
    );
    assert_eq!((s.raft.term(), s.raft.voted_for()), (1, Some(NodeId(1))));
    assert!(persisted(&fx).is_empty() && observations(&fx).is_empty());
    assert!(timers_set(&fx, Timer::Election).is_empty());

    let fx = s.deliver(2, pre_vote(1, 0, 0));
    assert_eq!(
        sends(&fx),
        [(2, refusal(1, true, Refusal::StaleTerm { term: 1 }))],
        "not a later term"
    );

    // Stickiness covers pre-votes too.
    s.at(500).deliver(1, heartbeat(1, 1));
    let fx = s.at(510).deliver(2, pre_vote(2, 0, 0));
    assert_eq!(sends(&fx), [(2, refusal(1, true, leader_alive(Some(1))))]);
}

#[test]
fn thesis_9_6_a_partitioned_pre_candidate_never_increments_its_term() {
    let mut s = Server::new(0, 3, with_pre_vote());
    s.start();
    for round in 0..10 {
        let fx = s.fire(Timer::Election);
        assert_eq!((s.raft.role(), s.raft.term()), (Role::PreCandidate, 0));
        let ask = pre_vote(1, 0, 0);
        assert_eq!(sends(&fx), [(1, ask.clone()), (2, ask)]);
        assert!(persisted(&fx).is_empty(), "nothing durable changes");
        let expected = if round == 0 {
            vec![role(Role::PreCandidate, 0)]
        } else {
            vec![]
        };
        assert_eq!(observations(&fx), expected);
    }
}

#[test]
fn thesis_9_6_a_majority_of_pre_votes_starts_a_real_election() {
    let mut s = Server::new(0, 3, with_pre_vote());
    s.start();
    s.fire(Timer::Election);
    let fx = s.deliver(1, pre_vote_reply(1, true));
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Candidate, 1));
    assert_eq!(
        observations(&fx),
        [voted_for_self(1), role(Role::Candidate, 1)]
    );
    assert_eq!(sends(&fx)[0], (1, request_vote(1, 0, 0)));
    assert!(persists_before_sending(&fx));

    s.deliver(2, pre_vote_reply(1, true));
    assert_eq!(
        s.raft.role(),
        Role::Candidate,
        "a late pre-vote is not a vote"
    );
    s.deliver(2, vote(1, true));
    assert_eq!(s.raft.role(), Role::Leader);
}

#[test]
fn thesis_9_6_a_pre_vote_denied_in_a_higher_term_makes_the_pre_candidate_follow_it() {
    let mut s = Server::new(0, 3, with_pre_vote());
    s.start();
    s.fire(Timer::Election);
    let fx = s.deliver(1, pre_vote_reply(3, false));
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Follower, 3));
    assert_eq!(observations(&fx), [role(Role::Follower, 3)]);
}

// ---- thesis §6.4 leases ------------------------------------------------------------------------

#[test]
fn thesis_6_4_authority_runs_from_the_send_of_the_majority_acked_round() {
    // Default lease: 9/10 of the 150 ms minimum election timeout.
    let mut s = leader(3, cfg()); // round 1 sent at 0 ms
    s.at(50).fire(Timer::Heartbeat); // round 2
    let fx = s.at(60).deliver(1, ack(1, 1));
    assert_eq!(
        observations(&fx),
        [authority(1, 135 * MS)],
        "round 1 + 135 ms"
    );
    let fx = s.at(61).deliver(2, ack(1, 1));
    assert!(observations(&fx).is_empty(), "the end did not grow");
    let fx = s.at(62).deliver(2, ack(1, 2));
    assert_eq!(
        observations(&fx),
        [authority(1, 185 * MS)],
        "round 2 + 135 ms"
    );
    assert_eq!(s.raft.lease_until(), Some(185 * MS));

    let mut s = leader(
        3,
        RaftConfig {
            lease_duration: Some(Duration::from_millis(40)),
            ..cfg()
        },
    );
    let fx = s.at(1).deliver(2, ack(1, 1));
    assert_eq!(
        observations(&fx),
        [authority(1, 40 * MS)],
        "a configured lease"
    );
}

#[test]
fn thesis_6_4_no_authority_before_a_majority_acknowledges() {
    let mut s = leader(5, cfg());
    let fx = s.at(5).deliver(1, ack(1, 1));
    assert!(observations(&fx).is_empty(), "2 of 5");
    let fx = s.at(6).deliver(
        2,
        Msg::AppendReply {
            term: 1,
            success: false,
            match_index: 0,
            round: 1,
        },
    );
    assert_eq!(
        observations(&fx),
        [authority(1, 135 * MS)],
        "3 of 5: a failed consistency check still acknowledges the leader"
    );

    // A lone leader needs nobody.
    let mut s = Server::new(0, 1, cfg());
    s.start();
    let fx = s.at(300).fire(Timer::Election);
    let claims: Vec<_> = observations(&fx)
        .into_iter()
        .filter(|o| matches!(o, Observation::Authority { .. }))
        .collect();
    assert_eq!(claims, [authority(1, 435 * MS)]);
}

#[test]
fn thesis_6_4_acknowledgements_from_an_old_term_do_not_count() {
    let mut s = leader(3, cfg()); // term 1, round 1
    s.at(10).deliver(1, heartbeat(2, 1)); // deposed by the leader of term 2
    s.at(400).fire(Timer::Election);
    s.deliver(1, vote(3, true));
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Leader, 3)); // round 2 sent at 400 ms

    let fx = s.at(401).deliver(2, ack(1, 1));
    assert!(observations(&fx).is_empty(), "a reply of term 1");
    let fx = s.at(402).deliver(2, ack(3, 1));
    assert!(
        observations(&fx).is_empty(),
        "round 1 belonged to the term-1 leadership"
    );
    let fx = s.at(403).deliver(2, ack(3, 2));
    assert_eq!(observations(&fx), [authority(3, 535 * MS)]);
}

// ---- configuration -------------------------------------------------------------------------------

#[test]
fn config_defaults_follow_the_paper_and_unknown_keys_are_rejected() {
    let parsed: RaftConfig = toml::from_str("").unwrap();
    assert_eq!(
        parsed.election_timeout,
        [Duration::from_millis(150), Duration::from_millis(300)]
    );
    assert_eq!(parsed.heartbeat_interval, Duration::from_millis(50));
    assert!(parsed.pre_vote && parsed.check_quorum && parsed.vote_stickiness);
    assert_eq!(parsed.lease_clock, ClockKind::Monotonic);
    assert_eq!(parsed.lease(), 135 * MS as u64);

    let parsed: RaftConfig = toml::from_str("lease_clock = \"wall\"").unwrap();
    assert_eq!(parsed.lease_clock, ClockKind::Wall);
    let err = toml::from_str::<RaftConfig>("lease_clock = \"sundial\"").unwrap_err();
    assert!(
        err.to_string()
            .contains("unknown variant `sundial`, expected `wall` or `monotonic`"),
        "{err}"
    );

    let parsed: RaftConfig =
        toml::from_str("election_timeout = [\"1s\", \"2s\"]\nlease_duration = \"3s\"").unwrap();
    assert_eq!(parsed.lease(), 3_000 * MS as u64);

    let err = toml::from_str::<RaftConfig>("election_timeout_ms = 150").unwrap_err();
    assert!(err.to_string().contains("unknown field"), "{err}");
}

#[test]
fn validate_rejects_what_cannot_run_and_says_what_was_expected() {
    let check = |cfg: RaftConfig| Raft::validate(&cfg, 3);
    assert_eq!(check(cfg()), Ok(()));

    let reversed = check(RaftConfig {
        election_timeout: [Duration::from_millis(300), Duration::from_millis(150)],
        ..cfg()
    })
    .unwrap_err();
    assert_eq!(
        format!("{}: {}", reversed.field, reversed.message),
        "election_timeout: the minimum (300ms) exceeds the maximum (150ms)"
    );

    let zero_heartbeat = check(RaftConfig {
        heartbeat_interval: Duration::ZERO,
        ..cfg()
    })
    .unwrap_err();
    assert_eq!(zero_heartbeat.field, "heartbeat_interval");
    assert!(zero_heartbeat.message.contains("greater than zero"));

    let zero_min = check(RaftConfig {
        election_timeout: [Duration::ZERO, Duration::from_millis(1)],
        ..cfg()
    });
    assert_eq!(zero_min.unwrap_err().field, "election_timeout");
    let zero_lease = check(RaftConfig {
        lease_duration: Some(Duration::ZERO),
        ..cfg()
    });
    assert_eq!(zero_lease.unwrap_err().field, "lease_duration");

    // Unwise but allowed: lessons show what goes wrong.
    assert_eq!(
        check(RaftConfig {
            heartbeat_interval: Duration::from_millis(400),
            lease_duration: Some(Duration::from_secs(1)),
            ..cfg()
        }),
        Ok(())
    );
    assert_eq!(Raft::validate(&cfg(), 1), Ok(()));
}

#[test]
fn the_catalogue_lists_raft_with_a_described_schema() {
    let info = crate::protocols::catalog()
        .into_iter()
        .find(|p| p.name == "raft")
        .expect("registered");
    let schema = serde_json::to_value((info.config_schema)()).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    let names: Vec<&str> = properties.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "check_quorum",
            "commit_rule",
            "election_timeout",
            "heartbeat_interval",
            "lease_clock",
            "lease_duration",
            "max_entries_per_append",
            "pre_vote",
            "read",
            "vote_stickiness"
        ]
    );
    for (name, property) in properties {
        assert!(
            property["description"].is_string(),
            "{name} has no description"
        );
    }
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown keys are rejected"
    );
}

// ---- §5.3–5.4 log replication and commitment ---------------------------------------------------

fn accepted(term: u64, match_index: u64, round: u64) -> Msg {
    Msg::AppendReply {
        term,
        success: true,
        match_index,
        round,
    }
}

fn rejected(term: u64, hint: u64, round: u64) -> Msg {
    Msg::AppendReply {
        term,
        success: false,
        match_index: hint,
        round,
    }
}

fn put_entry(index: u64, term: u64, client: u32, seq: u64, key: &str, value: &str) -> Entry {
    Entry {
        index,
        term,
        command: std::sync::Arc::new(Command::Client {
            request: req(client, seq),
            op: put(key, value),
        }),
    }
}

/// Server 0 of 3, restarted from `log` at term `log`'s last term, then elected in the next term.
fn leader_with_log(log: Vec<Entry>, cfg: RaftConfig) -> Server {
    let mut s = Server::new(0, 3, cfg);
    let term = log::last_term(&log);
    s.restart(&RaftDurable {
        current_term: term,
        voted_for: None,
        log,
    });
    s.at(1_000).fire(Timer::Election);
    s.deliver(1, vote(term + 1, true));
    assert_eq!(s.raft.role(), Role::Leader);
    s
}

/// A leader of term 1 of 3 servers whose no-op is committed (server 1 stores it).
fn committed_leader(cfg: RaftConfig) -> Server {
    let mut s = leader(3, cfg);
    s.deliver(1, accepted(1, 1, 1));
    assert_eq!(s.raft.commit_index(), 1);
    s
}

fn appended_indexes(effects: &[Effect<Raft>]) -> Vec<(u64, u64)> {
    observations(effects)
        .into_iter()
        .filter_map(|o| match o {
            Observation::Appended { index, term, .. } => Some((index, term)),
            _ => None,
        })
        .collect()
}

fn applied_indexes(effects: &[Effect<Raft>]) -> Vec<u64> {
    observations(effects)
        .into_iter()
        .filter_map(|o| match o {
            Observation::Applied { index, .. } => Some(index),
            _ => None,
        })
        .collect()
}

fn terms_of(log: &[Entry]) -> Vec<u64> {
    log.iter().map(|e| e.term).collect()
}

#[test]
fn section_5_3_a_follower_deletes_a_conflicting_suffix_and_reports_what_it_wrote() {
    let mut s = Server::new(0, 3, cfg());
    s.restart(&RaftDurable {
        current_term: 1,
        voted_for: None,
        log: vec![entry(1, 1), entry(2, 1), entry(3, 1)],
    });
    let fx = s.deliver(1, append_entries(2, (1, 1), vec![entry(2, 2)], 0, 1));
    assert_eq!(
        terms_of(s.raft.log()),
        [1, 2],
        "entries 2 and 3 of term 1 deleted"
    );
    assert_eq!(appended_indexes(&fx), [(2, 2)]);
    assert!(persists_before_sending(&fx));
    assert_eq!(sends(&fx), [(1, accepted(2, 2, 1))]);

    // The digest of index 2 is a function of the log up to it: the leader's matches.
    let mut l = Server::new(1, 3, cfg());
    l.restart(&RaftDurable {
        current_term: 2,
        voted_for: None,
        log: vec![entry(1, 1), entry(2, 2)],
    });
    assert_eq!(s.raft.digests, l.raft.digests);
}

#[test]
fn figure_2_rule_5_a_follower_commits_no_further_than_the_last_entry_the_request_matched() {
    // Entries 2 and 3 of term 1 were never committed: a new leader may hold others there. Its
    // heartbeat matches only index 1, so however far its commit index goes, the follower
    // commits (and applies) index 1 and nothing of the suffix the request did not check.
    let mut s = Server::new(0, 3, cfg());
    s.restart(&RaftDurable {
        current_term: 1,
        voted_for: None,
        log: vec![entry(1, 1), entry(2, 1), entry(3, 1)],
    });
    let fx = s.deliver(1, append_entries(2, (1, 1), vec![], 3, 1));
    assert_eq!(sends(&fx), [(1, accepted(2, 1, 1))]);
    assert_eq!(
        s.raft.commit_index(),
        1,
        "min(leaderCommit, index of last new entry)"
    );
    assert_eq!(applied_indexes(&fx), [1]);
    assert_eq!(terms_of(s.raft.log()), [1, 1, 1], "nothing conflicted");

    // Once a request reaches index 3, the follower commits up to it.
    let fx = s.deliver(1, append_entries(2, (3, 1), vec![], 3, 2));
    assert_eq!(s.raft.commit_index(), 3);
    assert_eq!(applied_indexes(&fx), [2, 3]);
}

#[test]
fn section_5_3_a_rejection_hints_where_to_resume_and_the_leader_backs_up_at_once() {
    // Figure 7's follower (f): entries of terms 2 and 3 the leader never had.
    let mut f = Server::new(0, 3, cfg());
    f.restart(&RaftDurable {
        current_term: 3,
        voted_for: None,
        log: vec![entry(1, 1), entry(2, 2), entry(3, 2), entry(4, 3)],
    });
    let fx = f.deliver(1, append_entries(4, (4, 4), vec![], 0, 1));
    assert_eq!(
        sends(&fx),
        [(1, rejected(4, 3, 1))],
        "past its log: its last index"
    );
    let fx = f.deliver(1, append_entries(4, (3, 4), vec![], 0, 2));
    assert_eq!(
        sends(&fx),
        [(1, rejected(4, 1, 2))],
        "term 2 conflicts: skip the whole of term 2"
    );

    let mut s = leader_with_log(vec![entry(1, 1), entry(2, 1), entry(3, 2)], cfg());
    assert_eq!(s.raft.term(), 3);
    assert_eq!(terms_of(s.raft.log()), [1, 1, 2, 3], "a no-op of term 3");
    let fx = s.deliver(1, rejected(3, 1, 1));
    let resend = append_entries(3, (1, 1), s.raft.log()[1..].to_vec(), 0, 1);
    assert_eq!(sends(&fx), [(1, resend)], "from just past the hint");
    // A stale rejection never backs up below what is known to match.
    s.deliver(2, accepted(3, 4, 1));
    let fx = s.deliver(2, rejected(3, 0, 1));
    assert_eq!(sends(&fx)[0].1, append_entries(3, (4, 3), vec![], 4, 1));
}

#[test]
fn section_5_3_entries_go_out_in_batches_of_at_most_max_entries_per_append() {
    let two = RaftConfig {
        max_entries_per_append: 2,
        ..cfg()
    };
    let log: Vec<Entry> = (1..=4).map(|i| entry(i, 1)).collect();
    let mut s = leader_with_log(log, two);
    let fx = s.deliver(1, rejected(2, 0, 1));
    assert_eq!(
        sends(&fx),
        [(
            1,
            append_entries(2, (0, 0), vec![entry(1, 1), entry(2, 1)], 0, 1)
        )]
    );
    let fx = s.deliver(1, accepted(2, 2, 1));
    assert_eq!(
        sends(&fx),
        [(
            1,
            append_entries(2, (2, 1), vec![entry(3, 1), entry(4, 1)], 0, 1)
        )],
        "the next batch as soon as the first is stored"
    );
}

#[test]
fn section_5_4_2_figure_8_an_old_entry_on_a_majority_is_not_committed_by_counting() {
    for rule in [CommitRule::CurrentTerm, CommitRule::AnyTerm] {
        let config = RaftConfig {
            commit_rule: rule,
            ..cfg()
        };
        let mut s = leader_with_log(vec![entry(1, 1), entry(2, 2)], config);
        assert_eq!(s.raft.term(), 3);
        let fx = s.deliver(1, accepted(3, 2, 1));
        match rule {
            CommitRule::CurrentTerm => {
                assert_eq!(s.raft.commit_index(), 0, "index 2 is of term 2, not 3");
                assert!(applied_indexes(&fx).is_empty());
            }
            CommitRule::AnyTerm => {
                assert_eq!(s.raft.commit_index(), 2, "the broken rule counts it");
                assert_eq!(applied_indexes(&fx), [1, 2]);
            }
        }
        let fx = s.deliver(1, accepted(3, 3, 1));
        assert_eq!(
            s.raft.commit_index(),
            3,
            "{rule:?}: the no-op of term 3 commits all"
        );
        let committed = observations(&fx)
            .into_iter()
            .find(|o| matches!(o, Observation::Committed { .. }));
        assert!(
            matches!(
                committed,
                Some(Observation::Committed {
                    index: 3,
                    term: 3,
                    ..
                })
            ),
            "{committed:?}"
        );
    }
}

#[test]
fn section_5_4_1_a_restarted_server_recovers_term_vote_and_log_and_reapplies_what_is_committed() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    let entries = vec![entry(1, 1), put_entry(2, 1, 7, 1, "x", "1")];
    let fx = s.deliver(1, append_entries(1, (0, 0), entries, 2, 1));
    assert_eq!(applied_indexes(&fx), [1, 2]);
    let durable = s.on_disk();

    let fx = s.restart(&durable);
    assert_eq!(s.raft.term(), 1);
    assert_eq!(s.raft.log(), &durable.log[..]);
    assert_eq!(s.raft.commit_index(), 0, "volatile");
    assert!(applied_indexes(&fx).is_empty());
    let fx = s.deliver(1, append_entries(1, (2, 1), vec![], 2, 2));
    assert_eq!(
        applied_indexes(&fx),
        [1, 2],
        "applied again as the leader says"
    );
    assert_eq!(s.raft.kv.get("x"), value(Some("1")));
}

// ---- §8 clients --------------------------------------------------------------------------------

fn req(client: u32, seq: u64) -> RequestId {
    RequestId {
        client: ClientId(client),
        seq,
    }
}

fn put(key: &str, value: &str) -> Op {
    Op::Put {
        key: key.into(),
        value: value.into(),
    }
}

fn get(key: &str) -> Op {
    Op::Get { key: key.into() }
}

fn value(v: Option<&str>) -> OpResult {
    OpResult::Value {
        value: v.map(std::sync::Arc::from),
    }
}

impl Server {
    fn request(&mut self, id: RequestId, op: Op) -> Vec<Effect<Raft>> {
        self.call(|r, ctx| r.on_request(ctx, ClientRequest { id, op }))
    }
}

fn replies(effects: &[Effect<Raft>]) -> Vec<(RequestId, Reply)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply { request, reply } => Some((*request, reply.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn section_8_a_write_is_answered_once_applied_and_a_retry_applies_once() {
    let mut s = committed_leader(cfg());
    let fx = s.request(req(0, 1), put("x", "1"));
    assert!(replies(&fx).is_empty(), "not yet committed");
    let entry = put_entry(2, 1, 0, 1, "x", "1");
    assert_eq!(
        sends(&fx),
        [1, 2].map(|to| (to, append_entries(1, (1, 1), vec![entry.clone()], 1, 1))),
        "sent at once to followers that are caught up"
    );
    let fx = s.request(req(0, 1), put("x", "1"));
    assert!(sends(&fx).is_empty() && replies(&fx).is_empty());
    assert_eq!(
        s.raft.log().len(),
        2,
        "a retry in flight is not appended twice"
    );

    let fx = s.deliver(2, accepted(1, 2, 1));
    assert_eq!(replies(&fx), [(req(0, 1), Reply::Ok(OpResult::Done))]);
    let fx = s.request(req(0, 1), put("x", "1"));
    assert_eq!(
        replies(&fx),
        [(req(0, 1), Reply::Ok(OpResult::Done))],
        "the recorded result, at once"
    );
    assert_eq!(s.raft.log().len(), 2);
}

#[test]
fn section_8_a_server_that_does_not_lead_redirects_to_the_leader_it_knows() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    let fx = s.request(req(0, 1), put("x", "1"));
    assert_eq!(
        replies(&fx),
        [(req(0, 1), Reply::NotLeader { leader: None })]
    );
    s.deliver(2, heartbeat(1, 1));
    let fx = s.request(req(0, 1), put("x", "1"));
    assert_eq!(
        replies(&fx),
        [(
            req(0, 1),
            Reply::NotLeader {
                leader: Some(NodeId(2))
            }
        )]
    );
    assert!(s.raft.log().is_empty());
}

#[test]
fn section_8_a_leader_that_steps_down_never_answers_what_it_appended() {
    let mut s = committed_leader(cfg());
    s.request(req(0, 1), put("x", "1"));
    let fx = s.deliver(1, append_entries(2, (2, 1), vec![], 2, 1));
    assert_eq!(s.raft.role(), Role::Follower);
    assert_eq!(
        applied_indexes(&fx),
        [2],
        "the entry committed under the next leader"
    );
    assert!(
        replies(&fx).is_empty(),
        "not NotLeader: the write did happen"
    );
}

// ---- thesis §6.4 reads -------------------------------------------------------------------------

fn reading(read: ReadMode) -> RaftConfig {
    RaftConfig { read, ..cfg() }
}

#[test]
fn thesis_6_4_a_read_index_read_waits_for_a_heartbeat_round_a_majority_acknowledges() {
    let mut s = committed_leader(reading(ReadMode::ReadIndex));
    let fx = s.at(10).request(req(0, 1), get("x"));
    assert!(replies(&fx).is_empty());
    assert_eq!(
        sends(&fx),
        [1, 2].map(|to| (to, append_entries(1, (1, 1), vec![], 1, 2))),
        "a fresh round confirms leadership"
    );
    assert_eq!(s.raft.log().len(), 1, "reads stay out of the log");
    let fx = s.at(11).deliver(1, accepted(1, 1, 1));
    assert!(
        replies(&fx).is_empty(),
        "round 1 was sent before the read arrived"
    );
    let fx = s.at(12).deliver(2, accepted(1, 1, 2));
    assert_eq!(replies(&fx), [(req(0, 1), Reply::Ok(value(None)))]);

    // A new leader first needs an entry of its term committed.
    let mut s = leader(3, reading(ReadMode::ReadIndex));
    s.request(req(0, 1), get("x"));
    let fx = s.deliver(1, accepted(1, 0, 2));
    assert!(
        replies(&fx).is_empty(),
        "round confirmed, but no-op not committed"
    );
    let fx = s.deliver(1, accepted(1, 1, 2));
    assert_eq!(replies(&fx), [(req(0, 1), Reply::Ok(value(None)))]);
}

#[test]
fn thesis_6_4_1_a_lease_read_is_local_while_the_lease_runs_and_not_after() {
    let mut s = committed_leader(reading(ReadMode::Lease));
    assert_eq!(s.raft.lease_until(), Some(135 * MS));
    let fx = s.at(100).request(req(0, 1), get("x"));
    assert_eq!(replies(&fx), [(req(0, 1), Reply::Ok(value(None)))]);
    assert!(sends(&fx).is_empty(), "no one asked");
    let fx = s.at(135).request(req(0, 2), get("x"));
    assert!(replies(&fx).is_empty(), "expired: as a read-index read");
    assert_eq!(sends(&fx).len(), 2);
}

#[test]
fn a_follower_read_answers_from_whatever_the_server_has_applied() {
    let mut s = Server::new(0, 3, reading(ReadMode::Follower));
    s.start();
    let entries = vec![entry(1, 1), put_entry(2, 1, 7, 1, "x", "1")];
    s.deliver(1, append_entries(1, (0, 0), entries, 1, 1));
    let fx = s.request(req(0, 1), get("x"));
    assert_eq!(
        replies(&fx),
        [(req(0, 1), Reply::Ok(value(None)))],
        "stale: index 2 is stored but not known to be committed"
    );
    let fx = s.request(req(0, 2), put("x", "2"));
    assert_eq!(
        replies(&fx),
        [(
            req(0, 2),
            Reply::NotLeader {
                leader: Some(NodeId(1))
            }
        )],
        "writes still go to the leader"
    );
}

#[test]
fn config_read_modes_commit_rules_and_batches_parse_and_bad_values_are_refused() {
    let parsed: RaftConfig = toml::from_str("").unwrap();
    assert_eq!(
        (
            parsed.read,
            parsed.commit_rule,
            parsed.max_entries_per_append
        ),
        (ReadMode::Log, CommitRule::CurrentTerm, 64)
    );
    let parsed: RaftConfig = toml::from_str(
        "read = \"read-index\"\ncommit_rule = \"any-term\"\nmax_entries_per_append = 1",
    )
    .unwrap();
    assert_eq!(
        (
            parsed.read,
            parsed.commit_rule,
            parsed.max_entries_per_append
        ),
        (ReadMode::ReadIndex, CommitRule::AnyTerm, 1)
    );
    for (text, mode) in [("lease", ReadMode::Lease), ("follower", ReadMode::Follower)] {
        let parsed: RaftConfig = toml::from_str(&format!("read = \"{text}\"")).unwrap();
        assert_eq!(parsed.read, mode);
    }
    let err = toml::from_str::<RaftConfig>("read = \"stale\"").unwrap_err();
    assert!(err.to_string().contains("read-index"), "{err}");

    let zero = Raft::validate(
        &RaftConfig {
            max_entries_per_append: 0,
            ..cfg()
        },
        3,
    )
    .unwrap_err();
    assert_eq!(
        format!("{}: {}", zero.field, zero.message),
        "max_entries_per_append: must be at least 1 (got 0)"
    );
}

// ---- the clocks the lease is measured on ---------------------------------------------------------

#[test]
fn the_lease_runs_on_the_monotonic_clock_unless_configured_on_the_wall_clock() {
    for (clock, until) in [
        (ClockKind::Monotonic, 135 * MS),
        (ClockKind::Wall, 10_135 * MS),
    ] {
        let mut s = Server::new(
            0,
            3,
            RaftConfig {
                lease_clock: clock,
                ..cfg()
            },
        );
        s.wall_ahead = 10_000 * MS; // the wall clock is ten seconds ahead
        s.start();
        s.fire(Timer::Election);
        s.deliver(1, vote(1, true));
        let fx = s.at(60).deliver(1, ack(1, 1));
        assert_eq!(
            observations(&fx),
            [Observation::Authority {
                term: 1,
                until: Some(until),
                clock,
            }],
            "{clock:?}"
        );
    }
}

#[test]
fn a_wall_clock_step_leaves_vote_stickiness_on_the_monotonic_clock_alone() {
    let mut s = Server::new(0, 3, cfg());
    s.start();
    s.at(1_000).deliver(1, heartbeat(1, 1));
    s.wall_ahead = 10_000 * MS; // an NTP step forward by 10 s
    let fx = s.at(1_100).deliver(2, request_vote(2, 0, 0));
    assert_eq!(
        sends(&fx),
        [(2, refusal(1, false, leader_alive(Some(1))))],
        "100 ms after hearing the leader, on the clock that measures it"
    );
}

// ---- defaults and check-quorum (thesis §6.2, §9.6) ----------------------------------------------

#[test]
fn pre_vote_and_check_quorum_are_on_by_default_and_the_lease_is_monotonic() {
    let d = RaftConfig::default();
    assert!(d.pre_vote && d.check_quorum && d.vote_stickiness);
    assert_eq!(d.lease_clock, ClockKind::Monotonic);
    let mut s = Server::new(0, 3, RaftConfig::default());
    s.start();
    let fx = s.at(300).fire(Timer::Election);
    assert_eq!((s.raft.role(), s.raft.term()), (Role::PreCandidate, 0));
    assert_eq!(sends(&fx)[0], (1, pre_vote(1, 0, 0)));
}

fn with_check_quorum() -> RaftConfig {
    RaftConfig {
        check_quorum: true,
        ..cfg()
    }
}

#[test]
fn thesis_6_2_a_leader_that_hears_from_no_majority_steps_down_in_its_term() {
    let mut s = Server::new(0, 5, with_check_quorum());
    s.start();
    s.fire(Timer::Election);
    s.deliver(1, vote(1, true));
    let fx = s.deliver(2, vote(1, true));
    assert_eq!(s.raft.role(), Role::Leader);
    assert_eq!(timers_set(&fx, Timer::CheckQuorum), [150 * MS as u64]);

    // A minimum election timeout in which two of four followers answered: 3 of 5 counted.
    s.at(100).deliver(1, ack(1, 1));
    s.deliver(3, ack(1, 1));
    let fx = s.at(150).fire(Timer::CheckQuorum);
    assert_eq!(s.raft.role(), Role::Leader);
    assert_eq!(timers_set(&fx, Timer::CheckQuorum), [150 * MS as u64]);

    // The next one, only one answers: 2 of 5. It steps down, keeping its term.
    s.at(200).deliver(1, ack(1, 2));
    let fx = s.at(300).fire(Timer::CheckQuorum);
    assert_eq!((s.raft.role(), s.raft.term()), (Role::Follower, 1));
    assert_eq!(observations(&fx), [role(Role::Follower, 1)]);
    assert!(cancels(&fx, Timer::Heartbeat) && cancels(&fx, Timer::CheckQuorum));
    assert!(!timers_set(&fx, Timer::Election).is_empty());
    assert_eq!(s.raft.lease_until(), None);
    assert_eq!(s.raft.leader(), None);
    assert!(persisted(&fx).is_empty(), "the term and vote stand");

    // Without check-quorum the same silence changes nothing.
    let mut quiet = leader(5, cfg());
    let fx = quiet.at(300).fire(Timer::CheckQuorum);
    assert_eq!(quiet.raft.role(), Role::Leader);
    assert!(fx.is_empty());
}

#[test]
fn thesis_6_2_replies_of_an_old_term_do_not_count_for_the_quorum() {
    let mut s = Server::new(0, 3, with_check_quorum());
    s.start();
    s.fire(Timer::Election);
    s.deliver(1, vote(1, true));
    s.at(10).deliver(2, ack(0, 0)); // a reply to an earlier term's leader
    s.at(150).fire(Timer::CheckQuorum);
    assert_eq!(s.raft.role(), Role::Follower);
}
