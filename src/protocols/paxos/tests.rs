//! Paxos driven by hand, one handler at a time, and its invariants fed facts by hand: each
//! rule of the two phases (seed text 004, 「2.3.3 Paxos 协议」), and each invariant failing on a
//! broken run and holding on a sound one.

use super::*;
use crate::node::testing::{View, facts, persisted, sent};
use crate::node::{Applied, Disk, Effect, FaultRecord, Invariant, Nanos, Origin, Status};

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);
const MS: Nanos = 1_000_000;

fn b(round: u64, proposer: NodeId) -> Ballot {
    Ballot { round, proposer }
}

fn peers(id: NodeId) -> Vec<NodeId> {
    [A, B, C].into_iter().filter(|&n| n != id).collect()
}

fn node(id: NodeId, config: &PaxosConfig, disk: Option<&DiskOf<Paxos>>) -> Paxos {
    Paxos::new(id, &peers(id), config, disk)
}

fn step(
    n: &mut Paxos,
    now: i64,
    f: impl FnOnce(&mut Paxos, &mut Ctx<'_, Paxos>),
) -> Vec<Effect<Paxos>> {
    let id = n.id;
    crate::node::step(n, id, &peers(id), now, f)
}

fn deliver(n: &mut Paxos, from: NodeId, msg: Msg) -> Vec<Effect<Paxos>> {
    step(n, 0, |n, c| n.on_message(c, from, msg))
}

/// An acceptor only (C of three nodes where A and B propose).
fn acceptor_c(config: &PaxosConfig) -> Paxos {
    node(C, config, None)
}

fn two_proposers() -> PaxosConfig {
    PaxosConfig {
        proposers: Some(vec![0, 1]),
        ..PaxosConfig::default()
    }
}

#[test]
fn an_acceptor_writes_its_promise_to_disk_before_it_answers() {
    let mut c = acceptor_c(&two_proposers());
    let fx = deliver(&mut c, A, Msg::Prepare { ballot: b(1, A) });
    let persist = fx.iter().position(|e| matches!(e, Effect::Persist(_)));
    let send = fx.iter().position(|e| matches!(e, Effect::Send { .. }));
    assert!(persist.unwrap() < send.unwrap(), "{fx:?}");
    assert_eq!(persisted(&fx).unwrap().promised, Some(b(1, A)));
    assert_eq!(
        sent(&fx),
        [(
            A,
            Msg::Promise {
                ballot: b(1, A),
                accepted: None
            }
        )]
    );
    assert_eq!(facts(&fx), [Fact::Promised { ballot: b(1, A) }]);
}

#[test]
fn an_acceptor_refuses_a_ballot_lower_than_its_promise() {
    let mut c = acceptor_c(&two_proposers());
    deliver(&mut c, B, Msg::Prepare { ballot: b(2, B) });
    let fx = deliver(&mut c, A, Msg::Prepare { ballot: b(1, A) });
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
    let fx = deliver(
        &mut c,
        A,
        Msg::Accept {
            ballot: b(1, A),
            value: Value(A),
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
    assert!(facts(&fx).is_empty(), "nothing accepted");
}

#[test]
fn an_accepting_acceptor_tells_the_proposer_and_every_learner() {
    let mut c = acceptor_c(&two_proposers());
    let fx = deliver(
        &mut c,
        A,
        Msg::Accept {
            ballot: b(1, A),
            value: Value(A),
        },
    );
    let accepted = Msg::Accepted {
        ballot: b(1, A),
        value: Value(A),
    };
    // A and B by the network; C, itself a learner, through memory.
    assert_eq!(sent(&fx), [(A, accepted.clone()), (B, accepted)]);
    assert_eq!(
        facts(&fx),
        [Fact::Accepted {
            ballot: b(1, A),
            value: Value(A),
            quorum: 2
        }]
    );
    assert_eq!(persisted(&fx).unwrap().accepted, Some((b(1, A), Value(A))));
}

/// A proposer that has sent `Prepare(ballot)` (its timer fired with round `ballot.round - 1`
/// on disk).
fn preparing(id: NodeId, config: &PaxosConfig, round: u64) -> Paxos {
    let disk = Disk {
        state: Durable {
            round: round - 1,
            ..Durable::default()
        },
        log: Vec::new(),
    };
    let mut p = node(id, config, Some(&disk));
    let fx = step(&mut p, 0, |n, c| n.on_timer(c, Timer::Propose));
    assert_eq!(
        facts(&fx)[0],
        Fact::Began {
            ballot: b(round, id)
        }
    );
    p
}

#[test]
fn a_proposer_writes_its_round_before_it_prepares_and_never_reuses_it() {
    let config = two_proposers();
    let mut a = node(A, &config, None);
    let fx = step(&mut a, 0, |n, c| n.on_timer(c, Timer::Propose));
    let persist = fx.iter().position(|e| matches!(e, Effect::Persist(_)));
    let send = fx.iter().position(|e| matches!(e, Effect::Send { .. }));
    assert!(persist.unwrap() < send.unwrap());
    assert_eq!(persisted(&fx).unwrap().round, 1);
    assert_eq!(
        sent(&fx),
        [
            (B, Msg::Prepare { ballot: b(1, A) }),
            (C, Msg::Prepare { ballot: b(1, A) })
        ]
    );
    // Restarted from that disk, it begins above the round it used.
    let disk = Disk {
        state: persisted(&fx).unwrap(),
        log: Vec::new(),
    };
    let mut again = node(A, &config, Some(&disk));
    let fx = step(&mut again, 0, |n, c| n.on_timer(c, Timer::Propose));
    assert_eq!(facts(&fx)[0], Fact::Began { ballot: b(2, A) });
}

#[test]
fn a_promised_proposer_proposes_the_highest_accepted_value_not_its_own() {
    let config = PaxosConfig {
        proposers: Some(vec![1]),
        ..PaxosConfig::default()
    };
    let mut p = preparing(B, &config, 5);
    // Its own acceptor promised at once (nothing accepted); A reports 3.A's value, C an older
    // one of its own. A majority (two of three) is B and A.
    let fx = deliver(
        &mut p,
        A,
        Msg::Promise {
            ballot: b(5, B),
            accepted: Some((b(3, A), Value(A))),
        },
    );
    assert_eq!(
        facts(&fx)[0],
        Fact::Proposed {
            ballot: b(5, B),
            value: Value(A),
            own: false
        }
    );
    assert!(sent(&fx).contains(&(
        C,
        Msg::Accept {
            ballot: b(5, B),
            value: Value(A)
        }
    )));
}

#[test]
fn p2c_of_two_accepted_proposals_the_promises_report_the_proposer_takes_the_higher_numbered() {
    let config = PaxosConfig {
        proposers: Some(vec![1]),
        ..PaxosConfig::default()
    };
    // B's own acceptor accepted C's value in ballot 2.C; A reports its own from the later 3.A.
    // A value chosen in any ballot up to 3 is 3.A's (P2c held when 3.A was proposed), so only
    // 3.A's value is safe to propose: 2.C's may contradict a choice made in ballot 3.
    let disk = Disk {
        state: Durable {
            round: 4,
            promised: Some(b(2, C)),
            accepted: Some((b(2, C), Value(C))),
        },
        log: Vec::new(),
    };
    let mut p = node(B, &config, Some(&disk));
    let fx = step(&mut p, 0, |n, c| n.on_timer(c, Timer::Propose));
    assert_eq!(facts(&fx)[0], Fact::Began { ballot: b(5, B) });
    let fx = deliver(
        &mut p,
        A,
        Msg::Promise {
            ballot: b(5, B),
            accepted: Some((b(3, A), Value(A))),
        },
    );
    assert_eq!(
        facts(&fx)[0],
        Fact::Proposed {
            ballot: b(5, B),
            value: Value(A),
            own: false
        },
        "the value of the highest-numbered proposal, not of the lower 2.C"
    );
}

#[test]
fn the_broken_proposer_proposes_its_own_value_whatever_the_promises_say() {
    let config = PaxosConfig {
        proposers: Some(vec![1]),
        broken: Broken::IgnoreAccepted,
        ..PaxosConfig::default()
    };
    let mut p = preparing(B, &config, 5);
    let fx = deliver(
        &mut p,
        A,
        Msg::Promise {
            ballot: b(5, B),
            accepted: Some((b(3, A), Value(A))),
        },
    );
    assert_eq!(
        facts(&fx)[0],
        Fact::Proposed {
            ballot: b(5, B),
            value: Value(B),
            own: true
        }
    );
}

#[test]
fn a_proposer_stops_once_a_majority_accepted_its_ballot() {
    let mut a = preparing(A, &two_proposers(), 1);
    deliver(
        &mut a,
        C,
        Msg::Promise {
            ballot: b(1, A),
            accepted: None,
        },
    );
    // A accepted its own proposal through memory; C's acceptance makes two of three.
    let fx = deliver(
        &mut a,
        C,
        Msg::Accepted {
            ballot: b(1, A),
            value: Value(A),
        },
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::CancelTimer { .. })));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Fact(Fact::Learned { .. })))
    );
    assert_eq!(a.learned(), Some((b(1, A), Value(A))));
    let fx = step(&mut a, 0, |n, c| n.on_timer(c, Timer::Propose));
    assert!(fx.is_empty(), "done: no new ballot");
}

