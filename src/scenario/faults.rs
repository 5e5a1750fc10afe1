//! `[[faults]]` and `[nemesis]` as the world takes them: [`FaultSpec`]s and a [`NemesisSpec`].
//!
//! A `[[faults]]` entry has exactly one action key; `for`, `by` and `ppm` are accepted only
//! with the actions they qualify, so a key that would do nothing is an error, not a no-op.
//! The nemesis draws nothing here: it is checked (ranges ordered, a limit on how many faults
//! it may draw) and handed to the world, which expands it per seed.

use crate::node::time::{NANOS_PER_MILLI, NANOS_PER_SEC};
use crate::node::{Duration, Nanos, SignedDuration, format_duration};
use crate::protocols::ProtocolInfo;
use crate::world::{FaultAction, FaultSpec, NemesisSpec, Origin, Rhythm, Shape, Target};

use super::convert::{NodeSet, Source, drift_ppm};
use super::error::ScenarioError;
use super::raw::{self, ShapeName};
use super::values::{Bounds, Located, PartitionSpec, TargetList, TargetWord};

/// The largest clock jump, either way: a day.
const MAX_CLOCK_JUMP: Nanos = 24 * 3600 * NANOS_PER_SEC;

/// The most faults of one kind a nemesis may draw before `until`.
const MAX_NEMESIS_FAULTS: u64 = 100_000;

const ACTIONS: &str = "partition, cut, heal, crash, restart, pause, resume, clock_jump, \
     clock_drift, delay or byzantine";

/// The largest delay spike: a minute (longer is a partition, and should be written as one).
const MAX_DELAY: Nanos = 60 * NANOS_PER_SEC;

/// The scripted faults, in file order. A `byzantine` entry needs a `protocol` that models
/// traitors.
pub(super) fn scripted(
    src: &Source<'_>,
    entries: &[Located<raw::Fault>],
    nodes: &NodeSet<'_>,
    duration: Nanos,
    protocol: &ProtocolInfo,
) -> Result<Vec<FaultSpec>, ScenarioError> {
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            if let Some(b) = &entry.value.byzantine
                && !protocol.traitors
            {
                return Err(src.error(
                    &b.span,
                    format!(
                        "protocol `{}` does not model traitors, so a byzantine fault would do \
                         nothing; it is understood by protocols with traitors (oral-messages)",
                        protocol.name
                    ),
                ));
            }
            fault(src, i, entry, nodes, duration)
        })
        .collect()
}

