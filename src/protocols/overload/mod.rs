//! Overload protection (seed text 002, 「容错机制」: 限流 and 熔断; 「延伸1：令牌桶限流算法」,
//! 「延伸2：断路器模式熔断」; seed text 003, 「2.4 微服务架构容错设计原则」): a service of bounded
//! capacity, a token bucket in front of it, and a circuit breaker on its calls to a service it
//! depends on.
//!
//! Node 0 is the front service clients call; node 1, when the cluster has one, the downstream
//! service it depends on. Every node has `workers` threads and a FIFO queue of `queue` places;
//! a request beyond them is refused at once (`queue_full`). A worker spends `service_time` on a
//! `local` request (or, on the downstream, on a call); on a `remote` one the front sends a
//! `Call` to the downstream and its worker waits for the `Answer`, failing the request after
//! `call_timeout`. A worker that waits does nothing else: that is how a slow downstream ties up
//! the front's threads, and then its queue, and then its clients' unrelated `local` requests —
//! the cascade a circuit breaker (`breaker.rs`) stops by refusing calls at once while it is OPEN.
//!
//! With `limiter = "token_bucket"` the front takes a client's request in only if it can take a
//! token from a bucket refilled at `bucket_rate` (`bucket.rs`); without one, a burst of clients
//! ([`workload`]) fills the queue faster than the workers empty it and queueing latency grows
//! for as long as the burst lasts.
//!
//! Facts ([`OverloadFact`]): `Accepted`, `Rejected` and `Answered` for each client request,
//! `Breaker` at each state change. The invariants (`latency_within D`, `no_cascade D`) are in
//! [`invariants`]; the `overload` report section gives latency percentiles and refusal counts.

mod api;
mod breaker;
mod bucket;
mod config;
pub mod invariants;
mod section;
#[cfg(test)]
mod tests;
pub mod workload;

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

use crate::node::{
    ClientRequest, ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, Reply, RequestId,
    SectionBuilder,
};

pub use api::{BreakerState, OverloadFact, Served, Service, ServiceOp};
pub use config::{BreakerMode, Limiter, OverloadConfig};
pub use workload::{ServiceClient, ServiceDraw, ServiceOptions};

use breaker::{Breaker, Permit, Transition};
use bucket::TokenBucket;

/// What the front and the downstream say to each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Msg {
    /// The front asks the downstream for the part of `request` it needs.
    Call {
        /// The front's number for this call.
        call: u64,
        /// The client's request it serves.
        request: RequestId,
    },
    /// The downstream's answer: `ok`, or `false` when its queue was full.
    Answer {
        /// The call answered.
        call: u64,
        /// Served, or refused as busy.
        ok: bool,
    },
}

/// A node's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Timer {
    /// Worker `n` has finished its request.
    Done(u32),
    /// The front stops waiting for the answer to call `n`.
    CallTimeout(u64),
}

/// Work waiting for, or held by, a worker.
#[derive(Clone, Debug)]
enum Job {
    /// A client's request, at the front.
    Client(ClientRequest<Service>),
    /// A call from the front, at the downstream.
    Call { from: NodeId, call: u64 },
}

/// What a worker is doing.
#[derive(Clone, Debug)]
enum Work {
    /// Serving a job: `Timer::Done` ends it.
    Serving(Job),
    /// Waiting for the downstream's answer to a call on behalf of `request`.
    Waiting { request: RequestId, probe: bool },
}

/// One service node: the front (node 0) or the downstream (node 1).
#[derive(Debug)]
pub struct Overload {
    config: OverloadConfig,
    /// The node that serves clients; the downstream is the other one.
    front: bool,
    downstream: Option<NodeId>,
    workers: Vec<Option<Work>>,
    queue: VecDeque<Job>,
    bucket: Option<TokenBucket>,
    breaker: Option<Breaker>,
    next_call: u64,
    /// Calls out to the downstream: which worker waits on each.
    calls: BTreeMap<u64, u32>,
}

impl Overload {
    fn free_worker(&self) -> Option<u32> {
        self.workers
            .iter()
            .position(Option::is_none)
            .map(|w| w as u32)
    }

    fn busy(&self) -> usize {
        self.workers.iter().filter(|w| w.is_some()).count()
    }

