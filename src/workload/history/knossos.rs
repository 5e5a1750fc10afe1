//! Histories written as EDN operation maps: Knossos's examples and Porcupine's key-value logs.
//!
//! Both are `{:process P, :type :invoke|:ok|:fail|:info, :f F, :value V}` maps, either inside one
//! vector or list or one after another; extra keys (`:time`, `:index`, `:error`) are ignored and
//! `:process :nemesis` entries are fault injections, not client operations. The semantics follow
//! `knossos.history/preprocess` and `knossos.model` (see the data set's README):
//!
//! - `:fail`: the operation did not happen ([`Outcome::Fail`]).
//! - `:info`, or no completion at all: unknown ([`Outcome::Info`]).
//! - an `:ok` read of nil is always legal in Knossos, so its output is unknown ([`Outcome::Info`]).
//! - `:cas` values are `[from to]`.
//!
//! - `:txn` values are transactions `[[:r :x nil] [:w :y 2]]` (`:read`/`:write` also spelt out);
//!   an `:ok` completion's value is the transaction again with what each read returned.
//! - `:acquire` and `:release` take no value.
//!
//! The model is implied by the operations: any `:txn` makes Knossos's `multi-register` (every
//! register starts at 0, as in Knossos's own multi-register history and its cas-register ones); any `:acquire` or `:release` its `mutex` (starting free); any `:key`, or
//! an `:f` of `:get`/`:put`/`:append`, a Porcupine key-value history (every key starts as `""`);
//! otherwise it is Knossos's cas-register starting at 0.

use super::builder::{Builder, Kind};
use super::datum::{Datum, Node, ParseError};
use super::{Call, History, Micro, ModelKind, ModelSpec, Outcome, Output, TimeUnit, Value, edn};

/// The `:f` values read, for "expected" messages.
const FS: &str = "an :f of :read, :write, :cas, :get, :put, :append, :txn, :acquire or :release";

/// Reads an EDN history.
///
/// ```
/// use sim::node::history::{Call, Outcome, Value};
/// use sim::workload::history::knossos::parse;
/// let edn = "{:process 1, :type :invoke, :f :write, :value 2}\n{:process 1, :type :info, :f :write, :value 2}\n";
/// let history = parse(edn)?;
/// assert_eq!(history.ops[0].call, Call::Write(Value::Int(2)));
/// assert_eq!(history.ops[0].outcome, Outcome::Info, "it may or may not have happened");
/// # Ok::<(), sim::workload::history::datum::ParseError>(())
/// ```
pub fn parse(text: &str) -> Result<History, ParseError> {
    let ops = op_maps(edn::read_all(text)?)?;
    let kv = ops.iter().any(is_kv);
    let mut builder = Builder::default();
    for op in &ops {
        event(&mut builder, op)?;
    }
    let ops = builder.finish();
    let has = |kind: Kind| ops.iter().any(|op| Kind::of(&op.call) == kind);
    let model = if has(Kind::Txn) {
        ModelSpec {
            kind: ModelKind::MultiRegister,
            init: Some(Value::Int(0)),
        }
    } else if has(Kind::Acquire) || has(Kind::Release) {
        ModelSpec {
            kind: ModelKind::Mutex,
            init: None,
        }
    } else if kv {
        ModelSpec {
            kind: ModelKind::Kv,
            init: Some(Value::Str(String::new())),
        }
    } else {
        ModelSpec {
            kind: ModelKind::CasRegister,
            init: Some(Value::Int(0)),
        }
    };
    Ok(History {
        ops,
        time_unit: TimeUnit::Event,
        model: Some(model),
    })
}

