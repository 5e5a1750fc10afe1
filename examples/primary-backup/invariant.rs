//! `acked_writes_survive`: no write the primary acknowledged is lost by a fail-over.

use std::any::Any;

use sim::node::{
    Invariant, InvariantInfo, Nanos, Observation, Property, ProtocolInvariant, RunView, Status,
    Violation,
};

use super::protocol::Fact;

/// Every write a primary acknowledged to a client before a node is promoted is in the promoted
/// node's log, at the position the primary acknowledged it.
pub fn acked_writes_survive() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "acked_writes_survive",
            property: Property::Safety,
            definition: "Every write a primary acknowledged to a client is held, at the same \
                position, by each node promoted after it: a fail-over loses no acknowledged write.",
            bound: None,
        },
        build: |_, _| Box::new(AckedWritesSurvive::default()),
    }
}

/// An acknowledged write: where, what, by whom.
struct Acked {
    seq: u64,
    value: String,
    key: String,
    node: u32,
    at: Nanos,
}

#[derive(Default)]
struct AckedWritesSurvive {
    acked: Vec<Acked>,
    violation: Option<Violation>,
}

impl Invariant for AckedWritesSurvive {
    fn name(&self) -> String {
        "acked_writes_survive".into()
    }

    fn property(&self) -> Property {
        Property::Safety
    }

    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}

    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        if self.violation.is_some() {
            return;
        }
        match fact.downcast_ref::<Fact>() {
            Some(Fact::Acknowledged {
                seq, key, value, ..
            }) => self.acked.push(Acked {
                seq: *seq,
                key: key.to_string(),
                value: value.to_string(),
                node,
                at,
            }),
            Some(Fact::Promoted { epoch, log }) => {
                let lost = self
                    .acked
                    .iter()
                    .find(|a| log.get(a.seq as usize - 1).map(|v| &**v) != Some(a.value.as_str()));
                if let Some(a) = lost {
                    let (primary, promoted) = (view.name(a.node), view.name(node));
                    self.violation = Some(Violation {
                        at,
                        nodes: vec![primary.to_string(), promoted.to_string()],
                        message: format!(
                            "{primary} acknowledged write #{} ({} = {}) at {}, but {promoted} took \
                             over in epoch {epoch} holding {} writes without it: an acknowledged \
                             write is lost",
                            a.seq,
                            a.key,
                            a.value,
                            sim::node::format_duration(a.at),
                            log.len()
                        ),
                        evidence: Vec::new(),
                    });
                }
            }
            None => {}
        }
    }

    fn status(&self) -> Status {
        Status::of(&self.violation)
    }

    fn detail(&self, _: &dyn RunView) -> Option<String> {
        Some(format!(
            "{} acknowledged writes, none lost",
            self.acked.len()
        ))
    }
}
