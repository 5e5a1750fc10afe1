//! The backend: applies the messages the proxies forward, and acknowledges each through the
//! proxy it came by. In `arrival` order it applies whatever arrives; in `sequence` order it
//! keeps, per sender, the first number not yet applied, holds what arrives early and drops
//! copies.

use std::collections::BTreeMap;

use crate::node::{Ctx, NodeId};

use super::ProxyNode;
use super::config::Order;
use super::messages::{Msg, ProxyFact};

/// One sender's messages at the backend (`order = "sequence"`).
#[derive(Debug)]
pub(super) struct Lane {
    /// The first message not yet applied.
    pub(super) next: u64,
    /// Messages that arrived early, with the proxy each came by.
    pub(super) held: BTreeMap<u64, NodeId>,
}

impl Default for Lane {
    fn default() -> Self {
        Lane {
            next: 1,
            held: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Backend {
    /// Per sender.
    pub(super) lanes: BTreeMap<NodeId, Lane>,
    /// Messages applied, all senders.
    pub(super) applied: u64,
}

impl Backend {
    fn apply(&mut self, ctx: &mut Ctx<'_, ProxyNode>, sender: NodeId, seq: u64, via: NodeId) {
        self.applied += 1;
        ctx.fact(ProxyFact::Applied { sender, seq });
        ctx.send(via, Msg::Ack { sender, seq });
    }

    pub(super) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, ProxyNode>,
        order: Order,
        via: NodeId,
        msg: Msg,
    ) {
        let Msg::Forward { sender, seq } = msg else {
            return;
        };
        ctx.fact(ProxyFact::Arrived { sender, seq, via });
        if order == Order::Arrival {
            self.apply(ctx, sender, seq, via);
            return;
        }
        let lane = self.lanes.entry(sender).or_default();
        if seq < lane.next {
            // Applied already: its acknowledgement was lost, or this is a late copy.
            ctx.fact(ProxyFact::Dropped { sender, seq });
            ctx.send(via, Msg::Ack { sender, seq });
        } else if seq > lane.next {
            if lane.held.insert(seq, via).is_some() {
                ctx.fact(ProxyFact::Dropped { sender, seq });
            } else {
                let next = lane.next;
                ctx.fact(ProxyFact::Held { sender, seq, next });
            }
        } else {
            let mut run = vec![(seq, via)];
            lane.next += 1;
            while let Some(via) = lane.held.remove(&lane.next) {
                run.push((lane.next, via));
                lane.next += 1;
            }
            for (seq, via) in run {
                self.apply(ctx, sender, seq, via);
            }
        }
    }
}
