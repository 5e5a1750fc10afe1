//! Snowflake ids (seed text 004, 「8.1 分布式数据库的ID生成策略」): generators on several
//! nodes, each making 63-bit ids from its own wall clock's millisecond, its node number and a
//! sequence within the millisecond ([`id`]). They share nothing and send each other nothing:
//! a generator's node number keeps its ids apart from the others', and its clock keeps its
//! own ids apart from each other — as long as the clock never goes back.
//!
//! The text names the weakness (「依赖机器时间，如果发生回拨会导致可能生成id重复」: a clock
//! stepped back can make duplicate ids) and the fix this folder models: wait until the clock
//! has caught up before making the next id (「等待时间追回在生成id」). `on_clock_behind`
//! chooses: `ignore` (the naive generator, which takes the clock as it reads and reuses
//! milliseconds), `wait` (hold the request until the clock reaches the last millisecond used,
//! refusing beyond `max_wait`) or `refuse` (Twitter's: fail the request at once).
//!
//! Waiting is not the whole fix. A generator that crashes forgets the last millisecond it used;
//! restarted while its clock is behind, it reuses milliseconds even when it waits. The safe
//! design writes the millisecond to disk before answering with its first id
//! (`persist_last_millis`, one write per millisecond rather than per id) and, restarted, starts
//! after it. A generator that does not persist must assume its clock never goes back across a
//! restart, which an NTP step breaks.
//!
//! A millisecond has room for 2^`sequence_bits` ids: when they are used up, `on_sequence_full`
//! waits for the next millisecond (Twitter's `tilNextMillis`) or, broken, wraps to 0.
//!
//! Clients ask for ids (`[workload] kind = "ids"`, [`workload`]); client i goes to generator i
//! mod n first. Facts ([`IdFact`]): `Issued` for each id, `ClockBehind` and `SequenceFull` at
//! the moments the lessons turn on. The invariants (`unique_ids`, `monotonic_ids`) are in
//! [`invariants`].

mod api;
mod config;
mod generator;
pub mod id;
pub mod invariants;
mod section;
pub mod workload;

use std::collections::VecDeque;

use serde::Serialize;

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, LocalNanos, NodeId, Protocol, ProtocolInvariant,
    Reply, SectionBuilder,
};

pub use api::{IdFact, IdOp, Ids, NewId};
pub use config::{OnClockBehind, OnSequenceFull, SnowflakeConfig};
pub use workload::{IdClient, IdDraw};

use generator::{Generator, Next};
use id::{Parts, millis_of, start_of};

/// Generators send each other nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Msg {}

/// A generator's one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// The clock should now have reached the millisecond held requests wait for.
    CaughtUp,
}

/// One id generator.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientId, ClientRequest, Effect, NodeId, Protocol, Reply, RequestId};
/// use sim::protocols::snowflake::{IdOp, Snowflake, SnowflakeConfig};
/// let mut b = Snowflake::new(NodeId(1), &[NodeId(0)], &SnowflakeConfig::default(), None);
/// let ask = ClientRequest { id: RequestId { client: ClientId(0), seq: 1 }, op: IdOp::NextId };
/// // At 2 ms into the run: millisecond 3,600,002 since the id epoch, node 1, sequence 0.
/// let fx = step_any(&mut b, 1, 2, 2_000_000, |n, ctx| n.on_request(ctx, ask));
/// let id = (3_600_002u64 << 22) | (1 << 12);
/// assert!(fx.iter().any(|e| matches!(e, Effect::Reply { reply: Reply::Ok(got), .. } if got.id == id)));
/// ```
#[derive(Debug)]
pub struct Snowflake {
    config: SnowflakeConfig,
    generator: Generator,
    /// The last millisecond written to disk.
    persisted: Option<u64>,
    /// Requests held until the clock catches up, in arrival order.
    held: VecDeque<ClientRequest<Ids>>,
    /// The `last` of the latest clock-behind sighting stated, so each is stated once.
    behind_stated: Option<u64>,
    /// The latest full millisecond stated.
    full_stated: Option<u64>,
}

/// Why a request cannot be answered yet: how long until it can, on the wall clock.
struct Hold(LocalNanos);

impl Snowflake {
    fn state_behind(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        millis: u64,
        last: u64,
        then: &'static str,
    ) {
        if self.behind_stated != Some(last) {
            self.behind_stated = Some(last);
            ctx.fact(IdFact::ClockBehind { millis, last, then });
        }
    }

    fn state_full(&mut self, ctx: &mut Ctx<'_, Self>, millis: u64, then: &'static str) {
        if self.full_stated != Some(millis) {
            self.full_stated = Some(millis);
            ctx.fact(IdFact::SequenceFull { millis, then });
        }
    }

