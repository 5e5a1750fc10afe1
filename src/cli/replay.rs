//! `sim replay FILE [--seed N] [--from T] [--to T] [--node X] [--expect-hash H] [--json]`
//!
//! Re-runs one seed with its trace captured and narrates every event in the window `[from, to]`
//! (both ends included), one line each, then the verdict and the trace hash. The rule it keeps:
//! the run is the very run `sim run` makes — the same composition root, the same seed — so the
//! hash printed here is the hash a regression file records, and `--expect-hash` compares them.
//!
//! Exit codes: 2 for bad input (an unknown node, a bad time, `--from` after `--to`). With
//! `--expect-hash`, the answer is about the hash: 0 when the run is the recorded one — even a
//! recorded violation — and 1 when the hash moved. Without it, the run's own code, as `sim run`
//! gives it.

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::check::Status;
use crate::node::{Duration, Nanos};
use crate::report::narrate::{Narrator, Told, instant};
use crate::report::text::{thousands, verdict_word};
use crate::run::exit::ExitCode;
use crate::run::{RunOptions, RunOutput, RunReport};
use crate::scenario::Scenario;

use super::style_for;

#[derive(Args, Debug)]
pub(crate) struct ReplayArgs {
    /// The scenario file (TOML).
    pub(crate) file: PathBuf,
    /// The seed to replay; the scenario's own seed when absent.
    #[arg(long)]
    pub(crate) seed: Option<u64>,
    /// Narrate from this virtual time on (a duration such as `1.5s` or `200ms`).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) from: Option<Duration>,
    /// Narrate up to this virtual time, included.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub(crate) to: Option<Duration>,
    /// Keep only events at this node or travelling to or from it.
    #[arg(long, value_name = "X")]
    pub(crate) node: Option<String>,
    /// The trace hash this seed is expected to produce; a different one exits 1.
    #[arg(long, value_name = "H")]
    pub(crate) expect_hash: Option<String>,
    /// Print the events as JSON lines on stdout (the human text goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
}

/// The same duration spelling scenario files use.
fn parse_time(s: &str) -> Result<Duration, String> {
    s.parse()
}

pub(crate) fn replay(args: ReplayArgs) -> i32 {
    let scenario = match Scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    if let Some(node) = &args.node
        && !scenario.nodes.contains(node)
    {
        eprintln!(
            "sim: --node {node}: no such node in {}; its nodes are {}",
            scenario.file,
            scenario.nodes.join(", ")
        );
        return ExitCode::BadInput.code();
    }
    let from = args.from.map_or(0, Duration::nanos);
    let to = args.to.map_or(Nanos::MAX, Duration::nanos);
    if from > to {
        eprintln!(
            "sim: --from {} is after --to {}: the window is empty",
            instant(from),
            instant(to)
        );
        return ExitCode::BadInput.code();
    }
    let out = match captured(&scenario, args.seed) {
        Ok(out) => out,
        Err(code) => return code,
    };
    let events = window(
        &scenario.protocol,
        &scenario.nodes,
        out.records.as_deref().unwrap_or(&[]),
        from,
        to,
        args.node.as_deref(),
    );
    let report = &out.report;
    let hash_ok = args
        .expect_hash
        .as_ref()
        .map(|h| h.trim().eq_ignore_ascii_case(&report.trace_hash));
    print_events(&args, report, &events, from, to);
    let ending = ending(report, hash_ok, &style_for(args.json));
    if args.json {
        eprint!("{ending}");
        outln!(
            "{}",
            json!({
                "kind": "summary",
                "scenario": report.scenario,
                "seed": report.seed,
                "verdict": report.verdict.name(),
                "trace_hash": report.trace_hash,
                "expected_hash": args.expect_hash,
                "hash_matches": hash_ok,
                "shown": events.len(),
                "events": report.stats.events,
            })
        );
    } else {
        out!("{ending}");
    }
    if let (Some(expected), Some(false)) = (&args.expect_hash, hash_ok) {
        eprintln!(
            "sim: the trace hash moved: expected {expected}, got {}",
            report.trace_hash
        );
    }
    // With a recorded hash the question is "is this the recorded run?", whatever its verdict.
    match hash_ok {
        Some(true) => ExitCode::Held.code(),
        Some(false) => ExitCode::SafetyViolated.code(),
        None => report.exit_code().code(),
    }
}

/// The told events at or between `from` and `to`, of `node` when given. `protocol` names the
/// run's protocol: the captured records have no header to say it.
pub(crate) fn window(
    protocol: &str,
    nodes: &[String],
    records: &[String],
    from: Nanos,
    to: Nanos,
    node: Option<&str>,
) -> Vec<Told> {
    let mut narrator = Narrator::new(protocol, nodes);
    let mut shown = Vec::new();
    for line in records {
        // Every line is told, even outside the window: a delivery inside it names its send.
        let Some(told) = narrator.tell(line) else {
            continue;
        };
        if told.at > to {
            break;
        }
        if told.at >= from && node.is_none_or(|n| told.involves(n)) {
            shown.push(told);
        }
    }
    shown
}

fn print_events(args: &ReplayArgs, report: &RunReport, events: &[Told], from: Nanos, to: Nanos) {
    let mut head = format!(
        "replay      {} ({}) seed {}, from {}",
        report.scenario,
        report.file,
        report.seed,
        instant(from)
    );
    if to != Nanos::MAX {
        head += &format!(" to {}", instant(to));
    }
    if let Some(n) = &args.node {
        head += &format!(", node {n}");
    }
    if args.json {
        eprintln!("{head}");
        for e in events {
            match serde_json::to_string(e) {
                Ok(line) => outln!("{line}"),
                Err(err) => eprintln!("sim: cannot print event #{}: {err}", e.seq),
            }
        }
    } else {
        outln!("{head}");
        for e in events {
            outln!("{:>13}  {}", instant(e.at), e.text);
        }
    }
}

/// The closing lines: how many events were shown, the verdict, the hash and its comparison.
fn ending(report: &RunReport, hash_ok: Option<bool>, style: &crate::report::text::Style) -> String {
    let mut out = String::new();
    out += &format!(
        "{:<11} {} · {} events in the run\n",
        "verdict",
        verdict_word(report.verdict, style),
        thousands(report.stats.events)
    );
    for inv in &report.invariants {
        if let Status::Violated(v) = &inv.status {
            out += &format!(
                "{:<11} {} at {}: {}\n",
                "violated",
                inv.name,
                instant(v.at),
                v.message
            );
        }
    }
    out += &format!("{:<11} {}", "trace_hash", report.trace_hash);
    if hash_ok == Some(true) {
        out += " (as expected)";
    }
    out.push('\n');
    out
}

/// One seed's run with every record kept, for the commands that tell it event by event
/// (`sim replay`, `sim step`); a scenario the run refuses is exit 2, said on stderr.
pub(crate) fn captured(scenario: &Scenario, seed: Option<u64>) -> Result<RunOutput, i32> {
    let options = RunOptions {
        seed,
        trace_path: None,
        capture: true,
    };
    crate::run::run(scenario, &options).map_err(|e| {
        eprintln!("{e}");
        ExitCode::BadInput.code()
    })
}
