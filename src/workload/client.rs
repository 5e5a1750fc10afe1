//! The key-value client: a [`ClosedLoop`] client that draws get, put, append and cas
//! operations from a [`WorkloadSpec`] and records every operation it issues as a history
//! [`Operation`](super::history::Operation).
//!
//! Values written are unique per client and operation (`"c2-17"`: client 2, operation 17), so a
//! checker can tell every write apart. A `cas` expects the last value this client read or wrote
//! for that key, so that some succeed.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::node::{ClientId, Completion, Kv, Op, OpResult, Rng};

use super::closed_loop::{ClosedLoop, Draw, LoopTimer, operations};
use super::generator::{Kind, Mix, WorkloadSpec, key_name};
use super::history::{Call, History, ModelKind, ModelSpec, Output, TimeUnit, Value};

/// The key-value client's timers.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientEffect, ClientId};
/// use sim::workload::{KvClient, KvTimer};
/// let mut client = KvClient::new(ClientId(0), &kv_spec());
/// let effects = client_step(&mut client, 3, 0, |c, ctx| c.on_start(ctx));
/// assert!(effects.iter().any(|e| matches!(e, ClientEffect::SetTimer { timer: KvTimer::Think, .. })));
/// ```
pub type KvTimer = LoopTimer;

/// A virtual key-value client.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientEffect, ClientId, Op};
/// use sim::workload::{KvClient, KvTimer};
/// // Its first operation: a get or a put (the mix), of key k0 or k1, valued by client and number.
/// let mut client = KvClient::new(ClientId(2), &kv_spec());
/// client_step(&mut client, 3, 0, |c, ctx| c.on_start(ctx));
/// let effects = client_step(&mut client, 3, 30 * MS, |c, ctx| c.on_timer(ctx, KvTimer::Think));
/// let Some(ClientEffect::Invoke { request }) = effects.first() else { panic!("{effects:?}") };
/// match &request.op {
///     Op::Get { key } => assert!(["k0", "k1"].contains(&&**key)),
///     Op::Put { key, value } => assert_eq!((["k0", "k1"].contains(&&**key), &**value), (true, "c2-1")),
///     other => panic!("not in the mix: {other:?}"),
/// }
/// ```
pub type KvClient = ClosedLoop<KvDraw>;

