//! An all-to-all heartbeat failure detector.
//!
//! Every node sends a small heartbeat to every other node each `interval`. A peer not heard
//! from for longer than `timeout` (on the observer's own monotonic clock, so a step of its wall
//! clock neither hides nor invents silence) is *suspected*; hearing from it again *trusts* it. Suspicions are checked on each tick, so a crash is detected between
//! `timeout` and `timeout + interval` after the last heartbeat arrived.
//!
//! The lesson (Chandra & Toueg, "Unreliable failure detectors for reliable distributed
//! systems", 1996): in an asynchronous system a heartbeat cannot tell slow from dead. A GC pause,
//! a delay spike or a partition makes a live node look crashed, so this detector is complete
//! (every crash is eventually suspected) but not accurate — `strong_accuracy` fails under a pause.
//!
//! Observations: `Suspect { peer }` and `Trust { peer }`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{
    ConfigError, Ctx, DiskOf, Duration, LocalNanos, NodeId, Observation, Protocol,
    format_local_instant,
};

/// `[protocol]` settings of `heartbeat`.
///
/// ```
/// use sim::protocols::heartbeat::HeartbeatConfig;
/// // `[protocol]` with only a timeout: the interval keeps its default.
/// let config: HeartbeatConfig = toml::from_str("timeout = \"500ms\"").unwrap();
/// assert_eq!((config.interval.nanos(), config.timeout.nanos()), (100_000_000, 500_000_000));
/// assert!(toml::from_str::<HeartbeatConfig>("period = \"1s\"").is_err(), "unknown keys are refused");
/// ```
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
// The schema's description: the first line above, without the example.
#[schemars(description = "`[protocol]` settings of `heartbeat`.")]
pub struct HeartbeatConfig {
    /// How often each node sends a heartbeat to every other node.
    pub interval: Duration,
    /// How long a peer may stay silent before it is suspected.
    pub timeout: Duration,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        HeartbeatConfig {
            interval: Duration::from_millis(100),
            timeout: Duration::from_millis(300),
        }
    }
}

/// The heartbeat: a sequence number and the sender's clock reading (16 bytes).
///
/// ```
/// use sim::node::Protocol;
/// use sim::protocols::heartbeat::{Beat, Heartbeat};
/// let beat = Beat { seq: 21, sent_at: 2_000_000_000 };
/// assert_eq!(serde_json::to_string(&beat).unwrap(), r#"{"seq":21,"sent_at":2000000000}"#);
/// // How `sim replay` tells it.
/// let told = Heartbeat::narrate_message(&serde_json::to_value(beat).unwrap(), &[]);
/// assert_eq!(told.as_deref(), Some("Heartbeat(sent at 2.000s, seq 21)"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Beat {
    /// Numbers this node's heartbeats, from 1.
    pub seq: u64,
    /// The sender's wall clock (`Ctx::now`) when it sent the beat, in local nanoseconds.
    pub sent_at: LocalNanos,
}

/// The detector's one timer.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Effect, Protocol};
/// use sim::protocols::heartbeat::{Heartbeat, HeartbeatConfig, HeartbeatTimer};
/// let mut a = Heartbeat::new(sim::node::NodeId(0), &peers_of(0, 3), &HeartbeatConfig::default(), None);
/// let effects = step_any(&mut a, 0, 3, 0, |n, ctx| n.on_start(ctx));
/// // It beats to both peers at once, then ticks every interval.
/// assert!(effects.iter().any(|e| matches!(e, Effect::SetTimer { timer: HeartbeatTimer::Tick, after: 100_000_000 })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HeartbeatTimer {
    /// Every `interval`: suspect the peers silent for over `timeout`, then beat to every peer.
    Tick,
}

/// One node of the all-to-all heartbeat detector: it beats to every peer and suspects or trusts
/// each of them.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Effect, NodeId, Observation, Protocol};
/// use sim::protocols::heartbeat::{Heartbeat, HeartbeatConfig, HeartbeatTimer};
/// const MS: i64 = 1_000_000;
/// let mut a = Heartbeat::new(NodeId(0), &peers_of(0, 3), &HeartbeatConfig::default(), None);
/// step_any(&mut a, 0, 3, 0, |n, ctx| n.on_start(ctx));
/// // B keeps beating, C falls silent: at 400 ms, past the 300 ms timeout, A suspects C only.
/// step_any(&mut a, 0, 3, 350 * MS, |n, ctx| n.on_message(ctx, NodeId(1), sim::protocols::heartbeat::Beat { seq: 4, sent_at: 350 * MS }));
/// let effects = step_any(&mut a, 0, 3, 400 * MS, |n, ctx| n.on_timer(ctx, HeartbeatTimer::Tick));
/// assert!(effects.iter().any(|e| matches!(e, Effect::Observe(Observation::Suspect { peer: NodeId(2) }))));
/// assert!(a.suspects(NodeId(2)) && !a.suspects(NodeId(1)));
/// ```
pub struct Heartbeat {
    /// This node's index, left out of `describe_state`'s peers.
    me: usize,
    interval: u64,
    timeout: LocalNanos,
    /// Indexed by node index; this node's own entry is unused.
    last_heard: Vec<LocalNanos>,
    suspected: Vec<bool>,
    seq: u64,
}

