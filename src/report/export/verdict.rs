//! `verdict.json`: what the pictures need of a run that `trace.jsonl` does not hold — the
//! invariants' verdicts and the first violation's time, invariant, nodes and evidence.
//!
//! It is the `sim run --json` document ([`crate::report::json::report`]) written to a file, so a
//! program reads one format for both, and `sim report` re-renders the pictures from it without
//! running the scenario again.

use std::path::Path;

use serde_json::Value;

use crate::node::Nanos;

/// The verdict file's name beside `trace.jsonl`.
pub(crate) const FILE: &str = "verdict.json";

/// The first violation of a run, as the pictures mark it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The invariant that broke.
    pub(crate) invariant: String,
    /// When, in true time.
    pub(crate) at: Nanos,
    /// Its one sentence.
    pub(crate) message: String,
    /// The nodes it names (none for a history's violation).
    pub(crate) nodes: Vec<String>,
    /// The evidence lines.
    pub(crate) evidence: Vec<String>,
}

/// What the pictures show of a run's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// `pass`, `violation`, `unknown`, …
    pub(crate) verdict: String,
    /// The earliest violation, if any (the first listed among those at the same instant).
    pub(crate) violation: Option<Violation>,
}

/// The verdict of a `--json` document: its `verdict` and its earliest violation.
pub(crate) fn from_json(doc: &Value) -> Result<Verdict, String> {
    let verdict = doc
        .get("verdict")
        .and_then(Value::as_str)
        .ok_or("no `verdict` (expected the document `sim run --json` prints)")?
        .to_string();
    let mut first: Option<Violation> = None;
    for inv in doc
        .get("invariants")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(v) = inv.get("violation").filter(|v| v.is_object()) else {
            continue;
        };
        let at = v
            .get("at_ns")
            .and_then(Value::as_u64)
            .ok_or("a violation without `at_ns`")?;
        if first.as_ref().is_some_and(|f| f.at <= at) {
            continue;
        }
        let strings = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        first = Some(Violation {
            invariant: inv
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            at,
            message: v
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            nodes: strings("nodes"),
            evidence: strings("evidence"),
        });
    }
    Ok(Verdict {
        verdict,
        violation: first,
    })
}

/// Reads `dir/verdict.json`: `None` when there is none (a directory written before it existed),
/// an error naming `file:line:col` when it is not the expected JSON.
pub(crate) fn read(dir: &Path) -> Result<Option<Verdict>, String> {
    let path = dir.join(FILE);
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{shown}: cannot read: {e}")),
    };
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{shown}:{}:{}: expected the JSON document of `sim run --json`: {e}",
            e.line(),
            e.column()
        )
    })?;
    from_json(&doc)
        .map(Some)
        .map_err(|e| format!("{shown}:1:1: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_earliest_violation_is_the_one_marked() {
        let doc = json!({
            "verdict": "violation",
            "invariants": [
                {"name": "pass", "violation": null},
                {"name": "late", "violation": {"at_ns": 9, "message": "m9", "nodes": ["A"], "evidence": []}},
                {"name": "early", "violation": {"at_ns": 5, "message": "m5", "nodes": [], "evidence": ["e"]}},
                {"name": "tie", "violation": {"at_ns": 5, "message": "m5", "nodes": [], "evidence": []}},
            ]
        });
        let v = from_json(&doc).unwrap();
        assert_eq!(v.verdict, "violation");
        let first = v.violation.unwrap();
        assert_eq!((first.invariant.as_str(), first.at), ("early", 5));
        assert_eq!(first.evidence, ["e"]);
        let pass = from_json(&json!({"verdict": "pass", "invariants": []})).unwrap();
        assert_eq!(pass.violation, None);
        assert!(from_json(&json!({"invariants": []})).is_err());
    }
}
