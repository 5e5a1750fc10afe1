//! Time inside a node (`[storage] sync`, `[timing] timer_jitter`, `[timing] processing`): a
//! reply that depends on a synced write leaves only once the write is synced, a crash before
//! then loses it, jittered timers break the tie of equal election timeouts, and the default
//! takes no time at all.

use schemars::JsonSchema;
use serde::Deserialize;
use sim::node::{Ctx, DiskOf, Nanos, NodeId, Observation, Protocol, Role};
use sim::protocols::raft::{Msg, Raft, RaftConfig};
use sim::world::{
    Clock, Cluster, Event, FaultAction, FaultSpec, Latency, LinkModel, Observer, Origin, Record,
    Target, Timing, World, WorldSpec,
};

const MS: Nanos = 1_000_000;

fn spec(n: usize, seed: u64, duration: Nanos, timing: Timing) -> WorldSpec {
    WorldSpec {
        seed,
        names: (0..n)
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect(),
        duration,
        max_events: 1_000_000,
        link: LinkModel::default(),
        clocks: vec![Clock::honest(); n],
        faults: Vec::new(),
        timing,
    }
}

/// Raft's vote requests delivered and vote replies sent, and who became leader when.
#[derive(Default)]
struct Votes {
    /// (time, voter, candidate) of each RequestVote delivered (not pre-votes).
    asked: Vec<(Nanos, u32, u32)>,
    /// (time, voter, candidate) of each granted VoteReply sent.
    granted: Vec<(Nanos, u32, u32)>,
    leaders: Vec<(Nanos, u32)>,
}

impl Observer<Raft> for Votes {
    fn on_record(&mut self, r: &Record<'_, Raft>, _: &Cluster) {
        match &r.event {
            Event::Deliver {
                from,
                to,
                msg: Msg::RequestVote {
                    pre_vote: false, ..
                },
                ..
            } => self.asked.push((r.at, *to, *from)),
            Event::Send {
                from,
                to,
                msg:
                    Msg::VoteReply {
                        granted: true,
                        pre_vote: false,
                        ..
                    },
                ..
            } => self.granted.push((r.at, *from, *to)),
            Event::Observe {
                node,
                obs:
                    Observation::Role {
                        role: Role::Leader, ..
                    },
            } => self.leaders.push((r.at, *node)),
            _ => {}
        }
    }
}

fn raft(config: RaftConfig, spec: WorldSpec) -> Votes {
    let mut world: World<Raft, Votes> = World::new(spec, config, Votes::default());
    world.run();
    world.into_observer()
}

/// When the granted vote of `voter` for `candidate` was sent, and when the request arrived.
fn vote_delay(v: &Votes) -> Vec<Nanos> {
    v.granted
        .iter()
        .map(|&(sent, voter, candidate)| {
            let asked = v
                .asked
                .iter()
                .filter(|&&(at, to, from)| to == voter && from == candidate && at <= sent)
                .map(|&(at, ..)| at)
                .max()
                .expect("a vote answers a request");
            sent - asked
        })
        .collect()
}

#[test]
fn a_vote_reply_waits_for_the_synced_write_of_the_vote() {
    // Without a disk the vote leaves the instant the request arrives (Raft §5.2 persists the
    // vote first, but persisting takes no time).
    let instant = raft(
        RaftConfig::default(),
        spec(3, 1, 2_000 * MS, Timing::default()),
    );
    let delays = vote_delay(&instant);
    assert!(!delays.is_empty(), "someone was elected");
    assert!(delays.iter().all(|&d| d == 0), "{delays:?}");

    // With a 10-15 ms sync, every granted vote leaves no earlier than 10 ms after its request:
    // the persist of the vote (votedFor, currentTerm) must be synced first.
    let disk = Timing {
        sync: Some(Latency::Uniform {
            min: 10 * MS,
            max: 15 * MS,
        }),
        ..Timing::default()
    };
    let synced = raft(RaftConfig::default(), spec(3, 1, 2_000 * MS, disk));
    let delays = vote_delay(&synced);
    assert!(!delays.is_empty(), "a leader is still elected");
    assert!(
        delays.iter().all(|&d| d >= 10 * MS),
        "every vote waited for its sync: {delays:?}"
    );
    assert!(!synced.leaders.is_empty());
}

