//! The Byzantine generals and oral messages, OM(m) (seed text 004, 「2.3.5 拜占庭将军问题」;
//! Lamport, Shostak and Pease, "The Byzantine Generals Problem", 1982).
//!
//! The first node of the cluster is the commander; the others are lieutenants. At
//! `command_at` the commander sends its order to every lieutenant. A lieutenant that receives
//! an order on a path of at most m generals relays it at once to every general not yet on the
//! path, the path grown by itself: m rounds of relaying in all. At `decide_at` each lieutenant
//! decides by the recursive majority of [`majority`] (a missing order and a tie both count as
//! RETREAT), and states it ([`Fact::Decided`]).
//!
//! **Traitors.** A `[[faults]] byzantine` entry turns nodes traitor (the world marks them;
//! `ctx.is_traitor()` reads it). A traitor follows the algorithm's rhythm but lies: every
//! order it sends, first-hand or relayed, it draws afresh from its own stream (attack or
//! retreat, even odds), so different peers hear conflicting orders. What it draws is a
//! function of the seed, like everything else. A traitor's own decision is stated but judged
//! by no one.
//!
//! **What holds.** The paper's interactive consistency conditions, as invariants
//! ([`invariants`]): IC1 `byzantine_agreement` (all loyal lieutenants decide the same order)
//! and IC2 `byzantine_validity` (if the commander is loyal, every loyal lieutenant decides its
//! order). OM(m) guarantees both when there are more than three times as many generals as
//! traitors (N ≥ 3m + 1, as the text says: 「N >= 3m + 1」) and at most m traitors. With three
//! generals and one traitor they can fail: a loyal lieutenant cannot tell a lying commander
//! from a lying fellow lieutenant.
//!
//! **Where the text differs.** Its three steps (marked 「有待修正」, "to be corrected") are
//! OM(1) only: one round of relaying, whatever m is; this module recurses m rounds, as the
//! paper does. It decides by 「众数」 (the most frequent value), the paper by majority; for two
//! orders they differ only on a tie, which here, as in the paper, retreats.

mod config;
pub mod invariants;
mod majority;
mod messages;
mod narrate;
mod section;

#[cfg(test)]
mod tests;

use crate::node::{ConfigError, Ctx, DiskOf, NodeId, Protocol, ProtocolInvariant, SectionBuilder};

pub use config::{Command, OralConfig};
pub use majority::majority;
pub use messages::{Fact, Msg, Order, Timer};

use majority::Heard;

/// The commander: the first node of `[cluster] nodes`.
pub const COMMANDER: NodeId = NodeId(0);

/// One general: the commander (node 0) or a lieutenant.
#[derive(Debug)]
pub struct OralMessages {
    id: NodeId,
    config: OralConfig,
    /// Every general, in cluster order.
    generals: Vec<NodeId>,
    heard: Heard,
    decided: Option<Order>,
}

impl OralMessages {
    /// The order this lieutenant decided, once it has.
    ///
    /// ```
    /// use sim::node::{NodeId, Protocol};
    /// use sim::protocols::byzantine::{OralConfig, OralMessages};
    /// let b = OralMessages::new(NodeId(1), &[NodeId(0), NodeId(2)], &OralConfig::default(), None);
    /// assert_eq!(b.decided(), None);
    /// ```
    pub fn decided(&self) -> Option<Order> {
        self.decided
    }

    /// What this general says it heard on a path: the truth when loyal, a fresh draw for each
    /// receiver when a traitor.
    fn tell(ctx: &mut Ctx<'_, Self>, truth: Order) -> Order {
        if !ctx.is_traitor() {
            return truth;
        }
        if ctx.rng().below(2) == 0 {
            Order::Attack
        } else {
            Order::Retreat
        }
    }

    /// Waits until `at` on the monotonic clock for `timer`; a general restarted after it has
    /// passed does not act again.
    fn schedule(ctx: &mut Ctx<'_, Self>, at: u64, timer: Timer) {
        let now = u64::try_from(ctx.monotonic()).unwrap_or(0);
        if now <= at {
            ctx.set_timer(at - now, timer);
        }
    }

