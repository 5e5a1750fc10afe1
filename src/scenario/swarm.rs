//! Swarm mode in the file: `[nemesis] mode = "swarm"`, the ranges written where one value would
//! do, and each nemesis kind's `chance`, checked and turned into the world's knobs.
//!
//! The rule this module keeps: a range is never silently read as one value. Without swarm mode
//! a range (or a `chance`) is an error at the value, and swarm mode with nothing to draw is an
//! error at `mode`; a range whose min is above its max is an error at the range.

use std::fmt::Display;
use std::ops::Range;

use crate::world::{Knob, NemesisSpec, SwarmSpec};

use super::convert::Source;
use super::error::ScenarioError;
use super::raw::{self, Mode, ScenarioFile};
use super::values::{Bounds, Located, OneOrRange};

/// Whether the file asks each seed to draw its world.
pub(super) fn is_on(raw: &ScenarioFile) -> bool {
    raw.nemesis
        .as_ref()
        .and_then(|n| n.value.mode.as_ref())
        .is_some_and(|m| m.value == Mode::Swarm)
}

/// Where a knob was written: its value's span, or (inside a latency table, where spans are
/// not kept) its key path.
pub(super) enum At<'a> {
    Span(&'a Range<usize>),
    Key(&'a [&'a str]),
}

impl At<'_> {
    fn error(&self, src: &Source<'_>, message: String) -> ScenarioError {
        match self {
            At::Span(span) => src.error(span, message),
            At::Key(path) => src.error_at(path, message),
        }
    }
}

/// One value, or a range when `swarm` is on; each end goes through `convert`, whose error
/// message is reported where the knob was written.
pub(super) fn knob<T: Copy + PartialOrd + Display, U>(
    src: &Source<'_>,
    swarm: bool,
    at: At<'_>,
    written: &OneOrRange<T>,
    convert: impl Fn(T) -> Result<U, String>,
) -> Result<Knob<U>, ScenarioError> {
    let one = |v: T| convert(v).map_err(|m| at.error(src, m));
    match *written {
        OneOrRange::One(v) => Ok(Knob::Set(one(v)?)),
        OneOrRange::Range(_) if !swarm => Err(at.error(
            src,
            "a range needs swarm mode: add mode = \"swarm\" to [nemesis] so each seed draws \
             a value in it, or write one value"
                .into(),
        )),
        OneOrRange::Range(Bounds { min, max }) => {
            if min > max {
                return Err(at.error(
                    src,
                    format!("the range [{min}, {max}] has its min above its max"),
                ));
            }
            Ok(Knob::Draw(one(min)?, one(max)?))
        }
    }
}

/// [`knob`] for a value written with its span.
pub(super) fn located<T: Copy + PartialOrd + Display, U>(
    src: &Source<'_>,
    swarm: bool,
    written: &Located<OneOrRange<T>>,
    convert: impl Fn(T) -> Result<U, String>,
) -> Result<Knob<U>, ScenarioError> {
    knob(src, swarm, At::Span(&written.span), &written.value, convert)
}

/// Each nemesis kind's `chance` (partition, crash, pause, clock_jump, delay); 1 when not given.
pub(super) fn chances(
    src: &Source<'_>,
    swarm: bool,
    nemesis: Option<&Located<raw::Nemesis>>,
) -> Result<[f64; 5], ScenarioError> {
    let Some(n) = nemesis.map(|n| &n.value) else {
        return Ok([1.0; 5]);
    };
    let written = [
        n.partition.as_ref().and_then(|p| p.chance.as_ref()),
        n.crash.as_ref().and_then(|c| c.chance.as_ref()),
        n.pause.as_ref().and_then(|p| p.chance.as_ref()),
        n.clock_jump.as_ref().and_then(|j| j.chance.as_ref()),
        n.delay.as_ref().and_then(|d| d.chance.as_ref()),
    ];
    let mut out = [1.0; 5];
    for (slot, chance) in out.iter_mut().zip(written) {
        let Some(chance) = chance else { continue };
        if !swarm {
            return Err(src.error(
                &chance.span,
                "chance needs swarm mode: add mode = \"swarm\" to [nemesis], or remove it \
                 (without swarm mode every seed has every fault kind)",
            ));
        }
        *slot = chance.value.0;
    }
    Ok(out)
}

