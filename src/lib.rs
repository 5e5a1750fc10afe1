//! sim: a deterministic distributed-systems simulator.
//!
//! Layers, each depending only on those below it (docs/ARCHITECTURE.md#layers): `cli` and
//! `testing` (a harness for tests of your own protocols), `sweep` (many
//! seeds of one scenario), `report`, `run` (the composition root), `scenario`, `check`,
//! `protocols`, `workload`, `world`, `node`.

pub mod check;
pub mod cli;
pub mod node;
pub mod protocols;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod testing;
pub mod workload;
pub mod world;
