//! The generation-clock lessons (`scenarios/failover/generation-clock*.toml`) tell their story:
//! a GC-paused master wakes after its standby has taken over, and its writes of the old
//! generation are carried out after the new master's — unless the storage checks generations,
//! when they are refused and the old master steps down.

use crate::common;

use common::{MS, Run, S, run};

const UNCHECKED: &str = "scenarios/failover/generation-clock-unchecked.toml";
const CHECKED: &str = "scenarios/failover/generation-clock.toml";

/// `file` with `from` replaced by `to`, as `generation-<name>.toml`.
fn variant(file: &str, from: &str, to: &str, name: &str) -> String {
    common::lesson_variant(file, from, to, &format!("generation-{name}"))
}

fn masters(r: &Run) -> Vec<(u64, String)> {
    r.story()
        .into_iter()
        .filter(|(_, t)| t.contains(" is master "))
        .collect()
}

#[test]
fn the_paused_master_wakes_and_its_old_generation_writes_land_after_the_new_masters() {
    let r = run(UNCHECKED, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    // m2 takes over during m1's pause, three missed pings after it began.
    let promoted = masters(&r);
    assert_eq!(promoted[0].1, "m1 is master (epoch 1)");
    let (at, m2) = &promoted[1];
    assert_eq!(m2, "m2 is master (epoch 2)");
    assert!((S..2 * S).contains(at), "during the pause: {at}");
    let v = &r.invariant("no_stale_write")["violation"];
    let violated_at = v["at_ns"].as_u64().unwrap();
    // The stale write is carried out right after m1 resumes at 2s.
    assert!(
        (2 * S..2 * S + 20 * MS).contains(&violated_at),
        "{violated_at}"
    );
    assert_eq!(v["nodes"], serde_json::json!(["m1", "m2"]));
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("m1's write") && message.contains("under generation 1"));
    let evidence = v["evidence"].to_string();
    for needle in [
        "m1 was paused",
        "m1 resumed",
        "m2 became master of generation 2",
    ] {
        assert!(evidence.contains(needle), "{needle}: {evidence}");
    }
}

#[test]
fn with_the_check_the_same_pause_is_refused_and_the_old_master_steps_down() {
    let checked = variant(
        UNCHECKED,
        "check_generation = false",
        "check_generation = true",
        "checked-pause",
    );
    let r = run(&checked, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("no_stale_write"), "pass");
    let (at, line) = r.line("m1 steps down");
    assert!(line.contains("standby of term 2"), "{line}");
    assert!(
        (2 * S..2 * S + 20 * MS).contains(&at),
        "as soon as it writes: {at}"
    );
}

#[test]
fn the_checked_storage_holds_under_the_nemesis_that_breaks_the_unchecked_one() {
    let r = run(CHECKED, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    assert!(masters(&r).len() >= 2, "the nemesis deposed a master");
    let unchecked = variant(
        CHECKED,
        "check_generation = true",
        "check_generation = false",
        "nemesis-unchecked",
    );
    let r = run(&unchecked, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.status("no_stale_write"), "violation");
}
