//! The shared resource the lock protects: a store that carries out every write it receives —
//! unless, with fencing, the write's token is lower than the highest it has seen. The highest
//! token is on disk before the write is acknowledged.

use crate::node::{Ctx, NodeId};

use super::messages::{Disk, LockFact, Msg};
use super::{Lock, LockConfig};

#[derive(Debug)]
pub(crate) struct Resource {
    /// The highest fencing token seen.
    pub(crate) highest: u64,
}

impl Resource {
    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Lock>,
        cfg: &LockConfig,
        from: NodeId,
        msg: Msg,
    ) {
        let Msg::Write {
            attempt,
            seq,
            token,
        } = msg
        else {
            return;
        };
        if cfg.fencing
            && let Some(token) = token
        {
            if token < self.highest {
                let highest = self.highest;
                ctx.fact(LockFact::Rejected {
                    client: from,
                    attempt,
                    token,
                    highest,
                });
                ctx.send(
                    from,
                    Msg::Fenced {
                        attempt,
                        seq,
                        highest,
                    },
                );
                return;
            }
            if token > self.highest {
                self.highest = token;
                ctx.persist(Disk {
                    highest: token,
                    ..Disk::default()
                });
            }
        }
        ctx.fact(LockFact::Accepted {
            client: from,
            attempt,
            seq,
        });
        ctx.send(from, Msg::Ack { attempt, seq });
    }
}
