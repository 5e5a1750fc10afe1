//! `sim step`: the interactive stepper, driven by a script on standard input. Each test asserts
//! the story the stepper tells against the one `sim run` tells of the same seed.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{S, root, run, sim};

const LEADER_CRASH: &str = "scenarios/raft/leader-crash.toml";

/// `sim step ARGS` with `script` on stdin: (stdout, stderr, exit code).
fn step(args: &[&str], script: &str) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim"))
        .arg("step")
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sim binary runs");
    let mut stdin = child.stdin.take().expect("stdin");
    // A session that refused its file exits before reading: the pipe may be closed by then.
    let _ = stdin.write_all(script.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().expect("sim step ends");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().expect("an exit code"),
    )
}

/// The first line containing `needle`.
fn line_with<'a>(out: &'a str, needle: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line contains {needle:?}:\n{out}"))
}

#[test]
fn until_leader_stops_at_the_first_election_and_state_shows_the_leader() {
    let story = run(LEADER_CRASH, &[]);
    let first = story.leaders()[0].clone();
    let script = format!("until leader\nstate {}\n", first.node);
    let (out, err, code) = step(&[LEADER_CRASH], &script);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    // The header, "… N events", the election.
    assert!(
        lines[0].starts_with("step        raft-leader-crash"),
        "{out}"
    );
    assert!(lines[1].trim_start().starts_with('…'), "{out}");
    let elected = format!("{} becomes leader of term {}", first.node, first.term);
    assert!(lines[2].ends_with(&elected), "{out}");
    let at = format!("{}.{:06}s", first.at / S, first.at % S / 1_000);
    assert!(lines[2].trim_start().starts_with(&at), "{}: {out}", at);
    // The state is the leader's, in its term.
    assert_eq!(lines[3], format!("{} at {at}:", first.node), "{out}");
    assert!(out.contains("  role          leader\n"), "{out}");
    assert!(
        out.contains(&format!("  term          {}\n", first.term)),
        "{out}"
    );
    assert!(
        out.contains(&format!("  voted for     {}\n", first.node)),
        "{out}"
    );
    // A new leader appends its no-op (§8): the log shows it in the leader's term.
    assert!(out.contains(&format!("1:t{} noop", first.term)), "{out}");
}

#[test]
fn until_role_stops_at_the_first_change_of_role_before_the_election() {
    let (out, _, _) = step(&[LEADER_CRASH], "until role\nuntil role\n");
    let lines: Vec<&str> = out.lines().collect();
    // The initial followers are no change; the first timeout makes a pre-candidate.
    assert!(lines[2].contains("asks for pre-votes for term 1"), "{out}");
    assert!(!out.contains("is a follower in term 0"), "{out}");
}

#[test]
fn until_fault_stops_at_the_crash_at_2s_and_the_crashed_leader_has_no_state() {
    let story = run(LEADER_CRASH, &[]);
    let crashed = story.line("crash").1;
    let leader = story.leaders()[0].node.clone();
    assert_eq!(
        crashed,
        format!("crash {leader} (crash leader)"),
        "the leader is the one crashed"
    );
    let script = format!("until fault\nstate {leader}\nnodes\n");
    let (out, _, code) = step(&[LEADER_CRASH], &script);
    assert_eq!(code, 0);
    let crash = line_with(&out, "s  crash ");
    assert_eq!(crash.trim(), format!("2.000000s  crash {leader}"), "{out}");
    assert!(
        out.contains(&format!("{leader} at 2.000000s: crashed")),
        "{out}"
    );
    let row = line_with(&out, &format!("  {leader} "));
    assert!(
        row.contains("crashed") && row.contains("leader in term 1"),
        "{out}"
    );
}

