//! Protocols: one module each, every one a sans-I/O state machine over the node API.
//!
//! A protocol never imports from the world, the checkers or another protocol. The catalogue
//! below is how the layers above find them by name.

use crate::node::Protocol;

pub mod heartbeat;
pub mod naive_failover;
pub mod raft;

/// What the rest of the program needs to know about a protocol without naming its type.
pub struct ProtocolInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// Checked when a scenario's `[check]` names no invariant.
    pub default_invariants: &'static [&'static str],
    /// The JSON Schema of its `[protocol]` table.
    pub config_schema: fn() -> schemars::Schema,
}

fn info<P: Protocol>() -> ProtocolInfo {
    ProtocolInfo {
        name: P::NAME,
        summary: P::SUMMARY,
        default_invariants: P::DEFAULT_INVARIANTS,
        config_schema: || schemars::schema_for!(P::Config),
    }
}

/// Every protocol, in the order `sim list protocols` shows them.
pub fn catalog() -> Vec<ProtocolInfo> {
    vec![
        info::<raft::Raft>(),
        info::<heartbeat::Heartbeat>(),
        info::<naive_failover::NaiveFailover>(),
    ]
}
