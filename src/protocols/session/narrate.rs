//! The session store's messages in words, for `sim replay`: `Forward(c0#3: x = c0-3)`,
//! `Ack(c0#3: x = c0-3 v4)`, `Replicate(x = c0-3 v4, …)`, `Digest(x v4, y v2)`, `Patch(…)`.

use serde_json::Value;

/// `x = c0-3 v4`.
fn entry(e: &Value) -> Option<String> {
    Some(format!(
        "{} = {} v{}",
        e.get("key")?.as_str()?,
        e.get("value")?.as_str()?,
        e.get("version")?.as_u64()?
    ))
}

/// `x v4, y v2`, or `nothing`.
fn entries(es: &Value) -> Option<String> {
    let all: Option<Vec<String>> = es
        .as_array()?
        .iter()
        .map(|e| {
            Some(format!(
                "{} v{}",
                e.get("key")?.as_str()?,
                e.get("version")?.as_u64()?
            ))
        })
        .collect();
    let all = all?;
    Some(if all.is_empty() {
        "nothing".into()
    } else {
        all.join(", ")
    })
}

/// `c0#3`.
fn request(r: &Value) -> Option<String> {
    Some(format!(
        "c{}#{}",
        r.get("client")?.as_u64()?,
        r.get("seq")?.as_u64()?
    ))
}

/// One message in words, from its trace form.
pub(super) fn message(msg: &Value, _names: &[String]) -> Option<String> {
    let (tag, body) = msg.as_object()?.iter().next()?;
    Some(match tag.as_str() {
        "Forward" => format!(
            "Forward({}: {} = {})",
            request(body.get("request")?)?,
            body.get("key")?.as_str()?,
            body.get("value")?.as_str()?
        ),
        "Ack" => format!(
            "Ack({}: {})",
            request(body.get("request")?)?,
            entry(body.get("entry")?)?
        ),
        "Replicate" => {
            let all: Option<Vec<String>> = body.as_array()?.iter().map(entry).collect();
            format!("Replicate({})", all?.join(", "))
        }
        "Digest" => format!("Digest({})", entries(body)?),
        "Patch" => format!("Patch({})", entries(body)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{Entry, Msg};
    use super::*;
    use crate::node::{ClientId, RequestId};

    #[test]
    fn each_message_reads_as_its_entries() {
        let e = Entry {
            key: "x".into(),
            version: 4,
            value: "c0-3".into(),
        };
        let request = RequestId {
            client: ClientId(0),
            seq: 3,
        };
        let say = |m: Msg| message(&serde_json::to_value(&m).unwrap(), &[]).unwrap();
        assert_eq!(
            say(Msg::Replicate(vec![e.clone()])),
            "Replicate(x = c0-3 v4)"
        );
        assert_eq!(
            say(Msg::Ack {
                request,
                entry: e.clone()
            }),
            "Ack(c0#3: x = c0-3 v4)"
        );
        assert_eq!(
            say(Msg::Forward {
                request,
                key: "x".into(),
                value: "c0-3".into()
            }),
            "Forward(c0#3: x = c0-3)"
        );
        assert_eq!(say(Msg::Digest(vec![e.clone()])), "Digest(x v4)");
        assert_eq!(say(Msg::Patch(vec![])), "Patch(nothing)");
        assert_eq!(message(&json!({"Other": 1}), &[]), None);
    }
}
