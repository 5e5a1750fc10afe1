//! How long things take inside a node: a synced disk write, a timer's lateness, the processing
//! of an input. All three default to nothing, which is the world as it ran before they existed
//! (no draw, no event, no record: every trace hash stays where it was).
//!
//! The model, precisely:
//! - **Synced writes** (`[storage] sync`). The writes a handler asks for (`persist`,
//!   `log_append`, `log_truncate`) are on disk at once, in order, as before; what takes time is
//!   the sync that makes them durable. The first send or reply the handler asks for after one or
//!   more writes waits for one sync of them, and so does every later send of that handler. A
//!   node has one disk: a sync starts when the previous one ended, so writes queue. Writes with
//!   no send after them are synced too, when the handler ends, and keep the disk busy.
//! - **Processing** (`[timing] processing`): a handler's first send or reply leaves after a
//!   drawn delay, as if the node took that long to compute it.
//! - **Sends keep their order.** A node's sends leave in the order it asked for them, across
//!   handlers: one outgoing queue per node. A send that need not wait may still leave late,
//!   behind one that waits for a sync.
//! - **A crash** loses every send still waiting in the node's queue: the process died before
//!   it handed them to the network, so they never appear as sends in the trace. A real disk
//!   allows two outcomes for the writes whose sync had not ended: they survive (they reached
//!   the platters first), or they are lost with the page cache. By default they survive; with
//!   `[storage] lose_unsynced = true` they are lost — the disk is put back as it was after its
//!   last finished sync, and the crash's trace says how many writes it took. A protocol that
//!   answers only after its sync loses nothing it promised; one that answers first does.
//!   A paused node's due sends are held, like its inputs, until it resumes.
//! - **Timer jitter** (`[timing] timer_jitter`): each timer, when set, fires late by a drawn
//!   amount on top of its `after`, as scheduling noise makes real timers do.
//!
//! Each draw comes from a stream of its own per node (`Stream::Disk`, `TimerJitter`,
//! `Processing`), so turning one on moves no other draw.

use crate::node::{Nanos, NodeId, Rng, Stream};

use super::network::Latency;

/// How long a node's disk syncs take, how late its timers fire, and how long it processes an
/// input before its sends leave. `None` everywhere (the default) takes no time at all.
///
/// ```
/// use sim::world::{Latency, Timing};
/// const MS: u64 = 1_000_000;
/// // The Raft paper's servers: a synced write of 10-15 ms before a vote or an append is answered.
/// let timing = Timing { sync: Some(Latency::Uniform { min: 10 * MS, max: 15 * MS }), ..Timing::default() };
/// assert!(!timing.is_instant());
/// assert!(Timing::default().is_instant(), "the default takes no time");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timing {
    /// How long one sync of a node's disk takes; `None`: no time.
    pub sync: Option<Latency>,
    /// How late a timer fires after its deadline; `None`: exactly on time.
    pub timer_jitter: Option<Latency>,
    /// How long a handler takes before its first send leaves; `None`: no time.
    pub processing: Option<Latency>,
    /// A crash loses the writes whose sync had not ended (only with `sync`).
    pub lose_unsynced: bool,
}

impl Timing {
    /// True when nothing takes time: the world then draws nothing and delays nothing.
    ///
    /// ```
    /// use sim::world::{Latency, Timing};
    /// assert!(Timing::default().is_instant());
    /// let jitter = Timing { timer_jitter: Some(Latency::Constant(1)), ..Timing::default() };
    /// assert!(!jitter.is_instant());
    /// ```
    pub fn is_instant(&self) -> bool {
        self.sync.is_none() && self.timer_jitter.is_none() && self.processing.is_none()
    }
}

/// One node's timing state: its streams, when its disk is next free and when its last send
/// leaves.
pub(super) struct NodeTiming {
    disk: Rng,
    jitter: Rng,
    processing: Rng,
    /// When the last sync of this node's disk ends.
    pub(super) disk_free: Nanos,
    /// When the last send of this node's outgoing queue leaves.
    pub(super) out_free: Nanos,
}

impl NodeTiming {
    pub(super) fn new(seed: u64, node: NodeId) -> NodeTiming {
        NodeTiming {
            disk: Rng::derive(seed, Stream::Disk(node.0)),
            jitter: Rng::derive(seed, Stream::TimerJitter(node.0)),
            processing: Rng::derive(seed, Stream::Processing(node.0)),
            disk_free: 0,
            out_free: 0,
        }
    }

    /// One sync asked for at `now`: it starts when the disk is free and ends a drawn latency
    /// later. Returns when it ends.
    pub(super) fn sync(&mut self, timing: &Timing, now: Nanos) -> Nanos {
        let Some(latency) = &timing.sync else {
            return now;
        };
        let start = self.disk_free.max(now);
        self.disk_free = start.saturating_add(latency.sample(&mut self.disk));
        self.disk_free
    }

    /// How late a timer set now fires.
    pub(super) fn timer_jitter(&mut self, timing: &Timing) -> Nanos {
        timing
            .timer_jitter
            .as_ref()
            .map_or(0, |l| l.sample(&mut self.jitter))
    }

    /// How long this handler takes before its first send leaves.
    pub(super) fn processing(&mut self, timing: &Timing) -> Nanos {
        timing
            .processing
            .as_ref()
            .map_or(0, |l| l.sample(&mut self.processing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn syncs_queue_on_one_disk() {
        let timing = Timing {
            sync: Some(Latency::Constant(10 * MS)),
            ..Timing::default()
        };
        let mut node = NodeTiming::new(1, NodeId(0));
        assert_eq!(node.sync(&timing, 0), 10 * MS);
        // Asked for at 5 ms, it waits for the first to end.
        assert_eq!(node.sync(&timing, 5 * MS), 20 * MS);
        // An idle disk starts at once.
        assert_eq!(node.sync(&timing, 100 * MS), 110 * MS);
    }

    #[test]
    fn instant_timing_draws_nothing() {
        let timing = Timing::default();
        let mut node = NodeTiming::new(1, NodeId(0));
        assert_eq!(node.sync(&timing, 7), 7);
        assert_eq!(node.timer_jitter(&timing), 0);
        assert_eq!(node.processing(&timing), 0);
        assert_eq!(node.disk_free, 0, "the disk was never used");
    }
}
