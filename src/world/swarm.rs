//! Swarm testing: each seed draws its own world — loss, duplication, latency, clocks, and which
//! faults the nemesis throws how often — from the ranges a scenario gives (TigerBeetle's VOPR).
//!
//! The rule this module keeps: every knob draws from its own stream, `Stream::World(id)`, with
//! `id` fixed per knob (the `*_KNOB` constants and [`clock_knob`]) and never renumbered, so
//! adding a knob to a scenario, or a new kind of knob to sim, leaves every other knob's draw
//! where it was. Everything is drawn once, before the run; the world then runs as if the drawn
//! values had been written in the file. Drawn values sit on a grid that prints exactly (whole
//! units of the coarsest time unit both ends are written in, probabilities in steps of 0.0001),
//! so each knob's `name = value` line can be pasted into the scenario to pin that world.
//!
//! What a nemesis kind becomes per seed: it is switched off with probability `1 - chance`; if
//! on, its `every` and `last` (for clock jumps, `by`) windows narrow to a sub-window drawn inside
//! the written one (two points, sorted), so one seed strikes often and briefly, another rarely
//! and long; partitions keep a random non-empty subset of their shapes.

use crate::node::{Nanos, Rng, Stream, format_duration};

use super::clock::Clock;
use super::fault::Shape;
use super::nemesis::{NemesisSpec, Rhythm};
use super::network::{Latency, LinkModel};

/// One value of the world: written as is, or drawn per seed from `[lo, hi]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Knob<T> {
    /// The value the scenario wrote; every seed sees it.
    Set(T),
    /// A range `[lo, hi]` each seed draws its own value from.
    Draw(T, T),
}

impl<T: Copy> Knob<T> {
    /// The written value, or the low end of the range (what a non-drawing reader sees).
    pub(crate) fn low(&self) -> T {
        match *self {
            Knob::Set(v) | Knob::Draw(v, _) => v,
        }
    }

    /// True if the value is drawn per seed.
    pub(crate) fn draws(&self) -> bool {
        matches!(self, Knob::Draw(..))
    }
}

/// `[network] latency` with a knob per parameter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LatencyKnobs {
    /// `latency = "..."`: one fixed latency, in nanoseconds.
    Constant(Knob<Nanos>),
    /// Uniform between `min` and `max`.
    Uniform {
        /// The shortest latency, in nanoseconds.
        min: Knob<Nanos>,
        /// The longest latency, in nanoseconds.
        max: Knob<Nanos>,
    },
    /// Normal, clamped at zero.
    Normal {
        /// The mean latency, in nanoseconds.
        mean: Knob<Nanos>,
        /// The standard deviation, in nanoseconds.
        stddev: Knob<Nanos>,
    },
    /// Log-normal: a long right tail.
    LogNormal {
        /// The median latency, in nanoseconds.
        median: Knob<Nanos>,
        /// The spread of `ln(latency)`.
        sigma: Knob<f64>,
    },
    /// A floor plus an exponential tail.
    Exponential {
        /// The mean of the tail, in nanoseconds.
        mean: Knob<Nanos>,
        /// The floor, in nanoseconds.
        min: Knob<Nanos>,
    },
}

/// `[network]` with its knobs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LinkKnobs {
    /// How long a message takes.
    pub(crate) latency: LatencyKnobs,
    /// Probability that a message is lost, in `[0, 1]`.
    pub(crate) loss: Knob<f64>,
    /// Probability that a delivered message arrives twice, in `[0, 1]`.
    pub(crate) duplicate: Knob<f64>,
    /// Whether later messages may overtake earlier ones on the same link.
    pub(crate) reorder: Knob<bool>,
}

/// One node's `[clocks]` entry with its knobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ClockKnobs {
    /// What the node's clock reads at true time zero, in nanoseconds (negative: behind).
    pub(crate) offset: Knob<i64>,
    /// How fast the clock runs, in parts per million (positive: fast).
    pub(crate) drift_ppm: Knob<i64>,
}

impl Default for ClockKnobs {
    fn default() -> Self {
        ClockKnobs {
            offset: Knob::Set(0),
            drift_ppm: Knob::Set(0),
        }
    }
}

