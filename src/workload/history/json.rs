//! Our history format, `sim-history` JSON: what `sim check` reads and the simulator writes.
//!
//! ```json
//! {"format":"sim-history","version":1,"time_unit":"ns","model":{"kind":"kv","init":""},"ops":[
//! {"process":0,"key":"x","f":"write","value":"a","invoke":1200,"complete":1900,"type":"ok"},
//! {"process":1,"key":"x","f":"read","invoke":1300,"complete":2100,"type":"ok","output":"a"},
//! {"process":2,"key":"x","f":"cas","value":["a","b"],"invoke":1400,"type":"info"}
//! ]}
//! ```
//!
//! One operation per line, fields in a fixed order, so [`to_json`] is deterministic and
//! [`parse`] of its output gives back the same [`History`] (and writing that again the same
//! bytes). `type` is `ok` (took effect), `fail` (did not take effect) or `info` (unknown).
//! `fail` means the same for every `f`: a cas that ran and found another value is
//! `"type":"ok","output":false`, not `fail` (Porcupine's etcd logs spell it `:fail`; the Jepsen
//! importer translates). An `ok` read's `output` is the value read, `null` for absent, or
//! `{"siblings":["2","5"]}` for a read of replicas that returned several versions; an `ok`
//! cas's `output` is whether it swapped (`true` when left out). `complete` is absent for an
//! operation that never completed. `get`/`put` are accepted for `read`/`write`. `node`, optional,
//! names the node whose answer ended the operation (the simulator writes it; pictures show it,
//! checkers ignore it).
//!
//! A transaction (model `multi-register`) is `"f":"txn","value":[["r","x"],["w","y",2]]`, and an
//! `ok` one's `output` lists what each step returned (`[1,null]`: the read saw 1, the write
//! returns nothing; a read of `null` constrains nothing, as in Knossos); left out, every read is
//! unknown. A mutex's operations are `"f":"acquire"` and `"f":"release"`, with no value.
//!
//! The reader is our own small JSON parser so that every error, syntax or meaning, names a line
//! and a column.

use std::fmt::Write as _;

use super::builder::Kind;
use super::datum::{Cursor, Datum, Node, ParseError, Pos, number};
use super::{
    Call, History, Micro, ModelKind, ModelSpec, Operation, Outcome, Output, TimeUnit, Value,
};

/// The `format` tag that identifies the file.
///
/// ```
/// use sim::node::history::{History, TimeUnit};
/// use sim::workload::history::json::{FORMAT, to_json};
/// let text = to_json(&History { ops: vec![], time_unit: TimeUnit::Nanos, model: None });
/// assert!(text.starts_with(&format!("{{\"format\":\"{FORMAT}\"")), "{text}");
/// ```
pub const FORMAT: &str = "sim-history";
/// The only version so far.
///
/// ```
/// use sim::node::history::{History, TimeUnit};
/// use sim::workload::history::json::{VERSION, to_json};
/// let text = to_json(&History { ops: vec![], time_unit: TimeUnit::Event, model: None });
/// let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
/// assert_eq!(doc["version"], VERSION);
/// ```
pub const VERSION: i64 = 1;

/// The history as `sim-history` JSON (module docs), ending with a newline.
///
/// ```
/// use sim::node::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
/// use sim::workload::history::json::{parse, to_json};
/// let op = Operation {
///     process: 0,
///     key: Some("x".into()),
///     call: Call::Write(Value::Str("c0-1".into())),
///     invoke: 5,
///     complete: Some(9),
///     outcome: Outcome::Ok(Output::Done),
///     node: None,
/// };
/// let history = History { ops: vec![op], time_unit: TimeUnit::Nanos, model: None };
/// // Written and read back: the same history.
/// assert_eq!(parse(&to_json(&history))?, history);
/// # Ok::<(), sim::workload::history::datum::ParseError>(())
/// ```
pub fn to_json(history: &History) -> String {
    let mut out = String::new();
    let unit = match history.time_unit {
        TimeUnit::Nanos => "ns",
        TimeUnit::Event => "event",
    };
    let model = history.model.as_ref().map_or("null".to_string(), |m| {
        let init = m.init.as_ref().map_or("null".to_string(), value_json);
        format!("{{\"kind\":\"{}\",\"init\":{init}}}", model_name(m.kind))
    });
    let _ = write!(
        out,
        "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"time_unit\":\"{unit}\",\"model\":{model},\"ops\":["
    );
    for (i, op) in history.ops.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        op_json(&mut out, op);
    }
    out.push_str("\n]}\n");
    out
}

/// The `kind` spelling of a model, as `--model` also takes it.
///
/// ```
/// use sim::node::history::ModelKind;
/// use sim::workload::history::json::{model_kind, model_name};
/// assert_eq!(model_name(ModelKind::CasRegister), "cas-register");
/// assert_eq!(model_kind(model_name(ModelKind::Mutex)), Some(ModelKind::Mutex));
/// ```
pub fn model_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Register => "register",
        ModelKind::CasRegister => "cas-register",
        ModelKind::Kv => "kv",
        ModelKind::MultiRegister => "multi-register",
        ModelKind::Mutex => "mutex",
    }
}