    fn command(&mut self, ctx: &mut Ctx<'_, Self>) {
        let order = self.config.order.draw(ctx.rng());
        let mut sent = Vec::with_capacity(self.generals.len() - 1);
        for &to in &self.generals {
            if to == self.id {
                continue;
            }
            let told = Self::tell(ctx, order);
            sent.push((to, told));
            ctx.send(
                to,
                Msg::Order {
                    path: vec![self.id],
                    order: told,
                },
            );
        }
        ctx.fact(Fact::Commanded { order, sent });
    }

    /// Files an order, and relays it while the path is at most m long.
    fn receive(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, path: Vec<NodeId>, order: Order) {
        let well_formed = path.first() == Some(&COMMANDER)
            && path.last() == Some(&from)
            && !path.contains(&self.id)
            && path.len() <= self.config.m as usize + 1
            && path
                .iter()
                .enumerate()
                .all(|(i, g)| !path[..i].contains(g) && self.generals.contains(g));
        if !well_formed || self.decided.is_some() || !self.heard.file(path.clone(), order) {
            return;
        }
        if path.len() > self.config.m as usize {
            return;
        }
        let mut relay = path.clone();
        relay.push(self.id);
        for &to in &self.generals {
            if to == self.id || path.contains(&to) {
                continue;
            }
            let told = Self::tell(ctx, order);
            ctx.send(
                to,
                Msg::Order {
                    path: relay.clone(),
                    order: told,
                },
            );
        }
    }

    fn decide(&mut self, ctx: &mut Ctx<'_, Self>) {
        let (order, votes) = self
            .heard
            .decide(self.id, COMMANDER, &self.generals, self.config.m);
        self.decided = Some(order);
        ctx.fact(Fact::Decided { order, votes });
    }
}

impl Protocol for OralMessages {
    const NAME: &'static str = "oral-messages";
    const SUMMARY: &'static str = "the Byzantine generals: a commander's order relayed by its \
        lieutenants for m rounds, decided by majority (OM(m)); `byzantine` faults make traitors";
    const DEFAULT_INVARIANTS: &'static [&'static str] =
        &["byzantine_agreement", "byzantine_validity"];
    const TRAITORS: bool = true;

    type Msg = Msg;
    type Timer = Timer;
    type Config = OralConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = Fact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![invariants::agreement(), invariants::validity()]
    }

    fn validate(config: &OralConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config::validate(config, cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, names: &[String]) -> Option<String> {
        narrate::message(msg, names)
    }

    fn report_sections(_nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(section::Generals::default())]
    }

    fn describe_state(&self, _names: &[String]) -> Vec<String> {
        let role = if self.id == COMMANDER {
            "commander"
        } else {
            "lieutenant"
        };
        vec![
            format!("role        {role}"),
            format!("heard       {} order(s)", self.heard.len()),
            format!(
                "decided     {}",
                self.decided.map_or("not yet", Order::word)
            ),
        ]
    }

    fn new(id: NodeId, peers: &[NodeId], config: &OralConfig, _: Option<&DiskOf<Self>>) -> Self {
        let mut generals: Vec<NodeId> = peers.to_vec();
        generals.push(id);
        generals.sort();
        OralMessages {
            id,
            config: config.clone(),
            generals,
            heard: Heard::default(),
            decided: None,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.id == COMMANDER {
            Self::schedule(ctx, self.config.command_at.nanos(), Timer::Command);
        } else {
            Self::schedule(ctx, self.config.decide_at.nanos(), Timer::Decide);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        let Msg::Order { path, order } = msg;
        if self.id != COMMANDER {
            self.receive(ctx, from, path, order);
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        match timer {
            Timer::Command => self.command(ctx),
            Timer::Decide => self.decide(ctx),
        }
    }
}
