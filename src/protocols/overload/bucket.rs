//! The token bucket (seed text 002, 「延伸1：令牌桶限流算法」): tokens drip in at a fixed `rate`
//! up to `capacity`; a request passes only by taking one, so what the service takes in over any
//! interval of length t is at most `capacity + rate · t`.
//!
//! The text's Java sketch has two bugs this bucket does not copy. `timePassed / 1000 * rate`
//! is integer division, so nothing drips in until a whole second has passed; and `lastTime`
//! moves only when a request takes a token, so the same elapsed time is credited again at every
//! refused request. Here the level is kept in token-nanoseconds (a token is 10^9 of them), so
//! `elapsed_ns · rate` is exact, and the refill instant moves at every look, taken or not.

/// Nanoseconds per second: a token's worth of token-nanoseconds.
const PER_TOKEN: u128 = 1_000_000_000;

/// A token bucket read on the node's monotonic clock.
#[derive(Clone, Debug)]
pub(crate) struct TokenBucket {
    /// Tokens per second.
    rate: u64,
    /// At most this many tokens.
    capacity: u64,
    /// Tokens held, in token-nanoseconds.
    level: u128,
    /// When the level was last brought up to date.
    last: i64,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub(crate) fn full(rate: u64, capacity: u64, now: i64) -> Self {
        TokenBucket {
            rate,
            capacity,
            level: u128::from(capacity) * PER_TOKEN,
            last: now,
        }
    }

    /// Brings the level up to `now`: what has dripped in since the last look, capped.
    fn refill(&mut self, now: i64) {
        let elapsed = u128::try_from(now.saturating_sub(self.last)).unwrap_or(0);
        let cap = u128::from(self.capacity) * PER_TOKEN;
        self.level = (self.level + elapsed * u128::from(self.rate)).min(cap);
        // Moves whether or not a token is taken: elapsed time is credited once.
        self.last = self.last.max(now);
    }

    /// Takes a token at `now` if there is one.
    pub(crate) fn take(&mut self, now: i64) -> bool {
        self.refill(now);
        if self.level >= PER_TOKEN {
            self.level -= PER_TOKEN;
            true
        } else {
            false
        }
    }

    /// Whole tokens held at `now` (for the replay's state).
    pub(crate) fn tokens(&self) -> u64 {
        (self.level / PER_TOKEN) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    #[test]
    fn a_full_bucket_passes_its_capacity_at_once_then_refuses() {
        let mut b = TokenBucket::full(100, 5, 0);
        let passed = (0..8).filter(|_| b.take(0)).count();
        assert_eq!(passed, 5);
    }

    #[test]
    fn tokens_drip_in_fractionally_not_per_whole_second() {
        // 100 tokens a second: one every 10 ms. The text's integer division would add none
        // before a whole second.
        let mut b = TokenBucket::full(100, 1, 0);
        assert!(b.take(0));
        assert!(!b.take(9 * MS), "0.9 of a token");
        assert!(
            b.take(10 * MS),
            "0.9 + 0.1 of a token: exact, nothing lost to rounding"
        );
    }

    #[test]
    fn refused_looks_do_not_credit_the_same_time_twice() {
        // The text moves lastTime only on a take: each refused look would add the elapsed time
        // again. Three looks over 15 ms at 100/s give 1.5 tokens, not 0.5 + 1.0 + 1.5.
        let mut b = TokenBucket::full(100, 10, 0);
        while b.take(0) {}
        assert!(!b.take(5 * MS));
        assert!(b.take(10 * MS));
        assert!(!b.take(15 * MS), "only half a token left");
        assert!(b.take(20 * MS));
    }

    #[test]
    fn over_any_window_at_most_capacity_plus_rate_times_length_pass() {
        // Asking every millisecond for 2 s: 10 at once, then one per 12.5 ms (80/s).
        let mut b = TokenBucket::full(80, 10, 0);
        let passed: Vec<i64> = (0..2_000).map(|t| t * MS).filter(|&t| b.take(t)).collect();
        assert_eq!(passed.len(), 10 + 159);
        for (i, &start) in passed.iter().enumerate() {
            for &end in &passed[i..] {
                let within = passed.iter().filter(|&&t| t >= start && t <= end).count() as i64;
                assert!(within <= 10 + 1 + 80 * (end - start) / 1_000 / MS);
            }
        }
        assert_eq!(b.tokens(), 0);
    }

    #[test]
    fn the_level_never_passes_capacity() {
        let mut b = TokenBucket::full(1_000, 3, 0);
        assert!(b.take(3_600_000 * MS));
        assert_eq!(b.tokens(), 2, "an hour idle refills to 3, not 3.6 million");
    }
}
