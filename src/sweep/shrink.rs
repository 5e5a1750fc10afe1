//! `sim shrink`: cut a failing run down to the smallest scenario that still fails the same way.
//!
//! 1. Run the seed and pick the target: the first invariant that failed (or the one named).
//! 2. Make the run explicit (module `explicit`): the fault schedule the world applied, nemesis
//!    included, becomes `[[faults]]` entries naming their nodes, and the clients' history
//!    becomes a workload script. Check that this explicit scenario still fails.
//! 3. Minimise, each candidate one [`run::run`] of the same seed, keeping it only if the target
//!    invariant still fails: cut the run to just after the violation; fold each crash (pause)
//!    and the restart (resume) that ends it into one crash with a `for` (`explicit::folded`);
//!    drop faults, clients and operations by delta debugging (`ddmin`); shorten each fault's
//!    `for` and the run's `duration` by bisection; repeat while anything got smaller. When
//!    nothing did, search wider for fewer operations (module `wider`: each alone, moved a
//!    little, in pairs, with another filler; with clients renumbered), and if that finds some,
//!    go round again. Last, renumber the clients left from 0, if the failure survives it.
//!
//! The rule it keeps: every candidate is judged by a real run, and what comes out is a scenario
//! that fails on its own. Removing faults is safe to try because the network, the nodes and
//! each client draw from their own streams (docs/ARCHITECTURE.md#randomness), and explicit
//! faults draw nothing. Removing an operation is not always: the messages it caused drew from
//! their senders' streams, so every later message of those senders draws differently, and a
//! failure that rode on those draws may go — which is why delta debugging can leave fillers
//! behind, and why the wider search tries other fillers and other client streams. A client
//! keeps its index (and so its streams) until the final renumbering, which is itself tested.
//! The number of runs is capped: at the cap the smallest failing scenario found so far is kept.

pub(crate) mod ddmin;
pub(crate) mod explicit;
pub(crate) mod wider;

use std::fmt;

use crate::check::Status;
use crate::node::Nanos;
use crate::node::time::NANOS_PER_MILLI;
use crate::run::registry::{self, Registry};
use crate::run::{self, RunError, RunOptions, base_name};
use crate::scenario::{Expect, ExpectedVerdict, Scenario};
use crate::workload::script::{clients_needed, from_history};
use crate::workload::{Mix, ScriptOp};

use ddmin::{Probe, ddmin, shortest};
use explicit::{Unit, flatten, folded, units};

/// The default cap on candidate runs.
///
/// ```
/// use sim::sweep::shrink::{DEFAULT_MAX_RUNS, ShrinkOptions};
/// let options = ShrinkOptions { seed: None, invariant: None, max_runs: DEFAULT_MAX_RUNS };
/// assert_eq!(options.max_runs, 2000);
/// ```
pub const DEFAULT_MAX_RUNS: usize = 2000;

/// What to shrink.
///
/// ```
/// use sim::sweep::shrink::{ShrinkOptions, shrink};
/// let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/failover/naive-split-brain.toml"));
/// let scenario = sim::scenario::Scenario::parse("naive-split-brain.toml", text)?;
/// // Seed 1, and it must keep failing no_split_brain.
/// let options = ShrinkOptions { seed: Some(1), invariant: Some("no_split_brain".into()), max_runs: 100 };
/// let shrunk = shrink(&scenario, &options)?;
/// assert_eq!((shrunk.seed, shrunk.invariant.as_str()), (1, "no_split_brain"));
/// assert!(shrunk.runs <= 100);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ShrinkOptions {
    /// The failing seed (the scenario's own when `None`).
    pub seed: Option<u64>,
    /// The invariant that must keep failing; the first one that failed when `None`.
    pub invariant: Option<String>,
    /// The most runs to try, the first run included.
    pub max_runs: usize,
}

