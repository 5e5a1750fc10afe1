//! `sim experiment`: bad files are refused at a line and column with exit 2; a small run writes
//! one CSV row per trial, a table and a plot per series, whatever the number of threads; and
//! the measurement tells the story of Figure 16 — no randomness, no leader; some, a short
//! downtime that is never below what the crash left of the election timeout. Each metric
//! measures plausible values on the scenario it is meant for (a commit takes at least its
//! round trips; stale reads only where reads skip the leader; time in doubt only when the
//! coordinator blocks) and is refused, exit 2, where it does not apply; a grid runs the cross
//! product of its tables; the nemesis crashes the node that leads, as an ordinary run of the
//! same seed shows.

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
    write_experiment_on(d, BASE, body)
}

/// Writes the experiment `body` into `d` as e.toml, with the scenario `base` as base.toml.
fn write_experiment_on(d: &Path, base: &str, body: &str) -> PathBuf {
    std::fs::copy(base, d.join("base.toml")).unwrap();
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
[nemesis]
crash = \"leader\"
after = \"2s\"
within = \"protocol.heartbeat_interval\"
";

fn run(d: &Path, jobs: &str) -> (String, String) {
    let exp = write_experiment(d, SMALL);
    let out = d.join(format!("out-{jobs}"));
    let (csv, table) = experiment_csv(&exp, &out, jobs);
    assert!(out.join("table.md").exists());
    let svg = std::fs::read_to_string(out.join("small-1.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    (csv, table)
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
        Some(
            "series,line,protocol.election_timeout,protocol.heartbeat_interval,seed,crash_at_ms,crashed,election_downtime_ms,samples,outcome"
        )
    );
    // Without randomness the five servers split their votes forever: there is never a leader
    // to crash. With 150-300 ms, a new leader is heard in every trial, never sooner than the
    // election timeout minus the heartbeat interval (a follower heard the leader at most one
    // interval before the crash), and within a second.
    for row in &rows {
        let (label, value, outcome) = (row[1], row[row.len() - 3], row[row.len() - 1]);
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
    assert!(rows.iter().filter(|r| r[4] == "12").count() == 2);
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

fn manifest(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs an experiment file; its CSV rows as maps from column to value.
/// Runs the experiment into `out` on `jobs` threads; it must succeed. Its results.csv, and the
/// table it printed.
fn experiment_csv(exp: &Path, out: &Path, jobs: &str) -> (String, String) {
    let o = sim()
        .args(["experiment", exp.to_str().unwrap(), "--jobs", jobs, "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    (csv, String::from_utf8(o.stdout).unwrap())
}

fn rows_of(exp: &Path, out: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let (csv, _) = experiment_csv(exp, out, "2");
    let mut lines = csv.lines();
    let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            let cells = cells(l);
            assert_eq!(cells.len(), head.len(), "{l}");
            head.iter().cloned().zip(cells).collect()
        })
        .collect()
}

/// A CSV line's cells; a quoted cell may hold commas and doubled quotes.
fn cells(line: &str) -> Vec<String> {
    let (mut out, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    out.push(cell);
    out
}

fn num(row: &std::collections::BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} in {row:?}"))
}

#[test]
fn commit_latency_is_at_least_the_round_trips_a_commit_needs() {
    let d = dir("latency");
    let exp = write_experiment_on(
        &d,
        &manifest("experiments/raft-commit-latency.scenario.toml"),
        "name = \"lat\"\nscenario = \"base.toml\"\ntrials = 4\n\
         [[vary]]\nkey = \"network.latency\"\nvalues = [\"1ms\", \"5ms\"]\n\
         [measure]\nmetric = \"commit_latency\"\n",
    );
    let rows = rows_of(&exp, &d.join("out"));
    assert_eq!(rows.len(), 8);
    let mut medians = std::collections::BTreeMap::<String, Vec<f64>>::new();
    for row in &rows {
        assert_eq!(row["outcome"], "measured", "{row:?}");
        assert!(
            num(row, "samples") > 100.0,
            "3 clients at 50/s for 5s: {row:?}"
        );
        let hop: f64 = row["network.latency"]
            .trim_end_matches("ms")
            .parse()
            .unwrap();
        let ms = num(row, "commit_latency_ms");
        // Client to leader, leader to a follower and back, leader to client: four hops at
        // the least, never fewer than a network round trip; and well inside the timeout.
        assert!(ms >= 4.0 * hop, "{row:?}");
        assert!(ms < 500.0, "{row:?}");
        medians.entry(row["line"].clone()).or_default().push(ms);
    }
    assert!(
        medians["1ms"]
            .iter()
            .all(|&a| medians["5ms"].iter().all(|&b| a < b))
    );
}

#[test]
fn stale_reads_happen_only_where_reads_skip_the_leader() {
    let d = dir("stale");
    let exp = write_experiment_on(
        &d,
        &manifest("scenarios/raft/kv-follower-read.toml"),
        "name = \"stale\"\nscenario = \"base.toml\"\ntrials = 8\n\
         [[vary]]\nkey = \"protocol.read\"\nvalues = [\"log\", \"follower\"]\n\
         [measure]\nmetric = \"stale_read_rate\"\n",
    );
    let rows = rows_of(&exp, &d.join("out"));
    assert_eq!(rows.len(), 16);
    let mut stale_somewhere = false;
    for row in &rows {
        assert_eq!(row["outcome"], "measured", "{row:?}");
        assert!(
            num(row, "samples") > 50.0,
            "reads are 80% of the mix: {row:?}"
        );
        let rate = num(row, "stale_read_rate_share");
        assert!((0.0..=1.0).contains(&rate), "{row:?}");
        match row["line"].as_str() {
            // Through the log a read is linearizable: never stale.
            "log" => assert_eq!(rate, 0.0, "{row:?}"),
            // A follower cut off with the old leader answers from its own, older state.
            "follower" => stale_somewhere |= rate > 0.0,
            other => panic!("unexpected line {other}"),
        }
    }
    assert!(stale_somewhere, "follower reads are stale in some seed");
}

#[test]
fn time_in_doubt_is_positive_only_when_the_coordinator_blocks() {
    let body = "name = \"doubt\"\nscenario = \"base.toml\"\ntrials = 12\n\
         [[vary]]\nkey = \"protocol.cooperative_termination\"\nvalues = [false]\n\
         [measure]\nmetric = \"in_doubt_time\"\n";
    let d = dir("doubt-blocks");
    let exp = write_experiment_on(
        &d,
        &manifest("scenarios/txn/2pc-coordinator-crash-blocks.toml"),
        body,
    );
    let blocks = rows_of(&exp, &d.join("out"));
    // TC crashes at 2 s and never comes back; the run ends at 6 s. A seed whose crash falls
    // while a transfer is prepared leaves it in doubt to the end: 4 s.
    let longest = blocks
        .iter()
        .map(|r| num(r, "in_doubt_time_ms"))
        .fold(0.0, f64::max);
    assert_eq!(longest, 4000.0, "{blocks:?}");
    for row in &blocks {
        let ms = num(row, "in_doubt_time_ms");
        assert!((0.0..=4000.0).contains(&ms), "{row:?}");
        assert_eq!(ms > 0.0, num(row, "samples") > 0.0, "{row:?}");
    }
    let d = dir("doubt-happy");
    let exp = write_experiment_on(&d, &manifest("scenarios/txn/2pc-happy.toml"), body);
    for row in rows_of(&exp, &d.join("out")) {
        assert_eq!(
            num(&row, "in_doubt_time_ms"),
            0.0,
            "no crash, no doubt: {row:?}"
        );
        assert_eq!(row["samples"], "0", "{row:?}");
    }
}

#[test]
fn a_metric_that_does_not_apply_to_the_protocol_is_refused_with_exit_2() {
    let d = dir("applies");
    let cases = [
        (
            "scenarios/txn/2pc-happy.toml",
            "stale_read_rate",
            "stale_read_rate judges reads of written values; `two-phase-commit`'s clients run `bank`",
        ),
        (
            "scenarios/raft/kv-follower-read.toml",
            "in_doubt_time",
            "in_doubt_time is defined for two-phase-commit, tcc; the scenario runs `raft`",
        ),
        (
            "scenarios/raft/kv-follower-read.toml",
            "election_downtime",
            "add [nemesis] crash = \"leader\"",
        ),
        (
            "scenarios/raft/basic-election.toml",
            "commit_latency",
            "commit_latency reads the clients' history; the scenario has no [workload]",
        ),
    ];
    for (base, metric, needle) in cases {
        let exp = write_experiment_on(
            &d,
            &manifest(base),
            &format!(
                "name = \"x\"\nscenario = \"base.toml\"\ntrials = 1\n\
                 [[vary]]\nkey = \"seed\"\nvalues = [1]\n[measure]\nmetric = \"{metric}\"\n"
            ),
        );
        let o = sim()
            .args(["experiment", exp.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(":8:10: "), "at the metric: {err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
}

#[test]
fn a_grid_runs_every_combination_of_its_tables_and_separate_tables_stay_series() {
    let d = dir("grid");
    let body = |grid: bool| {
        format!(
            "name = \"g\"\nscenario = \"base.toml\"\ntrials = 2\ngrid = {grid}\n\
             [[vary]]\nkey = \"storage.sync\"\nvalues = [\"0ms\", \"5ms\"]\n\
             [[vary]]\nkey = \"network.latency\"\nvalues = [\"1ms\", \"2ms\", \"3ms\"]\n\
             labels = [\"one\", \"two\", \"three\"]\n\
             [measure]\nmetric = \"commit_latency\"\n"
        )
    };
    let base = manifest("experiments/raft-commit-latency.scenario.toml");
    let exp = write_experiment_on(&d, &base, &body(true));
    let rows = rows_of(&exp, &d.join("grid"));
    // 2 × 3 combinations, 2 trials each, one column per varied key, one series.
    assert_eq!(rows.len(), 12);
    let mut seen = std::collections::BTreeSet::new();
    for row in &rows {
        assert_eq!(row["series"], "0");
        let label = format!("{}, {}", row["storage.sync"], {
            match row["network.latency"].as_str() {
                "1ms" => "one",
                "2ms" => "two",
                _ => "three",
            }
        });
        assert_eq!(row["line"], label, "the label joins the tables' labels");
        seen.insert((
            row["storage.sync"].clone(),
            row["network.latency"].clone(),
            row["seed"].clone(),
        ));
    }
    assert_eq!(
        seen.len(),
        12,
        "every combination on every seed, once: {seen:?}"
    );
    // The first table changes slowest.
    let order: Vec<&str> = rows.iter().map(|r| r["line"].as_str()).collect();
    assert_eq!(order[..4], ["0ms, one", "0ms, one", "0ms, two", "0ms, two"]);
    assert!(d.join("grid/g-1.svg").exists() && !d.join("grid/g-2.svg").exists());
    // Without `grid`, each table is a series of its own that leaves the other key as the base
    // has it (an empty cell).
    let exp = write_experiment_on(&d, &base, &body(false));
    let rows = rows_of(&exp, &d.join("series"));
    assert_eq!(rows.len(), (2 + 3) * 2);
    assert_eq!(rows.iter().filter(|r| r["series"] == "1").count(), 6);
    assert!(
        rows.iter()
            .all(|r| (r["series"] == "0") == r["network.latency"].is_empty())
    );
    // A key on two axes of a grid is refused.
    let twice = body(true).replace("key = \"network.latency\"", "key = \"storage.sync\"");
    let exp = write_experiment_on(&d, &base, &twice);
    let o = sim()
        .args(["experiment", exp.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(":9:7: `storage.sync` is set by two [[vary]] tables"),
        "{err}"
    );
}

#[test]
fn the_nemesis_crashes_the_node_that_leads_at_a_random_instant_of_a_heartbeat_interval() {
    let d = dir("nemesis");
    // A shorter run of Figure 16's base, so that `sim run` can replay each seed whole.
    let base = std::fs::read_to_string(BASE)
        .unwrap()
        .replace("duration = \"60s\"", "duration = \"3s\"");
    let short = d.join("short.toml");
    std::fs::write(&short, &base).unwrap();
    let exp = write_experiment_on(
        &d,
        short.to_str().unwrap(),
        "name = \"n\"\nscenario = \"base.toml\"\ntrials = 6\n\
         [[vary]]\nkey = \"protocol.heartbeat_interval\"\nvalues = [\"75ms\"]\n\
         [measure]\nmetric = \"election_downtime\"\n\
         [nemesis]\ncrash = \"leader\"\nafter = \"1s\"\nstable_for = \"100ms\"\nwithin = \"protocol.heartbeat_interval\"\n",
    );
    let rows = rows_of(&exp, &d.join("out"));
    let mut instants = std::collections::BTreeSet::new();
    for row in &rows {
        assert_eq!(row["outcome"], "measured", "{row:?}");
        let crash_ms = num(row, "crash_at_ms");
        // No sooner than `after`, and within a heartbeat interval of the first look (every
        // 10 ms) that finds a leader of 100 ms standing.
        assert!((1000.0..1200.0).contains(&crash_ms), "{row:?}");
        instants.insert(row["crash_at_ms"].clone());
        // The same seed, run whole without the nemesis: until the crash the two runs are the
        // same run. Whoever last said it leads at the crash instant is the node crashed.
        let out = d.join(format!("run-{}", row["seed"]));
        let o = sim()
            .args([
                "run",
                "base.toml",
                "--seed",
                &row["seed"],
                "--force",
                "--out",
            ])
            .arg(&out)
            .current_dir(&d)
            .output()
            .unwrap();
        assert!(o.status.code().is_some_and(|c| c <= 1), "{o:?}");
        let trace = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
        let crash_ns = (crash_ms * 1e6).round() as u64;
        let mut role = std::collections::BTreeMap::<String, (String, u64, u64)>::new();
        for line in trace.lines().skip(1) {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            let t = r["t"].as_u64().unwrap_or(0);
            if t > crash_ns {
                break;
            }
            if r["kind"] == "observe" && r["obs"]["type"] == "role" {
                let obs = &r["obs"];
                let entry = (
                    obs["role"].as_str().unwrap().to_string(),
                    obs["term"].as_u64().unwrap(),
                    t,
                );
                role.insert(r["node"].as_str().unwrap().to_string(), entry);
            }
        }
        let leaders: Vec<(&String, &(String, u64, u64))> =
            role.iter().filter(|(_, r)| r.0 == "leader").collect();
        let newest = leaders.iter().max_by_key(|(_, r)| r.1).expect("a leader");
        assert_eq!(
            &row["crashed"], newest.0,
            "the leader is crashed: {row:?} {role:?}"
        );
        assert!(
            crash_ns - newest.1.2 >= 100_000_000,
            "it had led for 100 ms at least: {row:?} {newest:?}"
        );
    }
    assert!(
        instants.len() > 1,
        "the instant is drawn per seed: {instants:?}"
    );
}
