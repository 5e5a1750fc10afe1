//! The service's client interface and the facts its nodes state.

use serde::Serialize;

use crate::node::{ClientApi, RequestId};

/// The service interface: [`ServiceOp`] in, [`Served`] out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {}

impl ClientApi for Service {
    type Op = ServiceOp;
    type Output = Served;
}

/// What a client asks the service.
///
/// ```
/// use sim::protocols::overload::ServiceOp;
/// assert_eq!(serde_json::to_string(&ServiceOp::Remote).unwrap(), r#"{"f":"remote"}"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "f")]
pub enum ServiceOp {
    /// Work the front service does alone: it needs no other service.
    Local,
    /// Work that needs the downstream service: the front service calls it and waits.
    Remote,
}

impl ServiceOp {
    /// `local` or `remote`, as facts and the history name it.
    pub fn name(self) -> &'static str {
        match self {
            ServiceOp::Local => "local",
            ServiceOp::Remote => "remote",
        }
    }
}

/// What a request that was served returned: nothing but the fact that it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Served {}

/// A circuit breaker's state, by the usual names (seed text 002 swaps OPEN and CLOSED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum BreakerState {
    /// Calls pass; failures are counted.
    Closed,
    /// Calls are refused at once, without reaching the downstream, until the cool-down ends.
    Open,
    /// The cool-down is over: one probe call passes; its outcome closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// `CLOSED`, `OPEN`, `HALF-OPEN`: how the lessons and the trace write them.
    ///
    /// ```
    /// use sim::protocols::overload::BreakerState;
    /// assert_eq!(serde_json::to_value(BreakerState::HalfOpen).unwrap(), BreakerState::HalfOpen.upper());
    /// ```
    pub fn upper(self) -> &'static str {
        match self {
            BreakerState::Closed => "CLOSED",
            BreakerState::Open => "OPEN",
            BreakerState::HalfOpen => "HALF-OPEN",
        }
    }
}

/// What a service node states, for the invariants, the report section and the story.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::overload::OverloadFact;
/// let r = RequestId { client: ClientId(2), seq: 5 };
/// let fact = OverloadFact::Rejected { request: r, op: "local", why: "rate_limited" };
/// assert_eq!(serde_json::to_value(&fact).unwrap()["rejected"]["why"], "rate_limited");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverloadFact {
    /// The node took a client's request in: it waits in the queue or a worker has it.
    Accepted {
        /// The request.
        request: RequestId,
        /// `local` or `remote`.
        op: &'static str,
        /// Requests waiting in the queue once it joined (itself included, 0 if a worker took it
        /// at once).
        queued: u32,
    },
    /// The node refused a client's request at once, without taking it in.
    Rejected {
        /// The request.
        request: RequestId,
        /// `local` or `remote`.
        op: &'static str,
        /// `rate_limited` (the token bucket was empty) or `queue_full`.
        why: &'static str,
    },
    /// The node answered a request it had accepted.
    Answered {
        /// The request.
        request: RequestId,
        /// `local` or `remote`.
        op: &'static str,
        /// Whether it was served; `false`: it failed, as `why` says.
        ok: bool,
        /// Why it failed: `circuit_open` (refused by the breaker), `downstream_timeout`,
        /// `downstream_busy`; empty (and left out of the trace) when it was served.
        #[serde(skip_serializing_if = "str::is_empty")]
        why: &'static str,
    },
    /// The node's circuit breaker changed state.
    Breaker {
        /// The state it left.
        from: BreakerState,
        /// The state it entered.
        to: BreakerState,
        /// Why, in words.
        because: String,
    },
}