fn value_json(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Str(s) => serde_json::Value::String(s.clone()).to_string(),
    }
}

fn key_json(k: &str) -> String {
    value_json(&Value::Str(k.to_string()))
}

fn op_json(out: &mut String, op: &Operation) {
    let _ = write!(out, "{{\"process\":{}", op.process);
    if let Some(key) = &op.key {
        let _ = write!(out, ",\"key\":{}", value_json(&Value::Str(key.clone())));
    }
    let _ = write!(out, ",\"f\":\"{}\"", Kind::of(&op.call).name());
    match &op.call {
        Call::Read => {}
        Call::Write(v) | Call::Append(v) => {
            let _ = write!(out, ",\"value\":{}", value_json(v));
        }
        Call::Cas { from, to } => {
            let _ = write!(out, ",\"value\":[{},{}]", value_json(from), value_json(to));
        }
        Call::Txn(steps) => {
            let steps: Vec<String> = steps
                .iter()
                .map(|step| match step {
                    Micro::Read(k) => format!("[\"r\",{}]", key_json(k)),
                    Micro::Write(k, v) => format!("[\"w\",{},{}]", key_json(k), value_json(v)),
                })
                .collect();
            let _ = write!(out, ",\"value\":[{}]", steps.join(","));
        }
        Call::Acquire | Call::Release | Call::ReadAll => {}
        Call::Transfer { from, to, amount } => {
            let _ = write!(out, ",\"value\":[{from},{to},{amount}]");
        }
    }
    let _ = write!(out, ",\"invoke\":{}", op.invoke);
    if let Some(c) = op.complete {
        let _ = write!(out, ",\"complete\":{c}");
    }
    let (typ, output) = match &op.outcome {
        Outcome::Ok(Output::Value(v)) => ("ok", Some(v.as_ref().map_or("null".into(), value_json))),
        Outcome::Ok(Output::Cas(swapped)) => ("ok", Some(swapped.to_string())),
        Outcome::Ok(Output::Txn(seen)) => {
            let seen: Vec<String> = seen
                .iter()
                .map(|v| v.as_ref().map_or("null".into(), value_json))
                .collect();
            ("ok", Some(format!("[{}]", seen.join(","))))
        }
        Outcome::Ok(Output::Siblings(vs)) => {
            let vs: Vec<String> = vs.iter().map(value_json).collect();
            ("ok", Some(format!("{{\"siblings\":[{}]}}", vs.join(","))))
        }
        Outcome::Ok(Output::Balances(balances)) => {
            let balances: Vec<String> = balances.iter().map(i64::to_string).collect();
            ("ok", Some(format!("[{}]", balances.join(","))))
        }
        Outcome::Ok(Output::Done) => ("ok", None),
        Outcome::Fail => ("fail", None),
        Outcome::Info => ("info", None),
    };
    let _ = write!(out, ",\"type\":\"{typ}\"");
    if let Some(output) = output {
        let _ = write!(out, ",\"output\":{output}");
    }
    if let Some(node) = &op.node {
        let _ = write!(out, ",\"node\":{}", key_json(node));
    }
    out.push('}');
}

/// Reads a `sim-history` JSON file.
///
/// ```
/// use sim::workload::history::json::parse;
/// let err = parse("{\"format\":\"sim-history\",\"version\":9}").unwrap_err();
/// assert!(err.message.contains("version"), "{}", err.message);
/// ```
pub fn parse(text: &str) -> Result<History, ParseError> {
    let root = read(text)?;
    let Datum::Map(entries) = &root.datum else {
        return Err(root.expected("a JSON object {\"format\":\"sim-history\", ...}"));
    };
    known_keys(entries, &["format", "version", "time_unit", "model", "ops"])?;
    let format = required(&root, "format")?;
    if format.datum != Datum::Str(FORMAT.into()) {
        return Err(format.expected(&format!("\"{FORMAT}\"")));
    }
    let version = required(&root, "version")?;
    if version.datum != Datum::Int(VERSION) {
        return Err(version.expected(&format!("version {VERSION}")));
    }
    let unit = required(&root, "time_unit")?;
    let time_unit = match &unit.datum {
        Datum::Str(s) if s == "ns" => TimeUnit::Nanos,
        Datum::Str(s) if s == "event" => TimeUnit::Event,
        _ => return Err(unit.expected("a time_unit of \"ns\" or \"event\"")),
    };
    let model = match root.get("model") {
        None => None,
        Some(node) if node.datum == Datum::Nil => None,
        Some(node) => Some(model(node)?),
    };
    let ops_node = required(&root, "ops")?;
    let Datum::Seq(items) = &ops_node.datum else {
        return Err(ops_node.expected("an array of operations"));
    };
    let mut ops: Vec<Operation> = Vec::with_capacity(items.len());
    for item in items {
        let op = operation(item)?;
        if let Some(last) = ops.last()
            && op.invoke < last.invoke
        {
            return Err(ParseError::new(
                item.at,
                format!(
                    "expected operations in invocation order: this one is invoked at {}, \
                     before the previous one ({})",
                    op.invoke, last.invoke
                ),
            ));
        }
        ops.push(op);
    }
    Ok(History {
        ops,
        time_unit,
        model,
    })
}

