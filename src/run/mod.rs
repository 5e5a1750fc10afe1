//! The composition root: one scenario and one seed in, one judged run out.
//!
//! It reads a [`Scenario`], picks the protocol type by name (monomorphised once, here), builds
//! the [`World`] with the invariants of `[check]`, the story recorder, the builders of the
//! report's sections (elections, failure-detector metrics, the protocol's own) and, when asked,
//! the trace writer — all behind one observer — runs it, and turns what they saw into a
//! [`RunReport`]. The engine knows none of these; they know no protocol.

mod answers;
#[cfg(test)]
mod api_tests;
pub(crate) mod determinism;
pub mod exit;
#[cfg(test)]
mod fact_tests;
pub mod limit;
pub(crate) mod panic;
pub(crate) mod probe;
pub mod registry;
pub mod story;
pub mod trace_file;

use std::any::Any;
use std::fmt;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use serde::Serialize;

use crate::check::detector::DetectorStats;
use crate::check::{self, Invariant, Property, Status};
use crate::node::{Nanos, ObservationKinds, Protocol, Section, SectionBuilder};
use crate::scenario::{ExpectedVerdict, Scenario, ScenarioError};
use crate::workload::Workload;
use crate::workload::history::{History, Outcome as OpOutcome};
use crate::world::{Cluster, Event, FaultRecord, Observer, Outcome, Record, Stats, World};

use exit::ExitCode;
use limit::{Counted, LimitHit};
use story::{ElectionsSection, Story, StoryLine};
use trace_file::TraceWriter;

/// How to run: the default is the scenario's own seed, no trace file, nothing captured.
///
/// ```
/// use sim::run::{RunOptions, run};
/// # let scenario = sim::scenario::Scenario::load(std::path::Path::new(concat!(
/// #     env!("CARGO_MANIFEST_DIR"),
/// #     "/scenarios/failover/naive-split-brain.toml"
/// # )))?;
/// let options = RunOptions { seed: Some(7), capture: true, ..RunOptions::default() };
/// let out = run(&scenario, &options)?;
/// assert_eq!(out.report.seed, 7);
/// let lines = out.records.expect("captured");
/// assert_eq!(lines.len() as u64, out.report.stats.events, "one trace line per event");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Write `trace.jsonl` here.
    pub trace_path: Option<PathBuf>,
    /// Keep every trace line in memory (to compare two runs).
    pub capture: bool,
}

/// Why a run could not happen.
///
/// ```
/// use sim::run::{RunError, RunOptions};
/// use sim::scenario::Scenario;
///
/// // A scenario that reads fine but names no known protocol fails at run time with a located error.
/// let scenario = Scenario::parse("typo.toml", "name = \"t\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"raft\"\n")?;
/// let mut wrong = scenario.clone();
/// wrong.protocol = "rafft".into();
/// let err = sim::run::run(&wrong, &RunOptions::default()).err().expect("unknown protocol");
/// assert!(matches!(err, RunError::Scenario(_)));
/// assert!(err.to_string().contains("unknown protocol `rafft`"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub enum RunError {
    /// The scenario (or its `[protocol]` table) is wrong: exit 2.
    Scenario(ScenarioError),
    /// An output file could not be written: exit 2.
    Io {
        /// The file that could not be written.
        path: String,
        /// What the operating system said.
        error: String,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Scenario(e) => write!(f, "{e}"),
            RunError::Io { path, error } => write!(f, "{path}: {error}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<ScenarioError> for RunError {
    fn from(e: ScenarioError) -> Self {
        RunError::Scenario(e)
    }
}

/// The verdict of a run.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::run::{RunOptions, Verdict};
/// let registry = registry();
/// let scenario = registry.scenario("tiny.toml", SCENARIO)?;
/// let report = registry.run(&scenario, &RunOptions::default(), None)?.report;
/// assert_eq!(report.verdict, Verdict::Pass);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every invariant held.
    Pass,
    /// A safety or liveness invariant was broken.
    Violation,
    /// Nothing was broken, but some invariant could not be decided before the run ended (or the
    /// run hit its event limit).
    Unknown,
}

