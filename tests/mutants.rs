//! `sim mutants`: the catalogue stays usable (every patch names its bug and rule and still
//! applies to today's code), and bad input is refused with exit 2 before anything is built.
//! The campaign itself builds one `sim` per mutant, which is minutes each: it is run by hand
//! and its result committed as reports/mutants.md, which a test here keeps honest.

use crate::common;

use std::process::Command;

use common::{root, sim};

#[test]
fn every_mutant_in_the_catalogue_still_applies() {
    let out = sim(&["mutants", "--list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<&str> = stdout.lines().filter(|l| l.contains(" raft ")).collect();
    assert!(
        listed.len() >= 15,
        "the Raft catalogue has the classic bugs: {stdout}"
    );
    for classic in [
        "vote-not-durable",
        "count-stale-vote-replies",
        "truncate-without-conflict",
        "commit-previous-term-by-count",
        "ignore-higher-term-in-append-reply",
    ] {
        assert!(
            listed.iter().any(|l| l.starts_with(classic)),
            "{classic} is catalogued: {stdout}"
        );
    }
    // One line per mutant of every protocol, then the count.
    let all = stdout
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(" mutants, "))
        .count();
    assert!(
        all > listed.len(),
        "two-phase commit has mutants too: {stdout}"
    );
    assert!(
        stdout.contains(&format!("{all} mutants, {all} apply")),
        "{stdout}"
    );
}

#[test]
fn a_bad_catalogue_is_refused_with_the_file_and_line() {
    let dir = std::env::temp_dir().join(format!("sim-mutants-bad-{}", std::process::id()));
    let raft = dir.join("raft");
    std::fs::create_dir_all(&raft).unwrap();
    std::fs::write(
        raft.join("m.patch"),
        "mutant: m\nprotocol: raft\nrule: r\nbug: b\n\ndiff --git a/src/world/engine.rs b/src/world/engine.rs\n--- a/src/world/engine.rs\n+++ b/src/world/engine.rs\n",
    )
    .unwrap();
    let out = sim(&["mutants", "--list", "--catalogue", dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("raft/m.patch:8:"),
        "file and line: {stderr}"
    );
    assert!(
        stderr.contains("may change only src/protocols/"),
        "{stderr}"
    );

    // A patch that no longer applies is named, and the listing fails.
    std::fs::write(
        raft.join("m.patch"),
        "mutant: m\nprotocol: raft\nrule: r\nbug: b\n\ndiff --git a/src/protocols/raft/mod.rs b/src/protocols/raft/mod.rs\n--- a/src/protocols/raft/mod.rs\n+++ b/src/protocols/raft/mod.rs\n@@ -1,1 +1,1 @@\n-this line is not in the file\n+nor this one\n",
    )
    .unwrap();
    let out = sim(&["mutants", "--list", "--catalogue", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("m.patch does not apply"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 mutants, 0 apply"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn outside_a_checkout_nothing_is_built() {
    let dir = std::env::temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(["mutants", "--list"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a checkout of sim's source"));
}

#[test]
fn an_existing_report_is_not_overwritten_without_force() {
    let out = sim(&["mutants", "--out", "reports/mutants.md", "--filter", "vote"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("reports/mutants.md exists: pass --force"),
        "{stderr}"
    );
}

#[test]
fn the_committed_report_covers_the_whole_catalogue() {
    // Every catalogued mutant has a row in the report, so a new mutant without a campaign run
    // (or a renamed one) is noticed.
    let report =
        std::fs::read_to_string(root().join("reports/mutants.md")).expect("reports/mutants.md");
    let mut missing = Vec::new();
    let patches = std::fs::read_dir(root().join("mutants"))
        .unwrap()
        .flat_map(|protocol| std::fs::read_dir(protocol.unwrap().path()).unwrap());
    for entry in patches {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !report.contains(&format!("| `{name}` |")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "run `sim mutants --force` again: no row for {missing:?}"
    );
    assert!(report.contains("**Caught by the sweeps:"), "{report}");
}
