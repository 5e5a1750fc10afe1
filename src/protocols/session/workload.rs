//! The session workload (`[workload] kind = "session"`): closed-loop clients that read and
//! write a few keys, each routed as its `reads` option says.
//!
//! Each operation is a read with probability `read_share`, otherwise a write of a value unique
//! to the operation (`c<client>-<seq>`), on a key drawn uniformly from `keys` keys (`x` when
//! there is one, else `x0`, `x1`, …). Where an operation goes:
//!
//! - `any_replica`: to a node drawn for each operation, as a load balancer without sessions
//!   spreads requests (a write sent to a replica is forwarded to the primary);
//! - `sticky`: every operation of client i to node i mod n, and after a failure to whichever
//!   node answered (a sticky session, re-pinned when its server is gone);
//! - `version_token`: like `any_replica`, but each read carries the highest version the client
//!   has read or written of its key, and a replica behind it waits (then redirects).

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::history::{Call, Output, Value};
use crate::node::{ClientId, Completion, ConfigError, Rng};
use crate::workload::closed_loop::{ClosedLoop, Draw, into_operations, operations};
use crate::workload::history::{History, TimeUnit};
use crate::workload::script::{first_foreign, for_client};
use crate::workload::{ScriptOp, Workload, WorkloadSpec};

use super::api::{Session, SessionOp, SessionOutput};

const DEFAULT_READ_SHARE: f64 = 0.5;

/// How a session client routes its operations.
///
/// ```
/// use sim::protocols::session::Reads;
/// let sticky: Reads = serde_json::from_str("\"sticky\"").unwrap();
/// assert_eq!(sticky, Reads::Sticky);
/// assert_eq!(Reads::default(), Reads::AnyReplica);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(description = "How a session client routes its operations.")]
pub enum Reads {
    /// Each operation to a node drawn from the client's stream: no session at all.
    #[default]
    AnyReplica,
    /// Client i to node i mod n, and after a failure to the node that answered it.
    Sticky,
    /// Any node, with the client's version token on each read.
    VersionToken,
}

/// The session kind's own `[workload]` keys.
///
/// ```
/// use sim::protocols::session::{Reads, SessionOptions};
/// let options: SessionOptions = toml::from_str("clients = 2\nreads = \"version_token\"").unwrap();
/// assert_eq!((options.reads, options.keys), (Some(Reads::VersionToken), None));
/// ```
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[schemars(description = "The session kind's own `[workload]` keys.")]
pub struct SessionOptions {
    /// "any_replica" (default): each operation to a node drawn for it; "sticky": client i to
    /// node i mod n, re-pinned after a failure; "version_token": any node, each read carrying
    /// the highest version the client has seen or written of its key.
    pub reads: Option<Reads>,
    /// The share of operations that are reads, from 0 to 1. Default 0.5.
    pub read_share: Option<f64>,
    /// How many keys clients read and write: `x` when 1, else `x0`, `x1`, …; at least 1.
    /// Default 1.
    pub keys: Option<u32>,
}

impl SessionOptions {
    fn keys(&self) -> u32 {
        self.keys.unwrap_or(1)
    }
    fn read_share(&self) -> f64 {
        self.read_share.unwrap_or(DEFAULT_READ_SHARE)
    }
}

fn key_name(i: u64, n: u32) -> Arc<str> {
    if n == 1 {
        "x".into()
    } else {
        format!("x{i}").into()
    }
}

/// What a session client draws, and its token: per key, the highest version it has read or
/// written.
///
/// ```
/// use sim::node::Completion;
/// use sim::protocols::session::{Reads, SessionDraw, SessionOp, SessionOptions, SessionOutput};
/// use sim::workload::closed_loop::Draw;
/// let mut draw = SessionDraw::new(&SessionOptions { reads: Some(Reads::VersionToken), ..Default::default() });
/// let write = SessionOp::Write { key: "x".into(), value: "c0-1".into() };
/// draw.learn(&write, &Completion::Ok(SessionOutput::Written { version: 4 }));
/// let mut read = SessionOp::Read { key: "x".into(), after: 0 };
/// draw.prepare(&mut read);
/// assert_eq!(read, SessionOp::Read { key: "x".into(), after: 4 });
/// ```
#[derive(Clone, Debug)]
pub struct SessionDraw {
    reads: Reads,
    read_share: f64,
    keys: u32,
    token: BTreeMap<Arc<str>, u64>,
}

impl SessionDraw {
    /// Draws as `options` say.
    pub fn new(options: &SessionOptions) -> Self {
        SessionDraw {
            reads: options.reads.unwrap_or_default(),
            read_share: options.read_share(),
            keys: options.keys(),
            token: BTreeMap::new(),
        }
    }

    /// The token a read of `key` carries: the highest version seen, with version tokens; else 0.
    fn after(&self, key: &str) -> u64 {
        match self.reads {
            Reads::VersionToken => self.token.get(key).copied().unwrap_or(0),
            _ => 0,
        }
    }
}

/// A virtual session client.
pub type SessionClient = ClosedLoop<SessionDraw>;

impl Draw for SessionDraw {
    type Api = Session;

    fn draw(&mut self, rng: &mut Rng, client: ClientId, seq: u64) -> SessionOp {
        let read = rng.chance(self.read_share);
        let key = key_name(rng.below(u64::from(self.keys)), self.keys);
        if read {
            let after = self.after(&key);
            return SessionOp::Read { key, after };
        }
        SessionOp::Write {
            key,
            value: format!("c{}-{seq}", client.0).into(),
        }
    }

