//! A log of decisions by Paxos: proposers handed a stream of client commands get each chosen
//! in the next instance of a replicated log, and the run counts what each decision costs in
//! messages and round trips (seed text 003, 「3.3 Paxos算法」: Paxos's coordination costs
//! performance; the phases as in 004, 「2.3.3 Paxos 协议」).
//!
//! **`design = "classic"`.** Every instance is a single-decree Paxos of its own: for each
//! command the proposer begins phase 1 with a fresh ballot (`Prepare`/`Promise`, one round
//! trip), then phase 2 (`Accept`/`Accepted`, a second one): with N acceptors, 4(N-1)
//! messages per decision when nothing is lost, and two round trips before the proposer knows.
//!
//! **`design = "multi"`.** Multi-Paxos: a proposer runs phase 1 once, for the first instance
//! it does not know to be chosen *and every later one*, and then, as the distinguished leader,
//! only phase 2 per command: 2(N-1) messages and one round trip per decision, the floor a
//! replica's answer costs anyway. The promises report what each acceptor accepted in every
//! instance covered; the leader proposes again the highest-ballot value of each (a no-op in a
//! gap), then its own commands. A leader that is preempted (a `Nack`, or its own acceptor
//! promising a higher ballot: another proposer took over) or hears no majority in
//! `retry_timeout` falls back to phase 1, after a random backoff when preempted.
//!
//! Either way an acceptor keeps one promised ballot for every instance (as Multi-Paxos
//! acceptors do; for `classic` a promise wider than needed, which is safe) and per instance
//! its last accepted proposal, on disk before it answers. The proposer is the distinguished
//! learner: acceptors tell it alone (`Accepted`). A proposer has one instance in flight at a
//! time, so every instance below the one it proposes in is chosen.
//!
//! Facts ([`Fact`]): `Took`, `Began`, `Proposed`, `Accepted`, `Chosen`, `Sent`. Invariants
//! ([`invariants`]): `agreement`, `validity`, `median_decision_within D`.

pub mod invariants;
mod messages;
pub(crate) mod section;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Ballot;
use crate::node::{
    ConfigError, Ctx, DiskOf, Duration, Nanos, NodeId, Protocol, ProtocolInvariant, SectionBuilder,
};

pub use messages::{Cmd, Durable, Fact, Msg, Slot, Timer};

// ---- configuration ------------------------------------------------------------------------

/// `[protocol]` settings of `paxos-log`.
///
/// ```
/// use sim::protocols::paxos::log::{Design, PaxosLogConfig};
/// let config: PaxosLogConfig = toml::from_str("design = \"classic\"\ncommands = 5").unwrap();
/// assert_eq!((config.design, config.commands), (Design::Classic, 5));
/// assert_eq!(config.proposers, [0], "the first node proposes unless told otherwise");
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
#[schemars(description = "`[protocol]` settings of `paxos-log`.")]
pub struct PaxosLogConfig {
    /// `multi` (the default): phase 1 once per leader, then phase 2 alone per command;
    /// `classic`: both phases for every command.
    pub design: Design,
    /// The nodes that propose, as indices in `[cluster] nodes`; every node accepts. Only the
    /// first node when left out: one distinguished proposer.
    pub proposers: Vec<u32>,
    /// When each proposer's client hands it its first command, one duration per proposer in
    /// the order of `proposers`; left out, at once.
    pub propose_at: Vec<Duration>,
    /// How many commands each proposer's client hands it.
    pub commands: u32,
    /// The time between two commands handed to one proposer.
    pub every: Duration,
    /// The window `[initial, max]` a preempted proposer draws its wait from before it runs
    /// phase 1 again; it doubles per preemption, up to the maximum.
    pub backoff: [Duration; 2],
    /// A phase that has heard no majority after this long starts over with a higher ballot.
    pub retry_timeout: Duration,
}

impl Default for PaxosLogConfig {
    fn default() -> Self {
        PaxosLogConfig {
            design: Design::Multi,
            proposers: vec![0],
            propose_at: Vec::new(),
            commands: 20,
            every: Duration::from_millis(50),
            backoff: [Duration::from_millis(20), Duration::from_secs(1)],
            retry_timeout: Duration::from_millis(200),
        }
    }
}

