//! `sim bench`: how fast the engine runs, with the trace hash and the invariant checks on.
//!
//! The workloads are bundled scenarios (`scenarios/bench/`), run exactly as `sim run` runs them.
//! Each is run `--runs` times and the fastest wall time is reported: the figure least disturbed
//! by the rest of the machine. Only here, in the command line, is the wall clock read.

use std::time::Instant;

use clap::Args;
use serde_json::json;

use crate::report::text::thousands;
use crate::run::exit::ExitCode;
use crate::run::{RunOptions, run};
use crate::scenario::Scenario;
use crate::workload::history::{Call, Outcome};

/// `sim bench`: the engine's speed on the bundled workloads, or another benchmark.
///
/// ```
/// use sim::cli::bench::BenchArgs;
/// // What `cargo bench` runs: every workload, fastest of five.
/// let args = BenchArgs { runs: 5, ..Default::default() };
/// assert_eq!((args.filter, args.json, args.target.is_none()), (None, false, true));
/// ```
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Only the workloads whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Runs per workload; the fastest is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Another benchmark instead of the engine's.
    #[command(subcommand)]
    pub target: Option<BenchTarget>,
}

/// `sim bench <target>`: benchmarks other than the engine's.
///
/// ```
/// use sim::cli::bench::{BenchArgs, BenchTarget};
/// use sim::cli::bench_sweep::BenchSweepArgs;
/// // `sim bench sweep --seeds 200`, as a program builds it.
/// let sweep = BenchSweepArgs { seeds: 200, runs: 1, json: true };
/// let args = BenchArgs { target: Some(BenchTarget::Sweep(sweep)), ..Default::default() };
/// assert!(matches!(args.target, Some(BenchTarget::Sweep(BenchSweepArgs { seeds: 200, .. }))));
/// ```
#[derive(clap::Subcommand, Debug, Clone)]
pub enum BenchTarget {
    /// The linearizability checker on a data set with published verdicts and Porcupine's times.
    Check(super::bench_check::BenchCheckArgs),
    /// Seeds per second of a 1,000-seed Raft sweep at 1 and at 2 jobs (the bar: 1.8x).
    Sweep(super::bench_sweep::BenchSweepArgs),
}

impl Default for BenchArgs {
    fn default() -> Self {
        BenchArgs {
            filter: None,
            runs: 3,
            json: false,
            target: None,
        }
    }
}

/// The bundled workloads: (name, file as shown, its text).
pub(crate) const WORKLOADS: [(&str, &str, &str); 7] = [
    (
        "mesh-5",
        "scenarios/bench/mesh-5.toml",
        include_str!("../../scenarios/bench/mesh-5.toml"),
    ),
    (
        "mesh-20",
        "scenarios/bench/mesh-20.toml",
        include_str!("../../scenarios/bench/mesh-20.toml"),
    ),
    (
        "raft-hour",
        "scenarios/bench/raft-hour.toml",
        include_str!("../../scenarios/bench/raft-hour.toml"),
    ),
    // The same KV run for 1 and 10 virtual minutes: their ratio shows whether a run with
    // clients stays linear in its length (the goal: at most 11x).
    (
        "raft-kv-1min",
        "scenarios/bench/raft-kv-1min.toml",
        include_str!("../../scenarios/bench/raft-kv-1min.toml"),
    ),
    (
        "raft-kv-10min",
        "scenarios/bench/raft-kv-10min.toml",
        include_str!("../../scenarios/bench/raft-kv-10min.toml"),
    ),
    // Distributed transactions at a fixed offered load: transfers committed per wall second.
    (
        "2pc-transfers",
        "scenarios/bench/2pc-transfers.toml",
        include_str!("../../scenarios/bench/2pc-transfers.toml"),
    ),
    // Scale: 200 nodes with clients and every fault for a virtual minute (seconds of wall time,
    // so it lives outside the lesson catalogue). When every persist copied the whole log it took
    // 4 m 37 s and 802 MB.
    (
        "raft-200",
        "benches/raft-200.toml",
        include_str!("../../benches/raft-200.toml"),
    ),
];

