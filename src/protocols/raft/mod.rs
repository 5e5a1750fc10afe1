//! Raft, as Ongaro and Ousterhout describe it in *In Search of an Understandable Consensus
//! Algorithm* (USENIX ATC 2014): leader election (§5.2, §5.4.1), log replication (§5.3),
//! commitment (§5.4.2) and client interaction (§8) over a key-value state machine, with three
//! refinements from
//! Ongaro's thesis (*Consensus: Bridging Theory and Practice*, Stanford 2014): vote stickiness
//! (§4.2.3), pre-vote and check-quorum (§9.6, both on by default) and the leader lease (§6.4).
//!
//! **Terms.** Time is divided into terms, numbered by consecutive integers; each term begins
//! with an election and has at most one leader. Every message carries its sender's term, and a
//! server that sees a higher term adopts it and becomes a follower (§5.1). The current term and
//! the vote cast in it are persisted before anything that depends on them is sent, so a crash
//! cannot make a server vote twice in one term.
//!
//! **Votes.** A follower that hears nothing from a leader for an election timeout becomes a
//! candidate: it increments its term, votes for itself and asks every other server for its
//! vote. Each server grants at most one vote per term, first come first served, and only to a
//! candidate whose log is at least as up to date as its own — a higher last term, or the same
//! last term and a log at least as long (§5.4.1). A candidate with votes from a majority becomes
//! leader; a candidate that hears from a leader of its term, or sees a higher term, becomes a
//! follower again.
//!
//! **Randomized timeouts.** Each election timeout is drawn afresh from `election_timeout`, so in
//! most elections one server times out first and wins before the others wake up. When a split
//! vote leaves no winner, the candidates time out again, at different moments, in a new term.
//!
//! **Heartbeats.** A leader asserts itself with AppendEntries to every follower every
//! `heartbeat_interval`, empty unless the follower lacks entries. A follower that accepts one
//! resets its election timer.
//!
//! **Log replication (§5.3).** A new leader appends a no-op entry of its term (§8) and keeps,
//! per follower, `next_index` (the next entry to send) and `match_index` (the highest entry
//! known to be replicated there). AppendEntries carries the entries from `next_index` — at most
//! `max_entries_per_append` — after `prev_log_index`/`prev_log_term`; the follower accepts them
//! only if its log holds that previous entry (the consistency check), deletes any conflicting
//! suffix and appends. A rejection carries a hint (the follower's last index, or the index
//! before the conflicting term's first entry) so the leader backs `next_index` up a term at a
//! time instead of an entry at a time. The leader sends `next_index` on optimistically and
//! sends new entries at once to followers that are caught up; lost messages show up as
//! rejections of the next heartbeat. The log is persisted before any reply or AppendEntries
//! that depends on it leaves (persist before send).
//!
//! **Commitment (§5.4.2, Figure 8).** The leader commits the highest index stored on a
//! majority *if that entry is of its current term*; earlier entries commit with it. Counting
//! replicas of an older entry is unsafe — Figure 8 — and `commit_rule = "any-term"` does exactly
//! that, for the lesson `raft/figure8.toml`. Followers learn the commit index from
//! `leader_commit`. Every server applies committed entries in order to a key-value store with
//! a session table (see `kv`); the commit index and the store are volatile, rebuilt after a
//! restart by applying again what the leader says is committed.
//!
//! **Clients (§8).** A write (and, with `read = "log"`, a read) is appended as a command tagged
//! with its request id; the leader answers once it applies the entry — only for entries of its
//! current term, so a leader that steps down never answers what it appended (the entry may
//! still commit; the client times out and learns nothing). A retried request already applied
//! is answered with its recorded result; one already in the log of this term is not appended
//! twice. A server that is not leader answers `NotLeader` with the leader it knows. Reads in
//! the other modes are described on [`ReadMode`]: `read-index` confirms leadership with a
//! heartbeat round a majority acknowledges, `lease` answers at once inside the lease, and
//! `follower` answers from any server's applied state (stale).
//!
//! **Disruptive servers (thesis §4.2.3).** A server cut off from the leader keeps timing out and
//! raising its term; when it returns, its high term would depose a healthy leader. With
//! `vote_stickiness`, a server that heard from a current leader within the minimum election
//! timeout ignores vote requests altogether: it neither adopts their term nor grants its vote.
//! A leader counts as having heard from a leader: itself. The rule covers every vote request,
//! whatever its term, exactly as the thesis states it.
//!
//! **Pre-vote (thesis §9.6).** With `pre_vote` (the default), a server whose timer fires first
//! asks whether it *could* win an election in the next term, without incrementing its own.
//! Servers answer as they would a real request but change neither term nor vote. Only with a
//! majority of pre-votes does it become a candidate, so a partitioned server never raises its
//! term, and cannot depose a healthy leader when it returns (`raft/rejoin-disrupts.toml` shows
//! the disruption without it, `raft/rejoin-with-pre-vote.toml` its absence with it).
//!
//! **Check-quorum (thesis §6.2, §9.6).** With `check_quorum` (the default), a leader that has
//! heard from no majority (itself included) for a whole minimum election timeout steps down,
//! in its own term: a leader cut off with a minority stops leading instead of waiting to hear
//! of a higher term. Pre-vote needs it: without it, followers that pre-vote could never move
//! past a leader that is alive but cut off from them.
//!
//! **Refusals say why.** A refused vote or pre-vote carries its [`Refusal`]: the voter heard
//! from a leader recently, the candidate's term is stale, the voter already voted in the term,
//! or the candidate's log is behind (both last entries given), so a replay can tell it.
//!
//! **Leases (thesis §6.4).** Heartbeat broadcasts are numbered rounds. Once a majority (the
//! leader included) has acknowledged round R, stickiness keeps those servers from voting for
//! anyone until a minimum election timeout after they received it, so no other leader can exist
//! before `sent_at(R) + election_timeout.min` (clock drift aside). The leader claims authority
//! until `sent_at(R) + lease_duration` on its own clock and reports it as an `authority`
//! observation. See `lease`. The promise needs vote stickiness — kept across a crash: a server
//! that (re)started less than a minimum election timeout ago votes as if it had just heard from
//! a leader, since the acknowledgement it may have sent before crashing is not on disk — and
//! clocks that keep pace. Both sides measure on `lease_clock`: the monotonic clock by default,
//! which NTP steps do not move, so only a drift beyond the 10% margin breaks it
//! (`raft/lease-clock-drift.toml`); `lease_clock = "wall"` is the broken design, which a
//! backward step on the leader breaks (`raft/lease-wall-clock-step.toml`). Timers run on the
//! monotonic clock whatever `lease_clock` says.
//!
//! Invariants this module keeps (and asserts where it can):
//! - The term never decreases, and a server votes at most once per term, durably: the vote is
//!   persisted before the reply that grants it, and restored after a crash.
//! - A leader leads the term it won with a majority of votes (its own included), in term ≥ 1.
//! - The log is well formed: entry `i` at position `i - 1`, terms non-decreasing; a stale
//!   AppendEntries never truncates it, and (with the current-term commit rule) nothing at or
//!   below the commit index is ever deleted.
//! - Entries are applied in index order, each once per process lifetime; the commit index
//!   only grows.
//! - Every change of (role, term) is observed exactly once; a leader that steps down observes
//!   `Role { Follower, term }`, which ends its authority for the checkers.
//! - Every vote is observed as it is cast (`Voted`): a candidate's for itself, and each grant,
//!   a repeated one included, so `one_vote_per_term` sees what the voter did, not what it
//!   recorded.
//! - The claimed lease end only grows within a leadership, and only acknowledgements of the
//!   current term's rounds extend it.
//!
//! What is *not* here: snapshots and membership changes. The log is persisted incrementally
//! (only what changed since the last save), but never compacted.
//!
//! The protocol reads time only through `ctx.clock(lease_clock)` (the monotonic clock unless
//! configured otherwise) and randomness only through `ctx.rng()`.

