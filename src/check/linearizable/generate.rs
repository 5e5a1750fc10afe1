//! Synthetic histories that are linearizable by construction, for tests and benchmarks.
//!
//! Each client issues operations back to back; each operation gets an instant inside its
//! `[invoke, complete]` interval at which it takes effect on a true register per key, and its
//! output is what the register gave at that instant. So the history is linearizable, and the
//! overlap between clients is as realistic as the durations drawn. An operation of unknown outcome
//! takes effect at its instant or never (a coin toss), and its client moves on under a new process
//! number, as Jepsen does. The generator has its own tiny RNG (splitmix64): it is test scaffolding,
//! not part of a run, and must give the same history for the same seed forever.

use crate::workload::history::{
    Call, History, ModelKind, ModelSpec, Operation, Outcome, Output, TimeUnit, Value,
};

/// What to generate.
///
/// ```
/// use sim::check::linearizable::generate::{Shape, history};
/// use sim::check::linearizable::{LinVerdict, Limits, check};
/// // A small shape of one's own: two clients, one cas register.
/// let shape = Shape { ops: 20, clients: 2, ..Shape::etcd_like(1) };
/// let (h, model) = history(&shape);
/// assert_eq!(h.ops.len(), 20);
/// assert_eq!(check(&h, &model, &Limits::default())?.verdict, LinVerdict::Linearizable);
/// # Ok::<(), sim::check::linearizable::ModelError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Shape {
    /// The seed of the draws: the same shape and seed give the same history.
    pub seed: u64,
    /// How many operations.
    pub ops: usize,
    /// How many concurrent clients issue them.
    pub clients: usize,
    /// 0: one register with no key; else keys "0", "1", ...
    pub keys: usize,
    /// The model the operations are drawn for.
    pub model: ModelKind,
    /// Values written are drawn from `0..values` (few values make the search harder).
    pub values: i64,
    /// Per mille of operations whose outcome is unknown.
    pub info_per_mille: u64,
    /// Per mille of reads (the rest split between writes and cas, or puts and appends for Kv).
    pub read_per_mille: u64,
    /// Longest operation, in time units (the overlap between clients grows with it).
    pub max_duration: u64,
}

impl Shape {
    /// Jepsen's etcd histories: one cas register, 5 clients, a quarter of the ops timed out.
    ///
    /// ```
    /// use sim::check::linearizable::generate::{Shape, history};
    /// let (h, _) = history(&Shape::etcd_like(3));
    /// assert_eq!(h.ops.len(), 77);
    /// assert!(h.ops.iter().all(|op| op.key.is_none()), "one register");
    /// ```
    pub fn etcd_like(seed: u64) -> Shape {
        Shape {
            seed,
            ops: 77,
            clients: 5,
            keys: 0,
            model: ModelKind::CasRegister,
            values: 5,
            info_per_mille: 250,
            read_per_mille: 300,
            max_duration: 60,
        }
    }

    /// Porcupine's kv c50 histories: 50 clients, 10 keys, get/put/append, all ops ok.
    ///
    /// ```
    /// use sim::check::linearizable::generate::Shape;
    /// use sim::node::history::ModelKind;
    /// let shape = Shape::c50_like(3);
    /// assert_eq!((shape.clients, shape.keys, shape.model), (50, 10, ModelKind::Kv));
    /// ```
    pub fn c50_like(seed: u64) -> Shape {
        Shape {
            seed,
            ops: 1712,
            clients: 50,
            keys: 10,
            model: ModelKind::Kv,
            values: 1000,
            info_per_mille: 0,
            read_per_mille: 500,
            max_duration: 30,
        }
    }

    /// A long run: 10 keys, 10 clients, reads, writes and cas, 1% unknown outcomes.
    ///
    /// ```
    /// use sim::check::linearizable::generate::{Shape, history};
    /// let (h, _) = history(&Shape::large(1, 500));
    /// assert_eq!(h.ops.len(), 500);
    /// ```
    pub fn large(seed: u64, ops: usize) -> Shape {
        Shape {
            seed,
            ops,
            clients: 10,
            keys: 10,
            model: ModelKind::CasRegister,
            values: 10,
            info_per_mille: 10,
            read_per_mille: 500,
            max_duration: 100,
        }
    }
}

/// splitmix64: small, fast, and fixed forever.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Draft {
    op: Operation,
    /// When it takes effect; `None`: never (an unknown outcome that did not happen).
    at: Option<u64>,
}

