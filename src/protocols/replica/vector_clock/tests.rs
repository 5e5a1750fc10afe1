//! Vector-clock replicas driven by hand: messages delivered or dropped one by one, timers fired
//! when a test says, nodes crashed and restarted from exactly what they wrote. Each test asserts
//! the story: which value and clock each replica holds, who reported which conflict, and what
//! the client heard.

use std::collections::VecDeque;

use crate::node::{ClientId, ClientRequest, DiskOf, DiskWrite, Effect, LocalNanos, RequestId};

use super::*;

const MS: LocalNanos = 1_000_000;

/// Three replicas A, B, C in a test tube.
struct Cluster {
    cfg: VcConfig,
    nodes: Vec<Option<VectorClockReplica>>,
    disks: Vec<Option<DiskOf<VectorClockReplica>>>,
    now: LocalNanos,
    queue: VecDeque<(NodeId, NodeId, Msg)>,
    facts: Vec<(u32, ReplicaFact)>,
    replies: Vec<(RequestId, Reply<Register>)>,
    told: Vec<String>,
    timers: Vec<(u32, Timer)>,
}

const NAMES: [&str; 3] = ["A", "B", "C"];

impl Cluster {
    fn new(cfg: VcConfig) -> Cluster {
        let mut c = Cluster {
            cfg,
            nodes: vec![None, None, None],
            disks: vec![None, None, None],
            now: 0,
            queue: VecDeque::new(),
            facts: Vec::new(),
            replies: Vec::new(),
            told: Vec::new(),
            timers: Vec::new(),
        };
        for i in 0..3 {
            c.boot(i);
        }
        c
    }

    fn peers(id: u32) -> Vec<NodeId> {
        (0..3).filter(|&p| p != id).map(NodeId).collect()
    }

    fn boot(&mut self, id: u32) {
        let node = VectorClockReplica::new(
            NodeId(id),
            &Self::peers(id),
            &self.cfg,
            self.disks[id as usize].as_ref(),
        );
        self.nodes[id as usize] = Some(node);
        self.run(id, |n, ctx| n.on_start(ctx));
    }

    fn crash(&mut self, id: u32) {
        self.nodes[id as usize] = None;
        self.timers.retain(|(n, _)| *n != id);
    }

    fn run(&mut self, id: u32, handler: impl FnOnce(&mut VectorClockReplica, &mut C<'_, '_>)) {
        let peers = Self::peers(id);
        let Some(node) = self.nodes[id as usize].as_mut() else {
            return;
        };
        let effects = crate::node::step(node, NodeId(id), &peers, self.now, handler);
        let names: Vec<String> = NAMES.map(String::from).to_vec();
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    let words = VectorClockReplica::narrate_message(
                        &serde_json::to_value(&msg).unwrap(),
                        &names,
                    )
                    .expect("every message is told");
                    self.told.push(format!(
                        "{}->{}: {words}",
                        NAMES[id as usize], NAMES[to.0 as usize]
                    ));
                    self.queue.push_back((NodeId(id), to, msg));
                }
                Effect::SetTimer { timer, .. } => self.timers.push((id, timer)),
                Effect::CancelTimer { timer } => self.timers.retain(|t| *t != (id, timer)),
                Effect::Fact(f) => self.facts.push((id, f)),
                Effect::Persist(DiskWrite::State(s)) => {
                    self.disks[id as usize] = Some(crate::node::Disk {
                        state: s,
                        log: Vec::new(),
                    });
                }
                Effect::Reply { request, reply } => self.replies.push((request, reply)),
                Effect::Persist(_) | Effect::Observe(_) => {}
            }
        }
    }

    fn put(&mut self, at: u32, client: u32, seq: u64, value: &str, context: VectorClock) {
        let request = ClientRequest {
            id: RequestId {
                client: ClientId(client),
                seq,
            },
            op: RegisterOp::Put {
                key: "x".into(),
                value: value.into(),
                context,
            },
        };
        self.run(at, |n, ctx| n.on_request(ctx, request));
    }

    fn get(&mut self, at: u32) -> Vec<String> {
        let request = ClientRequest {
            id: RequestId {
                client: ClientId(9),
                seq: self.replies.len() as u64 + 1,
            },
            op: RegisterOp::Get { key: "x".into() },
        };
        self.run(at, |n, ctx| n.on_request(ctx, request));
        match self.replies.pop() {
            Some((_, Reply::Ok(RegisterOutput::Read { versions }))) => versions
                .iter()
                .map(|v| format!("{} {}", v.value, v.clock.padded(3)))
                .collect(),
            other => panic!("a get answered {other:?}"),
        }
    }

    /// Delivers every queued message (and what they cause), except those `drop` refuses.
    fn deliver_all(&mut self, drop: impl Fn(NodeId, NodeId, &Msg) -> bool) {
        while let Some((from, to, msg)) = self.queue.pop_front() {
            self.now += MS;
            if drop(from, to, &msg) {
                continue;
            }
            self.run(to.0, |n, ctx| n.on_message(ctx, from, msg));
        }
    }

    fn fire_timers(&mut self) {
        for (id, timer) in std::mem::take(&mut self.timers) {
            self.run(id, |n, ctx| n.on_timer(ctx, timer));
        }
    }

    fn held(&self, id: u32) -> Vec<String> {
        self.nodes[id as usize]
            .as_ref()
            .unwrap()
            .holds("x")
            .iter()
            .map(|s| format!("{} {}", s.value, s.clock.padded(3)))
            .collect()
    }

    /// The last `Holds` each node stated of x.
    fn last_holds(&self, id: u32) -> Vec<String> {
        self.facts
            .iter()
            .rev()
            .find_map(|(n, f)| match f {
                ReplicaFact::Holds { versions, .. } if *n == id => Some(
                    versions
                        .iter()
                        .map(|v| format!("{} {}", v.value, v.clock.padded(3)))
                        .collect(),
                ),
                _ => None,
            })
            .unwrap_or_default()
    }
}

