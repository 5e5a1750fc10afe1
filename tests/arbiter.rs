//! The arbiter lessons (`scenarios/failover/arbiter-*.toml`) tell their story: the coordination
//! service numbers the registrations and the lowest is master; a master paused past its session
//! loses its registration to the next one, wakes and writes anyway — carried out on top of its
//! successor's writes unless the storage checks generations; and with fail-back the recovered
//! primary takes its place back under a newer generation.

use crate::common;

use common::{MS, Run, S, lesson_variant, replay, run, sim};

const PAUSED: &str = "scenarios/failover/arbiter-paused-master.toml";
const NEMESIS: &str = "scenarios/failover/arbiter-nemesis.toml";
const FAIL_BACK: &str = "scenarios/failover/arbiter-fail-back.toml";

/// `sim replay`'s lines of `file` that contain `needle`, with their instants.
fn told(file: &str, needle: &str) -> Vec<(u64, String)> {
    replay(file, &[])
        .into_iter()
        .filter(|l| l.contains(needle))
        .filter_map(|l| {
            let (at, rest) = l.trim_start().split_once("s  ")?;
            let at: f64 = at.parse().ok()?;
            Some(((at * 1e9).round() as u64, rest.to_string()))
        })
        .collect()
}

/// The instant of the one replay line of `file` that says `needle`.
fn when(file: &str, needle: &str) -> u64 {
    let lines = told(file, needle);
    assert_eq!(lines.len(), 1, "one line says {needle:?}: {lines:?}");
    lines[0].0
}

fn masters(r: &Run) -> Vec<(u64, String)> {
    r.story()
        .into_iter()
        .filter(|(_, t)| t.contains(" is master "))
        .collect()
}

#[test]
fn the_paused_master_loses_its_registration_and_its_write_lands_after_its_successors() {
    let r = run(PAUSED, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.expectation_met());
    // a registered first and is master0000000001; b is master0000000002.
    let registered: Vec<String> = told(PAUSED, "zk states Registered")
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(
        registered[..2],
        [
            "zk states Registered(node 2, seq 1)",
            "zk states Registered(node 3, seq 2)"
        ]
    );
    let promoted = masters(&r);
    assert_eq!(promoted[0].1, "a is master (epoch 1)");
    // a's session lapses 500 ms after its last heartbeat, which it sent before its pause at 1s;
    // b learns from the watch that it is master.
    let expired = when(
        PAUSED,
        "zk states Expired(node 2, seq 1, silent for 500000000)",
    );
    assert!((S + 400 * MS..S + 500 * MS).contains(&expired), "{expired}");
    let (b_at, b) = &promoted[1];
    assert_eq!(b, "b is master (epoch 2)");
    assert!((expired..expired + 5 * MS).contains(b_at), "{b_at}");
    // Both believe at once from then: no_split_brain fails when b takes over.
    let (at, nodes, _, evidence) = r.violation("no_split_brain");
    assert_eq!((at, nodes), (*b_at, vec!["a".to_string(), "b".to_string()]));
    assert!(
        evidence[0].contains("a holds authority in term 1"),
        "{evidence:?}"
    );
    // a wakes at 2s and its write of generation 1 is carried out after b's of generation 2.
    let (at, nodes, message, evidence) = r.violation("no_stale_write");
    assert!((2 * S..2 * S + 10 * MS).contains(&at), "{at}");
    assert_eq!(nodes, ["a", "b"]);
    assert!(
        message.contains("a's write of x under generation 1"),
        "{message}"
    );
    for needle in [
        "a was paused",
        "b became master of generation 2",
        "the storage carried out b's write of x under generation 2",
        "a resumed",
    ] {
        assert!(
            evidence.iter().any(|e| e.contains(needle)),
            "{needle}: {evidence:?}"
        );
    }
    let landed = told(PAUSED, "storage states Applied(from 2, generation 1");
    assert_eq!(
        landed.last().map(|l| l.0),
        Some(at),
        "the stale write landed"
    );
    // Only its heartbeat's answer tells it: it steps down and registers again, behind b.
    let (down, line) = r.line("a steps down");
    assert!(line.ends_with("standby of term 1"), "{line}");
    assert!(down > at);
    assert!(when(PAUSED, "zk states Registered(node 2, seq 3)") > down);
}