#[test]
fn without_backoff_a_preempted_proposer_outbids_at_once() {
    let config = PaxosConfig {
        retry: Retry::Immediate,
        ..two_proposers()
    };
    let mut a = preparing(A, &config, 1);
    // B's higher ballot reaches A's acceptor: A promises it, and at once prepares above it.
    let fx = deliver(&mut a, B, Msg::Prepare { ballot: b(1, B) });
    let s = sent(&fx);
    assert_eq!(
        s[0],
        (
            B,
            Msg::Promise {
                ballot: b(1, B),
                accepted: None
            }
        )
    );
    assert!(s.contains(&(C, Msg::Prepare { ballot: b(2, A) })), "{s:?}");
}

#[test]
fn with_backoff_a_preempted_proposer_waits_a_random_time_first() {
    let mut a = preparing(A, &two_proposers(), 1);
    let fx = deliver(&mut a, B, Msg::Prepare { ballot: b(1, B) });
    assert_eq!(sent(&fx).len(), 1, "only the promise: {fx:?}");
    let wait = fx.iter().find_map(|e| match e {
        Effect::SetTimer { after, .. } => Some(*after),
        _ => None,
    });
    assert!(wait.unwrap() <= 20 * MS, "within the first window");
    // A refusal of a ballot it has already abandoned changes nothing.
    let fx = deliver(
        &mut a,
        C,
        Msg::Nack {
            ballot: b(1, A),
            promised: b(1, B),
        },
    );
    assert!(fx.is_empty());
}

