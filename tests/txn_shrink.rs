//! `sim shrink` on each broken design of the txn family: a failing seed ends with at most two
//! faults and two transfers, still failing the invariant the lesson is about, in a file that
//! fails on its own and replays to the same trace.

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::{run, sim};
use serde_json::Value;

/// A fresh directory for this test binary's files.
fn scratch() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("txn-shrink");
    fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

struct Shrunk {
    json: Value,
    file: String,
    text: String,
}

/// `sim shrink LESSON --seed SEED --json`, written under the scratch directory.
fn shrink(lesson: &str, seed: u64) -> Shrunk {
    let out = scratch().join(format!("{lesson}-{seed}.toml"));
    let file = out.to_string_lossy().into_owned();
    let path = format!("scenarios/txn/{lesson}.toml");
    let seed = seed.to_string();
    let o = sim(&[
        "shrink", &path, "--seed", &seed, "--out", &file, "--force", "--json",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{lesson}: {stderr}");
    let json: Value = serde_json::from_slice(&o.stdout).expect("shrink's JSON");
    let text = fs::read_to_string(&out).expect("the shrunk file");
    Shrunk { json, file, text }
}

fn count(json: &Value, which: &str, what: &str) -> u64 {
    json[which][what].as_u64().expect("a count")
}

/// The shrunk run's story holds at most two faults and two transfers, fails `invariant` on
/// its own, and replays to the same trace hash.
fn small_and_failing(lesson: &str, seed: u64, invariant: &str) -> Shrunk {
    let s = shrink(lesson, seed);
    assert_eq!(
        s.json["invariant"].as_str().map(|i| i.split(' ').next()),
        Some(Some(invariant)),
        "{lesson}: {}",
        s.json
    );
    let faults = count(&s.json, "shrunk", "faults");
    let transfers = s.text.matches("op = \"transfer\"").count();
    assert!(
        faults <= 2,
        "{lesson} seed {seed}: {faults} faults\n{}",
        s.text
    );
    assert!(
        (1..=2).contains(&transfers),
        "{lesson} seed {seed}: {transfers} transfers\n{}",
        s.text
    );
    assert!(
        count(&s.json, "original", "operations") > 40,
        "{lesson}: {}",
        s.json
    );
    assert!(!s.json["hit_limit"].as_bool().unwrap_or(true), "{}", s.json);
    // On its own: the written file fails the same invariant, as its [expect] says.
    let r = run(&s.file, &[]);
    assert_ne!(r.code, 0, "{lesson}: {}", r.stderr);
    let status = r.invariant(invariant)["status"].as_str().unwrap_or("");
    assert_eq!(status, "violation", "{lesson}: {}", r.stderr);
    assert!(r.expectation_met(), "{lesson}: {}", r.stderr);
    // And it replays: the same file and seed give the same trace.
    let again = run(&s.file, &[]);
    assert_eq!(r.json["trace_hash"], again.json["trace_hash"]);
    let check = sim(&["run", &s.file, "--check-determinism"]);
    let told = String::from_utf8_lossy(&check.stdout);
    assert!(told.contains("identical records"), "{lesson}: {told}");
    s
}

#[test]
fn no_decision_log_shrinks_to_the_cut_and_a_crash_that_restarts() {
    let s = small_and_failing("2pc-no-decision-log", 2, "atomicity");
    // The crash and the restart that ends it are one fault: a crash with a `for`.
    assert_eq!(count(&s.json, "original", "faults"), 3);
    assert_eq!(count(&s.json, "shrunk", "faults"), 2);
    assert!(s.text.contains("crash = \"TC\""), "{}", s.text);
    assert!(!s.text.contains("restart ="), "{}", s.text);
    assert!(s.text.contains("cut = "), "{}", s.text);
}

#[test]
fn a_backup_coordinator_split_shrinks_to_one_partition_and_one_transfer() {
    let s = small_and_failing("2pc-backup-coordinator-split", 7, "atomicity");
    assert!(s.text.contains("partition = "), "{}", s.text);
    assert_eq!(s.text.matches("op = \"transfer\"").count(), 1, "{}", s.text);
}

#[test]
fn a_coordinator_crash_that_blocks_shrinks_to_the_crash_and_one_transfer() {
    let s = small_and_failing("2pc-coordinator-crash-blocks", 1, "resolved_within");
    assert_eq!(count(&s.json, "shrunk", "faults"), 1);
    assert!(s.text.contains("crash = \"TC\""), "{}", s.text);
}

#[test]
fn each_broken_tcc_rule_shrinks_to_at_most_two_transfers() {
    small_and_failing("tcc-non-idempotent", 1, "no_double_apply");
    let s = small_and_failing("tcc-empty-rollback", 1, "settled_within");
    assert!(s.text.contains("partition = "), "{}", s.text);
    // Seed 1 of the suspension lesson ends with 6 transfers (see the module `wider` of the
    // shrinker: the initiator sends every message from one stream, so fillers keep its draws
    // in place); seed 3 fails the same way and shrinks to two.
    small_and_failing("tcc-suspension", 3, "resolved_within");
}