/// One workload's figures.
#[derive(Clone, Debug)]
pub(crate) struct Measurement {
    /// The workload's name, e.g. `raft-hour`.
    pub(crate) name: &'static str,
    /// Nodes in the workload's cluster.
    pub(crate) nodes: usize,
    /// Virtual time the run covered, in nanoseconds.
    pub(crate) virtual_ns: u64,
    /// Simulation events the run processed (trace records).
    pub(crate) events: u64,
    /// Messages delivered, between nodes (client traffic is not counted).
    pub(crate) deliveries: u64,
    /// The run's trace hash: every repetition must give the same one.
    pub(crate) trace_hash: String,
    /// The fastest run's wall time.
    pub(crate) wall_ns: u64,
    /// Bank transfers the clients saw commit (0 for a workload without them).
    pub(crate) transfers: u64,
}

impl Measurement {
    /// Wall-clock nanoseconds per delivered message: the engine's cost per unit of work.
    pub(crate) fn ns_per_delivery(&self) -> f64 {
        self.wall_ns as f64 / self.deliveries.max(1) as f64
    }
    /// Trace records per delivered message: how much the run records (and hashes, and shows its
    /// checkers) for each unit of work.
    pub(crate) fn events_per_delivery(&self) -> f64 {
        self.events as f64 / self.deliveries.max(1) as f64
    }
    /// Wall-clock nanoseconds per trace record.
    pub(crate) fn ns_per_event(&self) -> f64 {
        self.wall_ns as f64 / self.events.max(1) as f64
    }
    /// Delivered messages per wall-clock second.
    pub(crate) fn deliveries_per_sec(&self) -> f64 {
        self.deliveries as f64 * 1e9 / self.wall_ns.max(1) as f64
    }
    /// Committed transfers per wall-clock second.
    pub(crate) fn transfers_per_sec(&self) -> f64 {
        self.transfers as f64 * 1e9 / self.wall_ns.max(1) as f64
    }
    /// Virtual seconds simulated per wall-clock second (how much faster than real time).
    pub(crate) fn virtual_per_wall(&self) -> f64 {
        self.virtual_ns as f64 / self.wall_ns.max(1) as f64
    }
}

/// Runs the selected workloads.
pub(crate) fn measure(args: &BenchArgs) -> Result<Vec<Measurement>, String> {
    let mut out = Vec::new();
    for (name, file, text) in WORKLOADS {
        if args.filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let scenario = Scenario::parse(file, text).map_err(|e| e.to_string())?;
        let mut best: Option<Measurement> = None;
        for _ in 0..args.runs.max(1) {
            // Wall time is what a benchmark measures; the run itself never sees it.
            #[allow(clippy::disallowed_methods)]
            let start = Instant::now();
            let out = run(&scenario, &RunOptions::default()).map_err(|e| e.to_string())?;
            let wall_ns = start.elapsed().as_nanos() as u64;
            let report = out.report;
            let transfers = out.history.map_or(0, |h| {
                h.ops
                    .iter()
                    .filter(|op| {
                        matches!(op.call, Call::Transfer { .. })
                            && matches!(op.outcome, Outcome::Ok(_))
                    })
                    .count() as u64
            });
            if let Some(b) = &best
                && b.trace_hash != report.trace_hash
            {
                return Err(format!("{name}: two runs gave different trace hashes"));
            }
            if best.as_ref().is_none_or(|b| wall_ns < b.wall_ns) {
                best = Some(Measurement {
                    name,
                    nodes: scenario.nodes.len(),
                    virtual_ns: report.virtual_time,
                    events: report.stats.events,
                    deliveries: report.stats.delivered,
                    trace_hash: report.trace_hash,
                    wall_ns,
                    transfers,
                });
            }
        }
        out.extend(best);
    }
    Ok(out)
}

fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.1}")
    }
}

