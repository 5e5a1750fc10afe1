//! Raft in a simulated world: whole clusters on a network, with faults, telling the story of who
//! led which term. (Integration tests, because a protocol's own module never imports the world.)

use sim::node::{ClockKind, LocalNanos, Nanos, NodeId, Observation, Role};
use sim::protocols::raft::{Raft, RaftConfig};
use sim::world::{
    Applied, Clock, Cluster, Event, FaultAction, FaultSpec, Latency, LinkModel, NemesisSpec,
    Observer, Origin, Outcome, Record, Rhythm, Shape, Target, World, WorldSpec,
};

const MS: Nanos = 1_000_000;

/// Every role a node observed: (true time, node, role, term).
#[derive(Default)]
struct Roles(Vec<(Nanos, u32, Role, u64)>);

impl Roles {
    fn leaders(&self) -> Vec<(Nanos, u32, u64)> {
        self.0
            .iter()
            .filter(|&&(_, _, role, _)| role == Role::Leader)
            .map(|&(at, node, _, term)| (at, node, term))
            .collect()
    }
}

impl Observer<Raft> for Roles {
    fn on_record(&mut self, record: &Record<'_, Raft>, _: &Cluster) {
        if let Event::Observe {
            node,
            obs: Observation::Role { role, term },
        } = record.event
        {
            self.0.push((record.at, node, *role, *term));
        }
    }
}

fn spec(n: usize, seed: u64, duration: Nanos, faults: Vec<FaultSpec>) -> WorldSpec {
    WorldSpec {
        seed,
        names: (0..n)
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect(),
        duration,
        max_events: 1_000_000,
        link: LinkModel::default(),
        clocks: vec![Clock::honest(); n],
        faults,
        timing: Default::default(),
    }
}

fn run(spec: WorldSpec) -> World<Raft, Roles> {
    let mut world = World::new(spec, RaftConfig::default(), Roles::default());
    assert_eq!(world.run(), Outcome::Completed);
    world
}

/// §5.2 Election Safety, seen from outside: no two leaders share a term.
fn assert_one_leader_per_term(leaders: &[(Nanos, u32, u64)]) {
    let mut terms: Vec<u64> = leaders.iter().map(|&(_, _, term)| term).collect();
    terms.sort_unstable();
    let before = terms.len();
    terms.dedup();
    assert_eq!(terms.len(), before, "two leaders in one term: {leaders:?}");
}

#[test]
fn section_5_2_three_servers_elect_exactly_one_leader_within_a_second_and_agree_on_its_term() {
    for seed in 1..=20 {
        let world = run(spec(3, seed, 1_000 * MS, vec![]));
        let leaders = world.observer().leaders();
        assert_eq!(leaders.len(), 1, "seed {seed}: {leaders:?}");
        let (at, leader, term) = leaders[0];
        assert!(at < 1_000 * MS && term >= 1, "seed {seed}");
        for node in 0..3 {
            let raft = world.node(node).unwrap();
            assert_eq!(raft.term(), term, "seed {seed}: node {node}");
            assert_eq!(
                raft.leader(),
                Some(NodeId(leader)),
                "seed {seed}: node {node}"
            );
        }
    }
}

#[test]
fn section_5_2_when_the_leader_of_five_crashes_another_leads_a_higher_term() {
    let crash = FaultSpec {
        at: 1_000 * MS,
        action: FaultAction::Crash(Target::Leader),
        lasting: None,
        origin: Origin::Schedule(0),
    };
    for seed in 1..=10 {
        let world = run(spec(5, seed, 3_000 * MS, vec![crash.clone()]));
        let Applied::Crash { nodes } = &world.faults()[0].applied else {
            panic!("seed {seed}: {:?}", world.faults()[0].applied);
        };
        let old = nodes[0];
        let leaders = world.observer().leaders();
        assert_one_leader_per_term(&leaders);
        let (_, first, old_term) = leaders[0];
        assert_eq!(first, old, "seed {seed}: the crash hit the leader");
        let after: Vec<_> = leaders.iter().filter(|l| l.0 > 1_000 * MS).collect();
        assert_eq!(after.len(), 1, "seed {seed}: {leaders:?}");
        let &(_, new, new_term) = after[0];
        assert_ne!(new, old, "seed {seed}");
        assert!(new_term > old_term, "seed {seed}");
        for node in (0..5).filter(|&n| n != old) {
            let raft = world.node(node).unwrap();
            assert_eq!((raft.term(), raft.leader()), (new_term, Some(NodeId(new))));
        }
        assert!(world.node(old).is_none(), "still down");
    }
}

