//! `sim run FILE [--seed N] [--json] [--out DIR [--from T] [--to T]] [--force] [--check-determinism]`
//!
//! With `--out`, the run's files — `trace.jsonl`, `summary.md`, `verdict.json` (the `--json`
//! document), `history.json` with clients — and its pictures beside them (`report::export`),
//! drawn from those files exactly as `sim report DIR` draws them.

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Value, json};

use crate::report;
use crate::report::text::thousands;
use crate::run::determinism::{Divergence, describe, first_divergence};
use crate::run::exit::ExitCode;
use crate::run::panic::{Panic, catch};
use crate::run::{RunOptions, RunOutput, replay_command, run_panicking_at};
use crate::scenario::Scenario;
use crate::workload::history::json as history_json;

use super::{display, style_for};

#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// The scenario file (TOML).
    pub(crate) file: PathBuf,
    /// The seed; overrides the scenario's `seed`.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Print one JSON object on stdout (the human report goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
    /// Write trace.jsonl, summary.md, verdict.json, (with clients) history.json and the
    /// pictures perfetto.json, sequence.mmd and shiviz.log into this directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// With --out: the Mermaid diagram and the ShiViz log start at this virtual time.
    #[arg(long, value_name = "T", requires = "out", value_parser = super::report::parse_time)]
    pub(crate) from: Option<crate::node::Duration>,
    /// With --out: … and end at this one, included.
    #[arg(long, value_name = "T", requires = "out", value_parser = super::report::parse_time)]
    pub(crate) to: Option<crate::node::Duration>,
    /// Replace those files if they already exist in --out.
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
    /// Run the seed twice and compare the traces record by record.
    #[arg(long)]
    pub(crate) check_determinism: bool,
    /// Override one of the scenario's `[limits]`, NAME=VALUE; repeatable. A run that reaches a
    /// limit stops there, names it and exits 3 (unless a violation was found first). Names and
    /// defaults: events=50000000 (trace events), virtual_time=24h, in_flight_per_link=100000
    /// (messages on the wire on one link), history_ops=1000000 (client operations),
    /// checker_steps=200000000 (the linearizability search's steps, counted, not timed),
    /// trace_bytes=1073741824 (trace.jsonl with --out).
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) limit: Vec<String>,
    /// A test aid, hidden: the run panics at this virtual time, to test how a panic is reported.
    #[arg(long, value_name = "TIME", hide = true)]
    pub(crate) panic_at: Option<crate::node::Duration>,
}

/// What `--out` writes besides the pictures (`history.json` only when the scenario has clients;
/// `history.html` beside it when its model can judge it).
const OUTPUTS: [&str; 4] = ["trace.jsonl", "summary.md", "history.json", VERDICT];
const VERDICT: &str = crate::report::export::verdict::FILE;

/// A run that panicked: what, where and when, the trace so far, and the replay line; a panic
/// is a safety failure (exit 1), as in a sweep. The backtrace only when `RUST_BACKTRACE` asks.
fn report_panic(scenario: &Scenario, seed: u64, panic: &Panic, args: &RunArgs) -> i32 {
    let replay = replay_command(&scenario.file, seed);
    let when = crate::run::panic::when(panic.at());
    eprintln!(
        "sim: {} seed {seed}: the run panicked {when}",
        scenario.name
    );
    eprintln!("{:<11} {}", "panic", panic.describe());
    if let Some(p) = &panic.point {
        eprintln!(
            "{:<11} {} records before the panic · trace hash so far {}",
            "trace",
            thousands(p.events),
            p.trace_hash
        );
    }
    if let Some(dir) = &args.out {
        eprintln!(
            "{:<11} {} holds the records up to the panic; `sim report {}` draws them",
            "out",
            display(&dir.join("trace.jsonl")),
            display(dir)
        );
    }
    eprintln!(
        "{:<11} {replay}  (RUST_BACKTRACE=1 for the backtrace)",
        "replay"
    );
    if args.json {
        let doc = json!({
            "scenario": scenario.name,
            "file": scenario.file,
            "seed": seed,
            "verdict": "panicked",
            "panic": {
                "message": panic.message,
                "location": panic.location,
                "at_ns": panic.at(),
                "events": panic.point.as_ref().map(|p| p.events),
                "trace_hash": panic.point.as_ref().map(|p| &p.trace_hash),
            },
            "replay": replay,
        });
        outln!("{doc}");
    }
    ExitCode::SafetyViolated.code()
}

/// Writes a finished run's files into `dir` (whose `trace.jsonl` the run wrote): `summary.md`,
/// `verdict.json`, `history.json` when it has clients, then the pictures drawn from them.
/// Returns every file now in `dir` for this run, in order, and the pictures' notes.
pub(crate) fn write_out(
    dir: &Path,
    run: &RunOutput,
    window: &crate::report::export::Window,
) -> Result<crate::report::export::Written, String> {
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|e| format!("{}: cannot write: {e}", display(&path)))
    };
    let report = &run.report;
    let mut files = vec!["trace.jsonl"];
    write("summary.md", report::summary::render(report))?;
    files.push("summary.md");
    if let Some(history) = &run.history {
        write("history.json", history_json::to_json(history))?;
        files.push("history.json");
    }
    let verdict = report::json::report(report);
    write(
        VERDICT,
        serde_json::to_string_pretty(&verdict).unwrap_or_default() + "\n",
    )?;
    files.push(VERDICT);
    let mut drawn = crate::report::export::write(dir, window)?;
    files.append(&mut drawn.files);
    drawn.files = files;
    Ok(drawn)
}