/// The size of a scenario, as `sim shrink` reports it.
///
/// ```
/// use sim::sweep::shrink::{DEFAULT_MAX_RUNS, ShrinkOptions, shrink};
/// let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/failover/naive-split-brain.toml"));
/// let scenario = sim::scenario::Scenario::parse("naive-split-brain.toml", text)?;
/// let options = ShrinkOptions { seed: None, invariant: None, max_runs: DEFAULT_MAX_RUNS };
/// let shrunk = shrink(&scenario, &options)?;
/// // Never larger than what it started from, in any dimension.
/// assert!(shrunk.minimal.faults <= shrunk.original.faults);
/// assert!(shrunk.minimal.duration <= shrunk.original.duration);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// `[[faults]]` entries (for the original: entries plus drawn nemesis faults).
    pub faults: usize,
    /// Clients that invoke at least one operation.
    pub clients: usize,
    /// Operations the clients invoke, over all clients.
    pub operations: usize,
    /// The scenario's `duration`: virtual time run, in nanoseconds.
    pub duration: Nanos,
}

/// A shrunk scenario and how it was reached.
///
/// ```
/// use sim::sweep::shrink::{DEFAULT_MAX_RUNS, ShrinkOptions, shrink};
/// let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/failover/naive-split-brain.toml"));
/// let scenario = sim::scenario::Scenario::parse("naive-split-brain.toml", text)?;
/// let options = ShrinkOptions { seed: None, invariant: None, max_runs: DEFAULT_MAX_RUNS };
/// let shrunk = shrink(&scenario, &options)?;
/// // The minimal scenario runs on its own, at its seed, and still fails the same invariant.
/// assert_eq!(shrunk.scenario.seed, shrunk.seed);
/// assert!(shrunk.violation_at <= shrunk.minimal.duration);
/// assert!(!shrunk.hit_limit);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The minimal scenario: explicit faults, scripted workload, `seed` and `[expect]` set.
    pub scenario: Scenario,
    /// The failing seed, written into the minimal scenario as its `seed`.
    pub seed: u64,
    /// The invariant that fails, as `[check]` names it.
    pub invariant: String,
    /// When it fails in the minimal scenario.
    pub violation_at: Nanos,
    /// The size of the scenario as given (its nemesis counted as drawn for this seed).
    pub original: Sizes,
    /// The original run made explicit, before any minimising.
    pub explicit: Sizes,
    /// The minimal scenario's size.
    pub minimal: Sizes,
    /// Runs tried, the first one included.
    pub runs: usize,
    /// The cap was reached before minimising finished.
    pub hit_limit: bool,
}

/// Why there is nothing to shrink.
///
/// ```
/// use sim::sweep::shrink::{ShrinkError, ShrinkOptions, shrink};
/// let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/failover/naive-split-brain.toml"));
/// let scenario = sim::scenario::Scenario::parse("naive-split-brain.toml", text)?;
/// let options = ShrinkOptions { seed: None, invariant: Some("linearizable".into()), max_runs: 10 };
/// let err = shrink(&scenario, &options).unwrap_err();
/// assert!(matches!(&err, ShrinkError::UnknownInvariant { name, .. } if name == "linearizable"));
/// assert!(err.to_string().contains("linearizable"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub enum ShrinkError {
    /// The scenario cannot run.
    Run(RunError),
    /// `--invariant` names an invariant the scenario does not check.
    UnknownInvariant {
        /// The name `--invariant` gave.
        name: String,
        /// The invariants the scenario's `[check]` does name.
        checked: Vec<String>,
    },
    /// The seed does not fail (or not on the named invariant).
    NoFailure {
        /// The seed that was run.
        seed: u64,
        /// What the run found instead: the named invariant did not fail, or nothing did.
        message: String,
    },
    /// The explicit form of the run does not fail: the run depends on something the explicit
    /// form does not capture.
    NotReproduced {
        /// The seed that failed.
        seed: u64,
        /// The invariant that failed in the original run but not in its explicit form.
        invariant: String,
    },
    /// A swarm scenario's drawn world cannot be written into it.
    Pin(String),
}

