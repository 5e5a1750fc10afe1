//! `sim report DIR [--from T] [--to T] [--force]`
//!
//! Re-renders the pictures of a run (`perfetto.json`, `sequence.mmd`, `shiviz.log`) from the
//! files `sim run --out DIR` wrote — `trace.jsonl`, and `verdict.json` for the violation to mark
//! — without running the scenario again: for another window of the same run, or for a directory
//! written before the pictures existed. The bytes are those `sim run --out` writes with the same
//! window.
//!
//! Exit codes: 0 when the pictures are written; 2 for bad input — no such directory, a missing
//! or malformed `trace.jsonl` or `verdict.json` (with `file:line:col`), `--from` after `--to`,
//! or a picture already there without `--force`.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::node::Duration;
use crate::report::export::{self, Window};
use crate::report::narrate::instant;
use crate::run::exit::ExitCode;

use super::display;

#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// A directory written by `sim run --out`: its trace.jsonl, and its verdict.json if any.
    pub(crate) dir: PathBuf,
    /// The Mermaid diagram and the ShiViz log start at this virtual time (`2.5s`, `200ms`).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) from: Option<Duration>,
    /// … and end at this one, included.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) to: Option<Duration>,
    /// Replace the pictures if they already exist in DIR.
    #[arg(long)]
    pub(crate) force: bool,
}

/// The same duration spelling scenario files use.
pub(crate) fn parse_time(s: &str) -> Result<Duration, String> {
    s.parse()
}

/// The window of `--from`/`--to`, or why it is empty.
pub(crate) fn window(from: Option<Duration>, to: Option<Duration>) -> Result<Window, String> {
    let w = Window {
        from: from.map(Duration::nanos),
        to: to.map(Duration::nanos),
    };
    if let (Some(f), Some(t)) = (w.from, w.to)
        && f > t
    {
        return Err(format!(
            "--from {} is after --to {}: the window is empty",
            instant(f),
            instant(t)
        ));
    }
    Ok(w)
}

/// Refuses to replace pictures already in `dir` unless `force`.
pub(crate) fn check_outputs(dir: &Path, names: &[&str], force: bool) -> Result<(), String> {
    if force {
        return Ok(());
    }
    for name in names {
        let path = dir.join(name);
        if path.exists() {
            return Err(format!(
                "{}: already exists; pass --force to replace it",
                display(&path)
            ));
        }
    }
    Ok(())
}

/// The line that lists what was written: `written     DIR/{a,b,c}`.
pub(crate) fn written(dir: &Path, names: &[&str]) -> String {
    format!(
        "{:<11} {}\n",
        "written",
        display(&dir.join(format!("{{{}}}", names.join(","))))
    )
}

pub(crate) fn report(args: ReportArgs) -> i32 {
    let dir = &args.dir;
    if !dir.is_dir() {
        eprintln!(
            "sim: {}: no such directory (expected one written by `sim run --out`)",
            display(dir)
        );
        return ExitCode::BadInput.code();
    }
    let window = match window(args.from, args.to) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("sim: {e}");
            return ExitCode::BadInput.code();
        }
    };
    let outputs: Vec<&str> = export::OUTPUTS
        .iter()
        .copied()
        .chain(std::iter::once(export::HISTORY_HTML))
        .collect();
    if let Err(e) = check_outputs(dir, &outputs, args.force) {
        eprintln!("sim: {e}");
        return ExitCode::BadInput.code();
    }
    match export::write(dir, &window) {
        Ok(done) => {
            let mut text = String::new();
            for note in done.notes {
                text.push_str(&format!("{:<11} {note}\n", "note"));
            }
            text.push_str(&written(dir, &done.files));
            out!("{text}");
            ExitCode::Held.code()
        }
        Err(e) => {
            eprintln!("sim: {e}");
            ExitCode::BadInput.code()
        }
    }
}