    /// Every version read or written joins the token (kept in every mode; only
    /// `version_token` sends it).
    fn learn(&mut self, op: &SessionOp, completion: &Completion<Session>) {
        if let Completion::Ok(out) = completion {
            let t = self.token.entry(op.key().clone()).or_default();
            *t = (*t).max(out.version());
        }
    }

    fn call(op: &SessionOp) -> (Option<String>, Call) {
        let call = match op {
            SessionOp::Read { .. } => Call::Read,
            SessionOp::Write { value, .. } => Call::Write(Value::Str(value.to_string())),
        };
        (Some(op.key().to_string()), call)
    }

    fn output(output: &SessionOutput) -> Output {
        match output {
            SessionOutput::Read { value, .. } => {
                Output::Value(value.as_ref().map(|v| Value::Str(v.to_string())))
            }
            SessionOutput::Written { .. } => Output::Done,
        }
    }

    fn scripted(key: Option<&str>, call: &Call) -> Option<SessionOp> {
        let key: Arc<str> = key?.into();
        match call {
            Call::Read => Some(SessionOp::Read { key, after: 0 }),
            Call::Write(Value::Str(value)) => Some(SessionOp::Write {
                key,
                value: value.as_str().into(),
            }),
            _ => None,
        }
    }

    fn prepare(&self, op: &mut SessionOp) {
        if let SessionOp::Read { key, after } = op {
            *after = self.after(key);
        }
    }

    fn home(&self, client: ClientId, nodes: u32) -> Option<u32> {
        (self.reads == Reads::Sticky).then(|| client.0 % nodes.max(1))
    }

    fn route(&self, rng: &mut Rng, _op: &SessionOp, nodes: u32) -> Option<u32> {
        match self.reads {
            Reads::Sticky => None,
            Reads::AnyReplica | Reads::VersionToken => Some(rng.below(u64::from(nodes)) as u32),
        }
    }
}

impl Workload for Session {
    const KIND: &'static str = "session";
    type Options = SessionOptions;
    type Client = SessionClient;

    fn validate(options: &SessionOptions, _: &WorkloadSpec, _: usize) -> Result<(), ConfigError> {
        if options.keys() == 0 {
            return Err(ConfigError::new("keys", "at least 1 key to read and write"));
        }
        let share = options.read_share();
        if !(0.0..=1.0).contains(&share) {
            return Err(ConfigError::new(
                "read_share",
                format!("a share from 0 to 1, e.g. 0.5; found {share}"),
            ));
        }
        Ok(())
    }

    fn foreign(script: &[ScriptOp]) -> Option<usize> {
        first_foreign::<SessionDraw>(script)
    }

    fn clients(
        spec: &WorkloadSpec,
        options: &SessionOptions,
        script: Option<&[ScriptOp]>,
    ) -> Vec<SessionClient> {
        (0..spec.clients)
            .map(|i| {
                let draw = SessionDraw::new(options);
                match script {
                    Some(script) => ClosedLoop::scripted(
                        ClientId(i),
                        spec,
                        draw,
                        for_client::<SessionDraw>(script, i)
                            .expect("`foreign` has checked the script"),
                    ),
                    None => ClosedLoop::drawing(ClientId(i), spec, draw),
                }
            })
            .collect()
    }

    /// Judged by the session invariants (which read the primary's versions), not as a
    /// linearizable register: reads at replicas are not meant to be.
    fn history(clients: &[SessionClient]) -> History {
        History {
            ops: operations(clients),
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }

    fn into_history(clients: Vec<SessionClient>) -> History {
        History {
            ops: into_operations(clients),
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Stream;

    fn draw(reads: Reads) -> SessionDraw {
        SessionDraw::new(&SessionOptions {
            reads: Some(reads),
            ..SessionOptions::default()
        })
    }

    #[test]
    fn only_version_tokens_send_the_token() {
        for (reads, sent) in [
            (Reads::AnyReplica, 0),
            (Reads::Sticky, 0),
            (Reads::VersionToken, 5),
        ] {
            let mut d = draw(reads);
            let read = SessionOp::Read {
                key: "x".into(),
                after: 0,
            };
            let out = SessionOutput::Read {
                value: Some("c1-2".into()),
                version: 5,
            };
            d.learn(&read, &Completion::Ok(out));
            // An older write's answer does not lower it.
            let write = SessionOp::Write {
                key: "x".into(),
                value: "v".into(),
            };
            d.learn(
                &write,
                &Completion::Ok(SessionOutput::Written { version: 3 }),
            );
            let mut next = read.clone();
            d.prepare(&mut next);
            assert_eq!(
                next,
                SessionOp::Read {
                    key: "x".into(),
                    after: sent
                },
                "{reads:?}"
            );
        }
    }

    #[test]
    fn sticky_clients_have_a_home_and_others_draw_a_node_per_operation() {
        let op = SessionOp::Read {
            key: "x".into(),
            after: 0,
        };
        let mut rng = Rng::derive(1, Stream::Client(0));
        assert_eq!(draw(Reads::Sticky).home(ClientId(4), 3), Some(1));
        assert_eq!(draw(Reads::Sticky).route(&mut rng, &op, 3), None);
        let any = draw(Reads::AnyReplica);
        assert_eq!(any.home(ClientId(4), 3), None);
        let nodes: std::collections::BTreeSet<u32> = (0..50)
            .map(|_| any.route(&mut rng, &op, 3).unwrap())
            .collect();
        assert_eq!(nodes.into_iter().collect::<Vec<_>>(), [0, 1, 2]);
    }
}