/// A linearizable history of `shape`, with the model to judge it by.
///
/// ```
/// use sim::check::linearizable::generate::{Shape, history};
/// // The same shape and seed: the same history.
/// assert_eq!(history(&Shape::etcd_like(5)), history(&Shape::etcd_like(5)));
/// assert_ne!(history(&Shape::etcd_like(5)).0, history(&Shape::etcd_like(6)).0);
/// ```
pub fn history(shape: &Shape) -> (History, ModelSpec) {
    let mut rng = Rng(shape.seed);
    let mut drafts = Vec::with_capacity(shape.ops);
    let mut clock = vec![0u64; shape.clients.max(1)];
    let mut process: Vec<u64> = (0..clock.len() as u64).collect();
    for n in 0..shape.ops {
        let c = n % clock.len();
        let invoke = clock[c] + 1 + rng.below(10);
        let complete = invoke + 1 + rng.below(shape.max_duration);
        clock[c] = complete;
        let info = rng.below(1000) < shape.info_per_mille;
        let at = invoke + rng.below(complete - invoke + 1);
        let at = (!info || rng.below(2) == 0).then_some(at);
        let op = Operation {
            process: process[c],
            key: (shape.keys > 0).then(|| rng.below(shape.keys as u64).to_string()),
            call: draw_call(shape, &mut rng, n),
            invoke,
            complete: Some(complete),
            outcome: if info {
                Outcome::Info
            } else {
                Outcome::Ok(Output::Done)
            },
            node: None,
        };
        if info {
            process[c] += clock.len() as u64;
        }
        drafts.push(Draft { op, at });
    }
    let init = match shape.model {
        ModelKind::Kv => Some(Value::Str(String::new())),
        _ => None,
    };
    apply_in_order(&mut drafts, &init);
    let mut ops: Vec<Operation> = drafts.into_iter().map(|d| d.op).collect();
    ops.sort_by_key(|o| o.invoke);
    let model = ModelSpec {
        kind: shape.model,
        init,
    };
    let history = History {
        ops,
        time_unit: TimeUnit::Nanos,
        model: Some(model.clone()),
    };
    (history, model)
}

fn draw_call(shape: &Shape, rng: &mut Rng, n: usize) -> Call {
    let roll = rng.below(1000);
    if roll < shape.read_per_mille {
        return Call::Read;
    }
    let value = |rng: &mut Rng| rng.below(shape.values.max(1) as u64) as i64;
    match shape.model {
        ModelKind::Kv => {
            if rng.below(5) == 0 {
                Call::Write(Value::Str(format!("p{n} ")))
            } else {
                Call::Append(Value::Str(format!("x{n} ")))
            }
        }
        ModelKind::Register => Call::Write(Value::Int(value(rng))),
        ModelKind::MultiRegister | ModelKind::Mutex => {
            unreachable!("the generator draws register, cas-register and kv histories")
        }
        ModelKind::CasRegister => {
            if rng.below(2) == 0 {
                Call::Write(Value::Int(value(rng)))
            } else {
                Call::Cas {
                    from: Value::Int(value(rng)),
                    to: Value::Int(value(rng)),
                }
            }
        }
    }
}

/// Runs every operation that takes effect on a true register per key, in the order of the
/// instants they take effect, and records what each returned.
fn apply_in_order(drafts: &mut [Draft], init: &Option<Value>) {
    let mut order: Vec<usize> = (0..drafts.len())
        .filter(|&i| drafts[i].at.is_some())
        .collect();
    order.sort_by_key(|&i| (drafts[i].at, i));
    let mut registers: std::collections::BTreeMap<Option<String>, Option<Value>> =
        std::collections::BTreeMap::new();
    for i in order {
        let op = &mut drafts[i].op;
        let reg = registers
            .entry(op.key.clone())
            .or_insert_with(|| init.clone());
        let out = match &op.call {
            Call::Read => Output::Value(reg.clone()),
            Call::Write(v) => {
                *reg = Some(v.clone());
                Output::Done
            }
            Call::Append(Value::Str(s)) => {
                let mut joined = match reg.take() {
                    Some(Value::Str(old)) => old,
                    _ => String::new(),
                };
                joined.push_str(s);
                *reg = Some(Value::Str(joined));
                Output::Done
            }
            Call::Append(Value::Int(_)) => unreachable!("the generator appends strings only"),
            Call::Txn(_)
            | Call::Acquire
            | Call::Release
            | Call::Transfer { .. }
            | Call::ReadAll => {
                unreachable!("the generator draws register calls only")
            }
            Call::Cas { from, to } => {
                let swap = reg.as_ref() == Some(from);
                if swap {
                    *reg = Some(to.clone());
                }
                Output::Cas(swap)
            }
        };
        if op.outcome != Outcome::Info {
            op.outcome = Outcome::Ok(out);
        }
    }
}

/// A copy of `history` with one completed read (the first at or after `ops / 2`) changed to
/// return a value that is never written: certainly not linearizable.
///
/// ```
/// use sim::check::linearizable::generate::{Shape, history, with_bad_read};
/// use sim::check::linearizable::{LinVerdict, Limits, check};
/// let (good, model) = history(&Shape::etcd_like(1));
/// let (bad, i) = with_bad_read(&good);
/// assert_ne!(bad.ops[i], good.ops[i]);
/// assert_eq!(check(&bad, &model, &Limits::default())?.verdict, LinVerdict::NotLinearizable);
/// # Ok::<(), sim::check::linearizable::ModelError>(())
/// ```
pub fn with_bad_read(history: &History) -> (History, usize) {
    let mut bad = history.clone();
    let n = bad.ops.len();
    let i = (n / 2..n)
        .chain(0..n / 2)
        .find(|&i| bad.ops[i].call == Call::Read && matches!(bad.ops[i].outcome, Outcome::Ok(_)))
        .expect("the history has a completed read");
    bad.ops[i].outcome = Outcome::Ok(Output::Value(Some(Value::Str("never written".into()))));
    (bad, i)
}
