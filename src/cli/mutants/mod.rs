//! `sim mutants`: a mutation campaign over the protocols. How good are the sweeps at finding
//! bugs? Apply a known bug, sweep, and see. Each mutant of the catalogue (`mutants/`, see
//! [`catalogue`]) is applied to a private copy of this checkout, built, and swept over every
//! bundled scenario of its protocol that expects a pass; `reports/mutants.md` says, per mutant,
//! whether the sweeps caught it, where first, by which invariant and how often, and lists
//! every escaped mutant with why it escapes.
//!
//! It runs in a checkout of sim's source (it builds one `sim` per mutant, with cargo), and the
//! unmutated code must pass every swept seed first: otherwise a failure would prove nothing.

mod campaign;
mod catalogue;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;

use crate::run::exit::ExitCode;
use crate::run::registry;
use crate::scenario::ExpectedVerdict;
use crate::sweep::SeedRange;

use campaign::Workspace;
use report::{Found, Outcome, Setup};

#[derive(Args, Debug)]
pub(crate) struct MutantsArgs {
    /// The catalogue: `<protocol>/<name>.patch` files.
    #[arg(long, default_value = "mutants")]
    catalogue: PathBuf,
    /// Only the mutants whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// The seeds of every sweep: A..B is half-open (1..1001 is 1,000 seeds).
    #[arg(long, value_name = "A..B", default_value = "1..1001")]
    seeds: SeedRange,
    /// Only list the catalogue and check that every patch still applies; build nothing.
    #[arg(long)]
    list: bool,
    /// Build the mutants with every debug assertion on (the `mutants-checked` profile): a protocol's own
    /// assertion that fires then counts as a catch. By default assertions are off, so only the
    /// checkers can catch a mutant.
    #[arg(long)]
    checked: bool,
    /// Also build and run the unit tests of the mutated protocol's module (`cargo test --lib`,
    /// filtered to e.g. `protocols::raft::`) on each mutant; the report counts them apart from
    /// the sweeps and the pins.
    #[arg(long)]
    unit_tests: bool,
    /// Threads for each sweep (default: the machine's cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// The report.
    #[arg(long, default_value = "reports/mutants.md")]
    out: PathBuf,
    /// Replace an existing report.
    #[arg(long)]
    force: bool,
}

pub(crate) fn mutants(args: MutantsArgs) -> i32 {
    match campaign(&args) {
        Ok(code) => code.code(),
        Err(e) => {
            eprintln!("sim mutants: {e}");
            ExitCode::BadInput.code()
        }
    }
}

