//! `causal_order`: a receipt is stamped after its send.

use std::any::Any;
use std::collections::BTreeMap;

use crate::node::{Invariant, Nanos, Observation, Property, RunView, Status};

use super::super::register::ReplicaFact;
use super::{cast, line};
use crate::node::invariant::FirstViolation;

/// `causal_order`.
#[derive(Default)]
pub(crate) struct CausalOrder {
    /// Each message sent: who sent it, when, and its stamp.
    sent: BTreeMap<u64, (u32, Nanos, i64)>,
    verdict: FirstViolation,
}

impl Invariant for CausalOrder {
    fn name(&self) -> String {
        "causal_order".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        match cast(fact) {
            Some(ReplicaFact::Sent { id, stamp }) => {
                self.sent.insert(*id, (node, at, *stamp));
            }
            Some(ReplicaFact::Received { id, stamp }) => {
                let Some(&(from, sent_at, sent)) = self.sent.get(id) else {
                    return; // a receipt of a message never stated sent: nothing to compare
                };
                if *stamp <= sent {
                    self.verdict.fail(
                        at,
                        vec![view.name(from).to_string(), view.name(node).to_string()],
                        format!(
                            "{} stamped its receipt of message {id} at {stamp}, not after {}'s \
                             send stamp {sent}: the timestamps say it arrived before it was sent",
                            view.name(node),
                            view.name(from)
                        ),
                        vec![
                            line(
                                sent_at,
                                view,
                                from,
                                format!("sent message {id}, stamped {sent}"),
                            ),
                            line(at, view, node, format!("received it, stamped {stamp}")),
                        ],
                    );
                }
            }
            _ => {}
        }
    }
    fn status(&self) -> Status {
        self.verdict.status()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::replica::invariants::tests::View;

    #[test]
    fn a_receipt_stamped_before_its_send_is_a_violation() {
        let view = View::abc();
        let mut check = CausalOrder::default();
        check.on_fact(10, 0, &ReplicaFact::Sent { id: 1, stamp: 5 }, &view);
        check.on_fact(20, 1, &ReplicaFact::Received { id: 1, stamp: 6 }, &view);
        assert_eq!(check.status(), Status::Pass);
        check.on_fact(
            30,
            1,
            &ReplicaFact::Sent {
                id: 2,
                stamp: 1_000,
            },
            &view,
        );
        check.on_fact(40, 0, &ReplicaFact::Received { id: 2, stamp: 900 }, &view);
        let Status::Violated(v) = check.status() else {
            panic!("a reply stamped before its request passed")
        };
        assert_eq!(
            (v.at, v.nodes),
            (40, vec!["B".to_string(), "A".to_string()])
        );
        assert!(
            v.message
                .contains("A stamped its receipt of message 2 at 900"),
            "{}",
            v.message
        );
    }

    #[test]
    fn an_equal_stamp_is_not_after() {
        let view = View::abc();
        let mut check = CausalOrder::default();
        check.on_fact(10, 0, &ReplicaFact::Sent { id: 7, stamp: 3 }, &view);
        check.on_fact(20, 2, &ReplicaFact::Received { id: 7, stamp: 3 }, &view);
        assert!(matches!(check.status(), Status::Violated(_)));
    }
}
