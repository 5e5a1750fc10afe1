//! A panic inside a run is a finding about its seed, not the end of the sweep: the sweep lists
//! the seed as panicked (message, virtual time, replay line), keeps sweeping, and exits 1; the
//! panic has its own line in the table, the JSON, JUnit and results.jsonl, survives a resume and
//! a merge; `sim run` reports it in words. The panics are made by the hidden test aid
//! `--panic-at`, which makes chosen seeds' runs panic at a chosen virtual time.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::root;
use common::xml::Xml;
use serde_json::Value;

/// Seeds 1..=6 of this scenario pass (see tests/sweep.rs): any failure below is the panic's.
const NEMESIS: &str = "scenarios/raft/nemesis-partitions.toml";
const MESSAGE: &str = "a deliberate panic at 1.5s of virtual time (the test aid --panic-at)";

/// Runs `sim` from the repository root, without colour and without `RUST_BACKTRACE` (which
/// would ask for the default hook's output).
fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the sim binary runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-panics-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_panicking_seed_is_listed_and_the_sweep_goes_on() {
    let dir = scratch("table");
    let xml = dir.join("junit.xml");
    let out = sim(&[
        "sweep",
        NEMESIS,
        "--seeds",
        "1..7",
        "--jobs",
        "2",
        "--panic-at",
        "2,5@1.5s",
        "--json",
        "--junit",
        path(&xml),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a panic is a safety failure: {}",
        show(&out)
    );
    let stderr = text(&out.stderr);
    assert!(
        !stderr.contains("thread '") && !stderr.contains("RUST_BACKTRACE=1` environment"),
        "the default hook's noise is silenced: {stderr}"
    );

    // The table (on stderr with --json): every seed ran; the panics have their own lines.
    assert!(
        stderr.contains("run         6 of 6 · 4 passed · 2 failed (0 unknown, 2 panicked)"),
        "{stderr}"
    );
    let tally = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("panicked "))
        .unwrap_or_else(|| panic!("a `panicked` row: {stderr}"));
    let cols: Vec<&str> = tally.split_whitespace().collect();
    assert_eq!(cols, ["panicked", "2", "0", "2"], "{tally}");
    for seed in [2, 5] {
        let row = "panicked@1.5s";
        let replay = format!("sim run {NEMESIS} --seed {seed}");
        assert!(
            stderr
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{seed}  {row}"))
                    && l.ends_with(&replay)),
            "seed {seed}: {stderr}"
        );
    }
    let messages = stderr.lines().filter(|l| l.contains(MESSAGE)).count();
    assert_eq!(messages, 2, "each panic's message under its seed: {stderr}");
    assert!(
        stderr.contains("src/world/engine.rs:"),
        "the message says where: {stderr}"
    );
    assert!(
        stderr.contains("VIOLATION: 2 of 6 seeds failed (2 panicked)"),
        "{stderr}"
    );

    // The JSON document says the same.
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["panicked"], 2);
    assert_eq!(doc["run"], 6);
    assert_eq!(doc["verdict"], "violation");
    let failures = doc["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2);
    for (f, seed) in failures.iter().zip([2, 5]) {
        assert_eq!(f["seed"], seed);
        assert_eq!(f["verdict"], "panicked");
        assert_eq!(f["virtual_time_ns"], 1_500_000_000u64);
        assert_eq!(f["replay"], format!("sim run {NEMESIS} --seed {seed}"));
        let inv = &f["invariants"][0];
        assert_eq!(inv["invariant"], "panicked");
        assert_eq!(inv["at_ns"], 1_500_000_000u64);
        assert!(inv["message"].as_str().unwrap().ends_with(MESSAGE), "{inv}");
        assert!(
            f["trace_hash"].as_str().unwrap().len() == 16,
            "the trace hash so far: {f}"
        );
    }

    // JUnit: well formed; each panic is an <error type="panic">, counted as an error.
    let junit = Xml::parse(&fs::read_to_string(&xml).unwrap());
    assert_eq!(junit.attr("errors"), Some("2"));
    assert_eq!(junit.attr("failures"), Some("0"));
    let suite = junit.children("testsuite")[0];
    assert_eq!(suite.attr("errors"), Some("2"));
    let cases = suite.children("testcase");
    assert_eq!(cases.len(), 3, "two panics and the roll-up of four passes");
    for (case, seed) in cases.iter().zip([2, 5]) {
        assert_eq!(case.attr("name"), Some(format!("seed={seed}")).as_deref());
        assert!(case.children("failure").is_empty());
        let error = case.children("error")[0];
        assert_eq!(error.attr("type"), Some("panic"));
        let message = error.attr("message").unwrap();
        assert!(
            message.starts_with("panicked at src/world/engine.rs:"),
            "{message}"
        );
        assert!(message.ends_with("(at 1.5s of virtual time)"), "{message}");
        assert!(
            error
                .text
                .contains(&format!("replay: sim run {NEMESIS} --seed {seed}")),
            "{}",
            error.text
        );
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn a_panic_survives_results_jsonl_a_resume_and_a_merge() {
    let dir = scratch("store");
    let whole = dir.join("whole");
    let args = |out: &Path| {
        vec![
            "sweep".to_string(),
            NEMESIS.to_string(),
            "--seeds".to_string(),
            "1..6".to_string(),
            "--panic-at".to_string(),
            "3@1.5s".to_string(),
            "--out".to_string(),
            path(out).to_string(),
        ]
    };
    let run = |a: Vec<String>| sim(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let first = run(args(&whole));
    assert_eq!(first.status.code(), Some(1), "{}", show(&first));
    let table = text(&first.stdout);
    assert!(table.contains("1 panicked"), "{table}");

    let results = whole.join("results.jsonl");
    let lines: Vec<Value> = fs::read_to_string(&results)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let panicked: Vec<&Value> = lines
        .iter()
        .filter(|l| l["verdict"] == "panicked")
        .collect();
    assert_eq!(panicked.len(), 1, "{lines:?}");
    assert_eq!(panicked[0]["seed"], 3);
    assert_eq!(panicked[0]["failures"][0]["invariant"], "panicked");

    // A resume reads the panic back, runs nothing and prints the same table.
    let again = run(args(&whole));
    assert_eq!(again.status.code(), Some(1), "{}", show(&again));
    assert!(
        text(&again.stderr).contains("5 seeds already done, 0 to run"),
        "{}",
        show(&again)
    );
    assert_eq!(text(&again.stdout), table);

    // Two shards merged: the unsharded table, panic included.
    let shards: Vec<PathBuf> = (0..2).map(|i| dir.join(format!("shard{i}"))).collect();
    for (i, shard) in shards.iter().enumerate() {
        let mut a = args(shard);
        a.extend(["--shard".to_string(), format!("{i}/2")]);
        let out = run(a);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", show(&out));
    }
    let merged = sim(&["merge", path(&shards[0]), path(&shards[1])]);
    assert_eq!(merged.status.code(), Some(1), "{}", show(&merged));
    assert_eq!(text(&merged.stdout), table);
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn fail_fast_stops_at_a_panic_like_at_any_failure() {
    let out = sim(&[
        "sweep",
        NEMESIS,
        "--seeds",
        "1..7",
        "--fail-fast",
        "--panic-at",
        "4@1.5s",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let table = text(&out.stdout);
    assert!(table.contains("--fail-fast stopped at seed 4"), "{table}");
    assert!(table.contains("run         4 of 6"), "{table}");
}

#[test]
fn sim_run_reports_a_panic_in_words_and_exits_1() {
    let out = sim(&["run", NEMESIS, "--seed", "3", "--panic-at", "1.5s"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("raft-nemesis-partitions seed 3: the run panicked at 1.5s of virtual time"),
        "{stderr}"
    );
    assert!(
        stderr.contains("panic       panicked at src/world/engine.rs:"),
        "{stderr}"
    );
    assert!(stderr.contains(MESSAGE), "{stderr}");
    assert!(
        stderr.contains(&format!("replay      sim run {NEMESIS} --seed 3")),
        "{stderr}"
    );
    assert!(!stderr.contains("thread 'main' panicked"), "{stderr}");

    let json = sim(&[
        "run",
        NEMESIS,
        "--seed",
        "3",
        "--panic-at",
        "1.5s",
        "--json",
    ]);
    assert_eq!(json.status.code(), Some(1), "{}", show(&json));
    let doc: Value = serde_json::from_slice(&json.stdout).expect("one JSON document");
    assert_eq!(doc["verdict"], "panicked");
    assert_eq!(doc["panic"]["at_ns"], 1_500_000_000u64);
    assert_eq!(doc["panic"]["message"], MESSAGE);
}
