//! The lock server: one lease, granted to one client at a time (`SET lock <client> NX`), let go
//! on its holder's release or, with `expiry = "ttl"`, once its TTL has passed on the server's
//! clock (`server_clock`: the wall clock, as Redis did, or the monotonic one). Every grant is numbered one higher than the last: with fencing, the number is the
//! token. Lease and counter are on disk before any answer, so a crash forgets neither.

use crate::node::{Ctx, NodeId};

use super::messages::{Disk, Lease, LockFact, Msg};
use super::{Expiry, Lock, LockConfig};

#[derive(Debug)]
pub(crate) struct Server {
    /// The last grant's number.
    pub(crate) last_token: u64,
    /// The current lease, if any.
    pub(crate) lease: Option<Lease>,
}

impl Server {
    fn save(&self, ctx: &mut Ctx<'_, Lock>) {
        ctx.persist(Disk {
            last_token: self.last_token,
            lease: self.lease,
            ..Disk::default()
        });
    }

    pub(crate) fn on_message(
        &mut self,
        ctx: &mut Ctx<'_, Lock>,
        cfg: &LockConfig,
        from: NodeId,
        msg: Msg,
    ) {
        match msg {
            Msg::Acquire { attempt } => self.acquire(ctx, cfg, from, attempt),
            // `DEL` only if the lease is still the releaser's: a late release must never free
            // the lock its successor holds.
            Msg::Release { attempt }
                if self
                    .lease
                    .is_some_and(|l| l.client == from && l.attempt == attempt) =>
            {
                let token = self.lease.map_or(0, |l| l.token);
                self.lease = None;
                self.save(ctx);
                ctx.fact(LockFact::Freed {
                    client: from,
                    token,
                });
            }
            _ => {}
        }
    }

    fn acquire(&mut self, ctx: &mut Ctx<'_, Lock>, cfg: &LockConfig, from: NodeId, attempt: u64) {
        let now = ctx.clock(cfg.server_clock);
        if let Some(held) = self.lease {
            if held.client == from && held.attempt == attempt {
                // A duplicate of the try already granted: the same answer.
                let token = held.token;
                ctx.send(from, Msg::Granted { attempt, token });
                return;
            }
            if held.expires.is_none_or(|e| now < e) {
                let holder = held.client;
                ctx.send(from, Msg::Refused { attempt, holder });
                return;
            }
            ctx.fact(LockFact::Expired {
                client: held.client,
                token: held.token,
            });
        }
        self.last_token += 1;
        let token = self.last_token;
        let expires = match cfg.expiry {
            Expiry::None => None,
            Expiry::Ttl => Some(now.saturating_add(cfg.ttl.nanos() as i64)),
        };
        self.lease = Some(Lease {
            client: from,
            attempt,
            token,
            expires,
        });
        self.save(ctx);
        ctx.fact(LockFact::Granted {
            client: from,
            attempt,
            token,
        });
        ctx.send(from, Msg::Granted { attempt, token });
    }
}
