//! One seed's result, the JSON line it is stored as, and the summary of a whole sweep.
//!
//! A [`SeedResult`] keeps only what the run computed — never a wall-clock figure — so two
//! machines that run the same seed store the same line. A [`Summary`] sorts results by seed and
//! applies the `--fail-fast` cut as a pure function of the results, which is what makes its table
//! byte-identical for any number of jobs, shards or resumes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::check::{Property, Status};
use crate::node::format_duration;
use crate::report::text::{plural, thousands};
use crate::run::exit::{self, ExitCode};
use crate::run::panic::Panic;
use crate::run::{RunReport, Verdict, replay_command, shell_quote};
use crate::world::Outcome;

use super::{SeedRange, Shard};

/// The name under which a run that hit its event limit is counted (no invariant could decide).
///
/// ```
/// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
/// let limited = undecided(7, sim::sweep::results::EVENT_LIMIT);
/// assert_eq!(limited.failures[0].invariant, "event_limit");
/// ```
pub const EVENT_LIMIT: &str = "event_limit";

/// The name under which a seed whose run panicked is counted: a broken run is a safety failure.
///
/// ```
/// use sim::sweep::results::{PANICKED, SeedVerdict};
/// assert_eq!(SeedVerdict::Panicked.name(), PANICKED);
/// ```
pub const PANICKED: &str = "panicked";

/// A seed's verdict, as stored.
///
/// ```
/// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
/// use sim::sweep::results::SeedVerdict;
/// assert_eq!(violated(2, "no_split_brain", 5).verdict, SeedVerdict::Violation);
/// assert_eq!(serde_json::to_string(&SeedVerdict::Unknown).unwrap(), "\"unknown\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedVerdict {
    /// Every invariant held.
    Pass,
    /// At least one invariant was violated.
    Violation,
    /// Nothing was violated, but some invariant could not be decided (or the run hit its event
    /// limit).
    Unknown,
    /// A protocol, a checker or the engine panicked: the run has no verdict of its own.
    Panicked,
}

impl SeedVerdict {
    /// The verdict as stored and printed: `pass`, `violation`, `unknown` or `panicked`.
    ///
    /// ```
    /// use sim::sweep::results::SeedVerdict;
    /// assert_eq!(SeedVerdict::Violation.name(), "violation");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            SeedVerdict::Pass => "pass",
            SeedVerdict::Violation => "violation",
            SeedVerdict::Unknown => "unknown",
            SeedVerdict::Panicked => PANICKED,
        }
    }
}

/// Whether an invariant was violated or could not be decided.
///
/// ```
/// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
/// use sim::sweep::results::FailureStatus;
/// assert_eq!(undecided(3, "leader_within 2s").failures[0].status, FailureStatus::Unknown);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureStatus {
    /// The invariant was broken, at a known virtual time.
    Violation,
    /// The run ended before the invariant could be decided (a liveness deadline not reached, an
    /// event limit hit).
    Unknown,
}

/// Safety or liveness, as stored.
///
/// ```
/// use sim::node::Property;
/// use sim::sweep::results::Kind;
/// assert_eq!(Property::from(Kind::Liveness), Property::Liveness);
/// assert_eq!(serde_json::to_string(&Kind::Safety).unwrap(), "\"safety\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Nothing bad ever happens: one violation at one instant is a failure.
    Safety,
    /// Something good eventually happens (within its deadline, or by the end of the run).
    Liveness,
}

impl From<Kind> for Property {
    fn from(kind: Kind) -> Property {
        match kind {
            Kind::Safety => Property::Safety,
            Kind::Liveness => Property::Liveness,
        }
    }
}

/// One invariant that did not hold in one seed.
///
/// ```
/// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
/// let seed = violated(2, "no_split_brain", 1_400_000_000);
/// let failure = &seed.failures[0];
/// assert_eq!((failure.invariant.as_str(), failure.at_ns), ("no_split_brain", Some(1_400_000_000)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The invariant's name as `[check]` spells it, or [`EVENT_LIMIT`] / [`PANICKED`].
    pub invariant: String,
    /// Whether the invariant is a safety or a liveness property.
    pub property: Kind,
    /// Violated, or undecided.
    pub status: FailureStatus,
    /// True virtual time of the violation; `None` when undecided.
    pub at_ns: Option<u64>,
    /// The violation's sentence, or why the answer is unknown.
    pub message: String,
}