/// The value an operation writes: its client and number (`c2-17`), unique in the run. Written
/// digit by digit: `format!` costs more than the rest of drawing an operation.
fn value_name(client: ClientId, seq: u64) -> Arc<str> {
    fn digits(out: &mut Vec<u8>, mut n: u64) {
        let start = out.len();
        loop {
            out.push(b'0' + (n % 10) as u8);
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out[start..].reverse();
    }
    let mut out = Vec::with_capacity(24);
    out.push(b'c');
    digits(&mut out, u64::from(client.0));
    out.push(b'-');
    digits(&mut out, seq);
    // Only ASCII digits, 'c' and '-' were written.
    Arc::from(std::str::from_utf8(&out).expect("ASCII"))
}

/// Key spaces up to this size have their names made once per client.
const KEY_NAMES_HELD: u32 = 4096;

/// What a key-value client draws: the kind from the mix, then the key; and what it remembers
/// for its next `cas`.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::{ClientId, Op, Rng, Stream};
/// use sim::workload::KvDraw;
/// use sim::workload::closed_loop::Draw;
/// let mut spec = kv_spec();
/// spec.mix.get = 0.0; // puts only
/// let mut draw = KvDraw::new(&spec);
/// let op = draw.draw(&mut Rng::derive(1, Stream::Client(0)), ClientId(0), 7);
/// assert!(matches!(op, Op::Put { ref value, .. } if &**value == "c0-7"), "{op:?}");
/// ```
#[derive(Clone, Debug)]
pub struct KvDraw {
    pub(super) mix: Mix,
    keys: u32,
    /// The last value this client read or wrote, per key, while it knows it.
    known: BTreeMap<Arc<str>, Arc<str>>,
    /// The last value it wrote anywhere.
    last_written: Option<Arc<str>>,
    /// The key names, made once and shared by every operation on them (only for a key space
    /// small enough to hold; a larger one names keys as it draws them).
    key_names: Vec<Arc<str>>,
}

impl KvDraw {
    /// Draws from `spec`'s mix over its keys.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::{ClientId, Rng, Stream};
    /// use sim::workload::KvDraw;
    /// use sim::workload::closed_loop::Draw;
    /// let mut draw = KvDraw::new(&kv_spec());
    /// let mut rng = Rng::derive(1, Stream::Client(0));
    /// assert!((1..50).all(|seq| ["k0", "k1"].contains(&&**draw.draw(&mut rng, ClientId(0), seq).key())));
    /// ```
    pub fn new(spec: &WorkloadSpec) -> Self {
        KvDraw {
            mix: spec.mix,
            keys: spec.keys,
            known: BTreeMap::new(),
            last_written: None,
            key_names: if spec.keys <= KEY_NAMES_HELD {
                (0..u64::from(spec.keys))
                    .map(|i| key_name(i).into())
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

impl ClosedLoop<KvDraw> {
    /// A client numbered `id` that draws its operations from `spec`.
    ///
    /// ```
    /// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
    /// use sim::node::ClientId;
    /// use sim::workload::KvClient;
    /// let client = KvClient::new(ClientId(0), &kv_spec());
    /// assert!(client.operations().is_empty());
    /// ```
    pub fn new(id: ClientId, spec: &WorkloadSpec) -> Self {
        ClosedLoop::drawing(id, spec, KvDraw::new(spec))
    }
}

impl Draw for KvDraw {
    type Api = Kv;

    /// Draws the kind, then the key; values are this operation's unique name.
    fn draw(&mut self, rng: &mut Rng, client: ClientId, seq: u64) -> Op {
        let kind = self.mix.draw(rng);
        let i = rng.below(u64::from(self.keys));
        let key = match self.key_names.get(i as usize) {
            Some(name) => name.clone(),
            None => key_name(i).into(),
        };
        let value = value_name(client, seq);
        match kind {
            Kind::Get => Op::Get { key },
            Kind::Put => Op::Put { key, value },
            Kind::Append => Op::Append { key, value },
            Kind::Cas => {
                let expect = self
                    .known
                    .get(&key)
                    .or(self.last_written.as_ref())
                    .cloned()
                    .unwrap_or_else(|| value_name(client, 0));
                Op::Cas {
                    key,
                    expect,
                    new: value,
                }
            }
        }
    }

    /// What the client now knows of the key's value, for its next `cas`.
    fn learn(&mut self, op: &Op, completion: &Completion) {
        let key = op.key().clone();
        let known = match (op, completion) {
            (_, Completion::Fail { .. }) => return, // nothing happened
            (Op::Get { .. }, Completion::Ok(OpResult::Value { value })) => value.clone(),
            (Op::Put { value, .. }, Completion::Ok(_)) => Some(value.clone()),
            (Op::Cas { new, .. }, Completion::Ok(OpResult::Cas { swapped: true })) => {
                Some(new.clone())
            }
            _ => None, // an append, a failed cas, an unknown outcome: the value is unknown
        };
        if let Op::Put { value, .. } | Op::Cas { new: value, .. } | Op::Append { value, .. } = op {
            self.last_written = Some(value.clone());
        }
        match known {
            Some(v) => self.known.insert(key, v),
            None => self.known.remove(&key),
        };
    }

    fn call(op: &Op) -> (Option<String>, Call) {
        (Some(op.key().to_string()), call(op))
    }

    fn output(result: &OpResult) -> Output {
        output(result.clone())
    }

    fn scripted(key: Option<&str>, call: &Call) -> Option<Op> {
        let key: Arc<str> = key?.into();
        let text = |v: &Value| match v {
            Value::Str(s) => Some(Arc::<str>::from(s.as_str())),
            Value::Int(_) => None,
        };
        Some(match call {
            Call::Read => Op::Get { key },
            Call::Write(v) => Op::Put {
                key,
                value: text(v)?,
            },
            Call::Append(v) => Op::Append {
                key,
                value: text(v)?,
            },
            Call::Cas { from, to } => Op::Cas {
                key,
                expect: text(from)?,
                new: text(to)?,
            },
            _ => return None,
        })
    }
}

fn call(op: &Op) -> Call {
    match op {
        Op::Get { .. } => Call::Read,
        Op::Put { value, .. } => Call::Write(Value::Str(value.to_string())),
        Op::Append { value, .. } => Call::Append(Value::Str(value.to_string())),
        Op::Cas { expect, new, .. } => Call::Cas {
            from: Value::Str(expect.to_string()),
            to: Value::Str(new.to_string()),
        },
    }
}

fn output(result: OpResult) -> Output {
    match result {
        OpResult::Value { value } => Output::Value(value.map(|v| Value::Str(v.to_string()))),
        OpResult::Done => Output::Done,
        OpResult::Cas { swapped } => Output::Cas(swapped),
    }
}

/// The run's history: every client's operations, ordered by invocation time (then client),
/// times in virtual nanoseconds, judged against the key-value model.
///
/// ```
/// # mod tiny { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/doc_support/tiny.rs")); } use tiny::*;
/// use sim::node::ClientId;
/// use sim::node::history::{ModelKind, TimeUnit};
/// use sim::workload::{KvClient, history};
/// let clients = [KvClient::new(ClientId(0), &kv_spec())];
/// let h = history(&clients);
/// assert_eq!((h.time_unit, h.model.map(|m| m.kind)), (TimeUnit::Nanos, Some(ModelKind::Kv)));
/// ```
pub fn history(clients: &[KvClient]) -> History {
    History {
        ops: operations(clients),
        time_unit: TimeUnit::Nanos,
        model: Some(ModelSpec {
            kind: ModelKind::Kv,
            init: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{
        Client, ClientCtx, ClientEffect, ClientRequest, Nanos, NodeId, Reply, Stream,
    };
    use crate::workload::Scripted;
    use crate::workload::history::Outcome;

    const MS: u64 = 1_000_000;

    fn spec(mix: Mix) -> WorkloadSpec {
        WorkloadSpec {
            clients: 1,
            think_mean: 10 * MS,
            mix,
            keys: 1,
            timeout: 500 * MS,
            retry: 50 * MS,
            start: 0,
            stop: 10_000 * MS,
        }
    }

    fn only(get: f64, put: f64, append: f64, cas: f64) -> Mix {
        Mix {
            get,
            put,
            append,
            cas,
        }
    }

    /// A client of a 3-node cluster with its own stream, driven by hand.
    struct Harness {
        client: KvClient,
        rng: Rng,
    }

    impl Harness {
        fn new(mix: Mix) -> Self {
            Harness {
                client: KvClient::new(ClientId(2), &spec(mix)),
                rng: Rng::derive(1, Stream::Client(2)),
            }
        }

        fn step(
            &mut self,
            now: Nanos,
            f: impl FnOnce(&mut KvClient, &mut ClientCtx<'_, KvClient>),
        ) -> Vec<ClientEffect<KvClient>> {
            let mut effects = Vec::new();
            let mut ctx = ClientCtx::new(ClientId(2), 3, now, &mut self.rng, &mut effects);
            f(&mut self.client, &mut ctx);
            effects
        }

        /// Starts and fires the first think timer at `now`: returns the request sent.
        fn begin(&mut self, now: Nanos) -> (u32, ClientRequest) {
            self.step(0, |c, ctx| c.on_start(ctx));
            let effects = self.step(now, |c, ctx| c.on_timer(ctx, KvTimer::Think));
            sent(&effects)
                .into_iter()
                .next()
                .expect("a request is sent")
        }
    }

    fn sent(effects: &[ClientEffect<KvClient>]) -> Vec<(u32, ClientRequest)> {
        effects
            .iter()
            .filter_map(|e| match e {
                ClientEffect::Send { to, request } => Some((to.0, request.clone())),
                _ => None,
            })
            .collect()
    }

    fn completions(effects: &[ClientEffect<KvClient>]) -> Vec<Completion> {
        effects
            .iter()
            .filter_map(|e| match e {
                ClientEffect::Complete { completion, .. } => Some(completion.clone()),
                _ => None,
            })
            .collect()
    }

    fn sets_think(effects: &[ClientEffect<KvClient>]) -> bool {
        effects.iter().any(|e| {
            matches!(
                e,
                ClientEffect::SetTimer {
                    timer: KvTimer::Think,
                    ..
                }
            )
        })
    }

    #[test]
    fn an_operation_is_invoked_sent_and_recorded_ok_with_its_times() {
        let mut h = Harness::new(only(0.0, 1.0, 0.0, 0.0));
        let (_, request) = h.begin(7 * MS);
        assert_eq!(request.id.seq, 1);
        assert_eq!(
            request.op,
            Op::Put {
                key: "k0".into(),
                value: "c2-1".into()
            }
        );
        let effects = h.step(9 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(0), request.id, Reply::Ok(OpResult::Done))
        });
        assert_eq!(completions(&effects), [Completion::Ok(OpResult::Done)]);
        assert!(sets_think(&effects));
        let ops = h.client.operations();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].process, 2);
        assert_eq!((ops[0].invoke, ops[0].complete), (7 * MS, Some(9 * MS)));
        assert_eq!(ops[0].call, Call::Write(Value::Str("c2-1".into())));
        assert_eq!(ops[0].outcome, Outcome::Ok(Output::Done));
    }

    #[test]
    fn a_redirect_resends_the_same_request_once_per_node() {
        let mut h = Harness::new(only(1.0, 0.0, 0.0, 0.0));
        let (first, request) = h.begin(MS);
        let leader = (first + 1) % 3;
        let not_leader = Reply::NotLeader {
            leader: Some(NodeId(leader)),
        };
        let effects = h.step(2 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(first), request.id, not_leader.clone())
        });
        assert_eq!(sent(&effects), [(leader, request.clone())]);
        // Sent back to the same node again: no ping-pong at one instant.
        let effects = h.step(3 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(first), request.id, not_leader)
        });
        assert!(sent(&effects).is_empty());
        // No answer within `retry`: the next node, same request.
        let effects = h.step(60 * MS, |c, ctx| c.on_timer(ctx, KvTimer::Retry));
        assert_eq!(sent(&effects), [((leader + 1) % 3, request)]);
    }

    #[test]
    fn a_timeout_records_info_and_a_late_reply_is_ignored() {
        let mut h = Harness::new(only(0.0, 1.0, 0.0, 0.0));
        let (to, request) = h.begin(MS);
        let effects = h.step(501 * MS, |c, ctx| c.on_timer(ctx, KvTimer::Timeout));
        assert_eq!(completions(&effects), [Completion::Info]);
        let late = h.step(502 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(to), request.id, Reply::Ok(OpResult::Done))
        });
        assert!(late.is_empty(), "{late:?}");
        let ops = h.client.operations();
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].outcome, Outcome::Info);
        assert_eq!(ops[0].complete, Some(501 * MS));
    }

    #[test]
    fn a_fail_reply_records_fail() {
        let mut h = Harness::new(only(1.0, 0.0, 0.0, 0.0));
        let (to, request) = h.begin(MS);
        let fail = Reply::Fail {
            reason: "no".into(),
        };
        h.step(2 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(to), request.id, fail)
        });
        assert_eq!(h.client.operations()[0].outcome, Outcome::Fail);
    }

    #[test]
    fn cas_expects_the_last_value_written_and_records_whether_it_swapped() {
        let mut h = Harness::new(only(0.0, 1.0, 0.0, 0.0));
        let (to, put) = h.begin(MS);
        h.step(2 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(to), put.id, Reply::Ok(OpResult::Done))
        });
        h.client.draw.mix = only(0.0, 0.0, 0.0, 1.0);
        let effects = h.step(20 * MS, |c, ctx| c.on_timer(ctx, KvTimer::Think));
        let (_, cas) = sent(&effects).pop().expect("the cas is sent");
        assert_eq!(cas.id.seq, 2);
        assert_eq!(
            cas.op,
            Op::Cas {
                key: "k0".into(),
                expect: "c2-1".into(),
                new: "c2-2".into()
            }
        );
        let swapped = Reply::Ok(OpResult::Cas { swapped: true });
        h.step(22 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(to), cas.id, swapped)
        });
        let ops = h.client.operations();
        assert_eq!(ops[1].outcome, Outcome::Ok(Output::Cas(true)));
        assert_eq!(
            ops[1].call,
            Call::Cas {
                from: Value::Str("c2-1".into()),
                to: Value::Str("c2-2".into())
            }
        );
    }

    #[test]
    fn no_operation_begins_at_or_after_stop() {
        let mut h = Harness::new(only(1.0, 0.0, 0.0, 0.0));
        // Think times are at least 1 ns: completing at 4 ms, the next one would begin at or
        // after `stop`.
        h.client.spec.stop = 4 * MS + 1;
        let (to, request) = h.begin(MS);
        let reply = Reply::Ok(OpResult::Value { value: None });
        let effects = h.step(4 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(to), request.id, reply)
        });
        assert!(!sets_think(&effects));
    }

    #[test]
    fn the_history_orders_by_invocation_and_keeps_the_pending_operation() {
        let mut a = Harness::new(only(1.0, 0.0, 0.0, 0.0));
        a.begin(5 * MS);
        let mut b = Harness::new(only(1.0, 0.0, 0.0, 0.0));
        b.client.id = ClientId(0);
        let (to, request) = b.begin(9 * MS);
        let reply = Reply::Ok(OpResult::Value {
            value: Some("x".into()),
        });
        b.step(10 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(to), request.id, reply)
        });
        let h = history(&[b.client, a.client]);
        assert_eq!(h.time_unit, TimeUnit::Nanos);
        assert_eq!(h.model.as_ref().map(|m| m.kind), Some(ModelKind::Kv));
        let summary: Vec<_> = h
            .ops
            .iter()
            .map(|o| (o.process, o.invoke, o.complete, o.outcome.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                (2, 5 * MS, None, Outcome::Info),
                (
                    0,
                    9 * MS,
                    Some(10 * MS),
                    Outcome::Ok(Output::Value(Some(Value::Str("x".into()))))
                ),
            ]
        );
    }

    fn timer_at(effects: &[ClientEffect<KvClient>], now: Nanos) -> Option<Nanos> {
        effects.iter().find_map(|e| match e {
            ClientEffect::SetTimer {
                timer: KvTimer::Think,
                after,
            } => Some(now + after),
            _ => None,
        })
    }

    #[test]
    fn a_scripted_client_invokes_its_operations_at_their_times_one_at_a_time() {
        let script = vec![
            Scripted {
                at: 7 * MS,
                op: Op::Put {
                    key: "k1".into(),
                    value: "v".into(),
                },
            },
            // Due before the first one ends: it waits until just after that end.
            Scripted {
                at: 8 * MS,
                op: Op::Get { key: "k1".into() },
            },
        ];
        let mut h = Harness::new(only(1.0, 0.0, 0.0, 0.0));
        h.client = {
            let spec = spec(only(1.0, 0.0, 0.0, 0.0));
            KvClient::scripted(ClientId(2), &spec, KvDraw::new(&spec), script)
        };
        let start = h.step(0, |c, ctx| c.on_start(ctx));
        assert_eq!(timer_at(&start, 0), Some(7 * MS));
        let effects = h.step(7 * MS, |c, ctx| c.on_timer(ctx, KvTimer::Think));
        let (to, put) = sent(&effects).pop().expect("the put is sent");
        assert_eq!(
            put.op,
            Op::Put {
                key: "k1".into(),
                value: "v".into()
            }
        );
        let effects = h.step(9 * MS, |c, ctx| {
            c.on_reply(ctx, NodeId(to), put.id, Reply::Ok(OpResult::Done))
        });
        assert_eq!(timer_at(&effects, 9 * MS), Some(9 * MS + 1));
        let effects = h.step(9 * MS + 1, |c, ctx| c.on_timer(ctx, KvTimer::Think));
        let (_, get) = sent(&effects).pop().expect("the get is sent");
        assert_eq!(get.op, Op::Get { key: "k1".into() });
        assert_eq!(get.id.seq, 2);
        // The script is done: no more operations.
        let effects = h.step(10 * MS, |c, ctx| {
            c.on_reply(
                ctx,
                NodeId(to),
                get.id,
                Reply::Ok(OpResult::Value { value: None }),
            )
        });
        assert!(!sets_think(&effects));
        assert_eq!(h.client.operations().len(), 2);
    }

    #[test]
    fn a_scripted_client_draws_its_first_node_as_a_drawing_client_does() {
        let mut drawn = Harness::new(only(1.0, 0.0, 0.0, 0.0));
        let (node, _) = drawn.begin(MS);
        let mut scripted = Harness::new(only(1.0, 0.0, 0.0, 0.0));
        let script = vec![Scripted {
            at: MS,
            op: Op::Get { key: "k0".into() },
        }];
        scripted.client = {
            let spec = spec(only(1.0, 0.0, 0.0, 0.0));
            KvClient::scripted(ClientId(2), &spec, KvDraw::new(&spec), script)
        };
        let (first, _) = scripted.begin(MS);
        assert_eq!(first, node);
    }
}

#[cfg(test)]
mod value_name_tests {
    use super::*;

    #[test]
    fn values_are_named_as_format_would_name_them() {
        for (client, seq) in [(0, 0), (2, 17), (9, 10), (123, u64::MAX)] {
            let id = ClientId(client);
            assert_eq!(&*value_name(id, seq), format!("{id}-{seq}"));
        }
    }
}