/// What a scenario in swarm mode draws per seed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SwarmSpec {
    /// The `[network]` section and the knobs it draws.
    pub(crate) link: LinkKnobs,
    /// One per node.
    pub(crate) clocks: Vec<ClockKnobs>,
    /// Per nemesis kind (partition, crash, pause, clock_jump, delay): the chance a seed's world
    /// has it.
    pub(crate) chances: [f64; 5],
}

/// A seed's world.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DrawnWorld {
    /// The links every message of this seed travels.
    pub(crate) link: LinkModel,
    /// Each node's clock, by node index.
    pub(crate) clocks: Vec<Clock>,
    /// The nemesis this seed runs, if any of its kinds was drawn in.
    pub(crate) nemesis: Option<NemesisSpec>,
    /// What was drawn, in a fixed order: (TOML key path, value as TOML would spell it).
    pub(crate) knobs: Vec<(String, String)>,
}

impl LatencyKnobs {
    /// The low end of every range.
    pub(crate) fn low(&self) -> Latency {
        match self {
            LatencyKnobs::Constant(v) => Latency::Constant(v.low()),
            LatencyKnobs::Uniform { min, max } => Latency::Uniform {
                min: min.low(),
                max: max.low().max(min.low()),
            },
            LatencyKnobs::Normal { mean, stddev } => Latency::Normal {
                mean: mean.low(),
                stddev: stddev.low(),
            },
            LatencyKnobs::LogNormal { median, sigma } => Latency::LogNormal {
                median: median.low(),
                sigma: sigma.low(),
            },
            LatencyKnobs::Exponential { mean, min } => Latency::Exponential {
                mean: mean.low(),
                min: min.low(),
            },
        }
    }
}

impl LinkKnobs {
    /// The link with every range at its low end: the world a non-drawing reader sees.
    pub(crate) fn low(&self) -> LinkModel {
        LinkModel {
            latency: self.latency.low(),
            loss: self.loss.low(),
            duplicate: self.duplicate.low(),
            reorder: self.reorder.low(),
        }
    }
}

impl ClockKnobs {
    /// The clock with every range at its low end.
    pub(crate) fn low(&self) -> Clock {
        Clock::new(self.offset.low(), self.drift_ppm.low())
    }
}

// Knob ids: the World stream each knob draws from. Part of the trace-hash promise: never
// renumber; a new knob takes a new id.
const LOSS_KNOB: u32 = 1;
const DUPLICATE_KNOB: u32 = 2;
/// The first and second parameter of the latency distribution (`value`/`min`/`mean`/`median`,
/// then `max`/`stddev`/`sigma`/`min`).
const LATENCY_KNOBS: [u32; 2] = [3, 4];
const REORDER_KNOB: u32 = 5;
/// Nemesis kind `k` (partition, crash, pause, clock_jump, delay) uses `16 + 4k + {0 chance,
/// 1 every, 2 last (clock_jump: by), 3 shapes (delay: by)}`.
const NEMESIS_KNOBS: u32 = 16;
/// A node's clock knobs.
pub(crate) fn clock_knob(node: u32, drift: bool) -> u32 {
    1024 + 2 * node + u32::from(drift)
}

const KINDS: [&str; 5] = ["partition", "crash", "pause", "clock_jump", "delay"];

/// Probabilities are drawn in steps of this.
const PROBABILITY_GRID: f64 = 10_000.0;

impl SwarmSpec {
    /// Whether any knob draws (a swarm with nothing to draw is a mistake in the file).
    pub(crate) fn draws_anything(&self, nemesis: Option<&NemesisSpec>) -> bool {
        let l = &self.link;
        let latency = match &l.latency {
            LatencyKnobs::Constant(v) => v.draws(),
            LatencyKnobs::Uniform { min: a, max: b }
            | LatencyKnobs::Normal { mean: a, stddev: b }
            | LatencyKnobs::Exponential { mean: a, min: b } => a.draws() || b.draws(),
            LatencyKnobs::LogNormal { median, sigma } => median.draws() || sigma.draws(),
        };
        latency
            || l.loss.draws()
            || l.duplicate.draws()
            || l.reorder.draws()
            || self
                .clocks
                .iter()
                .any(|c| c.offset.draws() || c.drift_ppm.draws())
            || nemesis.is_some_and(has_a_kind)
    }

