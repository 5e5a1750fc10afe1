//! The sequential specifications, compiled for the search: values interned to small ids, each
//! operation reduced to a call and an expected output over those ids.
//!
//! A search state is a single value id. For the register models it is, per key, the register's
//! value (P-compositionality: a key-value map is linearizable iff each key is); id 0 is
//! "absent". For the mutex it is absent (free) or a `"held"` value. For the multi-register it is
//! a whole map of registers, interned like any value (id 0: the empty map, every register nil),
//! because one transaction reads and writes several registers at one instant. The search asks
//! [`Values::step`] whether an operation may take effect in a state and what the state becomes;
//! `None` means the operation cannot happen there. Appends build new strings, so `step` interns
//! them, as ropes, and remembers each (state, suffix) result: the search revisits the same
//! transitions often.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::workload::history::{Call, Micro, ModelKind, Operation, Outcome, Output, Value};

/// A value id; [`ABSENT`] is the absent key.
pub(crate) type Vid = u32;
pub(crate) const ABSENT: Vid = 0;

/// The history asks something of the model that it cannot answer: an unsupported call, an output
/// of the wrong shape, an append to an integer. Found before any search, so a bad input never
/// looks like a violation.
///
/// ```
/// use sim::check::linearizable::{Limits, check};
/// use sim::node::history::{Call, History, ModelKind, ModelSpec, Operation, Outcome, TimeUnit, Value};
/// // A mutex history judged as a register: the model cannot answer `acquire`.
/// let op = Operation { process: 0, key: None, call: Call::Acquire, invoke: 0, complete: Some(1), outcome: Outcome::Fail, node: None };
/// let history = History { ops: vec![op], time_unit: TimeUnit::Event, model: None };
/// let model = ModelSpec { kind: ModelKind::Register, init: Some(Value::Int(0)) };
/// let err = check(&history, &model, &Limits::default()).unwrap_err();
/// assert_eq!(err.op, Some(0));
/// assert!(err.to_string().starts_with("operation #0: "), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// Index into `history.ops` of the offending operation, when one is to blame.
    pub op: Option<usize>,
    /// What the model cannot judge, in words.
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
pub(crate) enum CCall {
    Read,
    Write(Vid),
    Append(Vid),
    Cas {
        from: Vid,
        to: Vid,
    },
    /// A transaction: an index into the partition's interned transactions ([`Values::txn`]),
    /// which carry what each read must have returned.
    Txn(u32),
    /// Take the mutex: free (absent) becomes `held`.
    Acquire {
        held: Vid,
    },
    /// Give it back: held becomes free.
    Release,
}

/// One step of a compiled transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum CMicro {
    /// Read register `key`; `expect`: what it must hold (`None`: unknown, anything goes).
    Read {
        key: Vid,
        expect: Option<Vid>,
    },
    Write {
        key: Vid,
        value: Vid,
    },
}

/// What a completed operation must have returned; `Unknown` for an `info` one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum COut {
    Unknown,
    Value(Vid),
    /// A read of siblings: index into `Values::siblings`; legal when the state is one of them.
    Siblings(u32),
    Done,
    Cas(bool),
}

/// One operation as the search sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct COp {
    /// Index into `history.ops`.
    pub(crate) hist: usize,
    pub(crate) call: CCall,
    pub(crate) out: COut,
    pub(crate) invoke: u64,
    /// When it returned; `None`: unknown outcome, it may take effect at any instant after
    /// `invoke`, or never.
    pub(crate) ret: Option<u64>,
}

impl COp {
    pub(crate) fn is_definite(&self) -> bool {
        self.ret.is_some()
    }
}