mod client;
mod config;
mod describe;
mod durable;
mod invariants;
pub(crate) mod kv;
pub(crate) mod lease;
pub mod log;
mod narrate;
mod replication;
mod situations;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, LocalNanos, NodeId, Observation, Protocol,
    ProtocolInvariant, Reply, Role,
};

#[cfg(test)]
mod tests;

pub use config::{CommitRule, RaftConfig, ReadMode};
pub use durable::{HardState, RaftDurable};
pub use log::{Command, Entry};

use client::PendingRead;
use kv::KvStore;
use replication::Progress;

use lease::Lease;

/// Raft's messages. The candidate's or leader's id is the message's sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    /// A candidate asks for a vote in `term` (§5.2); with `pre_vote`, whether it would get one
    /// if it started an election in `term` (thesis §9.6).
    RequestVote {
        /// The candidate's term (currentTerm, or the term it would start with a pre-vote).
        term: u64,
        /// Index of the candidate's last log entry (lastLogIndex).
        last_log_index: u64,
        /// Term of the candidate's last log entry (lastLogTerm).
        last_log_term: u64,
        /// A pre-vote (thesis §9.6): asks whether a vote would be granted, without changing the
        /// voter's currentTerm or votedFor.
        pre_vote: bool,
    },
    /// The answer. A granted pre-vote carries the term asked about; anything else the voter's
    /// current term. A refusal says why (`refused` is `Some` exactly when `granted` is false).
    VoteReply {
        /// The voter's currentTerm (for a granted pre-vote, the term asked about), for the
        /// candidate to update itself.
        term: u64,
        /// voteGranted: true means the candidate received this vote (or would, for a pre-vote).
        granted: bool,
        /// Whether this answers a pre-vote.
        pre_vote: bool,
        /// Why the vote was refused; `None` when granted.
        #[serde(skip_serializing_if = "Option::is_none")]
        refused: Option<Refusal>,
    },
    /// A leader replicates entries after `prev_log_index`, or asserts itself when `entries` is
    /// empty (§5.3). `round` numbers the leader's broadcasts for its lease.
    AppendEntries {
        /// The leader's currentTerm.
        term: u64,
        /// prevLogIndex: the index of the log entry just before the new ones.
        prev_log_index: u64,
        /// prevLogTerm: the term of the entry at `prev_log_index` (0 when it is 0).
        prev_log_term: u64,
        /// The entries to store, from `prev_log_index + 1` (empty for a heartbeat).
        entries: Vec<Entry>,
        /// leaderCommit: the leader's commitIndex.
        leader_commit: u64,
        /// The leader's broadcast number in its term, echoed by the reply: a majority of replies
        /// to a round confirms the leader still leads (for its lease and for reads).
        round: u64,
    },
    /// The answer. With `term` equal to the leader's, it acknowledges `round` whether or not
    /// the consistency check passed. `round` is 0 when the request's term was stale: such a
    /// reply acknowledges no leadership. With `success`, `match_index` is the last index known
    /// to match the leader's log; without, it is the hint for fast backup: the highest index at
    /// which the follower's log may still match (0 for a stale term).
    AppendReply {
        /// The follower's currentTerm, for the leader to update itself.
        term: u64,
        /// True if the follower's log held an entry matching `prev_log_index` and
        /// `prev_log_term`, so the entries were stored.
        success: bool,
        /// On success, the leader's matchIndex for this follower; on failure, the fast-backup
        /// hint (see above).
        match_index: u64,
        /// The `round` of the request this answers; 0 for a stale term.
        round: u64,
    },
}

