//! Checkers: invariants that watch observations and faults as a run happens, then judge it.
//!
//! A checker never imports a protocol: it reads [`Observation`](crate::node::Observation)s, the
//! fault schedule and a [`RunView`](crate::node::RunView) (who is up, what each clock reads). So
//! one checker serves every protocol that reports the same facts. Every checker here ships with a
//! test where a broken design makes it fail and one where a correct design passes.

pub(crate) mod answered_within;
pub(crate) mod blame;
pub(crate) mod detector;
pub(crate) mod election_safety;
pub(crate) mod leader_append_only;
pub(crate) mod leader_completeness;
pub(crate) mod leader_within;
pub(crate) mod linearizability;
pub mod linearizable;
pub(crate) mod log_matching;
pub(crate) mod median_read_within;
pub(crate) mod monotonic_commit;
pub(crate) mod monotonic_term;
pub(crate) mod no_split_brain;
pub(crate) mod one_vote_per_term;
pub(crate) mod stable_leader;
pub(crate) mod state_machine_safety;
pub(crate) mod strong_accuracy;

use std::collections::BTreeMap;

use crate::node::Nanos;
pub use crate::node::invariant::{
    BoundInfo, Invariant, InvariantInfo, Property, ProtocolInvariant, Status, Violation,
};

/// Every common invariant `[check]` accepts, in the order `sim list invariants` shows them, each
/// with how to build it. A protocol's own invariants come from its `Protocol::invariants()`.
///
/// ```
/// let bounded: Vec<&str> = sim::check::catalog()
///     .iter()
///     .filter(|entry| entry.info.bound.is_some())
///     .map(|entry| entry.info.name)
///     .collect();
/// assert_eq!(
///     bounded,
///     ["leader_within", "median_read_within", "answered_within"],
///     "set by `[check] leader_within = \"2s\"`, `median_read_within = \"3ms\"` and \
///      `answered_within = \"2s\"`"
/// );
/// ```
pub fn catalog() -> &'static [ProtocolInvariant] {
    CATALOG
}