fn initial_zero(resolve: Resolve) -> VcConfig {
    VcConfig {
        resolve,
        initial: [("x".to_string(), "0".to_string())].into(),
        ..VcConfig::default()
    }
}

/// The example with the basic rule: C's update to A is lost, A's 2 meets 5 at B and C.
fn the_example(resolve: Resolve) -> Cluster {
    let mut c = Cluster::new(initial_zero(resolve));
    for n in 0..3 {
        assert_eq!(c.last_holds(n), ["0 [0,0,0]"], "every replica starts at 0");
    }
    c.put(0, 0, 1, "1", VectorClock::new());
    c.deliver_all(|_, _, _| false);
    c.put(2, 2, 1, "5", VectorClock::new());
    c.deliver_all(|from, to, msg| {
        from == NodeId(2) && to == NodeId(0) && matches!(msg, Msg::Update { .. })
    });
    c.fire_timers();
    c.put(0, 0, 2, "2", VectorClock::new());
    c.deliver_all(|_, _, _| false);
    c
}

#[test]
fn the_basic_rule_reports_the_conflict_to_the_writers_client_and_keeps_5() {
    let c = the_example(Resolve::Conflict);
    assert_eq!(c.held(0), ["2 [2,0,0]"]);
    assert_eq!(c.held(1), ["5 [1,0,1]"]);
    assert_eq!(c.held(2), ["5 [1,0,1]"]);
    let conflicts: Vec<(u32, String, String)> = c
        .facts
        .iter()
        .filter_map(|(n, f)| match f {
            ReplicaFact::Conflict { kept, refused, .. } => {
                Some((*n, kept.to_string(), refused.to_string()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        conflicts,
        [
            (1, "5 [1,0,1]".into(), "2 [2]".into()),
            (2, "5 [1,0,1]".into(), "2 [2]".into())
        ]
    );
    // Client 0's first put: every replica took it. Client 2's: A never answered, so C answered
    // at its timeout, with what B said. Client 0's second: B and C kept 5.
    let answers: Vec<String> = c
        .replies
        .iter()
        .map(|(r, reply)| format!("c{}#{} {reply:?}", r.client.0, r.seq))
        .collect();
    assert_eq!(answers.len(), 3, "{answers:#?}");
    assert!(answers[0].starts_with("c0#1 Ok(Written"), "{answers:#?}");
    assert!(answers[1].starts_with("c2#1 Ok(Written"), "{answers:#?}");
    match &c.replies[2].1 {
        Reply::Ok(RegisterOutput::Conflict { clock, kept }) => {
            assert_eq!(clock.padded(3), "[2,0,0]");
            assert_eq!(
                kept.iter().map(ToString::to_string).collect::<Vec<_>>(),
                ["5 [1,0,1]"]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        c.told.contains(&"A->B: Update(x = 2 [2,0,0])".to_string()),
        "{:#?}",
        c.told
    );
    assert!(
        c.told
            .contains(&"C->A: Ack(x: concurrent, conflict: kept 5 [1,0,1])".to_string()),
        "{:#?}",
        c.told
    );
}

#[test]
fn siblings_keep_both_and_a_put_that_read_them_merges_them() {
    let mut c = the_example(Resolve::Siblings);
    assert_eq!(c.held(0), ["2 [2,0,0]"]);
    assert_eq!(c.get(1), ["5 [0,0,1]", "2 [2,0,0]"]);
    assert_eq!(c.get(2), ["5 [0,0,1]", "2 [2,0,0]"]);
    assert!(
        c.facts
            .iter()
            .all(|(_, f)| !matches!(f, ReplicaFact::Conflict { .. }))
    );
    assert!(matches!(
        c.replies.last(),
        Some((_, Reply::Ok(RegisterOutput::Written { .. })))
    ));
    // A client that read both at B writes 7: it supersedes both, everywhere.
    c.put(1, 1, 1, "7", VectorClock::from_counts(&[2, 0, 1]));
    c.deliver_all(|_, _, _| false);
    for n in 0..3 {
        assert_eq!(c.held(n), ["7 [2,1,1]"], "replica {n}");
        assert_eq!(c.last_holds(n), ["7 [2,1,1]"]);
    }
}

#[test]
fn last_write_wins_drops_5_without_a_word() {
    let c = the_example(Resolve::Lww);
    for n in 0..3 {
        assert_eq!(
            c.held(n),
            ["2 [0,0,0]"],
            "replica {n}: the latest wall clock wins"
        );
    }
    assert!(
        c.facts
            .iter()
            .all(|(_, f)| !matches!(f, ReplicaFact::Conflict { .. }))
    );
    assert!(
        c.replies
            .iter()
            .all(|(_, r)| matches!(r, Reply::Ok(RegisterOutput::Written { .. })))
    );
}

#[test]
fn a_restarted_replica_recovers_its_versions_and_states_them_again() {
    let mut c = the_example(Resolve::Conflict);
    c.crash(1);
    let before = c.facts.len();
    c.boot(1);
    assert_eq!(c.held(1), ["5 [1,0,1]"]);
    let restated: Vec<&ReplicaFact> = c.facts[before..].iter().map(|(_, f)| f).collect();
    assert!(
        matches!(&restated[..], [ReplicaFact::Holds { key, versions }] if &**key == "x" && versions[0].to_string() == "5 [1,0,1]"),
        "{restated:?}"
    );
    // Puts and messages after the restart carry new names: an answer to an old put is ignored.
    assert_eq!(c.disks[1].as_ref().unwrap().state.incarnation, 2);
}

#[test]
fn lamport_stamps_every_receipt_after_its_send_and_wall_stamps_follow_the_clocks() {
    let mut c = Cluster::new(VcConfig {
        stamp: StampKind::Lamport,
        ..initial_zero(Resolve::Conflict)
    });
    c.put(0, 0, 1, "1", VectorClock::new());
    c.deliver_all(|_, _, _| false);
    let mut sent = BTreeMap::new();
    let mut pairs = 0;
    for (_, f) in &c.facts {
        match f {
            ReplicaFact::Sent { id, stamp } => {
                sent.insert(*id, *stamp);
            }
            ReplicaFact::Received { id, stamp } => {
                assert!(
                    stamp > &sent[id],
                    "received {stamp} after sent {}",
                    sent[id]
                );
                pairs += 1;
            }
            _ => {}
        }
    }
    assert_eq!(pairs, 4, "two updates and two answers");
    let ids: BTreeSet<u64> = sent.keys().copied().collect();
    assert_eq!(ids.len(), 4, "ids are unique");
}