/// Why a voter refused a vote or a pre-vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Thesis §4.2.3: the voter heard from `leader` (itself, if it leads) within the minimum
    /// election timeout; `None`: it (re)started less than a minimum election timeout ago.
    LeaderAlive {
        /// The leader the voter heard from; `None` when it only just (re)started.
        leader: Option<NodeId>,
    },
    /// §5.1: the voter is already in `term`, at or past the term asked about (a vote for an
    /// earlier term; a pre-vote for a term not above the voter's).
    StaleTerm {
        /// The voter's currentTerm.
        term: u64,
    },
    /// §5.2: one vote per term, and it went to `candidate` in `term`.
    AlreadyVoted {
        /// votedFor: the candidate that has the vote.
        candidate: NodeId,
        /// The term of that vote: the voter's currentTerm.
        term: u64,
    },
    /// §5.4.1: the candidate's log (last entry `candidate_index` of `candidate_term`) is behind
    /// the voter's (last entry `voter_index` of `voter_term`).
    LogBehind {
        /// lastLogIndex of the candidate.
        candidate_index: u64,
        /// lastLogTerm of the candidate.
        candidate_term: u64,
        /// Index of the voter's own last log entry.
        voter_index: u64,
        /// Term of the voter's own last log entry.
        voter_term: u64,
    },
}

/// Raft's timers. Setting one that is pending replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// No word from a leader for a whole election timeout: start an election.
    Election,
    /// Time for the leader's next heartbeat round.
    Heartbeat,
    /// Check-quorum: a minimum election timeout has passed since the leader last counted who
    /// it heard from.
    CheckQuorum,
}

/// The leader of the current term, as this server last heard from it.
#[derive(Clone, Copy, Debug)]
struct KnownLeader {
    id: NodeId,
    heard_at: LocalNanos,
}