impl Verdict {
    /// The verdict as the reports print it: `pass`, `violation` or `unknown`.
    ///
    /// ```
    /// use sim::run::Verdict;
    /// assert_eq!(Verdict::Violation.name(), "violation");
    /// assert_eq!(serde_json::to_value(Verdict::Unknown).unwrap(), "unknown");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Violation => "violation",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One invariant's verdict.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Property, Status};
/// use sim::run::RunOptions;
/// let registry = registry();
/// let scenario = registry.scenario("tiny.toml", SCENARIO)?;
/// let report = registry.run(&scenario, &RunOptions::default(), None)?.report;
/// // One per `[check]` entry, in that order.
/// let names: Vec<&str> = report.invariants.iter().map(|i| i.name.as_str()).collect();
/// assert_eq!(names, ["election_safety", "writes_counted", "linearizable"]);
/// let writes = &report.invariants[1];
/// assert_eq!((writes.property, &writes.status), (Property::Safety, &Status::Pass));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct InvariantReport {
    /// The invariant's name, as `[check]` spells it.
    pub name: String,
    /// Safety (never broken at any instant) or liveness (eventually true).
    pub property: Property,
    /// Held, violated (when and why) or unknown (why it could not be decided).
    pub status: Status,
    /// A line of context when it passed (who led, how fast).
    pub detail: Option<String>,
}

/// Whether the run did what the scenario's `[expect]` said.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::run::RunOptions;
/// // The scenario says it must fail `writes_counted`; it passes, so `[expect]` is not met.
/// let text = format!("{SCENARIO}\n[expect]\nverdict = \"violation\"\nviolates = [\"writes_counted\"]\n");
/// let registry = registry();
/// let report = registry.run(&registry.scenario("tiny.toml", &text)?, &RunOptions::default(), None)?.report;
/// let expect = report.expect.expect("the scenario has [expect]");
/// assert!(!expect.met);
/// assert_eq!(expect.violates, ["writes_counted"]);
/// assert!(!expect.problems.is_empty(), "and says why");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectReport {
    /// The verdict `[expect]` names: `pass` or `violation`.
    pub verdict: ExpectedVerdict,
    /// The invariants `[expect]` says must fail; empty for an expected pass.
    pub violates: Vec<String>,
    /// True when the run's verdict and its failed invariants are what `[expect]` says.
    pub met: bool,
    /// Why not, when not met.
    pub problems: Vec<String>,
}

/// Everything a run produced, ready to print, serialise or compare: the verdict and each
/// invariant's, the trace hash, the story, and the command that replays it.
///
/// ```
/// # let scenario = sim::scenario::Scenario::load(std::path::Path::new(concat!(
/// #     env!("CARGO_MANIFEST_DIR"),
/// #     "/scenarios/raft/basic-election.toml"
/// # )))?;
/// use sim::run::exit::ExitCode;
///
/// let report = sim::run::run(&scenario, &Default::default())?.report;
/// assert_eq!(report.verdict.name(), "pass");
/// assert_eq!(report.exit_code(), ExitCode::Held);
/// assert_eq!(report.exit_code().code(), 0, "the process exit status");
/// assert_eq!(report.trace_hash.len(), 16, "64 bits, in hex");
/// assert!(report.replay.ends_with("--seed 1"), "{}", report.replay);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The scenario file as given (replay lines and messages name it).
    pub file: String,
    /// The scenario's `name`.
    pub scenario: String,
    /// The scenario's `description` ("" when it has none).
    pub description: String,
    /// The seed the run used: `--seed` when given, else the scenario's own.
    pub seed: u64,
    /// The protocol's `NAME`, as `cluster.protocol` names it.
    pub protocol: String,
    /// Node names, in cluster order (`NodeId(i)` is the i-th).
    pub nodes: Vec<String>,
    /// The scenario's `duration`: the virtual time the run was asked to last, in nanoseconds.
    pub duration: Nanos,
    /// How the run ended: at its duration, or at its event limit.
    pub outcome: Outcome,
    /// The `[limits]` entry that ended the run, if one did.
    pub limit: Option<LimitHit>,
    /// Where virtual time stopped.
    pub virtual_time: Nanos,
    /// A 64-bit hash of the trace, 16 hex digits: the same scenario and seed give the same hash on
    /// any machine.
    pub trace_hash: String,
    /// What the engine counted: events, messages sent, delivered and dropped, and the like.
    pub stats: Stats,
    /// One verdict per invariant of `[check]`, in `[check]` order.
    pub invariants: Vec<InvariantReport>,
    /// In swarm mode, the world this seed drew: (TOML key path, value as TOML spells it), in a
    /// fixed order; `None` when the scenario's world is fixed.
    pub swarm: Option<Vec<(String, String)>>,
    /// The concrete fault schedule: (time, what happened).
    pub faults: Vec<StoryLine>,
    /// The run told in sentences, in virtual-time order: what `sim run` prints under "story".
    pub story: Vec<StoryLine>,
    /// What the run measured beyond its verdicts — elections, failure-detector metrics, the
    /// protocol's own sections — in the order every renderer prints them.
    pub sections: Vec<Section>,
    /// The run's verdict: the worst of its invariants'.
    pub verdict: Verdict,
    /// Whether the run matched the scenario's `[expect]`; `None` when the scenario has none.
    pub expect: Option<ExpectReport>,
    /// The command line that reproduces this run.
    pub replay: String,
}

