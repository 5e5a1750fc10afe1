//! The protocol registry: every protocol a run can dispatch to, built from the one list in
//! `crate::protocols::each` (so the catalogue that validates scenarios and the table that runs
//! them cannot disagree), plus whatever a program built on sim adds with [`Registry::with`].

use std::path::Path;
use std::sync::OnceLock;

use crate::node::situation::Situation;
use crate::node::{Nanos, Protocol};
use crate::protocols::{self, ProtocolInfo, Visitor};
use crate::scenario::{Scenario, ScenarioError};
use crate::workload::Workload;

use super::probe::Probe;
use super::{RunError, RunOptions, RunOutput, run_protocol};

/// Runs one scenario with one protocol type, monomorphised when the protocol is registered.
type RunFn = fn(&Scenario, &RunOptions, Option<Nanos>) -> Result<RunOutput, RunError>;

/// Builds a probe of one scenario at one seed for `sim step` (see [`super::probe`]).
type ProbeFn = fn(&Scenario, u64) -> Result<Box<dyn Probe>, RunError>;

struct Entry {
    info: ProtocolInfo,
    run: RunFn,
    probe: ProbeFn,
    situations: fn() -> Vec<Situation>,
}

/// Protocols by name: what each is, and how to run it.
///
/// A program built on sim adds its protocols with one line each and installs the result before
/// it reads any scenario; from then on scenarios may name them, and `sim list protocols`, `sim
/// schema` and every run see them.
///
/// ```
/// use sim::run::registry::Registry;
/// # use sim::node::{Ctx, DiskOf, NodeId, NoFacts, Protocol};
/// # #[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
/// # struct Config {}
/// /// A protocol that does nothing at all (its impl is hidden here; see `Protocol`).
/// struct Idle;
/// # impl Protocol for Idle {
/// #     const NAME: &'static str = "idle";
/// #     const SUMMARY: &'static str = "does nothing";
/// #     type Msg = ();
/// #     type Timer = ();
/// #     type Config = Config;
/// #     type Durable = ();
/// #     type Api = sim::node::Kv;
/// #     type Fact = NoFacts;
/// #     type Record = ();
/// #     fn new(_: NodeId, _: &[NodeId], _: &Config, _: Option<&DiskOf<Self>>) -> Self { Idle }
/// #     fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
/// #     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
/// #     fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
/// # }
///
/// let registry = Registry::builtin().with::<Idle>();
/// let names: Vec<&str> = registry.catalog().iter().map(|p| p.name).collect();
/// assert_eq!(names.first(), Some(&"raft"), "the built-in protocols first");
/// assert_eq!(names.last(), Some(&"idle"), "then the ones added, in order");
///
/// registry.install()?;
/// let text = "name = \"idle\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"idle\"\n";
/// let scenario = sim::scenario::Scenario::parse("idle.toml", text)?;
/// let out = sim::run::run(&scenario, &Default::default())?;
/// assert_eq!(out.report.protocol, "idle");
///
/// // One registry per process: a second install is refused and changes nothing.
/// assert!(Registry::builtin().install().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Registry {
    entries: Vec<Entry>,
}

impl Registry {
    /// The protocols of this build (`protocols::each`).
    ///
    /// ```
    /// use sim::run::registry::Registry;
    /// let names: Vec<String> = Registry::builtin().catalog().into_iter().map(|p| p.name.to_string()).collect();
    /// assert!(names.iter().any(|n| n == "raft"), "{names:?}");
    /// ```
    pub fn builtin() -> Registry {
        struct Build(Registry);
        impl Visitor for Build {
            fn visit<P: Protocol>(&mut self)
            where
                P::Api: Workload,
            {
                self.0.add::<P>();
            }
        }
        let mut b = Build(Registry {
            entries: Vec::new(),
        });
        protocols::each(&mut b);
        b.0
    }

    /// The registry with `P` added after the others.
    ///
    /// # Panics
    /// If a protocol of the same name is already registered: two protocols answering to one
    /// name is a mistake in the program, not in a scenario.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::run::registry::Registry;
    /// let registry = Registry::builtin().with::<Tiny>();
    /// assert_eq!(registry.catalog().last().map(|p| p.name), Some("tiny"));
    /// // Scenarios read against it may name Tiny and its own invariant.
    /// let scenario = registry.scenario("tiny.toml", SCENARIO)?;
    /// assert_eq!(scenario.protocol, "tiny");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with<P: Protocol>(mut self) -> Registry
    where
        P::Api: Workload,
    {
        self.add::<P>();
        self
    }

