//! A failing seed, investigated: its first failing invariant, the scenario shrunk and written
//! to a file, and the message a test panics with.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::node::{Nanos, format_duration};
use crate::run::registry::Registry;
use crate::run::{RunOptions, replay_command};
use crate::scenario::Scenario;
use crate::sweep::SeedResult;
use crate::sweep::results::FailureStatus;
use crate::sweep::shrink::{ShrinkOptions, Shrunk, Sizes, shrink_with};

/// How to investigate.
pub(super) struct Settings<'a> {
    pub replay: &'a str,
    pub max_shrink_runs: usize,
    pub out_dir: PathBuf,
}

/// The lowest failing seed of a sweep, and what to do about it. Its `Display` is the message
/// [`super::Sweep::run`] panics with.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::testing::Sweep;
/// // Tiny's scenario, with node A crashed for good: nobody leads again within 200ms.
/// let text = format!("{SCENARIO}leader_within = \"200ms\"\n[[faults]]\nat = \"500ms\"\ncrash = \"A\"\n");
/// let dir = std::env::temp_dir().join("sim-doc-failed");
/// let failed = Sweep::<Tiny>::new(&text).seeds([1]).max_shrink_runs(20).out_dir(&dir).try_run().unwrap_err();
/// assert_eq!(failed.seed, 1);
/// assert!(failed.at.is_some_and(|t| t > 500 * MS), "after the crash: {:?}", failed.at);
/// assert!(failed.written.exists());
/// let message = failed.to_string();
/// assert!(message.contains(&failed.replay), "the panic message says how to replay it:\n{message}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    /// The scenario file as given (or `<protocol>.toml` for a scenario given as text).
    pub file: String,
    /// The lowest failing seed of those swept.
    pub seed: u64,
    /// The invariant that failed first, as `[check]` names it (`panicked` for a panic).
    pub invariant: String,
    /// Its sentence: what went wrong.
    pub message: String,
    /// When, in virtual time (`None`: a liveness bound the run could not judge).
    pub at: Option<Nanos>,
    /// The scenario written under `target/sim-failures/`: shrunk when [`Failed::shrunk`] says
    /// so, else the original with the seed pinned.
    pub written: PathBuf,
    /// How the shrink went, one line: the sizes before and after, or why there is none.
    pub shrunk: Result<String, String>,
    /// The command that replays the written scenario.
    pub replay: String,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at.map_or_else(
            || "undecided when the run ended".to_string(),
            |at| format!("{} of virtual time", format_duration(at)),
        );
        writeln!(
            f,
            "seed {} of {} fails {} at {at}",
            self.seed, self.file, self.invariant
        )?;
        writeln!(f, "  invariant  {}", self.invariant)?;
        writeln!(f, "  message    {}", self.message)?;
        writeln!(f, "  at         {at}")?;
        writeln!(f, "  seed       {}", self.seed)?;
        match &self.shrunk {
            Ok(how) => writeln!(f, "  shrunk     {} ({how})", self.written.display())?,
            Err(why) => writeln!(
                f,
                "  scenario   {} (not shrunk: {why}; the seed's whole scenario)",
                self.written.display()
            )?,
        }
        write!(f, "  replay     {}", self.replay)
    }
}

impl std::error::Error for Failed {}

/// Investigates `result`, a failing seed of `scenario`.
pub(super) fn investigate(
    registry: &Registry,
    scenario: &Scenario,
    result: &SeedResult,
    settings: &Settings<'_>,
) -> Failed {
    let seed = result.seed;
    let failure = result
        .failures
        .iter()
        .find(|f| f.status == FailureStatus::Violation)
        .or(result.failures.first())
        .expect("a failing seed has a failure");
    let shrinkable = !result.is_panic() && failure.status == FailureStatus::Violation;
    let shrunk = if shrinkable {
        let options = ShrinkOptions {
            seed: Some(seed),
            invariant: Some(failure.invariant.clone()),
            max_runs: settings.max_shrink_runs,
        };
        shrink_with(registry, scenario, &options).map_err(|e| e.to_string())
    } else if result.is_panic() {
        Err("the run panicked".to_string())
    } else {
        Err("only a violation is shrunk".to_string())
    };
    let name = format!("{}-seed-{seed}.toml", file_name(&scenario.name));
    let written = settings.out_dir.join(name);
    let text = match &shrunk {
        Ok(s) => s.scenario.to_toml(),
        Err(_) => {
            let mut pinned = scenario.clone();
            pinned.seed = seed;
            pinned.to_toml()
        }
    };
    let wrote = text.and_then(|t| {
        fs::create_dir_all(&settings.out_dir)
            .and_then(|()| fs::write(&written, t))
            .map_err(|e| format!("cannot write {}: {e}", written.display()))
    });
    let shrunk = match (shrunk, wrote) {
        (_, Err(e)) => Err(e),
        (Ok(s), Ok(())) => Ok(describe(&s, standalone(registry, &written, &s))),
        (Err(e), Ok(())) => Err(e),
    };
    let file = written.display().to_string();
    let replay = replay_command(&file, seed);
    let replay = replay.strip_prefix("sim ").unwrap_or(&replay);
    Failed {
        file: scenario.file.clone(),
        seed,
        invariant: failure.invariant.clone(),
        message: failure.message.clone(),
        at: failure.at_ns,
        written,
        shrunk,
        replay: format!("{} {replay}", settings.replay),
    }
}

/// Runs the written file on its own: when does the invariant fail there?
fn standalone(registry: &Registry, path: &Path, shrunk: &Shrunk) -> Result<Nanos, String> {
    let scenario = registry
        .load(path)
        .map_err(|e| format!("does not read back: {e}"))?;
    let out = registry
        .run(&scenario, &RunOptions::default(), None)
        .map_err(|e| e.to_string())?;
    out.report
        .invariants
        .iter()
        .find(|i| i.name == shrunk.invariant)
        .and_then(|i| match &i.status {
            crate::node::Status::Violated(v) => Some(v.at),
            _ => None,
        })
        .ok_or_else(|| "run on its own it does not fail (a bug in the shrinker)".to_string())
}

/// `faults 2 -> 1, operations 40 -> 3, duration 2s -> 1.1s, 37 runs; fails at 1.05s on its own`.
fn describe(s: &Shrunk, standalone: Result<Nanos, String>) -> String {
    let sizes = |what: &str, f: fn(&Sizes) -> String| {
        format!("{what} {} -> {}", f(&s.original), f(&s.minimal))
    };
    let on_its_own = match standalone {
        Ok(at) => format!("fails at {} on its own", format_duration(at)),
        Err(e) => e,
    };
    format!(
        "{}, {}, {}, {} runs{}; {on_its_own}",
        sizes("faults", |z| z.faults.to_string()),
        sizes("operations", |z| z.operations.to_string()),
        sizes("duration", |z| format_duration(z.duration)),
        s.runs,
        if s.hit_limit { " (the limit)" } else { "" },
    )
}

/// A scenario's name as a file name: letters, digits, `-` and `_` kept, the rest `-`.
fn file_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if kept.is_empty() {
        "scenario".to_string()
    } else {
        kept
    }
}
