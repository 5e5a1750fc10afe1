//! Every `[limits]` entry, hit on purpose: the run stops, exits 3, and names the limit, its value
//! and how to raise it — in the story, in `--json` and in sweeps. Each limit is hit once through
//! the scenario's `[limits]` table and once through `sim run --limit`.

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::{run, sim};

/// A scratch directory of its own per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-limits-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// `scenario` with `extra` appended, written to a scratch file.
fn with(scenario: &str, extra: &str, name: &str) -> String {
    let text = fs::read_to_string(common::root().join(scenario)).unwrap();
    let path = scratch(name).join("s.toml");
    fs::write(&path, format!("{text}\n{extra}\n")).unwrap();
    path.display().to_string()
}

/// The run stopped at `name` = `value`: exit 3, unknown, the JSON names it and the story tells
/// it with the way to raise it.
fn assert_hit(r: &common::Run, name: &str, value: &str) {
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.json["verdict"], "unknown");
    let limit = &r.json["limit"];
    assert_eq!(limit["name"], name, "{limit}");
    assert_eq!(limit["value"], value, "{limit}");
    let message = limit["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("the limit {name} = "))
            && message.contains(&format!("`[limits] {name} = "))
            && message.contains(&format!("`sim run --limit {name}=")),
        "{message}"
    );
    assert!(
        r.stderr.contains(message),
        "the human report tells it too:\n{}",
        r.stderr
    );
}

#[test]
fn the_event_limit_stops_the_run_and_says_how_to_raise_it() {
    let r = run(
        "scenarios/raft/basic-election.toml",
        &["--limit", "events=100"],
    );
    assert_hit(&r, "events", "100");
    // The records up to the limit: the event that reached it finishes (its handler's records —
    // a vote, a role, a few sends — are one step), then the run closes.
    let events = r.json["events"].as_u64().unwrap();
    assert!((100..110).contains(&events), "{events}");
    assert_eq!(r.json["outcome"], "event_limit");
    // The older top-level key still works, and `[limits] events` is the same limit.
    let f = with(
        "scenarios/raft/basic-election.toml",
        "[limits]\nevents = 50",
        "ev",
    );
    let r = run(&f, &[]);
    assert_hit(&r, "events", "50");
    assert!((50..60).contains(&r.json["events"].as_u64().unwrap()));
}

#[test]
fn the_virtual_time_limit_caps_a_long_scenario() {
    let r = run(
        "scenarios/raft/basic-election.toml",
        &["--limit", "virtual_time=1s"],
    );
    assert_hit(&r, "virtual_time", "1s");
    assert_eq!(r.json["virtual_time_ns"], 1_000_000_000u64);
    assert!(
        r.json["limit"]["message"]
            .as_str()
            .unwrap()
            .contains("virtual_time = \"1s\"")
    );
    let f = with(
        "scenarios/raft/basic-election.toml",
        "[limits]\nvirtual_time = \"500ms\"",
        "vt",
    );
    assert_hit(&run(&f, &[]), "virtual_time", "500ms");
}

#[test]
fn messages_piling_up_on_one_link_stop_the_run_and_name_the_link() {
    // The leader pauses for 1s: its followers' messages wait on the wire for it.
    let r = run(
        "scenarios/raft/leader-gc-pause.toml",
        &["--limit", "in_flight_per_link=5"],
    );
    assert_hit(&r, "in_flight_per_link", "5");
    assert_eq!(r.json["outcome"], "in_flight_limit");
    let detail = r.json["limit"]["detail"].as_str().unwrap();
    assert!(detail.starts_with("on the link "), "{detail}");
    // The same scenario within the default limit passes.
    let ok = run("scenarios/raft/leader-gc-pause.toml", &[]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.json["limit"].is_null());
}

#[test]
fn the_history_length_limit_stops_the_clients() {
    let r = run(
        "scenarios/raft/kv-linearizable.toml",
        &["--limit", "history_ops=20"],
    );
    assert_hit(&r, "history_ops", "20");
    assert_eq!(r.json["outcome"], "stopped");
    let f = with(
        "scenarios/raft/kv-linearizable.toml",
        "[limits]\nhistory_ops = 7",
        "hist",
    );
    assert_hit(&run(&f, &[]), "history_ops", "7");
}

