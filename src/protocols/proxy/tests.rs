//! Unit tests: a sender's routing, resends and heartbeat; a proxy forwarding with no state;
//! the backend in either order; each invariant failing on a broken run and holding on a
//! correct one.

use crate::node::{
    Applied, Duration, Effect, FaultRecord, Invariant, LocalNanos, Nanos, NodeId, Observation,
    Origin, Protocol, Status,
};

use crate::node::testing::{View, facts, peers_of, sent};

use super::invariants::{FifoPerSender, NoLostMessage};
use super::{Msg, Order, ProxyConfig, ProxyFact, ProxyNode, Routing, Timer};

const MS: i64 = 1_000_000;
const M: Nanos = 1_000_000;
const BACKEND: NodeId = NodeId(0);
const P1: NodeId = NodeId(1);
const P2: NodeId = NodeId(2);
const S1: NodeId = NodeId(3);
const S2: NodeId = NodeId(4);

fn config(routing: Routing, order: Order) -> ProxyConfig {
    ProxyConfig {
        routing,
        order,
        ..ProxyConfig::default()
    }
}

fn node(id: NodeId, cfg: &ProxyConfig) -> ProxyNode {
    ProxyNode::new(id, &peers_of(id, 5), cfg, None)
}

fn step(
    n: &mut ProxyNode,
    id: NodeId,
    now: LocalNanos,
    f: impl FnOnce(&mut ProxyNode, &mut crate::node::Ctx<'_, ProxyNode>),
) -> Vec<Effect<ProxyNode>> {
    crate::node::step(n, id, &peers_of(id, 5), now, f)
}

fn timer(n: &mut ProxyNode, id: NodeId, now: LocalNanos, t: Timer) -> Vec<Effect<ProxyNode>> {
    step(n, id, now, |n, c| n.on_timer(c, t))
}

fn msg(
    n: &mut ProxyNode,
    id: NodeId,
    from: NodeId,
    now: LocalNanos,
    m: Msg,
) -> Vec<Effect<ProxyNode>> {
    step(n, id, now, |n, c| n.on_message(c, from, m))
}

fn observed(fx: &[Effect<ProxyNode>]) -> Vec<Observation> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Observe(o) => Some(o.clone()),
            _ => None,
        })
        .collect()
}

/// The proxies a sender's first `n` messages go to.
fn routes(cfg: &ProxyConfig, id: NodeId, n: i64) -> Vec<NodeId> {
    let mut s = node(id, cfg);
    (1..=n)
        .map(|k| {
            let fx = timer(&mut s, id, k * 20 * MS, Timer::Next);
            sent(&fx)[0].0
        })
        .collect()
}

// ---- senders -------------------------------------------------------------------------------

#[test]
fn sticky_senders_keep_one_proxy_each_and_round_robin_alternates() {
    let sticky = config(Routing::Sticky, Order::Arrival);
    assert_eq!(routes(&sticky, S1, 4), [P1; 4]);
    assert_eq!(routes(&sticky, S2, 4), [P2; 4]);
    let rr = config(Routing::RoundRobin, Order::Arrival);
    assert_eq!(routes(&rr, S1, 4), [P1, P2, P1, P2]);
    // `step` starts the node's stream afresh each time: draw forty picks in one handler.
    let random = config(Routing::Random, Order::Arrival);
    let mut s = node(S1, &random);
    let fx = step(&mut s, S1, 0, |n, c| {
        for _ in 0..40 {
            n.on_timer(c, Timer::Next);
        }
    });
    let picks: Vec<NodeId> = sent(&fx).into_iter().map(|(to, _)| to).collect();
    assert!(picks.contains(&P1) && picks.contains(&P2), "{picks:?}");
}