/// Whether a `[nemesis]` in swarm mode leaves out every fault kind: it then only marks the
/// mode and draws no schedule, so an `until` there would do nothing and is an error.
pub(super) fn has_no_kind(
    src: &Source<'_>,
    n: &Located<raw::Nemesis>,
) -> Result<bool, ScenarioError> {
    let v = &n.value;
    let none = v.partition.is_none()
        && v.crash.is_none()
        && v.pause.is_none()
        && v.clock_jump.is_none()
        && v.delay.is_none();
    if let (true, Some(until)) = (none, &v.until) {
        return Err(src.error(
            &until.span,
            "until does nothing without a fault kind: add partition, crash, pause, \
             clock_jump or delay to [nemesis], or remove until",
        ));
    }
    Ok(none)
}

/// Swarm mode must draw something.
pub(super) fn check_draws(
    src: &Source<'_>,
    raw: &ScenarioFile,
    spec: &SwarmSpec,
    nemesis: Option<&NemesisSpec>,
) -> Result<(), ScenarioError> {
    if spec.draws_anything(nemesis) {
        return Ok(());
    }
    let span = raw
        .nemesis
        .as_ref()
        .and_then(|n| n.value.mode.as_ref())
        .map_or(0..0, |m| m.span.clone());
    Err(src.error(
        &span,
        "mode = \"swarm\" has nothing to draw: write a range where one value would do \
         (e.g. loss = [0.0, 0.1] in [network]), or add a fault kind to [nemesis]",
    ))
}

impl super::Scenario {
    /// This scenario with the world `seed` draws written in: the same run as the swarm scenario
    /// at that seed, with no swarm left. Its source text has every drawn knob in place of its
    /// range, no `mode` and no `chance`, and no nemesis kind the draw switched off, so a file
    /// written from it (`sim shrink`) runs that world alone. A fixed scenario comes back as is.
    ///
    /// ```
    /// use sim::scenario::Scenario;
    /// let text = "name = \"s\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"heartbeat\"\n\
    ///             [network]\nloss = [0.0, 0.3]\n[nemesis]\nmode = \"swarm\"\n";
    /// let swarm = Scenario::parse("s.toml", text)?;
    /// let pinned = swarm.pin_world(4)?;
    /// // The loss seed 4 drew, written in: a fixed world that runs alone.
    /// assert!(!pinned.to_toml()?.contains("swarm"));
    /// assert_eq!(pinned.pin_world(9)?.to_toml()?, pinned.to_toml()?, "a fixed scenario comes back as is");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pin_world(&self, seed: u64) -> Result<super::Scenario, String> {
        let Some(swarm) = &self.swarm else {
            return Ok(self.clone());
        };
        let drawn = swarm.draw(seed, &self.nodes, self.nemesis.as_ref());
        // With every fault kind switched off, the nemesis only heals at `until`, which a file
        // cannot say: the model keeps it (the same run), the text drops it.
        let strikes = drawn.nemesis.as_ref().is_some_and(|n| {
            n.partition.is_some()
                || n.crash.is_some()
                || n.pause.is_some()
                || n.clock_jump.is_some()
                || n.delay.is_some()
        });
        let mut source: toml::Table = toml::from_str(&self.text)
            .map_err(|e| format!("{}: cannot re-read the source: {e}", self.file))?;
        for (path, value) in &drawn.knobs {
            pin(&mut source, path, value)?;
        }
        if let Some(toml::Value::Table(nemesis)) = source.get_mut("nemesis") {
            nemesis.remove("mode");
            for (_, kind) in nemesis.iter_mut() {
                if let toml::Value::Table(kind) = kind {
                    kind.remove("chance");
                }
            }
            if !strikes {
                source.remove("nemesis");
            }
        }
        let mut pinned = self.clone();
        pinned.swarm = None;
        pinned.link = drawn.link;
        pinned.clocks = drawn.clocks;
        pinned.nemesis = drawn.nemesis;
        pinned.text = toml::to_string(&source).map_err(|e| format!("cannot pin the world: {e}"))?;
        Ok(pinned)
    }
}

