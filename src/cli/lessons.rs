//! `sim lessons [DIR] [--bless] [--json] [--filter S]... [--seeds N] [--jobs J]`: the catalogue
//! as a test suite.
//!
//! Every scenario under DIR (default `scenarios/`), found recursively and run in sorted order,
//! is judged against its `[expect]`; then every seed of DIR's regression file
//! (`regressions.toml`, see [`super::regressions`]) against its recorded verdict and trace hash.
//! Two tables, one line per scenario or seed, then the problems in full. With `--seeds N`, each
//! scenario is also swept over seeds 1..=N and the table shows the rate beside the verdict (see
//! [`rates`]): a lesson that expects a pass must pass on every one of them.
//!
//! Exit codes: 2 when a file is bad (a scenario, the regression file, a scenario it names) —
//! reported after the tables, which still show everything that could run; else 1 when an
//! expectation is unmet, a pass-lesson fails on some seed of `--seeds`, or a recorded seed moved;
//! else 0. Scenarios without `[expect]` are
//! listed and fail nothing. With `--bless`, moved seeds are rewritten in the regression file
//! (values only: comments stay) and no longer count as failures.
//!
//! The bench scenarios are lessons too: each runs in well under a second, and their hashes guard
//! the engine's hot path. Swept, they are most of the cost (about 60% of `--seeds 1000`: an hour
//! of virtual time per seed), and their world is fixed, so a wide sweep may leave them out with
//! `--filter raft/ --filter failover/` and sweep `--filter bench/` with a smaller N. Runs are spread over the machine's cores; the order of the output is
//! the sorted order whatever finishes first.

use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Args;
use serde_json::{Value, json};

use crate::check::Status;
use crate::run::exit::{self, ExitCode};
use crate::run::{RunOptions, RunReport};
use crate::scenario::{ExpectedVerdict, Scenario};

use super::regressions::{self, Edit, Regression};

mod gallery;
mod rates;

use super::display;
use rates::Rate;

/// The regression file's name; the walk skips it.
pub(crate) const REGRESSIONS: &str = "regressions.toml";

#[derive(Args, Debug)]
pub(crate) struct LessonsArgs {
    /// The catalogue: every `.toml` below it is a scenario, except `regressions.toml`.
    #[arg(default_value = "scenarios")]
    pub(crate) dir: PathBuf,
    /// Rewrite the recorded verdicts and trace hashes that moved (comments are kept).
    #[arg(long)]
    pub(crate) bless: bool,
    /// Print one JSON object on stdout (the tables go to stderr).
    #[arg(long)]
    pub(crate) json: bool,
    /// Only scenarios (and recorded seeds) whose path contains this string; repeat it for any
    /// of several (`--filter raft/ --filter failover/`).
    #[arg(long, value_name = "S")]
    pub(crate) filter: Vec<String>,
    /// Also sweep each scenario over seeds 1..=N and print how often it shows what it expects: a
    /// lesson that expects a pass must pass on all N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) seeds: Option<u64>,
    /// Worker threads (default: one per core). The output is the same for any number.
    #[arg(long, short = 'j', value_name = "J", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(crate) jobs: Option<u64>,
    /// Write each lesson's run under DIR/<lesson>/ (its trace, summary and pictures, as
    /// `sim run --out` writes them) and DIR/index.html listing them with their verdicts.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// With --out: replace files a previous gallery wrote.
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
}

/// What became of one scenario of the catalogue.
struct Lesson {
    /// Relative to the catalogue directory.
    name: String,
    seconds: f64,
    outcome: Result<RunReport, String>,
    /// With `--seeds`: the sweep's tally, or why it could not run.
    rate: Option<Result<Rate, String>>,
}

impl Lesson {
    /// Its expectation is unmet at its seed, or it expects a pass and some seed failed.
    fn unmet(&self) -> bool {
        let at_seed = self
            .outcome
            .as_ref()
            .is_ok_and(|r| r.expect.as_ref().is_some_and(|e| !e.met));
        at_seed
            || self
                .rate
                .as_ref()
                .is_some_and(|r| r.as_ref().is_ok_and(Rate::broken))
    }

    fn sweep_error(&self) -> Option<&String> {
        self.rate.as_ref().and_then(|r| r.as_ref().err())
    }
}

/// What became of one recorded seed.
struct Checked {
    entry: Regression,
    seconds: f64,
    outcome: Result<RunReport, String>,
}

