//! The lease-based master (seed text 000, 「方案二: 通过选举算法和租约的方式实现 Master 的选举」):
//! peers elect one master, and a lease keeps it the only one.
//!
//! The text's design, which this follows: the nodes are peers; one asks the others 「我要成为
//! Master」 and, granted by a majority (itself included), becomes master. Master and peers both
//! time the lease; 「在租约过期之前, Slave 节点不能发起 "我要成为 Master" 的请求」 — no peer asks,
//! or grants anyone else, before the lease it granted has run out. To keep mastership from
//! switching needlessly when each lease ends, the master asks earlier than anyone else can
//! (续租, renewal) and the peers, whose promise is to it, grant it again. So the grantors are the
//! peers themselves (a majority of them), not a separate lease server.
//!
//! What the text leaves implicit, and the simulator makes a setting: each side measures the lease
//! on its own clock, and the two clocks may run at different rates (text 001, 「4.时钟不同步及顺序
//! 消息」). The master counts its lease from the instant it *sent* its request, so it always
//! starts before any grantor's; a grantor keeps its promise for the lease plus `drift_bound` from
//! the instant it received the request. The master acts only while its lease is valid on its own
//! clock; a peer takes over only after waiting out the lease plus the bound on *its* clock. That
//! is safe while the clocks' rates differ by less than `drift_bound / lease`; a master whose clock
//! runs slower than that still believes in its lease after the peers have elected another:
//! `no_split_brain` fails. Measured on the monotonic clock (`lease_clock = "monotonic"`), a lease
//! is immune to NTP steps; on the wall clock a backward step stretches it.
//!
//! A peer that restarts has forgotten whom it promised: it grants nothing until a whole lease plus
//! the bound has passed on its clock. Each peer grants at most one new reign per epoch (kept on
//! disk), so there is at most one master per epoch as well.
//!
//! Observations: `Role { Master | Candidate | Standby, epoch }`, and `Authority { epoch, until,
//! lease_clock }` each time a lease is granted or renewed. Facts ([`LeaseFact`]): the master
//! acting, and its stopping when the lease runs out.

mod config;
pub mod invariant;
mod messages;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crate::node::{
    ClockKind, ConfigError, Ctx, DiskOf, LocalNanos, NodeId, Observation, Protocol,
    ProtocolInvariant, Role, format_local_instant,
};

pub use config::LeaseMasterConfig;
pub use messages::{Disk, LeaseFact, Msg, Timer};

/// A grantor's promise: it grants no one else until its lease clock reads `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Promise {
    holder: NodeId,
    epoch: u64,
    until: LocalNanos,
}

/// A request this node has out: a candidacy, or the master's renewal.
#[derive(Clone, Debug)]
struct Round {
    round: u64,
    epoch: u64,
    /// When it was sent, on the lease clock: the lease counts from here.
    sent_at: LocalNanos,
    granted: BTreeSet<NodeId>,
}

/// A peer of `lease-master`. See the module's notes.
#[derive(Debug)]
pub struct LeaseMaster {
    id: NodeId,
    cluster_size: usize,
    lease: LocalNanos,
    renew: bool,
    renew_before: LocalNanos,
    drift_bound: LocalNanos,
    clock: ClockKind,
    backoff: [u64; 2],
    role: Role,
    disk: Disk,
    /// Restarted: the promises it made are forgotten, so it grants nothing before this.
    restarted: bool,
    quiet_until: LocalNanos,
    promise: Option<Promise>,
    round: u64,
    asking: Option<Round>,
    /// As master: its epoch and the end of its lease on its lease clock.
    lease_until: Option<(u64, LocalNanos)>,
}

impl LeaseMaster {
    /// Master, candidate or standby, as this node now believes.
    pub fn role(&self) -> Role {
        self.role
    }

    fn now(&self, ctx: &Ctx<'_, Self>) -> LocalNanos {
        ctx.clock(self.clock)
    }

    fn majority(&self) -> usize {
        self.cluster_size / 2 + 1
    }

    fn set_role(&mut self, ctx: &mut Ctx<'_, Self>, role: Role, epoch: u64) {
        self.role = role;
        ctx.observe(Observation::Role { role, term: epoch });
    }

    fn promise_live(&self, now: LocalNanos) -> Option<Promise> {
        self.promise.filter(|p| p.until > now)
    }

    fn see(&mut self, ctx: &mut Ctx<'_, Self>, epoch: u64, granted: bool) {
        let before = self.disk;
        self.disk.seen = self.disk.seen.max(epoch);
        if granted {
            self.disk.granted = self.disk.granted.max(epoch);
        }
        if self.disk != before {
            ctx.persist(self.disk);
        }
    }

