//! The exit-code policy of every `sim` command, in one place (docs/ARCHITECTURE.md#exit-codes).
//!
//! An exit code is what a CI system reads of a run, so the numbers are a public contract: a
//! pipeline may fail the build on 1, retry or raise a limit on 3, and page a human on 2. Every
//! command maps its verdicts here ([`of_check`], [`of_failure`], [`of_run`], [`of_linearizability`]) and
//! combines several with [`worst`], so a sweep, a merge and `sim lessons` rank outcomes the same
//! way one run does.

use crate::check::linearizable::LinVerdict;
use crate::check::{Property, Status};

/// How a `sim` command ended, as its process exit status tells a CI system.
///
/// ```
/// use sim::run::exit::ExitCode;
/// // What `sim` and a program of one's own exit with.
/// assert_eq!(ExitCode::SafetyViolated.code(), 1);
/// assert_eq!(ExitCode::Undecided.meaning(), "a liveness property failed, or the answer is unknown");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitCode {
    /// 0: everything held. CI: green; nothing to look at.
    Held,
    /// 1: a safety property failed — an invariant, a history check, an unmet expectation, a
    /// moved trace hash, the determinism check, or a run that panicked. CI: a real bug; fail the
    /// build and keep the replay line that was printed.
    SafetyViolated,
    /// 2: bad input or usage (clap's own code for a bad command line), or a file that could not
    /// be read or written; nothing was judged. CI: the job is misconfigured, not the system under
    /// test; fix the scenario, the flags or the disk.
    BadInput,
    /// 3: a liveness property failed, or the answer is unknown (the run ended before it could
    /// decide, a search limit was hit). CI: neither proven wrong nor right; look, or raise the
    /// limit, before calling it green.
    Undecided,
    /// 130 (128 + SIGINT, as shells report it): interrupted by Ctrl-C; the partial results were
    /// printed and kept. CI: cancelled; no verdict on the seeds that did not run.
    Interrupted,
}

impl ExitCode {
    /// Every code, in the order of their numbers.
    ///
    /// ```
    /// use sim::run::exit::ExitCode;
    /// let codes: Vec<i32> = ExitCode::ALL.iter().map(|c| c.code()).collect();
    /// assert_eq!(codes, [0, 1, 2, 3, 130]);
    /// ```
    pub const ALL: [ExitCode; 5] = [
        ExitCode::Held,
        ExitCode::SafetyViolated,
        ExitCode::BadInput,
        ExitCode::Undecided,
        ExitCode::Interrupted,
    ];

    /// The process exit status.
    ///
    /// ```
    /// use sim::run::exit::ExitCode;
    /// assert_eq!(ExitCode::Interrupted.code(), 130);
    /// ```
    pub const fn code(self) -> i32 {
        match self {
            ExitCode::Held => 0,
            ExitCode::SafetyViolated => 1,
            ExitCode::BadInput => 2,
            ExitCode::Undecided => 3,
            ExitCode::Interrupted => 130,
        }
    }