impl Checked {
    fn moved(&self) -> bool {
        self.outcome.as_ref().is_ok_and(|r| {
            r.verdict.name() != self.entry.verdict || r.trace_hash != self.entry.trace_hash
        })
    }
}

pub(crate) fn lessons(args: LessonsArgs) -> i32 {
    let files = match scenario_files(&args.dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("sim: {e}");
            return ExitCode::BadInput.code();
        }
    };
    let wanted = |name: &str| {
        args.filter.is_empty() || args.filter.iter().any(|f| name.contains(f.as_str()))
    };
    let jobs = args
        .jobs
        .map_or_else(super::sweep::default_jobs, |j| j as usize);
    let names: Vec<String> = files
        .iter()
        .map(|f| relative(f, &args.dir))
        .filter(|n| wanted(n))
        .collect();
    let regression_file = args.dir.join(REGRESSIONS);
    let (entries, file_error) = match read_regressions(&regression_file) {
        Ok(entries) => (entries, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let entries: Vec<Regression> = entries
        .into_iter()
        .filter(|e| wanted(&e.scenario))
        .collect();

    if let Some(out) = &args.out
        && let Err(e) = gallery::prepare(out, &names, args.force)
    {
        eprintln!("sim: {e}");
        return ExitCode::BadInput.code();
    }
    #[allow(clippy::disallowed_methods)] // wall clock for the seconds column: cli code only
    let started = Instant::now();
    let mut lessons = parallel(jobs, &names, |name| {
        let out = args.out.as_ref().map(|d| gallery::lesson_dir(d, name));
        let (seconds, outcome) = timed(|| run_file(&args.dir.join(name), None, out.as_deref()));
        Lesson {
            name: name.clone(),
            seconds,
            outcome,
            rate: None,
        }
    });
    if let Some(seeds) = args.seeds {
        // One lesson at a time, its seeds on every thread: the slow lessons (the benches) then
        // use the whole machine instead of one core at the end.
        // A wide sweep takes minutes: say where it is, on a terminal only (logs stay clean).
        let progress = std::io::stderr().is_terminal();
        let count = lessons.len();
        for (i, lesson) in lessons.iter_mut().enumerate() {
            if lesson.outcome.is_err() {
                continue;
            }
            if progress {
                eprint!(
                    "\r\x1b[Kseeds 1..={seeds}: {}/{count} {}",
                    i + 1,
                    lesson.name
                );
            }
            let (seconds, rate) = timed(|| {
                Scenario::load(&args.dir.join(&lesson.name))
                    .map_err(|e| e.to_string())
                    .and_then(|s| rates::sweep(&s, seeds, jobs))
            });
            lesson.seconds += seconds;
            lesson.rate = Some(rate);
        }
        if progress {
            eprint!("\r\x1b[K");
        }
    }
    let checked = parallel(jobs, &entries, |entry| {
        let (seconds, outcome) = timed(|| run_file(&entry.path, Some(entry.seed), None));
        Checked {
            entry: entry.clone(),
            seconds,
            outcome,
        }
    });
    let seconds = started.elapsed().as_secs_f64();

    let mut problems: Vec<String> = file_error.iter().cloned().collect();
    if let Some(out) = &args.out {
        let listed: Vec<gallery::Listed<'_>> = lessons
            .iter()
            .map(|l| gallery::Listed {
                name: &l.name,
                outcome: l.outcome.as_ref().map_err(String::as_str),
            })
            .collect();
        if let Err(e) = gallery::index(out, &args.dir, &listed) {
            problems.push(e);
        }
    }
    let blessed = if args.bless && file_error.is_none() {
        match bless(&regression_file, &checked) {
            Ok(lines) => lines,
            Err(e) => {
                problems.push(e);
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let text = render(&args, &lessons, &checked, &blessed, &problems, seconds);
    let code = exit_code(&lessons, &checked, &problems, args.bless);
    if args.json {
        eprint!("{text}");
        outln!(
            "{}",
            to_json(
                &lessons, &checked, &blessed, &problems, code, seconds, args.seeds
            )
        );
    } else {
        out!("{text}");
    }
    code.code()
}

/// The regression file's entries; none when it does not exist.
fn read_regressions(path: &Path) -> Result<Vec<Regression>, String> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text =
        fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", display(path)))?;
    regressions::parse(path, &text).map_err(|e| e.0)
}

/// Loads and runs one scenario; a bad file is its located error. With `out`, the run's files and
/// pictures are written there, as `sim run --out` writes them.
fn run_file(path: &Path, seed: Option<u64>, out: Option<&Path>) -> Result<RunReport, String> {
    let scenario = Scenario::load(path).map_err(|e| e.to_string())?;
    if let Some(dir) = out {
        fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create the directory: {e}", display(dir)))?;
    }
    let options = RunOptions {
        seed,
        trace_path: out.map(|d| d.join("trace.jsonl")),
        ..RunOptions::default()
    };
    // A protocol or checker that panics is a finding about this lesson, reported with it; the
    // other lessons still run.
    let run = crate::run::panic::catch(|| crate::run::run(&scenario, &options))
        .map_err(|p| {
            format!(
                "{}: the run {} ({})",
                display(path),
                p.describe(),
                crate::run::panic::when(p.at())
            )
        })?
        .map_err(|e| e.to_string())?;
    if let Some(dir) = out {
        super::run::write_out(dir, &run, &Default::default())?;
    }
    Ok(run.report)
}

fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    #[allow(clippy::disallowed_methods)] // wall clock for the seconds column: cli code only
    let start = Instant::now();
    let value = f();
    (start.elapsed().as_secs_f64(), value)
}

/// `f` over `items` on `jobs` threads, results in the items' order.
fn parallel<T: Sync, R: Send>(jobs: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let jobs = jobs.clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// Every `.toml` below `dir` except the regression file, sorted.
pub(crate) fn scenario_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", display(dir)));
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = fs::read_dir(&d).map_err(|e| format!("{}: cannot read: {e}", display(&d)))?;
        for entry in entries {
            let path = entry
                .map_err(|e| format!("{}: cannot read: {e}", display(&d)))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "toml")
                && path.file_name().is_none_or(|n| n != REGRESSIONS)
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `path` relative to `dir`, with `/` between components on every platform.
pub(crate) fn relative(path: &Path, dir: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Rewrites the moved seeds' verdicts and hashes in place; returns what it changed.
fn bless(path: &Path, checked: &[Checked]) -> Result<Vec<String>, String> {
    let mut edits = Vec::new();
    let mut changed = Vec::new();
    for c in checked.iter().filter(|c| c.moved()) {
        let Ok(r) = &c.outcome else { continue };
        let e = &c.entry;
        if r.verdict.name() != e.verdict {
            edits.push(Edit {
                span: e.verdict_span.clone(),
                value: r.verdict.name().to_string(),
            });
        }
        if r.trace_hash != e.trace_hash {
            edits.push(Edit {
                span: e.hash_span.clone(),
                value: r.trace_hash.clone(),
            });
        }
        changed.push(format!(
            "{}: {} seed {}: {} {} -> {} {}",
            e.at,
            e.scenario,
            e.seed,
            e.verdict,
            shown_hash(&e.trace_hash),
            r.verdict.name(),
            r.trace_hash
        ));
    }
    if edits.is_empty() {
        return Ok(changed);
    }
    let text =
        fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", display(path)))?;
    fs::write(path, regressions::apply(&text, &edits))
        .map_err(|e| format!("{}: cannot write: {e}", display(path)))?;
    Ok(changed)
}

fn shown_hash(h: &str) -> &str {
    if h.is_empty() { "(none)" } else { h }
}

fn exit_code(
    lessons: &[Lesson],
    checked: &[Checked],
    problems: &[String],
    bless: bool,
) -> ExitCode {
    let bad = !problems.is_empty()
        || lessons
            .iter()
            .any(|l| l.outcome.is_err() || l.sweep_error().is_some())
        || checked.iter().any(|c| c.outcome.is_err());
    let unmet = lessons.iter().any(Lesson::unmet) || (!bless && checked.iter().any(Checked::moved));
    // A bad file outranks an unmet expectation: the tables are not the whole catalogue.
    let bad = bad.then_some(ExitCode::BadInput);
    let unmet = unmet.then_some(ExitCode::SafetyViolated);
    exit::worst(bad.into_iter().chain(unmet))
}

/// `pass`, or `violation: a, b` — the invariants a run broke (or an expectation names).
fn expected_words(r: &RunReport) -> String {
    match &r.expect {
        None => "(no [expect])".to_string(),
        Some(e) => match e.verdict {
            ExpectedVerdict::Pass => "pass".to_string(),
            ExpectedVerdict::Violation if e.violates.is_empty() => "violation".to_string(),
            ExpectedVerdict::Violation => format!("violation: {}", e.violates.join(", ")),
        },
    }
}

fn violated(r: &RunReport) -> Vec<String> {
    r.invariants
        .iter()
        .filter(|i| matches!(i.status, Status::Violated(_)))
        .map(|i| i.name.clone())
        .collect()
}

fn got_words(r: &RunReport) -> String {
    let broken = violated(r);
    if broken.is_empty() {
        r.verdict.name().to_string()
    } else {
        format!("{}: {}", r.verdict.name(), broken.join(", "))
    }
}

/// Rows of cells as aligned columns, two spaces apart.
fn table(rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            line += cell;
            if i + 1 < row.len() {
                line += &" ".repeat(pad + 2);
            }
        }
        out += line.trim_end();
        out.push('\n');
    }
    out
}

fn lesson_rows(lessons: &[Lesson], seeds: Option<u64>) -> Vec<Vec<String>> {
    let mut header: Vec<String> = vec!["scenario".into(), "expected".into(), "got".into()];
    if let Some(n) = seeds {
        header.push(format!("seeds 1..={n}"));
    }
    header.extend(["met".into(), "seconds".into()]);
    let mut rows = vec![header];
    for l in lessons {
        let seconds = format!("{:.3}", l.seconds);
        let mut row = match &l.outcome {
            Ok(r) => vec![
                l.name.clone(),
                expected_words(r),
                got_words(r),
                match &r.expect {
                    None => "-".into(),
                    Some(_) if l.sweep_error().is_some() => "ERROR".into(),
                    Some(_) if l.unmet() => "NO".into(),
                    Some(_) => "yes".into(),
                },
                seconds,
            ],
            Err(_) => vec![
                l.name.clone(),
                "?".into(),
                "bad file (below)".into(),
                "ERROR".into(),
                seconds,
            ],
        };
        if seeds.is_some() {
            let cell = match &l.rate {
                Some(Ok(rate)) => rate.cell(),
                Some(Err(_)) => "sweep failed (below)".into(),
                None => "-".into(),
            };
            row.insert(3, cell);
        }
        rows.push(row);
    }
    rows
}

fn regression_rows(checked: &[Checked]) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "scenario".into(),
        "seed".into(),
        "recorded".into(),
        "got".into(),
        "met".into(),
        "seconds".into(),
    ]];
    for c in checked {
        let e = &c.entry;
        let (got, met) = match &c.outcome {
            Ok(r) => (
                format!("{} {}", r.verdict.name(), r.trace_hash),
                if c.moved() { "MOVED" } else { "yes" },
            ),
            Err(_) => ("bad file (below)".to_string(), "ERROR"),
        };
        rows.push(vec![
            e.scenario.clone(),
            e.seed.to_string(),
            format!("{} {}", e.verdict, shown_hash(&e.trace_hash)),
            got,
            met.into(),
            format!("{:.3}", c.seconds),
        ]);
    }
    rows
}

