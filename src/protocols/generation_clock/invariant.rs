//! `no_stale_write` (safety): the storage never carries out a write stamped with an older
//! generation than a write it has already carried out — an old master's write never lands on
//! top of a newer master's.
//!
//! Read from the storage's `Applied` facts alone, whatever the storage's own rule is, so that
//! the storage without its check fails it. The evidence names what happened to the stale
//! master (its pause, its crash) and who took over with which generation.

use std::any::Any;
use std::collections::BTreeMap;

use crate::node::{
    Applied, FaultRecord, Invariant, InvariantInfo, Nanos, NodeId, Observation, ObservationKinds,
    Property, ProtocolInvariant, RequestId, Role, RunView, Status, Violation, format_instant,
};

use super::GenerationFact;

/// One write carried out.
#[derive(Clone)]
struct Write {
    at: Nanos,
    generation: u64,
    from: NodeId,
    key: String,
    request: RequestId,
}

/// The checker.
#[derive(Default)]
struct NoStaleWrite {
    /// The write of the highest generation carried out so far (the first of it).
    newest: Option<Write>,
    /// Per node, what happened to it lately (pauses, crashes, promotions), oldest first.
    events: BTreeMap<u32, Vec<(Nanos, String)>>,
    violation: Option<Violation>,
}

impl NoStaleWrite {
    fn note(&mut self, node: u32, at: Nanos, line: String) {
        let lines = self.events.entry(node).or_default();
        lines.push((at, line));
        if lines.len() > 4 {
            lines.remove(0);
        }
    }
}

fn describe(w: &Write, view: &dyn RunView) -> String {
    format!(
        "{}: the storage carried out {}'s write of {} for c{}#{} under generation {}",
        format_instant(w.at),
        view.name(w.from.0),
        w.key,
        w.request.client.0,
        w.request.seq,
        w.generation
    )
}

impl Invariant for NoStaleWrite {
    fn name(&self) -> String {
        "no_stale_write".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ROLE
    }
    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, view: &dyn RunView) {
        if let Observation::Role {
            role: Role::Master,
            term,
        } = *obs
        {
            let line = format!(
                "{}: {} became master of generation {term}",
                format_instant(at),
                view.name(node)
            );
            self.note(node, at, line);
        }
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        let (nodes, what) = match &fault.applied {
            Applied::Pause { nodes } => (nodes, "was paused"),
            Applied::Resume { nodes } => (nodes, "resumed"),
            Applied::Crash { nodes } => (nodes, "crashed"),
            Applied::Restart { nodes } => (nodes, "restarted"),
            _ => return,
        };
        for &n in nodes {
            let line = format!("{}: {} {what}", format_instant(at), view.name(n));
            self.note(n, at, line);
        }
    }
    fn on_fact(&mut self, at: Nanos, _node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(GenerationFact::Applied {
            generation,
            from,
            key,
            request,
            write: true,
        }) = fact.downcast_ref::<GenerationFact>()
        else {
            return;
        };
        let write = Write {
            at,
            generation: *generation,
            from: *from,
            key: key.clone(),
            request: *request,
        };
        let Some(newest) = &self.newest else {
            self.newest = Some(write);
            return;
        };
        if write.generation > newest.generation {
            self.newest = Some(write);
            return;
        }
        if write.generation == newest.generation || self.violation.is_some() {
            return;
        }
        let mut lines = vec![(newest.at, describe(newest, view))];
        for n in [newest.from.0, from.0] {
            lines.extend(self.events.get(&n).cloned().unwrap_or_default());
        }
        lines.sort();
        let evidence = lines.into_iter().map(|(_, line)| line).collect();
        self.violation = Some(Violation {
            at,
            nodes: vec![
                view.name(from.0).to_string(),
                view.name(newest.from.0).to_string(),
            ],
            message: format!(
                "the storage carried out {}'s write of {key} for c{}#{} under generation \
                 {generation} at {}, after writes of generation {} (by {} since {}): a deposed \
                 master's write carried out after its successor's",
                view.name(from.0),
                request.client.0,
                request.seq,
                format_instant(at),
                newest.generation,
                view.name(newest.from.0),
                format_instant(newest.at)
            ),
            evidence,
        });
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

/// `no_stale_write`'s catalogue entry.
///
/// ```
/// use sim::protocols::generation_clock::invariant::no_stale_write;
/// assert_eq!(no_stale_write().info.name, "no_stale_write");
/// ```
pub fn no_stale_write() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_stale_write",
            property: Property::Safety,
            definition: "The storage never carries out a write stamped with an older generation \
                         than a write it has already carried out: a deposed master's write never \
                         lands on a newer master's data (generation-clock).",
            bound: None,
        },
        build: |_, _| Box::<NoStaleWrite>::default(),
    }
}
