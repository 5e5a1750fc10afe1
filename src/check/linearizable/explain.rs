//! Explaining a violation: which operation cannot be placed, why, and the smallest window of
//! operations that is already impossible on its own.
//!
//! A *cut* of a key's history at instants `t0 <= t` keeps the operations invoked by `t`, drops
//! those that completed before `t0`, and relaxes to "unknown outcome" (may take effect or not,
//! output unconstrained) those still running at `t` or already running at `t0`. A cut is only
//! ever more permissive than the history: any linearization of the history, restricted to the
//! cut's operations and started from the value it had just before the first operation invoked at
//! or after `t0`, linearizes the cut (operations invoked after `t` follow every operation that
//! completed by `t`, and those that completed before `t0` precede every one invoked from `t0`).
//! So a cut that cannot be linearized from *any* starting value proves the violation alone.
//!
//! The window is found in two monotone binary searches (a later `t0` or an earlier `t` only
//! relaxes a cut further): first the earliest completion `t` such that the cut `(-inf, t]` from
//! the initial value fails — the operation completing at `t` is the one that cannot be placed —
//! then the latest `t0` such that the cut `[t0, t]` fails from every value the key can hold.
//! Appends make the set of values unbounded, so a key that appends is cut on the right only.
//! A cut whose search hits the explanation's step budget counts as "not shown to fail", which
//! keeps every reported window a proven one.

use std::fmt::Write as _;

use super::model::{CCall, COp, COut, Values, Vid};
use super::search::{Budget, Found, Search, Step};
use super::{Analysis, LinVerdict, PartitionResult};
use crate::workload::history::{
    Call, History, ModelKind, Operation, Outcome, Output, TimeUnit, Value, txn_text,
};

/// Where a violation is, in a key's compiled ops (indices into its `ops`).
pub(crate) struct Located {
    pub(crate) stuck: usize,
    pub(crate) window: Vec<usize>,
    /// The longest linearizable prefix of the cut that ends at `stuck`'s completion.
    pub(crate) prefix: Vec<Step>,
    pub(crate) refused_in: Vec<Vid>,
}

/// Locates the violation in `ops`, which the search found not linearizable from `init`.
pub(crate) fn locate(
    ops: &[COp],
    init: Vid,
    values: &mut Values,
    budget: &mut Budget,
) -> Option<Located> {
    let mut deadlines: Vec<u64> = ops.iter().filter_map(|o| o.ret).collect();
    deadlines.sort_unstable();
    deadlines.dedup();
    let last = deadlines.len().checked_sub(1)?;
    let (mut lo, mut hi) = (0, last);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fails(ops, None, deadlines[mid], &[init], values, budget) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let t = deadlines[hi];
    let t0 = shrink_left(ops, init, t, values, budget);
    let stuck = (0..ops.len()).find(|&k| ops[k].ret == Some(t))?;
    let (cut, map) = cut(ops, None, t);
    let mut search = Search::new(&cut);
    search.watch(map.iter().position(|&k| k == stuck)?);
    let prefix = match search.run(init, values, budget) {
        Found::Stuck { best } | Found::Limit { best, .. } => best,
        Found::Linearizable(_) => return None,
    };
    let mut refused_in = search.refused_in.clone();
    refused_in.sort_unstable();
    Some(Located {
        stuck,
        window: cut_ops(ops, t0, t),
        prefix: prefix
            .into_iter()
            .map(|s| Step {
                op: map[s.op],
                after: s.after,
            })
            .collect(),
        refused_in,
    })
}

