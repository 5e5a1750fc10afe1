//! The `linearizable` invariant: at the end of a run, the clients' recorded history is judged by
//! the Wing–Gong–Lowe checker of [`super::linearizable`] against the key-value model.
//!
//! It watches no observations: it reads only what clients saw. The check has a deterministic step
//! budget (never a wall-clock one), so a run's verdict stays a pure function of scenario and
//! seed; a history too hard for the budget is `unknown`, never a guess.

use crate::node::RunView;
use crate::node::{Nanos, Observation, ObservationKinds};
use crate::workload::history::{History, ModelKind, ModelSpec};

use super::linearizable::{self, Limits, LinVerdict};
use super::{Invariant, Property, Status, Violation};

/// Search steps a run's history may take (a few seconds at worst).
pub(crate) const MAX_STEPS: u64 = 200_000_000;

/// Lines of the checker's explanation kept as evidence.
const EVIDENCE_LINES: usize = 40;

/// The `linearizable` invariant: judges the clients' history against the key-value model at
/// the end of the run, within a fixed step budget.
pub(crate) struct Linearizable {
    status: Option<Status>,
    summary: Option<String>,
    /// `[limits] checker_steps`.
    max_steps: u64,
}

impl Default for Linearizable {
    fn default() -> Self {
        Linearizable {
            status: None,
            summary: None,
            max_steps: MAX_STEPS,
        }
    }
}

impl Linearizable {
    fn judge(history: &History, max_steps: u64) -> (Status, String) {
        let model = history.model.clone().unwrap_or(ModelSpec {
            kind: ModelKind::Kv,
            init: None,
        });
        let limits = Limits {
            max_steps: Some(max_steps),
            cancel: None,
            verdict_only: false,
        };
        let analysis = match linearizable::check(history, &model, &limits) {
            Ok(a) => a,
            Err(e) => {
                return (
                    Status::Unknown(format!("the history cannot be judged: {e}")),
                    String::new(),
                );
            }
        };
        let keys = analysis.partitions.len();
        let summary = format!(
            "{} operations over {keys} key{}, {} search steps",
            history.ops.len(),
            if keys == 1 { "" } else { "s" },
            analysis.steps
        );
        let status = match &analysis.verdict {
            LinVerdict::Linearizable => Status::Pass,
            LinVerdict::Unknown { reason } if reason.starts_with("step budget") => {
                // The wording of `scenario::limits::how_to_raise` (a layer above this one).
                Status::Unknown(format!(
                    "the limit checker_steps = {max_steps} was reached ({reason}): raise it with \
                     `[limits] checker_steps = N` in the scenario or `sim run --limit checker_steps=N`"
                ))
            }
            LinVerdict::Unknown { reason } => Status::Unknown(reason.clone()),
            LinVerdict::NotLinearizable => {
                let bad = analysis
                    .partitions
                    .iter()
                    .find(|p| p.verdict == LinVerdict::NotLinearizable);
                let stuck = bad.and_then(|p| p.stuck).map(|i| &history.ops[i]);
                let key = bad
                    .and_then(|p| p.key.clone())
                    .map_or("the register".to_string(), |k| format!("key {k}"));
                let at: Nanos = stuck
                    .map(|op| op.complete.unwrap_or(op.invoke))
                    .unwrap_or(0);
                let message = match stuck {
                    Some(op) => format!(
                        "the clients' history is not linearizable on {key}: client c{}'s operation cannot be placed in any order consistent with real time",
                        op.process
                    ),
                    None => format!("the clients' history is not linearizable on {key}"),
                };
                let explanation = linearizable::explain(history, &analysis);
                Status::Violated(Violation {
                    at,
                    nodes: Vec::new(),
                    message,
                    evidence: explanation
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .take(EVIDENCE_LINES)
                        .map(str::to_string)
                        .collect(),
                })
            }
        };
        (status, summary)
    }
}

impl Invariant for Linearizable {
    fn name(&self) -> String {
        "linearizable".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn observes(&self) -> ObservationKinds {
        ObservationKinds::NONE
    }

    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}

    fn on_history(&mut self, history: &History) {
        let (status, summary) = Self::judge(history, self.max_steps);
        self.status = Some(status);
        self.summary = Some(summary);
    }

    fn limit_steps(&mut self, max_steps: u64) {
        self.max_steps = max_steps;
    }

    fn status(&self) -> Status {
        self.status.clone().unwrap_or_else(|| {
            Status::Unknown("the run recorded no client history ([workload] is missing)".into())
        })
    }

    fn detail(&self, _: &dyn RunView) -> Option<String> {
        self.summary.clone()
    }
}
