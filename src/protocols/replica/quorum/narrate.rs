//! The quorum store's messages in words, for `sim replay` and the story:
//! `Read(x)`, `Versions(x: c0-1 @1.002s by A)`, `Put(x = c0-1 tag 3.B)`,
//! `Repair(x = c1-2 [c0:2, c1:1])` (a clock's entries are the writing clients'), `WriteBack(x = …)`, `Ack(x)`.

use serde_json::Value;

use crate::protocols::replica::VectorClock;

fn name(names: &[String], i: &Value) -> Option<String> {
    let i = i.as_u64()? as usize;
    Some(names.get(i).cloned().unwrap_or_else(|| format!("n{i}")))
}

/// A wall-clock reading in nanoseconds as seconds, to the microsecond: `1.002345s`.
fn seconds(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let us = ns.unsigned_abs() / 1_000;
    let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{sign}{text}s")
}

/// One version: its value and its stamp.
fn version(v: &Value, names: &[String]) -> Option<String> {
    let value = v.get("value")?.as_str()?;
    let stamp = v.get("stamp")?;
    if let Some(w) = stamp.get("wall") {
        return Some(format!(
            "{value} @{} by {}",
            seconds(w.get("at")?.as_i64()?),
            name(names, w.get("node")?)?
        ));
    }
    if let Some(t) = stamp.get("tag") {
        return Some(format!(
            "{value} tag {}.{}",
            t.get("tag")?,
            name(names, t.get("node")?)?
        ));
    }
    // A clock's actors are the writing clients (see `coordinator`).
    let counts: Vec<u64> = stamp
        .get("clock")?
        .as_array()?
        .iter()
        .map(Value::as_u64)
        .collect::<Option<_>>()?;
    let clients: Vec<String> = (0..counts.len()).map(|i| format!("c{i}")).collect();
    Some(format!(
        "{value} {}",
        VectorClock::from_counts(&counts).named(&clients)
    ))
}

fn versions(v: &Value, names: &[String]) -> Option<String> {
    let all: Option<Vec<String>> = v.as_array()?.iter().map(|x| version(x, names)).collect();
    let all = all?;
    Some(if all.is_empty() {
        "none".into()
    } else {
        all.join(" | ")
    })
}

/// One message in words; `None` for a shape this protocol does not send.
pub(crate) fn message(msg: &Value, names: &[String]) -> Option<String> {
    let (kind, body) = msg.as_object()?.iter().next()?;
    let key = body.get("key")?.as_str()?;
    match kind.as_str() {
        "read" => Some(format!("Read({key})")),
        "versions" => Some(format!(
            "Versions({key}: {})",
            versions(body.get("versions")?, names)?
        )),
        "write" => {
            let word = match body.get("why")?.as_str()? {
                "put" => "Put",
                "repair" => "Repair",
                "write_back" => "WriteBack",
                _ => return None,
            };
            Some(format!(
                "{word}({key} = {})",
                versions(body.get("versions")?, names)?
            ))
        }
        "ack" => Some(format!("Ack({key})")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::replica::quorum::{Msg, Stamp, Stamped, Why};

    fn told(msg: Msg) -> String {
        let names: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        message(&serde_json::to_value(&msg).unwrap(), &names).expect("told")
    }

    #[test]
    fn every_message_reads_as_words_with_its_stamps() {
        assert_eq!(
            told(Msg::Read {
                op: 1,
                key: "x".into()
            }),
            "Read(x)"
        );
        assert_eq!(
            told(Msg::Ack {
                op: 1,
                key: "x".into()
            }),
            "Ack(x)"
        );
        let wall = Stamped {
            value: "c0-1".into(),
            stamp: Stamp::Wall {
                at: 1_002_345_678,
                node: 0,
            },
        };
        assert_eq!(
            told(Msg::Versions {
                op: 1,
                key: "x".into(),
                versions: vec![wall.clone()],
            }),
            "Versions(x: c0-1 @1.002345s by A)"
        );
        assert_eq!(
            told(Msg::Versions {
                op: 1,
                key: "x".into(),
                versions: vec![],
            }),
            "Versions(x: none)"
        );
        let tag = Stamped {
            value: "c1-2".into(),
            stamp: Stamp::Tag { tag: 3, node: 1 },
        };
        assert_eq!(
            told(Msg::Write {
                op: 2,
                key: "x".into(),
                versions: vec![tag],
                why: Why::Put,
            }),
            "Put(x = c1-2 tag 3.B)"
        );
        let clocked = |v: &str, c: &[u64]| Stamped {
            value: v.into(),
            stamp: Stamp::Clock(VectorClock::from_counts(c)),
        };
        assert_eq!(
            told(Msg::Write {
                op: 2,
                key: "x".into(),
                versions: vec![clocked("2", &[2, 0, 0]), clocked("5", &[1, 0, 1])],
                why: Why::Repair,
            }),
            "Repair(x = 2 [c0:2] | 5 [c0:1, c2:1])"
        );
        assert_eq!(
            told(Msg::Write {
                op: 2,
                key: "x".into(),
                versions: vec![wall],
                why: Why::WriteBack,
            }),
            "WriteBack(x = c0-1 @1.002345s by A)"
        );
    }
}
