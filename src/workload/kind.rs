//! Which clients exercise a client interface, and the history they leave.
//!
//! A protocol names the interface it serves (`Protocol::Api`); the run builds that interface's
//! clients from the scenario's `[workload]` through [`Workload`], so the clients, and the
//! history the checkers judge, follow the protocol instead of being wired in. The key-value
//! interface's clients are [`KvClient`]s.

use crate::node::{Client, ClientApi, ClientId, Kv};

use super::client::{KvClient, history};
use super::generator::WorkloadSpec;
use super::history::History;
use super::script::{ScriptOp, for_client};

/// A client interface with clients to exercise it.
pub trait Workload: ClientApi {
    /// The virtual client that speaks this interface.
    type Client: Client<Api = Self>;

    /// The clients of a scenario's `[workload]`, each following its part of `script` when the
    /// scenario scripts them.
    fn clients(spec: &WorkloadSpec, script: Option<&[ScriptOp]>) -> Vec<Self::Client>;

    /// What the clients saw, every operation in invocation order, for the history checkers.
    fn history(clients: &[Self::Client]) -> History;
}

impl Workload for Kv {
    type Client = KvClient;

    fn clients(spec: &WorkloadSpec, script: Option<&[ScriptOp]>) -> Vec<KvClient> {
        (0..spec.clients)
            .map(|i| match script {
                Some(script) => KvClient::scripted(ClientId(i), spec, for_client(script, i)),
                None => KvClient::new(ClientId(i), spec),
            })
            .collect()
    }

    fn history(clients: &[KvClient]) -> History {
        history(clients)
    }
}
