//! `sim sweep` and `sim merge` end to end: the same table for any --jobs and any shard split,
//! resume after a kill, SIGINT, JUnit that parses, deterministic --fail-fast, and bad input.

use crate::common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::xml::Xml;
use common::{code, root, scratch, show, sim, text};
use serde_json::Value;

/// Naive fail-over under short random partitions: some seeds split brain, most do not.
const MIXED: &str = r#"
name = "sweep-mixed"
description = "naive fail-over under short random partitions: some seeds split brain, some do not"
duration = "3s"

[cluster]
nodes = ["master", "standby"]
protocol = "naive-failover"

[protocol]
ping_interval = "100ms"
missed_pings = 3

[network]
latency = { dist = "uniform", min = "1ms", max = "5ms" }

[nemesis]
until = "2s"
partition = { every = ["500ms", "3s"], last = ["100ms", "450ms"] }

[check]
invariants = ["election_safety", "no_split_brain"]
"#;

/// Raft under a crash nemesis that ends 10ms before the run: a seed whose leader is down at the
/// end cannot show a leader within 2s, so its answer is unknown (exit 3).
const LIVENESS: &str = r#"
name = "sweep-liveness"
description = "Raft under a crash nemesis; the run ends 10ms after the last fault"
duration = "4.01s"

[cluster]
nodes = 3
protocol = "raft"

[nemesis]
until = "4s"
crash = { every = ["100ms", "400ms"], last = ["200ms", "1s"] }

[check]
invariants = ["election_safety"]
leader_within = "2s"
"#;

const NEMESIS: &str = "scenarios/raft/nemesis-partitions.toml";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn sweep(args: &[&str]) -> Output {
    let mut all = vec!["sweep"];
    all.extend_from_slice(args);
    sim(&all)
}