#[test]
fn a_sender_numbers_its_messages_and_resends_an_unacknowledged_one() {
    let cfg = config(Routing::Sticky, Order::Arrival);
    let mut s = node(S1, &cfg);
    let fx = timer(&mut s, S1, 20 * MS, Timer::Next);
    assert_eq!(sent(&fx), [(P1, Msg::Send { seq: 1 })]);
    assert_eq!(
        facts(&fx),
        [ProxyFact::Sent {
            seq: 1,
            via: P1,
            attempt: 1
        }]
    );
    let fx = timer(&mut s, S1, 320 * MS, Timer::Retry(1));
    assert_eq!(
        facts(&fx),
        [ProxyFact::Sent {
            seq: 1,
            via: P1,
            attempt: 2
        }]
    );
    // Acknowledged: the resend timer is cancelled, and a late one sends nothing.
    let fx = msg(&mut s, S1, P1, 330 * MS, Msg::Acked { seq: 1 });
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::CancelTimer {
            timer: Timer::Retry(1)
        }
    )));
    assert!(sent(&timer(&mut s, S1, 620 * MS, Timer::Retry(1))).is_empty());
}

#[test]
fn the_heartbeat_suspects_a_silent_proxy_routes_around_it_and_trusts_it_again() {
    let cfg = config(Routing::Sticky, Order::Arrival);
    let mut s = node(S1, &cfg);
    // p2 answers every ping, p1 none.
    let mut fx = Vec::new();
    for k in 1..=4 {
        fx = timer(&mut s, S1, k * 50 * MS, Timer::Ping);
        for (to, m) in sent(&fx) {
            if let (P2, Msg::Ping { seq }) = (to, m) {
                msg(&mut s, S1, P2, k * 50 * MS + MS, Msg::Pong { seq });
            }
        }
    }
    assert_eq!(observed(&fx), [Observation::Suspect { peer: P1 }]);
    let fx = timer(&mut s, S1, 210 * MS, Timer::Next);
    assert_eq!(
        sent(&fx),
        [(P2, Msg::Send { seq: 1 })],
        "s1's own proxy is suspected"
    );
    // p1 answers again: trusted, and s1 goes back to it.
    let fx = timer(&mut s, S1, 250 * MS, Timer::Ping);
    let Some((_, Msg::Ping { seq })) = sent(&fx).into_iter().find(|(to, _)| *to == P1) else {
        panic!("a suspected proxy is still pinged: {fx:?}");
    };
    let fx = msg(&mut s, S1, P1, 251 * MS, Msg::Pong { seq });
    assert_eq!(observed(&fx), [Observation::Trust { peer: P1 }]);
    let fx = timer(&mut s, S1, 260 * MS, Timer::Next);
    assert_eq!(sent(&fx), [(P1, Msg::Send { seq: 2 })]);
}

// ---- proxies and the backend ---------------------------------------------------------------

#[test]
fn a_proxy_forwards_both_ways_from_the_message_alone() {
    let cfg = ProxyConfig::default();
    let mut p = node(P2, &cfg);
    let fx = msg(&mut p, P2, S1, 0, Msg::Send { seq: 4 });
    assert_eq!(sent(&fx), [(BACKEND, Msg::Forward { sender: S1, seq: 4 })]);
    let fx = msg(&mut p, P2, BACKEND, 0, Msg::Ack { sender: S1, seq: 4 });
    assert_eq!(sent(&fx), [(S1, Msg::Acked { seq: 4 })]);
    let fx = msg(&mut p, P2, S2, 0, Msg::Ping { seq: 9 });
    assert_eq!(sent(&fx), [(S2, Msg::Pong { seq: 9 })]);
}

fn forward(b: &mut ProxyNode, via: NodeId, seq: u64) -> Vec<ProxyFact> {
    let fx = msg(b, BACKEND, via, 0, Msg::Forward { sender: S1, seq });
    facts(&fx)
        .into_iter()
        .filter(|f| !matches!(f, ProxyFact::Arrived { .. }))
        .collect()
}

