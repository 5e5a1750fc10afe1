//! The sans-I/O contract between a protocol and the world that runs it.
//!
//! A protocol is a state machine. The world calls one of its handlers with an input — the start
//! of the node, a message, a timer — and the protocol answers only by calling its [`Ctx`]: send,
//! set a timer, persist, observe. It never sleeps, spawns, reads a clock or touches the OS, so a
//! run is a pure function of the scenario and the seed.

use std::fmt::Debug;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{
    ClientApi, ClientRequest, Ctx, Disk, NodeId, ProtocolInvariant, Reply, SectionBuilder,
};

/// A problem with a protocol's `[protocol]` settings that types alone cannot catch.
///
/// ```
/// use sim::node::ConfigError;
/// // What a protocol's `validate` returns for a heartbeat slower than its timeout.
/// fn validate(heartbeat_ms: u64, timeout_ms: u64) -> Result<(), ConfigError> {
///     if heartbeat_ms >= timeout_ms {
///         return Err(ConfigError::new("heartbeat", "must be shorter than the timeout"));
///     }
///     Ok(())
/// }
/// assert_eq!(validate(100, 50).unwrap_err().field, "heartbeat");
/// assert!(validate(50, 100).is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The key inside `[protocol]` that is wrong (empty when the problem is the cluster).
    pub field: &'static str,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl ConfigError {
    /// A problem with the key `field` (`""`: with the cluster).
    ///
    /// ```
    /// use sim::node::ConfigError;
    /// let e = ConfigError::new("", "needs an odd number of nodes");
    /// assert_eq!((e.field, e.message.as_str()), ("", "needs an odd number of nodes"));
    /// ```
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        ConfigError {
            field,
            message: message.into(),
        }
    }
}

/// A node's disk, for protocol `P`.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{DiskOf, Protocol};
/// // Tiny persists its write count: a restarted node reads it back from its disk.
/// let disk: DiskOf<Tiny> = sim::node::Disk { state: 4, log: Vec::new() };
/// let restarted = Tiny::new(sim::node::NodeId(0), &[], &Config {}, Some(&disk));
/// assert_eq!(restarted.writes, 4);
/// ```
pub type DiskOf<P> = Disk<<P as Protocol>::Durable, <P as Protocol>::Record>;

