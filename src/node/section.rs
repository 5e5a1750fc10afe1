//! Report sections: what a run adds to its report beyond verdicts, story and counts — Raft's
//! elections, a failure detector's metrics, whatever a protocol wants measured.
//!
//! A [`SectionBuilder`] watches a run as an invariant does (observations, facts, faults, a
//! read-only [`RunView`]) and, once the run is over, answers one [`Section`]. Every renderer
//! prints every section the same way, knowing none by name, so a protocol adds one
//! ([`super::Protocol::report_sections`]) without touching the terminal, `summary.md` or
//! `--json`.

use std::any::Any;

use serde_json::Value;

use super::history::History;
use super::{FaultRecord, Nanos, Observation, ObservationKinds, RunView};

/// One section of a run's report, in the three forms a report takes.
///
/// ```
/// use sim::node::Section;
/// // What a run's `--json` and `summary.md` print for a section of this shape.
/// let s = Section {
///     key: "writes",
///     title: "writes",
///     brief: Some("12 writes".into()),
///     lines: vec!["12 writes on node 0".into()],
///     json: serde_json::json!({ "count": 12 }),
/// };
/// assert_eq!(s.json["count"], 12);
/// assert_eq!(s.lines.len(), 1, "one line reads `- writes: 12 writes on node 0`");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    /// Its key in `--json`, in snake_case (`elections`); it must not be a key the report has
    /// of its own (`seed`, `story`, …) nor another section's.
    pub key: &'static str,
    /// Its label in `summary.md` (`failure detector`).
    pub title: &'static str,
    /// A short clause for the terminal's verdict line (`6 false suspicions, 3 detections`);
    /// `None` adds nothing there.
    pub brief: Option<String>,
    /// Its lines in `summary.md`'s counts: one line reads `- title: line`; several are listed
    /// under `- title:`. None adds nothing there.
    pub lines: Vec<String>,
    /// Its value in `--json`. The key is written even when this is `null`, so that a program
    /// reading the JSON of a run finds every section the run has.
    pub json: Value,
}

/// Builds one [`Section`] from what a run saw.
///
/// ```
/// use sim::node::{Nanos, Observation, RunView, Section, SectionBuilder};
///
/// /// How many times some node suspected another.
/// #[derive(Default)]
/// struct Suspicions(u64);
///
/// impl SectionBuilder for Suspicions {
///     fn on_observation(&mut self, _: Nanos, _: u32, obs: &Observation, _: &dyn RunView) {
///         if let Observation::Suspect { .. } = obs {
///             self.0 += 1;
///         }
///     }
///     fn section(&self, _: &dyn RunView) -> Option<Section> {
///         Some(Section {
///             key: "suspicions",
///             title: "suspicions",
///             brief: Some(format!("{} suspicions", self.0)),
///             lines: vec![format!("{} in all", self.0)],
///             json: self.0.into(),
///         })
///     }
/// }
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
///
/// let mut s = Suspicions::default();
/// s.on_observation(5, 0, &Observation::Suspect { peer: sim::node::NodeId(1) }, &view());
/// let section = s.section(&view()).unwrap();
/// assert_eq!(section.brief.as_deref(), Some("1 suspicions"));
/// assert_eq!(section.json, 1);
/// ```
pub trait SectionBuilder {
    /// A node observed a common fact (role, suspicion, …).
    fn on_observation(&mut self, _at: Nanos, _node: u32, _obs: &Observation, _view: &dyn RunView) {}
    /// The kinds of observation [`SectionBuilder::on_observation`] reads: a run hands it only
    /// those (every kind unless it says otherwise).
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::ALL
    }
    /// A node stated one of its protocol's own facts; read it with
    /// `fact.downcast_ref::<TheFact>()`.
    fn on_fact(&mut self, _at: Nanos, _node: u32, _fact: &dyn Any, _view: &dyn RunView) {}
    /// A fault happened.
    fn on_fault(&mut self, _at: Nanos, _fault: &FaultRecord, _view: &dyn RunView) {}
    /// The run is over and had clients: their history, every operation with what it
    /// returned (called once, before [`SectionBuilder::section`]; not at all for a run without
    /// a workload).
    fn on_history(&mut self, _history: &History) {}
    /// The run is over (`view.now()` is when it ended): the section, or `None` to add none.
    fn section(&self, view: &dyn RunView) -> Option<Section>;
    /// The run is over: lines this section adds to the run's story, each at its true time (a
    /// replica taking a value with its clock, a conflict found). The default adds none; keep
    /// them few, the story is what a reader reads first.
    ///
    /// ```
    /// use sim::node::{Nanos, RunView, Section, SectionBuilder};
    /// /// Tells the run's end, and nothing else.
    /// struct End;
    /// impl SectionBuilder for End {
    ///     fn section(&self, _: &dyn RunView) -> Option<Section> {
    ///         None
    ///     }
    ///     fn story(&self, view: &dyn RunView) -> Vec<(Nanos, String)> {
    ///         vec![(view.now(), format!("{} replicas at the end", view.len()))]
    ///     }
    /// }
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// assert_eq!(End.story(&view())[0].1, "3 replicas at the end");
    /// ```
    fn story(&self, _view: &dyn RunView) -> Vec<(Nanos, String)> {
        Vec::new()
    }
}

/// `12345678` → `12,345,678`.
///
/// ```
/// use sim::node::section::thousands;
/// assert_eq!(thousands(12_345_678), "12,345,678");
/// assert_eq!(thousands(999), "999");
/// ```
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 term`, `2 terms`, `1,000 terms`.
///
/// ```
/// use sim::node::section::plural;
/// assert_eq!(plural(1, "term"), "1 term");
/// assert_eq!(plural(1_000, "term"), "1,000 terms");
/// ```
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}
