//! The overload invariants, over the service's [`OverloadFact`]s, timed in true time from the
//! moment a node took a request in (`Accepted`) to its answer (`Answered`):
//!
//! - `latency_within D` (safety): every request a service node accepted is answered within `D`
//!   of being accepted — what a rate limiter promises for what it lets in. Requests it refused
//!   at once are not judged (they were answered fast); requests lost with a crashed node are not
//!   late, they are lost (their clients' timeouts tell).
//! - `no_cascade D` (safety): every `local` request — one that needs no other service — is
//!   taken in and served within `D` of arriving: a slow or failed downstream may fail the
//!   requests that need it, never the ones that do not. A local request refused (`queue_full`,
//!   `rate_limited`) violates it too.
//!
//! Both are safety properties with a bound: one late answer is a counterexample, whenever it
//! comes. A request still unanswered when the run ends is judged late once its bound has
//! passed.

use std::any::Any;
use std::collections::{BTreeMap, VecDeque};

use crate::node::{
    Applied, BoundInfo, FaultRecord, Invariant, InvariantInfo, Nanos, Observation,
    ObservationKinds, Property, ProtocolInvariant, RequestId, RunView, Status, Violation,
    format_duration, format_instant,
};

use super::api::{BreakerState, OverloadFact};

/// An accepted request not yet answered.
#[derive(Clone, Copy)]
struct Open {
    at: Nanos,
    op: &'static str,
    queued: u32,
}

fn name_of(r: RequestId) -> String {
    format!("c{}#{}", r.client.0, r.seq)
}

/// What both checks share: the requests each node has open, and recent events for evidence.
struct Tracker {
    bound: Nanos,
    /// Only `local` requests (no_cascade), or all.
    local_only: bool,
    open: BTreeMap<(u32, RequestId), Open>,
    /// Faults and breaker changes, the last few, for the evidence.
    recent: VecDeque<String>,
    violation: Option<Violation>,
}

impl Tracker {
    const KEPT: usize = 6;

    fn new(bound: Nanos, local_only: bool) -> Self {
        Tracker {
            bound,
            local_only,
            open: BTreeMap::new(),
            recent: VecDeque::new(),
            violation: None,
        }
    }

    fn note(&mut self, line: String) {
        self.recent.push_back(line);
        if self.recent.len() > Self::KEPT {
            self.recent.pop_front();
        }
    }

    fn judged(&self, op: &str) -> bool {
        !self.local_only || op == "local"
    }

    fn violate(
        &mut self,
        at: Nanos,
        node: u32,
        message: String,
        first: String,
        view: &dyn RunView,
    ) {
        if self.violation.is_some() {
            return;
        }
        let mut evidence: Vec<String> = self.recent.iter().cloned().collect();
        evidence.push(first);
        self.violation = Some(Violation {
            at,
            nodes: vec![view.name(node).to_string()],
            message,
            evidence,
        });
    }

    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(fact) = fact.downcast_ref::<OverloadFact>() else {
            return;
        };
        match *fact {
            OverloadFact::Accepted {
                request,
                op,
                queued,
            } if self.judged(op) => {
                self.open.insert((node, request), Open { at, op, queued });
            }
            OverloadFact::Rejected { request, op, why } if self.local_only && op == "local" => {
                let message = format!(
                    "{} refused {} ({why}), a local request that needs no other service",
                    view.name(node),
                    name_of(request)
                );
                let line = format!("{}: {message}", format_instant(at));
                self.violate(at, node, message, line, view);
            }
            OverloadFact::Answered {
                request, ok, why, ..
            } => {
                let Some(open) = self.open.remove(&(node, request)) else {
                    return;
                };
                let took = at - open.at;
                let queue = match open.queued {
                    0 => "straight to a worker".to_string(),
                    n => format!("behind {} queued", n - 1),
                };
                let line = format!(
                    "{}: {} accepted {} ({}, {queue}); answered {} at {}",
                    format_instant(open.at),
                    view.name(node),
                    name_of(request),
                    open.op,
                    if ok {
                        "ok".to_string()
                    } else {
                        format!("fail ({why})")
                    },
                    format_instant(at)
                );
                if took > self.bound {
                    let message = format!(
                        "{} answered {} ({}) {} after accepting it, more than {}",
                        view.name(node),
                        name_of(request),
                        open.op,
                        format_duration(took),
                        format_duration(self.bound)
                    );
                    self.violate(at, node, message, line, view);
                } else if self.local_only && !ok {
                    let message = format!(
                        "{} failed {}, a local request ({why})",
                        view.name(node),
                        name_of(request)
                    );
                    self.violate(at, node, message, line, view);
                }
            }
            OverloadFact::Breaker { from, to, .. } => {
                let turn = |s: BreakerState| s.upper();
                self.note(format!(
                    "{}: {}'s breaker {} → {}",
                    format_instant(at),
                    view.name(node),
                    turn(from),
                    turn(to)
                ));
            }
            _ => {}
        }
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        if let Applied::Crash { nodes } = &fault.applied {
            // What a crashed node had taken in is lost, not late.
            self.open.retain(|(n, _), _| !nodes.contains(n));
        }
        if !matches!(fault.applied, Applied::Skipped { .. }) {
            self.note(format!(
                "{}: {}",
                format_instant(at),
                fault.applied.describe(view)
            ));
        }
    }

    fn on_end(&mut self, view: &dyn RunView) {
        let now = view.now();
        let late = self
            .open
            .iter()
            .filter(|(_, o)| o.at + self.bound <= now)
            .min_by_key(|(_, o)| o.at)
            .map(|(&k, &o)| (k, o));
        if let Some(((node, request), open)) = late {
            let message = format!(
                "{} accepted {} ({}) at {} and had not answered it {} later",
                view.name(node),
                name_of(request),
                open.op,
                format_instant(open.at),
                format_duration(self.bound)
            );
            let line = format!(
                "{}: {} accepted {} behind {} queued",
                format_instant(open.at),
                view.name(node),
                name_of(request),
                open.queued.saturating_sub(1)
            );
            self.violate(open.at + self.bound, node, message, line, view);
        }
    }
}

