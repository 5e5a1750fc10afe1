//! Failure-detector metrics: how fast real crashes are detected, and how often a live node is
//! wrongly suspected. Measured, not judged: `strong_accuracy` is the invariant. A section of
//! every run's report (`failure_detector`), fed suspicions and crashes, so any protocol that
//! reports suspicions gets it.

use serde::Serialize;

use crate::node::{Applied, FaultRecord, RunView, Section, SectionBuilder};
use crate::node::{Nanos, Observation, ObservationKinds, format_duration};

/// The running failure-detector figures of one run: when each node crashed, how long each
/// suspicion of a crashed node took, and how many suspicions hit a node that was up.
pub(crate) struct DetectorStats {
    crashed_at: Vec<Option<Nanos>>,
    /// Time from a crash to each live node's suspicion of it.
    detections: Vec<Nanos>,
    false_suspicions: u64,
}

/// The figures a report prints.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct DetectorSummary {
    /// Suspicions of a node that had crashed.
    pub(crate) detections: u64,
    /// Suspicions of a node that was up (paused, slow or cut off).
    pub(crate) false_suspicions: u64,
    /// The fastest detection: true time from a crash to a suspicion of it, in nanoseconds.
    pub(crate) detection_ns_min: Option<Nanos>,
    /// The mean detection time, in nanoseconds.
    pub(crate) detection_ns_mean: Option<Nanos>,
    /// The slowest detection time, in nanoseconds.
    pub(crate) detection_ns_max: Option<Nanos>,
}

impl DetectorStats {
    /// Figures for a cluster of `nodes` nodes, none crashed yet.
    pub(crate) fn new(nodes: usize) -> Self {
        DetectorStats {
            crashed_at: vec![None; nodes],
            detections: Vec::new(),
            false_suspicions: 0,
        }
    }

    /// Counts a `Suspect { peer }` observation made at `at`: a detection if the peer is crashed
    /// now, a false suspicion otherwise. Other observations are ignored.
    pub(crate) fn on_observation(&mut self, at: Nanos, obs: &Observation, cluster: &dyn RunView) {
        let Observation::Suspect { peer } = *obs else {
            return;
        };
        match self.crashed_at[peer.index()] {
            Some(crash) if cluster.is_crashed(peer.0) => self.detections.push(at - crash),
            _ => self.false_suspicions += 1,
        }
    }

    /// Notes crashes (the clock of detection starts) and restarts (a suspicion is false again).
    pub(crate) fn on_fault(&mut self, at: Nanos, fault: &FaultRecord) {
        match &fault.applied {
            Applied::Crash { nodes } => nodes
                .iter()
                .for_each(|&n| self.crashed_at[n as usize] = Some(at)),
            Applied::Restart { nodes }
            | Applied::Recover {
                restarted: nodes, ..
            } => nodes
                .iter()
                .for_each(|&n| self.crashed_at[n as usize] = None),
            _ => {}
        }
    }

    /// `None` when nothing was ever suspected.
    pub(crate) fn summary(&self) -> Option<DetectorSummary> {
        if self.detections.is_empty() && self.false_suspicions == 0 {
            return None;
        }
        let n = self.detections.len() as u64;
        Some(DetectorSummary {
            detections: n,
            false_suspicions: self.false_suspicions,
            detection_ns_min: self.detections.iter().copied().min(),
            detection_ns_mean: (n > 0).then(|| self.detections.iter().sum::<Nanos>() / n),
            detection_ns_max: self.detections.iter().copied().max(),
        })
    }
}

impl SectionBuilder for DetectorStats {
    fn observes(&self) -> ObservationKinds {
        ObservationKinds::SUSPECT
    }

    fn on_observation(&mut self, at: Nanos, _node: u32, obs: &Observation, view: &dyn RunView) {
        DetectorStats::on_observation(self, at, obs, view);
    }

    fn on_fault(&mut self, at: Nanos, fault: &FaultRecord, _view: &dyn RunView) {
        DetectorStats::on_fault(self, at, fault);
    }

    /// Always a section: its JSON is `null` and it prints nothing when nothing was suspected.
    fn section(&self, _view: &dyn RunView) -> Option<Section> {
        let summary = self.summary();
        let ms = |ns: Option<u64>| ns.map_or("-".to_string(), format_duration);
        Some(Section {
            key: "failure_detector",
            title: "failure detector",
            brief: summary.as_ref().map(|d| {
                format!(
                    "{} false suspicions, {} detections",
                    d.false_suspicions, d.detections
                )
            }),
            lines: summary
                .as_ref()
                .map(|d| {
                    format!(
                        "{} detections of real crashes (min {}, mean {}, max {}), {} false suspicions",
                        d.detections,
                        ms(d.detection_ns_min),
                        ms(d.detection_ns_mean),
                        ms(d.detection_ns_max),
                        d.false_suspicions
                    )
                })
                .into_iter()
                .collect(),
            json: serde_json::to_value(&summary).expect("plain numbers"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::cluster_at;
    use crate::node::NodeId;
    use crate::world::{NodeStatus, Origin};

    /// Node B (index 1) crashes at `at`, as the first scripted fault.
    fn crash_b(at: Nanos) -> FaultRecord {
        FaultRecord {
            at,
            origin: Origin::Schedule(0),
            written: "crash B".into(),
            applied: Applied::Crash { nodes: vec![1] },
            lasting: None,
            dynamic: false,
        }
    }

    #[test]
    fn counts_detections_and_false_suspicions() {
        let mut c = cluster_at(3, 0);
        let mut stats = DetectorStats::new(3);
        assert_eq!(stats.summary(), None);
        stats.on_observation(5, &Observation::Suspect { peer: NodeId(2) }, &c);
        let crash = crash_b(100);
        c.set_status(1, NodeStatus::Crashed);
        stats.on_fault(100, &crash);
        stats.on_observation(400, &Observation::Suspect { peer: NodeId(1) }, &c);
        stats.on_observation(500, &Observation::Suspect { peer: NodeId(1) }, &c);
        let s = stats.summary().unwrap();
        assert_eq!((s.detections, s.false_suspicions), (2, 1));
        assert_eq!(
            (s.detection_ns_min, s.detection_ns_mean, s.detection_ns_max),
            (Some(300), Some(350), Some(400))
        );
    }

    /// The section is in every report: `null` and silent when nothing was suspected, the
    /// figures of `summary` otherwise.
    #[test]
    fn its_section_is_silent_until_something_is_suspected() {
        let mut c = cluster_at(3, 0);
        let mut stats = DetectorStats::new(3);
        let quiet = stats.section(&c).expect("always a section");
        assert_eq!(quiet.key, "failure_detector");
        assert_eq!(quiet.json, serde_json::Value::Null);
        assert_eq!((quiet.brief, quiet.lines.len()), (None, 0));

        let crash = crash_b(1_000_000_000);
        c.set_status(1, NodeStatus::Crashed);
        SectionBuilder::on_fault(&mut stats, crash.at, &crash, &c);
        let suspect = Observation::Suspect { peer: NodeId(1) };
        SectionBuilder::on_observation(&mut stats, 1_300_000_000, 0, &suspect, &c);
        SectionBuilder::on_observation(&mut stats, 1_500_000_000, 2, &suspect, &c);
        let told = stats.section(&c).unwrap();
        assert_eq!(
            told.brief.as_deref(),
            Some("0 false suspicions, 2 detections")
        );
        assert_eq!(
            told.lines,
            ["2 detections of real crashes (min 300ms, mean 400ms, max 500ms), 0 false suspicions"]
        );
        assert_eq!(told.json["detection_ns_max"], 500_000_000);
    }
}