/// The problems in full: unmet expectations, moved seeds, bad files.
fn details(lessons: &[Lesson], checked: &[Checked], bless: bool) -> Vec<String> {
    let mut out = Vec::new();
    for l in lessons {
        match &l.outcome {
            Err(e) => out.push(e.clone()),
            Ok(r) => {
                if let Some(e) = r.expect.as_ref().filter(|e| !e.met) {
                    out.push(format!(
                        "{}: expectation not met: {} (replay: {})",
                        r.file,
                        e.problems.join("; "),
                        r.replay
                    ));
                }
                match &l.rate {
                    Some(Ok(rate)) => out.extend(rate.problem(&r.file)),
                    Some(Err(e)) => out.push(format!("{}: the seed sweep failed: {e}", r.file)),
                    None => {}
                }
            }
        }
    }
    for c in checked {
        let e = &c.entry;
        match &c.outcome {
            Err(err) => out.push(format!("{}: {}", e.at, err)),
            Ok(r) if c.moved() && !bless => out.push(format!(
                "{}: {} seed {} moved: recorded {} {}, now {} {}; if the change is intended, run `sim lessons --bless`",
                e.at,
                e.scenario,
                e.seed,
                e.verdict,
                shown_hash(&e.trace_hash),
                r.verdict.name(),
                r.trace_hash
            )),
            Ok(_) => {}
        }
    }
    out
}

