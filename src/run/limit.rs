//! Which of the scenario's `[limits]` ended a run, and the sentence that says so.
//!
//! The engine stops at its own limits (events, messages in flight per link); the run's observer
//! stops it at the ones only it can count (history length, trace bytes); virtual time is capped
//! before the run starts. Whichever it was, the report names it once, with its value and how to
//! raise it, and the verdict is unknown (exit 3) unless a violation was already found.

use serde::Serialize;

use crate::node::Nanos;
use crate::scenario::Scenario;
use crate::scenario::limits::{Limits, how_to_raise, value_text};

/// A limit a run reached.
///
/// ```
/// use sim::run::limit::LimitHit;
/// let hit = LimitHit { name: "events", value: "100".into(), at: 478_000_000, detail: None };
/// assert_eq!(
///     hit.sentence(),
///     "the limit events = 100 was reached: the run stops here; \
///      raise it with `[limits] events = N` in the scenario or `sim run --limit events=N`"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LimitHit {
    /// The limit's name as `[limits]` and `--limit` spell it.
    pub name: &'static str,
    /// Its value in the run, as written (`100`, `"24h"`).
    pub value: String,
    /// Virtual time when it was reached.
    pub at: Nanos,
    /// What reached it, when there is more to say (the link that was flooded).
    pub detail: Option<String>,
}

impl LimitHit {
    /// The limit `name` as `scenario` sets it, reached at `at`.
    pub(crate) fn new(
        scenario: &Scenario,
        name: &'static str,
        at: Nanos,
        detail: Option<String>,
    ) -> Self {
        LimitHit {
            name,
            value: value_text(name, scenario.max_events, &scenario.limits),
            at,
            detail,
        }
    }

    /// One sentence: which limit, its value, when, and how to raise it.
    pub fn sentence(&self) -> String {
        let detail = self
            .detail
            .as_ref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let value = if self.name == "virtual_time" {
            format!("\"{}\"", self.value)
        } else {
            self.value.clone()
        };
        format!(
            "the limit {} = {value} was reached{detail}: the run stops here; {}",
            self.name,
            how_to_raise(self.name)
        )
    }
}

/// What the run's observer counts against `[limits]`: operations invoked and trace bytes.
pub(crate) struct Counted {
    history_ops: u64,
    max_history_ops: u64,
    trace_bytes: u64,
    max_trace_bytes: u64,
    /// The first of them reached: the run stops after the event that reached it.
    pub(crate) reached: Option<&'static str>,
}

impl Counted {
    /// Nothing counted yet but the trace's header (`header_bytes`, 0 without a trace).
    pub(crate) fn new(limits: &Limits, header_bytes: u64) -> Self {
        Counted {
            history_ops: 0,
            max_history_ops: limits.history_ops,
            trace_bytes: header_bytes,
            max_trace_bytes: limits.trace_bytes,
            reached: None,
        }
    }

    /// A client invoked an operation.
    #[inline]
    pub(crate) fn invoked(&mut self) {
        self.history_ops += 1;
        if self.history_ops >= self.max_history_ops {
            self.reached.get_or_insert("history_ops");
        }
    }

    /// `line` and its newline went to the trace file.
    #[inline]
    pub(crate) fn written(&mut self, line: &str) {
        self.trace_bytes += line.len() as u64 + 1;
        if self.trace_bytes > self.max_trace_bytes {
            self.reached.get_or_insert("trace_bytes");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_limit_reached_is_the_one_named() {
        let limits = Limits {
            history_ops: 2,
            trace_bytes: 10,
            ..Limits::default()
        };
        let mut c = Counted::new(&limits, 4);
        c.written("abc");
        c.invoked();
        assert_eq!(c.reached, None, "8 bytes, 1 operation: within both");
        c.written("abc");
        assert_eq!(c.reached, Some("trace_bytes"), "12 bytes > 10");
        c.invoked();
        assert_eq!(c.reached, Some("trace_bytes"), "still the first one");
    }
}
