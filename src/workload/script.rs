//! Scripted workloads: clients that replay a fixed list of operations instead of drawing them.
//!
//! A script is what `sim shrink` makes of a run's history, and what `[[workload.script]]` entries
//! in a scenario say: client `c` invokes `op` at `at`. The rule it keeps: a scripted client does
//! exactly what a drawing client did when the script came from that client's history. It draws
//! its first node from its own stream as a drawing client does (and nothing else), invokes each
//! operation at its `at`, and otherwise behaves the same (one operation at a time, the same
//! redirects, retries and timeout). When an operation's `at` comes before the previous
//! operation has ended (an operation was removed, or replies came later), it is invoked one
//! nanosecond after that end, so a client never has two operations outstanding nor starts one
//! at the instant another ends.

use crate::node::Nanos;

use super::closed_loop::{Draw, OpOf, Scripted};
use super::history::{Call, History, Value};

/// One operation of a script: `client` invokes `call` (on `key`, for a keyed interface) at
/// `at`. Written in the history's vocabulary ([`Call`]), so that one script format serves every
/// workload kind: each kind's [`Draw::scripted`] turns the calls it knows into its operations.
///
/// ```
/// use sim::workload::history::{Call, Value};
/// use sim::workload::ScriptOp;
///
/// // `c0` puts "x" on key "k" 5 ms into the run.
/// let put = ScriptOp { client: 0, at: 5_000_000, key: Some("k".into()), call: Call::Write(Value::Str("x".into())) };
/// assert_eq!(sim::workload::script::op_name(&put.call), "put");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOp {
    /// The client's index (`c0` is 0).
    pub client: u32,
    /// When the client invokes it, in nanoseconds of virtual time since the start of the run.
    pub at: Nanos,
    /// The key, for a key-value operation.
    pub key: Option<String>,
    /// What it asks for.
    pub call: Call,
}

/// The name a script entry gives its operation (`op = "get"`).
///
/// ```
/// use sim::workload::history::Call;
/// use sim::workload::script::op_name;
///
/// assert_eq!(op_name(&Call::Read), "get");
/// assert_eq!(op_name(&Call::ReadAll), "read-all");
/// ```
pub fn op_name(call: &Call) -> &'static str {
    match call {
        Call::Read => "get",
        Call::Write(_) => "put",
        Call::Append(_) => "append",
        Call::Cas { .. } => "cas",
        Call::Transfer { .. } => "transfer",
        Call::ReadAll => "read-all",
        Call::Txn(_) => "txn",
        Call::Acquire => "acquire",
        Call::Release => "release",
    }
}

/// How many clients a script needs: one more than the highest index it names (clients it does
/// not name stay idle).
///
/// ```
/// use sim::workload::history::Call;
/// use sim::workload::script::clients_needed;
/// use sim::workload::ScriptOp;
///
/// let get = |client| ScriptOp { client, at: 0, key: Some("k".into()), call: Call::Read };
/// // A script naming only `c2` still needs clients 0 and 1 (idle); an empty one needs none.
/// assert_eq!(clients_needed(&[get(2)]), 3);
/// assert_eq!(clients_needed(&[]), 0);
/// ```
pub fn clients_needed(script: &[ScriptOp]) -> u32 {
    script.iter().map(|s| s.client + 1).max().unwrap_or(0)
}

/// Client `client`'s operations, in order of `at` (file order among equal times), as `D`'s
/// operations; `Err(i)`: the script's `i`-th entry is no operation of `D`'s interface.
///
/// ```
/// use sim::node::Op;
/// use sim::workload::history::Call;
/// use sim::workload::script::for_client;
/// use sim::workload::{KvDraw, ScriptOp};
///
/// let get = |client, at| ScriptOp { client, at, key: Some("k".into()), call: Call::Read };
/// let script = [get(0, 9), get(1, 3), get(0, 2)];
/// // Client 0's two gets, earliest first; client 1's is not among them.
/// let ops = for_client::<KvDraw>(&script, 0).unwrap();
/// assert_eq!(ops.iter().map(|s| s.at).collect::<Vec<_>>(), [2, 9]);
/// assert!(matches!(&ops[0].op, Op::Get { key } if &**key == "k"));
/// ```
pub fn for_client<D: Draw>(
    script: &[ScriptOp],
    client: u32,
) -> Result<Vec<Scripted<OpOf<D>>>, usize> {
    let mut ops = Vec::new();
    for (i, s) in script
        .iter()
        .enumerate()
        .filter(|(_, s)| s.client == client)
    {
        let op = D::scripted(s.key.as_deref(), &s.call).ok_or(i)?;
        ops.push(Scripted { at: s.at, op });
    }
    ops.sort_by_key(|s| s.at);
    Ok(ops)
}