static CATALOG: &[ProtocolInvariant] = &[
    ProtocolInvariant {
        info: InvariantInfo {
            name: "election_safety",
            property: Property::Safety,
            definition: "At most one node leads (leader or master) in any term, over the whole run: \
                a node that reports a leading role in term T while another node has already led \
                term T is a violation, even if that node has since crashed (Raft §5.2, Figure 3).",
            bound: None,
        },
        build: |_, _| Box::new(election_safety::ElectionSafety::default()),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "no_split_brain",
            property: Property::Safety,
            definition: "At no instant of true time do two nodes both hold write authority. A node \
                holds authority from an `authority` observation until its own clock reads the \
                observation's `until` (no `until`: indefinitely), until it reports a role that does \
                not lead, or until it crashes. Raft declares its leader lease; the naive fail-over \
                declares being master.",
            bound: None,
        },
        build: |nodes, _| Box::new(no_split_brain::NoSplitBrain::new(nodes)),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "leader_within",
            property: Property::Liveness,
            definition: "Set by `leader_within = \"2s\"` in [check]. Within the bound after the last \
                fault event (the final heal, for a nemesis), some node leads a term that a majority \
                of the cluster has reached: it reports a leading role in term T while a majority of \
                the nodes (itself included) last reported term T. Unknown if the run ends first.",
            bound: Some(BoundInfo {
                example: "2s",
                description: "The liveness bound: some node must lead a majority's term within \
                    this long after the last fault, e.g. \"2s\". Enables the leader_within \
                    invariant.",
            }),
        },
        build: |nodes, bound| {
            let bound = bound.expect("check::build gives a bounded invariant its bound");
            Box::new(leader_within::LeaderWithin::new(bound, nodes))
        },
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "strong_accuracy",
            property: Property::Safety,
            definition: "No node is suspected by a failure detector while it is up: a `suspect` \
                observation about a node that has not crashed (a paused or slow node is up) is a \
                violation. Chandra and Toueg's strong accuracy, which no heartbeat detector can \
                promise: a heartbeat cannot tell slow from dead.",
            bound: None,
        },
        build: |nodes, _| Box::new(strong_accuracy::StrongAccuracy::new(nodes)),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "log_matching",
            property: Property::Safety,
            definition: "If two logs hold an entry with the same index and term, they are identical \
                up through that index (Raft §5.3): no two `appended` observations share (index, \
                term) with different digests, the digest chaining each entry's term and command \
                over the node's whole log before it.",
            bound: None,
        },
        build: |_, _| Box::new(log_matching::LogMatching::default()),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "state_machine_safety",
            property: Property::Safety,
            definition: "No two nodes apply different entries at one log index (Raft §5.4.3): every \
                `applied` observation at an index, by any node in any of its lives, has the term \
                and digest of the first one there. No-ops of different terms differ.",
            bound: None,
        },
        build: |_, _| Box::new(state_machine_safety::StateMachineSafety::default()),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "leader_completeness",
            property: Property::Safety,
            definition: "An entry committed in term T is in the log of every leader of a later term \
                (Raft §5.4): when a node reports leading term L, its log (rebuilt from its \
                `appended` observations) holds, with the same term and digest, the highest entry \
                that a leader reported `committed` while leading a term before L.",
            bound: None,
        },
        build: |nodes, _| Box::new(leader_completeness::LeaderCompleteness::new(nodes)),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "leader_append_only",
            property: Property::Safety,
            definition: "A leader never overwrites or deletes entries in its own log; it only \
                appends (Raft §5.3, Figure 3). From a node's `role` report of a leading role to its \
                next `role` report or crash, an `appended` at or below the end of its log (known \
                from its earlier `appended` reports, the ones before it led included) is a \
                violation. A leader that deletes entries and writes none is not seen; after a \
                crash, the node's first entry written is not judged.",
            bound: None,
        },
        build: |nodes, _| Box::new(leader_append_only::LeaderAppendOnly::new(nodes)),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "one_vote_per_term",
            property: Property::Safety,
            definition: "A server votes for at most one candidate in any term, across crashes and \
                restarts (Raft §5.2; votedFor is persistent state): two `voted` reports by one node \
                in one term for different candidates are a violation, and the evidence names a \
                crash in between (a vote that was not durable). A candidate's vote for itself \
                counts; a pre-vote is not a vote.",
            bound: None,
        },
        build: |_, _| Box::new(one_vote_per_term::OneVotePerTerm::default()),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "monotonic_term",
            property: Property::Safety,
            definition: "A node's term never goes back, across crashes and restarts (Raft §5.1; \
                currentTerm is persistent state): a `role` report in a term below the highest \
                the node reported before, in this life or an earlier one, is a violation. For a \
                fail-over design, its epoch.",
            bound: None,
        },
        build: |nodes, _| Box::new(monotonic_term::MonotonicTerm::new(nodes)),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "monotonic_commit",
            property: Property::Safety,
            definition: "Within one life of a node (start to crash), its commit index never goes \
                back (Raft §5.3). It is volatile in Raft (Figure 2), so a restart may start again \
                from 0. Known as the highest index the node reported `committed` or `applied` in \
                this life; a `committed` at or below it, or an `appended` that cuts the log below \
                it or replaces the entry at it, is a violation. A follower's commit index shows \
                only through what it applies.",
            bound: None,
        },
        build: |nodes, _| Box::new(monotonic_commit::MonotonicCommit::new(nodes)),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "linearizable",
            property: Property::Safety,
            definition: "The clients' history is linearizable (Herlihy and Wing): there is one order \
                of its operations, consistent with real time, in which each does what a sequential \
                key-value store would do and returns what the client saw. `fail` operations did not \
                happen; `info` ones (timed out) may have happened at any time after their \
                invocation, or never. Checked per key by a Wing-Gong-Lowe search with a step \
                budget (unknown when it runs out). Needs a [workload].",
            bound: None,
        },
        build: |_, _| Box::new(linearizability::Linearizable::default()),
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "median_read_within",
            property: Property::Liveness,
            definition: "Set by `median_read_within = \"3ms\"` in [check]. The median latency of \
                the clients' successful reads (a key-value `get`, a bank's read of every balance), \
                from invocation to the answer, is within the bound: what a read design costs in \
                the common case. A leader lease answers at once, in one client round trip; \
                ReadIndex adds a heartbeat round, a read through the log a replication round \
                (Raft thesis §6.4, §6.4.1). Reads that time out or are refused have no latency and \
                do not count. Unknown when no read succeeded; needs a [workload].",
            bound: Some(BoundInfo {
                example: "3ms",
                description: "The bound on the median successful read's latency, from \
                    invocation to answer, e.g. \"3ms\". Enables the median_read_within \
                    invariant.",
            }),
        },
        build: |_, bound| {
            let bound = bound.expect("check::build gives a bounded invariant its bound");
            Box::new(median_read_within::MedianReadWithin::new(bound))
        },
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "answered_within",
            property: Property::Liveness,
            definition: "Set by `answered_within = \"2s\"` in [check]. The bound is the time the \
                cluster has to recover after the last fault event (as for leader_within); every \
                client operation invoked once it has passed is answered, `ok` or `fail` (it \
                definitely did not happen), never timed out, and at least one is `ok`. A history \
                of timeouts is linearizable: this is what fails a store that stops answering. An \
                operation still waiting when the run ends is not judged. Unknown when no \
                operation invoked after the bound finished; needs a [workload].",
            bound: Some(BoundInfo {
                example: "2s",
                description: "The time the cluster has to recover after the last fault, e.g. \
                    \"2s\": every client operation invoked after it must be answered. Enables \
                    the answered_within invariant.",
            }),
        },
        build: |_, bound| {
            let bound = bound.expect("check::build gives a bounded invariant its bound");
            Box::new(answered_within::AnsweredWithin::new(bound))
        },
    },
    ProtocolInvariant {
        info: InvariantInfo {
            name: "stable_leader",
            property: Property::Liveness,
            definition: "If at the last fault event (as for leader_within) some node leads a term T \
                that a majority of the cluster (itself included) last reported, no node reports a \
                term above T for the rest of the run: once the faults stop, nothing deposes a \
                leader a majority follows. A server that raised its term while cut off and forces \
                it on the cluster when it returns fails it; pre-vote prevents that (thesis §9.6).",
            bound: None,
        },
        build: |nodes, _| Box::new(stable_leader::StableLeader::new(nodes)),
    },
];

