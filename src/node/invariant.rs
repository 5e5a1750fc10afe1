//! The checker API: what an invariant receives as a run happens, and how it answers.
//!
//! It lives here, beside `Protocol`, so that a protocol's folder can hold invariants over its
//! own facts; the common invariants (`check/`) implement the same trait. An invariant sees
//! observations, facts, faults as they happened and a read-only [`RunView`] — never the engine.

use std::any::Any;

use serde::Serialize;

use super::history::History;
use super::{Applied, FaultRecord, Nanos, Observation, ObservationKinds, RunView};

/// Safety: nothing bad ever happens (a violation is final). Liveness: something good happens
/// within a bound (judged once the faults are over).
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::Property;
/// // A safety invariant's failure exits 1, a liveness one's 3.
/// let writes = Tiny::invariants();
/// assert_eq!(writes[0].info.property, Property::Safety);
/// assert_eq!(sim::run::exit::of_failure(Property::Liveness, true).code(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// Nothing bad ever happens: one counterexample is final.
    Safety,
    /// Something good happens within a bound, judged once the faults are over.
    Liveness,
}

/// The first violation an invariant found.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Invariant, Status};
/// // Feed Tiny's `writes_counted` a write that skips one: its first violation says so.
/// let (mut check, view) = (WritesCounted::default(), view());
/// check.on_fact(10 * MS, 0, &Wrote { n: 1 }, &view);
/// check.on_fact(20 * MS, 0, &Wrote { n: 3 }, &view);
/// let Status::Violated(v) = check.status() else { panic!("a skipped write passed") };
/// assert_eq!(v.at, 20_000_000);
/// assert_eq!(v.nodes, ["A"]);
/// assert_eq!(v.message, "write 3 came after write 1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// True time of the violation, in nanoseconds.
    pub at: Nanos,
    /// The nodes involved, by name.
    pub nodes: Vec<String>,
    /// One sentence: what went wrong.
    pub message: String,
    /// The events that led there, one per line, oldest first.
    pub evidence: Vec<String>,
}

/// An invariant's verdict on a run.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{Invariant, Status};
/// let (mut check, view) = (WritesCounted::default(), view());
/// check.on_fact(0, 0, &Wrote { n: 1 }, &view);
/// assert_eq!(check.status(), Status::Pass);
/// assert_eq!(Status::Unknown("the run ended too early".into()).name(), "unknown");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The property held over the whole run.
    Pass,
    /// The property failed; the first violation found.
    Violated(Violation),
    /// The run could not decide (it ended too early, a limit was hit).
    Unknown(String),
}

impl Status {
    /// A safety invariant's status: violated if it found a violation, else holding.
    ///
    /// ```
    /// use sim::node::{Status, Violation};
    /// assert_eq!(Status::of(&None), Status::Pass);
    /// let v = Violation { at: 5, nodes: vec!["A".into()], message: "two leaders".into(), evidence: vec![] };
    /// assert_eq!(Status::of(&Some(v.clone())), Status::Violated(v));
    /// ```
    pub fn of(violation: &Option<Violation>) -> Status {
        match violation {
            Some(v) => Status::Violated(v.clone()),
            None => Status::Pass,
        }
    }

    /// The status as reports write it: `pass`, `violation` or `unknown`.
    ///
    /// ```
    /// use sim::node::{Status, Violation};
    /// let v = Violation { at: 5, nodes: vec![], message: "two leaders".into(), evidence: vec![] };
    /// assert_eq!(Status::Pass.name(), "pass");
    /// assert_eq!(Status::Violated(v).name(), "violation");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Violated(_) => "violation",
            Status::Unknown(_) => "unknown",
        }
    }
}

