//! Engine tests with a probe protocol: each fault kind's effect, seen in the trace and in what
//! the nodes experienced.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::node::{Ctx, DiskOf, LocalNanos, NodeId, Protocol};

use super::*;

const MS: u64 = 1_000_000;

/// Node 0 pings every other node each `tick`; every node logs what it receives and when its
/// own ticks fire, on its local clock. It persists how many pings it has received.
#[derive(Debug)]
struct Probe {
    id: NodeId,
    tick: u64,
    received: Vec<(NodeId, u64, LocalNanos)>,
    ticks: Vec<LocalNanos>,
    restored: Option<u64>,
    seq: u64,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
struct ProbeConfig {
    tick_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
enum ProbeTimer {
    Tick,
    Never,
}

impl Protocol for Probe {
    const NAME: &'static str = "probe";
    const SUMMARY: &'static str = "test probe";
    type Msg = u64;
    type Timer = ProbeTimer;
    type Config = ProbeConfig;
    type Durable = u64;
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = ();

    fn new(id: NodeId, _: &[NodeId], config: &ProbeConfig, disk: Option<&DiskOf<Self>>) -> Self {
        Probe {
            id,
            tick: config.tick_ms * MS,
            received: vec![],
            ticks: vec![],
            restored: disk.map(|d| d.state),
            seq: 0,
        }
    }
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(self.tick, ProbeTimer::Tick);
        // Replaced below: only the second setting may fire.
        ctx.set_timer(5 * MS, ProbeTimer::Never);
        ctx.set_timer(10_000 * MS, ProbeTimer::Never);
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: u64) {
        self.received.push((from, msg, ctx.now()));
        ctx.persist(self.received.len() as u64 + self.restored.unwrap_or(0));
    }
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: ProbeTimer) {
        assert_eq!(timer, ProbeTimer::Tick, "a replaced timer fired");
        self.ticks.push(ctx.now());
        if self.id == NodeId(0) {
            self.seq += 1;
            ctx.broadcast(self.seq);
        }
        ctx.set_timer(self.tick, ProbeTimer::Tick);
    }
}