/// The first entry of `script` that is no operation of `D`'s interface, if any.
///
/// ```
/// use sim::workload::history::Call;
/// use sim::workload::script::first_foreign;
/// use sim::workload::{KvDraw, ScriptOp};
///
/// let op = |call| ScriptOp { client: 0, at: 0, key: Some("k".into()), call };
/// // The key-value client has no mutex: the script's second entry is foreign to it.
/// assert_eq!(first_foreign::<KvDraw>(&[op(Call::Read), op(Call::Acquire)]), Some(1));
/// assert_eq!(first_foreign::<KvDraw>(&[op(Call::Read)]), None);
/// ```
pub fn first_foreign<D: Draw>(script: &[ScriptOp]) -> Option<usize> {
    script
        .iter()
        .position(|s| D::scripted(s.key.as_deref(), &s.call).is_none())
}

/// The script that replays a simulated run's history: every operation its clients invoked
/// (pending ones included), at the instant it was invoked, ordered by time then client.
/// `None` if an operation is not one the simulated clients have (a transaction, a mutex) or a
/// key-value operation has no key or a value that is not a string (an imported history).
///
/// ```
/// use sim::workload::history::{Call, History, Operation, Outcome, TimeUnit, Value};
/// use sim::workload::script::from_history;
///
/// let op = |process, invoke, call| Operation { process, key: Some("k".into()), call, invoke, complete: None, outcome: Outcome::Info, node: None };
/// let run = History { ops: vec![op(1, 7, Call::Read), op(0, 7, Call::Write(Value::Str("x".into())))], time_unit: TimeUnit::Nanos, model: None };
/// // Pending operations too, ordered by time then client: c0's put before c1's get.
/// let script = from_history(&run).unwrap();
/// assert_eq!(script.iter().map(|s| (s.client, s.at)).collect::<Vec<_>>(), [(0, 7), (1, 7)]);
///
/// // A mutex's acquire is no operation of the simulated clients: no script.
/// let mutex = History { ops: vec![op(0, 1, Call::Acquire)], ..run };
/// assert!(from_history(&mutex).is_none());
/// ```
pub fn from_history(history: &History) -> Option<Vec<ScriptOp>> {
    let mut script = Vec::with_capacity(history.ops.len());
    for op in &history.ops {
        let strings = |vs: &[&Value]| vs.iter().all(|v| matches!(v, Value::Str(_)));
        let scriptable = match &op.call {
            Call::Read => op.key.is_some(),
            Call::Write(v) | Call::Append(v) => op.key.is_some() && strings(&[v]),
            Call::Cas { from, to } => op.key.is_some() && strings(&[from, to]),
            Call::Transfer { .. } | Call::ReadAll => true,
            Call::Txn(_) | Call::Acquire | Call::Release => false,
        };
        if !scriptable {
            return None;
        }
        script.push(ScriptOp {
            client: u32::try_from(op.process).ok()?,
            at: op.invoke,
            key: op.key.clone(),
            call: op.call.clone(),
        });
    }
    script.sort_by_key(|s| (s.at, s.client));
    Some(script)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::Op;
    use crate::workload::KvDraw;
    use crate::workload::history::{Operation, Outcome, Output, TimeUnit};

    fn op(process: u64, invoke: u64, call: Call) -> Operation {
        Operation {
            process,
            key: Some("k0".into()),
            call,
            invoke,
            complete: None,
            outcome: Outcome::Ok(Output::Done),
            node: None,
        }
    }

    #[test]
    fn a_history_becomes_the_script_that_replays_it() {
        let history = History {
            ops: vec![
                op(1, 5, Call::Write(Value::Str("c1-1".into()))),
                op(0, 3, Call::Read),
                op(
                    0,
                    9,
                    Call::Cas {
                        from: Value::Str("c1-1".into()),
                        to: Value::Str("c0-2".into()),
                    },
                ),
            ],
            time_unit: TimeUnit::Nanos,
            model: None,
        };
        let script = from_history(&history).expect("string values");
        assert_eq!(
            script.iter().map(|s| (s.client, s.at)).collect::<Vec<_>>(),
            [(0, 3), (1, 5), (0, 9)]
        );
        assert_eq!(
            KvDraw::scripted(script[2].key.as_deref(), &script[2].call),
            Some(Op::Cas {
                key: "k0".into(),
                expect: "c1-1".into(),
                new: "c0-2".into()
            })
        );
        assert_eq!(clients_needed(&script), 2);
        let mine = for_client::<KvDraw>(&script, 0).unwrap();
        assert_eq!(mine.iter().map(|s| s.at).collect::<Vec<_>>(), [3, 9]);
        let transfer = ScriptOp {
            client: 0,
            at: 1,
            key: None,
            call: Call::Transfer {
                from: 0,
                to: 1,
                amount: 5,
            },
        };
        let mixed = [script[0].clone(), transfer];
        assert_eq!(
            for_client::<KvDraw>(&mixed, 0),
            Err(1),
            "a transfer is no kv operation"
        );
        assert_eq!(first_foreign::<KvDraw>(&mixed), Some(1));
    }

    #[test]
    fn an_imported_history_with_integer_values_has_no_script() {
        let history = History {
            ops: vec![op(0, 1, Call::Write(Value::Int(3)))],
            time_unit: TimeUnit::Nanos,
            model: None,
        };
        assert_eq!(from_history(&history), None);
    }
}