/// How many phases each decision runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Design {
    /// Every command runs both phases with a fresh ballot.
    Classic,
    /// Multi-Paxos: phase 1 once for every later instance, then phase 2 per command.
    Multi,
}

impl PaxosLogConfig {
    /// When proposer `id`'s first command arrives, if `id` proposes.
    fn start_of(&self, id: NodeId) -> Option<Nanos> {
        let i = self.proposers.iter().position(|&p| p == id.0)?;
        Some(self.propose_at.get(i).map_or(0, |d| d.nanos()))
    }

    /// The backoff window after `preemptions` preemptions (≥ 1).
    fn window(&self, preemptions: u32) -> Nanos {
        let [initial, max] = self.backoff;
        let doublings = preemptions.saturating_sub(1).min(32);
        initial
            .nanos()
            .saturating_mul(1u64 << doublings)
            .min(max.nanos())
    }
}

fn validate(cfg: &PaxosLogConfig, cluster_size: usize) -> Result<(), ConfigError> {
    if cfg.proposers.is_empty() {
        return Err(ConfigError::new(
            "proposers",
            "must name at least one node (leave proposers out for the first node)",
        ));
    }
    if let Some(bad) = cfg.proposers.iter().find(|&&i| i as usize >= cluster_size) {
        return Err(ConfigError::new(
            "proposers",
            format!(
                "must hold indices of nodes of [cluster] nodes, 0 to {} (got {bad})",
                cluster_size - 1
            ),
        ));
    }
    let mut sorted = cfg.proposers.clone();
    sorted.sort();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(ConfigError::new(
            "proposers",
            format!("names node {} twice", w[0]),
        ));
    }
    if !cfg.propose_at.is_empty() && cfg.propose_at.len() != cfg.proposers.len() {
        return Err(ConfigError::new(
            "propose_at",
            format!(
                "must give one time per proposer ({}), in the order of proposers (got {})",
                cfg.proposers.len(),
                cfg.propose_at.len()
            ),
        ));
    }
    if cfg.commands == 0 {
        return Err(ConfigError::new("commands", "must be at least 1 (got 0)"));
    }
    if cfg.every.nanos() == 0 {
        return Err(ConfigError::new(
            "every",
            "must be greater than zero (got 0s)",
        ));
    }
    super::config::retrying(cfg.backoff, cfg.retry_timeout)
}

// ---- the proposer's state -----------------------------------------------------------------

/// What a proposer is doing.
#[derive(Debug)]
enum Phase {
    /// Nothing to do, or about to begin phase 1.
    Idle,
    /// Waiting out a backoff after a preemption: arrivals wait too.
    Backoff,
    /// Phase 1: the promises heard so far, with the slots each reported.
    Preparing {
        ballot: Ballot,
        promises: BTreeMap<NodeId, Vec<Slot>>,
    },
    /// Promised by a majority: proposes with `ballot`, the values phase 1 found first, one
    /// instance at a time.
    Leading {
        ballot: Ballot,
        /// Instances phase 1 found a value accepted in (or a gap below one): proposed again
        /// before any new command.
        backlog: BTreeMap<u64, Cmd>,
        /// The instance proposed in, its value, and the acceptors that accepted it so far.
        in_flight: Option<(u64, Cmd, BTreeSet<NodeId>)>,
    },
}

/// A proposer, which is also the distinguished learner of its own proposals.
#[derive(Debug)]
struct Proposer {
    /// Commands its client has handed it so far.
    arrived: u32,
    /// Its first command not yet known to be in the log.
    own_next: u32,
    /// The highest of its commands it stated `Took` for, plus one.
    took: u32,
    /// The first instance it does not know to be chosen.
    next: u64,
    phase: Phase,
    /// Preemptions since its last phase 1 succeeded: sizes the backoff window.
    preemptions: u32,
    /// Phase-1 and phase-2 rounds run since its last decision: charged to the next one.
    prepares: u32,
    accepts: u32,
}

