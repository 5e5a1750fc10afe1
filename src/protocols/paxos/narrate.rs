//! Paxos's messages in words, for `sim replay` and the story: `Prepare(ballot 3.A)`,
//! `Promise(ballot 3.A; accepted B's value in ballot 2.B)`, `Accept(ballot 3.A: B's value)`,
//! `Accepted(ballot 3.A: B's value)`, `Nack(ballot 3.A: promised 4.B)`.
//!
//! It reads the trace form of [`Msg`](super::Msg) (its `snake_case` serialization), not the
//! type, because a trace outlives the build that wrote it; a message it cannot read is left to
//! the generic form (`None`).

use serde_json::Value as Json;

/// A Paxos message in words, or `None` for the generic form.
pub(super) fn message(msg: &Json, names: &[String]) -> Option<String> {
    let obj = msg.as_object()?;
    let (name, m) = obj.iter().next()?;
    let b = ballot(m.get("ballot")?, names)?;
    Some(match name.as_str() {
        "prepare" => format!("Prepare(ballot {b})"),
        "promise" => match m.get("accepted")? {
            Json::Null => format!("Promise(ballot {b}; nothing accepted)"),
            acc => {
                let pair = acc.as_array()?;
                format!(
                    "Promise(ballot {b}; accepted {} in ballot {})",
                    value(pair.get(1)?, names)?,
                    ballot(pair.first()?, names)?
                )
            }
        },
        "accept" => format!("Accept(ballot {b}: {})", value(m.get("value")?, names)?),
        "accepted" => format!("Accepted(ballot {b}: {})", value(m.get("value")?, names)?),
        "nack" => format!(
            "Nack(ballot {b}: promised {})",
            ballot(m.get("promised")?, names)?
        ),
        _ => return None,
    })
}

fn name(n: &Json, names: &[String]) -> Option<String> {
    let i = usize::try_from(n.as_u64()?).ok()?;
    Some(names.get(i).cloned().unwrap_or_else(|| format!("node {i}")))
}

fn ballot(b: &Json, names: &[String]) -> Option<String> {
    Some(format!(
        "{}.{}",
        b.get("round")?.as_u64()?,
        name(b.get("proposer")?, names)?
    ))
}

fn value(v: &Json, names: &[String]) -> Option<String> {
    Some(format!("{}'s value", name(v, names)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeId;
    use crate::protocols::paxos::{Ballot, Msg, Value};

    fn told(msg: Msg) -> String {
        let names = ["A".to_string(), "B".to_string(), "C".to_string()];
        message(&serde_json::to_value(msg).unwrap(), &names).unwrap()
    }

    #[test]
    fn every_message_reads_in_words() {
        let b = |round, p| Ballot {
            round,
            proposer: NodeId(p),
        };
        assert_eq!(
            told(Msg::Prepare { ballot: b(3, 0) }),
            "Prepare(ballot 3.A)"
        );
        assert_eq!(
            told(Msg::Promise {
                ballot: b(3, 0),
                accepted: Some((b(2, 1), Value(NodeId(1))))
            }),
            "Promise(ballot 3.A; accepted B's value in ballot 2.B)"
        );
        assert_eq!(
            told(Msg::Promise {
                ballot: b(1, 2),
                accepted: None
            }),
            "Promise(ballot 1.C; nothing accepted)"
        );
        assert_eq!(
            told(Msg::Accept {
                ballot: b(3, 0),
                value: Value(NodeId(1))
            }),
            "Accept(ballot 3.A: B's value)"
        );
        assert_eq!(
            told(Msg::Accepted {
                ballot: b(3, 0),
                value: Value(NodeId(1))
            }),
            "Accepted(ballot 3.A: B's value)"
        );
        assert_eq!(
            told(Msg::Nack {
                ballot: b(3, 0),
                promised: b(4, 1)
            }),
            "Nack(ballot 3.A: promised 4.B)"
        );
    }
}
