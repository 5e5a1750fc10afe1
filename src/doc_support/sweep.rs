// Not a module of the crate: seed results and a sweep summary that the sweep documentation's
// examples share, included on a hidden line as `tiny.rs` is:
//
//     /// # mod fixture { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/sweep.rs")); } use fixture::*;
//
// Seed 2 of the summary violates `no_split_brain` at 1.4 s, seed 3 cannot decide
// `leader_within 2s`; seeds 1 and 4 pass.

use sim::sweep::results::{Failure, FailureStatus, Kind, SeedVerdict};
use sim::sweep::{SeedRange, SeedResult, Summary};

/// A seed where every invariant held.
pub(crate) fn pass(seed: u64) -> SeedResult {
    SeedResult {
        seed,
        verdict: SeedVerdict::Pass,
        events: 1_000,
        virtual_time_ns: 10_000_000_000,
        trace_hash: "00c0ffee00c0ffee".into(),
        checked: vec!["no_split_brain".into(), "leader_within 2s".into()],
        failures: Vec::new(),
        swarm: None,
    }
}

/// A seed that broke the safety invariant `invariant` at `at_ns`.
pub(crate) fn violated(seed: u64, invariant: &str, at_ns: u64) -> SeedResult {
    SeedResult {
        verdict: SeedVerdict::Violation,
        failures: vec![Failure {
            invariant: invariant.into(),
            property: Kind::Safety,
            status: FailureStatus::Violation,
            at_ns: Some(at_ns),
            message: "two leaders in term 3".into(),
        }],
        ..pass(seed)
    }
}

/// A seed where the liveness invariant `invariant` could not be decided.
pub(crate) fn undecided(seed: u64, invariant: &str) -> SeedResult {
    SeedResult {
        verdict: SeedVerdict::Unknown,
        failures: vec![Failure {
            invariant: invariant.into(),
            property: Kind::Liveness,
            status: FailureStatus::Unknown,
            at_ns: None,
            message: "the run ended before the bound".into(),
        }],
        ..pass(seed)
    }
}

/// Seeds 1..5 of `scenarios/raft/x.toml`: 1 and 4 pass, 2 violates, 3 is unknown.
pub(crate) fn summary() -> Summary {
    let results = vec![
        pass(4),
        violated(2, "no_split_brain", 1_400_000_000),
        undecided(3, "leader_within 2s"),
        pass(1),
    ];
    Summary::new(
        "scenarios/raft/x.toml",
        "x",
        SeedRange { start: 1, end: 5 },
        None,
        results,
        false,
    )
}