impl Heartbeat {
    /// Whether this node currently suspects `peer`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{NodeId, Protocol};
    /// use sim::protocols::heartbeat::{Heartbeat, HeartbeatConfig};
    /// let a = Heartbeat::new(NodeId(0), &peers_of(0, 3), &HeartbeatConfig::default(), None);
    /// assert!(!a.suspects(NodeId(1)), "nobody is suspected before the first tick");
    /// ```
    pub fn suspects(&self, peer: NodeId) -> bool {
        self.suspected[peer.index()]
    }

    fn beat(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.seq += 1;
        ctx.broadcast(Beat {
            seq: self.seq,
            sent_at: ctx.now(),
        });
    }

    fn check_silence(&mut self, ctx: &mut Ctx<'_, Self>) {
        let now = ctx.monotonic();
        for i in 0..ctx.peers().len() {
            let peer = ctx.peers()[i];
            let silent_for = now.saturating_sub(self.last_heard[peer.index()]);
            if !self.suspected[peer.index()] && silent_for > self.timeout {
                self.suspected[peer.index()] = true;
                ctx.observe(Observation::Suspect { peer });
            }
        }
    }
}

impl Protocol for Heartbeat {
    const NAME: &'static str = "heartbeat";
    const SUMMARY: &'static str =
        "all-to-all heartbeat failure detector: suspects a peer silent for `timeout`";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["strong_accuracy"];

    type Msg = Beat;
    type Timer = HeartbeatTimer;
    type Config = HeartbeatConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = ();

    fn situations() -> Vec<crate::node::situation::Situation> {
        super::failover_situations::heartbeat()
    }

