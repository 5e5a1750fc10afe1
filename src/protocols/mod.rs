//! Protocols: one module each, every one a sans-I/O state machine over the node API.
//!
//! A protocol never imports from the world, the checkers or another protocol — with one
//! exception, checked by `tests/readme.rs`: two-phase commit's `decision_on = "raft"` runs the
//! `raft` protocol, unchanged, as its coordinators' group (`txn/two_phase_commit/raft_group.rs`
//! says why). `each` is the
//! one list of the protocols this build knows: the layers above build every table they need
//! from it (the catalogue here, the run layer's dispatch in `run::registry`), so adding a
//! protocol is one line there and nothing else outside its folder. [`metrics`] is the one list
//! of the measurements only some protocols define (`sim experiment`'s protocol metrics).

use std::sync::OnceLock;

use crate::node::{Nanos, Protocol, ProtocolInvariant};
use crate::workload::Workload;

pub mod arbiter;
pub mod byzantine;
mod failover_situations;
pub mod generation_clock;
pub mod heartbeat;
pub mod lease_master;
pub mod lock;
pub mod master_slave;
pub mod messaging;
pub mod naive_failover;
pub mod overload;
pub mod paxos;
mod ping_watch;
pub mod proxy;
pub mod raft;
pub mod replica;
pub mod session;
pub mod snowflake;
pub mod stale_write;
pub mod txn;

/// Receives each protocol type of a list in turn. The run layer implements it to build its
/// dispatch table; [`catalog`] to collect what can be said of each protocol without its type.
pub(crate) trait Visitor {
    /// Called once per protocol type, in list order.
    fn visit<P: Protocol>(&mut self)
    where
        P::Api: Workload;
}

/// Every protocol of this build, in the order `sim list protocols` shows them: the one line
/// to add for a new protocol.
pub(crate) fn each(v: &mut impl Visitor) {
    v.visit::<raft::Raft>();
    v.visit::<heartbeat::Heartbeat>();
    v.visit::<naive_failover::NaiveFailover>();
    v.visit::<generation_clock::GenerationClock>();
    v.visit::<lease_master::LeaseMaster>();
    v.visit::<arbiter::Arbiter>();
    v.visit::<txn::two_phase_commit::TwoPhaseCommit>();
    v.visit::<txn::tcc::Tcc>();
    v.visit::<replica::vector_clock::VectorClockReplica>();
    v.visit::<replica::quorum::Quorum>();
    v.visit::<paxos::Paxos>();
    v.visit::<paxos::log::PaxosLog>();
    v.visit::<snowflake::Snowflake>();
    v.visit::<lock::Lock>();
    v.visit::<master_slave::MasterSlave>();
    v.visit::<messaging::Messaging>();
    v.visit::<session::SessionNode>();
    v.visit::<overload::Overload>();
    v.visit::<proxy::ProxyNode>();
    v.visit::<byzantine::OralMessages>();
}

/// What the rest of the program needs to know about a protocol without naming its type.
///
/// ```
/// use sim::run::registry::Registry;
/// // What `sim list protocols` is built from.
/// let infos = Registry::builtin().catalog();
/// let raft = infos.iter().find(|p| p.name == "raft").unwrap();
/// assert_eq!((raft.workload_kind, raft.linearizable), ("kv", true));
/// let twopc = infos.iter().find(|p| p.name == "two-phase-commit").unwrap();
/// assert_eq!((twopc.workload_kind, twopc.linearizable), ("bank", false));
/// ```
#[derive(Clone)]
pub struct ProtocolInfo {
    /// As `cluster.protocol` names it.
    pub name: &'static str,
    /// One line for `sim list protocols`.
    pub summary: &'static str,
    /// Checked when a scenario's `[check]` names no invariant.
    pub default_invariants: &'static [&'static str],
    /// The JSON Schema of its `[protocol]` table.
    pub config_schema: fn() -> schemars::Schema,
    /// The invariants it defines over its own facts (`Protocol::invariants`).
    pub invariants: fn() -> Vec<ProtocolInvariant>,
    /// Its messages in words for `sim replay` ([`Protocol::narrate_message`]).
    pub narrate_message: fn(&serde_json::Value, &[String]) -> Option<String>,
    /// The `[workload] kind` its clients run ([`Workload::KIND`] of its `Api`).
    pub workload_kind: &'static str,
    /// The JSON Schema of that kind's own `[workload]` keys ([`Workload::Options`]).
    pub workload_schema: fn() -> schemars::Schema,
    /// Whether `linearizable` judges that kind's histories ([`Workload::LINEARIZABLE`]).
    pub linearizable: bool,
    /// Whether it models traitors, so that a `byzantine` fault may name its nodes
    /// ([`Protocol::TRAITORS`]).
    pub traitors: bool,
}

