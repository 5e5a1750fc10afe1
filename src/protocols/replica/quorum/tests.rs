//! The quorum store driven by hand: a small cluster whose messages are delivered (or dropped)
//! one by one, whose timers fire when a test says, and whose nodes crash and restart from
//! exactly what they wrote. Each test asserts the story: who was asked, who answered what, what
//! each replica holds, what the client was told.

use std::collections::{BTreeMap, VecDeque};

use crate::node::{
    ClientId, ClientRequest, DiskOf, DiskWrite, Effect, LocalNanos, NodeId, Protocol, Reply,
    RequestId,
};
use crate::protocols::replica::{Register, RegisterOp, RegisterOutput, ReplicaFact, VectorClock};

use super::*;

const MS: LocalNanos = 1_000_000;

/// A cluster in a test tube.
struct Cluster {
    cfg: QuorumConfig,
    nodes: Vec<Option<Quorum>>,
    disks: Vec<Option<DiskOf<Quorum>>>,
    /// Each node's wall clock offset from the test's time.
    skew: Vec<LocalNanos>,
    now: LocalNanos,
    /// Messages in flight: (from, to, message).
    queue: VecDeque<(u32, u32, Msg)>,
    /// Every fact stated, with its node.
    facts: Vec<(u32, ReplicaFact)>,
    replies: Vec<(RequestId, Reply<Register>)>,
    /// Pending timers per node.
    timers: Vec<BTreeMap<u64, LocalNanos>>,
    /// Every message sent, in words.
    told: Vec<String>,
    seq: u64,
}

impl Cluster {
    fn new(n: u32, cfg: QuorumConfig) -> Cluster {
        let mut c = Cluster {
            cfg,
            nodes: (0..n).map(|_| None).collect(),
            disks: (0..n).map(|_| None).collect(),
            skew: vec![0; n as usize],
            now: 0,
            queue: VecDeque::new(),
            facts: Vec::new(),
            replies: Vec::new(),
            timers: (0..n).map(|_| BTreeMap::new()).collect(),
            told: Vec::new(),
            seq: 0,
        };
        for i in 0..n {
            c.boot(i);
        }
        c
    }

    fn peers(&self, id: u32) -> Vec<NodeId> {
        (0..self.nodes.len() as u32)
            .filter(|&p| p != id)
            .map(NodeId)
            .collect()
    }

    fn boot(&mut self, id: u32) {
        let peers = self.peers(id);
        let node = Quorum::new(
            NodeId(id),
            &peers,
            &self.cfg,
            self.disks[id as usize].as_ref(),
        );
        self.nodes[id as usize] = Some(node);
        self.run(id, |n, ctx| n.on_start(ctx));
    }

    fn crash(&mut self, id: u32) {
        self.nodes[id as usize] = None;
        self.timers[id as usize].clear();
    }

    fn node(&self, id: u32) -> &Quorum {
        self.nodes[id as usize].as_ref().expect("the node is up")
    }

    fn held(&self, id: u32, key: &str) -> Vec<String> {
        self.node(id)
            .held(key)
            .iter()
            .map(|v| v.value.to_string())
            .collect()
    }