#[test]
fn an_arrival_backend_applies_in_the_networks_order_copies_included() {
    let mut b = node(BACKEND, &config(Routing::Sticky, Order::Arrival));
    let applied = |seq| ProxyFact::Applied { sender: S1, seq };
    assert_eq!(forward(&mut b, P2, 2), [applied(2)]);
    assert_eq!(forward(&mut b, P1, 1), [applied(1)]);
    assert_eq!(forward(&mut b, P1, 1), [applied(1)]);
}

#[test]
fn a_sequence_backend_holds_early_messages_fills_the_gap_and_drops_copies() {
    let mut b = node(BACKEND, &config(Routing::Sticky, Order::Sequence));
    let applied = |seq| ProxyFact::Applied { sender: S1, seq };
    assert_eq!(
        forward(&mut b, P2, 2),
        [ProxyFact::Held {
            sender: S1,
            seq: 2,
            next: 1
        }]
    );
    assert_eq!(
        forward(&mut b, P2, 3),
        [ProxyFact::Held {
            sender: S1,
            seq: 3,
            next: 1
        }]
    );
    assert_eq!(forward(&mut b, P1, 1), [applied(1), applied(2), applied(3)]);
    // A late copy through the other proxy: dropped, and acknowledged again.
    let fx = msg(&mut b, BACKEND, P1, 0, Msg::Forward { sender: S1, seq: 2 });
    assert!(facts(&fx).contains(&ProxyFact::Dropped { sender: S1, seq: 2 }));
    assert_eq!(sent(&fx), [(P1, Msg::Ack { sender: S1, seq: 2 })]);
}

#[test]
fn validate_names_the_bad_field() {
    let bad = |cfg: ProxyConfig, n| {
        let e = ProxyNode::validate(&cfg, n).unwrap_err();
        format!("{}: {}", e.field, e.message)
    };
    let zero = ProxyConfig {
        proxies: 0,
        ..ProxyConfig::default()
    };
    assert!(bad(zero, 5).contains("proxies"));
    assert!(bad(ProxyConfig::default(), 3).contains("at least 4 nodes"));
    let ping = ProxyConfig {
        ping_interval: Duration::ZERO,
        ..ProxyConfig::default()
    };
    assert!(bad(ping, 5).contains("ping_interval"));
    let no_failover = ProxyConfig {
        failover: false,
        ping_interval: Duration::ZERO,
        ..ProxyConfig::default()
    };
    assert!(ProxyNode::validate(&no_failover, 5).is_ok());
}

// ---- invariants ----------------------------------------------------------------------------

fn view(now: Nanos) -> View {
    View::new(&["backend", "p1", "p2", "s1", "s2"], now)
}

fn fact(check: &mut dyn Invariant, at: Nanos, node: NodeId, f: ProxyFact) {
    check.on_fact(at, node.0, &f, &view(at));
}

/// s1 sends `seq` by `via` at `at`; it arrives and is applied `delay` later.
fn journey(check: &mut dyn Invariant, at: Nanos, seq: u64, via: NodeId, delay: Option<Nanos>) {
    fact(
        check,
        at,
        S1,
        ProxyFact::Sent {
            seq,
            via,
            attempt: 1,
        },
    );
    if let Some(d) = delay {
        let sender = S1;
        fact(
            check,
            at + d,
            BACKEND,
            ProxyFact::Arrived { sender, seq, via },
        );
        fact(check, at + d, BACKEND, ProxyFact::Applied { sender, seq });
    }
}

fn crash(check: &mut dyn Invariant, at: Nanos, node: NodeId) {
    let record = FaultRecord {
        at,
        origin: Origin::Schedule(0),
        written: "p1".into(),
        applied: Applied::Crash {
            nodes: vec![node.0],
        },
        lasting: None,
        dynamic: false,
    };
    check.on_fault(at, &record, &view(at));
}