/// One Raft server.
#[derive(Debug)]
pub struct Raft {
    id: NodeId,
    peers: Vec<NodeId>,
    cfg: RaftConfig,
    /// The persistent state, in memory; on disk as of the last save (see [`durable`]).
    durable: RaftDurable,
    /// The term or the vote changed since they were last persisted.
    unsaved: bool,
    /// The first log index that changed since the log was last written to disk.
    log_unsaved_from: Option<u64>,
    role: Role,
    /// Known once it has been heard from; cleared with each new term or election.
    leader: Option<KnownLeader>,
    /// Votes (or pre-votes) granted in the election under way, this server's own included.
    votes: BTreeSet<NodeId>,
    /// The highest log index known to be committed (§5.3); volatile.
    commit_index: u64,
    /// The number of the last heartbeat round sent. Never reset while the process lives, so
    /// rounds of different leaderships never share a number.
    round: u64,
    /// The leader's rounds and acknowledgements; `Some` exactly while leading.
    lease: Option<Lease>,
    /// Check-quorum: the followers heard from in this term since the leader last counted.
    heard: BTreeSet<NodeId>,
    /// The (role, term) last observed, so that each change is observed once.
    observed: Option<(Role, u64)>,
    /// When this server (re)started, on its clock. It may have acknowledged a leader just
    /// before it stopped, and that acknowledgement is not on disk: until a minimum election
    /// timeout has passed since the start, it votes as if it had just heard from a leader.
    started_at: Option<LocalNanos>,
    /// When this server last heard from a leader, of any term, on its lease clock. Unlike
    /// [`Raft::leader`] it survives a new term: a follower that acknowledged a leader's round
    /// promised that leader's lease not to vote for a minimum election timeout, and learning a
    /// higher term from a candidate's reply does not release that promise (thesis §4.2.3, §6.4).
    leader_heard_at: Option<LocalNanos>,
    /// The digest of each log entry (see [`log::digest`]), volatile, recomputed on restart.
    digests: Vec<u64>,
    /// The highest log index applied to `kv` (§5.3); volatile.
    last_applied: u64,
    /// The replicated state machine; volatile, rebuilt by applying the log again.
    kv: KvStore,
    /// Per follower, what the leader knows of its log; empty unless leading.
    progress: Vec<Progress>,
    /// Read-index reads waiting for a confirmed round and the state machine; leader only.
    reads: Vec<PendingRead>,
    /// Reused to find the majority's match index without allocating.
    scratch: Vec<u64>,
}