    /// The world of `seed`: `names` are the nodes (for knob names), `nemesis` the one written.
    pub(crate) fn draw(
        &self,
        seed: u64,
        names: &[String],
        nemesis: Option<&NemesisSpec>,
    ) -> DrawnWorld {
        let mut knobs = Vec::new();
        let link = self.draw_link(seed, &mut knobs);
        let clocks = self
            .clocks
            .iter()
            .enumerate()
            .map(|(i, c)| draw_clock(seed, i as u32, &names[i], c, &mut knobs))
            .collect();
        let nemesis = nemesis.map(|n| self.draw_nemesis(seed, n, &mut knobs));
        DrawnWorld {
            link,
            clocks,
            nemesis,
            knobs,
        }
    }

    fn draw_link(&self, seed: u64, knobs: &mut Vec<(String, String)>) -> LinkModel {
        let l = &self.link;
        let [first, second] = LATENCY_KNOBS;
        let mut time = |id, key: &str, k: &Knob<Nanos>| {
            draw_nanos(seed, id, &format!("network.latency.{key}"), k, knobs)
        };
        let latency = match &l.latency {
            LatencyKnobs::Constant(v) => {
                let v = match *v {
                    Knob::Set(v) => v,
                    Knob::Draw(lo, hi) => {
                        let v = in_unit(&mut world_rng(seed, first), (lo, hi));
                        knobs.push(("network.latency".into(), quoted(v)));
                        v
                    }
                };
                Latency::Constant(v)
            }
            LatencyKnobs::Uniform { min, max } => {
                let (a, b) = (time(first, "min", min), time(second, "max", max));
                Latency::Uniform {
                    min: a.min(b),
                    max: a.max(b),
                }
            }
            LatencyKnobs::Normal { mean, stddev } => Latency::Normal {
                mean: time(first, "mean", mean),
                stddev: time(second, "stddev", stddev),
            },
            LatencyKnobs::LogNormal { median, sigma } => {
                let median = time(first, "median", median);
                Latency::LogNormal {
                    median,
                    sigma: draw_fraction(seed, second, "network.latency.sigma", sigma, knobs),
                }
            }
            LatencyKnobs::Exponential { mean, min } => Latency::Exponential {
                mean: time(first, "mean", mean),
                min: time(second, "min", min),
            },
        };
        LinkModel {
            latency,
            loss: draw_fraction(seed, LOSS_KNOB, "network.loss", &l.loss, knobs),
            duplicate: draw_fraction(
                seed,
                DUPLICATE_KNOB,
                "network.duplicate",
                &l.duplicate,
                knobs,
            ),
            reorder: draw_bit(seed, REORDER_KNOB, "network.reorder", &l.reorder, knobs),
        }
    }

    fn draw_nemesis(
        &self,
        seed: u64,
        written: &NemesisSpec,
        knobs: &mut Vec<(String, String)>,
    ) -> NemesisSpec {
        let partition = written.partition.as_ref().and_then(|(r, shapes)| {
            let d = self.kind(seed, 0, knobs)?;
            Some((d.rhythm(r, knobs), d.shapes(shapes, knobs)))
        });
        let crash = written.crash.as_ref().and_then(|(r, t)| {
            let d = self.kind(seed, 1, knobs)?;
            Some((d.rhythm(r, knobs), t.clone()))
        });
        let pause = written.pause.as_ref().and_then(|(r, t)| {
            let d = self.kind(seed, 2, knobs)?;
            Some((d.rhythm(r, knobs), t.clone()))
        });
        let clock_jump = written.clock_jump.as_ref().and_then(|(r, by, t)| {
            let d = self.kind(seed, 3, knobs)?;
            let rhythm = Rhythm {
                every: d.window(1, "every", r.every, knobs),
                last: r.last,
            };
            Some((rhythm, d.jump_window(*by, knobs), t.clone()))
        });
        let delay = written.delay.as_ref().and_then(|(r, by, t)| {
            let d = self.kind(seed, 4, knobs)?;
            Some((d.rhythm(r, knobs), d.window(3, "by", *by, knobs), t.clone()))
        });
        NemesisSpec {
            until: written.until,
            partition,
            crash,
            pause,
            clock_jump,
            delay,
        }
    }

