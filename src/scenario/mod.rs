//! Scenario files: TOML in, a checked [`Scenario`] out (docs/ARCHITECTURE.md#scenario-files), and the JSON Schema
//! editors use to check the same files as they are typed.
//!
//! The rule this module keeps: nothing a user wrote is silently ignored or defaulted wrongly.
//! Unknown keys are errors, every value is checked against what it means (a target names a
//! node that exists, a probability is in [0, 1], a range has min ≤ max), and every error is a
//! [`ScenarioError`] that names the file, the line, the column and what was expected. Bad
//! input never panics.
//!
//! Layout: `raw` mirrors the file (serde and schemars types), `values` holds the values with
//! several spellings, `convert` and `faults` check them and build the world's types, `schema`
//! assembles the JSON Schema, `locate` and `error` turn byte offsets into `file:line:col`.

mod convert;
mod error;
mod faults;
pub mod limits;
mod locate;
mod raw;
mod schema;
mod swarm;
mod values;
mod workload;
mod write;

#[cfg(test)]
mod bad_input_tests;
#[cfg(test)]
mod check_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timing_tests;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::node::Nanos;
use crate::protocols::ProtocolInfo;
use crate::workload::{ScriptOp, WorkloadSpec};
use crate::world::{Clock, FaultSpec, LinkModel, NemesisSpec, SwarmSpec, Timing, WorldSpec};

pub use error::ScenarioError;
pub use schema::json_schema;

/// A checked scenario: everything the world and the checkers need, in their own types.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The path as given, used in messages.
    pub file: String,
    /// `name`: how reports and sweeps refer to the scenario.
    pub name: String,
    /// "" when absent.
    pub description: String,
    /// The default seed (1 when absent).
    pub seed: u64,
    /// Virtual time the run lasts.
    pub duration: Nanos,
    /// A limit on trace events (50,000,000 when absent): `max_events` or `[limits] events`.
    pub max_events: u64,
    /// `[limits]`: the other bounds on a run (see [`limits`]).
    pub limits: limits::Limits,
    /// Node names, in cluster order (`NodeId(i)` is the i-th).
    pub nodes: Vec<String>,
    /// `cluster.protocol`: the protocol's `NAME`.
    pub protocol: String,
    /// `[network]`: latency, loss and duplication of every link.
    pub link: LinkModel,
    /// One per node, [`Clock::honest`] unless `[clocks]` says otherwise.
    pub clocks: Vec<Clock>,
    /// `[storage]` and `[timing]`: how long disk syncs, timers and processing take inside
    /// every node; the default takes no time.
    pub timing: Timing,
    /// The `[[faults]]` entries in file order, each with origin `Origin::Schedule(i)`.
    pub faults: Vec<FaultSpec>,
    /// `[nemesis]`: faults drawn from the seed, when present.
    pub nemesis: Option<NemesisSpec>,
    /// `[nemesis] mode = "swarm"`: what each seed draws. `link` and `clocks` then hold each
    /// range's low end, `nemesis` the windows as written; [`Scenario::draw_world`] draws.
    pub(crate) swarm: Option<SwarmSpec>,
    /// `[workload]`: the virtual clients and what they do; `None`: no clients.
    pub workload: Option<WorkloadSpec>,
    /// `[workload] script`: the operations the clients replay instead of drawing them (only
    /// with a `workload`).
    pub script: Option<Vec<ScriptOp>>,
    /// `[check]`: the invariants to judge the run by.
    pub check: CheckSpec,
    /// `[expect]`: the verdict the author expects, when written.
    pub expect: Option<Expect>,
    /// `[teaching] narration`: lines for the class, in time order (stable for equal times).
    pub narration: Vec<Narration>,
    /// `[teaching] cites`: the source texts and sections the lesson demonstrates, as written.
    pub cites: Vec<String>,
    /// The source text, for locating keys in later errors.
    text: String,
}

/// `[check]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckSpec {
    /// The invariants listed, or `None` when the file lists none (the protocol's defaults).
    pub invariants: Option<Vec<String>>,
    /// The invariants enabled by their bound (`[check] <name> = "2s"`), by name: each takes a
    /// duration bound in its catalogue entry (`InvariantInfo::bound`).
    pub bounds: BTreeMap<String, Nanos>,
}

