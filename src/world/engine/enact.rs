//! Faults: enacting one (resolving its targets, changing the world), undoing it at the end of
//! its `for`, and recording what was done. What a crash takes from a paused node is dropped
//! here too, after the crash's own record.

use crate::node::{Client, Protocol};

use super::super::cluster::NodeStatus;
use super::super::fault::{self, Applied, FaultAction, FaultRecord, Origin};
use super::super::trace::{DropReason, Event, Observer};
use super::{Pending, Undo, World};

impl<P: Protocol, O: Observer<P>, C: Client<Api = P::Api>> World<P, O, C> {
    pub(super) fn fault(&mut self, index: u32) {
        let spec = self.spec.faults[index as usize].clone();
        let written = spec.action.describe(&self.cluster);
        let (applied, restarted) = match self.enact(&spec.action) {
            Ok(done) => done,
            Err(reason) => (Applied::Skipped { reason }, Vec::new()),
        };
        let lasting = match applied {
            Applied::Skipped { .. } => None,
            _ => spec.lasting,
        };
        let record = self.record_fault(FaultRecord {
            at: self.now,
            origin: spec.origin,
            written,
            applied,
            lasting,
            dynamic: spec.action.is_dynamic(),
        });
        self.drop_lost();
        for (node, writes) in std::mem::take(&mut self.lost_writes) {
            self.record_fault(FaultRecord {
                at: self.now,
                origin: spec.origin,
                written: format!("what the crash of {} lost", self.cluster.name(node)),
                applied: Applied::LostWrites {
                    nodes: vec![node],
                    writes,
                },
                lasting: None,
                dynamic: false,
            });
        }
        if let Some(d) = lasting {
            self.queue
                .push(self.now.saturating_add(d), Pending::End(record));
        }
        for node in restarted {
            self.start(node, true);
        }
    }

    /// The end of a fault's `for`: undo exactly what it did.
    pub(super) fn end_fault(&mut self, index: u32) {
        let original = &self.applied[index as usize];
        let written = format!("end of {}", original.written);
        let (applied, restarted) = match original.applied.clone() {
            healed @ (Applied::Partition { cut, .. } | Applied::Cut { cut, .. }) => {
                if self.net.cuts.remove(cut) {
                    let healed = Box::new(healed);
                    (Applied::Repair { cut, healed }, Vec::new())
                } else {
                    let reason = format!("partition #{cut} was already healed");
                    (Applied::Skipped { reason }, Vec::new())
                }
            }
            Applied::Crash { nodes } => {
                let down: Vec<u32> = nodes
                    .into_iter()
                    .filter(|&n| self.cluster.is_crashed(n))
                    .collect();
                self.restart_all(down)
            }
            Applied::Slow { nodes, by } => {
                for &n in &nodes {
                    self.net.speed_up(n, by);
                }
                (Applied::Unslow { nodes, by }, Vec::new())
            }
            Applied::Pause { nodes } => {
                let paused: Vec<u32> = nodes
                    .into_iter()
                    .filter(|&n| self.cluster.status(n) == NodeStatus::Paused)
                    .collect();
                self.resume_all(&paused);
                (Applied::Resume { nodes: paused }, Vec::new())
            }
            other => unreachable!("no `for` on {other:?}"),
        };
        self.record_fault(FaultRecord {
            at: self.now,
            origin: Origin::End,
            written,
            applied,
            lasting: None,
            dynamic: false,
        });
        for node in restarted {
            self.start(node, true);
        }
    }

    fn record_fault(&mut self, record: FaultRecord) -> u32 {
        debug_assert_eq!(record.at, self.now);
        self.applied.push(record);
        let index = self.applied.len() - 1;
        self.tracer
            .emit::<P>(self.now, &self.cluster, Event::Fault(&self.applied[index]));
        index as u32
    }