impl Protocol for Raft {
    const NAME: &'static str = "raft";
    const SUMMARY: &'static str = "Raft (Ongaro & Ousterhout 2014): election with pre-vote, \
        check-quorum and vote stickiness; leases on the monotonic clock; log replication to a key-value store; log, read-index, lease and \
        follower reads";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &[
        "election_safety",
        "no_split_brain",
        "log_matching",
        "state_machine_safety",
        "leader_completeness",
        "leader_append_only",
        "one_vote_per_term",
        "monotonic_term",
        "monotonic_commit",
        "adopts_newer_term",
    ];

    type Msg = Msg;
    type Timer = Timer;
    type Config = RaftConfig;
    type Durable = HardState;
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = Entry;

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![invariants::adopts_newer_term()]
    }

    fn validate(config: &RaftConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn describe_state(&self, names: &[String]) -> Vec<String> {
        self.describe(names)
    }

    fn situations() -> Vec<crate::node::situation::Situation> {
        situations::all()
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn new(id: NodeId, peers: &[NodeId], config: &RaftConfig, disk: Option<&DiskOf<Self>>) -> Self {
        let durable = RaftDurable::from_disk(disk);
        debug_assert!(log::is_well_formed(&durable.log));
        let mut digests = Vec::with_capacity(durable.log.len());
        log::recompute_digests(&durable.log, &mut digests, 1);
        Raft {
            id,
            peers: peers.to_vec(),
            cfg: config.clone(),
            durable,
            unsaved: false,
            log_unsaved_from: None,
            role: Role::Follower,
            leader: None,
            votes: BTreeSet::new(),
            commit_index: 0,
            round: 0,
            lease: None,
            heard: BTreeSet::new(),
            observed: None,
            started_at: None,
            leader_heard_at: None,
            digests,
            last_applied: 0,
            kv: KvStore::default(),
            progress: Vec::new(),
            reads: Vec::new(),
            scratch: Vec::with_capacity(peers.len() + 1),
        }
    }

    /// A server starts, or restarts, as a follower of the term it persisted.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.started_at = Some(self.lease_clock(ctx));
        self.become_follower(ctx, self.term(), None);
        self.arm_election_timer(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let now = self.lease_clock(ctx);
        // §5.1: a message from a later term makes this server a follower of that term.
        if let Some(term) = self.newer_term_in(&msg, now) {
            self.become_follower(ctx, term, None);
        }
        let current = self.term();
        match msg {
            // Thesis §4.2.3: within the minimum election timeout of hearing from a leader,
            // vote requests are ignored — no new term, no vote.
            Msg::RequestVote { pre_vote, .. } if self.hears_a_leader(now) => {
                let refused = Refusal::LeaderAlive {
                    leader: self.recent_leader(now),
                };
                self.send(ctx, from, vote_reply(current, pre_vote, Some(refused)));
            }
            // Thesis §9.6: grant a pre-vote if a real vote would be granted in that later term;
            // change neither term nor vote.
            Msg::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote: true,
            } => {
                let refused = if term <= current {
                    Some(Refusal::StaleTerm { term: current })
                } else {
                    self.log_refusal(last_log_index, last_log_term)
                };
                let term = if refused.is_none() { term } else { current };
                self.send(ctx, from, vote_reply(term, true, refused));
            }
            // §5.2, §5.4.1: one vote per term, first come first served, to a candidate whose
            // log is at least as up to date.
            Msg::RequestVote {
                term,
                last_log_index,
                last_log_term,
                pre_vote: false,
            } => {
                debug_assert!(term <= current, "a higher term was adopted above");
                let refused = if term < current {
                    Some(Refusal::StaleTerm { term: current })
                } else if let Some(voted) = self.durable.voted_for.filter(|&v| v != from) {
                    Some(Refusal::AlreadyVoted {
                        candidate: voted,
                        term: current,
                    })
                } else {
                    self.log_refusal(last_log_index, last_log_term)
                };
                if refused.is_none() {
                    self.grant_vote(ctx, from);
                }
                self.send(ctx, from, vote_reply(current, false, refused));
            }
            // Thesis §9.6: a majority of pre-votes for the next term starts a real election.
            Msg::VoteReply {
                term,
                granted: true,
                pre_vote: true,
                ..
            } if self.role == Role::PreCandidate && term == current + 1 => {
                self.count_vote(ctx, from);
            }
            // §5.2: a majority of votes in this term wins it.
            Msg::VoteReply {
                term,
                granted: true,
                pre_vote: false,
                ..
            } if self.role == Role::Candidate && term == current => {
                self.count_vote(ctx, from);
            }
            // A denial, or a vote for an election that is over.
            Msg::VoteReply { .. } => {}
            // §5.1: a request from a stale leader is rejected; the reply tells it our term.
            Msg::AppendEntries { term, .. } if term < current => {
                let reply = Msg::AppendReply {
                    term: current,
                    success: false,
                    match_index: 0,
                    round: 0,
                };
                self.send(ctx, from, reply);
            }
            // §5.2: the leader of this term; §5.3: the consistency check, then the entries.
            Msg::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
                round,
                ..
            } => {
                self.follow(ctx, from);
                let success = log::matches(&self.durable.log, prev_log_index, prev_log_term);
                let match_index = if success {
                    self.append(ctx, prev_log_index, entries, leader_commit)
                } else {
                    log::conflict_hint(&self.durable.log, prev_log_index)
                };
                let reply = Msg::AppendReply {
                    term: current,
                    success,
                    match_index,
                    round,
                };
                self.send(ctx, from, reply);
            }
            // Thesis §6.4: a follower of this term acknowledged a heartbeat round; §5.3: it
            // stores the entries up to `match_index`, or the leader must back up.
            Msg::AppendReply {
                term,
                success,
                match_index,
                round,
            } if self.role == Role::Leader && term == current => {
                if self.cfg.check_quorum {
                    self.heard.insert(from);
                }
                self.acknowledge(ctx, from, round);
                if success {
                    self.on_append_accepted(ctx, from, match_index);
                } else {
                    self.on_append_rejected(ctx, from, match_index);
                }
                self.serve_reads(ctx);
            }
            // A reply from an earlier term, or to an earlier leadership.
            Msg::AppendReply { .. } => {}
        }
        self.save(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            // Cancelled when this server became leader; a leader never stands for election.
            Timer::Election if self.role == Role::Leader => {}
            // Thesis §9.6: first find out whether an election could be won.
            Timer::Election if self.cfg.pre_vote => self.become_pre_candidate(ctx),
            // §5.2: no word from a leader for a whole election timeout.
            Timer::Election => self.become_candidate(ctx),
            Timer::Heartbeat if self.role == Role::Leader => self.send_heartbeats(ctx),
            Timer::CheckQuorum if self.role == Role::Leader && self.cfg.check_quorum => {
                self.check_quorum(ctx)
            }
            // Cancelled when this server stepped down.
            Timer::Heartbeat | Timer::CheckQuorum => {}
        }
        self.save(ctx);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest) {
        self.on_client_request(ctx, request);
        self.save(ctx);
    }
}