    fn run(&mut self, id: u32, handler: impl FnOnce(&mut Quorum, &mut C<'_, '_>)) {
        let peers = self.peers(id);
        let Some(node) = self.nodes[id as usize].as_mut() else {
            return;
        };
        let now = self.now + self.skew[id as usize];
        let effects = crate::node::step(node, NodeId(id), &peers, now, handler);
        let names: Vec<String> = (0..self.nodes.len()).map(|i| format!("N{i}")).collect();
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    let words =
                        Quorum::narrate_message(&serde_json::to_value(&msg).unwrap(), &names)
                            .expect("every message is told");
                    self.told.push(format!("N{id}->N{}: {words}", to.0));
                    self.queue.push_back((id, to.0, msg));
                }
                Effect::SetTimer {
                    timer: Timer::Expire(op),
                    after,
                } => {
                    self.timers[id as usize].insert(op, self.now + after as LocalNanos);
                }
                Effect::CancelTimer {
                    timer: Timer::Expire(op),
                } => {
                    self.timers[id as usize].remove(&op);
                }
                Effect::Fact(f) => self.facts.push((id, f)),
                Effect::Persist(w) => {
                    let disk = self.disks[id as usize].get_or_insert_with(Default::default);
                    match w {
                        DiskWrite::State(s) => disk.state = s,
                        DiskWrite::Append(r) => disk.log.push(r),
                        DiskWrite::Truncate(n) => disk.log.truncate(n as usize),
                    }
                }
                Effect::Reply { request, reply } => self.replies.push((request, reply)),
                Effect::Observe(_) => {}
            }
        }
    }

    /// A client request to node `at`, from the client beside it (client i asks node i).
    fn request(&mut self, at: u32, op: RegisterOp) -> RequestId {
        self.seq += 1;
        let id = RequestId {
            client: ClientId(at),
            seq: self.seq,
        };
        self.run(at, |n, ctx| n.on_request(ctx, ClientRequest { id, op }));
        id
    }

    fn put(&mut self, at: u32, value: &str) -> RequestId {
        self.put_with(at, value, VectorClock::new())
    }

    fn put_with(&mut self, at: u32, value: &str, context: VectorClock) -> RequestId {
        self.request(
            at,
            RegisterOp::Put {
                key: "x".into(),
                value: value.into(),
                context,
            },
        )
    }

    fn get(&mut self, at: u32) -> RequestId {
        self.request(at, RegisterOp::Get { key: "x".into() })
    }

    /// Delivers the first message in flight matching `pick` (from, to); false if none.
    fn deliver(&mut self, pick: impl Fn(u32, u32, &Msg) -> bool) -> bool {
        let Some(i) = self.queue.iter().position(|(f, t, m)| pick(*f, *t, m)) else {
            return false;
        };
        let (from, to, msg) = self.queue.remove(i).unwrap();
        self.run(to, |n, ctx| n.on_message(ctx, NodeId(from), msg));
        true
    }

    /// Delivers everything in flight, and what that sends, except messages `drop` picks.
    fn settle_except(&mut self, drop: impl Fn(u32, u32, &Msg) -> bool) {
        while let Some((from, to, msg)) = self.queue.pop_front() {
            if drop(from, to, &msg) || self.nodes[to as usize].is_none() {
                continue;
            }
            self.run(to, |n, ctx| n.on_message(ctx, NodeId(from), msg));
        }
    }

    fn settle(&mut self) {
        self.settle_except(|_, _, _| false);
    }

    /// Moves time on by `by` and fires the timers due.
    fn advance(&mut self, by: LocalNanos) {
        self.now += by;
        for id in 0..self.nodes.len() as u32 {
            let due: Vec<u64> = self.timers[id as usize]
                .iter()
                .filter(|(_, at)| **at <= self.now)
                .map(|(op, _)| *op)
                .collect();
            for op in due {
                self.timers[id as usize].remove(&op);
                self.run(id, |n, ctx| n.on_timer(ctx, Timer::Expire(op)));
            }
        }
    }

    fn reply(&self, id: RequestId) -> Option<&Reply<Register>> {
        self.replies.iter().find(|(r, _)| *r == id).map(|(_, r)| r)
    }

    /// The values a get was answered with.
    fn read(&self, id: RequestId) -> Option<Vec<String>> {
        match self.reply(id)? {
            Reply::Ok(RegisterOutput::Read { versions }) => {
                Some(versions.iter().map(|v| v.value.to_string()).collect())
            }
            other => panic!("not a read: {other:?}"),
        }
    }
}

fn cfg(r: u32, w: u32) -> QuorumConfig {
    QuorumConfig {
        r: Some(r),
        w: Some(w),
        ..QuorumConfig::default()
    }
}

fn to_(n: u32) -> impl Fn(u32, u32, &Msg) -> bool {
    move |_, t, _| t == n
}

