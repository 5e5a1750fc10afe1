//! `sim lessons`: the catalogue as a test suite, and the regression file with `--bless`.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use common::sim;
use serde_json::Value;

/// A three-node election: passes, with the `[expect]` given.
fn election(expect: &str) -> String {
    format!(
        "name = \"election\"\n\
         description = \"three nodes elect a leader\"\n\
         duration = \"2s\"\n\
         [cluster]\n\
         nodes = [\"A\", \"B\", \"C\"]\n\
         protocol = \"raft\"\n\
         {expect}"
    )
}

/// A fresh, empty directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-lessons-{}-{test}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

struct Lessons {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lessons(args: &[&str]) -> Lessons {
    let mut all = vec!["lessons"];
    all.extend_from_slice(args);
    let out = sim(&all);
    Lessons {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Lessons {
    /// The table row of a scenario: its cells, split on runs of spaces.
    fn row(&self, name: &str) -> Vec<String> {
        let line = self
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{}", self.stdout));
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[test]
fn a_catalogue_with_a_bad_file_reports_every_row_and_exits_2() {
    let dir = temp_dir("mixed");
    write(
        &dir,
        "good.toml",
        &election("[expect]\nverdict = \"pass\"\n"),
    );
    write(
        &dir,
        "deeper/wrong.toml",
        &election("[expect]\nverdict = \"violation\"\nviolates = [\"election_safety\"]\n"),
    );
    write(&dir, "plain.toml", &election(""));
    write(&dir, "bad.toml", "name = \"bad\"\nduration = \"soon\"\n");
    let d = dir.to_str().unwrap();
    let r = lessons(&[d]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.row("good.toml")[1..4], ["pass", "pass", "yes"]);
    assert_eq!(
        r.row("deeper/wrong.toml")[1..4],
        ["violation: election_safety", "pass", "NO"]
    );
    assert_eq!(r.row("plain.toml")[1..4], ["(no [expect])", "pass", "-"]);
    assert_eq!(r.row("bad.toml")[2..4], ["bad file (below)", "ERROR"]);
    let rows: Vec<&str> = r.stdout.lines().take(5).collect();
    assert!(
        rows[1].starts_with("bad.toml") && rows[2].starts_with("deeper/wrong.toml"),
        "sorted: {rows:?}"
    );
    assert!(
        r.stdout.contains("bad.toml:2:12: "),
        "the bad file is located: {}",
        r.stdout
    );
    assert!(r.stdout.contains("expected election_safety to fail"));

    fs::remove_file(dir.join("bad.toml")).unwrap();
    let r = lessons(&[d]);
    assert_eq!(r.code, 1, "an unmet expectation: {}", r.stdout);
    fs::remove_file(dir.join("deeper/wrong.toml")).unwrap();
    let r = lessons(&[d]);
    assert_eq!(
        r.code, 0,
        "all met; no [expect] fails nothing: {}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("2 run, 1 met, 0 unmet, 1 without [expect], 0 bad")
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn the_bundled_catalogue_meets_every_expectation_and_every_recorded_hash() {
    let r = lessons(&["--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let all = doc["lessons"].as_array().unwrap();
    assert!(all.len() >= 20, "{}", all.len());
    for l in all {
        assert_eq!(l["met"], true, "{l}");
    }
    assert!(
        all.iter().all(|l| l["scenario"] != "regressions.toml"),
        "the regression file is no scenario"
    );
    let recorded = doc["regressions"].as_array().unwrap();
    assert!(
        recorded.len() > all.len(),
        "every scenario and some more seeds"
    );
    for g in recorded {
        assert_eq!(g["met"], true, "{g}");
    }
    let figure8: Vec<u64> = recorded
        .iter()
        .filter(|g| g["scenario"] == "raft/figure8.toml")
        .map(|g| g["seed"].as_u64().unwrap())
        .collect();
    assert!(figure8.contains(&23) && figure8.len() >= 2, "{figure8:?}");
    assert!(
        r.stderr
            .contains("regressions (scenarios/regressions.toml)")
    );
}

/// A lesson is a claim across seeds, not only at its pinned one: CI sweeps the bundled
/// teaching lessons over a sample of seeds (`sim lessons --seeds 1000` is the full check; the
/// bench workloads are left to their pinned seeds, an hour of virtual time each).
#[test]
fn every_bundled_lesson_holds_its_claim_over_a_sample_of_seeds() {
    let r = lessons(&[
        "--seeds",
        "200",
        "--filter",
        "raft/",
        "--filter",
        "failover/",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let all = doc["lessons"].as_array().unwrap();
    assert!(all.len() >= 25, "{}", all.len());
    for l in all {
        let seeds = &l["seeds"];
        assert_eq!(seeds["run"], 200, "{l}");
        assert_eq!(l["met"], true, "{l}");
        assert_eq!(seeds["holds"], true, "{l}");
        if l["expected"] == "pass" {
            assert_eq!(seeds["failed"], 0, "a pass-lesson failed on some seed: {l}");
            assert_eq!(seeds["matched"], 200, "{l}");
        } else {
            // Its own seed shows the violation; the rate is reported, whatever it is.
            assert!(seeds["matched"].as_u64().unwrap() >= 1, "{l}");
        }
    }
}

#[test]
fn the_filter_keeps_matching_scenarios_and_seeds() {
    let r = lessons(&["--json", "--filter", "figure8"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<&str> = doc["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["raft/figure8-current-term.toml", "raft/figure8.toml"]
    );
    assert!(
        doc["regressions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["scenario"].as_str().unwrap().contains("figure8"))
    );
    let r = lessons(&["--json", "--filter", "figure8", "--filter", "split-vote"]);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let names: Vec<&str> = doc["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "raft/figure8-current-term.toml",
            "raft/figure8.toml",
            "raft/split-vote.toml"
        ],
        "any of several filters"
    );
}

const REGRESSION: &str = "# seeds we promise\n\
[[regression]]\n\
scenario = \"good.toml\"  # the election\n\
seed = 5\n\
verdict = \"pass\"\n\
trace_hash = \"0123456789abcdef\"  # deliberately wrong\n";

fn true_hash(dir: &Path) -> String {
    let file = dir.join("good.toml");
    let r = common::run(file.to_str().unwrap(), &["--seed", "5"]);
    r.json["trace_hash"].as_str().unwrap().to_string()
}

#[test]
fn a_moved_hash_is_caught_and_bless_records_it_keeping_comments() {
    let dir = temp_dir("bless");
    write(
        &dir,
        "good.toml",
        &election("[expect]\nverdict = \"pass\"\n"),
    );
    write(&dir, "regressions.toml", REGRESSION);
    let d = dir.to_str().unwrap();
    let hash = true_hash(&dir);

    let r = lessons(&[d]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let regression_row = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("regressions ("))
        .find(|l| l.starts_with("good.toml"))
        .expect("a regression row");
    assert!(
        regression_row.contains("MOVED") && regression_row.contains(" 5 "),
        "{regression_row}"
    );
    let moved = r
        .stdout
        .lines()
        .find(|l| l.contains("moved"))
        .expect("a moved line");
    assert!(
        moved.contains("0123456789abcdef") && moved.contains(&hash),
        "both hashes: {moved}"
    );
    assert!(moved.contains("sim lessons --bless"), "{moved}");
    assert!(moved.contains("regressions.toml:3:12"), "{moved}");

    let b = lessons(&[d, "--bless"]);
    assert_eq!(b.code, 0, "{}", b.stdout);
    assert!(
        b.stdout
            .contains(&format!("pass 0123456789abcdef -> pass {hash}"))
    );
    let text = fs::read_to_string(dir.join("regressions.toml")).unwrap();
    assert_eq!(text, REGRESSION.replace("0123456789abcdef", &hash));
    assert!(text.contains("# deliberately wrong") && text.contains("# the election"));

    let again = lessons(&[d]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_regression_file_exits_2_with_line_and_column() {
    let dir = temp_dir("badreg");
    write(
        &dir,
        "good.toml",
        &election("[expect]\nverdict = \"pass\"\n"),
    );
    let d = dir.to_str().unwrap();
    for (text, wanted) in [
        (
            REGRESSION.replace("seed = 5", "seed = 5\nsede = 6"),
            "regressions.toml:5:1: unknown key `sede`",
        ),
        (
            REGRESSION.replace("good.toml", "gone.toml"),
            "regressions.toml:3:12: scenario `gone.toml` not found",
        ),
        (
            REGRESSION.replace("seed = 5", "seed = \"five\""),
            "regressions.toml:4:8: ",
        ),
    ] {
        write(&dir, "regressions.toml", &text);
        let r = lessons(&[d]);
        assert_eq!(r.code, 2, "{}", r.stdout);
        assert!(r.stdout.contains(wanted), "{wanted}:\n{}", r.stdout);
        let b = lessons(&[d, "--bless"]);
        assert_eq!(b.code, 2);
        assert_eq!(
            fs::read_to_string(dir.join("regressions.toml")).unwrap(),
            text,
            "nothing written"
        );
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_directory_is_bad_input() {
    let r = lessons(&["no/such/dir"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no/such/dir: not a directory"),
        "{}",
        r.stderr
    );
}

/// A master/standby fail-over under random partitions: seeds 7, 8, 13 and 14 of 1..=20 split the
/// brain, the other sixteen pass.
fn mixed(seed: u64, expect: &str) -> String {
    format!(
        "name = \"mixed\"\n\
         seed = {seed}\n\
         duration = \"3s\"\n\
         [cluster]\n\
         nodes = [\"master\", \"standby\"]\n\
         protocol = \"naive-failover\"\n\
         [protocol]\n\
         ping_interval = \"100ms\"\n\
         missed_pings = 3\n\
         [network]\n\
         latency = {{ dist = \"uniform\", min = \"1ms\", max = \"5ms\" }}\n\
         [nemesis]\n\
         until = \"2s\"\n\
         partition = {{ every = [\"500ms\", \"3s\"], last = [\"100ms\", \"450ms\"] }}\n\
         [check]\n\
         invariants = [\"election_safety\", \"no_split_brain\"]\n\
         [expect]\n\
         {expect}"
    )
}

#[test]
fn a_pass_lesson_that_fails_on_some_seed_exits_1_naming_the_first() {
    let dir = temp_dir("seeds-pass");
    write(&dir, "lucky.toml", &mixed(1, "verdict = \"pass\"\n"));
    let d = dir.to_str().unwrap();
    let at_its_seed = lessons(&[d]);
    assert_eq!(
        at_its_seed.code, 0,
        "it passes at seed 1: {}",
        at_its_seed.stdout
    );

    let r = lessons(&[d, "--seeds", "20"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.starts_with("scenario "), "{}", r.stdout);
    assert!(r.stdout.lines().next().unwrap().contains("seeds 1..=20"));
    assert_eq!(
        r.row("lucky.toml")[1..5],
        ["pass", "pass", "4/20 fail (20.0%), first seed 7", "NO"]
    );
    let file = dir.join("lucky.toml");
    let problem = r
        .stdout
        .lines()
        .find(|l| l.contains("expected a pass on every seed"))
        .unwrap_or_else(|| panic!("a problem line: {}", r.stdout));
    assert!(
        problem.contains("4 of 20 seeds failed; the first, seed 7: no_split_brain@1.1s")
            && problem.contains(&format!("sim run {} --seed 7", file.display())),
        "{problem}"
    );
    assert!(
        r.stdout
            .contains("0 met, 1 unmet (1 of them a pass that fails on some seed of 1..=20)")
    );

    let few = lessons(&[d, "--seeds", "6"]);
    assert_eq!(few.code, 0, "seeds 1..=6 all pass: {}", few.stdout);
    assert_eq!(few.row("lucky.toml")[3..5], ["all 6 pass", "yes"]);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_violation_lesson_prints_its_rate_and_json_carries_it_for_any_jobs() {
    let dir = temp_dir("seeds-violation");
    let violation = "verdict = \"violation\"\nviolates = [\"no_split_brain\"]\n";
    write(&dir, "split.toml", &mixed(7, violation));
    let d = dir.to_str().unwrap();
    let r = lessons(&[d, "--seeds", "20"]);
    assert_eq!(r.code, 0, "a rate, not a verdict: {}{}", r.stdout, r.stderr);
    assert_eq!(
        r.row("split.toml")[1..5],
        [
            "violation: no_split_brain",
            "violation: no_split_brain",
            "4/20 show it (20.0%)",
            "yes"
        ]
    );

    let seeds = |jobs: &str| {
        let r = lessons(&[d, "--seeds", "20", "--jobs", jobs, "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let doc: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(doc["seeds"], 20);
        doc["lessons"][0]["seeds"].clone()
    };
    let one = seeds("1");
    assert_eq!(one["matched"], 4);
    assert_eq!(one["run"], 20);
    assert_eq!(one["rate"], 0.2);
    assert_eq!(one["first_failure"]["seed"], 7);
    assert_eq!(one["holds"], true);
    assert_eq!(one, seeds("3"), "the same for any number of jobs");

    // Its own seed still decides whether it teaches what it claims.
    write(&dir, "split.toml", &mixed(1, violation));
    let missed = lessons(&[d, "--seeds", "20"]);
    assert_eq!(missed.code, 1, "{}", missed.stdout);
    assert_eq!(
        missed.row("split.toml")[3..5],
        ["4/20 show it (20.0%)", "NO"]
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn seeds_and_jobs_must_be_at_least_one() {
    for bad in [["--seeds", "0"], ["--jobs", "0"], ["--seeds", "many"]] {
        let r = lessons(&bad);
        assert_eq!(r.code, 2, "{bad:?}");
        assert!(r.stderr.contains(bad[0]), "{}", r.stderr);
    }
}

#[test]
fn out_writes_a_gallery_of_every_lesson_with_an_index_and_refuses_to_overwrite() {
    let out = temp_dir("gallery");
    let gallery = out.join("reports");
    let g = gallery.to_str().unwrap();
    let args = [
        "lessons",
        "scenarios",
        "--filter",
        "raft/kv-follower-read",
        "--filter",
        "txn/2pc-happy",
        "--out",
        g,
    ];
    let first = sim(&args);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // Each lesson's run as `sim run --out` writes it, under its own path.
    let kv = gallery.join("raft/kv-follower-read");
    for f in [
        "trace.jsonl",
        "summary.md",
        "verdict.json",
        "timeline.html",
        "history.html",
    ] {
        assert!(kv.join(f).exists(), "{f}");
    }
    let bank = gallery.join("txn/2pc-happy");
    assert!(bank.join("timeline.html").exists());
    assert!(
        !bank.join("history.html").exists(),
        "a bank's history has no model"
    );
    // The index lists both, by topic, with the verdict and links that resolve.
    let index = fs::read_to_string(gallery.join("index.html")).unwrap();
    assert!(index.contains("2 lessons, 2 as expected"), "{index}");
    let raft = index.find("Raft: elections").unwrap();
    let txn = index.find("Distributed transactions").unwrap();
    assert!(raft < txn);
    assert!(index.contains("<a href=\"raft/kv-follower-read/history.html\">history</a>"));
    assert!(index.contains("class=\"violation\">violation</td><td>linearizable fails</td>"));
    for link in index.split("href=\"").skip(1) {
        let target = &link[..link.find('"').unwrap()];
        assert!(gallery.join(target).exists(), "{target}");
    }
    // Nothing is replaced without --force.
    let again = sim(&args);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists; pass --force"));
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(sim(&forced).status.code(), Some(0));
    fs::remove_dir_all(&out).unwrap();
}
