//! The storage the master writes to: one value, and — with `check_generation` — the highest
//! generation it has carried out, on disk before anything else, below which it refuses.

use crate::node::{Ctx, NodeId};
use crate::protocols::stale_write::GenerationFact;

use super::messages::{ArbiterFact, Disk, Msg};
use super::{Arbiter, ArbiterConfig};

#[derive(Debug, Default)]
pub(crate) struct Storage {
    pub(crate) highest: u64,
    pub(crate) value: String,
}

impl Storage {
    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Arbiter>,
        cfg: &ArbiterConfig,
        from: NodeId,
        msg: Msg,
    ) {
        let Msg::Write {
            generation,
            key,
            value,
        } = msg
        else {
            return;
        };
        if cfg.check_generation && generation < self.highest {
            let highest = self.highest;
            ctx.fact(ArbiterFact::Storage(GenerationFact::Rejected {
                generation,
                highest,
                from,
                key,
            }));
            ctx.send(
                from,
                Msg::Stale {
                    generation,
                    highest,
                },
            );
            return;
        }
        self.highest = self.highest.max(generation);
        self.value = value;
        ctx.persist(Disk {
            highest: self.highest,
            value: self.value.clone(),
            ..Disk::default()
        });
        ctx.fact(ArbiterFact::Storage(GenerationFact::Applied {
            generation,
            from,
            key,
            request: None,
            write: true,
        }));
    }
}
