//! Vector-clock messages in words, for `sim replay`: values with their clocks padded to the
//! cluster, as the textbook draws them — `Update(x = 5 [1,0,1])`, `Ack(x: concurrent, kept
//! 5 [1,0,1])`; under last-write-wins, which keeps no vector, the writer's wall clock instead.

use serde_json::Value;

use crate::node::format_local_instant;

/// A clock as the trace holds it (`[1,0,1]`, trailing zeros cut) → `[1,0,1]` over `n` nodes.
pub(crate) fn clock(v: &Value, n: usize) -> Option<String> {
    let mut counts: Vec<u64> = v
        .as_array()?
        .iter()
        .map(Value::as_u64)
        .collect::<Option<_>>()?;
    if counts.len() < n {
        counts.resize(n, 0);
    }
    let parts: Vec<String> = counts.iter().map(u64::to_string).collect();
    Some(format!("[{}]", parts.join(",")))
}

/// A version (`{"value": "5", "clock": [1,0,1], …}`) → `5 [1,0,1]`, or for a last-write-wins
/// version `5 written at 1.002s by C`.
pub(crate) fn version(v: &Value, names: &[String]) -> Option<String> {
    let value = v.get("value")?.as_str()?;
    let c = v.get("clock")?;
    let lww = c.as_array()?.is_empty() && v.get("dot").is_some_and(|d| !d.is_null());
    if lww {
        let wall = v.get("wall")?.as_i64()?;
        let node = v.get("dot")?.get("node")?.as_u64()? as usize;
        let by = names.get(node).map_or("?", String::as_str);
        return Some(format!(
            "{value} written at {} by {by}",
            format_local_instant(wall)
        ));
    }
    Some(format!("{value} {}", clock(c, names.len())?))
}

fn stamp(v: &Value) -> String {
    match v
        .get("stamp")
        .and_then(|s| s.get("at"))
        .and_then(Value::as_i64)
    {
        Some(at) => format!(", stamped {at}"),
        None => String::new(),
    }
}

/// One message in words; `None` for a shape this protocol does not send.
pub(crate) fn message(msg: &Value, names: &[String]) -> Option<String> {
    let (kind, body) = msg.as_object()?.iter().next()?;
    let key = body.get("key")?.as_str()?;
    Some(match kind.as_str() {
        "update" => format!(
            "Update({key} = {}{})",
            version(body.get("version")?, names)?,
            stamp(body)
        ),
        "ack" => {
            let outcome = body.get("outcome")?;
            let said = match outcome.as_str() {
                Some("older") => "older than mine, discarded".to_string(),
                Some("same") => "already held".to_string(),
                Some("newer") => "newer, taken".to_string(),
                Some("siblings") => "concurrent, kept beside mine as a sibling".to_string(),
                _ => {
                    let kept: Option<Vec<String>> = outcome
                        .get("concurrent")?
                        .get("kept")?
                        .as_array()?
                        .iter()
                        .map(|v| version(v, names))
                        .collect();
                    format!("concurrent, conflict: kept {}", kept?.join(", "))
                }
            };
            format!("Ack({key}: {said}{})", stamp(body))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn updates_and_answers_show_values_with_padded_clocks() {
        let names: Vec<String> = ["A", "B", "C"].map(String::from).to_vec();
        let update = json!({"update": {"key": "x", "put": 1, "stamp": null, "version": {
            "value": "2", "clock": [2], "context": [1], "dot": {"node": 0, "counter": 2},
            "wall": 3, "writer": 0}}});
        assert_eq!(message(&update, &names).unwrap(), "Update(x = 2 [2,0,0])");
        let ack = json!({"ack": {"key": "x", "put": 1, "stamp": {"id": 9, "at": 12},
            "outcome": {"concurrent": {"kept": [{"value": "5", "clock": [1, 0, 1]}]}}}});
        assert_eq!(
            message(&ack, &names).unwrap(),
            "Ack(x: concurrent, conflict: kept 5 [1,0,1], stamped 12)"
        );
        let lww = json!({"update": {"key": "x", "put": 1, "stamp": null, "version": {
            "value": "5", "clock": [], "context": [], "dot": {"node": 2, "counter": 1},
            "wall": 1_002_000_000, "writer": 2}}});
        assert_eq!(
            message(&lww, &names).unwrap(),
            "Update(x = 5 written at 1.002s by C)"
        );
    }
}