impl Failure {
    /// `no_split_brain@1.405s`, or `leader_within 2s (unknown)`.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(violated(2, "no_split_brain", 1_405_000_000).failures[0].short(), "no_split_brain@1.405s");
    /// assert_eq!(undecided(3, "leader_within 2s").failures[0].short(), "leader_within 2s (unknown)");
    /// ```
    pub fn short(&self) -> String {
        match (self.status, self.at_ns) {
            (FailureStatus::Violation, Some(at)) => {
                format!("{}@{}", self.invariant, format_duration(at))
            }
            (FailureStatus::Violation, None) => self.invariant.clone(),
            (FailureStatus::Unknown, _) => format!("{} (unknown)", self.invariant),
        }
    }
}

/// What one seed's run computed. Stored as one line of `results.jsonl`.
///
/// ```
/// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
/// // A stored line reads back as the same result.
/// let seed = violated(2, "no_split_brain", 1_400_000_000);
/// let back: sim::sweep::SeedResult = serde_json::from_str(&seed.to_line()).unwrap();
/// assert_eq!(back, seed);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed that was run.
    pub seed: u64,
    /// The run's verdict.
    pub verdict: SeedVerdict,
    /// Simulation events the run processed (one trace line each).
    pub events: u64,
    /// Where virtual time stopped, in nanoseconds.
    pub virtual_time_ns: u64,
    /// The run's trace hash (16 hex digits): two machines agree on it for the same scenario and
    /// seed.
    pub trace_hash: String,
    /// Every invariant the run checked, in `[check]` order.
    pub checked: Vec<String>,
    /// The invariants that did not hold, in `[check]` order (plus [`EVENT_LIMIT`] when the run hit
    /// it); empty when the seed passed.
    pub failures: Vec<Failure>,
    /// Swarm mode: the world this seed drew, as (knob, value as TOML spells it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<Vec<(String, String)>>,
}