/// Sets the value at a knob's path (`network.latency.min`, `clocks.<node>.drift_ppm`,
/// `nemesis.<kind>.every`), or removes a nemesis kind drawn `"off"`. The first and last parts are
/// table and key; whatever is between is one name (a node's may hold dots).
fn pin(source: &mut toml::Table, path: &str, value: &str) -> Result<(), String> {
    let (first, rest) = path
        .split_once('.')
        .ok_or(format!("knob {path}: no table"))?;
    let (middle, last) = match rest.rsplit_once('.') {
        Some((middle, last)) => (Some(middle), last),
        None => (None, rest),
    };
    let parsed: toml::Table =
        toml::from_str(&format!("v = {value}")).map_err(|e| format!("knob {path}: {e}"))?;
    let mut table = source
        .entry(first)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(middle) = middle {
        table = table
            .as_table_mut()
            .ok_or(format!("knob {path}: [{first}] is not a table"))?
            .entry(middle)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    let table = table
        .as_table_mut()
        .ok_or(format!("knob {path}: not inside a table"))?;
    if first == "nemesis" && middle.is_none() && value == "\"off\"" {
        table.remove(last);
    } else {
        table.insert(last.to_string(), parsed["v"].clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::scenario::{Scenario, ScenarioError};
    use crate::world::{Knob, Latency, LatencyKnobs};

    const MS: u64 = 1_000_000;

    /// Six lines; the sections a test adds start on line 7.
    const BASE: &str = "name = \"t\"
duration = \"10s\"

[cluster]
nodes = [\"A\", \"B\", \"C\"]
protocol = \"raft\"
";

    const SWARM: &str = "[nemesis]\nmode = \"swarm\"\n";

    fn parse(extra: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse("s.toml", &format!("{BASE}{extra}"))
    }

    #[track_caller]
    fn assert_error(extra: &str, line: usize, column: usize, needle: &str) {
        super::super::tests::assert_error(&format!("{BASE}{extra}"), line, column, needle);
    }

    #[test]
    fn ranges_become_knobs_and_the_fixed_world_holds_their_low_ends() {
        let s = parse(&format!(
            "[network]\nloss = [0.0, 0.2]\nduplicate = 0.01\n\
             latency = {{ dist = \"uniform\", min = [\"1ms\", \"3ms\"], max = \"20ms\" }}\n\
             [clocks]\nB = {{ offset = [\"-1s\", \"1s\"], drift_ppm = [-100, 100] }}\n{SWARM}"
        ))
        .unwrap();
        let swarm = s.swarm.as_ref().expect("swarm mode");
        assert_eq!(swarm.link.loss, Knob::Draw(0.0, 0.2));
        assert_eq!(swarm.link.duplicate, Knob::Set(0.01));
        assert_eq!(
            swarm.link.latency,
            LatencyKnobs::Uniform {
                min: Knob::Draw(MS, 3 * MS),
                max: Knob::Set(20 * MS)
            }
        );
        assert_eq!(swarm.clocks[1].drift_ppm, Knob::Draw(-100, 100));
        assert_eq!(swarm.clocks[0].drift_ppm, Knob::Set(0));
        assert_eq!(
            s.link.latency,
            Latency::Uniform {
                min: MS,
                max: 20 * MS
            }
        );
        assert!(
            s.nemesis.is_none(),
            "a swarm [nemesis] without kinds draws no schedule"
        );
        let (spec, knobs) = s.draw_world(4);
        let knobs = knobs.expect("knobs");
        let names: Vec<&str> = knobs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "network.latency.min",
                "network.loss",
                "clocks.B.offset",
                "clocks.B.drift_ppm"
            ]
        );
        assert!(spec.faults.is_empty());
        assert_eq!(s.world_spec(4).link, spec.link);
    }

    #[test]
    fn reorder_may_be_drawn_and_each_seed_says_what_it_drew() {
        let s = parse(&format!("[network]\nreorder = [false, true]\n{SWARM}")).unwrap();
        let drawn: Vec<bool> = (1..=20)
            .map(|seed| s.world_spec(seed).link.reorder)
            .collect();
        assert!(drawn.contains(&true) && drawn.contains(&false), "{drawn:?}");
        let knobs = s.draw_world(1).1.expect("knobs");
        assert_eq!(
            knobs.iter().find(|(n, _)| n == "network.reorder"),
            Some(&("network.reorder".into(), drawn[0].to_string()))
        );
        let fixed = parse(&format!(
            "[network]\nreorder = true\nloss = [0.0, 0.1]\n{SWARM}"
        ))
        .unwrap();
        assert!(fixed.world_spec(1).link.reorder);
    }

    #[test]
    fn a_fixed_scenario_draws_nothing() {
        let s = parse("[network]\nloss = 0.1\n").unwrap();
        assert!(s.swarm.is_none());
        assert_eq!(s.draw_world(3).1, None);
        assert_eq!(s.world_spec(3).link.loss, 0.1);
    }

    #[test]
    fn a_range_without_swarm_mode_is_an_error_at_the_value() {
        let needle = "a range needs swarm mode: add mode = \"swarm\" to [nemesis]";
        assert_error("[network]\nloss = [0.0, 0.2]\n", 8, 8, needle);
        assert_error("[network]\nlatency = [\"1ms\", \"5ms\"]\n", 8, 11, needle);
        assert_error(
            "[network]\nlatency = { dist = \"normal\", mean = \"5ms\", stddev = [\"1ms\", \"2ms\"] }\n",
            8,
            44,
            needle,
        );
        assert_error("[clocks]\nA = { drift_ppm = [-5, 5] }\n", 8, 19, needle);
        assert_error("[network]\nreorder = [false, true]\n", 8, 11, needle);
        assert_error(
            "[nemesis]\nmode = \"fixed\"\ncrash = { every = [\"1s\", \"2s\"], last = [\"1s\", \"2s\"], chance = 0.5 }\n",
            9,
            63,
            "chance needs swarm mode",
        );
    }

    #[test]
    fn empty_and_reversed_ranges_are_errors() {
        assert_error(
            &format!("[network]\nloss = []\n{SWARM}"),
            8,
            8,
            "invalid length 0, expected a range of two values",
        );
        assert_error(
            &format!("[network]\nduplicate = [0.1]\n{SWARM}"),
            8,
            13,
            "invalid length 1",
        );
        assert_error(
            &format!("[network]\nloss = [0.3, 0.1]\n{SWARM}"),
            8,
            8,
            "the range [0.3, 0.1] has its min above its max",
        );
        assert_error(
            &format!("[clocks]\nC = {{ offset = [\"1s\", \"-1s\"] }}\n{SWARM}"),
            8,
            16,
            "has its min above its max",
        );
        assert_error(
            &format!("[network]\nreorder = [true, false]\n{SWARM}"),
            8,
            11,
            "the range [true, false] has its min above its max",
        );
        assert_error(
            &format!("[network]\nreorder = [false, \"yes\"]\n{SWARM}"),
            8,
            19,
            "expected a boolean",
        );
        assert_error(
            &format!("[network]\nloss = [0.1, 1.5]\n{SWARM}"),
            8,
            14,
            "1.5 is not a probability",
        );
        assert_error(
            &format!("[clocks]\nA = {{ drift_ppm = [-5, 2000000] }}\n{SWARM}"),
            8,
            19,
            "a drift of 2000000 ppm is out of range",
        );
    }

    #[test]
    fn swarm_mode_with_nothing_to_draw_is_an_error_at_mode() {
        assert_error(
            &format!("[network]\nloss = 0.1\n{SWARM}"),
            10,
            8,
            "mode = \"swarm\" has nothing to draw",
        );
        assert_error(
            "[nemesis]\nmode = \"vopr\"\n",
            8,
            8,
            "unknown value `vopr`, expected `fixed` or `swarm`",
        );
    }

    #[test]
    fn until_without_a_fault_kind_is_an_error() {
        assert_error(
            &format!("[network]\nloss = [0.0, 0.1]\n{SWARM}until = \"5s\"\n"),
            11,
            9,
            "until does nothing without a fault kind",
        );
    }

    #[test]
    fn a_nemesis_alone_gives_swarm_something_to_draw() {
        let s = parse(&format!(
            "{SWARM}partition = {{ every = [\"1s\", \"3s\"], last = [\"1s\", \"2s\"], chance = 0.25 }}\n"
        ))
        .unwrap();
        assert_eq!(
            s.swarm.as_ref().unwrap().chances,
            [0.25, 1.0, 1.0, 1.0, 1.0]
        );
        let offs = (0..40)
            .filter(|seed| s.draw_world(*seed).0.faults.len() == 1)
            .count();
        assert!(
            (20..=38).contains(&offs),
            "{offs} of 40 worlds without partitions"
        );
    }
}
