//! The messages of `proxy` in words, for `sim replay`: `Send(#3)`, `Forward(s1 #3)`,
//! `Ack(s1 #3)`.
//!
//! It reads the trace form of [`Msg`](super::Msg) (its `snake_case` serialization), not the
//! type, because a trace outlives the build that wrote it; a message it cannot read is left to
//! the generic form (`None`).

use serde_json::Value;

/// A proxy message in words, or `None` for the generic form.
pub(super) fn message(msg: &Value, names: &[String]) -> Option<String> {
    let (name, m) = msg.as_object()?.iter().next()?;
    let seq = m.get("seq").and_then(Value::as_u64)?;
    let sender = || {
        let i = m.get("sender").and_then(Value::as_u64)?;
        names.get(i as usize).cloned()
    };
    Some(match name.as_str() {
        "send" => format!("Send(#{seq})"),
        "forward" => format!("Forward({} #{seq})", sender()?),
        "ack" => format!("Ack({} #{seq})", sender()?),
        "acked" => format!("Acked(#{seq})"),
        "ping" => format!("Ping({seq})"),
        "pong" => format!("Pong({seq})"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_in_words_and_unknown_ones_left_generic() {
        let names: Vec<String> = ["backend", "p1", "s1"].map(String::from).to_vec();
        let fwd = json!({"forward": {"sender": 2, "seq": 7}});
        assert_eq!(message(&fwd, &names).as_deref(), Some("Forward(s1 #7)"));
        let send = json!({"send": {"seq": 3}});
        assert_eq!(message(&send, &names).as_deref(), Some("Send(#3)"));
        assert_eq!(message(&json!({"other": {"seq": 1}}), &names), None);
        assert_eq!(
            message(&json!({"ack": {"sender": 9, "seq": 1}}), &names),
            None
        );
    }
}