#[test]
fn the_same_script_tells_the_same_story_and_ends_with_the_run_s_hash() {
    let script = "next 5\nuntil 1s\ninflight\nuntil fault\nuntil role\nstate A\nuntil 10s\nnext\n";
    let a = step(&[LEADER_CRASH, "--seed", "4"], script);
    let b = step(&[LEADER_CRASH, "--seed", "4"], script);
    assert_eq!(a, b);
    let hash = run(LEADER_CRASH, &["--seed", "4"]).json["trace_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let end = line_with(&a.0, "the run ends at 5.000000s");
    assert!(end.ends_with(&format!("trace hash {hash}")), "{}", a.0);
}

#[test]
fn a_bad_command_is_one_line_on_stderr_and_the_session_goes_on() {
    let (out, err, code) = step(
        &[LEADER_CRASH],
        "frobnicate\nstate Z\nnext 0\nuntil soon\nnext\n",
    );
    assert_eq!(code, 0);
    let errors: Vec<&str> = err.lines().collect();
    assert_eq!(errors.len(), 4, "{err}");
    assert!(errors[0].contains("unknown command `frobnicate`"), "{err}");
    assert!(
        errors[1].contains("no such node; the nodes are A, B, C, D, E"),
        "{err}"
    );
    assert!(
        errors[3].contains("expected role, leader, fault, drop, violation or a time"),
        "{err}"
    );
    assert!(
        out.ends_with("0.000000s  A starts\n"),
        "the next command still ran:\n{out}"
    );
}

#[test]
fn until_violation_names_the_invariant_broken() {
    let (out, _, code) = step(
        &["scenarios/failover/naive-split-brain.toml"],
        "until violation\nquit\nnext\n",
    );
    assert_eq!(code, 0);
    let violation = line_with(&out, "VIOLATION");
    assert!(violation.contains("VIOLATION no_split_brain:"), "{out}");
    assert!(
        !out.contains("starts"),
        "quit ended the session before `next`:\n{out}"
    );
}

#[test]
fn until_flag_goes_straight_to_a_time() {
    let (out, _, _) = step(&[LEADER_CRASH, "--until", "2s"], "");
    let last = out.lines().last().unwrap();
    assert!(last.trim_start().starts_with("2.000000s  crash"), "{out}");
}

#[test]
fn a_bad_file_or_seed_exits_2_before_any_prompt() {
    let (out, err, code) = step(&["scenarios/no-such.toml"], "next\n");
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    let bad_seed = sim(&["step", LEADER_CRASH, "--seed", "x"]);
    assert_eq!(bad_seed.status.code(), Some(2));
}

#[test]
fn a_participant_blocked_by_the_crashed_coordinator_shows_its_transaction_in_doubt() {
    // The lesson's story: TC crashes at 2s with transfer c1#51 prepared at A and B.
    let file = "scenarios/txn/2pc-coordinator-crash-blocks.toml";
    let (out, _, code) = step(&[file], "until fault\nuntil 3s\nstate TC\nstate A\n");
    assert_eq!(code, 0);
    assert!(line_with(&out, "s  crash ").ends_with("crash TC"), "{out}");
    assert!(out.contains("TC at 2.9"), "the last event before 3s: {out}");
    assert!(
        line_with(&out, "TC at").ends_with("crashed (only its disk survives)"),
        "{out}"
    );
    assert!(out.contains("account 0  balance"), "{out}");
    assert!(
        line_with(&out, "account 0").ends_with("locked by c1#51"),
        "{out}"
    );
    assert!(
        out.contains("in doubt    c1#51 (prepared, awaiting the decision)"),
        "{out}"
    );
}

#[test]
fn a_vector_clock_replica_shows_its_siblings() {
    let file = "scenarios/clocks/siblings-keep-both.toml";
    let (out, _, _) = step(&[file, "--until", "2.5s"], "state C\n");
    assert!(out.contains("  key x         1 [1] | 5 [0,0,1]\n"), "{out}");
}

#[test]
fn the_heartbeat_detector_shows_whom_it_suspects_and_since_when() {
    let (out, err, code) = step(
        &["scenarios/failover/heartbeat-false-suspicion.toml"],
        "until 2.5s\nstate B\nuntil 5.6s\nstate B\n",
    );
    assert_eq!(code, 0, "{err}");
    // During A's GC pause B suspects A, heard last before the pause; after D's crash, D.
    let paused = &out[out.find("B at 2.500000s:").unwrap()..];
    assert!(
        paused.contains("A           last heard at 1.901s (monotonic), suspected"),
        "{out}"
    );
    assert!(line_with(paused, "  C ").ends_with("(monotonic)"), "{out}");
    let crashed = &out[out.find("B at 5.600000s:").unwrap()..];
    assert!(
        line_with(crashed, "  A ").ends_with("(monotonic)"),
        "A is trusted again: {out}"
    );
    assert!(line_with(crashed, "  D ").ends_with("suspected"), "{out}");
}

#[test]
fn the_naive_standby_promotes_itself_while_the_master_still_leads() {
    let (out, err, code) = step(
        &["scenarios/failover/naive-split-brain.toml"],
        "until fault\nstate standby\nuntil 3s\nstate standby\nstate master\n",
    );
    assert_eq!(code, 0, "{err}");
    let before = &out[out.find("standby at 1.000000s:").unwrap()..];
    assert!(line_with(before, "role").ends_with("standby"), "{out}");
    assert!(
        line_with(before, "pings").contains("unanswered in a row (promotes at 3)"),
        "{out}"
    );
    // After the partition: two masters, the standby in epoch 1 — the split brain, in state.
    let after = &out[out.rfind("standby at").unwrap()..];
    assert!(line_with(after, "role").ends_with("master"), "{out}");
    assert!(line_with(after, "epoch").ends_with('1'), "{out}");
    let master = &out[out.rfind("master at").unwrap()..];
    assert!(line_with(master, "role").ends_with("master"), "{out}");
}
