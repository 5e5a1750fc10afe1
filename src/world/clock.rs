//! A node's local clock: an offset, a drift in parts per million, and steps (NTP-style jumps).
//!
//! Each node has two (see [`crate::node::ClockKind`]): a *wall* clock with all three, and a
//! *monotonic* clock that reads 0 at true time zero and shares the wall clock's drift (one
//! oscillator drives both) but never jumps. The world keeps them side by side in the cluster;
//! this type is one piecewise-linear clock.
//!
//! The clock is piecewise linear in true time. Between changes it reads
//! `base_local + (t - base_true) * (1e6 + drift_ppm) / 1e6`, with integer arithmetic so every
//! machine reads the same value. A jump or a drift change starts a new piece at the current
//! instant. Timers are deadlines on this clock, so [`Clock::true_time_of`] inverts it.

use crate::node::{LocalNanos, Nanos};

const PPM: i128 = 1_000_000;

/// The lowest drift a clock may have: it must still move forward.
pub(crate) const MIN_DRIFT_PPM: i64 = -999_999;
/// The highest drift accepted: a clock running at double speed.
pub(crate) const MAX_DRIFT_PPM: i64 = 1_000_000;

/// One node's clock: what it reads (local nanoseconds) at each instant of true time, with its
/// offset, its drift in parts per million, and the jumps and drift changes faults gave it.
///
/// ```
/// use sim::world::Clock;
/// const S: u64 = 1_000_000_000;
/// // 2 s ahead and 100 ppm fast: after 10 s of true time it reads 12.001 s.
/// let clock = Clock::new(2 * S as i64, 100);
/// assert_eq!(clock.local_at(10 * S), 12_001_000_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    base_true: Nanos,
    base_local: LocalNanos,
    drift_ppm: i64,
}

impl Clock {
    /// A clock that reads `offset` at true time zero and gains `drift_ppm` per million.
    ///
    /// ```
    /// use sim::world::Clock;
    /// // 50 ms behind, 1,000 ppm slow: it reads -50 ms at true time zero.
    /// let clock = Clock::new(-50_000_000, -1_000);
    /// assert_eq!(clock.local_at(0), -50_000_000);
    /// assert_eq!(clock.local_at(1_000_000_000), 949_000_000);
    /// ```
    pub fn new(offset: LocalNanos, drift_ppm: i64) -> Self {
        debug_assert!((MIN_DRIFT_PPM..=MAX_DRIFT_PPM).contains(&drift_ppm));
        Clock {
            base_true: 0,
            base_local: offset,
            drift_ppm,
        }
    }

    /// A perfect clock.
    ///
    /// ```
    /// use sim::world::Clock;
    /// assert_eq!(Clock::honest().local_at(123), 123);
    /// ```
    pub fn honest() -> Self {
        Clock::new(0, 0)
    }

    /// The monotonic clock of a node whose wall clock starts as `self`: no offset, same drift.
    ///
    /// ```
    /// use sim::world::Clock;
    /// const S: u64 = 1_000_000_000;
    /// // The monotonic clock drops the wall clock's offset and keeps its drift.
    /// let wall = Clock::new(5 * S as i64, 1_000);
    /// assert_eq!(wall.monotonic_twin().local_at(S), 1_001_000_000);
    /// ```
    pub fn monotonic_twin(&self) -> Clock {
        Clock::new(0, self.drift_ppm)
    }

    fn rate(&self) -> i128 {
        PPM + i128::from(self.drift_ppm)
    }

    /// What the clock reads at true time `t` (not before the current piece began).
    #[inline]
    ///
    /// ```
    /// use sim::world::Clock;
    /// // 10 ppm fast: one second of true time reads 10 µs more.
    /// assert_eq!(Clock::new(0, 10).local_at(1_000_000_000), 1_000_010_000);
    /// ```
    pub fn local_at(&self, t: Nanos) -> LocalNanos {
        debug_assert!(t >= self.base_true);
        if self.drift_ppm == 0 {
            // The common case, without 128-bit division.
            let elapsed = i64::try_from(t - self.base_true).unwrap_or(i64::MAX);
            return self.base_local.saturating_add(elapsed);
        }
        let elapsed = i128::from(t - self.base_true) * self.rate() / PPM;
        saturate(i128::from(self.base_local) + elapsed)
    }

    /// The first true instant at or after `now` when the clock reads at least `deadline`.
    ///
    /// ```
    /// use sim::world::Clock;
    /// // A timer for local time 2 s on a clock running at half speed fires at true time 4 s.
    /// let slow = Clock::new(0, -500_000);
    /// assert_eq!(slow.true_time_of(2_000_000_000, 0), 4_000_000_000);
    /// // A deadline already passed fires now.
    /// assert_eq!(slow.true_time_of(0, 7), 7);
    /// ```
    pub fn true_time_of(&self, deadline: LocalNanos, now: Nanos) -> Nanos {
        let now = now.max(self.base_true);
        if self.local_at(now) >= deadline {
            return now;
        }
        let ahead = i128::from(deadline) - i128::from(self.base_local);
        // Smallest x with floor(x * rate / 1e6) >= ahead is ceil(ahead * 1e6 / rate).
        let x = (ahead * PPM + self.rate() - 1) / self.rate();
        let t = i128::from(self.base_true) + x;
        u64::try_from(t).unwrap_or(u64::MAX).max(now)
    }

