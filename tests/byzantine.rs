//! The Byzantine generals' lessons (`scenarios/byzantine/`) tell the stories they promise: who
//! turned traitor, what the commander told each lieutenant, what each lieutenant heard and
//! decided; with N = 3m + 1 the loyal lieutenants agree and obey a loyal commander, with
//! N = 3m a lie they cannot tell from the truth breaks validity or agreement. And a protocol
//! without traitors refuses the fault, at its key.

use crate::common;

use common::{Run, code, lesson_variant, replay, run, sim, text};
use serde_json::Value;

const LIEUTENANT: &str = "scenarios/byzantine/four-generals-traitor-lieutenant.toml";
const COMMANDER: &str = "scenarios/byzantine/four-generals-traitor-commander.toml";
const ANY: &str = "scenarios/byzantine/four-generals-any-traitor.toml";
const THREE: &str = "scenarios/byzantine/three-generals-traitor-lieutenant.toml";
const SEVEN: &str = "scenarios/byzantine/seven-generals-two-traitors.toml";
const SIX: &str = "scenarios/byzantine/six-generals-two-traitors.toml";

fn generals(r: &Run) -> &Value {
    &r.json["generals"]
}

fn traitors(r: &Run) -> Vec<String> {
    generals(r)["traitors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

/// What `node` decided, and whether it is loyal.
fn decided(r: &Run, node: &str) -> (String, bool) {
    let d = &generals(r)["decisions"][node];
    (
        d["order"]
            .as_str()
            .unwrap_or_else(|| panic!("{node} decided: {d}"))
            .to_string(),
        d["loyal"].as_bool().unwrap(),
    )
}

/// What `node` heard from `from` (its vote for `from`).
fn heard(r: &Run, node: &str, from: &str) -> String {
    generals(r)["decisions"][node]["heard"][from]
        .as_str()
        .unwrap_or_else(|| panic!("{node} heard from {from}: {}", generals(r)))
        .to_string()
}

fn both_hold(r: &Run) {
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(r.status("byzantine_agreement"), "pass");
    assert_eq!(r.status("byzantine_validity"), "pass");
}

#[test]
fn four_generals_outvote_a_lying_lieutenant() {
    let r = run(LIEUTENANT, &[]);
    both_hold(&r);
    assert_eq!(traitors(&r), ["D"]);
    assert_eq!(r.line("D turns traitor").0, 0);
    let command = &generals(&r)["command"];
    assert_eq!(command["commander"], "A");
    assert_eq!(command["order"], "attack");
    for l in ["B", "C", "D"] {
        assert_eq!(
            command["told"][l], "attack",
            "a loyal commander tells all alike"
        );
    }
    // B and C hear A's attack and each other's relay of it; whatever D said, they attack.
    for (me, other) in [("B", "C"), ("C", "B")] {
        assert_eq!(heard(&r, me, "A"), "attack");
        assert_eq!(heard(&r, me, other), "attack");
        assert_eq!(decided(&r, me), ("attack".into(), true));
    }
    assert!(!decided(&r, "D").1, "D's decision is a traitor's");
    // The replay shows the relays, D's among them.
    let lines = replay(LIEUTENANT, &[]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("A → B A orders attack sent"))
    );
    assert!(lines.iter().any(|l| l.contains("D → B D relays: A said")));
}

#[test]
fn a_traitor_lieutenant_really_tells_peers_conflicting_orders_on_some_seed() {
    // Over seeds, D tells B and C different things, and they still agree each time.
    let mut conflicting = 0;
    for seed in 1..=8 {
        let r = run(LIEUTENANT, &["--seed", &seed.to_string()]);
        both_hold(&r);
        if heard(&r, "B", "D") != heard(&r, "C", "D") {
            conflicting += 1;
        }
    }
    assert!(conflicting > 0, "D never told B and C apart in 8 seeds");
}

#[test]
fn four_generals_agree_whatever_a_lying_commander_tells_them() {
    let r = run(COMMANDER, &[]);
    both_hold(&r);
    assert_eq!(traitors(&r), ["A"]);
    assert!(
        r.invariant("byzantine_validity")["detail"]
            .as_str()
            .unwrap()
            .contains("the commander A is a traitor")
    );
    // At seed 1 A told the lieutenants different orders; each relays what it got truthfully,
    // so all three hold the same votes and decide alike.
    let told = &generals(&r)["command"]["told"];
    let orders: Vec<&str> = ["B", "C", "D"]
        .iter()
        .map(|l| told[l].as_str().unwrap())
        .collect();
    assert!(
        orders.contains(&"attack") && orders.contains(&"retreat"),
        "{told}"
    );
    let first = decided(&r, "B").0;
    for me in ["B", "C", "D"] {
        assert_eq!(heard(&r, me, "A"), told[me], "{me} heard A's order as told");
        for other in ["B", "C", "D"].iter().filter(|o| **o != me) {
            assert_eq!(
                heard(&r, me, other),
                told[*other],
                "{me} heard {other} truthfully"
            );
        }
        assert_eq!(decided(&r, me), (first.clone(), true));
    }
}

#[test]
fn three_generals_cannot_tell_a_lying_lieutenant_from_a_lying_commander() {
    let r = run(THREE, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(traitors(&r), ["C"]);
    // A ordered attack; C told B "A said retreat"; B, on the tie, retreats.
    assert_eq!(generals(&r)["command"]["order"], "attack");
    assert_eq!(heard(&r, "B", "A"), "attack");
    assert_eq!(heard(&r, "B", "C"), "retreat");
    assert_eq!(decided(&r, "B"), ("retreat".into(), true));
    let (at, nodes, message, evidence) = r.violation("byzantine_validity");
    assert_eq!(at, 1_000_000_000, "at decide_at");
    assert_eq!(nodes, ["A", "B"]);
    assert_eq!(
        message,
        "the loyal commander A ordered attack but loyal B decided retreat (traitors: C)"
    );
    assert_eq!(
        evidence,
        ["B decided retreat at 1.000s from A attack, C retreat"]
    );
    // One loyal lieutenant only: agreement cannot fail here.
    assert_eq!(r.status("byzantine_agreement"), "pass");
    // The lie is in the replay.
    let lines = replay(THREE, &[]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("C → B C relays: A said retreat sent")),
        "{lines:#?}"
    );
}

#[test]
fn a_fourth_general_turns_the_same_lie_into_a_minority() {
    // The three-generals lesson with a fourth general D: B now holds three votes.
    let four = lesson_variant(
        THREE,
        "nodes = [\"A\", \"B\", \"C\"]",
        "nodes = [\"A\", \"B\", \"C\", \"D\"]",
        "byzantine-three-plus-one",
    );
    let r = run(&four, &[]);
    assert_eq!(r.status("byzantine_validity"), "pass");
    assert_eq!(r.status("byzantine_agreement"), "pass");
    assert_eq!(decided(&r, "B"), ("attack".into(), true));
}

#[test]
fn seven_generals_hold_two_traitors_and_six_do_not() {
    let r = run(SEVEN, &[]);
    both_hold(&r);
    assert_eq!(traitors(&r), ["F", "G"]);
    assert_eq!(
        r.json["messages"]["sent"], 156,
        "OM(2) among 7: 6 + 30 + 120"
    );
    for l in ["B", "C", "D", "E"] {
        assert_eq!(decided(&r, l), ("attack".into(), true));
    }
    let r = run(SIX, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(traitors(&r), ["E", "F"]);
    // At seed 2 D counts B's word as retreat and retreats while B attacks.
    assert_eq!(decided(&r, "B"), ("attack".into(), true));
    assert_eq!(decided(&r, "D"), ("retreat".into(), true));
    assert_eq!(heard(&r, "D", "B"), "retreat");
    let (_, nodes, message, _) = r.violation("byzantine_agreement");
    assert_eq!(nodes, ["B", "D"]);
    assert!(message.contains("B decided attack but D decided retreat (traitors: E, F)"));
}

#[test]
fn a_random_traitor_is_drawn_per_seed_and_named_in_the_story() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=12 {
        let r = run(ANY, &["--seed", &seed.to_string()]);
        both_hold(&r);
        let t = traitors(&r);
        assert_eq!(t.len(), 1);
        r.line(&format!("{} turns traitor (byzantine [random])", t[0]));
        seen.insert(t[0].clone());
    }
    assert!(
        seen.len() >= 3,
        "the traitor varies with the seed: {seen:?}"
    );
}

#[test]
fn a_protocol_without_traitors_refuses_the_byzantine_fault_at_its_key() {
    let raft = lesson_variant(
        LIEUTENANT,
        "protocol = \"oral-messages\"",
        "protocol = \"raft\"",
        "byzantine-under-raft",
    );
    // `[protocol]` and `[check]` are oral-messages' own; drop them to reach the fault.
    let written = std::fs::read_to_string(&raft).unwrap();
    let cut: String = written
        .split("\n[")
        .filter(|s| {
            !s.starts_with("protocol]") && !s.starts_with("check]") && !s.starts_with("expect]")
        })
        .collect::<Vec<_>>()
        .join("\n[");
    std::fs::write(&raft, cut).unwrap();
    let out = sim(&["run", &raft]);
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "protocol `raft` does not model traitors, so a byzantine fault would do nothing"
        ),
        "{err}"
    );
    // file:line:col at the key's value (`byzantine = "D"`, line 23 of the copy).
    assert!(err.contains("byzantine-under-raft.toml:23:13: "), "{err}");
}
