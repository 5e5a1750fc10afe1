//! The three roles' own state and rules, each free of I/O: the node (`super::Paxos`) routes
//! messages to them and turns their answers into sends, disk writes and facts.

use std::collections::{BTreeMap, BTreeSet};

use super::{Ballot, Value};
use crate::node::NodeId;

/// A proposer: its own value, and the ballot it is working on.
#[derive(Debug)]
pub(super) struct Proposer {
    /// The value it was handed.
    value: Value,
    attempt: Attempt,
    /// How many times a higher ballot preempted one of its own: sizes the backoff window.
    pub(super) preemptions: u32,
    /// Its ballot that a majority accepted, and the value: it is done.
    pub(super) chosen: Option<(Ballot, Value)>,
}

#[derive(Debug)]
enum Attempt {
    /// Not working on a ballot: before its first, or waiting out a backoff.
    Idle,
    /// Phase 1: the promises heard so far, with what each acceptor reported accepted.
    Preparing {
        ballot: Ballot,
        promises: BTreeMap<NodeId, Option<(Ballot, Value)>>,
    },
    /// Phase 2: the acceptors that accepted so far.
    Accepting {
        ballot: Ballot,
        value: Value,
        accepted: BTreeSet<NodeId>,
    },
}

impl Proposer {
    pub(super) fn new(value: Value) -> Self {
        Proposer {
            value,
            attempt: Attempt::Idle,
            preemptions: 0,
            chosen: None,
        }
    }

    /// The ballot it is working on, if any.
    pub(super) fn ballot(&self) -> Option<Ballot> {
        match &self.attempt {
            Attempt::Idle => None,
            Attempt::Preparing { ballot, .. } | Attempt::Accepting { ballot, .. } => Some(*ballot),
        }
    }

    /// Phase 1 of `ballot` begins.
    pub(super) fn preparing(&mut self, ballot: Ballot) {
        self.attempt = Attempt::Preparing {
            ballot,
            promises: BTreeMap::new(),
        };
    }

    /// A higher ballot exists: abandons the current one if `higher` outranks it. True when it
    /// did (the caller then retries).
    pub(super) fn preempted_by(&mut self, higher: Ballot) -> bool {
        match self.ballot() {
            Some(mine) if higher > mine && self.chosen.is_none() => {
                self.attempt = Attempt::Idle;
                self.preemptions += 1;
                true
            }
            _ => false,
        }
    }

    /// A promise for `ballot` from `from`. When it completes a majority: the value to propose
    /// in phase 2 and whether it is the proposer's own — the value of the highest ballot the
    /// promises report accepted (unless `ignore_accepted`, the broken design), else its own.
    pub(super) fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        accepted: Option<(Ballot, Value)>,
        quorum: usize,
        ignore_accepted: bool,
    ) -> Option<(Value, bool)> {
        let Attempt::Preparing {
            ballot: mine,
            promises,
        } = &mut self.attempt
        else {
            return None;
        };
        if *mine != ballot {
            return None;
        }
        promises.insert(from, accepted);
        if promises.len() < quorum {
            return None;
        }
        let highest = promises.values().flatten().max_by_key(|(b, _)| *b);
        let (value, own) = match highest {
            Some(&(_, v)) if !ignore_accepted => (v, v == self.value),
            _ => (self.value, true),
        };
        self.attempt = Attempt::Accepting {
            ballot,
            value,
            accepted: BTreeSet::new(),
        };
        Some((value, own))
    }

    /// `from` accepted `ballot`. True when that makes a majority for the proposer's current
    /// ballot: its proposal is chosen and it is done.
    pub(super) fn on_accepted(&mut self, from: NodeId, ballot: Ballot, quorum: usize) -> bool {
        let Attempt::Accepting {
            ballot: mine,
            value,
            accepted,
        } = &mut self.attempt
        else {
            return false;
        };
        if *mine != ballot {
            return false;
        }
        accepted.insert(from);
        if accepted.len() < quorum {
            return false;
        }
        self.chosen = Some((ballot, *value));
        self.attempt = Attempt::Idle;
        true
    }

    /// For `sim step`.
    pub(super) fn describe(&self, name: &dyn Fn(NodeId) -> String) -> String {
        let own = format!("{}'s value", name(self.value.0));
        if let Some((b, v)) = self.chosen {
            return format!(
                "done: {}'s value chosen in ballot {}",
                name(v.0),
                ballot(b, name)
            );
        }
        match &self.attempt {
            Attempt::Idle => format!(
                "idle, proposing {own}; preempted {} times",
                self.preemptions
            ),
            Attempt::Preparing {
                ballot: b,
                promises,
            } => format!(
                "phase 1 of ballot {}: {} promise(s)",
                ballot(*b, name),
                promises.len()
            ),
            Attempt::Accepting {
                ballot: b,
                value,
                accepted,
            } => format!(
                "phase 2 of ballot {}, {}'s value: {} accept(s)",
                ballot(*b, name),
                name(value.0),
                accepted.len()
            ),
        }
    }
}

