//! One peer at a time, driven by hand: who grants what, when the master acts and when it stops.

use super::*;
use crate::node::testing::{facts, peers_of, timer_set as timer};
use crate::node::{Effect, Nanos};

const MS: LocalNanos = 1_000_000;

fn peers(id: u32) -> Vec<NodeId> {
    peers_of(NodeId(id), 3)
}

fn node(id: u32, config: &LeaseMasterConfig, disk: Option<&DiskOf<LeaseMaster>>) -> LeaseMaster {
    LeaseMaster::new(NodeId(id), &peers(id), config, disk)
}

fn step(
    n: &mut LeaseMaster,
    id: u32,
    now: LocalNanos,
    f: impl FnOnce(&mut LeaseMaster, &mut Ctx<'_, LeaseMaster>),
) -> Vec<Effect<LeaseMaster>> {
    crate::node::step(n, NodeId(id), &peers(id), now, f)
}

fn request(epoch: u64, round: u64, renewal: bool) -> Msg {
    Msg::Request {
        epoch,
        round,
        renewal,
    }
}

fn grant(round: u64, epoch: u64) -> Msg {
    Msg::Grant {
        round,
        granted: true,
        epoch,
    }
}

/// The request broadcast, if any (the same to every peer).
fn asked(fx: &[Effect<LeaseMaster>]) -> Option<Msg> {
    fx.iter().find_map(|e| match e {
        Effect::Send {
            msg: msg @ Msg::Request { .. },
            ..
        } => Some(msg.clone()),
        _ => None,
    })
}

fn roles(fx: &[Effect<LeaseMaster>]) -> Vec<Observation> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Observe(o @ Observation::Role { .. }) => Some(o.clone()),
            _ => None,
        })
        .collect()
}

fn answer(fx: &[Effect<LeaseMaster>]) -> Option<bool> {
    fx.iter().find_map(|e| match e {
        Effect::Send {
            msg: Msg::Grant { granted, .. },
            ..
        } => Some(*granted),
        _ => None,
    })
}

fn authority(fx: &[Effect<LeaseMaster>]) -> Option<LocalNanos> {
    fx.iter().find_map(|e| match e {
        Effect::Observe(Observation::Authority { until, .. }) => *until,
        _ => None,
    })
}

/// Node A, started at 0, asks at 100 ms (epoch 1, round 1) and B grants at 102 ms.
fn elected(config: &LeaseMasterConfig) -> (LeaseMaster, Vec<Effect<LeaseMaster>>) {
    let mut a = node(0, config, None);
    step(&mut a, 0, 0, |n, c| n.on_start(c));
    let fx = step(&mut a, 0, 100 * MS, |n, c| n.on_timer(c, Timer::Elect));
    assert_eq!(a.role(), Role::Candidate);
    assert!(asked(&fx) == Some(request(1, 1, false)), "{fx:?}");
    let fx = step(&mut a, 0, 102 * MS, |n, c| {
        n.on_message(c, NodeId(1), grant(1, 1))
    });
    (a, fx)
}

#[test]
fn a_majority_grant_makes_a_master_whose_lease_counts_from_its_request() {
    let (a, fx) = elected(&LeaseMasterConfig::default());
    assert_eq!(a.role(), Role::Master);
    // Counted from 100 ms, when A asked — not 102 ms, when the grant came.
    assert_eq!(authority(&fx), Some(600 * MS));
    assert!(facts(&fx).contains(
        &(LeaseFact::Acting {
            epoch: 1,
            until: 600 * MS,
            renewed: false
        })
    ));
    // It renews with half the lease left, at 350 ms.
    assert_eq!(timer(&fx, Timer::Renew), Some(248 * MS as Nanos));
    assert_eq!(timer(&fx, Timer::Expire), Some(498 * MS as Nanos));
}

#[test]
fn without_renewal_the_master_stops_acting_when_its_lease_runs_out() {
    let config = LeaseMasterConfig {
        renew: false,
        ..LeaseMasterConfig::default()
    };
    let (mut a, fx) = elected(&config);
    assert_eq!(timer(&fx, Timer::Renew), None, "renew = false never renews");
    let fx = step(&mut a, 0, 600 * MS, |n, c| n.on_timer(c, Timer::Expire));
    assert_eq!(a.role(), Role::Standby);
    assert!(facts(&fx).contains(&(LeaseFact::Stopped { epoch: 1 })));
    assert_eq!(
        roles(&fx),
        [Observation::Role {
            role: Role::Standby,
            term: 1
        }]
    );
}

#[test]
fn the_master_renews_before_expiry_and_its_lease_moves_on() {
    let (mut a, _) = elected(&LeaseMasterConfig::default());
    let fx = step(&mut a, 0, 350 * MS, |n, c| n.on_timer(c, Timer::Renew));
    assert!(asked(&fx) == Some(request(1, 2, true)), "{fx:?}");
    let fx = step(&mut a, 0, 352 * MS, |n, c| {
        n.on_message(c, NodeId(2), grant(2, 1))
    });
    assert_eq!(authority(&fx), Some(850 * MS));
    assert!(facts(&fx).contains(
        &(LeaseFact::Acting {
            epoch: 1,
            until: 850 * MS,
            renewed: true
        })
    ));
    assert_eq!(a.role(), Role::Master);
}

#[test]
fn a_grant_that_arrives_after_the_lease_is_over_makes_no_master() {
    let mut a = node(0, &LeaseMasterConfig::default(), None);
    step(&mut a, 0, 0, |n, c| n.on_start(c));
    step(&mut a, 0, 100 * MS, |n, c| n.on_timer(c, Timer::Elect));
    // A was paused: the grant is handed over at 700 ms, after 100 + 500 ms.
    let fx = step(&mut a, 0, 700 * MS, |n, c| {
        n.on_message(c, NodeId(1), grant(1, 1))
    });
    assert_eq!(authority(&fx), None);
    assert_ne!(a.role(), Role::Master);
}

