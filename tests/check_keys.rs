//! `[check]` keys through the `sim` binary: a bound enables the invariant that takes it, and
//! every wrong key exits 2 at its `file:line:col`, saying which keys `[check]` takes.

use crate::common;

use std::fs;
use std::path::PathBuf;

use common::sim;

/// `scenarios/raft/basic-election.toml` with its `[check]` table (lines 20-22) replaced by
/// `check`, written under the test's scratch directory.
fn with_check(name: &str, check: &str) -> PathBuf {
    let text =
        fs::read_to_string(common::root().join("scenarios/raft/basic-election.toml")).unwrap();
    let table =
        "[check]\ninvariants = [\"election_safety\", \"no_split_brain\"]\nleader_within = \"1s\"\n";
    assert!(text.contains(table), "the lesson's [check] table moved");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("check_keys")
        .join(name);
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.toml");
    fs::write(&path, text.replacen(table, check, 1)).unwrap();
    path
}

#[test]
fn a_bound_in_check_enables_its_invariant_with_that_bound() {
    let path = with_check(
        "bound",
        "[check]\nleader_within = \"750ms\"\ninvariants = [\"no_split_brain\"]\n",
    );
    let out = sim(&["run", path.to_str().unwrap(), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = report["invariants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["no_split_brain", "leader_within 750ms"],
        "the invariants listed, then the one its bound enabled"
    );
    assert_eq!(report["exit_code"], 0, "the JSON still prints the number");
}

#[test]
fn wrong_check_keys_exit_2_at_the_key_with_the_keys_expected() {
    let cases = [
        (
            "unknown",
            "[check]\nleader_within = \"1s\"\nsettle_within = \"1s\"\n",
            "22:1",
            "unknown key `settle_within` in [check]; expected one of `invariants`, `leader_within`, `median_read_within`, `answered_within`",
        ),
        (
            "no-bound",
            "[check]\nno_split_brain = \"1s\"\n",
            "21:1",
            "no_split_brain takes no bound: list it in invariants instead; expected one of `invariants`, `leader_within`, `median_read_within`, `answered_within`",
        ),
        (
            "listed",
            "[check]\ninvariants = [\"leader_within\"]\n",
            "21:15",
            "leader_within takes a bound: write leader_within = \"2s\" in [check] instead of listing it",
        ),
        (
            "zero",
            "[check]\nleader_within = \"0s\"\n",
            "21:17",
            "leader_within must be more than zero, e.g. \"2s\"",
        ),
    ];
    for (name, check, position, message) in cases {
        let path = with_check(name, check);
        let out = sim(&["run", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(
            err.lines().next().unwrap_or_default(),
            format!("{}:{position}: {message}", path.display()),
            "{name}"
        );
        assert!(
            out.stdout.is_empty(),
            "{name}: no report for a bad scenario"
        );
    }
}