/// An action key of a `[[faults]]` entry, with its value.
enum Action<'a> {
    Partition(&'a Located<PartitionSpec>),
    Cut(&'a Located<raw::Cut>),
    Heal(&'a Located<bool>),
    Crash(&'a Located<TargetWord>),
    Restart(&'a Located<TargetWord>),
    Pause(&'a Located<TargetWord>),
    Resume(&'a Located<TargetWord>),
    ClockJump(&'a Located<TargetWord>),
    ClockDrift(&'a Located<TargetWord>),
    Delay(&'a Located<TargetWord>),
    Byzantine(&'a Located<TargetList>),
}

impl Action<'_> {
    fn key(&self) -> &'static str {
        match self {
            Action::Partition(_) => "partition",
            Action::Cut(_) => "cut",
            Action::Heal(_) => "heal",
            Action::Crash(_) => "crash",
            Action::Restart(_) => "restart",
            Action::Pause(_) => "pause",
            Action::Resume(_) => "resume",
            Action::ClockJump(_) => "clock_jump",
            Action::ClockDrift(_) => "clock_drift",
            Action::Delay(_) => "delay",
            Action::Byzantine(_) => "byzantine",
        }
    }

    /// Whether the world can undo it after `for`.
    fn can_last(&self) -> bool {
        matches!(
            self,
            Action::Partition(_)
                | Action::Cut(_)
                | Action::Crash(_)
                | Action::Pause(_)
                | Action::Delay(_)
        )
    }
}

/// The action keys present in an entry, in the order the format lists them.
fn actions(f: &raw::Fault) -> Vec<Action<'_>> {
    let mut out = Vec::new();
    out.extend(f.partition.as_ref().map(Action::Partition));
    out.extend(f.cut.as_ref().map(Action::Cut));
    out.extend(f.heal.as_ref().map(Action::Heal));
    out.extend(f.crash.as_ref().map(Action::Crash));
    out.extend(f.restart.as_ref().map(Action::Restart));
    out.extend(f.pause.as_ref().map(Action::Pause));
    out.extend(f.resume.as_ref().map(Action::Resume));
    out.extend(f.clock_jump.as_ref().map(Action::ClockJump));
    out.extend(f.clock_drift.as_ref().map(Action::ClockDrift));
    out.extend(f.delay.as_ref().map(Action::Delay));
    out.extend(f.byzantine.as_ref().map(Action::Byzantine));
    out
}

fn fault(
    src: &Source<'_>,
    index: usize,
    entry: &Located<raw::Fault>,
    nodes: &NodeSet<'_>,
    duration: Nanos,
) -> Result<FaultSpec, ScenarioError> {
    let f = &entry.value;
    let i = index.to_string();
    let mut actions = actions(f);
    if actions.len() != 1 {
        let message = if actions.is_empty() {
            format!("this fault has no action; give exactly one of {ACTIONS}")
        } else {
            let keys: Vec<&str> = actions.iter().map(Action::key).collect();
            format!(
                "this fault has {} actions (`{}`); a [[faults]] entry takes exactly one, so write one entry per action",
                keys.len(),
                keys.join("`, `")
            )
        };
        return Err(src.error(&entry.span, message));
    }
    let action = actions.remove(0);
    let at = f.at.value.nanos();
    if at >= duration {
        return Err(src.error(
            &f.at.span,
            format!(
                "at = \"{}\" is not before the end of the run (duration = \"{}\")",
                format_duration(at),
                format_duration(duration)
            ),
        ));
    }
    let lasting = match &f.lasting {
        None => None,
        Some(_) if !action.can_last() => {
            return Err(src.error_at(
                &["faults", &i, "for"],
                format!(
                    "`for` does not apply to `{}`: only partition, cut, crash, pause and delay are undone after a while",
                    action.key()
                ),
            ));
        }
        Some(l) if l.value.nanos() == 0 => {
            return Err(src.error(&l.span, "`for` must be more than zero"));
        }
        Some(l) => Some(l.value.nanos()),
    };
    if f.by.is_some() && !matches!(action, Action::ClockJump(_) | Action::Delay(_)) {
        return Err(src.error_at(
            &["faults", &i, "by"],
            "`by` goes only with clock_jump (the size of the step) or delay (the extra latency)",
        ));
    }
    if f.ppm.is_some() && !matches!(action, Action::ClockDrift(_)) {
        return Err(src.error_at(
            &["faults", &i, "ppm"],
            "`ppm` goes only with clock_drift (the new drift)",
        ));
    }
    Ok(FaultSpec {
        at,
        action: fault_action(src, entry, action, nodes)?,
        lasting,
        origin: Origin::Schedule(index as u32),
    })
}

fn fault_action(
    src: &Source<'_>,
    entry: &Located<raw::Fault>,
    action: Action<'_>,
    nodes: &NodeSet<'_>,
) -> Result<FaultAction, ScenarioError> {
    let target = |t: &Located<TargetWord>| nodes.target(src, t);
    Ok(match action {
        Action::Partition(p) => FaultAction::Partition(partition(src, p, nodes)?),
        Action::Cut(c) => FaultAction::Cut {
            from: targets(src, &c.value.from, nodes)?,
            to: targets(src, &c.value.to, nodes)?,
        },
        Action::Heal(h) => {
            if !h.value {
                return Err(src.error(
                    &h.span,
                    "heal = false does nothing; write heal = true, or remove the fault",
                ));
            }
            FaultAction::Heal
        }
        Action::Crash(t) => FaultAction::Crash(target(t)?),
        Action::Restart(t) => FaultAction::Restart(target(t)?),
        Action::Pause(t) => FaultAction::Pause(target(t)?),
        Action::Resume(t) => FaultAction::Resume(target(t)?),
        Action::ClockJump(t) => {
            let Some(by) = &entry.value.by else {
                return Err(src.error(
                    &entry.span,
                    "clock_jump needs `by`, the size of the step, e.g. by = \"-500ms\"",
                ));
            };
            FaultAction::ClockJump {
                target: target(t)?,
                by: clock_jump(src, by)?,
            }
        }
        Action::Delay(t) => {
            let Some(by) = &entry.value.by else {
                return Err(src.error(
                    &entry.span,
                    "delay needs `by`, the extra latency of every message to or from the node, e.g. by = \"200ms\"",
                ));
            };
            FaultAction::Delay {
                target: target(t)?,
                by: delay(src, by)?,
            }
        }
        Action::Byzantine(list) => FaultAction::Byzantine(targets(src, list, nodes)?),
        Action::ClockDrift(t) => {
            let Some(ppm) = &entry.value.ppm else {
                return Err(src.error(
                    &entry.span,
                    "clock_drift needs `ppm`, the new drift in parts per million, e.g. ppm = 500",
                ));
            };
            FaultAction::ClockDrift {
                target: target(t)?,
                ppm: drift_ppm(src, ppm)?,
            }
        }
    })
}

/// A delay spike's extra latency: more than zero, at most [`MAX_DELAY`].
fn delay(src: &Source<'_>, by: &Located<SignedDuration>) -> Result<Nanos, ScenarioError> {
    let ns = by.value.nanos();
    if ns <= 0 {
        return Err(src.error(
            &by.span,
            format!(
                "a delay of {} slows nothing; expected an extra latency above zero, e.g. \"200ms\"",
                if ns == 0 {
                    format_duration(0)
                } else {
                    by.value.to_string()
                }
            ),
        ));
    }
    if ns.unsigned_abs() > MAX_DELAY {
        return Err(src.error(
            &by.span,
            format!(
                "a delay of {} is too large: at most {} (a longer outage is a partition)",
                format_duration(ns.unsigned_abs()),
                format_duration(MAX_DELAY)
            ),
        ));
    }
    Ok(ns.unsigned_abs())
}

fn clock_jump(src: &Source<'_>, by: &Located<SignedDuration>) -> Result<i64, ScenarioError> {
    let ns = by.value.nanos();
    if ns.unsigned_abs() > MAX_CLOCK_JUMP {
        return Err(src.error(
            &by.span,
            format!(
                "a clock jump of {} is too large: at most {} either way",
                by.value,
                format_duration(MAX_CLOCK_JUMP)
            ),
        ));
    }
    Ok(ns)
}

fn partition(
    src: &Source<'_>,
    p: &Located<PartitionSpec>,
    nodes: &NodeSet<'_>,
) -> Result<Shape, ScenarioError> {
    Ok(match &p.value {
        PartitionSpec::Halves => Shape::Halves,
        PartitionSpec::MajorityMinority => Shape::MajorityMinority,
        PartitionSpec::Ring => Shape::Ring,
        PartitionSpec::Isolate(t) => Shape::Isolate(nodes.target(src, t)?),
        PartitionSpec::Bridge(t) => Shape::Bridge(nodes.target(src, t)?),
        PartitionSpec::Groups(groups) => {
            if groups.is_empty() {
                return Err(src.error(
                    &p.span,
                    "a partition needs at least one group, e.g. [[\"A\", \"B\"], [\"C\"]]",
                ));
            }
            let mut named: Vec<u32> = Vec::new();
            let mut out = Vec::with_capacity(groups.len());
            for group in groups {
                if group.value.0.is_empty() {
                    return Err(src.error(&group.span, "a partition group must not be empty"));
                }
                let mut targets = Vec::with_capacity(group.value.0.len());
                for t in &group.value.0 {
                    let target = nodes.target(src, t)?;
                    if let Target::Node(n) = target {
                        if named.contains(&n) {
                            return Err(src.error(
                                &t.span,
                                format!(
                                    "node `{}` is named twice in this partition",
                                    nodes.name(n)
                                ),
                            ));
                        }
                        named.push(n);
                    }
                    targets.push(target);
                }
                out.push(targets);
            }
            Shape::Groups(out)
        }
    })
}

fn targets(
    src: &Source<'_>,
    list: &Located<TargetList>,
    nodes: &NodeSet<'_>,
) -> Result<Vec<Target>, ScenarioError> {
    match &list.value {
        TargetList::One(word) => {
            let located = Located {
                span: list.span.clone(),
                value: word.clone(),
            };
            Ok(vec![nodes.target(src, &located)?])
        }
        TargetList::Many(many) => {
            if many.is_empty() {
                return Err(src.error(&list.span, "the list of targets must not be empty"));
            }
            many.iter().map(|t| nodes.target(src, t)).collect()
        }
    }
}

// ---- [nemesis] --------------------------------------------------------------------------------

pub(super) fn nemesis(
    src: &Source<'_>,
    raw: &Located<raw::Nemesis>,
    nodes: &NodeSet<'_>,
    duration: Nanos,
) -> Result<NemesisSpec, ScenarioError> {
    let n = &raw.value;
    if n.partition.is_none()
        && n.crash.is_none()
        && n.pause.is_none()
        && n.clock_jump.is_none()
        && n.delay.is_none()
    {
        return Err(src.error(
            &raw.span,
            "[nemesis] has no fault kind: add partition, crash, pause, clock_jump or delay, \
             e.g. crash = { every = [\"1s\", \"3s\"], last = [\"200ms\", \"2s\"] }",
        ));
    }
    let until = until(src, raw, duration)?;
    let target = |t: &Option<Located<TargetWord>>| match t {
        Some(t) => nodes.target(src, t),
        None => Ok(Target::Random),
    };
    let partition = match &n.partition {
        Some(p) => Some((rhythm(src, &p.every, &p.last, until)?, shapes(src, p)?)),
        None => None,
    };
    let crash = match &n.crash {
        Some(c) => Some((rhythm(src, &c.every, &c.last, until)?, target(&c.target)?)),
        None => None,
    };
    let pause = match &n.pause {
        Some(p) => Some((rhythm(src, &p.every, &p.last, until)?, target(&p.target)?)),
        None => None,
    };
    let clock_jump = match &n.clock_jump {
        Some(j) => {
            let every = every(src, &j.every, until)?;
            let rhythm = Rhythm {
                every,
                last: (0, 0),
            };
            Some((rhythm, jump_range(src, &j.by)?, target(&j.target)?))
        }
        None => None,
    };
    let delay = match &n.delay {
        Some(d) => {
            let (lo, hi) = ordered(src, &d.by)?;
            for by in [lo, hi] {
                let by = Located {
                    span: d.by.span.clone(),
                    value: SignedDuration::from_nanos(by as i64),
                };
                delay(src, &by)?;
            }
            Some((
                rhythm(src, &d.every, &d.last, until)?,
                (lo, hi),
                target(&d.target)?,
            ))
        }
        None => None,
    };
    Ok(NemesisSpec {
        until,
        partition,
        crash,
        pause,
        clock_jump,
        delay,
    })
}

/// 3/4 of `duration`, rounded down to a millisecond: the default `until`.
pub(super) fn default_until(duration: Nanos) -> Nanos {
    let three_quarters = (u128::from(duration) * 3 / 4) as Nanos;
    three_quarters / NANOS_PER_MILLI * NANOS_PER_MILLI
}

fn until(
    src: &Source<'_>,
    raw: &Located<raw::Nemesis>,
    duration: Nanos,
) -> Result<Nanos, ScenarioError> {
    let Some(until) = &raw.value.until else {
        let until = default_until(duration);
        if until == 0 {
            return Err(src.error(
                &raw.span,
                "the run is too short for a nemesis: 3/4 of duration rounds down to 0ms; \
                 give `until` or a longer duration",
            ));
        }
        return Ok(until);
    };
    let ns = until.value.nanos();
    if ns == 0 {
        return Err(src.error(&until.span, "until must be more than zero"));
    }
    if ns > duration {
        return Err(src.error(
            &until.span,
            format!(
                "until = \"{}\" is after the end of the run (duration = \"{}\")",
                format_duration(ns),
                format_duration(duration)
            ),
        ));
    }
    Ok(ns)
}

fn rhythm(
    src: &Source<'_>,
    every_: &Located<Bounds<Duration>>,
    last: &Located<Bounds<Duration>>,
    until: Nanos,
) -> Result<Rhythm, ScenarioError> {
    Ok(Rhythm {
        every: every(src, every_, until)?,
        last: ordered(src, last)?,
    })
}

/// The quiet interval: ordered, more than zero, and not so short that the nemesis would draw
/// more than [`MAX_NEMESIS_FAULTS`] faults.
fn every(
    src: &Source<'_>,
    every: &Located<Bounds<Duration>>,
    until: Nanos,
) -> Result<(Nanos, Nanos), ScenarioError> {
    let (min, max) = ordered(src, every)?;
    if min == 0 {
        return Err(src.error(
            &every.span,
            "every's minimum must be more than zero: the nemesis waits at least that long between faults",
        ));
    }
    if until / min > MAX_NEMESIS_FAULTS {
        return Err(src.error(
            &every.span,
            format!(
                "every's minimum of {} could draw {} faults before until; the limit is {MAX_NEMESIS_FAULTS} per kind",
                format_duration(min),
                until / min
            ),
        ));
    }
    Ok((min, max))
}

fn ordered(
    src: &Source<'_>,
    range: &Located<Bounds<Duration>>,
) -> Result<(Nanos, Nanos), ScenarioError> {
    let Bounds { min, max } = range.value;
    if min > max {
        return Err(src.error(
            &range.span,
            format!("the range [\"{min}\", \"{max}\"] has its min above its max"),
        ));
    }
    Ok((min.nanos(), max.nanos()))
}

fn jump_range(
    src: &Source<'_>,
    range: &Located<Bounds<SignedDuration>>,
) -> Result<(i64, i64), ScenarioError> {
    let Bounds { min, max } = range.value;
    if min > max {
        return Err(src.error(
            &range.span,
            format!("the range [\"{min}\", \"{max}\"] has its min above its max"),
        ));
    }
    let lo = clock_jump(
        src,
        &Located {
            span: range.span.clone(),
            value: min,
        },
    )?;
    let hi = clock_jump(
        src,
        &Located {
            span: range.span.clone(),
            value: max,
        },
    )?;
    Ok((lo, hi))
}

fn shapes(src: &Source<'_>, p: &raw::NemesisPartition) -> Result<Vec<Shape>, ScenarioError> {
    let names = match (&p.shape, &p.shapes) {
        (Some(_), Some(list)) => {
            return Err(src.error(&list.span, "give `shape` or `shapes`, not both"));
        }
        (Some(one), None) => vec![*one],
        (None, Some(list)) if list.value.is_empty() => {
            return Err(src.error(&list.span, "shapes must list at least one shape"));
        }
        (None, Some(list)) => list.value.clone(),
        (None, None) => vec![
            ShapeName::Halves,
            ShapeName::MajorityMinority,
            ShapeName::Ring,
            ShapeName::Isolate,
            ShapeName::Bridge,
        ],
    };
    Ok(names
        .into_iter()
        .map(|name| match name {
            ShapeName::Halves => Shape::Halves,
            ShapeName::MajorityMinority => Shape::MajorityMinority,
            ShapeName::Ring => Shape::Ring,
            ShapeName::Isolate => Shape::Isolate(Target::Random),
            ShapeName::Bridge => Shape::Bridge(Target::Random),
        })
        .collect())
}