/// The latest window start for which the cut `[t0, t]` fails from every value (`None`: no start
/// but the beginning was shown to fail).
fn shrink_left(
    ops: &[COp],
    init: Vid,
    t: u64,
    values: &mut Values,
    budget: &mut Budget,
) -> Option<u64> {
    // Appends and transactions: the states are not a short list (strings of any length, maps
    // of every combination of written values).
    if ops
        .iter()
        .any(|o| matches!(o.call, CCall::Append(_) | CCall::Txn(_)))
    {
        return None;
    }
    let starts = start_values(ops, init);
    let mut invokes: Vec<u64> = ops.iter().map(|o| o.invoke).filter(|&i| i <= t).collect();
    invokes.sort_unstable();
    invokes.dedup();
    // f(k): the cut from invokes[k - 1] fails; f(0) holds (it is the cut the caller found).
    let (mut lo, mut hi) = (0, invokes.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fails(ops, Some(invokes[mid - 1]), t, &starts, values, budget) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    (lo > 0).then(|| invokes[lo - 1])
}

/// Every value a register can hold: the initial one and every one written.
fn start_values(ops: &[COp], init: Vid) -> Vec<Vid> {
    let mut vals: Vec<Vid> = ops
        .iter()
        .filter_map(|o| match o.call {
            CCall::Write(v) | CCall::Cas { to: v, .. } | CCall::Acquire { held: v } => Some(v),
            CCall::Read | CCall::Append(_) | CCall::Release => None,
            CCall::Txn(_) => unreachable!("transactions are cut on the right only"),
        })
        .collect();
    vals.push(init);
    vals.sort_unstable();
    vals.dedup();
    vals
}

/// Whether the cut `[t0, t]` is shown not linearizable from every value in `starts`.
fn fails(
    ops: &[COp],
    t0: Option<u64>,
    t: u64,
    starts: &[Vid],
    values: &mut Values,
    budget: &mut Budget,
) -> bool {
    let (cut, _) = cut(ops, t0, t);
    let mut search = Search::new(&cut);
    starts
        .iter()
        .all(|&s| matches!(search.run(s, values, budget), Found::Stuck { .. }))
}

/// The indices of `ops` a cut keeps.
fn cut_ops(ops: &[COp], t0: Option<u64>, t: u64) -> Vec<usize> {
    (0..ops.len())
        .filter(|&k| ops[k].invoke <= t && t0.is_none_or(|t0| ops[k].ret.is_none_or(|r| r >= t0)))
        .collect()
}

/// The cut `[t0, t]` (see the module doc) and, for each of its ops, its index in `ops`.
fn cut(ops: &[COp], t0: Option<u64>, t: u64) -> (Vec<COp>, Vec<usize>) {
    let mut out = Vec::new();
    let mut map = Vec::new();
    for k in cut_ops(ops, t0, t) {
        let mut op = ops[k];
        let running_at_end = op.ret.is_none_or(|r| r > t);
        let running_at_start = t0.is_some_and(|t0| op.invoke < t0);
        if running_at_end || running_at_start {
            if op.call == CCall::Read {
                continue;
            }
            op.ret = None;
            op.out = COut::Unknown;
        }
        out.push(op);
        map.push(k);
    }
    (out, map)
}

/// A readable account of `analysis`, written for a student at a terminal.
///
/// ```
/// use sim::check::linearizable::generate::{Shape, history, with_bad_read};
/// use sim::check::linearizable::{Limits, check, explain};
/// let (good, model) = history(&Shape::etcd_like(1));
/// let (bad, _) = with_bad_read(&good);
/// let analysis = check(&bad, &model, &Limits::default())?;
/// let text = explain(&bad, &analysis);
/// assert!(text.contains("not linearizable"), "{text}");
/// # Ok::<(), sim::check::linearizable::ModelError>(())
/// ```
pub fn explain(history: &History, analysis: &Analysis) -> String {
    let mut out = String::new();
    let keys = analysis.partitions.len();
    let _ = writeln!(
        out,
        "{}: {} operations over {} key{}, {} search steps",
        analysis.verdict.name(),
        history.ops.len(),
        keys,
        if keys == 1 { "" } else { "s" },
        analysis.steps
    );
    if let LinVerdict::Unknown { reason } = &analysis.verdict {
        let _ = writeln!(out, "  could not decide: {reason}");
    }
    let proven = analysis.verdict == LinVerdict::NotLinearizable;
    let mut undecided = 0;
    for p in &analysis.partitions {
        match p.verdict {
            LinVerdict::NotLinearizable => violation(&mut out, history, p),
            // Once one key proves the verdict, why the others were left is beside the point.
            LinVerdict::Unknown { .. } if proven => undecided += 1,
            LinVerdict::Unknown { ref reason } => {
                let _ = writeln!(out, "\n{}: unknown ({reason})", key_name(&p.key));
            }
            LinVerdict::Linearizable => {}
        }
    }
    if undecided > 0 {
        let _ = writeln!(
            out,
            "\n{undecided} other key{} left undecided: one violation is proof enough",
            if undecided == 1 { "" } else { "s" }
        );
    }
    out
}

/// How many prefix operations to show before the stuck one.
const PREFIX_SHOWN: usize = 12;

fn violation(out: &mut String, history: &History, p: &PartitionResult) {
    let _ = writeln!(out, "\n{}: not linearizable", key_name(&p.key));
    let Some(stuck) = p.stuck else {
        let _ = writeln!(out, "  no order of its {} operations works", p.ops);
        return;
    };
    let op = &history.ops[stuck];
    let _ = writeln!(
        out,
        "  cannot place: {}",
        describe(stuck, op, history.time_unit)
    );
    let _ = writeln!(out, "  because {}", why(op, &p.refused_in));
    let n = p.linearization.len();
    let _ = writeln!(
        out,
        "  longest linearizable prefix before it ({n} operation{}, value after each):",
        if n == 1 { "" } else { "s" }
    );
    if n > PREFIX_SHOWN {
        let _ = writeln!(out, "    ... {} earlier operations", n - PREFIX_SHOWN);
    }
    for (&i, state) in p
        .linearization
        .iter()
        .zip(&p.states)
        .skip(n.saturating_sub(PREFIX_SHOWN))
    {
        let _ = writeln!(
            out,
            "    {:<50} => {}",
            describe(i, &history.ops[i], history.time_unit),
            show_state(history, state.as_ref())
        );
    }
    let _ = writeln!(
        out,
        "  smallest window that cannot be linearized, whatever happened before it ({} operations; \
         those still running at its edges may or may not have taken effect):",
        p.window.len()
    );
    for &i in &p.window {
        let mark = if i == stuck {
            "  <- cannot be placed"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "    {}{mark}",
            describe(i, &history.ops[i], history.time_unit)
        );
    }
}

fn why(op: &Operation, refused_in: &[Option<Value>]) -> String {
    let could = || {
        let vals: Vec<String> = refused_in.iter().map(|v| show(v.as_ref())).collect();
        match vals.len() {
            0 => "no order of the operations before it lets it take effect".to_string(),
            1 => format!("the value can only be {}", vals[0]),
            _ => format!("the value can only be {}", or_list(&vals)),
        }
    };
    match (&op.call, &op.outcome) {
        (Call::Read, Outcome::Ok(Output::Siblings(vs))) => format!(
            "it returned the siblings {}, but at any point where it could take effect {}",
            siblings_text(vs),
            could()
        ),
        (Call::Read, Outcome::Ok(Output::Value(v))) => {
            format!(
                "it returned {}, but at any point where it could take effect {}",
                show(v.as_ref()),
                could()
            )
        }
        (Call::Cas { from, .. }, Outcome::Ok(Output::Cas(true))) => {
            format!(
                "it succeeded, so the value was {from}; but at any point where it could take effect {}",
                could()
            )
        }
        (Call::Cas { from, .. }, Outcome::Ok(Output::Cas(false))) => format!(
            "it failed, so the value was not {from}; but at any point where it could take effect it was {from}"
        ),
        (Call::Acquire, Outcome::Ok(_)) => "it acquired the mutex, but at any point where it \
            could take effect the mutex was already held"
            .to_string(),
        (Call::Release, Outcome::Ok(_)) => "it released the mutex, but at any point where it \
            could take effect the mutex was free"
            .to_string(),
        (Call::Txn(_), Outcome::Ok(_)) => format!(
            "its reads cannot all have been true at one instant: at any point where it could \
             take effect the registers were {}",
            if refused_in.is_empty() {
                "in no state that allows it".to_string()
            } else {
                or_list_or_one(refused_in)
            }
        ),
        _ => "every order of the operations around it leaves one of them impossible \
              before this one had to take effect"
            .to_string(),
    }
}

/// Multi-register states, which reach here as text (`{x=1 y=2}`), shown bare.
fn or_list_or_one(states: &[Option<Value>]) -> String {
    let vals: Vec<String> = states
        .iter()
        .map(|v| match v {
            Some(Value::Str(s)) => s.clone(),
            other => show(other.as_ref()),
        })
        .collect();
    if vals.len() == 1 {
        vals[0].clone()
    } else {
        or_list(&vals)
    }
}

fn or_list(vals: &[String]) -> String {
    let (last, rest) = vals.split_last().expect("or_list of two or more");
    format!("{} or {last}", rest.join(", "))
}

fn key_name(key: &Option<String>) -> String {
    match key {
        Some(k) => format!("key {k:?}"),
        None => "the register".to_string(),
    }
}

/// A model state after an operation: a register's value, a mutex's `free`/`held`, a
/// multi-register's `{x=1 y=2}` (which reaches here as text).
fn show_state(history: &History, v: Option<&Value>) -> String {
    match (history.model.as_ref().map(|m| m.kind), v) {
        (Some(ModelKind::Mutex), None) => "free".to_string(),
        (Some(ModelKind::Mutex | ModelKind::MultiRegister), Some(Value::Str(s))) => s.clone(),
        _ => show(v),
    }
}

pub(super) fn show(v: Option<&Value>) -> String {
    v.map_or("absent".to_string(), Value::to_string)
}

/// `#7 p2 read k1 -> "3"  [10, 14]`: index, process, call, key, result, [invoke, complete];
/// times in virtual seconds for the simulator's histories (`[2.25164s, 2.2565s]`).
pub(crate) fn describe(i: usize, op: &Operation, unit: TimeUnit) -> String {
    let key = op.key.as_ref().map_or(String::new(), |k| format!(" {k}"));
    let call = match &op.call {
        Call::Read => format!("read{key}"),
        Call::Write(v) => format!("write{key} {v}"),
        Call::Append(v) => format!("append{key} {v}"),
        Call::Cas { from, to } => format!("cas{key} {from}->{to}"),
        Call::Txn(steps) => format!("txn {}", txn_text(steps, None)),
        Call::Acquire => "acquire".to_string(),
        Call::Release => "release".to_string(),
        Call::Transfer { from, to, amount } => format!("transfer {amount} from {from} to {to}"),
        Call::ReadAll => "read-all".to_string(),
    };
    let result = match &op.outcome {
        Outcome::Ok(Output::Value(v)) => format!(" -> {}", show(v.as_ref())),
        Outcome::Ok(Output::Done) => " -> ok".to_string(),
        Outcome::Ok(Output::Cas(b)) => format!(" -> {}", if *b { "ok" } else { "failed" }),
        Outcome::Ok(Output::Txn(seen)) => match &op.call {
            Call::Txn(steps) => format!(" -> {}", txn_text(steps, Some(seen))),
            _ => " -> ok".to_string(),
        },
        Outcome::Ok(Output::Balances(b)) => format!(" -> {b:?}"),
        Outcome::Ok(Output::Siblings(vs)) => format!(" -> siblings {}", siblings_text(vs)),
        Outcome::Fail => " -> fail".to_string(),
        Outcome::Info => " -> unknown".to_string(),
    };
    let done = op.complete.map_or("...".to_string(), |c| instant(c, unit));
    format!(
        "#{i} p{} {call}{result}  [{}, {done}]",
        op.process,
        instant(op.invoke, unit)
    )
}

/// An instant as the history counts it: event positions as they are, nanoseconds as seconds
/// with every significant digit (two operations may be nanoseconds apart).
pub(super) fn instant(t: u64, unit: TimeUnit) -> String {
    match unit {
        TimeUnit::Event => t.to_string(),
        TimeUnit::Nanos => {
            let (secs, nanos) = (t / 1_000_000_000, t % 1_000_000_000);
            if nanos == 0 {
                format!("{secs}s")
            } else {
                let frac = format!("{nanos:09}");
                format!("{secs}.{}s", frac.trim_end_matches('0'))
            }
        }
    }
}

/// Siblings as `{2, 5}`.
fn siblings_text(vs: &[Value]) -> String {
    let shown: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
    format!("{{{}}}", shown.join(", "))
}
