//! The command-line contract (docs/ARCHITECTURE.md#the-command-line): exit codes, JSON fields, output files,
//! errors with file:line:col, and nothing a user wrote overwritten without asking.

use crate::common;

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use common::{run, sim};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-cli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// partition-heal.toml with one edit, written to a scratch file.
fn edited(name: &str, from: &str, to: &str) -> PathBuf {
    let text =
        fs::read_to_string(common::root().join("scenarios/raft/partition-heal.toml")).unwrap();
    assert!(text.contains(from), "{from:?} not in the scenario");
    let path = scratch(name).join("bad.toml");
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

#[test]
fn the_json_document_has_every_field_the_design_promises() {
    let r = run("scenarios/raft/partition-heal.toml", &[]);
    let j = &r.json;
    for key in [
        "scenario",
        "seed",
        "verdict",
        "trace_hash",
        "virtual_time_ns",
        "events",
        "messages",
        "invariants",
    ] {
        assert!(!j[key].is_null(), "missing {key}");
    }
    assert_eq!(j["scenario"], "raft-partition-heal");
    assert_eq!(j["seed"], 1);
    assert_eq!(j["verdict"], "pass");
    assert_eq!(j["virtual_time_ns"], 10_000_000_000u64);
    assert_eq!(j["trace_hash"].as_str().unwrap().len(), 16);
    let m = &j["messages"];
    assert_eq!(
        m["sent"].as_u64().unwrap() + m["duplicated"].as_u64().unwrap(),
        m["delivered"].as_u64().unwrap()
            + m["dropped"].as_u64().unwrap()
            + m["in_flight"].as_u64().unwrap(),
        "every message copy is delivered, dropped or still in flight"
    );
    for inv in j["invariants"].as_array().unwrap() {
        assert!(inv["name"].is_string() && inv["status"] == "pass" && inv["violation"].is_null());
    }
    assert_eq!(
        j["replay"],
        "sim run scenarios/raft/partition-heal.toml --seed 1"
    );
    // The human report went to stderr, so stdout was exactly one JSON document.
    assert!(r.stderr.contains("trace_hash"));
}

#[test]
fn a_violation_exits_1_and_prints_the_line_that_replays_it() {
    let out = sim(&[
        "run",
        "scenarios/failover/naive-split-brain.toml",
        "--seed",
        "4",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("VIOLATION  no_split_brain at 1.300s"),
        "{text}"
    );
    assert!(
        text.contains("replay      sim run scenarios/failover/naive-split-brain.toml --seed 4"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour off a terminal");
}

#[test]
fn a_liveness_failure_exits_3() {
    let out = sim(&["run", "scenarios/raft/no-randomness.toml"]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_seed_flag_overrides_the_scenario_seed() {
    let a = run("scenarios/raft/partition-heal.toml", &[]);
    let b = run("scenarios/raft/partition-heal.toml", &["--seed", "1"]);
    let c = run("scenarios/raft/partition-heal.toml", &["--seed", "2"]);
    assert_eq!(a.json["trace_hash"], b.json["trace_hash"]);
    assert_ne!(a.json["trace_hash"], c.json["trace_hash"]);
    assert_eq!(c.json["seed"], 2);
}

#[test]
fn two_processes_give_the_same_hash() {
    let a = run("scenarios/raft/clock-skew.toml", &["--seed", "77"]);
    let b = run("scenarios/raft/clock-skew.toml", &["--seed", "77"]);
    assert_eq!(a.json["trace_hash"], b.json["trace_hash"]);
    assert_eq!(a.json["events"], b.json["events"]);
}

#[test]
fn check_determinism_compares_two_runs_record_by_record() {
    let r = run(
        "scenarios/raft/leader-gc-pause.toml",
        &["--check-determinism"],
    );
    let d = &r.json["determinism"];
    assert_eq!(d["identical"], true);
    assert_eq!(d["records"], r.json["events"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("determinism two runs,"), "{}", r.stderr);
}

#[test]
fn out_writes_a_versioned_trace_and_a_summary() {
    let dir = scratch("out");
    let out = sim(&[
        "run",
        "scenarios/raft/partition-heal.toml",
        "--out",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();

    let trace = fs::read_to_string(dir.join("trace.jsonl")).unwrap();
    let lines: Vec<Value> = trace
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let header = &lines[0];
    assert_eq!(
        (header["format"].as_str(), header["version"].as_u64()),
        (Some("sim-trace"), Some(1))
    );
    assert_eq!(
        header["nodes"],
        serde_json::json!(["A", "B", "C", "D", "E"])
    );
    let footer = lines.last().unwrap();
    assert_eq!(footer["kind"], "end");
    assert_eq!(footer["trace_hash"], report["trace_hash"]);
    let records = &lines[1..lines.len() - 1];
    assert_eq!(records.len() as u64, report["events"].as_u64().unwrap());
    let mut last_t = 0;
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r["seq"], i as u64);
        let t = r["t"].as_u64().unwrap();
        assert!(t >= last_t, "records are in time order");
        last_t = t;
    }
    let kinds: std::collections::BTreeSet<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "start", "send", "deliver", "drop", "timer", "observe", "fault",
    ] {
        assert!(kinds.contains(kind), "no {kind} record");
    }
    let partition = records.iter().find(|r| r["kind"] == "fault").unwrap();
    assert_eq!(partition["fault"], "partition");
    assert_eq!(partition["for_ns"], 4_000_000_000u64);
    let send = records.iter().find(|r| r["kind"] == "send").unwrap();
    assert!(send["msg"].is_object() && send["to"].is_string());

    let summary = fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(summary.starts_with("# raft-partition-heal — PASS"));
    for needle in [
        "| seed | 1 |",
        "## Fault schedule",
        "heal partition",
        "## Story",
        "steps down",
        "`sim run scenarios/raft/partition-heal.toml --seed 1`",
    ] {
        assert!(
            summary.contains(needle),
            "summary.md lacks {needle:?}:\n{summary}"
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn out_never_overwrites_without_force() {
    let dir = scratch("overwrite");
    let d = dir.to_str().unwrap();
    fs::write(dir.join("summary.md"), "my notes").unwrap();
    let out = sim(&["run", "scenarios/raft/basic-election.toml", "--out", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("already exists; pass --force"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        fs::read_to_string(dir.join("summary.md")).unwrap(),
        "my notes"
    );
    assert!(
        !dir.join("trace.jsonl").exists(),
        "nothing written when refusing"
    );
    let out = sim(&[
        "run",
        "scenarios/raft/basic-election.toml",
        "--out",
        d,
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        fs::read_to_string(dir.join("summary.md"))
            .unwrap()
            .contains("PASS")
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// Each bad input: exit 2, `file:line:col: message`, and no panic.
#[test]
fn bad_scenarios_exit_2_with_file_line_and_column() {
    let cases = [
        (
            "unknown-key",
            "[cluster]\n",
            "[cluster]\nno_such_key = 1\n",
            "11:1",
            "unknown key `no_such_key` in [cluster]",
        ),
        (
            "wrong-type",
            "seed = 1",
            "seed = \"one\"",
            "7:8",
            "expected",
        ),
        (
            "bad-duration",
            "duration = \"10s\"",
            "duration = \"10 parsecs\"",
            "8:12",
            "unknown unit `parsecs`",
        ),
        (
            "unknown-node",
            "\"random-follower\"",
            "\"Z\"",
            "23:25",
            "unknown node `Z`; the nodes are A, B, C, D, E",
        ),
        (
            "probability",
            "latency = ",
            "loss = 1.5\nlatency = ",
            "19:8",
            "1.5 is not a probability",
        ),
        (
            "empty-cluster",
            "nodes = [\"A\", \"B\", \"C\", \"D\", \"E\"]",
            "nodes = []",
            "11:9",
            "needs at least one node",
        ),
        (
            "protocol-key",
            "heartbeat_interval",
            "heartbeat_period = \"1s\"\nheartbeat_interval",
            "16:1",
            "unknown key `heartbeat_period` in [protocol]; expected one of",
        ),
        (
            "protocol-range",
            "[\"150ms\", \"300ms\"]",
            "[\"300ms\", \"150ms\"]",
            "15:1",
            "the minimum (300ms) exceeds the maximum (150ms)",
        ),
        ("toml-syntax", "[cluster]", "[cluster", "10:", ""),
    ];
    for (name, from, to, position, message) in cases {
        let path = edited(name, from, to);
        let out = sim(&["run", path.to_str().unwrap()]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        let expected = format!("{}:{position}", path.display());
        assert!(
            err.starts_with(&expected),
            "{name}: expected {expected:?} in {err:?}"
        );
        assert!(
            err.contains(message),
            "{name}: expected {message:?} in {err:?}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(
            stdout(&out).is_empty(),
            "{name}: no report for a bad scenario"
        );
    }
}

#[test]
fn a_missing_file_and_bad_usage_exit_2() {
    let out = sim(&["run", "no/such/scenario.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("no/such/scenario.toml: cannot read"),
        "{}",
        stderr(&out)
    );
    assert_eq!(sim(&["run"]).status.code(), Some(2));
    assert_eq!(sim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(sim(&["list", "everything"]).status.code(), Some(2));
    assert_eq!(
        sim(&["run", "scenarios/raft/basic-election.toml", "--seed", "-1"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn list_shows_every_protocol_invariant_and_fault() {
    let protocols = stdout(&sim(&["list", "protocols"]));
    for name in ["raft", "heartbeat", "naive-failover"] {
        assert!(
            protocols.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{protocols}"
        );
    }
    let invariants = stdout(&sim(&["list", "invariants"]));
    for name in [
        "election_safety  (safety)",
        "no_split_brain  (safety)",
        "leader_within  (liveness)",
        "strong_accuracy  (safety)",
        // A family's shared invariant once, with every protocol that lists it; one that a
        // protocol defines its own way, once per way.
        "atomicity  (safety, two-phase-commit and tcc only)",
        "conservation  (safety, two-phase-commit only)",
        "conservation  (safety, tcc only)",
    ] {
        assert!(invariants.contains(name), "{name} missing:\n{invariants}");
    }
    assert_eq!(
        invariants.matches("\natomicity ").count(),
        1,
        "{invariants}"
    );
    assert!(
        invariants.contains("its own clock"),
        "definitions are printed"
    );
    let faults = stdout(&sim(&["list", "faults"]));
    for name in [
        "partition",
        "cut",
        "heal",
        "crash",
        "restart",
        "pause",
        "resume",
        "clock_jump",
        "clock_drift",
        "nemesis",
        "targets",
    ] {
        assert!(
            faults.lines().any(|l| l.trim_end() == name),
            "{name} missing:\n{faults}"
        );
    }
}

#[test]
fn the_committed_schema_is_the_one_sim_prints() {
    let out = sim(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let printed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let committed: Value = serde_json::from_str(
        &fs::read_to_string(common::root().join("reports/scenario.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        printed, committed,
        "regenerate with: sim schema > reports/scenario.schema.json"
    );
    assert_eq!(printed["title"], "sim scenario");
}

/// `sim … | head -1`: a reader that goes away is not a reason to panic, and the exit code
/// still tells the verdict.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::{Command, Stdio};
    for (args, code) in [
        (vec!["list", "invariants"], 0),
        (vec!["schema"], 0),
        (vec!["run", "scenarios/failover/naive-split-brain.toml"], 1),
        (
            vec!["run", "scenarios/raft/basic-election.toml", "--json"],
            0,
        ),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
            .args(&args)
            .current_dir(common::root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader leaves before sim has written anything
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "sim {args:?}: {err}");
        assert_eq!(out.status.code(), Some(code), "sim {args:?}: {err}");
    }
}

/// Four nodes heartbeat each other; A's messages to B are cut at 1s, and at 1.15s an unrelated
/// cut stops D's messages to C. B suspects A at 1.3s.
const TWO_CUTS: &str = r#"name = "two-cuts"
seed = 1
duration = "3s"
[cluster]
nodes = ["A", "B", "C", "D"]
protocol = "heartbeat"
[protocol]
interval = "100ms"
timeout = "300ms"
[network]
latency = { dist = "uniform", min = "1ms", max = "3ms" }
[[faults]]
at = "1s"
cut = { from = "A", to = ["B"] }
[[faults]]
at = "1.15s"
cut = { from = "D", to = ["C"] }
[check]
invariants = ["strong_accuracy"]
"#;

#[test]
fn a_violations_evidence_blames_the_fault_that_caused_it_not_the_latest() {
    let path = scratch("two-cuts").join("two-cuts.toml");
    fs::write(&path, TWO_CUTS).unwrap();
    let r = run(path.to_str().unwrap(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = &r.invariant("strong_accuracy")["violation"];
    assert_eq!(
        v["message"],
        "B suspected A, but A had not crashed (it was up)"
    );
    let evidence: Vec<&str> = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        evidence,
        [
            "1.000s  one-way cut A -> B (in force)",
            "1.300s  B suspects A, which is up"
        ],
        "the D -> C cut came later but kept nothing from B"
    );
}