#[test]
fn a_run_is_a_pure_function_of_the_seed() {
    let hash = |seed| run(spec(5, seed, 2_000 * MS, vec![])).trace_hash();
    assert_eq!(hash(3), hash(3));
    assert_ne!(hash(3), hash(4));
}

/// Watches `authority` claims: a claim while another node still holds an unexpired lease (on
/// its own clock), leads and is up, is a split brain. Also keeps the roles.
#[derive(Default)]
struct Leases {
    roles: Roles,
    held: Vec<Option<(u64, LocalNanos, ClockKind)>>,
    split_brains: Vec<String>,
}

impl Observer<Raft> for Leases {
    fn on_record(&mut self, record: &Record<'_, Raft>, cluster: &Cluster) {
        self.roles.on_record(record, cluster);
        let Event::Observe { node, obs } = record.event else {
            return;
        };
        self.held.resize(cluster.len(), None);
        match *obs {
            Observation::Role { role, .. } if !role.leads() => self.held[node as usize] = None,
            Observation::Authority {
                term,
                until: Some(until),
                clock,
            } => {
                for (other, held) in self.held.iter().enumerate() {
                    if let Some((their_term, their_until, their_clock)) = *held
                        && other != node as usize
                        && !cluster.is_crashed(other as u32)
                        && cluster.read_clock(other as u32, their_clock) < their_until
                    {
                        self.split_brains.push(format!(
                            "at {} ns node {node} (term {term}) claimed authority while node \
                             {other} (term {their_term}) held it",
                            record.at
                        ));
                    }
                }
                self.held[node as usize] = Some((term, until, clock));
            }
            _ => {}
        }
    }
}

/// A nemesis of partitions of every shape and stop-the-world pauses (and crashes, if asked)
/// over a lossy, duplicating, reordering network, then a final heal at 8 s of a 10 s run.
fn stormy(seed: u64, crashes: bool) -> WorldSpec {
    let rhythm = Rhythm {
        every: (200 * MS, 1_500 * MS),
        last: (100 * MS, 1_000 * MS),
    };
    let nemesis = NemesisSpec {
        until: 8_000 * MS,
        partition: Some((
            rhythm.clone(),
            vec![
                Shape::MajorityMinority,
                Shape::Ring,
                Shape::Bridge(Target::Random),
                Shape::Isolate(Target::Leader),
            ],
        )),
        crash: crashes.then(|| (rhythm.clone(), Target::Random)),
        pause: Some((rhythm, Target::Leader)),
        clock_jump: None,
        delay: None,
    };
    let mut spec = spec(5, seed, 10_000 * MS, nemesis.expand(seed));
    spec.link = LinkModel {
        latency: Latency::Uniform {
            min: MS,
            max: 10 * MS,
        },
        loss: 0.02,
        duplicate: 0.02,
        reorder: true,
    };
    spec
}