    /// What the code means, in the words of docs/ARCHITECTURE.md's exit-code table.
    ///
    /// ```
    /// use sim::run::exit::ExitCode;
    /// assert_eq!(ExitCode::BadInput.meaning(), "bad input or usage");
    /// ```
    pub const fn meaning(self) -> &'static str {
        match self {
            ExitCode::Held => "everything held",
            ExitCode::SafetyViolated => "a safety property failed",
            ExitCode::BadInput => "bad input or usage",
            ExitCode::Undecided => "a liveness property failed, or the answer is unknown",
            ExitCode::Interrupted => "interrupted by Ctrl-C",
        }
    }

    /// How bad an outcome is, for [`worst`]. A safety failure outranks an undecided one: one
    /// proven bug is the news, whatever else could not be decided. Bad input outranks every
    /// verdict, since a bad file means the verdicts are not the whole story (and CI must hear
    /// that the job is broken); an interruption outranks the verdicts of the seeds it cut short
    /// for the same reason, but not bad input.
    const fn rank(self) -> u8 {
        match self {
            ExitCode::Held => 0,
            ExitCode::Undecided => 1,
            ExitCode::SafetyViolated => 2,
            ExitCode::Interrupted => 3,
            ExitCode::BadInput => 4,
        }
    }

    /// The worse of two outcomes (see [`worst`]).
    ///
    /// ```
    /// use sim::run::exit::ExitCode;
    /// // A safety failure outranks an undecided liveness check.
    /// assert_eq!(ExitCode::Undecided.worse(ExitCode::SafetyViolated), ExitCode::SafetyViolated);
    /// assert_eq!(ExitCode::Held.worse(ExitCode::Undecided), ExitCode::Undecided);
    /// ```
    pub const fn worse(self, other: ExitCode) -> ExitCode {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

/// The worst of many outcomes — of a run's checks, a sweep's seeds, a merge's shards, a command's
/// steps: bad input, then an interruption, then a safety failure, then an undecided answer; held
/// only if every one held (and when there is none).
///
/// ```
/// use sim::run::exit::{ExitCode, worst};
/// assert_eq!(worst([ExitCode::Held, ExitCode::Undecided, ExitCode::Held]), ExitCode::Undecided);
/// assert_eq!(worst([]), ExitCode::Held);
/// ```
pub fn worst(outcomes: impl IntoIterator<Item = ExitCode>) -> ExitCode {
    outcomes.into_iter().fold(ExitCode::Held, ExitCode::worse)
}

/// A check that did not hold: a violated safety property is a safety failure; a violated
/// liveness property, or a check of either kind that could not decide, is undecided.
///
/// ```
/// use sim::node::Property;
/// use sim::run::exit::{ExitCode, of_failure};
/// assert_eq!(of_failure(Property::Safety, true), ExitCode::SafetyViolated);
/// assert_eq!(of_failure(Property::Liveness, true), ExitCode::Undecided);
/// assert_eq!(of_failure(Property::Safety, false), ExitCode::Undecided, "unknown");
/// ```
pub fn of_failure(property: Property, violated: bool) -> ExitCode {
    if violated && property == Property::Safety {
        ExitCode::SafetyViolated
    } else {
        ExitCode::Undecided
    }
}

/// One invariant's check: held if it passed, else as [`of_failure`] says.
///
/// ```
/// use sim::node::{Property, Status};
/// use sim::run::exit::{ExitCode, of_check};
/// assert_eq!(of_check(Property::Safety, &Status::Pass), ExitCode::Held);
/// assert_eq!(of_check(Property::Liveness, &Status::Unknown("too short".into())), ExitCode::Undecided);
/// ```
pub fn of_check(property: Property, status: &Status) -> ExitCode {
    match status {
        Status::Pass => ExitCode::Held,
        Status::Violated(_) => of_failure(property, true),
        Status::Unknown(_) => of_failure(property, false),
    }
}

/// One run: the worst of its checks; a run whose verdict is not a pass is at least
/// undecided, even when no check failed (the event limit cut it short before it could decide).
///
/// ```
/// use sim::run::exit::{ExitCode, of_run};
/// assert_eq!(of_run([ExitCode::Held], true), ExitCode::Held);
/// // A run that did not pass never exits 0, even if no check says why.
/// assert_eq!(of_run([], false), ExitCode::Undecided);
/// ```
pub fn of_run(failures: impl IntoIterator<Item = ExitCode>, passed: bool) -> ExitCode {
    let floor = if passed {
        ExitCode::Held
    } else {
        ExitCode::Undecided
    };
    worst(failures).worse(floor)
}

/// `sim check`: a history that is not linearizable is a safety failure; one the search could not
/// decide within its limits (`--timeout`, `--max-steps`) is undecided.
///
/// ```
/// use sim::check::linearizable::LinVerdict;
/// use sim::run::exit::{ExitCode, of_linearizability};
/// assert_eq!(of_linearizability(&LinVerdict::NotLinearizable), ExitCode::SafetyViolated);
/// assert_eq!(of_linearizability(&LinVerdict::Linearizable).code(), 0);
/// ```
pub fn of_linearizability(verdict: &LinVerdict) -> ExitCode {
    match verdict {
        LinVerdict::Linearizable => ExitCode::Held,
        LinVerdict::NotLinearizable => ExitCode::SafetyViolated,
        LinVerdict::Unknown { .. } => ExitCode::Undecided,
    }
}

#[cfg(test)]
mod tests {
    use super::ExitCode::*;
    use super::*;

    /// The numbers are what CI scripts test for: changing one breaks every pipeline.
    #[test]
    fn each_code_has_its_published_number() {
        let numbers: Vec<i32> = ExitCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(numbers, [0, 1, 2, 3, 130]);
        assert_eq!(Held.code(), 0);
        assert_eq!(SafetyViolated.code(), 1);
        assert_eq!(BadInput.code(), 2);
        assert_eq!(Undecided.code(), 3);
        assert_eq!(Interrupted.code(), 130);
    }

    #[test]
    fn worst_ranks_safety_over_undecided_over_held() {
        assert_eq!(worst([]), Held, "nothing failed: held");
        assert_eq!(worst([Held, Held]), Held);
        assert_eq!(worst([Held, Undecided, Held]), Undecided);
        assert_eq!(
            worst([Undecided, SafetyViolated, Undecided]),
            SafetyViolated
        );
        assert_eq!(
            worst([SafetyViolated, Undecided]),
            SafetyViolated,
            "order is no matter"
        );
        // A bad file or a Ctrl-C is told whatever the verdicts, bad input first.
        assert_eq!(worst([SafetyViolated, Interrupted]), Interrupted);
        assert_eq!(worst([Interrupted, BadInput, SafetyViolated]), BadInput);
    }

    /// A ranking by number would get this wrong: 3 is less bad than 1, 130 less than 2.
    #[test]
    fn the_rank_is_not_the_number() {
        assert_eq!(Undecided.worse(SafetyViolated), SafetyViolated);
        assert_eq!(SafetyViolated.worse(Undecided), SafetyViolated);
        assert_eq!(Interrupted.worse(BadInput), BadInput);
        for a in ExitCode::ALL {
            assert_eq!(a.worse(Held), a);
            assert_eq!(Held.worse(a), a);
            assert_eq!(a.worse(a), a);
            for b in ExitCode::ALL {
                assert_eq!(a.worse(b), b.worse(a), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn only_a_violated_safety_property_is_a_safety_failure() {
        assert_eq!(of_failure(Property::Safety, true), SafetyViolated);
        assert_eq!(of_failure(Property::Safety, false), Undecided);
        assert_eq!(of_failure(Property::Liveness, true), Undecided);
        assert_eq!(of_failure(Property::Liveness, false), Undecided);
    }

    #[test]
    fn a_passing_check_holds_whatever_its_property() {
        use crate::check::Violation;
        let violation = Status::Violated(Violation {
            at: 5,
            nodes: vec!["n1".into()],
            message: "two leaders in term 2".into(),
            evidence: Vec::new(),
        });
        let unknown = Status::Unknown("the run ended first".into());
        assert_eq!(of_check(Property::Safety, &Status::Pass), Held);
        assert_eq!(of_check(Property::Liveness, &Status::Pass), Held);
        assert_eq!(of_check(Property::Safety, &violation), SafetyViolated);
        assert_eq!(of_check(Property::Liveness, &violation), Undecided);
        assert_eq!(of_check(Property::Safety, &unknown), Undecided);
    }

    #[test]
    fn a_run_that_did_not_pass_is_at_least_undecided() {
        assert_eq!(of_run([], true), Held);
        assert_eq!(
            of_run([], false),
            Undecided,
            "the event limit, every check held"
        );
        assert_eq!(of_run([Undecided], false), Undecided);
        assert_eq!(of_run([Undecided, SafetyViolated], false), SafetyViolated);
    }

    #[test]
    fn a_non_linearizable_history_is_a_safety_failure() {
        assert_eq!(of_linearizability(&LinVerdict::Linearizable), Held);
        assert_eq!(
            of_linearizability(&LinVerdict::NotLinearizable),
            SafetyViolated
        );
        let unknown = LinVerdict::Unknown {
            reason: "--max-steps".into(),
        };
        assert_eq!(of_linearizability(&unknown), Undecided);
    }

    /// The architecture document publishes the contract: a row per code, with these words, and
    /// it says the policy lives here.
    #[test]
    fn the_architecture_document_tells_each_code_and_where_it_is_decided() {
        let doc = include_str!("../../docs/ARCHITECTURE.md");
        let section = doc
            .split("### Exit codes")
            .nth(1)
            .expect("docs/ARCHITECTURE.md has an exit-code section");
        let section = section.split("\n## ").next().unwrap_or(section);
        let section = section.split("\n### ").next().unwrap_or(section);
        for c in ExitCode::ALL {
            let row = format!("| {} | {}", c.code(), c.meaning());
            assert!(section.contains(&row), "the exit-code table lacks `{row}`");
        }
        assert!(
            section.contains("src/run/exit.rs"),
            "the section cites the policy"
        );
    }
}