/// A distributed protocol, as one node runs it.
///
/// A complete protocol, registered and run from a scenario: node 0 declares itself master and
/// pings the others every 100 ms; each answers with a pong, and node 0 states a fact of its
/// own per pong, which its own invariant counts.
///
/// ```
/// use std::any::Any;
///
/// use schemars::JsonSchema;
/// use serde::{Deserialize, Serialize};
/// use sim::node::{
///     Ctx, DiskOf, Invariant, InvariantInfo, NodeId, Observation, Property, Protocol,
///     ProtocolInvariant, Role, RunView, Status, time::NANOS_PER_MILLI,
/// };
///
/// struct Beacon;
///
/// #[derive(Clone, Debug, Serialize)]
/// enum Msg {
///     Ping,
///     Pong,
/// }
///
/// /// The `[protocol]` table: none of its own here, and unknown keys refused.
/// #[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
/// #[serde(deny_unknown_fields)]
/// struct Config {}
///
/// /// Beacon's own fact, for its own invariant.
/// #[derive(Clone, Debug, Serialize)]
/// struct Ponged {
///     from: NodeId,
/// }
///
/// impl Protocol for Beacon {
///     const NAME: &'static str = "beacon";
///     const SUMMARY: &'static str = "node 0 pings the others every 100ms";
///     const DEFAULT_INVARIANTS: &'static [&'static str] = &["election_safety"];
///     type Msg = Msg;
///     type Timer = ();
///     type Config = Config;
///     type Durable = ();
///     type Api = sim::node::Kv;
///     type Fact = Ponged;
///     type Record = ();
///
///     fn invariants() -> Vec<ProtocolInvariant> {
///         vec![ProtocolInvariant {
///             info: InvariantInfo {
///                 name: "pongs_heard",
///                 property: Property::Liveness,
///                 definition: "Node 0 hears at least one pong.",
///                 bound: None,
///             },
///             build: |_nodes, _bound| Box::new(PongsHeard(0)),
///         }]
///     }
///
///     fn new(_: NodeId, _: &[NodeId], _: &Config, _: Option<&DiskOf<Self>>) -> Self {
///         Beacon
///     }
///
///     fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
///         if ctx.id() == NodeId(0) {
///             ctx.observe(Observation::Role { role: Role::Master, term: 1 });
///             ctx.set_timer(100 * NANOS_PER_MILLI, ());
///         }
///     }
///
///     fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
///         match msg {
///             Msg::Ping => ctx.send(from, Msg::Pong),
///             Msg::Pong => ctx.fact(Ponged { from }),
///         }
///     }
///
///     fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, (): ()) {
///         ctx.broadcast(Msg::Ping);
///         ctx.set_timer(100 * NANOS_PER_MILLI, ());
///     }
/// }
///
/// /// Counts the pongs node 0 heard.
/// struct PongsHeard(u64);
///
/// impl Invariant for PongsHeard {
///     fn name(&self) -> String {
///         "pongs_heard".into()
///     }
///     fn property(&self) -> Property {
///         Property::Liveness
///     }
///     fn on_observation(&mut self, _: u64, _: u32, _: &Observation, _: &dyn RunView) {}
///     fn on_fact(&mut self, _at: u64, _node: u32, fact: &dyn Any, _: &dyn RunView) {
///         if fact.downcast_ref::<Ponged>().is_some() {
///             self.0 += 1;
///         }
///     }
///     fn status(&self) -> Status {
///         match self.0 {
///             0 => Status::Unknown("no pong was heard".into()),
///             _ => Status::Pass,
///         }
///     }
/// }
///
/// // One line makes it known to scenarios and runs (a program of your own would then call
/// // `sim::cli::main_with` with the registry instead).
/// sim::run::registry::Registry::builtin().with::<Beacon>().install()?;
///
/// let scenario = sim::scenario::Scenario::parse(
///     "beacon.toml",
///     r#"
///         name = "beacon"
///         duration = "1s"
///         [cluster]
///         nodes = ["A", "B", "C"]
///         protocol = "beacon"
///         [check]
///         invariants = ["election_safety", "pongs_heard"]
///     "#,
/// )?;
/// let out = sim::run::run(&scenario, &sim::run::RunOptions::default())?;
/// assert_eq!(out.report.verdict, sim::run::Verdict::Pass);
/// assert_eq!(out.report.invariants[1].name, "pongs_heard");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Protocol: Sized + 'static {
    /// The name scenarios use in `cluster.protocol`.
    const NAME: &'static str;
    /// One line for `sim list protocols`.
    const SUMMARY: &'static str;
    /// The invariants checked when a scenario's `[check]` names none: those this protocol
    /// reports the observations for.
    const DEFAULT_INVARIANTS: &'static [&'static str] = &[];
    /// Whether it models traitors: a node a `[[faults]] byzantine` entry names reads
    /// `ctx.is_traitor()` and sends what its protocol says a traitor sends. A scenario that
    /// names a `byzantine` fault for a protocol without traitors is refused when it is read:
    /// the fault would otherwise do nothing, silently.
    const TRAITORS: bool = false;

    /// What nodes send each other. `Serialize` feeds the trace and its hash; `'static` lets an
    /// invariant read a handled message (`Invariant::on_step`).
    type Msg: Clone + Debug + Serialize + 'static;
    /// The protocol's timer names. Setting a timer that is pending replaces it.
    type Timer: Copy + Eq + Debug + Serialize;
    /// The `[protocol]` table of a scenario; unknown keys must be rejected
    /// (`#[serde(deny_unknown_fields)]`).
    type Config: DeserializeOwned + Default + JsonSchema + Clone + Debug;
    /// Small state that survives a crash, rewritten whole by each persist (Raft's currentTerm
    /// and votedFor). See [`super::durable`].
    type Durable: Clone + Default + Debug + Serialize;
    /// The protocol's own facts for its own invariants (a transaction decided, a version written
    /// with its vector clock), stated with `ctx.fact(…)`; [`NoFacts`] for a protocol whose facts
    /// are all common [`super::Observation`]s. `Serialize` feeds the trace and its hash.
    type Fact: Clone + Debug + Serialize + 'static;
    /// The client interface it serves (`Kv` for the key-value one). A protocol that serves no
    /// clients names one anyway and keeps the default [`Protocol::on_request`], which refuses.
    type Api: ClientApi;
    /// One record of the durable log, written by appends and truncations (Raft's log entry);
    /// `()` for a protocol that keeps no log.
    type Record: Clone + Debug;

    /// Invariants this protocol defines over its own facts, beside the common ones: `[check]`
    /// names them like any other, and `sim list invariants` shows them under the protocol.
    fn invariants() -> Vec<ProtocolInvariant> {
        Vec::new()
    }

    /// Sections this protocol adds to the report of a run of `nodes` nodes, after the common
    /// ones (elections, failure detector): each watches the run and answers one section that
    /// the terminal, `summary.md` and `--json` all print (see [`super::section`]).
    fn report_sections(_nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        Vec::new()
    }

    /// Checks settings that types cannot (a range whose min exceeds its max, a cluster of the
    /// wrong size). Runs once, before the world starts.
    fn validate(_config: &Self::Config, _cluster_size: usize) -> Result<(), ConfigError> {
        Ok(())
    }

    /// A node starting fresh (`disk` is `None`) or restarting after a crash with what it had
    /// written to disk: its last persisted state and its durable log.
    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &Self::Config,
        disk: Option<&DiskOf<Self>>,
    ) -> Self;

    /// The node begins running: at time zero, and again after each restart.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);

    /// A message from `from` arrived.
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Msg);

    /// A timer set earlier fired.
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer);

    /// One of this protocol's messages in words, for `sim replay`: `msg` is the message as the
    /// trace holds it (what [`Self::Msg`] serializes to) and `names` the node names by index,
    /// for the node ids a message carries. `None`, the default, leaves the message to the
    /// generic form every protocol gets, `Name(field value, …)`: `{"ping":{"seq":3}}` reads
    /// `Ping(seq 3)`.
    ///
    /// ```
    /// use serde_json::{Value, json};
    /// # fn sketch(msg: &Value, names: &[String]) -> Option<String> {
    /// // In `impl Protocol for Lock`, for `Msg::Grant { holder: NodeId, epoch: u64 }`:
    /// let grant = msg.get("grant")?;
    /// let holder = names.get(grant.get("holder")?.as_u64()? as usize)?;
    /// Some(format!("Grant(to {holder}, epoch {})", grant.get("epoch")?))
    /// # }
    /// # let names = ["A".to_string(), "B".to_string()];
    /// # let told = sketch(&json!({"grant": {"holder": 1, "epoch": 4}}), &names);
    /// # assert_eq!(told.as_deref(), Some("Grant(to B, epoch 4)"));
    /// ```
    fn narrate_message(_msg: &serde_json::Value, _names: &[String]) -> Option<String> {
        None
    }

    /// This node's state in a few lines, for `sim step`'s `state` command: what a teacher would
    /// write on the board (Raft's term, vote, role, log, commit index, lease). `names` names node
    /// ids. The default, empty, says the protocol does not describe its state.
    ///
    /// ```
    /// # struct Counter { value: u64, leader: Option<usize> }
    /// # impl Counter {
    /// // In `impl Protocol for Counter`:
    /// fn describe_state(&self, names: &[String]) -> Vec<String> {
    ///     let leader = self.leader.map_or("none", |i| names[i].as_str());
    ///     vec![format!("value   {}", self.value), format!("leader  {leader}")]
    /// }
    /// # }
    /// # let names = ["A".to_string(), "B".to_string()];
    /// # let lines = Counter { value: 3, leader: Some(1) }.describe_state(&names);
    /// # assert_eq!(lines, ["value   3", "leader  B"]);
    /// ```
    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        Vec::new()
    }

    /// The named situations `sim find --where` looks for in runs of this protocol (see
    /// [`Situation`](crate::node::situation::Situation)); default none.
    ///
    /// ```
    /// use sim::node::Protocol;
    /// use sim::protocols::raft::Raft;
    /// assert!(Raft::situations().iter().any(|s| s.name == "split-vote"));
    /// ```
    fn situations() -> Vec<crate::node::situation::Situation> {
        Vec::new()
    }

    /// A client's request arrived. Protocols without a client interface keep this default,
    /// which refuses every request.
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest<Self::Api>) {
        ctx.reply(
            request.id,
            Reply::Fail {
                reason: format!("{} serves no client requests", Self::NAME),
            },
        );
    }
}

/// The facts of a protocol that states none of its own: it cannot be built, so `ctx.fact` is
/// never called with one.
///
/// ```
/// use sim::node::{NoFacts, Protocol};
/// // The built-in heartbeat detector states only common observations.
/// fn facts_of<P: Protocol>() -> &'static str { std::any::type_name::<P::Fact>() }
/// assert_eq!(facts_of::<sim::protocols::heartbeat::Heartbeat>(), std::any::type_name::<NoFacts>());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum NoFacts {}
