//! `[limits]`: the bounds that keep every run finite in time, memory and output.
//!
//! Each limit has a default generous enough that no bundled scenario comes near it, a name the
//! scenario (`[limits] NAME = VALUE`) and the command line (`sim run --limit NAME=VALUE`) both
//! use, and a sentence that says, when a run hits it, which limit it was and how to raise it.
//! A run that hits one ends there with an unknown verdict (exit 3) unless a violation was
//! already found. Counting never touches the trace: a run that stays within its limits has the
//! same trace hash whatever they are.

use std::fmt::Write as _;

use crate::node::{Duration, Nanos};

use super::Scenario;
use super::convert::Source;
use super::error::ScenarioError;
use super::raw::LimitsTable;

/// The limits of one run. `events` is [`Scenario::max_events`], kept there for older callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Virtual time: a scenario lasting longer stops here.
    pub virtual_time: Nanos,
    /// Messages on the wire at once on one link (sender to receiver, held ones included).
    pub in_flight_per_link: u64,
    /// Client operations invoked (the history's length).
    pub history_ops: u64,
    /// Search steps of the history checkers (`linearizable`): a deterministic count, never a
    /// clock, so the verdict stays a function of scenario and seed.
    pub checker_steps: u64,
    /// Bytes of `trace.jsonl` (`sim run --out`).
    pub trace_bytes: u64,
}

/// `events` when neither `max_events` nor `[limits] events` is given.
pub(super) const DEFAULT_EVENTS: u64 = 50_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            virtual_time: 24 * 3_600 * crate::node::time::NANOS_PER_SEC,
            in_flight_per_link: 100_000,
            history_ops: 1_000_000,
            checker_steps: crate::check::linearizability::MAX_STEPS,
            trace_bytes: 1 << 30,
        }
    }
}

/// Every limit's name, in the order `--help` lists them, with what it bounds.
pub const NAMES: [(&str, &str); 6] = [
    ("events", "trace events"),
    ("virtual_time", "virtual time (a duration)"),
    ("in_flight_per_link", "messages in flight on one link"),
    ("history_ops", "client operations in the history"),
    ("checker_steps", "the history checker's search steps"),
    ("trace_bytes", "bytes of trace.jsonl"),
];

/// How to raise the limit `name`, in words: the scenario key and the flag.
///
/// ```
/// assert_eq!(
///     sim::scenario::limits::how_to_raise("events"),
///     "raise it with `[limits] events = N` in the scenario or `sim run --limit events=N`"
/// );
/// ```
pub fn how_to_raise(name: &str) -> String {
    let value = if name == "virtual_time" { "\"T\"" } else { "N" };
    let flag = if name == "virtual_time" { "T" } else { "N" };
    format!(
        "raise it with `[limits] {name} = {value}` in the scenario or `sim run --limit {name}={flag}`"
    )
}

/// The defaults, one line each, for `sim run --help` and the docs.
pub fn defaults_text() -> String {
    let d = Limits::default();
    let mut out = String::new();
    for (name, what) in NAMES {
        let value = value_text(name, DEFAULT_EVENTS, &d);
        let _ = writeln!(out, "{name}={value}: {what}");
    }
    out
}

/// The value of the limit `name` as written (`"24h"`, `1000000`).
pub fn value_text(name: &str, events: u64, limits: &Limits) -> String {
    match name {
        "events" => events.to_string(),
        "virtual_time" => Duration::from_nanos(limits.virtual_time).to_string(),
        "in_flight_per_link" => limits.in_flight_per_link.to_string(),
        "history_ops" => limits.history_ops.to_string(),
        "checker_steps" => limits.checker_steps.to_string(),
        "trace_bytes" => limits.trace_bytes.to_string(),
        _ => "?".to_string(),
    }
}

/// `[limits]` and the older top-level `max_events`, checked: each more than zero, events given
/// once. Returns the events limit and the others.
pub(super) fn convert(
    src: &Source<'_>,
    max_events: Option<&super::values::Located<u64>>,
    table: Option<&LimitsTable>,
) -> Result<(u64, Limits), ScenarioError> {
    let mut limits = Limits::default();
    let mut events = DEFAULT_EVENTS;
    if let Some(m) = max_events {
        if m.value == 0 {
            return Err(src.error(&m.span, "max_events must be more than zero"));
        }
        events = m.value;
    }
    let Some(t) = table else {
        return Ok((events, limits));
    };
    let positive = |v: &super::values::Located<u64>, name: &str| {
        if v.value == 0 {
            Err(src.error(&v.span, format!("limits.{name} must be more than zero")))
        } else {
            Ok(v.value)
        }
    };
    if let Some(e) = &t.events {
        if max_events.is_some() {
            return Err(src.error(
                &e.span,
                "the events limit is given twice: keep `[limits] events` and remove the top-level `max_events`",
            ));
        }
        events = positive(e, "events")?;
    }
    if let Some(v) = &t.virtual_time {
        if v.value.nanos() == 0 {
            return Err(src.error(&v.span, "limits.virtual_time must be more than zero"));
        }
        limits.virtual_time = v.value.nanos();
    }
    if let Some(v) = &t.in_flight_per_link {
        limits.in_flight_per_link = positive(v, "in_flight_per_link")?;
    }
    if let Some(v) = &t.history_ops {
        limits.history_ops = positive(v, "history_ops")?;
    }
    if let Some(v) = &t.checker_steps {
        limits.checker_steps = positive(v, "checker_steps")?;
    }
    if let Some(v) = &t.trace_bytes {
        limits.trace_bytes = positive(v, "trace_bytes")?;
    }
    Ok((events, limits))
}

