//! The id workload (`[workload] kind = "ids"`): closed-loop clients that ask for ids, client i
//! at generator i mod n first (a service beside each generator, as Snowflake is deployed).
//!
//! The history records each request as a read of the key `next_id` that returned the id: no
//! history checker judges this kind (`unique_ids` and `monotonic_ids` read the generators'
//! facts), the pages only show it.

use crate::node::history::{Call, Output, Value};
use crate::node::{ClientId, ConfigError, Rng};
use crate::workload::closed_loop::{ClosedLoop, Draw, into_operations, operations};
use crate::workload::history::{History, TimeUnit};
use crate::workload::kind::NoOptions;
use crate::workload::script::{first_foreign, for_client};
use crate::workload::{ScriptOp, Workload, WorkloadSpec};

use super::api::{IdOp, Ids, NewId};

/// The key an id request is recorded under in the history.
const KEY: &str = "next_id";

/// What an id client draws: always the next id.
///
/// ```
/// use sim::node::{ClientId, Rng, Stream};
/// use sim::protocols::snowflake::{IdDraw, IdOp};
/// use sim::workload::closed_loop::Draw;
/// assert_eq!(IdDraw.draw(&mut Rng::derive(1, Stream::Client(0)), ClientId(0), 1), IdOp::NextId);
/// assert_eq!(IdDraw.home(ClientId(4), 3), Some(1), "client 4 beside the second generator");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct IdDraw;

/// A virtual id client.
pub type IdClient = ClosedLoop<IdDraw>;

impl Draw for IdDraw {
    type Api = Ids;

    fn draw(&mut self, _: &mut Rng, _: ClientId, _: u64) -> IdOp {
        IdOp::NextId
    }

    fn call(_: &IdOp) -> (Option<String>, Call) {
        (Some(KEY.to_string()), Call::Read)
    }

    fn output(new: &NewId) -> Output {
        // Ids use 63 bits: they fit an i64.
        Output::Value(Some(Value::Int(new.id as i64)))
    }

    fn scripted(key: Option<&str>, call: &Call) -> Option<IdOp> {
        matches!((key, call), (Some(KEY), Call::Read)).then_some(IdOp::NextId)
    }

    fn home(&self, client: ClientId, nodes: u32) -> Option<u32> {
        Some(client.0 % nodes.max(1))
    }
}

impl Workload for Ids {
    const KIND: &'static str = "ids";
    type Options = NoOptions;
    type Client = IdClient;

    fn validate(_: &NoOptions, spec: &WorkloadSpec, _: usize) -> Result<(), ConfigError> {
        if spec.clients == 0 {
            return Err(ConfigError::new(
                "clients",
                "ids are made only when clients ask: at least 1 client",
            ));
        }
        Ok(())
    }

    fn foreign(script: &[ScriptOp]) -> Option<usize> {
        first_foreign::<IdDraw>(script)
    }

    fn clients(spec: &WorkloadSpec, _: &NoOptions, script: Option<&[ScriptOp]>) -> Vec<IdClient> {
        (0..spec.clients)
            .map(|i| match script {
                Some(script) => ClosedLoop::scripted(
                    ClientId(i),
                    spec,
                    IdDraw,
                    for_client::<IdDraw>(script, i).expect("`foreign` has checked the script"),
                ),
                None => ClosedLoop::drawing(ClientId(i), spec, IdDraw),
            })
            .collect()
    }

    fn history(clients: &[IdClient]) -> History {
        History {
            ops: operations(clients),
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }

    fn into_history(clients: Vec<IdClient>) -> History {
        History {
            ops: into_operations(clients),
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }
}