    /// Steps the clock by `by` at true time `now` (negative: backwards).
    ///
    /// ```
    /// use sim::world::Clock;
    /// const S: u64 = 1_000_000_000;
    /// // An NTP step back by 400 ms at true time 1 s.
    /// let mut clock = Clock::honest();
    /// clock.jump(-400_000_000, S);
    /// assert_eq!(clock.local_at(S), 600_000_000);
    /// assert_eq!(clock.local_at(2 * S), 1_600_000_000);
    /// ```
    pub fn jump(&mut self, by: i64, now: Nanos) {
        let reading = self.local_at(now);
        self.base_true = now;
        self.base_local = reading.saturating_add(by);
    }

    /// Changes the drift from true time `now` on.
    ///
    /// ```
    /// use sim::world::Clock;
    /// const S: u64 = 1_000_000_000;
    /// // Honest for a second, then 1,000 ppm fast: no jump at the change.
    /// let mut clock = Clock::honest();
    /// clock.set_drift(1_000, S);
    /// assert_eq!(clock.local_at(S), S as i64);
    /// assert_eq!(clock.local_at(2 * S), 2_001_000_000);
    /// ```
    pub fn set_drift(&mut self, drift_ppm: i64, now: Nanos) {
        let reading = self.local_at(now);
        self.base_true = now;
        self.base_local = reading;
        self.drift_ppm = drift_ppm;
    }
}

fn saturate(v: i128) -> LocalNanos {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn an_honest_clock_reads_true_time() {
        let c = Clock::honest();
        assert_eq!(c.local_at(1234), 1234);
        assert_eq!(c.true_time_of(5000, 0), 5000);
    }

    #[test]
    fn offset_and_drift_apply() {
        let c = Clock::new(-20 * MS as i64, 500_000); // 20 ms behind, runs 1.5x fast
        assert_eq!(c.local_at(0), -20 * MS as i64);
        assert_eq!(c.local_at(100 * MS), 130 * MS as i64);
        let slow = Clock::new(0, -500_000); // half speed
        assert_eq!(slow.local_at(100 * MS), 50 * MS as i64);
        assert_eq!(slow.true_time_of(50 * MS as i64, 0), 100 * MS);
    }

    #[test]
    fn true_time_of_is_the_exact_inverse() {
        for drift in [-999_999, -333_333, -7, 0, 13, 250_000, 1_000_000] {
            let c = Clock::new(12_345, drift);
            for deadline in [12_346i64, 99_999, 1_000_000_007] {
                let t = c.true_time_of(deadline, 0);
                assert!(c.local_at(t) >= deadline, "drift {drift}");
                assert!(
                    t == 0 || c.local_at(t - 1) < deadline,
                    "drift {drift}: not the first"
                );
            }
        }
    }

    #[test]
    fn a_backward_jump_makes_the_clock_go_back() {
        let mut c = Clock::honest();
        assert_eq!(c.local_at(2_000 * MS), 2_000 * MS as i64);
        c.jump(-500 * MS as i64, 2_000 * MS);
        assert_eq!(c.local_at(2_000 * MS), 1_500 * MS as i64);
        assert_eq!(c.local_at(2_100 * MS), 1_600 * MS as i64);
        // A deadline set for local 1.9s before the jump now fires 400 ms later in true time.
        assert_eq!(c.true_time_of(1_900 * MS as i64, 2_000 * MS), 2_400 * MS);
    }

    #[test]
    fn a_forward_jump_brings_deadlines_to_now() {
        let mut c = Clock::honest();
        c.jump(1_000 * MS as i64, 100 * MS);
        assert_eq!(c.true_time_of(600 * MS as i64, 100 * MS), 100 * MS);
    }

    #[test]
    fn the_monotonic_twin_shares_the_drift_but_not_the_offset() {
        let wall = Clock::new(-20 * MS as i64, 500_000);
        let mono = wall.monotonic_twin();
        assert_eq!(mono.local_at(0), 0);
        assert_eq!(mono.local_at(100 * MS), 150 * MS as i64);
    }

    #[test]
    fn drift_changes_keep_the_reading_continuous() {
        let mut c = Clock::honest();
        c.set_drift(-500_000, 100 * MS);
        assert_eq!(c.local_at(100 * MS), 100 * MS as i64);
        assert_eq!(c.local_at(300 * MS), 200 * MS as i64);
    }
}
