//! The worker threads of a sweep.
//!
//! N OS threads pull seed indices from one atomic counter; each seed is an independent
//! run (through [`RunnerOptions::registry`]) with no trace capture, so threads share nothing but the scenario (read
//! only), the counter and a channel that carries each finished result to the calling thread —
//! one message per seed, milliseconds apart, so nothing contends in the hot path. The caller
//! sees results in completion order; the [`Summary`](super::Summary) sorts them.
//!
//! `--fail-fast` stays deterministic: seeds are handed out in increasing order, and a worker
//! stops taking seeds above the lowest failure seen so far. Every seed below that failure was
//! handed out earlier and runs to the end, so the reported set — every seed up to and including
//! the lowest failure — is the same for any number of threads. A stop request (SIGINT) only stops
//! handing out seeds; running seeds finish and are reported.
//!
//! A seed whose run panics (a protocol's `assert!`, a checker's bug, an engine assertion) is a
//! finding about that seed: the panic is caught on its worker, recorded as a
//! `SeedResult::panicked`, and the worker takes the next seed.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::node::Nanos;
use crate::run::RunOptions;
use crate::run::panic::catch;
use crate::run::registry::{self, Registry};
use crate::scenario::Scenario;

use super::SeedResult;

/// How to run a batch of seeds.
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use sim::sweep::runner::RunnerOptions;
/// let stop = AtomicBool::new(false);
/// // Four threads, stopping above the lowest failure.
/// let options = RunnerOptions { fail_fast: true, ..RunnerOptions::new(4, &stop) };
/// assert_eq!((options.jobs, options.fail_fast, options.known_failure), (4, true, None));
/// ```
pub struct RunnerOptions<'a> {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Stop handing out seeds above the lowest failure.
    pub fail_fast: bool,
    /// The lowest failing seed already known (a resumed sweep's earlier results).
    pub known_failure: Option<u64>,
    /// Set from outside (SIGINT): hand out no more seeds.
    pub stop: &'a AtomicBool,
    /// How often the caller is woken with [`Event::Tick`] while waiting (wall time).
    pub tick: Duration,
    /// A test aid: these seeds panic deliberately.
    pub panic_at: Option<&'a PanicAid>,
    /// The protocols the runs dispatch through: the process's unless a caller (the test
    /// harness, `sim::testing`) brings its own.
    pub registry: &'a Registry,
}

impl<'a> RunnerOptions<'a> {
    /// Every seed runs on `jobs` threads until done or `stop` is set: no fail-fast, no panic aid,
    /// woken once a second. Callers change what they need with `..RunnerOptions::new(..)`.
    ///
    /// ```
    /// use std::sync::atomic::AtomicBool;
    /// use sim::sweep::runner::RunnerOptions;
    /// let stop = AtomicBool::new(false);
    /// let options = RunnerOptions::new(2, &stop);
    /// assert_eq!(options.tick, std::time::Duration::from_secs(1));
    /// assert!(options.panic_at.is_none());
    /// ```
    pub fn new(jobs: usize, stop: &'a AtomicBool) -> Self {
        RunnerOptions {
            jobs,
            fail_fast: false,
            known_failure: None,
            stop,
            tick: Duration::from_secs(1),
            panic_at: None,
            registry: registry::installed(),
        }
    }
}

/// A test aid, `--panic-at SEEDS@TIME` (hidden): the runs of these seeds panic at this virtual
/// time, as a buggy protocol would, so that a sweep's handling of panics can be tested end to
/// end. `3,7@1.5s` makes seeds 3 and 7 panic at 1.5 s.
///
/// ```
/// use sim::sweep::runner::PanicAid;
/// let aid: PanicAid = "3,7@1.5s".parse().unwrap();
/// assert_eq!((aid.seeds, aid.at), (vec![3, 7], 1_500_000_000));
/// assert!("3,x@1s".parse::<PanicAid>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicAid {
    /// The seeds whose runs panic.
    pub seeds: Vec<u64>,
    /// The virtual time (nanoseconds) at which each of those runs panics.
    pub at: Nanos,
}

impl PanicAid {
    /// When this seed's run panics, if it does.
    ///
    /// ```
    /// use sim::sweep::runner::PanicAid;
    /// let aid: PanicAid = "3,7@1.5s".parse().unwrap();
    /// assert_eq!((aid.for_seed(7), aid.for_seed(8)), (Some(1_500_000_000), None));
    /// ```
    pub fn for_seed(&self, seed: u64) -> Option<Nanos> {
        self.seeds.contains(&seed).then_some(self.at)
    }
}

