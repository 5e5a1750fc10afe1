//! `answered_within`: liveness for clients — once the faults have stopped for a while, the
//! clients are served.
//!
//! `leader_within` asks that a leader appear; this asks what a leader is for. A history of
//! timeouts is linearizable (every `info` operation may never have happened), so a store that
//! stops answering — a server that drops requests, a commit index that never moves — passes
//! every safety check. Here the clock starts at the last fault event (as for `leader_within`);
//! the bound is the time the cluster is given to recover from it. Every operation a client
//! invokes once the bound has passed must be answered: `ok`, or `fail` (it definitely did not
//! happen, such as a compare-and-set that found another value), never a timeout; and at least
//! one of them must be `ok`, so that a store that refuses everything fails too. An operation
//! still waiting when the run ends is not judged: its client had not given up yet. Unknown when
//! no operation invoked after the bound finished before the end of the run.

use crate::node::history::{History, Operation, Outcome, TimeUnit};
use crate::node::invariant::FromLastFault;
use crate::node::{
    FaultRecord, Nanos, Observation, ObservationKinds, RunView, format_duration, format_instant,
};

use super::linearizable::explain::describe;
use super::{Invariant, Property, Status, Violation};

/// How many unanswered operations a violation lists.
const SHOWN: usize = 5;

/// `answered_within D`.
pub(crate) struct AnsweredWithin {
    bound: FromLastFault,
    /// Whether any fault event happened (otherwise the bound starts at time zero).
    faulted: bool,
    /// When the run ended.
    ended: Nanos,
    /// The operations judged: invoked once the bound had passed, and finished by the end.
    judged: usize,
    /// How many of them were answered `ok`.
    ok: usize,
    status: Status,
}

impl AnsweredWithin {
    /// A checker that gives the cluster `bound` nanoseconds after the last fault event (after
    /// time zero if there is none) before every client operation must be answered.
    pub(crate) fn new(bound: Nanos) -> Self {
        AnsweredWithin {
            bound: FromLastFault::new(bound),
            faulted: false,
            ended: 0,
            judged: 0,
            ok: 0,
            status: Status::Unknown("the run has not ended".into()),
        }
    }

    /// From when operations are judged, and how that instant reads in a report.
    fn from(&self) -> (Nanos, String) {
        let from = self.bound.due(0);
        let since = if self.faulted {
            format!(
                "{} after the last fault at {}",
                format_duration(self.bound.bound),
                format_instant(self.bound.quiet_since)
            )
        } else {
            format!(
                "{} after the start of the run",
                format_duration(self.bound.bound)
            )
        };
        (from, format!("{} ({since})", format_instant(from)))
    }

    fn judge(&mut self, ops: &[Operation], unit: TimeUnit) -> Status {
        let (from, since) = self.from();
        let judged: Vec<(usize, &Operation)> = ops
            .iter()
            .enumerate()
            .filter(|(_, op)| op.invoke >= from && op.complete.is_some())
            .collect();
        self.judged = judged.len();
        self.ok = judged
            .iter()
            .filter(|(_, op)| matches!(op.outcome, Outcome::Ok(_)))
            .count();
        if judged.is_empty() {
            let waiting = ops.iter().filter(|op| op.invoke >= from).count();
            return Status::Unknown(if self.ended < from {
                format!(
                    "the run ended at {}, before {since}",
                    format_instant(self.ended)
                )
            } else if waiting > 0 {
                format!(
                    "the {waiting} operations invoked from {since} were still waiting when the \
                     run ended"
                )
            } else {
                format!(
                    "no client invoked an operation from {since}: the [workload] stops first, \
                     or has no clients"
                )
            });
        }
        let unanswered: Vec<&(usize, &Operation)> = judged
            .iter()
            .filter(|(_, op)| matches!(op.outcome, Outcome::Info))
            .collect();
        if let Some((_, first)) = unanswered.first() {
            let mut evidence: Vec<String> = unanswered
                .iter()
                .take(SHOWN)
                .map(|(i, op)| format!("{} (timed out)", describe(*i, op, unit)))
                .collect();
            if unanswered.len() > SHOWN {
                evidence.push(format!("and {} more", unanswered.len() - SHOWN));
            }
            evidence.push(format!(
                "{} answered ok, {} refused (fail)",
                self.ok,
                judged.len() - unanswered.len() - self.ok
            ));
            return Status::Violated(Violation {
                at: first.complete.unwrap_or(self.ended),
                nodes: Vec::new(),
                message: format!(
                    "{} of the {} operations invoked from {since} were never answered: their \
                     clients gave up",
                    unanswered.len(),
                    judged.len()
                ),
                evidence,
            });
        }
        if self.ok == 0 {
            let (i, first) = judged[0];
            return Status::Violated(Violation {
                at: first.complete.unwrap_or(self.ended),
                nodes: Vec::new(),
                message: format!(
                    "none of the {} operations invoked from {since} succeeded: every one was \
                     refused (fail)",
                    judged.len()
                ),
                evidence: vec![format!("the first: {}", describe(i, first, unit))],
            });
        }
        Status::Pass
    }
}

