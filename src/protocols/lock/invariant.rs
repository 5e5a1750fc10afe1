//! The lock's invariants, over its own facts.
//!
//! - `mutual_exclusion` (safety): the resource carries out the holders' writes one holder at a
//!   time, in the order the lock was granted. Every accepted write belongs to the tenure its
//!   writer believed it held (the writer's try), and a tenure takes its place from the last
//!   grant made for its try before the client acquired — with one server its grant, with
//!   RedLock's several the grant that completed its majority (or a later one). Once the
//!   resource has accepted a write of a tenure placed at grant *g*, it must never accept one of
//!   a tenure placed before *g*. Such a write comes from a holder that had lost the lock — its lease
//!   lapsed, or it gave up — while it still believed it held it, acting on the resource after
//!   its successor had: two holders' work interleaved on the resource. With the ZooKeeper
//!   recipe a tenure is placed at its lock node's creation, which orders tenures as grants do. (A superseded holder's
//!   write that lands *before* its successor's first write is allowed: the resource then still
//!   sees one holder after the other, which is exactly what fencing tokens guarantee.)
//! - `lock_progress D` (liveness): from the last fault (or the start), the lock is acquired
//!   at least once in every stretch of `D`: no client acquires it for `D` — counted from the
//!   later of the last acquisition and the last fault — is a violation, at the instant the
//!   stretch reached `D`. A holder that crashes holding a lock that never expires stops every
//!   acquisition after it. Unknown when the run ends within `D` of the last fault with no
//!   acquisition since it.

use std::any::Any;
use std::collections::BTreeMap;

use crate::node::invariant::FromLastFault;
use crate::node::{
    Applied, BoundInfo, FaultRecord, Invariant, InvariantInfo, Nanos, NodeId, Observation,
    ObservationKinds, Property, ProtocolInvariant, RunView, Status, Violation, format_duration,
    format_instant,
};

use super::messages::LockFact;

/// A grant as the checker knows it: for a client's tenure, the last grant made for its try
/// before it acquired (with one server, its grant; with several, the one that completed its
/// majority or came after it).
#[derive(Clone, Copy, Debug)]
struct Grant {
    /// Its place among all grants, from 1, in the order the servers made them.
    order: u64,
    /// A ZooKeeper lock node's creation (its place in the queue), not a server's grant.
    queued: bool,
    server: u32,
    token: u64,
    at: Nanos,
}

/// An accepted write.
#[derive(Clone, Copy, Debug)]
struct Write {
    client: u32,
    seq: u32,
    grant: Grant,
    at: Nanos,
}

/// The checker of `mutual_exclusion`.
#[derive(Default)]
pub(crate) struct MutualExclusion {
    /// The last grant made for each try, by (client, attempt).
    granted: BTreeMap<(u32, u64), Grant>,
    made: u64,
    /// Each tenure's place: its try's last grant when the client acquired.
    tenures: BTreeMap<(u32, u64), Grant>,
    /// Leases let go as lapsed: when, by which server, whose.
    expired: Vec<(Nanos, u32, u32, u64)>,
    /// Pauses and crashes (by node) and clock jumps: what a stale holder's story starts with.
    faults: Vec<(Nanos, Vec<u32>, bool, String)>,
    /// The accepted write of the latest tenure so far.
    newest: Option<Write>,
    accepted: u64,
    rejected: u64,
    violation: Option<Violation>,
}

impl MutualExclusion {
    fn accepted(&mut self, at: Nanos, client: NodeId, attempt: u64, seq: u32, view: &dyn RunView) {
        self.accepted += 1;
        let Some(&grant) = self.tenures.get(&(client.0, attempt)) else {
            return;
        };
        let write = Write {
            client: client.0,
            seq,
            grant,
            at,
        };
        match self.newest {
            Some(newer) if newer.grant.order > grant.order => {
                if self.violation.is_none() {
                    self.violation = Some(self.explain(write, newer, view));
                }
            }
            Some(newer) if newer.grant.order == grant.order => {}
            _ => self.newest = Some(write),
        }
    }

