//! `sim experiment`: many trials of one scenario over series of parameter values (or a grid of
//! their combinations), each trial measured directly (the election downtime after a leader
//! crash, the commit latency, the share of stale reads, a protocol's own metric), with the
//! per-trial values in `results.csv`, a table of percentiles and a CDF plot per series.
//!
//! Trials run on threads, each a whole single-threaded run; trial `i` of every line uses seed
//! `seed + i`, so lines are compared on the same seeds, and the results do not depend on the
//! number of threads (they are stored by trial index, never in finishing order).

mod measure;
mod metric;
mod plot;
mod spec;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::node::Nanos;
use crate::scenario::ScenarioError;

pub use measure::Trial;
pub use metric::{Metric, Unit, commit_latency, stale_read_rate};
pub use spec::{CrashLeader, Experiment, Line, Series};

/// The trials of one line, in trial order.
///
/// ```
/// use sim::experiment::{LineResult, Trial};
/// let r = LineResult { series: 0, line: 1, trials: vec![Trial { seed: 1, crash: None, value: None, samples: 0, outcome: "no leader to crash" }] };
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
    /// The measured values in the metric's unit, sorted; trials that measured nothing are left
    /// out.
    ///
    /// ```
    /// use sim::experiment::{LineResult, Trial};
    /// let t = |v| Trial { seed: 1, crash: None, value: v, samples: 1, outcome: "" };
    /// let r = LineResult { series: 0, line: 0, trials: vec![t(Some(3.0)), t(None), t(Some(1.0))] };
    /// assert_eq!(r.sorted(), [1.0, 3.0]);
    /// ```
    pub fn sorted(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self.trials.iter().filter_map(|t| t.value).collect();
        v.sort_unstable_by(f64::total_cmp);
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
///     [measure]\nmetric = \"election_downtime\"\n\
///     [nemesis]\ncrash = \"leader\"\nafter = \"2s\"\nwithin = \"protocol.heartbeat_interval\"\n";
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
                    let plan = measure::Plan {
                        metric: experiment.metric,
                        nemesis: experiment.nemesis,
                        window: line.crash_window,
                    };
                    let trial = measure::trial(&line.scenario, seed, plan);
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

/// A value as the CSV and the table write it: milliseconds for a time (to the microsecond), a
/// share to four decimals for a ratio.
fn show(unit: Unit, v: f64) -> String {
    let s = match unit {
        Unit::Time => format!("{:.3}", v / 1e6),
        Unit::Ratio => format!("{v:.4}"),
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The unit's suffix in column names and headings.
fn unit_suffix(unit: Unit) -> &'static str {
    match unit {
        Unit::Time => "ms",
        Unit::Ratio => "share",
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `results.csv`: one row per trial — series, line, one column per varied key (empty where the
/// line does not set it), the trial's seed, when a leading node was first crashed and which (by
/// the `[nemesis]`, or by one of the scenario's own faults),
/// the metric (milliseconds for a time), how many samples it summarises, and the outcome:
/// `measured`, or why the metric is empty.
///
/// ```
/// use sim::experiment::{Experiment, LineResult, Trial, csv};
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// # let text = "name = \"x\"\nscenario = \"raft-election-downtime.scenario.toml\"\ntrials = 1\n[[vary]]\nkey = \"protocol.election_timeout\"\nvalues = [[\"150ms\", \"300ms\"]]\nlabels = [\"150-300ms\"]\n[measure]\nmetric = \"election_downtime\"\n[nemesis]\ncrash = \"leader\"\n";
/// # let experiment = Experiment::parse("x.toml", text, dir, &sim::run::registry::Registry::builtin())?;
/// let trial = Trial { seed: 1, crash: Some((2_000_000_000, 1)), value: Some(250.5e6), samples: 1, outcome: "measured" };
/// let text = csv(&experiment, &[LineResult { series: 0, line: 0, trials: vec![trial] }]);
/// assert_eq!(text.lines().next(), Some("series,line,protocol.election_timeout,seed,crash_at_ms,crashed,election_downtime_ms,samples,outcome"));
/// assert_eq!(text.lines().nth(1), Some("0,150-300ms,[150ms 300ms],1,2000,n2,250.5,1,measured"));
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
pub fn csv(experiment: &Experiment, results: &[LineResult]) -> String {
    let keys = experiment.keys();
    let unit = experiment.metric.unit();
    let mut out = format!(
        "series,line,{},seed,crash_at_ms,crashed,{}_{},samples,outcome\n",
        keys.iter()
            .map(|k| csv_field(k))
            .collect::<Vec<_>>()
            .join(","),
        experiment.metric.name(),
        unit_suffix(unit)
    );
    for r in results {
        let line = &experiment.series[r.series].lines[r.line];
        let settings: Vec<String> = keys
            .iter()
            .map(|k| {
                let v = line.settings.iter().find(|(key, _)| key == k);
                csv_field(v.map_or("", |(_, v)| v.as_str()))
            })
            .collect();
        let settings = settings.join(",");
        for t in &r.trials {
            let (crash_at, crashed) = match t.crash {
                Some((at, node)) => (
                    show(Unit::Time, at as f64),
                    line.scenario
                        .nodes
                        .get(node as usize)
                        .cloned()
                        .unwrap_or_else(|| node.to_string()),
                ),
                None => (String::new(), String::new()),
            };
            out += &format!(
                "{},{},{settings},{},{crash_at},{},{},{},{}\n",
                r.series,
                csv_field(&line.label),
                t.seed,
                csv_field(&crashed),
                t.value.map(|v| show(unit, v)).unwrap_or_default(),
                t.samples,
                t.outcome
            );
        }
    }
    out
}

/// A Markdown table: per line, the trials, how many measured, and the median, 90th and 99th
/// percentiles and maximum (in milliseconds for a time), over every trial: a trial that
/// measured nothing (no new leader heard before the run ended, no operation acknowledged)
/// ranks above all the others, and a percentile that falls among them reads `none`.
///
/// ```
/// # use sim::experiment::{Experiment, LineResult, Trial, table};
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// # let text = "name = \"x\"\nscenario = \"raft-election-downtime.scenario.toml\"\ntrials = 2\n[[vary]]\nkey = \"protocol.election_timeout\"\nvalues = [[\"150ms\", \"300ms\"]]\nlabels = [\"150-300ms\"]\n[measure]\nmetric = \"election_downtime\"\n[nemesis]\ncrash = \"leader\"\n";
/// # let experiment = Experiment::parse("x.toml", text, dir, &sim::run::registry::Registry::builtin())?;
/// let t = |v| Trial { seed: 1, crash: None, value: v, samples: 1, outcome: "" };
/// let md = table(&experiment, &[LineResult { series: 0, line: 0, trials: vec![t(Some(200e6)), t(None)] }]);
/// assert!(md.contains("| 150-300ms | 2 | 1 | 200 | none | none | none |"), "{md}");
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
pub fn table(experiment: &Experiment, results: &[LineResult]) -> String {
    let unit = experiment.metric.unit();
    let mut out = String::new();
    for (s, series) in experiment.series.iter().enumerate() {
        out += &format!(
            "\n**{}** ({}, {}; `none`: {})\n\n| line | trials | measured | median | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
            series.title,
            experiment.metric.name(),
            unit_suffix(unit),
            experiment.metric.missing()
        );
        for r in results.iter().filter(|r| r.series == s) {
            let v = r.sorted();
            // Over every trial: one that never measured counts as longer than any that did.
            let q = |q: f64| {
                let rank = ((q * r.trials.len() as f64).ceil() as usize).max(1);
                if rank <= v.len() {
                    show(unit, v[rank - 1])
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

/// One SVG per series: the CDF of each line, times on a logarithmic axis, shares on a linear
/// one.
///
/// ```
/// # use sim::experiment::{Experiment, LineResult, Trial, plots};
/// # let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/experiments"));
/// # let text = "name = \"x\"\nscenario = \"raft-election-downtime.scenario.toml\"\ntrials = 2\n[[vary]]\nkey = \"protocol.election_timeout\"\nvalues = [[\"150ms\", \"300ms\"]]\n[measure]\nmetric = \"election_downtime\"\n[nemesis]\ncrash = \"leader\"\n";
/// # let experiment = Experiment::parse("x.toml", text, dir, &sim::run::registry::Registry::builtin())?;
/// let t = |v| Trial { seed: 1, crash: None, value: Some(v), samples: 1, outcome: "measured" };
/// let svgs = plots(&experiment, &[LineResult { series: 0, line: 0, trials: vec![t(200e6), t(300e6)] }]);
/// assert_eq!(svgs.len(), 1);
/// assert!(svgs[0].1.starts_with("<svg") && svgs[0].1.contains("<path"));
/// # Ok::<(), sim::scenario::ScenarioError>(())
/// ```
pub fn plots(experiment: &Experiment, results: &[LineResult]) -> Vec<(String, String)> {
    let unit = experiment.metric.unit();
    experiment
        .series
        .iter()
        .enumerate()
        .map(|(s, series)| {
            let lines: Vec<(String, Vec<f64>, usize)> = results
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
            let svg = match unit {
                Unit::Time => plot::cdf(&series.title, experiment.metric.name(), &lines),
                Unit::Ratio => plot::cdf_linear(&series.title, experiment.metric.name(), &lines),
            };
            (name, svg)
        })
        .collect()
}
