//! `[storage]` and `[timing]`: read into the world's `Timing`, absent means no time, and a bad
//! value is refused at its key.

use super::tests::{assert_error, parse, with};
use crate::world::{Latency, Timing};

const MS: u64 = 1_000_000;

#[test]
fn absent_tables_take_no_time() {
    let scenario = parse(&with("")).expect("valid");
    assert_eq!(scenario.timing, Timing::default());
    assert!(scenario.world_spec(1).timing.is_instant());
}

#[test]
fn storage_and_timing_are_read_as_distributions() {
    let text = with(
        "[storage]\nsync = { dist = \"uniform\", min = \"10ms\", max = \"15ms\" }\n\
         [timing]\ntimer_jitter = \"1ms\"\nprocessing = { dist = \"exponential\", mean = \"100us\" }\n",
    );
    let scenario = parse(&text).expect("valid");
    assert_eq!(
        scenario.timing,
        Timing {
            sync: Some(Latency::Uniform {
                min: 10 * MS,
                max: 15 * MS
            }),
            timer_jitter: Some(Latency::Constant(MS)),
            processing: Some(Latency::Exponential {
                mean: 100_000,
                min: 0
            }),
            lose_unsynced: false,
        }
    );
    let lose = parse(&with("[storage]\nsync = \"5ms\"\nlose_unsynced = true\n")).unwrap();
    assert!(lose.timing.lose_unsynced);
    assert_error(
        &with("[storage]\nlose_unsynced = true\n"),
        8,
        17,
        "lose_unsynced needs `sync` in [storage]: without a sync time every write is durable at once",
    );
    assert_eq!(
        scenario.world_spec(3).timing,
        scenario.timing,
        "every seed's world"
    );
}

#[test]
fn bad_timing_values_are_refused_at_their_key() {
    // Line 7 is the first after BASE.
    assert_error(
        &with("[storage]\nsync = { dist = \"uniform\", min = \"15ms\", max = \"10ms\" }\n"),
        8,
        8,
        "uniform sync: min = \"15ms\" is above max = \"10ms\"",
    );
    assert_error(&with("[storage]\nsync = \"soon\"\n"), 8, 8, "duration");
    assert_error(
        &with("[timing]\ntimer_jitter = [\"0ms\", \"1ms\"]\n"),
        8,
        16,
        "swarm",
    );
    assert_error(
        &with("[timing]\njitter = \"1ms\"\n"),
        8,
        1,
        "unknown key `jitter` in [timing]; expected `timer_jitter` or `processing`",
    );
}
