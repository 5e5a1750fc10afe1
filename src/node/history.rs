//! A history: every client operation with its invocation, its completion and what it returned —
//! the one input of the history checkers, whether a simulator's clients recorded it or an
//! importer read it (`workload::history` has the importers, and the outcome rules in full).

use std::fmt;

use serde::Serialize;

/// A value stored under a key.
///
/// ```
/// use sim::node::history::Value;
/// assert_eq!(Value::Int(3).to_string(), "3");
/// assert_eq!(Value::Str("c1-4".into()).to_string(), "\"c1-4\"");
/// assert_eq!(serde_json::to_value(Value::Int(3)).unwrap(), 3, "untagged in JSON");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// An integer (most Jepsen and Knossos histories).
    Int(i64),
    /// A string (the simulator's key-value store).
    Str(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// What a client asked for.
///
/// ```
/// use sim::node::history::{Call, Value};
/// let cas = Call::Cas { from: Value::Int(1), to: Value::Int(2) };
/// assert_ne!(cas, Call::Write(Value::Int(2)));
/// assert_eq!(serde_json::to_value(&Call::Read).unwrap(), "Read");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Call {
    /// `get` / `read`.
    Read,
    /// `put` / `write`.
    Write(Value),
    /// `append`: string concatenation.
    Append(Value),
    /// Compare-and-set: becomes `to` if and only if the value is `from`.
    Cas {
        /// The value it must hold for the swap to happen.
        from: Value,
        /// The value it then gets.
        to: Value,
    },
    /// A multi-register transaction (Knossos's `:txn`): its steps take effect together, in
    /// order, at one instant. The operation has no key; its steps name theirs.
    Txn(Vec<Micro>),
    /// Take the mutex: possible only when it is free.
    Acquire,
    /// Give the mutex back: possible only when it is held.
    Release,
    /// A bank transfer: move `amount` from account `from` to account `to`, all or nothing.
    Transfer {
        /// The account debited.
        from: u32,
        /// The account credited.
        to: u32,
        /// How much.
        amount: u64,
    },
    /// A bank read of every account's balance (what it returned is in [`Output::Balances`]).
    ReadAll,
}

/// One step of a transaction.
///
/// ```
/// use sim::node::history::{Micro, Value, txn_text};
/// let steps = [Micro::Read("x".into()), Micro::Write("y".into(), Value::Int(2))];
/// assert_eq!(txn_text(&steps, None), "[r x, w y 2]");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Micro {
    /// Read a register (what it returned is in [`Output::Txn`]).
    Read(String),
    /// Write a register.
    Write(String, Value),
}

impl Micro {
    /// The register this step reads or writes.
    ///
    /// ```
    /// use sim::node::history::{Micro, Value};
    /// assert_eq!(Micro::Write("y".into(), Value::Int(2)).key(), "y");
    /// ```
    pub fn key(&self) -> &str {
        match self {
            Micro::Read(k) | Micro::Write(k, _) => k,
        }
    }
}

/// A transaction as text, `[r x 1, w y 2]`: each read with what it returned when `seen` says
/// (`nil` for a read that returned nil), else bare (`r x`).
///
/// ```
/// use sim::node::history::{Micro, Value, txn_text};
/// let steps = [Micro::Read("x".into()), Micro::Read("z".into())];
/// let seen = [Some(Value::Int(1)), None];
/// assert_eq!(txn_text(&steps, Some(&seen)), "[r x 1, r z nil]");
/// ```
pub fn txn_text(steps: &[Micro], seen: Option<&[Option<Value>]>) -> String {
    let shown: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(j, step)| match step {
            Micro::Write(k, v) => format!("w {k} {v}"),
            Micro::Read(k) => match seen {
                Some(seen) => {
                    let v = seen.get(j).cloned().flatten();
                    format!("r {k} {}", v.map_or("nil".to_string(), |v| v.to_string()))
                }
                None => format!("r {k}"),
            },
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// What an operation that took effect returned.
///
/// ```
/// use sim::node::history::{Outcome, Output, Value};
/// let read = Outcome::Ok(Output::Value(Some(Value::Str("c0-1".into()))));
/// let Outcome::Ok(Output::Value(Some(v))) = &read else { panic!() };
/// assert_eq!(v.to_string(), "\"c0-1\"");
/// assert_ne!(Output::Balances(vec![50, 50]), Output::Balances(vec![100, 0]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Output {
    /// A read's value; `None`: the key was absent (nil).
    Value(Option<Value>),
    /// A write or an append.
    Done,
    /// A compare-and-set: whether it swapped.
    Cas(bool),
    /// A transaction: what each step returned, in order. A read's value, or `None` when it
    /// returned nil, which (as in Knossos, where a nil read is always legal) constrains nothing;
    /// `None` for a write.
    Txn(Vec<Option<Value>>),
    /// A bank read: every account's balance, by account number.
    Balances(Vec<i64>),
    /// A read that returned several versions no replica could order (siblings, at least
    /// two). Linearizable when the register's value at the read's instant is one of them:
    /// the client may pick it.
    Siblings(Vec<Value>),
}

/// How an operation ended.
///
/// ```
/// use sim::node::history::{Outcome, Output};
/// // An operation that timed out may or may not have happened: `Info`, never `Fail`.
/// let unknown = Outcome::Info;
/// assert_ne!(unknown, Outcome::Fail);
/// assert_eq!(serde_json::to_value(Outcome::Ok(Output::Done)).unwrap()["Ok"], "Done");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Outcome {
    /// It took effect and returned this.
    Ok(Output),
    /// It definitely did not take effect.
    Fail,
    /// Unknown: it may have taken effect, at any instant after its invocation, or never.
    Info,
}