    fn add<P: Protocol>(&mut self)
    where
        P::Api: Workload,
    {
        assert!(
            self.get(P::NAME).is_none(),
            "two protocols are registered as `{}`",
            P::NAME
        );
        self.entries.push(Entry {
            info: ProtocolInfo::of::<P>(),
            run: run_protocol::<P>,
            probe: super::probe::probe::<P>,
            situations: P::situations,
        });
    }

    fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.info.name == name)
    }

    /// What each protocol is, in registration order.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// let tiny = registry().catalog().pop().unwrap();
    /// assert_eq!((tiny.name, tiny.summary), ("tiny", "node 0 keeps the store; the others redirect to it"));
    /// ```
    pub fn catalog(&self) -> Vec<ProtocolInfo> {
        self.entries.iter().map(|e| e.info.clone()).collect()
    }

    /// Makes this the registry of the process: scenarios are read against its catalogue and
    /// runs dispatch through it. Call it once, first thing in `main`, before reading any
    /// scenario.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// // First thing in `main`: from then on `Scenario::parse` and `run::run` know Tiny.
    /// registry().install()?;
    /// let scenario = sim::scenario::Scenario::parse("tiny.toml", SCENARIO)?;
    /// let report = sim::run::run(&scenario, &Default::default())?.report;
    /// assert_eq!(report.protocol, "tiny");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn install(self) -> Result<(), &'static str> {
        let catalog = self.catalog();
        // The dispatch table first: it fails too when a run already fell back to the built-in
        // registry, and then nothing at all has changed.
        INSTALLED
            .set(self)
            .map_err(|_| "a protocol registry is already installed")?;
        protocols::install(catalog)
    }

    /// Reads a scenario against this registry's catalogue, so that it may name the protocols
    /// (and their invariants) this registry adds; `file` is used in messages only.
    ///
    /// ```
    /// use sim::run::registry::Registry;
    /// let text = "name = \"x\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"heartbeat\"\n";
    /// let scenario = Registry::builtin().scenario("x.toml", text).unwrap();
    /// assert_eq!(scenario.protocol, "heartbeat");
    /// ```
    pub fn scenario(&self, file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse_with(file, text, &self.catalog())
    }

    /// [`Registry::scenario`] from a file.
    ///
    /// ```
    /// use sim::run::registry::Registry;
    /// let path = std::path::Path::new("scenarios/raft/basic-election.toml");
    /// let scenario = Registry::builtin().load(path).unwrap();
    /// assert_eq!(scenario.protocol, "raft");
    /// ```
    pub fn load(&self, path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::load_with(path, &self.catalog())
    }

    /// Runs `scenario` with the protocol it names, through this registry (not the process's):
    /// what [`super::run`] does with the installed one. `panic_at` is the test aid of
    /// `sim run --panic-at`: the run panics at that virtual time; `None` for a plain run.
    ///
    /// ```
    /// use sim::run::{RunOptions, registry::Registry};
    /// let registry = Registry::builtin();
    /// let text = "name = \"x\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"heartbeat\"\n";
    /// let scenario = registry.scenario("x.toml", text).unwrap();
    /// let out = registry.run(&scenario, &RunOptions::default(), None).unwrap();
    /// assert_eq!(out.report.protocol, "heartbeat");
    /// ```
    pub fn run(
        &self,
        scenario: &Scenario,
        options: &RunOptions,
        panic_at: Option<Nanos>,
    ) -> Result<RunOutput, RunError> {
        match self.get(&scenario.protocol) {
            Some(entry) => (entry.run)(scenario, options, panic_at),
            None => Err(scenario
                .error_at(
                    &["cluster", "protocol"],
                    format!("unknown protocol `{}`", scenario.protocol),
                )
                .into()),
        }
    }

    /// A probe of `scenario` at `seed` with the protocol it names: a second copy of the run
    /// that `sim step` advances with its cursor to show a node's state.
    pub(crate) fn probe(&self, scenario: &Scenario, seed: u64) -> Result<Box<dyn Probe>, RunError> {
        match self.get(&scenario.protocol) {
            Some(entry) => (entry.probe)(scenario, seed),
            None => Err(scenario
                .error_at(
                    &["cluster", "protocol"],
                    format!("unknown protocol `{}`", scenario.protocol),
                )
                .into()),
        }
    }

    /// The named situations `sim find` knows for the protocol `name` (`Protocol::situations`);
    /// `None` when no protocol has that name.
    pub(crate) fn situations(&self, name: &str) -> Option<Vec<Situation>> {
        self.get(name).map(|e| (e.situations)())
    }
}

