//! A test harness for a protocol of your own: many seeds of one scenario from a `#[test]`, and
//! on the first failing seed a panic that says everything needed to act on it.
//!
//! [`sweep`] registers the protocol beside the built-in ones in a registry of its own (never the
//! process's: tests run in parallel threads, and each may register other protocols), runs the
//! seeds on threads with the sweep's runner, and when a seed fails it
//! 1. picks the lowest failing seed — the same one for any number of threads (the runner's
//!    fail-fast rule, see [`crate::sweep::runner`]) — and its first failing invariant;
//! 2. shrinks that seed with the shrinker ([`crate::sweep::shrink`]) through the same registry,
//!    and writes the smallest scenario that still fails under `target/sim-failures/`;
//! 3. panics with the invariant, its message, the virtual time, the seed, that file and the
//!    command that replays it.
//!
//! A seed that panics, or whose failure is not a violation (a liveness bound that could not be
//! judged), is not shrunk: its scenario is written with the seed pinned, and the message says so.

mod failure;

use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::node::Protocol;
use crate::run::registry::Registry;
use crate::scenario::Scenario;
use crate::sweep::SeedResult;
use crate::sweep::runner::{RunnerOptions, run_seeds};
use crate::workload::Workload;

pub use failure::Failed;

/// Runs `seeds` of `scenario` with protocol `P` registered beside the built-in ones, and panics
/// on the lowest failing seed with the invariant, its message, the virtual time, the seed, a
/// shrunk scenario written under `target/sim-failures/` and the command that replays it.
/// Returns what ran when every seed held.
///
/// `scenario` is a path to a scenario file, or the scenario's text itself when it spans more
/// than one line. The replay command assumes the crate's default binary registers `P` (`cargo
/// run --release -- run …`); [`Sweep::replay_with`] names another.
///
/// ```
/// # use schemars::JsonSchema;
/// # use serde::Deserialize;
/// # use sim::node::{Ctx, DiskOf, NodeId, Observation, Protocol, Role};
/// # #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
/// # #[serde(deny_unknown_fields)]
/// # struct Config {}
/// # /// Node 0 leads term 1 and greets every peer once.
/// # struct Hello;
/// # impl Protocol for Hello {
/// #     const NAME: &'static str = "hello";
/// #     const SUMMARY: &'static str = "node 0 leads and greets every peer";
/// #     type Msg = ();
/// #     type Timer = ();
/// #     type Config = Config;
/// #     type Durable = ();
/// #     type Api = sim::node::Kv;
/// #     type Fact = sim::node::NoFacts;
/// #     type Record = ();
/// #     fn new(_: NodeId, _: &[NodeId], _: &Config, _: Option<&DiskOf<Self>>) -> Self {
/// #         Hello
/// #     }
/// #     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
/// #         if ctx.id() == NodeId(0) {
/// #             ctx.observe(Observation::Role { role: Role::Leader, term: 1 });
/// #             ctx.broadcast(());
/// #         }
/// #     }
/// #     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, (): ()) {}
/// #     fn on_timer(&mut self, _: &mut Ctx<'_, Self>, (): ()) {}
/// # }
/// // `Hello`: a protocol of one's own (hidden here), with `NAME = "hello"`.
/// let scenario = r#"
/// name = "greetings"
/// duration = "2s"
/// [cluster]
/// nodes = ["A", "B", "C"]
/// protocol = "hello"
/// [network]
/// latency = { dist = "uniform", min = "1ms", max = "5ms" }
/// [check]
/// invariants = ["election_safety"]
/// "#;
/// let passed = sim::testing::sweep::<Hello>(scenario, 0..8);
/// assert_eq!(passed.seeds, 8);
/// assert_eq!(passed.checked, ["election_safety"]);
/// ```
pub fn sweep<P: Protocol>(scenario: &str, seeds: impl IntoIterator<Item = u64>) -> Passed
where
    P::Api: Workload,
{
    Sweep::<P>::new(scenario).seeds(seeds).run()
}

/// What a sweep in which every seed held ran.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// let passed = sim::testing::sweep::<Tiny>(SCENARIO, 0..4);
/// assert_eq!(passed.seeds, 4);
/// assert_eq!(passed.checked, ["election_safety", "writes_counted", "linearizable"]);
/// assert!(passed.events > 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passed {
    /// Seeds run.
    pub seeds: u64,
    /// Events across all of them.
    pub events: u64,
    /// The invariants each seed checked, in `[check]` order.
    pub checked: Vec<String>,
}