fn required<'a>(map: &'a Node, key: &str) -> Result<&'a Node, ParseError> {
    map.get(key).ok_or_else(|| {
        ParseError::new(map.at, format!("expected a \"{key}\" field in this object"))
    })
}

/// Rejects misspelt fields: a dropped `"output"` would change the verdict silently.
fn known_keys(entries: &[(Node, Node)], known: &[&str]) -> Result<(), ParseError> {
    for (k, _) in entries {
        match &k.datum {
            Datum::Str(s) if known.contains(&s.as_str()) => {}
            _ => {
                return Err(k.expected(&format!("one of the fields {}", known.join(", "))));
            }
        }
    }
    Ok(())
}

fn model(node: &Node) -> Result<ModelSpec, ParseError> {
    let Datum::Map(entries) = &node.datum else {
        return Err(node.expected("a model object {\"kind\":..., \"init\":...}"));
    };
    known_keys(entries, &["kind", "init"])?;
    let kind_node = required(node, "kind")?;
    let kind = match &kind_node.datum {
        Datum::Str(s) => model_kind(s),
        _ => None,
    }
    .ok_or_else(|| {
        kind_node.expected(
            "a model kind: \"register\", \"cas-register\", \"kv\", \"multi-register\" or \"mutex\"",
        )
    })?;
    let init = match node.get("init") {
        None => None,
        Some(n) if n.datum == Datum::Nil => None,
        Some(n) => Some(value(n)?),
    };
    Ok(ModelSpec { kind, init })
}

/// A model kind by name (`register`, `cas-register`, `kv`, `multi-register`, `mutex`).
///
/// ```
/// use sim::node::history::ModelKind;
/// use sim::workload::history::json::model_kind;
/// assert_eq!(model_kind("kv"), Some(ModelKind::Kv));
/// assert_eq!(model_kind("queue"), None);
/// ```
pub fn model_kind(name: &str) -> Option<ModelKind> {
    match name {
        "register" => Some(ModelKind::Register),
        "cas-register" => Some(ModelKind::CasRegister),
        "kv" => Some(ModelKind::Kv),
        "multi-register" => Some(ModelKind::MultiRegister),
        "mutex" => Some(ModelKind::Mutex),
        _ => None,
    }
}

fn value(node: &Node) -> Result<Value, ParseError> {
    match &node.datum {
        Datum::Int(i) => Ok(Value::Int(*i)),
        Datum::Str(s) => Ok(Value::Str(s.clone())),
        _ => Err(node.expected("a value (an integer or a string)")),
    }
}

fn time(node: &Node) -> Result<u64, ParseError> {
    match &node.datum {
        Datum::Int(i) if *i >= 0 => Ok(*i as u64),
        _ => Err(node.expected("a time (a non-negative integer)")),
    }
}

const F_NAMES: &str = "an f of \"read\", \"write\", \"append\", \"cas\", \"txn\", \"acquire\", \"release\", \
     \"transfer\" or \"read-all\"";

const OP_FIELDS: [&str; 9] = [
    "process", "key", "f", "value", "invoke", "complete", "type", "output", "node",
];

fn operation(node: &Node) -> Result<Operation, ParseError> {
    let Datum::Map(entries) = &node.datum else {
        return Err(node.expected("an operation object {\"process\":..., \"f\":..., ...}"));
    };
    known_keys(entries, &OP_FIELDS)?;
    let process = time(required(node, "process")?)
        .map_err(|e| ParseError::new(e.at, e.message.replace("a time", "a process number")))?;
    let key = match node.get("key") {
        None => None,
        Some(n) => match &n.datum {
            Datum::Str(s) => Some(s.clone()),
            Datum::Nil => None,
            _ => return Err(n.expected("a key (a string)")),
        },
    };
    let f_node = required(node, "f")?;
    let kind = match &f_node.datum {
        Datum::Str(s) => match s.as_str() {
            "read" | "get" => Some(Kind::Read),
            "write" | "put" => Some(Kind::Write),
            "append" => Some(Kind::Append),
            "cas" => Some(Kind::Cas),
            "txn" => Some(Kind::Txn),
            "acquire" => Some(Kind::Acquire),
            "release" => Some(Kind::Release),
            "transfer" => Some(Kind::Transfer),
            "read-all" => Some(Kind::ReadAll),
            _ => None,
        },
        _ => None,
    }
    .ok_or_else(|| f_node.expected(F_NAMES))?;
    let call = call(node, kind)?;
    let invoke = time(required(node, "invoke")?)?;
    let complete = match node.get("complete") {
        None => None,
        Some(n) if n.datum == Datum::Nil => None,
        Some(n) => {
            let c = time(n)?;
            if c < invoke {
                return Err(ParseError::new(
                    n.at,
                    format!(
                        "expected a completion at or after the invocation ({invoke}), found {c}"
                    ),
                ));
            }
            Some(c)
        }
    };
    let outcome = outcome(node, kind, &call)?;
    if complete.is_none() && outcome != Outcome::Info {
        return Err(ParseError::new(
            node.at,
            "expected a \"complete\" time: only an \"info\" operation may lack one",
        ));
    }
    // Optional (the simulator writes it since histories named their nodes): who answered.
    let answered_by = match node.get("node") {
        None => None,
        Some(n) => match &n.datum {
            Datum::Str(s) => Some(s.clone()),
            Datum::Nil => None,
            _ => return Err(n.expected("a node name (a string)")),
        },
    };
    Ok(Operation {
        process,
        key,
        call,
        invoke,
        complete,
        outcome,
        node: answered_by,
    })
}

