//! Naive master/standby fail-over: the first lesson, and the proof that split brain is real.
//!
//! Two nodes: the first is the master, the second a standby. The standby pings the master every
//! `ping_interval`; after `missed_pings` pings in a row go unanswered it promotes itself to
//! master. The old master never learns of it: it has no quorum, no lease and no fencing, so it
//! keeps acting as master while it runs. A partition between the two — or a long enough GC pause
//! of the master — leaves two masters accepting writes: split brain, which `no_split_brain`
//! catches. The standby's promotion is epoch 1 and the master's reign epoch 0, so
//! `election_safety` (one leader per term) holds while `no_split_brain` fails: numbering the
//! reigns is not enough without a quorum to enforce them.
//!
//! Observations: `Role { Master | Standby, epoch }`, and `Authority { until: None }` for as long as
//! a node is master.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{
    ClockKind, ConfigError, Ctx, DiskOf, Duration, NodeId, Observation, Protocol, Role,
};

use super::ping_watch::{self, PingWatch, Tick};

/// `[protocol]` settings of `naive-failover`.
///
/// ```
/// use sim::protocols::naive_failover::FailoverConfig;
/// let config: FailoverConfig = toml::from_str("missed_pings = 5").unwrap();
/// assert_eq!((config.ping_interval.nanos(), config.missed_pings), (100_000_000, 5));
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `naive-failover`.")]
pub struct FailoverConfig {
    /// How often the standby pings the master.
    pub ping_interval: Duration,
    /// Unanswered pings in a row after which the standby promotes itself.
    pub missed_pings: u32,
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            ping_interval: Duration::from_millis(100),
            missed_pings: 3,
        }
    }
}

/// The fail-over's two messages: the standby's liveness probe and the master's answer.
///
/// ```
/// use sim::protocols::naive_failover::FailoverMsg;
/// // As the trace holds them.
/// assert_eq!(serde_json::to_string(&FailoverMsg::Ping { seq: 3 }).unwrap(), r#"{"Ping":{"seq":3}}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FailoverMsg {
    /// The standby asks whether the master is alive.
    Ping {
        /// Numbers the standby's pings, from 1.
        seq: u64,
    },
    /// The master answers a ping.
    Pong {
        /// The `seq` of the ping answered.
        seq: u64,
    },
}

/// The fail-over's one timer.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Effect, NodeId, Protocol};
/// use sim::protocols::naive_failover::{FailoverConfig, FailoverMsg, FailoverTimer, NaiveFailover};
/// // The standby's first tick pings the master; the next, finding it unanswered, counts one miss
/// // and pings again.
/// let mut standby = NaiveFailover::new(NodeId(1), &[NodeId(0)], &FailoverConfig::default(), None);
/// step_any(&mut standby, 1, 2, 0, |n, ctx| n.on_start(ctx));
/// let tick = |n: &mut NaiveFailover, ctx: &mut sim::node::Ctx<'_, NaiveFailover>| n.on_timer(ctx, FailoverTimer::Ping);
/// let first = step_any(&mut standby, 1, 2, 100_000_000, tick);
/// assert!(first.iter().any(|e| matches!(e, Effect::Send { msg: FailoverMsg::Ping { seq: 1 }, .. })));
/// let second = step_any(&mut standby, 1, 2, 200_000_000, tick);
/// assert!(second.iter().any(|e| matches!(e, Effect::Send { msg: FailoverMsg::Ping { seq: 2 }, .. })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FailoverTimer {
    /// Every `ping_interval` on the standby: count the last ping as missed if unanswered
    /// (promoting itself after `missed_pings` in a row), else send the next.
    Ping,
}

/// A node of the naive fail-over: the master (node 0) or its standby (node 1). See the module's
/// notes for why it splits brains.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{NodeId, Protocol, Role};
/// use sim::protocols::naive_failover::{FailoverConfig, FailoverTimer, NaiveFailover};
/// // Three pings unanswered: the standby promotes itself, whatever the master is doing.
/// let mut standby = NaiveFailover::new(NodeId(1), &[NodeId(0)], &FailoverConfig::default(), None);
/// step_any(&mut standby, 1, 2, 0, |n, ctx| n.on_start(ctx));
/// for tick in 1..=4 {
///     step_any(&mut standby, 1, 2, tick * 100_000_000, |n, ctx| n.on_timer(ctx, FailoverTimer::Ping));
/// }
/// assert_eq!(standby.role(), Role::Master);
/// ```
pub struct NaiveFailover {
    role: Role,
    epoch: u64,
    ping_interval: u64,
    missed_pings: u32,
    /// The standby's count of unanswered pings.
    watch: PingWatch,
}

const MASTER: NodeId = NodeId(0);

impl NaiveFailover {
    /// Master or standby, as this node now believes.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{NodeId, Protocol, Role};
    /// use sim::protocols::naive_failover::{FailoverConfig, NaiveFailover};
    /// let mut master = NaiveFailover::new(NodeId(0), &[NodeId(1)], &FailoverConfig::default(), None);
    /// step_any(&mut master, 0, 2, 0, |n, ctx| n.on_start(ctx));
    /// assert_eq!(master.role(), Role::Master);
    /// ```
    pub fn role(&self) -> Role {
        self.role
    }

    fn become_master(&mut self, ctx: &mut Ctx<'_, Self>, epoch: u64) {
        self.role = Role::Master;
        self.epoch = epoch;
        ctx.persist(epoch);
        ctx.observe(Observation::Role {
            role: Role::Master,
            term: epoch,
        });
        ctx.observe(Observation::Authority {
            term: epoch,
            until: None,
            clock: ClockKind::Monotonic,
        });
    }
}

