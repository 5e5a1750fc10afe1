//! One trial: the line's scenario with the trial's seed, the leader crashed at a drawn
//! instant, and the metric read off the trace records as they happen. The run stops as soon as
//! the metric is known.

use crate::node::{Nanos, Observation, Protocol, Rng, Role, Stream};
use crate::protocols::{Visitor, each};
use crate::scenario::{Scenario, ScenarioError};
use crate::workload::Workload;
use crate::world::{
    Applied, Cluster, Event, FaultAction, FaultSpec, Observer, Origin, Record, Target, World,
};

/// What one trial gave.
///
/// ```
/// use sim::experiment::Trial;
/// // The leader died at 2.03 s; a new leader was heard 190 ms later.
/// let t = Trial { seed: 7, crash_at: 2_030_000_000, value: Some(190_000_000), crashed: true };
/// assert!(t.crashed && t.value.is_some());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trial {
    /// The trial's seed.
    pub seed: u64,
    /// When the leader was crashed (true time), if there was one to crash.
    pub crash_at: Nanos,
    /// The measurement, in nanoseconds; `None` when the run ended first (censored) or there was
    /// no leader to crash.
    pub value: Option<Nanos>,
    /// Whether a leader was crashed.
    pub crashed: bool,
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

/// Election downtime, read off the records: the crash of a leader, then the first delivery of
/// a message a later leader sent while leading.
#[derive(Default)]
struct Downtime {
    /// (node, term) of the leader each node last reported, by node.
    leading: Vec<Option<u64>>,
    /// When the leader crashed, and its term.
    crash: Option<(Nanos, u64)>,
    crashed: bool,
    /// The newest leader after the crash, and the first message id it sent while leading.
    next: Option<(u32, u64, Option<u64>)>,
    done: Option<Nanos>,
}

impl<P: Protocol> Observer<P> for Downtime {
    fn on_record(&mut self, r: &Record<'_, P>, _: &Cluster) {
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
                self.leading[n] = (*role == Role::Leader).then_some(*term);
                if let Some((_, old)) = self.crash
                    && *role == Role::Leader
                    && *term > old
                {
                    self.next = Some((*node, *term, None));
                }
            }
            Event::Fault(f) => {
                if let (Applied::Crash { nodes }, None) = (&f.applied, self.crash)
                    && let Some(term) = nodes
                        .iter()
                        .find_map(|&n| self.leading.get(n as usize).copied().flatten())
                {
                    self.crash = Some((r.at, term));
                    self.crashed = true;
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
                if let (Some((leader, _, Some(first))), Some((at, _))) = (self.next, self.crash)
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

/// Runs trial `seed` of `scenario` with its protocol, the leader crashed at `crash_at`.
pub(crate) fn trial(
    scenario: &Scenario,
    seed: u64,
    crash: (Nanos, Nanos),
) -> Result<Trial, ScenarioError> {
    struct Find<'a> {
        scenario: &'a Scenario,
        seed: u64,
        crash: (Nanos, Nanos),
        out: Option<Result<Trial, ScenarioError>>,
    }
    impl Visitor for Find<'_> {
        fn visit<P: Protocol>(&mut self)
        where
            P::Api: Workload,
        {
            if self.out.is_none() && P::NAME == self.scenario.protocol {
                self.out = Some(run::<P>(self.scenario, self.seed, self.crash));
            }
        }
    }
    let mut find = Find {
        scenario,
        seed,
        crash,
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

fn run<P: Protocol>(
    scenario: &Scenario,
    seed: u64,
    (after, window): (Nanos, Nanos),
) -> Result<Trial, ScenarioError>
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
    let mut world: World<P, Downtime, <P::Api as Workload>::Client> =
        World::with_clients(spec, config, Downtime::default(), clients);
    // From `after`, look for a leader; once there is one, crash it at a uniform instant of the
    // next window (a heartbeat interval): whatever the look's phase against the leader's
    // heartbeats, the crash's phase is then uniform.
    let mut look = after;
    let crash_at = loop {
        world.run_until(look);
        if look >= end {
            return Ok(Trial {
                seed,
                crash_at: end,
                value: None,
                crashed: false,
            });
        }
        if world.observer().leading.iter().any(Option::is_some) {
            break crash_instant(seed, look, window);
        }
        look = look.saturating_add(LOOK_EVERY).min(end);
    };
    world.schedule(FaultSpec {
        at: crash_at,
        action: FaultAction::Crash(Target::Leader),
        lasting: None,
        origin: Origin::Schedule(scenario.faults.len() as u32),
    });
    let mut until = crash_at;
    loop {
        world.run_until(until);
        let seen = world.observer();
        if seen.done.is_some() || until >= end || (until > crash_at && !seen.crashed) {
            break;
        }
        until = until.saturating_add(LOOK_EVERY).min(end);
    }
    let seen = world.observer();
    Ok(Trial {
        seed,
        crash_at,
        value: seen.done,
        crashed: seen.crashed,
    })
}
