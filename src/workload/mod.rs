//! Workloads: virtual clients, the operations they generate, and the history they record.
//!
//! Knows the node API only: a client is a [`crate::node::Client`] the world drives. The
//! recorded [`history::History`] is what the history checkers in `check/` judge; histories made
//! elsewhere (Jepsen, Porcupine, Knossos) are imported into the same type.

pub mod client;
pub mod closed_loop;
pub mod generator;
pub mod history;
pub mod kind;
pub mod script;

pub use client::{KvClient, KvDraw, KvTimer, history};
pub use closed_loop::Scripted;
pub use generator::{Mix, WorkloadSpec};
pub use kind::Workload;
pub use script::ScriptOp;
