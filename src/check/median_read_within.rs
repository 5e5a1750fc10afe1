//! `median_read_within`: a bound on what a read design costs — the median latency of the reads
//! that succeeded.
//!
//! A read's latency runs from its invocation to the answer its client saw. Only reads answered
//! `ok` count: a timed-out read has no latency, and a refused one returned nothing. Reads are a
//! key-value store's `get` and a bank's read of every balance. The median, not the mean or the
//! slowest, so that the reads caught in an election or a partition do not decide it: the bound
//! speaks of the common case, where the designs differ. A leader lease answers from the
//! leader's state at once, in one client round trip; ReadIndex first confirms leadership with a
//! heartbeat round, and a read through the log waits for a replication round (Raft thesis §6.4,
//! §6.4.1). Unknown when no read succeeded.

use crate::node::history::{Call, History, Outcome, TimeUnit};
use crate::node::{Nanos, Observation, ObservationKinds, RunView, format_duration};

use super::{Invariant, Property, Status, Violation};

/// `median_read_within D`.
pub(crate) struct MedianReadWithin {
    bound: Nanos,
    /// Each successful read's latency and the node that answered it, in invocation order.
    reads: Vec<(Nanos, Option<String>)>,
    /// When the run ended (the violation's instant).
    ended: Nanos,
    status: Status,
}

impl MedianReadWithin {
    /// A checker that wants the median successful read to take at most `bound` nanoseconds.
    pub(crate) fn new(bound: Nanos) -> Self {
        MedianReadWithin {
            bound,
            reads: Vec::new(),
            ended: 0,
            status: Status::Unknown("the run has not ended".into()),
        }
    }

    /// The successful reads' latencies, fastest first, and their lower median (as
    /// `median_decision_within` takes it), if any read succeeded.
    fn latencies(&self) -> (Vec<Nanos>, Option<Nanos>) {
        let mut latencies: Vec<Nanos> = self.reads.iter().map(|r| r.0).collect();
        latencies.sort_unstable();
        let median = latencies
            .get(latencies.len().saturating_sub(1) / 2)
            .copied();
        (latencies, median)
    }