impl Proposer {
    fn ballot(&self) -> Option<Ballot> {
        match &self.phase {
            Phase::Preparing { ballot, .. } | Phase::Leading { ballot, .. } => Some(*ballot),
            Phase::Idle | Phase::Backoff => None,
        }
    }

    /// Notes one of its own commands found in the log (chosen, or about to be proposed
    /// again): never take it up again.
    fn saw(&mut self, id: NodeId, value: Cmd) {
        if let Cmd::Command { by, seq } = value
            && by == id
        {
            self.own_next = self.own_next.max(seq + 1);
        }
    }
}

// ---- the node -----------------------------------------------------------------------------

/// One node of a Paxos log: an acceptor, and a proposer if `proposers` names it.
#[derive(Debug)]
pub struct PaxosLog {
    id: NodeId,
    config: PaxosLogConfig,
    /// Every node, in cluster order: all accept.
    acceptors: Vec<NodeId>,
    quorum: usize,
    /// The highest round this node's proposer began (persisted) or saw.
    round: u64,
    promised: Option<Ballot>,
    accepted: BTreeMap<u64, (Ballot, Cmd)>,
    proposer: Option<Proposer>,
    /// Messages sent in the current step, stated as one `Sent` fact at its end.
    sent: u32,
}

impl PaxosLog {
    fn durable(&self) -> Durable {
        Durable {
            promised: self.promised,
            accepted: self.accepted.clone(),
            round: self.round,
        }
    }

    /// Sends `msg` to `to`, or hands it to this node's own roles at once.
    fn send(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: Msg) {
        if to == self.id {
            self.handle(ctx, to, msg);
        } else {
            self.sent += 1;
            ctx.send(to, msg);
        }
    }

    /// Sends `msg` to every acceptor, this node's own last.
    fn send_acceptors(&mut self, ctx: &mut Ctx<'_, Self>, msg: Msg) {
        for n in self.acceptors.clone() {
            if n != self.id {
                self.sent += 1;
                ctx.send(n, msg.clone());
            }
        }
        self.handle(ctx, self.id, msg);
    }

    /// Ends a step: states how many messages it sent.
    fn flush(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.sent > 0 {
            ctx.fact(Fact::Sent {
                messages: self.sent,
            });
            self.sent = 0;
        }
    }

    /// States `Took` for the proposer's next command the first time it works on it.
    fn took(&mut self, ctx: &mut Ctx<'_, Self>) {
        let id = self.id;
        let Some(p) = self.proposer.as_mut() else {
            return;
        };
        if p.own_next < p.arrived && p.took <= p.own_next {
            p.took = p.own_next + 1;
            ctx.fact(Fact::Took {
                value: Cmd::Command {
                    by: id,
                    seq: p.own_next,
                },
            });
        }
    }

    /// Does the next thing the proposer can: begin phase 1 when it has work and no ballot, or
    /// propose the next value when it leads and nothing is in flight.
    fn work(&mut self, ctx: &mut Ctx<'_, Self>) {
        let id = self.id;
        let Some(p) = self.proposer.as_mut() else {
            return;
        };
        match &mut p.phase {
            Phase::Backoff | Phase::Preparing { .. } => {}
            Phase::Idle => {
                if p.own_next < p.arrived {
                    self.begin(ctx);
                }
            }
            Phase::Leading {
                ballot,
                backlog,
                in_flight,
            } => {
                if in_flight.is_some() {
                    return;
                }
                let ballot = *ballot;
                let instance = p.next;
                debug_assert!(
                    backlog.keys().all(|&i| i >= instance),
                    "the backlog holds no instance already known chosen"
                );
                let value = match backlog.remove(&instance) {
                    Some(v) => v,
                    None if p.own_next < p.arrived => Cmd::Command {
                        by: id,
                        seq: p.own_next,
                    },
                    None => {
                        if self.config.design == Design::Classic {
                            // A classic proposer holds no leadership between decisions.
                            p.phase = Phase::Idle;
                        }
                        return;
                    }
                };
                *in_flight = Some((instance, value, BTreeSet::new()));
                p.accepts += 1;
                self.took(ctx);
                ctx.fact(Fact::Proposed {
                    ballot,
                    instance,
                    value,
                });
                ctx.set_timer(self.config.retry_timeout.nanos(), Timer::Retry);
                self.send_acceptors(
                    ctx,
                    Msg::Accept {
                        ballot,
                        instance,
                        value,
                    },
                );
            }
        }
    }