impl RunReport {
    /// How the run ends for CI, as [`exit::of_run`] decides it from the checks: held, a safety
    /// property failed, or a liveness property failed or the run could not decide
    /// (docs/ARCHITECTURE.md#exit-codes). `.code()` is the process exit status.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::run::{RunOptions, exit::ExitCode};
    /// let registry = registry();
    /// let report = registry.run(&registry.scenario("tiny.toml", SCENARIO)?, &RunOptions::default(), None)?.report;
    /// assert_eq!(report.exit_code(), ExitCode::Held);
    /// assert_eq!(report.exit_code().code(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exit_code(&self) -> ExitCode {
        let checks = self
            .invariants
            .iter()
            .map(|i| exit::of_check(i.property, &i.status));
        exit::of_run(checks, self.verdict == Verdict::Pass)
    }
}

/// A finished run, with its trace lines when they were captured.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::run::RunOptions;
/// let registry = registry();
/// let scenario = registry.scenario("tiny.toml", SCENARIO)?;
/// let options = RunOptions { capture: true, ..RunOptions::default() };
/// let out = registry.run(&scenario, &options, None)?;
/// // The clients' history: every operation Tiny's two clients invoked.
/// let history = out.history.expect("the scenario has a [workload]");
/// assert!(history.ops.iter().any(|op| op.process == 1));
/// assert_eq!(out.records.unwrap().len() as u64, out.report.stats.events);
/// assert!(out.applied.is_empty(), "no faults");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RunOutput {
    /// The judged run.
    pub report: RunReport,
    /// Every trace line (JSON, no newline), when [`RunOptions::capture`] asked for them.
    pub records: Option<Vec<String>>,
    /// What the clients saw, when the scenario has a `[workload]`: every operation, in
    /// invocation order, times in true virtual nanoseconds.
    pub history: Option<History>,
    /// The concrete fault schedule as the world applied it (targets resolved), in firing order.
    pub applied: Vec<FaultRecord>,
}

/// Runs `scenario` with the protocol it names, through the process's [`registry`].
///
/// ```
/// use sim::run::exit::ExitCode;
/// use sim::run::{RunOptions, Verdict, run};
/// use sim::scenario::Scenario;
///
/// // The first lesson: a partition makes the naive fail-over's standby a second master.
/// let text = include_str!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/scenarios/failover/naive-split-brain.toml"
/// ));
/// let scenario = Scenario::parse("naive-split-brain.toml", text)?;
/// let out = run(&scenario, &RunOptions::default())?;
/// let report = &out.report;
/// assert_eq!(report.verdict, Verdict::Violation);
/// let failed: Vec<&str> = report
///     .invariants
///     .iter()
///     .filter(|i| matches!(i.status, sim::node::Status::Violated(_)))
///     .map(|i| i.name.as_str())
///     .collect();
/// assert_eq!(failed, ["no_split_brain"]);
/// assert_eq!(report.exit_code(), ExitCode::SafetyViolated);
/// assert!(report.expect.as_ref().is_some_and(|e| e.met), "the file expects this violation");
///
/// // Same scenario, same seed: the same trace, to the byte, so the same hash.
/// let again = run(&scenario, &RunOptions::default())?;
/// assert_eq!(again.report.trace_hash, report.trace_hash);
/// # Ok::<(), sim::run::RunError>(())
/// ```
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunOutput, RunError> {
    run_panicking_at(scenario, options, None)
}

/// [`run`], with a test aid: when `panic_at` is given, the run panics at that virtual time (see
/// [`World::panic_at`]), so that the handling of a protocol's or checker's panic can be tested
/// end to end without a buggy protocol.
pub(crate) fn run_panicking_at(
    scenario: &Scenario,
    options: &RunOptions,
    panic_at: Option<Nanos>,
) -> Result<RunOutput, RunError> {
    registry::installed().run(scenario, options, panic_at)
}

impl RunObserver {
    /// Hands the invariants that read steps each record that begins one.
    fn on_step<P: Protocol>(&mut self, record: &Record<'_, P>, cluster: &Cluster) {
        let (node, message) = match record.event {
            Event::Deliver { from, to, msg, .. } => (to, Some((from, msg as &dyn Any))),
            Event::Timer { node, .. } | Event::Start { node, .. } => (node, None),
            Event::RequestDeliver { to, .. } => (to, None),
            _ => return,
        };
        for &i in &self.stepping {
            self.invariants[i].on_step(record.at, node, message, cluster);
        }
    }
}

/// Positions of the invariants that read steps.
fn stepping(invariants: &[Box<dyn Invariant>]) -> Vec<usize> {
    (0..invariants.len())
        .filter(|&i| invariants[i].reads_steps())
        .collect()
}

