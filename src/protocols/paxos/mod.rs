//! Single-decree Paxos: proposers, acceptors and learners choose one value among those the
//! proposers were handed, whatever the network and crashes do (seed text 004, 「2.3.3 Paxos
//! 协议」; text 003's 「3.3 Paxos算法」 lists the same steps in a garbled order, so this follows
//! 004's 「两阶段决定」).
//!
//! **Phase 1.** A proposer picks a ballot higher than any it has seen (a round, with its own
//! id breaking ties) and sends `Prepare` to every acceptor. An acceptor that has promised
//! nothing higher promises this ballot — to ignore every lower one from now on — and answers
//! `Promise` with the last value it accepted, if any; otherwise it answers `Nack` naming the
//! higher ballot it promised.
//!
//! **Phase 2.** Promised by a majority, the proposer sends `Accept` with the value of the
//! highest ballot the promises report accepted — its own value only when none does (this is
//! what keeps a chosen value chosen). An acceptor accepts unless it promised a higher ballot,
//! and tells the ballot's proposer and every learner (`Accepted`). A value accepted by a
//! majority in one ballot is **chosen**; a learner learns it when it hears that majority.
//!
//! **Preemption and retry.** A proposer hears that a higher ballot exists from a `Nack`, or —
//! sharing its node with an acceptor — the moment that acceptor promises another proposer's
//! higher ballot. It then begins a new, higher ballot: at once (`retry = "immediate"`, which
//! lets two proposers preempt each other forever: the duelling proposers), or after a random
//! wait whose window doubles per preemption (`retry = "backoff"`). A ballot that hears nothing
//! for `retry_timeout` is begun again. A proposer stops once one of its ballots is accepted by
//! a majority.
//!
//! **Crashes.** An acceptor writes its promise and accepted proposal to disk before it answers,
//! and a proposer its round before it sends a `Prepare`; everything else is volatile. A
//! restarted proposer begins again and, told by the promises, proposes the value already
//! chosen. `broken = "forgetful-acceptor"` keeps the acceptor's state in memory only;
//! `broken = "ignore-accepted"` has proposers ignore what the promises report.
//!
//! Facts ([`Fact`]): `Began`, `Promised`, `Proposed`, `Accepted`, `Learned`. Invariants
//! ([`invariants`]): `agreement`, `validity`, `decided_within D`.

mod config;
pub mod invariants;
pub mod log;
mod messages;
pub(crate) mod metrics;
mod narrate;
mod roles;
mod section;

#[cfg(test)]
mod tests;

use crate::node::{ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, SectionBuilder};

pub use config::{Broken, PaxosConfig, Retry};
pub use messages::{Ballot, Durable, Fact, Msg, Timer, Value};

use roles::{Acceptor, Learner, Proposer};

/// One Paxos node: a proposer, an acceptor and a learner, or any of the three.
#[derive(Debug)]
pub struct Paxos {
    id: NodeId,
    config: PaxosConfig,
    /// Every acceptor, in cluster order.
    acceptors: Vec<NodeId>,
    /// Every learner, in cluster order.
    learners: Vec<NodeId>,
    /// A majority of the acceptors.
    quorum: usize,
    /// The highest round this node's proposer began (persisted) or saw.
    round: u64,
    proposer: Option<Proposer>,
    acceptor: Option<Acceptor>,
    learner: Option<Learner>,
}

impl Paxos {
    /// The value this node has learned, if it is a learner that has.
    ///
    /// ```
    /// use sim::node::{NodeId, Protocol};
    /// use sim::protocols::paxos::{Paxos, PaxosConfig};
    /// let node = Paxos::new(NodeId(0), &[NodeId(1), NodeId(2)], &PaxosConfig::default(), None);
    /// assert_eq!(node.learned(), None);
    /// ```
    pub fn learned(&self) -> Option<(Ballot, Value)> {
        self.learner.as_ref().and_then(|l| l.learned)
    }