/// A property watched during a run.
///
/// The world calls it as the run happens — each observation, fact and fault the moment it is
/// true — then `on_end`, `on_history` and `status`. A safety invariant keeps its first
/// violation (it is final); a liveness one decides at the end. Here, a check that no node
/// ever reports a term lower than one it reported before, fed by hand through a [`RunView`]
/// stub, as its unit test would:
///
/// ```
/// use sim::node::{
///     ClockKind, Invariant, LocalNanos, Nanos, NodeStatus, Observation, Property, Role,
///     RunView, Status, Violation,
/// };
///
/// #[derive(Default)]
/// struct TermsNeverFall {
///     last: Vec<u64>,
///     violation: Option<Violation>,
/// }
///
/// impl Invariant for TermsNeverFall {
///     fn name(&self) -> String {
///         "terms_never_fall".into()
///     }
///     fn property(&self) -> Property {
///         Property::Safety
///     }
///     fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, view: &dyn RunView) {
///         let Observation::Role { term, .. } = *obs else { return };
///         let n = node as usize;
///         self.last.resize(self.last.len().max(n + 1), 0);
///         if term < self.last[n] && self.violation.is_none() {
///             self.violation = Some(Violation {
///                 at,
///                 nodes: vec![view.name(node).to_string()],
///                 message: format!("term fell from {} to {term}", self.last[n]),
///                 evidence: Vec::new(),
///             });
///         }
///         self.last[n] = self.last[n].max(term);
///     }
///     fn status(&self) -> Status {
///         Status::of(&self.violation)
///     }
/// }
///
/// /// Two nodes, always up, clocks at zero.
/// struct Stub(Vec<String>);
/// impl RunView for Stub {
///     fn now(&self) -> Nanos { 0 }
///     fn names(&self) -> &[String] { &self.0 }
///     fn status(&self, _: u32) -> NodeStatus { NodeStatus::Up }
///     fn read_clock(&self, _: u32, _: ClockKind) -> LocalNanos { 0 }
/// }
///
/// let view = Stub(vec!["A".into(), "B".into()]);
/// let mut check = TermsNeverFall::default();
/// let role = |term| Observation::Role { role: Role::Follower, term };
/// check.on_observation(10, 1, &role(3), &view);
/// assert_eq!(check.status(), Status::Pass);
/// check.on_observation(20, 1, &role(2), &view);
/// let Status::Violated(v) = check.status() else { panic!("a falling term passed") };
/// assert_eq!((v.at, v.nodes, v.message), (20, vec!["B".to_string()], "term fell from 3 to 2".into()));
/// ```
pub trait Invariant {
    /// As written in `[check]`, with its parameter if any: `leader_within 2s`.
    fn name(&self) -> String;
    /// Safety or liveness: decides the exit code when it fails.
    fn property(&self) -> Property;
    /// A node observed a common fact (role, authority, log appended, …).
    fn on_observation(&mut self, at: Nanos, node: u32, obs: &Observation, view: &dyn RunView);
    /// The kinds of observation [`Invariant::on_observation`] reads: a run hands it only
    /// those. Every kind unless it says otherwise; a checker that names too few misses facts,
    /// so name exactly those its `on_observation` matches.
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ALL
    }
    /// A node stated one of its protocol's own facts (`Protocol::Fact`). An invariant of that
    /// protocol (or family) reads it with `fact.downcast_ref::<TheFact>()`; the common ones
    /// ignore it.
    fn on_fact(&mut self, _at: Nanos, _node: u32, _fact: &dyn Any, _view: &dyn RunView) {}
    /// Whether it reads [`Invariant::on_step`]: a run calls that only on the invariants that
    /// say so, since every event of a run is a step.
    fn reads_steps(&self) -> bool {
        false
    }
    /// `node` begins a step: it handles a message (`Some((sender, message))`, typed by the
    /// protocol: read it with `message.downcast_ref::<TheMsg>()`), a timer, a client's request
    /// or its own (re)start. Every observation `node` makes until its next step, it makes in this
    /// one: an invariant over what a node must do in reply to a message settles it at the next.
    fn on_step(
        &mut self,
        _at: Nanos,
        _node: u32,
        _message: Option<(u32, &dyn Any)>,
        _view: &dyn RunView,
    ) {
    }
    /// A fault happened.
    fn on_fault(&mut self, _at: Nanos, _fault: &FaultRecord, _view: &dyn RunView) {}
    /// The run is over (`view.now()` is when it ended).
    fn on_end(&mut self, _view: &dyn RunView) {}
    /// The clients' history, once the run is over (only runs with a `[workload]` have one).
    fn on_history(&mut self, _history: &History) {}
    /// The run's `[limits] checker_steps`, given before the run: a checker that searches (the
    /// history checker) stops after that many steps with `Status::Unknown` naming the limit.
    /// Checkers that do not search ignore it.
    fn limit_steps(&mut self, _max_steps: u64) {}
    /// The verdict so far; final once `on_end` and `on_history` have been called.
    fn status(&self) -> Status;
    /// A line of context for a report when the invariant held (who led, how fast).
    fn detail(&self, _view: &dyn RunView) -> Option<String> {
        None
    }
}