impl fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShrinkError::Run(e) => write!(f, "{e}"),
            ShrinkError::UnknownInvariant { name, checked } => write!(
                f,
                "the scenario does not check `{name}`; it checks {}",
                checked.join(", ")
            ),
            ShrinkError::NoFailure { seed, message } => {
                write!(f, "seed {seed}: {message}: nothing to shrink")
            }
            ShrinkError::NotReproduced { seed, invariant } => write!(
                f,
                "seed {seed}: with its faults and operations written out explicitly, the run no longer fails {invariant}; it cannot be shrunk (please report this scenario)"
            ),
            ShrinkError::Pin(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ShrinkError {}

/// A candidate: what the shrinker varies, over the explicit base scenario.
#[derive(Clone, Debug)]
struct Candidate {
    faults: Vec<Unit>,
    /// `None`: the scenario has no clients.
    script: Option<Vec<ScriptOp>>,
    duration: Nanos,
}

impl Candidate {
    fn sizes(&self) -> Sizes {
        let in_run = |at: Nanos| at < self.duration;
        let ops: Vec<&ScriptOp> = self
            .script
            .iter()
            .flatten()
            .filter(|o| in_run(o.at))
            .collect();
        let mut clients: Vec<u32> = ops.iter().map(|o| o.client).collect();
        clients.sort_unstable();
        clients.dedup();
        Sizes {
            faults: self
                .faults
                .iter()
                .filter(|u| in_run(u.at()))
                .map(|u| u.entries.len())
                .sum(),
            clients: clients.len(),
            operations: ops.len(),
            duration: self.duration,
        }
    }

    /// The faults that fire before the run ends (a shortened run leaves the later ones out).
    fn live_faults(&self) -> Vec<Unit> {
        self.faults
            .iter()
            .filter(|u| u.at() < self.duration)
            .cloned()
            .collect()
    }

    /// The scenario this candidate runs: `base` with its faults, script and duration.
    fn scenario(&self, base: &Scenario) -> Scenario {
        let mut s = base.clone();
        s.duration = self.duration;
        s.nemesis = None;
        s.faults = flatten(&self.live_faults());
        let Some(script) = &self.script else {
            return s; // no clients, or (never for our own clients) a history with no script
        };
        let ops: Vec<ScriptOp> = script
            .iter()
            .filter(|o| o.at < self.duration)
            .cloned()
            .collect();
        match &mut s.workload {
            Some(w) if !ops.is_empty() => {
                // As a scripted `[workload]` reads back: nothing is drawn.
                w.clients = clients_needed(&ops);
                w.think_mean = 1;
                w.mix = Mix::default();
                w.keys = 1;
                w.start = 0;
                w.stop = self.duration;
                s.script = Some(ops);
            }
            _ => {
                s.workload = None;
                s.script = None;
            }
        }
        s
    }
}

/// Runs candidates against the budget and says whether the target still fails.
struct Judge<'a> {
    registry: &'a Registry,
    base: &'a Scenario,
    seed: u64,
    invariant: String,
    runs: usize,
    max_runs: usize,
    hit_limit: bool,
}

impl Judge<'_> {
    /// When the target fails in this candidate's run, if it does.
    fn violation(&mut self, c: &Candidate) -> Result<Option<Nanos>, Probe> {
        if self.runs >= self.max_runs {
            self.hit_limit = true;
            return Err(Probe::Exhausted);
        }
        self.runs += 1;
        let options = RunOptions {
            seed: Some(self.seed),
            ..RunOptions::default()
        };
        // A candidate that cannot run does not fail the way we look for.
        let Ok(out) = self.registry.run(&c.scenario(self.base), &options, None) else {
            return Ok(None);
        };
        Ok(violated_at(&out.report.invariants, &self.invariant))
    }

    fn probe(&mut self, c: &Candidate) -> Probe {
        match self.violation(c) {
            Ok(Some(_)) => Probe::Fails,
            Ok(None) => Probe::Passes,
            Err(p) => p,
        }
    }
}

fn violated_at(invariants: &[run::InvariantReport], name: &str) -> Option<Nanos> {
    invariants
        .iter()
        .find(|i| i.name == name)
        .and_then(|i| match &i.status {
            Status::Violated(v) => Some(v.at),
            _ => None,
        })
}

/// Shrinks `scenario`'s failing seed. See the module doc for the steps.
///
/// ```
/// use sim::sweep::shrink::{DEFAULT_MAX_RUNS, ShrinkOptions, shrink};
/// let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/failover/naive-split-brain.toml"));
/// let scenario = sim::scenario::Scenario::parse("naive-split-brain.toml", text)?;
/// let options = ShrinkOptions { seed: None, invariant: None, max_runs: DEFAULT_MAX_RUNS };
/// let shrunk = shrink(&scenario, &options)?;
/// assert_eq!(shrunk.invariant, "no_split_brain");
/// assert!(shrunk.minimal.faults >= 1, "a split brain needs a fault");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shrink(scenario: &Scenario, options: &ShrinkOptions) -> Result<Shrunk, ShrinkError> {
    shrink_with(registry::installed(), scenario, options)
}