impl Invariant for AnsweredWithin {
    fn name(&self) -> String {
        format!("answered_within {}", format_duration(self.bound.bound))
    }

    fn property(&self) -> Property {
        Property::Liveness
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }

    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _: &dyn RunView) {
        if self.bound.on_fault(at, fault) {
            self.faulted = true;
        }
    }

    fn on_end(&mut self, view: &dyn RunView) {
        self.ended = view.now();
        // A run without clients never calls `on_history`: judged here too, it says why.
        self.status = self.judge(&[], TimeUnit::Nanos);
    }

    fn on_history(&mut self, history: &History) {
        debug_assert_eq!(
            history.time_unit,
            TimeUnit::Nanos,
            "a run's history is timed in virtual nanoseconds"
        );
        debug_assert!(
            history
                .ops
                .iter()
                .all(|op| op.complete.is_none_or(|c| c >= op.invoke)),
            "an answer before its question"
        );
        self.status = self.judge(&history.ops, history.time_unit);
    }

    fn status(&self) -> Status {
        self.status.clone()
    }

    fn detail(&self, _: &dyn RunView) -> Option<String> {
        (self.judged > 0).then(|| {
            format!(
                "{} operations invoked from {} answered, {} of them ok",
                self.judged,
                self.from().1,
                self.ok
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster_at;
    use crate::node::Applied;
    use crate::node::history::{Call, Output, Value};
    use crate::world::Origin;

    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000 * MS;

    fn op(invoke: Nanos, complete: Option<Nanos>, outcome: Outcome) -> Operation {
        Operation {
            process: 1,
            key: Some("k".into()),
            call: Call::Write(Value::Int(7)),
            invoke,
            complete,
            outcome,
            node: None,
        }
    }

    fn ok(invoke: Nanos) -> Operation {
        op(invoke, Some(invoke + 5 * MS), Outcome::Ok(Output::Done))
    }

    fn timed_out(invoke: Nanos) -> Operation {
        op(invoke, Some(invoke + 500 * MS), Outcome::Info)
    }

    fn refused(invoke: Nanos) -> Operation {
        op(invoke, Some(invoke + 5 * MS), Outcome::Fail)
    }

    fn fault(at: Nanos, applied: Applied) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::Schedule(0),
            written: "a fault".into(),
            applied,
            lasting: None,
            dynamic: false,
        }
    }

    /// The verdict on `ops` of a run with `faults` that ended at `ended`, with a bound of 2 s.
    fn judged_after(faults: &[FaultRecord], ended: Nanos, ops: Vec<Operation>) -> Status {
        let mut check = AnsweredWithin::new(2 * S);
        for f in faults {
            check.on_fault(f.at, f, &cluster_at(3, f.at));
        }
        check.on_end(&cluster_at(3, ended));
        check.on_history(&History {
            ops,
            time_unit: TimeUnit::Nanos,
            model: None,
        });
        check.status()
    }

    /// The verdict on `ops` of a run that healed its last fault at `healed` (if any) and ended
    /// at `ended`.
    fn judged(healed: Option<Nanos>, ended: Nanos, ops: Vec<Operation>) -> Status {
        let heals: Vec<FaultRecord> = healed
            .map(|at| fault(at, Applied::Heal))
            .into_iter()
            .collect();
        judged_after(&heals, ended, ops)
    }

    #[test]
    fn a_store_that_stops_answering_fails_though_its_history_is_linearizable() {
        // Served before the heal at 10 s, then every operation times out.
        let ops = vec![
            ok(S),
            timed_out(11 * S),
            timed_out(13 * S),
            timed_out(14 * S),
        ];
        let Status::Violated(v) = judged(Some(10 * S), 20 * S, ops) else {
            panic!("no answer after the bound is a violation")
        };
        assert_eq!(
            v.message,
            "2 of the 2 operations invoked from 12.000s (2s after the last fault at 10.000s) were \
             never answered: their clients gave up"
        );
        assert_eq!(v.at, 13 * S + 500 * MS, "when the first judged one gave up");
        assert_eq!(
            v.evidence,
            [
                "#2 p1 write k 7 -> unknown  [13s, 13.5s] (timed out)",
                "#3 p1 write k 7 -> unknown  [14s, 14.5s] (timed out)",
                "0 answered ok, 0 refused (fail)",
            ]
        );
    }

    #[test]
    fn timeouts_within_the_recovery_bound_do_not_count_and_answers_after_it_pass() {
        // The operation at 11 s times out while the cluster recovers; from 12 s all are served.
        let ops = vec![timed_out(11 * S), ok(12 * S), refused(13 * S), ok(15 * S)];
        assert_eq!(judged(Some(10 * S), 20 * S, ops), Status::Pass);
    }

    #[test]
    fn a_store_that_refuses_everything_fails() {
        let ops = vec![refused(13 * S), refused(14 * S)];
        let Status::Violated(v) = judged(Some(10 * S), 20 * S, ops) else {
            panic!("no success after the bound is a violation")
        };
        assert_eq!(
            v.message,
            "none of the 2 operations invoked from 12.000s (2s after the last fault at \
             10.000s) succeeded: every one was refused (fail)"
        );
        assert_eq!(
            v.evidence,
            ["the first: #0 p1 write k 7 -> fail  [13s, 13.005s]"]
        );
    }

    #[test]
    fn without_faults_the_bound_starts_at_time_zero() {
        let Status::Violated(v) = judged(None, 5 * S, vec![timed_out(3 * S), ok(4 * S)]) else {
            panic!("a timeout after the bound with no faults")
        };
        assert!(
            v.message
                .contains("from 2.000s (2s after the start of the run)"),
            "{}",
            v.message
        );
    }

    #[test]
    fn an_operation_still_waiting_at_the_end_is_not_judged() {
        let waiting = op(19 * S, None, Outcome::Info);
        assert_eq!(
            judged(Some(10 * S), 20 * S, vec![ok(13 * S), waiting.clone()]),
            Status::Pass
        );
        let Status::Unknown(why) = judged(Some(10 * S), 20 * S, vec![waiting]) else {
            panic!("nothing finished: unknown")
        };
        assert!(why.contains("1 operations invoked from 12.000s"), "{why}");
    }

    #[test]
    fn a_run_that_ends_before_the_bound_or_without_clients_is_unknown() {
        let Status::Unknown(why) = judged(Some(10 * S), 11 * S, vec![ok(10 * S)]) else {
            panic!("cut short")
        };
        assert_eq!(
            why,
            "the run ended at 11.000s, before 12.000s (2s after the last fault at 10.000s)"
        );
        let Status::Unknown(why) = judged(Some(10 * S), 20 * S, vec![ok(S)]) else {
            panic!("no operation after the bound")
        };
        assert!(why.contains("no client invoked an operation"), "{why}");
    }

    #[test]
    fn a_skipped_fault_does_not_restart_the_bound() {
        let skipped = fault(
            10 * S,
            Applied::Skipped {
                reason: "A is up".into(),
            },
        );
        let ops = vec![timed_out(5 * S), ok(11 * S)];
        assert!(matches!(
            judged_after(&[skipped], 20 * S, ops),
            Status::Violated(_)
        ));
    }
}