    fn refuse(ctx: &mut Ctx<'_, Self>, request: &ClientRequest<Ids>, reason: String) {
        ctx.reply(request.id, Reply::Fail { reason });
    }

    /// Answers `request` now, or says how long it must be held.
    fn serve(&mut self, ctx: &mut Ctx<'_, Self>, request: &ClientRequest<Ids>) -> Result<(), Hold> {
        let wall = ctx.now();
        let Some(now) = millis_of(wall) else {
            Self::refuse(ctx, request, "the clock reads before the id epoch".into());
            return Ok(());
        };
        let layout = self.config.layout();
        let next = self.generator.next(
            now,
            layout.max_sequence(),
            self.config.on_clock_behind,
            self.config.on_sequence_full,
        );
        match next {
            Next::Id {
                millis,
                sequence,
                behind_of,
                wrapped,
            } => {
                if let Some(last) = behind_of {
                    self.state_behind(ctx, now, last, "reuse");
                }
                if wrapped {
                    self.state_full(ctx, millis, "wrap");
                }
                if self.config.persist_last_millis && self.persisted < Some(millis) {
                    self.persisted = Some(millis);
                    ctx.persist(Some(millis));
                }
                let id = layout.compose(Parts {
                    millis,
                    node: u64::from(ctx.id().0),
                    sequence,
                });
                ctx.fact(IdFact::Issued {
                    id,
                    millis,
                    sequence,
                    request: request.id,
                });
                ctx.reply(request.id, Reply::Ok(NewId { id }));
                Ok(())
            }
            Next::Behind { last } => {
                let wait = start_of(last) - wall;
                let too_long = wait > self.config.max_wait.as_local();
                if self.config.on_clock_behind == OnClockBehind::Refuse || too_long {
                    self.state_behind(ctx, now, last, "refuse");
                    let reason = format!(
                        "the clock is {} ms behind the last millisecond used",
                        last - now
                    );
                    Self::refuse(ctx, request, reason);
                    return Ok(());
                }
                self.state_behind(ctx, now, last, "wait");
                Err(Hold(wait))
            }
            Next::Full => {
                let last = self.generator.last;
                self.state_full(ctx, last, "wait");
                Err(Hold(start_of(last + 1) - wall))
            }
        }
    }

    /// Answers held requests in order until one must wait again.
    fn drain(&mut self, ctx: &mut Ctx<'_, Self>) {
        while let Some(request) = self.held.pop_front() {
            if let Err(Hold(wait)) = self.serve(ctx, &request) {
                self.held.push_front(request);
                // The timer runs on the monotonic clock, which drifts with the wall clock but
                // does not step: a step forward meanwhile wakes it late, never wrongly.
                ctx.set_timer(wait.max(1) as u64, Timer::CaughtUp);
                return;
            }
        }
    }
}

impl Protocol for Snowflake {
    const NAME: &'static str = "snowflake";
    const SUMMARY: &'static str = "Snowflake id generators: wall-clock millisecond | node | sequence; \
         a clock stepped back duplicates ids unless the generator waits";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["unique_ids", "monotonic_ids"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = SnowflakeConfig;
    /// The last millisecond used, written before its first id is answered
    /// (`persist_last_millis`).
    type Durable = Option<u64>;
    type Api = Ids;
    type Fact = IdFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        invariants::catalogue()
    }

    fn report_sections(_nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(section::IdsSection::default())]
    }

    fn validate(config: &SnowflakeConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config.validate(cluster_size)
    }

    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        let g = self.generator;
        let mut lines = vec![
            format!("last millisecond   {}", g.last),
            format!("next sequence      {}", g.next_sequence),
        ];
        if let Some(p) = self.persisted {
            lines.push(format!("on disk            {p}"));
        }
        lines.push(format!("held requests      {}", self.held.len()));
        lines
    }

    fn new(
        _id: NodeId,
        _peers: &[NodeId],
        config: &SnowflakeConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        let persisted = disk.and_then(|d| d.state);
        Snowflake {
            config: config.clone(),
            generator: Generator::after(persisted),
            persisted,
            held: VecDeque::new(),
            behind_stated: None,
            full_stated: None,
        }
    }

    fn on_start(&mut self, _ctx: &mut Ctx<'_, Self>) {}

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, msg: Msg) {
        match msg {}
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, Timer::CaughtUp: Timer) {
        self.drain(ctx);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest<Ids>) {
        // Behind a held request, a new one waits its turn: ids keep their order.
        self.held.push_back(request);
        if self.held.len() == 1 {
            self.drain(ctx);
        }
    }
}

#[cfg(test)]
mod tests;
