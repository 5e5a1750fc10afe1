//! `sim experiment FILE`: every trial of every line, on threads, with a progress bar on
//! stderr; then `results.csv`, `table.md` and one CDF plot per series under `--out`, and the
//! table on stdout.

use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::experiment::{self, Experiment};
use crate::run::exit::ExitCode;
use crate::run::registry;

#[derive(Args, Debug)]
pub(crate) struct ExperimentArgs {
    /// The experiment file: a base scenario, `[[vary]]` series (or a `grid` of them), trials,
    /// `[measure]` and an optional `[nemesis]`.
    file: PathBuf,
    /// Where to write results.csv, table.md and the plots. Default:
    /// reports/experiments/<name>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Threads. Default: one per core. The results are the same for any number.
    #[arg(long)]
    jobs: Option<usize>,
    /// Run this many trials per line instead of the file's counts (a quick look).
    #[arg(long)]
    trials: Option<u64>,
    /// Replace files already in the output directory.
    #[arg(long)]
    force: bool,
}

/// The command that makes these results, for `table.md`: the file and the flags that change
/// what is measured (`--trials`); not `--jobs`, `--out` or `--force`, which do not.
fn command(args: &ExperimentArgs) -> String {
    let mut c = format!("sim experiment {}", super::display(&args.file));
    if let Some(n) = args.trials {
        c += &format!(" --trials {n}");
    }
    c
}

pub(crate) fn experiment(args: ExperimentArgs) -> i32 {
    let mut exp = match Experiment::load(&args.file, registry::installed()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    if let Some(n) = args.trials {
        if n == 0 {
            eprintln!("sim experiment: --trials must be at least 1");
            return ExitCode::BadInput.code();
        }
        for line in exp.series.iter_mut().flat_map(|s| s.lines.iter_mut()) {
            line.trials = n;
        }
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports/experiments").join(&exp.name));
    let plots_names: Vec<String> = (1..=exp.series.len())
        .map(|i| format!("{}-{i}.svg", exp.name))
        .collect();
    let names = ["results.csv", "table.md"]
        .into_iter()
        .map(String::from)
        .chain(plots_names);
    for name in names {
        let path = out.join(name);
        if path.exists() && !args.force {
            eprintln!(
                "sim experiment: {} exists; pass --force to replace it",
                path.display()
            );
            return ExitCode::BadInput.code();
        }
    }
    let total: u64 = exp
        .series
        .iter()
        .flat_map(|s| &s.lines)
        .map(|l| l.trials)
        .sum();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} trials · {per_sec} · ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    // Wall time for the closing line only; it never reaches a run.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let results = experiment::run(&exp, jobs, &|| bar.inc(1));
    bar.finish_and_clear();
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    let table = experiment::table(&exp, &results);
    let mut files = vec![
        ("results.csv".to_string(), experiment::csv(&exp, &results)),
        (
            "table.md".to_string(),
            format!(
                "# {}\n\n{}\n\nMade with `{}`.\n{}",
                exp.name,
                exp.description,
                command(&args),
                table
            ),
        ),
    ];
    files.extend(experiment::plots(&exp, &results));
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("sim experiment: cannot create {}: {e}", out.display());
        return ExitCode::BadInput.code();
    }
    for (name, text) in &files {
        let path = out.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("sim experiment: cannot write {}: {e}", path.display());
            return ExitCode::BadInput.code();
        }
    }
    super::write_stdout(format_args!("{}\n", table.trim_start()));
    eprintln!(
        "{total} trials in {:.1}s on {jobs} threads; written to {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    ExitCode::Held.code()
}