impl FromStr for PanicAid {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = "expected SEEDS@TIME, e.g. 3,7@1.5s";
        let (seeds, at) = s
            .split_once('@')
            .ok_or_else(|| format!("`{s}`: {expected}"))?;
        let seeds = seeds
            .split(',')
            .map(|t| t.trim().parse::<u64>())
            .collect::<Result<Vec<u64>, _>>()
            .map_err(|_| format!("`{s}`: the seeds are not whole numbers; {expected}"))?;
        let at = at
            .parse::<crate::node::Duration>()
            .map_err(|e| format!("`{s}`: {e}; {expected}"))?
            .nanos();
        Ok(PanicAid { seeds, at })
    }
}

/// What the calling thread is told while the workers run.
///
/// ```
/// use sim::sweep::runner::Event;
/// // What a progress display does with each.
/// fn count(event: Event<'_>, done: &mut u64) {
///     if let Event::Done(_) = event {
///         *done += 1;
///     }
/// }
/// let mut done = 0;
/// count(Event::Tick, &mut done);
/// assert_eq!(done, 0);
/// ```
pub enum Event<'a> {
    /// A seed finished.
    Done(&'a SeedResult),
    /// Nothing finished for a while: a chance to refresh the progress display.
    Tick,
}

/// Runs `seeds` (in increasing order) on `jobs` threads, calling `sink` on the calling thread for
/// each finished seed. Returns the results in completion order; an error if a run could not
/// happen (then the rest are abandoned).
///
/// ```
/// use std::sync::atomic::AtomicBool;
///
/// use sim::scenario::Scenario;
/// use sim::sweep::runner::{Event, RunnerOptions, run_seeds};
/// use sim::sweep::{SeedRange, Summary};
///
/// let text = include_str!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/scenarios/failover/naive-split-brain.toml"
/// ));
/// let scenario = Scenario::parse("naive-split-brain.toml", text)?;
/// let range: SeedRange = "1..5".parse()?;
/// let seeds: Vec<u64> = range.seeds(None).collect();
/// let stop = AtomicBool::new(false);
/// let mut done = 0;
/// let results = run_seeds(&scenario, &seeds, &RunnerOptions::new(2, &stop), |event| {
///     if let Event::Done(_) = event {
///         done += 1;
///     }
/// })?;
/// assert_eq!(done, 4);
///
/// // Completion order depends on the threads; the summary does not.
/// let file = "naive-split-brain.toml";
/// let summary = Summary::new(file, &scenario.name, range, None, results, false);
/// assert_eq!(summary.run(), 4);
/// assert_eq!(summary.failed(), 4, "the partition splits the brain whatever the seed");
/// assert!(summary.replay(1).ends_with("naive-split-brain.toml --seed 1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_seeds(
    scenario: &Scenario,
    seeds: &[u64],
    options: &RunnerOptions<'_>,
    mut sink: impl FnMut(Event<'_>),
) -> Result<Vec<SeedResult>, String> {
    debug_assert!(
        seeds.windows(2).all(|w| w[0] < w[1]),
        "seeds are handed out in order"
    );
    let next = AtomicUsize::new(0);
    let lowest_failure = AtomicU64::new(options.known_failure.unwrap_or(u64::MAX));
    let failed = AtomicBool::new(false);
    let shared = Shared {
        scenario,
        seeds,
        next: &next,
        lowest_failure: &lowest_failure,
        fail_fast: options.fail_fast,
        stop: options.stop,
        failed: &failed,
        panic_at: options.panic_at,
        registry: options.registry,
    };
    let jobs = options.jobs.clamp(1, seeds.len().max(1));
    let mut results = Vec::with_capacity(seeds.len());
    let mut error = None;
    thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Result<SeedResult, String>>();
        for _ in 0..jobs {
            let tx = tx.clone();
            let shared = &shared;
            scope.spawn(move || shared.work(&tx));
        }
        drop(tx);
        loop {
            match rx.recv_timeout(options.tick) {
                Ok(Ok(result)) => {
                    sink(Event::Done(&result));
                    results.push(result);
                }
                Ok(Err(e)) => {
                    error.get_or_insert(e);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => sink(Event::Tick),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    match error {
        Some(e) => Err(e),
        None => Ok(results),
    }
}

/// What the workers share: read-only inputs and three atomics.
struct Shared<'a> {
    scenario: &'a Scenario,
    seeds: &'a [u64],
    next: &'a AtomicUsize,
    lowest_failure: &'a AtomicU64,
    fail_fast: bool,
    stop: &'a AtomicBool,
    /// A run could not happen: every worker stops.
    failed: &'a AtomicBool,
    panic_at: Option<&'a PanicAid>,
    registry: &'a Registry,
}

impl Shared<'_> {
    fn work(&self, tx: &mpsc::Sender<Result<SeedResult, String>>) {
        while let Some(seed) = self.take() {
            let options = RunOptions {
                seed: Some(seed),
                ..RunOptions::default()
            };
            let panic_at = self.panic_at.and_then(|aid| aid.for_seed(seed));
            let result = match catch(|| self.registry.run(self.scenario, &options, panic_at)) {
                Ok(Ok(out)) => SeedResult::from_report(&out.report),
                Ok(Err(e)) => {
                    self.failed.store(true, Ordering::SeqCst);
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
                Err(panic) => {
                    let (_, swarm) = self.scenario.draw_world(seed);
                    SeedResult::panicked(seed, &panic, swarm)
                }
            };
            if self.fail_fast && result.failed() {
                self.lowest_failure.fetch_min(seed, Ordering::SeqCst);
            }
            let message = Ok(result);
            if tx.send(message).is_err() {
                return;
            }
        }
    }

    /// The next seed to run, or `None` when there is none left, a stop was asked, or (under
    /// fail-fast) every seed left is above a known failure.
    fn take(&self) -> Option<u64> {
        if self.stop.load(Ordering::SeqCst) || self.failed.load(Ordering::SeqCst) {
            return None;
        }
        let seed = *self.seeds.get(self.next.fetch_add(1, Ordering::SeqCst))?;
        if self.fail_fast && seed > self.lowest_failure.load(Ordering::SeqCst) {
            return None;
        }
        Some(seed)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sweep::{SeedRange, Summary};

    /// Naive fail-over under partitions: some seeds end with two masters.
    pub(crate) const MIXED: &str = r#"
name = "mixed"
duration = "3s"
[cluster]
nodes = ["master", "standby"]
protocol = "naive-failover"
[protocol]
ping_interval = "100ms"
missed_pings = 3
[network]
latency = { dist = "uniform", min = "1ms", max = "5ms" }
[nemesis]
until = "2s"
partition = { every = ["500ms", "3s"], last = ["100ms", "450ms"] }
[check]
invariants = ["election_safety", "no_split_brain"]
"#;

    fn sweep(jobs: usize, fail_fast: bool) -> Summary {
        let scenario = Scenario::parse("mixed.toml", MIXED).unwrap();
        let stop = AtomicBool::new(false);
        let seeds: Vec<u64> = (1..31).collect();
        let options = RunnerOptions {
            fail_fast,
            tick: Duration::from_millis(50),
            ..RunnerOptions::new(jobs, &stop)
        };
        let mut seen = 0;
        let results = run_seeds(&scenario, &seeds, &options, |e| {
            if let Event::Done(_) = e {
                seen += 1;
            }
        })
        .unwrap();
        assert_eq!(seen, results.len());
        let range = SeedRange { start: 1, end: 31 };
        Summary::new("mixed.toml", "mixed", range, None, results, fail_fast)
    }

    #[test]
    fn any_number_of_jobs_gives_the_same_table() {
        let one = sweep(1, false);
        assert_eq!(one.run(), 30);
        assert!(one.failed() > 0 && one.passed() > 0, "the test needs both");
        assert_eq!(one.render_text(), sweep(3, false).render_text());
    }

    #[test]
    fn fail_fast_reports_the_same_seeds_for_any_number_of_jobs() {
        let one = sweep(1, true);
        let first = one.stopped_at.expect("a failure");
        assert_eq!(one.results.last().map(|r| r.seed), Some(first));
        assert_eq!(one.run(), first);
        assert_eq!(one.render_text(), sweep(4, true).render_text());
    }

    #[test]
    fn a_stop_request_hands_out_no_more_seeds() {
        let scenario = Scenario::parse("mixed.toml", MIXED).unwrap();
        let stop = AtomicBool::new(true);
        let options = RunnerOptions {
            tick: Duration::from_millis(50),
            ..RunnerOptions::new(2, &stop)
        };
        let results = run_seeds(&scenario, &[1, 2, 3], &options, |_| {}).unwrap();
        assert!(results.is_empty());
    }
}