/// A multiply-rotate hasher (in the manner of rustc's Fx hash), eight bytes at a time. The
/// search interns every string an append produces, and those grow long: SipHash over them was a
/// fifth of a whole check. Not DoS-resistant, which a checker of its own input does not need; and
/// unseeded, so even iteration order would be the same on every run.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

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

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The interned values of one partition, and the transitions of the register over them. Its
/// maps are lookup tables, never iterated.
///
/// A string an append builds is never copied out: it is stored as the pair (value before, suffix),
/// a rope, with the polynomial hash and length of the string it stands for. The hash of a
/// concatenation follows from its halves' in O(1), so finding whether the string already has an
/// id costs no allocation and no pass over its bytes; only a hash match is confirmed, byte by
/// byte, so two ids always mean two different values. The search builds one new value per new
/// (state, suffix) transition, and before this each one was a fresh allocation and a full copy.
pub(crate) struct Values {
    entries: Vec<Entry>,
    /// Open addressing over ids, probed by `Entry::hash`; `EMPTY` marks a free slot.
    table: Vec<Vid>,
    appended: FastMap<(Vid, Vid), Vid>,
    /// Multi-register states: each map (sorted by key id, no entry for a nil register) to its id.
    maps: FastMap<Box<[(Vid, Vid)]>, Vid>,
    /// Interned transactions, and each one's index: identical ones share an index, so the
    /// search's rule for identical unknown operations applies to them.
    txns: Vec<Box<[CMicro]>>,
    txn_ids: FastMap<Box<[CMicro]>, u32>,
    /// (state, transaction) to the state after it, or `None` if it cannot take effect there.
    txn_steps: FastMap<(Vid, u32), Option<Vid>>,
    /// The value sets reads of siblings returned, each sorted.
    siblings: Vec<Box<[Vid]>>,
}

/// One interned value.
struct Entry {
    repr: Repr,
    /// For a string: its polynomial hash modulo [`P`]; for an integer: a mix of it.
    hash: u64,
    /// For a string: its length in bytes, and `B` to that power (to extend a hash past it).
    len: usize,
    shift: u64,
}

enum Repr {
    Absent,
    Flat(Value),
    /// The string `left` followed by the string `right`.
    Concat(Vid, Vid),
    /// A multi-register state: (register, value) sorted by register id.
    Map(Box<[(Vid, Vid)]>),
}

const EMPTY: Vid = Vid::MAX;
/// The Mersenne prime 2^61 - 1 and a base below it: a hash of a string is the value of its
/// bytes, plus one, as digits in base `B` modulo `P`.
const P: u64 = (1 << 61) - 1;
const B: u64 = 0x1f3d_5b79_a2c4_e6f1 % P;

fn mul_mod(a: u64, b: u64) -> u64 {
    let wide = u128::from(a) * u128::from(b);
    let folded = (wide as u64 & P) + (wide >> 61) as u64;
    if folded >= P { folded - P } else { folded }
}

fn add_mod(a: u64, b: u64) -> u64 {
    let sum = a + b;
    if sum >= P { sum - P } else { sum }
}

/// (hash, length, `B`^length) of a string's bytes.
fn string_hash(bytes: &[u8]) -> (u64, usize, u64) {
    let (mut h, mut shift) = (0, 1);
    for &b in bytes {
        h = add_mod(mul_mod(h, B), u64::from(b) + 1);
        shift = mul_mod(shift, B);
    }
    (h, bytes.len(), shift)
}

fn int_hash(i: i64) -> u64 {
    // Any mixing will do: integers are compared only with integers.
    let mut h = FastHasher::default();
    h.write_u64(i as u64);
    h.finish() | 1 << 63
}

impl Default for Values {
    fn default() -> Self {
        Values {
            entries: vec![Entry {
                repr: Repr::Absent,
                hash: 0,
                len: 0,
                shift: 1,
            }],
            table: vec![EMPTY; 16],
            appended: FastMap::default(),
            maps: FastMap::default(),
            txns: Vec::new(),
            txn_ids: FastMap::default(),
            txn_steps: FastMap::default(),
            siblings: Vec::new(),
        }
    }
}

impl Values {
    pub(crate) fn intern(&mut self, v: &Value) -> Vid {
        let (hash, len, shift) = match v {
            Value::Str(s) => string_hash(s.as_bytes()),
            Value::Int(i) => (int_hash(*i), 0, 1),
        };
        let found = self.find(hash, len, |values, id| {
            match (&values.entries[id as usize].repr, v) {
                (Repr::Flat(stored), v) => stored == v,
                (Repr::Concat(..), Value::Str(s)) => values.bytes_equal(&[id], s.as_bytes()),
                _ => false,
            }
        });
        found.unwrap_or_else(|| {
            self.insert(Entry {
                repr: Repr::Flat(v.clone()),
                hash,
                len,
                shift,
            })
        })
    }

