//! The service workload (`[workload] kind = "service"`): closed-loop clients of the front
//! service (node 0), each request `remote` (it needs the downstream) with probability `remote`,
//! else `local`; and, when `burst_clients` is set, that many more clients that only run from
//! `burst_at` for `burst_for` — the burst of traffic a rate limiter is for.
//!
//! A closed-loop client has one request out at a time, but it gives up after `timeout` and
//! asks again while the service still holds the old request: a service that takes everything
//! in keeps working for clients that have left, and its queue grows as long as requests come
//! faster than it serves them. Clients of this kind never resend a request (`retry` is ignored):
//! a resend would only queue the same request twice.
//!
//! The history records a request as a read of the key `local` or `remote`.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::node::history::{Call, Output};
use crate::node::{ClientId, ConfigError, Duration, Rng};
use crate::workload::closed_loop::{ClosedLoop, Draw, into_operations, operations};
use crate::workload::history::{History, TimeUnit};
use crate::workload::script::{first_foreign, for_client};
use crate::workload::{ScriptOp, Workload, WorkloadSpec};

use super::api::{Served, Service, ServiceOp};

/// The service kind's own `[workload]` keys.
///
/// ```
/// use sim::protocols::overload::ServiceOptions;
/// let o: ServiceOptions = toml::from_str("clients = 2\nburst_clients = 40\nburst_at = \"2s\"").unwrap();
/// assert_eq!((o.burst_clients, o.remote), (Some(40), None));
/// ```
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[schemars(description = "The service kind's own `[workload]` keys.")]
pub struct ServiceOptions {
    /// The share of requests that need the downstream service (node 1), from 0 to 1.
    /// Default 0.
    pub remote: Option<f64>,
    /// Clients that join only for the burst, beside `clients`. Default 0: no burst.
    pub burst_clients: Option<u32>,
    /// When the burst clients begin. Default "1s".
    pub burst_at: Option<Duration>,
    /// How long they keep starting requests. Default "1s".
    pub burst_for: Option<Duration>,
}

impl ServiceOptions {
    fn remote(&self) -> f64 {
        self.remote.unwrap_or(0.0)
    }
    fn burst_at(&self) -> Duration {
        self.burst_at.unwrap_or(Duration::from_millis(1_000))
    }
    fn burst_for(&self) -> Duration {
        self.burst_for.unwrap_or(Duration::from_millis(1_000))
    }
}

/// What a service client draws: `remote` with probability `share`, else `local`.
#[derive(Clone, Copy, Debug)]
pub struct ServiceDraw {
    share: f64,
}

/// A virtual service client.
pub type ServiceClient = ClosedLoop<ServiceDraw>;

impl Draw for ServiceDraw {
    type Api = Service;

    fn draw(&mut self, rng: &mut Rng, _: ClientId, _: u64) -> ServiceOp {
        if rng.unit() < self.share {
            ServiceOp::Remote
        } else {
            ServiceOp::Local
        }
    }

    fn call(op: &ServiceOp) -> (Option<String>, Call) {
        (Some(op.name().to_string()), Call::Read)
    }

    fn output(_: &Served) -> Output {
        Output::Value(None)
    }

    fn scripted(key: Option<&str>, call: &Call) -> Option<ServiceOp> {
        match (key, call) {
            (Some("local"), Call::Read) => Some(ServiceOp::Local),
            (Some("remote"), Call::Read) => Some(ServiceOp::Remote),
            _ => None,
        }
    }

    /// Every client calls the front service.
    fn home(&self, _: ClientId, _: u32) -> Option<u32> {
        Some(0)
    }
}

/// The pace of the steady clients and of the burst clients: the burst ones start at `burst_at`
/// and stop `burst_for` later; neither resends (the timeout ends an attempt first).
fn paces(spec: &WorkloadSpec, options: &ServiceOptions) -> (WorkloadSpec, WorkloadSpec) {
    let steady = WorkloadSpec {
        retry: spec.timeout.saturating_add(1),
        ..spec.clone()
    };
    let start = options.burst_at().nanos();
    let burst = WorkloadSpec {
        start,
        stop: start.saturating_add(options.burst_for().nanos()),
        ..steady.clone()
    };
    (steady, burst)
}

