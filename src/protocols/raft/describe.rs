//! A Raft server's state in a few lines, for `sim step`'s `state` command: the persistent
//! state (Figure 2's currentTerm, votedFor, log[]), the volatile one (commitIndex, lastApplied),
//! and the role with what it holds (the leader it knows, its lease).

use super::Raft;
use super::log::Command;

/// At most this many entries are shown, the last ones: a long log is elided in front.
const SHOWN: usize = 8;

impl Raft {
    pub(super) fn describe(&self, names: &[String]) -> Vec<String> {
        let name = |id: crate::node::NodeId| {
            names
                .get(id.index())
                .cloned()
                .unwrap_or_else(|| format!("#{}", id.0))
        };
        let role = serde_json::to_value(self.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let d = &self.durable;
        let mut lines = vec![
            format!("role          {role}"),
            format!("term          {}", d.current_term),
            format!(
                "voted for     {}",
                d.voted_for.map_or("nobody".into(), name)
            ),
        ];
        let entries: Vec<String> = d
            .log
            .iter()
            .skip(d.log.len().saturating_sub(SHOWN))
            .map(|e| {
                let what = match &*e.command {
                    Command::Noop => "noop".to_string(),
                    Command::Client { op, .. } => format!("{op:?}"),
                };
                format!("{}:t{} {what}", e.index, e.term)
            })
            .collect();
        let elided = if d.log.len() > SHOWN { "… " } else { "" };
        lines.push(format!(
            "log           {} entries{}{elided}{}",
            d.log.len(),
            if entries.is_empty() { "" } else { ": " },
            entries.join(", ")
        ));
        lines.push(format!("commit index  {}", self.commit_index));
        lines.push(format!("last applied  {}", self.last_applied));
        lines.push(format!(
            "leader known  {}",
            self.leader.as_ref().map_or("none".into(), |l| name(l.id))
        ));
        if let Some(lease) = &self.lease {
            lines.push(format!(
                "lease until   {}",
                lease.until().map_or("not yet claimed".into(), |u| format!(
                    "{} on its clock",
                    crate::node::format_local_instant(u)
                ))
            ));
        }
        lines
    }
}