/// [`sweep`] with its settings spelled out: the seeds, the threads, the replay command, the
/// shrinker's budget.
///
/// ```
/// # use schemars::JsonSchema;
/// # use serde::Deserialize;
/// # use sim::node::{Ctx, DiskOf, NodeId, Observation, Protocol, Role};
/// # #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
/// # #[serde(deny_unknown_fields)]
/// # struct Config {}
/// # /// Node 0 leads term 1 and greets every peer once.
/// # struct Hello;
/// # impl Protocol for Hello {
/// #     const NAME: &'static str = "hello";
/// #     const SUMMARY: &'static str = "node 0 leads and greets every peer";
/// #     type Msg = ();
/// #     type Timer = ();
/// #     type Config = Config;
/// #     type Durable = ();
/// #     type Api = sim::node::Kv;
/// #     type Fact = sim::node::NoFacts;
/// #     type Record = ();
/// #     fn new(_: NodeId, _: &[NodeId], _: &Config, _: Option<&DiskOf<Self>>) -> Self {
/// #         Hello
/// #     }
/// #     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
/// #         if ctx.id() == NodeId(0) {
/// #             ctx.observe(Observation::Role { role: Role::Leader, term: 1 });
/// #             ctx.broadcast(());
/// #         }
/// #     }
/// #     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, (): ()) {}
/// #     fn on_timer(&mut self, _: &mut Ctx<'_, Self>, (): ()) {}
/// # }
/// use sim::testing::Sweep;
///
/// let scenario = "name = \"b\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"hello\"\n";
/// let passed = Sweep::<Hello>::new(scenario)
///     .seeds(1..=4)
///     .jobs(2)
///     .replay_with("cargo run --release --bin my-sim --")
///     .run();
/// assert_eq!(passed.seeds, 4);
/// ```
pub struct Sweep<P: Protocol> {
    scenario: String,
    seeds: Vec<u64>,
    jobs: usize,
    replay: String,
    max_shrink_runs: usize,
    out_dir: Option<PathBuf>,
    protocol: PhantomData<fn() -> P>,
}

