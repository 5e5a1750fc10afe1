//! sim: a deterministic distributed-systems simulator.
//!
//! A protocol is written once as a sans-I/O state machine ([`node::Protocol`]) and run by a
//! simulated world — virtual time, a network that delays, drops and partitions, clocks that
//! drift and jump, crashes, pauses and disks — driven by a scenario file and a seed. Invariants
//! watch what the nodes report as it happens and judge the run. The same scenario and seed give
//! the same run, byte for byte, and so the same trace hash: a failure found once is replayed
//! forever, and shrunk to the smallest scenario that still fails.
//!
//! # Layers
//!
//! Each depends only on those below it (docs/ARCHITECTURE.md#layers), from the top:
//!
//! - [`cli`]: the `sim` command line ([`cli::main_with`] reuses it with your own protocols);
//! - [`testing`]: a harness for tests of your own protocol ([`testing::sweep`]);
//! - [`experiment`]: many measured trials over a series of parameter values (`sim experiment`);
//! - [`sweep`]: many seeds of one scenario, in parallel, and shrinking a failure;
//! - [`report`]: a judged run as text, `summary.md` or JSON;
//! - [`run`]: the composition root — one scenario and one seed in, one judged run out
//!   ([`run::run`]), through the protocol [`run::registry::Registry`];
//! - [`scenario`]: the TOML file format, read with located errors ([`scenario::Scenario`]);
//! - [`check`]: the invariants, and the linearizability checker over client histories;
//! - [`protocols`]: the built-in protocols (Raft, a heartbeat detector, a naive fail-over);
//! - [`workload`]: virtual clients, their operations and the history they record;
//! - [`world`]: the event loop, network, clocks, faults and the trace;
//! - [`node`]: what a protocol author writes against — [`node::Protocol`], [`node::Ctx`],
//!   observations, facts, [`node::Invariant`], time and randomness.
//!
//! # Quick start
//!
//! A scenario as text, run at its seed, judged:
//!
//! ```
//! use sim::run::{RunOptions, Verdict, run};
//! use sim::scenario::Scenario;
//!
//! let scenario = Scenario::parse("quick-start.toml", r#"
//!     name = "quick-start"
//!     duration = "3s"
//!     [cluster]
//!     nodes = ["A", "B", "C"]
//!     protocol = "raft"
//!     [check]
//!     invariants = ["election_safety", "no_split_brain"]
//!     leader_within = "1s"
//! "#)?;
//! let report = run(&scenario, &RunOptions::default())?.report;
//! assert_eq!(report.verdict, Verdict::Pass);
//! println!("{} · trace hash {}", report.verdict.name(), report.trace_hash);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! To test a protocol of your own, implement [`node::Protocol`] (its documentation has a
//! complete one, registered and run) and add it with
//! `Registry::builtin().with::<MyProtocol>()`.

#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod experiment;
pub mod node;
pub mod protocols;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod testing;
pub mod workload;
pub mod world;