/// The operation maps: the items of a lone top-level vector or list, or the top-level forms.
fn op_maps(forms: Vec<Node>) -> Result<Vec<Node>, ParseError> {
    let items = match <[Node; 1]>::try_from(forms) {
        Ok(
            [
                Node {
                    datum: Datum::Seq(items),
                    ..
                },
            ],
        ) => items,
        Ok([one]) => vec![one],
        Err(forms) => forms,
    };
    for item in &items {
        if !matches!(item.datum, Datum::Map(_)) {
            return Err(item.expected("an operation map like {:process 0, :type :invoke, ...}"));
        }
    }
    Ok(items)
}

fn is_kv(op: &Node) -> bool {
    op.get("key").is_some()
        || op
            .get("f")
            .is_some_and(|f| matches!(&f.datum, Datum::Keyword(k) if matches!(k.as_str(), "get" | "put" | "append")))
}

/// The value of a required key.
fn field<'a>(op: &'a Node, key: &str) -> Result<&'a Node, ParseError> {
    op.get(key)
        .ok_or_else(|| op.expected(&format!("an operation map with a :{key}")))
}

fn keyword<'a>(node: &'a Node, what: &str) -> Result<&'a str, ParseError> {
    match &node.datum {
        Datum::Keyword(k) => Ok(k),
        _ => Err(node.expected(what)),
    }
}

/// Applies one operation map to the builder.
fn event(builder: &mut Builder, op: &Node) -> Result<(), ParseError> {
    let process_node = field(op, "process")?;
    let process = match &process_node.datum {
        Datum::Int(p) if *p >= 0 => *p as u64,
        Datum::Keyword(k) if k == "nemesis" => return Ok(()),
        _ => return Err(process_node.expected("a process number or :nemesis")),
    };
    let type_node = field(op, "type")?;
    let kind_node = field(op, "f")?;
    let kind = match keyword(kind_node, FS)? {
        "read" | "get" => Kind::Read,
        "write" | "put" => Kind::Write,
        "append" => Kind::Append,
        "cas" => Kind::Cas,
        "txn" => Kind::Txn,
        "acquire" => Kind::Acquire,
        "release" => Kind::Release,
        _ => return Err(kind_node.expected(FS)),
    };
    let value = op.get("value");
    match keyword(type_node, "a :type of :invoke, :ok, :fail or :info")? {
        "invoke" => builder.invoke(op.at, process, key(op)?, call(op, kind, value)?),
        completion @ ("ok" | "fail" | "info") => {
            let invoked = builder.open_call(op.at, process, kind)?.clone();
            let outcome = match completion {
                "ok" => ok_outcome(op, &invoked, value)?,
                "fail" => Outcome::Fail,
                _ => Outcome::Info,
            };
            builder.complete(process, outcome);
            Ok(())
        }
        _ => Err(type_node.expected("a :type of :invoke, :ok, :fail or :info")),
    }
}

fn key(op: &Node) -> Result<Option<String>, ParseError> {
    let Some(node) = op.get("key") else {
        return Ok(None);
    };
    match &node.datum {
        Datum::Str(s) => Ok(Some(s.clone())),
        Datum::Int(i) => Ok(Some(i.to_string())),
        Datum::Keyword(k) => Ok(Some(k.clone())),
        Datum::Nil => Ok(None),
        _ => Err(node.expected("a :key that is a string, an integer or a keyword")),
    }
}

/// A register value: an integer or a string.
pub(crate) fn value(node: &Node) -> Result<Value, ParseError> {
    match &node.datum {
        Datum::Int(i) => Ok(Value::Int(*i)),
        Datum::Str(s) => Ok(Value::Str(s.clone())),
        _ => Err(node.expected("a value (an integer or a string)")),
    }
}

/// A cas's `[from to]`.
pub(crate) fn pair(node: &Node) -> Result<(Value, Value), ParseError> {
    match &node.datum {
        Datum::Seq(items) if items.len() == 2 => Ok((value(&items[0])?, value(&items[1])?)),
        _ => Err(node.expected("a cas value [from to]")),
    }
}