    /// Begins phase 1 with a ballot higher than any seen: the round on disk first.
    fn begin(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.proposer.is_none() {
            return;
        }
        self.round += 1;
        let ballot = Ballot {
            round: self.round,
            proposer: self.id,
        };
        let instance = {
            let p = self.proposer.as_mut().expect("checked above");
            p.phase = Phase::Preparing {
                ballot,
                promises: BTreeMap::new(),
            };
            p.prepares += 1;
            p.next
        };
        self.took(ctx);
        ctx.persist(self.durable());
        ctx.fact(Fact::Began { ballot, instance });
        ctx.set_timer(self.config.retry_timeout.nanos(), Timer::Retry);
        self.send_acceptors(ctx, Msg::Prepare { ballot, instance });
    }

    /// A ballot `higher` than this proposer's exists: it gives its own up and backs off.
    fn preempted(&mut self, ctx: &mut Ctx<'_, Self>, higher: Ballot) {
        self.round = self.round.max(higher.round);
        let Some(p) = self.proposer.as_mut() else {
            return;
        };
        match p.ballot() {
            Some(mine) if higher > mine => {}
            _ => return,
        }
        p.phase = Phase::Backoff;
        p.preemptions += 1;
        let window = self.config.window(p.preemptions);
        let wait = ctx.rng().between(0, window);
        ctx.set_timer(wait, Timer::Retry);
    }

    /// Phase 1 heard a majority: what the promises reported becomes the backlog.
    fn promised_by_majority(&mut self, ctx: &mut Ctx<'_, Self>) {
        let id = self.id;
        let classic = self.config.design == Design::Classic;
        let Some(p) = self.proposer.as_mut() else {
            return;
        };
        let Phase::Preparing { ballot, promises } = &p.phase else {
            return;
        };
        let ballot = *ballot;
        // Per instance, the value of the highest ballot any promise reports.
        let mut best: BTreeMap<u64, (Ballot, Cmd)> = BTreeMap::new();
        for s in promises.values().flatten() {
            if s.instance < p.next || (classic && s.instance != p.next) {
                continue;
            }
            let e = best.entry(s.instance).or_insert((s.ballot, s.value));
            if s.ballot > e.0 {
                *e = (s.ballot, s.value);
            }
        }
        let mut backlog = BTreeMap::new();
        if let Some(&last) = best.keys().next_back() {
            for i in p.next..=last {
                backlog.insert(i, best.get(&i).map_or(Cmd::Noop, |e| e.1));
            }
        }
        for &v in backlog.values() {
            p.saw(id, v);
        }
        p.phase = Phase::Leading {
            ballot,
            backlog,
            in_flight: None,
        };
        p.preemptions = 0;
        ctx.cancel_timer(Timer::Retry);
        self.work(ctx);
    }

    /// A proposal of this node's proposer was accepted by a majority.
    fn chosen(&mut self, ctx: &mut Ctx<'_, Self>, ballot: Ballot, instance: u64, value: Cmd) {
        let id = self.id;
        let classic = self.config.design == Design::Classic;
        let Some(p) = self.proposer.as_mut() else {
            return;
        };
        debug_assert_eq!(instance, p.next, "one instance in flight: the next one");
        p.next = instance + 1;
        p.saw(id, value);
        ctx.fact(Fact::Chosen {
            ballot,
            instance,
            value,
            prepares: p.prepares,
            accepts: p.accepts,
        });
        debug_assert!(p.accepts >= 1, "a value is chosen only through phase 2");
        p.prepares = 0;
        p.accepts = 0;
        if let Phase::Leading { in_flight, .. } = &mut p.phase {
            *in_flight = None;
        }
        if classic {
            p.phase = Phase::Idle;
        }
        ctx.cancel_timer(Timer::Retry);
        self.work(ctx);
    }

