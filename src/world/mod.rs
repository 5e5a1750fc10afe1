//! The world: virtual time, the event queue, RNG streams, the network, clocks, faults and the
//! trace. It drives protocols through the node API and hands every trace record to an observer;
//! it knows no checker, no protocol and no screen. Nothing here reads the wall clock.

pub mod clients;
pub mod clock;
pub mod cluster;
mod engine;
pub mod fault;
pub(crate) mod hash;
pub mod nemesis;
pub mod network;
pub(crate) mod panic_point;
mod queue;
pub(crate) mod swarm;
mod timing;
pub mod trace;
mod wire;

pub use clients::NoClients;
pub use clock::Clock;
pub use cluster::{Cluster, NodeStatus};
pub use engine::{Outcome, Stats, World, WorldSpec};
pub use fault::{Applied, FaultAction, FaultRecord, FaultSpec, Origin, Shape, Target};
pub use nemesis::{NemesisSpec, Rhythm};
pub use network::{Latency, LinkModel};
pub(crate) use panic_point::{PanicPoint, take_panic_point};
pub(crate) use swarm::{ClockKnobs, Knob, LatencyKnobs, LinkKnobs, SwarmSpec};
pub use timing::Timing;
pub use trace::{DropReason, Event, Observer, Record};

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod tests;