/// `[expect]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expect {
    /// `pass` or `violation`.
    pub verdict: ExpectedVerdict,
    /// Invariants expected to fail; empty unless the verdict is a violation.
    pub violates: Vec<String>,
}

/// One `[teaching] narration` line: told at `at`, woven into the story (marked `»`) and the
/// pictures. It never changes the run: the trace hash is the same with or without it.
///
/// ```
/// use sim::run::registry::Registry;
/// let toml = r#"
/// name = "told"
/// duration = "3s"
/// [cluster]
/// nodes = 3
/// protocol = "raft"
/// [teaching]
/// narration = [{ at = "2s", text = "Watch B." }, { at = "1s", text = "First, an election." }]
/// "#;
/// let scenario = Registry::builtin().scenario("told.toml", toml)?;
/// // In time order, whatever the order written.
/// assert_eq!(scenario.narration[0].text, "First, an election.");
/// assert_eq!(scenario.narration[1].at, 2_000_000_000);
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Narration {
    /// When it is told, in nanoseconds of true time.
    pub at: Nanos,
    /// What is told.
    pub text: String,
}

/// The verdict an `[expect]` table names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVerdict {
    /// The run passes: every invariant holds.
    Pass,
    /// The run has a violation, and every invariant `violates` names is among those that failed.
    Violation,
}

/// The second pass that reads `[protocol]` into a protocol's config type. It reads the whole
/// text, so toml's spans stay relative to the file; every other key is ignored here because
/// the first pass has already checked it.
#[derive(Deserialize)]
struct ProtocolPass<C> {
    #[serde(default)]
    protocol: Option<C>,
}

/// The second pass that reads a workload kind's own keys ([`crate::workload::Workload::Options`])
/// from `[workload]`, as [`ProtocolPass`] does for `[protocol]`.
#[derive(Deserialize)]
struct WorkloadPass<O> {
    #[serde(default)]
    workload: Option<O>,
}

