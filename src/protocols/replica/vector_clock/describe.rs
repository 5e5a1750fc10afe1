//! A vector-clock replica's state for `sim step`'s `state` command: every key with the
//! versions it holds (two or more are siblings), and its Lamport clock.

use super::VectorClockReplica;

impl VectorClockReplica {
    pub(super) fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "incarnation   {}, {} puts taken",
            self.durable.incarnation, self.durable.writes
        )];
        if self.durable.store.is_empty() {
            lines.push("holds         nothing yet".to_string());
        }
        for (key, held) in &self.durable.store {
            let versions: Vec<String> = held.iter().map(|s| s.version().to_string()).collect();
            lines.push(format!("key {key:<9} {}", versions.join(" | ")));
        }
        lines
    }
}