    /// Interns the values of a read of siblings, as one set.
    pub(crate) fn intern_siblings(&mut self, vs: &[Value]) -> u32 {
        let mut ids: Vec<Vid> = vs.iter().map(|v| self.intern(v)).collect();
        ids.sort_unstable();
        ids.dedup();
        self.siblings.push(ids.into_boxed_slice());
        (self.siblings.len() - 1) as u32
    }

    pub(crate) fn intern_opt(&mut self, v: Option<&Value>) -> Vid {
        v.map_or(ABSENT, |v| self.intern(v))
    }

    /// The value `id` stands for, built out of its pieces when it is a concatenation.
    pub(crate) fn value(&self, id: Vid) -> Option<Value> {
        match &self.entries[id as usize].repr {
            Repr::Absent => None,
            Repr::Flat(v) => Some(v.clone()),
            // Shown as text: `{x=1 y="a"}`, for explanations and pictures.
            Repr::Map(entries) => {
                let shown: Vec<String> = entries
                    .iter()
                    .map(|&(k, v)| {
                        let key = match self.value(k) {
                            Some(Value::Str(k)) => k,
                            other => format!("{other:?}"),
                        };
                        let v = self.value(v).map_or("nil".to_string(), |v| v.to_string());
                        format!("{key}={v}")
                    })
                    .collect();
                Some(Value::Str(format!("{{{}}}", shown.join(" "))))
            }
            Repr::Concat(..) => {
                let mut bytes = Vec::with_capacity(self.entries[id as usize].len);
                self.leaves(&[id], |leaf| {
                    bytes.extend_from_slice(leaf);
                    true
                });
                // The pieces are whole strings, so their concatenation is valid UTF-8.
                Some(Value::Str(
                    String::from_utf8(bytes).expect("strings concatenate"),
                ))
            }
        }
    }

    /// Whether `id` is an integer.
    pub(crate) fn is_int(&self, id: Vid) -> bool {
        matches!(self.entries[id as usize].repr, Repr::Flat(Value::Int(_)))
    }

    /// The state after `op` takes effect in `state`, or `None` if it cannot take effect there.
    /// Appends were checked to be string-only before the search (see [`compile`]).
    pub(crate) fn step(&mut self, state: Vid, op: &COp) -> Option<Vid> {
        match (op.call, op.out) {
            (CCall::Read, COut::Value(v)) => (v == state).then_some(state),
            (CCall::Read, COut::Siblings(s)) => self.siblings[s as usize]
                .binary_search(&state)
                .is_ok()
                .then_some(state),
            (CCall::Read, _) => Some(state),
            (CCall::Write(v), _) => Some(v),
            (CCall::Append(s), _) => Some(self.append(state, s)),
            (CCall::Cas { from, to }, COut::Cas(true)) => (state == from).then_some(to),
            (CCall::Cas { from, .. }, COut::Cas(false)) => (state != from).then_some(state),
            (CCall::Cas { from, to }, _) => Some(if state == from { to } else { state }),
            (CCall::Txn(t), _) => self.apply_txn(state, t),
            (CCall::Acquire { held }, _) => (state == ABSENT).then_some(held),
            (CCall::Release, _) => (state != ABSENT).then_some(ABSENT),
        }
    }

    /// Interns a transaction's steps.
    pub(crate) fn intern_txn(&mut self, steps: Vec<CMicro>) -> u32 {
        let steps = steps.into_boxed_slice();
        if let Some(&id) = self.txn_ids.get(&steps) {
            return id;
        }
        let id = self.txns.len() as u32;
        self.txns.push(steps.clone());
        self.txn_ids.insert(steps, id);
        id
    }