/// Checked by default, beside the protocol's own defaults, when a scenario has clients.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::run::RunOptions;
/// // Tiny's scenario without a `[check]` list: its defaults, and `linearizable` since it has clients.
/// let text = SCENARIO.replace("[check]\ninvariants = [\"election_safety\", \"writes_counted\", \"linearizable\"]\n", "");
/// let registry = registry();
/// let report = registry.run(&registry.scenario("tiny.toml", &text)?, &RunOptions::default(), None)?.report;
/// let names: Vec<&str> = report.invariants.iter().map(|i| i.name.as_str()).collect();
/// assert!(names.contains(&sim::check::HISTORY_DEFAULT), "{names:?}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub const HISTORY_DEFAULT: &str = "linearizable";

/// The catalogue entry named `name`: the protocol's own invariants (`own`) first, then the
/// common ones.
///
/// ```
/// let entry = sim::check::find("leader_within", &[]).unwrap();
/// assert_eq!(entry.info.bound.map(|b| b.example), Some("2s"), "it takes a bound");
/// assert!(sim::check::find("no_split_brain", &[]).unwrap().info.bound.is_none());
/// assert!(sim::check::find("quorum_magic", &[]).is_none());
/// ```
pub fn find<'a>(name: &str, own: &'a [ProtocolInvariant]) -> Option<&'a ProtocolInvariant> {
    own.iter()
        .chain(catalog())
        .find(|entry| entry.info.name == name)
}

