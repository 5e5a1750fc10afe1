//! The invariants for Raft's own rules — `leader_append_only`, `one_vote_per_term`,
//! `monotonic_term`, `monotonic_commit` — end to end: `sim list invariants` describes them,
//! the bundled scenarios hold them, Figure 8's broken commit rule breaks `monotonic_commit` once
//! the leader that committed is cut off instead of crashed, and a real Raft server whose disk
//! loses its term and vote breaks the other two, which its true disk keeps.

use crate::common;

use std::path::PathBuf;

use common::{run, sim};
use sim::node::{
    ClockKind, Ctx, DiskOf, Effect, FaultRecord, Invariant, LocalNanos, Nanos, NodeId, NodeStatus,
    Origin, Protocol, Rng, RunView, Status, Stream,
};
use sim::protocols::raft::{HardState, Msg, Raft, RaftConfig};

const NEW: [&str; 4] = [
    "leader_append_only",
    "one_vote_per_term",
    "monotonic_term",
    "monotonic_commit",
];

#[test]
fn sim_list_invariants_describes_each_new_invariant() {
    let out = sim(&["list", "invariants"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for (name, says) in [
        ("leader_append_only", "only appends"),
        ("one_vote_per_term", "at most one candidate"),
        ("monotonic_term", "never goes back"),
        ("monotonic_commit", "volatile in Raft"),
    ] {
        let at = text
            .find(&format!("{name}  (safety)"))
            .unwrap_or_else(|| panic!("{name} is not listed:\n{text}"));
        let entry: String = text[at..].lines().take(4).collect::<Vec<_>>().join(" ");
        assert!(entry.contains(says), "{name}: {entry}");
    }
}

/// The bundled scenarios that check them, on their own seed: every new invariant holds.
#[test]
fn the_bundled_raft_scenarios_hold_every_new_invariant() {
    for file in [
        "scenarios/raft/kv-linearizable.toml",
        "scenarios/raft/nemesis-partitions.toml",
        "scenarios/raft/swarm.toml",
        "scenarios/raft/leader-crash.toml",
    ] {
        let r = run(file, &[]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        for name in NEW {
            assert_eq!(r.status(name), "pass", "{file}: {name}");
        }
    }
}

/// Writes `text` to a fresh file under the test's temporary directory.
fn file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("raft_invariants");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A Figure 8 scenario where S1, which committed its term-1 entry in term 5, is cut off at
/// 919 ms instead of crashed, and rejoins at 1.6 s with its commit index still in memory.
fn leader_kept_alive(scenario: &str) -> PathBuf {
    let text = std::fs::read_to_string(common::root().join("scenarios/raft").join(scenario))
        .unwrap()
        .replace(
            "at = \"919ms\"\ncrash = \"S1\"\n",
            "at = \"919ms\"\npartition = { isolate = \"S1\" }\nfor = \"681ms\"\n",
        )
        .replace("[[faults]]\nat = \"1.6s\"\nrestart = \"S1\"\n", "")
        .replace(
            "\"leader_completeness\"]",
            "\"leader_completeness\", \"monotonic_commit\", \"leader_append_only\"]",
        );
    assert!(text.contains("isolate = \"S1\""), "{scenario} changed");
    assert!(text.contains("\"monotonic_commit\""), "{scenario} changed");
    file(scenario, &text)
}

#[test]
fn figure_8_makes_the_leader_that_committed_lose_its_commit_index() {
    let path = leader_kept_alive("figure8.toml");
    let r = run(path.to_str().unwrap(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = &r.invariant("monotonic_commit")["violation"];
    assert_eq!(
        v["message"],
        "S1's commit index went back: it wrote index 1 (term 2), replacing the entry there \
         after it had committed index 1 in the same life",
        "{v}"
    );
    // The story: S1 committed index 1 of term 1, then took S5's entry of term 2 there.
    let evidence: Vec<&str> = v["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        evidence[0].ends_with("S1 committed index 1 (term 1)"),
        "{evidence:?}"
    );
    // S1 stepped down before it was overwritten: it did not write as a leader.
    assert_eq!(r.status("leader_append_only"), "pass");
}

#[test]
fn figure_8_with_the_current_term_rule_keeps_the_commit_index() {
    let path = leader_kept_alive("figure8-current-term.toml");
    let r = run(path.to_str().unwrap(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("monotonic_commit"), "pass");
    assert_eq!(r.status("leader_append_only"), "pass");
}

// ---- a real Raft server, driven by hand ---------------------------------------------------------

const MS: LocalNanos = 1_000_000;

/// Three nodes, always up: what the checkers read of the cluster.
struct Cluster(Vec<String>);

impl RunView for Cluster {
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

/// Server C of A, B, C, with the disk the world would keep for it, and every observation it
/// made (and every crash) fed to the checkers as a run would.
struct Voter {
    raft: Raft,
    disk: Option<DiskOf<Raft>>,
    peers: Vec<NodeId>,
    cfg: RaftConfig,
    rng: Rng,
    now: LocalNanos,
    checks: Vec<Box<dyn Invariant>>,
    view: Cluster,
}

const C: NodeId = NodeId(2);

impl Voter {
    fn new(checks: &[&str]) -> Voter {
        let cfg = RaftConfig {
            pre_vote: false,
            check_quorum: false,
            ..RaftConfig::default()
        };
        let peers = vec![NodeId(0), NodeId(1)];
        let checks = checks
            .iter()
            .map(|name| (sim::check::find(name, &[]).expect(name).build)(3, None))
            .collect();
        let mut v = Voter {
            raft: Raft::new(C, &peers, &cfg, None),
            disk: None,
            peers,
            cfg,
            rng: Rng::derive(1, Stream::Node(C.0)),
            now: 0,
            checks,
            view: Cluster(vec!["A".into(), "B".into(), "C".into()]),
        };
        v.call(|r, ctx| r.on_start(ctx));
        v
    }

    fn call(&mut self, handler: impl FnOnce(&mut Raft, &mut Ctx<'_, Raft>)) {
        let mut effects = Vec::new();
        let ctx = Ctx::new(
            C,
            &self.peers,
            self.now,
            self.now,
            &mut self.rng,
            &mut effects,
        );
        handler(&mut self.raft, &mut ctx.with_disk(self.disk.as_ref()));
        for effect in effects {
            match effect {
                Effect::Persist(write) => {
                    self.disk.get_or_insert_with(Default::default).apply(write)
                }
                Effect::Observe(obs) => {
                    for check in &mut self.checks {
                        if check.observes().contains(&obs) {
                            check.on_observation(self.now as Nanos, C.0, &obs, &self.view);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// A candidate of term 1 asks for C's vote, a second after C started (past its stickiness).
    fn asked_by(&mut self, candidate: u32) {
        self.now += 1_000 * MS;
        let ask = Msg::RequestVote {
            term: 1,
            last_log_index: 0,
            last_log_term: 0,
            pre_vote: false,
        };
        self.call(|r, ctx| r.on_message(ctx, NodeId(candidate), ask));
    }

    /// C crashes, and starts again from `disk`.
    fn restart_from(&mut self, disk: Option<DiskOf<Raft>>) {
        self.now += 1_000 * MS;
        let crash = FaultRecord {
            at: self.now as Nanos,
            origin: Origin::Schedule(0),
            written: "crash C".into(),
            applied: sim::node::Applied::Crash { nodes: vec![C.0] },
            lasting: None,
            dynamic: false,
        };
        for check in &mut self.checks {
            check.on_fault(self.now as Nanos, &crash, &self.view);
        }
        self.disk = disk;
        self.raft = Raft::new(C, &self.peers, &self.cfg, self.disk.as_ref());
        self.call(|r, ctx| r.on_start(ctx));
    }

    fn status(&self, name: &str) -> Status {
        let check = self.checks.iter().find(|c| c.name() == name).expect(name);
        check.status()
    }
}

/// C votes for A in term 1, crashes, and is asked by B in term 1.
fn vote_crash_ask(
    disk_after_crash: impl FnOnce(&Option<DiskOf<Raft>>) -> Option<DiskOf<Raft>>,
) -> Voter {
    let mut c = Voter::new(&["one_vote_per_term", "monotonic_term"]);
    c.asked_by(0);
    assert_eq!(c.raft.voted_for(), Some(NodeId(0)));
    let disk = disk_after_crash(&c.disk);
    c.restart_from(disk);
    c.asked_by(1);
    c
}

#[test]
fn a_voter_restarted_from_its_true_disk_keeps_its_vote_and_its_term() {
    let c = vote_crash_ask(Clone::clone);
    assert_eq!(c.raft.voted_for(), Some(NodeId(0)), "it refused B");
    assert_eq!(c.status("one_vote_per_term"), Status::Pass);
    assert_eq!(c.status("monotonic_term"), Status::Pass);
}

/// The bug a mutation campaign injects as "vote not made durable", here as a disk that lost
/// what was written: C starts again in term 0 with no vote, and votes for B in term 1.
#[test]
fn a_voter_whose_disk_lost_its_vote_votes_twice_and_goes_back_a_term() {
    let c = vote_crash_ask(|_| None);
    assert_eq!(c.raft.voted_for(), Some(NodeId(1)), "it voted again, for B");
    let Status::Violated(v) = c.status("one_vote_per_term") else {
        panic!("a second vote in term 1 passed")
    };
    assert_eq!(
        v.message,
        "C voted for both A and B in term 1: its first vote did not survive a crash"
    );
    let Status::Violated(v) = c.status("monotonic_term") else {
        panic!("a term lost in a crash passed")
    };
    assert_eq!(
        v.message,
        "C's term went back from 1 to 0: its term did not survive a crash"
    );
}

/// The term survived but the vote did not: only the vote rule fails.
#[test]
fn a_voter_whose_disk_kept_the_term_but_not_the_vote_fails_only_the_vote_rule() {
    let c = vote_crash_ask(|disk| {
        let mut disk = disk.clone().expect("C wrote its term and vote");
        disk.state = HardState {
            current_term: disk.state.current_term,
            voted_for: None,
        };
        Some(disk)
    });
    assert!(matches!(c.status("one_vote_per_term"), Status::Violated(_)));
    assert_eq!(c.status("monotonic_term"), Status::Pass);
}
