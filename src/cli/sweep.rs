//! `sim sweep FILE --seeds A..B [--jobs N] [--shard I/N] [--fail-fast] [--out DIR] [--force]
//! [--junit F] [--json]`
//!
//! Stdout carries the results only — the table, or one JSON document with `--json` — and is
//! byte-identical for any `--jobs`, any shard split once merged, and any number of resumes.
//! Progress and the wall-clock line (elapsed, seeds/s, events/s, jobs) go to stderr.
//! Exit: 0 every seed held; 1 a seed broke a safety property or its run panicked; 3 a seed
//! failed a liveness property or could not decide; 2 bad input; 130 interrupted by SIGINT (the
//! partial table is printed and `--out` keeps every finished seed).

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use crate::run::exit::{self, ExitCode};
use crate::scenario::Scenario;
use crate::sweep::progress::{PLAIN_EVERY, Progress, Speed};
use crate::sweep::runner::{Event, PanicAid, RunnerOptions, run_seeds};
use crate::sweep::store::{FORMAT, Manifest, Store};
use crate::sweep::{SeedRange, SeedResult, Shard, Summary, junit, scenario_hash};

use super::display;

#[derive(Args, Debug)]
pub(crate) struct SweepArgs {
    /// The scenario file (TOML).
    pub(crate) file: PathBuf,
    /// Seeds to run: A..B is half-open like Rust (1..1001 is 1,000 seeds); A..=B includes B.
    #[arg(long, value_name = "A..B")]
    pub(crate) seeds: SeedRange,
    /// Worker threads (default: the machine's cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(crate) jobs: Option<u64>,
    /// Run only shard I (from 0) of N: the seeds whose offset in the range is ≡ I mod N.
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<Shard>,
    /// Stop at the lowest failing seed: every seed below it runs, none above it is reported.
    #[arg(long)]
    pub(crate) fail_fast: bool,
    /// Append each finished seed to DIR/results.jsonl (DIR/sweep.json names the sweep); running
    /// the same command again resumes.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Start over in --out even if it holds another sweep; replace an existing --junit file.
    #[arg(long)]
    pub(crate) force: bool,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub(crate) junit: Option<PathBuf>,
    /// Print one JSON document on stdout (the table goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
    /// Override one of the scenario's `[limits]` for every seed, NAME=VALUE; repeatable (names
    /// and defaults: `sim run --help`). A seed that reaches a limit stops there and counts as
    /// unknown, named after the limit; replay lines repeat the overrides.
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) limit: Vec<String>,
    /// A test aid, hidden: SEEDS@TIME (e.g. 3,7@1.5s) makes these seeds' runs panic at TIME of
    /// virtual time, to test how a sweep reports a panicking protocol.
    #[arg(long, value_name = "SEEDS@TIME", hide = true)]
    pub(crate) panic_at: Option<PanicAid>,
}

/// Set by SIGINT: hand out no more seeds.
static STOP: AtomicBool = AtomicBool::new(false);

/// The first Ctrl-C stops handing out seeds; a second one leaves at once.
fn install_sigint() {
    let installed = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(ExitCode::Interrupted.code());
        }
        eprintln!(
            "\nsim sweep: interrupted; finishing the seeds already running (Ctrl-C again to quit now)"
        );
    });
    if let Err(e) = installed {
        eprintln!(
            "sim sweep: warning: cannot catch Ctrl-C ({e}); an interruption loses running seeds"
        );
    }
}

pub(crate) fn sweep(args: SweepArgs) -> i32 {
    match prepare(&args) {
        Ok(plan) => execute(&args, plan),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::BadInput.code()
        }
    }
}

/// What to run: the scenario, the results already in --out, and where to append.
struct Plan {
    scenario: Scenario,
    earlier: Vec<SeedResult>,
    store: Option<Store>,
}

/// The most seeds one invocation takes: their list is held in memory (8 bytes each). More can
/// be run as shards, or as several ranges.
pub(crate) const MAX_SEEDS: u64 = 100_000_000;

fn prepare(args: &SweepArgs) -> Result<Plan, String> {
    let count = args.seeds.shard_len(args.shard);
    if count > MAX_SEEDS {
        return Err(format!(
            "sim sweep: --seeds {}: {count} seeds in one invocation; expected at most {MAX_SEEDS} (split the range, or use --shard)",
            args.seeds
        ));
    }
    let file = display(&args.file);
    let bytes =
        std::fs::read(&args.file).map_err(|e| format!("{file}: cannot read the scenario: {e}"))?;
    let text = Scenario::text_of(&file, &bytes).map_err(|e| e.to_string())?;
    let mut scenario = Scenario::parse(&file, text).map_err(|e| e.to_string())?;
    for assignment in &args.limit {
        scenario
            .set_limit(assignment)
            .map_err(|e| format!("sim sweep: {e}"))?;
    }
    if let Some(path) = &args.junit {
        refuse_existing(path, args.force)?;
    }
    let (store, earlier) = match &args.out {
        None => (None, Vec::new()),
        Some(dir) => {
            let manifest = Manifest {
                format: FORMAT.to_string(),
                file,
                scenario: scenario.name.clone(),
                scenario_hash: scenario_hash(text.as_bytes()),
                seeds: args.seeds,
                shard: args.shard,
                fail_fast: args.fail_fast,
                limits: args.limit.clone(),
            };
            let (store, earlier) =
                Store::open(dir, &manifest, args.force).map_err(|e| format!("sim sweep: {e}"))?;
            (Some(store), earlier)
        }
    };
    Ok(Plan {
        scenario,
        earlier,
        store,
    })
}

