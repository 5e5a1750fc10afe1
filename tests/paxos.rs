//! The Paxos lessons (`scenarios/paxos/`) tell the stories they promise: one value chosen
//! under every fault the nemesis has; a late proposer carrying the value already chosen, and
//! the broken one choosing a second; an acceptor's disk keeping its promise across a restart,
//! and the forgetful one letting a second value through; duelling proposers that never decide
//! without backoff, and decide at once with it.

use crate::common;

use common::{Run, replay, run, sim};
use serde_json::Value;

const NEMESIS: &str = "scenarios/paxos/nemesis.toml";
const LATE: &str = "scenarios/paxos/late-proposer.toml";
const IGNORES: &str = "scenarios/paxos/late-proposer-ignores-accepted.toml";
const RESTART: &str = "scenarios/paxos/acceptor-restart.toml";
const FORGETFUL: &str = "scenarios/paxos/forgetful-acceptor.toml";
const DUEL: &str = "scenarios/paxos/duelling-proposers.toml";
const BACKOFF: &str = "scenarios/paxos/duelling-proposers-backoff.toml";

fn paxos(r: &Run) -> &Value {
    &r.json["paxos"]
}

/// Each choice as (ballot, value), in the order made.
fn chosen(r: &Run) -> Vec<(String, String)> {
    paxos(r)["chosen"]
        .as_array()
        .expect("a list of choices")
        .iter()
        .map(|c| {
            (
                c["ballot"].as_str().unwrap().to_string(),
                c["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(b, v)| (b.to_string(), v.to_string()))
        .collect()
}

fn violation(r: &Run, name: &str) -> Value {
    r.invariant(name)["violation"].clone()
}

fn safety_holds(r: &Run) {
    assert_eq!(r.status("agreement"), "pass");
    assert_eq!(r.status("validity"), "pass");
}

#[test]
fn under_the_nemesis_one_value_is_chosen_and_every_learner_learns_it() {
    let r = run(NEMESIS, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    safety_holds(&r);
    assert_eq!(r.status("decided_within"), "pass");
    // Later proposers chose again, always the first value.
    let choices = chosen(&r);
    assert!(choices.len() > 1, "{choices:?}");
    assert!(
        choices.iter().all(|(_, v)| *v == choices[0].1),
        "{choices:?}"
    );
    let learned = paxos(&r)["learned"].as_object().unwrap();
    assert!(learned.len() >= 3, "{learned:?}");
    assert!(
        learned
            .values()
            .all(|l| l["value"] == choices[0].1.as_str())
    );
    // And the faults were real: crashes, restarts and partitions struck meanwhile.
    let story: Vec<String> = r.story().into_iter().map(|(_, t)| t).collect();
    for kind in ["crash ", "restart ", "partition "] {
        assert!(
            story.iter().any(|t| t.starts_with(kind)),
            "no {kind}: {story:#?}"
        );
    }
}

#[test]
fn a_late_proposer_proposes_the_value_its_promises_report() {
    let r = run(LATE, &[]);
    assert_eq!(r.code, 0);
    safety_holds(&r);
    assert_eq!(chosen(&r), pairs(&[("1.A", "A"), ("2.B", "A")]));
    let lines = replay(LATE, &[]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("→ B Promise(ballot 2.B; accepted A's value in ballot 1.A)")),
        "B hears of A's value"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("B → C Accept(ballot 2.B: A's value) sent"))
    );
}

#[test]
fn the_proposer_that_ignores_the_promises_chooses_a_second_value() {
    let r = run(IGNORES, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    assert_eq!(chosen(&r), pairs(&[("1.A", "A"), ("2.B", "B")]));
    let v = violation(&r, "agreement");
    assert_eq!(
        v["message"],
        "two values chosen: A's value in ballot 1.A and B's value in ballot 2.B"
    );
    // B's Accept leaves at once after its Prepare(300ms) is promised, not long after.
    let at = v["at_ns"].as_u64().unwrap();
    assert!((300_000_000..330_000_000).contains(&at), "{at}");
    // Every learner, having learned A's value, learns B's too.
    let learned = paxos(&r)["learned"].as_object().unwrap();
    for node in ["A", "B", "C"] {
        assert_eq!(learned[node]["value"], "B", "{node}");
        assert_eq!(learned[node]["times"], 2, "{node}");
    }
    assert_eq!(r.status("validity"), "pass", "both values were proposed");
}

#[test]
fn a_restarted_acceptor_still_reports_what_it_accepted() {
    let r = run(RESTART, &[]);
    assert_eq!(r.code, 0);
    safety_holds(&r);
    // A and B chose A's value; after B's restart and A's crash, C's ballot chose it again.
    assert_eq!(chosen(&r), pairs(&[("1.A", "A"), ("1.C", "A")]));
    let (at, line) = r.line("A's value chosen in ballot 1.A");
    assert!(
        at < 100_000_000 && line.ends_with("accepted by {A,B}"),
        "{line}"
    );
    let lines = replay(RESTART, &[]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("B → C Promise(ballot 1.C; accepted A's value in ballot 1.A) sent"))
    );
}

#[test]
fn a_forgetful_acceptor_lets_a_second_value_be_chosen() {
    let r = run(FORGETFUL, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    assert_eq!(chosen(&r), pairs(&[("1.A", "A"), ("1.C", "C")]));
    let v = violation(&r, "agreement");
    assert_eq!(
        v["message"],
        "two values chosen: A's value in ballot 1.A and C's value in ballot 1.C"
    );
    assert_eq!(
        v["evidence"][1],
        "C's value chosen at 0.614s: accepted by {B,C}"
    );
    let lines = replay(FORGETFUL, &[]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("B → C Promise(ballot 1.C; nothing accepted) sent")),
        "B forgot what it accepted"
    );
}

#[test]
fn duelling_proposers_without_backoff_never_decide() {
    let r = run(DUEL, &[]);
    assert_eq!(r.code, 3, "a liveness failure");
    assert!(r.expectation_met());
    safety_holds(&r);
    assert!(chosen(&r).is_empty());
    let v = violation(&r, "decided_within");
    assert_eq!(v["at_ns"], 2_000_000_000u64);
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with("no value was chosen within 2s of the start: "),
        "{message}"
    );
    // A and B take turns: each outbids the other's ballot, about every 10ms.
    let began = &paxos(&r)["began"];
    let (a, b) = (began["A"].as_u64().unwrap(), began["B"].as_u64().unwrap());
    assert!(a > 100 && a.abs_diff(b) <= 1, "A {a}, B {b}");
    let evidence: Vec<&str> = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let last = &evidence[evidence.len() - 2..];
    assert!(
        last[0].ends_with(".A") && last[1].ends_with(".B")
            || last[0].ends_with(".B") && last[1].ends_with(".A"),
        "{evidence:?}"
    );
}

#[test]
fn with_backoff_the_same_duel_decides_at_once() {
    let r = run(BACKOFF, &[]);
    assert_eq!(r.code, 0);
    safety_holds(&r);
    assert_eq!(r.status("decided_within"), "pass");
    let first = &paxos(&r)["chosen"][0];
    assert!(first["at_ns"].as_u64().unwrap() < 200_000_000, "{first}");
    assert!(paxos(&r)["ballots"].as_u64().unwrap() < 10);
}

#[test]
fn a_role_naming_a_missing_node_is_refused_at_its_line() {
    let path = common::scratch("paxos-bad-role").join("bad.toml");
    std::fs::write(
        &path,
        "name = \"bad\"\nduration = \"1s\"\n[cluster]\nnodes = [\"A\", \"B\", \"C\"]\n\
         protocol = \"paxos\"\n[protocol]\nproposers = [0, 5]\n",
    )
    .unwrap();
    let out = sim(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:7:"), "{err}");
    assert!(err.contains("0 to 2 (got 5)"), "{err}");
}

#[test]
fn the_lessons_are_listed_under_their_topic() {
    let out = sim(&["list", "lessons"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let at = text
        .find("Consensus: single-decree Paxos")
        .expect("the topic");
    for lesson in [
        "paxos/duelling-proposers",
        "paxos/forgetful-acceptor",
        "paxos/nemesis",
    ] {
        assert!(text[at..].contains(lesson), "{lesson}:\n{text}");
    }
}

// ---- the cost of a decision: a log by classic Paxos and by Multi-Paxos --------------------

const COST_CLASSIC: &str = "scenarios/paxos/cost-classic.toml";
const COST_MULTI: &str = "scenarios/paxos/cost-multi.toml";
const TAKEOVER: &str = "scenarios/paxos/log-takeover.toml";
const TAKEOVER_CLASSIC: &str = "scenarios/paxos/log-takeover-classic.toml";

fn log_section(r: &Run) -> &Value {
    &r.json["paxos_log"]
}

/// The log as (instance, value, phase-1 runs, phase-2 runs), in instance order.
fn log_of(r: &Run) -> Vec<(u64, String, u64, u64)> {
    log_section(r)["log"]
        .as_array()
        .expect("the log")
        .iter()
        .map(|d| {
            (
                d["instance"].as_u64().unwrap(),
                d["value"].as_str().unwrap().to_string(),
                d["phase1"].as_u64().unwrap(),
                d["phase2"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn log_safety_holds(r: &Run) {
    assert_eq!(r.status("agreement"), "pass");
    assert_eq!(r.status("validity"), "pass");
}

/// The same five nodes and 60 commands on a fault-free network, with `design`.
fn fault_free(design: &str) -> Run {
    let text = std::fs::read_to_string(COST_MULTI).unwrap();
    let text: String = text
        .replace("design = \"multi\"", &format!("design = \"{design}\""))
        .replace("loss = 0.02", "loss = 0.0")
        .replace("duplicate = 0.05", "duplicate = 0.0")
        .lines()
        .take_while(|l| !l.starts_with("[nemesis]"))
        .chain(["[check]", "invariants = [\"agreement\", \"validity\"]"])
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.replace("#:schema ../../reports/scenario.schema.json\n", "");
    let path = common::scratch(&format!("paxos-log-{design}")).join("cost.toml");
    std::fs::write(&path, text).unwrap();
    run(path.to_str().unwrap(), &[])
}

#[test]
fn classic_paxos_pays_two_round_trips_and_4_n_minus_1_messages_per_decision() {
    let r = fault_free("classic");
    assert_eq!(r.code, 0, "{}", r.stderr);
    log_safety_holds(&r);
    let s = log_section(&r);
    assert_eq!(s["decisions"], 60);
    assert_eq!(s["commands"], 60);
    // Prepare, Promise, Accept, Accepted to and from each of the four other nodes.
    assert_eq!(s["messages"], 60 * 4 * 4);
    assert_eq!(s["messages_per_decision"], 16.0);
    assert_eq!(s["round_trips_per_decision"], 2.0);
    assert_eq!(s["phase1_runs"], 60, "phase 1 for every command");
    let log = log_of(&r);
    for (i, (instance, value, p1, p2)) in log.iter().enumerate() {
        assert_eq!(*instance, i as u64);
        assert_eq!(*value, format!("A's command {i}"));
        assert_eq!((*p1, *p2), (1, 1), "instance {i}");
    }
    // Two round trips of 8-12ms each.
    let median = s["median_latency_ns"].as_u64().unwrap();
    assert!((16_000_000..24_000_000).contains(&median), "{median}");
}

#[test]
fn multi_paxos_runs_phase_1_once_and_then_one_round_trip_per_decision() {
    let r = fault_free("multi");
    assert_eq!(r.code, 0, "{}", r.stderr);
    log_safety_holds(&r);
    let s = log_section(&r);
    assert_eq!(s["decisions"], 60);
    assert_eq!(s["phase1_runs"], 1, "phase 1 once, for every instance");
    // One Prepare/Promise exchange, then Accept and Accepted per command.
    assert_eq!(s["messages"], 2 * 4 + 60 * 2 * 4);
    let log = log_of(&r);
    assert_eq!(log[0].2, 1, "the first decision pays for phase 1");
    assert!(log[1..].iter().all(|d| (d.2, d.3) == (0, 1)), "{log:?}");
    let median = s["median_latency_ns"].as_u64().unwrap();
    assert!((8_000_000..12_000_000).contains(&median), "{median}");
    let (_, line) = r.line("instance 1 chooses A's command 1 (ballot 1.A):");
    assert!(line.ends_with("phase 2 only"), "{line}");
}

#[test]
fn under_the_nemesis_classic_fails_the_latency_bound_and_multi_holds_it() {
    let classic = run(COST_CLASSIC, &[]);
    assert_eq!(classic.code, 3, "a liveness failure: {}", classic.stderr);
    assert!(classic.expectation_met());
    log_safety_holds(&classic);
    let (_, _, message, evidence) = classic.violation("median_decision_within");
    assert!(
        message.starts_with("the median decision took 19.")
            && message.ends_with(
                "over the bound of 15ms: 60 of 60 decisions ran phase 1 as well as phase 2"
            ),
        "{message}"
    );
    assert_eq!(evidence[1], "round trips per decision: 2.00");

    let multi = run(COST_MULTI, &[]);
    assert_eq!(multi.code, 0, "{}", multi.stderr);
    assert!(multi.expectation_met());
    log_safety_holds(&multi);
    assert_eq!(multi.status("median_decision_within"), "pass");
    let (c, m) = (log_section(&classic), log_section(&multi));
    assert_eq!(
        (&c["decisions"], &m["decisions"]),
        (&Value::from(60), &Value::from(60))
    );
    let per = |s: &Value| s["messages_per_decision"].as_f64().unwrap();
    assert!(per(c) > 1.8 * per(m), "{} against {}", per(c), per(m));
    // The faults were real in both.
    for r in [&classic, &multi] {
        let story: Vec<String> = r.story().into_iter().map(|(_, t)| t).collect();
        for kind in ["crash ", "partition "] {
            assert!(story.iter().any(|t| t.starts_with(kind)), "no {kind}");
        }
    }
}

#[test]
fn a_second_proposer_takes_over_and_the_first_falls_back_to_phase_1() {
    let r = run(TAKEOVER, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    log_safety_holds(&r);
    let s = log_section(&r);
    assert_eq!(s["commands"], 80, "both proposers' 40 commands, each once");
    let began = &s["began"];
    assert!(began["B"].as_u64().unwrap() >= 1, "{began}");
    assert!(
        began["A"].as_u64().unwrap() >= 2,
        "A ran phase 1 again: {began}"
    );
    // Before B arrives A leads alone, one round trip per command; B's commands are chosen in
    // B's ballots.
    let log = log_of(&r);
    assert!(log[1..5].iter().all(|d| d.2 == 0), "{log:?}");
    let (_, line) = r.line("chooses B's command 0 (ballot ");
    assert!(line.contains(".B)"), "{line}");
    let classic = run(TAKEOVER_CLASSIC, &[]);
    assert_eq!(classic.code, 0, "{}", classic.stderr);
    log_safety_holds(&classic);
    assert_eq!(log_section(&classic)["commands"], 80);
}

#[test]
fn a_paxos_log_setting_that_cannot_run_is_refused_at_its_line() {
    let path = common::scratch("paxos-log-bad").join("bad.toml");
    std::fs::write(
        &path,
        "name = \"bad\"\nduration = \"1s\"\n[cluster]\nnodes = [\"A\", \"B\", \"C\"]\n\
         protocol = \"paxos-log\"\n[protocol]\ncommands = 0\n",
    )
    .unwrap();
    let out = sim(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:7:"), "{err}");
    assert!(err.contains("must be at least 1 (got 0)"), "{err}");
    std::fs::write(
        &path,
        "name = \"bad\"\nduration = \"1s\"\n[cluster]\nnodes = [\"A\", \"B\", \"C\"]\n\
         protocol = \"paxos-log\"\n[protocol]\ndesign = \"fast\"\n",
    )
    .unwrap();
    let out = sim(&["run", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:7:") && err.contains("classic"),
        "{err}"
    );
}