/// [`shrink`] through a given registry rather than the process's: what the test harness
/// (`sim::testing`) uses for a protocol it registered itself.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::sweep::shrink::{ShrinkError, ShrinkOptions, shrink_with};
/// // Tiny's scenario passes: there is nothing to shrink.
/// let registry = registry();
/// let scenario = registry.scenario("tiny.toml", SCENARIO)?;
/// let options = ShrinkOptions { seed: None, invariant: None, max_runs: 10 };
/// let err = shrink_with(&registry, &scenario, &options).unwrap_err();
/// assert!(matches!(err, ShrinkError::NoFailure { seed: 1, .. }), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shrink_with(
    registry: &Registry,
    scenario: &Scenario,
    options: &ShrinkOptions,
) -> Result<Shrunk, ShrinkError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    // A swarm seed's world is part of its failure: it is drawn once and written in.
    let pinned = scenario.pin_world(seed).map_err(ShrinkError::Pin)?;
    let scenario = &pinned;
    let run_options = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    let first = registry
        .run(scenario, &run_options, None)
        .map_err(ShrinkError::Run)?;
    let invariant = target(&first.report.invariants, options.invariant.as_deref(), seed)?;

    let explicit = Candidate {
        faults: units(&first.applied),
        script: first.history.as_ref().and_then(from_history),
        duration: scenario.duration,
    };
    let original = Sizes {
        // The schedule as written plus what the nemesis drew for this seed.
        faults: scenario.world_spec(seed).faults.len(),
        clients: scenario.workload.as_ref().map_or(0, |w| w.clients as usize),
        operations: first.history.as_ref().map_or(0, |h| h.ops.len()),
        duration: scenario.duration,
    };
    let mut judge = Judge {
        registry,
        base: scenario,
        seed,
        invariant: invariant.clone(),
        runs: 1,
        max_runs: options.max_runs.max(2),
        hit_limit: false,
    };
    let Ok(Some(mut violation_at)) = judge.violation(&explicit) else {
        return Err(ShrinkError::NotReproduced { seed, invariant });
    };
    let mut best = explicit.clone();
    let mut first_pass = true;
    loop {
        let before = best.sizes();
        if first_pass {
            best = cut_after_violation(&mut judge, best, violation_at);
            first_pass = false;
        }
        best = fold_restarts(&mut judge, best);
        best = drop_faults(&mut judge, best);
        best = drop_clients(&mut judge, best);
        best = drop_operations(&mut judge, best);
        best = shorten_faults(&mut judge, best);
        best = shorten_run(&mut judge, best);
        if judge.hit_limit {
            break;
        }
        if best.sizes() == before {
            // Converged: a wider search for fewer operations, then round again if it found some.
            match fewer_operations(&mut judge, &best, explicit.script.as_deref()) {
                Some(smaller) => best = smaller,
                None => break,
            }
        }
    }
    best = renumber_clients(&mut judge, best);
    // The final candidate's own violation time, for the report.
    if let Ok(Some(at)) = judge.violation(&best) {
        violation_at = at;
    }
    let mut minimal = best.scenario(scenario);
    minimal.seed = seed;
    minimal.expect = Some(Expect {
        verdict: ExpectedVerdict::Violation,
        violates: vec![base_name(&invariant).to_string()],
    });
    minimal.description = describe(scenario, seed, &invariant);
    Ok(Shrunk {
        scenario: minimal,
        seed,
        invariant,
        violation_at,
        original,
        explicit: explicit.sizes(),
        minimal: best.sizes(),
        runs: judge.runs,
        hit_limit: judge.hit_limit,
    })
}

/// The invariant to keep failing: the named one, or the first that failed.
fn target(
    invariants: &[run::InvariantReport],
    named: Option<&str>,
    seed: u64,
) -> Result<String, ShrinkError> {
    let failed = |i: &&run::InvariantReport| matches!(i.status, Status::Violated(_));
    match named {
        Some(name) => {
            let found = invariants
                .iter()
                .find(|i| i.name == name || base_name(&i.name) == name)
                .ok_or_else(|| ShrinkError::UnknownInvariant {
                    name: name.to_string(),
                    checked: invariants.iter().map(|i| i.name.clone()).collect(),
                })?;
            if failed(&found) {
                Ok(found.name.clone())
            } else {
                Err(ShrinkError::NoFailure {
                    seed,
                    message: format!("{} does not fail ({})", found.name, found.status.name()),
                })
            }
        }
        None => invariants
            .iter()
            .filter(failed)
            .min_by_key(|i| match &i.status {
                Status::Violated(v) => v.at,
                _ => Nanos::MAX,
            })
            .map(|i| i.name.clone())
            .ok_or_else(|| ShrinkError::NoFailure {
                seed,
                message: "every invariant held or could not be decided".into(),
            }),
    }
}