/// Whether any file a run's `--out` writes is already in `dir` (the first one found).
pub(crate) fn existing_output(dir: &Path) -> Option<PathBuf> {
    let pictures = crate::report::export::OUTPUTS
        .iter()
        .chain(std::iter::once(&crate::report::export::HISTORY_HTML));
    OUTPUTS
        .iter()
        .chain(pictures)
        .map(|name| dir.join(name))
        .find(|p| p.exists())
}

/// Creates the output directory; refuses to overwrite earlier results without --force.
fn prepare_out(dir: &Path, force: bool) -> Result<(), String> {
    fs::create_dir_all(dir)
        .map_err(|e| format!("{}: cannot create the directory: {e}", display(dir)))?;
    if !force && let Some(path) = existing_output(dir) {
        return Err(format!(
            "{}: already exists; pass --force to replace it, or choose another --out",
            display(&path)
        ));
    }
    Ok(())
}

pub(crate) fn run(args: RunArgs) -> i32 {
    let mut scenario = match Scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    for assignment in &args.limit {
        if let Err(e) = scenario.set_limit(assignment) {
            eprintln!("sim: {e}");
            return ExitCode::BadInput.code();
        }
    }
    let window = match super::report::window(args.from, args.to) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("sim: {e}");
            return ExitCode::BadInput.code();
        }
    };
    if let Some(dir) = &args.out
        && let Err(e) = prepare_out(dir, args.force)
    {
        eprintln!("sim: {e}");
        return ExitCode::BadInput.code();
    }
    let options = RunOptions {
        seed: args.seed,
        trace_path: args.out.as_ref().map(|d| d.join("trace.jsonl")),
        capture: args.check_determinism,
    };
    let seed = args.seed.unwrap_or(scenario.seed);
    let panic_at = args.panic_at.map(|d| d.nanos());
    let attempt = |options: &RunOptions| -> Result<RunOutput, i32> {
        match catch(|| run_panicking_at(&scenario, options, panic_at)) {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => {
                eprintln!("{e}");
                Err(ExitCode::BadInput.code())
            }
            Err(panic) => Err(report_panic(&scenario, seed, &panic, &args)),
        }
    };
    let first = match attempt(&options) {
        Ok(out) => out,
        Err(code) => return code,
    };
    let determinism = if args.check_determinism {
        let again = RunOptions {
            trace_path: None,
            ..options.clone()
        };
        match attempt(&again) {
            Ok(second) => Some(compare(&first, &second)),
            Err(code) => return code,
        }
    } else {
        None
    };

    let report = &first.report;
    // The files, then the pictures drawn from them, as `sim report` draws them.
    let drawn = match &args.out {
        Some(dir) => match write_out(dir, &first, &window) {
            Ok(done) => Some(done),
            Err(e) => {
                eprintln!("sim: {e}");
                return ExitCode::BadInput.code();
            }
        },
        None => None,
    };

    let style = style_for(args.json);
    let mut human = report::text::render(report, &style);
    if let Some(d) = &determinism {
        human.push_str(&d.text);
    }
    if let (Some(dir), Some(drawn)) = (&args.out, &drawn) {
        for note in &drawn.notes {
            human.push_str(&format!("{:<11} {note}\n", "note"));
        }
        let files = &drawn.files;
        human.push_str(&super::report::written(dir, files));
    }
    if args.json {
        eprint!("{human}");
        let mut doc = report::json::report(report);
        if let Some(d) = &determinism {
            doc["determinism"] = d.json.clone();
        }
        outln!("{doc}");
    } else {
        out!("{human}");
    }
    match &determinism {
        Some(d) if !d.identical => ExitCode::SafetyViolated.code(),
        _ => report.exit_code().code(),
    }
}

struct Determinism {
    identical: bool,
    text: String,
    json: Value,
}

/// Compares two runs of the same seed record by record, naming the first difference.
fn compare(a: &RunOutput, b: &RunOutput) -> Determinism {
    let (la, lb) = (
        a.records.as_deref().unwrap_or(&[]),
        b.records.as_deref().unwrap_or(&[]),
    );
    let divergence = first_divergence(la, lb);
    if divergence.is_none() && a.report.trace_hash == b.report.trace_hash {
        return Determinism {
            identical: true,
            text: format!(
                "{:<11} two runs, {} identical records\n",
                "determinism",
                la.len()
            ),
            json: json!({"checked": true, "identical": true, "records": la.len()}),
        };
    }
    let d = divergence.unwrap_or(Divergence {
        record: la.len(),
        first: None,
        second: None,
    });
    let show = |line: &Option<String>| {
        format!(
            "{}\n      {}",
            describe(line.as_deref()),
            line.as_deref().unwrap_or("")
        )
    };
    Determinism {
        identical: false,
        text: format!(
            "{:<11} FAILED: the two runs first differ at record #{} (trace hashes {} and {})\n  run 1: {}\n  run 2: {}\n",
            "determinism",
            d.record,
            a.report.trace_hash,
            b.report.trace_hash,
            show(&d.first),
            show(&d.second)
        ),
        json: json!({
            "checked": true,
            "identical": false,
            "first_difference": {"record": d.record, "run1": d.first, "run2": d.second},
        }),
    }
}