#[test]
fn fifo_per_sender_fails_when_a_message_by_another_proxy_overtakes() {
    let mut check = FifoPerSender::default();
    journey(&mut check, 10 * M, 1, P1, Some(5 * M));
    // 2 by p1 is slow; 3 by p2 is fast and arrives first.
    fact(
        &mut check,
        20 * M,
        S1,
        ProxyFact::Sent {
            seq: 2,
            via: P1,
            attempt: 1,
        },
    );
    journey(&mut check, 25 * M, 3, P2, Some(2 * M));
    assert_eq!(check.status(), Status::Pass);
    fact(
        &mut check,
        40 * M,
        BACKEND,
        ProxyFact::Arrived {
            sender: S1,
            seq: 2,
            via: P1,
        },
    );
    fact(
        &mut check,
        40 * M,
        BACKEND,
        ProxyFact::Applied { sender: S1, seq: 2 },
    );
    let Status::Violated(v) = check.status() else {
        panic!("an overtaken message passed");
    };
    assert_eq!(v.at, 40 * M);
    assert_eq!(v.nodes, ["s1", "p1", "p2", "backend"]);
    assert_eq!(
        v.message,
        "the backend applied message 2 of s1 after message 3: message 3 overtook it"
    );
    assert_eq!(
        v.evidence,
        [
            "0.020s s1 sent message 2 through p1",
            "0.025s s1 sent message 3 through p2",
            "0.027s message 3 of s1 arrived at the backend from p2",
            "0.027s the backend applied message 3 of s1",
            "0.040s message 2 of s1 arrived at the backend from p1",
            "0.040s the backend applied message 2 of s1",
        ]
    );
}

#[test]
fn fifo_per_sender_fails_on_a_copy_applied_twice_and_holds_on_order() {
    let mut check = FifoPerSender::default();
    for seq in 1..=3 {
        journey(&mut check, seq * 10 * M, seq, P1, Some(3 * M));
    }
    assert_eq!(check.status(), Status::Pass, "in order, each once");
    fact(
        &mut check,
        50 * M,
        BACKEND,
        ProxyFact::Applied { sender: S1, seq: 3 },
    );
    let Status::Violated(v) = check.status() else {
        panic!("a duplicate passed");
    };
    assert!(
        v.message
            .contains("message 3 of s1 a second time (first at 0.033s)")
    );
}

#[test]
fn no_lost_message_counts_from_the_last_fault_and_names_the_crash() {
    let mut check = NoLostMessage::new(2_000 * M);
    journey(&mut check, 100 * M, 1, P1, Some(5 * M));
    journey(&mut check, 1_000 * M, 2, P1, None);
    crash(&mut check, 1_001 * M, P1);
    check.on_end(&view(4_000 * M));
    let Status::Violated(v) = check.status() else {
        panic!("a lost message passed");
    };
    assert_eq!(v.at, 3_001 * M, "2s from the crash, after the send");
    assert!(v.message.starts_with("message 2 of s1, first sent at 1.000s, was not applied by the backend within 2s of the last fault at 1.001s"), "{}", v.message);
    assert_eq!(
        v.evidence,
        ["1.000s s1 sent message 2 through p1", "1.001s p1 crashed"]
    );
}

#[test]
fn no_lost_message_holds_when_every_message_is_applied_and_is_unknown_when_cut_short() {
    let mut check = NoLostMessage::new(2_000 * M);
    journey(&mut check, 100 * M, 1, P1, Some(5 * M));
    journey(&mut check, 200 * M, 2, P2, Some(5 * M));
    check.on_end(&view(4_000 * M));
    assert_eq!(check.status(), Status::Pass);
    let mut short = NoLostMessage::new(2_000 * M);
    journey(&mut short, 100 * M, 1, P1, None);
    crash(&mut short, 1_000 * M, P1);
    short.on_end(&view(2_500 * M));
    assert!(
        matches!(short.status(), Status::Unknown(_)),
        "{:?}",
        short.status()
    );
}
