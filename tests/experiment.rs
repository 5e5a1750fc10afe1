//! `sim experiment`: bad files are refused at a line and column with exit 2; a small run writes
//! one CSV row per trial, a table and a plot per series, whatever the number of threads; and
//! the measurement tells the story of Figure 16 — no randomness, no leader; some, a short
//! downtime that is never below what the crash left of the election timeout.

use std::path::{Path, PathBuf};
use std::process::Command;

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sim"))
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sim-experiment-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const BASE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/experiments/raft-election-downtime.scenario.toml"
);

fn write_experiment(d: &Path, body: &str) -> PathBuf {
    std::fs::copy(BASE, d.join("base.toml")).unwrap();
    let path = d.join("e.toml");
    std::fs::write(&path, body).unwrap();
    path
}

const SMALL: &str = "name = \"small\"
scenario = \"base.toml\"
trials = 12
[[vary]]
key = \"protocol.election_timeout\"
values = [[\"150ms\", \"150ms\"], [\"150ms\", \"300ms\"]]
labels = [\"150-150ms\", \"150-300ms\"]
also = { \"protocol.heartbeat_interval\" = [\"75ms\", \"75ms\"] }
[measure]
metric = \"election_downtime\"
crash_at = \"2s\"
crash_window = \"protocol.heartbeat_interval\"
";

fn run(d: &Path, jobs: &str) -> (String, String) {
    let exp = write_experiment(d, SMALL);
    let out = d.join(format!("out-{jobs}"));
    let o = sim()
        .args(["experiment", exp.to_str().unwrap(), "--jobs", jobs, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(out.join("table.md").exists());
    let svg = std::fs::read_to_string(out.join("small-1.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    (csv, String::from_utf8(o.stdout).unwrap())
}

#[test]
fn a_small_experiment_measures_every_trial_the_same_for_any_number_of_threads() {
    let d = dir("small");
    let (csv, table) = run(&d, "1");
    let (again, _) = run(&d, "2");
    assert_eq!(csv, again, "results do not depend on --jobs");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 24, "one row per trial: {csv}");
    assert_eq!(
        csv.lines().next(),
        Some("series,line,settings,seed,crash_at_ms,election_downtime_ms,outcome")
    );
    // Without randomness the five servers split their votes forever: there is never a leader
    // to crash. With 150-300 ms, a new leader is heard in every trial, never sooner than the
    // election timeout minus the heartbeat interval (a follower heard the leader at most one
    // interval before the crash), and within a second.
    for row in &rows {
        let (label, value, outcome) = (row[1], row[row.len() - 2], row[row.len() - 1]);
        match label {
            "150-150ms" => assert_eq!(outcome, "no leader to crash", "{row:?}"),
            "150-300ms" => {
                assert_eq!(outcome, "measured", "{row:?}");
                let ms: f64 = value.parse().unwrap();
                assert!((75.0..1000.0).contains(&ms), "{row:?}");
            }
            other => panic!("unexpected line {other}"),
        }
    }
    // Seeds 1..=12 in both lines: the lines are compared on the same seeds.
    assert!(rows.iter().filter(|r| r[3] == "12").count() == 2);
    assert!(
        table.contains("| 150-150ms | 12 | 0 | none | none | none | none |"),
        "{table}"
    );
}

#[test]
fn bad_experiment_files_are_refused_at_their_line_and_column() {
    let d = dir("bad");
    let cases: [(String, &str); 4] = [
        (
            SMALL.replace("election_downtime", "speed"),
            ":10:10: unknown metric `speed`",
        ),
        (
            SMALL.replace(
                "labels = [\"150-150ms\", \"150-300ms\"]",
                "labels = [\"one\"]",
            ),
            ":7:10: labels has 1 entries; expected 2",
        ),
        (
            SMALL.replace("[\"150ms\", \"300ms\"]]", "[\"300ms\", \"150ms\"]]"),
            ":6:31: with protocol.election_timeout = [\"300ms\", \"150ms\"]",
        ),
        (
            SMALL.replace("trials = 12", "trails = 12"),
            ":3:1: unknown field `trails`",
        ),
    ];
    for (text, needle) in cases {
        let exp = write_experiment(&d, &text);
        let o = sim()
            .args(["experiment", exp.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
