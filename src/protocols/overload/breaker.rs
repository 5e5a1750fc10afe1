//! The circuit breaker (seed text 002, 「延伸2：断路器模式熔断」; seed text 003, 「2.4 微服务架构容错
//! 设计原则」), with the usual names — the text 002 swaps OPEN and CLOSED:
//!
//! - CLOSED: calls pass; consecutive failures (a timeout, a busy answer) are counted, and the
//!   `threshold`-th opens the breaker. A success resets the count.
//! - OPEN: calls are refused at once, never reaching the downstream, for `cooldown`.
//! - HALF-OPEN: the first call after the cool-down passes as a probe and every other is refused
//!   while it is out; the probe's success closes the breaker, its failure opens it again.
//!
//! The breaker is lazy: OPEN becomes HALF-OPEN at the first call after the cool-down, so it
//! needs no timer. Outcomes of calls made before the breaker opened are ignored once it has.

use super::api::BreakerState;

/// A state change, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Transition {
    pub(crate) from: BreakerState,
    pub(crate) to: BreakerState,
    pub(crate) because: String,
}

/// Whether a call may go out, and if it does whether it is the half-open probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Permit {
    /// It passes: `probe` when it is the one call of a half-open breaker.
    Pass { probe: bool },
    /// Refused at once.
    Refuse,
}

/// A circuit breaker read on the node's monotonic clock.
#[derive(Clone, Debug)]
pub(crate) struct Breaker {
    threshold: u32,
    cooldown: i64,
    state: BreakerState,
    /// Consecutive failures while closed.
    failures: u32,
    /// When it last opened.
    opened_at: i64,
    /// A half-open breaker's probe is out.
    probing: bool,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` consecutive failures and stays open for
    /// `cooldown` nanoseconds.
    pub(crate) fn new(threshold: u32, cooldown: i64) -> Self {
        Breaker {
            threshold,
            cooldown,
            state: BreakerState::Closed,
            failures: 0,
            opened_at: 0,
            probing: false,
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        self.state
    }

    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    fn go(&mut self, to: BreakerState, because: String) -> Option<Transition> {
        let from = std::mem::replace(&mut self.state, to);
        Some(Transition { from, to, because })
    }

    /// May a call go out at `now`? The transition it caused, if any, comes with the answer.
    pub(crate) fn permit(&mut self, now: i64) -> (Permit, Option<Transition>) {
        match self.state {
            BreakerState::Closed => (Permit::Pass { probe: false }, None),
            BreakerState::Open if now - self.opened_at >= self.cooldown => {
                self.probing = true;
                let t = self.go(
                    BreakerState::HalfOpen,
                    "the cool-down is over: one probe call may pass".into(),
                );
                (Permit::Pass { probe: true }, t)
            }
            BreakerState::Open => (Permit::Refuse, None),
            BreakerState::HalfOpen if !self.probing => {
                self.probing = true;
                (Permit::Pass { probe: true }, None)
            }
            BreakerState::HalfOpen => (Permit::Refuse, None),
        }
    }

    /// A call came back answered; `probe` says whether it was the half-open probe.
    pub(crate) fn on_success(&mut self, probe: bool) -> Option<Transition> {
        match self.state {
            BreakerState::Closed => {
                self.failures = 0;
                None
            }
            BreakerState::HalfOpen if probe => {
                self.probing = false;
                self.failures = 0;
                self.go(
                    BreakerState::Closed,
                    "the probe call succeeded: the downstream is back".into(),
                )
            }
            _ => None,
        }
    }

    /// A call failed at `now` (`what`: how, in words); `probe` as for [`Breaker::on_success`].
    pub(crate) fn on_failure(&mut self, now: i64, probe: bool, what: &str) -> Option<Transition> {
        match self.state {
            BreakerState::Closed => {
                self.failures += 1;
                if self.failures < self.threshold {
                    return None;
                }
                self.opened_at = now;
                let n = self.failures;
                self.failures = 0;
                self.go(
                    BreakerState::Open,
                    format!("{n} consecutive calls failed, the last by {what}"),
                )
            }
            BreakerState::HalfOpen if probe => {
                self.probing = false;
                self.opened_at = now;
                self.go(
                    BreakerState::Open,
                    format!("the probe call failed by {what}"),
                )
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    fn pass(b: &mut Breaker, now: i64) -> Permit {
        b.permit(now).0
    }

    #[test]
    fn closed_opens_after_the_threshold_of_consecutive_failures_only() {
        let mut b = Breaker::new(3, 500 * MS);
        assert!(b.on_failure(0, false, "timeout").is_none());
        assert!(b.on_failure(0, false, "timeout").is_none());
        assert!(b.on_success(false).is_none(), "a success resets the count");
        assert!(b.on_failure(0, false, "timeout").is_none());
        assert!(b.on_failure(0, false, "timeout").is_none());
        let t = b
            .on_failure(7 * MS, false, "timeout")
            .expect("the third in a row opens it");
        assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
        assert_eq!(t.because, "3 consecutive calls failed, the last by timeout");
    }

    #[test]
    fn open_refuses_until_the_cool_down_then_lets_one_probe_through() {
        let mut b = Breaker::new(1, 500 * MS);
        b.on_failure(100 * MS, false, "timeout");
        assert_eq!(pass(&mut b, 599 * MS), Permit::Refuse);
        let (p, t) = b.permit(600 * MS);
        assert_eq!(p, Permit::Pass { probe: true });
        assert_eq!(t.unwrap().to, BreakerState::HalfOpen);
        assert_eq!(
            pass(&mut b, 601 * MS),
            Permit::Refuse,
            "one probe at a time"
        );
    }

    #[test]
    fn the_probe_decides_late_answers_of_older_calls_do_not() {
        let mut b = Breaker::new(1, 100 * MS);
        b.on_failure(0, false, "timeout");
        b.permit(100 * MS);
        assert!(b.on_success(false).is_none(), "an old call's late answer");
        assert!(b.on_failure(150 * MS, false, "timeout").is_none());
        let t = b.on_failure(200 * MS, true, "timeout").unwrap();
        assert_eq!((t.from, t.to), (BreakerState::HalfOpen, BreakerState::Open));
        assert_eq!(pass(&mut b, 250 * MS), Permit::Refuse, "a new cool-down");
        assert_eq!(pass(&mut b, 300 * MS), Permit::Pass { probe: true });
        let t = b.on_success(true).unwrap();
        assert_eq!(
            (t.from, t.to),
            (BreakerState::HalfOpen, BreakerState::Closed)
        );
        assert_eq!(pass(&mut b, 301 * MS), Permit::Pass { probe: false });
        assert_eq!(b.failures(), 0);
    }
}