    /// What the disk must hold now.
    fn durable(&self) -> Durable {
        let (promised, accepted) = match &self.acceptor {
            Some(a) if self.config.broken != Broken::ForgetfulAcceptor => (a.promised, a.accepted),
            _ => (None, None),
        };
        Durable {
            promised,
            accepted,
            round: self.round,
        }
    }

    /// Sends `msg` to `to`, or hands it to this node's own roles at once when `to` is itself:
    /// roles sharing a node talk through memory, not the network.
    fn send(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        if to == self.id {
            self.handle(ctx, to, msg);
        } else {
            ctx.send(to, msg);
        }
    }

    /// Sends `msg` to each of `to` (in cluster order), this node's own roles last.
    fn send_all(&mut self, ctx: &mut Ctx<'_, Self>, to: &[NodeId], msg: Msg) {
        for &n in to.iter().filter(|&&n| n != self.id) {
            ctx.send(n, msg.clone());
        }
        if to.contains(&self.id) {
            self.handle(ctx, self.id, msg);
        }
    }

    /// Begins a new ballot, higher than every round seen: the round on disk first, then the
    /// `Prepare`s.
    fn begin(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(p) = self.proposer.as_mut() else {
            return;
        };
        self.round += 1;
        let ballot = Ballot {
            round: self.round,
            proposer: self.id,
        };
        p.preparing(ballot);
        ctx.persist(self.durable());
        ctx.fact(Fact::Began { ballot });
        ctx.set_timer(self.config.retry_timeout.nanos(), Timer::Propose);
        let acceptors = self.acceptors.clone();
        self.send_all(ctx, &acceptors, Msg::Prepare { ballot });
    }

    /// This node's proposer learned that `higher` outranks the ballot it is working on.
    fn preempted(&mut self, ctx: &mut Ctx<'_, Self>, higher: Ballot) {
        self.round = self.round.max(higher.round);
        let Some(p) = self.proposer.as_mut() else {
            return;
        };
        if !p.preempted_by(higher) {
            return;
        }
        match self.config.retry {
            Retry::Immediate => self.begin(ctx),
            Retry::Backoff => {
                let window = self.config.window(p.preemptions);
                let wait = ctx.rng().between(0, window);
                ctx.set_timer(wait, Timer::Propose);
            }
        }
    }

    /// One message, from another node or from this node's own roles.
    fn handle(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { ballot } => {
                self.round = self.round.max(ballot.round);
                let Some(a) = self.acceptor.as_mut() else {
                    return;
                };
                match a.on_prepare(ballot) {
                    Ok(fresh) => {
                        let accepted = a.accepted;
                        if fresh {
                            ctx.persist(self.durable());
                            ctx.fact(Fact::Promised { ballot });
                        }
                        self.send(ctx, from, Msg::Promise { ballot, accepted });
                        if ballot.proposer != self.id {
                            self.preempted(ctx, ballot);
                        }
                    }
                    Err(promised) => self.send(ctx, from, Msg::Nack { ballot, promised }),
                }
            }
            Msg::Accept { ballot, value } => {
                self.round = self.round.max(ballot.round);
                let Some(a) = self.acceptor.as_mut() else {
                    return;
                };
                match a.on_accept(ballot, value) {
                    Ok(fresh) => {
                        if fresh {
                            ctx.persist(self.durable());
                            ctx.fact(Fact::Accepted {
                                ballot,
                                value,
                                quorum: self.quorum as u32,
                            });
                        }
                        let mut to = self.learners.clone();
                        if !to.contains(&ballot.proposer) {
                            to.push(ballot.proposer);
                            to.sort();
                        }
                        self.send_all(ctx, &to, Msg::Accepted { ballot, value });
                        if ballot.proposer != self.id {
                            self.preempted(ctx, ballot);
                        }
                    }
                    Err(promised) => self.send(ctx, from, Msg::Nack { ballot, promised }),
                }
            }
            Msg::Promise { ballot, accepted } => {
                let ignore = self.config.broken == Broken::IgnoreAccepted;
                let quorum = self.quorum;
                let Some(p) = self.proposer.as_mut() else {
                    return;
                };
                if let Some((value, own)) = p.on_promise(from, ballot, accepted, quorum, ignore) {
                    ctx.fact(Fact::Proposed { ballot, value, own });
                    let acceptors = self.acceptors.clone();
                    self.send_all(ctx, &acceptors, Msg::Accept { ballot, value });
                }
            }
            Msg::Accepted { ballot, value } => {
                let quorum = self.quorum;
                if let Some(l) = self.learner.as_mut()
                    && l.on_accepted(from, ballot, value, quorum)
                {
                    ctx.fact(Fact::Learned { ballot, value });
                }
                if let Some(p) = self.proposer.as_mut()
                    && p.on_accepted(from, ballot, quorum)
                {
                    ctx.cancel_timer(Timer::Propose);
                }
            }
            Msg::Nack { ballot, promised } => {
                let current = self.proposer.as_ref().and_then(|p| p.ballot());
                if current == Some(ballot) {
                    self.preempted(ctx, promised);
                } else {
                    self.round = self.round.max(promised.round);
                }
            }
        }
    }
}

