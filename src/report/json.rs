//! The `--json` document (docs/ARCHITECTURE.md#output): one object with at least `scenario`, `seed`,
//! `verdict`, `trace_hash`, `virtual_time_ns`, `events`, `messages {sent, delivered, dropped}`
//! and `invariants [{name, status, violation}]`.

use serde_json::{Value, json};

use crate::check::Status;
use crate::run::{RunReport, Verdict};
use crate::world::Outcome;

/// The `--json` document of a run, as a JSON value (see the module's notes for its keys).
///
/// ```
/// use sim::run::{RunOptions, run};
/// use sim::scenario::Scenario;
///
/// let text = include_str!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/scenarios/failover/naive-split-brain.toml"
/// ));
/// let scenario = Scenario::parse("naive-split-brain.toml", text)?;
/// let report = run(&scenario, &RunOptions::default())?.report;
/// let doc = sim::report::json::report(&report);
/// assert_eq!(doc["verdict"], "violation");
/// assert_eq!(doc["seed"], report.seed);
/// assert_eq!(doc["trace_hash"], report.trace_hash.as_str());
/// # Ok::<(), sim::run::RunError>(())
/// ```
pub fn report(r: &RunReport) -> Value {
    let invariants: Vec<Value> = r
        .invariants
        .iter()
        .map(|i| {
            let (violation, reason) = match &i.status {
                Status::Violated(v) => (
                    json!({
                        "at_ns": v.at,
                        "nodes": v.nodes,
                        "message": v.message,
                        "evidence": v.evidence,
                    }),
                    Value::Null,
                ),
                Status::Unknown(why) => (Value::Null, Value::from(why.as_str())),
                Status::Pass => (Value::Null, Value::Null),
            };
            json!({
                "name": i.name,
                "property": i.property,
                "status": i.status.name(),
                "violation": violation,
                "reason": reason,
                "detail": i.detail,
            })
        })
        .collect();
    let lines = |lines: &[crate::run::story::StoryLine]| -> Vec<Value> {
        lines
            .iter()
            .map(|l| json!({"at_ns": l.at, "text": l.text}))
            .collect()
    };
    let mut report = json!({
        "scenario": r.scenario,
        "file": r.file,
        "description": r.description,
        "seed": r.seed,
        "protocol": r.protocol,
        "nodes": r.nodes,
        "verdict": r.verdict.name(),
        "exit_code": r.exit_code().code(),
        "trace_hash": r.trace_hash,
        "virtual_time_ns": r.virtual_time,
        "duration_ns": r.duration,
        "outcome": match r.outcome {
            Outcome::Completed => "completed",
            Outcome::EventLimit => "event_limit",
            Outcome::InFlightLimit { .. } => "in_flight_limit",
            Outcome::Stopped => "stopped",
        },
        "limit": r.limit.as_ref().map(|l| json!({
            "name": l.name,
            "value": l.value,
            "at_ns": l.at,
            "detail": l.detail,
            "message": l.sentence(),
        })),
        "events": r.stats.events,
        "messages": {
            "sent": r.stats.sent,
            "delivered": r.stats.delivered,
            "dropped": r.stats.dropped(),
            "dropped_loss": r.stats.dropped_loss,
            "dropped_partition": r.stats.dropped_partition,
            "dropped_node_down": r.stats.dropped_node_down,
            "duplicated": r.stats.duplicated,
            "in_flight": r.stats.in_flight,
        },
        "timers_fired": r.stats.timers_fired,
        "invariants": invariants,
        "swarm": r.swarm.as_ref().map(|knobs| knobs
            .iter()
            .map(|(knob, value)| json!({ "knob": knob, "value": value }))
            .collect::<Vec<_>>()),
        "faults": lines(&r.faults),
        "story": lines(&r.story),
        "expect": r.expect.as_ref().map(|e| json!({
            "verdict": match e.verdict {
                crate::scenario::ExpectedVerdict::Pass => Verdict::Pass.name(),
                crate::scenario::ExpectedVerdict::Violation => Verdict::Violation.name(),
            },
            "violates": e.violates,
            "met": e.met,
            "problems": e.problems,
        })),
        "replay": r.replay,
    });
    let fields = report.as_object_mut().expect("a JSON object");
    for s in &r.sections {
        // A program's mistake, like two protocols of one name: a section would hide a field.
        assert!(
            !fields.contains_key(s.key),
            "the report section `{}` has the key of another field of the report",
            s.key
        );
        fields.insert(s.key.to_string(), s.json.clone());
    }
    report
}
