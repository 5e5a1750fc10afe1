//! Two-phase commit on bank transfers, as the textbooks give it (Gray 1978; Bernstein, Hadzilacos
//! & Goodman, *Concurrency Control and Recovery in Database Systems*, ch. 7).
//!
//! One node coordinates (`coordinator`, node 0 by default); every other node is a participant
//! holding some of the accounts (account `i` on participant `i % participants`). A client's
//! transfer is one transaction, named by its request id:
//!
//! 1. The coordinator writes the transaction to its log, then sends `Prepare` to the participants
//!    holding the two accounts.
//! 2. Each participant checks its part without applying it: the debit must not leave the account
//!    negative, and the account must not be locked by another transaction (no-wait: it votes no
//!    rather than wait, so two transfers never wait for each other). To vote yes it locks the
//!    account, writes its vote to its log, then answers; from then on it is *prepared* and may
//!    not decide alone.
//! 3. Every vote yes → the coordinator logs commit, then sends it; any no, or a vote missing
//!    after `vote_timeout` → abort. Participants apply or roll back, release their locks, log it
//!    and acknowledge; the coordinator sends the decision again every `retry_interval` until
//!    each has.
//!
//! A participant that has not voted may still abort on its own (when asked about a transaction
//! it never prepared, it gives it up and refuses a later prepare). A prepared one that never
//! hears the decision is **in doubt**: it holds its locks and asks the coordinator every
//! `inquiry_interval` — blocked for as long as the coordinator is away. A coordinator that
//! restarts reads its log: it sends again the decisions it had logged and aborts what it had
//! not decided (nobody can have committed it).
//!
//! A read of every balance is a read-only transaction over every participant: each takes a
//! shared lock on all its accounts (refused, no-wait, if a transfer holds one), logs it and
//! answers its balances; the coordinator answers the client once all have, then releases the
//! locks with a commit. Locks held until every balance is in make the read a consistent
//! snapshot: no transfer can commit on one participant between two of the read's answers.
//!
//! The broken designs, each a lesson: `decision_log = false` (the coordinator forgets its
//! decisions in a crash and aborts what a participant may have committed),
//! `backup_coordinator = true` (a standby takes over after a silence, and a partition makes two
//! coordinators decide). `cooperative_termination = true` is sound: in-doubt participants ask
//! each other, which helps when one knows and not when all are prepared.

mod commitment;
mod config;
mod coordinator;
mod describe;
mod messages;
mod narrate;
mod participant;
mod raft_group;
mod replicated;
mod section;
#[cfg(test)]
mod tests;

pub use config::{DecisionOn, TwoPcConfig};
pub use messages::{Change, Durable, Msg, Record, Refusal, Timer, Transfer};
pub(crate) use section::TxnSection;

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, Reply,
    SectionBuilder,
};
use crate::protocols::txn::{Account, Bank, BankFact, invariants};

use coordinator::Coordinator;
use participant::Participant;
use replicated::Replicated;

/// Who does what in the cluster: the same on every node, from the config and the node list.
#[derive(Clone, Debug)]
pub(crate) struct Setup {
    cfg: TwoPcConfig,
    coordinator: NodeId,
    backup: Option<NodeId>,
    /// Who may know a decision, whom an in-doubt participant asks: the coordinator and its
    /// backup, or the replicas of the coordinator's Raft group (`decision_on = "raft"`).
    deciders: Vec<NodeId>,
    participants: Vec<NodeId>,
}

impl Setup {
    fn new(cfg: &TwoPcConfig, cluster_size: usize) -> Setup {
        let coordinator = NodeId(cfg.coordinator);
        let raft = cfg.decision_on == DecisionOn::Raft;
        let backup = (cfg.backup_coordinator && !raft)
            .then(|| NodeId((cfg.coordinator + 1) % cluster_size as u32));
        let deciders: Vec<NodeId> = if raft {
            (0..cfg.coordinators.min(cluster_size as u32))
                .map(|i| NodeId((cfg.coordinator + i) % cluster_size as u32))
                .collect()
        } else {
            std::iter::once(coordinator).chain(backup).collect()
        };
        let participants = (0..cluster_size as u32)
            .map(NodeId)
            .filter(|n| !deciders.contains(n))
            .collect();
        Setup {
            cfg: cfg.clone(),
            coordinator,
            backup,
            deciders,
            participants,
        }
    }

    /// The participant that holds `account`.
    fn holder(&self, account: Account) -> NodeId {
        self.participants[account.0 as usize % self.participants.len()]
    }

    /// The accounts `node` holds, in order.
    fn accounts_of(&self, node: NodeId) -> Vec<Account> {
        (0..self.cfg.accounts)
            .map(Account)
            .filter(|&a| self.holder(a) == node)
            .collect()
    }

    fn is_participant(&self, node: NodeId) -> bool {
        self.participants.contains(&node)
    }
}