fn render(
    args: &LessonsArgs,
    lessons: &[Lesson],
    checked: &[Checked],
    blessed: &[String],
    problems: &[String],
    seconds: f64,
) -> String {
    let mut out = table(&lesson_rows(lessons, args.seeds));
    let regression_file = args.dir.join(REGRESSIONS);
    if !checked.is_empty() {
        out += &format!("\nregressions ({})\n", display(&regression_file));
        out += &table(&regression_rows(checked));
    }
    let mut all = problems.to_vec();
    all.extend(details(lessons, checked, args.bless));
    if !all.is_empty() {
        out.push('\n');
        for p in &all {
            out += &format!("{p}\n");
        }
    }
    if !blessed.is_empty() {
        out += &format!("\nblessed {}:\n", display(&regression_file));
        for b in blessed {
            out += &format!("  {b}\n");
        }
    }
    let met = lessons
        .iter()
        .filter(|l| {
            !l.unmet()
                && l.sweep_error().is_none()
                && l.outcome.as_ref().is_ok_and(|r| r.expect.is_some())
        })
        .count();
    let without = lessons
        .iter()
        .filter(|l| l.outcome.as_ref().is_ok_and(|r| r.expect.is_none()))
        .count();
    let bad = lessons.iter().filter(|l| l.outcome.is_err()).count();
    let held = checked
        .iter()
        .filter(|c| c.outcome.is_ok() && !c.moved())
        .count();
    let swept = match args.seeds {
        Some(n) => {
            let broken = lessons
                .iter()
                .filter(|l| {
                    l.rate
                        .as_ref()
                        .is_some_and(|r| r.as_ref().is_ok_and(Rate::broken))
                })
                .count();
            format!(" ({broken} of them a pass that fails on some seed of 1..={n})")
        }
        None => String::new(),
    };
    out += &format!(
        "\nlessons: {} run, {met} met, {} unmet{swept}, {without} without [expect], {bad} bad · regressions: {} checked, {held} held · {seconds:.2}s\n",
        lessons.len(),
        lessons.len() - met - without - bad,
        checked.len(),
    );
    out
}