#[test]
fn the_checker_step_limit_makes_linearizability_unknown_not_a_guess() {
    let r = run(
        "scenarios/raft/kv-linearizable.toml",
        &["--limit", "checker_steps=10"],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert_eq!(r.json["verdict"], "unknown");
    let lin = r.json["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "linearizable")
        .unwrap();
    assert_eq!(lin["status"], "unknown");
    let reason = lin["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the limit checker_steps = 10 was reached")
            && reason.contains("`sim run --limit checker_steps=N`"),
        "{reason}"
    );
    // The run itself went to its end: only the checker stopped.
    assert_eq!(r.json["outcome"], "completed");
}

#[test]
fn the_trace_size_limit_stops_writing_and_the_run() {
    let dir = scratch("trace");
    let out = dir.join("out");
    let r = run(
        "scenarios/raft/basic-election.toml",
        &[
            "--out",
            out.to_str().unwrap(),
            "--limit",
            "trace_bytes=20000",
        ],
    );
    assert_hit(&r, "trace_bytes", "20000");
    let size = fs::metadata(out.join("trace.jsonl")).unwrap().len();
    // The record that crossed the limit and the footer are written, then nothing.
    assert!(size > 20_000 && size < 22_000, "{size} bytes");
    let f = with(
        "scenarios/raft/basic-election.toml",
        "[limits]\ntrace_bytes = 4000",
        "trace2",
    );
    let out2 = dir.join("out2");
    assert_hit(
        &run(&f, &["--out", out2.to_str().unwrap()]),
        "trace_bytes",
        "4000",
    );
}

#[test]
fn a_violation_found_before_a_limit_is_still_a_violation() {
    // The split brain happens early; the event limit comes later.
    let r = run(
        "scenarios/failover/naive-split-brain.toml",
        &["--limit", "virtual_time=30s"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn a_bad_limit_is_bad_input() {
    for (arg, says) in [
        ("speed=3", "expected one of events, virtual_time"),
        ("events=0", "more than zero"),
        ("events", "NAME=VALUE"),
        ("virtual_time=soon", "virtual_time"),
    ] {
        let out = sim(&["run", "scenarios/raft/basic-election.toml", "--limit", arg]);
        assert_eq!(out.status.code(), Some(2), "{arg}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{arg}: {err}");
    }
    let f = with(
        "scenarios/raft/basic-election.toml",
        "[limits]\nin_flight_per_link = 0",
        "zero",
    );
    let out = sim(&["run", &f]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("limits.in_flight_per_link must be more than zero"),
        "{err}"
    );
}

#[test]
fn the_help_lists_every_limit_with_its_default() {
    let out = sim(&["run", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for line in sim::scenario::limits::defaults_text().lines() {
        let (assignment, _) = line.split_once(':').unwrap();
        assert!(
            help.contains(assignment),
            "{assignment} not in --help:\n{help}"
        );
    }
    // And the schema documents each key of `[limits]`.
    let schema = fs::read_to_string(common::root().join("reports/scenario.schema.json")).unwrap();
    for (name, _) in sim::scenario::limits::NAMES {
        assert!(schema.contains(&format!("\"{name}\"")), "{name}");
    }
}

#[test]
fn a_sweep_counts_a_limit_as_undecided() {
    let dir = scratch("sweep");
    let f = with(
        "scenarios/raft/basic-election.toml",
        "[limits]\nvirtual_time = \"200ms\"",
        "sweep",
    );
    let out = sim(&["sweep", &f, "--seeds", "1..4", "--jobs", "1", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("virtual_time_limit"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn a_sweep_overrides_limits_for_every_seed_and_its_replay_lines_repeat_them() {
    let dir = scratch("sweep-limit");
    let file = "scenarios/raft/basic-election.toml";
    let out = sim(&[
        "sweep",
        file,
        "--seeds",
        "1..4",
        "--jobs",
        "1",
        "--json",
        "--limit",
        "events=100",
    ]);
    assert_eq!(out.status.code(), Some(3), "every seed stops undecided");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["run"].as_u64(), json["unknown"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(json["limits"], serde_json::json!(["events=100"]));
    let failures = json["failures"].as_array().unwrap();
    assert_eq!(
        failures[0]["invariants"][0]["invariant"], "event_limit",
        "{json}"
    );
    let replay = failures[0]["replay"].as_str().unwrap();
    assert!(
        replay.ends_with("basic-election.toml --seed 1 --limit events=100"),
        "{replay}"
    );
    // The replay line gives back the same stopped run.
    let again = run(file, &["--seed", "1", "--limit", "events=100"]);
    assert_hit(&again, "events", "100");
    assert_eq!(again.json["trace_hash"], failures[0]["trace_hash"]);
    // Without the override the same seeds pass, reporting the heaviest seed's events.
    let out = sim(&["sweep", file, "--seeds", "1..4", "--jobs", "1", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let max = json["events_max"].as_u64().unwrap();
    assert!(
        max > 100 && max * 3 >= json["events"].as_u64().unwrap(),
        "{json}"
    );
    // A resume with other limits is another sweep; a bad limit is bad input.
    let store = dir.join("out").display().to_string();
    let first = sim(&["sweep", file, "--seeds", "1..3", "--out", &store]);
    assert_eq!(first.status.code(), Some(0));
    let other = sim(&[
        "sweep",
        file,
        "--seeds",
        "1..3",
        "--out",
        &store,
        "--limit",
        "events=100",
    ]);
    assert_eq!(other.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&other.stderr)
            .contains("it holds a sweep run with no --limit, not --limit events=100; pass --force"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    let bad = sim(&["sweep", file, "--seeds", "1..3", "--limit", "speed=3"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("sim sweep: --limit speed: expected one of events, virtual_time"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let _ = fs::remove_dir_all(dir);
}