/// A ballot as people write it: round, then proposer (`3.A`).
pub(super) fn ballot(b: Ballot, name: &dyn Fn(NodeId) -> String) -> String {
    format!("{}.{}", b.round, name(b.proposer))
}

/// An acceptor: what it promised and what it accepted last.
#[derive(Debug, Default)]
pub(super) struct Acceptor {
    pub(super) promised: Option<Ballot>,
    pub(super) accepted: Option<(Ballot, Value)>,
}

impl Acceptor {
    /// A `Prepare`: promises `ballot` unless it promised a higher one (then `Err` with it).
    /// `Ok(true)` when the promise is new (to be written to disk), `Ok(false)` for a repeat.
    pub(super) fn on_prepare(&mut self, ballot: Ballot) -> Result<bool, Ballot> {
        match self.promised {
            Some(p) if p > ballot => Err(p),
            Some(p) if p == ballot => Ok(false),
            _ => {
                self.promised = Some(ballot);
                Ok(true)
            }
        }
    }

    /// An `Accept`: accepts unless it promised a higher ballot (then `Err` with it). `Ok(true)`
    /// when newly accepted, `Ok(false)` for a repeat.
    pub(super) fn on_accept(&mut self, ballot: Ballot, value: Value) -> Result<bool, Ballot> {
        match self.promised {
            Some(p) if p > ballot => Err(p),
            _ => {
                self.promised = Some(ballot);
                let fresh = self.accepted != Some((ballot, value));
                self.accepted = Some((ballot, value));
                Ok(fresh)
            }
        }
    }

    /// For `sim step`.
    pub(super) fn describe(&self, name: &dyn Fn(NodeId) -> String) -> String {
        let promised = self
            .promised
            .map_or("nothing".to_string(), |b| ballot(b, name));
        let accepted = self.accepted.map_or("nothing".to_string(), |(b, v)| {
            format!("{}'s value in ballot {}", name(v.0), ballot(b, name))
        });
        format!("promised {promised}; accepted {accepted}")
    }
}

/// A learner: the acceptances heard per ballot, and the value learned.
#[derive(Debug, Default)]
pub(super) struct Learner {
    heard: BTreeMap<Ballot, (Value, BTreeSet<NodeId>)>,
    pub(super) learned: Option<(Ballot, Value)>,
}

impl Learner {
    /// `from` accepted `value` in `ballot`. True when that makes a majority for a value other
    /// than the one learned (the first time; again only in a broken design): it learns it.
    pub(super) fn on_accepted(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        value: Value,
        quorum: usize,
    ) -> bool {
        let (v, who) = self
            .heard
            .entry(ballot)
            .or_insert_with(|| (value, BTreeSet::new()));
        if *v != value {
            return false; // one ballot, one value: a sound proposer never sends two
        }
        who.insert(from);
        if who.len() < quorum || self.learned.is_some_and(|(_, l)| l == value) {
            return false;
        }
        self.learned = Some((ballot, value));
        true
    }

    /// For `sim step`.
    pub(super) fn describe(&self, name: &dyn Fn(NodeId) -> String) -> String {
        match self.learned {
            Some((b, v)) => format!("learned {}'s value (ballot {})", name(v.0), ballot(b, name)),
            None => format!("nothing learned; heard {} ballot(s)", self.heard.len()),
        }
    }
}