/// What `sim list invariants` prints, and what `[check]` accepts.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::Property;
/// // What `sim list invariants` shows for Tiny's own invariant.
/// let info = Tiny::invariants()[0].info;
/// assert_eq!(info.name, "writes_counted");
/// assert_eq!(info.property, Property::Safety);
/// assert!(info.bound.is_none(), "[check] names it in `invariants`, with no duration");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvariantInfo {
    /// As `[check]` names it.
    pub name: &'static str,
    /// Safety or liveness.
    pub property: Property,
    /// The precise definition, as in the checker's module doc.
    pub definition: &'static str,
    /// `Some` when the invariant takes a duration bound (a liveness deadline such as "a leader
    /// within 2 s of the last fault"). Such an invariant is never listed in `invariants`:
    /// `[check] <name> = "2s"` sets its bound and enables it, and its `build` receives the bound.
    pub bound: Option<BoundInfo>,
}

/// The duration bound an invariant takes from `[check]`, as its catalogue entry describes it.
///
/// ```
/// use sim::node::BoundInfo;
///
/// // How `leader_within` describes the bound `[check] leader_within = "2s"` sets.
/// let bound = BoundInfo {
///     example: "2s",
///     description: "The liveness bound: some node must lead a majority's term within this \
///         long after the last fault, e.g. \"2s\". Enables the leader_within invariant.",
/// };
/// assert_eq!(bound.example, "2s");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundInfo {
    /// A typical bound as a scenario writes it, e.g. `"2s"`: error messages show it
    /// (`write leader_within = "2s" in [check]`).
    pub example: &'static str,
    /// What the bound means: the description of the `[check]` key in `sim schema`, which
    /// editors show.
    pub description: &'static str,
}

/// An entry of an invariant catalogue: the invariant's description, and how to build its
/// checker for a run. A protocol lists the invariants it defines over its own facts in
/// [`super::Protocol::invariants`]; the common ones are `sim::check::catalog()`.
///
/// `[check]` names a protocol's own invariant by `info.name`, only in scenarios of that
/// protocol; `build` makes a fresh checker for each run of `nodes` nodes. The
/// [`Protocol`](super::Protocol) example shows one end to end. Here, one that takes no bound,
/// and a liveness one that does (`[check] quiet_within = "1s"` enables it):
///
/// ```
/// use sim::node::{BoundInfo, InvariantInfo, Nanos, Property, ProtocolInvariant, Status};
/// # use sim::node::{Invariant, Observation, RunView};
/// # struct AlwaysHolds;
/// # impl Invariant for AlwaysHolds {
/// #     fn name(&self) -> String { "always_holds".into() }
/// #     fn property(&self) -> Property { Property::Safety }
/// #     fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
/// #     fn status(&self) -> Status { Status::Pass }
/// # }
/// # struct QuietWithin(Nanos);
/// # impl Invariant for QuietWithin {
/// #     fn name(&self) -> String { format!("quiet_within {}", sim::node::format_duration(self.0)) }
/// #     fn property(&self) -> Property { Property::Liveness }
/// #     fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
/// #     fn status(&self) -> Status { Status::Pass }
/// # }
///
/// let mine = ProtocolInvariant {
///     info: InvariantInfo {
///         name: "always_holds",
///         property: Property::Safety,
///         definition: "Nothing bad happens: what `sim list invariants` prints.",
///         bound: None,
///     },
///     build: |_nodes, _bound| Box::new(AlwaysHolds),
/// };
/// assert_eq!((mine.build)(3, None).status(), Status::Pass);
///
/// let bounded = ProtocolInvariant {
///     info: InvariantInfo {
///         name: "quiet_within",
///         property: Property::Liveness,
///         definition: "Within the bound after the last fault, no node changes its role.",
///         bound: Some(BoundInfo {
///             example: "1s",
///             description: "How long after the last fault the roles must settle, e.g. \"1s\".",
///         }),
///     },
///     // `check::build` passes the bound exactly when `info.bound` is `Some`.
///     build: |_nodes, bound| Box::new(QuietWithin(bound.expect("quiet_within takes a bound"))),
/// };
/// const S: Nanos = 1_000_000_000;
/// assert_eq!((bounded.build)(3, Some(S)).name(), "quiet_within 1s");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ProtocolInvariant {
    /// Its name in `[check]`, its kind, its definition, and whether it takes a bound.
    pub info: InvariantInfo,
    /// Builds the checker for a run of `nodes` nodes. `bound` is the duration `[check]` gave
    /// it: `Some` exactly when `info.bound` is (`sim::check::build` makes sure), so a bounded
    /// invariant may take it as given.
    pub build: fn(nodes: usize, bound: Option<Nanos>) -> Box<dyn Invariant>,
}