impl SeedResult {
    /// Reads what a sweep keeps from a finished run.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::run::RunOptions;
    /// use sim::sweep::SeedResult;
    /// use sim::sweep::results::SeedVerdict;
    /// let registry = registry();
    /// let run = registry.run(&registry.scenario("tiny.toml", SCENARIO)?, &RunOptions::default(), None)?;
    /// let seed = SeedResult::from_report(&run.report);
    /// assert_eq!((seed.verdict, seed.trace_hash.len()), (SeedVerdict::Pass, 16));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_report(report: &RunReport) -> SeedResult {
        let mut failures: Vec<Failure> = report
            .invariants
            .iter()
            .filter_map(|inv| {
                let property = match inv.property {
                    Property::Safety => Kind::Safety,
                    Property::Liveness => Kind::Liveness,
                };
                let (status, at_ns, message) = match &inv.status {
                    Status::Pass => return None,
                    Status::Violated(v) => {
                        (FailureStatus::Violation, Some(v.at), v.message.clone())
                    }
                    Status::Unknown(why) => (FailureStatus::Unknown, None, why.clone()),
                };
                Some(Failure {
                    invariant: inv.name.clone(),
                    property,
                    status,
                    at_ns,
                    message,
                })
            })
            .collect();
        if report.outcome == Outcome::EventLimit {
            failures.push(Failure {
                invariant: EVENT_LIMIT.to_string(),
                property: Kind::Liveness,
                status: FailureStatus::Unknown,
                at_ns: Some(report.virtual_time),
                message: "the run reached its event limit before its duration".to_string(),
            });
        } else if let Some(hit) = &report.limit {
            // The other `[limits]`: undecided like the event limit, named after the limit.
            failures.push(Failure {
                invariant: format!("{}_limit", hit.name),
                property: Kind::Liveness,
                status: FailureStatus::Unknown,
                at_ns: Some(hit.at),
                message: hit.sentence(),
            });
        }
        SeedResult {
            seed: report.seed,
            verdict: match report.verdict {
                Verdict::Pass => SeedVerdict::Pass,
                Verdict::Violation => SeedVerdict::Violation,
                Verdict::Unknown => SeedVerdict::Unknown,
            },
            events: report.stats.events,
            virtual_time_ns: report.virtual_time,
            trace_hash: report.trace_hash.clone(),
            checked: report.invariants.iter().map(|i| i.name.clone()).collect(),
            failures,
            swarm: report.swarm.clone(),
        }
    }

    /// A seed whose run panicked: one failure, [`PANICKED`], a safety failure at the virtual
    /// time of the panic, whose message says what panicked and where in the source. Events and
    /// trace hash are those written before the panic (none, if it came before the run).
    pub(crate) fn panicked(
        seed: u64,
        panic: &Panic,
        swarm: Option<Vec<(String, String)>>,
    ) -> SeedResult {
        let point = panic.point.as_ref();
        SeedResult {
            seed,
            verdict: SeedVerdict::Panicked,
            events: point.map_or(0, |p| p.events),
            virtual_time_ns: point.map_or(0, |p| p.at),
            trace_hash: point.map_or_else(String::new, |p| p.trace_hash.clone()),
            checked: Vec::new(),
            failures: vec![Failure {
                invariant: PANICKED.to_string(),
                property: Kind::Safety,
                status: FailureStatus::Violation,
                at_ns: panic.at(),
                message: panic.describe(),
            }],
            swarm,
        }
    }

    /// True when the run panicked rather than reaching a verdict.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert!(!violated(2, "no_split_brain", 5).is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        self.verdict == SeedVerdict::Panicked
    }

    /// As `sim run` would exit: 1 a safety violation (a panic is one), 3 a liveness failure or
    /// unknown, else 0 ([`exit::of_run`]).
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// use sim::run::exit::ExitCode;
    /// assert_eq!(violated(2, "no_split_brain", 5).exit_code(), ExitCode::SafetyViolated);
    /// assert_eq!(undecided(3, "leader_within 2s").exit_code().code(), 3);
    /// assert_eq!(pass(1).exit_code(), ExitCode::Held);
    /// ```
    pub fn exit_code(&self) -> ExitCode {
        let failures = self
            .failures
            .iter()
            .map(|f| exit::of_failure(f.property.into(), f.status == FailureStatus::Violation));
        exit::of_run(failures, self.verdict == SeedVerdict::Pass)
    }

    /// True when the seed counts as a failure: its exit code is not 0 (a violation, an unknown or a
    /// panic).
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert!(undecided(3, "leader_within 2s").failed(), "an unknown counts as a failure");
    /// assert!(!pass(1).failed());
    /// ```
    pub fn failed(&self) -> bool {
        self.exit_code() != ExitCode::Held
    }

    /// The line stored in `results.jsonl` (no newline).
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// let line = pass(1).to_line();
    /// assert!(line.starts_with("{\"seed\":1,\"verdict\":\"pass\""), "{line}");
    /// assert!(!line.contains('\n'));
    /// ```
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// One row of the per-invariant table.
///
/// ```
/// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
/// let rows = summary().tallies();
/// let split = rows.iter().find(|r| r.name == "no_split_brain").unwrap();
/// assert_eq!((split.violated, split.unknown, split.first_seed), (1, 0, Some(2)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantTally {
    /// The invariant's name as `[check]` spells it.
    pub name: String,
    /// Seeds in which it was violated.
    pub violated: u64,
    /// Seeds in which it could not be decided.
    pub unknown: u64,
    /// The lowest seed in which it failed (violated or unknown), to replay first.
    pub first_seed: Option<u64>,
}

