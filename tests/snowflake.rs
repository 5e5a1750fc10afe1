//! The Snowflake lessons (`scenarios/ids/`) tell the stories they promise: which generator
//! reused which millisecond, after which clock step or restart, and that a client was handed
//! an id another request had already received — and that the fixed designs, under the same
//! faults, do not.

use crate::common;

use std::collections::BTreeMap;

use common::{MS, Run, S, code, run, scratch, show, sim};

const CLOCK_STEP: &str = "scenarios/ids/snowflake-clock-step.toml";
const RESTART_FORGETS: &str = "scenarios/ids/snowflake-restart-forgets.toml";
const NEMESIS: &str = "scenarios/ids/snowflake-wait-nemesis.toml";
const WRAP: &str = "scenarios/ids/snowflake-sequence-wrap.toml";
const WAIT: &str = "scenarios/ids/snowflake-sequence-wait.toml";

/// `file` with `from` replaced by `to`, as `snowflake-<name>.toml`.
fn variant(file: &str, from: &str, to: &str, name: &str) -> String {
    common::lesson_variant(file, from, to, &format!("snowflake-{name}"))
}

fn count(r: &Run, what: &str, then: &str) -> u64 {
    r.json["ids"][what][then].as_u64().unwrap_or(0)
}

/// The ids clients received more than once, from the run's `history.json`: id → (client, node)
/// of each operation that returned it.
fn received_twice(file: &str, name: &str) -> BTreeMap<u64, Vec<(u64, String)>> {
    let dir = scratch(name);
    let out = sim(&["run", file, "--out", dir.to_str().unwrap()]);
    assert!(matches!(code(&out), 0 | 1), "{}", show(&out));
    let history = std::fs::read_to_string(dir.join("history.json")).expect("history.json");
    let mut by_id: BTreeMap<u64, Vec<(u64, String)>> = BTreeMap::new();
    for line in history.lines().filter(|l| l.starts_with("{\"process\"")) {
        let op: serde_json::Value =
            serde_json::from_str(line.trim_end_matches(',')).expect("an operation");
        if op["type"] == "ok" {
            by_id
                .entry(op["output"].as_u64().unwrap())
                .or_default()
                .push((
                    op["process"].as_u64().unwrap(),
                    op["node"].as_str().unwrap().to_string(),
                ));
        }
    }
    by_id.retain(|_, v| v.len() > 1);
    by_id
}

#[test]
fn a_backward_step_makes_b_hand_out_an_id_a_second_time() {
    let r = run(CLOCK_STEP, &[]);
    assert_eq!(r.code, 1, "a safety violation");
    assert!(r.expectation_met());
    let (at, nodes, message, evidence) = r.violation("unique_ids");
    // The step is at 2s; B's next request, a few milliseconds later, reuses a millisecond.
    assert!((2 * S..2 * S + 20 * MS).contains(&at), "at {at}");
    assert_eq!(
        nodes,
        ["B"],
        "only the stepped generator collides with itself"
    );
    assert!(message.contains("issued twice: by B"), "{message}");
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("B's wall clock stepped -300ms")),
        "{evidence:?}"
    );
    assert!(evidence.iter().any(|e| e.contains("chose to reuse")));
    // monotonic_ids fails at B's first id after the step: no later than the duplicate.
    let (mono_at, mono_nodes, _, _) = r.violation("monotonic_ids");
    assert!((2 * S..=at).contains(&mono_at));
    assert_eq!(mono_nodes, ["B"]);
    // The story tells the step, then B seeing its clock behind and going on regardless.
    let (step_at, _) = r.line("clock of B jumps -300ms");
    let (seen_at, seen) = r.line("B reads millisecond");
    assert!(
        step_at <= seen_at && seen.contains("reusing milliseconds"),
        "{seen}"
    );
    assert_eq!(count(&r, "clock_behind", "reuse"), 1);
    // A and C kept their ids apart, and clients really did receive an id twice, from B.
    let twice = received_twice(CLOCK_STEP, "clock-step");
    assert!(
        !twice.is_empty(),
        "a client received an id already handed out"
    );
    assert!(
        twice
            .values()
            .all(|ops| ops.iter().all(|(_, node)| node == "B"))
    );
}