// ---- role changes ------------------------------------------------------------------------------

impl Raft {
    /// §5.1: follow `term` (adopting it if it is newer, with no vote cast in it yet) and
    /// `leader` if one has been heard from. A leader that steps down stops its heartbeats and
    /// starts waiting for the next leader.
    fn become_follower(&mut self, ctx: &mut Ctx<'_, Self>, term: u64, leader: Option<NodeId>) {
        debug_assert!(term >= self.term(), "terms never go back");
        if term > self.term() {
            self.durable.current_term = term;
            self.durable.voted_for = None;
            self.unsaved = true;
        }
        if self.role == Role::Leader {
            ctx.cancel_timer(Timer::Heartbeat);
            if self.cfg.check_quorum {
                ctx.cancel_timer(Timer::CheckQuorum);
            }
            self.lease = None;
            self.progress.clear();
            self.arm_election_timer(ctx);
            // Reads have no effect, so a redirect is safe; the writes this leader appended get
            // no answer at all, since they may still commit.
            for read in std::mem::take(&mut self.reads) {
                ctx.reply(read.request, Reply::NotLeader { leader });
            }
        }
        self.role = Role::Follower;
        let now = self.lease_clock(ctx);
        self.leader = leader.map(|id| KnownLeader { id, heard_at: now });
        if leader.is_some() {
            self.leader_heard_at = Some(now);
        }
        self.votes.clear();
        self.observe_role(ctx);
    }

    /// Thesis §9.6: ask for pre-votes for the next term, keeping this one.
    fn become_pre_candidate(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.role = Role::PreCandidate;
        self.start_election(ctx, self.term() + 1, true);
    }

    /// §5.2: a new term, a vote for itself, and a request for everyone else's.
    fn become_candidate(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.durable.current_term += 1;
        self.durable.voted_for = Some(self.id);
        self.unsaved = true;
        self.role = Role::Candidate;
        ctx.observe(Observation::Voted {
            term: self.term(),
            candidate: self.id,
        });
        self.start_election(ctx, self.term(), false);
    }

    /// §5.2: won `term`; §8: append a no-op of the term, and assert both at once with a
    /// heartbeat round.
    fn become_leader(&mut self, ctx: &mut Ctx<'_, Self>) {
        debug_assert_eq!(self.role, Role::Candidate);
        debug_assert!(self.term() >= 1, "term 0 has no leader");
        debug_assert_eq!(
            self.durable.voted_for,
            Some(self.id),
            "a leader voted for itself"
        );
        debug_assert!(self.has_quorum());
        self.role = Role::Leader;
        self.leader = Some(KnownLeader {
            id: self.id,
            heard_at: self.lease_clock(ctx),
        });
        self.observe_role(ctx);
        ctx.cancel_timer(Timer::Election);
        if self.cfg.check_quorum {
            self.heard.clear();
            ctx.set_timer(self.cfg.election_timeout[0].nanos(), Timer::CheckQuorum);
        }
        let lease = Lease::new(&self.peers, self.cfg.lease(), self.round + 1);
        self.lease = Some(lease);
        let next_index = log::last_index(&self.durable.log) + 1;
        self.progress = self
            .peers
            .iter()
            .map(|&peer| Progress::new(peer, next_index))
            .collect();
        self.append_own(ctx, Command::Noop);
        self.send_heartbeats(ctx);
        self.advance_commit(ctx);
    }

