//! `sim bench check [DIR]`: the linearizability checker against a data set of histories with
//! published verdicts and Porcupine's times (`MANIFEST.tsv`).
//!
//! Every file is imported once and checked `--runs` times, and more while those took less than
//! `MIN_SAMPLED_MS` (20 ms) in all (a check of a few microseconds is otherwise a handful of noisy
//! samples, as Go's benchmark harness also knows); the median check time is compared with
//! Porcupine's median on the same file. Exit 1 if any verdict differs from the manifest's:
//! a fast wrong answer is no answer. Only here, in the command line, is the wall clock read.
//!
//! The time is the verdict's, like Porcupine's `CheckOperations`: on a violation the checker
//! here does not also locate the smallest failing window (`sim check` does, and says so).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde_json::json;

use crate::check::linearizable::LinVerdict;
use crate::node::Duration;
use crate::run::exit::ExitCode;

use super::check::{check_within, load};
use super::display;

/// `sim bench check`: the linearizability checker against published verdicts and times.
///
/// ```
/// use sim::cli::bench_check::BenchCheckArgs;
/// use sim::node::Duration;
/// // `sim bench check DATA --filter etcd`: a data set directory holding MANIFEST.tsv.
/// let args = BenchCheckArgs {
///     dir: Some("data/lin".into()),
///     data: None,
///     runs: 5,
///     filter: Some("etcd".into()),
///     timeout: "60s".parse::<Duration>().unwrap(),
///     json: false,
/// };
/// assert_eq!(args.dir.as_deref(), Some(std::path::Path::new("data/lin")));
/// ```
#[derive(Args, Debug, Clone)]
pub struct BenchCheckArgs {
    /// The data set: a directory holding MANIFEST.tsv (default: $SIM_LIN_DATA; the README says
    /// how to build one).
    pub dir: Option<PathBuf>,
    /// The data set, as an option (same as DIR).
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    pub data: Option<PathBuf>,
    /// Checks per file (at least; tiny files get more, see the module doc); the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: u32,
    /// Only the files whose path contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Per check: give up after this much wall-clock time.
    #[arg(long, default_value = "60s")]
    pub timeout: Duration,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// One MANIFEST.tsv row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// The history file, relative to the data set's directory.
    pub(crate) file: String,
    /// Operations in the history.
    pub(crate) ops: usize,
    /// `true`: the published verdict is linearizable.
    pub(crate) expected_ok: bool,
    /// Porcupine's published median time to check the file, in milliseconds.
    pub(crate) porcupine_ms: f64,
}

/// Reads MANIFEST.tsv (a header, then file, model, ops, expected, porcupine_median_ms, source).
pub(crate) fn manifest(text: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let bad = |what: &str| format!("MANIFEST.tsv:{}: expected {what}", i + 1);
        if cols.len() < 5 {
            return Err(bad("at least 5 tab-separated columns"));
        }
        out.push(Entry {
            file: cols[0].to_string(),
            ops: cols[2]
                .parse()
                .map_err(|_| bad("an ops count in column 3"))?,
            expected_ok: match cols[3] {
                "ok" => true,
                "violation" => false,
                _ => return Err(bad("`ok` or `violation` in column 4")),
            },
            porcupine_ms: cols[4]
                .parse()
                .map_err(|_| bad("Porcupine's milliseconds in column 5"))?,
        });
    }
    Ok(out)
}

/// One file's result.
struct Row {
    entry: Entry,
    ops: usize,
    got: LinVerdict,
    median_ms: f64,
}

impl Row {
    fn matches(&self) -> bool {
        match self.got {
            LinVerdict::Linearizable => self.entry.expected_ok,
            LinVerdict::NotLinearizable => !self.entry.expected_ok,
            LinVerdict::Unknown { .. } => false,
        }
    }
    fn faster(&self) -> bool {
        self.median_ms < self.entry.porcupine_ms
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Tiny files are checked until this much checking time is sampled...
const MIN_SAMPLED_MS: f64 = 20.0;
/// ...or this many runs.
const MAX_RUNS: usize = 10_000;

fn measure(dir: &Path, entry: &Entry, args: &BenchCheckArgs) -> Result<Row, String> {
    let loaded = load(&dir.join(&entry.file), None)?;
    let mut times: Vec<f64> = Vec::new();
    let mut got = None;
    let enough = |times: &[f64]| {
        times.len() >= args.runs.max(1) as usize
            && (times.iter().sum::<f64>() >= MIN_SAMPLED_MS || times.len() >= MAX_RUNS)
    };
    while !enough(&times) {
        let (analysis, elapsed) = check_within(&loaded, args.timeout, None, true)
            .map_err(|e| format!("{}: {e}", entry.file))?;
        if got.as_ref().is_some_and(|g| *g != analysis.verdict) {
            return Err(format!(
                "{}: two checks gave different verdicts",
                entry.file
            ));
        }
        times.push(elapsed.as_secs_f64() * 1e3);
        got = Some(analysis.verdict);
    }
    Ok(Row {
        entry: entry.clone(),
        ops: loaded.history.ops.len(),
        got: got.unwrap_or(LinVerdict::Unknown {
            reason: "not run".into(),
        }),
        median_ms: median(times),
    })
}

fn verdict_word(ok: bool) -> &'static str {
    if ok { "ok" } else { "violation" }
}

fn got_word(v: &LinVerdict) -> &'static str {
    match v {
        LinVerdict::Linearizable => "ok",
        LinVerdict::NotLinearizable => "violation",
        LinVerdict::Unknown { .. } => "unknown",
    }
}