impl Protocol for NaiveFailover {
    const NAME: &'static str = "naive-failover";
    const SUMMARY: &'static str =
        "master/standby: the standby promotes itself after missed pings; no quorum, no fencing";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["election_safety", "no_split_brain"];

    type Msg = FailoverMsg;
    type Timer = FailoverTimer;
    type Config = FailoverConfig;
    /// The epoch of a node that is master: a promoted standby stays master across a restart.
    type Durable = u64;
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = ();

    fn situations() -> Vec<crate::node::situation::Situation> {
        super::failover_situations::naive_failover()
    }

    /// For `sim step`: what this node believes it is, its epoch, and the standby's pinging.
    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        let role = match self.role {
            Role::Master => "master",
            _ => "standby",
        };
        let mut lines = vec![
            format!("role        {role}"),
            format!("epoch       {}", self.epoch),
        ];
        if self.role != Role::Master {
            lines.push(format!(
                "pings       {} sent; {} unanswered in a row (promotes at {}){}",
                self.watch.sent(),
                self.watch.missed(),
                self.missed_pings,
                self.watch
                    .outstanding()
                    .map_or(String::new(), |seq| format!("; waiting for pong {seq}"))
            ));
        }
        lines
    }

    fn validate(config: &FailoverConfig, cluster_size: usize) -> Result<(), ConfigError> {
        if cluster_size != 2 {
            return Err(ConfigError::new(
                "",
                format!(
                    "naive-failover needs exactly 2 nodes (a master, then a standby), not {cluster_size}"
                ),
            ));
        }
        ping_watch::validate(config.ping_interval, config.missed_pings)?;
        Ok(())
    }

    fn new(
        id: NodeId,
        _peers: &[NodeId],
        config: &FailoverConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let epoch = disk.map_or(0, |d| d.state);
        let promoted = epoch > 0;
        NaiveFailover {
            role: if id == MASTER || promoted {
                Role::Master
            } else {
                Role::Standby
            },
            epoch,
            ping_interval: config.ping_interval.nanos(),
            missed_pings: config.missed_pings,
            watch: PingWatch::default(),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Master {
            self.become_master(ctx, self.epoch);
        } else {
            ctx.observe(Observation::Role {
                role: Role::Standby,
                term: self.epoch,
            });
            ctx.set_timer(self.ping_interval, FailoverTimer::Ping);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: FailoverMsg) {
        match msg {
            // The master answers every ping, whatever anyone else believes.
            FailoverMsg::Ping { seq } => ctx.send(from, FailoverMsg::Pong { seq }),
            // A late pong changes nothing: that ping was already counted as missed.
            FailoverMsg::Pong { seq } => {
                self.watch.pong(seq);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, FailoverTimer::Ping: FailoverTimer) {
        if self.role != Role::Standby {
            return;
        }
        match self.watch.tick(self.missed_pings) {
            Tick::Silent => self.become_master(ctx, self.epoch + 1),
            Tick::Ping(seq) => {
                ctx.send(MASTER, FailoverMsg::Ping { seq });
                ctx.set_timer(self.ping_interval, FailoverTimer::Ping);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{Effect, LocalNanos};

    fn step(
        node: &mut NaiveFailover,
        id: NodeId,
        now: LocalNanos,
        f: impl FnOnce(&mut NaiveFailover, &mut Ctx<'_, NaiveFailover>),
    ) -> Vec<Effect<NaiveFailover>> {
        crate::node::step(node, id, &[NodeId(1 - id.0)], now, f)
    }

    fn standby() -> NaiveFailover {
        NaiveFailover::new(NodeId(1), &[NodeId(0)], &FailoverConfig::default(), None)
    }

    #[test]
    fn the_standby_promotes_itself_after_k_missed_pings() {
        let mut s = standby();
        step(&mut s, NodeId(1), 0, |n, c| n.on_start(c));
        for tick in 1..=3 {
            let fx = step(&mut s, NodeId(1), tick * 100, |n, c| {
                n.on_timer(c, FailoverTimer::Ping)
            });
            assert_eq!(s.role(), Role::Standby, "tick {tick}");
            assert!(fx.iter().any(|e| matches!(e, Effect::Send { .. })));
        }
        let fx = step(&mut s, NodeId(1), 400, |n, c| {
            n.on_timer(c, FailoverTimer::Ping)
        });
        assert_eq!(s.role(), Role::Master);
        assert!(fx.iter().any(|e| matches!(
            e,
            Effect::Observe(Observation::Authority {
                term: 1,
                until: None,
                ..
            })
        )));
    }

    #[test]
    fn an_answered_ping_resets_the_count() {
        let mut s = standby();
        step(&mut s, NodeId(1), 0, |n, c| n.on_start(c));
        for tick in 1..=10 {
            step(&mut s, NodeId(1), tick * 100, |n, c| {
                n.on_timer(c, FailoverTimer::Ping)
            });
            let seq = s.watch.sent();
            step(&mut s, NodeId(1), tick * 100 + 5, |n, c| {
                n.on_message(c, NodeId(0), FailoverMsg::Pong { seq })
            });
        }
        assert_eq!(s.role(), Role::Standby);
    }

    #[test]
    fn needs_exactly_two_nodes() {
        let err = NaiveFailover::validate(&FailoverConfig::default(), 3).unwrap_err();
        assert!(err.message.contains("exactly 2 nodes"));
    }
}