#[test]
fn a_put_answers_at_its_wth_acknowledgement_and_not_before() {
    let mut c = Cluster::new(3, cfg(2, 3));
    let put = c.put(0, "a");
    assert_eq!(
        c.held(0, "x"),
        ["a"],
        "the coordinator is a replica: stored in place"
    );
    assert_eq!(
        c.told,
        [
            "N0->N1: Put(x = a @0s by N0)",
            "N0->N2: Put(x = a @0s by N0)"
        ]
    );
    assert!(c.deliver(to_(1)), "the write reaches N1");
    assert!(c.deliver(|_, t, m| t == 0 && matches!(m, Msg::Ack { .. })));
    assert!(c.reply(put).is_none(), "two acknowledgements of w = 3");
    assert!(c.deliver(to_(2)));
    assert!(c.deliver(|_, t, _| t == 0));
    assert!(
        matches!(c.reply(put), Some(Reply::Ok(RegisterOutput::Written { clock })) if clock.counts().is_empty())
    );
    let holds: Vec<(u32, String)> = c
        .facts
        .iter()
        .map(|(n, f)| match f {
            ReplicaFact::Holds { versions, .. } => (*n, versions[0].value.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(holds, [(0, "a".into()), (1, "a".into()), (2, "a".into())]);
}

#[test]
fn a_get_answers_the_newest_of_its_r_replies() {
    let mut c = Cluster::new(3, cfg(2, 1));
    c.put(0, "a");
    c.settle();
    c.now = 10 * MS;
    c.put(0, "b");
    c.settle_except(|_, t, _| t == 2); // N2 stays at "a"
    assert_eq!(
        (c.held(1, "x"), c.held(2, "x")),
        (vec!["b".into()], vec!["a".into()])
    );
    c.told.clear();
    let get = c.get(2);
    assert_eq!(c.read(get), None, "N2's own reply is one of r = 2");
    assert!(c.deliver(to_(1)));
    assert!(c.deliver(|f, t, _| f == 1 && t == 2));
    assert_eq!(c.read(get), Some(vec!["b".into()]), "b's stamp is later");
    assert_eq!(c.held(2, "x"), ["a"], "no read repair unless asked");
}

#[test]
fn a_get_that_misses_its_quorum_fails_and_a_put_that_wrote_is_left_unanswered() {
    let mut c = Cluster::new(3, cfg(3, 3));
    let get = c.get(0);
    c.queue.clear(); // nobody answers
    c.advance(499 * MS);
    assert!(c.reply(get).is_none());
    c.advance(MS);
    let Some(Reply::Fail { reason }) = c.reply(get) else {
        panic!("{:?}", c.reply(get))
    };
    assert_eq!(
        reason,
        "a get needs r = 3 replies; 1 of the 3 replicas answered within 500ms"
    );
    let put = c.put(0, "a");
    c.queue.clear();
    c.advance(600 * MS);
    assert!(
        c.reply(put).is_none(),
        "it is on N0: not a failure, an unknown the client times out on"
    );
    assert_eq!(c.held(0, "x"), ["a"]);
}

#[test]
fn a_tagged_put_that_cannot_read_its_quorum_fails_having_written_nothing() {
    let mut c = Cluster::new(
        3,
        QuorumConfig {
            tags: true,
            ..cfg(3, 2)
        },
    );
    let put = c.put(0, "a");
    assert_eq!(c.told, ["N0->N1: Read(x)", "N0->N2: Read(x)"]);
    c.queue.clear();
    c.advance(500 * MS);
    let Some(Reply::Fail { reason }) = c.reply(put) else {
        panic!()
    };
    assert!(reason.ends_with("so nothing was written"), "{reason}");
    assert!(c.held(0, "x").is_empty());
}

#[test]
fn a_tagged_put_writes_one_more_than_the_greatest_tag_it_read() {
    let mut c = Cluster::new(
        3,
        QuorumConfig {
            tags: true,
            ..cfg(2, 2)
        },
    );
    c.put(1, "a");
    c.settle();
    c.put(1, "b");
    c.settle();
    assert_eq!(c.node(1).held("x")[0].stamp, Stamp::Tag { tag: 2, node: 1 });
    // N0's clock is an hour behind: tags do not care.
    c.skew[0] = -3_600_000 * MS;
    c.told.clear();
    let put = c.put(0, "c");
    c.settle();
    assert!(c.reply(put).is_some());
    assert!(
        c.told.contains(&"N0->N1: Put(x = c tag 3.N0)".to_string()),
        "{:?}",
        c.told
    );
    assert_eq!(
        (c.held(1, "x"), c.held(2, "x")),
        (vec!["c".into()], vec!["c".into()])
    );
}

#[test]
fn last_write_wins_by_a_lagging_clock_acknowledges_a_put_and_drops_it() {
    let mut c = Cluster::new(3, cfg(2, 3));
    c.now = 1_000 * MS;
    c.put(1, "first");
    c.settle();
    c.skew[0] = -500 * MS;
    c.now = 1_100 * MS;
    let put = c.put(0, "second");
    c.settle();
    assert!(
        matches!(
            c.reply(put),
            Some(Reply::Ok(RegisterOutput::Written { .. }))
        ),
        "acknowledged by all three"
    );
    for n in 0..3 {
        assert_eq!(
            c.held(n, "x"),
            ["first"],
            "N{n} kept the earlier write: its stamp is later"
        );
    }
}

#[test]
fn vector_clocks_keep_concurrent_puts_as_siblings_and_a_put_with_their_context_replaces_them() {
    let mut c = Cluster::new(
        3,
        QuorumConfig {
            resolve: Resolve::VectorClock,
            ..cfg(2, 2)
        },
    );
    let a = c.put(0, "a");
    let b = c.put(1, "b");
    c.settle();
    let clock = |c: &Cluster, id| match c.reply(id) {
        Some(Reply::Ok(RegisterOutput::Written { clock })) => clock.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (clock(&c, a).to_string(), clock(&c, b).to_string()),
        ("[1]".into(), "[0,2]".into()),
        "each client's entry is its request's number"
    );
    for n in 0..3 {
        assert_eq!(c.held(n, "x"), ["a", "b"], "N{n} keeps both");
    }
    let get = c.get(2);
    c.settle();
    assert_eq!(c.read(get), Some(vec!["a".into(), "b".into()]));
    let Some(Reply::Ok(read)) = c.reply(get).cloned() else {
        panic!()
    };
    let merged = c.put_with(2, "c", read.context());
    c.settle();
    assert_eq!(clock(&c, merged).to_string(), "[1,2,4]");
    for n in 0..3 {
        assert_eq!(c.held(n, "x"), ["c"], "the merge supersedes both siblings");
    }
}

#[test]
fn read_repair_sends_the_newest_to_stale_replicas_even_late_ones() {
    let mut c = Cluster::new(
        3,
        QuorumConfig {
            read_repair: true,
            ..cfg(2, 1)
        },
    );
    c.put(0, "a");
    c.settle_except(|_, t, _| t != 0); // only N0 has it
    assert!(c.held(1, "x").is_empty() && c.held(2, "x").is_empty());
    c.told.clear();
    let get = c.get(0);
    assert!(c.deliver(to_(1)));
    assert!(c.deliver(|f, _, _| f == 1));
    assert_eq!(c.read(get), Some(vec!["a".into()]));
    assert!(
        c.told
            .contains(&"N0->N1: Repair(x = a @0s by N0)".to_string())
    );
    // N2's reply comes after the answer: repaired all the same.
    assert!(c.deliver(to_(2)));
    assert!(c.deliver(|f, _, _| f == 2));
    assert!(
        c.told
            .contains(&"N0->N2: Repair(x = a @0s by N0)".to_string())
    );
    c.settle();
    assert_eq!(
        (c.held(1, "x"), c.held(2, "x")),
        (vec!["a".into()], vec!["a".into()])
    );
    assert!(c.timers[0].is_empty(), "every replica answered: done");
}

#[test]
fn write_back_writes_what_a_get_returns_to_w_replicas_before_answering() {
    let mut c = Cluster::new(
        3,
        QuorumConfig {
            write_back: true,
            ..cfg(2, 2)
        },
    );
    c.put(0, "a");
    c.settle_except(|_, t, _| t != 0);
    c.told.clear();
    let get = c.get(1); // N1 holds nothing
    assert!(c.deliver(|_, t, _| t == 0));
    assert!(c.deliver(|f, t, _| f == 0 && t == 1));
    assert!(c.read(get).is_none(), "not before the write-back");
    assert!(
        c.told
            .contains(&"N1->N0: WriteBack(x = a @0s by N0)".to_string()),
        "{:?}",
        c.told
    );
    assert_eq!(c.held(1, "x"), ["a"], "its own part, in place");
    assert!(c.deliver(|_, t, m| t == 0 && matches!(m, Msg::Write { .. })));
    assert!(c.deliver(|f, t, _| f == 0 && t == 1));
    assert_eq!(
        c.read(get),
        Some(vec!["a".into()]),
        "two acknowledgements: w = 2"
    );
    // Now N0 and N1 hold it: a get whose replies already show w holders skips the write-back.
    c.queue.clear();
    c.told.clear();
    let again = c.get(0);
    assert!(c.deliver(to_(1)));
    assert!(c.deliver(|f, _, _| f == 1));
    assert_eq!(c.read(again), Some(vec!["a".into()]));
    assert!(
        !c.told.iter().any(|t| t.contains("WriteBack")),
        "{:?}",
        c.told
    );
}

#[test]
fn a_restarted_replica_states_what_it_recovered_and_never_reuses_a_request_id() {
    let mut c = Cluster::new(3, cfg(2, 2));
    c.put(0, "a");
    c.settle();
    let before = c.node(1).durable;
    c.crash(1);
    c.facts.clear();
    c.boot(1);
    assert_eq!(c.held(1, "x"), ["a"], "from its log");
    assert!(
        matches!(&c.facts[..], [(1, ReplicaFact::Holds { key, versions })] if &**key == "x" && &*versions[0].value == "a")
    );
    assert_eq!(c.node(1).durable.incarnation, before.incarnation + 1);
    c.told.clear();
    c.get(1);
    let Some((_, _, Msg::Read { op, .. })) = c.queue.front() else {
        panic!()
    };
    assert_eq!(
        op >> 32,
        before.incarnation + 1,
        "ids carry the incarnation"
    );
}

#[test]
fn a_duplicated_request_is_coordinated_once() {
    let mut c = Cluster::new(3, cfg(2, 2));
    let id = RequestId {
        client: ClientId(3),
        seq: 1,
    };
    let op = RegisterOp::Put {
        key: "x".into(),
        value: "a".into(),
        context: VectorClock::new(),
    };
    c.run(0, |n, ctx| {
        n.on_request(ctx, ClientRequest { id, op: op.clone() })
    });
    c.run(0, |n, ctx| n.on_request(ctx, ClientRequest { id, op }));
    assert_eq!(c.queue.len(), 2, "one write to each other replica, not two");
}

#[test]
fn a_coordinator_outside_a_keys_ring_asks_exactly_its_replicas() {
    let mut c = Cluster::new(
        5,
        QuorumConfig {
            placement: Placement::Ring,
            n: Some(3),
            ..cfg(2, 2)
        },
    );
    let replicas = placement::Ring::new(Placement::Ring, 5, 3).replicas("x");
    let outsider = (0..5).find(|i| !replicas.contains(&NodeId(*i))).unwrap();
    let put = c.put(outsider, "a");
    let mut asked: Vec<NodeId> = c.queue.iter().map(|(_, t, _)| NodeId(*t)).collect();
    asked.sort();
    let mut want = replicas.clone();
    want.sort();
    assert_eq!(asked, want);
    c.settle();
    assert!(c.reply(put).is_some());
    assert!(c.held(outsider, "x").is_empty(), "not a replica of x");
}