    /// Whether this node may grant `from`'s request for `epoch`.
    fn may_grant(&self, now: LocalNanos, from: NodeId, epoch: u64, renewal: bool) -> bool {
        if now < self.quiet_until {
            return false;
        }
        match self.promise_live(now) {
            // Renewing the lease it already holds here.
            Some(p) => p.holder == from && p.epoch == epoch,
            // Free: a new reign, at most one per epoch; or a master's renewal of its reign (a
            // peer that was cut off and let its promise lapse backs the master again).
            None => renewal || epoch > self.disk.granted,
        }
    }

    /// Waits until its promise (and any quiet time) is over, plus a random backoff, then asks.
    fn arm_elect(&mut self, ctx: &mut Ctx<'_, Self>) {
        let now = self.now(ctx);
        let promised = self.promise_live(now).map_or(now, |p| p.until);
        let wait = (promised.max(self.quiet_until) - now).max(0) as u64;
        let [min, max] = self.backoff;
        let backoff = ctx.rng().between(min, max);
        ctx.set_timer(wait + backoff, Timer::Elect);
    }

    /// Sends a request for `epoch`, granting it to itself first.
    fn ask(&mut self, ctx: &mut Ctx<'_, Self>, epoch: u64, renewal: bool) {
        let now = self.now(ctx);
        self.round += 1;
        self.promise = Some(Promise {
            holder: self.id,
            epoch,
            until: now + self.lease + self.drift_bound,
        });
        self.see(ctx, epoch, true);
        self.asking = Some(Round {
            round: self.round,
            epoch,
            sent_at: now,
            granted: BTreeSet::from([self.id]),
        });
        ctx.broadcast(Msg::Request {
            epoch,
            round: self.round,
            renewal,
        });
        self.counted(ctx);
    }

    /// After a grant was counted: with a majority, act as master until the lease runs out.
    fn counted(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(r) = &self.asking else { return };
        if r.granted.len() < self.majority() {
            return;
        }
        let (epoch, until) = (r.epoch, r.sent_at + self.lease);
        self.asking = None;
        let now = self.now(ctx);
        let renewed = self.role == Role::Master;
        // Granted too late (a pause, a slow reply): a new reign that could not renew its lease
        // in time would end at once — the peers are better off electing again.
        if until <= now || (!renewed && until - now <= self.renew_before) {
            return;
        }
        if !renewed {
            self.set_role(ctx, Role::Master, epoch);
        }
        self.lease_until = Some((epoch, until));
        ctx.observe(Observation::Authority {
            term: epoch,
            until: Some(until),
            clock: self.clock,
        });
        ctx.fact(LeaseFact::Acting {
            epoch,
            until,
            renewed,
        });
        ctx.set_timer((until - now) as u64, Timer::Expire);
        if self.renew {
            let at = (until - self.renew_before - now).max(0) as u64;
            ctx.set_timer(at, Timer::Renew);
        }
    }

    /// The master stops acting the moment its lease has run out on its own clock.
    fn check_lease(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some((epoch, until)) = self.lease_until else {
            return;
        };
        let now = self.now(ctx);
        if now < until {
            return;
        }
        self.lease_until = None;
        self.asking = None;
        ctx.cancel_timer(Timer::Renew);
        ctx.fact(LeaseFact::Stopped { epoch });
        self.set_role(ctx, Role::Standby, epoch);
        self.arm_elect(ctx);
    }
}