#[test]
fn section_5_2_and_thesis_6_4_under_a_nemesis_terms_have_one_leader_and_leases_never_overlap() {
    for seed in 1..=24 {
        for pre_vote in [false, true] {
            let cfg = RaftConfig {
                pre_vote,
                ..RaftConfig::default()
            };
            let crashes = seed % 2 == 0;
            let mut world = World::new(stormy(seed, crashes), cfg, Leases::default());
            assert_eq!(world.run(), Outcome::Completed);
            let watch = world.observer();
            let leaders = watch.roles.leaders();
            assert_one_leader_per_term(&leaders);
            if !crashes {
                // A crash-restart forgets whom it heard from, so it may vote inside a lease;
                // only crash-free runs promise exclusive leases.
                assert_eq!(watch.split_brains, Vec::<String>::new(), "seed {seed}");
            }
            // Liveness after the final heal: one leader of a term everyone has reached.
            let (_, leader, term) = *leaders.last().unwrap();
            for node in 0..5 {
                let raft = world.node(node).unwrap();
                assert_eq!(
                    (raft.term(), raft.leader()),
                    (term, Some(NodeId(leader))),
                    "seed {seed}, pre_vote {pre_vote}: node {node}"
                );
            }
        }
    }
}

#[test]
fn thesis_4_2_3_without_stickiness_a_new_leader_is_elected_inside_the_old_leaders_lease() {
    let cfg = RaftConfig {
        vote_stickiness: false,
        ..RaftConfig::default()
    };
    let split = (1..=24).find(|&seed| {
        let mut world = World::new(stormy(seed, false), cfg.clone(), Leases::default());
        world.run();
        !world.observer().split_brains.is_empty()
    });
    assert!(split.is_some(), "the lesson needs a seed that shows it");
}

/// §5.3 and §5.4 under a storm: once the faults stop, every server holds the leader's log,
/// has committed and applied all of it (each term's no-op), and no two servers ever stored
/// different entries under one (index, term) or applied different entries at one index.
#[test]
fn section_5_3_after_the_storm_every_log_matches_the_leaders_and_is_applied() {
    for seed in 1..=12 {
        let crashes = seed % 2 == 0;
        let mut world = World::new(
            stormy(seed, crashes),
            RaftConfig::default(),
            Logs::default(),
        );
        assert_eq!(world.run(), Outcome::Completed);
        let leader = (0..5)
            .map(|n| world.node(n).unwrap())
            .find(|r| r.role() == Role::Leader)
            .unwrap_or_else(|| panic!("seed {seed}: no leader"));
        let log = leader.log().to_vec();
        assert_eq!(
            log.last().unwrap().term,
            leader.term(),
            "seed {seed}: its no-op"
        );
        for node in 0..5 {
            let raft = world.node(node).unwrap();
            assert_eq!(raft.log(), &log[..], "seed {seed}: node {node}");
            assert_eq!(
                raft.commit_index(),
                log.len() as u64,
                "seed {seed}: node {node}"
            );
        }
        let logs = world.observer();
        assert!(
            logs.conflicts.is_empty(),
            "seed {seed}: {:?}",
            logs.conflicts
        );
        assert!(logs.applied.len() >= log.len(), "seed {seed}");
    }
}

/// Keeps (index, term) → digest from `appended` and index → (term, digest) from `applied`,
/// and notes any disagreement.
#[derive(Default)]
struct Logs {
    appended: std::collections::BTreeMap<(u64, u64), u64>,
    applied: std::collections::BTreeMap<u64, (u64, u64)>,
    conflicts: Vec<String>,
}

impl Observer<Raft> for Logs {
    fn on_record(&mut self, record: &Record<'_, Raft>, _: &Cluster) {
        let Event::Observe { node, obs } = record.event else {
            return;
        };
        match *obs {
            Observation::Appended {
                index,
                term,
                digest,
            } => {
                let first = *self.appended.entry((index, term)).or_insert(digest);
                if first != digest {
                    self.conflicts
                        .push(format!("node {node} appended {index}/{term}"));
                }
            }
            Observation::Applied {
                index,
                term,
                digest,
            } => {
                let first = *self.applied.entry(index).or_insert((term, digest));
                if first != (term, digest) {
                    self.conflicts.push(format!("node {node} applied {index}"));
                }
            }
            _ => {}
        }
    }
}
