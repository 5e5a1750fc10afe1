//! Checkers: invariants that watch observations and faults as a run happens, then judge it.
//!
//! A checker never imports a protocol: it reads [`Observation`](crate::node::Observation)s, the
//! fault schedule and a [`RunView`](crate::node::RunView) (who is up, what each clock reads). So
//! one checker serves every protocol that reports the same facts. Every checker here ships with a
//! test where a broken design makes it fail and one where a correct design passes.

pub mod blame;
pub mod detector;
pub mod election_safety;
pub mod leader_completeness;
pub mod leader_within;
pub mod linearizability;
pub mod linearizable;
pub mod log_matching;
pub mod no_split_brain;
pub mod stable_leader;
pub mod state_machine_safety;
pub mod strong_accuracy;

pub use crate::node::invariant::{Invariant, InvariantInfo, Property, Status, Violation};
use crate::node::{Nanos, ProtocolInvariant};

/// Every invariant `[check]` accepts, in the order `sim list invariants` shows them.
pub fn catalog() -> &'static [InvariantInfo] {
    &[
        InvariantInfo {
            name: "election_safety",
            property: Property::Safety,
            definition: "At most one node leads (leader or master) in any term, over the whole run: \
                a node that reports a leading role in term T while another node has already led \
                term T is a violation, even if that node has since crashed (Raft §5.2, Figure 3).",
        },
        InvariantInfo {
            name: "no_split_brain",
            property: Property::Safety,
            definition: "At no instant of true time do two nodes both hold write authority. A node \
                holds authority from an `authority` observation until its own clock reads the \
                observation's `until` (no `until`: indefinitely), until it reports a role that does \
                not lead, or until it crashes. Raft declares its leader lease; the naive fail-over \
                declares being master.",
        },
        InvariantInfo {
            name: "leader_within",
            property: Property::Liveness,
            definition: "Set by `leader_within = \"2s\"` in [check]. Within the bound after the last \
                fault event (the final heal, for a nemesis), some node leads a term that a majority \
                of the cluster has reached: it reports a leading role in term T while a majority of \
                the nodes (itself included) last reported term T. Unknown if the run ends first.",
        },
        InvariantInfo {
            name: "strong_accuracy",
            property: Property::Safety,
            definition: "No node is suspected by a failure detector while it is up: a `suspect` \
                observation about a node that has not crashed (a paused or slow node is up) is a \
                violation. Chandra and Toueg's strong accuracy, which no heartbeat detector can \
                promise: a heartbeat cannot tell slow from dead.",
        },
        InvariantInfo {
            name: "log_matching",
            property: Property::Safety,
            definition: "If two logs hold an entry with the same index and term, they are identical \
                up through that index (Raft §5.3): no two `appended` observations share (index, \
                term) with different digests, the digest chaining each entry's term and command \
                over the node's whole log before it.",
        },
        InvariantInfo {
            name: "state_machine_safety",
            property: Property::Safety,
            definition: "No two nodes apply different entries at one log index (Raft §5.4.3): every \
                `applied` observation at an index, by any node in any of its lives, has the term \
                and digest of the first one there. No-ops of different terms differ.",
        },
        InvariantInfo {
            name: "leader_completeness",
            property: Property::Safety,
            definition: "An entry committed in term T is in the log of every leader of a later term \
                (Raft §5.4): when a node reports leading term L, its log (rebuilt from its \
                `appended` observations) holds, with the same term and digest, the highest entry \
                that a leader reported `committed` while leading a term before L.",
        },
        InvariantInfo {
            name: "linearizable",
            property: Property::Safety,
            definition: "The clients' history is linearizable (Herlihy and Wing): there is one order \
                of its operations, consistent with real time, in which each does what a sequential \
                key-value store would do and returns what the client saw. `fail` operations did not \
                happen; `info` ones (timed out) may have happened at any time after their \
                invocation, or never. Checked per key by a Wing-Gong-Lowe search with a step \
                budget (unknown when it runs out). Needs a [workload].",
        },
        InvariantInfo {
            name: "stable_leader",
            property: Property::Liveness,
            definition: "If at the last fault event (as for leader_within) some node leads a term T \
                that a majority of the cluster (itself included) last reported, no node reports a \
                term above T for the rest of the run: once the faults stop, nothing deposes a \
                leader a majority follows. A server that raised its term while cut off and forces \
                it on the cluster when it returns fails it; pre-vote prevents that (thesis §9.6).",
        },
    ]
}