/// A whole sweep (or shard), ready to print: results sorted by seed.
///
/// ```
/// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
/// let sweep = summary();
/// assert_eq!(sweep.results.iter().map(|r| r.seed).collect::<Vec<_>>(), [1, 2, 3, 4], "sorted by seed");
/// assert_eq!((sweep.expected, sweep.stopped_at), (4, None));
/// ```
#[derive(Clone, Debug)]
pub struct Summary {
    /// The scenario file as given on the command line: replay lines name it.
    pub file: String,
    /// The scenario's `name`.
    pub scenario: String,
    /// The seeds the sweep was asked for, before sharding.
    pub range: SeedRange,
    /// The shard this summary covers, `None` for the whole range.
    pub shard: Option<Shard>,
    /// Seeds this sweep was asked for (the shard's share of the range).
    pub expected: u64,
    /// Sorted by seed, one per seed, cut after the lowest failure under `--fail-fast`.
    pub results: Vec<SeedResult>,
    /// `--fail-fast` stopped here: the lowest failing seed.
    pub stopped_at: Option<u64>,
    /// SIGINT stopped the sweep before every seed ran.
    pub interrupted: bool,
    /// The `--limit NAME=VALUE` overrides the seeds ran with: replay lines repeat them, since a
    /// seed that stopped at a lowered limit stops there only with it.
    pub limits: Vec<String>,
}

impl Summary {
    /// Sorts, drops duplicate seeds (the first kept), and under `fail_fast` keeps exactly the
    /// seeds up to and including the lowest failure: a function of the results alone.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// use sim::sweep::{SeedRange, Summary};
    /// // Under --fail-fast, the seeds up to the lowest failure, whatever order they finished in.
    /// let results = vec![pass(4), undecided(3, "leader_within 2s"), violated(2, "no_split_brain", 5), pass(1)];
    /// let cut = Summary::new("x.toml", "x", SeedRange { start: 1, end: 5 }, None, results, true);
    /// assert_eq!((cut.stopped_at, cut.run()), (Some(2), 2));
    /// ```
    pub fn new(
        file: &str,
        scenario: &str,
        range: SeedRange,
        shard: Option<Shard>,
        mut results: Vec<SeedResult>,
        fail_fast: bool,
    ) -> Summary {
        results.sort_by_key(|r| r.seed);
        results.dedup_by_key(|r| r.seed);
        let stopped_at = if fail_fast {
            results.iter().find(|r| r.failed()).map(|r| r.seed)
        } else {
            None
        };
        if let Some(cut) = stopped_at {
            results.retain(|r| r.seed <= cut);
        }
        Summary {
            file: file.to_string(),
            scenario: scenario.to_string(),
            range,
            shard,
            expected: range.shard_len(shard),
            results,
            stopped_at,
            interrupted: false,
            limits: Vec::new(),
        }
    }

