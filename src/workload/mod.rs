//! Workloads: virtual clients, the operations they generate, and the history they record.
//!
//! Knows the node API only. The recorded [`history::History`] is what the history checkers in
//! `check/` judge; histories made elsewhere (Jepsen, Porcupine, Knossos) are imported into the
//! same type.

pub mod history;