    fn explain(&self, stale: Write, newer: Write, view: &dyn RunView) -> Violation {
        let (s, n) = (view.name(stale.client), view.name(newer.client));
        let granted = |w: Write, who: &str| {
            let what = if w.grant.queued {
                format!(
                    "created {who}'s lock node {}",
                    super::znode_name(w.grant.token)
                )
            } else {
                format!("granted the lock to {who} (grant {})", w.grant.token)
            };
            (
                w.grant.at,
                format!(
                    "{} {} {what}",
                    format_instant(w.grant.at),
                    view.name(w.grant.server),
                ),
            )
        };
        let mut evidence = vec![granted(stale, s), granted(newer, n)];
        let window = |at: Nanos| at > stale.grant.at && at < stale.at;
        for (at, nodes, jump, what) in &self.faults {
            if window(*at) && (*jump || nodes.contains(&stale.client)) {
                evidence.push((*at, format!("{} {what}", format_instant(*at))));
            }
        }
        for &(at, server, client, token) in &self.expired {
            if window(at) && client == stale.client {
                let what = if stale.grant.queued {
                    format!(
                        "expired {s}'s session and deleted its lock node {}",
                        super::znode_name(token)
                    )
                } else {
                    format!("let {s}'s lease (grant {token}) go: it had expired")
                };
                evidence.push((
                    at,
                    format!("{} {} {what}", format_instant(at), view.name(server)),
                ));
            }
        }
        for w in [newer, stale] {
            evidence.push((
                w.at,
                format!(
                    "{} the resource accepted {}'s write {} (grant {})",
                    format_instant(w.at),
                    view.name(w.client),
                    w.seq,
                    w.grant.token
                ),
            ));
        }
        evidence.sort_by_key(|(at, _)| *at);
        Violation {
            at: stale.at,
            nodes: vec![s.to_string(), n.to_string()],
            message: format!(
                "the resource accepted {s}'s write {} under grant {} after it had accepted {n}'s \
                 write under a later grant: {s} still believed it held the lock, and two \
                 holders acted on the resource at once",
                stale.seq, stale.grant.token
            ),
            evidence: evidence.into_iter().map(|(_, e)| e).collect(),
        }
    }
}

impl Invariant for MutualExclusion {
    fn name(&self) -> String {
        "mutual_exclusion".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = fact.downcast_ref::<LockFact>() else {
            return;
        };
        match *fact {
            // A ZooKeeper lock node's creation places its tenure as a grant does: the lock
            // passes from node to node in the order they were created.
            LockFact::Granted {
                client,
                attempt,
                token,
            }
            | LockFact::Queued {
                client,
                attempt,
                seq: token,
            } => {
                self.made += 1;
                let grant = Grant {
                    order: self.made,
                    queued: matches!(fact, LockFact::Queued { .. }),
                    server: node,
                    token,
                    at,
                };
                self.granted.insert((client.0, attempt), grant);
            }
            LockFact::Acquired { attempt, .. } => {
                if let Some(&grant) = self.granted.get(&(node, attempt)) {
                    self.tenures.insert((node, attempt), grant);
                }
            }
            LockFact::Expired { client, token } => {
                self.expired.push((at, node, client.0, token));
            }
            LockFact::Accepted {
                client,
                attempt,
                seq,
            } => self.accepted(at, client, attempt, seq, view),
            LockFact::Rejected { .. } => self.rejected += 1,
            _ => {}
        }
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        let (nodes, jump) = match &fault.applied {
            Applied::Pause { nodes } | Applied::Crash { nodes } => (nodes, false),
            Applied::ClockJump { nodes, .. } => (nodes, true),
            _ => return,
        };
        self.faults
            .push((at, nodes.clone(), jump, fault.describe(view)));
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        Some(format!(
            "{} grants; the resource accepted {} writes in grant order{}",
            self.made,
            self.accepted,
            match self.rejected {
                0 => String::new(),
                n => format!(" and refused {n} stale one(s)"),
            }
        ))
    }
}

/// The checker of `lock_progress D`.
pub(crate) struct LockProgress {
    bound: FromLastFault,
    /// The last acquisition: when, and by whom.
    last: Option<(Nanos, u32)>,
    /// Who holds the lock in its own belief, with the token, and who crashed holding it.
    holding: BTreeMap<u32, u64>,
    crashed_holding: Vec<(Nanos, u32, u64)>,
    acquisitions: u64,
    violation: Option<Violation>,
    ended: Option<Status>,
}

impl LockProgress {
    pub(crate) fn new(bound: Nanos) -> Self {
        LockProgress {
            bound: FromLastFault::new(bound),
            last: None,
            holding: BTreeMap::new(),
            crashed_holding: Vec::new(),
            acquisitions: 0,
            violation: None,
            ended: None,
        }
    }

    /// The stretch without an acquisition that is open at `now`: where it started and why.
    fn since(&self) -> Nanos {
        self.bound.start(self.last.map_or(0, |(at, _)| at))
    }

    /// A violation if the stretch open at `now` has reached the bound.
    fn late(&self, now: Nanos, view: &dyn RunView, ending: bool) -> Option<Violation> {
        let since = self.since();
        let due = self.bound.due(since);
        if now < due || (!ending && now == due) {
            return None;
        }
        let mut evidence = Vec::new();
        let mut nodes = Vec::new();
        if let Some((at, who)) = self.last {
            evidence.push(format!(
                "{} {} acquired the lock (the last acquisition)",
                format_instant(at),
                view.name(who)
            ));
        }
        for &(at, who, token) in &self.crashed_holding {
            if at >= self.last.map_or(0, |(a, _)| a) {
                evidence.push(format!(
                    "{} {} crashed holding the lock (grant {token})",
                    format_instant(at),
                    view.name(who)
                ));
                nodes.push(view.name(who).to_string());
            }
        }
        let after = if since == self.bound.quiet_since && since > 0 {
            format!("the last fault at {}", format_instant(since))
        } else if since == 0 {
            "the start".to_string()
        } else {
            format!("the last acquisition at {}", format_instant(since))
        };
        let until = if ending {
            format!("the end of the run at {}", format_instant(now))
        } else {
            format_instant(now).to_string()
        };
        Some(Violation {
            at: due,
            nodes,
            message: format!(
                "no client acquired the lock for {} after {after} (none until {until}): the \
                 lock is stuck",
                format_duration(self.bound.bound)
            ),
            evidence,
        })
    }
}