#[test]
fn a_grantor_refuses_others_until_the_lease_plus_the_drift_bound_has_passed_on_its_clock() {
    let mut b = node(1, &LeaseMasterConfig::default(), None);
    step(&mut b, 1, 0, |n, c| n.on_start(c));
    let fx = step(&mut b, 1, 100 * MS, |n, c| {
        n.on_message(c, NodeId(0), request(1, 1, false))
    });
    assert_eq!(answer(&fx), Some(true));
    // C asks while B's promise to A runs (until 100 + 500 + 50 ms): refused.
    let fx = step(&mut b, 1, 640 * MS, |n, c| {
        n.on_message(c, NodeId(2), request(2, 1, false))
    });
    assert_eq!(answer(&fx), Some(false));
    // The promise is over: granted.
    let fx = step(&mut b, 1, 650 * MS, |n, c| {
        n.on_message(c, NodeId(2), request(3, 2, false))
    });
    assert_eq!(answer(&fx), Some(true));
    assert_eq!(b.disk.granted, 3);
}

#[test]
fn a_grantor_renews_its_holder_but_grants_one_new_reign_per_epoch() {
    let mut b = node(1, &LeaseMasterConfig::default(), None);
    step(&mut b, 1, 0, |n, c| n.on_start(c));
    let fx = step(&mut b, 1, 100 * MS, |n, c| {
        n.on_message(c, NodeId(0), request(1, 1, false))
    });
    assert_eq!(answer(&fx), Some(true));
    let fx = step(&mut b, 1, 300 * MS, |n, c| {
        n.on_message(c, NodeId(0), request(1, 2, true))
    });
    assert_eq!(answer(&fx), Some(true), "the holder renews");
    // After the promise, C asks for the same epoch A had: refused, one reign per epoch.
    let fx = step(&mut b, 1, 900 * MS, |n, c| {
        n.on_message(c, NodeId(2), request(1, 1, false))
    });
    assert_eq!(answer(&fx), Some(false));
}

#[test]
fn a_peer_never_asks_while_its_promise_runs() {
    let mut b = node(1, &LeaseMasterConfig::default(), None);
    step(&mut b, 1, 0, |n, c| n.on_start(c));
    step(&mut b, 1, 100 * MS, |n, c| {
        n.on_message(c, NodeId(0), request(1, 1, false))
    });
    let fx = step(&mut b, 1, 400 * MS, |n, c| n.on_timer(c, Timer::Elect));
    assert_eq!(asked(&fx), None);
    // It waits out the promise (until 650 ms) and a backoff of 10-100 ms.
    let wait = timer(&fx, Timer::Elect).unwrap() as LocalNanos;
    assert!((260 * MS..=350 * MS).contains(&wait), "{wait}");
    let fx = step(&mut b, 1, 700 * MS, |n, c| n.on_timer(c, Timer::Elect));
    assert!(asked(&fx) == Some(request(2, 1, false)), "{fx:?}");
}

#[test]
fn a_restarted_peer_grants_nothing_for_a_lease_plus_the_bound() {
    let disk = crate::node::Disk {
        state: Disk {
            granted: 1,
            seen: 1,
        },
        ..Default::default()
    };
    let mut b = node(1, &LeaseMasterConfig::default(), Some(&disk));
    step(&mut b, 1, 1_000 * MS, |n, c| n.on_start(c));
    let fx = step(&mut b, 1, 1_500 * MS, |n, c| {
        n.on_message(c, NodeId(2), request(2, 1, false))
    });
    assert_eq!(
        answer(&fx),
        Some(false),
        "it may have promised A before its crash"
    );
    let fx = step(&mut b, 1, 1_550 * MS, |n, c| {
        n.on_message(c, NodeId(2), request(2, 2, false))
    });
    assert_eq!(answer(&fx), Some(true));
}

#[test]
fn a_candidate_gives_up_for_a_master_that_renews() {
    let mut c = node(2, &LeaseMasterConfig::default(), None);
    step(&mut c, 2, 0, |n, ctx| n.on_start(ctx));
    step(&mut c, 2, 100 * MS, |n, ctx| n.on_timer(ctx, Timer::Elect));
    assert_eq!(c.role(), Role::Candidate);
    // A master of epoch 1 it was cut off from renews: C backs it instead of its own candidacy.
    let fx = step(&mut c, 2, 200 * MS, |n, ctx| {
        n.on_message(ctx, NodeId(0), request(1, 7, true))
    });
    assert_eq!(answer(&fx), Some(true));
    // A late grant of its own old round now counts for nothing.
    let fx = step(&mut c, 2, 201 * MS, |n, ctx| {
        n.on_message(ctx, NodeId(1), grant(1, 1))
    });
    assert_eq!(authority(&fx), None);
    assert_ne!(c.role(), Role::Master);
}

#[test]
fn a_new_reign_too_short_to_renew_is_not_taken() {
    let mut a = node(0, &LeaseMasterConfig::default(), None);
    step(&mut a, 0, 0, |n, c| n.on_start(c));
    step(&mut a, 0, 100 * MS, |n, c| n.on_timer(c, Timer::Elect));
    // The grant comes at 360 ms: 240 ms of lease left, under the 250 ms renewal margin.
    let fx = step(&mut a, 0, 360 * MS, |n, c| {
        n.on_message(c, NodeId(1), grant(1, 1))
    });
    assert_eq!(authority(&fx), None);
    assert_ne!(a.role(), Role::Master);
}