fn call(node: &Node, kind: Kind) -> Result<Call, ParseError> {
    let v = node.get("value");
    let needed = || {
        ParseError::new(
            node.at,
            format!("expected a \"value\" for the {}", kind.name()),
        )
    };
    Ok(match kind {
        Kind::Read => {
            if let Some(v) = v.filter(|v| v.datum != Datum::Nil) {
                return Err(v.expected("no value for a read (its result goes in \"output\")"));
            }
            Call::Read
        }
        Kind::Write => Call::Write(value(v.ok_or_else(needed)?)?),
        Kind::Append => Call::Append(value(v.ok_or_else(needed)?)?),
        Kind::Cas => {
            let v = v.ok_or_else(needed)?;
            match &v.datum {
                Datum::Seq(pair) if pair.len() == 2 => Call::Cas {
                    from: value(&pair[0])?,
                    to: value(&pair[1])?,
                },
                _ => return Err(v.expected("a cas value [from, to]")),
            }
        }
        Kind::Txn => Call::Txn(steps(v.ok_or_else(needed)?)?),
        Kind::Transfer => {
            let v = v.ok_or_else(needed)?;
            let number = |n: &Node| match n.datum {
                Datum::Int(i) if i >= 0 => Ok(i as u64),
                _ => Err(n.expected("a non-negative integer")),
            };
            match &v.datum {
                Datum::Seq(parts) if parts.len() == 3 => Call::Transfer {
                    from: u32::try_from(number(&parts[0])?)
                        .map_err(|_| parts[0].expected("an account number"))?,
                    to: u32::try_from(number(&parts[1])?)
                        .map_err(|_| parts[1].expected("an account number"))?,
                    amount: number(&parts[2])?,
                },
                _ => return Err(v.expected("a transfer value [from, to, amount]")),
            }
        }
        Kind::ReadAll => {
            if let Some(v) = v.filter(|v| v.datum != Datum::Nil) {
                return Err(v.expected("no value for a read-all (its result goes in \"output\")"));
            }
            Call::ReadAll
        }
        Kind::Acquire | Kind::Release => {
            if let Some(v) = v.filter(|v| v.datum != Datum::Nil) {
                return Err(v.expected(&format!("no value for an {}", kind.name())));
            }
            if kind == Kind::Acquire {
                Call::Acquire
            } else {
                Call::Release
            }
        }
    })
}

/// A transaction's steps: `[["r","x"],["w","y",2]]`.
fn steps(node: &Node) -> Result<Vec<Micro>, ParseError> {
    let Datum::Seq(items) = &node.datum else {
        return Err(
            node.expected("a transaction: an array of [\"r\", key] and [\"w\", key, value]")
        );
    };
    items
        .iter()
        .map(|item| {
            let parts = match &item.datum {
                Datum::Seq(parts) => parts.as_slice(),
                _ => &[],
            };
            match parts {
                [f, k] if f.datum == Datum::Str("r".into()) => Ok(Micro::Read(key_of(k)?)),
                [f, k, v] if f.datum == Datum::Str("w".into()) => {
                    Ok(Micro::Write(key_of(k)?, value(v)?))
                }
                _ => Err(item.expected("a step [\"r\", key] or [\"w\", key, value]")),
            }
        })
        .collect()
}

fn key_of(node: &Node) -> Result<String, ParseError> {
    match &node.datum {
        Datum::Str(s) => Ok(s.clone()),
        _ => Err(node.expected("a key (a string)")),
    }
}

