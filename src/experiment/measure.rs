//! One trial: the line's scenario with the trial's seed, the `[nemesis]`'s crash of the leader
//! if there is one, and the metric: read off the trace records as they happen (the election
//! downtime, a protocol metric's records) or off the clients' history at the end. A run that
//! measures the election downtime stops as soon as it is known.

use serde_json::Value;

use crate::node::{Nanos, Observation, Protocol, Rng, Stream};
use crate::protocols::{ProtocolMetric, Visitor, each};
use crate::run::trace_file;
use crate::scenario::{Scenario, ScenarioError};
use crate::workload::Workload;
use crate::world::{
    Applied, Cluster, Event, FaultAction, FaultSpec, Observer, Origin, Record, Target, World,
};

use super::metric::{self, Metric};
use super::spec::CrashLeader;

/// What one trial gave.
///
/// ```
/// use sim::experiment::Trial;
/// // The leader, node 2, died at 2.03 s; a new leader was heard 190 ms later.
/// let t = Trial { seed: 7, crash: Some((2_030_000_000, 2)), value: Some(190e6), samples: 1, outcome: "measured" };
/// assert!(t.crash.is_some() && t.value.is_some());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trial {
    /// The trial's seed.
    pub seed: u64,
    /// When a leading node was first crashed (true time), and which: the nemesis's crash, or
    /// one of the scenario's own faults.
    pub crash: Option<(Nanos, u32)>,
    /// The measurement in the metric's unit (nanoseconds for a time); `None` when there was
    /// nothing to measure (`outcome` says why).
    pub value: Option<f64>,
    /// How many samples `value` summarises (operations, reads, transactions in doubt).
    pub samples: u64,
    /// `measured`, or why `value` is empty.
    pub outcome: &'static str,
}

/// What a line's trials do besides running: the metric, and the nemesis with its window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub(crate) metric: Metric,
    pub(crate) nemesis: Option<CrashLeader>,
    pub(crate) window: Nanos,
}

/// The crash instant of a trial: `at` plus a uniform draw in `[0, window)`, from a stream of
/// the trial's seed that the run itself never draws from.
pub(crate) fn crash_instant(seed: u64, at: Nanos, window: Nanos) -> Nanos {
    if window == 0 {
        return at;
    }
    at + Rng::derive(seed, Stream::World(EXPERIMENT_KNOB)).below(window)
}

/// The `World` stream the crash instant is drawn from (swarm knobs use 1 to 255).
const EXPERIMENT_KNOB: u32 = 0xE000;

/// What a trial watches in the records: who leads since when, the nemesis's crash, the first
/// message of the next leader (election downtime), and the records a protocol metric reads.
#[derive(Default)]
struct Watch {
    /// Per node, the term it leads and since when, if it leads.
    leading: Vec<Option<(u64, Nanos)>>,
    /// When a leading node was crashed, which, and its term.
    crash: Option<(Nanos, u32, u64)>,
    /// The newest leader after the crash, and the first message id it sent while leading.
    next: Option<(u32, u64, Option<u64>)>,
    /// The election downtime, once known.
    done: Option<Nanos>,
    /// The record kinds a protocol metric reads, and those records as JSON.
    keep: &'static [&'static str],
    kept: Vec<Value>,
}

impl Watch {
    /// A node that has led since at least `since`.
    fn stable(&self, since: Nanos) -> bool {
        self.leading
            .iter()
            .flatten()
            .any(|&(_, from)| from <= since)
    }
}

impl<P: Protocol> Observer<P> for Watch {
    fn on_record(&mut self, r: &Record<'_, P>, cluster: &Cluster) {
        if !self.keep.is_empty()
            && self.keep.contains(&r.event.kind())
            && let Ok(v) = serde_json::from_str(&trace_file::line(r, cluster))
        {
            self.kept.push(v);
        }
        if self.done.is_some() {
            return;
        }
        match &r.event {
            Event::Observe {
                node,
                obs: Observation::Role { role, term },
            } => {
                let n = *node as usize;
                if self.leading.len() <= n {
                    self.leading.resize(n + 1, None);
                }
                self.leading[n] = match self.leading[n] {
                    Some((t, since)) if role.leads() && t == *term => Some((t, since)),
                    _ => role.leads().then_some((*term, r.at)),
                };
                if let Some((_, _, old)) = self.crash
                    && role.leads()
                    && *term > old
                {
                    self.next = Some((*node, *term, None));
                }
            }
            Event::Fault(f) => {
                if let (Applied::Crash { nodes }, None) = (&f.applied, self.crash)
                    && let Some((node, term)) = nodes.iter().find_map(|&n| {
                        let led = self.leading.get(n as usize).copied().flatten();
                        led.map(|(term, _)| (n, term))
                    })
                {
                    self.crash = Some((r.at, node, term));
                }
            }
            Event::Send { from, id, .. } => {
                if let Some((leader, _, first @ None)) = &mut self.next
                    && *from == *leader
                {
                    *first = Some(*id);
                }
            }
            Event::Deliver { from, id, .. } => {
                if let (Some((leader, _, Some(first))), Some((at, _, _))) = (self.next, self.crash)
                    && *from == leader
                    && *id >= first
                {
                    self.done = Some(r.at - at);
                }
            }
            _ => {}
        }
    }
}

