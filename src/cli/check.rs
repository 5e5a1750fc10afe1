//! `sim check HISTORY [--model M] [--timeout D] [--max-steps N] [--html F [--force]] [--json]`: is a
//! recorded history linearizable?
//!
//! Reads sim-history JSON, Jepsen logs and EDN operation maps (the format is told by the content,
//! [`import_bytes`]), checks with [`crate::check::linearizable`] and exits 0 linearizable, 1 not, 2 bad
//! input, 3 unknown (the timeout or the step limit was hit first), as [`exit::of_linearizability`]
//! decides. A history that is not linearizable gets one sentence saying why (the one the history
//! picture shows): a `why:` line in the report, a `why` field in the JSON. The timeout is wall-clock time, read here in the command line and handed to the
//! checker as its cancel callback: the checker itself never reads a clock.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use serde_json::{Value as Json, json};

use crate::check::linearizable::{self, Analysis, Limits, LinVerdict};
use crate::node::Duration;
use crate::report::history_html;
use crate::run::exit::{self, ExitCode};
use crate::workload::history::import::{Format, import_bytes};
use crate::workload::history::json::model_name;
use crate::workload::history::{History, ModelKind, ModelSpec, Value};

use super::display;

/// `sim check FILE`: is a recorded history linearizable?
#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// The history: sim-history JSON, a Jepsen log, or EDN operation maps (Knossos, Porcupine).
    pub(crate) file: PathBuf,
    /// The model to judge against; replaces the one the file implies (its initial value stays).
    #[arg(long, value_enum)]
    pub(crate) model: Option<ModelArg>,
    /// Give up (exit 3, unknown) after this much wall-clock time: `10s`, `500ms`.
    #[arg(long, default_value = "60s")]
    pub(crate) timeout: Duration,
    /// Give up (exit 3, unknown) after this many search steps: a limit that does not depend on
    /// the machine.
    #[arg(long)]
    pub(crate) max_steps: Option<u64>,
    /// Write a self-contained HTML picture of the history and the linearization to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) html: Option<PathBuf>,
    /// Replace the `--html` file if it already exists (without this, an existing file is an
    /// error: a picture must never overwrite something by accident).
    #[arg(long)]
    pub(crate) force: bool,
    /// Print one JSON object on stdout instead of the human report.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `--model` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModelArg {
    /// A single register: read and write.
    Register,
    /// A single register: read, write and compare-and-set.
    CasRegister,
    /// A map of independent registers: get, put, append and compare-and-set per key.
    Kv,
    /// Knossos's multi-register: transactions (`:txn`) over several registers.
    MultiRegister,
    /// Knossos's mutex: acquire and release.
    Mutex,
}

impl From<ModelArg> for ModelKind {
    fn from(m: ModelArg) -> ModelKind {
        match m {
            ModelArg::Register => ModelKind::Register,
            ModelArg::CasRegister => ModelKind::CasRegister,
            ModelArg::Kv => ModelKind::Kv,
            ModelArg::MultiRegister => ModelKind::MultiRegister,
            ModelArg::Mutex => ModelKind::Mutex,
        }
    }
}

/// A history read from a file, with the model it is judged against.
pub(crate) struct Loaded {
    /// The file's format: sim-history JSON, a Jepsen log or EDN.
    pub(crate) format: Format,
    /// The operations, with invocation and completion times.
    pub(crate) history: History,
    /// The model the history is judged against, with its initial value.
    pub(crate) model: ModelSpec,
}

/// Reads and imports `file`; the error is the line to print (`file:line:col: expected ...`).
pub(crate) fn load(file: &std::path::Path, model: Option<ModelKind>) -> Result<Loaded, String> {
    let name = display(file);
    let bytes = std::fs::read(file).map_err(|e| format!("{name}: cannot read the file: {e}"))?;
    let (format, history) = import_bytes(&bytes, model).map_err(|e| format!("{name}:{e}"))?;
    let model = history.model.clone().ok_or_else(|| {
        format!("{name}: the history names no model; pass --model register, cas-register, kv, multi-register or mutex")
    })?;
    Ok(Loaded {
        format,
        history,
        model,
    })
}

/// Checks with a wall-clock deadline; returns the analysis and the wall time it took.
pub(crate) fn check_within(
    loaded: &Loaded,
    timeout: Duration,
    max_steps: Option<u64>,
    verdict_only: bool,
) -> Result<(Analysis, std::time::Duration), String> {
    // The command line owns the wall clock; the checker only polls this callback.
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let limit = std::time::Duration::from_nanos(timeout.nanos());
    let past_deadline = move || start.elapsed() >= limit;
    let limits = Limits {
        max_steps,
        cancel: Some(&past_deadline),
        verdict_only,
    };
    let analysis =
        linearizable::check(&loaded.history, &loaded.model, &limits).map_err(|e| e.to_string())?;
    Ok((analysis, start.elapsed()))
}