fn refuse_existing(path: &Path, force: bool) -> Result<(), String> {
    if !force && path.exists() {
        return Err(format!(
            "sim sweep: {}: already exists; pass --force to replace it",
            display(path)
        ));
    }
    Ok(())
}

fn execute(args: &SweepArgs, plan: Plan) -> i32 {
    let Plan {
        scenario,
        earlier,
        mut store,
    } = plan;
    let done: BTreeSet<u64> = earlier.iter().map(|r| r.seed).collect();
    let todo: Vec<u64> = args
        .seeds
        .seeds(args.shard)
        .filter(|s| !done.contains(s))
        .collect();
    if let Some(dir) = &args.out
        && !earlier.is_empty()
    {
        eprintln!(
            "sim sweep: resuming {}: {} seeds already done, {} to run",
            display(dir),
            done.len(),
            todo.len()
        );
    }
    let known_failure = earlier.iter().filter(|r| r.failed()).map(|r| r.seed).min();
    let jobs = args.jobs.map_or_else(default_jobs, |j| j as usize);
    install_sigint();
    let mut progress = Progress::new(todo.len() as u64, std::io::stderr().is_terminal(), true);
    let mut store_error = None;
    let options = RunnerOptions {
        jobs,
        fail_fast: args.fail_fast,
        known_failure: known_failure.filter(|_| args.fail_fast),
        stop: &STOP,
        tick: PLAIN_EVERY / 4,
        panic_at: args.panic_at.as_ref(),
        ..RunnerOptions::new(jobs, &STOP)
    };
    let ran = run_seeds(&scenario, &todo, &options, |event| match event {
        Event::Done(result) => {
            if let Some(s) = &mut store
                && store_error.is_none()
                && let Err(e) = s.append(result)
            {
                store_error = Some(e);
                STOP.store(true, Ordering::SeqCst);
            }
            progress.seed_done(result);
        }
        Event::Tick => progress.tick(),
    });
    let speed = progress.finish();
    let ran = match ran {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    if let Some(e) = store_error {
        eprintln!("sim sweep: {e}");
        return ExitCode::BadInput.code();
    }
    let mut results = earlier;
    results.extend(ran);
    let mut summary = Summary::new(
        &scenario.file,
        &scenario.name,
        args.seeds,
        args.shard,
        results,
        args.fail_fast,
    );
    summary.interrupted = STOP.load(Ordering::SeqCst) && !complete(&summary);
    summary.limits = args.limit.clone();
    let code = report(
        &summary,
        std::slice::from_ref(&summary),
        args.json,
        args.junit.as_deref(),
        args.force,
    );
    eprintln!("{}", wall_line(&speed, jobs));
    // A JUnit file that could not be written outranks an interruption, which outranks the
    // verdicts of the seeds that did run.
    let interrupted = summary.interrupted.then_some(ExitCode::Interrupted);
    exit::worst([code, summary.exit_code()].into_iter().chain(interrupted)).code()
}

/// One worker thread per core: the default `--jobs` of every command that runs seeds.
pub(super) fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Every seed asked for is there, or fail-fast found its failure.
fn complete(s: &Summary) -> bool {
    s.stopped_at.is_some() || s.run() == s.expected
}

/// Prints the table (or the JSON document) and writes the JUnit file; returns bad input if that
/// failed, else held. Shared with `sim merge`, so both print the same bytes for the same results.
pub(super) fn report(
    whole: &Summary,
    suites: &[Summary],
    json: bool,
    junit_path: Option<&Path>,
    force: bool,
) -> ExitCode {
    let text = whole.render_text();
    if json {
        eprint!("{text}");
        outln!("{}", whole.to_json());
    } else {
        out!("{text}");
    }
    if let Some(path) = junit_path {
        if let Err(e) = junit::write(path, suites, force) {
            eprintln!("sim: {e}");
            return ExitCode::BadInput;
        }
        eprintln!("{:<11} {}", "junit", display(path));
    }
    ExitCode::Held
}

/// Wall-clock figures: stderr only, never part of the results.
fn wall_line(speed: &Speed, jobs: usize) -> String {
    let jobs = if speed.seeds == 0 {
        String::new()
    } else {
        format!(" · {jobs} jobs")
    };
    format!(
        "{:<11} {:.2}s · {} seeds run now · {:.1} seeds/s · {:.0} events/s{jobs}",
        "wall",
        speed.elapsed.as_secs_f64(),
        speed.seeds,
        speed.seeds_per_sec(),
        speed.events_per_sec(),
    )
}