/// Checked by default, beside the protocol's own defaults, when a scenario has clients.
pub const HISTORY_DEFAULT: &str = "linearizable";

/// The invariants named in `[check]`, ready to watch a run of `nodes` nodes. `leader_within` is
/// added when its bound is given.
///
/// ```
/// use sim::check;
///
/// const S: u64 = 1_000_000_000;
/// let names = vec!["election_safety".to_string(), "no_split_brain".to_string()];
/// // Three nodes, and a leader wanted within 5 s of the last fault.
/// let invariants = check::build(&names, Some(5 * S), 3, &[]).unwrap();
/// let built: Vec<String> = invariants.iter().map(|i| i.name()).collect();
/// // leader_within names itself with its bound.
/// assert_eq!(built, ["election_safety", "no_split_brain", "leader_within 5s"]);
///
/// let unknown = check::build(&["quorum_magic".to_string()], None, 3, &[]).err().unwrap();
/// assert!(unknown.starts_with("unknown invariant `quorum_magic`; known: "));
/// ```
pub fn build(
    names: &[String],
    leader_within: Option<Nanos>,
    nodes: usize,
    own: &[ProtocolInvariant],
) -> Result<Vec<Box<dyn Invariant>>, String> {
    let mut out: Vec<Box<dyn Invariant>> = Vec::new();
    for name in names {
        if let Some(p) = own.iter().find(|p| p.info.name == name) {
            out.push((p.build)(nodes));
            continue;
        }
        out.push(match name.as_str() {
            "election_safety" => Box::new(election_safety::ElectionSafety::default()),
            "no_split_brain" => Box::new(no_split_brain::NoSplitBrain::new(nodes)),
            "strong_accuracy" => Box::new(strong_accuracy::StrongAccuracy::new(nodes)),
            "log_matching" => Box::new(log_matching::LogMatching::default()),
            "state_machine_safety" => Box::new(state_machine_safety::StateMachineSafety::default()),
            "leader_completeness" => Box::new(leader_completeness::LeaderCompleteness::new(nodes)),
            "stable_leader" => Box::new(stable_leader::StableLeader::new(nodes)),
            "linearizable" => Box::new(linearizability::Linearizable::default()),
            "leader_within" => continue, // its bound comes from `leader_within = "…"`
            other => {
                let known: Vec<&str> = catalog()
                    .iter()
                    .map(|i| i.name)
                    .chain(own.iter().map(|p| p.info.name))
                    .collect();
                return Err(format!(
                    "unknown invariant `{other}`; known: {}",
                    known.join(", ")
                ));
            }
        });
    }
    if let Some(bound) = leader_within {
        out.push(Box::new(leader_within::LeaderWithin::new(bound, nodes)));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::node::Nanos;
    use crate::world::{Clock, Cluster};

    pub fn cluster_with_clocks(clocks: Vec<Clock>) -> Cluster {
        let names = (0..clocks.len())
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect();
        Cluster::new(names, clocks)
    }

    pub fn cluster_at(n: usize, now: Nanos) -> Cluster {
        let mut c = cluster_with_clocks(vec![Clock::honest(); n]);
        c.set_now(now);
        c
    }

    pub fn cluster(n: usize) -> Cluster {
        cluster_at(n, 0)
    }

    #[test]
    fn every_catalogued_invariant_can_be_built() {
        let names: Vec<String> = super::catalog()
            .iter()
            .map(|i| i.name.to_string())
            .collect();
        let built = super::build(&names, Some(1), 3, &[]).unwrap();
        assert_eq!(built.len(), names.len());
        let Err(e) = super::build(&["nope".into()], None, 3, &[]) else {
            panic!("accepted an unknown name")
        };
        assert!(e.contains("unknown invariant `nope`"), "{e}");
    }
}
