//! A generator driven by hand, its wall clock set at will: what each design does when the
//! clock goes back, when a millisecond fills up and when it restarts.

use super::*;
use crate::node::testing::{facts, persisted};
use crate::node::{ClientId, Disk, Effect, RequestId};

const MS: LocalNanos = 1_000_000;

fn generator(config: SnowflakeConfig) -> Snowflake {
    Snowflake::new(NodeId(0), &[NodeId(1)], &config, None)
}

/// Runs one handler with the wall clock at `wall`.
fn at(
    node: &mut Snowflake,
    wall: LocalNanos,
    f: impl FnOnce(&mut Snowflake, &mut Ctx<'_, Snowflake>),
) -> Vec<Effect<Snowflake>> {
    crate::node::step(node, NodeId(0), &[NodeId(1)], wall, f)
}

fn ask(seq: u64) -> ClientRequest<Ids> {
    ClientRequest {
        id: RequestId {
            client: ClientId(0),
            seq,
        },
        op: IdOp::NextId,
    }
}

/// The ids answered, in order.
fn ids(effects: &[Effect<Snowflake>]) -> Vec<u64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply {
                reply: Reply::Ok(id),
                ..
            } => Some(id.id),
            _ => None,
        })
        .collect()
}

fn refused(effects: &[Effect<Snowflake>]) -> usize {
    effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Reply {
                    reply: Reply::Fail { .. },
                    ..
                }
            )
        })
        .count()
}

fn config(behind: OnClockBehind) -> SnowflakeConfig {
    SnowflakeConfig {
        on_clock_behind: behind,
        ..SnowflakeConfig::default()
    }
}

#[test]
fn the_naive_generator_repeats_an_id_after_a_step_back() {
    let mut g = generator(config(OnClockBehind::Ignore));
    let first = ids(&at(&mut g, 10 * MS, |n, c| n.on_request(c, ask(1))));
    at(&mut g, 11 * MS, |n, c| n.on_request(c, ask(2)));
    // NTP steps the clock back 1 ms: millisecond 10 again, sequence 0 again.
    let fx = at(&mut g, 10 * MS + 500, |n, c| n.on_request(c, ask(3)));
    assert_eq!(ids(&fx), first, "the same id twice");
    assert!(
        facts(&fx)
            .iter()
            .any(|f| matches!(f, IdFact::ClockBehind { then: "reuse", .. }))
    );
}

#[test]
fn the_waiting_generator_holds_the_request_until_the_clock_catches_up() {
    let mut g = generator(config(OnClockBehind::Wait));
    at(&mut g, 10 * MS, |n, c| n.on_request(c, ask(1)));
    let second = ids(&at(&mut g, 11 * MS, |n, c| n.on_request(c, ask(2))))[0];
    let fx = at(&mut g, 10 * MS + 400_000, |n, c| n.on_request(c, ask(3)));
    assert!(ids(&fx).is_empty(), "nothing answered while behind");
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::SetTimer {
            timer: Timer::CaughtUp,
            after: 600_000
        }
    )));
    // Another request queues behind it, unanswered.
    assert!(ids(&at(&mut g, 10 * MS + 500_000, |n, c| n.on_request(c, ask(4)))).is_empty());
    let fx = at(&mut g, 11 * MS, |n, c| n.on_timer(c, Timer::CaughtUp));
    let answered = ids(&fx);
    assert_eq!(answered.len(), 2, "both, in order");
    assert!(second < answered[0] && answered[0] < answered[1]);
}

#[test]
fn a_step_longer_than_max_wait_is_refused() {
    let mut g = generator(config(OnClockBehind::Wait));
    at(&mut g, 5_000 * MS, |n, c| n.on_request(c, ask(1)));
    let fx = at(&mut g, 3_000 * MS, |n, c| n.on_request(c, ask(2)));
    assert_eq!(refused(&fx), 1);
    assert!(
        facts(&fx)
            .iter()
            .any(|f| matches!(f, IdFact::ClockBehind { then: "refuse", .. }))
    );
}

#[test]
fn the_refusing_generator_fails_the_request_at_once() {
    let mut g = generator(config(OnClockBehind::Refuse));
    at(&mut g, 11 * MS, |n, c| n.on_request(c, ask(1)));
    let fx = at(&mut g, 10 * MS, |n, c| n.on_request(c, ask(2)));
    assert_eq!((refused(&fx), ids(&fx).len()), (1, 0));
}

#[test]
fn a_full_millisecond_wraps_into_a_duplicate_or_waits_for_the_next() {
    let mut wrap = generator(SnowflakeConfig {
        sequence_bits: 1,
        on_sequence_full: OnSequenceFull::Wrap,
        ..SnowflakeConfig::default()
    });
    let made: Vec<u64> = (1..=3)
        .flat_map(|s| ids(&at(&mut wrap, 10 * MS, |n, c| n.on_request(c, ask(s)))))
        .collect();
    assert_eq!(made[0], made[2], "sequence 0 again in the same millisecond");

    let mut wait = generator(SnowflakeConfig {
        sequence_bits: 1,
        ..SnowflakeConfig::default()
    });
    let mut made: Vec<u64> = (1..=3)
        .flat_map(|s| {
            ids(&at(&mut wait, 10 * MS + 100, |n, c| {
                n.on_request(c, ask(s))
            }))
        })
        .collect();
    assert_eq!(made.len(), 2, "the third waits");
    let fx = at(&mut wait, 11 * MS, |n, c| n.on_timer(c, Timer::CaughtUp));
    made.extend(ids(&fx));
    assert!(made.windows(2).all(|w| w[0] < w[1]), "{made:?}");
}

#[test]
fn a_generator_that_persists_restarts_after_its_last_millisecond() {
    let mut g = generator(config(OnClockBehind::Wait));
    let fx = at(&mut g, 10 * MS, |n, c| n.on_request(c, ask(1)));
    let written = persisted(&fx);
    let millis = millis_of(10 * MS);
    assert_eq!(written, Some(millis), "written before the reply");
    let first = ids(&fx)[0];
    // Crash; the clock is stepped back; restart from disk.
    let disk = Disk {
        state: millis,
        log: Vec::new(),
    };
    let mut again = Snowflake::new(
        NodeId(0),
        &[NodeId(1)],
        &config(OnClockBehind::Wait),
        Some(&disk),
    );
    let fx = at(&mut again, 10 * MS, |n, c| n.on_request(c, ask(2)));
    assert!(ids(&fx).is_empty(), "millisecond 10 is used: it waits");
    let later = ids(&at(&mut again, 11 * MS, |n, c| {
        n.on_timer(c, Timer::CaughtUp)
    }));
    assert!(later[0] > first);
}

#[test]
fn a_generator_that_does_not_persist_forgets_and_repeats_after_a_restart() {
    let forgetful = SnowflakeConfig {
        persist_last_millis: false,
        ..SnowflakeConfig::default()
    };
    let mut g = generator(forgetful.clone());
    let fx = at(&mut g, 10 * MS, |n, c| n.on_request(c, ask(1)));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Persist(_))));
    let first = ids(&fx);
    let mut again = Snowflake::new(NodeId(0), &[NodeId(1)], &forgetful, None);
    assert_eq!(
        ids(&at(&mut again, 10 * MS, |n, c| n.on_request(c, ask(2)))),
        first
    );
}
