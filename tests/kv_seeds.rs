//! Acceptance: 500 seeds of `raft/kv-linearizable.toml` — a nemesis of partitions, crashes,
//! pauses and clock jumps under four clients — and on every one the clients' history is
//! linearizable and the logs match, apply the same commands and keep every committed entry.

use crate::common;

use sim::check::Status;
use sim::run::{RunOptions, run};
use sim::scenario::Scenario;

const SEEDS: u64 = 500;

/// Runs `seeds` on two threads (each run is a pure function of its seed, so the split changes
/// nothing but the wall time) and returns every failure, in seed order.
fn failures(scenario: &Scenario, seeds: std::ops::RangeInclusive<u64>) -> Vec<String> {
    let all: Vec<u64> = seeds.collect();
    let mut out: Vec<(u64, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = all
            .chunks(all.len().div_ceil(2))
            .map(|chunk| {
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for &seed in chunk {
                        let options = RunOptions {
                            seed: Some(seed),
                            ..Default::default()
                        };
                        let out = run(scenario, &options).expect("the scenario runs");
                        let history = out.history.as_ref().expect("a history");
                        assert!(history.ops.len() > 500, "seed {seed}: few operations");
                        for inv in &out.report.invariants {
                            match &inv.status {
                                Status::Pass => {}
                                Status::Violated(v) => bad.push((
                                    seed,
                                    format!("{} at {}ns: {}", inv.name, v.at, v.message),
                                )),
                                Status::Unknown(why) => {
                                    bad.push((seed, format!("{} unknown: {why}", inv.name)))
                                }
                            }
                        }
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    });
    out.sort();
    out.into_iter()
        .map(|(seed, msg)| format!("seed {seed}: {msg}"))
        .collect()
}

#[test]
fn five_hundred_seeds_of_the_kv_store_under_a_nemesis_stay_linearizable() {
    let scenario = Scenario::load(&common::root().join("scenarios/raft/kv-linearizable.toml"))
        .expect("a bundled scenario parses");
    let names: Vec<String> = scenario.check.invariants.clone().unwrap_or_default();
    assert!(names.iter().any(|n| n == "linearizable"), "{names:?}");
    let bad = failures(&scenario, 1..=SEEDS);
    assert!(
        bad.is_empty(),
        "{} failures:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