impl Protocol for LeaseMaster {
    const NAME: &'static str = "lease-master";
    const SUMMARY: &'static str = "peers elect a master by majority grant of a lease; it renews \
        before expiry, a peer takes over only after the lease plus a drift bound";
    const DEFAULT_INVARIANTS: &'static [&'static str] =
        &["election_safety", "no_split_brain", "stable_master"];

    type Msg = Msg;
    type Timer = Timer;
    type Config = LeaseMasterConfig;
    type Durable = Disk;
    type Api = crate::node::Kv;
    type Fact = LeaseFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![invariant::stable_master()]
    }

    fn validate(config: &LeaseMasterConfig, cluster_size: usize) -> Result<(), ConfigError> {
        config.validate(cluster_size)
    }

    fn narrate_message(msg: &serde_json::Value, _names: &[String]) -> Option<String> {
        messages::narrate(msg)
    }

    /// For `sim step`: its role, its promise and its lease.
    fn describe_state(&self, names: &[String]) -> Vec<String> {
        let name = |n: NodeId| {
            names
                .get(n.index())
                .cloned()
                .unwrap_or_else(|| n.0.to_string())
        };
        let mut lines = vec![
            format!("role        {}", self.role.name()),
            format!(
                "epochs      granted up to {}, seen up to {}",
                self.disk.granted, self.disk.seen
            ),
        ];
        if let Some(p) = self.promise {
            lines.push(format!(
                "promise     to {} (epoch {}) until its clock reads {}",
                name(p.holder),
                p.epoch,
                format_local_instant(p.until)
            ));
        }
        if let Some((epoch, until)) = self.lease_until {
            lines.push(format!(
                "lease       epoch {epoch}, acts until its clock reads {}",
                format_local_instant(until)
            ));
        }
        lines
    }

    fn new(
        id: NodeId,
        peers: &[NodeId],
        config: &LeaseMasterConfig,
        disk: Option<&DiskOf<Self>>,
    ) -> Self {
        LeaseMaster {
            id,
            cluster_size: peers.len() + 1,
            lease: config.lease.as_local(),
            renew: config.renew,
            renew_before: config.renew_before().as_local(),
            drift_bound: config.drift_bound().as_local(),
            clock: config.lease_clock,
            backoff: [config.backoff[0].nanos(), config.backoff[1].nanos()],
            role: Role::Standby,
            disk: disk.map_or_else(Disk::default, |d| d.state),
            restarted: disk.is_some(),
            quiet_until: LocalNanos::MIN,
            promise: None,
            round: 0,
            asking: None,
            lease_until: None,
        }
    }

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.restarted {
            self.quiet_until = self.now(ctx) + self.lease + self.drift_bound;
        }
        self.set_role(ctx, Role::Standby, self.disk.seen);
        self.arm_elect(ctx);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        self.check_lease(ctx);
        match msg {
            Msg::Request {
                epoch,
                round,
                renewal,
            } => {
                let now = self.now(ctx);
                // A master is alive and renewing: this node's own candidacy is pointless. Giving
                // it up (its round's grants are ignored from now on) frees the promise it made
                // itself, which backed nothing else, so it can back the master again.
                if renewal && self.role == Role::Candidate {
                    self.asking = None;
                    self.promise = self.promise.filter(|p| p.holder != self.id);
                }
                let granted = self.may_grant(now, from, epoch, renewal);
                self.see(ctx, epoch, granted);
                if granted {
                    self.promise = Some(Promise {
                        holder: from,
                        epoch,
                        until: now + self.lease + self.drift_bound,
                    });
                    // Its own candidacy, if any, is over: its self-promise had run out.
                    if self.role == Role::Candidate {
                        self.asking = None;
                        self.set_role(ctx, Role::Standby, epoch);
                    }
                }
                let epoch = if granted { epoch } else { self.disk.seen };
                ctx.send(
                    from,
                    Msg::Grant {
                        round,
                        granted,
                        epoch,
                    },
                );
            }
            Msg::Grant {
                round,
                granted,
                epoch,
            } => {
                if !granted {
                    self.see(ctx, epoch, false);
                    return;
                }
                if let Some(r) = &mut self.asking
                    && r.round == round
                {
                    r.granted.insert(from);
                    self.counted(ctx);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Timer) {
        self.check_lease(ctx);
        match timer {
            Timer::Elect => {
                if self.role == Role::Master {
                    return;
                }
                let now = self.now(ctx);
                if self.promise_live(now).is_some() || now < self.quiet_until {
                    self.arm_elect(ctx);
                    return;
                }
                let epoch = self.disk.seen.max(self.disk.granted) + 1;
                self.set_role(ctx, Role::Candidate, epoch);
                self.ask(ctx, epoch, false);
                self.arm_elect(ctx); // retried when this candidacy gets no majority
            }
            Timer::Renew => {
                let Some((epoch, until)) = self.lease_until else {
                    return;
                };
                self.ask(ctx, epoch, true);
                // Asked again while no renewal has succeeded; a success re-arms it later.
                if self.lease_until == Some((epoch, until)) {
                    ctx.set_timer((self.renew_before / 4).max(1) as u64, Timer::Renew);
                }
            }
            Timer::Expire => {
                // Still valid: a wall clock stepped back after the timer was set.
                if let Some((_, until)) = self.lease_until {
                    ctx.set_timer((until - self.now(ctx)).max(1) as u64, Timer::Expire);
                }
            }
        }
    }
}