/// `sim bench`: runs the workloads (or another target) and prints the table or JSON; returns the
/// exit code (0, or 2 on bad input).
///
/// ```
/// use sim::cli::bench::{BenchArgs, main};
/// // Only the 5-node mesh, once: exit 0 once the table is printed.
/// let args = BenchArgs { filter: Some("mesh-5".into()), runs: 1, ..Default::default() };
/// assert_eq!(main(&args), 0);
/// ```
pub fn main(args: &BenchArgs) -> i32 {
    match &args.target {
        Some(BenchTarget::Check(check)) => return super::bench_check::main(check),
        Some(BenchTarget::Sweep(sweep)) => return super::bench_sweep::main(sweep),
        None => {}
    }
    let results = match measure(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sim bench: {e}");
            return ExitCode::BadInput.code();
        }
    };
    if args.json {
        let rows: Vec<_> = results
            .iter()
            .map(|m| {
                json!({
                    "workload": m.name, "nodes": m.nodes, "virtual_ns": m.virtual_ns,
                    "events": m.events, "deliveries": m.deliveries, "wall_ns": m.wall_ns,
                    "ns_per_delivery": m.ns_per_delivery(),
                    "events_per_delivery": m.events_per_delivery(),
                    "ns_per_event": m.ns_per_event(),
                    "deliveries_per_sec": m.deliveries_per_sec(),
                    "virtual_sec_per_wall_sec": m.virtual_per_wall(),
                    "trace_hash": m.trace_hash,
                    "transfers": m.transfers,
                    "transfers_per_sec": m.transfers_per_sec(),
                })
            })
            .collect();
        let goals: Vec<_> = goals(&results)
            .iter()
            .map(|g| json!({ "what": g.what, "ratio": g.ratio, "at_most": g.at_most }))
            .collect();
        outln!(
            "{}",
            json!({ "runs": args.runs, "workloads": rows, "goals": goals })
        );
        return ExitCode::Held.code();
    }
    outln!(
        "{:<13} {:>5} {:>9} {:>11} {:>11} {:>9} {:>12} {:>13} {:>12}",
        "workload",
        "nodes",
        "virtual",
        "events",
        "deliveries",
        "wall",
        "ns/delivery",
        "deliveries/s",
        "virtual s/s"
    );
    for m in &results {
        outln!(
            "{:<13} {:>5} {:>9} {:>11} {:>11} {:>8.3}s {:>12.0} {:>13} {:>12}",
            m.name,
            m.nodes,
            crate::node::format_duration(m.virtual_ns),
            thousands(m.events),
            thousands(m.deliveries),
            m.wall_ns as f64 / 1e9,
            m.ns_per_delivery(),
            si(m.deliveries_per_sec()),
            si(m.virtual_per_wall()),
        );
    }
    outln!(
        "(fastest of {} runs each; trace hash and invariant checks on)",
        args.runs.max(1)
    );
    for m in results.iter().filter(|m| m.transfers > 0) {
        outln!(
            "{}: {} transfers committed, {} per wall-clock second",
            m.name,
            thousands(m.transfers),
            si(m.transfers_per_sec())
        );
    }
    for goal in goals(&results) {
        outln!(
            "{}: {:.2}x (goal: at most {}x)",
            goal.what,
            goal.ratio,
            goal.at_most
        );
    }
    if let Some(parts) = per_delivery_parts(&results) {
        outln!("{parts}");
    }
    ExitCode::Held.code()
}

/// A ratio between two workloads' figures that the engine promises to keep small.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Goal {
    /// What is compared, e.g. `raft-kv-10min wall / raft-kv-1min wall`.
    pub(crate) what: &'static str,
    /// The measured ratio.
    pub(crate) ratio: f64,
    /// The most the ratio may be.
    pub(crate) at_most: f64,
}

/// The goals whose workloads were all measured: a run with clients stays linear in its length
/// (10 minutes cost at most 11 times 1 minute), and costs about what a run without clients does
/// per delivered message (within 2x of `raft-hour`).
pub(crate) fn goals(results: &[Measurement]) -> Vec<Goal> {
    let find = |name| result_of(results, name);
    let mut out = Vec::new();
    if let (Some(short), Some(long)) = (find("raft-kv-1min"), find("raft-kv-10min")) {
        out.push(Goal {
            what: "raft-kv-10min wall / raft-kv-1min wall",
            ratio: long.wall_ns as f64 / short.wall_ns.max(1) as f64,
            at_most: 11.0,
        });
    }
    if let (Some(hour), Some(long)) = (find("raft-hour"), find("raft-kv-10min")) {
        out.push(Goal {
            what: "raft-kv-10min ns/delivery / raft-hour ns/delivery",
            ratio: long.ns_per_delivery() / hour.ns_per_delivery().max(f64::MIN_POSITIVE),
            at_most: 2.0,
        });
    }
    out
}