    /// The id of the multi-register state `entries` (any order; `ABSENT` for no entry).
    pub(crate) fn intern_map(&mut self, mut entries: Vec<(Vid, Vid)>) -> Vid {
        if entries.is_empty() {
            return ABSENT;
        }
        entries.sort_unstable();
        let entries = entries.into_boxed_slice();
        if let Some(&id) = self.maps.get(&entries) {
            return id;
        }
        let id = self.entries.len() as Vid;
        // Not placed in `table`: maps are found through `maps`, never by `intern`.
        self.entries.push(Entry {
            repr: Repr::Map(entries.clone()),
            hash: 0,
            len: 0,
            shift: 1,
        });
        self.maps.insert(entries, id);
        id
    }

    /// Transaction `t` applied to the multi-register state `state`: every read must see what
    /// it expects (an absent register holds nil, which no expected value equals), every write
    /// replaces its register; all at one instant.
    fn apply_txn(&mut self, state: Vid, t: u32) -> Option<Vid> {
        if let Some(&after) = self.txn_steps.get(&(state, t)) {
            return after;
        }
        let mut map: Vec<(Vid, Vid)> = match &self.entries[state as usize].repr {
            Repr::Map(entries) => entries.to_vec(),
            _ => Vec::new(),
        };
        let mut changed = false;
        let mut legal = true;
        for &step in self.txns[t as usize].iter() {
            match step {
                CMicro::Read { expect: None, .. } => {}
                CMicro::Read {
                    key,
                    expect: Some(v),
                } => {
                    let now = map.iter().find(|e| e.0 == key).map_or(ABSENT, |e| e.1);
                    if now != v {
                        legal = false;
                        break;
                    }
                }
                CMicro::Write { key, value } => match map.iter_mut().find(|e| e.0 == key) {
                    Some(e) => {
                        changed |= e.1 != value;
                        e.1 = value;
                    }
                    None => {
                        changed = true;
                        map.push((key, value));
                    }
                },
            }
        }
        let after = match (legal, changed) {
            (false, _) => None,
            (true, false) => Some(state),
            (true, true) => Some(self.intern_map(map)),
        };
        self.txn_steps.insert((state, t), after);
        after
    }

    fn append(&mut self, state: Vid, suffix: Vid) -> Vid {
        if let Some(&id) = self.appended.get(&(state, suffix)) {
            return id;
        }
        let id = if state == ABSENT {
            suffix
        } else {
            let (l, r) = (
                &self.entries[state as usize],
                &self.entries[suffix as usize],
            );
            let hash = add_mod(mul_mod(l.hash, r.shift), r.hash);
            let (len, shift) = (l.len + r.len, mul_mod(l.shift, r.shift));
            let found = self.find(hash, len, |values, id| {
                values.ropes_equal(&[id], &[state, suffix])
            });
            found.unwrap_or_else(|| {
                self.insert(Entry {
                    repr: Repr::Concat(state, suffix),
                    hash,
                    len,
                    shift,
                })
            })
        };
        self.appended.insert((state, suffix), id);
        id
    }

