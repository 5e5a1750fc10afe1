//! The heart of a Snowflake generator, without its context: given what the wall clock reads,
//! the next (millisecond, sequence) pair, or why there is none yet.

use super::config::{OnClockBehind, OnSequenceFull};

/// The next id's millisecond and sequence, or why it must wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Make the id of this millisecond and sequence. `behind`: the clock read before the last
    /// millisecond and the naive generator went on anyway; `wrapped`: the sequence was full
    /// and started again.
    Id {
        millis: u64,
        sequence: u64,
        behind_of: Option<u64>,
        wrapped: bool,
    },
    /// The clock reads before `last`, the last millisecond used.
    Behind { last: u64 },
    /// The millisecond's sequence is used up: wait for the next one.
    Full,
}

/// The last millisecond used and the next sequence number in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Generator {
    /// The last millisecond ids were made in (after a restart from disk: the one after the
    /// last written, which no id has used).
    pub(crate) last: u64,
    /// The next sequence number in `last`.
    pub(crate) next_sequence: u64,
}

impl Generator {
    /// A generator that has used every millisecond up to `persisted`, as its disk says.
    pub(crate) fn after(persisted: Option<u64>) -> Self {
        Generator {
            last: persisted.map_or(0, |m| m + 1),
            next_sequence: 0,
        }
    }

    /// The next id at wall-clock millisecond `now`, taken if it can be made.
    pub(crate) fn next(
        &mut self,
        now: u64,
        max_sequence: u64,
        on_behind: OnClockBehind,
        on_full: OnSequenceFull,
    ) -> Next {
        let mut behind_of = None;
        if now < self.last {
            if on_behind != OnClockBehind::Ignore {
                return Next::Behind { last: self.last };
            }
            // The naive generator: `if now == last { seq++ } else { seq = 0 }; last = now`.
            behind_of = Some(self.last);
            self.last = now;
            self.next_sequence = 0;
        }
        if now > self.last {
            self.last = now;
            self.next_sequence = 0;
        }
        let mut wrapped = false;
        if self.next_sequence > max_sequence {
            match on_full {
                OnSequenceFull::Wait => return Next::Full,
                OnSequenceFull::Wrap => {
                    self.next_sequence = 0;
                    wrapped = true;
                }
            }
        }
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        Next::Id {
            millis: self.last,
            sequence,
            behind_of,
            wrapped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(millis: u64, sequence: u64) -> Next {
        Next::Id {
            millis,
            sequence,
            behind_of: None,
            wrapped: false,
        }
    }

    #[test]
    fn a_new_millisecond_starts_the_sequence_again() {
        let mut g = Generator::default();
        let (b, f) = (OnClockBehind::Wait, OnSequenceFull::Wait);
        assert_eq!(g.next(10, 3, b, f), id(10, 0));
        assert_eq!(g.next(10, 3, b, f), id(10, 1));
        assert_eq!(g.next(12, 3, b, f), id(12, 0));
    }

    #[test]
    fn the_naive_generator_reuses_a_millisecond_when_the_clock_goes_back() {
        let mut g = Generator::default();
        let (b, f) = (OnClockBehind::Ignore, OnSequenceFull::Wait);
        assert_eq!(g.next(10, 3, b, f), id(10, 0));
        assert_eq!(g.next(11, 3, b, f), id(11, 0));
        let again = g.next(10, 3, b, f);
        assert_eq!(
            again,
            Next::Id {
                millis: 10,
                sequence: 0,
                behind_of: Some(11),
                wrapped: false
            },
            "the same pair as the first id"
        );
    }

    #[test]
    fn waiting_and_refusing_generators_take_nothing_while_behind() {
        for b in [OnClockBehind::Wait, OnClockBehind::Refuse] {
            let mut g = Generator::default();
            g.next(11, 3, b, OnSequenceFull::Wait);
            assert_eq!(
                g.next(10, 3, b, OnSequenceFull::Wait),
                Next::Behind { last: 11 }
            );
            assert_eq!(g.next(11, 3, b, OnSequenceFull::Wait), id(11, 1));
        }
    }

    #[test]
    fn a_full_millisecond_waits_or_wraps() {
        let mut g = Generator::default();
        let b = OnClockBehind::Wait;
        g.next(10, 1, b, OnSequenceFull::Wait);
        g.next(10, 1, b, OnSequenceFull::Wait);
        assert_eq!(g.next(10, 1, b, OnSequenceFull::Wait), Next::Full);
        assert_eq!(g.next(11, 1, b, OnSequenceFull::Wait), id(11, 0));
        g.next(11, 1, b, OnSequenceFull::Wrap);
        assert_eq!(
            g.next(11, 1, b, OnSequenceFull::Wrap),
            Next::Id {
                millis: 11,
                sequence: 0,
                behind_of: None,
                wrapped: true
            }
        );
    }

    #[test]
    fn a_restarted_generator_starts_after_what_it_wrote() {
        let mut g = Generator::after(Some(10));
        let (b, f) = (OnClockBehind::Wait, OnSequenceFull::Wait);
        assert_eq!(g.next(10, 3, b, f), Next::Behind { last: 11 });
        assert_eq!(g.next(11, 3, b, f), id(11, 0));
    }
}
