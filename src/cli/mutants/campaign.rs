//! Building and sweeping one mutant: a private copy of the checkout with the patch applied,
//! built by cargo into its own target directory, then the copy's `sim` sweeps the bundled
//! scenarios and checks the hash pins. Everything runs as child processes: a mutant that
//! panics, hangs a thread or corrupts memory cannot harm the campaign.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::catalogue::Mutant;

/// Where the campaign works: a copy of the checkout and cargo's target directory for it.
pub(crate) struct Workspace {
    /// The copy that patches are applied to. The sweeps and `sim lessons` run there too, on the
    /// scenarios as they were when the campaign started, whatever happens to the checkout
    /// meanwhile.
    pub tree: PathBuf,
    /// Cargo's target directory for the copy, kept between campaigns so dependencies build once.
    pub target: PathBuf,
    /// `mutants` (release code, built incrementally), or `mutants-checked` (with every debug
    /// assertion on).
    pub profile: &'static str,
}

/// A mutant's seeds may take this many times the most events any seed of the unmutated code
/// took on the same scenario: a mutant that livelocks into a message storm (a leader resending
/// to a follower that lost its log, at every reply) is stopped in seconds instead of running
/// to the default limit of 50 million events on every seed.
pub(crate) const EVENT_BUDGET_FACTOR: u64 = 10;
/// … and at least this many: a scenario whose correct runs are tiny is not held to tiny runs.
pub(crate) const EVENT_BUDGET_FLOOR: u64 = 100_000;

/// The event budget of a mutant's seeds on a scenario whose heaviest correct seed took
/// `events_max` events.
pub(crate) fn event_budget(events_max: u64) -> u64 {
    events_max
        .saturating_mul(EVENT_BUDGET_FACTOR)
        .max(EVENT_BUDGET_FLOOR)
}

/// What one scenario's sweep found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sweep {
    /// The scenario, relative to the checkout.
    pub file: String,
    pub run: u64,
    /// Seeds that did not pass: a safety violation, a liveness failure, an unknown verdict or a
    /// panic.
    pub failing: u64,
    pub panicked: u64,
    pub first_seed: Option<u64>,
    /// Each property that failed on some seed, with how many seeds.
    pub invariants: Vec<(String, u64)>,
    /// The most events any seed took.
    pub events_max: u64,
}

/// What the hash pins of `sim lessons` saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pins {
    pub lessons_unmet: u64,
    pub regressions_moved: u64,
}

/// What the unit tests of the mutated protocol's module saw (`sim mutants --unit-tests`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnitTests {
    /// The tests run: those whose path lies in the module, e.g. `protocols::raft::`.
    pub run: u64,
    /// The tests that failed, by path.
    pub failed: Vec<String>,
}

/// The unit-test filter for a mutant: the module of the protocol folder its patch changes
/// (`src/protocols/raft/lease.rs` gives `protocols::raft::`), or `None` if it changes none.
pub(crate) fn unit_test_module(mutant: &Mutant) -> Option<String> {
    mutant.files.iter().find_map(|f| {
        let rest = f.strip_prefix("src/protocols/")?;
        let module = rest.split('/').next()?.trim_end_matches(".rs");
        (!module.is_empty()).then(|| format!("protocols::{module}::"))
    })
}

/// Reads `cargo test`'s output: the tests counted by its `test result:` lines, and the name of
/// each `test … FAILED`.
pub(crate) fn parse_unit_tests(stdout: &str) -> UnitTests {
    let mut run = 0;
    let mut failed = Vec::new();
    for line in stdout.lines() {
        if let Some(name) = line
            .strip_prefix("test ")
            .and_then(|l| l.strip_suffix(" ... FAILED"))
        {
            failed.push(name.to_string());
        } else if let Some(counts) = line.strip_prefix("test result: ") {
            // `ok. 12 passed; 1 failed; 0 ignored; …`: the run ones are the passed and failed.
            for part in counts.split(';') {
                let mut words = part.split_whitespace().rev();
                let (Some(what), Some(n)) = (words.next(), words.next()) else {
                    continue;
                };
                if what == "passed" || what == "failed" {
                    run += n.parse::<u64>().unwrap_or(0);
                }
            }
        }
    }
    UnitTests { run, failed }
}