    fn judge(&self) -> Status {
        let (latencies, median) = self.latencies();
        let Some(median) = median else {
            return Status::Unknown(
                "no read succeeded: the bound needs a [workload] whose reads are answered".into(),
            );
        };
        if median <= self.bound {
            return Status::Pass;
        }
        let within = latencies.partition_point(|&l| l <= self.bound);
        let quantile = |q: usize| latencies[(latencies.len() - 1) * q / 100];
        // Who answered the reads: a lease read is answered by the leader alone, so a design
        // that spreads reads or forwards them shows here.
        let mut answered: Vec<(String, usize)> = Vec::new();
        for (_, node) in &self.reads {
            let name = node.clone().unwrap_or_else(|| "?".into());
            match answered.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 += 1,
                None => answered.push((name, 1)),
            }
        }
        answered.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Status::Violated(Violation {
            at: self.ended,
            nodes: Vec::new(),
            message: format!(
                "the median read took {}, over the bound of {}: {} of {} successful reads were \
                 within it",
                format_duration(median),
                format_duration(self.bound),
                within,
                latencies.len()
            ),
            evidence: vec![
                format!(
                    "fastest {}, 10th percentile {}, 90th percentile {}, slowest {}",
                    format_duration(latencies[0]),
                    format_duration(quantile(10)),
                    format_duration(quantile(90)),
                    format_duration(latencies[latencies.len() - 1])
                ),
                format!(
                    "answered by {}",
                    answered
                        .iter()
                        .map(|(n, c)| format!("{n} ({c})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ],
        })
    }
}

impl Invariant for MedianReadWithin {
    fn name(&self) -> String {
        format!("median_read_within {}", format_duration(self.bound))
    }

    fn property(&self) -> Property {
        Property::Liveness
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }

    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}

    fn on_end(&mut self, view: &dyn RunView) {
        self.ended = view.now();
        // A run without clients never calls `on_history`: judged here too, it says why.
        self.status = self.judge();
    }

    fn on_history(&mut self, history: &History) {
        debug_assert_eq!(
            history.time_unit,
            TimeUnit::Nanos,
            "a run's history is timed in virtual nanoseconds"
        );
        self.reads = history
            .ops
            .iter()
            .filter(|op| matches!(op.call, Call::Read | Call::ReadAll))
            .filter(|op| matches!(op.outcome, Outcome::Ok(_)))
            .filter_map(|op| {
                let complete = op.complete?;
                debug_assert!(complete >= op.invoke, "an answer before its question");
                Some((complete.saturating_sub(op.invoke), op.node.clone()))
            })
            .collect();
        self.status = self.judge();
    }

    fn status(&self) -> Status {
        self.status.clone()
    }

    fn detail(&self, _: &dyn RunView) -> Option<String> {
        let (latencies, median) = self.latencies();
        Some(format!(
            "median {} over {} successful reads",
            format_duration(median?),
            latencies.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::history::{Operation, Output, Value};

    const MS: Nanos = 1_000_000;

    fn op(call: Call, invoke: Nanos, took: Option<Nanos>, outcome: Outcome) -> Operation {
        Operation {
            process: 0,
            key: Some("k".into()),
            call,
            invoke,
            complete: took.map(|t| invoke + t),
            outcome,
            node: Some("A".into()),
        }
    }

    fn read(invoke: Nanos, took: Nanos) -> Operation {
        op(
            Call::Read,
            invoke,
            Some(took),
            Outcome::Ok(Output::Value(None)),
        )
    }

    fn history(ops: Vec<Operation>) -> History {
        History {
            ops,
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }

    fn judged(bound: Nanos, ops: Vec<Operation>) -> Status {
        let mut check = MedianReadWithin::new(bound);
        check.on_history(&history(ops));
        check.status()
    }

    #[test]
    fn lease_reads_at_one_round_trip_pass_a_bound_between_one_and_two() {
        // Most reads take 2 ms (one client round trip); a few caught in an election take far
        // longer: the median is 2 ms.
        let mut ops: Vec<Operation> = (0..9).map(|i| read(i * 10 * MS, 2 * MS)).collect();
        ops.push(read(100 * MS, 300 * MS));
        ops.push(read(110 * MS, 250 * MS));
        assert_eq!(judged(3 * MS, ops), Status::Pass);
    }

    #[test]
    fn reads_that_wait_for_a_heartbeat_round_fail_it_and_say_by_how_much() {
        // ReadIndex: every read waits one more round trip, 4 ms.
        let ops: Vec<Operation> = (0..10).map(|i| read(i * 10 * MS, 4 * MS)).collect();
        let Status::Violated(v) = judged(3 * MS, ops) else {
            panic!("4 ms reads against a 3 ms bound")
        };
        assert_eq!(
            v.message,
            "the median read took 4ms, over the bound of 3ms: 0 of 10 successful reads were \
             within it"
        );
        assert_eq!(
            v.evidence[0],
            "fastest 4ms, 10th percentile 4ms, 90th percentile 4ms, slowest 4ms"
        );
        assert_eq!(v.evidence[1], "answered by A (10)");
    }

    #[test]
    fn only_reads_answered_ok_count() {
        // Slow writes, a timed-out read and a refused read do not move the median of the reads.
        let mut ops = vec![
            read(0, 2 * MS),
            read(10 * MS, 2 * MS),
            read(20 * MS, 2 * MS),
        ];
        for i in 0..5 {
            ops.push(op(
                Call::Write(Value::Int(i)),
                i as Nanos * MS,
                Some(50 * MS),
                Outcome::Ok(Output::Done),
            ));
            ops.push(op(
                Call::Read,
                i as Nanos * MS,
                Some(500 * MS),
                Outcome::Fail,
            ));
            ops.push(op(Call::Read, i as Nanos * MS, None, Outcome::Info));
        }
        assert_eq!(judged(3 * MS, ops), Status::Pass);
    }

    #[test]
    fn without_a_successful_read_the_bound_is_unknown_not_passed() {
        let Status::Unknown(why) = judged(3 * MS, vec![]) else {
            panic!("no reads, no verdict")
        };
        assert!(why.contains("no read succeeded"), "{why}");
    }
}