/// Collects (time, kind, node) of every record.
#[derive(Default)]
struct Log(Vec<(u64, &'static str, Option<u32>, String)>);

impl Observer<Probe> for Log {
    fn on_record(&mut self, r: &Record<'_, Probe>, cluster: &Cluster) {
        let detail = match &r.event {
            Event::Fault(f) => f.applied.describe(cluster),
            Event::Drop { reason, .. } => reason.name().to_string(),
            _ => String::new(),
        };
        self.0.push((r.at, r.event.kind(), r.event.node(), detail));
    }
}

fn spec(n: usize, faults: Vec<FaultSpec>) -> WorldSpec {
    WorldSpec {
        seed: 1,
        names: (0..n)
            .map(|i| ((b'A' + i as u8) as char).to_string())
            .collect(),
        duration: 1_000 * MS,
        max_events: 1_000_000,
        link: LinkModel::default(),
        clocks: vec![Clock::honest(); n],
        faults,
        timing: Default::default(),
    }
}

fn fault(at_ms: u64, action: FaultAction, lasting_ms: Option<u64>) -> FaultSpec {
    FaultSpec {
        at: at_ms * MS,
        action,
        lasting: lasting_ms.map(|l| l * MS),
        origin: Origin::Schedule(0),
    }
}

fn run(spec: WorldSpec) -> World<Probe, Log> {
    let mut w = World::new(spec, ProbeConfig { tick_ms: 10 }, Log::default());
    assert_eq!(w.run(), Outcome::Completed);
    w
}

#[test]
fn a_delay_spike_slows_the_nodes_links_both_ways_until_it_ends() {
    // Pings every 10 ms from A to B and C, 1 ms each; B's links take 50 ms more in [100, 300).
    let w = run(spec(
        3,
        vec![fault(
            100,
            FaultAction::Delay {
                target: Target::Node(1),
                by: 50 * MS,
            },
            Some(200),
        )],
    ));
    let arrivals = |node: u32| -> Vec<(u64, i64)> {
        w.node(node)
            .unwrap()
            .received
            .iter()
            .map(|&(_, seq, at)| (seq, at / MS as i64))
            .collect()
    };
    let b = arrivals(1);
    let c = arrivals(2);
    // Sent at 50 ms: before the spike, 1 ms. Sent at 150 ms: 51 ms. Sent at 300 ms, after the
    // spike: 1 ms, but links are FIFO, so it arrives with the last slowed ping (sent at 290 ms,
    // due at 341 ms).
    assert!(b.contains(&(5, 51)), "{b:?}");
    assert!(b.contains(&(15, 201)), "{b:?}");
    assert!(b.contains(&(29, 341)), "{b:?}");
    assert!(
        b.contains(&(30, 341)),
        "FIFO: behind the last slowed ping: {b:?}"
    );
    assert!(b.contains(&(40, 401)), "the spike is over: {b:?}");
    // C's links were never slowed.
    assert!(c.contains(&(15, 151)), "{c:?}");
    // The trace says when it started and when it ended.
    let faults: Vec<(u64, &Applied)> = w.faults().iter().map(|f| (f.at / MS, &f.applied)).collect();
    assert_eq!(
        faults,
        [
            (
                100,
                &Applied::Slow {
                    nodes: vec![1],
                    by: 50 * MS
                }
            ),
            (
                300,
                &Applied::Unslow {
                    nodes: vec![1],
                    by: 50 * MS
                }
            ),
        ]
    );
}

#[test]
fn a_paused_node_runs_nothing_and_gets_its_queue_in_order_after() {
    let w = run(spec(
        2,
        vec![fault(100, FaultAction::Pause(Target::Node(1)), Some(200))],
    ));
    let b = w.node(1).unwrap();
    // Pings sent at 10, 20, ... arrive 1 ms later; those due in [100, 300) wait for the resume.
    let during: Vec<_> = b
        .received
        .iter()
        .filter(|(_, _, at)| (100 * MS as i64..300 * MS as i64).contains(at))
        .collect();
    assert!(during.is_empty(), "nothing runs while paused: {during:?}");
    let at_resume: Vec<u64> = b
        .received
        .iter()
        .filter(|(_, _, at)| *at == 300 * MS as i64)
        .map(|(_, seq, _)| *seq)
        .collect();
    assert_eq!(
        at_resume,
        (10..=29).collect::<Vec<u64>>(),
        "held in order, delivered at resume"
    );
    // Its own tick came due during the pause and fired late, at the resume.
    assert!(b.ticks.contains(&(300 * MS as i64)));
    assert!(
        !b.ticks
            .iter()
            .any(|&t| t > 100 * MS as i64 && t < 300 * MS as i64)
    );
    let log = &w.observer().0;
    assert!(!log.iter().any(|(t, kind, node, _)| {
        *node == Some(1)
            && (100 * MS..300 * MS).contains(t)
            && (*kind == "deliver" || *kind == "timer")
    }));
    assert!(
        log.iter()
            .any(|(t, kind, _, d)| *t == 300 * MS && *kind == "fault" && d == "resume B")
    );
}

#[test]
fn a_one_way_cut_drops_one_direction_only() {
    let cut = FaultAction::Cut {
        from: vec![Target::Node(0)],
        to: vec![Target::Node(1)],
    };
    let mut s = spec(2, vec![fault(0, cut, None)]);
    s.duration = 100 * MS;
    let w = run(s);
    assert!(w.node(1).unwrap().received.is_empty(), "A -> B is cut");
    let drops = w
        .observer()
        .0
        .iter()
        .filter(|(_, k, _, d)| *k == "drop" && d == "partition");
    assert_eq!(drops.count(), 9, "every ping A sent was dropped");
    assert_eq!(w.stats().dropped_partition, 9);

    // B -> A still flows: a probe where node 1 pings instead.
    let mut s = spec(
        2,
        vec![fault(
            0,
            FaultAction::Cut {
                from: vec![Target::Node(1)],
                to: vec![Target::Node(0)],
            },
            None,
        )],
    );
    s.duration = 100 * MS;
    let w = run(s);
    assert_eq!(
        w.node(1).unwrap().received.len(),
        9,
        "the reverse direction flows"
    );
}

#[test]
fn messages_in_flight_across_a_new_cut_are_dropped_at_delivery() {
    let mut s = spec(
        2,
        vec![FaultSpec {
            at: 10 * MS + MS / 2, // the ping sent at 10 ms is on the wire until 11 ms
            action: FaultAction::Partition(Shape::Isolate(Target::Node(1))),
            lasting: None,
            origin: Origin::Schedule(0),
        }],
    );
    s.duration = 15 * MS;
    let w = run(s);
    assert!(w.node(1).unwrap().received.is_empty());
    let log = &w.observer().0;
    assert!(
        log.iter()
            .any(|(t, k, n, d)| *t == 11 * MS && *k == "drop" && *n == Some(1) && d == "partition")
    );
}

#[test]
fn a_backward_clock_jump_makes_now_go_back_but_moves_no_timer() {
    let jump = FaultAction::ClockJump {
        target: Target::Node(1),
        by: -(500 * MS as i64),
    };
    let w = run(spec(2, vec![fault(505, jump, None)]));
    let b = w.node(1).unwrap();
    let readings: Vec<i64> = b.received.iter().map(|(_, _, at)| *at).collect();
    assert!(
        readings.windows(2).any(|p| p[1] < p[0]),
        "ctx.now() went back"
    );
    // The first ping after the jump (sent at 510 ms true) arrives at 511 ms true = 11 ms local.
    assert!(readings.contains(&(11 * MS as i64)));
    // Timers run on the monotonic clock, which the step does not touch: B's tick due at 510 ms
    // fires at 510 ms true, when its wall clock reads 10 ms, and it keeps ticking every 10 ms.
    let after: Vec<i64> = b
        .ticks
        .iter()
        .copied()
        .filter(|&t| t < 400 * MS as i64)
        .collect();
    assert_eq!(after[..2], [10 * MS as i64, 20 * MS as i64]);
}

#[test]
fn a_forward_jump_fires_no_timer_early() {
    let jump = FaultAction::ClockJump {
        target: Target::Node(1),
        by: 25 * MS as i64,
    };
    let mut s = spec(2, vec![fault(502, jump, None)]);
    s.duration = 503 * MS;
    let w = run(s);
    let b = w.node(1).unwrap();
    assert_eq!(
        *b.ticks.last().unwrap(),
        500 * MS as i64,
        "the 510 tick waits for the monotonic clock, which did not jump"
    );
}

#[test]
fn drift_stretches_timers_in_true_time() {
    let mut s = spec(2, vec![]);
    s.clocks[1] = Clock::new(0, -500_000); // half speed: a 10 ms tick takes 20 ms
    s.duration = 101 * MS;
    let w = run(s);
    assert_eq!(w.node(1).unwrap().ticks.len(), 5);
    assert_eq!(w.node(0).unwrap().ticks.len(), 10);
}

#[test]
fn a_paused_nodes_waiting_sends_all_leave_when_it_resumes() {
    // A's tick at 10 ms broadcasts to B and C; with 5 ms of processing both sends wait in its
    // outbox until 15 ms, when A is paused. Both must leave at the resume, in order, and A's
    // later pings too. (Before the fix, the second send's event was taken for one a crash had
    // lost: C never heard from A again.)
    let mut s = spec(
        3,
        vec![fault(12, FaultAction::Pause(Target::Node(0)), Some(20))],
    );
    s.timing = Timing {
        processing: Some(Latency::Constant(5 * MS)),
        ..Timing::default()
    };
    let w = run(s);
    for node in [1, 2] {
        let got: Vec<(u64, i64)> = w
            .node(node)
            .unwrap()
            .received
            .iter()
            .map(|&(_, seq, at)| (seq, at / MS as i64))
            .collect();
        assert_eq!(
            got[0],
            (1, 33),
            "node {node}: sent at the resume (32 ms): {got:?}"
        );
        assert!(
            got.len() >= 90,
            "node {node} keeps hearing A: {} pings",
            got.len()
        );
    }
}

#[test]
fn with_lose_unsynced_a_crash_takes_the_writes_whose_sync_had_not_ended() {
    // B persists its ping count on every ping (at 11, 21, ... 201 ms); each sync takes 25 ms and
    // syncs queue on its one disk, so the k-th write is durable at 11 + 25k ms: by the crash at
    // 205 ms, the 7th (at 186 ms) is the last. Kept, all 20 survive; lost, B restarts at 7.
    let restored = |lose_unsynced: bool| {
        let mut s = spec(
            2,
            vec![
                fault(205, FaultAction::Crash(Target::Node(1)), None),
                fault(405, FaultAction::Restart(Target::Node(1)), None),
            ],
        );
        s.timing = Timing {
            sync: Some(Latency::Constant(25 * MS)),
            lose_unsynced,
            ..Timing::default()
        };
        let w = run(s);
        let lost: Vec<(u64, String)> = w
            .observer()
            .0
            .iter()
            .filter(|(_, kind, _, detail)| *kind == "fault" && detail.contains("unsynced"))
            .map(|(t, _, _, detail)| (*t / MS, detail.clone()))
            .collect();
        (w.node(1).unwrap().restored, lost)
    };
    assert_eq!(restored(false), (Some(20), vec![]));
    assert_eq!(
        restored(true),
        (
            Some(7),
            vec![(205, "B loses 13 unsynced disk writes".to_string())]
        )
    );
}

#[test]
fn a_first_write_lost_in_a_crash_leaves_no_disk_at_all() {
    // B's first write (at 11 ms) syncs until 111 ms; the crash at 50 ms takes it, so B restarts
    // as a node that never wrote: no disk, not an empty one.
    let mut s = spec(
        2,
        vec![
            fault(15, FaultAction::Crash(Target::Node(1)), None),
            fault(50, FaultAction::Restart(Target::Node(1)), None),
        ],
    );
    s.timing = Timing {
        sync: Some(Latency::Constant(100 * MS)),
        lose_unsynced: true,
        ..Timing::default()
    };
    let w = run(s);
    assert_eq!(w.node(1).unwrap().restored, None);
}

#[test]
fn a_crash_loses_volatile_state_and_keeps_durable_state() {
    let w = run(spec(
        2,
        vec![
            fault(205, FaultAction::Crash(Target::Node(1)), None),
            fault(405, FaultAction::Restart(Target::Node(1)), None),
        ],
    ));
    let b = w.node(1).unwrap();
    assert_eq!(
        b.restored,
        Some(20),
        "20 pings were received and persisted before the crash"
    );
    assert_eq!(
        b.received.first().unwrap().2,
        411 * MS as i64,
        "volatile log started afresh"
    );
    assert_eq!(w.stats().dropped_node_down, 20);
    let log = &w.observer().0;
    assert!(
        log.iter()
            .any(|(t, k, n, _)| *t == 405 * MS && *k == "start" && *n == Some(1))
    );
}

#[test]
fn a_crash_while_paused_drops_and_traces_what_was_held() {
    // B pauses at 100 ms and crashes at 150 ms: the pings that arrived at 101..141 ms were held
    // for it and are never read. Each must be a `drop` record, after the crash's, and counted.
    let w = run(spec(
        2,
        vec![
            fault(100, FaultAction::Pause(Target::Node(1)), None),
            fault(150, FaultAction::Crash(Target::Node(1)), None),
        ],
    ));
    let s = w.stats();
    assert_eq!(
        s.sent + s.duplicated,
        s.delivered + s.dropped() + s.in_flight,
        "every message copy is delivered, dropped or still in flight: {s:?}"
    );
    let log = &w.observer().0;
    let crash = log
        .iter()
        .position(|(t, k, _, d)| *t == 150 * MS && *k == "fault" && d == "crash B")
        .expect("the crash is recorded");
    let lost: Vec<_> = log
        .iter()
        .enumerate()
        .filter(|(_, (_, k, _, d))| *k == "drop" && d == "crashed_while_paused")
        .collect();
    assert_eq!(lost.len(), 5, "pings 10..=14 were held: {lost:?}");
    assert!(
        lost.iter()
            .all(|(i, (t, _, node, _))| *i > crash && *t == 150 * MS && *node == Some(1)),
        "dropped at the crash, after its record, for B: {lost:?}"
    );
    // The 85 pings of 160..990 ms find B down, as before; the held five are counted with them.
    assert_eq!(s.dropped_node_down, 90);
    assert_eq!(s.in_flight, 0);
}

#[test]
fn a_crash_with_for_restarts_the_node() {
    let w = run(spec(
        2,
        vec![fault(100, FaultAction::Crash(Target::Node(1)), Some(50))],
    ));
    let kinds: Vec<String> = w
        .faults()
        .iter()
        .map(|f| f.applied.describe(w.cluster()))
        .collect();
    assert_eq!(kinds, ["crash B", "restart B"]);
    assert_eq!(w.faults()[1].at, 150 * MS);
}

#[test]
fn a_fault_without_a_target_is_recorded_as_skipped() {
    let w = run(spec(
        2,
        vec![fault(100, FaultAction::Crash(Target::Leader), None)],
    ));
    assert_eq!(
        w.faults()[0].applied,
        Applied::Skipped {
            reason: "no node is leader".into()
        }
    );
    assert_eq!(w.faults()[0].written, "crash leader");
}

#[test]
fn same_seed_same_hash_other_seed_other_hash() {
    let lossy = |seed| {
        let mut s = spec(
            3,
            vec![fault(300, FaultAction::Partition(Shape::Halves), Some(200))],
        );
        s.seed = seed;
        s.link = LinkModel {
            latency: Latency::Uniform {
                min: MS,
                max: 9 * MS,
            },
            loss: 0.1,
            duplicate: 0.05,
            reorder: true,
        };
        run(s).trace_hash()
    };
    assert_eq!(lossy(7), lossy(7));
    assert_ne!(lossy(7), lossy(8));
}

#[test]
fn the_event_limit_ends_the_run() {
    let mut s = spec(2, vec![]);
    s.max_events = 50;
    let mut w = World::new(s, ProbeConfig { tick_ms: 10 }, Log::default());
    assert_eq!(w.run(), Outcome::EventLimit);
    assert_eq!(w.stats().events, 50);
}

#[test]
fn heal_repairs_every_cut_and_the_final_heal_restores_every_node() {
    let w = run(spec(
        3,
        vec![
            fault(
                100,
                FaultAction::Partition(Shape::Isolate(Target::Node(1))),
                None,
            ),
            fault(
                100,
                FaultAction::Cut {
                    from: vec![Target::Node(0)],
                    to: vec![Target::Node(2)],
                },
                None,
            ),
            fault(200, FaultAction::Heal, None),
            fault(300, FaultAction::Crash(Target::Node(1)), None),
            fault(300, FaultAction::Pause(Target::Node(2)), None),
            fault(300, FaultAction::Partition(Shape::Halves), None),
            fault(400, FaultAction::Recover, None),
        ],
    ));
    let received = |node: u32, from_ms: i64, to_ms: i64| {
        w.node(node)
            .unwrap()
            .received
            .iter()
            .filter(|(_, _, at)| (from_ms * MS as i64..to_ms * MS as i64).contains(at))
            .count()
    };
    assert_eq!(received(1, 101, 200), 0, "isolated");
    assert_eq!(received(2, 101, 200), 0, "cut one way");
    assert_eq!(
        received(2, 201, 300),
        10,
        "healed: every ping of 200..300 arrives"
    );
    let recover = w.faults().last().unwrap();
    assert_eq!(
        recover.applied,
        Applied::Recover {
            restarted: vec![1],
            resumed: vec![2]
        }
    );
    assert_eq!(
        recover.applied.describe(w.cluster()),
        "final heal: every link repaired, C resumed, B restarted"
    );
    assert!(w.cluster().nodes_with(NodeStatus::Up).len() == 3);
    assert_eq!(
        received(1, 401, 1000),
        60,
        "restarted and reachable again: pings of 400..990 ms"
    );
    assert_eq!(received(2, 401, 1000), 60, "resumed and reachable again");
    assert_eq!(
        received(2, 400, 401),
        10,
        "what was held during the pause arrives at the resume"
    );
}

/// Re-arming a timer moves it, earlier or later, and cancelling it stops it: each fires once,
/// at its last deadline — whatever entries the queue holds underneath.
#[derive(Debug, Default)]
struct Alarms(Vec<(AlarmTimer, LocalNanos)>);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
enum AlarmTimer {
    Earlier,
    Later,
    Cancelled,
    Repeated,
}

impl Protocol for Alarms {
    const NAME: &'static str = "alarms";
    const SUMMARY: &'static str = "test";
    type Msg = ();
    type Timer = AlarmTimer;
    type Config = ProbeConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = ();
    fn new(_: NodeId, _: &[NodeId], _: &ProbeConfig, _: Option<&DiskOf<Self>>) -> Self {
        Alarms::default()
    }
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.set_timer(100 * MS, AlarmTimer::Earlier);
        ctx.set_timer(30 * MS, AlarmTimer::Earlier);
        ctx.set_timer(20 * MS, AlarmTimer::Later);
        ctx.set_timer(60 * MS, AlarmTimer::Later);
        ctx.set_timer(50 * MS, AlarmTimer::Cancelled);
        ctx.cancel_timer(AlarmTimer::Cancelled);
        ctx.set_timer(10 * MS, AlarmTimer::Repeated);
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: AlarmTimer) {
        self.0.push((timer, ctx.now()));
        // Re-armed later from its own handler, like a heartbeat pushing an election timeout.
        if timer == AlarmTimer::Repeated && ctx.now() < 40 * MS as i64 {
            ctx.set_timer(10 * MS, AlarmTimer::Repeated);
            ctx.set_timer(70 * MS, AlarmTimer::Later);
        }
    }
}

#[test]
fn rearmed_timers_fire_once_at_their_last_deadline() {
    let mut s = spec(1, vec![]);
    s.duration = 500 * MS;
    let mut w: World<Alarms, ()> = World::new(s, ProbeConfig { tick_ms: 0 }, ());
    w.run();
    let ms = |t: i64| t / MS as i64;
    let fired: Vec<(AlarmTimer, i64)> = w
        .node(0)
        .unwrap()
        .0
        .iter()
        .map(|&(t, at)| (t, ms(at)))
        .collect();
    assert_eq!(
        fired,
        [
            (AlarmTimer::Repeated, 10),
            (AlarmTimer::Repeated, 20),
            (AlarmTimer::Earlier, 30),
            (AlarmTimer::Repeated, 30),
            (AlarmTimer::Repeated, 40),
            (AlarmTimer::Later, 100), // pushed back to 30 + 70 by the third repeat
        ]
    );
}
