//! `sim lessons --seeds N`: each lesson swept over seeds 1..=N, and how often it shows what it
//! teaches.
//!
//! A lesson is judged at its own seed; a claim that holds only there is not worth teaching. So a
//! lesson that expects a pass must pass on every seed of the sweep (any violation, unknown or
//! event limit is a failure, reported with the lowest failing seed and its replay line), and one
//! that expects a violation reports the share of seeds that show the violations it names — a
//! rate, not a verdict: a partition that needs an unlucky election to split the brain is a
//! lesson about luck, and the reader should know how much.
//!
//! The sweep reuses [`crate::sweep::runner`]: seeds on `--jobs` threads, each result a pure
//! function of (scenario, seed). What is kept here — counts and the lowest failing seed — does
//! not depend on the order seeds finish in, so the output is the same for any `--jobs`.

use std::sync::atomic::AtomicBool;

use serde_json::{Value, json};

use crate::run::{base_name, replay_command};
use crate::scenario::{Expect, ExpectedVerdict, Scenario};
use crate::sweep::SeedResult;
use crate::sweep::results::{FailureStatus, SeedVerdict};
use crate::sweep::runner::{RunnerOptions, run_seeds};

/// How one lesson fared over seeds 1..=`seeds`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rate {
    /// Seeds run: 1..=seeds.
    pub(crate) seeds: u64,
    /// What the lesson expects; `None` without `[expect]`.
    pub(crate) expected: Option<ExpectedVerdict>,
    /// Seeds that showed what the lesson expects: a pass, or every violation it names. Without
    /// `[expect]`, the seeds that passed.
    pub(crate) matched: u64,
    /// Seeds where anything failed (a violation, an unknown, the event limit).
    pub(crate) failed: u64,
    /// The lowest seed where anything failed.
    pub(crate) first_failure: Option<SeedResult>,
}

impl Rate {
    /// A lesson that expects a pass failed on some seed.
    pub(crate) fn broken(&self) -> bool {
        self.expected == Some(ExpectedVerdict::Pass) && self.failed > 0
    }

    fn percent(n: u64, of: u64) -> String {
        format!("{:.1}%", n as f64 * 100.0 / of.max(1) as f64)
    }

    /// The table cell: `all 1000 pass`, `7/1000 fail (0.7%), first seed 17`,
    /// `412/1000 show it (41.2%)`.
    pub(crate) fn cell(&self) -> String {
        let n = self.seeds;
        match self.expected {
            Some(ExpectedVerdict::Violation) => {
                format!(
                    "{}/{n} show it ({})",
                    self.matched,
                    Self::percent(self.matched, n)
                )
            }
            _ if self.failed == 0 => format!("all {n} pass"),
            _ => format!(
                "{}/{n} fail ({}), first seed {}",
                self.failed,
                Self::percent(self.failed, n),
                self.first_failure.as_ref().map_or(0, |r| r.seed)
            ),
        }
    }

    /// What went wrong on the first failing seed: `no_split_brain@1.405s, leader_within 2s
    /// (unknown)`.
    fn first_failures(&self) -> String {
        self.first_failure
            .as_ref()
            .map(|r| {
                let v: Vec<String> = r.failures.iter().map(|f| f.short()).collect();
                v.join(", ")
            })
            .unwrap_or_default()
    }

    /// The problem line of a pass-lesson that failed on some seed; `None` when it held.
    pub(crate) fn problem(&self, file: &str) -> Option<String> {
        if !self.broken() {
            return None;
        }
        let first = self.first_failure.as_ref()?;
        Some(format!(
            "{file}: expected a pass on every seed, but {} of {} seeds failed; the first, seed {}: {} (replay: {})",
            self.failed,
            self.seeds,
            first.seed,
            self.first_failures(),
            replay_command(file, first.seed)
        ))
    }

    pub(crate) fn to_json(&self, file: &str) -> Value {
        let first = self.first_failure.as_ref().map(|r| {
            json!({
                "seed": r.seed,
                "failures": r.failures.iter().map(|f| f.short()).collect::<Vec<_>>(),
                "replay": replay_command(file, r.seed),
            })
        });
        json!({
            "seeds": format!("1..={}", self.seeds),
            "run": self.seeds,
            "matched": self.matched,
            "rate": self.matched as f64 / self.seeds.max(1) as f64,
            "failed": self.failed,
            "first_failure": first,
            "holds": !self.broken(),
        })
    }
}

/// Whether one seed showed what the lesson expects.
pub(crate) fn shows(expect: Option<&Expect>, r: &SeedResult) -> bool {
    match expect {
        Some(e) if e.verdict == ExpectedVerdict::Violation => {
            r.verdict == SeedVerdict::Violation
                && e.violates.iter().all(|name| {
                    r.failures.iter().any(|f| {
                        f.status == FailureStatus::Violation && base_name(&f.invariant) == name
                    })
                })
        }
        _ => !r.failed(),
    }
}

