//! The nemesis: random faults drawn from their own streams, then a final heal.
//!
//! Each fault kind draws its schedule from its own nemesis stream, so adding crashes to a
//! scenario leaves its partitions where they were. Faults of one kind never overlap: after each
//! one ends, the nemesis waits a quiet interval drawn from `every`, then strikes for a duration
//! drawn from `last`. At `until` it stops and heals everything — every cut repaired, paused
//! nodes resumed, crashed nodes restarted — so liveness is judged on a quiet cluster: the
//! safety-then-liveness shape of Jepsen's final generator and TigerBeetle's VOPR.
//! The whole schedule is drawn before the run starts; only its targets wait for their instant.
//! Times are drawn in the coarsest unit both ends of a range are written in (a range of
//! `["1s", "3s"]` or `["200ms", "2s"]` draws whole milliseconds), so a schedule reads as written.

use crate::node::{Nanos, Rng, Stream};

use super::fault::{FaultAction, FaultSpec, Origin, Shape, Target};

/// `every`: the quiet interval before each fault; `last`: how long each fault lasts.
///
/// ```
/// use sim::world::Rhythm;
/// const MS: u64 = 1_000_000;
/// // Quiet for 0.5-3 s between faults, each lasting 0.2-2 s.
/// let rhythm = Rhythm { every: (500 * MS, 3_000 * MS), last: (200 * MS, 2_000 * MS) };
/// assert!(rhythm.every.0 <= rhythm.every.1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rhythm {
    /// The range `[lo, hi]` the quiet interval before each fault is drawn from, in nanoseconds.
    pub every: (Nanos, Nanos),
    /// The range `[lo, hi]` each fault's duration is drawn from, in nanoseconds.
    pub last: (Nanos, Nanos),
}

/// `[nemesis]`: random faults drawn from the fault stream until `until`, then a final heal
/// (every cut repaired, paused nodes resumed, crashed nodes restarted). Each kind of fault
/// that is present keeps its own rhythm.
///
/// ```
/// use sim::world::{NemesisSpec, Rhythm, Target};
/// const S: u64 = 1_000_000_000;
/// // Crashes of random nodes until 20 s, then the final heal.
/// let nemesis = NemesisSpec {
///     until: 20 * S,
///     partition: None,
///     crash: Some((Rhythm { every: (S, 3 * S), last: (S, 2 * S) }, Target::Random)),
///     pause: None,
///     clock_jump: None,
///     delay: None,
/// };
/// assert!(!nemesis.expand(1).is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NemesisSpec {
    /// When the nemesis stops and the final heal happens.
    pub until: Nanos,
    /// Partitions, each of a shape drawn from the list.
    pub partition: Option<(Rhythm, Vec<Shape>)>,
    /// Crashes of the target, each restarted when it has lasted.
    pub crash: Option<(Rhythm, Target)>,
    /// Pauses of the target, each resumed when it has lasted.
    pub pause: Option<(Rhythm, Target)>,
    /// Clock jumps: `every` between jumps, `by` drawn from the range (`last` unused).
    pub clock_jump: Option<(Rhythm, (i64, i64), Target)>,
    /// Delay spikes: the target's links take `by` (drawn from the range) longer while one
    /// lasts.
    pub delay: Option<(Rhythm, (Nanos, Nanos), Target)>,
}

impl NemesisSpec {
    /// The concrete schedule for `seed`, ending with the final heal at `until`.
    ///
    /// ```
    /// use sim::world::{FaultAction, NemesisSpec, Rhythm, Shape};
    /// const S: u64 = 1_000_000_000;
    /// let nemesis = NemesisSpec {
    ///     until: 10 * S,
    ///     partition: Some((Rhythm { every: (S, 2 * S), last: (S, 2 * S) }, vec![Shape::Halves])),
    ///     crash: None,
    ///     pause: None,
    ///     clock_jump: None,
    ///     delay: None,
    /// };
    /// let schedule = nemesis.expand(7);
    /// // The same seed draws the same schedule; it ends with the final heal at `until`.
    /// assert_eq!(schedule, nemesis.expand(7));
    /// let last = schedule.last().unwrap();
    /// assert_eq!((last.at, &last.action), (10 * S, &FaultAction::Recover));
    /// ```
    pub fn expand(&self, seed: u64) -> Vec<FaultSpec> {
        let mut out = Vec::new();
        if let Some((rhythm, shapes)) = &self.partition {
            let mut rng = Rng::derive(seed, Stream::Nemesis(0));
            self.strike(&mut rng, rhythm, &mut out, |rng| {
                let shape = shapes[rng.below(shapes.len() as u64) as usize].clone();
                FaultAction::Partition(shape)
            });
        }
        if let Some((rhythm, target)) = &self.crash {
            let mut rng = Rng::derive(seed, Stream::Nemesis(1));
            self.strike(&mut rng, rhythm, &mut out, |_| {
                FaultAction::Crash(target.clone())
            });
        }
        if let Some((rhythm, target)) = &self.pause {
            let mut rng = Rng::derive(seed, Stream::Nemesis(2));
            self.strike(&mut rng, rhythm, &mut out, |_| {
                FaultAction::Pause(target.clone())
            });
        }
        if let Some((rhythm, (lo, hi), target)) = &self.clock_jump {
            let mut rng = Rng::derive(seed, Stream::Nemesis(3));
            let mut t = 0u64;
            loop {
                t = t.saturating_add(Self::draw(&mut rng, rhythm.every));
                if t >= self.until {
                    break;
                }
                let span = (hi - lo) as u64;
                let by = lo + Self::draw(&mut rng, (0, span)) as i64;
                out.push(FaultSpec {
                    at: t,
                    action: FaultAction::ClockJump {
                        target: target.clone(),
                        by,
                    },
                    lasting: None,
                    origin: Origin::Nemesis,
                });
            }
        }
        if let Some((rhythm, by, target)) = &self.delay {
            let mut rng = Rng::derive(seed, Stream::Nemesis(4));
            self.strike(&mut rng, rhythm, &mut out, |rng| FaultAction::Delay {
                target: target.clone(),
                by: Self::draw(rng, *by),
            });
        }
        out.sort_by_key(|f| f.at);
        out.push(FaultSpec {
            at: self.until,
            action: FaultAction::Recover,
            lasting: None,
            origin: Origin::FinalHeal,
        });
        out
    }

