//! `sim experiment`: many trials of one scenario over a series of parameter values, each trial
//! measured directly (the election downtime after a leader crash), with the per-trial values in
//! `results.csv`, a table of percentiles and a CDF plot per series.
//!
//! Trials run on threads, each a whole single-threaded run; trial `i` of every line uses seed
//! `seed + i`, so lines are compared on the same seeds, and the results do not depend on the
//! number of threads (they are stored by trial index, never in finishing order).

mod measure;
mod plot;
mod spec;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::node::Nanos;
use crate::scenario::ScenarioError;

pub use measure::Trial;
pub use spec::{Experiment, Line, Metric, Series};

/// The trials of one line, in trial order.
///
/// ```
/// use sim::experiment::{LineResult, Trial};
/// let r = LineResult { series: 0, line: 1, trials: vec![Trial { seed: 1, crash_at: 0, value: None, crashed: false }] };
/// assert!(r.sorted().is_empty(), "no leader to crash: nothing measured");
/// ```
#[derive(Clone, Debug)]
pub struct LineResult {
    /// Which series (index in [`Experiment::series`]).
    pub series: usize,
    /// Which line of it.
    pub line: usize,
    /// One per trial.
    pub trials: Vec<Trial>,
}

impl LineResult {
    /// The measured values in nanoseconds, sorted; censored trials are left out.
    ///
    /// ```
    /// use sim::experiment::{LineResult, Trial};
    /// let t = |v| Trial { seed: 1, crash_at: 0, value: v, crashed: true };
    /// let r = LineResult { series: 0, line: 0, trials: vec![t(Some(3)), t(None), t(Some(1))] };
    /// assert_eq!(r.sorted(), [1, 3]);
    /// ```
    pub fn sorted(&self) -> Vec<Nanos> {
        let mut v: Vec<Nanos> = self.trials.iter().filter_map(|t| t.value).collect();
        v.sort_unstable();
        v
    }
}

/// The `q`-quantile (0 to 1) of sorted values, by the nearest-rank rule; `None` when empty.
///
/// ```
/// use sim::experiment::quantile;
/// let v: Vec<u64> = (1..=100).collect();
/// assert_eq!(quantile(&v, 0.5), Some(50));
/// assert_eq!(quantile(&v, 0.99), Some(99));
/// assert_eq!(quantile(&v, 1.0), Some(100));
/// assert_eq!(quantile(&[], 0.5), None);
/// ```
pub fn quantile(sorted: &[Nanos], q: f64) -> Option<Nanos> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Runs every trial of every line on `jobs` threads; `tick` is called after each trial (for a
/// progress bar). The results are the same for any `jobs`.
///
/// ```
/// # use sim::experiment::{Experiment, run};
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// let text = "name = \"x\"\nscenario = \"raft-election-downtime.scenario.toml\"\ntrials = 2\n\
///     [[vary]]\nkey = \"protocol.election_timeout\"\nvalues = [[\"150ms\", \"300ms\"]]\n\
///     also = { \"protocol.heartbeat_interval\" = [\"75ms\"] }\n\
///     [measure]\nmetric = \"election_downtime\"\ncrash_at = \"2s\"\ncrash_window = \"protocol.heartbeat_interval\"\n";
/// let registry = sim::run::registry::Registry::builtin();
/// let experiment = Experiment::parse("x.toml", text, dir, &registry)?;
/// let one = run(&experiment, 1, &|| {})?;
/// let two = run(&experiment, 2, &|| {})?;
/// assert_eq!(one[0].trials, two[0].trials, "the same for any number of threads");
/// assert!(one[0].trials.iter().all(|t| t.value.is_some()), "a new leader every time");
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
pub fn run(
    experiment: &Experiment,
    jobs: usize,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<LineResult>, ScenarioError> {
    let mut work: Vec<(usize, usize, u64)> = Vec::new();
    for (s, series) in experiment.series.iter().enumerate() {
        for (l, line) in series.lines.iter().enumerate() {
            work.extend((0..line.trials).map(|i| (s, l, i)));
        }
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Trial, ScenarioError>>>> =
        Mutex::new(vec![None; work.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(s, l, i)) = work.get(k) else {
                        break;
                    };
                    let line = &experiment.series[s].lines[l];
                    let seed = experiment.seed.wrapping_add(i);
                    let crash = (experiment.crash_at, line.crash_window);
                    let trial = measure::trial(&line.scenario, seed, crash);
                    results.lock().expect("no thread panics holding it")[k] = Some(trial);
                    tick();
                }
            });
        }
    });
    let mut results = results
        .into_inner()
        .expect("no thread panicked")
        .into_iter();
    let mut out = Vec::new();
    for (s, series) in experiment.series.iter().enumerate() {
        for (l, line) in series.lines.iter().enumerate() {
            let mut trials = Vec::new();
            for _ in 0..line.trials {
                trials.push(results.next().flatten().expect("every trial ran")?);
            }
            out.push(LineResult {
                series: s,
                line: l,
                trials,
            });
        }
    }
    Ok(out)
}