#[test]
fn with_generations_the_woken_masters_write_is_refused_though_both_still_believe() {
    let checked = lesson_variant(
        PAUSED,
        "check_generation = false",
        "check_generation = true",
        "arbiter-checked-pause",
    );
    let checked = lesson_variant(
        &checked,
        "violates = [\"no_stale_write\", \"no_split_brain\"]",
        "violates = [\"no_split_brain\"]",
        "arbiter-checked-pause",
    );
    let r = run(&checked, &[]);
    assert!(r.expectation_met(), "{}", r.stderr);
    assert_eq!(r.status("no_stale_write"), "pass");
    // The fix is at the storage, not in a's head: a still believed it led when it woke.
    assert_eq!(r.status("no_split_brain"), "violation");
    let refused = told(
        &checked,
        "storage states Rejected(from 2, generation 1, highest 2, key x)",
    );
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!((2 * S..2 * S + 10 * MS).contains(&refused[0].0));
    let late = told(&checked, "storage states Applied(from 2, generation 1");
    assert!(late.iter().all(|(at, _)| *at < S), "{late:?}");
}

#[test]
fn with_generations_the_nemesis_deposes_masters_yet_no_stale_write_lands() {
    let r = run(NEMESIS, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    let promoted = masters(&r);
    assert!(
        promoted.len() >= 5,
        "masters replaced again and again: {promoted:?}"
    );
    // Generations only grow: each new master's registration is higher than the last.
    let epochs: Vec<u64> = promoted
        .iter()
        .map(|(_, t)| {
            t.trim_end_matches(')')
                .rsplit(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(epochs.windows(2).all(|w| w[0] < w[1]), "{epochs:?}");
    assert!(
        !told(NEMESIS, "storage states Rejected").is_empty(),
        "a stale write was refused"
    );
    // After the final heal at 10s a master is elected and writes again.
    let applied = told(NEMESIS, "storage states Applied");
    assert!(
        applied.iter().any(|(at, _)| *at > 11 * S),
        "writes after the heal"
    );
    let unchecked = lesson_variant(
        NEMESIS,
        "check_generation = true",
        "check_generation = false",
        "arbiter-nemesis-unchecked",
    );
    let r = run(&unchecked, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.status("no_stale_write"), "violation");
}

#[test]
fn with_fail_back_the_recovered_primary_is_master_again_under_a_newer_generation() {
    let r = run(FAIL_BACK, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    let promoted: Vec<String> = masters(&r).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        promoted,
        [
            "a is master (epoch 1)",
            "b is master (epoch 2)",
            "a is master (epoch 3)"
        ]
    );
    assert!(
        when(
            FAIL_BACK,
            "storage states Rejected(from 2, generation 1, highest 2"
        ) > 2 * S
    );
    // a came back as master0000000003; b yielded to it and queued up as master0000000004.
    let yielded = when(FAIL_BACK, "b states Yielded(seq 2, to 3)");
    assert!(when(FAIL_BACK, "zk states Registered(node 2, seq 3)") < yielded);
    assert!(when(FAIL_BACK, "zk states Registered(node 3, seq 4)") > yielded);
    let (a_again, _) = r.line("a is master (epoch 3)");
    assert!(a_again > yielded);
    // Without fail-back the recovered primary waits its turn behind b.
    let no_fail_back = lesson_variant(
        FAIL_BACK,
        "fail_back = true",
        "fail_back = false",
        "arbiter-no-fail-back",
    );
    let r = run(&no_fail_back, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let last = masters(&r).pop().unwrap().1;
    assert_eq!(last, "b is master (epoch 2)");
}

#[test]
fn fail_back_under_the_nemesis_yields_and_stays_safe() {
    let fail_back = lesson_variant(
        NEMESIS,
        "check_generation = true",
        "check_generation = true\nfail_back = true",
        "arbiter-nemesis-fail-back",
    );
    assert!(
        !told(&fail_back, "states Yielded").is_empty(),
        "masters yielded"
    );
    let out = sim(&["sweep", &fail_back, "--seeds", "1..201"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn too_few_nodes_are_bad_input_at_the_cluster_with_what_is_needed() {
    let three = lesson_variant(
        FAIL_BACK,
        "nodes = [\"zk\", \"storage\", \"a\", \"b\"]",
        "nodes = [\"zk\", \"storage\", \"a\"]",
        "arbiter-three-nodes",
    );
    let out = sim(&["run", &three]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("arbiter-three-nodes.toml:") && stderr.contains("at least 4 nodes"),
        "{stderr}"
    );
}
