//! The invariants of the replica family, judged from [`ReplicaFact`]s and the clients'
//! history: every protocol of the family lists the ones that apply in its
//! `Protocol::invariants`.
//!
//! - `no_lost_update`: every acknowledged put is still held by some replica at the end, or
//!   superseded by a held value whose put causally follows it.
//! - `siblings_kept`: no replica drops a version that the versions it keeps do not dominate,
//!   nor refuses a concurrent one: concurrent writes both survive.
//! - `causal_order`: every message's receipt is stamped after its send.

use std::any::Any;

use crate::node::{InvariantInfo, Nanos, Property, ProtocolInvariant, RunView, format_instant};

use super::register::ReplicaFact;

mod causal_order;
mod no_lost_update;
mod siblings_kept;

pub(crate) use causal_order::CausalOrder;
pub(crate) use no_lost_update::NoLostUpdate;
pub(crate) use siblings_kept::SiblingsKept;

fn cast(fact: &dyn Any) -> Option<&ReplicaFact> {
    fact.downcast_ref::<ReplicaFact>()
}

/// `at name: what`, one evidence line.
fn line(at: Nanos, view: &dyn RunView, node: u32, what: impl std::fmt::Display) -> String {
    format!("{} {} {what}", format_instant(at), view.name(node))
}

/// `no_lost_update`: safety, judged at the end of the run from every replica's last holdings
/// and the history.
///
/// ```
/// use sim::node::Property;
/// use sim::protocols::replica::invariants::no_lost_update;
/// let entry = no_lost_update();
/// assert_eq!((entry.info.name, entry.info.property), ("no_lost_update", Property::Safety));
/// ```
pub fn no_lost_update() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_lost_update",
            property: Property::Safety,
            definition: "Every acknowledged put is, at the end of the run, held by some replica, \
                         or superseded by a held value whose put causally follows it (its client \
                         had issued it, or read it or a value that followed it, before putting). \
                         A write overwritten by one that never saw it is lost.",
            bound: None,
        },
        build: |_, _| Box::new(NoLostUpdate::default()),
    }
}

/// `siblings_kept`: safety, judged at every change of a replica's versions.
///
/// ```
/// use sim::protocols::replica::invariants::siblings_kept;
/// assert_eq!(siblings_kept().info.name, "siblings_kept");
/// ```
pub fn siblings_kept() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "siblings_kept",
            property: Property::Safety,
            definition: "No replica drops a version unless a version it keeps has a vector clock \
                         that dominates it, and none refuses an incoming version concurrent with \
                         its own: two concurrent writes both survive. Versions without clocks \
                         (last-write-wins) cannot be judged: unknown.",
            bound: None,
        },
        build: |_, _| Box::new(SiblingsKept::default()),
    }
}

/// `causal_order`: safety, judged at every receipt.
///
/// ```
/// use sim::protocols::replica::invariants::causal_order;
/// assert_eq!(causal_order().info.name, "causal_order");
/// ```
pub fn causal_order() -> ProtocolInvariant {
    ProtocolInvariant {
        info: InvariantInfo {
            name: "causal_order",
            property: Property::Safety,
            definition: "Every message's receipt carries a later timestamp than its send: the \
                         timestamps never contradict causality (a reply stamped before its \
                         request).",
            bound: None,
        },
        build: |_, _| Box::new(CausalOrder::default()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::node::{ClockKind, LocalNanos, Nanos, NodeStatus, RunView};

    /// Three replicas A, B, C, always up, clocks at zero.
    pub(crate) struct View(Vec<String>);

    impl View {
        pub(crate) fn abc() -> View {
            View(vec!["A".into(), "B".into(), "C".into()])
        }
    }

    impl RunView for View {
        fn now(&self) -> Nanos {
            0
        }
        fn names(&self) -> &[String] {
            &self.0
        }
        fn status(&self, _: u32) -> NodeStatus {
            NodeStatus::Up
        }
        fn read_clock(&self, _: u32, _: ClockKind) -> LocalNanos {
            0
        }
    }
}
