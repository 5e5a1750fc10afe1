//! The consumer service: it carries out each delivered message's effect in a local transaction
//! of its own, then acknowledges the delivery to the broker (and, with `local_table`, tells the
//! producer the message is done).
//!
//! Idempotent (`idempotent = true`), it records the message id in the same local transaction as
//! the effect and skips a copy whose id it has recorded (the text's 幂等重试). Without it, every
//! copy the broker redelivers or the producer resends is carried out again.

use crate::node::{Ctx, NodeId};

use super::messages::{Disk, MessagingFact, Msg};
use super::{Design, Messaging, MessagingConfig, PRODUCER};

#[derive(Debug, Default)]
pub(crate) struct Consumer {
    /// Its dedupe table, as on disk.
    pub(crate) db: Disk,
}

impl Consumer {
    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Messaging>,
        cfg: &MessagingConfig,
        from: NodeId,
        msg: Msg,
    ) {
        let Msg::Deliver { offset, txn } = msg else {
            return;
        };
        if cfg.idempotent && self.db.processed.contains(&txn) {
            ctx.fact(MessagingFact::Skipped { txn, offset });
        } else {
            if cfg.idempotent {
                // The id with the effect, in one local transaction: on disk before the ack.
                self.db.processed.insert(txn);
                ctx.persist(Disk {
                    processed: self.db.processed.clone(),
                    ..Disk::default()
                });
            }
            ctx.fact(MessagingFact::Consumed { txn, offset });
        }
        ctx.send(from, Msg::Ack { offset });
        if cfg.design == Design::LocalTable {
            ctx.send(PRODUCER, Msg::Done { txn });
        }
    }
}
