//! A sender: numbers its messages from 1, sends each through the proxy its routing picks, and
//! resends what the backend has not acknowledged. With `failover` it pings every proxy and
//! routes around one that stopped answering (the text's 心跳的机制).

use std::collections::BTreeMap;

use crate::node::{Ctx, NodeId, Observation};

use super::super::ping_watch::{PingWatch, Tick};
use super::ProxyNode;
use super::config::{ProxyConfig, Routing};
use super::messages::{Msg, ProxyFact, Timer};

#[derive(Debug)]
pub(super) struct Sender {
    /// Its position among the senders: what the sticky routing hashes.
    pub(super) index: usize,
    /// The proxies, in cluster order.
    pub(super) proxies: Vec<NodeId>,
    /// The next message to send.
    pub(super) next: u64,
    /// Messages sent and not yet acknowledged, with how many times each was sent.
    pub(super) unacked: BTreeMap<u64, u32>,
    /// Per proxy: the heartbeat's count of unanswered pings.
    watch: Vec<PingWatch>,
    /// Per proxy: suspected dead (`failover`), so not picked.
    pub(super) suspected: Vec<bool>,
    /// `round_robin`: the proxy whose turn is next.
    turn: usize,
}

impl Sender {
    pub(super) fn new(index: usize, proxies: Vec<NodeId>) -> Sender {
        let n = proxies.len();
        Sender {
            index,
            proxies,
            next: 1,
            unacked: BTreeMap::new(),
            watch: vec![PingWatch::default(); n],
            suspected: vec![false; n],
            turn: 0,
        }
    }

    pub(super) fn on_start(&mut self, ctx: &mut Ctx<'_, ProxyNode>, cfg: &ProxyConfig) {
        ctx.set_timer(cfg.interval.nanos(), Timer::Next);
        if cfg.failover {
            ctx.set_timer(cfg.ping_interval.nanos(), Timer::Ping);
        }
    }

    /// The proxy for the next send: among those not suspected (all of them if every one is).
    fn route(&mut self, ctx: &mut Ctx<'_, ProxyNode>, routing: Routing) -> NodeId {
        let n = self.proxies.len();
        let live: Vec<usize> = (0..n).filter(|&i| !self.suspected[i]).collect();
        let live = if live.is_empty() {
            (0..n).collect()
        } else {
            live
        };
        // The first live proxy from `from` on, in cluster order.
        let from_on = |from: usize| {
            (0..n)
                .map(|k| (from + k) % n)
                .find(|i| live.contains(i))
                .expect("some proxy is live")
        };
        let i = match routing {
            Routing::Sticky => from_on(self.index % n),
            Routing::RoundRobin => {
                let i = from_on(self.turn);
                self.turn = (i + 1) % n;
                i
            }
            Routing::Random => live[ctx.rng().below(live.len() as u64) as usize],
        };
        self.proxies[i]
    }

    /// Sends (or resends) message `seq`.
    fn send(&mut self, ctx: &mut Ctx<'_, ProxyNode>, cfg: &ProxyConfig, seq: u64) {
        let via = self.route(ctx, cfg.routing);
        let attempt = self.unacked.entry(seq).or_default();
        *attempt += 1;
        let attempt = *attempt;
        ctx.fact(ProxyFact::Sent { seq, via, attempt });
        ctx.send(via, Msg::Send { seq });
        if cfg.retry.nanos() > 0 {
            ctx.set_timer(cfg.retry.nanos(), Timer::Retry(seq));
        }
    }

    pub(super) fn on_timer(&mut self, ctx: &mut Ctx<'_, ProxyNode>, cfg: &ProxyConfig, t: Timer) {
        match t {
            Timer::Next => {
                let seq = self.next;
                self.next += 1;
                self.send(ctx, cfg, seq);
                if self.next <= u64::from(cfg.messages) {
                    ctx.set_timer(cfg.interval.nanos(), Timer::Next);
                }
            }
            Timer::Retry(seq) => {
                if self.unacked.contains_key(&seq) {
                    self.send(ctx, cfg, seq);
                }
            }
            Timer::Ping => {
                for i in 0..self.proxies.len() {
                    match self.watch[i].tick(cfg.missed_pings) {
                        Tick::Silent => {
                            if !self.suspected[i] {
                                self.suspected[i] = true;
                                ctx.observe(Observation::Suspect {
                                    peer: self.proxies[i],
                                });
                            }
                        }
                        Tick::Ping(seq) => ctx.send(self.proxies[i], Msg::Ping { seq }),
                    }
                }
                ctx.set_timer(cfg.ping_interval.nanos(), Timer::Ping);
            }
        }
    }

    pub(super) fn on_message(&mut self, ctx: &mut Ctx<'_, ProxyNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Acked { seq } if self.unacked.remove(&seq).is_some() => {
                ctx.cancel_timer(Timer::Retry(seq));
            }
            Msg::Pong { seq } => {
                let Some(i) = self.proxies.iter().position(|&p| p == from) else {
                    return;
                };
                // A pong for the outstanding ping: the proxy answers again.
                if self.watch[i].pong(seq) && self.suspected[i] {
                    self.suspected[i] = false;
                    ctx.observe(Observation::Trust { peer: from });
                }
            }
            _ => {}
        }
    }
}