    /// The common part of a (pre-)election for `term`: forget the leader, vote for itself,
    /// wait a fresh random timeout, and ask everyone. A lone server wins at once.
    fn start_election(&mut self, ctx: &mut Ctx<'_, Self>, term: u64, pre_vote: bool) {
        self.leader = None;
        self.votes.clear();
        self.votes.insert(self.id);
        self.observe_role(ctx);
        self.arm_election_timer(ctx);
        let request = Msg::RequestVote {
            term,
            last_log_index: log::last_index(&self.durable.log),
            last_log_term: log::last_term(&self.durable.log),
            pre_vote,
        };
        self.broadcast(ctx, request);
        if self.has_quorum() {
            self.won(ctx);
        }
    }
}

// ---- steps -------------------------------------------------------------------------------------

impl Raft {
    /// The term that makes this server step down, if `msg` carries one above its own. Three
    /// kinds of message carry a higher term without claiming it: a pre-vote request (thesis
    /// §9.6), a granted pre-vote (it echoes the term asked about), and a vote request ignored
    /// under stickiness (thesis §4.2.3).
    fn newer_term_in(&self, msg: &Msg, now: LocalNanos) -> Option<u64> {
        let term = match *msg {
            Msg::RequestVote { pre_vote: true, .. } => return None,
            Msg::RequestVote { .. } if self.hears_a_leader(now) => return None,
            Msg::VoteReply {
                granted: true,
                pre_vote: true,
                ..
            } => return None,
            Msg::RequestVote { term, .. }
            | Msg::VoteReply { term, .. }
            | Msg::AppendEntries { term, .. }
            | Msg::AppendReply { term, .. } => term,
        };
        (term > self.term()).then_some(term)
    }

    /// Thesis §4.2.3: heard from a leader within the minimum election timeout, on this server's
    /// own clock — a leader of an earlier term too, since a newer term learned from a
    /// candidate's message does not cancel the vote this server promised that leader's lease.
    /// A leader has heard from itself. A server that started less than a
    /// minimum election timeout ago counts as having heard from one: before a crash it may
    /// have acknowledged a leader's lease round, and the lease relies on that acknowledgement
    /// keeping its vote for a whole minimum election timeout, crash or not.
    fn hears_a_leader(&self, now: LocalNanos) -> bool {
        let min = self.cfg.election_timeout[0].as_local();
        let recent = |at: LocalNanos| now.saturating_sub(at) < min;
        self.cfg.vote_stickiness
            && (self.role == Role::Leader
                || self.leader_heard_at.is_some_and(recent)
                || self.started_at.is_some_and(recent))
    }

    /// Who this server heard from as leader recently, for a refusal under stickiness: itself
    /// if it leads, the known leader if heard within the minimum election timeout, `None` if
    /// it is only its own recent start, or a leader of an earlier term, that keeps it loyal.
    fn recent_leader(&self, now: LocalNanos) -> Option<NodeId> {
        let min = self.cfg.election_timeout[0].as_local();
        match self.leader {
            _ if self.role == Role::Leader => Some(self.id),
            Some(l) if now.saturating_sub(l.heard_at) < min => Some(l.id),
            _ => None,
        }
    }

    /// §5.4.1: the refusal owed to a candidate whose last entry is (`index`, `term`), if its
    /// log is behind this one.
    fn log_refusal(&self, index: u64, term: u64) -> Option<Refusal> {
        let log = &self.durable.log;
        (!log::is_up_to_date(log, index, term)).then(|| Refusal::LogBehind {
            candidate_index: index,
            candidate_term: term,
            voter_index: log::last_index(log),
            voter_term: log::last_term(log),
        })
    }

    /// Check-quorum (thesis §6.2): a leader that heard from no majority, itself included,
    /// since it last counted steps down in its own term; otherwise it counts afresh.
    fn check_quorum(&mut self, ctx: &mut Ctx<'_, Self>) {
        if (self.heard.len() + 1) * 2 > self.peers.len() + 1 {
            self.heard.clear();
            ctx.set_timer(self.cfg.election_timeout[0].nanos(), Timer::CheckQuorum);
        } else {
            self.become_follower(ctx, self.term(), None);
        }
    }

    /// §5.2: record the vote durably (it is persisted before the reply goes out) and give the
    /// candidate a full election timeout to win. Every grant is observed, for `one_vote_per_term`.
    fn grant_vote(&mut self, ctx: &mut Ctx<'_, Self>, candidate: NodeId) {
        debug_assert!(
            self.durable.voted_for.is_none_or(|v| v == candidate),
            "one vote per term"
        );
        ctx.observe(Observation::Voted {
            term: self.term(),
            candidate,
        });
        if self.durable.voted_for.is_none() {
            self.durable.voted_for = Some(candidate);
            self.unsaved = true;
        }
        self.arm_election_timer(ctx);
    }