fn outcome(node: &Node, kind: Kind, call: &Call) -> Result<Outcome, ParseError> {
    let type_node = required(node, "type")?;
    let output = node.get("output");
    let typ = match &type_node.datum {
        Datum::Str(s) if matches!(s.as_str(), "ok" | "fail" | "info") => s.as_str(),
        _ => return Err(type_node.expected("a type of \"ok\", \"fail\" or \"info\"")),
    };
    if typ != "ok" {
        if let Some(o) = output {
            return Err(o.expected(&format!("no output: a \"{typ}\" operation has none")));
        }
        return Ok(if typ == "fail" {
            Outcome::Fail
        } else {
            Outcome::Info
        });
    }
    Ok(Outcome::Ok(match kind {
        Kind::Read => {
            let o = output.ok_or_else(|| {
                ParseError::new(
                    node.at,
                    "expected an \"output\" for an ok read: the value read, null for absent, or {\"siblings\": [..]}",
                )
            })?;
            match &o.datum {
                Datum::Nil => Output::Value(None),
                Datum::Map(entries) => {
                    known_keys(entries, &["siblings"])?;
                    let vs = required(o, "siblings")?;
                    match &vs.datum {
                        Datum::Seq(items) if items.len() >= 2 => Output::Siblings(
                            items.iter().map(value).collect::<Result<Vec<Value>, _>>()?,
                        ),
                        _ => {
                            return Err(
                                vs.expected("an array of at least two values (a read's siblings)")
                            );
                        }
                    }
                }
                _ => Output::Value(Some(value(o)?)),
            }
        }
        Kind::Cas => match output.map(|o| (o, &o.datum)) {
            None => Output::Cas(true),
            Some((_, Datum::Bool(b))) => Output::Cas(*b),
            Some((o, _)) => return Err(o.expected("a cas output: true (swapped) or false")),
        },
        Kind::ReadAll => {
            let o = output.ok_or_else(|| {
                ParseError::new(
                    node.at,
                    "expected an \"output\" for an ok read-all: every account's balance",
                )
            })?;
            let Datum::Seq(items) = &o.datum else {
                return Err(o.expected("an array of balances (integers)"));
            };
            let balances = items
                .iter()
                .map(|b| match b.datum {
                    Datum::Int(i) => Ok(i),
                    _ => Err(b.expected("a balance (an integer)")),
                })
                .collect::<Result<Vec<i64>, ParseError>>()?;
            Output::Balances(balances)
        }
        Kind::Write | Kind::Append | Kind::Acquire | Kind::Release | Kind::Transfer => {
            if let Some(o) = output {
                return Err(o.expected(&format!("no output for an ok {}", kind.name())));
            }
            Output::Done
        }
        Kind::Txn => {
            let Call::Txn(steps) = call else {
                unreachable!("a txn kind is a txn call")
            };
            let Some(o) = output else {
                return Ok(Outcome::Ok(Output::Txn(vec![None; steps.len()])));
            };
            let seen = match &o.datum {
                Datum::Seq(items) if items.len() == steps.len() => items,
                _ => {
                    return Err(o.expected(&format!(
                        "a txn output: an array of {} values, one per step (null for a write)",
                        steps.len()
                    )));
                }
            };
            let mut out = Vec::with_capacity(seen.len());
            for (step, v) in steps.iter().zip(seen) {
                out.push(match (step, &v.datum) {
                    (_, Datum::Nil) => None,
                    (Micro::Read(_), _) => Some(value(v)?),
                    (Micro::Write(..), _) => {
                        return Err(v.expected("null: a write returns nothing"));
                    }
                });
            }
            Output::Txn(out)
        }
    }))
}

/// Parses one JSON document into a positioned tree.
fn read(text: &str) -> Result<Node, ParseError> {
    let mut cur = Cursor::new(text);
    let node = json_value(&mut cur)?;
    skip_ws(&mut cur);
    if cur.peek().is_some() {
        return Err(ParseError::new(
            cur.pos(),
            "expected the end of the file after the JSON object",
        ));
    }
    Ok(node)
}

fn skip_ws(cur: &mut Cursor<'_>) {
    cur.take_while(char::is_whitespace);
}

fn json_value(cur: &mut Cursor<'_>) -> Result<Node, ParseError> {
    skip_ws(cur);
    let at = cur.pos();
    // Arrays and objects recurse once per level: a level too deep is refused, not a stack
    // overflow.
    let nests = matches!(cur.peek(), Some('[' | '{'));
    if nests {
        cur.enter(at)?;
    }
    let node = json_value_here(cur, at);
    if nests {
        cur.leave();
    }
    node
}

fn json_value_here(cur: &mut Cursor<'_>, at: Pos) -> Result<Node, ParseError> {
    let datum = match cur.peek() {
        None => {
            return Err(ParseError::new(
                at,
                "expected a JSON value, found the end of the file",
            ));
        }
        Some('{') => object(cur, at)?,
        Some('[') => {
            cur.bump();
            Datum::Seq(items(cur, ']', json_value)?)
        }
        Some('"') => Datum::Str(string(cur)?),
        Some(c) if c == '-' || c.is_ascii_digit() => {
            let token =
                cur.take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'));
            number(&token, at)?
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let word = cur.take_while(|c| c.is_ascii_alphanumeric());
            match word.as_str() {
                "null" => Datum::Nil,
                "true" => Datum::Bool(true),
                "false" => Datum::Bool(false),
                _ => {
                    return Err(ParseError::new(
                        at,
                        format!("expected a JSON value, found `{word}`"),
                    ));
                }
            }
        }
        Some(c) => {
            return Err(ParseError::new(
                at,
                format!("expected a JSON value, found `{c}`"),
            ));
        }
    };
    Ok(Node { at, datum })
}