/// Positions of readers of observations (checkers or sections), each with the kinds it reads.
type Readers = Vec<(ObservationKinds, usize)>;

/// The one observer of a run: checkers, report sections, story, and the trace when asked.
struct RunObserver {
    invariants: Vec<Box<dyn Invariant>>,
    sections: Vec<Box<dyn SectionBuilder>>,
    /// The invariants, then the sections, that read any observation at all, each with the kinds
    /// it reads: an observation goes only to those that read its kind, without a call to each
    /// of the others (a run with clients observes every log entry three times on every node).
    observing: (Readers, Readers),
    /// The invariants that read every step (`Invariant::reads_steps`): usually none.
    stepping: Vec<usize>,
    story: Story,
    trace: Option<TraceWriter<BufWriter<File>>>,
    capture: Option<Vec<String>>,
    /// Who answered each client operation (a run with clients).
    answers: Option<answers::Answers>,
    /// The limits only the observer can count.
    counted: Counted,
}

impl<P: Protocol> Observer<P> for RunObserver {
    #[inline]
    fn on_record(&mut self, record: &Record<'_, P>, cluster: &Cluster) {
        if !self.stepping.is_empty() {
            self.on_step(record, cluster);
        }
        match &record.event {
            Event::Observe { node, obs } => {
                let (invariants, sections) = &self.observing;
                for &(kinds, i) in invariants {
                    if kinds.contains(obs) {
                        self.invariants[i].on_observation(record.at, *node, obs, cluster);
                    }
                }
                for &(kinds, i) in sections {
                    if kinds.contains(obs) {
                        self.sections[i].on_observation(record.at, *node, obs, cluster);
                    }
                }
                self.story.on_observation(record.at, *node, obs, cluster);
            }
            Event::Fact { node, fact } => {
                for inv in &mut self.invariants {
                    inv.on_fact(record.at, *node, *fact, cluster);
                }
                for s in &mut self.sections {
                    s.on_fact(record.at, *node, *fact, cluster);
                }
            }
            Event::Fault(fault) => {
                for inv in &mut self.invariants {
                    inv.on_fault(record.at, fault, cluster);
                }
                for s in &mut self.sections {
                    s.on_fault(record.at, fault, cluster);
                }
                self.story.on_fault(fault, cluster);
            }
            Event::Invoke { .. } | Event::ReplyDeliver { .. } | Event::Complete { .. } => {
                if let Some(a) = &mut self.answers {
                    a.on_record(record);
                }
                if matches!(record.event, Event::Invoke { .. }) {
                    self.counted.invoked();
                }
            }
            _ => {}
        }
        if self.trace.is_some() || self.capture.is_some() {
            let line = trace_file::line(record, cluster);
            if let Some(t) = &mut self.trace {
                t.write_line(&line);
                self.counted.written(&line);
            }
            if let Some(c) = &mut self.capture {
                c.push(line);
            }
        }
    }

    #[inline]
    fn stop(&self) -> bool {
        self.counted.reached.is_some()
    }

    fn on_end(&mut self, cluster: &Cluster) {
        for inv in &mut self.invariants {
            inv.on_end(cluster);
        }
    }
}