#[test]
fn waiting_with_the_last_millisecond_on_disk_holds_under_the_nemesis() {
    let r = run(NEMESIS, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(r.status("unique_ids"), "pass");
    assert_eq!(r.status("monotonic_ids"), "pass");
    // The nemesis did step a clock back behind what its generator had used, and crash one.
    assert!(count(&r, "clock_behind", "wait") > 0, "{}", r.json["ids"]);
    let faults = r.json["faults"].to_string();
    assert!(
        faults.contains("crash") && faults.contains("restart"),
        "{faults}"
    );
    assert!(r.json["ids"]["issued"].as_u64().unwrap() > 1_000);
}

#[test]
fn the_same_nemesis_catches_the_naive_generator() {
    let naive = variant(
        NEMESIS,
        "on_clock_behind = \"wait\"",
        "on_clock_behind = \"ignore\"",
        "nemesis-ignore",
    );
    let r = run(&naive, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.status("unique_ids"), "violation");
    assert!(count(&r, "clock_behind", "reuse") > 0);
}

#[test]
fn a_generator_that_forgets_reuses_milliseconds_after_its_restart() {
    let r = run(RESTART_FORGETS, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    let (restart_at, _) = r.line("restart B");
    assert_eq!(restart_at, 2_100 * MS);
    let (at, nodes, message, evidence) = r.violation("unique_ids");
    assert!(at > restart_at, "after the restart, not before");
    assert_eq!(nodes, ["B"]);
    assert!(
        message.contains("by B at 1."),
        "an id from before the crash: {message}"
    );
    assert!(
        evidence.iter().any(|e| e.contains("B restarted")),
        "{evidence:?}"
    );
    // It waited for nothing: restarted, it did not know its clock was behind.
    assert_eq!(count(&r, "clock_behind", "wait"), 0);
    assert!(!received_twice(RESTART_FORGETS, "restart-forgets").is_empty());

    // The same run with the millisecond on disk: B sees its clock behind and waits.
    let remembers = variant(
        RESTART_FORGETS,
        "persist_last_millis = false",
        "persist_last_millis = true",
        "restart-remembers",
    );
    let r = run(&remembers, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (seen_at, seen) = r.line("B reads millisecond");
    assert!(
        seen_at >= restart_at && seen.contains("holds requests"),
        "{seen}"
    );
}

#[test]
fn a_wrapped_sequence_repeats_a_millisecond_and_waiting_does_not() {
    let r = run(WRAP, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    let (_, nodes, message, _) = r.violation("unique_ids");
    assert_eq!(nodes, ["A"]);
    assert!(message.contains("sequence 0 used again"), "{message}");
    assert!(count(&r, "sequence_full", "wrap") > 0);
    assert_eq!(count(&r, "clock_behind", "reuse"), 0, "no clock moved");

    let r = run(WAIT, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    assert!(
        count(&r, "sequence_full", "wait") > 0,
        "milliseconds did fill up: {}",
        r.json["ids"]
    );
    assert!(received_twice(WAIT, "sequence-wait").is_empty());
}

#[test]
fn a_layout_without_room_for_the_milliseconds_is_refused_at_its_line() {
    let bad = variant(WRAP, "sequence_bits = 1", "sequence_bits = 30", "bad-bits");
    let out = sim(&["run", &bad]);
    assert_eq!(code(&out), 2, "{}", show(&out));
    let err = common::text(&out.stderr);
    assert!(err.contains("snowflake-bad-bits.toml:"), "{err}");
    assert!(err.contains("sequence_bits: from 1 to 12"), "{err}");
}