    /// Uniform in `[lo, hi]`, in steps of the coarsest of 1ms, 1us, 1ns dividing both ends.
    fn draw(rng: &mut Rng, (lo, hi): (Nanos, Nanos)) -> Nanos {
        let step = [1_000_000, 1_000, 1]
            .into_iter()
            .find(|s| lo % s == 0 && hi % s == 0)
            .unwrap_or(1);
        rng.between(lo / step, hi / step) * step
    }

    fn strike(
        &self,
        rng: &mut Rng,
        rhythm: &Rhythm,
        out: &mut Vec<FaultSpec>,
        mut action: impl FnMut(&mut Rng) -> FaultAction,
    ) {
        let mut t = 0u64;
        loop {
            t = t.saturating_add(Self::draw(rng, rhythm.every));
            if t >= self.until {
                break;
            }
            let last = Self::draw(rng, rhythm.last);
            let end = t.saturating_add(last).min(self.until);
            out.push(FaultSpec {
                at: t,
                action: action(rng),
                lasting: Some(end - t),
                origin: Origin::Nemesis,
            });
            t = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn rhythm() -> Rhythm {
        Rhythm {
            every: (S, 3 * S),
            last: (S / 5, 2 * S),
        }
    }

    fn spec() -> NemesisSpec {
        NemesisSpec {
            until: 30 * S,
            partition: Some((rhythm(), vec![Shape::Halves, Shape::Ring])),
            crash: None,
            pause: None,
            clock_jump: None,
            delay: None,
        }
    }

    #[test]
    fn faults_of_one_kind_never_overlap_and_end_by_until() {
        let faults = spec().expand(3);
        assert!(faults.len() > 5);
        let (last, body) = faults.split_last().unwrap();
        assert_eq!(last.action, FaultAction::Recover);
        assert_eq!(last.at, 30 * S);
        for pair in body.windows(2) {
            assert!(pair[0].at + pair[0].lasting.unwrap() + S <= pair[1].at);
        }
        assert!(body.iter().all(|f| f.at + f.lasting.unwrap() <= 30 * S));
    }

    #[test]
    fn adding_a_kind_leaves_the_others_schedule_alone() {
        let only_partitions = spec().expand(3);
        let mut with_crashes = spec();
        with_crashes.crash = Some((rhythm(), Target::Random));
        let mixed = with_crashes.expand(3);
        let partitions: Vec<_> = mixed
            .into_iter()
            .filter(|f| matches!(f.action, FaultAction::Partition(_) | FaultAction::Recover))
            .collect();
        assert_eq!(partitions, only_partitions);
    }

    #[test]
    fn delay_spikes_draw_their_size_from_the_range_on_their_own_stream() {
        let mut with_delays = spec();
        with_delays.delay = Some((rhythm(), (20 * S / 1000, 400 * S / 1000), Target::Leader));
        let faults = with_delays.expand(3);
        let spikes: Vec<_> = faults
            .iter()
            .filter_map(|f| match &f.action {
                FaultAction::Delay { target, by } => Some((target, *by, f.lasting)),
                _ => None,
            })
            .collect();
        assert!(spikes.len() > 5, "{spikes:?}");
        for (target, by, lasting) in &spikes {
            assert_eq!(**target, Target::Leader);
            assert!((20_000_000..=400_000_000).contains(by), "{by}");
            assert!(lasting.is_some(), "every spike ends");
        }
        let sizes: std::collections::BTreeSet<u64> = spikes.iter().map(|s| s.1).collect();
        assert!(sizes.len() > 3, "sizes vary: {sizes:?}");
        // The partitions are where they were without delay spikes.
        let partitions: Vec<_> = faults
            .into_iter()
            .filter(|f| !matches!(f.action, FaultAction::Delay { .. }))
            .collect();
        assert_eq!(partitions, spec().expand(3));
    }

    #[test]
    fn times_are_drawn_in_the_unit_the_range_is_written_in() {
        for f in spec().expand(9) {
            assert_eq!(f.at % 1_000_000, 0, "{f:?}");
            assert_eq!(f.lasting.unwrap_or(0) % 1_000_000, 0, "{f:?}");
        }
    }

    #[test]
    fn different_seeds_draw_different_schedules() {
        assert_ne!(spec().expand(1), spec().expand(2));
        assert_eq!(spec().expand(1), spec().expand(1));
    }
}