    /// The nodes `targets` name, any node eligible (up or down), sorted, each once. Targets
    /// are resolved in order, so the draws from the fault stream are the same as ever.
    fn resolve_among_all(&mut self, targets: &[fault::Target]) -> Result<Vec<u32>, String> {
        let all: Vec<u32> = (0..self.cluster.len() as u32).collect();
        let mut nodes = Vec::new();
        for t in targets {
            nodes.extend(fault::resolve_target(
                t,
                &all,
                &self.cluster,
                &mut self.fault_rng,
            )?);
        }
        nodes.sort_unstable();
        nodes.dedup();
        Ok(nodes)
    }

    /// Resolves a fault's targets and changes the world. Nodes to restart are returned, to be
    /// started after the fault's record is written.
    fn enact(&mut self, action: &FaultAction) -> Result<(Applied, Vec<u32>), String> {
        let targets = |w: &mut Self, t: &fault::Target| {
            let eligible = fault::eligible(action, &w.cluster);
            fault::resolve_target(t, &eligible, &w.cluster, &mut w.fault_rng)
        };
        let applied = match action {
            FaultAction::Partition(shape) => {
                let shape = fault::resolve_shape(shape, &self.cluster, &mut self.fault_rng)?;
                let cut = self.net.cuts.add(shape.cut_links());
                Applied::Partition { cut, shape }
            }
            FaultAction::Cut { from, to } => {
                let from = self.resolve_among_all(from)?;
                let to = self.resolve_among_all(to)?;
                let links: Vec<(u32, u32)> = from
                    .iter()
                    .flat_map(|&a| to.iter().filter(move |&&b| b != a).map(move |&b| (a, b)))
                    .collect();
                if links.is_empty() {
                    return Err("the cut has no link between distinct nodes".into());
                }
                let cut = self.net.cuts.add(links);
                Applied::Cut { cut, from, to }
            }
            FaultAction::Heal => {
                self.net.cuts.clear();
                Applied::Heal
            }
            FaultAction::Crash(t) => {
                let nodes = targets(self, t)?;
                for &n in &nodes {
                    self.crash(n);
                }
                Applied::Crash { nodes }
            }
            FaultAction::Restart(t) => {
                let nodes = targets(self, t)?;
                return Ok(self.restart_all(nodes));
            }
            FaultAction::Pause(t) => {
                let nodes = targets(self, t)?;
                for &n in &nodes {
                    self.cluster.set_status(n, NodeStatus::Paused);
                }
                Applied::Pause { nodes }
            }
            FaultAction::Resume(t) => {
                let nodes = targets(self, t)?;
                self.resume_all(&nodes);
                Applied::Resume { nodes }
            }
            FaultAction::ClockJump { target, by } => {
                let nodes = targets(self, target)?;
                // Only the wall clock steps; timers run on the monotonic one and stay put.
                for &n in &nodes {
                    self.cluster.clock_mut(n).jump(*by, self.now);
                }
                Applied::ClockJump { nodes, by: *by }
            }
            FaultAction::ClockDrift { target, ppm } => {
                let nodes = targets(self, target)?;
                for &n in &nodes {
                    self.cluster.set_drift(n, *ppm);
                    self.replan_timers(n);
                }
                Applied::ClockDrift { nodes, ppm: *ppm }
            }
            FaultAction::Delay { target, by } => {
                let nodes = targets(self, target)?;
                for &n in &nodes {
                    self.net.slow_down(n, *by);
                }
                Applied::Slow { nodes, by: *by }
            }
            FaultAction::Byzantine(ts) => {
                // Any node may turn, up or down: a crashed traitor is a traitor when it
                // restarts.
                let nodes = self.resolve_among_all(ts)?;
                for &n in &nodes {
                    self.slots[n as usize].traitor = true;
                }
                Applied::Traitor { nodes }
            }
            FaultAction::Recover => {
                self.net.cuts.clear();
                let resumed = self.cluster.nodes_with(NodeStatus::Paused);
                self.resume_all(&resumed);
                let crashed = self.cluster.nodes_with(NodeStatus::Crashed);
                let (_, restarted) = self.restart_all(crashed);
                return Ok((
                    Applied::Recover {
                        restarted: restarted.clone(),
                        resumed,
                    },
                    restarted,
                ));
            }
        };
        Ok((applied, Vec::new()))
    }