#[test]
fn a_restarted_acceptor_keeps_its_promise_and_a_forgetful_one_does_not() {
    let config = two_proposers();
    let mut c = acceptor_c(&config);
    let fx = deliver(
        &mut c,
        A,
        Msg::Accept {
            ballot: b(3, A),
            value: Value(A),
        },
    );
    let disk = Disk {
        state: persisted(&fx).unwrap(),
        log: Vec::new(),
    };
    let mut back = node(C, &config, Some(&disk));
    let fx = deliver(&mut back, B, Msg::Prepare { ballot: b(4, B) });
    assert_eq!(
        sent(&fx)[0].1,
        Msg::Promise {
            ballot: b(4, B),
            accepted: Some((b(3, A), Value(A)))
        }
    );

    let forgetful = PaxosConfig {
        broken: Broken::ForgetfulAcceptor,
        ..config
    };
    let mut c = acceptor_c(&forgetful);
    let fx = deliver(
        &mut c,
        A,
        Msg::Accept {
            ballot: b(3, A),
            value: Value(A),
        },
    );
    let disk = Disk {
        state: persisted(&fx).unwrap(),
        log: Vec::new(),
    };
    assert_eq!(disk.state.accepted, None, "kept in memory only");
    let mut back = node(C, &forgetful, Some(&disk));
    let fx = deliver(&mut back, B, Msg::Prepare { ballot: b(1, B) });
    assert_eq!(
        sent(&fx)[0].1,
        Msg::Promise {
            ballot: b(1, B),
            accepted: None
        },
        "it promises a ballot below the one it accepted, and reports nothing"
    );
}

// ---- the invariants -----------------------------------------------------------------------

fn view(now: Nanos) -> View {
    View::new(&["A", "B", "C"], now)
}

fn accepted(round: u64, proposer: NodeId, value: NodeId) -> Fact {
    Fact::Accepted {
        ballot: b(round, proposer),
        value: Value(value),
        quorum: 2,
    }
}

fn build(name: &str, bound: Option<Nanos>) -> Box<dyn Invariant> {
    let entry = Paxos::invariants()
        .into_iter()
        .find(|i| i.info.name == name)
        .unwrap();
    (entry.build)(3, bound)
}

#[test]
fn agreement_fails_when_a_second_value_is_chosen() {
    let v = view(0);
    let mut check = build("agreement", None);
    check.on_fact(10 * MS, 0, &accepted(1, A, A), &v);
    check.on_fact(11 * MS, 2, &accepted(1, A, A), &v);
    assert_eq!(check.status(), Status::Pass);
    check.on_fact(300 * MS, 1, &accepted(2, B, B), &v);
    assert_eq!(check.status(), Status::Pass, "one acceptor is no majority");
    check.on_fact(301 * MS, 2, &accepted(2, B, B), &v);
    let Status::Violated(violation) = check.status() else {
        panic!("two values chosen passed")
    };
    assert_eq!(violation.at, 301 * MS);
    assert_eq!(
        violation.message,
        "two values chosen: A's value in ballot 1.A and B's value in ballot 2.B"
    );
    assert_eq!(
        violation.evidence[1],
        "B's value chosen at 0.301s: accepted by {B,C}"
    );
}