/// Checks that the mutant's patch applies to the checkout, changing nothing.
pub(crate) fn check_applies(checkout: &Path, mutant: &Mutant) -> Result<(), String> {
    let patch = std::fs::canonicalize(&mutant.path)
        .map_err(|e| format!("{}: {e}", mutant.path.display()))?;
    let out = Command::new("git")
        .args(["apply", "--check"])
        .arg(&patch)
        .current_dir(checkout)
        .output()
        .map_err(|e| format!("git apply: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} does not apply: {}",
            mutant.path.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }
}

impl Workspace {
    /// Copies the checkout as it is on disk into a fresh tree: every file git tracks, edits
    /// included, and every new file git does not ignore.
    pub(crate) fn prepare(checkout: &Path, profile: &'static str) -> Result<Workspace, String> {
        let root = checkout.join("target").join("mutants");
        let tree = root.join("tree");
        if tree.exists() {
            std::fs::remove_dir_all(&tree).map_err(|e| format!("{}: {e}", tree.display()))?;
        }
        let listed = Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(checkout)
            .output()
            .map_err(|e| format!("sim mutants needs git to list the checkout's files: {e}"))?;
        if !listed.status.success() {
            return Err(format!(
                "`git ls-files` failed in {}: sim mutants runs in a git checkout of sim's source\n{}",
                checkout.display(),
                String::from_utf8_lossy(&listed.stderr)
            ));
        }
        for file in listed.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
            let file = String::from_utf8_lossy(file).into_owned();
            let from = checkout.join(&file);
            if !from.is_file() {
                continue; // deleted in the working tree
            }
            let to = tree.join(&file);
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", from.display()))?;
        }
        Ok(Workspace {
            tree,
            target: root.join("target"),
            profile,
        })
    }

    /// Applies the mutant's patch to the tree.
    pub(crate) fn apply(&self, mutant: &Mutant) -> Result<(), String> {
        let before: Vec<Option<Vec<u8>>> = mutant
            .files
            .iter()
            .map(|f| std::fs::read(self.tree.join(f)).ok())
            .collect();
        self.git_apply(mutant, false).map_err(|stderr| {
            format!(
                "{} no longer applies to src/protocols/ (regenerate it with `git diff`):\n{stderr}",
                mutant.path.display()
            )
        })?;
        // A patch that changed nothing would make an escaped mutant of unmutated code.
        for (file, before) in mutant.files.iter().zip(before) {
            if std::fs::read(self.tree.join(file)).ok() == before {
                return Err(format!(
                    "{}: applying it left {file} unchanged",
                    mutant.path.display()
                ));
            }
        }
        Ok(())
    }

    /// Takes the mutant's patch back out of the tree (the tree is again as copied, whatever
    /// happened to the checkout meanwhile).
    pub(crate) fn unapply(&self, mutant: &Mutant) -> Result<(), String> {
        self.git_apply(mutant, true)
            .map_err(|stderr| format!("{}: cannot be undone: {stderr}", mutant.path.display()))
    }

    /// `git apply [-R] PATCH` in the tree; `Err` holds git's complaint.
    fn git_apply(&self, mutant: &Mutant, reverse: bool) -> Result<(), String> {
        let patch = std::fs::canonicalize(&mutant.path)
            .map_err(|e| format!("{}: {e}", mutant.path.display()))?;
        // The tree lies inside the checkout's repository (under target/, which git ignores):
        // git apply run there would patch relative to that repository and skip every path
        // outside the tree, silently. Stopping git's search for a repository at the tree's
        // parent makes it patch the tree's files as plain files.
        let parent = self.tree.parent().unwrap_or(&self.tree);
        let mut cmd = Command::new("git");
        cmd.arg("apply");
        if reverse {
            cmd.arg("-R");
        }
        let out = cmd
            .arg(&patch)
            .env("GIT_CEILING_DIRECTORIES", parent)
            .current_dir(&self.tree)
            .output()
            .map_err(|e| format!("git apply: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim_end().to_string())
        }
    }

    /// Builds the tree's `sim`; on failure, the compiler's last lines (the mutant is unviable).
    pub(crate) fn build(&self) -> Result<PathBuf, String> {
        let out = Command::new("cargo")
            .args([
                "build",
                "--locked",
                "--bin",
                "sim",
                "--profile",
                self.profile,
            ])
            .env("CARGO_TARGET_DIR", &self.target)
            .current_dir(&self.tree)
            .output()
            .map_err(|e| format!("cargo: {e}"))?;
        if out.status.success() {
            Ok(self.target.join(self.profile).join("sim"))
        } else {
            Err(compiler_errors(&out.stderr))
        }
    }

    /// Sweeps one scenario with the built binary.
    pub(crate) fn sweep(
        &self,
        sim: &Path,
        file: &str,
        seeds: &str,
        jobs: Option<usize>,
        max_events: Option<u64>,
    ) -> Result<Sweep, String> {
        let mut cmd = Command::new(sim);
        cmd.args(["sweep", file, "--seeds", seeds, "--json"]);
        if let Some(events) = max_events {
            cmd.args(["--limit", &format!("events={events}")]);
        }
        if let Some(j) = jobs {
            cmd.args(["--jobs", &j.to_string()]);
        }
        let out = cmd
            .current_dir(&self.tree)
            .output()
            .map_err(|e| format!("{}: {e}", sim.display()))?;
        let json: Value = serde_json::from_slice(&out.stdout).map_err(|_| {
            format!(
                "sim sweep {file} gave no JSON (exit {:?}): {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim_end()
            )
        })?;
        Ok(parse_sweep(file, &json))
    }

    /// Builds and runs the library's unit tests in `module` (see [`unit_test_module`]) on the
    /// tree as it is, in the campaign's profile. `Err` when the tests do not build.
    pub(crate) fn unit_tests(&self, module: &str) -> Result<UnitTests, String> {
        let out = Command::new("cargo")
            .args(["test", "--locked", "--lib", "--profile", self.profile, "--"])
            .arg(module)
            .env("CARGO_TARGET_DIR", &self.target)
            .current_dir(&self.tree)
            .output()
            .map_err(|e| format!("cargo: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() && !stdout.contains("test result: ") {
            return Err(format!(
                "the unit tests do not build: {}",
                compiler_errors(&out.stderr)
            ));
        }
        Ok(parse_unit_tests(&stdout))
    }

    /// Runs `sim lessons` with the built binary: did a pinned hash or verdict move, or a lesson
    /// fail to run at all?
    pub(crate) fn pins(&self, sim: &Path) -> Result<Pins, String> {
        let out = Command::new(sim)
            .args(["lessons", "--json"])
            .current_dir(&self.tree)
            .output()
            .map_err(|e| format!("{}: {e}", sim.display()))?;
        let json: Value = serde_json::from_slice(&out.stdout)
            .map_err(|_| format!("sim lessons gave no JSON (exit {:?})", out.status.code()))?;
        Ok(parse_pins(&json))
    }
}

/// The compiler's first three `error` lines, joined: why a build failed, in one table cell.
fn compiler_errors(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error"))
        .take(3)
        .collect();
    errors.join(" / ")
}

/// Reads `sim sweep --json`.
pub(crate) fn parse_sweep(file: &str, json: &Value) -> Sweep {
    let n = |key: &str| json[key].as_u64().unwrap_or(0);
    let first_seed = json["failures"]
        .as_array()
        .and_then(|f| f.iter().filter_map(|s| s["seed"].as_u64()).min());
    let invariants = json["invariants"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|i| {
                    let failed =
                        i["violated"].as_u64().unwrap_or(0) + i["unknown"].as_u64().unwrap_or(0);
                    (failed > 0).then(|| (i["name"].as_str().unwrap_or("?").to_string(), failed))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut invariants: Vec<(String, u64)> = invariants;
    let panicked = n("panicked");
    if panicked > 0 {
        invariants.push(("panic".to_string(), panicked));
    }
    Sweep {
        file: file.to_string(),
        run: n("run"),
        failing: n("run").saturating_sub(n("passed")),
        panicked,
        first_seed,
        invariants,
        events_max: n("events_max"),
    }
}

/// Reads `sim lessons --json`.
pub(crate) fn parse_pins(json: &Value) -> Pins {
    let unmet = |key: &str| {
        json[key].as_array().map_or(0, |a| {
            a.iter().filter(|l| l["met"] != Value::Bool(true)).count() as u64
        })
    };
    Pins {
        lessons_unmet: unmet("lessons"),
        regressions_moved: unmet("regressions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutant_may_take_ten_times_the_heaviest_correct_seed_and_never_less_than_the_floor() {
        assert_eq!(event_budget(54_000), 540_000);
        assert_eq!(event_budget(625), EVENT_BUDGET_FLOOR);
        assert_eq!(event_budget(u64::MAX), u64::MAX, "saturates");
    }

    #[test]
    fn a_sweep_counts_every_seed_that_did_not_pass() {
        let json: Value = serde_json::from_str(
            r#"{"run": 1000, "passed": 994, "failed": 3, "unknown": 1, "panicked": 2,
                "events_max": 5321, "failures": [{"seed": 44}, {"seed": 8}, {"seed": 900}],
                "invariants": [{"name": "election_safety", "violated": 3, "unknown": 0},
                               {"name": "leader_within 1s", "violated": 0, "unknown": 1},
                               {"name": "log_matching", "violated": 0, "unknown": 0}]}"#,
        )
        .unwrap();
        let s = parse_sweep("raft/x.toml", &json);
        assert_eq!(
            (s.run, s.failing, s.panicked, s.first_seed, s.events_max),
            (1000, 6, 2, Some(8), 5321)
        );
        assert_eq!(
            s.invariants,
            [
                ("election_safety".to_string(), 3),
                ("leader_within 1s".to_string(), 1),
                ("panic".to_string(), 2)
            ]
        );
    }

    #[test]
    fn unit_tests_are_counted_from_cargo_test_and_filtered_to_the_mutated_protocol() {
        let out = "running 3 tests\n\
                   test protocols::raft::log::tests::a ... ok\n\
                   test protocols::raft::log::tests::b ... FAILED\n\
                   test protocols::raft::tests::c ... ok\n\n\
                   failures:\n\n\
                   test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 875 filtered out; finished in 0.01s\n";
        assert_eq!(
            parse_unit_tests(out),
            UnitTests {
                run: 3,
                failed: vec!["protocols::raft::log::tests::b".into()]
            }
        );
        let mutant = |file: &str| Mutant {
            name: "m".into(),
            protocol: "raft".into(),
            rule: String::new(),
            bug: String::new(),
            escapes: None,
            path: "mutants/raft/m.patch".into(),
            files: vec!["Cargo.toml".into(), file.into()],
        };
        assert_eq!(
            unit_test_module(&mutant("src/protocols/raft/lease.rs")).as_deref(),
            Some("protocols::raft::")
        );
        assert_eq!(
            unit_test_module(&mutant("src/protocols/heartbeat.rs")).as_deref(),
            Some("protocols::heartbeat::")
        );
        assert_eq!(unit_test_module(&mutant("src/world/engine.rs")), None);
    }

    #[test]
    fn pins_count_unmet_lessons_and_moved_hashes() {
        let json: Value = serde_json::from_str(
            r#"{"lessons": [{"met": true}, {"met": false}, {"error": "the run panicked"}],
                "regressions": [{"met": false}, {"met": false}, {"met": true}]}"#,
        )
        .unwrap();
        assert_eq!(
            parse_pins(&json),
            Pins {
                lessons_unmet: 2,
                regressions_moved: 2
            }
        );
    }
}
