//! The node API: the `Protocol` trait, its `Ctx`, ids, observations, time and randomness.
//!
//! This is the bottom layer. It knows nothing of the world, the checkers or the scenario file;
//! protocols import only from here.

mod client;
mod client_ctx;
mod ctx;
pub mod durable;
pub mod fault;
pub mod history;
mod id;
pub mod invariant;
mod observation;
mod protocol;
pub mod rng;
pub mod section;
pub mod situation;
#[cfg(test)]
pub(crate) mod testing;
pub mod time;
mod view;

pub use client::{ClientApi, ClientId, ClientRequest, Kv, Op, OpResult, Reply, RequestId};
pub use client_ctx::{Client, ClientCtx, ClientEffect, Completion};
#[cfg(test)]
pub(crate) use ctx::step;
pub use ctx::{Ctx, Effect};
pub use durable::{Disk, DiskWrite};
pub use fault::{Applied, FaultRecord, Origin, Resolved};
pub use id::NodeId;
pub use invariant::{
    BoundInfo, Invariant, InvariantInfo, Property, ProtocolInvariant, Status, Violation,
};
pub use observation::{Observation, ObservationKinds, Role};
pub use protocol::{ConfigError, DiskOf, NoFacts, Protocol};
pub use rng::{Rng, Stream};
pub use section::{Section, SectionBuilder};
pub use time::{
    ClockKind, Duration, LocalNanos, Nanos, SignedDuration, format_duration,
    format_duration_signed, format_instant, format_local_instant,
};
pub use view::{NodeStatus, RunView};
