//! The messages of `messaging` in words, for `sim replay`: `Publish(txn 3)`,
//! `Deliver(txn 3, offset 7)`, `CheckResult(txn 3: committed)`.
//!
//! It reads the trace form of [`Msg`](super::Msg) (its `snake_case` serialization), not the
//! type, because a trace outlives the build that wrote it; a message it cannot read is left to
//! the generic form (`None`).

use serde_json::Value;

/// A messaging message in words, or `None` for the generic form.
pub(super) fn message(msg: &Value) -> Option<String> {
    let (name, m) = msg.as_object()?.iter().next()?;
    let num = |key: &str| m.get(key).and_then(Value::as_u64);
    Some(match name.as_str() {
        "deliver" => format!("Deliver(txn {}, offset {})", num("txn")?, num("offset")?),
        "ack" => format!("Ack(offset {})", num("offset")?),
        "check_result" => {
            let answer = match m.get("committed")? {
                Value::Bool(true) => "committed",
                Value::Bool(false) => "rolled back",
                Value::Null => "still running",
                _ => return None,
            };
            format!("CheckResult(txn {}: {answer})", num("txn")?)
        }
        other => {
            let word = match other {
                "publish" => "Publish",
                "publish_ack" => "PublishAck",
                "prepare" => "Prepare",
                "prepare_ack" => "PrepareAck",
                "confirm" => "Confirm",
                "cancel" => "Cancel",
                "check_back" => "CheckBack",
                "done" => "Done",
                _ => return None,
            };
            format!("{word}(txn {})", num("txn")?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::messaging::Msg;

    fn told(msg: Msg) -> String {
        message(&serde_json::to_value(msg).unwrap()).unwrap()
    }

    #[test]
    fn every_message_is_told() {
        assert_eq!(told(Msg::Publish { txn: 3 }), "Publish(txn 3)");
        assert_eq!(told(Msg::PrepareAck { txn: 3 }), "PrepareAck(txn 3)");
        assert_eq!(
            told(Msg::Deliver { offset: 7, txn: 3 }),
            "Deliver(txn 3, offset 7)"
        );
        assert_eq!(told(Msg::Ack { offset: 7 }), "Ack(offset 7)");
        for (committed, said) in [
            (Some(true), "committed"),
            (Some(false), "rolled back"),
            (None, "still running"),
        ] {
            assert_eq!(
                told(Msg::CheckResult { txn: 3, committed }),
                format!("CheckResult(txn 3: {said})")
            );
        }
    }
}
