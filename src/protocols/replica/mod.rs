//! Dynamo-style replication: the family of vector-clock replicas and quorum stores.
//!
//! Every protocol of the family serves the same client interface ([`Register`]: get and put
//! on keys, where a get may return siblings and a put carries the context it supersedes) and
//! states the same facts ([`ReplicaFact`]: what each replica holds, the conflicts it found,
//! message timestamps), so that one set of invariants judges them all. [`clocks`] has the
//! logical clocks they stamp versions and messages with.

pub mod clocks;
pub mod invariants;
pub mod quorum;
pub mod register;
mod situations;
pub mod staleness;
pub mod vector_clock;
pub mod workload;

pub use clocks::{Causality, LamportClock, VectorClock};
pub use register::{Register, RegisterOp, RegisterOutput, ReplicaFact, Version};
pub use staleness::Staleness;
pub use workload::{Home, RegisterClient, RegisterDraw, RegisterOptions};
