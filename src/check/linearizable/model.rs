//! The sequential specifications, compiled for the search: values interned to small ids, each
//! operation reduced to a call and an expected output over those ids.
//!
//! Every model here is, per key, one register (P-compositionality: a key-value map is linearizable
//! iff each key is), so a search state is a single value id. Id 0 is "absent". The search asks
//! [`Values::step`] whether an operation may take effect in a state and what the state becomes;
//! `None` means the operation cannot happen there. Appends build new strings, so `step` interns
//! them and remembers each (state, suffix) result: the search revisits the same transitions often.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::workload::history::{Call, ModelKind, Operation, Outcome, Output, Value};

/// A value id; [`ABSENT`] is the absent key.
pub type Vid = u32;
pub const ABSENT: Vid = 0;

/// The history asks something of the model that it cannot answer: an unsupported call, an output
/// of the wrong shape, an append to an integer. Found before any search, so a bad input never
/// looks like a violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// Index into `history.ops` of the offending operation, when one is to blame.
    pub op: Option<usize>,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Some(op) => write!(f, "operation #{op}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ModelError {}

/// A call over interned values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CCall {
    Read,
    Write(Vid),
    Append(Vid),
    Cas { from: Vid, to: Vid },
}

/// What a completed operation must have returned; `Unknown` for an `info` one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum COut {
    Unknown,
    Value(Vid),
    Done,
    Cas(bool),
}

/// One operation as the search sees it.
#[derive(Clone, Copy, Debug)]
pub struct COp {
    /// Index into `history.ops`.
    pub hist: usize,
    pub call: CCall,
    pub out: COut,
    pub invoke: u64,
    /// When it returned; `None`: unknown outcome, it may take effect at any instant after
    /// `invoke`, or never.
    pub ret: Option<u64>,
}

impl COp {
    pub fn is_definite(&self) -> bool {
        self.ret.is_some()
    }
}

/// A multiply-rotate hasher (in the manner of rustc's Fx hash), eight bytes at a time. The
/// search interns every string an append produces, and those grow long: SipHash over them was a
/// fifth of a whole check. Not DoS-resistant, which a checker of its own input does not need; and
/// unseeded, so even iteration order would be the same on every run.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    const K: u64 = 0xf135_7aea_2e62_a9c5;

    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("eight bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(tail) ^ (rest.len() as u64) << 56);
    }

    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The interned values of one partition, and the transitions of the register over them. Its
/// maps are lookup tables, never iterated.
pub struct Values {
    list: Vec<Option<Value>>,
    index: FastMap<Value, Vid>,
    appended: FastMap<(Vid, Vid), Vid>,
}

impl Default for Values {
    fn default() -> Self {
        Values {
            list: vec![None],
            index: FastMap::default(),
            appended: FastMap::default(),
        }
    }
}

impl Values {
    pub fn intern(&mut self, v: &Value) -> Vid {
        if let Some(&id) = self.index.get(v) {
            return id;
        }
        let id = self.list.len() as Vid;
        self.list.push(Some(v.clone()));
        self.index.insert(v.clone(), id);
        id
    }

    /// [`Values::intern`] for a value built here: it is moved into the index, not copied.
    fn intern_owned(&mut self, v: Value) -> Vid {
        if let Some(&id) = self.index.get(&v) {
            return id;
        }
        let id = self.list.len() as Vid;
        self.list.push(Some(v.clone()));
        self.index.insert(v, id);
        id
    }

    pub fn intern_opt(&mut self, v: Option<&Value>) -> Vid {
        v.map_or(ABSENT, |v| self.intern(v))
    }

    pub fn get(&self, id: Vid) -> Option<&Value> {
        self.list[id as usize].as_ref()
    }

    /// The state after `op` takes effect in `state`, or `None` if it cannot take effect there.
    /// Appends were checked to be string-only before the search (see [`compile`]).
    pub fn step(&mut self, state: Vid, op: &COp) -> Option<Vid> {
        match (op.call, op.out) {
            (CCall::Read, COut::Value(v)) => (v == state).then_some(state),
            (CCall::Read, _) => Some(state),
            (CCall::Write(v), _) => Some(v),
            (CCall::Append(s), _) => Some(self.append(state, s)),
            (CCall::Cas { from, to }, COut::Cas(true)) => (state == from).then_some(to),
            (CCall::Cas { from, .. }, COut::Cas(false)) => (state != from).then_some(state),
            (CCall::Cas { from, to }, _) => Some(if state == from { to } else { state }),
        }
    }

    fn append(&mut self, state: Vid, suffix: Vid) -> Vid {
        if let Some(&id) = self.appended.get(&(state, suffix)) {
            return id;
        }
        let text = |v: Option<&Value>| match v {
            Some(Value::Str(s)) => s.clone(),
            _ => String::new(),
        };
        let joined = text(self.get(state)) + &text(self.get(suffix));
        let id = self.intern_owned(Value::Str(joined));
        self.appended.insert((state, suffix), id);
        id
    }
}