fn run_protocol<P: Protocol>(
    scenario: &Scenario,
    options: &RunOptions,
    panic_at: Option<Nanos>,
) -> Result<RunOutput, RunError>
where
    P::Api: Workload,
{
    let config: P::Config = scenario.protocol_config()?;
    P::validate(&config, scenario.nodes.len()).map_err(|e| {
        if e.field.is_empty() {
            scenario.error_at(&["cluster", "nodes"], e.message)
        } else {
            scenario.error_at(
                &["protocol", e.field],
                format!("{}: {}", e.field, e.message),
            )
        }
    })?;
    let workload_options = scenario.workload_options()?;
    if let Some(script) = &scenario.script
        && let Some(i) = <P::Api as Workload>::foreign(script)
    {
        return Err(scenario
            .error_at(
                &["workload", "script", &i.to_string(), "op"],
                format!(
                    "a {} is no operation of {}'s clients, which run the {} workload",
                    crate::workload::script::op_name(&script[i].call),
                    P::NAME,
                    <P::Api as Workload>::KIND
                ),
            )
            .into());
    }
    if let Some(spec) = &scenario.workload {
        <P::Api as Workload>::validate(&workload_options, spec, scenario.nodes.len()).map_err(
            |e| {
                if e.field.is_empty() {
                    scenario.error_at(&["workload"], e.message)
                } else {
                    scenario.error_at(
                        &["workload", e.field],
                        format!("{}: {}", e.field, e.message),
                    )
                }
            },
        )?;
    }
    let names: Vec<String> = match &scenario.check.invariants {
        Some(names) => names.clone(),
        None => P::DEFAULT_INVARIANTS
            .iter()
            .copied()
            .chain(
                // Linearizability judges histories of reads and writes; other kinds bring
                // their own checks.
                (scenario.workload.is_some() && <P::Api as Workload>::LINEARIZABLE)
                    .then_some(check::HISTORY_DEFAULT),
            )
            .map(str::to_string)
            .collect(),
    };
    let invariants = check::build(
        &names,
        &scenario.check.bounds,
        scenario.nodes.len(),
        &P::invariants(),
    )
    .map_err(|e| scenario.error_at(&["check", "invariants"], e))?;
    let mut invariants = invariants;
    for inv in &mut invariants {
        inv.limit_steps(scenario.limits.checker_steps);
    }
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut header_bytes = 0;

    let trace = match &options.trace_path {
        None => None,
        Some(path) => {
            let file = File::create(path).map_err(|e| RunError::Io {
                path: path.display().to_string(),
                error: format!("cannot create the trace: {e}"),
            })?;
            let mut w = TraceWriter::new(BufWriter::new(file));
            let header = trace_file::header(&trace_file::Header {
                scenario: &scenario.name,
                file: &scenario.file,
                seed,
                protocol: &scenario.protocol,
                nodes: &scenario.nodes,
                duration: scenario.duration,
                narration: &scenario.narration,
            });
            header_bytes = header.len() as u64 + 1;
            w.write_line(&header);
            Some(w)
        }
    };
    let sections = report_sections::<P>(scenario.nodes.len());
    let observing = (
        interested(invariants.iter().map(|i| i.observes())),
        interested(sections.iter().map(|s| s.observes())),
    );
    let stepping = stepping(&invariants);
    let observer = RunObserver {
        invariants,
        sections,
        observing,
        stepping,
        story: Story::new(scenario.nodes.len()),
        trace,
        capture: options.capture.then(Vec::new),
        answers: scenario
            .workload
            .as_ref()
            .map(|_| answers::Answers::default()),
        counted: Counted::new(&scenario.limits, header_bytes),
    };

    // The clients of the interface the protocol serves.
    let clients = match &scenario.workload {
        Some(w) => <P::Api as Workload>::clients(w, &workload_options, scenario.script.as_deref()),
        None => Vec::new(),
    };
    let (mut spec, swarm) = scenario.draw_world(seed);
    // Virtual time is capped before the run: the world then simply ends there.
    let time_capped = spec.duration > scenario.limits.virtual_time;
    spec.duration = spec.duration.min(scenario.limits.virtual_time);
    let mut world: World<P, RunObserver, <P::Api as Workload>::Client> =
        World::with_clients(spec, config, observer, clients);
    world.limit_in_flight_per_link(scenario.limits.in_flight_per_link);
    if let Some(at) = panic_at {
        world.panic_at(at);
    }
    let outcome = world.run();
    let limit = match outcome {
        Outcome::Completed if time_capped => Some(("virtual_time", None)),
        Outcome::Completed => None,
        Outcome::EventLimit => Some(("events", None)),
        Outcome::InFlightLimit { from, to } => Some((
            "in_flight_per_link",
            Some(format!(
                "on the link {} → {}",
                scenario.nodes[from as usize], scenario.nodes[to as usize]
            )),
        )),
        Outcome::Stopped => world.observer().counted.reached.map(|name| (name, None)),
    }
    .map(|(name, detail)| LimitHit::new(scenario, name, world.now(), detail));
    let mut history = scenario
        .workload
        .as_ref()
        .map(|_| <P::Api as Workload>::into_history(world.take_clients()));
    if let (Some(h), Some(a)) = (&mut history, &world.observer().answers) {
        a.name(h, &scenario.nodes);
    }
    if let Some(h) = &history {
        // A checker that panics on the history is placed at the run's end.
        world.noting_panics(|w| {
            for inv in w.observer_mut().invariants.iter_mut() {
                inv.on_history(h);
            }
            for s in w.observer_mut().sections.iter_mut() {
                s.on_history(h);
            }
        });
    }
    let stats = world.stats();
    let trace_hash = world.trace_hash();
    let virtual_time = world.now();
    let faults: Vec<StoryLine> = world
        .faults()
        .iter()
        .map(|f| StoryLine {
            at: f.at,
            text: f.describe(world.cluster()),
        })
        .collect();
    let applied = world.faults().to_vec();
    let invariants: Vec<InvariantReport> = world
        .observer()
        .invariants
        .iter()
        .map(|inv| InvariantReport {
            name: inv.name(),
            property: inv.property(),
            status: inv.status(),
            detail: inv.detail(world.cluster()),
        })
        .collect();
    let sections: Vec<Section> = world
        .observer()
        .sections
        .iter()
        .filter_map(|s| s.section(world.cluster()))
        .collect();
    let told: Vec<(Nanos, String)> = world
        .observer()
        .sections
        .iter()
        .flat_map(|s| s.story(world.cluster()))
        .collect();
    let (story, trace, records) = {
        let mut observer = world.into_observer();
        for (at, text) in told {
            observer.story.note(at, text);
        }
        // The teacher's lines, marked so the class tells them from what the run did.
        for line in &scenario.narration {
            observer.story.note(line.at, format!("» {}", line.text));
        }
        for inv in &invariants {
            if let Status::Violated(v) = &inv.status {
                observer
                    .story
                    .note(v.at, format!("VIOLATION {}: {}", inv.name, v.message));
            }
        }
        if let Some(h) = &history {
            observer.story.note(virtual_time, history_summary(h));
        }
        if let Some(hit) = &limit {
            observer.story.note(virtual_time, hit.sentence());
        }
        let story = observer.story.finish(&scenario.nodes);
        (story, observer.trace, observer.capture)
    };
    if let Some(mut t) = trace {
        t.write_line(&trace_file::footer(virtual_time, stats.events, &trace_hash));
        let path = options
            .trace_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        t.finish().map_err(|e| RunError::Io {
            path,
            error: format!("cannot write the trace: {e}"),
        })?;
    }
    let verdict = if invariants
        .iter()
        .any(|i| matches!(i.status, Status::Violated(_)))
    {
        Verdict::Violation
    } else if limit.is_some()
        || invariants
            .iter()
            .any(|i| matches!(i.status, Status::Unknown(_)))
    {
        Verdict::Unknown
    } else {
        Verdict::Pass
    };
    let expect = scenario
        .expect
        .as_ref()
        .map(|e| judge_expectation(e.verdict, &e.violates, verdict, &invariants));
    let report = RunReport {
        file: scenario.file.clone(),
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        seed,
        protocol: scenario.protocol.clone(),
        nodes: scenario.nodes.clone(),
        duration: scenario.duration,
        outcome,
        limit,
        virtual_time,
        trace_hash,
        stats,
        invariants,
        swarm,
        faults,
        story,
        sections,
        verdict,
        expect,
        replay: replay_command(&scenario.file, seed),
    };
    Ok(RunOutput {
        report,
        records,
        history,
        applied,
    })
}