impl ProtocolInfo {
    /// What can be said of `P` without its type.
    pub(crate) fn of<P: Protocol>() -> ProtocolInfo
    where
        P::Api: Workload,
    {
        ProtocolInfo {
            name: P::NAME,
            summary: P::SUMMARY,
            default_invariants: P::DEFAULT_INVARIANTS,
            config_schema: || schemars::schema_for!(P::Config),
            invariants: P::invariants,
            narrate_message: P::narrate_message,
            workload_kind: <P::Api as Workload>::KIND,
            workload_schema: || schemars::schema_for!(<P::Api as Workload>::Options),
            linearizable: <P::Api as Workload>::LINEARIZABLE,
            traitors: P::TRAITORS,
        }
    }
}

impl std::fmt::Debug for ProtocolInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtocolInfo")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The protocols of [`each`], described.
pub(crate) fn builtin() -> Vec<ProtocolInfo> {
    struct Collect(Vec<ProtocolInfo>);
    impl Visitor for Collect {
        fn visit<P: Protocol>(&mut self)
        where
            P::Api: Workload,
        {
            self.0.push(ProtocolInfo::of::<P>());
        }
    }
    let mut c = Collect(Vec::new());
    each(&mut c);
    c.0
}

/// The catalogue installed for this process, when a program built on sim added protocols of its
/// own (`run::Registry::install`); set at most once, before any scenario is read.
static INSTALLED: OnceLock<Vec<ProtocolInfo>> = OnceLock::new();

/// Installs the catalogue every scenario is read against. Only `run::Registry::install` calls
/// it, with the same protocols it dispatches, so the two can never disagree.
pub(crate) fn install(catalog: Vec<ProtocolInfo>) -> Result<(), &'static str> {
    INSTALLED
        .set(catalog)
        .map_err(|_| "a protocol registry is already installed")
}

/// Every protocol a scenario may name, in the order `sim list protocols` shows them: the
/// installed registry's, or the built-in ones.
pub(crate) fn catalog() -> Vec<ProtocolInfo> {
    match INSTALLED.get() {
        Some(installed) => installed.clone(),
        None => builtin(),
    }
}

/// A measurement that only some protocols define (a transaction's time in doubt), for
/// `sim experiment`'s `[measure] metric`. Like a `sim find` situation it reads a trial's trace
/// records (the `sim-trace` lines as JSON, of the `kinds` it asks for), so it needs no hook inside
/// a run and cannot change one.
///
/// ```
/// use sim::protocols::ProtocolMetric;
/// use serde_json::{Value, json};
/// /// The time of the last fault.
/// fn last_fault(records: &[Value], _end: u64) -> (Option<u64>, u64) {
///     let at = records.iter().filter_map(|r| r["t"].as_u64()).max();
///     (at, u64::from(at.is_some()))
/// }
/// let m = ProtocolMetric { name: "last_fault", definition: "when the last fault fired", kinds: &["fault"], measure: last_fault };
/// assert_eq!((m.measure)(&[json!({"kind": "fault", "t": 9})], 100), (Some(9), 1));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ProtocolMetric {
    /// As `[measure] metric` names it, in snake case: `in_doubt_time`.
    pub name: &'static str,
    /// What it measures, in one line.
    pub definition: &'static str,
    /// The record kinds it reads (`fact`, `fault`, `start`): a trial keeps those only.
    pub kinds: &'static [&'static str],
    /// One trial's records and the instant its run ended → the value, a duration in
    /// nanoseconds (`None`: nothing to measure), and how many samples it summarises.
    pub measure: fn(&[serde_json::Value], Nanos) -> (Option<Nanos>, u64),
}

/// Every protocol metric with the protocols that define it: the one list to extend when a
/// protocol folder adds one.
///
/// ```
/// let in_doubt = sim::protocols::metrics().into_iter().find(|(_, m)| m.name == "in_doubt_time").unwrap();
/// assert_eq!(in_doubt.0, ["two-phase-commit", "tcc"]);
/// ```
pub fn metrics() -> Vec<(Vec<&'static str>, ProtocolMetric)> {
    use txn::{tcc::Tcc, two_phase_commit::TwoPhaseCommit};
    vec![
        (
            vec![TwoPhaseCommit::NAME, Tcc::NAME],
            txn::metrics::in_doubt_time(),
        ),
        (vec![paxos::Paxos::NAME], paxos::metrics::decide_time()),
        (
            vec![paxos::log::PaxosLog::NAME],
            paxos::log::section::decision_latency(),
        ),
        (
            vec![session::SessionNode::NAME],
            session::convergence::converge_time(),
        ),
    ]
}
