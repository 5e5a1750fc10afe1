//! The id service's client interface and the facts its generators state.

use serde::Serialize;

use crate::node::{ClientApi, RequestId};

/// What an id client asks: the next id.
///
/// ```
/// use sim::protocols::snowflake::IdOp;
/// assert_eq!(serde_json::to_string(&IdOp::NextId).unwrap(), r#"{"f":"next_id"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "f")]
pub enum IdOp {
    /// A new id, never handed out before by any generator.
    NextId,
}

/// What a `next_id` that took effect returned: the id.
///
/// ```
/// use sim::node::Reply;
/// use sim::protocols::snowflake::{Ids, NewId};
/// // A reply is tagged by its kind in the trace, so the id travels as a field, not a bare number.
/// let reply = serde_json::to_value(Reply::<Ids>::Ok(NewId { id: 7 })).unwrap();
/// assert_eq!((reply["reply"].as_str(), reply["id"].as_u64()), (Some("ok"), Some(7)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct NewId {
    /// The id.
    pub id: u64,
}

/// The id interface: [`IdOp`] in, [`NewId`] out.
///
/// ```
/// use sim::node::{ClientId, ClientRequest, Reply, RequestId};
/// use sim::protocols::snowflake::{IdOp, Ids, NewId};
/// let ask = ClientRequest::<Ids> { id: RequestId { client: ClientId(0), seq: 1 }, op: IdOp::NextId };
/// let answer: Reply<Ids> = Reply::Ok(NewId { id: 4_194_305 });
/// assert_eq!((ask.op, answer), (IdOp::NextId, Reply::Ok(NewId { id: 4_194_305 })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ids {}

impl ClientApi for Ids {
    type Op = IdOp;
    type Output = NewId;
}

/// What a generator states, for `unique_ids` and `monotonic_ids` and the story.
///
/// ```
/// use sim::node::{ClientId, RequestId};
/// use sim::protocols::snowflake::IdFact;
/// let issued = IdFact::Issued { id: 77, millis: 3_600_000, sequence: 0, request: RequestId { client: ClientId(1), seq: 2 } };
/// assert_eq!(serde_json::to_value(&issued).unwrap()["issued"]["id"], 77);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdFact {
    /// The generator answered `request` with `id`, made of its millisecond and sequence.
    Issued {
        /// The id.
        id: u64,
        /// The millisecond it carries (since the id epoch).
        millis: u64,
        /// Its sequence within the millisecond.
        sequence: u64,
        /// The client's request it answered.
        request: RequestId,
    },
    /// The generator's wall clock read `millis`, before `last`, the millisecond it last made
    /// ids in (or, after a restart, the one it had written to disk): stated once per `last`.
    ClockBehind {
        /// What the clock read, in milliseconds since the id epoch.
        millis: u64,
        /// The last millisecond used.
        last: u64,
        /// What it did: `reuse` (the naive generator), `wait` or `refuse`.
        then: &'static str,
    },
    /// Millisecond `millis` has no sequence number left: stated once per millisecond.
    SequenceFull {
        /// The millisecond.
        millis: u64,
        /// What it did: `wrap` (the broken generator) or `wait`.
        then: &'static str,
    },
}
