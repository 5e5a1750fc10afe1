//! A storage fenced by generations, shared by the designs that put one behind their masters
//! (the generation clock; the arbiter's registrations): what such a storage states
//! ([`GenerationFact`]) and `no_stale_write` (safety), which judges it: the storage never carries
//! out a write stamped with an older generation than a write it has already carried out — an
//! old master's write never lands on top of a newer master's.
//!
//! Read from the storage's `Applied` facts alone, whatever the storage's own rule is, so that
//! the storage without its check fails it. The evidence names what happened to the stale
//! master (its pause, its crash) and who took over with which generation. A protocol whose
//! facts are not `GenerationFact`s themselves wraps them ([`StatesGenerations`]).

use std::any::Any;
use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde::{Serialize, Serializer};

use crate::node::{
    Applied, FaultRecord, Invariant, InvariantInfo, Nanos, NodeId, Observation, ObservationKinds,
    Property, ProtocolInvariant, RequestId, Role, RunView, Status, Violation, format_instant,
};

/// What a fenced storage states, for `no_stale_write`.
///
/// ```
/// use sim::node::{ClientId, NodeId, RequestId};
/// use sim::protocols::stale_write::GenerationFact;
/// let request = Some(RequestId { client: ClientId(0), seq: 1 });
/// let applied = GenerationFact::Applied { generation: 2, from: NodeId(2), key: "k1".into(), request, write: true };
/// assert_eq!(serde_json::to_value(&applied).unwrap()["applied"]["generation"], 2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GenerationFact {
    /// The storage carried out an operation a master sent under `generation`.
    Applied {
        /// The generation the master stamped it with.
        generation: u64,
        /// The master that sent it.
        from: NodeId,
        /// The key.
        key: String,
        /// The client's request it carries out; none when the master writes of its own accord.
        #[serde(skip_serializing_if = "Option::is_none", serialize_with = "as_request")]
        request: Option<RequestId>,
        /// Whether it changed (or could change) the data: put, append, cas.
        write: bool,
    },
    /// The storage refused an operation of an older generation than `highest`.
    Rejected {
        /// The generation it carried.
        generation: u64,
        /// The highest the storage had seen.
        highest: u64,
        /// The master that sent it.
        from: NodeId,
        /// The key.
        key: String,
    },
}

/// A request as itself, not as an option: the trace (and its hash) of a storage carrying out
/// clients' requests reads as it did before masters could write of their own accord.
fn as_request<S: Serializer>(request: &Option<RequestId>, s: S) -> Result<S::Ok, S::Error> {
    match request {
        Some(r) => r.serialize(s),
        None => s.serialize_none(),
    }
}

/// A protocol's fact type that may be a [`GenerationFact`]: what `no_stale_write` reads.
pub trait StatesGenerations: Any {
    /// The storage's fact this is, if it is one.
    fn generation_fact(&self) -> Option<&GenerationFact>;
}

impl StatesGenerations for GenerationFact {
    fn generation_fact(&self) -> Option<&GenerationFact> {
        Some(self)
    }
}

/// One write carried out.
#[derive(Clone)]
struct Write {
    at: Nanos,
    generation: u64,
    from: NodeId,
    key: String,
    request: Option<RequestId>,
}

/// The checker, over the facts of type `F`.
struct NoStaleWrite<F> {
    /// The write of the highest generation carried out so far (the first of it).
    newest: Option<Write>,
    /// Per node, what happened to it lately (pauses, crashes, promotions), oldest first.
    events: BTreeMap<u32, Vec<(Nanos, String)>>,
    violation: Option<Violation>,
    facts: PhantomData<F>,
}

impl<F> Default for NoStaleWrite<F> {
    fn default() -> Self {
        NoStaleWrite {
            newest: None,
            events: BTreeMap::new(),
            violation: None,
            facts: PhantomData,
        }
    }
}

/// ` for c2#42`, or nothing for a master's own write.
fn for_request(request: Option<RequestId>) -> String {
    request.map_or(String::new(), |r| format!(" for c{}#{}", r.client.0, r.seq))
}

impl<F> NoStaleWrite<F> {
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
        "{}: the storage carried out {}'s write of {}{} under generation {}",
        format_instant(w.at),
        view.name(w.from.0),
        w.key,
        for_request(w.request),
        w.generation
    )
}

impl<F: StatesGenerations> Invariant for NoStaleWrite<F> {
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
        }) = fact
            .downcast_ref::<F>()
            .and_then(StatesGenerations::generation_fact)
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
                "the storage carried out {}'s write of {key}{} under generation \
                 {generation} at {}, after writes of generation {} (by {} since {}): a deposed \
                 master's write carried out after its successor's",
                view.name(from.0),
                for_request(*request),
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

/// `no_stale_write`'s catalogue entry, for a protocol whose facts are of type `F`.
///
/// ```
/// use sim::protocols::stale_write::{GenerationFact, no_stale_write};
/// assert_eq!(no_stale_write::<GenerationFact>().info.name, "no_stale_write");
/// ```
pub fn no_stale_write<F: StatesGenerations>() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_stale_write",
            property: Property::Safety,
            definition: "The storage never carries out a write stamped with an older generation \
                         than a write it has already carried out: a deposed master's write never \
                         lands on a newer master's data (generation-clock, arbiter).",
            bound: None,
        },
        build: |_, _| Box::<NoStaleWrite<F>>::default(),
    }
}