fn call(op: &Node, kind: Kind, v: Option<&Node>) -> Result<Call, ParseError> {
    let needed = || op.expected(&format!("a :value for the {}", kind.name()));
    Ok(match kind {
        Kind::Read => Call::Read,
        Kind::Write => Call::Write(value(v.ok_or_else(needed)?)?),
        Kind::Append => Call::Append(value(v.ok_or_else(needed)?)?),
        Kind::Cas => {
            let (from, to) = pair(v.ok_or_else(needed)?)?;
            Call::Cas { from, to }
        }
        Kind::Txn => Call::Txn(
            steps(v.ok_or_else(needed)?)?
                .into_iter()
                .map(|(micro, _)| micro)
                .collect(),
        ),
        Kind::Acquire => Call::Acquire,
        Kind::Release => Call::Release,
        // Knossos histories name no bank operations (`kind_of` never gives these).
        Kind::Transfer | Kind::ReadAll => {
            return Err(op.expected("a register, txn or mutex operation"));
        }
    })
}

/// A transaction's steps `[[:r :x nil] [:w :y 2]]`, each with the value it names (a read's is
/// what it returned, nil when unknown).
fn steps(node: &Node) -> Result<Vec<(Micro, Option<Value>)>, ParseError> {
    let what = "a transaction: a sequence of [:r key value] and [:w key value]";
    let Datum::Seq(items) = &node.datum else {
        return Err(node.expected(what));
    };
    items
        .iter()
        .map(|item| {
            let Datum::Seq(parts) = &item.datum else {
                return Err(item.expected("a step [:r key value] or [:w key value]"));
            };
            let [f, k, v] = parts.as_slice() else {
                return Err(item.expected("a step of three: [:r key value] or [:w key value]"));
            };
            let key = match &k.datum {
                Datum::Keyword(s) | Datum::Str(s) => s.clone(),
                Datum::Int(i) => i.to_string(),
                _ => return Err(k.expected("a register name (a keyword, string or integer)")),
            };
            match keyword(f, "a step of :r or :w")? {
                "r" | "read" => {
                    let seen = match v.datum {
                        Datum::Nil => None,
                        _ => Some(value(v)?),
                    };
                    Ok((Micro::Read(key), seen))
                }
                "w" | "write" => {
                    let written = value(v)?;
                    Ok((Micro::Write(key, written.clone()), Some(written)))
                }
                _ => Err(f.expected("a step of :r or :w")),
            }
        })
        .collect()
}