    fn handle(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { ballot, instance } => {
                self.round = self.round.max(ballot.round);
                if self.promised.is_some_and(|q| ballot < q) {
                    let promised = self.promised.expect("checked");
                    self.send(ctx, from, Msg::Nack { ballot, promised });
                    return;
                }
                if self.promised != Some(ballot) {
                    self.promised = Some(ballot);
                    ctx.persist(self.durable());
                }
                let covers = |i: u64| match self.config.design {
                    Design::Classic => i == instance,
                    Design::Multi => i >= instance,
                };
                let accepted = self
                    .accepted
                    .range(instance..)
                    .filter(|(i, _)| covers(**i))
                    .map(|(&instance, &(ballot, value))| Slot {
                        instance,
                        ballot,
                        value,
                    })
                    .collect();
                self.send(
                    ctx,
                    from,
                    Msg::Promise {
                        ballot,
                        instance,
                        accepted,
                    },
                );
                if ballot.proposer != self.id {
                    self.preempted(ctx, ballot);
                }
            }
            Msg::Accept {
                ballot,
                instance,
                value,
            } => {
                self.round = self.round.max(ballot.round);
                if self.promised.is_some_and(|q| ballot < q) {
                    let promised = self.promised.expect("checked");
                    self.send(ctx, from, Msg::Nack { ballot, promised });
                    return;
                }
                let fresh = self.accepted.get(&instance) != Some(&(ballot, value));
                if let Some(&(before, other)) = self.accepted.get(&instance) {
                    debug_assert!(
                        before < ballot || other == value,
                        "one ballot proposes one value per instance"
                    );
                }
                self.promised = Some(ballot);
                if fresh {
                    self.accepted.insert(instance, (ballot, value));
                    ctx.persist(self.durable());
                    ctx.fact(Fact::Accepted {
                        ballot,
                        instance,
                        value,
                        quorum: self.quorum as u32,
                    });
                }
                self.send(
                    ctx,
                    from,
                    Msg::Accepted {
                        ballot,
                        instance,
                        value,
                    },
                );
                if ballot.proposer != self.id {
                    self.preempted(ctx, ballot);
                }
            }
            Msg::Promise {
                ballot, accepted, ..
            } => {
                let quorum = self.quorum;
                let Some(p) = self.proposer.as_mut() else {
                    return;
                };
                let Phase::Preparing {
                    ballot: mine,
                    promises,
                } = &mut p.phase
                else {
                    return;
                };
                if *mine != ballot {
                    return;
                }
                promises.insert(from, accepted);
                if promises.len() == quorum {
                    self.promised_by_majority(ctx);
                }
            }
            Msg::Accepted {
                ballot,
                instance,
                value,
            } => {
                let quorum = self.quorum;
                let Some(p) = self.proposer.as_mut() else {
                    return;
                };
                let Phase::Leading {
                    ballot: mine,
                    in_flight: Some((i, v, acks)),
                    ..
                } = &mut p.phase
                else {
                    return;
                };
                if *mine != ballot || *i != instance {
                    return;
                }
                debug_assert_eq!(*v, value, "an acceptor accepts what was proposed");
                acks.insert(from);
                if acks.len() == quorum {
                    self.chosen(ctx, ballot, instance, value);
                }
            }
            Msg::Nack { ballot, promised } => {
                debug_assert!(promised > ballot, "a refusal names a higher ballot");
                let mine = self.proposer.as_ref().and_then(Proposer::ballot);
                if mine == Some(ballot) {
                    self.preempted(ctx, promised);
                } else {
                    self.round = self.round.max(promised.round);
                }
            }
        }
    }
}