/// `latency_within D` or `no_cascade D`.
struct Within {
    name: &'static str,
    tracker: Tracker,
}

impl Invariant for Within {
    fn name(&self) -> String {
        format!("{} {}", self.name, format_duration(self.tracker.bound))
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        self.tracker.on_fact(at, node, fact, view);
    }
    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, view: &dyn RunView) {
        self.tracker.on_fault(at, fault, view);
    }
    fn on_end(&mut self, view: &dyn RunView) {
        self.tracker.on_end(view);
    }
    fn status(&self) -> Status {
        Status::of(&self.tracker.violation)
    }
}

/// `latency_within D`: the bounded invariant, built with its bound.
pub(crate) fn latency_within(bound: Nanos) -> Box<dyn Invariant> {
    Box::new(Within {
        name: "latency_within",
        tracker: Tracker::new(bound, false),
    })
}

/// `no_cascade D`.
pub(crate) fn no_cascade(bound: Nanos) -> Box<dyn Invariant> {
    Box::new(Within {
        name: "no_cascade",
        tracker: Tracker::new(bound, true),
    })
}

/// The overload invariants, for `Protocol::invariants`.
///
/// ```
/// use sim::protocols::overload::invariants;
/// let names: Vec<_> = invariants::catalogue().iter().map(|i| i.info.name).collect();
/// assert_eq!(names, ["latency_within", "no_cascade"]);
/// ```
pub fn catalogue() -> Vec<ProtocolInvariant> {
    vec![
        ProtocolInvariant {
            info: InvariantInfo {
                name: "latency_within",
                property: Property::Safety,
                definition: "Set by `latency_within = \"200ms\"` in [check]. Every client \
                             request a service node accepted is answered within the bound of \
                             being accepted (queueing and service, in true time). Requests \
                             refused at once are not judged; requests lost with a crashed node \
                             are lost, not late (overload).",
                bound: Some(BoundInfo {
                    example: "200ms",
                    description: "The latency bound: every request a service node accepted \
                                  must be answered within it (latency_within), e.g. \"200ms\".",
                }),
            },
            build: |_, bound| latency_within(bound.expect("a bounded invariant gets its bound")),
        },
        ProtocolInvariant {
            info: InvariantInfo {
                name: "no_cascade",
                property: Property::Safety,
                definition: "Set by `no_cascade = \"500ms\"` in [check]. Every local request \
                             (one that needs no other service) is accepted and served within \
                             the bound: a slow or failed downstream may fail the requests that \
                             need it, never the front service's own (overload).",
                bound: Some(BoundInfo {
                    example: "500ms",
                    description: "The bound on local requests: each must be accepted and \
                                  served within it whatever the downstream does (no_cascade), \
                                  e.g. \"500ms\".",
                }),
            },
            build: |_, bound| no_cascade(bound.expect("a bounded invariant gets its bound")),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::testing::View;
    use crate::node::{ClientId, Origin};

    const MS: Nanos = 1_000_000;

    fn r(seq: u64) -> RequestId {
        RequestId {
            client: ClientId(0),
            seq,
        }
    }

    fn accepted(seq: u64, op: &'static str) -> OverloadFact {
        OverloadFact::Accepted {
            request: r(seq),
            op,
            queued: 3,
        }
    }

    fn answered(seq: u64, op: &'static str, ok: bool) -> OverloadFact {
        OverloadFact::Answered {
            request: r(seq),
            op,
            ok,
            why: if ok { "" } else { "circuit_open" },
        }
    }

    fn view(now: Nanos) -> View {
        View::new(&["A", "B"], now)
    }

    #[test]
    fn latency_within_fails_a_late_answer_and_passes_timely_ones() {
        let v = view(0);
        let mut good = latency_within(100 * MS);
        good.on_fact(0, 0, &accepted(1, "local"), &v);
        good.on_fact(100 * MS, 0, &answered(1, "local", true), &v);
        good.on_end(&view(5_000 * MS));
        assert_eq!(good.status(), Status::Pass);

        let mut bad = latency_within(100 * MS);
        bad.on_fact(0, 0, &accepted(1, "local"), &v);
        bad.on_fact(101 * MS, 0, &answered(1, "local", true), &v);
        let Status::Violated(x) = bad.status() else {
            panic!("a late answer passed")
        };
        assert_eq!(x.at, 101 * MS);
        assert!(
            x.message.contains("101ms after accepting it"),
            "{}",
            x.message
        );
        assert!(
            x.evidence.last().unwrap().contains("behind 2 queued"),
            "{:?}",
            x.evidence
        );
    }

    #[test]
    fn an_unanswered_request_is_late_once_its_bound_passes_unless_its_node_crashed() {
        let mut bad = latency_within(100 * MS);
        bad.on_fact(0, 0, &accepted(1, "local"), &view(0));
        bad.on_end(&view(99 * MS));
        assert_eq!(bad.status(), Status::Pass, "not late yet");
        bad.on_end(&view(100 * MS));
        assert!(matches!(bad.status(), Status::Violated(v) if v.at == 100 * MS));

        let mut lost = latency_within(100 * MS);
        lost.on_fact(0, 0, &accepted(1, "local"), &view(0));
        let crash = FaultRecord {
            at: 10 * MS,
            origin: Origin::Schedule(0),
            written: "crash A".into(),
            applied: Applied::Crash { nodes: vec![0] },
            lasting: None,
            dynamic: false,
        };
        lost.on_fault(10 * MS, &crash, &view(10 * MS));
        lost.on_end(&view(5_000 * MS));
        assert_eq!(lost.status(), Status::Pass);
    }

    #[test]
    fn no_cascade_judges_local_requests_only_and_a_refusal_of_one_fails_it() {
        let v = view(0);
        let mut check = no_cascade(100 * MS);
        check.on_fact(0, 0, &accepted(1, "remote"), &v);
        check.on_fact(900 * MS, 0, &answered(1, "remote", false), &v);
        check.on_fact(0, 0, &accepted(2, "local"), &v);
        check.on_fact(50 * MS, 0, &answered(2, "local", true), &v);
        check.on_end(&view(5_000 * MS));
        assert_eq!(
            check.status(),
            Status::Pass,
            "a slow remote request is allowed"
        );

        let mut refused = no_cascade(100 * MS);
        let breaker = OverloadFact::Breaker {
            from: BreakerState::Closed,
            to: BreakerState::Open,
            because: "5 failures".into(),
        };
        refused.on_fact(5 * MS, 0, &breaker, &v);
        let full = OverloadFact::Rejected {
            request: r(3),
            op: "local",
            why: "queue_full",
        };
        refused.on_fact(10 * MS, 0, &full, &v);
        let Status::Violated(x) = refused.status() else {
            panic!("a refused local request passed")
        };
        assert!(
            x.message.contains("refused c0#3 (queue_full)"),
            "{}",
            x.message
        );
        assert!(
            x.evidence[0].contains("A's breaker CLOSED → OPEN"),
            "{:?}",
            x.evidence
        );
    }
}