/// The position of each reader that reads some kind of observation, with the kinds it reads.
fn interested(kinds: impl Iterator<Item = ObservationKinds>) -> Vec<(ObservationKinds, usize)> {
    kinds
        .enumerate()
        .filter(|(_, k)| *k != ObservationKinds::NONE)
        .map(|(i, k)| (k, i))
        .collect()
}

/// The builders of a run's report sections: the common ones, then the protocol's own.
fn report_sections<P: Protocol>(nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
    let common: [Box<dyn SectionBuilder>; 2] = [
        Box::new(ElectionsSection::new(nodes)),
        Box::new(DetectorStats::new(nodes)),
    ];
    common
        .into_iter()
        .chain(P::report_sections(nodes))
        .collect()
}

/// The story's one line about the clients: how their operations ended.
fn history_summary(history: &History) -> String {
    let (mut ok, mut fail, mut info, mut pending) = (0, 0, 0, 0);
    for op in &history.ops {
        match (&op.outcome, op.complete) {
            (OpOutcome::Ok(_), _) => ok += 1,
            (OpOutcome::Fail, _) => fail += 1,
            (OpOutcome::Info, Some(_)) => info += 1,
            (OpOutcome::Info, None) => pending += 1,
        }
    }
    format!(
        "clients: {} operations: {ok} ok, {fail} fail, {info} info (timed out), {pending} pending at the end",
        history.ops.len()
    )
}

/// The invariant's name without its parameter: `leader_within 2s` → `leader_within`.
pub(crate) fn base_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

fn judge_expectation(
    expected: ExpectedVerdict,
    violates: &[String],
    verdict: Verdict,
    invariants: &[InvariantReport],
) -> ExpectReport {
    let mut problems = Vec::new();
    let violated: Vec<&str> = invariants
        .iter()
        .filter(|i| matches!(i.status, Status::Violated(_)))
        .map(|i| base_name(&i.name))
        .collect();
    match expected {
        ExpectedVerdict::Pass => {
            if verdict != Verdict::Pass {
                problems.push(format!("expected a pass, got {}", verdict.name()));
            }
        }
        ExpectedVerdict::Violation => {
            if verdict != Verdict::Violation {
                problems.push(format!("expected a violation, got {}", verdict.name()));
            }
            for name in violates {
                if !violated.contains(&name.as_str()) {
                    problems.push(format!("expected {name} to fail, but it did not"));
                }
            }
        }
    }
    ExpectReport {
        verdict: expected,
        violates: violates.to_vec(),
        met: problems.is_empty(),
        problems,
    }
}

