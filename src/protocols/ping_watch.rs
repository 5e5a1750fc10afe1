//! The standby's side of ping-based failure detection, shared by the fail-over protocols: each
//! tick counts the last ping, if still unanswered, as missed, and either pings again or says the
//! master has been silent long enough to take over. Only the counting lives here; what a ping
//! and a pong carry (an epoch, a generation) and what taking over means is each protocol's own.

use crate::node::{ConfigError, Duration};

/// The `[protocol]` fields every ping-watching protocol has: a ping interval above zero and
/// at least one missed ping before taking over.
pub(crate) fn validate(ping_interval: Duration, missed_pings: u32) -> Result<(), ConfigError> {
    if ping_interval == Duration::ZERO {
        return Err(ConfigError::new(
            "ping_interval",
            "ping_interval must be greater than zero",
        ));
    }
    if missed_pings == 0 {
        return Err(ConfigError::new(
            "missed_pings",
            "missed_pings must be at least 1",
        ));
    }
    Ok(())
}

/// What a standby does on its ping tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Send a ping numbered `seq`.
    Ping(u64),
    /// `threshold` pings in a row went unanswered: the master is presumed dead.
    Silent,
}

/// Counts unanswered pings in a row.
#[derive(Clone, Debug, Default)]
pub(crate) struct PingWatch {
    /// Pings sent so far; the last one's number.
    seq: u64,
    /// The ping still waiting for its pong, if any.
    outstanding: Option<u64>,
    /// Unanswered pings in a row.
    missed: u32,
}

impl PingWatch {
    /// One tick: counts an unanswered ping as missed; after `threshold` in a row says
    /// [`Tick::Silent`] (and sends nothing), else numbers the next ping.
    pub(crate) fn tick(&mut self, threshold: u32) -> Tick {
        if self.outstanding.take().is_some() {
            self.missed += 1;
            if self.missed >= threshold {
                return Tick::Silent;
            }
        }
        self.seq += 1;
        self.outstanding = Some(self.seq);
        Tick::Ping(self.seq)
    }

    /// A pong for ping `seq`: the run of misses ends, if it answers the outstanding ping (a late
    /// pong was already counted as missed). True when it did.
    pub(crate) fn pong(&mut self, seq: u64) -> bool {
        if self.outstanding == Some(seq) {
            self.outstanding = None;
            self.missed = 0;
            return true;
        }
        false
    }

    /// Forgets the misses (a new master to watch); ping numbers keep growing.
    pub(crate) fn reset(&mut self) {
        self.outstanding = None;
        self.missed = 0;
    }

    /// Unanswered pings in a row so far.
    pub(crate) fn missed(&self) -> u32 {
        self.missed
    }

    /// Pings sent so far.
    pub(crate) fn sent(&self) -> u64 {
        self.seq
    }

    /// The ping still waiting for its pong, if any.
    pub(crate) fn outstanding(&self) -> Option<u64> {
        self.outstanding
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silent_after_threshold_unanswered_pings_in_a_row() {
        let mut w = PingWatch::default();
        assert_eq!(w.tick(3), Tick::Ping(1));
        assert_eq!(w.tick(3), Tick::Ping(2));
        assert_eq!(w.tick(3), Tick::Ping(3));
        assert_eq!(w.missed(), 2);
        assert_eq!(w.tick(3), Tick::Silent);
    }

    #[test]
    fn an_answered_ping_ends_the_run_of_misses_and_a_late_pong_does_not() {
        let mut w = PingWatch::default();
        w.tick(3);
        w.tick(3);
        assert!(!w.pong(1), "ping 1 was already counted as missed");
        assert!(w.pong(2));
        assert_eq!(w.missed(), 0);
        for _ in 0..3 {
            assert!(matches!(w.tick(3), Tick::Ping(_)));
        }
        assert_eq!(w.tick(3), Tick::Silent);
        w.reset();
        assert_eq!(w.tick(3), Tick::Ping(6));
        assert_eq!(w.sent(), 6);
    }
}