fn ms(n: Nanos) -> String {
    let s = format!("{:.3}", n as f64 / 1e6);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `results.csv`: one row per trial — series, line, every key the line set, the trial's seed,
/// when the leader was crashed, the metric in milliseconds, and the outcome: `measured`, or
/// why the metric is empty (no new leader heard before the run's end; no leader to crash).
///
/// ```
/// use sim::experiment::{Experiment, LineResult, Trial, csv};
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// # let text = "name = \"x\"\nscenario = \"raft-election-downtime.scenario.toml\"\ntrials = 1\n[[vary]]\nkey = \"protocol.election_timeout\"\nvalues = [[\"150ms\", \"300ms\"]]\nlabels = [\"150-300ms\"]\n[measure]\nmetric = \"election_downtime\"\n";
/// # let experiment = Experiment::parse("x.toml", text, dir, &sim::run::registry::Registry::builtin())?;
/// let trial = Trial { seed: 1, crash_at: 2_000_000_000, value: Some(250_500_000), crashed: true };
/// let text = csv(&experiment, &[LineResult { series: 0, line: 0, trials: vec![trial] }]);
/// assert_eq!(text.lines().nth(1), Some("0,150-300ms,protocol.election_timeout=[150ms 300ms],1,2000,250.5,measured"));
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
pub fn csv(experiment: &Experiment, results: &[LineResult]) -> String {
    let mut out = format!(
        "series,line,settings,seed,crash_at_ms,{}_ms,outcome\n",
        experiment.metric.name()
    );
    for r in results {
        let line = &experiment.series[r.series].lines[r.line];
        let settings: Vec<String> = line
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let settings = csv_field(&settings.join(";"));
        for t in &r.trials {
            let outcome = match (t.value, t.crashed) {
                (Some(_), _) => "measured",
                (None, true) => "no new leader heard by the end",
                (None, false) => "no leader to crash",
            };
            out += &format!(
                "{},{},{},{},{},{},{outcome}\n",
                r.series,
                csv_field(&line.label),
                settings,
                t.seed,
                ms(t.crash_at),
                t.value.map(ms).unwrap_or_default()
            );
        }
    }
    out
}

/// A Markdown table: per line, the trials, how many measured, and the median, 90th and 99th
/// percentiles and maximum in milliseconds, over every trial: a trial that measured nothing
/// (no new leader heard before the run ended, or none to crash) ranks above all the others,
/// and a percentile that falls among them reads `none`.
///
/// ```
/// # use sim::experiment::{Experiment, LineResult, Trial, table};
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// # let text = "name = \"x\"\nscenario = \"raft-election-downtime.scenario.toml\"\ntrials = 2\n[[vary]]\nkey = \"protocol.election_timeout\"\nvalues = [[\"150ms\", \"300ms\"]]\nlabels = [\"150-300ms\"]\n[measure]\nmetric = \"election_downtime\"\n";
/// # let experiment = Experiment::parse("x.toml", text, dir, &sim::run::registry::Registry::builtin())?;
/// let t = |v| Trial { seed: 1, crash_at: 0, value: v, crashed: true };
/// let md = table(&experiment, &[LineResult { series: 0, line: 0, trials: vec![t(Some(200_000_000)), t(None)] }]);
/// assert!(md.contains("| 150-300ms | 2 | 1 | 200 | none | none | none |"), "{md}");
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
pub fn table(experiment: &Experiment, results: &[LineResult]) -> String {
    let mut out = String::new();
    for (s, series) in experiment.series.iter().enumerate() {
        out += &format!(
            "\n**{}** ({}, ms; `none`: no new leader was heard within the run)\n\n| line | trials | measured | median | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
            series.title,
            experiment.metric.name()
        );
        for r in results.iter().filter(|r| r.series == s) {
            let v = r.sorted();
            // Over every trial: one that never measured counts as longer than any that did.
            let q = |q: f64| {
                let rank = ((q * r.trials.len() as f64).ceil() as usize).max(1);
                if rank <= v.len() {
                    ms(v[rank - 1])
                } else {
                    "none".into()
                }
            };
            out += &format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                series.lines[r.line].label,
                r.trials.len(),
                v.len(),
                q(0.5),
                q(0.9),
                q(0.99),
                q(1.0)
            );
        }
    }
    out
}

/// One SVG per series: the CDF of each line, on a logarithmic time axis.
///
/// ```
/// # use sim::experiment::{Experiment, LineResult, Trial, plots};
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// # let text = "name = \"x\"\nscenario = \"raft-election-downtime.scenario.toml\"\ntrials = 2\n[[vary]]\nkey = \"protocol.election_timeout\"\nvalues = [[\"150ms\", \"300ms\"]]\n[measure]\nmetric = \"election_downtime\"\n";
/// # let experiment = Experiment::parse("x.toml", text, dir, &sim::run::registry::Registry::builtin())?;
/// let t = |v| Trial { seed: 1, crash_at: 0, value: Some(v), crashed: true };
/// let svgs = plots(&experiment, &[LineResult { series: 0, line: 0, trials: vec![t(200_000_000), t(300_000_000)] }]);
/// assert_eq!(svgs.len(), 1);
/// assert!(svgs[0].1.starts_with("<svg") && svgs[0].1.contains("<path"));
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
pub fn plots(experiment: &Experiment, results: &[LineResult]) -> Vec<(String, String)> {
    experiment
        .series
        .iter()
        .enumerate()
        .map(|(s, series)| {
            let lines: Vec<(String, Vec<Nanos>, usize)> = results
                .iter()
                .filter(|r| r.series == s)
                .map(|r| {
                    (
                        series.lines[r.line].label.clone(),
                        r.sorted(),
                        r.trials.len(),
                    )
                })
                .collect();
            let name = format!("{}-{}.svg", experiment.name, s + 1);
            (
                name,
                plot::cdf(&series.title, experiment.metric.name(), &lines),
            )
        })
        .collect()
}