impl Scenario {
    /// Reads and parses a scenario file; every error names the file, the line and the column.
    ///
    /// ```
    /// use std::path::Path;
    /// use sim::scenario::Scenario;
    ///
    /// let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft/basic-election.toml");
    /// let scenario = Scenario::load(&path)?;
    /// assert_eq!(scenario.name, "raft-basic-election");
    /// assert_eq!(scenario.protocol, "raft");
    /// assert_eq!(scenario.nodes, ["A", "B", "C"]);
    ///
    /// let missing = Scenario::load(Path::new("no-such.toml")).unwrap_err();
    /// assert!(missing.to_string().starts_with("no-such.toml: cannot read the scenario"));
    /// # Ok::<(), sim::scenario::ScenarioError>(())
    /// ```
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        Scenario::load_with(path, &crate::protocols::catalog())
    }

    /// [`Scenario::load`] against a given protocol catalogue.
    pub(crate) fn load_with(
        path: &Path,
        protocols: &[ProtocolInfo],
    ) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            ScenarioError::unlocated(&file, format!("cannot read the scenario: {e}"))
        })?;
        Scenario::parse_with(&file, Scenario::text_of(&file, &bytes)?, protocols)
    }

    /// A scenario file's bytes as text, or an error at the first byte that is not UTF-8.
    pub fn text_of<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ScenarioError> {
        std::str::from_utf8(bytes).map_err(|e| {
            // The prefix before the bad byte is text: the error is at its end.
            let valid = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            ScenarioError::at_offset(
                file,
                prefix,
                valid,
                format!(
                    "expected UTF-8 text (a TOML scenario), found the byte 0x{:02X} (a binary file?)",
                    bytes[valid]
                ),
            )
        })
    }

    /// Parses a scenario; `file` is used in messages only. The protocol must be one the
    /// process knows: a built-in one, or one of an installed registry
    /// (`sim::run::registry::Registry`).
    ///
    /// ```
    /// use sim::node::time::NANOS_PER_SEC;
    /// use sim::scenario::Scenario;
    ///
    /// let text = r#"
    /// name = "two-masters"
    /// duration = "3s"
    ///
    /// [cluster]
    /// nodes = ["master", "standby"]
    /// protocol = "naive-failover"
    ///
    /// [[faults]]
    /// at = "1s"
    /// partition = [["master"], ["standby"]]
    /// for = "1s"
    /// "#;
    /// let scenario = Scenario::parse("two-masters.toml", text)?;
    /// assert_eq!(scenario.duration, 3 * NANOS_PER_SEC);
    /// assert_eq!(scenario.seed, 1, "the default seed");
    /// assert_eq!(scenario.faults.len(), 1);
    ///
    /// // Bad input is an error at the file, line and column, saying what was expected.
    /// let bad = text.replace(r#"for = "1s""#, r#"for = "soon""#);
    /// let e = Scenario::parse("two-masters.toml", &bad).unwrap_err().to_string();
    /// assert!(e.starts_with("two-masters.toml:12:7:"), "{e}");
    /// assert!(e.contains("expected a duration"), "{e}");
    /// # Ok::<(), sim::scenario::ScenarioError>(())
    /// ```
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse_with(file, text, &crate::protocols::catalog())
    }

    /// [`Scenario::parse`] against a given protocol catalogue.
    pub(crate) fn parse_with(
        file: &str,
        text: &str,
        protocols: &[ProtocolInfo],
    ) -> Result<Scenario, ScenarioError> {
        // TOML allows no control character but tab outside strings and comments, nor raw ones
        // inside; toml would say so too, but in words about keys and values, not "binary".
        if let Some((offset, c)) = text
            .char_indices()
            .find(|&(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(ScenarioError::at_offset(
                file,
                text,
                offset,
                format!(
                    "expected text (a TOML scenario), found the control character U+{:04X} \
                     (a binary file?)",
                    c as u32
                ),
            ));
        }
        let raw: raw::ScenarioFile = toml::from_str(text)
            .map_err(|e| error::from_toml(file, text, &e, error::Pass::Scenario))?;
        let src = convert::Source { file, text };
        convert::scenario(&src, raw, protocols)
    }

    /// The `[protocol]` table deserialized into a protocol's config type, errors located in
    /// the file. An absent table gives `C::default()`.
    pub fn protocol_config<C: DeserializeOwned + Default>(&self) -> Result<C, ScenarioError> {
        let pass: ProtocolPass<C> = toml::from_str(&self.text)
            .map_err(|e| error::from_toml(&self.file, &self.text, &e, error::Pass::Protocol))?;
        Ok(pass.protocol.unwrap_or_default())
    }

    /// The `[workload]` table's own keys of a workload kind, deserialized into its options
    /// type, errors located in the file. No `[workload]` gives `O::default()`.
    pub fn workload_options<O: DeserializeOwned + Default>(&self) -> Result<O, ScenarioError> {
        let pass: WorkloadPass<O> = toml::from_str(&self.text)
            .map_err(|e| error::from_toml(&self.file, &self.text, &e, error::Pass::Workload))?;
        Ok(pass.workload.unwrap_or_default())
    }

    /// An error located at a key path such as `["protocol", "election_timeout"]` (a number
    /// indexes an array: `["faults", "2", "at"]`). A path that does not exist falls back to its
    /// nearest existing parent, then to 1:1.
    pub fn error_at(&self, path: &[&str], message: impl Into<String>) -> ScenarioError {
        convert::Source {
            file: &self.file,
            text: &self.text,
        }
        .error_at(path, message)
    }

    /// The world's spec for a seed: the scripted faults followed by the nemesis's schedule.
    pub fn world_spec(&self, seed: u64) -> WorldSpec {
        self.draw_world(seed).0
    }

    /// [`Scenario::world_spec`], and in swarm mode the knobs the seed drew: (TOML key path,
    /// value as TOML spells it), in a fixed order.
    pub fn draw_world(&self, seed: u64) -> (WorldSpec, Option<Vec<(String, String)>>) {
        let drawn = self
            .swarm
            .as_ref()
            .map(|s| s.draw(seed, &self.nodes, self.nemesis.as_ref()));
        let (link, clocks, nemesis) = match &drawn {
            Some(d) => (&d.link, &d.clocks, d.nemesis.as_ref()),
            None => (&self.link, &self.clocks, self.nemesis.as_ref()),
        };
        let mut faults = self.faults.clone();
        if let Some(nemesis) = nemesis {
            faults.extend(nemesis.expand(seed));
        }
        let spec = WorldSpec {
            seed,
            names: self.nodes.clone(),
            duration: self.duration,
            max_events: self.max_events,
            link: link.clone(),
            clocks: clocks.clone(),
            faults,
            timing: self.timing.clone(),
        };
        (spec, drawn.map(|d| d.knobs))
    }
}