/// A node's part.
enum Part {
    /// The coordinator, or its backup.
    Coordinator(Coordinator),
    /// A replica of the coordinator's Raft group (`decision_on = "raft"`).
    Replica(Box<Replicated>),
    /// A database node holding accounts.
    Participant(Participant),
}

/// One node of two-phase commit: the coordinator, its backup, or a participant.
pub struct TwoPhaseCommit {
    setup: Setup,
    durable: Durable,
    part: Part,
}

impl TwoPhaseCommit {
    /// The participant's balances, by account (empty on the coordinator).
    pub fn balances(&self) -> Vec<(Account, i64)> {
        match &self.part {
            Part::Participant(p) => p.balances(),
            Part::Coordinator(_) | Part::Replica(_) => Vec::new(),
        }
    }

    /// The transactions this participant is in doubt of: prepared, decision unknown.
    pub fn in_doubt(&self) -> Vec<crate::protocols::txn::TxnId> {
        match &self.part {
            Part::Participant(p) => p.in_doubt(),
            Part::Coordinator(_) | Part::Replica(_) => Vec::new(),
        }
    }
}

type C<'a, 'b> = Ctx<'a, TwoPhaseCommit>;

impl Protocol for TwoPhaseCommit {
    const NAME: &'static str = "two-phase-commit";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &[
        "atomicity",
        "conservation",
        "no_negative_balance",
        "no_double_apply",
    ];
    const SUMMARY: &'static str = "two-phase commit of bank transfers: a coordinator, participants holding accounts, locks and logs";
    type Msg = Msg;
    type Timer = Timer;
    type Config = TwoPcConfig;
    type Durable = Durable;
    type Api = Bank;
    type Fact = BankFact;
    type Record = Record;

    fn situations() -> Vec<crate::node::situation::Situation> {
        super::situations::two_phase_commit()
    }

    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        self.describe()
    }

    fn validate(config: &TwoPcConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariants::atomicity(),
            // Reads lock every account, shared, until each has answered: a snapshot, so every
            // read must sum to the total too.
            invariants::conservation_and_reads(),
            invariants::no_negative_balance(),
            invariants::no_double_apply(),
            invariants::resolved_within(),
            commitment::commit_needs_all_votes(),
        ]
    }

    fn report_sections(nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(TxnSection::new(nodes))]
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &TwoPcConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let setup = Setup::new(config, peers.len() + 1);
        let log = disk.map_or(&[][..], |d| &d.log[..]);
        let durable = disk.map_or(Durable::default(), |d| d.state);
        let part = if setup.is_participant(id) {
            Part::Participant(Participant::from_log(&setup, id, log))
        } else if setup.cfg.decision_on == DecisionOn::Raft {
            Part::Replica(Box::new(Replicated::new(&setup, id, &durable, log)))
        } else {
            let backup = Some(id) == setup.backup;
            Part::Coordinator(Coordinator::from_log(log, backup && !durable.taken_over))
        };
        TwoPhaseCommit {
            setup,
            durable,
            part,
        }
    }

    fn on_start(&mut self, ctx: &mut C<'_, '_>) {
        let first = !self.durable.started;
        if first {
            self.durable.started = true;
            ctx.persist(self.durable);
        }
        match &mut self.part {
            Part::Participant(p) => p.start(&self.setup, ctx, first),
            Part::Coordinator(c) => c.start(&self.setup, ctx),
            Part::Replica(r) => r.start(&self.setup, ctx, &mut self.durable),
        }
    }

    fn on_message(&mut self, ctx: &mut C<'_, '_>, from: NodeId, msg: Msg) {
        match &mut self.part {
            Part::Participant(p) => p.on_message(&self.setup, ctx, from, msg),
            Part::Coordinator(c) => c.on_message(&self.setup, ctx, from, msg),
            Part::Replica(r) => r.on_message(&self.setup, ctx, &mut self.durable, from, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut C<'_, '_>, timer: Timer) {
        match &mut self.part {
            Part::Participant(p) => p.on_timer(&self.setup, ctx, timer),
            Part::Coordinator(c) => {
                if c.on_timer(&self.setup, ctx, timer) {
                    self.durable.taken_over = true;
                    ctx.persist(self.durable);
                    c.take_over(&self.setup, ctx);
                }
            }
            Part::Replica(r) => r.on_timer(&self.setup, ctx, &mut self.durable, timer),
        }
    }

    fn on_request(&mut self, ctx: &mut C<'_, '_>, request: ClientRequest<Bank>) {
        match &mut self.part {
            Part::Coordinator(c) if ctx.id() == self.setup.coordinator => {
                c.on_request(&self.setup, ctx, request)
            }
            Part::Replica(r) => r.on_request(&self.setup, ctx, &mut self.durable, request),
            _ => ctx.reply(
                request.id,
                Reply::NotLeader {
                    leader: Some(self.setup.coordinator),
                },
            ),
        }
    }
}