/// Comma-separated items up to `close`; the opening bracket is already consumed.
fn items<T>(
    cur: &mut Cursor<'_>,
    close: char,
    mut item: impl FnMut(&mut Cursor<'_>) -> Result<T, ParseError>,
) -> Result<Vec<T>, ParseError> {
    let mut out = Vec::new();
    skip_ws(cur);
    if cur.peek() == Some(close) {
        cur.bump();
        return Ok(out);
    }
    loop {
        out.push(item(cur)?);
        skip_ws(cur);
        match cur.peek() {
            Some(',') => {
                cur.bump();
            }
            Some(c) if c == close => {
                cur.bump();
                return Ok(out);
            }
            found => {
                let found = found.map_or("the end of the file".to_string(), |c| format!("`{c}`"));
                return Err(ParseError::new(
                    cur.pos(),
                    format!("expected `,` or `{close}`, found {found}"),
                ));
            }
        }
    }
}

fn object(cur: &mut Cursor<'_>, at: Pos) -> Result<Datum, ParseError> {
    cur.bump();
    let entries = items(cur, '}', |cur| {
        skip_ws(cur);
        let key_at = cur.pos();
        if cur.peek() != Some('"') {
            return Err(ParseError::new(
                key_at,
                "expected a field name in double quotes",
            ));
        }
        let key = Node {
            at: key_at,
            datum: Datum::Str(string(cur)?),
        };
        skip_ws(cur);
        if cur.bump() != Some(':') {
            return Err(ParseError::new(
                cur.pos(),
                "expected `:` after the field name",
            ));
        }
        Ok((key, json_value(cur)?))
    })?;
    for (i, (k, _)) in entries.iter().enumerate() {
        if entries[..i]
            .iter()
            .any(|(earlier, _)| earlier.datum == k.datum)
        {
            return Err(ParseError::new(
                k.at,
                format!("expected each field once; {} repeats", k.describe()),
            ));
        }
    }
    let _ = at;
    Ok(Datum::Map(entries))
}

fn string(cur: &mut Cursor<'_>) -> Result<String, ParseError> {
    let at = cur.pos();
    cur.bump();
    let mut out = String::new();
    loop {
        let here = cur.pos();
        match cur.bump() {
            None | Some('\n') => {
                return Err(ParseError::new(
                    at,
                    "expected a closing `\"` for this string",
                ));
            }
            Some('"') => return Ok(out),
            Some('\\') => out.push(escape(cur, here)?),
            Some(c) => out.push(c),
        }
    }
}

fn escape(cur: &mut Cursor<'_>, at: Pos) -> Result<char, ParseError> {
    let bad = || {
        ParseError::new(
            at,
            "expected an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX",
        )
    };
    Ok(match cur.bump().ok_or_else(bad)? {
        '"' => '"',
        '\\' => '\\',
        '/' => '/',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let high = hex4(cur, at)?;
            if (0xD800..0xDC00).contains(&high) {
                // A surrogate pair: `\uD83D\uDE00`.
                if cur.bump() != Some('\\') || cur.bump() != Some('u') {
                    return Err(ParseError::new(
                        at,
                        "expected a low surrogate `\\uDC00`..`\\uDFFF` after a high one",
                    ));
                }
                let low = hex4(cur, at)?;
                let code = 0x10000 + ((high - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                char::from_u32(code).ok_or_else(bad)?
            } else {
                char::from_u32(high).ok_or_else(bad)?
            }
        }
        _ => return Err(bad()),
    })
}

fn hex4(cur: &mut Cursor<'_>, at: Pos) -> Result<u32, ParseError> {
    let hex: String = (0..4).filter_map(|_| cur.bump()).collect();
    u32::from_str_radix(&hex, 16)
        .map_err(|_| ParseError::new(at, "expected four hex digits after `\\u`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> History {
        let op = |process, key: Option<&str>, call, invoke, complete, outcome| Operation {
            process,
            key: key.map(str::to_string),
            call,
            invoke,
            complete,
            outcome,
            node: None,
        };
        let s = |v: &str| Value::Str(v.into());
        History {
            ops: vec![
                op(
                    0,
                    Some("x"),
                    Call::Write(s("a\"b\n")),
                    10,
                    Some(20),
                    Outcome::Ok(Output::Done),
                ),
                op(
                    1,
                    Some("x"),
                    Call::Read,
                    11,
                    Some(25),
                    Outcome::Ok(Output::Value(Some(s("a\"b\n")))),
                ),
                op(
                    2,
                    Some("y"),
                    Call::Read,
                    12,
                    Some(13),
                    Outcome::Ok(Output::Value(None)),
                ),
                op(
                    3,
                    Some("x"),
                    Call::Cas {
                        from: s("a"),
                        to: s("b"),
                    },
                    14,
                    Some(30),
                    Outcome::Ok(Output::Cas(false)),
                ),
                op(
                    4,
                    None,
                    Call::Cas {
                        from: Value::Int(1),
                        to: Value::Int(-2),
                    },
                    15,
                    Some(31),
                    Outcome::Ok(Output::Cas(true)),
                ),
                op(
                    5,
                    Some("é✓"),
                    Call::Append(s("z")),
                    16,
                    Some(17),
                    Outcome::Fail,
                ),
                op(
                    6,
                    Some("x"),
                    Call::Cas {
                        from: s("a"),
                        to: s("c"),
                    },
                    18,
                    Some(40),
                    Outcome::Fail,
                ),
                op(
                    7,
                    Some("x"),
                    Call::Write(Value::Int(7)),
                    19,
                    Some(50),
                    Outcome::Info,
                ),
                op(8, Some("x"), Call::Read, 20, None, Outcome::Info),
            ],
            time_unit: TimeUnit::Nanos,
            model: Some(ModelSpec {
                kind: ModelKind::Kv,
                init: Some(s("")),
            }),
        }
    }

    #[test]
    fn write_then_read_gives_back_the_same_history_and_the_same_bytes() {
        let h = sample();
        let text = to_json(&h);
        let back = parse(&text).expect("our own output parses");
        assert_eq!(back, h);
        assert_eq!(to_json(&back), text);
        let no_model = History {
            model: None,
            time_unit: TimeUnit::Event,
            ops: vec![],
        };
        assert_eq!(parse(&to_json(&no_model)).unwrap(), no_model);
    }

    #[test]
    fn the_output_has_one_operation_per_line_in_a_fixed_field_order() {
        let text = to_json(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"format":"sim-history","version":1,"time_unit":"ns","model":{"kind":"kv","init":""},"ops":["#
        );
        assert_eq!(
            lines[4],
            r#"{"process":3,"key":"x","f":"cas","value":["a","b"],"invoke":14,"complete":30,"type":"ok","output":false},"#
        );
        assert_eq!(
            lines[9],
            r#"{"process":8,"key":"x","f":"read","invoke":20,"type":"info"}"#
        );
        assert_eq!(lines.len(), 11);
    }

    #[test]
    fn the_answering_node_is_optional_written_last_and_read_back() {
        let mut h = sample();
        h.ops[0].node = Some("D".into());
        let text = to_json(&h);
        let first = text.lines().nth(1).unwrap();
        assert!(first.ends_with(r#","node":"D"},"#), "{first}");
        assert_eq!(text.matches("\"node\"").count(), 1, "left out when unknown");
        assert_eq!(parse(&text).unwrap(), h);
        assert_eq!(
            error(
                r#"{"process":0,"f":"write","value":1,"invoke":0,"complete":1,"type":"ok","node":3}"#
            ),
            "2:79: expected a node name (a string), found the integer 3"
        );
    }

    #[test]
    fn hand_written_files_may_use_aliases_and_leave_out_a_swapped_cas_output() {
        let h = parse(
            r#"{"format":"sim-history","version":1,"time_unit":"event","ops":[
                {"process":0,"f":"put","value":1,"invoke":0,"complete":1,"type":"ok"},
                {"process":0,"f":"cas","value":[1,2],"invoke":2,"complete":3,"type":"ok"},
                {"process":0,"f":"get","invoke":4,"complete":5,"type":"ok","output":2}]}"#,
        )
        .unwrap();
        assert_eq!(h.model, None);
        assert_eq!(h.ops[0].call, Call::Write(Value::Int(1)));
        assert_eq!(h.ops[1].outcome, Outcome::Ok(Output::Cas(true)));
        assert_eq!(
            h.ops[2].outcome,
            Outcome::Ok(Output::Value(Some(Value::Int(2))))
        );
    }

    #[test]
    fn bank_transfers_and_reads_round_trip() {
        let text = r#"{"format":"sim-history","version":1,"time_unit":"ns","model":null,"ops":[
{"process":0,"f":"transfer","value":[0,1,100],"invoke":0,"complete":3,"type":"ok"},
{"process":1,"f":"read-all","invoke":1,"complete":4,"type":"ok","output":[0,200]},
{"process":2,"f":"transfer","value":[1,0,500],"invoke":2,"complete":5,"type":"fail"}
]}
"#;
        let h = parse(text).unwrap();
        assert_eq!(
            h.ops[0].call,
            Call::Transfer {
                from: 0,
                to: 1,
                amount: 100
            }
        );
        assert_eq!(
            h.ops[1].outcome,
            Outcome::Ok(Output::Balances(vec![0, 200]))
        );
        assert_eq!(to_json(&h), text);
        let bad = text.replace("[0,1,100]", "[0,1]");
        assert_eq!(
            parse(&bad).unwrap_err().to_string(),
            "2:37: expected a transfer value [from, to, amount], found a sequence"
        );
    }

    #[test]
    fn a_read_of_siblings_round_trips_and_needs_two_values() {
        let text = r#"{"format":"sim-history","version":1,"time_unit":"ns","model":null,"ops":[
{"process":0,"key":"x","f":"read","invoke":0,"complete":3,"type":"ok","output":{"siblings":["2","5"]}}
]}
"#;
        let h = parse(text).unwrap();
        assert_eq!(
            h.ops[0].outcome,
            Outcome::Ok(Output::Siblings(vec![
                Value::Str("2".into()),
                Value::Str("5".into())
            ]))
        );
        assert_eq!(to_json(&h), text);
        let one = text.replace(r#"["2","5"]"#, r#"["2"]"#);
        assert!(
            parse(&one)
                .unwrap_err()
                .to_string()
                .contains("expected an array of at least two values (a read's siblings)"),
            "one sibling is a plain value"
        );
        let other = text.replace("siblings", "versions");
        assert!(parse(&other).is_err(), "an unknown key in a read's output");
    }

    #[test]
    fn transactions_and_mutex_operations_round_trip() {
        let text = r#"{"format":"sim-history","version":1,"time_unit":"event","model":{"kind":"multi-register","init":null},"ops":[
{"process":0,"f":"txn","value":[["r","x"],["w","y",2]],"invoke":0,"complete":3,"type":"ok","output":[1,null]},
{"process":1,"f":"txn","value":[["w","x",1]],"invoke":1,"type":"info"},
{"process":2,"f":"acquire","invoke":2,"complete":4,"type":"ok"},
{"process":3,"f":"release","invoke":5,"complete":6,"type":"fail"}
]}
"#;
        let h = parse(text).unwrap();
        assert_eq!(h.model.as_ref().unwrap().kind, ModelKind::MultiRegister);
        assert_eq!(
            h.ops[0].outcome,
            Outcome::Ok(Output::Txn(vec![Some(Value::Int(1)), None]))
        );
        assert_eq!(h.ops[2].call, Call::Acquire);
        assert_eq!(to_json(&h), text);
        let bad = text.replace("\"output\":[1,null]", "\"output\":[1]");
        assert_eq!(
            parse(&bad).unwrap_err().to_string(),
            "2:101: expected a txn output: an array of 2 values, one per step (null for a write), found a sequence"
        );
    }

    fn error(ops: &str) -> String {
        let text = format!(
            "{{\"format\":\"sim-history\",\"version\":1,\"time_unit\":\"ns\",\"ops\":[\n{ops}]}}"
        );
        parse(&text).expect_err("rejected").to_string()
    }

    #[test]
    fn errors_name_the_line_and_column_and_what_was_expected() {
        assert_eq!(
            error(r#"{"process":0,"f":"frob","invoke":0,"complete":1,"type":"ok"}"#),
            r#"2:18: expected an f of "read", "write", "append", "cas", "txn", "acquire", "release", "transfer" or "read-all", found the string "frob""#
        );
        assert_eq!(
            error(r#"{"process":0,"f":"read","invoke":0,"complete":1,"type":"ok"}"#),
            r#"2:1: expected an "output" for an ok read: the value read, null for absent, or {"siblings": [..]}"#
        );
        assert_eq!(
            error(
                r#"{"process":0,"f":"write","value":1,"invoke":0,"complete":1,"type":"fail","ouput":3}"#
            ),
            "2:74: expected one of the fields process, key, f, value, invoke, complete, type, output, node, found the string \"ouput\""
        );
        assert_eq!(
            error(r#"{"process":0,"f":"cas","value":[1],"invoke":0,"complete":1,"type":"ok"}"#),
            "2:32: expected a cas value [from, to], found a sequence"
        );
        assert_eq!(
            error(r#"{"process":0,"f":"write","value":1,"invoke":5,"complete":1,"type":"ok"}"#),
            "2:58: expected a completion at or after the invocation (5), found 1"
        );
        assert_eq!(
            error(r#"{"process":0,"f":"write","value":1,"invoke":5,"type":"ok"}"#),
            "2:1: expected a \"complete\" time: only an \"info\" operation may lack one"
        );
        assert_eq!(
            error(r#"{"process":0 "f":"read"}"#),
            "2:14: expected `,` or `}`, found `\"`"
        );
        assert_eq!(
            parse(r#"{"format":"jepsen","version":1}"#)
                .unwrap_err()
                .to_string(),
            r#"1:11: expected "sim-history", found the string "jepsen""#
        );
        assert_eq!(
            parse("{\"format\":\"sim-history\",\n\"format\":1}")
                .unwrap_err()
                .to_string(),
            "2:1: expected each field once; the string \"format\" repeats"
        );
    }
}
