//! The checker API: what an invariant receives as a run happens, and how it answers.
//!
//! It lives here, beside `Protocol`, so that a protocol's folder can hold invariants over its
//! own facts; the common invariants (`check/`) implement the same trait. An invariant sees
//! observations, facts, faults as they happened and a read-only [`RunView`] — never the engine.

use std::any::Any;

use serde::Serialize;

use super::history::History;
use super::{FaultRecord, Nanos, Observation, RunView};

/// Safety: nothing bad ever happens (a violation is final). Liveness: something good happens
/// within a bound (judged once the faults are over).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    Safety,
    Liveness,
}

/// The first violation an invariant found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// True time of the violation, in nanoseconds.
    pub at: Nanos,
    /// The nodes involved, by name.
    pub nodes: Vec<String>,
    /// One sentence: what went wrong.
    pub message: String,
    /// The events that led there, one per line, oldest first.
    pub evidence: Vec<String>,
}

/// An invariant's verdict on a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Violated(Violation),
    /// The run could not decide (it ended too early, a limit was hit).
    Unknown(String),
}

impl Status {
    /// A safety invariant's status: violated if it found a violation, else holding.
    pub fn of(violation: &Option<Violation>) -> Status {
        match violation {
            Some(v) => Status::Violated(v.clone()),
            None => Status::Pass,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Violated(_) => "violation",
            Status::Unknown(_) => "unknown",
        }
    }
}

/// A property watched during a run.
pub trait Invariant {
    /// As written in `[check]`, with its parameter if any: `leader_within 2s`.
    fn name(&self) -> String;
    fn property(&self) -> Property;
    /// A node observed a common fact (role, authority, log appended, …).
    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, view: &dyn RunView);
    /// A node stated one of its protocol's own facts (`Protocol::Fact`). An invariant of that
    /// protocol (or family) reads it with `fact.downcast_ref::<TheFact>()`; the common ones
    /// ignore it.
    fn on_fact(&mut self, _at: Nanos, _node: u32, _fact: &dyn Any, _view: &dyn RunView) {}
    /// A fault happened.
    fn on_fault(&mut self, _at: Nanos, _fault: &FaultRecord, _view: &dyn RunView) {}
    /// The run is over (`view.now()` is when it ended).
    fn on_end(&mut self, _view: &dyn RunView) {}
    /// The clients' history, once the run is over (only runs with a `[workload]` have one).
    fn on_history(&mut self, _history: &History) {}
    fn status(&self) -> Status;
    /// A line of context for a report when the invariant held (who led, how fast).
    fn detail(&self, _view: &dyn RunView) -> Option<String> {
        None
    }
}

/// What `sim list invariants` prints, and what `[check]` accepts.
pub struct InvariantInfo {
    pub name: &'static str,
    pub property: Property,
    /// The precise definition, as in the checker's module doc.
    pub definition: &'static str,
}

/// An invariant a protocol defines over its own facts ([`super::Protocol::invariants`]).
pub struct ProtocolInvariant {
    pub info: InvariantInfo,
    /// Builds the checker for a run of `nodes` nodes.
    pub build: fn(nodes: usize) -> Box<dyn Invariant>,
}
