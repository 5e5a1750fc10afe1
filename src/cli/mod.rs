//! The `sim` command line: parsing, exit codes, and where output goes.
//!
//! Exit codes are the same for every command (docs/ARCHITECTURE.md#exit-codes): 0 everything held, 1 a
//! safety property failed, 2 bad input or usage (clap's own code), 3 a liveness property failed
//! or the answer is unknown, 130 interrupted; every command takes them from
//! [`crate::run::exit::ExitCode`]. Human output goes to stdout, or to stderr when `--json` puts
//! the JSON document on stdout. Colour only on a terminal, never with `NO_COLOR`.

/// `println!` for the command line: see [`write_stdout`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for the command line: see [`write_stdout`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

pub mod bench;
pub mod bench_check;
pub mod bench_sweep;
mod check;
mod experiment;
mod find;
mod lessons;
mod list;
mod merge;
mod mutants;
mod regressions;
mod replay;
mod report;
mod run;
mod shrink;
mod step;
mod sweep;

use std::fmt;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Parser, Subcommand};

use crate::report::text::Style;
use crate::run::exit::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "sim",
    version,
    about = "A deterministic distributed-systems simulator",
    long_about = "Runs virtual nodes (Raft, fail-over designs, failure detectors) over a simulated \
        network that injects partitions, loss, delay, crashes, pauses and clock faults, then checks \
        invariants. Same scenario + same seed => the same trace, byte for byte.\n\n\
        Exit codes: 0 all held, 1 a safety property failed, 2 bad input, 3 a liveness property \
        failed or the answer is unknown."
)]
/// The command line of `sim`: one subcommand.
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario with one seed: the verdict, a short story, the trace hash and the replay line.
    Run(run::RunArgs),
    /// List what exists: protocols, invariants or faults with their definitions, or the lessons by topic.
    List {
        #[arg(value_enum)]
        what: list::What,
    },
    /// Print the JSON Schema of scenario files (for editors: `#:schema` comments, taplo, VS Code).
    Schema,
    /// Measure the engine: deliveries per wall-second and virtual seconds per wall-second.
    Bench(bench::BenchArgs),
    /// Is a recorded history linearizable? Reads sim-history JSON, Jepsen logs, Knossos/Porcupine EDN.
    Check(check::CheckArgs),
    /// Re-run one seed and narrate its events in a window, one line each.
    Replay(replay::ReplayArgs),
    /// Run every scenario against its [expect], and the regression file against its hashes.
    Lessons(lessons::LessonsArgs),
    /// Cut a failing seed down to the smallest scenario that still fails the same invariant.
    Shrink(shrink::ShrinkArgs),
    /// Run many seeds in parallel: failing seeds, per-invariant counts, replay lines; resumable.
    Sweep(sweep::SweepArgs),
    /// Merge the --out directories of a sharded sweep into the unsharded sweep's table.
    Merge(merge::MergeArgs),
    /// Re-render a run's pictures (Perfetto, Mermaid, ShiViz) from its `sim run --out` directory.
    Report(report::ReportArgs),
    /// Step through one run interactively: next event, run to a role change, fault or time, a node's state.
    Step(step::StepArgs),
    /// Find the lowest seed in which a named situation happens (a split vote, a transaction in doubt).
    Find(find::FindArgs),
    /// Measure a metric over many trials of a series of parameter values: results.csv, a table, CDF plots.
    Experiment(experiment::ExperimentArgs),
    /// A mutation campaign: apply each classic bug of mutants/, build, sweep; which do the sweeps catch?
    Mutants(mutants::MutantsArgs),
}

/// The whole `sim` command line over `registry`: for a program of your own that adds protocols
/// to the built-in ones (`Registry::builtin().with::<MyProtocol>()`). Returns the exit code.
///
/// A binary whose `sim run`, `sim sweep`, `sim shrink`, `sim list` and the rest also know
/// `MyProtocol` (see [`Protocol`](crate::node::Protocol) for one written out):
///
/// ```no_run
/// # use sim::node::{Ctx, DiskOf, NodeId, NoFacts, Protocol};
/// # #[derive(Clone, Debug, Default, serde::Deserialize, schemars::JsonSchema)]
/// # struct Config {}
/// # struct MyProtocol;
/// # impl Protocol for MyProtocol {
/// #     const NAME: &'static str = "mine";
/// #     const SUMMARY: &'static str = "mine";
/// #     type Msg = ();
/// #     type Timer = ();
/// #     type Config = Config;
/// #     type Durable = ();
/// #     type Api = sim::node::Kv;
/// #     type Fact = NoFacts;
/// #     type Record = ();
/// #     fn new(_: NodeId, _: &[NodeId], _: &Config, _: Option<&DiskOf<Self>>) -> Self { MyProtocol }
/// #     fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
/// #     fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
/// #     fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
/// # }
/// use sim::run::registry::Registry;
///
/// fn main() {
///     let registry = Registry::builtin().with::<MyProtocol>();
///     std::process::exit(sim::cli::main_with(registry));
/// }
/// ```
pub fn main_with(registry: crate::run::registry::Registry) -> i32 {
    // Replay lines name this program: `sim` would not know the protocols it adds.
    if let Some(program) = std::env::args().next() {
        crate::run::set_program(&crate::run::shell_quote(&program));
    }
    if let Err(e) = registry.install() {
        eprintln!("sim: {e}");
        return ExitCode::BadInput.code();
    }
    main()
}

/// Parses the command line and runs the command over the process's protocol registry (the
/// built-in protocols unless [`main_with`] installed another); returns the exit code.
///
/// ```
/// // The `sim` binary is this, over the built-in protocols.
/// fn main() {
///     std::process::exit(sim::cli::main());
/// }
/// # let _ = main;
/// ```
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::List { what } => list::list(what),
        Command::Schema => {
            let schema = crate::scenario::json_schema(&crate::protocols::catalog());
            match serde_json::to_string_pretty(&schema) {
                Ok(text) => {
                    outln!("{text}");
                    ExitCode::Held.code()
                }
                Err(e) => {
                    eprintln!("sim: cannot print the schema: {e}");
                    ExitCode::BadInput.code()
                }
            }
        }
        Command::Bench(args) => bench::main(&args),
        Command::Check(args) => check::check(args),
        Command::Replay(args) => replay::replay(args),
        Command::Lessons(args) => lessons::lessons(args),
        Command::Shrink(args) => shrink::shrink_command(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => merge::merge(args),
        Command::Report(args) => report::report(args),
        Command::Step(args) => step::step(args),
        Command::Find(args) => find::find(args),
        Command::Experiment(args) => experiment::experiment(args),
        Command::Mutants(args) => mutants::mutants(args),
    }
}

/// Set once stdout's reader has gone away.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to stdout. A reader that stopped reading (`sim list invariants | head -1`) is not our
/// error, so `println!`'s panic is no answer: the rest of the output is dropped and the command
/// finishes with its own exit code. Any other write error is reported once on stderr.
pub(crate) fn write_stdout(args: fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("sim: cannot write to stdout: {e}");
        }
    }
}

/// Colour for a stream: only on a terminal, and never when `NO_COLOR` is set.
fn style_for(stderr: bool) -> Style {
    let terminal = if stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    Style {
        color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