    /// For `sim step`: the beats sent, and for each peer when it was last heard (on this node's
    /// monotonic clock) and whether it is suspected.
    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let mut lines = vec![format!("beats sent  {}", self.seq)];
        for (i, name) in names.iter().enumerate() {
            if i == self.me || i >= self.last_heard.len() {
                continue;
            }
            lines.push(format!(
                "{name:<11} last heard at {} (monotonic){}",
                format_local_instant(self.last_heard[i]),
                if self.suspected[i] { ", suspected" } else { "" }
            ));
        }
        lines
    }

    fn validate(config: &HeartbeatConfig, _cluster_size: usize) -> Result<(), ConfigError> {
        if config.interval == Duration::ZERO {
            return Err(ConfigError::new(
                "interval",
                "interval must be greater than zero",
            ));
        }
        if config.timeout == Duration::ZERO {
            return Err(ConfigError::new(
                "timeout",
                "timeout must be greater than zero",
            ));
        }
        Ok(())
    }

    /// `Heartbeat(sent at 2.000s, seq 21)`: a [`Beat`] is a bare struct, so without this its
    /// trace form has no name to be told by.
    fn narrate_message(msg: &serde_json::Value, _names: &[String]) -> Option<String> {
        let sent_at = msg.get("sent_at")?.as_i64()?;
        let seq = msg.get("seq")?.as_u64()?;
        Some(format!(
            "Heartbeat(sent at {}, seq {seq})",
            format_local_instant(sent_at)
        ))
    }

    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &HeartbeatConfig,
        _: Option<&DiskOf<Self>>,
    ) -> Self {
        let n = peers.len() + 1;
        Heartbeat {
            me: id.index(),
            interval: config.interval.nanos(),
            timeout: config.timeout.as_local(),
            last_heard: vec![0; n],
            suspected: vec![false; n],
            seq: 0,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        // Nobody is suspected at start: count silence from now.
        self.last_heard.fill(ctx.monotonic());
        self.beat(ctx);
        ctx.set_timer(self.interval, HeartbeatTimer::Tick);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, _beat: Beat) {
        self.last_heard[from.index()] = ctx.monotonic();
        if self.suspected[from.index()] {
            self.suspected[from.index()] = false;
            ctx.observe(Observation::Trust { peer: from });
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, HeartbeatTimer::Tick: HeartbeatTimer) {
        self.check_silence(ctx);
        self.beat(ctx);
        ctx.set_timer(self.interval, HeartbeatTimer::Tick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Effect;

    const MS: i64 = 1_000_000;

    fn node(peers: &[NodeId]) -> Heartbeat {
        Heartbeat::new(NodeId(0), peers, &HeartbeatConfig::default(), None)
    }

    fn step(
        hb: &mut Heartbeat,
        now: LocalNanos,
        peers: &[NodeId],
        f: impl FnOnce(&mut Heartbeat, &mut Ctx<'_, Heartbeat>),
    ) -> Vec<Effect<Heartbeat>> {
        crate::node::step(hb, NodeId(0), peers, now, f)
    }

    fn observations(effects: &[Effect<Heartbeat>]) -> Vec<Observation> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Observe(o) => Some(o.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_beat_is_told_by_name_with_the_sender_s_clock_reading() {
        let told = |beat: Beat| {
            Heartbeat::narrate_message(&serde_json::to_value(beat).unwrap(), &[]).unwrap()
        };
        assert_eq!(
            told(Beat {
                seq: 21,
                sent_at: 2_000 * MS
            }),
            "Heartbeat(sent at 2.000s, seq 21)"
        );
        // A clock that started behind true time reads below zero.
        assert_eq!(
            told(Beat {
                seq: 1,
                sent_at: -2 * MS
            }),
            "Heartbeat(sent at -0.002s, seq 1)"
        );
    }

    #[test]
    fn starts_by_beating_to_every_peer_and_arming_the_tick() {
        let peers = [NodeId(1), NodeId(2)];
        let mut hb = node(&peers);
        let fx = step(&mut hb, 0, &peers, |h, c| h.on_start(c));
        let sends = fx
            .iter()
            .filter(|e| matches!(e, Effect::Send { .. }))
            .count();
        assert_eq!(sends, 2);
        assert!(
            fx.iter()
                .any(|e| matches!(e, Effect::SetTimer { after, .. } if *after == 100 * MS as u64))
        );
    }

    #[test]
    fn a_silent_peer_is_suspected_after_the_timeout_and_trusted_when_heard() {
        let peers = [NodeId(1), NodeId(2)];
        let mut hb = node(&peers);
        step(&mut hb, 0, &peers, |h, c| h.on_start(c));
        step(&mut hb, 250 * MS, &peers, |h, c| {
            h.on_message(c, NodeId(2), Beat { seq: 1, sent_at: 0 })
        });
        let fx = step(&mut hb, 300 * MS, &peers, |h, c| {
            h.on_timer(c, HeartbeatTimer::Tick)
        });
        assert!(
            observations(&fx).is_empty(),
            "exactly the timeout is not yet suspicious"
        );
        let fx = step(&mut hb, 400 * MS, &peers, |h, c| {
            h.on_timer(c, HeartbeatTimer::Tick)
        });
        assert_eq!(
            observations(&fx),
            vec![Observation::Suspect { peer: NodeId(1) }]
        );
        assert!(hb.suspects(NodeId(1)) && !hb.suspects(NodeId(2)));
        let fx = step(&mut hb, 401 * MS, &peers, |h, c| {
            h.on_message(c, NodeId(1), Beat { seq: 2, sent_at: 0 })
        });
        assert_eq!(
            observations(&fx),
            vec![Observation::Trust { peer: NodeId(1) }]
        );
        let fx = step(&mut hb, 600 * MS, &peers, |h, c| {
            h.on_timer(c, HeartbeatTimer::Tick)
        });
        assert_eq!(
            observations(&fx),
            vec![Observation::Suspect { peer: NodeId(2) }]
        );
    }

    /// Silence is measured on the monotonic clock: a backward step of the observer's wall clock
    /// (an NTP correction) must not hide a peer that has gone quiet.
    #[test]
    fn a_backward_wall_clock_step_does_not_hide_silence() {
        let peers = [NodeId(1), NodeId(2)];
        let mut hb = node(&peers);
        step(&mut hb, 0, &peers, |h, c| h.on_start(c));
        let (wall, monotonic) = (400 * MS - 1_000 * MS, 400 * MS);
        let mut rng = crate::node::Rng::derive(0, crate::node::Stream::Node(0));
        let mut fx = Vec::new();
        hb.on_timer(
            &mut Ctx::new(NodeId(0), &peers, wall, monotonic, &mut rng, &mut fx),
            HeartbeatTimer::Tick,
        );
        assert_eq!(
            observations(&fx),
            vec![
                Observation::Suspect { peer: NodeId(1) },
                Observation::Suspect { peer: NodeId(2) }
            ]
        );
    }

    #[test]
    fn validate_rejects_zero_settings() {
        let bad = HeartbeatConfig {
            interval: Duration::ZERO,
            ..Default::default()
        };
        assert_eq!(Heartbeat::validate(&bad, 3).unwrap_err().field, "interval");
    }
}