/// Tallies the results of seeds 1..=`seeds` (in any order).
pub(crate) fn tally(expect: Option<&Expect>, seeds: u64, results: &[SeedResult]) -> Rate {
    let matched = results.iter().filter(|r| shows(expect, r)).count() as u64;
    let first_failure = results
        .iter()
        .filter(|r| r.failed())
        .min_by_key(|r| r.seed)
        .cloned();
    Rate {
        seeds,
        expected: expect.map(|e| e.verdict),
        matched,
        failed: results.iter().filter(|r| r.failed()).count() as u64,
        first_failure,
    }
}

/// Runs seeds 1..=`seeds` of `scenario` on `jobs` threads and tallies them.
pub(crate) fn sweep(scenario: &Scenario, seeds: u64, jobs: usize) -> Result<Rate, String> {
    let list: Vec<u64> = (1..=seeds).collect();
    let stop = AtomicBool::new(false);
    let options = RunnerOptions::new(jobs, &stop);
    let results = run_seeds(scenario, &list, &options, |_| {})?;
    if results.len() as u64 != seeds {
        return Err(format!(
            "{}: only {} of {seeds} seeds ran",
            scenario.file,
            results.len()
        ));
    }
    Ok(tally(scenario.expect.as_ref(), seeds, &results))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::results::{Failure, Kind};

    /// Built from its JSON line, so that fields added to a stored result do not break it.
    fn result(seed: u64, failures: &[(&str, FailureStatus)]) -> SeedResult {
        let failures: Vec<Failure> = failures
            .iter()
            .map(|(name, status)| Failure {
                invariant: name.to_string(),
                property: Kind::Safety,
                status: *status,
                at_ns: Some(1_000_000),
                message: String::new(),
            })
            .collect();
        let verdict = match failures.first().map(|f| f.status) {
            None => SeedVerdict::Pass,
            Some(FailureStatus::Violation) => SeedVerdict::Violation,
            Some(FailureStatus::Unknown) => SeedVerdict::Unknown,
        };
        serde_json::from_value(json!({
            "seed": seed,
            "verdict": verdict,
            "events": 1,
            "virtual_time_ns": 1,
            "trace_hash": "",
            "checked": [],
            "failures": failures,
        }))
        .unwrap()
    }

    fn expect(verdict: ExpectedVerdict, violates: &[&str]) -> Expect {
        Expect {
            verdict,
            violates: violates.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_pass_lesson_fails_on_any_failing_seed_and_names_the_lowest() {
        use FailureStatus::*;
        let results = [
            result(3, &[("no_split_brain", Violation)]),
            result(1, &[]),
            result(2, &[("leader_within 2s", Unknown)]),
            result(4, &[]),
        ];
        let e = expect(ExpectedVerdict::Pass, &[]);
        let rate = tally(Some(&e), 4, &results);
        assert!(rate.broken());
        assert_eq!((rate.matched, rate.failed), (2, 2));
        assert_eq!(rate.cell(), "2/4 fail (50.0%), first seed 2");
        let p = rate.problem("x.toml").unwrap();
        assert!(p.contains("2 of 4 seeds failed; the first, seed 2: leader_within 2s (unknown)"));
        assert!(p.contains("(replay: sim run x.toml --seed 2)"), "{p}");

        let all = tally(Some(&e), 2, &[result(2, &[]), result(1, &[])]);
        assert!(!all.broken() && all.problem("x.toml").is_none());
        assert_eq!(all.cell(), "all 2 pass");
    }

    #[test]
    fn a_violation_lesson_counts_only_seeds_with_every_named_violation() {
        use FailureStatus::*;
        let results = [
            result(
                1,
                &[
                    ("no_split_brain", Violation),
                    ("election_safety", Violation),
                ],
            ),
            result(2, &[("no_split_brain", Violation)]),
            result(3, &[]),
            result(
                4,
                &[
                    ("leader_within 2s", Violation),
                    ("election_safety", Violation),
                ],
            ),
        ];
        let e = expect(ExpectedVerdict::Violation, &["election_safety"]);
        let rate = tally(Some(&e), 4, &results);
        assert_eq!(rate.matched, 2);
        assert!(!rate.broken(), "a rate, not a verdict");
        assert_eq!(rate.cell(), "2/4 show it (50.0%)");
        let lw = expect(ExpectedVerdict::Violation, &["leader_within"]);
        assert_eq!(
            tally(Some(&lw), 4, &results).matched,
            1,
            "the bound is ignored"
        );
        let any = expect(ExpectedVerdict::Violation, &[]);
        assert_eq!(tally(Some(&any), 4, &results).matched, 3);
    }
}