/// The invariants a `[check]` table asks for, ready to watch a run of `nodes` nodes: first each
/// of `names` (invariants that take no bound), then each invariant that takes a bound, enabled
/// by its bound in `bounds` (`[check] <name> = "2s"`), in name order. `own` is the
/// protocol's own catalogue, looked up before the common one.
///
/// ```
/// use std::collections::BTreeMap;
/// use sim::check;
///
/// const S: u64 = 1_000_000_000;
/// let names = vec!["election_safety".to_string(), "no_split_brain".to_string()];
/// // Three nodes, and a leader wanted within 5 s of the last fault.
/// let bounds = BTreeMap::from([("leader_within".to_string(), 5 * S)]);
/// let invariants = check::build(&names, &bounds, 3, &[]).unwrap();
/// let built: Vec<String> = invariants.iter().map(|i| i.name()).collect();
/// // leader_within names itself with its bound.
/// assert_eq!(built, ["election_safety", "no_split_brain", "leader_within 5s"]);
///
/// let none = BTreeMap::new();
/// let unknown = check::build(&["quorum_magic".to_string()], &none, 3, &[]).err().unwrap();
/// assert!(unknown.starts_with("unknown invariant `quorum_magic`; known: "));
/// let listed = check::build(&["leader_within".to_string()], &none, 3, &[]).err().unwrap();
/// assert!(listed.contains("write leader_within = \"2s\" in [check]"), "{listed}");
/// ```
pub fn build(
    names: &[String],
    bounds: &BTreeMap<String, Nanos>,
    nodes: usize,
    own: &[ProtocolInvariant],
) -> Result<Vec<Box<dyn Invariant>>, String> {
    let entry = |name: &str| find(name, own).ok_or_else(|| unknown(name, own));
    let mut out: Vec<Box<dyn Invariant>> = Vec::with_capacity(names.len() + bounds.len());
    for name in names {
        let entry = entry(name)?;
        if let Some(bound) = entry.info.bound {
            return Err(takes_a_bound(name, &bound));
        }
        out.push((entry.build)(nodes, None));
    }
    for (name, &bound) in bounds {
        let entry = entry(name)?;
        if entry.info.bound.is_none() {
            return Err(format!(
                "{name} takes no bound: list it in invariants instead"
            ));
        }
        out.push((entry.build)(nodes, Some(bound)));
    }
    Ok(out)
}

/// Why an invariant that takes a bound cannot be listed in `invariants`, and what to write.
///
/// ```
/// let bound = sim::check::find("leader_within", &[]).unwrap().info.bound.unwrap();
/// assert_eq!(
///     sim::check::takes_a_bound("leader_within", &bound),
///     "leader_within takes a bound: write leader_within = \"2s\" in [check] instead of listing it"
/// );
/// ```
pub fn takes_a_bound(name: &str, bound: &BoundInfo) -> String {
    format!(
        "{name} takes a bound: write {name} = \"{}\" in [check] instead of listing it",
        bound.example
    )
}