    fn state(ctx: &mut Ctx<'_, Self>, t: Option<Transition>) {
        if let Some(t) = t {
            ctx.fact(OverloadFact::Breaker {
                from: t.from,
                to: t.to,
                because: t.because,
            });
        }
    }

    fn answer(
        ctx: &mut Ctx<'_, Self>,
        request: RequestId,
        op: ServiceOp,
        outcome: Result<(), &'static str>,
    ) {
        let (ok, why) = match outcome {
            Ok(()) => (true, ""),
            Err(why) => (false, why),
        };
        ctx.fact(OverloadFact::Answered {
            request,
            op: op.name(),
            ok,
            why,
        });
        let reply = match outcome {
            Ok(()) => Reply::Ok(Served {}),
            Err(why) => Reply::Fail {
                reason: why.replace('_', " "),
            },
        };
        ctx.reply(request, reply);
    }

    /// Hands queued jobs to free workers, in arrival order.
    fn dispatch(&mut self, ctx: &mut Ctx<'_, Self>) {
        while let Some(slot) = self.free_worker() {
            let Some(job) = self.queue.pop_front() else {
                return;
            };
            if let Job::Client(ref r) = job
                && r.op == ServiceOp::Remote
            {
                self.call(ctx, slot, r.id);
                continue;
            }
            ctx.set_timer(self.config.service_time.nanos(), Timer::Done(slot));
            self.workers[slot as usize] = Some(Work::Serving(job));
        }
    }

    /// Worker `slot` takes a remote request: it calls the downstream and waits, unless the
    /// breaker refuses the call, which fails the request at once and leaves the worker free.
    fn call(&mut self, ctx: &mut Ctx<'_, Self>, slot: u32, request: RequestId) {
        let Some(to) = self.downstream else {
            Self::answer(ctx, request, ServiceOp::Remote, Err("no_downstream"));
            return;
        };
        let mut probe = false;
        if let Some(b) = &mut self.breaker {
            let (permit, t) = b.permit(ctx.monotonic());
            Self::state(ctx, t);
            match permit {
                Permit::Refuse => {
                    Self::answer(ctx, request, ServiceOp::Remote, Err("circuit_open"));
                    return;
                }
                Permit::Pass { probe: p } => probe = p,
            }
        }
        self.next_call += 1;
        let call = self.next_call;
        ctx.send(to, Msg::Call { call, request });
        ctx.set_timer(self.config.call_timeout.nanos(), Timer::CallTimeout(call));
        self.calls.insert(call, slot);
        self.workers[slot as usize] = Some(Work::Waiting { request, probe });
    }

    /// The call `call` ended: answered (`Ok`) or failed as `Err` says. Frees its worker.
    fn call_ended(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        call: u64,
        outcome: Result<(), &'static str>,
    ) {
        let Some(slot) = self.calls.remove(&call) else {
            return; // Already timed out: a late answer.
        };
        let Some(Work::Waiting { request, probe, .. }) = self.workers[slot as usize].take() else {
            unreachable!("a call's worker waits for it");
        };
        if let Some(b) = &mut self.breaker {
            let t = match outcome {
                Ok(()) => b.on_success(probe),
                Err(why) => b.on_failure(ctx.monotonic(), probe, &why.replace('_', " ")),
            };
            Self::state(ctx, t);
        }
        Self::answer(ctx, request, ServiceOp::Remote, outcome);
        self.dispatch(ctx);
    }

    /// Takes `job` in if the queue has room; `false`: refused.
    fn admit(&mut self, job: Job) -> Result<u32, ()> {
        let idle = self.free_worker().is_some() && self.queue.is_empty();
        if !idle && self.queue.len() >= self.config.queue as usize {
            return Err(());
        }
        self.queue.push_back(job);
        Ok(if idle { 0 } else { self.queue.len() as u32 })
    }
}

impl Protocol for Overload {
    const NAME: &'static str = "overload";
    const SUMMARY: &'static str = "a service of bounded capacity and the downstream it calls: a \
         token bucket bounds latency under a burst, a circuit breaker stops a cascade";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &[];