impl Protocol for Paxos {
    const NAME: &'static str = "paxos";
    const SUMMARY: &'static str = "single-decree Paxos: proposers, acceptors and learners \
        choose one value in two phases (prepare/promise, accept/accepted); retry with \
        randomized backoff or at once";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["agreement", "validity"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = PaxosConfig;
    type Durable = Durable;
    type Api = crate::node::Kv;
    type Fact = Fact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariants::agreement(),
            invariants::validity(),
            invariants::decided_within(),
        ]
    }

    fn validate(config: &PaxosConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn report_sections(_nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(section::Decision::default())]
    }

    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let name = |n: NodeId| {
            names
                .get(n.0 as usize)
                .map_or("?", String::as_str)
                .to_string()
        };
        let mut lines = vec![format!("round       {}", self.round)];
        if let Some(p) = &self.proposer {
            lines.push(format!("proposer    {}", p.describe(&name)));
        }
        if let Some(a) = &self.acceptor {
            lines.push(format!("acceptor    {}", a.describe(&name)));
        }
        if let Some(l) = &self.learner {
            lines.push(format!("learner     {}", l.describe(&name)));
        }
        lines
    }

    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &PaxosConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let size = peers.len() + 1;
        let acceptors = PaxosConfig::members(&config.acceptors, size);
        let learners = PaxosConfig::members(&config.learners, size);
        let proposers = PaxosConfig::members(&config.proposers, size);
        let state = disk.map(|d| d.state.clone()).unwrap_or_default();
        let acceptor = acceptors.contains(&id).then(|| match config.broken {
            Broken::ForgetfulAcceptor => Acceptor::default(),
            _ => Acceptor {
                promised: state.promised,
                accepted: state.accepted,
            },
        });
        Paxos {
            id,
            config: config.clone(),
            quorum: acceptors.len() / 2 + 1,
            acceptors,
            learners: learners.clone(),
            round: state.round,
            proposer: proposers.contains(&id).then(|| Proposer::new(Value(id))),
            acceptor,
            learner: learners.contains(&id).then(Learner::default),
        }
    }

    /// A proposer begins at its `propose_at` (at once when that has passed: after a restart).
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.proposer.is_some() {
            let at = self.config.start_of(self.id, ctx.cluster_size());
            let now = u64::try_from(ctx.monotonic()).unwrap_or(0);
            ctx.set_timer(at.saturating_sub(now), Timer::Propose);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.handle(ctx, from, msg);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, Timer::Propose: Timer) {
        let done = self.proposer.as_ref().is_none_or(|p| p.chosen.is_some());
        if !done {
            self.begin(ctx);
        }
    }
}
