//! One sentence that says why a key's history is not linearizable, for a student reading the
//! history picture: which operation cannot be placed, what it saw or did, what the model says
//! the value was at every point where it could take effect, and — when one operation settles
//! it — which earlier operation made it so.
//!
//! Everything said comes from what the checker proved: `stuck` (the operation no order can
//! place), `refused_in` (every value the key could hold at a point where `stuck` could take
//! effect, which the exhausted search visited) and the longest linearizable prefix with the
//! value after each of its operations. The closing clause names an operation of that prefix
//! that completed before `stuck` was invoked — real time forces it before `stuck` in every
//! order — and left the key at the one value `stuck` was refused in.

use super::PartitionResult;
use super::explain::{instant, show};
use crate::workload::history::{Call, History, ModelKind, Operation, Outcome, Output, Value};

/// The sentence for a partition the checker found not linearizable (`None` for any other, or
/// when the checker could not locate the operation that cannot be placed).
pub(crate) fn reason(history: &History, p: &PartitionResult) -> Option<String> {
    let stuck = p.stuck?;
    let op = history.ops.get(stuck)?;
    let unit = history.time_unit;
    let kind = history.model.as_ref().map(|m| m.kind);
    let mutex = kind == Some(ModelKind::Mutex);
    // The simulator's histories name their nodes, and their processes are clients.
    let simulated = history.ops.iter().any(|o| o.node.is_some());
    let subject = format!(
        "The {} by {}{} at {}",
        call_phrase(op),
        who(op.process, simulated),
        op.node
            .as_ref()
            .map_or(String::new(), |n| format!(" (answered by node {n})")),
        instant(op.invoke, unit),
    );
    let state = |v: Option<&Value>| state_text(kind, v);
    let where_ = match &op.key {
        Some(k) => format!("{k} "),
        None if mutex => "the mutex ".to_string(),
        None => "the register ".to_string(),
    };
    let could = match p.refused_in.as_slice() {
        [] => None,
        [only] => Some(format!("{where_}was {}", state(only.as_ref()))),
        many => {
            let shown: Vec<String> = many.iter().map(|v| state(v.as_ref())).collect();
            let (last, rest) = shown.split_last()?;
            Some(format!("{where_}was {} or {last}", rest.join(", ")))
        }
    };
    let at_every = |could: &Option<String>| match could {
        Some(c) => format!("at every point where it could take effect {c}"),
        None => "no order of the operations before it lets it take effect".to_string(),
    };
    let claim = match (&op.call, &op.outcome) {
        (Call::Read, Outcome::Ok(Output::Value(v))) => {
            format!("returned {}, but {}", show(v.as_ref()), at_every(&could))
        }
        (Call::Read, Outcome::Ok(Output::Siblings(vs))) => {
            let shown: Vec<String> = vs.iter().map(Value::to_string).collect();
            format!(
                "returned the versions {{{}}}, but {}",
                shown.join(", "),
                at_every(&could)
            )
        }
        (Call::Cas { from, .. }, Outcome::Ok(Output::Cas(true))) => {
            format!("succeeded, so {where_}was {from}; but {}", at_every(&could))
        }
        (Call::Cas { from, .. }, Outcome::Ok(Output::Cas(false))) => format!(
            "failed, so {where_}was not {from}; but {}",
            at_every(&could)
        ),
        (Call::Acquire, Outcome::Ok(_)) => format!("acquired the mutex, but {}", at_every(&could)),
        (Call::Release, Outcome::Ok(_)) => format!("released the mutex, but {}", at_every(&could)),
        (Call::Txn(_), Outcome::Ok(_)) => format!(
            "read values that were never all true at one instant: {}",
            at_every(&could)
        ),
        _ => format!(
            "cannot take effect: every order of the operations around it leaves one of them \
             impossible before this one had to complete; {}",
            at_every(&could)
        ),
    };
    let cause = match p.refused_in.as_slice() {
        [only] => cause(history, p, op, only.as_ref(), kind, simulated),
        _ => String::new(),
    };
    Some(format!("{subject} {claim}{cause}."))
}

/// `: client 0's write of "c0-32" completed at 2.253s, before this read began, and replaced
/// "c4-33"` — the last operation of the prefix that changed the key to `value` and completed
/// before `op` was invoked, when there is one.
fn cause(
    history: &History,
    p: &PartitionResult,
    op: &Operation,
    value: Option<&Value>,
    kind: Option<ModelKind>,
    simulated: bool,
) -> String {
    let mut before: Option<&Value> = None;
    let mut found: Option<(usize, Option<&Value>)> = None;
    for (&i, after) in p.linearization.iter().zip(&p.states) {
        let Some(other) = history.ops.get(i) else {
            continue;
        };
        let changed = after.as_ref() != before;
        if changed
            && after.as_ref() == value
            && other.complete.is_some_and(|c| c < op.invoke)
            && matches!(other.outcome, Outcome::Ok(_))
        {
            found = Some((i, before));
        }
        before = after.as_ref();
    }
    let Some((i, replaced)) = found else {
        return String::new();
    };
    let other = &history.ops[i];
    let Some(done) = other.complete else {
        return String::new();
    };
    let what = match &op.call {
        Call::Read => "read",
        Call::Acquire => "acquire",
        Call::Release => "release",
        Call::Txn(_) => "transaction",
        _ => "operation",
    };
    format!(
        ": {}'s {} completed at {}, before this {what} began, and replaced {}",
        who(other.process, simulated),
        call_phrase(other),
        instant(done, history.time_unit),
        state_text(kind, replaced)
    )
}

/// `client 3` in the simulator's histories, `process 3` in imported ones (Jepsen's word).
fn who(process: u64, simulated: bool) -> String {
    if simulated {
        format!("client {process}")
    } else {
        format!("process {process}")
    }
}

/// `read of k0`, `write of 5 to x`, `cas of x from 1 to 2`, `acquire`.
pub(crate) fn call_phrase(op: &Operation) -> String {
    let on = op
        .key
        .as_ref()
        .map_or(String::new(), |k| format!(" to {k}"));
    let of = op
        .key
        .as_ref()
        .map_or(String::new(), |k| format!(" of {k}"));
    match &op.call {
        Call::Read => format!("read{of}"),
        Call::Write(v) => format!("write of {v}{on}"),
        Call::Append(v) => format!("append of {v}{on}"),
        Call::Cas { from, to } => format!("cas{of} from {from} to {to}"),
        Call::Txn(steps) => format!(
            "transaction {}",
            crate::workload::history::txn_text(steps, None)
        ),
        Call::Acquire => "acquire".to_string(),
        Call::Release => "release".to_string(),
        Call::Transfer { from, to, amount } => format!("transfer of {amount} from {from} to {to}"),
        Call::ReadAll => "read of every balance".to_string(),
    }
}

/// A register's value, a mutex's `free` or `held`, a multi-register's `{x=1 y=2}` (which the
/// checker hands over as text).
fn state_text(kind: Option<ModelKind>, v: Option<&Value>) -> String {
    match (kind, v) {
        (Some(ModelKind::Mutex), None) => "free".to_string(),
        (Some(ModelKind::Mutex), Some(_)) => "held".to_string(),
        (Some(ModelKind::MultiRegister), Some(Value::Str(s))) => s.clone(),
        (_, other) => show(other),
    }
}