fn describe(scenario: &Scenario, seed: u64, invariant: &str) -> String {
    let note = format!(
        "Shrunk by `sim shrink` from {} seed {seed}: the smallest schedule and workload found that still fail {invariant}.",
        scenario.file
    );
    if scenario.description.is_empty() {
        note
    } else {
        format!("{}\n\n{note}", scenario.description.trim_end())
    }
}

/// The run up to just after the violation (rounded up to a millisecond): nothing later can
/// matter to a safety violation, and a history checker still sees every operation up to it.
fn cut_after_violation(judge: &mut Judge<'_>, best: Candidate, at: Nanos) -> Candidate {
    let end = (at / NANOS_PER_MILLI + 1) * NANOS_PER_MILLI;
    if end >= best.duration {
        return best;
    }
    let c = Candidate {
        duration: end,
        ..best.clone()
    };
    if judge.probe(&c) == Probe::Fails {
        c
    } else {
        best
    }
}

/// Each crash (pause) and the restart (resume) that ends it as one crash with a `for`, where
/// the failure survives it (`explicit::folded`), until none is left to fold.
fn fold_restarts(judge: &mut Judge<'_>, mut best: Candidate) -> Candidate {
    'again: loop {
        let live = best.live_faults();
        for faults in folded(&live) {
            let c = Candidate {
                faults,
                ..best.clone()
            };
            match judge.probe(&c) {
                Probe::Fails => {
                    best = c;
                    continue 'again;
                }
                Probe::Passes => {}
                Probe::Exhausted => return best,
            }
        }
        return best;
    }
}

/// The share of the run cap one wider search may spend (module `wider`): it must leave the
/// rounds after it, and the final run, their runs.
const WIDER_SHARE: usize = 2;

/// Fewer operations than delta debugging left, by the wider search of module `wider` over the
/// operations left and those of the explicit run (`pool`), within its share of the cap.
fn fewer_operations(
    judge: &mut Judge<'_>,
    best: &Candidate,
    pool: Option<&[ScriptOp]>,
) -> Option<Candidate> {
    let script = best.script.as_ref()?;
    let live: Vec<ScriptOp> = script
        .iter()
        .filter(|o| o.at < best.duration)
        .cloned()
        .collect();
    let pool: Vec<ScriptOp> = pool
        .unwrap_or_default()
        .iter()
        .filter(|o| o.at < best.duration)
        .cloned()
        .collect();
    let left = judge.max_runs.saturating_sub(judge.runs + 2);
    let budget = (judge.max_runs / WIDER_SHARE).min(left);
    let ops = wider::fewer(&live, &pool, budget, |ops| {
        judge.probe(&Candidate {
            script: Some(ops.to_vec()),
            ..best.clone()
        })
    })?;
    Some(Candidate {
        script: Some(ops),
        ..best.clone()
    })
}

fn drop_faults(judge: &mut Judge<'_>, best: Candidate) -> Candidate {
    let live: Vec<Unit> = best
        .faults
        .iter()
        .filter(|u| u.at() < best.duration)
        .cloned()
        .collect();
    let faults = ddmin(live, |faults| {
        judge.probe(&Candidate {
            faults: faults.to_vec(),
            ..best.clone()
        })
    });
    Candidate { faults, ..best }
}

fn drop_clients(judge: &mut Judge<'_>, best: Candidate) -> Candidate {
    let Some(script) = &best.script else {
        return best;
    };
    let mut clients: Vec<u32> = script.iter().map(|o| o.client).collect();
    clients.sort_unstable();
    clients.dedup();
    let with = |kept: &[u32]| -> Candidate {
        Candidate {
            script: Some(
                script
                    .iter()
                    .filter(|o| kept.contains(&o.client))
                    .cloned()
                    .collect(),
            ),
            ..best.clone()
        }
    };
    let kept = ddmin(clients, |kept| judge.probe(&with(kept)));
    with(&kept)
}