    type Msg = Msg;
    type Timer = Timer;
    type Config = OverloadConfig;
    type Durable = ();
    type Api = Service;
    type Fact = OverloadFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        invariants::catalogue()
    }

    fn report_sections(_nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(section::OverloadSection::default())]
    }

    fn validate(config: &OverloadConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config.validate(cluster_size)
    }

    fn narrate_message(msg: &Value, _names: &[String]) -> Option<String> {
        let (tag, body) = msg.as_object()?.iter().next()?;
        let call = body.get("call")?.as_u64()?;
        Some(match tag.as_str() {
            "Call" => {
                let r = body.get("request")?;
                format!(
                    "Call #{call} (for c{}#{})",
                    r.get("client")?.as_u64()?,
                    r.get("seq")?.as_u64()?
                )
            }
            "Answer" if body.get("ok")?.as_bool()? => format!("Answer #{call}: done"),
            "Answer" => format!("Answer #{call}: busy, queue full"),
            _ => return None,
        })
    }

    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        let mut lines = vec![
            format!(
                "workers busy       {} of {}",
                self.busy(),
                self.workers.len()
            ),
            format!("queued             {}", self.queue.len()),
        ];
        if let Some(b) = &self.bucket {
            lines.push(format!("tokens             {}", b.tokens()));
        }
        if let Some(b) = &self.breaker {
            lines.push(format!(
                "breaker            {} ({} failures in a row)",
                b.state().upper(),
                b.failures()
            ));
        }
        lines
    }

    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &OverloadConfig,
        _: Option<&DiskOf<Self>>,
    ) -> Self {
        let front = id.0 == 0;
        let guarded = front && config.breaker == BreakerMode::CircuitBreaker;
        Overload {
            config: config.clone(),
            front,
            downstream: if front { peers.first().copied() } else { None },
            workers: vec![None; config.workers as usize],
            queue: VecDeque::new(),
            bucket: None,
            breaker: guarded.then(|| {
                Breaker::new(
                    config.breaker_failures,
                    config.breaker_cooldown.nanos() as i64,
                )
            }),
            next_call: 0,
            calls: BTreeMap::new(),
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.front && self.config.limiter == Limiter::TokenBucket {
            self.bucket = Some(TokenBucket::full(
                self.config.bucket_rate,
                self.config.bucket_capacity,
                ctx.monotonic(),
            ));
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Call { call, .. } => {
                if self.admit(Job::Call { from, call }).is_err() {
                    ctx.send(from, Msg::Answer { call, ok: false });
                }
                self.dispatch(ctx);
            }
            Msg::Answer { call, ok } => {
                if self.calls.contains_key(&call) {
                    ctx.cancel_timer(Timer::CallTimeout(call));
                }
                let outcome = if ok { Ok(()) } else { Err("downstream_busy") };
                self.call_ended(ctx, call, outcome);
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Done(slot) => {
                match self.workers[slot as usize].take() {
                    Some(Work::Serving(Job::Client(r))) => Self::answer(ctx, r.id, r.op, Ok(())),
                    Some(Work::Serving(Job::Call { from, call })) => {
                        ctx.send(from, Msg::Answer { call, ok: true });
                    }
                    other => self.workers[slot as usize] = other,
                }
                self.dispatch(ctx);
            }
            Timer::CallTimeout(call) => self.call_ended(ctx, call, Err("downstream_timeout")),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest<Service>) {
        let (id, op) = (request.id, request.op);
        if !self.front {
            ctx.reply(
                id,
                Reply::Fail {
                    reason: "the downstream serves only the front service".into(),
                },
            );
            return;
        }
        if let Some(b) = &mut self.bucket
            && !b.take(ctx.monotonic())
        {
            ctx.fact(OverloadFact::Rejected {
                request: id,
                op: op.name(),
                why: "rate_limited",
            });
            ctx.reply(
                id,
                Reply::Fail {
                    reason: "rate limited".into(),
                },
            );
            return;
        }
        match self.admit(Job::Client(request)) {
            Ok(queued) => ctx.fact(OverloadFact::Accepted {
                request: id,
                op: op.name(),
                queued,
            }),
            Err(()) => {
                ctx.fact(OverloadFact::Rejected {
                    request: id,
                    op: op.name(),
                    why: "queue_full",
                });
                ctx.reply(
                    id,
                    Reply::Fail {
                        reason: "queue full".into(),
                    },
                );
                return;
            }
        }
        self.dispatch(ctx);
    }
}
