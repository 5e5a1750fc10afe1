//! Oral messages driven by hand, one handler at a time, and its invariants fed facts by hand:
//! each step of OM(m) (seed text 004, 「2.3.5 拜占庭将军问题」, and the paper's §3), the
//! traitor's conflicting orders, and each invariant failing on a broken run and holding on a
//! sound one.

use super::*;
use crate::node::testing::{View, facts, sent, timer_set};
use crate::node::{Applied, Effect, FaultRecord, Invariant, Nanos, Origin, Rng, Status, Stream};

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const C: NodeId = NodeId(2);
const D: NodeId = NodeId(3);
const MS: Nanos = 1_000_000;

fn general(id: NodeId, n: u32, config: &OralConfig) -> OralMessages {
    let peers: Vec<NodeId> = (0..n).map(NodeId).filter(|&p| p != id).collect();
    OralMessages::new(id, &peers, config, None)
}

/// Runs one handler of `g` in a cluster of `n`, with its stream drawn from `seed`, loyal or a
/// traitor.
fn step(
    g: &mut OralMessages,
    n: u32,
    seed: u64,
    traitor: bool,
    now: i64,
    f: impl FnOnce(&mut OralMessages, &mut Ctx<'_, OralMessages>),
) -> Vec<Effect<OralMessages>> {
    let id = g.id;
    let peers: Vec<NodeId> = (0..n).map(NodeId).filter(|&p| p != id).collect();
    let mut rng = Rng::derive(seed, Stream::Node(id.0));
    let mut effects = Vec::new();
    let mut ctx = Ctx::new(id, &peers, now, now, &mut rng, &mut effects).with_traitor(traitor);
    f(g, &mut ctx);
    effects
}

fn order(path: &[NodeId], order: Order) -> Msg {
    Msg::Order {
        path: path.to_vec(),
        order,
    }
}

fn attack_config() -> OralConfig {
    OralConfig {
        order: Command::Attack,
        ..OralConfig::default()
    }
}

#[test]
fn the_commander_waits_for_command_at_and_lieutenants_for_decide_at() {
    let config = OralConfig::default();
    let fx = step(&mut general(A, 4, &config), 4, 1, false, 0, |g, c| {
        g.on_start(c)
    });
    assert_eq!(timer_set(&fx, Timer::Command), Some(10 * MS));
    let fx = step(&mut general(B, 4, &config), 4, 1, false, 0, |g, c| {
        g.on_start(c)
    });
    assert_eq!(timer_set(&fx, Timer::Decide), Some(1_000 * MS));
    // Restarted after its moment, a general does not act twice.
    let fx = step(
        &mut general(A, 4, &config),
        4,
        1,
        false,
        20 * MS as i64,
        |g, c| g.on_start(c),
    );
    assert_eq!(timer_set(&fx, Timer::Command), None);
}

#[test]
fn a_loyal_commander_sends_every_lieutenant_the_same_order() {
    // Step 1: 「司令发送命令给他的 n - 1 个中尉」.
    let fx = step(
        &mut general(A, 4, &attack_config()),
        4,
        1,
        false,
        0,
        |g, c| g.on_timer(c, Timer::Command),
    );
    assert_eq!(
        sent(&fx),
        [
            (B, order(&[A], Order::Attack)),
            (C, order(&[A], Order::Attack)),
            (D, order(&[A], Order::Attack)),
        ]
    );
    assert_eq!(
        facts(&fx),
        [Fact::Commanded {
            order: Order::Attack,
            sent: vec![(B, Order::Attack), (C, Order::Attack), (D, Order::Attack)],
        }]
    );
}

#[test]
fn a_traitor_commander_tells_different_lieutenants_different_orders_drawn_from_its_stream() {
    // 「叛徒会给其他将军发送错误或干扰命令」: each order is a fresh draw, so over seeds some
    // lieutenants hear attack and others retreat; the same seed draws the same lies.
    let mut conflicting = 0;
    for seed in 0..20 {
        let run = || {
            step(
                &mut general(A, 4, &attack_config()),
                4,
                seed,
                true,
                0,
                |g, c| g.on_timer(c, Timer::Command),
            )
        };
        let fx = run();
        let told: Vec<Order> = sent(&fx)
            .iter()
            .map(|(_, m)| match m {
                Msg::Order { order, .. } => *order,
            })
            .collect();
        let Fact::Commanded {
            order,
            sent: stated,
        } = &facts(&fx)[0]
        else {
            panic!("the commander states its orders")
        };
        assert_eq!(*order, Order::Attack, "its own order is still attack");
        assert_eq!(
            stated.iter().map(|&(_, o)| o).collect::<Vec<_>>(),
            told,
            "the fact says what was actually sent"
        );
        assert_eq!(sent(&run()), sent(&fx), "deterministic per seed");
        if told.contains(&Order::Attack) && told.contains(&Order::Retreat) {
            conflicting += 1;
        }
    }
    assert!(conflicting >= 10, "{conflicting} of 20 seeds conflicted");
}

#[test]
fn a_lieutenant_relays_once_to_every_general_not_on_the_path_and_stops_at_m() {
    // Step 2: 「中尉 i 将收到的命令传递给其他中尉」.
    let config = OralConfig::default(); // m = 1
    let mut b = general(B, 4, &config);
    let fx = step(&mut b, 4, 1, false, 0, |g, c| {
        g.on_message(c, A, order(&[A], Order::Attack))
    });
    assert_eq!(
        sent(&fx),
        [
            (C, order(&[A, B], Order::Attack)),
            (D, order(&[A, B], Order::Attack)),
        ]
    );
    // A duplicate changes nothing and is not relayed again.
    let fx = step(&mut b, 4, 1, false, 0, |g, c| {
        g.on_message(c, A, order(&[A], Order::Retreat))
    });
    assert!(fx.is_empty());
    // A relay on a path of length m + 1 is filed, not relayed further.
    let fx = step(&mut b, 4, 1, false, 0, |g, c| {
        g.on_message(c, C, order(&[A, C], Order::Attack))
    });
    assert!(fx.is_empty());
    // A path whose last general is not the sender is a forgery (oral messages name their
    // sender): ignored. So is one longer than m + 1.
    let fx = step(&mut b, 4, 1, false, 0, |g, c| {
        g.on_message(c, D, order(&[A, C], Order::Retreat))
    });
    assert!(fx.is_empty());
    assert_eq!(b.heard.len(), 2, "[A] and [A, C]");
    // OM(2) relays the second hop as well.
    let deep = OralConfig {
        m: 2,
        ..OralConfig::default()
    };
    let fx = step(&mut general(B, 4, &deep), 4, 1, false, 0, |g, c| {
        g.on_message(c, C, order(&[A, C], Order::Retreat))
    });
    assert_eq!(sent(&fx), [(D, order(&[A, C, B], Order::Retreat))]);
}

#[test]
fn a_traitor_lieutenant_relays_lies_drawn_per_receiver() {
    let seeds_with_a_lie = (0..20)
        .filter(|&seed| {
            let fx = step(
                &mut general(D, 4, &attack_config()),
                4,
                seed,
                true,
                0,
                |g, c| g.on_message(c, A, order(&[A], Order::Attack)),
            );
            let relays = sent(&fx);
            assert_eq!(
                relays.len(),
                2,
                "it keeps the rhythm: B and C each hear something"
            );
            relays
                .iter()
                .any(|(_, m)| *m != order(&[A, D], Order::Attack))
        })
        .count();
    assert!(seeds_with_a_lie >= 10, "{seeds_with_a_lie}");
}

#[test]
fn a_lieutenant_decides_by_majority_and_states_its_votes() {
    // Step 3 and the paper's Fig. 3: D, a traitor, tells B "retreat"; B attacks.
    let mut b = general(B, 4, &OralConfig::default());
    for (from, path, o) in [
        (A, vec![A], Order::Attack),
        (C, vec![A, C], Order::Attack),
        (D, vec![A, D], Order::Retreat),
    ] {
        step(&mut b, 4, 1, false, 0, |g, c| {
            g.on_message(c, from, order(&path, o))
        });
    }
    let fx = step(&mut b, 4, 1, false, 0, |g, c| g.on_timer(c, Timer::Decide));
    assert_eq!(
        facts(&fx),
        [Fact::Decided {
            order: Order::Attack,
            votes: vec![(A, Order::Attack), (C, Order::Attack), (D, Order::Retreat)],
        }]
    );
    assert_eq!(b.decided(), Some(Order::Attack));
    // Orders arriving after the decision change nothing.
    let fx = step(&mut b, 4, 1, false, 0, |g, c| {
        g.on_message(c, C, order(&[A, C], Order::Retreat))
    });
    assert!(fx.is_empty());
}

// ---- the invariants -----------------------------------------------------------------------

fn view() -> View {
    View::new(&["A", "B", "C", "D"], 0)
}

fn traitor(nodes: &[u32]) -> FaultRecord {
    FaultRecord {
        at: 0,
        origin: Origin::Schedule(0),
        written: "byzantine".into(),
        applied: Applied::Traitor {
            nodes: nodes.to_vec(),
        },
        lasting: None,
        dynamic: false,
    }
}

fn decided(o: Order, votes: &[(NodeId, Order)]) -> Fact {
    Fact::Decided {
        order: o,
        votes: votes.to_vec(),
    }
}

fn commanded(o: Order) -> Fact {
    Fact::Commanded {
        order: o,
        sent: vec![(B, o), (C, o)],
    }
}

fn feed(inv: &mut dyn Invariant, traitors: &[u32], facts: &[(u32, Fact)]) -> Status {
    let v = view();
    if !traitors.is_empty() {
        inv.on_fault(0, &traitor(traitors), &v);
    }
    for (i, (node, f)) in facts.iter().enumerate() {
        inv.on_fact(i as Nanos * MS, *node, f, &v);
    }
    inv.status()
}

#[test]
fn agreement_fails_when_two_loyal_lieutenants_decide_differently() {
    // Three generals, commander A a traitor... with B and C loyal and deciding apart (what a
    // broken majority would give): IC1 fails, naming both.
    let mut inv = invariants::Agreement::default();
    let status = feed(
        &mut inv,
        &[0],
        &[
            (
                1,
                decided(Order::Attack, &[(A, Order::Attack), (C, Order::Attack)]),
            ),
            (
                2,
                decided(Order::Retreat, &[(A, Order::Retreat), (B, Order::Retreat)]),
            ),
        ],
    );
    let Status::Violated(v) = status else {
        panic!("{status:?}")
    };
    assert_eq!(v.nodes, ["B", "C"]);
    assert!(
        v.message
            .contains("B decided attack but C decided retreat (traitors: A)"),
        "{}",
        v.message
    );
    assert!(
        v.evidence[0].contains("from A attack, C attack"),
        "{:?}",
        v.evidence
    );
}

#[test]
fn agreement_holds_when_only_a_traitor_decides_differently() {
    let mut inv = invariants::Agreement::default();
    let status = feed(
        &mut inv,
        &[3],
        &[
            (1, decided(Order::Attack, &[])),
            (2, decided(Order::Attack, &[])),
            (3, decided(Order::Retreat, &[])),
        ],
    );
    assert_eq!(status, Status::Pass);
    assert_eq!(
        inv.detail(&view()).unwrap(),
        "loyal {B,C} decided attack (traitors: D)"
    );
}

#[test]
fn validity_fails_when_a_loyal_lieutenant_disobeys_a_loyal_commander() {
    // The paper's Fig. 1: three generals, C a traitor, tells B "A said retreat": B cannot
    // tell and, on the tie, retreats against its loyal commander's attack.
    let mut inv = invariants::Validity::default();
    let status = feed(
        &mut inv,
        &[2],
        &[
            (0, commanded(Order::Attack)),
            (
                1,
                decided(Order::Retreat, &[(A, Order::Attack), (C, Order::Retreat)]),
            ),
        ],
    );
    let Status::Violated(v) = status else {
        panic!("{status:?}")
    };
    assert_eq!(v.nodes, ["A", "B"]);
    assert_eq!(
        v.message,
        "the loyal commander A ordered attack but loyal B decided retreat (traitors: C)"
    );
}

#[test]
fn validity_holds_when_loyal_lieutenants_obey_or_the_commander_is_a_traitor() {
    let mut obeyed = invariants::Validity::default();
    let status = feed(
        &mut obeyed,
        &[3],
        &[
            (0, commanded(Order::Attack)),
            (1, decided(Order::Attack, &[])),
            (2, decided(Order::Attack, &[])),
            (3, decided(Order::Retreat, &[])),
        ],
    );
    assert_eq!(status, Status::Pass);
    assert_eq!(
        obeyed.detail(&view()).unwrap(),
        "the loyal commander A ordered attack; {B,C} obeyed"
    );
    // A traitor commander: IC2 asks nothing, whatever the lieutenants decide.
    let mut vacuous = invariants::Validity::default();
    let status = feed(
        &mut vacuous,
        &[0],
        &[
            (0, commanded(Order::Attack)),
            (1, decided(Order::Retreat, &[])),
        ],
    );
    assert_eq!(status, Status::Pass);
    assert!(vacuous.detail(&view()).unwrap().contains("is a traitor"));
}
