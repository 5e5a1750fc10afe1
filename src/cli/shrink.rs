//! `sim shrink FILE [--seed N] [--invariant NAME] [--out F] [--force] [--max-runs N] [--json]`
//!
//! Minimises a failing seed (see `sweep::shrink`), writes the minimal scenario beside the input
//! (`<stem>.shrunk.toml`) or to `--out`, never over an existing file without `--force`, and runs
//! the written file once more on its own to show that it fails. Exit 0 when a shrunk scenario
//! was written and fails on its own; 2 for bad input or a seed that does not fail; 3 if the
//! written file, run alone, does not fail (a bug to report).

use std::fs;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Value, json};

use crate::node::time::format_duration;
use crate::run::RunOptions;
use crate::run::exit::ExitCode;
use crate::scenario::Scenario;
use crate::sweep::shrink::{DEFAULT_MAX_RUNS, ShrinkOptions, Shrunk, Sizes, shrink};

use super::display;

#[derive(Args, Debug)]
pub(crate) struct ShrinkArgs {
    /// The scenario file (TOML).
    pub(crate) file: PathBuf,
    /// The failing seed; default: the scenario's `seed`.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// The invariant that must keep failing; default: the first one that failed.
    #[arg(long, value_name = "NAME")]
    pub(crate) invariant: Option<String>,
    /// Where to write the shrunk scenario; default: `<stem>.shrunk.toml` beside FILE.
    #[arg(long, value_name = "F")]
    pub(crate) out: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub(crate) force: bool,
    /// The most runs to try; at the limit the smallest failing scenario found so far is written.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_RUNS)]
    pub(crate) max_runs: usize,
    /// Print one JSON object on stdout (the human summary goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
}

/// `dir/name.toml` → `dir/name.shrunk.toml`.
fn default_out(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    file.with_file_name(format!("{stem}.shrunk.toml"))
}

pub(crate) fn shrink_command(args: ShrinkArgs) -> i32 {
    let scenario = match Scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.file));
    if out.exists() && !args.force {
        eprintln!(
            "sim: {}: already exists; pass --force to replace it, or choose another --out",
            display(&out)
        );
        return ExitCode::BadInput.code();
    }
    let options = ShrinkOptions {
        seed: args.seed,
        invariant: args.invariant.clone(),
        max_runs: args.max_runs,
    };
    let shrunk = match shrink(&scenario, &options) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sim: {}: {e}", display(&args.file));
            return ExitCode::BadInput.code();
        }
    };
    let text = match shrunk.scenario.to_toml() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sim: cannot write the shrunk scenario: {e}");
            return ExitCode::Undecided.code();
        }
    };
    if let Err(e) = fs::write(&out, &text) {
        eprintln!("sim: {}: cannot write: {e}", display(&out));
        return ExitCode::BadInput.code();
    }
    let standalone = verify(&out, &shrunk.invariant);
    let human = summary(&args.file, &out, &shrunk, &args, &standalone);
    if args.json {
        eprint!("{human}");
        outln!("{}", to_json(&args.file, &out, &shrunk, &standalone));
    } else {
        out!("{human}");
    }
    match standalone {
        Ok(_) => ExitCode::Held.code(),
        Err(e) => {
            eprintln!("sim: {}: {e}", display(&out));
            ExitCode::Undecided.code()
        }
    }
}

/// Runs the written file on its own: when does the invariant fail?
fn verify(path: &Path, invariant: &str) -> Result<u64, String> {
    let scenario = Scenario::load(path).map_err(|e| format!("does not read back: {e}"))?;
    let out = crate::run::run(&scenario, &RunOptions::default()).map_err(|e| e.to_string())?;
    out.report
        .invariants
        .iter()
        .find(|i| i.name == invariant)
        .and_then(|i| match &i.status {
            crate::check::Status::Violated(v) => Some(v.at),
            _ => None,
        })
        .ok_or_else(|| {
            format!("run on its own, it does not fail {invariant} (a bug in sim shrink; please report it)")
        })
}

fn summary(
    file: &Path,
    out: &Path,
    s: &Shrunk,
    args: &ShrinkArgs,
    standalone: &Result<u64, String>,
) -> String {
    let mut h = format!(
        "shrink {} seed {}: {} fails\n\n",
        display(file),
        s.seed,
        s.invariant
    );
    h += &format!(
        "  {:<11} {:>10} {:>10} {:>10}\n",
        "", "original", "explicit", "shrunk"
    );
    let row = |name: &str, f: &dyn Fn(&Sizes) -> String| {
        format!(
            "  {:<11} {:>10} {:>10} {:>10}\n",
            name,
            f(&s.original),
            f(&s.explicit),
            f(&s.minimal)
        )
    };
    h += &row("faults", &|z| z.faults.to_string());
    h += &row("clients", &|z| z.clients.to_string());
    h += &row("operations", &|z| z.operations.to_string());
    h += &row("duration", &|z| format_duration(z.duration));
    h += &format!(
        "\n  runs        {}{}\n",
        s.runs,
        if s.hit_limit {
            format!(" (the limit, --max-runs {}: stopped early)", args.max_runs)
        } else {
            String::new()
        }
    );
    h += &format!("  written     {}\n", display(out));
    match standalone {
        Ok(at) => {
            h += &format!(
                "  on its own  fails {} at {} ({})\n",
                s.invariant,
                format_duration(*at),
                crate::run::replay_command(&display(out), s.seed)
            );
        }
        Err(e) => h += &format!("  on its own  {e}\n"),
    }
    h
}

fn sizes(z: &Sizes) -> Value {
    json!({
        "faults": z.faults,
        "clients": z.clients,
        "operations": z.operations,
        "duration_ns": z.duration,
    })
}

fn to_json(file: &Path, out: &Path, s: &Shrunk, standalone: &Result<u64, String>) -> Value {
    json!({
        "scenario": s.scenario.name,
        "file": display(file),
        "seed": s.seed,
        "invariant": s.invariant,
        "out": display(out),
        "runs": s.runs,
        "hit_limit": s.hit_limit,
        "original": sizes(&s.original),
        "explicit": sizes(&s.explicit),
        "shrunk": sizes(&s.minimal),
        "violation_at_ns": s.violation_at,
        "standalone": match standalone {
            Ok(at) => json!({ "fails": true, "violation_at_ns": at }),
            Err(e) => json!({ "fails": false, "error": e }),
        },
    })
}
