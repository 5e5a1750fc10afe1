//! Client interaction (Raft §8; thesis §6.3–6.4): where a request goes, and how each read mode
//! serves a `get`.
//!
//! The rule kept: a node answers a request only with something that happened — a write's
//! result once its entry is applied, a read from a state that is at least as new as every
//! write completed before the read arrived (except under `read = "follower"`, the broken design
//! that reads whatever a server has applied) — or with a redirect for something that did not.

use std::sync::Arc;

use crate::node::{ClientRequest, Ctx, Op, Reply, RequestId, Role};

use super::Raft;
use super::config::ReadMode;
use super::log::Command;

/// A read-index read waiting for its confirmation (thesis §6.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PendingRead {
    pub request: RequestId,
    pub key: Arc<str>,
    /// The heartbeat round that must be acknowledged by a majority: the first sent after the
    /// read arrived.
    pub round: u64,
    /// The commit index noted once the leader had committed an entry of its term; the read
    /// waits until it is applied.
    pub index: Option<u64>,
}

impl Raft {
    /// Routes a request: reads by the read mode, writes through the leader's log.
    pub(super) fn on_client_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest) {
        let ClientRequest { id, op } = request;
        match op {
            // Stale by design: whatever this server has applied.
            Op::Get { key } if self.cfg.read == ReadMode::Follower => {
                ctx.reply(id, Reply::Ok(self.kv.get(&key)));
            }
            _ if self.role != Role::Leader => {
                let leader = self.leader();
                ctx.reply(id, Reply::NotLeader { leader });
            }
            Op::Get { key } if self.cfg.read == ReadMode::Lease && self.may_read_locally(ctx) => {
                ctx.reply(id, Reply::Ok(self.kv.get(&key)));
            }
            Op::Get { key } if self.cfg.read != ReadMode::Log => self.read_index(ctx, id, key),
            op => self.propose(ctx, id, op),
        }
    }

    /// Thesis §6.4.1: inside its lease, on its own clock (`lease_clock`), no other leader can
    /// exist; once its term's no-op is committed and applied, its state holds every completed
    /// write.
    fn may_read_locally(&self, ctx: &Ctx<'_, Self>) -> bool {
        let now = self.lease_clock(ctx);
        self.lease_until().is_some_and(|until| now < until)
            && self.committed_in_term()
            && self.last_applied >= self.commit_index
    }

    /// §8: append the command, unless the request was applied already (answer with its
    /// recorded result) or is in this term's log already (its answer is coming).
    fn propose(&mut self, ctx: &mut Ctx<'_, Self>, id: RequestId, op: Op) {
        if let Some(result) = self.kv.applied_result(id) {
            ctx.reply(id, Reply::Ok(result.clone()));
            return;
        }
        if self.kv.is_superseded(id) || self.in_log_of_this_term(id) {
            return;
        }
        let index = self.append_own(ctx, Command::Client { request: id, op });
        self.replicate_new(ctx, index);
        self.advance_commit(ctx);
    }

    /// Whether an uncommitted entry of the current term carries `id`.
    fn in_log_of_this_term(&self, id: RequestId) -> bool {
        let term = self.term();
        self.durable.log[self.commit_index as usize..]
            .iter()
            .rev()
            .take_while(|e| e.term == term)
            .any(|e| matches!(*e.command, Command::Client { request, .. } if request == id))
    }

    /// Thesis §6.4: note the read, and start the heartbeat round that will confirm this server
    /// still leads.
    fn read_index(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, key: Arc<str>) {
        self.reads.push(PendingRead {
            request,
            key,
            round: self.round + 1,
            index: None,
        });
        self.send_heartbeats(ctx);
        self.serve_reads(ctx);
    }

    /// Answers every waiting read whose round a majority acknowledged and whose index is
    /// applied. A read's index is the commit index once an entry of this term is committed.
    pub(super) fn serve_reads(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.reads.is_empty() {
            return;
        }
        let confirmed = self.lease.as_mut().map_or(0, |l| l.confirmed_round());
        let known = self.committed_in_term().then_some(self.commit_index);
        let applied = self.last_applied;
        let mut waiting = std::mem::take(&mut self.reads);
        waiting.retain_mut(|read| {
            read.index = read.index.or(known);
            let ready = read.round <= confirmed && read.index.is_some_and(|i| i <= applied);
            if ready {
                ctx.reply(read.request, Reply::Ok(self.kv.get(&read.key)));
            }
            !ready
        });
        self.reads = waiting;
    }
}
