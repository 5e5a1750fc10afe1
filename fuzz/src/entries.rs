//! What each fuzz target does with one input, through the same library calls as the `sim`
//! binary. Shared, by `#[path]`, with `tests/fuzz_regressions.rs`, which feeds every corpus file
//! and every crash input through these same functions on stable Rust.
//!
//! The contract fuzzing checks: any bytes in, a value or a located error out — never a panic,
//! a hang or unbounded memory. Runs get tight limits (the scenario's own `[limits]`, lowered),
//! so one input costs milliseconds and a limit reached is an ordinary outcome.

use sim::check::linearizable::{self, Limits, LinVerdict};
use sim::run::RunOptions;
use sim::run::registry::installed;
use sim::scenario::Scenario;
use sim::workload::history::{History, ModelKind, ModelSpec, import, jepsen, json, knossos};

/// The file name errors carry.
pub const FILE: &str = "fuzz.toml";

/// The limits every fuzzed run gets (each the lower of this and the scenario's own).
pub const RUN_LIMITS: [(&str, u64); 5] = [
    ("events", 20_000),
    ("in_flight_per_link", 2_000),
    ("history_ops", 300),
    ("checker_steps", 20_000),
    ("trace_bytes", 1 << 20),
];

/// Virtual time a fuzzed run may last.
pub const RUN_VIRTUAL_TIME: &str = "3s";

/// Search steps a fuzzed history check may take.
pub const CHECK_STEPS: u64 = 20_000;

/// Lowers `scenario`'s limits to the fuzzing ones.
pub fn tighten(scenario: &mut Scenario) {
    for (name, value) in RUN_LIMITS {
        let current = match name {
            "events" => scenario.max_events,
            "in_flight_per_link" => scenario.limits.in_flight_per_link,
            "history_ops" => scenario.limits.history_ops,
            "checker_steps" => scenario.limits.checker_steps,
            _ => scenario.limits.trace_bytes,
        };
        let lower = current.min(value);
        scenario
            .set_limit(&format!("{name}={lower}"))
            .expect("a valid limit");
    }
    let cap: sim::node::Duration = RUN_VIRTUAL_TIME.parse().expect("a duration");
    if scenario.limits.virtual_time > cap.nanos() {
        scenario
            .set_limit(&format!("virtual_time={RUN_VIRTUAL_TIME}"))
            .expect("a valid limit");
    }
}

/// A scenario file's bytes, as `sim run FILE` reads them: text, parse and check, then (when
/// valid) a run within [`RUN_LIMITS`]. Returns whether the scenario was valid.
pub fn scenario(bytes: &[u8]) -> bool {
    let Ok(text) = Scenario::text_of(FILE, bytes) else {
        return false;
    };
    scenario_text(text)
}

/// [`scenario`] from text.
pub fn scenario_text(text: &str) -> bool {
    let registry = installed();
    match registry.scenario(FILE, text) {
        Ok(mut s) => {
            tighten(&mut s);
            // A run error (a `[protocol]` key the protocol refuses) is bad input, like a parse error.
            if let Ok(out) = registry.run(&s, &RunOptions::default(), None) {
                // Everything the run report carries is rendered, as `sim run` prints it.
                let _ = sim::report::json::report(&out.report).to_string();
            }
            true
        }
        Err(e) => {
            // The error renders (file:line:col and what was expected).
            let _ = e.to_string();
            false
        }
    }
}

/// The history importers `sim check` reads with.
#[derive(Clone, Copy, Debug)]
pub enum Importer {
    /// Our `sim-history` JSON.
    Json,
    /// Jepsen logs.
    Jepsen,
    /// Knossos and Porcupine EDN operation maps.
    Edn,
}

/// A history file's bytes: the importer itself, then the detecting reader `sim check` uses,
/// then (when a history comes out) the linearizability check within [`CHECK_STEPS`] and its
/// explanation. Returns whether the importer read a history.
pub fn history(importer: Importer, bytes: &[u8]) -> bool {
    let detected = import::import_bytes(bytes, None);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let own = match importer {
        Importer::Json => json::parse(text),
        Importer::Jepsen => jepsen::parse(text),
        Importer::Edn => knossos::parse(text),
    };
    if let Ok((_, h)) = &detected {
        check(h);
    }
    match own {
        Ok(h) => {
            check(&h);
            true
        }
        Err(e) => {
            let _ = e.to_string();
            false
        }
    }
}

/// The linearizability check `sim check` runs, with a small step budget.
fn check(history: &History) {
    let model = history.model.clone().unwrap_or(ModelSpec {
        kind: ModelKind::Kv,
        init: None,
    });
    let limits = Limits {
        max_steps: Some(CHECK_STEPS),
        ..Limits::default()
    };
    if let Ok(analysis) = linearizable::check(history, &model, &limits)
        && analysis.verdict == LinVerdict::NotLinearizable
    {
        let _ = linearizable::explain(history, &analysis);
    }
}