impl Protocol for PaxosLog {
    const NAME: &'static str = "paxos-log";
    const SUMMARY: &'static str = "Paxos deciding a log of client commands: classic (both \
        phases per command) or Multi-Paxos (phase 1 once per leader, then one round trip per \
        command); reports messages and round trips per decision";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["agreement", "validity"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = PaxosLogConfig;
    type Durable = Durable;
    type Api = crate::node::Kv;
    type Fact = Fact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            invariants::agreement(),
            invariants::validity(),
            invariants::median_decision_within(),
        ]
    }

    fn validate(config: &PaxosLogConfig, cluster_size: usize) -> Result<(), ConfigError> {
        validate(config, cluster_size)
    }

    fn report_sections(_nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(section::Cost::default())]
    }

    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let name = |n: NodeId| names.get(n.0 as usize).map_or("?", String::as_str);
        let ballot = |b: Ballot| format!("{}.{}", b.round, name(b.proposer));
        let mut lines = vec![
            format!("round       {}", self.round),
            format!(
                "acceptor    promised {}, {} instance(s) accepted",
                self.promised.map_or("nothing".to_string(), ballot),
                self.accepted.len()
            ),
        ];
        if let Some(p) = &self.proposer {
            let phase = match &p.phase {
                Phase::Idle => "idle".to_string(),
                Phase::Backoff => "backing off".to_string(),
                Phase::Preparing {
                    ballot: b,
                    promises,
                } => {
                    format!("phase 1 of {} ({} promise(s))", ballot(*b), promises.len())
                }
                Phase::Leading { ballot: b, .. } => format!("leading with {}", ballot(*b)),
            };
            lines.push(format!(
                "proposer    {phase}; next instance {}, {} of {} command(s) handed, next own {}",
                p.next, p.arrived, self.config.commands, p.own_next
            ));
        }
        lines
    }

    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &PaxosLogConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let size = peers.len() + 1;
        let state = disk.map(|d| d.state.clone()).unwrap_or_default();
        PaxosLog {
            id,
            config: config.clone(),
            acceptors: (0..size as u32).map(NodeId).collect(),
            quorum: size / 2 + 1,
            round: state.round,
            promised: state.promised,
            accepted: state.accepted,
            proposer: config.start_of(id).map(|_| Proposer {
                arrived: 0,
                own_next: 0,
                took: 0,
                next: 0,
                phase: Phase::Idle,
                preemptions: 0,
                prepares: 0,
                accepts: 0,
            }),
            sent: 0,
        }
    }

    /// A proposer counts the commands its client has handed it by now (all of those due,
    /// after a restart) and waits for the next.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(start) = self.config.start_of(self.id) else {
            return;
        };
        let now = u64::try_from(ctx.monotonic()).unwrap_or(0);
        let every = self.config.every.nanos();
        let commands = self.config.commands;
        let p = self.proposer.as_mut().expect("a proposer has a start");
        if now < start {
            ctx.set_timer(start - now, Timer::Arrive);
            return;
        }
        let due = (now - start) / every + 1;
        p.arrived = u32::try_from(due).unwrap_or(u32::MAX).min(commands);
        if p.arrived < commands {
            let next_at = start + u64::from(p.arrived) * every;
            ctx.set_timer(next_at - now, Timer::Arrive);
        }
        self.work(ctx);
        self.flush(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.handle(ctx, from, msg);
        self.flush(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        let commands = self.config.commands;
        let every = self.config.every.nanos();
        let Some(p) = self.proposer.as_mut() else {
            return;
        };
        match timer {
            Timer::Arrive => {
                p.arrived = (p.arrived + 1).min(commands);
                if p.arrived < commands {
                    ctx.set_timer(every, Timer::Arrive);
                }
                self.work(ctx);
            }
            Timer::Retry => match &p.phase {
                Phase::Backoff => {
                    p.phase = Phase::Idle;
                    self.work(ctx);
                }
                Phase::Idle => self.work(ctx),
                // No majority in time: start over, higher.
                Phase::Preparing { .. }
                | Phase::Leading {
                    in_flight: Some(_), ..
                } => self.begin(ctx),
                Phase::Leading {
                    in_flight: None, ..
                } => {}
            },
        }
        self.flush(ctx);
    }
}