static INSTALLED: OnceLock<Registry> = OnceLock::new();

/// The registry of this process: the installed one, or the built-in protocols.
///
/// ```
/// use sim::run::registry::installed;
/// // Nothing installed: the built-in protocols.
/// assert!(installed().catalog().iter().any(|p| p.name == "heartbeat"));
/// ```
pub fn installed() -> &'static Registry {
    INSTALLED.get_or_init(Registry::builtin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{Ctx, DiskOf, NodeId, Observation, Role};
    use schemars::JsonSchema;
    use serde::Deserialize;

    /// A protocol that exists only here: node 0 declares itself master at start.
    struct Solo;

    #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct SoloConfig {}

    impl Protocol for Solo {
        const NAME: &'static str = "solo";
        const SUMMARY: &'static str = "node 0 leads, alone";
        const DEFAULT_INVARIANTS: &'static [&'static str] = &["election_safety"];
        type Msg = ();
        type Timer = ();
        type Config = SoloConfig;
        type Durable = ();
        type Api = crate::node::Kv;
        type Fact = crate::node::NoFacts;
        type Record = ();
        fn new(_: NodeId, _: &[NodeId], _: &SoloConfig, _: Option<&DiskOf<Self>>) -> Self {
            Solo
        }
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            if ctx.id() == NodeId(0) {
                ctx.observe(Observation::Role {
                    role: Role::Master,
                    term: 1,
                });
            }
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
    }

    const SOLO: &str =
        "name = \"solo\"\nduration = \"1s\"\n[cluster]\nnodes = 3\nprotocol = \"solo\"\n";

    #[test]
    fn the_builtin_registry_is_the_catalogue_that_validates_scenarios() {
        let names = |c: Vec<ProtocolInfo>| c.iter().map(|p| p.name).collect::<Vec<_>>();
        assert_eq!(
            names(Registry::builtin().catalog()),
            names(protocols::builtin())
        );
        // In `protocols::each` order, the first one first (a new protocol adds no line here).
        assert_eq!(names(Registry::builtin().catalog())[0], "raft");
    }

    #[test]
    fn a_protocol_added_with_one_line_is_read_and_run() {
        let registry = Registry::builtin().with::<Solo>();
        let catalog = registry.catalog();
        assert_eq!(catalog.last().map(|p| p.name), Some("solo"));
        // The built-in catalogue does not know it; the registry's does.
        let unknown = Scenario::parse("solo.toml", SOLO).unwrap_err().to_string();
        assert!(unknown.contains("unknown protocol `solo`"), "{unknown}");
        let scenario = Scenario::parse_with("solo.toml", SOLO, &catalog).unwrap();
        let out = registry
            .run(&scenario, &RunOptions::default(), None)
            .unwrap();
        assert_eq!(out.report.protocol, "solo");
        assert_eq!(out.report.invariants[0].name, "election_safety");
        assert_eq!(out.report.exit_code(), crate::run::exit::ExitCode::Held);
        assert_eq!(
            out.report.stats.events, 4,
            "3 starts, 1 observation, and no more"
        );
    }

    #[test]
    fn a_name_the_registry_lacks_is_an_error_at_the_protocol_key() {
        let registry = Registry::builtin();
        let catalog = Registry::builtin().with::<Solo>().catalog();
        let scenario = Scenario::parse_with("solo.toml", SOLO, &catalog).unwrap();
        let e = registry
            .run(&scenario, &RunOptions::default(), None)
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("solo.toml:5:"), "{e}");
        assert!(e.contains("unknown protocol `solo`"), "{e}");
    }

    #[test]
    #[should_panic(expected = "two protocols are registered as `solo`")]
    fn two_protocols_of_one_name_are_refused() {
        let _ = Registry::builtin().with::<Solo>().with::<Solo>();
    }
}
