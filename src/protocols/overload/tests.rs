//! A front service and its downstream driven by hand: queueing behind one worker, the token
//! bucket refusing a burst, and the breaker opening, refusing, probing and closing.

use super::*;
use crate::node::testing::{facts, sent, timer_set};
use crate::node::{ClientId, Effect, LocalNanos};

const MS: LocalNanos = 1_000_000;

fn front(config: &OverloadConfig) -> Overload {
    let mut n = Overload::new(NodeId(0), &[NodeId(1)], config, None);
    at(&mut n, 0, |n, ctx| n.on_start(ctx));
    n
}

fn at(
    n: &mut Overload,
    now: LocalNanos,
    f: impl FnOnce(&mut Overload, &mut Ctx<'_, Overload>),
) -> Vec<Effect<Overload>> {
    crate::node::step(n, NodeId(0), &[NodeId(1)], now, f)
}

fn ask(seq: u64, op: ServiceOp) -> ClientRequest<Service> {
    ClientRequest {
        id: RequestId {
            client: ClientId(0),
            seq,
        },
        op,
    }
}

fn replies(fx: &[Effect<Overload>]) -> Vec<(u64, Result<(), String>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Reply { request, reply } => Some((
                request.seq,
                match reply {
                    Reply::Ok(_) => Ok(()),
                    Reply::Fail { reason } => Err(reason.clone()),
                    Reply::NotLeader { .. } => Err("not leader".into()),
                },
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn one_worker_serves_in_arrival_order_and_the_queue_refuses_beyond_its_places() {
    let config = OverloadConfig {
        queue: 1,
        ..OverloadConfig::default()
    };
    let mut n = front(&config);
    let fx = at(&mut n, 0, |n, ctx| {
        n.on_request(ctx, ask(1, ServiceOp::Local))
    });
    assert_eq!(timer_set(&fx, Timer::Done(0)), Some(10 * MS as u64));
    let fx = at(&mut n, 1, |n, ctx| {
        n.on_request(ctx, ask(2, ServiceOp::Local))
    });
    assert!(matches!(
        facts(&fx)[..],
        [OverloadFact::Accepted { queued: 1, .. }]
    ));
    let fx = at(&mut n, 2, |n, ctx| {
        n.on_request(ctx, ask(3, ServiceOp::Local))
    });
    assert_eq!(replies(&fx), [(3, Err("queue full".into()))]);
    let fx = at(&mut n, 10 * MS, |n, ctx| n.on_timer(ctx, Timer::Done(0)));
    assert_eq!(replies(&fx), [(1, Ok(()))]);
    assert!(timer_set(&fx, Timer::Done(0)).is_some(), "request 2 starts");
}

#[test]
fn the_token_bucket_refuses_a_burst_beyond_its_capacity_at_once() {
    let config = OverloadConfig {
        limiter: Limiter::TokenBucket,
        bucket_capacity: 2,
        bucket_rate: 100,
        ..OverloadConfig::default()
    };
    let mut n = front(&config);
    let mut refused = 0;
    for seq in 1..=5 {
        let fx = at(&mut n, 0, |n, ctx| {
            n.on_request(ctx, ask(seq, ServiceOp::Local))
        });
        refused += replies(&fx)
            .iter()
            .filter(|(_, r)| r.as_ref().is_err_and(|e| e == "rate limited"))
            .count();
    }
    assert_eq!(refused, 3, "two tokens, five requests at once");
    let fx = at(&mut n, 10 * MS, |n, ctx| {
        n.on_request(ctx, ask(6, ServiceOp::Local))
    });
    assert!(
        matches!(facts(&fx)[..], [OverloadFact::Accepted { .. }]),
        "a token dripped in"
    );
}

fn breaker_config() -> OverloadConfig {
    OverloadConfig {
        workers: 2,
        breaker: BreakerMode::CircuitBreaker,
        breaker_failures: 2,
        breaker_cooldown: Duration::from_millis(500),
        call_timeout: Duration::from_millis(100),
        ..OverloadConfig::default()
    }
}

use crate::node::Duration;

fn states(fx: &[Effect<Overload>]) -> Vec<(BreakerState, BreakerState)> {
    facts(fx)
        .into_iter()
        .filter_map(|f| match f {
            OverloadFact::Breaker { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect()
}

#[test]
fn without_a_breaker_a_waiting_call_holds_its_worker_and_local_requests_queue_behind() {
    let config = OverloadConfig {
        workers: 1,
        ..breaker_config()
    };
    let config = OverloadConfig {
        breaker: BreakerMode::None,
        ..config
    };
    let mut n = Overload::new(NodeId(0), &[NodeId(1)], &config, None);
    let fx = at(&mut n, 0, |n, ctx| {
        n.on_request(ctx, ask(1, ServiceOp::Remote))
    });
    assert!(matches!(
        sent(&fx)[..],
        [(NodeId(1), Msg::Call { call: 1, .. })]
    ));
    let fx = at(&mut n, 1, |n, ctx| {
        n.on_request(ctx, ask(2, ServiceOp::Local))
    });
    assert!(matches!(
        facts(&fx)[..],
        [OverloadFact::Accepted { queued: 1, .. }]
    ));
    let fx = at(&mut n, 100 * MS, |n, ctx| {
        n.on_timer(ctx, Timer::CallTimeout(1))
    });
    assert_eq!(replies(&fx), [(1, Err("downstream timeout".into()))]);
    assert!(
        timer_set(&fx, Timer::Done(0)).is_some(),
        "the local request only now"
    );
}

#[test]
fn the_breaker_opens_refuses_at_once_probes_and_closes() {
    let mut n = front(&breaker_config());
    for seq in 1..=2 {
        at(&mut n, 0, |n, ctx| {
            n.on_request(ctx, ask(seq, ServiceOp::Remote))
        });
    }
    at(&mut n, 100 * MS, |n, ctx| {
        n.on_timer(ctx, Timer::CallTimeout(1))
    });
    let fx = at(&mut n, 100 * MS, |n, ctx| {
        n.on_timer(ctx, Timer::CallTimeout(2))
    });
    assert_eq!(states(&fx), [(BreakerState::Closed, BreakerState::Open)]);
    // OPEN: a remote request is refused at once and sends nothing.
    let fx = at(&mut n, 200 * MS, |n, ctx| {
        n.on_request(ctx, ask(3, ServiceOp::Remote))
    });
    assert_eq!(replies(&fx), [(3, Err("circuit open".into()))]);
    assert!(sent(&fx).is_empty());
    // After the cool-down, one probe goes out; a second remote request is refused meanwhile.
    let fx = at(&mut n, 600 * MS, |n, ctx| {
        n.on_request(ctx, ask(4, ServiceOp::Remote))
    });
    assert_eq!(states(&fx), [(BreakerState::Open, BreakerState::HalfOpen)]);
    assert!(matches!(
        sent(&fx)[..],
        [(NodeId(1), Msg::Call { call: 3, .. })]
    ));
    let fx = at(&mut n, 601 * MS, |n, ctx| {
        n.on_request(ctx, ask(5, ServiceOp::Remote))
    });
    assert_eq!(replies(&fx), [(5, Err("circuit open".into()))]);
    // The probe's answer closes it.
    let fx = at(&mut n, 610 * MS, |n, ctx| {
        n.on_message(ctx, NodeId(1), Msg::Answer { call: 3, ok: true })
    });
    assert_eq!(
        states(&fx),
        [(BreakerState::HalfOpen, BreakerState::Closed)]
    );
    assert_eq!(replies(&fx), [(4, Ok(()))]);
}

#[test]
fn the_downstream_serves_calls_and_answers_busy_when_full() {
    let config = OverloadConfig {
        queue: 0,
        ..OverloadConfig::default()
    };
    let mut b = Overload::new(NodeId(1), &[NodeId(0)], &config, None);
    let step = |b: &mut Overload, now, f: &dyn Fn(&mut Overload, &mut Ctx<'_, Overload>)| {
        crate::node::step(b, NodeId(1), &[NodeId(0)], now, f)
    };
    let r = ask(1, ServiceOp::Remote).id;
    step(&mut b, 0, &|b, ctx| {
        b.on_message(
            ctx,
            NodeId(0),
            Msg::Call {
                call: 1,
                request: r,
            },
        )
    });
    let fx = step(&mut b, 1, &|b, ctx| {
        b.on_message(
            ctx,
            NodeId(0),
            Msg::Call {
                call: 2,
                request: r,
            },
        )
    });
    assert_eq!(sent(&fx), [(NodeId(0), Msg::Answer { call: 2, ok: false })]);
    let fx = step(&mut b, 10 * MS, &|b, ctx| b.on_timer(ctx, Timer::Done(0)));
    assert_eq!(sent(&fx), [(NodeId(0), Msg::Answer { call: 1, ok: true })]);
}

#[test]
fn messages_are_told_in_words() {
    let call = serde_json::json!({"Call": {"call": 4, "request": {"client": 2, "seq": 9}}});
    assert_eq!(
        Overload::narrate_message(&call, &[]).as_deref(),
        Some("Call #4 (for c2#9)")
    );
    let busy = serde_json::json!({"Answer": {"call": 4, "ok": false}});
    assert_eq!(
        Overload::narrate_message(&busy, &[]).as_deref(),
        Some("Answer #4: busy, queue full")
    );
}