fn to_json(
    lessons: &[Lesson],
    checked: &[Checked],
    blessed: &[String],
    problems: &[String],
    code: ExitCode,
    seconds: f64,
    seeds: Option<u64>,
) -> Value {
    let lessons: Vec<Value> = lessons
        .iter()
        .map(|l| match &l.outcome {
            Ok(r) => {
                let mut v = json!({
                    "scenario": l.name,
                    "expected": r.expect.as_ref().map(|_| expected_words(r)),
                    "verdict": r.verdict.name(),
                    "violated": violated(r),
                    "met": r.expect.as_ref().map(|_| !l.unmet()),
                    "problems": r.expect.as_ref().map(|e| e.problems.clone()),
                    "trace_hash": r.trace_hash,
                    "seconds": l.seconds,
                });
                match &l.rate {
                    Some(Ok(rate)) => v["seeds"] = rate.to_json(&r.file),
                    Some(Err(e)) => v["seeds"] = json!({ "error": e }),
                    None => {}
                }
                v
            }
            Err(e) => json!({"scenario": l.name, "error": e, "seconds": l.seconds}),
        })
        .collect();
    let regressions: Vec<Value> = checked
        .iter()
        .map(|c| {
            let e = &c.entry;
            let mut v = json!({
                "scenario": e.scenario,
                "seed": e.seed,
                "recorded_verdict": e.verdict,
                "recorded_hash": e.trace_hash,
                "seconds": c.seconds,
            });
            match &c.outcome {
                Ok(r) => {
                    v["verdict"] = r.verdict.name().into();
                    v["trace_hash"] = r.trace_hash.clone().into();
                    v["met"] = (!c.moved()).into();
                }
                Err(err) => v["error"] = err.clone().into(),
            }
            v
        })
        .collect();
    json!({
        "lessons": lessons,
        "regressions": regressions,
        "blessed": blessed,
        "errors": problems,
        "exit_code": code.code(),
        "seconds": seconds,
        "seeds": seeds,
    })
}