    /// Seeds that ran (and are kept: under `--fail-fast`, those up to the lowest failure).
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().run(), 4);
    /// ```
    pub fn run(&self) -> u64 {
        self.results.len() as u64
    }

    /// The seeds that failed, in seed order.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// let seeds: Vec<u64> = summary().failures().map(|r| r.seed).collect();
    /// assert_eq!(seeds, [2, 3]);
    /// ```
    pub fn failures(&self) -> impl Iterator<Item = &SeedResult> {
        self.results.iter().filter(|r| r.failed())
    }

    /// How many seeds failed (violation, unknown or panic).
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().failed(), 2);
    /// ```
    pub fn failed(&self) -> u64 {
        self.failures().count() as u64
    }

    /// How many seeds passed.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().passed(), 2);
    /// ```
    pub fn passed(&self) -> u64 {
        self.run() - self.failed()
    }

    /// Seeds whose run panicked.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().panicked(), 0);
    /// ```
    pub fn panicked(&self) -> u64 {
        self.results.iter().filter(|r| r.is_panic()).count() as u64
    }

    /// Seeds whose verdict is unknown.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().unknown(), 1);
    /// ```
    pub fn unknown(&self) -> u64 {
        self.results
            .iter()
            .filter(|r| r.verdict == SeedVerdict::Unknown)
            .count() as u64
    }

    /// The failing seed with the lowest number: the one to replay first.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().first_failure().map(|r| r.seed), Some(2));
    /// ```
    pub fn first_failure(&self) -> Option<&SeedResult> {
        self.failures().next()
    }

    /// Simulation events over all seeds that ran.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().events(), 4_000, "1,000 events in each of 4 seeds");
    /// ```
    pub fn events(&self) -> u64 {
        self.results.iter().map(|r| r.events).sum()
    }

    /// Virtual time simulated over all seeds that ran, in nanoseconds.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().virtual_time_ns(), 40_000_000_000, "10 s in each of 4 seeds");
    /// ```
    pub fn virtual_time_ns(&self) -> u64 {
        self.results.iter().map(|r| r.virtual_time_ns).sum()
    }

    /// Every invariant checked or failed, in the order first seen, with its counts.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// let names: Vec<String> = summary().tallies().into_iter().map(|r| r.name).collect();
    /// assert_eq!(names, ["no_split_brain", "leader_within 2s"]);
    /// ```
    pub fn tallies(&self) -> Vec<InvariantTally> {
        let mut order: Vec<String> = Vec::new();
        let mut rows: BTreeMap<String, InvariantTally> = BTreeMap::new();
        let names = self.results.iter().flat_map(|r| {
            r.checked
                .iter()
                .chain(r.failures.iter().map(|f| &f.invariant))
        });
        for name in names {
            if !rows.contains_key(name) {
                order.push(name.clone());
                rows.insert(
                    name.clone(),
                    InvariantTally {
                        name: name.clone(),
                        violated: 0,
                        unknown: 0,
                        first_seed: None,
                    },
                );
            }
        }
        for r in &self.results {
            for f in &r.failures {
                if let Some(row) = rows.get_mut(&f.invariant) {
                    match f.status {
                        FailureStatus::Violation => row.violated += 1,
                        FailureStatus::Unknown => row.unknown += 1,
                    }
                    row.first_seed.get_or_insert(r.seed);
                }
            }
        }
        order.iter().filter_map(|n| rows.remove(n)).collect()
    }

    /// 1 if any seed broke a safety property, else 3 if any failed liveness or was unknown, else 0:
    /// the worst seed ([`exit::worst`]).
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// use sim::run::exit::ExitCode;
    /// // A safety violation outranks the unknown liveness seed.
    /// assert_eq!(summary().exit_code(), ExitCode::SafetyViolated);
    /// ```
    pub fn exit_code(&self) -> ExitCode {
        exit::worst(self.results.iter().map(SeedResult::exit_code))
    }

    /// The command line that replays `seed` of this sweep's scenario file, e.g.
    /// `sim run scenarios/x.toml --seed 42`.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().replay(2), "sim run scenarios/raft/x.toml --seed 2");
    /// ```
    ///
    /// A sweep run with `--limit` overrides replays with them:
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// let mut s = summary();
    /// s.limits = vec!["events=5000".into()];
    /// assert_eq!(s.replay(2), "sim run scenarios/raft/x.toml --seed 2 --limit events=5000");
    /// ```
    pub fn replay(&self, seed: u64) -> String {
        let mut line = replay_command(&self.file, seed);
        for limit in &self.limits {
            line.push_str(" --limit ");
            line.push_str(&shell_quote(limit));
        }
        line
    }

    /// The most events any seed ran: with a sweep of the correct code, the yardstick for a
    /// `--limit events=` that stops a run gone wild (a message storm) long before the default.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// assert_eq!(summary().events_max(), 1_000);
    /// ```
    pub fn events_max(&self) -> u64 {
        self.results.iter().map(|r| r.events).max().unwrap_or(0)
    }

    fn verdict_line(&self) -> String {
        let panics = match self.panicked() {
            0 => String::new(),
            n => format!(" ({} panicked)", thousands(n)),
        };
        let tail = if self.interrupted {
            format!(
                " (interrupted after {} of {} seeds)",
                self.run(),
                self.expected
            )
        } else {
            String::new()
        };
        match self.exit_code() {
            ExitCode::Held => format!("PASS: all {} seeds held{tail}", thousands(self.run())),
            ExitCode::SafetyViolated => format!(
                "VIOLATION: {} of {} seeds failed{panics}{tail}",
                thousands(self.failed()),
                thousands(self.run())
            ),
            _ => format!(
                "UNKNOWN: {} of {} seeds failed a liveness property or could not decide{tail}",
                thousands(self.failed()),
                thousands(self.run())
            ),
        }
    }

    /// The table printed on stdout: deterministic, no wall-clock figure.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// let table = summary().render_text();
    /// assert!(table.contains("VIOLATION: 2 of 4 seeds failed"), "{table}");
    /// assert!(table.contains("sim run scenarios/raft/x.toml --seed 2"), "{table}");
    /// ```
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{:<11} {}  ({})", "sweep", self.scenario, self.file);
        let shard = self
            .shard
            .map(|sh| format!(" shard {sh}"))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<11} {}{shard} · {} seeds",
            "seeds",
            self.range,
            thousands(self.expected)
        );
        let stopped = match self.stopped_at {
            Some(seed) => format!(" · --fail-fast stopped at seed {seed}"),
            None => String::new(),
        };
        let panicked = match self.panicked() {
            0 => String::new(),
            n => format!(", {} panicked", thousands(n)),
        };
        let _ = writeln!(
            s,
            "{:<11} {} of {} · {} passed · {} failed ({} unknown{panicked}){stopped}",
            "run",
            thousands(self.run()),
            thousands(self.expected),
            thousands(self.passed()),
            thousands(self.failed()),
            thousands(self.unknown()),
        );
        let _ = writeln!(
            s,
            "{:<11} {} in all · {} of virtual time",
            "events",
            thousands(self.events()),
            format_duration(self.virtual_time_ns())
        );
        self.render_tallies(&mut s);
        if let Some(first) = self.first_failure() {
            let names: Vec<&str> = first
                .failures
                .iter()
                .map(|f| f.invariant.as_str())
                .collect();
            let _ = writeln!(
                s,
                "{:<11} seed {} ({})",
                "first fail",
                first.seed,
                names.join(", ")
            );
            self.render_failures(&mut s);
            let _ = writeln!(s, "{:<11} {}", "replay", self.replay(first.seed));
        }
        let _ = writeln!(s, "{:<11} {}", "verdict", self.verdict_line());
        s
    }

    fn render_tallies(&self, s: &mut String) {
        let rows = self.tallies();
        let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(9);
        let _ = writeln!(
            s,
            "  {:<width$}  {:>8}  {:>7}  first seed",
            "invariant", "violated", "unknown"
        );
        for r in rows {
            let first = r.first_seed.map_or("-".to_string(), |x| x.to_string());
            let _ = writeln!(
                s,
                "  {:<width$}  {:>8}  {:>7}  {first}",
                r.name,
                thousands(r.violated),
                thousands(r.unknown)
            );
        }
    }

    fn render_failures(&self, s: &mut String) {
        // (seed, what failed, trace hash, replay line, the world a swarm seed drew, the panic)
        type Row<'a> = (
            String,
            String,
            &'a str,
            String,
            &'a [(String, String)],
            Option<&'a str>,
        );
        let rows: Vec<Row<'_>> = self
            .failures()
            .map(|r| {
                let what: Vec<String> = r.failures.iter().map(Failure::short).collect();
                (
                    r.seed.to_string(),
                    what.join(", "),
                    r.trace_hash.as_str(),
                    self.replay(r.seed),
                    r.swarm.as_deref().unwrap_or_default(),
                    r.is_panic()
                        .then(|| r.failures.first().map(|f| f.message.as_str()))
                        .flatten(),
                )
            })
            .collect();
        let seed_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
        let what_w = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(10);
        let _ = writeln!(s, "{:<11} {}", "failing", plural(rows.len() as u64, "seed"));
        let _ = writeln!(
            s,
            "  {:>seed_w$}  {:<what_w$}  {:<16}  replay",
            "seed", "invariants", "trace_hash"
        );
        for (seed, what, hash, replay, knobs, panic) in rows {
            let hash = if hash.is_empty() { "-" } else { hash };
            let _ = writeln!(
                s,
                "  {seed:>seed_w$}  {what:<what_w$}  {hash:<16}  {replay}"
            );
            // A panic has no invariant to explain it: its message does.
            if let Some(message) = panic {
                let _ = writeln!(s, "  {:>seed_w$}  {message}", "");
            }
            // The world a swarm seed drew is part of why it failed.
            if !knobs.is_empty() {
                let world: Vec<String> = knobs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                let _ = writeln!(s, "  {:>seed_w$}  world: {}", "", world.join(" · "));
            }
        }
    }

    /// The `--json` document: the same facts as the table.
    ///
    /// ```
    /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
    /// let json = summary().to_json();
    /// assert_eq!(json["failed"], 2, "{json}");
    /// ```
    pub fn to_json(&self) -> Value {
        let invariants: Vec<Value> = self
            .tallies()
            .into_iter()
            .map(|t| {
                json!({"name": t.name, "violated": t.violated, "unknown": t.unknown,
                       "first_seed": t.first_seed})
            })
            .collect();
        let failures: Vec<Value> = self
            .failures()
            .map(|r| {
                json!({
                    "seed": r.seed,
                    "verdict": r.verdict.name(),
                    "trace_hash": r.trace_hash,
                    "virtual_time_ns": r.virtual_time_ns,
                    "invariants": r.failures,
                    "replay": self.replay(r.seed),
                    "swarm": r.swarm.as_ref().map(|k| k.iter()
                        .map(|(knob, value)| json!({"knob": knob, "value": value}))
                        .collect::<Vec<_>>()),
                })
            })
            .collect();
        let verdict = match self.exit_code() {
            ExitCode::Held => "pass",
            ExitCode::SafetyViolated => "violation",
            _ => "unknown",
        };
        json!({
            "scenario": self.scenario,
            "file": self.file,
            "seeds": {"start": self.range.start, "end": self.range.end},
            "shard": self.shard.map(|s| s.to_string()),
            "expected": self.expected,
            "run": self.run(),
            "passed": self.passed(),
            "failed": self.failed(),
            "unknown": self.unknown(),
            "panicked": self.panicked(),
            "events": self.events(),
            "events_max": self.events_max(),
            "limits": self.limits,
            "virtual_time_ns": self.virtual_time_ns(),
            "invariants": invariants,
            "first_failure": self.first_failure().map(|r| r.seed),
            "failures": failures,
            "replay": self.first_failure().map(|r| self.replay(r.seed)),
            "fail_fast_stopped_at": self.stopped_at,
            "interrupted": self.interrupted,
            "verdict": verdict,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A stored result: `fails` names safety invariants violated at 1s.
    pub(crate) fn result(seed: u64, fails: &[&str]) -> SeedResult {
        SeedResult {
            seed,
            verdict: if fails.is_empty() {
                SeedVerdict::Pass
            } else {
                SeedVerdict::Violation
            },
            events: 100,
            virtual_time_ns: 1_000_000_000,
            trace_hash: format!("{seed:016x}"),
            checked: vec!["election_safety".into(), "no_split_brain".into()],
            failures: fails
                .iter()
                .map(|name| Failure {
                    invariant: name.to_string(),
                    property: Kind::Safety,
                    status: FailureStatus::Violation,
                    at_ns: Some(1_500_000_000),
                    message: format!("{name} broke"),
                })
                .collect(),
            swarm: None,
        }
    }

    fn summary(results: Vec<SeedResult>, fail_fast: bool) -> Summary {
        Summary::new(
            "s.toml",
            "s",
            SeedRange { start: 1, end: 11 },
            None,
            results,
            fail_fast,
        )
    }

    #[test]
    fn the_table_does_not_depend_on_the_order_results_arrive_in() {
        let a: Vec<SeedResult> = (1..11)
            .map(|s| result(s, if s % 4 == 0 { &["no_split_brain"] } else { &[] }))
            .collect();
        let mut b = a.clone();
        b.reverse();
        b.swap(2, 7);
        assert_eq!(
            summary(a, false).render_text(),
            summary(b, false).render_text()
        );
    }

    #[test]
    fn the_table_counts_failures_per_invariant_and_names_the_replay() {
        let results = (1..11)
            .map(|s| match s {
                4 => result(s, &["no_split_brain"]),
                8 => result(s, &["no_split_brain", "election_safety"]),
                _ => result(s, &[]),
            })
            .collect();
        let s = summary(results, false);
        assert_eq!((s.run(), s.passed(), s.failed()), (10, 8, 2));
        let t = s.tallies();
        assert_eq!(t[0].name, "election_safety");
        assert_eq!((t[0].violated, t[0].first_seed), (1, Some(8)));
        assert_eq!((t[1].violated, t[1].first_seed), (2, Some(4)));
        let text = s.render_text();
        assert!(
            text.contains("first fail  seed 4 (no_split_brain)"),
            "{text}"
        );
        assert!(
            text.contains("replay      sim run s.toml --seed 4"),
            "{text}"
        );
        assert!(
            text.contains("no_split_brain@1.5s, election_safety@1.5s"),
            "{text}"
        );
        assert!(text.contains("VIOLATION: 2 of 10 seeds failed"), "{text}");
        assert_eq!(s.exit_code(), ExitCode::SafetyViolated);
    }

    #[test]
    fn fail_fast_keeps_exactly_the_seeds_up_to_the_lowest_failure() {
        // Seeds 9 and 10 ran on other threads before 6 failed; they are not reported.
        let results = [1, 2, 3, 4, 5, 6, 9, 10]
            .into_iter()
            .map(|s| {
                result(
                    s,
                    if s == 6 || s == 9 {
                        &["no_split_brain"]
                    } else {
                        &[]
                    },
                )
            })
            .collect();
        let s = summary(results, true);
        assert_eq!(s.stopped_at, Some(6));
        assert_eq!(
            s.results.iter().map(|r| r.seed).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(s.failed(), 1);
    }

    #[test]
    fn exit_codes_rank_safety_over_liveness_over_pass() {
        let mut live = result(3, &["leader_within 2s"]);
        live.failures[0].property = Kind::Liveness;
        assert_eq!(live.exit_code(), ExitCode::Undecided);
        assert_eq!(
            summary(vec![result(1, &[]), live.clone()], false).exit_code(),
            ExitCode::Undecided
        );
        assert_eq!(
            summary(vec![live, result(2, &["no_split_brain"])], false).exit_code(),
            ExitCode::SafetyViolated
        );
        assert_eq!(
            summary(vec![result(1, &[])], false).exit_code(),
            ExitCode::Held
        );
    }

    /// Seed `seed` panicked at 1.5s.
    pub(crate) fn panicked(seed: u64) -> SeedResult {
        let panic = Panic {
            message: "index out of bounds".into(),
            location: Some("src/protocols/raft/log.rs:40:9".into()),
            point: Some(crate::world::PanicPoint {
                at: 1_500_000_000,
                events: 42,
                trace_hash: "00000000000000aa".into(),
            }),
        };
        SeedResult::panicked(seed, &panic, None)
    }

    #[test]
    fn a_panic_is_a_failing_seed_with_its_own_line() {
        let p = panicked(5);
        assert_eq!(
            p.exit_code(),
            ExitCode::SafetyViolated,
            "a panic is a safety failure"
        );
        assert_eq!((p.virtual_time_ns, p.events), (1_500_000_000, 42));
        let s = summary(vec![result(1, &[]), p.clone(), result(7, &[])], false);
        assert_eq!((s.run(), s.failed(), s.panicked()), (3, 1, 1));
        assert_eq!(s.exit_code(), ExitCode::SafetyViolated);
        let text = s.render_text();
        assert!(text.contains("1 failed (0 unknown, 1 panicked)"), "{text}");
        assert!(
            text.contains("  panicked                1        0  5\n"),
            "its own row: {text}"
        );
        assert!(
            text.contains("     5  panicked@1.5s  00000000000000aa"),
            "{text}"
        );
        assert!(
            text.contains(
                "        panicked at src/protocols/raft/log.rs:40:9: index out of bounds\n"
            ),
            "the message under the seed: {text}"
        );
        assert!(
            text.contains("VIOLATION: 1 of 3 seeds failed (1 panicked)"),
            "{text}"
        );
        let json = s.to_json();
        assert_eq!(json["panicked"], 1);
        assert_eq!(json["failures"][0]["verdict"], "panicked");
        let back: SeedResult = serde_json::from_str(&p.to_line()).unwrap();
        assert_eq!(
            back, p,
            "results.jsonl keeps it, so a resume and a merge do"
        );
        // A table without panics is unchanged.
        let clean = summary(vec![result(1, &[]), result(2, &["no_split_brain"])], false);
        assert!(!clean.render_text().contains("panicked"));
    }

    #[test]
    fn a_result_survives_its_json_line() {
        let r = result(7, &["no_split_brain"]);
        let back: SeedResult = serde_json::from_str(&r.to_line()).unwrap();
        assert_eq!(back, r);
    }
}