    /// Whether nemesis kind `k` is on in this seed's world (`"off"` is a knob when not).
    fn kind(&self, seed: u64, k: usize, knobs: &mut Vec<(String, String)>) -> Option<KindDraw> {
        let id = NEMESIS_KNOBS + 4 * k as u32;
        let on = world_rng(seed, id).chance(self.chances[k]);
        if !on {
            knobs.push((format!("nemesis.{}", KINDS[k]), "\"off\"".into()));
        }
        on.then_some(KindDraw { seed, id, k })
    }
}

fn has_a_kind(n: &NemesisSpec) -> bool {
    n.partition.is_some()
        || n.crash.is_some()
        || n.pause.is_some()
        || n.clock_jump.is_some()
        || n.delay.is_some()
}

/// The draws of one nemesis kind that is on.
struct KindDraw {
    seed: u64,
    id: u32,
    k: usize,
}

impl KindDraw {
    fn name(&self, key: &str) -> String {
        format!("nemesis.{}.{key}", KINDS[self.k])
    }

    fn rhythm(&self, r: &Rhythm, knobs: &mut Vec<(String, String)>) -> Rhythm {
        Rhythm {
            every: self.window(1, "every", r.every, knobs),
            last: self.window(2, "last", r.last, knobs),
        }
    }

    /// A sub-window of `[lo, hi]`: two draws, sorted.
    fn window(
        &self,
        slot: u32,
        key: &str,
        (lo, hi): (Nanos, Nanos),
        knobs: &mut Vec<(String, String)>,
    ) -> (Nanos, Nanos) {
        let mut rng = world_rng(self.seed, self.id + slot);
        let (a, b) = (in_unit(&mut rng, (lo, hi)), in_unit(&mut rng, (lo, hi)));
        let w = (a.min(b), a.max(b));
        knobs.push((
            self.name(key),
            format!("[{}, {}]", quoted(w.0), quoted(w.1)),
        ));
        w
    }

    fn jump_window(&self, (lo, hi): (i64, i64), knobs: &mut Vec<(String, String)>) -> (i64, i64) {
        let mut rng = world_rng(self.seed, self.id + 2);
        let (a, b) = (
            signed_in_unit(&mut rng, lo, hi),
            signed_in_unit(&mut rng, lo, hi),
        );
        let w = (a.min(b), a.max(b));
        knobs.push((
            self.name("by"),
            format!("[{}, {}]", quoted_signed(w.0), quoted_signed(w.1)),
        ));
        w
    }

    /// A non-empty subset of the shapes, each kept on a coin flip (one drawn if none is).
    fn shapes(&self, shapes: &[Shape], knobs: &mut Vec<(String, String)>) -> Vec<Shape> {
        if shapes.len() < 2 {
            return shapes.to_vec();
        }
        let mut rng = world_rng(self.seed, self.id + 3);
        let mut kept: Vec<Shape> = shapes.iter().filter(|_| rng.chance(0.5)).cloned().collect();
        if kept.is_empty() {
            kept.push(shapes[rng.below(shapes.len() as u64) as usize].clone());
        }
        let names: Vec<String> = kept
            .iter()
            .map(|s| format!("\"{}\"", shape_name(s)))
            .collect();
        knobs.push((self.name("shapes"), format!("[{}]", names.join(", "))));
        kept
    }
}