/// `sim check FILE`: judges a history's linearizability against its model and prints the report
/// (or JSON); returns the exit code: 0 linearizable, 1 not, 2 bad input, 3 unknown (a limit hit).
pub(crate) fn check(args: CheckArgs) -> i32 {
    let name = display(&args.file);
    // Refused before the check, which may take a minute: the user learns at once.
    if let Some(path) = &args.html
        && !args.force
        && path.exists()
    {
        eprintln!(
            "{}: already exists; pass --force to replace it, or choose another --html file",
            display(path)
        );
        return ExitCode::BadInput.code();
    }
    let loaded = match load(&args.file, args.model.map(ModelKind::from)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::BadInput.code();
        }
    };
    let (analysis, elapsed) = match check_within(&loaded, args.timeout, args.max_steps, false) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::BadInput.code();
        }
    };
    let explanation = match analysis.verdict {
        LinVerdict::NotLinearizable => linearizable::explain(&loaded.history, &analysis),
        _ => String::new(),
    };
    let why = why(&loaded.history, &analysis);
    if let Some(path) = &args.html {
        let page = history_html::render(
            &loaded.history,
            &loaded.model,
            &analysis,
            &explanation,
            &name,
        );
        if let Err(e) = std::fs::write(path, page) {
            eprintln!("{}: cannot write the picture: {e}", display(path));
            return ExitCode::BadInput.code();
        }
    }
    if args.json {
        outln!(
            "{}",
            report_json(
                &name,
                &loaded,
                &analysis,
                &explanation,
                why.as_deref(),
                elapsed
            )
        );
    } else {
        human(
            &name,
            &loaded,
            &analysis,
            &explanation,
            why.as_deref(),
            elapsed,
        );
        if let Some(path) = &args.html {
            outln!("picture: {}", display(path));
        }
    }
    exit::of_linearizability(&analysis.verdict).code()
}

/// The one sentence that says why the history is not linearizable — the same one the history
/// picture shows — from the first violating key whose culprit the checker singled out; `None`
/// for any other verdict, or when no operation was singled out.
fn why(history: &History, analysis: &Analysis) -> Option<String> {
    if analysis.verdict != LinVerdict::NotLinearizable {
        return None;
    }
    analysis
        .partitions
        .iter()
        .filter(|p| p.verdict == LinVerdict::NotLinearizable)
        .find_map(|p| linearizable::reason(history, p))
}

fn init_text(model: &ModelSpec) -> String {
    if model.kind == ModelKind::Mutex {
        return "free".to_string();
    }
    model
        .init
        .as_ref()
        .map_or("absent".to_string(), Value::to_string)
}

fn human(
    name: &str,
    loaded: &Loaded,
    analysis: &Analysis,
    explanation: &str,
    why: Option<&str>,
    elapsed: std::time::Duration,
) {
    outln!("{}: {name}", analysis.verdict.name());
    outln!(
        "  {} ({}, initially {}), {} operations, {} {}, {} steps, {:.1} ms",
        loaded.format,
        model_name(loaded.model.kind),
        init_text(&loaded.model),
        loaded.history.ops.len(),
        analysis.partitions.len(),
        if analysis.partitions.len() == 1 {
            "partition"
        } else {
            "partitions"
        },
        analysis.steps,
        elapsed.as_secs_f64() * 1e3
    );
    if loaded.history.ops.is_empty() {
        outln!("  note: the history is empty; an empty history is linearizable");
    }
    if let LinVerdict::Unknown { reason } = &analysis.verdict {
        outln!("  unknown: {reason}");
    }
    if let Some(why) = why {
        outln!("  why: {why}");
    }
    if !explanation.is_empty() {
        outln!("");
        outln!("{}", explanation.trim_end());
    }
}

fn verdict_json(v: &LinVerdict) -> &'static str {
    match v {
        LinVerdict::Linearizable => "linearizable",
        LinVerdict::NotLinearizable => "not_linearizable",
        LinVerdict::Unknown { .. } => "unknown",
    }
}

fn report_json(
    name: &str,
    loaded: &Loaded,
    analysis: &Analysis,
    explanation: &str,
    why: Option<&str>,
    elapsed: std::time::Duration,
) -> Json {
    let partitions: Vec<Json> = analysis
        .partitions
        .iter()
        .map(|p| {
            json!({
                "key": p.key,
                "verdict": verdict_json(&p.verdict),
                "reason": match &p.verdict {
                    LinVerdict::Unknown { reason } => Some(reason.as_str()),
                    _ => None,
                },
                "ops": p.ops,
                "linearization": p.linearization,
                "stuck": p.stuck,
                "why": match p.verdict {
                    LinVerdict::NotLinearizable => linearizable::reason(&loaded.history, p),
                    _ => None,
                },
                "window": p.window,
            })
        })
        .collect();
    let reason = match &analysis.verdict {
        LinVerdict::Unknown { reason } => Some(reason.as_str()),
        _ => None,
    };
    json!({
        "file": name,
        "format": loaded.format.to_string(),
        "verdict": verdict_json(&analysis.verdict),
        "reason": reason,
        "why": why,
        "model": { "kind": model_name(loaded.model.kind), "init": loaded.model.init },
        "ops": loaded.history.ops.len(),
        "steps": analysis.steps,
        "elapsed_ms": elapsed.as_secs_f64() * 1e3,
        "partitions": partitions,
        "explanation": if explanation.is_empty() { None } else { Some(explanation) },
    })
}