/// `sim run FILE --seed N`, quoted for a POSIX shell when needed. A program of one's own
/// (`cli::main_with`) names itself instead of `sim`: plain `sim` does not know its
/// protocols.
///
/// ```
/// assert_eq!(sim::run::replay_command("scenarios/x.toml", 7), "sim run scenarios/x.toml --seed 7");
/// assert_eq!(sim::run::replay_command("my file.toml", 1), "sim run 'my file.toml' --seed 1");
/// ```
pub fn replay_command(file: &str, seed: u64) -> String {
    let program = PROGRAM.get().map_or("sim", String::as_str);
    format!("{program} run {} --seed {seed}", shell_quote(file))
}

/// The command that replays runs, when it is not `sim`; set once, by [`set_program`].
static PROGRAM: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the program replay lines give (`cargo run --example x --`, or the path of a binary of
/// one's own), quoted as given. Set once per process; a second call changes nothing.
pub(crate) fn set_program(program: &str) {
    let _ = PROGRAM.set(program.to_string());
}

/// `s` as one POSIX shell word: as it is when plain, else single-quoted.
pub(crate) fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PING: &str = r#"
name = "ping"
duration = "3s"
[cluster]
nodes = ["master", "standby"]
protocol = "naive-failover"
[protocol]
ping_interval = "100ms"
missed_pings = 3
"#;

    #[test]
    fn a_panic_in_a_run_is_caught_where_the_world_was() {
        let scenario = Scenario::parse("ping.toml", PING).unwrap();
        let options = RunOptions::default();
        let at = 1_234_000_000;
        let caught = panic::catch(|| run_panicking_at(&scenario, &options, Some(at)));
        let p = caught.err().expect("the run panicked");
        assert!(
            p.message.starts_with("a deliberate panic at 1.234s"),
            "{p:?}"
        );
        assert!(
            p.location
                .as_deref()
                .unwrap()
                .starts_with("src/world/engine.rs:")
        );
        let point = p.point.clone().expect("inside the world");
        assert_eq!(point.at, at);
        // The records before the panic are those of a run that stops there.
        let whole = run(&scenario, &options).unwrap().report;
        assert!(
            point.events > 0 && point.events < whole.stats.events,
            "{point:?}"
        );
        assert_eq!(point.trace_hash.len(), 16);
        assert!(
            p.sentence().ends_with("(at 1.234s of virtual time)"),
            "{p:?}"
        );
        // The note is taken: a later panic outside any world has none.
        let later = panic::catch(|| panic!("elsewhere")).unwrap_err();
        assert_eq!(later.point, None);
    }

    #[test]
    fn a_run_that_does_not_panic_is_unchanged_by_the_catch() {
        let scenario = Scenario::parse("ping.toml", PING).unwrap();
        let options = RunOptions::default();
        let caught = panic::catch(|| run(&scenario, &options)).unwrap().unwrap();
        let plain = run(&scenario, &options).unwrap();
        assert_eq!(caught.report.trace_hash, plain.report.trace_hash);
    }

    /// Counts the observations it is handed.
    struct Reads(ObservationKinds, std::rc::Rc<std::cell::Cell<u32>>);

    impl Invariant for Reads {
        fn name(&self) -> String {
            "reads".into()
        }
        fn property(&self) -> Property {
            Property::Safety
        }
        fn observes(&self) -> ObservationKinds {
            self.0
        }
        fn on_observation(
            &mut self,
            _: Nanos,
            _: u32,
            _: &crate::node::Observation,
            _: &dyn crate::node::RunView,
        ) {
            self.1.set(self.1.get() + 1);
        }
        fn status(&self) -> Status {
            Status::Pass
        }
    }

    /// The observer of a two-node run with these invariants, no sections, trace or clients.
    fn observer(
        invariants: Vec<Box<dyn Invariant>>,
        observing: (Readers, Readers),
        stepping: Vec<usize>,
    ) -> RunObserver {
        RunObserver {
            invariants,
            sections: Vec::new(),
            observing,
            stepping,
            story: Story::new(2),
            trace: None,
            capture: None,
            answers: None,
            counted: Counted::new(&Default::default(), 0),
        }
    }

    #[test]
    fn an_observation_reaches_the_readers_of_its_kind_and_no_others() {
        use crate::node::Observation;
        use crate::protocols::raft::Raft;
        use std::cell::Cell;
        use std::rc::Rc;
        let counts: Vec<Rc<Cell<u32>>> = (0..3).map(|_| Rc::default()).collect();
        let invariants: Vec<Box<dyn Invariant>> = vec![
            Box::new(Reads(ObservationKinds::APPENDED, counts[0].clone())),
            Box::new(Reads(ObservationKinds::NONE, counts[1].clone())),
            Box::new(Reads(ObservationKinds::ALL, counts[2].clone())),
        ];
        let observing = (
            interested(invariants.iter().map(|i| i.observes())),
            Vec::new(),
        );
        assert_eq!(observing.0.len(), 2, "a reader of no kind is not asked");
        let mut observer = observer(invariants, observing, Vec::new());
        let cluster = crate::check::tests::cluster(2);
        let appended = Observation::Appended {
            index: 1,
            term: 1,
            digest: 7,
        };
        let applied = Observation::Applied {
            index: 1,
            term: 1,
            digest: 7,
        };
        for obs in [&appended, &applied, &appended] {
            let record = Record::<Raft> {
                seq: 0,
                at: 0,
                event: Event::Observe { node: 0, obs },
            };
            observer.on_record(&record, &cluster);
        }
        let seen: Vec<u32> = counts.iter().map(|c| c.get()).collect();
        assert_eq!(seen, [2, 0, 3], "appended twice; none; everything");
    }

    /// A step as `Steps` writes it down: the node, and the sender and term of its message.
    type Step = (u32, Option<(u32, u64)>);

    /// Records the steps it is handed.
    struct Steps(std::rc::Rc<std::cell::RefCell<Vec<Step>>>);

    impl Invariant for Steps {
        fn name(&self) -> String {
            "steps".into()
        }
        fn property(&self) -> Property {
            Property::Safety
        }
        fn on_observation(
            &mut self,
            _: Nanos,
            _: u32,
            _: &crate::node::Observation,
            _: &dyn crate::node::RunView,
        ) {
        }
        fn reads_steps(&self) -> bool {
            true
        }
        fn on_step(
            &mut self,
            _: Nanos,
            node: u32,
            message: Option<(u32, &dyn Any)>,
            _: &dyn crate::node::RunView,
        ) {
            use crate::protocols::raft::Msg;
            let typed = message.map(|(from, m)| match m.downcast_ref::<Msg>() {
                Some(Msg::AppendReply { term, .. }) => (from, *term),
                other => panic!("a Raft message, typed: {other:?}"),
            });
            self.0.borrow_mut().push((node, typed));
        }
        fn status(&self) -> Status {
            Status::Pass
        }
    }

    #[test]
    fn each_step_reaches_the_invariants_that_read_steps_with_its_message_typed() {
        use crate::node::{Observation, Role};
        use crate::protocols::raft::{Msg, Raft, Timer};
        let seen = std::rc::Rc::default();
        let invariants: Vec<Box<dyn Invariant>> = vec![
            Box::new(Reads(ObservationKinds::ALL, Default::default())),
            Box::new(Steps(std::rc::Rc::clone(&seen))),
        ];
        let stepping = stepping(&invariants);
        assert_eq!(
            stepping,
            [1],
            "only the invariant that asks is handed steps"
        );
        let mut observer = observer(invariants, (Vec::new(), Vec::new()), stepping);
        let cluster = crate::check::tests::cluster(2);
        let reply = Msg::AppendReply {
            term: 4,
            success: true,
            match_index: 0,
            round: 1,
        };
        let role = Observation::Role {
            role: Role::Leader,
            term: 3,
        };
        let events = [
            Event::Start {
                node: 1,
                restart: true,
            },
            Event::Deliver {
                from: 1,
                to: 0,
                id: 9,
                msg: &reply,
            },
            Event::Observe {
                node: 0,
                obs: &role,
            },
            Event::Send {
                from: 0,
                to: 1,
                id: 10,
                msg: &reply,
            },
            Event::Timer {
                node: 0,
                timer: &Timer::Heartbeat,
            },
        ];
        for event in events {
            observer.on_record(
                &Record::<Raft> {
                    seq: 0,
                    at: 0,
                    event,
                },
                &cluster,
            );
        }
        assert_eq!(
            *seen.borrow(),
            [(1, None), (0, Some((1, 4))), (0, None)],
            "a restart, a delivered reply (not its send, nor an observation), a timer"
        );
    }

    #[test]
    fn replay_commands_quote_what_a_shell_would_split() {
        assert_eq!(
            replay_command("scenarios/raft/a.toml", 7),
            "sim run scenarios/raft/a.toml --seed 7"
        );
        assert_eq!(
            replay_command("my dir/it's.toml", 1),
            r"sim run 'my dir/it'\''s.toml' --seed 1"
        );
    }
}