fn drop_operations(judge: &mut Judge<'_>, best: Candidate) -> Candidate {
    let Some(script) = &best.script else {
        return best;
    };
    let live: Vec<ScriptOp> = script
        .iter()
        .filter(|o| o.at < best.duration)
        .cloned()
        .collect();
    let kept = ddmin(live, |ops| {
        judge.probe(&Candidate {
            script: Some(ops.to_vec()),
            ..best.clone()
        })
    });
    Candidate {
        script: Some(kept),
        ..best
    }
}

/// Each fault's `for`, as short as still fails, to the millisecond (or the nanosecond, for a
/// fault shorter than one).
fn shorten_faults(judge: &mut Judge<'_>, mut best: Candidate) -> Candidate {
    for i in 0..best.faults.len() {
        let Some(d) = best.faults[i].lasting() else {
            continue;
        };
        let step = if d >= NANOS_PER_MILLI {
            NANOS_PER_MILLI
        } else {
            1
        };
        let with = |best: &Candidate, d: Nanos| {
            let mut c = best.clone();
            c.faults[i] = c.faults[i].lasting_for(d);
            c
        };
        let shortest = shortest(d, step, |d| judge.probe(&with(&best, d)));
        best = with(&best, shortest);
    }
    best
}

/// The run's duration, as short as still fails, to the millisecond.
fn shorten_run(judge: &mut Judge<'_>, best: Candidate) -> Candidate {
    let step = if best.duration >= NANOS_PER_MILLI {
        NANOS_PER_MILLI
    } else {
        1
    };
    let duration = shortest(best.duration, step, |d| {
        judge.probe(&Candidate {
            duration: d,
            ..best.clone()
        })
    });
    Candidate { duration, ..best }
}