/// The environment variable naming the data set when no DIR is given.
const DATA_VAR: &str = "SIM_LIN_DATA";

/// `sim bench check`: checks every file of the data set, compares each verdict with the
/// published one, and prints the times beside Porcupine's; exits 0 when every verdict matches, 1
/// when one does not, 2 on bad input (no data set).
pub(crate) fn main(args: &BenchCheckArgs) -> i32 {
    // The histories belong to the projects that published them, so the repository holds none:
    // the data set is wherever the user put it, named here or by the same variable the data
    // test reads.
    let Some(dir) = args
        .dir
        .clone()
        .or_else(|| args.data.clone())
        .or_else(|| std::env::var_os(DATA_VAR).map(PathBuf::from))
    else {
        eprintln!(
            "sim bench check: no data set: expected DIR (a directory holding MANIFEST.tsv) or \
             {DATA_VAR} set to one; README.md, \"The data for sim bench check\", says how to build it"
        );
        return ExitCode::BadInput.code();
    };
    let manifest_path = dir.join("MANIFEST.tsv");
    let entries = match std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("{}: cannot read: {e}", display(&manifest_path)))
        .and_then(|t| manifest(&t))
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("sim bench check: {e}");
            return ExitCode::BadInput.code();
        }
    };
    // Wall time is what a benchmark measures; the checks themselves never see it.
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let mut rows = Vec::new();
    for entry in &entries {
        if args
            .filter
            .as_deref()
            .is_some_and(|f| !entry.file.contains(f))
        {
            continue;
        }
        match measure(&dir, entry, args) {
            Ok(row) => rows.push(row),
            Err(e) => {
                eprintln!("sim bench check: {e}");
                return ExitCode::BadInput.code();
            }
        }
    }
    let total_s = start.elapsed().as_secs_f64();
    if args.json {
        print_json(&rows, args.runs);
    } else {
        print_table(&rows, args.runs, total_s);
    }
    if rows.iter().all(Row::matches) {
        ExitCode::Held.code()
    } else {
        ExitCode::SafetyViolated.code()
    }
}

fn print_table(rows: &[Row], runs: u32, total_s: f64) {
    outln!(
        "{:<48} {:>5} {:>9} {:>9} {:>10} {:>13} {:>7}",
        "file",
        "ops",
        "expected",
        "got",
        "our ms",
        "porcupine ms",
        "ratio"
    );
    for r in rows {
        let mark = if r.matches() { "" } else { "  MISMATCH" };
        outln!(
            "{:<48} {:>5} {:>9} {:>9} {:>10.3} {:>13.3} {:>7.2}{mark}",
            r.entry.file,
            r.ops,
            verdict_word(r.entry.expected_ok),
            got_word(&r.got),
            r.median_ms,
            r.entry.porcupine_ms,
            r.median_ms / r.entry.porcupine_ms.max(1e-9),
        );
    }
    let faster_and_match = rows.iter().filter(|r| r.faster() && r.matches()).count();
    let matching = rows.iter().filter(|r| r.matches()).count();
    let ours: f64 = rows.iter().map(|r| r.median_ms).sum();
    let theirs: f64 = rows.iter().map(|r| r.entry.porcupine_ms).sum();
    outln!(
        "{faster_and_match} of {} files faster than Porcupine with the right verdict; {matching} of {} \
         verdicts match; sum of medians {ours:.1} ms vs {theirs:.1} ms (median of at least {} runs and 20 ms of checking per file, verdict only; {total_s:.1}s in all)",
        rows.len(),
        rows.len(),
        runs.max(1),
    );
}

fn print_json(rows: &[Row], runs: u32) {
    let files: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "file": r.entry.file, "ops": r.ops,
                "expected": verdict_word(r.entry.expected_ok), "got": got_word(&r.got),
                "matches": r.matches(), "median_ms": r.median_ms,
                "porcupine_ms": r.entry.porcupine_ms,
            })
        })
        .collect();
    outln!("{}", json!({ "runs": runs.max(1), "files": files }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_read_row_by_row_and_bad_rows_are_named() {
        let text = "file\tmodel\tops\texpected\tporcupine_median_ms\tsource\n\
                    jepsen/etcd_000.log\tetcd\t85\tviolation\t0.352\tsomewhere\n\
                    kv/c01-ok.txt\tkv\t58\tok\t0.183\tsomewhere\n";
        let rows = manifest(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            Entry {
                file: "jepsen/etcd_000.log".into(),
                ops: 85,
                expected_ok: false,
                porcupine_ms: 0.352
            }
        );
        assert!(rows[1].expected_ok);
        let bad = manifest("header\nf\tm\t3\tmaybe\t1.0\n").unwrap_err();
        assert_eq!(
            bad,
            "MANIFEST.tsv:2: expected `ok` or `violation` in column 4"
        );
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }
}
