//! The lock's messages in words, for `sim replay`: `Acquire(try 3)`, `Granted(try 3, grant 7)`,
//! `Refused(try 2: C holds it)`, `Write(try 3, #1, token 7)`, `Fenced(try 3, #2: token 9 seen)`.
//!
//! It reads the trace form of [`Msg`](super::Msg) (its `snake_case` serialization), not the
//! type, because a trace outlives the build that wrote it; a message it cannot read is left to
//! the generic form (`None`).

use serde_json::Value;

/// A lock message in words, or `None` for the generic form.
pub(super) fn message(msg: &Value, names: &[String]) -> Option<String> {
    let (name, m) = msg.as_object()?.iter().next()?;
    let num = |key: &str| m.get(key).and_then(Value::as_u64);
    let node = |key: &str| num(key).map(super::znode_name);
    // The ZooKeeper recipe's messages, most of them outside any one try.
    let zk = match name.as_str() {
        "created" => Some(format!(
            "Created(try {}: {})",
            num("attempt")?,
            node("seq")?
        )),
        "get_children" => Some(format!(
            "GetChildren(try {}, mine {}{})",
            num("attempt")?,
            node("mine")?,
            if m.get("watch")?.as_bool()? {
                ", watch"
            } else {
                ""
            }
        )),
        "children" => Some(format!(
            "Children(try {}: {} node(s), lowest {}, before mine {})",
            num("attempt")?,
            num("count")?,
            node("lowest").unwrap_or("none".into()),
            node("predecessor").unwrap_or("none".into())
        )),
        "exists" => Some(format!("Exists({}, watch)", node("seq")?)),
        "stat" => Some(format!(
            "Stat({} {})",
            node("seq")?,
            if m.get("exists")?.as_bool()? {
                "exists: watching it"
            } else {
                "is gone"
            }
        )),
        "notify" => Some(format!(
            "Notify({} {})",
            node("seq")?,
            m.get("change")?.as_str()?
        )),
        "delete" => Some(format!("Delete({})", node("seq")?)),
        "deleted" => Some(format!("Deleted({})", node("seq")?)),
        "heartbeat" => Some(format!("Heartbeat(session {})", num("session")?)),
        "pong" => Some(format!(
            "Pong(session {}{})",
            num("session")?,
            if m.get("watching")?.as_bool()? {
                ", watch set"
            } else {
                ", no watch set"
            }
        )),
        "session_expired" => Some(format!("SessionExpired(session {})", num("session")?)),
        _ => None,
    };
    if zk.is_some() {
        return zk;
    }
    let attempt = num("attempt")?;
    Some(match name.as_str() {
        "create" => format!(
            "Create(try {attempt}, session {}: an ephemeral sequential node)",
            num("session")?
        ),
        "acquire" => format!("Acquire(try {attempt}: SET lock NX)"),
        "granted" => format!("Granted(try {attempt}, grant {})", num("token")?),
        "refused" => {
            let holder = num("holder")? as usize;
            let who = names.get(holder).map_or(holder.to_string(), Clone::clone);
            format!("Refused(try {attempt}: {who} holds it)")
        }
        "release" => format!("Release(try {attempt})"),
        "write" => match num("token") {
            Some(token) => format!("Write(try {attempt}, #{}, token {token})", num("seq")?),
            None => format!("Write(try {attempt}, #{})", num("seq")?),
        },
        "ack" => format!("Ack(try {attempt}, #{})", num("seq")?),
        "fenced" => format!(
            "Fenced(try {attempt}, #{}: token {} already seen)",
            num("seq")?,
            num("highest")?
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::NodeId;
    use crate::protocols::lock::Msg;

    fn told(msg: Msg) -> String {
        let names = ["lock".to_string(), "store".into(), "C".into()];
        message(&serde_json::to_value(msg).unwrap(), &names).unwrap()
    }

    #[test]
    fn every_message_is_told() {
        assert_eq!(
            told(Msg::Acquire { attempt: 3 }),
            "Acquire(try 3: SET lock NX)"
        );
        assert_eq!(
            told(Msg::Refused {
                attempt: 2,
                holder: NodeId(2)
            }),
            "Refused(try 2: C holds it)"
        );
        assert_eq!(
            told(Msg::Write {
                attempt: 3,
                seq: 1,
                token: Some(7)
            }),
            "Write(try 3, #1, token 7)"
        );
        assert_eq!(
            told(Msg::Write {
                attempt: 3,
                seq: 1,
                token: None
            }),
            "Write(try 3, #1)"
        );
        assert_eq!(
            told(Msg::Fenced {
                attempt: 3,
                seq: 2,
                highest: 9
            }),
            "Fenced(try 3, #2: token 9 already seen)"
        );
    }

    #[test]
    fn the_zookeeper_messages_are_told() {
        assert_eq!(
            told(Msg::GetChildren {
                session: 1,
                attempt: 2,
                mine: 7,
                watch: true
            }),
            "GetChildren(try 2, mine lock-0000000007, watch)"
        );
        assert_eq!(
            told(Msg::Children {
                attempt: 2,
                version: 9,
                lowest: Some(5),
                predecessor: Some(6),
                count: 3
            }),
            "Children(try 2: 3 node(s), lowest lock-0000000005, before mine lock-0000000006)"
        );
        assert_eq!(
            told(Msg::Notify {
                session: 1,
                version: 9,
                change: crate::protocols::lock::Change::Deleted,
                seq: 6
            }),
            "Notify(lock-0000000006 deleted)"
        );
        assert_eq!(
            told(Msg::Pong {
                session: 1,
                watching: false
            }),
            "Pong(session 1, no watch set)"
        );
    }
}