fn unknown(name: &str, own: &[ProtocolInvariant]) -> String {
    let known: Vec<&str> = catalog()
        .iter()
        .chain(own)
        .map(|entry| entry.info.name)
        .collect();
    format!("unknown invariant `{name}`; known: {}", known.join(", "))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::{BoundInfo, InvariantInfo, Property, ProtocolInvariant};
    use crate::node::{Invariant, Nanos, Observation, RunView, Status, format_duration};
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

    /// A nemesis crash of `node` at `at`, as the world records it.
    pub fn crash(at: Nanos, node: u32) -> crate::node::FaultRecord {
        crate::node::FaultRecord {
            at,
            origin: crate::node::Origin::Nemesis,
            written: String::new(),
            applied: crate::node::Applied::Crash { nodes: vec![node] },
            lasting: None,
            dynamic: false,
        }
    }

    pub fn role(role: crate::node::Role, term: u64) -> Observation {
        Observation::Role { role, term }
    }

    /// An appended entry whose digest tells index and term apart.
    pub fn appended(index: u64, term: u64) -> Observation {
        Observation::Appended {
            index,
            term,
            digest: index * 100 + term,
        }
    }

    pub fn cluster(n: usize) -> Cluster {
        cluster_at(n, 0)
    }

    #[test]
    fn every_catalogued_invariant_can_be_built() {
        let (bounded, names): (Vec<&ProtocolInvariant>, Vec<&ProtocolInvariant>) = super::catalog()
            .iter()
            .partition(|i| i.info.bound.is_some());
        let names: Vec<String> = names.iter().map(|i| i.info.name.to_string()).collect();
        let bounds: BTreeMap<String, Nanos> = bounded
            .iter()
            .map(|i| (i.info.name.to_string(), 1))
            .collect();
        let built = super::build(&names, &bounds, 3, &[]).unwrap();
        assert_eq!(built.len(), super::catalog().len());
        let Err(e) = super::build(&["nope".into()], &BTreeMap::new(), 3, &[]) else {
            panic!("accepted an unknown name")
        };
        assert!(e.contains("unknown invariant `nope`"), "{e}");
    }

    /// A protocol's own liveness invariant that takes a bound, and says which it was given.
    struct SettlesWithin(Nanos);

    impl Invariant for SettlesWithin {
        fn name(&self) -> String {
            format!("settles_within {}", format_duration(self.0))
        }
        fn property(&self) -> Property {
            Property::Liveness
        }
        fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
        fn status(&self) -> Status {
            Status::Pass
        }
    }

    pub fn settles_within() -> ProtocolInvariant {
        ProtocolInvariant {
            info: InvariantInfo {
                name: "settles_within",
                property: Property::Liveness,
                definition: "Every transfer settles within the bound after the last fault.",
                bound: Some(BoundInfo {
                    example: "5s",
                    description: "How long after the last fault every transfer must settle.",
                }),
            },
            build: |_, bound| Box::new(SettlesWithin(bound.expect("a bound"))),
        }
    }

    #[test]
    fn a_bound_reaches_the_invariant_that_takes_one_and_no_other() {
        const S: Nanos = 1_000_000_000;
        let own = [settles_within()];
        let names = ["no_split_brain".to_string()];
        let bounds = BTreeMap::from([
            ("settles_within".to_string(), S),
            ("leader_within".to_string(), 2 * S),
        ]);
        let built: Vec<String> = super::build(&names, &bounds, 3, &own)
            .unwrap()
            .iter()
            .map(|i| i.name())
            .collect();
        assert_eq!(
            built,
            ["no_split_brain", "leader_within 2s", "settles_within 1s"],
            "listed first, then the bounded ones by name, each with its own bound"
        );

        let listed = ["settles_within".to_string()];
        let Err(e) = super::build(&listed, &BTreeMap::new(), 3, &own) else {
            panic!("built a bounded invariant without its bound")
        };
        assert_eq!(
            e,
            "settles_within takes a bound: write settles_within = \"5s\" in [check] instead of listing it"
        );
        let wrong = BTreeMap::from([("no_split_brain".to_string(), S)]);
        let Err(e) = super::build(&[], &wrong, 3, &own) else {
            panic!("gave a bound to an invariant that takes none")
        };
        assert_eq!(
            e,
            "no_split_brain takes no bound: list it in invariants instead"
        );
        // Another protocol's scenario does not know it.
        let Err(e) = super::build(&[], &bounds, 3, &[]) else {
            panic!("found another protocol's invariant")
        };
        assert!(e.starts_with("unknown invariant `settles_within`"), "{e}");
    }
}