impl Scenario {
    /// Overrides one limit, as `sim run --limit NAME=VALUE` does: `NAME=VALUE` in, or a message
    /// naming the limits that exist.
    ///
    /// ```
    /// use sim::scenario::Scenario;
    /// let mut s = Scenario::parse("x.toml", "name = \"x\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"raft\"\n")?;
    /// s.set_limit("events=100")?;
    /// s.set_limit("virtual_time=2h")?;
    /// assert_eq!(s.max_events, 100);
    /// assert_eq!(s.limits.virtual_time, 7_200_000_000_000);
    /// assert!(s.set_limit("speed=3").unwrap_err().contains("expected one of events, virtual_time"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_limit(&mut self, assignment: &str) -> Result<(), String> {
        let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
        let Some((name, value)) = assignment.split_once('=') else {
            return Err(format!(
                "expected NAME=VALUE, e.g. events=1000000, with NAME one of {}",
                names.join(", ")
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        if name == "virtual_time" {
            let d: Duration = value
                .parse()
                .map_err(|e| format!("--limit virtual_time: {e}"))?;
            if d.nanos() == 0 {
                return Err("--limit virtual_time: expected more than zero".into());
            }
            self.limits.virtual_time = d.nanos();
            return Ok(());
        }
        let slot = match name {
            "events" => &mut self.max_events,
            "in_flight_per_link" => &mut self.limits.in_flight_per_link,
            "history_ops" => &mut self.limits.history_ops,
            "checker_steps" => &mut self.limits.checker_steps,
            "trace_bytes" => &mut self.limits.trace_bytes,
            _ => {
                return Err(format!(
                    "--limit {name}: expected one of {}",
                    names.join(", ")
                ));
            }
        };
        match value.replace('_', "").parse::<u64>() {
            Ok(v) if v > 0 => {
                *slot = v;
                Ok(())
            }
            _ => Err(format!(
                "--limit {name}: expected a whole number more than zero, found `{value}`"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "name = \"x\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"raft\"\n";

    #[test]
    fn a_limits_table_overrides_each_default_and_others_keep_theirs() {
        let s = Scenario::parse(
            "x.toml",
            &format!("{HEAD}[limits]\nevents = 10\nvirtual_time = \"2m\"\ntrace_bytes = 5\n"),
        )
        .unwrap();
        assert_eq!(s.max_events, 10);
        assert_eq!(s.limits.virtual_time, 120_000_000_000);
        assert_eq!(s.limits.trace_bytes, 5);
        assert_eq!(
            s.limits.history_ops,
            Limits::default().history_ops,
            "not written: the default"
        );
    }

    #[test]
    fn a_zero_limit_or_the_events_limit_twice_is_refused_where_written() {
        let e = Scenario::parse("x.toml", &format!("{HEAD}[limits]\nhistory_ops = 0\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.toml:7:15:")
                && e.contains("limits.history_ops must be more than zero"),
            "{e}"
        );
        let twice = format!("max_events = 5\n{HEAD}[limits]\nevents = 10\n");
        let e = Scenario::parse("x.toml", &twice).unwrap_err().to_string();
        assert!(e.contains("the events limit is given twice"), "{e}");
        let e = Scenario::parse("x.toml", &format!("{HEAD}[limits]\nspeed = 1\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("speed"), "an unknown limit is named: {e}");
    }

    #[test]
    fn the_defaults_are_listed_with_every_name() {
        let text = defaults_text();
        for (name, _) in NAMES {
            assert!(text.contains(&format!("{name}=")), "{text}");
        }
        assert!(text.contains("virtual_time=24h"), "{text}");
        assert!(text.contains("events=50000000"), "{text}");
    }

    #[test]
    fn set_limit_refuses_what_it_cannot_read() {
        let mut s = Scenario::parse("x.toml", HEAD).unwrap();
        assert!(s.set_limit("events").unwrap_err().contains("NAME=VALUE"));
        assert!(
            s.set_limit("events=0")
                .unwrap_err()
                .contains("more than zero")
        );
        assert!(s.set_limit("events=x").unwrap_err().contains("found `x`"));
        assert!(s.set_limit("virtual_time=1y").is_err());
        s.set_limit("checker_steps=1_000").unwrap();
        assert_eq!(s.limits.checker_steps, 1_000);
    }
}