/// Runs trial `seed` of `scenario` with its protocol, as `plan` says.
pub(crate) fn trial(scenario: &Scenario, seed: u64, plan: Plan) -> Result<Trial, ScenarioError> {
    struct Find<'a> {
        scenario: &'a Scenario,
        seed: u64,
        plan: Plan,
        out: Option<Result<Trial, ScenarioError>>,
    }
    impl Visitor for Find<'_> {
        fn visit<P: Protocol>(&mut self)
        where
            P::Api: Workload,
        {
            if self.out.is_none() && P::NAME == self.scenario.protocol {
                self.out = Some(run::<P>(self.scenario, self.seed, self.plan));
            }
        }
    }
    let mut find = Find {
        scenario,
        seed,
        plan,
        out: None,
    };
    each(&mut find);
    find.out.unwrap_or_else(|| {
        Err(scenario.error_at(
            &["cluster", "protocol"],
            format!(
                "`sim experiment` runs the built-in protocols; `{}` is not one",
                scenario.protocol
            ),
        ))
    })
}

/// Whether a line's scenario can run: its protocol's settings read and pass the protocol's
/// own checks (an empty or reversed timeout range is refused here, before any trial).
pub(crate) fn check(scenario: &Scenario) -> Result<(), String> {
    struct Check<'a>(&'a Scenario, Option<Result<(), String>>);
    impl Visitor for Check<'_> {
        fn visit<P: Protocol>(&mut self)
        where
            P::Api: Workload,
        {
            if self.1.is_none() && P::NAME == self.0.protocol {
                self.1 = Some(
                    self.0
                        .protocol_config::<P::Config>()
                        .map_err(|e| e.message)
                        .and_then(|c| {
                            P::validate(&c, self.0.nodes.len())
                                .map_err(|e| format!("{}: {}", e.field, e.message))
                        }),
                );
            }
        }
    }
    let mut c = Check(scenario, None);
    each(&mut c);
    c.1.unwrap_or_else(|| {
        Err(format!(
            "`sim experiment` runs the built-in protocols; `{}` is not one",
            scenario.protocol
        ))
    })
}

/// How often a trial looks whether its metric is known yet.
const LOOK_EVERY: Nanos = 10_000_000;

fn run<P: Protocol>(scenario: &Scenario, seed: u64, plan: Plan) -> Result<Trial, ScenarioError>
where
    P::Api: Workload,
{
    let config: P::Config = scenario.protocol_config()?;
    let options = scenario.workload_options()?;
    let clients = match &scenario.workload {
        Some(w) => <P::Api as Workload>::clients(w, &options, scenario.script.as_deref()),
        None => Vec::new(),
    };
    let spec = scenario.world_spec(seed);
    let end = spec.duration;
    let protocol_metric: Option<ProtocolMetric> = plan.metric.protocol_metric(P::NAME);
    let watch = Watch {
        keep: protocol_metric.map_or(&[], |m| m.kinds),
        ..Watch::default()
    };
    let mut world: World<P, Watch, <P::Api as Workload>::Client> =
        World::with_clients(spec, config, watch, clients);
    let mut crash_at = None;
    if let Some(nemesis) = plan.nemesis {
        // From `after`, look for a stable leader; once there is one, crash the leader at a
        // uniform instant of the next window (a heartbeat interval).
        let mut look = nemesis.after;
        crash_at = loop {
            world.run_until(look);
            if look >= end {
                break None;
            }
            if world
                .observer()
                .stable(look.saturating_sub(nemesis.stable_for))
            {
                break Some(crash_instant(seed, look, plan.window));
            }
            look = look.saturating_add(LOOK_EVERY).min(end);
        };
        if let Some(at) = crash_at {
            world.schedule(FaultSpec {
                at,
                action: FaultAction::Crash(Target::Leader),
                lasting: None,
                origin: Origin::Schedule(scenario.faults.len() as u32),
            });
        }
    }
    if plan.metric == Metric::ElectionDowntime {
        let Some(crash_at) = crash_at else {
            return Ok(Trial {
                seed,
                crash: None,
                value: None,
                samples: 0,
                outcome: "no leader to crash",
            });
        };
        let mut until = crash_at;
        loop {
            world.run_until(until);
            let seen = world.observer();
            if seen.done.is_some() || until >= end || (until > crash_at && seen.crash.is_none()) {
                break;
            }
            until = until.saturating_add(LOOK_EVERY).min(end);
        }
        let seen = world.observer();
        let crash = seen.crash.map(|(at, node, _)| (at, node));
        return Ok(Trial {
            seed,
            crash,
            value: seen.done.map(|ns| ns as f64),
            samples: u64::from(seen.done.is_some()),
            outcome: match (seen.done, crash) {
                (Some(_), _) => "measured",
                (None, Some(_)) => "no new leader heard by the end",
                (None, None) => "no leader to crash",
            },
        });
    }
    world.run();
    let crash = world.observer().crash.map(|(at, node, _)| (at, node));
    let (value, samples) = match (plan.metric, protocol_metric) {
        (_, Some(m)) => {
            let (v, n) = (m.measure)(&world.observer().kept, end);
            (v.map(|ns| ns as f64), n)
        }
        (Metric::CommitLatency, _) => {
            let history = <P::Api as Workload>::into_history(world.take_clients());
            let (v, n) = metric::commit_latency(&history);
            (v.map(|ns| ns as f64), n)
        }
        (Metric::StaleReadRate, _) => {
            let history = <P::Api as Workload>::into_history(world.take_clients());
            metric::stale_read_rate(&history)
        }
        (other, None) => {
            return Err(scenario.error_at(
                &["cluster", "protocol"],
                format!("{} is not defined for `{}`", other.name(), P::NAME),
            ));
        }
    };
    Ok(Trial {
        seed,
        crash,
        value,
        samples,
        outcome: if value.is_some() {
            "measured"
        } else {
            plan.metric.missing()
        },
    })
}
