//! `sim find FILE --seeds A..B --where SITUATION [--jobs J]`, and `sim find FILE --list`
//!
//! Sweeps seeds for the lowest one whose run shows a named situation — a split vote, a leader
//! deposed, a transaction in doubt (`Protocol::situations`) — so that a teacher can show it on
//! demand, and prints when it happens, what it was, and the commands that go straight there.
//!
//! The rule it keeps: the answer is the lowest such seed, whatever `--jobs` is. Workers take
//! seeds in increasing order and stop taking them above the lowest hit found so far; every seed
//! below it has then run, so the lowest hit is the lowest seed of the range that shows it.
//!
//! Exit codes: 0 found, 1 no seed of the range shows it, 2 bad input (a bad file, or a
//! situation the scenario's protocol does not know: the message lists those it knows).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Args;
use serde_json::Value;

use crate::node::situation::{Found, Situation};
use crate::report::narrate::instant;
use crate::report::text::wrap;
use crate::run::exit::ExitCode;
use crate::run::registry::installed;
use crate::run::{RunOptions, replay_command, shell_quote};
use crate::scenario::Scenario;
use crate::sweep::SeedRange;

#[derive(Args, Debug)]
pub(crate) struct FindArgs {
    /// The scenario file (TOML).
    pub(crate) file: PathBuf,
    /// Seeds to search, lowest first: A..B is half-open (1..51 is 50 seeds); A..=B includes B.
    #[arg(long, value_name = "A..B", required_unless_present = "list")]
    pub(crate) seeds: Option<SeedRange>,
    /// The situation to look for (`--list` shows those the scenario's protocol knows).
    #[arg(
        long = "where",
        value_name = "SITUATION",
        required_unless_present = "list"
    )]
    pub(crate) situation: Option<String>,
    /// Worker threads (default: the machine's cores). The answer is the same for any number.
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(crate) jobs: Option<u64>,
    /// List the situations the scenario's protocol knows, with their definitions, and exit.
    #[arg(long)]
    pub(crate) list: bool,
}

pub(crate) fn find(args: FindArgs) -> i32 {
    let scenario = match Scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    let situations = installed()
        .situations(&scenario.protocol)
        .unwrap_or_default();
    if args.list {
        if situations.is_empty() {
            outln!(
                "{} names no situation `sim find` can look for",
                scenario.protocol
            );
        }
        for s in &situations {
            outln!("{}", s.name);
            for line in wrap(s.definition, 88) {
                outln!("    {line}");
            }
        }
        return ExitCode::Held.code();
    }
    let (Some(range), Some(name)) = (args.seeds, args.situation.as_deref()) else {
        eprintln!("sim find: --seeds and --where are required without --list");
        return ExitCode::BadInput.code();
    };
    let Some(situation) = situations.iter().find(|s| s.name == name).copied() else {
        let known: Vec<&str> = situations.iter().map(|s| s.name).collect();
        eprintln!(
            "sim find: --where {name}: {} knows no such situation; expected one of: {}",
            scenario.protocol,
            if known.is_empty() {
                "(none)".to_string()
            } else {
                known.join(", ")
            }
        );
        return ExitCode::BadInput.code();
    };
    // A bad [protocol] table or workload is found by running once, before any thread starts.
    if let Err(e) = crate::run::run(
        &scenario,
        &RunOptions {
            seed: Some(range.start),
            ..RunOptions::default()
        },
    ) {
        eprintln!("{e}");
        return ExitCode::BadInput.code();
    }
    let jobs = args
        .jobs
        .map_or_else(super::sweep::default_jobs, |j| j as usize);
    let search = search(&scenario, range, situation, jobs);
    report(&scenario, range, situation, search)
}

/// What the sweep found: the lowest seed with its occurrence, and the seeds that panicked.
struct Search {
    hit: Option<(u64, Found)>,
    ran: u64,
    panicked: Vec<u64>,
}

/// One seed: does its run show the situation? `Err` when the run panicked.
fn look(scenario: &Scenario, seed: u64, situation: Situation) -> Result<Option<Found>, ()> {
    let options = RunOptions {
        seed: Some(seed),
        capture: true,
        ..RunOptions::default()
    };
    let run = crate::run::panic::catch(|| crate::run::run(scenario, &options));
    let Ok(Ok(out)) = run else {
        return Err(());
    };
    let records: Vec<Value> = out
        .records
        .unwrap_or_default()
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    Ok((situation.detect)(&records))
}

fn search(scenario: &Scenario, range: SeedRange, situation: Situation, jobs: usize) -> Search {
    let next = AtomicU64::new(range.start);
    // The lowest seed found so far to show it: no seed above it need run.
    let best = AtomicU64::new(u64::MAX);
    let results: Mutex<BTreeMap<u64, Result<Option<Found>, ()>>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::SeqCst);
                    if seed >= range.end || seed > best.load(Ordering::SeqCst) {
                        break;
                    }
                    let result = look(scenario, seed, situation);
                    if matches!(result, Ok(Some(_))) {
                        best.fetch_min(seed, Ordering::SeqCst);
                    }
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(seed, result);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let best = best.into_inner();
    // Only the seeds up to the answer: which ones above it a worker ran depends on timing.
    let below = results.range(..=best);
    let mut search = Search {
        hit: None,
        ran: 0,
        panicked: Vec::new(),
    };
    for (&seed, result) in below {
        search.ran += 1;
        match result {
            Ok(Some(found)) => {
                search.hit = Some((seed, found.clone()));
                break;
            }
            Ok(None) => {}
            Err(()) => search.panicked.push(seed),
        }
    }
    search
}

fn report(scenario: &Scenario, range: SeedRange, situation: Situation, search: Search) -> i32 {
    for seed in &search.panicked {
        eprintln!(
            "sim find: seed {seed} panicked and was skipped (`{}` tells why)",
            crate::run::replay_command(&scenario.file, *seed)
        );
    }
    let Some((seed, found)) = search.hit else {
        eprintln!(
            "sim find: no seed of {range} shows {} in {} ({} runs); try a wider --seeds range",
            situation.name, scenario.file, search.ran
        );
        return ExitCode::SafetyViolated.code();
    };
    let file = shell_quote(&scenario.file);
    let replay = replay_command(&scenario.file, seed);
    // The program replay lines name: `sim`, or a program of one's own (`cli::main_with`).
    let program = replay
        .strip_suffix(&format!(" run {file} --seed {seed}"))
        .unwrap_or("sim")
        .to_string();
    outln!(
        "found       {} in {} seed {seed} at {}",
        situation.name,
        scenario.name,
        instant(found.at)
    );
    outln!("what        {}", found.text);
    outln!(
        "searched    seeds {}..{} ({} run{})",
        range.start,
        seed + 1,
        search.ran,
        if search.ran == 1 { "" } else { "s" }
    );
    outln!("replay      {replay}");
    outln!(
        "narrate     {program} replay {file} --seed {seed} --from {}ns --to {}ns",
        found.at.saturating_sub(100_000_000),
        found.at
    );
    outln!(
        "step        {program} step {file} --seed {seed} --until {}ns",
        found.at
    );
    ExitCode::Held.code()
}