fn ok_outcome(op: &Node, invoked: &Call, v: Option<&Node>) -> Result<Outcome, ParseError> {
    let kind = Kind::of(invoked);
    Ok(match kind {
        Kind::Txn => {
            let Call::Txn(asked) = invoked else {
                unreachable!("a txn kind is a txn call")
            };
            let Some(v) = v.filter(|v| v.datum != Datum::Nil) else {
                // No reads reported: each one returned something unknown.
                return Ok(Outcome::Ok(Output::Txn(vec![None; asked.len()])));
            };
            let done = steps(v)?;
            let same = done.len() == asked.len() && done.iter().map(|(m, _)| m).eq(asked);
            if !same {
                return Err(v.expected(
                    "the invoked transaction's steps again (same order, keys and writes), \
                     with the values read",
                ));
            }
            Outcome::Ok(Output::Txn(
                done.into_iter()
                    .map(|(micro, seen)| match micro {
                        Micro::Read(_) => seen,
                        Micro::Write(..) => None,
                    })
                    .collect(),
            ))
        }
        Kind::Acquire | Kind::Release => Outcome::Ok(Output::Done),
        Kind::Read => match v.map(|n| &n.datum) {
            // Knossos: a read of nil is always legal, i.e. its output tells nothing.
            None | Some(Datum::Nil) => Outcome::Info,
            Some(_) => Outcome::Ok(Output::Value(Some(value(
                v.ok_or_else(|| op.expected("a :value"))?,
            )?))),
        },
        Kind::Write | Kind::Append => Outcome::Ok(Output::Done),
        Kind::Cas => Outcome::Ok(Output::Cas(true)),
        Kind::Transfer | Kind::ReadAll => {
            return Err(op.expected("a register, txn or mutex operation"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(text: &str) -> Vec<super::super::Operation> {
        parse(text).expect("parses").ops
    }

    #[test]
    fn a_fail_means_the_operation_did_not_happen() {
        let h = ops("[{:process 1, :type :invoke, :f :write, :value 3}
                      {:process 1, :type :fail, :f :write, :value 3, :error [:timeout nil]}]");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].outcome, Outcome::Fail);
        assert_eq!((h[0].invoke, h[0].complete), (0, Some(1)));
        assert_eq!(h[0].call, Call::Write(Value::Int(3)));
    }

    #[test]
    fn info_and_unmatched_invocations_are_unknown() {
        let h = ops("{:process 1, :type :invoke, :f :write, :value 3}
                     {:process 2, :type :invoke, :f :cas, :value [0 1]}
                     {:process 1, :type :info, :f :write, :value 3}");
        assert_eq!(h[0].outcome, Outcome::Info);
        assert_eq!(h[0].complete, Some(2));
        assert_eq!(h[1].outcome, Outcome::Info);
        assert_eq!(h[1].complete, None, "never completed: open to the end");
        assert_eq!(
            h[1].call,
            Call::Cas {
                from: Value::Int(0),
                to: Value::Int(1)
            }
        );
    }

    #[test]
    fn a_read_of_nil_is_unknown_and_a_read_of_a_value_is_that_value() {
        let h = ops("({:process 0, :type :invoke, :f :read, :value nil}
                      {:process 0, :type :ok, :f :read, :value nil}
                      {:process 0, :type :invoke, :f :read}
                      {:process 0, :type :ok, :f :read, :value 4})");
        assert_eq!(h[0].outcome, Outcome::Info);
        assert_eq!(
            h[1].outcome,
            Outcome::Ok(Output::Value(Some(Value::Int(4))))
        );
        let model = parse("[]").unwrap().model.unwrap();
        assert_eq!(model.kind, ModelKind::CasRegister);
        assert_eq!(model.init, Some(Value::Int(0)));
    }

    #[test]
    fn nemesis_operations_comments_and_extra_keys_are_ignored() {
        let h = ops(
            "; a comment\n[{:process :nemesis, :type :info, :f :start, :value nil}
                     {:process 3 :type :invoke :f :cas :value [1 2] :time 17 :index 0} ; trailing
                     {:process :nemesis,\n :type :info, :f :stop}
                     {:process 3, :type :ok, :f :cas, :value [1 2]}]",
        );
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].outcome, Outcome::Ok(Output::Cas(true)));
        assert_eq!((h[0].invoke, h[0].complete), (0, Some(1)));
    }

    #[test]
    fn keys_or_get_put_append_make_a_kv_history_starting_empty() {
        let h = parse(
            "{:process 0, :type :invoke, :f :append, :key \"k\", :value \"x 0 y\"}
             {:process 0, :type :ok, :f :append, :key \"k\", :value \"x 0 y\"}
             {:process 1, :type :invoke, :f :get, :key \"k\", :value nil}
             {:process 1, :type :ok, :f :get, :key \"k\", :value \"x 0 y\"}",
        )
        .unwrap();
        let model = h.model.unwrap();
        assert_eq!(model.kind, ModelKind::Kv);
        assert_eq!(model.init, Some(Value::Str(String::new())));
        assert_eq!(h.ops[0].key.as_deref(), Some("k"));
        assert_eq!(h.ops[0].call, Call::Append(Value::Str("x 0 y".into())));
        assert_eq!(
            h.ops[1].outcome,
            Outcome::Ok(Output::Value(Some(Value::Str("x 0 y".into()))))
        );
    }

    #[test]
    fn txn_operations_make_a_multi_register_history_with_the_values_read() {
        let h = parse(
            "[{:process 0, :type :invoke, :f :txn, :value [[:r :x nil] [:w :y 2]]}
              {:process 1, :type :invoke, :f :txn, :value [[:write 3 \"a\"]]}
              {:process 0, :type :ok, :f :txn, :value [[:r :x 1] [:w :y 2]]}
              {:process 1, :type :info, :f :txn, :value [[:write 3 \"a\"]]}]",
        )
        .unwrap();
        let model = h.model.unwrap();
        assert_eq!(
            (model.kind, model.init),
            (ModelKind::MultiRegister, Some(Value::Int(0)))
        );
        assert_eq!(
            h.ops[0].call,
            Call::Txn(vec![
                Micro::Read("x".into()),
                Micro::Write("y".into(), Value::Int(2))
            ])
        );
        assert_eq!(
            h.ops[0].outcome,
            Outcome::Ok(Output::Txn(vec![Some(Value::Int(1)), None]))
        );
        assert_eq!(
            h.ops[1].call,
            Call::Txn(vec![Micro::Write("3".into(), Value::Str("a".into()))])
        );
        assert_eq!(h.ops[1].outcome, Outcome::Info);
        assert_eq!(
            error(
                "[{:process 0, :type :invoke, :f :txn, :value [[:r :x nil]]}\n \
                 {:process 0, :type :ok, :f :txn, :value [[:r :y 1]]}]"
            ),
            "2:42: expected the invoked transaction's steps again (same order, keys and writes), \
             with the values read, found a sequence"
        );
        assert_eq!(
            error("[{:process 0, :type :invoke, :f :txn, :value [[:x :k 1]]}]"),
            "1:48: expected a step of :r or :w, found :x"
        );
    }

    #[test]
    fn acquire_and_release_make_a_mutex_history() {
        let h = parse(
            "{:process 0, :type :invoke, :f :acquire}
             {:process 0, :type :ok, :f :acquire}
             {:process 0, :type :invoke, :f :release, :value nil}
             {:process 0, :type :fail, :f :release}",
        )
        .unwrap();
        assert_eq!(h.model.unwrap().kind, ModelKind::Mutex);
        assert_eq!(
            (&h.ops[0].call, &h.ops[0].outcome),
            (&Call::Acquire, &Outcome::Ok(Output::Done))
        );
        assert_eq!(
            (&h.ops[1].call, &h.ops[1].outcome),
            (&Call::Release, &Outcome::Fail)
        );
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("rejected").to_string()
    }

    #[test]
    fn errors_name_the_line_and_column_and_what_was_expected() {
        assert_eq!(
            error("[{:process 0, :type :invoke, :f :frob}]"),
            "1:33: expected an :f of :read, :write, :cas, :get, :put, :append, :txn, :acquire or :release, found :frob"
        );
        assert_eq!(
            error("[{:process 0, :type :invoke, :f :cas, :value [1]}]"),
            "1:46: expected a cas value [from to], found a sequence"
        );
        assert_eq!(
            error("[{:process 0, :type :ok, :f :read, :value 1}]"),
            "1:2: expected an invocation by process 0 before this completion; it has no operation open"
        );
        assert!(error("[{:process 0,\n :type :invoke").starts_with("2:15: expected `}`"));
        assert!(
            error("[{:process 0, :type}]").starts_with("1:15: expected a value after this key")
        );
        assert_eq!(
            error(
                "[{:process 0, :type :invoke, :f :write, :value 1}\n {:process 0, :type :ok, :f :read}]"
            ),
            "2:2: expected a write completion (process 0's open operation at 1:2 is a write), found a read"
        );
        assert_eq!(
            error("[1]"),
            "1:2: expected an operation map like {:process 0, :type :invoke, ...}, found the integer 1"
        );
        assert!(
            error("[{:process 0 :type :invoke :f :read}\n {:process 0 :type :invoke :f :read}]")
                .starts_with("2:2: expected a completion for process 0's invocation at 1:2")
        );
    }
}