#[test]
fn agreement_holds_when_a_later_ballot_chooses_the_same_value() {
    let v = view(0);
    let mut check = build("agreement", None);
    for (at, node, fact) in [
        (10, 0, accepted(1, A, A)),
        (11, 2, accepted(1, A, A)),
        (300, 1, accepted(2, B, A)),
        (301, 2, accepted(2, B, A)),
    ] {
        check.on_fact(at * MS, node, &fact, &v);
    }
    for node in 0..3 {
        check.on_fact(
            400 * MS,
            node,
            &Fact::Learned {
                ballot: b(2, B),
                value: Value(A),
            },
            &v,
        );
    }
    assert_eq!(check.status(), Status::Pass);
    assert_eq!(
        check.detail(&v).as_deref(),
        Some("A's value chosen in ballot 1.A at 0.011s")
    );
}

#[test]
fn agreement_fails_when_learners_learn_different_values() {
    let v = view(0);
    let mut check = build("agreement", None);
    check.on_fact(
        5 * MS,
        0,
        &Fact::Learned {
            ballot: b(1, A),
            value: Value(A),
        },
        &v,
    );
    check.on_fact(
        9 * MS,
        2,
        &Fact::Learned {
            ballot: b(2, B),
            value: Value(B),
        },
        &v,
    );
    let Status::Violated(violation) = check.status() else {
        panic!("two learned values passed")
    };
    assert_eq!(violation.nodes, ["A", "C"]);
    assert!(
        violation.message.starts_with("C learned B's value"),
        "{}",
        violation.message
    );
}

#[test]
fn validity_fails_for_a_value_nobody_proposed_and_holds_for_a_proposed_one() {
    let v = view(0);
    let proposed = Fact::Proposed {
        ballot: b(1, A),
        value: Value(A),
        own: true,
    };
    let mut sound = build("validity", None);
    sound.on_fact(MS, 0, &proposed, &v);
    sound.on_fact(2 * MS, 0, &accepted(1, A, A), &v);
    sound.on_fact(2 * MS, 1, &accepted(1, A, A), &v);
    sound.on_fact(
        3 * MS,
        1,
        &Fact::Learned {
            ballot: b(1, A),
            value: Value(A),
        },
        &v,
    );
    assert_eq!(sound.status(), Status::Pass);

    let mut broken = build("validity", None);
    broken.on_fact(MS, 0, &proposed, &v);
    broken.on_fact(2 * MS, 0, &accepted(1, A, C), &v);
    broken.on_fact(2 * MS, 1, &accepted(1, A, C), &v);
    let Status::Violated(violation) = broken.status() else {
        panic!("an unproposed value passed")
    };
    assert_eq!(
        violation.message,
        "C's value was chosen in ballot 1.A, but no proposer proposed it"
    );
}

#[test]
fn decided_within_fails_when_the_duel_never_ends_and_holds_when_a_value_is_chosen() {
    let bound = Some(2_000 * MS);
    let mut duel = build("decided_within", bound);
    for round in 1..=100u64 {
        let who = if round % 2 == 1 { A } else { B };
        duel.on_fact(
            round * 10 * MS,
            who.0,
            &Fact::Began {
                ballot: b(round, who),
            },
            &view(0),
        );
    }
    duel.on_end(&view(3_000 * MS));
    let Status::Violated(violation) = duel.status() else {
        panic!("a livelock passed")
    };
    assert_eq!(violation.at, 2_000 * MS);
    assert_eq!(
        violation.message,
        "no value was chosen within 2s of the start: 100 ballots begun and none accepted by a \
         majority"
    );
    assert_eq!(
        violation.evidence.last().unwrap(),
        "1.000s begins ballot 100.B"
    );

    let mut decided = build("decided_within", bound);
    decided.on_fact(30 * MS, 0, &accepted(1, A, A), &view(0));
    decided.on_fact(31 * MS, 1, &accepted(1, A, A), &view(0));
    decided.on_end(&view(3_000 * MS));
    assert_eq!(decided.status(), Status::Pass);

    // A run that ends before the bound has passed cannot tell.
    let mut short = build("decided_within", bound);
    short.on_end(&view(1_000 * MS));
    assert!(matches!(short.status(), Status::Unknown(_)));
}

#[test]
fn decided_within_counts_from_the_last_fault() {
    let mut check = build("decided_within", Some(1_000 * MS));
    let crash = FaultRecord {
        at: 5_000 * MS,
        origin: Origin::Nemesis,
        written: "crash".into(),
        applied: Applied::Crash { nodes: vec![0] },
        lasting: None,
        dynamic: false,
    };
    check.on_fault(crash.at, &crash, &view(0));
    check.on_fact(5_500 * MS, 0, &accepted(1, A, A), &view(0));
    check.on_fact(5_600 * MS, 1, &accepted(1, A, A), &view(0));
    check.on_end(&view(7_000 * MS));
    assert_eq!(
        check.status(),
        Status::Pass,
        "chosen 600ms after the last fault"
    );
}