/// The measurement of the workload `name`, if it was run.
fn result_of<'a>(results: &'a [Measurement], name: &str) -> Option<&'a Measurement> {
    results.iter().find(|m| m.name == name)
}

/// Why a KV run costs more per delivery than `raft-hour`, in two factors whose product is the
/// ratio: how many more trace records it makes per delivery (client calls, requests and replies,
/// and an `appended` and an `applied` observation per entry on every node, each read by a
/// checker), and how much more each record costs.
pub(crate) fn per_delivery_parts(results: &[Measurement]) -> Option<String> {
    let (hour, kv) = (
        result_of(results, "raft-hour")?,
        result_of(results, "raft-kv-10min")?,
    );
    let records = kv.events_per_delivery() / hour.events_per_delivery().max(f64::MIN_POSITIVE);
    let per_record = kv.ns_per_event() / hour.ns_per_event().max(f64::MIN_POSITIVE);
    Some(format!(
        "  = {records:.2}x the trace records per delivery ({:.2} against {:.2}) \
         x {per_record:.2}x the wall time per record ({:.0} ns against {:.0} ns)",
        kv.events_per_delivery(),
        hour.events_per_delivery(),
        kv.ns_per_event(),
        hour.ns_per_event(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(name: &'static str, wall_ns: u64, deliveries: u64) -> Measurement {
        Measurement {
            name,
            nodes: 5,
            virtual_ns: 0,
            events: 0,
            deliveries,
            trace_hash: String::new(),
            wall_ns,
            transfers: 0,
        }
    }

    #[test]
    fn the_goals_compare_the_kv_runs_with_each_other_and_with_raft_hour() {
        let results = [
            measured("raft-hour", 400, 100),
            measured("raft-kv-1min", 100, 10),
            measured("raft-kv-10min", 1_200, 100),
        ];
        let goals = goals(&results);
        assert_eq!(goals.len(), 2);
        assert_eq!(goals[0].ratio, 12.0, "10 minutes cost 12 times 1 minute");
        assert!(
            goals[0].ratio > goals[0].at_most,
            "a goal missed shows as missed"
        );
        assert_eq!(goals[1].ratio, 3.0, "12 ns per delivery against 4");
    }

    #[test]
    fn the_per_delivery_ratio_is_split_into_records_per_delivery_and_cost_per_record() {
        let mut hour = measured("raft-hour", 400, 100);
        hour.events = 200;
        let mut kv = measured("raft-kv-10min", 1_200, 100);
        kv.events = 400;
        // 3x per delivery = 2x the records per delivery x 1.5x the cost of a record.
        let parts = per_delivery_parts(&[hour.clone(), kv]).unwrap();
        assert_eq!(
            parts,
            "  = 2.00x the trace records per delivery (4.00 against 2.00) \
             x 1.50x the wall time per record (3 ns against 2 ns)"
        );
        assert_eq!(per_delivery_parts(&[hour]), None, "no KV run, no split");
    }

    #[test]
    fn a_goal_whose_workloads_were_filtered_out_is_not_reported() {
        assert!(goals(&[measured("raft-kv-10min", 1, 1)]).is_empty());
        let only_kv = [
            measured("raft-kv-1min", 1, 1),
            measured("raft-kv-10min", 9, 9),
        ];
        assert_eq!(goals(&only_kv).len(), 1);
    }

    #[test]
    fn every_workload_is_a_valid_scenario_that_expects_a_pass_at_its_file() {
        for (name, file, text) in WORKLOADS {
            let scenario = Scenario::parse(file, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(file)
                    .is_file(),
                "{name}: {file} is where `sim run` finds it"
            );
            assert!(
                matches!(
                    scenario.expect.as_ref().map(|e| &e.verdict),
                    Some(crate::scenario::ExpectedVerdict::Pass)
                ),
                "{name} expects a pass"
            );
        }
        let (_, file, text) = WORKLOADS[6];
        let scale = Scenario::parse(file, text).unwrap();
        assert_eq!(scale.nodes.len(), 200, "the scale workload is 200 nodes");
        assert!(
            !file.starts_with("scenarios/"),
            "seconds per run: not a lesson"
        );
    }
}