    /// The node's process dies. What was held for it while paused dies with it; it is dropped
    /// by [`Self::drop_lost`] once the crash's own record is written, so the trace reads "crash",
    /// then what the crash lost.
    fn crash(&mut self, node: u32) {
        let slot = &mut self.slots[node as usize];
        slot.state = None;
        // Held timer entries need nothing: their timers are gone with the rest of the state.
        slot.timers.clear();
        // Sends still waiting for a sync never leave; their `Outbox` events find them gone.
        slot.outbox.clear();
        slot.timing.out_free = 0;
        // The writes whose sync had not ended die with the page cache: newest first, the disk
        // goes back to what its last finished sync made durable.
        let mut writes = 0;
        while slot
            .journal
            .back()
            .is_some_and(|(done, _)| *done > self.now)
        {
            let (_, undo) = slot.journal.pop_back().expect("checked above");
            match undo {
                Undo::Writes(undo) => {
                    let disk = slot.disk.as_mut().expect("an undone write had a disk");
                    for w in undo {
                        disk.apply(w);
                    }
                }
                Undo::Unformat => slot.disk = None,
            }
            writes += 1;
        }
        slot.journal.clear();
        if writes > 0 {
            self.lost_writes.push((node, writes));
        }
        self.lost
            .extend(slot.held.drain(..).map(|event| (node, event)));
        self.cluster.set_status(node, NodeStatus::Crashed);
    }

    /// Drops, counts and traces every message and request a crash took from a paused node, in
    /// the order they arrived, so the accounting of [`Self::stats`] still balances.
    fn drop_lost(&mut self) {
        let reason = DropReason::CrashedWhilePaused;
        for (node, event) in std::mem::take(&mut self.lost) {
            match event {
                Pending::Deliver { from, id, slot, .. } => {
                    drop(self.wire.take(slot));
                    self.load(from, node, false);
                    self.drop_message(from, node, id, reason);
                }
                Pending::Request {
                    client, id, slot, ..
                } => {
                    drop(self.requests.take(slot));
                    self.drop_client_message(client, node, id, true, reason);
                }
                Pending::Timer { .. } | Pending::Outbox { .. } => {}
                _ => unreachable!("a node holds only deliveries, requests and timers"),
            }
        }
    }

    /// Marks crashed nodes up; the caller starts them once the fault is recorded.
    fn restart_all(&mut self, nodes: Vec<u32>) -> (Applied, Vec<u32>) {
        for &n in &nodes {
            self.cluster.set_status(n, NodeStatus::Up);
        }
        (
            Applied::Restart {
                nodes: nodes.clone(),
            },
            nodes,
        )
    }

    /// Resumes paused nodes: everything held for them is handed over now, in arrival order.
    fn resume_all(&mut self, nodes: &[u32]) {
        for &n in nodes {
            self.cluster.set_status(n, NodeStatus::Up);
            for event in std::mem::take(&mut self.slots[n as usize].held) {
                self.queue.push(self.now, event);
            }
        }
    }

    /// After a drift change, every pending timer of the node fires when its deadline is
    /// reached on the re-paced monotonic clock.
    fn replan_timers(&mut self, node: u32) {
        let clock = *self.cluster.monotonic_clock(node);
        for t in &mut self.slots[node as usize].timers {
            t.token = self.next_token;
            self.next_token += 1;
            let at = clock.true_time_of(t.deadline, self.now);
            t.due = at;
            self.queue.push(
                at,
                Pending::Timer {
                    node,
                    token: t.token,
                },
            );
        }
    }
}