/// The clients left, renumbered 0, 1, …, if the failure survives their new streams.
fn renumber_clients(judge: &mut Judge<'_>, best: Candidate) -> Candidate {
    let Some(script) = &best.script else {
        return best;
    };
    let mut clients: Vec<u32> = script.iter().map(|o| o.client).collect();
    clients.sort_unstable();
    clients.dedup();
    if clients.iter().enumerate().all(|(i, &c)| c == i as u32) {
        return best;
    }
    let renumbered = Candidate {
        script: Some(
            script
                .iter()
                .map(|o| ScriptOp {
                    client: clients.iter().position(|&c| c == o.client).unwrap_or(0) as u32,
                    ..o.clone()
                })
                .collect(),
        ),
        ..best.clone()
    };
    if judge.probe(&renumbered) == Probe::Fails {
        renumbered
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Stats;

    fn load(file: &str) -> Scenario {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        Scenario::load(&path).expect("a catalogue scenario")
    }

    fn run_seed(s: &Scenario, seed: u64) -> run::RunOutput {
        let options = RunOptions {
            seed: Some(seed),
            ..RunOptions::default()
        };
        run::run(s, &options).expect("it runs")
    }

    /// Everything but the trace records themselves (an explicit fault is written differently).
    fn behaviour(out: &run::RunOutput) -> String {
        let stats = Stats {
            events: 0,
            ..out.report.stats
        };
        let statuses: Vec<String> = out
            .report
            .invariants
            .iter()
            .map(|i| format!("{} {:?}", i.name, i.status))
            .collect();
        format!(
            "{stats:?}\n{statuses:?}\n{:?}\n{:?}",
            out.report.sections,
            out.history.as_ref().map(|h| &h.ops)
        )
    }

    #[test]
    fn a_pinned_swarm_world_is_the_same_run_and_reads_back_without_ranges() {
        for file in [
            "scenarios/raft/swarm.toml",
            "scenarios/failover/naive-swarm.toml",
        ] {
            let swarm = load(file);
            for seed in 1..6 {
                let pinned = swarm.pin_world(seed).expect("pinned");
                assert!(pinned.swarm.is_none());
                let (a, b) = (run_seed(&swarm, seed), run_seed(&pinned, seed));
                assert_eq!(
                    a.report.trace_hash, b.report.trace_hash,
                    "{file} seed {seed}"
                );
                // Its text is a fixed scenario: it parses, with no swarm, to the same world.
                let text = pinned.to_toml().expect("writable");
                let back = Scenario::parse(file, &text).expect("reads back");
                assert!(back.swarm.is_none(), "{file} seed {seed}");
                let world = |s: &Scenario| {
                    let w = s.world_spec(seed);
                    format!("{:?} {:?}", w.link, w.clocks)
                };
                assert_eq!(world(&back), world(&pinned), "{file} seed {seed}");
            }
        }
    }

    #[test]
    fn the_explicit_form_of_a_run_is_the_same_run() {
        // Drawn clients and a dynamic target; a nemesis of partitions and pauses; a nemesis of
        // every shape (rings and bridges become cuts).
        for (file, seed) in [
            ("scenarios/raft/kv-follower-read.toml", 2),
            ("scenarios/failover/naive-split-brain-nemesis.toml", 3),
            ("scenarios/raft/nemesis-partitions.toml", 4),
        ] {
            let s = load(file);
            let first = run_seed(&s, seed);
            let explicit = Candidate {
                faults: units(&first.applied),
                script: first.history.as_ref().and_then(from_history),
                duration: s.duration,
            };
            let again = run_seed(&explicit.scenario(&s), seed);
            assert_eq!(behaviour(&again), behaviour(&first), "{file} seed {seed}");
            let scenario = explicit.scenario(&s);
            assert!(scenario.nemesis.is_none());
            assert!(
                scenario.faults.iter().all(|f| !f.action.is_dynamic()),
                "{file}: {:?}",
                scenario.faults
            );
        }
    }

    #[test]
    fn a_split_brain_under_a_nemesis_shrinks_to_one_fault_that_fails_on_its_own() {
        let s = load("scenarios/failover/naive-split-brain-nemesis.toml");
        let options = ShrinkOptions {
            seed: Some(3),
            invariant: None,
            max_runs: DEFAULT_MAX_RUNS,
        };
        let shrunk = shrink(&s, &options).expect("seed 3 splits the brain");
        assert_eq!(shrunk.invariant, "no_split_brain");
        assert!(shrunk.minimal.faults <= 2, "{:?}", shrunk.minimal);
        assert!(shrunk.minimal.duration < s.duration);
        assert!(shrunk.original.faults > 5, "{:?}", shrunk.original);
        assert!(
            !shrunk.hit_limit && shrunk.runs < 500,
            "{} runs",
            shrunk.runs
        );
        // Written out and read back, it fails on its own, at the same instant.
        let text = shrunk.scenario.to_toml().expect("writable");
        let back = Scenario::parse("shrunk.toml", &text).expect("it reads back");
        assert_eq!(back.seed, 3);
        assert!(back.nemesis.is_none());
        let out = run::run(&back, &RunOptions::default()).expect("it runs");
        assert_eq!(
            violated_at(&out.report.invariants, "no_split_brain"),
            Some(shrunk.violation_at)
        );
        assert_eq!(out.report.expect.map(|e| e.met), Some(true));
    }

    #[test]
    fn the_run_cap_stops_early_with_a_scenario_that_still_fails() {
        let s = load("scenarios/raft/kv-follower-read.toml");
        let options = ShrinkOptions {
            seed: Some(2),
            invariant: Some("linearizable".into()),
            max_runs: 6,
        };
        let shrunk = shrink(&s, &options).expect("seed 2 is not linearizable");
        assert!(shrunk.hit_limit);
        assert!(shrunk.runs <= 7, "{}", shrunk.runs);
        let out = run_seed(&shrunk.scenario, 2);
        assert!(violated_at(&out.report.invariants, "linearizable").is_some());
    }

    #[test]
    fn nothing_to_shrink_is_an_error_that_says_why() {
        let s = load("scenarios/raft/basic-election.toml");
        let options = ShrinkOptions {
            seed: None,
            invariant: None,
            max_runs: 10,
        };
        let e = shrink(&s, &options).expect_err("basic election passes");
        assert!(matches!(e, ShrinkError::NoFailure { .. }), "{e}");
        let named = ShrinkOptions {
            invariant: Some("linearizable".into()),
            ..options
        };
        let e = shrink(&s, &named).expect_err("not checked");
        assert!(
            e.to_string().starts_with(
                "the scenario does not check `linearizable`; it checks election_safety"
            ),
            "{e}"
        );
    }
}
