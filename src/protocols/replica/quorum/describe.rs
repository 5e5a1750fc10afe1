//! A quorum replica's state for `sim step`'s `state` command: every key it stores with the
//! versions it holds, and the requests it coordinates.

use super::Quorum;

impl Quorum {
    pub(super) fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "incarnation   {}, coordinating {} requests",
            self.durable.incarnation,
            self.pending.len()
        )];
        let mut any = false;
        for (key, held) in self.store.iter() {
            any = true;
            let versions: Vec<String> = held.iter().map(|s| s.version().to_string()).collect();
            lines.push(format!("key {key:<9} {}", versions.join(" | ")));
        }
        if !any {
            lines.push("holds         nothing yet".to_string());
        }
        lines
    }
}
