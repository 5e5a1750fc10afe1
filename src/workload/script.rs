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

use crate::node::{Nanos, Op};
use std::sync::Arc;

use super::history::{Call, History, Value};

/// One operation of a script: `client` invokes `op` at `at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptOp {
    /// The client's index (`c0` is 0).
    pub client: u32,
    /// When the client invokes it, in nanoseconds of virtual time since the start of the run.
    pub at: Nanos,
    /// The operation (key and values).
    pub op: Op,
}

/// One key-value client's next scripted operation.
pub type Scripted = super::closed_loop::Scripted<Op>;

/// How many clients a script needs: one more than the highest index it names (clients it does
/// not name stay idle).
pub fn clients_needed(script: &[ScriptOp]) -> u32 {
    script.iter().map(|s| s.client + 1).max().unwrap_or(0)
}

/// Client `client`'s operations, in order of `at` (file order among equal times).
pub fn for_client(script: &[ScriptOp], client: u32) -> Vec<Scripted> {
    let mut ops: Vec<Scripted> = script
        .iter()
        .filter(|s| s.client == client)
        .map(|s| Scripted {
            at: s.at,
            op: s.op.clone(),
        })
        .collect();
    ops.sort_by_key(|s| s.at);
    ops
}

/// The script that replays a simulated run's history: every operation its clients invoked
/// (pending ones included), at the instant it was invoked, ordered by time then client.
/// `None` if an operation has no key or a value that is not a string (an imported history).
pub fn from_history(history: &History) -> Option<Vec<ScriptOp>> {
    let mut script = Vec::with_capacity(history.ops.len());
    for op in &history.ops {
        let key: Arc<str> = op.key.as_deref()?.into();
        let text = |v: &Value| match v {
            Value::Str(s) => Some(Arc::<str>::from(s.as_str())),
            Value::Int(_) => None,
        };
        let op_ = match &op.call {
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
            // Not operations the simulated clients have.
            Call::Txn(_)
            | Call::Acquire
            | Call::Release
            | Call::Transfer { .. }
            | Call::ReadAll => return None,
        };
        script.push(ScriptOp {
            client: u32::try_from(op.process).ok()?,
            at: op.invoke,
            op: op_,
        });
    }
    script.sort_by_key(|s| (s.at, s.client));
    Some(script)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::history::{Operation, Outcome, Output, TimeUnit};

    fn op(process: u64, invoke: u64, call: Call) -> Operation {
        Operation {
            process,
            key: Some("k0".into()),
            call,
            invoke,
            complete: None,
            outcome: Outcome::Ok(Output::Done),
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
            script[2].op,
            Op::Cas {
                key: "k0".into(),
                expect: "c1-1".into(),
                new: "c0-2".into()
            }
        );
        assert_eq!(clients_needed(&script), 2);
        let mine = for_client(&script, 0);
        assert_eq!(mine.iter().map(|s| s.at).collect::<Vec<_>>(), [3, 9]);
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
