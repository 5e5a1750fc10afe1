//! A history: every client operation with its invocation, its completion and what it returned.
//!
//! This is the one input of the history checkers. The simulator records it from its virtual
//! clients; importers turn Jepsen, Porcupine and Knossos files into it, each mapping its source's
//! semantics onto the three outcomes below (`docs/ARCHITECTURE.md#histories`):
//!
//! - `Ok(output)`: the operation took effect once, between invoke and complete, and returned
//!   `output`. An observed failed compare-and-set is `Ok(Output::Cas(false))`: it happened, it
//!   saw a value other than `from`, and changed nothing.
//! - `Fail`: the operation definitely did not take effect. Checkers skip it; it is kept so that
//!   pictures and explanations can show it.
//! - `Info`: unknown. It may have taken effect at any instant after its invocation, or never, and
//!   its output is unknown. A read of unknown outcome constrains nothing.

mod builder;
pub mod datum;
pub(crate) mod edn;
pub mod import;
pub mod jepsen;
pub mod json;
pub mod knossos;

pub use crate::node::history::*;
