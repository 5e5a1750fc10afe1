//! `sim shrink`: a failing seed cut down to a scenario that fails on its own.

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::{root, run, sim};
use serde_json::Value;

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-shrink-{}-{test}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

struct Shrink {
    code: i32,
    json: Value,
    stderr: String,
}

fn shrink(args: &[&str]) -> Shrink {
    let mut all = vec!["shrink"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = sim(&all);
    let stdout = String::from_utf8_lossy(&out.stdout);
    Shrink {
        code: out.status.code().expect("an exit code"),
        json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn size(json: &Value, which: &str, what: &str) -> u64 {
    json[which][what]
        .as_u64()
        .unwrap_or_else(|| panic!("no {which}.{what} in {json}"))
}

#[test]
fn a_nemesis_split_brain_shrinks_to_one_or_two_faults_that_fail_on_their_own() {
    let dir = scratch("nemesis");
    for seed in ["1", "2", "3", "6"] {
        let out = dir.join(format!("seed{seed}.toml"));
        let out_s = out.to_str().unwrap();
        let s = shrink(&[
            "scenarios/failover/naive-split-brain-nemesis.toml",
            "--seed",
            seed,
            "--out",
            out_s,
        ]);
        assert_eq!(s.code, 0, "seed {seed}: {}", s.stderr);
        assert_eq!(s.json["invariant"], "no_split_brain");
        assert!(size(&s.json, "original", "faults") > 5, "{}", s.json);
        let faults = size(&s.json, "shrunk", "faults");
        assert!((1..=2).contains(&faults), "seed {seed}: {}", s.json);
        assert!(size(&s.json, "shrunk", "duration_ns") < size(&s.json, "original", "duration_ns"));
        assert_eq!(s.json["standalone"]["fails"], true);
        assert!(s.stderr.contains("faults"), "{}", s.stderr);

        let text = fs::read_to_string(&out).expect("the shrunk file");
        assert_eq!(text.matches("[[faults]]").count() as u64, faults, "{text}");
        assert!(!text.contains("[nemesis]"), "{text}");
        assert!(text.contains(&format!("seed = {seed}\n")), "{text}");
        assert!(
            text.contains(
                "Shrunk by `sim shrink` from scenarios/failover/naive-split-brain-nemesis.toml seed"
            ),
            "{text}"
        );
        // `sim run` on it alone, with the seed written in it: split brain, as expected.
        let r = run(out_s, &[]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(r.status("no_split_brain"), "violation");
        assert!(r.expectation_met(), "{}", r.json["expect"]);
    }
}

#[test]
fn a_raft_kv_failure_keeps_fewer_clients_and_operations_and_fails_on_its_own() {
    let dir = scratch("kv");
    let out = dir.join("follower-read.toml");
    let out_s = out.to_str().unwrap();
    let s = shrink(&[
        "scenarios/raft/kv-follower-read.toml",
        "--seed",
        "2",
        "--out",
        out_s,
    ]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert_eq!(s.json["invariant"], "linearizable");
    assert!(size(&s.json, "shrunk", "operations") < size(&s.json, "original", "operations"));
    assert!(size(&s.json, "shrunk", "clients") < size(&s.json, "original", "clients"));
    // A stale read needs a write and a read at least.
    assert!(size(&s.json, "shrunk", "operations") >= 2, "{}", s.json);
    let text = fs::read_to_string(&out).expect("the shrunk file");
    assert!(text.contains("script = ["), "{text}");
    assert!(!text.contains("rate ="), "{text}");
    let r = run(out_s, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.status("linearizable"), "violation");
    assert!(r.expectation_met());
}

#[test]
fn a_lease_read_under_clock_skew_keeps_its_two_faults() {
    // Both the slow clock and the partition are needed: the shrinker must not lose either.
    let dir = scratch("skew");
    let out = dir.join("skew.toml");
    let out_s = out.to_str().unwrap();
    let s = shrink(&["scenarios/raft/kv-lease-read-skew.toml", "--out", out_s]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert_eq!(size(&s.json, "shrunk", "faults"), 2, "{}", s.json);
    let text = fs::read_to_string(&out).expect("the shrunk file");
    // `leader` resolved to the node it hit.
    assert!(!text.contains("\"leader\""), "{text}");
    assert!(text.contains("clock_drift = "), "{text}");
    let r = run(out_s, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn the_default_output_sits_beside_the_input_and_is_never_overwritten_without_force() {
    let dir = scratch("default-out");
    let input = dir.join("split.toml");
    fs::copy(
        root().join("scenarios/failover/naive-split-brain-nemesis.toml"),
        &input,
    )
    .expect("copied");
    let input_s = input.to_str().unwrap();
    let first = shrink(&[input_s]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let out = dir.join("split.shrunk.toml");
    assert_eq!(first.json["out"], out.to_str().unwrap());
    let written = fs::read_to_string(&out).expect("written beside the input");

    let again = shrink(&[input_s]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("already exists; pass --force"),
        "{}",
        again.stderr
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), written);
    let forced = shrink(&[input_s, "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    // Same seed, same result: shrinking is deterministic.
    assert_eq!(fs::read_to_string(&out).unwrap(), written);
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    let dir = scratch("bad");
    let out = dir.join("x.toml");
    let out_s = out.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["no/such/file.toml"],
            "no/such/file.toml: cannot read the scenario",
        ),
        (
            &["scenarios/raft/basic-election.toml", "--out", out_s],
            "nothing to shrink",
        ),
        (
            &[
                "scenarios/failover/naive-split-brain.toml",
                "--invariant",
                "linearizable",
                "--out",
                out_s,
            ],
            "does not check `linearizable`; it checks election_safety, no_split_brain",
        ),
        (
            &[
                "scenarios/failover/naive-split-brain.toml",
                "--invariant",
                "election_safety",
                "--out",
                out_s,
            ],
            "election_safety does not fail (pass): nothing to shrink",
        ),
    ];
    for (args, needle) in cases {
        let s = shrink(args);
        assert_eq!(s.code, 2, "{args:?}: {}", s.stderr);
        assert!(s.stderr.contains(needle), "{args:?}: {}", s.stderr);
        assert!(!s.stderr.contains("panicked"), "{}", s.stderr);
    }
    assert!(
        !out.exists(),
        "nothing is written when there is nothing to shrink"
    );
}

#[test]
fn the_run_cap_is_reported() {
    let dir = scratch("cap");
    let out = dir.join("capped.toml");
    let s = shrink(&[
        "scenarios/raft/kv-follower-read.toml",
        "--seed",
        "2",
        "--max-runs",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert_eq!(s.json["hit_limit"], true);
    assert!(s.json["runs"].as_u64().unwrap() <= 6, "{}", s.json);
    assert!(
        s.stderr.contains("--max-runs 5: stopped early"),
        "{}",
        s.stderr
    );
    assert_eq!(s.json["standalone"]["fails"], true);
}

#[test]
fn a_swarm_failure_is_written_in_the_world_its_seed_drew() {
    let dir = scratch("swarm");
    let out = dir.join("swarm.toml");
    let out_s = out.to_str().unwrap();
    let s = shrink(&[
        "scenarios/failover/naive-swarm.toml",
        "--seed",
        "2",
        "--out",
        out_s,
    ]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let text = fs::read_to_string(&out).expect("written");
    // The knobs seed 2 drew (as `sim run` prints them), not the ranges, and no swarm left.
    assert!(text.contains("loss = 0.0973"), "{text}");
    assert!(text.contains("drift_ppm = -454"), "{text}");
    assert!(!text.contains("mode = \"swarm\""), "{text}");
    assert!(!text.contains("[0.0, 0.3]"), "{text}");
    let alone = run(out_s, &[]);
    assert_eq!(alone.code, 1, "{}", alone.stderr);
    assert_eq!(alone.json["swarm"], Value::Null, "a fixed world");
    assert_eq!(alone.json["expect"]["met"], true, "{}", alone.json);
}
