//! `sim find`: the lowest seed that shows a named situation, checked against the story of
//! that seed's own run; one situation per protocol family found on its bundled lesson.

use crate::common;

use common::{run, sim};

/// `sim find ARGS`: (stdout, stderr, exit code).
fn find(args: &[&str]) -> (String, String, i32) {
    let mut all = vec!["find"];
    all.extend_from_slice(args);
    let out = sim(&all);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().expect("an exit code"),
    )
}

/// The seed and exact time `sim find` reports (from its `step` line's `--until Nns`).
fn found(out: &str) -> (u64, u64) {
    let step = out
        .lines()
        .find(|l| l.starts_with("step "))
        .unwrap_or_else(|| panic!("no step line:\n{out}"));
    let words: Vec<&str> = step.split_whitespace().collect();
    let after = |flag: &str| words[words.iter().position(|w| *w == flag).unwrap() + 1];
    let seed = after("--seed").parse().unwrap();
    let at = after("--until").trim_end_matches("ns").parse().unwrap();
    (seed, at)
}

#[test]
fn a_split_vote_is_found_and_the_seed_really_shows_it() {
    let file = "scenarios/raft/split-vote.toml";
    let (out, err, code) = find(&[file, "--seeds", "1..50", "--where", "split-vote"]);
    assert_eq!(code, 0, "{err}");
    let (seed, at) = found(&out);
    assert!(
        out.starts_with(&format!(
            "found       split-vote in raft-split-vote seed {seed} at "
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("replay      sim run {file} --seed {seed}\n")),
        "{out}"
    );
    // The run of that seed tells a term that ended without a leader, at that very instant.
    let story = run(file, &["--seed", &seed.to_string()]);
    let (ended, text) = story.line("ends without a leader");
    assert_eq!(ended, at, "{text}");
    // No lower seed shows one: each of them elects a leader in its first term of candidates.
    for lower in 1..seed {
        let story = run(file, &["--seed", &lower.to_string()]);
        assert!(
            story
                .story()
                .iter()
                .all(|(_, t)| !t.contains("ends without a leader")),
            "seed {lower} splits a vote too"
        );
    }
}

#[test]
fn the_answer_is_the_same_for_any_number_of_threads() {
    let args = [
        "scenarios/raft/split-vote.toml",
        "--seeds",
        "1..30",
        "--where",
        "split-vote",
    ];
    let one = find(&[&args[..], &["--jobs", "1"]].concat());
    let three = find(&[&args[..], &["--jobs", "3"]].concat());
    assert_eq!(one, three);
}

#[test]
fn a_situation_that_never_happens_exits_1() {
    // No fault is scheduled: no leader is ever crashed.
    let (out, err, code) = find(&[
        "scenarios/raft/basic-election.toml",
        "--seeds",
        "1..4",
        "--where",
        "leader-crashed",
    ]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("no seed of 1..4 shows leader-crashed"),
        "{err}"
    );
}

#[test]
fn an_unknown_situation_exits_2_listing_the_known_ones() {
    let (_, err, code) = find(&[
        "scenarios/raft/split-vote.toml",
        "--seeds",
        "1..4",
        "--where",
        "in-doubt",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("raft knows no such situation"), "{err}");
    assert!(
        err.contains("split-vote") && err.contains("leader-deposed"),
        "{err}"
    );
    let (list, _, code) = find(&["scenarios/txn/2pc-happy.toml", "--list"]);
    assert_eq!(code, 0);
    assert!(
        list.starts_with("in-doubt\n    a participant has voted yes"),
        "{list}"
    );
}

/// `situation` is found on `file` within seeds 1..20, at a time its run's story confirms.
fn found_on(file: &str, situation: &str) -> (u64, u64, String) {
    let (out, err, code) = find(&[file, "--seeds", "1..20", "--where", situation]);
    assert_eq!(code, 0, "{situation} on {file}: {err}");
    let (seed, at) = found(&out);
    let what = out.lines().nth(1).unwrap().to_string();
    (seed, at, what)
}

#[test]
fn raft_a_leader_crashed_on_its_lesson() {
    let file = "scenarios/raft/leader-crash.toml";
    let (seed, at, what) = found_on(file, "leader-crashed");
    let story = run(file, &["--seed", &seed.to_string()]);
    let leader = &story.leaders()[0].node;
    assert_eq!(story.line("crash").0, at);
    assert_eq!(
        what,
        format!("what        {leader}, leader of term 1, crashes")
    );
}

#[test]
fn txn_in_doubt_on_the_coordinator_crash_lesson_and_an_empty_rollback_on_tcc_s() {
    let file = "scenarios/txn/2pc-coordinator-crash-blocks.toml";
    let (seed, at, what) = found_on(file, "in-doubt");
    assert_eq!(seed, 1, "the lesson's own seed blocks");
    let crash = run(file, &[]).line("crash TC").0;
    assert!(at >= crash, "in doubt once TC is down: {what}");
    assert!(what.contains("while coordinator TC is down"), "{what}");
    let (_, _, what) = found_on("scenarios/txn/tcc-empty-rollback.toml", "empty-rollback");
    assert!(
        what.contains("C receives the cancel"),
        "C was cut off: {what}"
    );
}

#[test]
fn replicas_siblings_on_the_vector_clock_lesson() {
    let (_, _, what) = found_on("scenarios/clocks/siblings-keep-both.toml", "siblings");
    assert!(what.contains("holds 2 siblings"), "{what}");
    let (_, _, what) = found_on("scenarios/clocks/vector-clock-conflict.toml", "conflict");
    assert!(what.contains("drops the concurrent"), "{what}");
}

#[test]
fn failover_split_brain_on_its_lesson() {
    let file = "scenarios/failover/naive-split-brain.toml";
    let (seed, at, what) = found_on(file, "split-brain");
    let story = run(file, &["--seed", &seed.to_string()]);
    let violated = story.invariant("no_split_brain");
    assert_eq!(violated["status"], "violation", "{violated}");
    // Found at the instant the invariant breaks.
    assert_eq!(violated["violation"]["at_ns"], at, "{violated}");
    assert!(what.contains("standby becomes master"), "{what}");
    let (_, _, what) = found_on(
        "scenarios/failover/heartbeat-false-suspicion.toml",
        "false-suspicion",
    );
    assert!(what.contains("which has not crashed"), "{what}");
}