impl<P: Protocol> Sweep<P>
where
    P::Api: Workload,
{
    /// A sweep of `scenario` (a path, or the text when it spans lines) over seeds 0..100, on
    /// every core, replayed with `cargo run --release --`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::testing::Sweep;
    /// // Text (it spans lines) or a path to a scenario file.
    /// let passed = Sweep::<Tiny>::new(SCENARIO).seeds([7]).run();
    /// assert_eq!(passed.seeds, 1);
    /// ```
    pub fn new(scenario: &str) -> Self {
        Sweep {
            scenario: scenario.to_string(),
            seeds: (0..100).collect(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            replay: "cargo run --release --".to_string(),
            max_shrink_runs: 500,
            out_dir: None,
            protocol: PhantomData,
        }
    }

    /// The seeds to run (any order; each once).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::testing::Sweep;
    /// // Each seed once, whatever the order given.
    /// let passed = Sweep::<Tiny>::new(SCENARIO).seeds([3, 1, 3, 2]).run();
    /// assert_eq!(passed.seeds, 3);
    /// ```
    pub fn seeds(mut self, seeds: impl IntoIterator<Item = u64>) -> Self {
        let mut seeds: Vec<u64> = seeds.into_iter().collect();
        seeds.sort_unstable();
        seeds.dedup();
        self.seeds = seeds;
        self
    }

    /// Worker threads (at least 1). The result does not depend on it.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::testing::Sweep;
    /// let one = Sweep::<Tiny>::new(SCENARIO).seeds(0..3).jobs(1).run();
    /// let two = Sweep::<Tiny>::new(SCENARIO).seeds(0..3).jobs(2).run();
    /// assert_eq!(one, two, "the result does not depend on the threads");
    /// ```
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// The program that replays a failure, up to its arguments: the replay command is this,
    /// then `run FILE --seed N`. It must be a program that registers `P`, for example an
    /// example whose `main` calls `sim::cli::main_with`:
    /// `cargo run --release --example primary-backup --`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::testing::Sweep;
    /// // Tiny's scenario, with node A crashed for good: nobody leads again within 200ms.
    /// let text = format!("{SCENARIO}leader_within = \"200ms\"\n[[faults]]\nat = \"500ms\"\ncrash = \"A\"\n");
    /// let dir = std::env::temp_dir().join("sim-doc-replay-with");
    /// let failed = Sweep::<Tiny>::new(&text)
    ///     .seeds([1])
    ///     .replay_with("cargo run --release --example tiny --")
    ///     .max_shrink_runs(10)
    ///     .out_dir(&dir)
    ///     .try_run()
    ///     .unwrap_err();
    /// assert!(failed.replay.starts_with("cargo run --release --example tiny -- run "), "{}", failed.replay);
    /// ```
    pub fn replay_with(mut self, program: &str) -> Self {
        self.replay = program.to_string();
        self
    }

    /// The most runs the shrinker may spend on a failing seed (500 unless set).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::testing::Sweep;
    /// let text = format!("{SCENARIO}leader_within = \"200ms\"\n[[faults]]\nat = \"500ms\"\ncrash = \"A\"\n");
    /// let dir = std::env::temp_dir().join("sim-doc-max-shrink-runs");
    /// // No shrinking at all: the failing scenario is written as it was, its seed pinned.
    /// let failed = Sweep::<Tiny>::new(&text).seeds([1]).max_shrink_runs(0).out_dir(&dir).try_run().unwrap_err();
    /// assert!(failed.written.starts_with(&dir));
    /// ```
    pub fn max_shrink_runs(mut self, runs: usize) -> Self {
        self.max_shrink_runs = runs;
        self
    }

    /// Where failing scenarios are written (`target/sim-failures/` unless set).
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::testing::Sweep;
    /// let text = format!("{SCENARIO}leader_within = \"200ms\"\n[[faults]]\nat = \"500ms\"\ncrash = \"A\"\n");
    /// let dir = std::env::temp_dir().join("sim-doc-out-dir");
    /// let failed = Sweep::<Tiny>::new(&text).seeds([1]).max_shrink_runs(10).out_dir(&dir).try_run().unwrap_err();
    /// assert!(failed.written.starts_with(&dir) && failed.written.exists());
    /// ```
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Runs the sweep; panics with [`Failed`]'s message on the lowest failing seed.
    ///
    /// # Panics
    /// When a seed fails, and when the scenario cannot be read or does not name `P`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::testing::Sweep;
    /// let text = format!("{SCENARIO}leader_within = \"200ms\"\n[[faults]]\nat = \"500ms\"\ncrash = \"A\"\n");
    /// let dir = std::env::temp_dir().join("sim-doc-run");
    /// // A failing seed panics with the whole story: invariant, time, seed, written file, replay line.
    /// let panic = std::panic::catch_unwind(|| {
    ///     Sweep::<Tiny>::new(&text).seeds([1]).max_shrink_runs(10).out_dir(&dir).run()
    /// })
    /// .unwrap_err();
    /// let message = panic.downcast_ref::<String>().unwrap();
    /// assert!(message.contains("leader_within") && message.contains("seed 1"), "{message}");
    /// ```
    pub fn run(self) -> Passed {
        match self.try_run() {
            Ok(passed) => passed,
            Err(failed) => panic!("{failed}"),
        }
    }

    /// Runs the sweep; the lowest failing seed as an error, for a test that inspects it.
    ///
    /// # Panics
    /// When the scenario cannot be read or does not name `P`: a mistake in the test.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::testing::Sweep;
    /// let text = format!("{SCENARIO}leader_within = \"200ms\"\n[[faults]]\nat = \"500ms\"\ncrash = \"A\"\n");
    /// let dir = std::env::temp_dir().join("sim-doc-try-run");
    /// let failed = Sweep::<Tiny>::new(&text).seeds(0..4).max_shrink_runs(10).out_dir(&dir).try_run().unwrap_err();
    /// assert_eq!(failed.seed, 0, "the lowest failing seed");
    /// assert!(failed.invariant.starts_with("leader_within"), "{}", failed.invariant);
    /// ```
    pub fn try_run(self) -> Result<Passed, Box<Failed>> {
        let registry = registry_with::<P>();
        let scenario = self.read(&registry);
        assert_eq!(
            scenario.protocol,
            P::NAME,
            "{}: the scenario runs `{}`, not `{}`",
            scenario.file,
            scenario.protocol,
            P::NAME
        );
        let stop = AtomicBool::new(false);
        let options = RunnerOptions {
            fail_fast: true,
            tick: Duration::from_secs(3600),
            registry: &registry,
            ..RunnerOptions::new(self.jobs, &stop)
        };
        let mut results = run_seeds(&scenario, &self.seeds, &options, |_| {})
            .unwrap_or_else(|e| panic!("{}: {e}", scenario.file));
        results.sort_by_key(|r| r.seed);
        match results.iter().find(|r| r.failed()) {
            Some(first) => Err(Box::new(failure::investigate(
                &registry,
                &scenario,
                first,
                &failure::Settings {
                    replay: &self.replay,
                    max_shrink_runs: self.max_shrink_runs,
                    out_dir: self.out_dir.clone().unwrap_or_else(default_out_dir),
                },
            ))),
            None => Ok(passed(&results)),
        }
    }

    /// The scenario, read against the registry that knows `P`.
    fn read(&self, registry: &Registry) -> Scenario {
        let read = if self.scenario.contains('\n') {
            registry.scenario(&format!("{}.toml", P::NAME), &self.scenario)
        } else {
            registry.load(std::path::Path::new(&self.scenario))
        };
        read.unwrap_or_else(|e| panic!("{e}"))
    }
}

/// The built-in protocols and `P` (which may be one of them).
fn registry_with<P: Protocol>() -> Registry
where
    P::Api: Workload,
{
    let builtin = Registry::builtin();
    if builtin.catalog().iter().any(|p| p.name == P::NAME) {
        builtin
    } else {
        builtin.with::<P>()
    }
}

fn passed(results: &[SeedResult]) -> Passed {
    Passed {
        seeds: results.len() as u64,
        events: results.iter().map(|r| r.events).sum(),
        checked: results
            .first()
            .map(|r| r.checked.clone())
            .unwrap_or_default(),
    }
}

/// `target/sim-failures/` of the crate under test: `CARGO_TARGET_DIR` when set, else `target/`
/// in the working directory (cargo runs tests from the package's root).
fn default_out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("sim-failures")
}

#[cfg(test)]
mod tests;
