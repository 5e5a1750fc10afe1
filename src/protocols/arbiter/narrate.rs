//! `arbiter`'s messages in words, for `sim replay`.

use serde_json::Value;

use super::messages::name;

/// `master0000000002 (b), master0000000003 (c)`.
fn list(registrations: &Value, names: &[String]) -> Option<String> {
    let items = registrations.as_array()?;
    if items.is_empty() {
        return Some("none".into());
    }
    let told: Option<Vec<String>> = items
        .iter()
        .map(|r| {
            let node = r.get("node")?.as_u64()? as usize;
            let who = names.get(node).cloned().unwrap_or_else(|| node.to_string());
            Some(format!("{} ({who})", name(r.get("seq")?.as_u64()?)))
        })
        .collect();
    Some(told?.join(", "))
}

/// `Registered(session 1: master0000000001; list v1: master0000000001 (a))`,
/// `Children(v3: …)`, `Write(gen 2: x=3#4)`, `Stale(gen 1 < highest 2)`; the rest generically.
pub(crate) fn message(msg: &Value, names: &[String]) -> Option<String> {
    if let Some(m) = msg.get("Registered") {
        return Some(format!(
            "Registered(session {}: {}; list v{}: {})",
            m.get("session")?,
            name(m.get("seq")?.as_u64()?),
            m.get("version")?,
            list(m.get("registrations")?, names)?
        ));
    }
    if let Some(m) = msg.get("Children") {
        return Some(format!(
            "Children(v{}: {})",
            m.get("version")?,
            list(m.get("registrations")?, names)?
        ));
    }
    if let Some(m) = msg.get("Write") {
        return Some(format!(
            "Write(gen {}: {}={})",
            m.get("generation")?,
            m.get("key")?.as_str()?,
            m.get("value")?.as_str()?
        ));
    }
    if let Some(m) = msg.get("Stale") {
        return Some(format!(
            "Stale(gen {} < highest {})",
            m.get("generation")?,
            m.get("highest")?
        ));
    }
    None
}
