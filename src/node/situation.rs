//! Named situations a run may pass through — a split vote, a leader deposed, a transaction in
//! doubt — for `sim find`, which sweeps seeds for the first run that shows one, so that a
//! teacher can show it on demand.
//!
//! A situation is recognised from the run's trace (the `sim-trace` records, as JSON), the same
//! lines `sim replay` narrates: what the protocol observed and stated as facts, the faults, the
//! messages. So a detector reads what the run said happened and nothing else, and needs no hook
//! inside a run: looking for a situation cannot change a run.

use serde_json::Value;

use super::Nanos;

/// When a situation happened and what it was, in one line with node names.
///
/// ```
/// use sim::node::situation::Found;
/// let found = Found { at: 401_987_826, text: "term 1 ends with no leader".into() };
/// assert_eq!(sim::node::format_instant(found.at), "0.401s");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// True virtual time of the record at which the situation is first complete.
    pub at: Nanos,
    /// The situation in one sentence, e.g. `term 2 ended with no leader: B, D stood`.
    pub text: String,
}

/// A detector: the records of one run (trace lines as JSON, header excluded) → the first
/// occurrence, if any. Node names are strings in the records already.
///
/// ```
/// use serde_json::{Value, json};
/// use sim::node::situation::{Detect, Found};
/// // The first message dropped, wherever it was going.
/// let first_drop: Detect = |records: &[Value]| {
///     let r = records.iter().find(|r| r["kind"] == "drop")?;
///     Some(Found { at: r["t"].as_u64()?, text: format!("{} loses a message", r["node"].as_str()?) })
/// };
/// let found = first_drop(&[json!({"kind": "drop", "node": "B", "t": 5})]);
/// assert_eq!(found.map(|f| f.text), Some("B loses a message".to_string()));
/// ```
pub type Detect = fn(&[Value]) -> Option<Found>;

/// One named situation of a protocol: its name on the command line, a one-line definition and
/// its detector.
///
/// ```
/// use serde_json::{Value, json};
/// use sim::node::situation::{Found, Situation};
///
/// /// The first crash of any node.
/// fn crash(records: &[Value]) -> Option<Found> {
///     let r = records.iter().find(|r| r["kind"] == "fault" && r["fault"] == "crash")?;
///     Some(Found { at: r["t"].as_u64()?, text: format!("{}", r["text"].as_str()?) })
/// }
/// let s = Situation { name: "crash", definition: "a node crashes", detect: crash };
/// let trace = [json!({"kind": "fault", "fault": "crash", "t": 7, "text": "crash B"})];
/// assert_eq!((s.detect)(&trace), Some(Found { at: 7, text: "crash B".into() }));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Situation {
    /// The name `sim find --where` takes, in kebab case: `split-vote`.
    pub name: &'static str,
    /// What it means, in one line (`sim find --list`).
    pub definition: &'static str,
    /// Finds its first occurrence in a run.
    pub detect: Detect,
}

/// A record's true time (`t`), 0 when it has none.
pub(crate) fn time(record: &Value) -> Nanos {
    record.get("t").and_then(Value::as_u64).unwrap_or(0)
}

/// A record's kind (`send`, `observe`, `fact`, …), "" when it has none.
pub(crate) fn kind(record: &Value) -> &str {
    record.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// A record's node (where it happened), "" when it has none.
pub(crate) fn node(record: &Value) -> &str {
    record.get("node").and_then(Value::as_str).unwrap_or("")
}