    fn count_vote(&mut self, ctx: &mut Ctx<'_, Self>, voter: NodeId) {
        self.votes.insert(voter);
        if self.has_quorum() {
            self.won(ctx);
        }
    }

    /// A majority of pre-votes leads to a real election; a majority of votes to leadership.
    fn won(&mut self, ctx: &mut Ctx<'_, Self>) {
        match self.role {
            Role::PreCandidate => self.become_candidate(ctx),
            Role::Candidate => self.become_leader(ctx),
            role => unreachable!("a {} counted votes", role.name()),
        }
    }

    /// §5.2: `leader` leads the current term. Follow it and wait a full timeout before doubting it.
    fn follow(&mut self, ctx: &mut Ctx<'_, Self>, leader: NodeId) {
        self.become_follower(ctx, self.term(), Some(leader));
        self.arm_election_timer(ctx);
    }

    /// Thesis §6.4: `peer` acknowledged `round` of this leadership.
    fn acknowledge(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId, round: u64) {
        let now = self.lease_clock(ctx);
        let until = self.lease_mut().acked(peer, round, now);
        self.claim_authority(ctx, until);
    }
}

// ---- plumbing ----------------------------------------------------------------------------------

/// A vote reply; granted unless `refused` says why not.
fn vote_reply(term: u64, pre_vote: bool, refused: Option<Refusal>) -> Msg {
    Msg::VoteReply {
        term,
        granted: refused.is_none(),
        pre_vote,
        refused,
    }
}

impl Raft {
    /// What the clock the lease and vote stickiness are measured on reads (`lease_clock`).
    fn lease_clock(&self, ctx: &Ctx<'_, Self>) -> LocalNanos {
        ctx.clock(self.cfg.lease_clock)
    }

    fn arm_election_timer(&mut self, ctx: &mut Ctx<'_, Self>) {
        let [min, max] = self.cfg.election_timeout;
        let after = ctx.rng().between(min.nanos(), max.nanos());
        ctx.set_timer(after, Timer::Election);
    }

    fn has_quorum(&self) -> bool {
        self.votes.len() * 2 > self.peers.len() + 1
    }

    fn lease_mut(&mut self) -> &mut Lease {
        self.lease.as_mut().expect("a leader has a lease")
    }

    fn claim_authority(&mut self, ctx: &mut Ctx<'_, Self>, until: Option<LocalNanos>) {
        if let Some(until) = until {
            debug_assert_eq!(self.role, Role::Leader);
            ctx.observe(Observation::Authority {
                term: self.term(),
                until: Some(until),
                clock: self.cfg.lease_clock,
            });
        }
    }

    /// Observes (role, term) if it changed since it was last observed.
    fn observe_role(&mut self, ctx: &mut Ctx<'_, Self>) {
        let now = (self.role, self.term());
        if self.observed == Some(now) {
            return;
        }
        debug_assert!(self.observed.is_none_or(|(_, term)| term <= now.1));
        self.observed = Some(now);
        ctx.observe(Observation::Role {
            role: now.0,
            term: now.1,
        });
    }

    fn send(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        self.save(ctx);
        ctx.send(to, msg);
    }

    fn broadcast(&mut self, ctx: &mut Ctx<'_, Self>, msg: Msg) {
        self.save(ctx);
        ctx.broadcast(msg);
    }
}

// ---- accessors for tests and reports -------------------------------------------------------------

impl Raft {
    /// This server's role: follower, candidate (or pre-candidate) or leader.
    pub fn role(&self) -> Role {
        self.role
    }

    /// currentTerm: the latest term this server has seen (persistent state).
    pub fn term(&self) -> u64 {
        self.durable.current_term
    }

    /// The leader of the current term, if this server has heard from one (itself, if leading).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader.map(|l| l.id)
    }

    /// votedFor: the candidate this server voted for in its current term, if any (persistent
    /// state).
    pub fn voted_for(&self) -> Option<NodeId> {
        self.durable.voted_for
    }

    /// log[]: this server's log entries, index 1 first (persistent state).
    pub fn log(&self) -> &[Entry] {
        &self.durable.log
    }

    /// commitIndex: the highest log index this server knows to be committed (volatile state).
    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }

    /// The end of the leader's lease on its own `lease_clock`, as last claimed (`None` unless
    /// leading with a lease).
    pub fn lease_until(&self) -> Option<LocalNanos> {
        self.lease.as_ref().and_then(Lease::until)
    }
}