fn draw_clock(
    seed: u64,
    node: u32,
    name: &str,
    c: &ClockKnobs,
    knobs: &mut Vec<(String, String)>,
) -> Clock {
    let offset = match c.offset {
        Knob::Set(v) => v,
        Knob::Draw(lo, hi) => {
            let v = signed_in_unit(&mut world_rng(seed, clock_knob(node, false)), lo, hi);
            knobs.push((format!("clocks.{name}.offset"), quoted_signed(v)));
            v
        }
    };
    let drift = match c.drift_ppm {
        Knob::Set(v) => v,
        Knob::Draw(lo, hi) => {
            let span = lo.abs_diff(hi);
            let v = lo
                .saturating_add_unsigned(world_rng(seed, clock_knob(node, true)).between(0, span));
            knobs.push((format!("clocks.{name}.drift_ppm"), v.to_string()));
            v
        }
    };
    Clock::new(offset, drift)
}

fn world_rng(seed: u64, knob: u32) -> Rng {
    Rng::derive(seed, Stream::World(knob))
}

fn draw_nanos(
    seed: u64,
    id: u32,
    name: &str,
    k: &Knob<Nanos>,
    knobs: &mut Vec<(String, String)>,
) -> Nanos {
    match *k {
        Knob::Set(v) => v,
        Knob::Draw(lo, hi) => {
            let v = in_unit(&mut world_rng(seed, id), (lo, hi));
            knobs.push((name.to_string(), quoted(v)));
            v
        }
    }
}

/// A number in `[lo, hi]` on the 0.0001 grid (or `lo` when no grid point falls inside).
/// A yes-or-no knob: `[false, true]` draws either with even odds.
fn draw_bit(
    seed: u64,
    id: u32,
    name: &str,
    k: &Knob<bool>,
    knobs: &mut Vec<(String, String)>,
) -> bool {
    match *k {
        Knob::Set(v) => v,
        Knob::Draw(lo, hi) => {
            let v = if lo == hi {
                lo
            } else {
                world_rng(seed, id).between(0, 1) == 1
            };
            knobs.push((name.to_string(), format!("{v}")));
            v
        }
    }
}

fn draw_fraction(
    seed: u64,
    id: u32,
    name: &str,
    k: &Knob<f64>,
    knobs: &mut Vec<(String, String)>,
) -> f64 {
    match *k {
        Knob::Set(v) => v,
        Knob::Draw(lo, hi) => {
            let (a, b) = (
                libm::ceil(lo * PROBABILITY_GRID),
                libm::floor(hi * PROBABILITY_GRID),
            );
            let v = if a > b {
                lo
            } else {
                let step = world_rng(seed, id).between(0, (b - a) as u64);
                (a + step as f64) / PROBABILITY_GRID
            };
            knobs.push((name.to_string(), format!("{v}")));
            v
        }
    }
}

/// The coarsest of 1ms, 1us, 1ns dividing both.
fn unit(a: u64, b: u64) -> u64 {
    [1_000_000, 1_000, 1]
        .into_iter()
        .find(|s| a.is_multiple_of(*s) && b.is_multiple_of(*s))
        .unwrap_or(1)
}

/// Uniform in `[lo, hi]` in whole units of [`unit`].
fn in_unit(rng: &mut Rng, (lo, hi): (Nanos, Nanos)) -> Nanos {
    let step = unit(lo, hi);
    rng.between(lo / step, hi / step) * step
}

fn signed_in_unit(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    let step = unit(lo.unsigned_abs(), hi.unsigned_abs());
    let steps = lo.abs_diff(hi) / step;
    lo.saturating_add_unsigned(rng.between(0, steps) * step)
}

fn quoted(ns: Nanos) -> String {
    format!("\"{}\"", format_duration(ns))
}

fn quoted_signed(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    format!("\"{sign}{}\"", format_duration(ns.unsigned_abs()))
}