/// A safety invariant's state: its first violation, if any (a violation is final, so later
/// ones are not kept). What most invariants over a protocol's facts hold.
#[derive(Default)]
pub(crate) struct FirstViolation(Option<Violation>);

impl FirstViolation {
    /// Keeps this violation unless one was found before.
    pub(crate) fn fail(
        &mut self,
        at: Nanos,
        nodes: Vec<String>,
        message: String,
        evidence: Vec<String>,
    ) {
        if self.0.is_none() {
            self.0 = Some(Violation {
                at,
                nodes,
                message,
                evidence,
            });
        }
    }

    /// Violated if a violation was found, else holding.
    pub(crate) fn status(&self) -> Status {
        Status::of(&self.0)
    }
}

/// A liveness bound counted from the last fault that changed something, or from the start of
/// the run when none did: the clock every "within `D` of the last fault" invariant keeps
/// (`leader_within`, and the protocols' `resolved_within`, `settled_within`, `lock_progress`,
/// `no_lost_message`, `decided_within`). A fault stops the clock because liveness is judged
/// only once the faults are over; a skipped fault changed nothing and does not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FromLastFault {
    /// The bound.
    pub(crate) bound: Nanos,
    /// The last fault that changed something (0 before any): where the bound starts.
    pub(crate) quiet_since: Nanos,
}

impl FromLastFault {
    pub(crate) fn new(bound: Nanos) -> Self {
        FromLastFault {
            bound,
            quiet_since: 0,
        }
    }

    /// Notes a fault, and answers whether it restarted the bound: a skipped one did not.
    pub(crate) fn on_fault(&mut self, at: Nanos, fault: &FaultRecord) -> bool {
        if matches!(fault.applied, Applied::Skipped { .. }) {
            return false;
        }
        self.quiet_since = at;
        true
    }

    /// Where the bound of something that began at `began` starts: its beginning, or the last
    /// fault if that came later.
    pub(crate) fn start(&self, began: Nanos) -> Nanos {
        began.max(self.quiet_since)
    }

    /// When something that began at `began` must be settled by.
    pub(crate) fn due(&self, began: Nanos) -> Nanos {
        self.start(began).saturating_add(self.bound)
    }

    /// Whether a run ending at `now` ended before the bound from the last fault had passed:
    /// then what is still unsettled is unknown, not late.
    pub(crate) fn cut_short(&self, now: Nanos) -> bool {
        now < self.due(0)
    }
}

#[cfg(test)]
mod from_last_fault_tests {
    use super::*;
    use crate::node::Origin;

    const S: Nanos = 1_000_000_000;

    fn fault(at: Nanos, applied: Applied) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::Schedule(0),
            written: "heal".into(),
            applied,
            lasting: None,
            dynamic: false,
        }
    }

    #[test]
    fn a_fault_restarts_the_bound_and_a_skipped_one_does_not() {
        let mut b = FromLastFault::new(2 * S);
        assert_eq!(
            (b.start(S), b.due(S)),
            (S, 3 * S),
            "no fault: from its beginning"
        );
        assert!(b.on_fault(5 * S, &fault(5 * S, Applied::Heal)));
        assert_eq!(
            (b.start(S), b.due(S)),
            (5 * S, 7 * S),
            "from the later fault"
        );
        assert_eq!(b.due(6 * S), 8 * S, "from its beginning, after the fault");
        let skipped = Applied::Skipped {
            reason: "nothing to heal".into(),
        };
        assert!(!b.on_fault(6 * S, &fault(6 * S, skipped)));
        assert_eq!(b.quiet_since, 5 * S, "a skipped fault changed nothing");
        assert!(b.cut_short(7 * S - 1) && !b.cut_short(7 * S));
    }
}
