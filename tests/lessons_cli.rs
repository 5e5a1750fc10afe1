//! `sim lessons`: the catalogue as a test suite, and the regression file with `--bless`.

mod common;

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