/// One client operation.
///
/// ```
/// use sim::node::history::{Call, Operation, Outcome, Value};
/// // Client 2's put of key "k", invoked at 5 ms, never answered.
/// let op = Operation {
///     process: 2,
///     key: Some("k".into()),
///     call: Call::Write(Value::Str("c2-1".into())),
///     invoke: 5_000_000,
///     complete: None,
///     outcome: Outcome::Info,
///     node: None,
/// };
/// assert!(op.complete.is_none(), "pending at the end of the history");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Operation {
    /// Who issued it: a simulated client's index, or a Jepsen process number.
    pub process: u64,
    /// The key; `None` for single-register histories.
    pub key: Option<String>,
    /// What it asked for.
    pub call: Call,
    /// When it was invoked, in the history's [`TimeUnit`].
    pub invoke: u64,
    /// When its completion was seen; `None`: never (pending at the end of the history).
    /// For an `Info` outcome this is when the client gave up, not a bound on when it happened.
    pub complete: Option<u64>,
    /// How it ended.
    pub outcome: Outcome,
    /// The name of the node whose answer ended it, when the history records one: the
    /// simulator's runs do (the node that replied `ok` or `fail`); imported histories, and
    /// operations that timed out or never ended, have `None`. Only pictures and reports read it:
    /// the checkers judge what was answered, not who answered.
    pub node: Option<String>,
}

/// What the `invoke`/`complete` numbers count.
///
/// ```
/// use sim::node::history::TimeUnit;
/// assert_eq!(serde_json::to_value(TimeUnit::Event).unwrap(), "event");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Virtual nanoseconds (the simulator's histories).
    Nanos,
    /// Positions of the invoke/complete events in the source file (imported histories).
    Event,
}

/// The sequential specification a history is judged against.
///
/// ```
/// use sim::node::history::ModelKind;
/// assert_eq!(serde_json::to_value(ModelKind::CasRegister).unwrap(), "cas-register");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// read / write.
    Register,
    /// read / write / cas.
    CasRegister,
    /// A map of independent registers: get / put / append / cas per key.
    Kv,
    /// Registers read and written together by transactions (Knossos's `multi-register`).
    MultiRegister,
    /// One lock: acquire / release (Knossos's `mutex`).
    Mutex,
}

/// A model and the initial value of every key (`None`: absent, reads return nil).
///
/// ```
/// use sim::node::history::{ModelKind, ModelSpec, Value};
/// // A register that holds 0 before the first write (Knossos's `cas-register 0`).
/// let model = ModelSpec { kind: ModelKind::CasRegister, init: Some(Value::Int(0)) };
/// assert_eq!(serde_json::to_value(&model).unwrap()["init"], 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelSpec {
    /// The sequential specification.
    pub kind: ModelKind,
    /// Every key's value before the first operation (`None`: absent).
    pub init: Option<Value>,
}

/// A whole history, in invocation order.
///
/// Two clients of one register: process 0 writes 1 from time 0 to 10, process 1 reads from 5
/// to 15 and sees 1 (the read overlaps the write, so either order is possible in real time):
///
/// ```
/// use sim::node::history::{
///     Call, History, ModelKind, ModelSpec, Operation, Outcome, Output, TimeUnit, Value,
/// };
///
/// let op = |process, call, invoke, complete, out| Operation {
///     process,
///     key: None,
///     call,
///     invoke,
///     complete: Some(complete),
///     outcome: Outcome::Ok(out),
///     node: None,
/// };
/// let history = History {
///     ops: vec![
///         op(0, Call::Write(Value::Int(1)), 0, 10, Output::Done),
///         op(1, Call::Read, 5, 15, Output::Value(Some(Value::Int(1)))),
///     ],
///     time_unit: TimeUnit::Nanos,
///     model: Some(ModelSpec { kind: ModelKind::Register, init: None }),
/// };
/// assert_eq!(history.ops[1].outcome, Outcome::Ok(Output::Value(Some(Value::Int(1)))));
/// ```
///
/// `sim::check::linearizable::check` judges one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct History {
    /// Every operation, in invocation order.
    pub ops: Vec<Operation>,
    /// What `invoke` and `complete` count.
    pub time_unit: TimeUnit,
    /// The model the source implies, when it implies one (`--model` overrides it).
    pub model: Option<ModelSpec>,
}