fn campaign(args: &MutantsArgs) -> Result<ExitCode, String> {
    let checkout = std::env::current_dir().map_err(|e| e.to_string())?;
    if !is_sim_checkout(&checkout) {
        return Err(format!(
            "{} is not a checkout of sim's source (no Cargo.toml naming the `sim` package beside \
             src/protocols/): run sim mutants at the top of the repository",
            checkout.display()
        ));
    }
    let catalog = registry::installed().catalog();
    let protocols: Vec<&str> = catalog.iter().map(|p| p.name).collect();
    let mutants = catalogue::load(&args.catalogue, &protocols, args.filter.as_deref())?;
    if !args.list && !args.force && args.out.exists() {
        return Err(format!(
            "{} exists: pass --force to replace it, or --out to write elsewhere",
            args.out.display()
        ));
    }
    if args.list {
        let mut bad = 0;
        for m in &mutants {
            match campaign::check_applies(&checkout, m) {
                Ok(()) => outln!("{:<40} {:<6} {}", m.name, m.protocol, m.rule),
                Err(e) => {
                    bad += 1;
                    eprintln!("{e}");
                }
            }
        }
        outln!("{} mutants, {} apply", mutants.len(), mutants.len() - bad);
        return Ok(if bad == 0 {
            ExitCode::Held
        } else {
            ExitCode::BadInput
        });
    }
    let profile = if args.checked {
        "mutants-checked"
    } else {
        "mutants"
    };
    let ws = Workspace::prepare(&checkout, profile)?;
    let mut wanted: Vec<&str> = mutants.iter().map(|m| m.protocol.as_str()).collect();
    wanted.dedup();
    let scenarios = pass_scenarios(&checkout, &wanted)?;
    let seeds = format!("{}..{}", args.seeds.start, args.seeds.end);

    eprintln!("sim mutants: building the unmutated code ({profile})…");
    let sim = ws
        .build()
        .map_err(|e| format!("the unmutated code does not build: {e}"))?;
    // Per scenario, the event budget of a mutant's seeds (see `campaign::event_budget`).
    let mut budgets: Vec<(String, u64)> = Vec::new();
    for (protocol, files) in &scenarios {
        for file in files {
            let s = ws.sweep(&sim, file, &seeds, args.jobs, None)?;
            budgets.push((file.clone(), campaign::event_budget(s.events_max)));
            if s.failing > 0 {
                eprintln!(
                    "sim mutants: the unmutated code already fails {file} on {} seeds (first {}): fix that first, a campaign against it proves nothing",
                    s.failing,
                    s.first_seed.unwrap_or(0)
                );
                return Ok(ExitCode::SafetyViolated);
            }
        }
        eprintln!(
            "sim mutants: baseline: {} {protocol} scenarios pass on seeds {seeds}",
            files.len()
        );
    }

    let mut outcomes = Vec::new();
    for (i, m) in mutants.iter().enumerate() {
        ws.apply(m)?;
        // Only a failed build makes a mutant unviable; a sweep or `sim lessons` that dies is the
        // campaign's own trouble (a sweep records a panicking seed as a finding; so does
        // `sim lessons`) and stops it.
        let result = match ws.build() {
            Err(e) => Err(e),
            Ok(sim) => {
                let files = scenarios
                    .iter()
                    .find(|(p, _)| p == &m.protocol)
                    .map(|(_, f)| f.as_slice())
                    .unwrap_or_default();
                let sweeps = files
                    .iter()
                    .map(|f| {
                        let budget = budgets.iter().find(|(b, _)| b == f).map(|(_, n)| *n);
                        ws.sweep(&sim, f, &seeds, args.jobs, budget)
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("{}: {e}", m.name))?;
                let pins = ws.pins(&sim).map_err(|e| format!("{}: {e}", m.name))?;
                let unit = args
                    .unit_tests
                    .then(|| match campaign::unit_test_module(m) {
                        Some(module) => ws.unit_tests(&module),
                        None => Err("the patch changes no protocol module".into()),
                    });
                Ok(Found { sweeps, pins, unit })
            }
        };
        let line = match &result {
            Err(e) => format!("does not build: {e}"),
            Ok(found) => match found.best() {
                Some(b) => format!(
                    "caught: {} seed {} ({}), {} of {} seeds",
                    b.file,
                    b.first_seed.unwrap_or(0),
                    b.invariants
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    b.failing,
                    b.run
                ),
                None => "escaped every sweep".into(),
            },
        };
        eprintln!("[{}/{}] {}: {line}", i + 1, mutants.len(), m.name);
        ws.unapply(m)?;
        outcomes.push(Outcome {
            mutant: m.clone(),
            result,
        });
    }

    let all: Vec<String> = scenarios
        .iter()
        .flat_map(|(_, f)| f.iter().cloned())
        .collect();
    let revision = revision(&checkout);
    let md = report::render(
        &Setup {
            seeds: &seeds,
            scenarios: &all,
            profile,
            revision: &revision,
        },
        &outcomes,
    );
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&args.out, &md).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let summary = md
        .lines()
        .find(|l| l.starts_with("**Caught"))
        .unwrap_or_default();
    outln!("{}", summary.replace("**", ""));
    outln!("report: {}", args.out.display());
    Ok(ExitCode::Held)
}

/// A checkout of sim: its manifest names the package, and the protocols are where mutants
/// expect them.
fn is_sim_checkout(dir: &Path) -> bool {
    dir.join("src/protocols").is_dir()
        && std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|m| m.lines().any(|l| l.trim() == "name = \"sim\""))
}

/// Per protocol, the bundled scenarios (under `scenarios/`, benchmarks aside) that expect a
/// pass, in path order.
fn pass_scenarios(
    checkout: &Path,
    protocols: &[&str],
) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut files = Vec::new();
    collect_toml(&checkout.join("scenarios"), &mut files)?;
    files.sort();
    let mut out: Vec<(String, Vec<String>)> = protocols
        .iter()
        .map(|p| (p.to_string(), Vec::new()))
        .collect();
    for path in files {
        let rel = path
            .strip_prefix(checkout)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if rel.starts_with("scenarios/bench/") {
            continue;
        }
        let Ok(scenario) = registry::installed().load(&path) else {
            continue; // not a scenario (regressions.toml) or one the lessons already report
        };
        let passes = scenario
            .expect
            .as_ref()
            .is_some_and(|e| e.verdict == ExpectedVerdict::Pass);
        if let Some((_, list)) = out.iter_mut().find(|(p, _)| *p == scenario.protocol)
            && passes
        {
            list.push(rel);
        }
    }
    if let Some((p, _)) = out.iter().find(|(_, l)| l.is_empty()) {
        return Err(format!(
            "no bundled scenario of protocol `{p}` expects a pass: nothing to sweep"
        ));
    }
    Ok(out)
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// The checkout's commit, marked when the working tree has changes.
fn revision(checkout: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(checkout)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--", "src"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{head}, with uncommitted changes to src/")
    } else {
        head
    }
}