impl Workload for Service {
    const KIND: &'static str = "service";
    type Options = ServiceOptions;
    type Client = ServiceClient;

    fn validate(
        options: &ServiceOptions,
        _: &WorkloadSpec,
        nodes: usize,
    ) -> Result<(), ConfigError> {
        let share = options.remote();
        if !(0.0..=1.0).contains(&share) {
            return Err(ConfigError::new(
                "remote",
                format!("a share from 0 to 1, e.g. 0.5; found {share}"),
            ));
        }
        if share > 0.0 && nodes < 2 {
            return Err(ConfigError::new(
                "remote",
                "remote requests need the downstream service: the cluster needs a second node",
            ));
        }
        if options.burst_clients.unwrap_or(0) > 0 && options.burst_for().nanos() == 0 {
            return Err(ConfigError::new(
                "burst_for",
                "must be more than zero: how long the burst lasts",
            ));
        }
        Ok(())
    }

    fn foreign(script: &[ScriptOp]) -> Option<usize> {
        first_foreign::<ServiceDraw>(script)
    }

    fn clients(
        spec: &WorkloadSpec,
        options: &ServiceOptions,
        script: Option<&[ScriptOp]>,
    ) -> Vec<ServiceClient> {
        let draw = ServiceDraw {
            share: options.remote(),
        };
        let (steady, burst) = paces(spec, options);
        let extra = options.burst_clients.unwrap_or(0);
        (0..spec.clients + extra)
            .map(|i| match script {
                Some(script) => ClosedLoop::scripted(
                    ClientId(i),
                    &steady,
                    draw,
                    for_client::<ServiceDraw>(script, i).expect("`foreign` has checked the script"),
                ),
                None if i < spec.clients => ClosedLoop::drawing(ClientId(i), &steady, draw),
                None => ClosedLoop::drawing(ClientId(i), &burst, draw),
            })
            .collect()
    }

    fn history(clients: &[ServiceClient]) -> History {
        History {
            ops: operations(clients),
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }

    fn into_history(clients: Vec<ServiceClient>) -> History {
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

    const MS: u64 = 1_000_000;

    fn spec() -> WorkloadSpec {
        WorkloadSpec {
            clients: 2,
            think_mean: 50 * MS,
            mix: crate::workload::Mix::default(),
            keys: 1,
            timeout: 500 * MS,
            retry: 100 * MS,
            start: 0,
            stop: 10_000 * MS,
        }
    }

    #[test]
    fn burst_clients_join_only_for_the_burst_and_nobody_resends() {
        let options = ServiceOptions {
            burst_clients: Some(3),
            burst_at: Some(Duration::from_millis(2_000)),
            burst_for: Some(Duration::from_millis(500)),
            ..ServiceOptions::default()
        };
        assert_eq!(Service::clients(&spec(), &options, None).len(), 5);
        let (steady, burst) = paces(&spec(), &options);
        assert_eq!((steady.start, steady.stop), (0, 10_000 * MS));
        assert_eq!((burst.start, burst.stop), (2_000 * MS, 2_500 * MS));
        assert!(steady.retry > steady.timeout && burst.retry > burst.timeout);
    }

    #[test]
    fn the_remote_share_is_drawn_and_checked() {
        let mut d = ServiceDraw { share: 0.5 };
        let mut rng = Rng::derive(1, Stream::Client(0));
        let remote = (0..1_000)
            .filter(|&s| d.draw(&mut rng, ClientId(0), s) == ServiceOp::Remote)
            .count();
        assert!((430..570).contains(&remote), "{remote}");
        let bad = ServiceOptions {
            remote: Some(0.5),
            ..ServiceOptions::default()
        };
        assert_eq!(
            Service::validate(&bad, &spec(), 1).unwrap_err().field,
            "remote"
        );
        assert!(Service::validate(&bad, &spec(), 2).is_ok());
    }
}