#[test]
fn timer_jitter_breaks_the_tie_of_equal_election_timeouts() {
    let equal = RaftConfig {
        election_timeout: ["150ms".parse().unwrap(), "150ms".parse().unwrap()],
        pre_vote: false,
        ..RaftConfig::default()
    };
    // Exact timers: all five time out together, each votes for itself, forever.
    let exact = raft(equal.clone(), spec(5, 1, 5_000 * MS, Timing::default()));
    assert!(exact.leaders.is_empty(), "{:?}", exact.leaders);

    // Timers late by up to 1 ms: one candidate asks first and wins.
    let jitter = Timing {
        timer_jitter: Some(Latency::Uniform { min: 0, max: MS }),
        ..Timing::default()
    };
    let jittered = raft(equal, spec(5, 1, 5_000 * MS, jitter));
    assert!(!jittered.leaders.is_empty(), "a leader is elected");
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
struct NoConfig {}

/// Node 0 writes to its disk and then tells node 1, once, at start.
struct WriteThenTell {
    restored: bool,
}

impl Protocol for WriteThenTell {
    const NAME: &'static str = "write-then-tell";
    const SUMMARY: &'static str = "persist, then send";
    type Msg = u8;
    type Timer = ();
    type Config = NoConfig;
    type Durable = u8;
    type Api = sim::node::Kv;
    type Fact = sim::node::NoFacts;
    type Record = ();
    fn new(_: NodeId, _: &[NodeId], _: &NoConfig, disk: Option<&DiskOf<Self>>) -> Self {
        WriteThenTell {
            restored: disk.is_some_and(|d| d.state == 7),
        }
    }
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() == NodeId(0) && !self.restored {
            ctx.persist(7);
            ctx.send(NodeId(1), 7);
        }
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u8) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, (): ()) {}
}

/// (time, kind) of every record.
#[derive(Default)]
struct Kinds(Vec<(Nanos, &'static str)>);

impl Observer<WriteThenTell> for Kinds {
    fn on_record(&mut self, r: &Record<'_, WriteThenTell>, _: &Cluster) {
        self.0.push((r.at, r.event.kind()));
    }
}

fn tell(crash_at: Option<Nanos>, timing: Timing) -> (Vec<(Nanos, &'static str)>, bool) {
    let mut spec = spec(2, 1, 100 * MS, timing);
    if let Some(at) = crash_at {
        spec.faults = vec![FaultSpec {
            at,
            action: FaultAction::Crash(Target::Node(0)),
            lasting: Some(10 * MS),
            origin: Origin::Schedule(0),
        }];
    }
    let mut world: World<WriteThenTell, Kinds> = World::new(spec, NoConfig {}, Kinds::default());
    world.run();
    let restored = world.node(0).is_some_and(|n| n.restored);
    (world.into_observer().0, restored)
}

fn sends(records: &[(Nanos, &'static str)]) -> Vec<Nanos> {
    records
        .iter()
        .filter(|(_, k)| *k == "send")
        .map(|&(at, _)| at)
        .collect()
}

#[test]
fn a_send_after_a_write_leaves_when_the_sync_ends_and_a_crash_before_loses_it() {
    let disk = Timing {
        sync: Some(Latency::Constant(10 * MS)),
        ..Timing::default()
    };
    assert_eq!(
        sends(&tell(None, Timing::default()).0),
        [0],
        "no disk: at once"
    );
    assert_eq!(
        sends(&tell(None, disk.clone()).0),
        [10 * MS],
        "after the sync"
    );
    // Crashed at 5 ms, before the sync ends: the send never leaves, but the write survives,
    // so the restarted node finds it on disk (and does not write again).
    let (records, restored) = tell(Some(5 * MS), disk.clone());
    assert!(sends(&records).is_empty(), "{records:?}");
    assert!(restored, "the write reached the disk before the crash");

    // Processing adds its delay before the sync starts.
    let slow = Timing {
        processing: Some(Latency::Constant(3 * MS)),
        ..disk
    };
    assert_eq!(sends(&tell(None, slow).0), [13 * MS]);
}
