//! Checkers: invariants that watch observations and faults as a run happens, then judge it.
//!
//! A checker never imports a protocol: it reads [`Observation`]s, the fault schedule and the
//! [`Cluster`] (who is up, what each clock reads). So one checker serves every protocol that
//! reports the same facts. Every checker here ships with a test where a broken design makes it
//! fail and one where a correct design passes.

use serde::Serialize;

use crate::node::{Nanos, Observation};
use crate::world::{Cluster, FaultRecord};

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
    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, cluster: &Cluster);
    fn on_fault(&mut self, _at: Nanos, _fault: &FaultRecord, _cluster: &Cluster) {}
    /// The run is over (`cluster.now()` is when it ended).
    fn on_end(&mut self, _cluster: &Cluster) {}
    fn status(&self) -> Status;
}

/// What `sim list invariants` prints, and what `[check]` accepts.
pub struct InvariantInfo {
    pub name: &'static str,
    pub property: Property,
    /// The precise definition, as in the checker's module doc.
    pub definition: &'static str,
}
