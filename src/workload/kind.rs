//! Which clients exercise a client interface, and the history they leave.
//!
//! A protocol names the interface it serves (`Protocol::Api`); the run builds that interface's
//! clients from the scenario's `[workload]` through [`Workload`], so the clients, and the
//! history the checkers judge, follow the protocol instead of being wired in. The key-value
//! interface's clients are [`KvClient`]s.
//!
//! `[workload]` holds the keys every kind shares (`clients`, `rate`, `timeout`, `retry`,
//! `start`, `stop`, `script`), the key-value kind's `mix` and `keys`, and each other kind's own
//! keys, read into its [`Workload::Options`] by a second pass as `[protocol]` is read into a
//! protocol's config.

use std::fmt::Debug;

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::node::{Client, ClientApi, ClientId, ConfigError, Kv};

use super::client::{KvClient, KvDraw, history};
use super::generator::WorkloadSpec;
use super::history::History;
use super::script::{ScriptOp, first_foreign, for_client};

/// The keys of `[workload]` that every kind takes.
pub(crate) const COMMON_KEYS: &[&str] = &[
    "kind", "clients", "rate", "timeout", "retry", "start", "stop", "script",
];

/// The key-value kind's own keys, checked with the common ones by the scenario's first pass.
pub(crate) const KV_KEYS: &[&str] = &["mix", "keys"];

/// A client interface with clients to exercise it.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::Kv;
/// use sim::workload::Workload;
/// use sim::workload::kind::NoOptions;
/// // The key-value interface's clients, as a run builds them from `[workload]`.
/// let mut spec = kv_spec();
/// spec.clients = 3;
/// let clients = <Kv as Workload>::clients(&spec, &NoOptions {}, None);
/// assert_eq!((Kv::KIND, clients.len()), ("kv", 3));
/// assert!(Kv::history(&clients).ops.is_empty(), "no operation before the run");
/// ```
pub trait Workload: ClientApi {
    /// How `[workload] kind` names it (`"kv"`, `"bank"`). A scenario may leave `kind` out; when
    /// it writes one, it must be the kind of the protocol it runs.
    const KIND: &'static str;

    /// Whether the `linearizable` checker can judge this kind's histories: its operations are
    /// reads and writes of registers (a key-value store, replicas that may return siblings).
    /// Then `linearizable` is checked by default when a scenario has clients; a kind that
    /// judges its histories otherwise (a bank's transfers) leaves it `false`, and a scenario
    /// that names `linearizable` is refused.
    const LINEARIZABLE: bool = false;

    /// The kind's own `[workload]` keys beside the common ones (`kind`, `clients`, `rate`,
    /// `timeout`, `retry`, `start`, `stop`, `script`), read by a second pass over the file so
    /// that a bad value is reported at its line and column. Its keys are the properties of its
    /// JSON Schema; it must not deny unknown fields (the table also holds the common keys, and
    /// the first pass has already refused unknown ones).
    type Options: DeserializeOwned + JsonSchema + Default + Clone + Debug;

    /// The virtual client that speaks this interface.
    type Client: Client<Api = Self>;

    /// Checks the options beyond their types, for a cluster of `nodes` nodes; a
    /// [`ConfigError`]'s `field` names the `[workload]` key to point at.
    fn validate(
        _options: &Self::Options,
        _spec: &WorkloadSpec,
        _nodes: usize,
    ) -> Result<(), ConfigError> {
        Ok(())
    }

    /// The index of the first entry of a `[workload] script` that is no operation of this
    /// interface (a transfer in a key-value script), if any: the run refuses the scenario.
    fn foreign(script: &[ScriptOp]) -> Option<usize>;

    /// The clients of a scenario's `[workload]`, each following its part of `script` when the
    /// scenario scripts them (a script [`Workload::foreign`] has accepted).
    fn clients(
        spec: &WorkloadSpec,
        options: &Self::Options,
        script: Option<&[ScriptOp]>,
    ) -> Vec<Self::Client>;

    /// What the clients saw, every operation in invocation order, for the history checkers.
    fn history(clients: &[Self::Client]) -> History;

    /// [`Workload::history`] from clients that are done with: what a run does at its end. The
    /// default copies; a kind whose clients can give their records away moves them instead.
    fn into_history(clients: Vec<Self::Client>) -> History {
        Self::history(&clients)
    }
}

/// The options of a kind that has none beyond the common keys (the key-value kind's `mix` and
/// `keys` are read with the common ones).
///
/// ```
/// use sim::node::Kv;
/// use sim::workload::Workload;
/// use sim::workload::kind::NoOptions;
/// // The key-value kind has no keys of its own beyond `mix` and `keys`.
/// fn options_of<W: Workload>() -> W::Options { W::Options::default() }
/// let _: NoOptions = options_of::<Kv>();
/// let schema = schemars::schema_for!(NoOptions);
/// assert!(schema.get("properties").is_none_or(|p| p.as_object().is_some_and(|o| o.is_empty())));
/// ```
// The schema's description: the first paragraph above, without the example.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema)]
#[schemars(
    description = "The options of a kind that has none beyond the common keys (the key-value kind's `mix` and `keys` are read with the common ones)."
)]
pub struct NoOptions {}

impl Workload for Kv {
    const KIND: &'static str = "kv";
    const LINEARIZABLE: bool = true;
    type Options = NoOptions;
    type Client = KvClient;

    fn foreign(script: &[ScriptOp]) -> Option<usize> {
        first_foreign::<KvDraw>(script)
    }

    fn clients(spec: &WorkloadSpec, _: &NoOptions, script: Option<&[ScriptOp]>) -> Vec<KvClient> {
        (0..spec.clients)
            .map(|i| match script {
                Some(script) => KvClient::scripted(
                    ClientId(i),
                    spec,
                    KvDraw::new(spec),
                    for_client::<KvDraw>(script, i).expect("`foreign` has checked the script"),
                ),
                None => KvClient::new(ClientId(i), spec),
            })
            .collect()
    }

    fn history(clients: &[KvClient]) -> History {
        history(clients)
    }

    fn into_history(clients: Vec<KvClient>) -> History {
        History {
            ops: crate::workload::closed_loop::into_operations(clients),
            ..history(&[])
        }
    }
}

/// The keys a `[workload]` of kind `W` may hold: the common ones, the key-value kind's own,
/// and the properties of `W::Options`.
pub(crate) fn keys_of(kind: &str, options: &schemars::Schema) -> Vec<String> {
    let mut keys: Vec<String> = COMMON_KEYS.iter().map(|k| k.to_string()).collect();
    if kind == Kv::KIND {
        keys.extend(KV_KEYS.iter().map(|k| k.to_string()));
    }
    if let Some(props) = options.get("properties").and_then(|p| p.as_object()) {
        keys.extend(props.keys().cloned());
    }
    keys
}