/// Checks `op` (index `i` of the history) against `kind` and compiles it. Returns `Ok(None)` for
/// operations that constrain nothing: failed ones and reads of unknown outcome.
pub fn compile(
    kind: ModelKind,
    i: usize,
    op: &Operation,
    values: &mut Values,
) -> Result<Option<COp>, ModelError> {
    let err = |message: String| ModelError {
        op: Some(i),
        message,
    };
    check_supported(kind, &op.call).map_err(err)?;
    if let Some(done) = op.complete
        && done < op.invoke
    {
        return Err(err(format!(
            "completes at {done}, before its invocation at {}",
            op.invoke
        )));
    }
    let definite = match (&op.outcome, op.complete) {
        (Outcome::Fail, _) => return Ok(None),
        // An ok without a completion cannot exist; the safe reading is "unknown".
        (Outcome::Info, _) | (Outcome::Ok(_), None) => None,
        (Outcome::Ok(out), Some(_)) => Some(out),
    };
    if definite.is_none() && op.call == Call::Read {
        return Ok(None);
    }
    let call = match &op.call {
        Call::Read => CCall::Read,
        Call::Write(v) => CCall::Write(values.intern(v)),
        Call::Append(v) => CCall::Append(values.intern(v)),
        Call::Cas { from, to } => CCall::Cas {
            from: values.intern(from),
            to: values.intern(to),
        },
    };
    let out = match definite {
        None => COut::Unknown,
        Some(out) => compile_output(&op.call, out, values).map_err(err)?,
    };
    Ok(Some(COp {
        hist: i,
        call,
        out,
        invoke: op.invoke,
        ret: if definite.is_some() {
            op.complete
        } else {
            None
        },
    }))
}

fn check_supported(kind: ModelKind, call: &Call) -> Result<(), String> {
    let name = match kind {
        ModelKind::Register => "register (read/write)",
        ModelKind::CasRegister => "cas-register (read/write/cas)",
        ModelKind::Kv => "kv",
    };
    let supported = match call {
        Call::Read | Call::Write(_) => true,
        Call::Cas { .. } => kind != ModelKind::Register,
        Call::Append(_) => kind == ModelKind::Kv,
    };
    if supported {
        Ok(())
    } else {
        Err(format!(
            "the {name} model does not support {}",
            call_name(call)
        ))
    }
}

fn compile_output(call: &Call, out: &Output, values: &mut Values) -> Result<COut, String> {
    match (call, out) {
        (Call::Read, Output::Value(v)) => Ok(COut::Value(values.intern_opt(v.as_ref()))),
        (Call::Write(_) | Call::Append(_), Output::Done) => Ok(COut::Done),
        (Call::Cas { .. }, Output::Cas(b)) => Ok(COut::Cas(*b)),
        (call, out) => Err(format!(
            "{} cannot return {}",
            call_name(call),
            output_name(out)
        )),
    }
}

fn call_name(call: &Call) -> &'static str {
    match call {
        Call::Read => "read",
        Call::Write(_) => "write",
        Call::Append(_) => "append",
        Call::Cas { .. } => "cas",
    }
}

fn output_name(out: &Output) -> &'static str {
    match out {
        Output::Value(_) => "a value",
        Output::Done => "done",
        Output::Cas(_) => "a cas result",
    }
}

/// Appends concatenate strings; an integer anywhere in a partition that appends is a model error
/// (found up front, so it never depends on the order the search happens to try).
pub fn check_appends(
    ops: &[COp],
    init: Vid,
    values: &Values,
    key: Option<&str>,
) -> Result<(), ModelError> {
    let Some(append) = ops.iter().find(|o| matches!(o.call, CCall::Append(_))) else {
        return Ok(());
    };
    let is_int = |v: Vid| matches!(values.get(v), Some(Value::Int(_)));
    let ints = |o: &COp| match o.call {
        CCall::Read => matches!(o.out, COut::Value(v) if is_int(v)),
        CCall::Write(v) | CCall::Append(v) => is_int(v),
        CCall::Cas { from, to } => is_int(from) || is_int(to),
    };
    let key = key.map_or(String::new(), |k| format!(" on key {k:?}"));
    if is_int(init) {
        return Err(ModelError {
            op: Some(append.hist),
            message: format!(
                "append{key}, but the initial value is an integer: append concatenates strings"
            ),
        });
    }
    match ops.iter().find(|o| ints(o)) {
        Some(o) => Err(ModelError {
            op: Some(o.hist),
            message: format!(
                "integer value{key}, where operation #{} appends: append concatenates strings",
                append.hist
            ),
        }),
        None => Ok(()),
    }
}