    /// The id of a value with this hash and length for which `same` holds.
    fn find(&self, hash: u64, len: usize, same: impl Fn(&Values, Vid) -> bool) -> Option<Vid> {
        let mask = self.table.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let id = self.table[i];
            if id == EMPTY {
                return None;
            }
            let e = &self.entries[id as usize];
            if e.hash == hash && e.len == len && same(self, id) {
                return Some(id);
            }
            i = (i + 1) & mask;
        }
    }

    fn insert(&mut self, entry: Entry) -> Vid {
        let id = self.entries.len() as Vid;
        let hash = entry.hash;
        self.entries.push(entry);
        self.place(hash, id);
        if self.entries.len() * 2 > self.table.len() {
            let doubled = vec![EMPTY; self.table.len() * 2];
            let ids = std::mem::replace(&mut self.table, doubled);
            for id in ids.into_iter().filter(|&id| id != EMPTY) {
                self.place(self.entries[id as usize].hash, id);
            }
        }
        id
    }

    fn place(&mut self, hash: u64, id: Vid) {
        let mask = self.table.len() - 1;
        let mut i = hash as usize & mask;
        while self.table[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.table[i] = id;
    }

    /// Calls `each` with the flat strings the ropes `ids` are made of, in order, until it says
    /// stop. Iterative: a rope built by thousands of appends is that deep.
    fn leaves<'a>(&'a self, ids: &[Vid], mut each: impl FnMut(&'a [u8]) -> bool) {
        let mut stack: Vec<Vid> = ids.iter().rev().copied().collect();
        while let Some(id) = stack.pop() {
            match &self.entries[id as usize].repr {
                Repr::Absent | Repr::Flat(Value::Int(_)) | Repr::Map(_) => {}
                Repr::Flat(Value::Str(s)) => {
                    if !each(s.as_bytes()) {
                        return;
                    }
                }
                Repr::Concat(l, r) => {
                    stack.push(*r);
                    stack.push(*l);
                }
            }
        }
    }

    fn bytes_equal(&self, ids: &[Vid], bytes: &[u8]) -> bool {
        let mut rest = bytes;
        let mut same = true;
        self.leaves(ids, |leaf| {
            same = rest.len() >= leaf.len() && rest[..leaf.len()] == *leaf;
            if same {
                rest = &rest[leaf.len()..];
            }
            same
        });
        same && rest.is_empty()
    }

    /// Whether two sequences of ropes spell the same string (their lengths already agree).
    fn ropes_equal(&self, a: &[Vid], b: &[Vid]) -> bool {
        let mut pieces: Vec<&[u8]> = Vec::new();
        self.leaves(b, |leaf| {
            pieces.push(leaf);
            true
        });
        let mut flat = Vec::with_capacity(pieces.iter().map(|p| p.len()).sum());
        pieces.iter().for_each(|p| flat.extend_from_slice(p));
        self.bytes_equal(a, &flat)
    }
}

/// Checks `op` (index `i` of the history) against `kind` and compiles it. Returns `Ok(None)` for
/// operations that constrain nothing: failed ones and reads of unknown outcome.
pub(crate) fn compile(
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
    let read_only = match &op.call {
        Call::Read => true,
        Call::Txn(steps) => steps.iter().all(|s| matches!(s, Micro::Read(_))),
        _ => false,
    };
    if definite.is_none() && read_only {
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
        Call::Txn(steps) => {
            let seen = match definite {
                Some(Output::Txn(seen)) if seen.len() == steps.len() => seen.as_slice(),
                Some(out) => {
                    return Err(err(format!(
                        "a txn of {} steps cannot return {}",
                        steps.len(),
                        output_name(out)
                    )));
                }
                None => &[],
            };
            let compiled = steps
                .iter()
                .enumerate()
                .map(|(j, step)| match step {
                    Micro::Read(k) => CMicro::Read {
                        key: values.intern(&Value::Str(k.clone())),
                        expect: seen
                            .get(j)
                            .and_then(Option::as_ref)
                            .map(|v| values.intern(v)),
                    },
                    Micro::Write(k, v) => CMicro::Write {
                        key: values.intern(&Value::Str(k.clone())),
                        value: values.intern(v),
                    },
                })
                .collect();
            CCall::Txn(values.intern_txn(compiled))
        }
        Call::Acquire => CCall::Acquire {
            held: values.intern(&Value::Str("held".into())),
        },
        Call::Release => CCall::Release,
        Call::Transfer { .. } | Call::ReadAll => {
            // `check_supported` has refused them: no register model judges a bank.
            return Err(err(format!("no model here judges {}", call_name(&op.call))));
        }
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
        ModelKind::MultiRegister => "multi-register (txn)",
        ModelKind::Mutex => "mutex (acquire/release)",
    };
    let registers = matches!(
        kind,
        ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
    );
    let supported = match call {
        Call::Read | Call::Write(_) => registers,
        Call::Cas { .. } => registers && kind != ModelKind::Register,
        Call::Append(_) => kind == ModelKind::Kv,
        Call::Txn(_) => kind == ModelKind::MultiRegister,
        Call::Acquire | Call::Release => kind == ModelKind::Mutex,
        Call::Transfer { .. } | Call::ReadAll => false,
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
        (Call::Read, Output::Siblings(vs)) => Ok(COut::Siblings(values.intern_siblings(vs))),
        (Call::Write(_) | Call::Append(_), Output::Done) => Ok(COut::Done),
        (Call::Cas { .. }, Output::Cas(b)) => Ok(COut::Cas(*b)),
        // What a transaction read is part of its compiled call.
        (Call::Txn(_), Output::Txn(_)) => Ok(COut::Done),
        (Call::Acquire | Call::Release, Output::Done) => Ok(COut::Done),
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
        Call::Txn(_) => "txn",
        Call::Acquire => "acquire",
        Call::Release => "release",
        Call::Transfer { .. } => "a bank transfer",
        Call::ReadAll => "a bank read",
    }
}