#[test]
fn the_table_is_the_same_for_one_two_and_four_jobs() {
    let dir = scratch("jobs");
    let file = write(&dir, "mixed.toml", MIXED);
    let runs: Vec<Output> = ["1", "2", "4"]
        .iter()
        .map(|j| sweep(&[&file, "--seeds", "1..61", "--jobs", j]))
        .collect();
    let first = &runs[0];
    assert_eq!(code(first), 1, "{}", show(first));
    let table = text(&first.stdout);
    assert!(table.contains("run         60 of 60"), "{table}");
    assert!(table.contains("no_split_brain@"), "{table}");
    assert!(
        table.contains(&format!("sim run {file} --seed ")),
        "{table}"
    );
    assert!(
        !table.contains("seeds/s"),
        "wall-clock figures stay off stdout: {table}"
    );
    for r in &runs[1..] {
        assert_eq!(code(r), 1);
        assert_eq!(text(&r.stdout), table, "stdout differs between --jobs");
    }
    assert!(text(&first.stderr).contains("seeds/s"), "{}", show(first));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn every_failing_seed_is_one_sim_run_would_fail() {
    let dir = scratch("replay");
    let file = write(&dir, "mixed.toml", MIXED);
    let out = sweep(&[&file, "--seeds", "1..31", "--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["run"], 30);
    let failures = doc["failures"].as_array().unwrap();
    assert!(!failures.is_empty() && failures.len() < 30);
    assert_eq!(doc["first_failure"], failures[0]["seed"]);
    assert_eq!(doc["failed"].as_u64().unwrap() as usize, failures.len());
    assert!(
        text(&out.stderr).contains("first fail  seed"),
        "the table goes to stderr"
    );
    for f in failures {
        let seed = f["seed"].to_string();
        let run = common::run(&file, &["--seed", &seed]);
        assert_eq!(run.code, 1);
        assert_eq!(run.json["trace_hash"], f["trace_hash"], "seed {seed}");
        assert_eq!(run.status("no_split_brain"), "violation");
        assert_eq!(
            run.invariant("no_split_brain")["violation"]["at_ns"],
            f["invariants"][0]["at_ns"]
        );
        assert_eq!(
            f["replay"].as_str().unwrap(),
            run.json["replay"].as_str().unwrap()
        );
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn four_shards_merge_into_the_unsharded_table_and_junit() {
    let dir = scratch("shards");
    let file = write(&dir, "mixed.toml", MIXED);
    let whole_xml = dir.join("whole.xml");
    let whole = sweep(&[
        &file,
        "--seeds",
        "1..41",
        "--junit",
        whole_xml.to_str().unwrap(),
    ]);
    assert_eq!(code(&whole), 1, "{}", show(&whole));
    let mut dirs = Vec::new();
    for i in 0..4 {
        let out_dir = dir.join(format!("shard-{i}"));
        let out = sweep(&[
            &file,
            "--seeds",
            "1..41",
            "--shard",
            &format!("{i}/4"),
            "--out",
            out_dir.to_str().unwrap(),
            "--jobs",
            "2",
        ]);
        assert!([0, 1].contains(&code(&out)), "{}", show(&out));
        assert!(text(&out.stdout).contains(&format!("1..41 shard {i}/4 · 10 seeds")));
        dirs.push(out_dir.display().to_string());
    }
    // Any order of directories.
    dirs.reverse();
    let merged_xml = dir.join("merged.xml");
    let mut args = vec!["merge"];
    args.extend(dirs.iter().map(String::as_str));
    args.extend(["--junit", merged_xml.to_str().unwrap()]);
    let merged = sim(&args);
    assert_eq!(code(&merged), 1, "{}", show(&merged));
    assert_eq!(text(&merged.stdout), text(&whole.stdout));

    let mut json_args: Vec<&str> = vec!["merge", "--json"];
    json_args.extend(dirs.iter().map(String::as_str));
    let merged_json = sim(&json_args);
    let whole_json = sweep(&[&file, "--seeds", "1..41", "--json", "--jobs", "3"]);
    assert_eq!(text(&merged_json.stdout), text(&whole_json.stdout));

    // JUnit: the same failing test cases; the passing seeds rolled up once per shard.
    let whole_doc = Xml::parse(&fs::read_to_string(&whole_xml).unwrap());
    let merged_doc = Xml::parse(&fs::read_to_string(&merged_xml).unwrap());
    assert_eq!(whole_doc.children("testsuite").len(), 1);
    assert_eq!(merged_doc.children("testsuite").len(), 4);
    assert_eq!(failing_cases(&whole_doc), failing_cases(&merged_doc));
    assert!(!failing_cases(&whole_doc).is_empty());
    assert_eq!(passed_rollup(&whole_doc), passed_rollup(&merged_doc));
    assert_eq!(whole_doc.attr("failures"), merged_doc.attr("failures"));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn merge_refuses_a_missing_incomplete_or_foreign_shard_naming_the_directory() {
    let dir = scratch("merge-bad");
    let file = write(&dir, "mixed.toml", MIXED);
    let other = write(
        &dir,
        "other.toml",
        &MIXED.replace("3s\"\n\n[cluster]", "2s\"\n\n[cluster]"),
    );
    let shard = |f: &str, i: u32, name: &str| {
        let d = dir.join(name).display().to_string();
        let out = sweep(&[
            f,
            "--seeds",
            "1..21",
            "--shard",
            &format!("{i}/2"),
            "--out",
            &d,
        ]);
        assert!([0, 1].contains(&code(&out)), "{}", show(&out));
        d
    };
    let a = shard(&file, 0, "a");
    let b = shard(&file, 1, "b");
    let foreign = shard(&other, 1, "foreign");
    let out = sim(&["merge", &a]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("shard 1/2 is missing"),
        "{}",
        show(&out)
    );
    let out = sim(&["merge", &a, &foreign]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains(&format!("{foreign}: not a shard of the same sweep")),
        "{}",
        show(&out)
    );
    // Cut b's results short: incomplete.
    let results = Path::new(&b).join("results.jsonl");
    let lines: Vec<String> = fs::read_to_string(&results)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    fs::write(&results, lines[..3].join("\n") + "\n").unwrap();
    let out = sim(&["merge", &a, &b]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains(&format!("{b}: shard 1/2 is incomplete")),
        "{}",
        show(&out)
    );
    let out = sim(&["merge", dir.join("nowhere").to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("no sweep.json here"),
        "{}",
        show(&out)
    );
    let _ = fs::remove_dir_all(dir);
}

/// Spawns a slow sweep into `out` and waits until `results.jsonl` has at least `lines` lines.
fn spawn_until(args: &[&str], results: &Path, lines: usize) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sim starts");
    common::wait_for_lines(&mut child, results, lines);
    child
}

#[test]
fn a_killed_sweep_resumes_where_it_stopped_and_prints_the_uninterrupted_table() {
    let dir = scratch("resume");
    let out_dir = dir.join("out");
    let out_str = out_dir.display().to_string();
    let results = out_dir.join("results.jsonl");
    let args = [
        "sweep", NEMESIS, "--seeds", "1..401", "--jobs", "1", "--out", &out_str,
    ];
    let mut child = spawn_until(&args, &results, 10);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    // A kill mid-write leaves a line without its newline: it must be ignored and re-run.
    let mut kept = fs::read_to_string(&results).unwrap();
    if !kept.ends_with('\n') {
        kept.truncate(kept.rfind('\n').map_or(0, |i| i + 1));
    }
    let done = kept.lines().count();
    assert!(
        (10..400).contains(&done),
        "{done} seeds done before the kill"
    );
    kept.push_str("{\"seed\":9999,\"verdict\":\"pa");
    fs::write(&results, &kept).unwrap();

    let resumed = sim(&args[..]);
    assert_eq!(code(&resumed), 0, "{}", show(&resumed));
    let note = format!(
        "resuming {out_str}: {done} seeds already done, {} to run",
        400 - done
    );
    assert!(text(&resumed.stderr).contains(&note), "{}", show(&resumed));
    let stored = fs::read_to_string(&results).unwrap();
    assert_eq!(stored.lines().count(), 400, "each seed stored once");
    assert!(!stored.contains("9999"), "the torn line was cut off");

    let uninterrupted = sweep(&[NEMESIS, "--seeds", "1..401", "--jobs", "2"]);
    assert_eq!(text(&resumed.stdout), text(&uninterrupted.stdout));
    assert!(text(&resumed.stdout).contains("run         400 of 400 · 400 passed"));

    // Once complete, running it again runs nothing and prints the same table.
    let again = sim(&args[..]);
    assert!(text(&again.stderr).contains("400 seeds already done, 0 to run"));
    assert_eq!(text(&again.stdout), text(&uninterrupted.stdout));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn sigint_stops_cleanly_keeps_the_results_and_exits_130() {
    let dir = scratch("sigint");
    let out_dir = dir.join("out");
    let out_str = out_dir.display().to_string();
    let results = out_dir.join("results.jsonl");
    let args = [
        "sweep", NEMESIS, "--seeds", "1..2001", "--jobs", "2", "--out", &out_str,
    ];
    let child = spawn_until(&args, &results, 5);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", show(&out));
    let table = text(&out.stdout);
    assert!(table.contains("(interrupted after"), "{}", show(&out));
    let stored = fs::read_to_string(&results).unwrap();
    assert!(stored.ends_with('\n'), "every stored line is whole");
    let n = stored.lines().count();
    assert!((5..2000).contains(&n), "{n}");
    assert!(
        table.contains(&format!("run         {} of 2,000", with_commas(n))),
        "{table}"
    );
    let _ = fs::remove_dir_all(dir);
}

fn with_commas(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn resuming_into_a_directory_of_another_sweep_needs_force() {
    let dir = scratch("force");
    let file = write(&dir, "mixed.toml", MIXED);
    let out = dir.join("out").display().to_string();
    let first = sweep(&[&file, "--seeds", "1..6", "--out", &out]);
    assert!([0, 1].contains(&code(&first)), "{}", show(&first));
    let wider = sweep(&[&file, "--seeds", "1..8", "--out", &out]);
    assert_eq!(code(&wider), 2);
    assert!(
        text(&wider.stderr).contains("it holds a sweep of seeds 1..6, not 1..8; pass --force"),
        "{}",
        show(&wider)
    );
    fs::write(&file, MIXED.replace("missed_pings = 3", "missed_pings = 4")).unwrap();
    let edited = sweep(&[&file, "--seeds", "1..6", "--out", &out]);
    assert_eq!(code(&edited), 2);
    assert!(
        text(&edited.stderr).contains("another scenario"),
        "{}",
        show(&edited)
    );
    let forced = sweep(&[&file, "--seeds", "1..8", "--out", &out, "--force"]);
    assert!([0, 1].contains(&code(&forced)), "{}", show(&forced));
    assert!(!text(&forced.stderr).contains("resuming"));
    let stored = fs::read_to_string(Path::new(&out).join("results.jsonl")).unwrap();
    assert_eq!(stored.lines().count(), 7);
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn fail_fast_reports_exactly_the_seeds_up_to_the_first_failure_for_any_jobs() {
    let dir = scratch("failfast");
    let file = write(&dir, "mixed.toml", MIXED);
    let full: Value =
        serde_json::from_slice(&sweep(&[&file, "--seeds", "1..61", "--json"]).stdout).unwrap();
    let first = full["first_failure"]
        .as_u64()
        .expect("the range has a failure");
    let one = sweep(&[&file, "--seeds", "1..61", "--fail-fast", "--jobs", "1"]);
    let four = sweep(&[&file, "--seeds", "1..61", "--fail-fast", "--jobs", "4"]);
    assert_eq!(code(&one), 1);
    assert_eq!(text(&one.stdout), text(&four.stdout));
    let doc: Value = serde_json::from_slice(
        &sweep(&[
            &file,
            "--seeds",
            "1..61",
            "--fail-fast",
            "--jobs",
            "3",
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(doc["run"].as_u64(), Some(first));
    assert_eq!(doc["fail_fast_stopped_at"].as_u64(), Some(first));
    assert_eq!(doc["failed"], 1);
    assert!(
        text(&one.stdout).contains(&format!("--fail-fast stopped at seed {first}")),
        "{}",
        show(&one)
    );
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn exit_codes_pass_violation_and_unknown() {
    let pass = sweep(&[NEMESIS, "--seeds", "1..=4"]);
    assert_eq!(code(&pass), 0, "{}", show(&pass));
    assert!(text(&pass.stdout).contains("PASS: all 4 seeds held"));
    let dir = scratch("codes");
    let file = write(&dir, "live.toml", LIVENESS);
    let unknown = sweep(&[&file, "--seeds", "1..21"]);
    assert_eq!(code(&unknown), 3, "{}", show(&unknown));
    let table = text(&unknown.stdout);
    assert!(table.contains("leader_within 2s (unknown)"), "{table}");
    assert!(table.contains("UNKNOWN:"), "{table}");
    let split = sweep(&[
        "scenarios/failover/naive-split-brain.toml",
        "--seeds",
        "1..4",
    ]);
    assert_eq!(code(&split), 1);
    assert!(text(&split.stdout).contains("VIOLATION: 3 of 3 seeds failed"));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn junit_is_well_formed_and_names_each_failure() {
    let dir = scratch("junit");
    let file = write(&dir, "mixed.toml", MIXED);
    let xml = dir.join("report.xml");
    let xml_str = xml.to_str().unwrap();
    let out = sweep(&[&file, "--seeds", "1..31", "--junit", xml_str, "--json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let doc_json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let doc = Xml::parse(&fs::read_to_string(&xml).unwrap());
    assert_eq!(doc.name, "testsuites");
    let suites = doc.children("testsuite");
    assert_eq!(suites.len(), 1);
    let cases = suites[0].children("testcase");
    let failing: Vec<&Xml> = cases
        .iter()
        .copied()
        .filter(|c| !c.children("failure").is_empty())
        .collect();
    let expected = doc_json["failures"].as_array().unwrap();
    assert_eq!(failing.len(), expected.len());
    assert_eq!(
        cases.len(),
        expected.len() + 1,
        "one rolled-up case for the passing seeds"
    );
    assert_eq!(
        suites[0].attr("failures"),
        Some(expected.len().to_string()).as_deref()
    );
    for (case, want) in failing.iter().zip(expected) {
        let seed = want["seed"].as_u64().unwrap();
        assert_eq!(case.attr("name"), Some(format!("seed={seed}")).as_deref());
        let failure = case.children("failure")[0];
        assert_eq!(failure.attr("type"), Some("invariant"));
        let message = failure.attr("message").unwrap();
        assert!(
            message.starts_with("no_split_brain (safety) violated at "),
            "{message}"
        );
        assert!(message.contains("both hold write authority"), "{message}");
        assert!(
            failure
                .text
                .contains(&format!("replay: sim run {file} --seed {seed}")),
            "{}",
            failure.text
        );
        assert!(failure.text.contains(want["trace_hash"].as_str().unwrap()));
    }
    let rollup = cases.last().unwrap().attr("name").unwrap();
    assert_eq!(
        rollup,
        format!("seeds 1..31 passed ({})", 30 - expected.len())
    );

    // An existing report is not overwritten without --force.
    let again = sweep(&[&file, "--seeds", "1..3", "--junit", xml_str]);
    assert_eq!(code(&again), 2);
    assert!(
        text(&again.stderr).contains("already exists; pass --force"),
        "{}",
        show(&again)
    );
    let forced = sweep(&[&file, "--seeds", "1..3", "--junit", xml_str, "--force"]);
    assert_eq!(code(&forced), 0, "{}", show(&forced));
    assert!(Xml::parse(&fs::read_to_string(&xml).unwrap()).attr("tests") == Some("1"));
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let dir = scratch("bad");
    let file = write(&dir, "mixed.toml", MIXED);
    let cases: [(&[&str], &str); 9] = [
        (
            &["--seeds", "0..=18446744073709551614"],
            "expected at most 100000000",
        ),
        (&["--seeds", "5..5"], "the range holds no seed"),
        (&["--seeds", "9..2"], "the range holds no seed"),
        (&["--seeds", "1-10"], "expected a seed range A..B"),
        (&["--seeds", "1..10", "--jobs", "0"], "'--jobs <N>'"),
        (
            &["--seeds", "1..10", "--shard", "4/4"],
            "shard 4 does not exist among 4",
        ),
        (
            &["--seeds", "1..10", "--shard", "0/0"],
            "at least one shard",
        ),
        (&["--seeds", "1..10", "--shard", "x"], "expected I/N"),
        (&[], "--seeds <A..B>"),
    ];
    for (extra, needle) in cases {
        let mut args = vec![file.as_str()];
        args.extend_from_slice(extra);
        let out = sweep(&args);
        assert_eq!(code(&out), 2, "{extra:?}: {}", show(&out));
        assert!(
            text(&out.stderr).contains(needle),
            "{extra:?}: {}",
            show(&out)
        );
        assert!(out.stdout.is_empty());
    }
    let broken = write(
        &dir,
        "broken.toml",
        &MIXED.replace("missed_pings = 3", "missed_pings = \"x\""),
    );
    let out = sweep(&[&broken, "--seeds", "1..3"]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains(&format!("{broken}:")),
        "{}",
        show(&out)
    );
    let out = sweep(&["no/such/file.toml", "--seeds", "1..3"]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("no/such/file.toml: cannot read"),
        "{}",
        show(&out)
    );
    let out = sim(&["merge"]);
    assert_eq!(code(&out), 2);
    let _ = fs::remove_dir_all(dir);
}

/// The failing test cases of a JUnit document: (name, failure message, failure text), by seed.
fn failing_cases(doc: &Xml) -> Vec<(String, String, String)> {
    let mut out: Vec<(u64, (String, String, String))> = Vec::new();
    for suite in doc.children("testsuite") {
        for case in suite.children("testcase") {
            if let Some(f) = case.children("failure").first() {
                let name = case.attr("name").unwrap().to_string();
                let seed: u64 = name.trim_start_matches("seed=").parse().unwrap();
                out.push((
                    seed,
                    (name, f.attr("message").unwrap().into(), f.text.clone()),
                ));
            }
        }
    }
    out.sort_by_key(|(s, _)| *s);
    out.into_iter().map(|(_, c)| c).collect()
}

/// The passing seeds counted by the rolled-up test cases.
fn passed_rollup(doc: &Xml) -> u64 {
    doc.children("testsuite")
        .iter()
        .flat_map(|s| s.children("testcase"))
        .filter_map(|c| {
            let name = c.attr("name")?;
            let n = name.strip_suffix(')')?.rsplit_once("passed (")?.1;
            n.parse::<u64>().ok()
        })
        .sum()
}

#[test]
fn bench_sweep_times_one_and_two_jobs_and_checks_they_agree() {
    let out = sim(&["bench", "sweep", "--seeds", "20", "--json"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["identical_tables"], true);
    assert_eq!(doc["seeds"], 20);
    let jobs: Vec<u64> = doc["sweeps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["jobs"].as_u64().unwrap())
        .collect();
    assert_eq!(jobs, [1, 2]);
    assert!(doc["ratio"].as_f64().unwrap() > 0.0);
    assert!(doc["sweeps"][0]["seeds_per_sec"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_swarm_sweep_prints_the_world_each_failing_seed_drew() {
    let file = "scenarios/failover/naive-swarm.toml";
    let one = sweep(&[file, "--seeds", "1..8", "--jobs", "1"]);
    let two = sweep(&[file, "--seeds", "1..8", "--jobs", "2"]);
    assert_eq!(code(&one), 1, "{}", show(&one));
    let table = text(&one.stdout);
    assert_eq!(
        table,
        text(&two.stdout),
        "the worlds do not depend on --jobs"
    );
    // Seed 2 fails (the lesson's own seed), in the world `sim run` prints for it.
    let run = sim(&["run", file, "--seed", "2"]);
    let printed = text(&run.stdout);
    assert!(printed.contains("network.loss = 0.0973"), "{printed}");
    let seed2 = table
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("2  no_split_brain@"))
        .nth(1)
        .unwrap_or_else(|| panic!("seed 2 fails: {table}"));
    assert!(
        seed2.contains("world: network.latency.min = \"1ms\""),
        "{seed2}"
    );
    assert!(seed2.contains("network.loss = 0.0973"), "{seed2}");
    let worlds = table.lines().filter(|l| l.contains("world: ")).count();
    let failing = table
        .lines()
        .filter(|l| l.contains("no_split_brain@"))
        .count();
    assert_eq!(worlds, failing, "one world per failing seed: {table}");
}