impl Invariant for LockProgress {
    fn name(&self) -> String {
        format!("lock_progress {}", format_duration(self.bound.bound))
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = fact.downcast_ref::<LockFact>() else {
            return;
        };
        match *fact {
            LockFact::Acquired { token, .. } => {
                if self.violation.is_none() {
                    self.violation = self.late(at, view, false);
                }
                self.acquisitions += 1;
                self.last = Some((at, node));
                self.holding.insert(node, token);
            }
            LockFact::Released { .. } => {
                self.holding.remove(&node);
            }
            _ => {}
        }
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        // The stretch a fault interrupts is not judged: liveness counts from the last fault.
        if !self.bound.on_fault(at, fault) {
            return;
        }
        if let Applied::Crash { nodes } = &fault.applied {
            for n in nodes {
                if let Some(token) = self.holding.remove(n) {
                    self.crashed_holding.push((at, *n, token));
                }
            }
        }
    }
    fn on_end(&mut self, view: &dyn RunView) {
        let now = view.now();
        if self.violation.is_none() {
            self.violation = self.late(now, view, true);
        }
        self.ended = Some(match &self.violation {
            Some(v) => Status::Violated(v.clone()),
            None if self.last.is_none_or(|(at, _)| at < self.bound.quiet_since) => {
                Status::Unknown(format!(
                    "the run ended {} after the last fault, before the bound of {} had passed, \
                     with no acquisition since",
                    format_duration(now - self.bound.quiet_since),
                    format_duration(self.bound.bound)
                ))
            }
            None => Status::Pass,
        });
    }
    fn status(&self) -> Status {
        match (&self.ended, &self.violation) {
            (Some(s), _) => s.clone(),
            (None, Some(v)) => Status::Violated(v.clone()),
            (None, None) => Status::Unknown("the run has not ended".into()),
        }
    }
    fn detail(&self, _: &dyn RunView) -> Option<String> {
        Some(format!("{} acquisitions", self.acquisitions))
    }
}

/// `mutual_exclusion`'s catalogue entry.
///
/// ```
/// use sim::node::Property;
/// use sim::protocols::lock::invariant::mutual_exclusion;
/// let entry = mutual_exclusion();
/// assert_eq!((entry.info.name, entry.info.property), ("mutual_exclusion", Property::Safety));
/// ```
pub fn mutual_exclusion() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "mutual_exclusion",
            property: Property::Safety,
            definition: "(lock) The resource carries out the lock holders' writes one holder at \
                         a time, in the order the lock was granted (a tenure is placed at the \
                         last grant made for its try before its client acquired: with RedLock, \
                         the grant that completed its majority or a later one): once it has \
                         accepted a write of a tenure placed at grant g, it never accepts one of \
                         a tenure placed before g (a holder that lost the lock while still \
                         believing it held it, acting after its successor). A superseded \
                         holder's write landing before its successor's first write is allowed.",
            bound: None,
        },
        build: |_, _| Box::new(MutualExclusion::default()),
    }
}

/// `lock_progress D`'s catalogue entry.
///
/// ```
/// use sim::protocols::lock::invariant::lock_progress;
/// const S: u64 = 1_000_000_000;
/// let entry = lock_progress();
/// assert!(entry.info.bound.is_some(), "[check] lock_progress = \"2s\" sets its bound");
/// assert_eq!((entry.build)(4, Some(2 * S)).name(), "lock_progress 2s");
/// ```
pub fn lock_progress() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "lock_progress",
            property: Property::Liveness,
            definition: "Set by `lock_progress = \"2s\"` in [check] (lock). From the last fault \
                         (or the start), some client acquires the lock in every stretch of the \
                         bound: counted from the later of the last acquisition and the last \
                         fault, a stretch reaching the bound with no acquisition is a violation \
                         (a holder crashed holding a lock that never expires). Unknown when the \
                         run ends within the bound of the last fault with no acquisition since.",
            bound: Some(BoundInfo {
                example: "2s",
                description: "The liveness bound: from the last fault, the lock must be \
                              acquired at least once in every stretch this long \
                              (lock_progress), e.g. \"2s\".",
            }),
        },
        build: |_, bound| {
            Box::new(LockProgress::new(
                bound.expect("a bounded invariant gets its bound"),
            ))
        },
    }
}
