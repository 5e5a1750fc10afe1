//! A Paxos log driven by hand, one handler at a time, and its invariants fed facts by hand:
//! the phases each design runs per command, what a new leader proposes again, the fall-back to
//! phase 1, and each invariant failing on a broken run and holding on a sound one.

use super::*;
use crate::node::testing::{View, facts, peers_of, persisted, sent, timer_set};
use crate::node::{Effect, Invariant, Status};

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);
const MS: Nanos = 1_000_000;

fn b(round: u64, proposer: NodeId) -> Ballot {
    Ballot { round, proposer }
}

fn a_cmd(seq: u32) -> Cmd {
    Cmd::Command { by: A, seq }
}

fn config(design: Design) -> PaxosLogConfig {
    PaxosLogConfig {
        design,
        commands: 3,
        ..PaxosLogConfig::default()
    }
}

fn step(
    n: &mut PaxosLog,
    now: i64,
    f: impl FnOnce(&mut PaxosLog, &mut Ctx<'_, PaxosLog>),
) -> Vec<Effect<PaxosLog>> {
    let id = n.id;
    crate::node::step(n, id, &peers_of(id, 3), now, f)
}

fn deliver(n: &mut PaxosLog, from: NodeId, msg: Msg) -> Vec<Effect<PaxosLog>> {
    step(n, 0, |n, c| n.on_message(c, from, msg))
}

/// The kinds of the messages sent, in order: `prepare`, `accept`, ….
fn kinds(fx: &[Effect<PaxosLog>]) -> Vec<String> {
    sent(fx)
        .iter()
        .map(|(_, m)| {
            let v = serde_json::to_value(m).unwrap();
            v.as_object().unwrap().keys().next().unwrap().clone()
        })
        .collect()
}

fn chosen_of(fx: &[Effect<PaxosLog>]) -> Option<Fact> {
    facts(fx)
        .into_iter()
        .find(|f| matches!(f, Fact::Chosen { .. }))
}

/// Node A, started with its first command handed: phase 1 of ballot 1.A begun.
fn started(design: Design) -> (PaxosLog, Vec<Effect<PaxosLog>>) {
    let mut a = PaxosLog::new(A, &peers_of(A, 3), &config(design), None);
    let fx = step(&mut a, 0, |n, c| n.on_start(c));
    (a, fx)
}

/// A's first command decided with B's help (A's own acceptor is the other of the majority).
fn first_decided(design: Design) -> PaxosLog {
    let (mut a, _) = started(design);
    let fx = deliver(
        &mut a,
        B,
        Msg::Promise {
            ballot: b(1, A),
            instance: 0,
            accepted: vec![],
        },
    );
    assert_eq!(kinds(&fx), ["accept", "accept"], "{fx:?}");
    let fx = deliver(
        &mut a,
        B,
        Msg::Accepted {
            ballot: b(1, A),
            instance: 0,
            value: a_cmd(0),
        },
    );
    assert_eq!(
        chosen_of(&fx),
        Some(Fact::Chosen {
            ballot: b(1, A),
            instance: 0,
            value: a_cmd(0),
            prepares: 1,
            accepts: 1,
        })
    );
    a
}

#[test]
fn a_proposer_begins_phase_1_when_its_first_command_arrives() {
    let (_, fx) = started(Design::Multi);
    assert_eq!(kinds(&fx), ["prepare", "prepare"]);
    assert_eq!(
        facts(&fx),
        [
            Fact::Took { value: a_cmd(0) },
            Fact::Began {
                ballot: b(1, A),
                instance: 0
            },
            Fact::Sent { messages: 2 },
        ]
    );
    assert_eq!(
        persisted(&fx).unwrap().round,
        1,
        "the round is on disk first"
    );
    assert_eq!(timer_set(&fx, Timer::Arrive), Some(50 * MS));
}

#[test]
fn a_multi_leader_runs_phase_2_alone_for_every_later_command() {
    let mut a = first_decided(Design::Multi);
    let fx = step(&mut a, 50_000_000, |n, c| n.on_timer(c, Timer::Arrive));
    assert_eq!(kinds(&fx), ["accept", "accept"], "no phase 1: {fx:?}");
    assert!(sent(&fx).iter().all(|(_, m)| *m
        == Msg::Accept {
            ballot: b(1, A),
            instance: 1,
            value: a_cmd(1)
        }));
    let fx = deliver(
        &mut a,
        C,
        Msg::Accepted {
            ballot: b(1, A),
            instance: 1,
            value: a_cmd(1),
        },
    );
    assert!(matches!(
        chosen_of(&fx),
        Some(Fact::Chosen {
            instance: 1,
            prepares: 0,
            accepts: 1,
            ..
        })
    ));
}

#[test]
fn a_classic_proposer_runs_both_phases_for_every_command() {
    let mut a = first_decided(Design::Classic);
    let fx = step(&mut a, 50_000_000, |n, c| n.on_timer(c, Timer::Arrive));
    assert_eq!(kinds(&fx), ["prepare", "prepare"], "{fx:?}");
    assert!(sent(&fx).iter().all(|(_, m)| *m
        == Msg::Prepare {
            ballot: b(2, A),
            instance: 1
        }));
}

#[test]
fn a_new_leader_proposes_what_the_promises_report_fills_gaps_and_skips_its_own_commands() {
    let (mut a, _) = started(Design::Multi);
    // B accepted A's command 0 in instance 0 (in an old ballot), and C's proposal of a command
    // of its own in instance 2 in a higher one; nothing in instance 1 at B.
    let c_cmd = Cmd::Command { by: C, seq: 0 };
    let fx = deliver(
        &mut a,
        B,
        Msg::Promise {
            ballot: b(1, A),
            instance: 0,
            accepted: vec![
                Slot {
                    instance: 0,
                    ballot: b(0, B),
                    value: a_cmd(0),
                },
                Slot {
                    instance: 2,
                    ballot: b(0, C),
                    value: c_cmd,
                },
            ],
        },
    );
    let Phase::Leading { backlog, .. } = &a.proposer.as_ref().unwrap().phase else {
        panic!("promised by a majority, A leads");
    };
    assert_eq!(
        backlog.iter().map(|(&i, &v)| (i, v)).collect::<Vec<_>>(),
        [(1, Cmd::Noop), (2, c_cmd)],
        "instance 0 is in flight"
    );
    assert!(sent(&fx).iter().all(|(_, m)| *m
        == Msg::Accept {
            ballot: b(1, A),
            instance: 0,
            value: a_cmd(0)
        }));
    assert_eq!(
        a.proposer.as_ref().unwrap().own_next,
        1,
        "A's command 0 is in the log already: never proposed again"
    );
}

#[test]
fn a_classic_promise_reports_one_instance_and_a_multi_one_every_later_one() {
    for (design, want) in [(Design::Classic, 1), (Design::Multi, 2)] {
        let mut c = PaxosLog::new(C, &peers_of(C, 3), &config(design), None);
        for i in [1, 3] {
            deliver(
                &mut c,
                A,
                Msg::Accept {
                    ballot: b(1, A),
                    instance: i,
                    value: a_cmd(i as u32),
                },
            );
        }
        let fx = deliver(
            &mut c,
            B,
            Msg::Prepare {
                ballot: b(2, B),
                instance: 1,
            },
        );
        let [(to, Msg::Promise { accepted, .. })] = &sent(&fx)[..] else {
            panic!("{fx:?}")
        };
        assert_eq!((*to, accepted.len()), (B, want), "{design:?}");
    }
}

#[test]
fn an_acceptor_refuses_a_lower_ballot_and_the_leader_falls_back_to_phase_1() {
    let mut c = PaxosLog::new(C, &peers_of(C, 3), &config(Design::Multi), None);
    deliver(
        &mut c,
        B,
        Msg::Prepare {
            ballot: b(2, B),
            instance: 0,
        },
    );
    let fx = deliver(
        &mut c,
        A,
        Msg::Accept {
            ballot: b(1, A),
            instance: 0,
            value: a_cmd(0),
        },
    );
    assert_eq!(
        sent(&fx),
        [(
            A,
            Msg::Nack {
                ballot: b(1, A),
                promised: b(2, B)
            }
        )]
    );
    // The leader, refused, backs off and then begins phase 1 above B's ballot.
    let mut a = first_decided(Design::Multi);
    step(&mut a, 50_000_000, |n, c| n.on_timer(c, Timer::Arrive));
    let fx = deliver(
        &mut a,
        C,
        Msg::Nack {
            ballot: b(1, A),
            promised: b(2, B),
        },
    );
    assert!(timer_set(&fx, Timer::Retry).is_some(), "{fx:?}");
    assert!(sent(&fx).is_empty(), "it waits first");
    let fx = step(&mut a, 60_000_000, |n, c| n.on_timer(c, Timer::Retry));
    assert!(sent(&fx).iter().all(|(_, m)| *m
        == Msg::Prepare {
            ballot: b(3, A),
            instance: 1
        }));
}

#[test]
fn a_restarted_acceptor_keeps_what_it_accepted() {
    let mut c = PaxosLog::new(C, &peers_of(C, 3), &config(Design::Multi), None);
    let fx = deliver(
        &mut c,
        A,
        Msg::Accept {
            ballot: b(1, A),
            instance: 0,
            value: a_cmd(0),
        },
    );
    let disk = crate::node::Disk {
        state: persisted(&fx).unwrap(),
        log: Vec::new(),
    };
    let c = PaxosLog::new(C, &peers_of(C, 3), &config(Design::Multi), Some(&disk));
    assert_eq!(c.accepted.get(&0), Some(&(b(1, A), a_cmd(0))));
    assert_eq!(c.promised, Some(b(1, A)));
}

#[test]
fn validate_refuses_what_cannot_run() {
    let ok = PaxosLogConfig::default();
    assert!(validate(&ok, 3).is_ok());
    for (text, field, says) in [
        ("proposers = []", "proposers", "at least one node"),
        ("proposers = [0, 3]", "proposers", "0 to 2 (got 3)"),
        ("proposers = [1, 1]", "proposers", "node 1 twice"),
        (
            "propose_at = [\"0s\", \"1s\"]",
            "propose_at",
            "one time per proposer (1)",
        ),
        ("commands = 0", "commands", "at least 1"),
        ("every = \"0s\"", "every", "greater than zero"),
        ("backoff = [\"1s\", \"1ms\"]", "backoff", "must not exceed"),
        (
            "retry_timeout = \"0s\"",
            "retry_timeout",
            "greater than zero",
        ),
    ] {
        let c: PaxosLogConfig = toml::from_str(text).unwrap();
        let e = validate(&c, 3).unwrap_err();
        assert_eq!(e.field, field, "{text}");
        assert!(e.message.contains(says), "{text}: {}", e.message);
    }
}

// ---- the invariants -----------------------------------------------------------------------

fn view(now: Nanos) -> View {
    View::new(&["A", "B", "C"], now)
}

fn accepted(instance: u64, round: u64, value: Cmd) -> Fact {
    Fact::Accepted {
        ballot: b(round, A),
        instance,
        value,
        quorum: 2,
    }
}

fn chosen(instance: u64, value: Cmd, prepares: u32) -> Fact {
    Fact::Chosen {
        ballot: b(1, A),
        instance,
        value,
        prepares,
        accepts: 1,
    }
}

fn build(name: &str, bound: Option<Nanos>) -> Box<dyn Invariant> {
    let entry = PaxosLog::invariants()
        .into_iter()
        .find(|i| i.info.name == name)
        .unwrap();
    (entry.build)(3, bound)
}

#[test]
fn agreement_fails_when_an_instance_chooses_two_values_and_holds_per_instance() {
    let v = view(0);
    let mut check = build("agreement", None);
    for (node, f) in [
        (0, accepted(0, 1, a_cmd(0))),
        (1, accepted(0, 1, a_cmd(0))),
        (0, accepted(1, 1, a_cmd(1))),
        (1, accepted(1, 1, a_cmd(1))),
        (0, chosen(1, a_cmd(1), 0)),
        (2, accepted(1, 2, a_cmd(2))),
    ] {
        check.on_fact(MS, node, &f, &v);
    }
    assert_eq!(
        check.status(),
        Status::Pass,
        "two instances, two values; one acceptor is no majority"
    );
    check.on_fact(2 * MS, 1, &accepted(1, 2, a_cmd(2)), &v);
    let Status::Violated(violation) = check.status() else {
        panic!("two values in instance 1 passed")
    };
    assert_eq!(
        violation.message,
        "instance 1 chose two values: A's command 1 and A's command 2"
    );
    assert_eq!(
        violation.evidence[1],
        "A's command 2 chosen in ballot 2.A: accepted by {B,C} at 0.002s"
    );
}

#[test]
fn validity_fails_for_a_command_chosen_twice_or_never_taken_up() {
    let v = view(0);
    let mut sound = build("validity", None);
    sound.on_fact(0, 0, &Fact::Took { value: a_cmd(0) }, &v);
    sound.on_fact(MS, 0, &chosen(0, a_cmd(0), 1), &v);
    sound.on_fact(MS, 0, &chosen(1, Cmd::Noop, 0), &v);
    assert_eq!(sound.status(), Status::Pass);
    sound.on_fact(2 * MS, 0, &chosen(2, a_cmd(0), 0), &v);
    let Status::Violated(twice) = sound.status() else {
        panic!("a command chosen twice passed")
    };
    assert_eq!(
        twice.message,
        "A's command 0 chosen twice: in instance 0 and in instance 2"
    );
    let mut untaken = build("validity", None);
    untaken.on_fact(MS, 0, &chosen(0, a_cmd(5), 1), &v);
    assert!(matches!(untaken.status(), Status::Violated(_)));
}

#[test]
fn the_median_bound_fails_for_two_round_trips_and_holds_for_one() {
    let v = view(1_000 * MS);
    // Three decisions of 20ms (both phases) against three of 10ms (phase 2 alone).
    let run = |latency: Nanos, prepares: u32| {
        let mut check = build("median_decision_within", Some(15 * MS));
        for seq in 0..3 {
            let at = u64::from(seq) * 50 * MS;
            check.on_fact(at, 0, &Fact::Took { value: a_cmd(seq) }, &v);
            check.on_fact(
                at + latency,
                0,
                &chosen(seq as u64, a_cmd(seq), prepares),
                &v,
            );
        }
        check.on_end(&v);
        check.status()
    };
    let Status::Violated(violation) = run(20 * MS, 1) else {
        panic!("classic's 20ms passed a 15ms bound")
    };
    assert_eq!(
        violation.message,
        "the median decision took 20ms, over the bound of 15ms: 3 of 3 decisions ran phase 1 \
         as well as phase 2"
    );
    assert_eq!(violation.evidence[1], "round trips per decision: 2.00");
    assert_eq!(run(10 * MS, 0), Status::Pass);
    let mut none = build("median_decision_within", Some(15 * MS));
    none.on_end(&v);
    assert!(matches!(none.status(), Status::Unknown(_)));
}

#[test]
fn the_median_is_robust_to_a_slow_tail() {
    let mut l = invariants::Latencies::default();
    for (seq, latency) in [10, 11, 900, 9, 12].into_iter().enumerate() {
        let c = a_cmd(seq as u32);
        l.took(0, c);
        l.chosen(latency, c, 0, 1);
    }
    assert_eq!(l.median(), Some(11));
}