/// A shape as the file names it.
fn shape_name(s: &Shape) -> &'static str {
    match s {
        Shape::Halves => "halves",
        Shape::MajorityMinority => "majority-minority",
        Shape::Ring => "ring",
        Shape::Isolate(_) => "isolate",
        Shape::Bridge(_) => "bridge",
        Shape::Groups(_) => "groups",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::Target;

    const MS: u64 = 1_000_000;
    const S: u64 = 1_000_000_000;

    fn names() -> Vec<String> {
        ["A", "B", "C"].iter().map(|s| s.to_string()).collect()
    }

    fn spec() -> SwarmSpec {
        SwarmSpec {
            link: LinkKnobs {
                latency: LatencyKnobs::Uniform {
                    min: Knob::Draw(MS, 5 * MS),
                    max: Knob::Draw(10 * MS, 50 * MS),
                },
                loss: Knob::Draw(0.0, 0.2),
                duplicate: Knob::Draw(0.0, 0.05),
                reorder: Knob::Set(false),
            },
            clocks: vec![
                ClockKnobs {
                    offset: Knob::Draw(-500 * MS as i64, 500 * MS as i64),
                    drift_ppm: Knob::Draw(-300, 300),
                },
                ClockKnobs::default(),
                ClockKnobs {
                    offset: Knob::Set(7),
                    drift_ppm: Knob::Draw(-50, 50),
                },
            ],
            chances: [1.0, 0.5, 1.0, 1.0, 1.0],
        }
    }

    fn nemesis() -> NemesisSpec {
        let rhythm = Rhythm {
            every: (S, 3 * S),
            last: (200 * MS, 2 * S),
        };
        NemesisSpec {
            until: 20 * S,
            partition: Some((
                rhythm.clone(),
                vec![Shape::Halves, Shape::Ring, Shape::Isolate(Target::Random)],
            )),
            crash: Some((rhythm.clone(), Target::Random)),
            pause: None,
            clock_jump: Some((
                Rhythm {
                    every: (S, 3 * S),
                    last: (0, 0),
                },
                (-500 * MS as i64, 500 * MS as i64),
                Target::Random,
            )),
            delay: None,
        }
    }

    fn draw(seed: u64) -> DrawnWorld {
        spec().draw(seed, &names(), Some(&nemesis()))
    }

    fn knob(w: &DrawnWorld, name: &str) -> Option<String> {
        w.knobs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    #[test]
    fn reorder_drawn_per_seed_takes_both_values_and_moves_no_other_knob() {
        let mut drawing = spec();
        drawing.link.reorder = Knob::Draw(false, true);
        let mut seen = [0; 2];
        for seed in 1..=40 {
            let (with, without) = (drawing.draw(seed, &names(), Some(&nemesis())), draw(seed));
            seen[usize::from(with.link.reorder)] += 1;
            assert_eq!(
                knob(&with, "network.reorder"),
                Some(with.link.reorder.to_string()),
                "the drawn value is printed, ready to paste"
            );
            assert_eq!(
                knob(&without, "network.reorder"),
                None,
                "a set value is not"
            );
            let others = |w: &DrawnWorld| {
                let mut k = w.knobs.clone();
                k.retain(|(n, _)| n != "network.reorder");
                (k, w.link.loss, w.clocks.clone(), w.nemesis.clone())
            };
            assert_eq!(
                others(&with),
                others(&without),
                "seed {seed}: its own stream"
            );
        }
        assert!(seen[0] >= 10 && seen[1] >= 10, "{seen:?}");
        drawing.link.reorder = Knob::Draw(true, true);
        assert!(drawing.draw(3, &names(), None).link.reorder);
    }

    #[test]
    fn the_same_seed_draws_the_same_world_and_others_draw_others() {
        assert_eq!(draw(7), draw(7));
        let worlds: Vec<_> = (1..=10).map(|s| draw(s).knobs).collect();
        for (i, a) in worlds.iter().enumerate() {
            for b in &worlds[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn every_knob_stays_in_its_range_and_on_its_grid() {
        for seed in 0..300 {
            let w = draw(seed);
            let l = &w.link;
            assert!((0.0..=0.2).contains(&l.loss), "{}", l.loss);
            assert!((0.0..=0.05).contains(&l.duplicate));
            // On the grid, and printed exactly: the printed value reads back as the same number.
            assert_eq!(libm::round(l.loss * 1e4) / 1e4, l.loss);
            assert_eq!(knob(&w, "network.loss").unwrap().parse::<f64>(), Ok(l.loss));
            let Latency::Uniform { min, max } = l.latency else {
                panic!()
            };
            assert!(min <= max && (MS..=50 * MS).contains(&min) && max <= 50 * MS);
            assert_eq!((min % MS, max % MS), (0, 0));
            assert_eq!(w.clocks[1], Clock::honest());
            let a = w.clocks[0].local_at(0);
            assert!((-500 * MS as i64..=500 * MS as i64).contains(&a) && a % MS as i64 == 0);
            assert_eq!(w.clocks[2].local_at(0), 7);
            let n = w.nemesis.as_ref().unwrap();
            let (r, shapes) = n.partition.as_ref().unwrap();
            assert!(S <= r.every.0 && r.every.0 <= r.every.1 && r.every.1 <= 3 * S);
            assert!(200 * MS <= r.last.0 && r.last.0 <= r.last.1 && r.last.1 <= 2 * S);
            assert!(!shapes.is_empty() && shapes.len() <= 3);
            let (_, by, _) = n.clock_jump.as_ref().unwrap();
            assert!(-500 * (MS as i64) <= by.0 && by.0 <= by.1 && by.1 <= 500 * MS as i64);
            assert!(n.pause.is_none());
        }
    }

    #[test]
    fn a_kinds_chance_switches_it_off_in_some_worlds_only() {
        let crashes: Vec<bool> = (0..100)
            .map(|s| draw(s).nemesis.unwrap().crash.is_some())
            .collect();
        let on = crashes.iter().filter(|c| **c).count();
        assert!((25..=75).contains(&on), "{on} of 100 worlds crash");
        let off = (0..100).find(|s| !crashes[*s as usize]).unwrap();
        assert_eq!(
            knob(&draw(off), "nemesis.crash").as_deref(),
            Some("\"off\"")
        );
        assert_eq!(knob(&draw(off), "nemesis.crash.every"), None);
    }

    #[test]
    fn adding_a_knob_leaves_the_others_draws_alone() {
        let mut fewer = spec();
        fewer.link.duplicate = Knob::Set(0.0);
        fewer.clocks[0].offset = Knob::Set(0);
        fewer.link.latency = LatencyKnobs::Constant(Knob::Set(MS));
        for seed in 0..20 {
            let all = draw(seed);
            let some = fewer.draw(seed, &names(), Some(&nemesis()));
            for (name, value) in &some.knobs {
                assert_eq!(knob(&all, name).as_ref(), Some(value), "{name}");
            }
            assert!(all.knobs.len() > some.knobs.len());
        }
        // Without a nemesis, the network and clocks draw exactly the same.
        let bare = spec().draw(3, &names(), None);
        assert_eq!(bare.link, draw(3).link);
        assert_eq!(bare.clocks, draw(3).clocks);
    }

    #[test]
    fn knobs_read_as_toml() {
        let w = draw(5);
        let names: Vec<&str> = w.knobs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            &names[..6],
            [
                "network.latency.min",
                "network.latency.max",
                "network.loss",
                "network.duplicate",
                "clocks.A.offset",
                "clocks.A.drift_ppm"
            ]
        );
        let every = knob(&w, "nemesis.partition.every").unwrap();
        assert!(
            every.starts_with("[\"") && every.ends_with("s\"]"),
            "{every}"
        );
        assert!(knob(&w, "network.latency.min").unwrap().ends_with("ms\""));
    }

    #[test]
    fn fixed_knobs_draw_nothing() {
        let fixed = SwarmSpec {
            link: LinkKnobs {
                latency: LatencyKnobs::Constant(Knob::Set(MS)),
                loss: Knob::Set(0.1),
                duplicate: Knob::Set(0.0),
                reorder: Knob::Set(false),
            },
            clocks: vec![ClockKnobs::default(); 3],
            chances: [1.0; 5],
        };
        assert!(!fixed.draws_anything(None));
        assert!(fixed.draws_anything(Some(&nemesis())));
        let w = fixed.draw(1, &names(), None);
        assert!(w.knobs.is_empty());
        assert_eq!(w.link.loss, 0.1);
    }
}
