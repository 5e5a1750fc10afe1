//! `sim bench sweep [--seeds N] [--json]`: how a sweep scales from one worker thread to two.
//!
//! It sweeps N seeds (default 1,000) of `scenarios/raft/nemesis-partitions.toml` (five Raft nodes
//! under a random partition nemesis) at 1 job, then at 2 jobs, and prints seeds per wall-second
//! for each and their ratio; the bar is 2 jobs >= 1.8x 1 job. Both sweeps must print the same
//! table, or the benchmark fails (exit 1): a fast wrong answer is no answer. Only here, in the
//! command line, is the wall clock read.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use crate::scenario::Scenario;
use crate::sweep::runner::{RunnerOptions, run_seeds};
use crate::sweep::{SeedRange, Summary};

use super::{EXIT_OK, EXIT_USAGE, EXIT_VIOLATION};

/// The bundled scenario the benchmark sweeps.
const FILE: &str = "scenarios/raft/nemesis-partitions.toml";
const TEXT: &str = include_str!("../../scenarios/raft/nemesis-partitions.toml");
/// The speed-up two jobs must reach over one.
pub const BAR: f64 = 1.8;

#[derive(Args, Debug, Clone)]
pub struct BenchSweepArgs {
    /// Seeds per sweep (from seed 1).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// One sweep's figures.
struct Timing {
    jobs: usize,
    wall: Duration,
    events: u64,
    table: String,
}

impl Timing {
    fn seeds_per_sec(&self, seeds: u64) -> f64 {
        seeds as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

fn time_sweep(scenario: &Scenario, range: SeedRange, jobs: usize) -> Result<Timing, String> {
    let seeds: Vec<u64> = range.seeds(None).collect();
    let stop = AtomicBool::new(false);
    let options = RunnerOptions {
        jobs,
        fail_fast: false,
        known_failure: None,
        stop: &stop,
        tick: Duration::from_secs(3600),
    };
    // Wall time is what a benchmark measures; the runs never see it.
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let results = run_seeds(scenario, &seeds, &options, |_| {})?;
    let wall = start.elapsed();
    let summary = Summary::new(FILE, &scenario.name, range, None, results, false);
    Ok(Timing {
        jobs,
        wall,
        events: summary.events(),
        table: summary.render_text(),
    })
}

pub fn main(args: &BenchSweepArgs) -> i32 {
    let scenario = match Scenario::parse(FILE, TEXT) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sim bench sweep: {e}");
            return EXIT_USAGE;
        }
    };
    let range = SeedRange {
        start: 1,
        end: 1 + args.seeds,
    };
    let timings: Result<Vec<Timing>, String> = [1, 2]
        .into_iter()
        .map(|j| time_sweep(&scenario, range, j))
        .collect();
    let timings = match timings {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sim bench sweep: {e}");
            return EXIT_USAGE;
        }
    };
    let (one, two) = (&timings[0], &timings[1]);
    let ratio = two.seeds_per_sec(args.seeds) / one.seeds_per_sec(args.seeds);
    let same = one.table == two.table;
    if args.json {
        let rows: Vec<_> = timings
            .iter()
            .map(|t| {
                json!({"jobs": t.jobs, "wall_ns": t.wall.as_nanos() as u64,
                       "seeds_per_sec": t.seeds_per_sec(args.seeds),
                       "events_per_sec": t.events as f64 / t.wall.as_secs_f64().max(1e-9)})
            })
            .collect();
        outln!(
            "{}",
            json!({"scenario": FILE, "seeds": args.seeds, "sweeps": rows, "ratio": ratio,
                   "bar": BAR, "meets_bar": ratio >= BAR, "identical_tables": same})
        );
    } else {
        outln!("sweep of {} seeds of {FILE}", args.seeds);
        outln!(
            "{:>5} {:>9} {:>10} {:>12}",
            "jobs",
            "wall",
            "seeds/s",
            "events/s"
        );
        for t in &timings {
            outln!(
                "{:>5} {:>8.2}s {:>10.1} {:>12.0}",
                t.jobs,
                t.wall.as_secs_f64(),
                t.seeds_per_sec(args.seeds),
                t.events as f64 / t.wall.as_secs_f64().max(1e-9)
            );
        }
        let verdict = if ratio >= BAR { "meets" } else { "misses" };
        outln!(
            "ratio {ratio:.2}x (2 jobs / 1 job): {verdict} the {BAR}x bar; tables identical: {same}"
        );
    }
    if same {
        EXIT_OK
    } else {
        eprintln!("sim bench sweep: 1 job and 2 jobs printed different tables");
        EXIT_VIOLATION
    }
}