fn output_name(out: &Output) -> &'static str {
    match out {
        Output::Value(_) => "a value",
        Output::Done => "done",
        Output::Cas(_) => "a cas result",
        Output::Txn(_) => "a txn result",
        Output::Balances(_) => "balances",
        Output::Siblings(_) => "siblings",
    }
}

/// Appends concatenate strings; an integer anywhere in a partition that appends is a model error
/// (found up front, so it never depends on the order the search happens to try).
pub(crate) fn check_appends(
    ops: &[COp],
    init: Vid,
    values: &Values,
    key: Option<&str>,
) -> Result<(), ModelError> {
    let Some(append) = ops.iter().find(|o| matches!(o.call, CCall::Append(_))) else {
        return Ok(());
    };
    let is_int = |v: Vid| values.is_int(v);
    let ints = |o: &COp| match o.call {
        CCall::Read => matches!(o.out, COut::Value(v) if is_int(v)),
        CCall::Write(v) | CCall::Append(v) => is_int(v),
        CCall::Cas { from, to } => is_int(from) || is_int(to),
        CCall::Txn(_) | CCall::Acquire { .. } | CCall::Release => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Str(s.to_string())
    }

    fn append(values: &mut Values, state: Vid, suffix: &str) -> Vid {
        let s = values.intern(&text(suffix));
        let op = COp {
            hist: 0,
            call: CCall::Append(s),
            out: COut::Done,
            invoke: 0,
            ret: Some(1),
        };
        values.step(state, &op).expect("an append always applies")
    }

    #[test]
    fn an_appended_string_is_the_same_value_as_the_flat_one() {
        let mut values = Values::default();
        let read = values.intern(&text("x 1 y x 2 y"));
        let a = append(&mut values, ABSENT, "x 1 y");
        let ab = append(&mut values, a, " x 2 y");
        assert_eq!(ab, read);
        assert_eq!(values.value(ab), Some(text("x 1 y x 2 y")));
    }

    #[test]
    fn different_cuts_of_one_string_share_an_id_and_different_strings_do_not() {
        let mut values = Values::default();
        let ab = append(&mut values, ABSENT, "ab");
        let abc = append(&mut values, ab, "c");
        let a = append(&mut values, ABSENT, "a");
        let a_bc = append(&mut values, a, "bc");
        assert_eq!(abc, a_bc);
        let acb = append(&mut values, a, "cb");
        assert_ne!(abc, acb);
        assert_eq!(values.value(acb), Some(text("acb")));
        // Appending nothing changes nothing; the empty string is a value, not absence.
        assert_eq!(append(&mut values, abc, ""), abc);
        let empty = values.intern(&text(""));
        assert_ne!(empty, ABSENT);
        assert_eq!(append(&mut values, empty, "ab"), ab);
    }

    #[test]
    fn a_deep_rope_is_read_back_without_recursion() {
        let mut values = Values::default();
        let mut state = ABSENT;
        for i in 0..100_000 {
            state = append(&mut values, state, if i % 2 == 0 { "a" } else { "b" });
        }
        let Some(Value::Str(s)) = values.value(state) else {
            panic!("a string")
        };
        assert_eq!(s.len(), 100_000);
        assert!(s.starts_with("abab") && s.ends_with("abab"));
        assert_eq!(values.intern(&Value::Str(s)), state);
    }

    #[test]
    fn integers_and_strings_never_share_an_id() {
        let mut values = Values::default();
        let one = values.intern(&Value::Int(1));
        let one_text = values.intern(&text("1"));
        assert_ne!(one, one_text);
        assert!(values.is_int(one) && !values.is_int(one_text));
        assert_eq!(values.intern(&Value::Int(1)), one);
    }
}
