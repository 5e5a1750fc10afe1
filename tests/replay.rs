//! `sim replay`: one seed re-run and narrated in a window, its hash compared with a recorded one.

use crate::common;

use common::sim;
use serde_json::Value;

const HEAL: &str = "scenarios/raft/partition-heal.toml";

struct Replay {
    code: i32,
    stdout: String,
    stderr: String,
}

fn replay(args: &[&str]) -> Replay {
    let mut all = vec!["replay", HEAL, "--seed", "1"];
    all.extend_from_slice(args);
    let out = sim(&all);
    Replay {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The narrated lines: (seconds as printed, text).
fn events(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            let (time, text) = l.trim_start().split_once("s  ")?;
            time.parse::<f64>().ok()?;
            Some((time.to_string(), text.to_string()))
        })
        .collect()
}

fn recorded_hash() -> String {
    common::run(HEAL, &["--seed", "1"]).json["trace_hash"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_window_of_partition_heal_tells_the_cut_and_the_new_leader_and_nothing_else() {
    let r = replay(&["--from", "1.9s", "--to", "2300ms"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let told = events(&r.stdout);
    assert!(told.len() > 20, "{told:?}");
    for (time, text) in &told {
        let t: f64 = time.parse().unwrap();
        assert!(
            (1.9..=2.3).contains(&t),
            "outside the window: {time} {text}"
        );
    }
    assert!(
        told.contains(&("2.000000".into(), "partition {A,B} | {C,D,E} for 4s".into())),
        "{told:?}"
    );
    let leader = told
        .iter()
        .find(|(_, text)| text == "C becomes leader of term 2")
        .expect("C leads term 2");
    assert!(leader.0.starts_with("2.256"), "{leader:?}");
    // A delivery names its message and how long it travelled.
    assert!(
        told.iter().any(
            |(_, t)| t.starts_with("B → A AppendEntries(term 1, heartbeat")
                && t.contains(" delivered after ")
        ),
        "{told:?}"
    );
    assert!(told.iter().any(|(_, t)| t == "C's election timer fired"));
    assert!(
        told.iter()
            .any(|(_, t)| t.ends_with("dropped: the partition cuts the link")),
    );
    let tail: Vec<&str> = r.stdout.lines().rev().take(2).collect();
    assert!(tail[1].starts_with("verdict     PASS"), "{tail:?}");
    assert_eq!(tail[0], format!("trace_hash  {}", recorded_hash()));
}

#[test]
fn node_keeps_only_the_events_at_or_to_or_from_it() {
    let all = replay(&["--from", "1.9s", "--to", "2.3s", "--json"]);
    let only_a = replay(&["--from", "1.9s", "--to", "2.3s", "--json", "--node", "A"]);
    assert_eq!(only_a.code, 0, "{}", only_a.stderr);
    let parse = |s: &str| -> Vec<Value> {
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (all, only_a) = (parse(&all.stdout), parse(&only_a.stdout));
    let events = |v: &[Value]| -> Vec<Value> {
        v.iter()
            .filter(|e| e["kind"] != "summary")
            .cloned()
            .collect()
    };
    let a = events(&only_a);
    assert!(!a.is_empty() && a.len() < events(&all).len());
    for e in &a {
        let nodes = e["nodes"].as_array().unwrap();
        assert!(nodes.iter().any(|n| n == "A"), "{e}");
        let t = e["t_ns"].as_u64().unwrap();
        assert!((1_900_000_000..=2_300_000_000).contains(&t));
    }
    let expected: Vec<Value> = events(&all)
        .into_iter()
        .filter(|e| e["nodes"].as_array().unwrap().iter().any(|n| n == "A"))
        .collect();
    assert_eq!(a, expected, "the same events, filtered");
    assert!(
        !a.iter()
            .any(|e| e["text"].as_str().unwrap().contains("C becomes leader")),
        "C's election is not A's"
    );
    let summary = only_a.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["trace_hash"], recorded_hash().as_str());
}

#[test]
fn expect_hash_exits_0_when_it_matches_and_1_naming_both_when_not() {
    let hash = recorded_hash();
    let right = replay(&["--to", "0s", "--expect-hash", &hash]);
    assert_eq!(right.code, 0, "{}", right.stderr);
    assert!(
        right
            .stdout
            .contains(&format!("trace_hash  {hash} (as expected)"))
    );
    let wrong = replay(&["--to", "0s", "--expect-hash", "0123456789abcdef"]);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains(&format!(
            "the trace hash moved: expected 0123456789abcdef, got {hash}"
        )),
        "{}",
        wrong.stderr
    );
}

#[test]
fn bad_times_and_unknown_nodes_are_bad_input() {
    let r = replay(&["--from", "soon"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--from"), "{}", r.stderr);
    let r = replay(&["--from", "3s", "--to", "2s"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("after --to"), "{}", r.stderr);
    let r = replay(&["--node", "Z"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("its nodes are A, B, C, D, E"),
        "{}",
        r.stderr
    );
    let out = sim(&["replay", "scenarios/raft/nope.toml", "--seed", "1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn client_operations_are_narrated_in_words() {
    let out = sim(&[
        "replay",
        "scenarios/raft/kv-linearizable.toml",
        "--to",
        "250ms",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("client 2 invokes put k0=c2-1 (#1)"), "{text}");
    assert!(text.contains("not leader ("), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("client 3 ") && l.contains(" → ok (#1)")),
        "{text}"
    );
}

#[test]
fn a_recorded_violation_replays_to_0_with_its_hash_and_to_1_without() {
    let file = "scenarios/raft/figure8.toml";
    let hash = common::run(file, &[]).json["trace_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let with = sim(&[
        "replay",
        file,
        "--seed",
        "23",
        "--to",
        "0s",
        "--expect-hash",
        &hash,
    ]);
    assert_eq!(
        with.status.code(),
        Some(0),
        "the recorded run, violation and all"
    );
    let text = String::from_utf8_lossy(&with.stdout);
    assert!(text.contains("verdict     VIOLATION"), "{text}");
    assert!(
        text.contains("violated    leader_completeness at "),
        "{text}"
    );
    let without = sim(&["replay", file, "--seed", "23", "--to", "0s"]);
    assert_eq!(without.status.code(), Some(1), "as `sim run` answers");
}

#[test]
fn heartbeats_are_told_with_readable_times_not_nanoseconds() {
    let out = sim(&[
        "replay",
        "scenarios/failover/heartbeat-false-suspicion.toml",
        "--from",
        "2s",
        "--to",
        "2.005s",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "the lesson's violation");
    let told = events(&stdout);
    assert!(
        told.contains(&(
            "2.000000".into(),
            "B → A Heartbeat(sent at 2.000s, seq 21) sent".into()
        )),
        "{told:?}"
    );
    for (time, text) in &told {
        let long_number = text
            .split(|c: char| !c.is_ascii_digit())
            .any(|digits| digits.len() >= 7);
        assert!(!long_number, "raw nanoseconds at {time}: {text}");
    }
}

/// Each story line is stamped with its last event: a failed term when the next one begins.
#[test]
fn a_failed_term_is_stamped_when_it_ends() {
    let r = common::run("scenarios/raft/split-vote.toml", &[]);
    let (ended, text) = r.story()[0].clone();
    assert_eq!(text, "term 1 ends without a leader (candidates: A, D)");
    let out = sim(&[
        "replay",
        "scenarios/raft/split-vote.toml",
        "--json",
        "--to",
        "1s",
    ]);
    let term2 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["text"].as_str().unwrap_or("").contains("in term 2"))
        .expect("a node moves to term 2");
    assert_eq!(ended, term2["t_ns"].as_u64().unwrap(), "{term2}");
    let stood = r.line("becomes leader of term 2").0;
    assert!(ended < stood);
}
