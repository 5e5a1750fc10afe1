//! Narration: a run's trace (`sim-trace` lines, see `run::trace_file`) told one event per line,
//! in words — "B → A Ping(seq 3) delivered after 1.4ms",
//! "C's election timer fired", "client 2 put k1=c2-1 → ok".
//!
//! The rule it keeps: it reads the trace format only and knows no protocol. A new protocol is
//! narrated the day it exists, its messages in a generic `Name(field value, …)` form; one that
//! tells its messages better does so in its own folder (`Protocol::narrate_message`), found
//! through the protocol catalogue by the trace's protocol name (its header's, or the scenario's
//! for `sim replay`). A protocol the catalogue does not know (a trace written by a program with
//! protocols of its own) is told generically.
//! Messages are paired with their sends by id, so a delivery says how long it travelled even
//! when the send lies before the window shown.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::node::time::{NANOS_PER_MICRO, NANOS_PER_MILLI, NANOS_PER_SEC};
use crate::node::{Nanos, format_duration, format_local_instant};
use crate::protocols::{ProtocolInfo, catalog};

/// One event of the trace, told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Told {
    /// The record's position in the trace.
    pub(crate) seq: u64,
    /// True virtual time, in nanoseconds.
    #[serde(rename = "t_ns")]
    pub(crate) at: Nanos,
    /// The trace record's kind (`send`, `deliver`, `timer`, `fault`, …).
    pub(crate) kind: String,
    /// The nodes the event happens at or travels between (for `--node`).
    pub(crate) nodes: Vec<String>,
    /// The event in one sentence, with node names, e.g. `B → A AppendEntries(…) delivered after
    /// 1.4ms`.
    pub(crate) text: String,
}

impl Told {
    /// Whether the event happens at `node` or travels to or from it.
    pub(crate) fn involves(&self, node: &str) -> bool {
        self.nodes.iter().any(|n| n == node)
    }
}

/// A message on its way: when it left and what it says.
struct InFlight {
    at: Nanos,
    /// `B → A AppendEntries(…)` or `client 2 → A put k=v (#3)`.
    text: String,
}

/// Turns trace lines into [`Told`] events, remembering sends and invocations so that later
/// events can name what they are about.
pub(crate) struct Narrator {
    /// Node names, by index: ids inside messages and replies are indices.
    nodes: Vec<String>,
    /// The trace's protocol, when the catalogue knows it: it may tell its own messages.
    protocol: Option<ProtocolInfo>,
    /// Node-to-node messages by id.
    messages: BTreeMap<u64, InFlight>,
    /// Client requests and replies by id (their own records: `request`, `reply`).
    client_messages: BTreeMap<u64, InFlight>,
    /// (client, operation number) → the operation in words.
    ops: BTreeMap<(u64, u64), String>,
}

impl Narrator {
    /// A narrator for a trace of `protocol` run by `nodes`: the protocol's own narration of its
    /// messages if the catalogue knows it, the generic one otherwise.
    pub(crate) fn new(protocol: &str, nodes: &[String]) -> Self {
        Narrator::with(find(protocol), nodes)
    }

    /// A narrator that learns the protocol and the nodes from the trace's header line, for a
    /// whole `trace.jsonl` read from its first line; generic until then.
    #[cfg(test)]
    pub(crate) fn from_header() -> Self {
        Narrator::with(None, &[])
    }

    fn with(protocol: Option<ProtocolInfo>, nodes: &[String]) -> Self {
        Narrator {
            nodes: nodes.to_vec(),
            protocol,
            messages: BTreeMap::new(),
            client_messages: BTreeMap::new(),
            ops: BTreeMap::new(),
        }
    }

    /// One trace line told; `None` for the header, the footer and lines that are not records.
    /// The header is not told but read: it names the protocol and the nodes.
    pub(crate) fn tell(&mut self, line: &str) -> Option<Told> {
        let record: Value = serde_json::from_str(line).ok()?;
        let r = record.as_object()?;
        if r.get("format").and_then(Value::as_str) == Some(crate::run::trace_file::FORMAT) {
            self.read_header(r);
            return None;
        }
        let kind = r.get("kind")?.as_str()?.to_string();
        let seq = r.get("seq")?.as_u64()?;
        let at = r.get("t")?.as_u64()?;
        let (nodes, text) = self.event(&kind, r, at);
        Some(Told {
            seq,
            at,
            kind,
            nodes,
            text,
        })
    }

    fn read_header(&mut self, header: &Map<String, Value>) {
        if let Some(protocol) = header.get("protocol").and_then(Value::as_str) {
            self.protocol = find(protocol);
        }
        if header.get("nodes").is_some_and(Value::is_array) {
            self.nodes = strings(header.get("nodes"));
        }
    }

    /// A message in words: as its protocol tells it, or as `Name(field value, …)`.
    fn message(&self, msg: &Value) -> String {
        self.protocol
            .as_ref()
            .and_then(|p| (p.narrate_message)(msg, &self.nodes))
            .unwrap_or_else(|| message(msg))
    }

    fn event(&mut self, kind: &str, r: &Map<String, Value>, at: Nanos) -> (Vec<String>, String) {
        let node = text_of(r, "node");
        match kind {
            "start" if r.get("restart").and_then(Value::as_bool) == Some(true) => {
                (vec![node.clone()], format!("{node} restarts"))
            }
            "start" => (vec![node.clone()], format!("{node} starts")),
            "send" => self.send(r, at),
            "deliver" => {
                let from = text_of(r, "from");
                let text = arrival(&self.messages, r, at, || format!("{from} → {node} message"));
                (vec![from, node], text)
            }
            "drop" => {
                let from = text_of(r, "from");
                let what = travelling(&self.messages, r, || format!("{from} → {node} message"));
                let text = format!("{what} dropped: {}", drop_reason(r, &node));
                (vec![from, node], text)
            }
            "timer" => {
                let timer = r.get("timer").map_or_else(|| "?".into(), timer_name);
                (vec![node.clone()], format!("{node}'s {timer} timer fired"))
            }
            "observe" => {
                let obs = r.get("obs").cloned().unwrap_or(Value::Null);
                (vec![node.clone()], self.observation(&node, &obs))
            }
            "fault" => (strings(r.get("nodes")), fault(r)),
            // A protocol's own fact, in the generic `Name(field value, …)` form.
            "fact" => {
                let fact = r.get("fact").map_or_else(|| "?".into(), message);
                (vec![node.clone()], format!("{node} states {fact}"))
            }
            _ => self.client_event(kind, r, at),
        }
    }

    fn send(&mut self, r: &Map<String, Value>, at: Nanos) -> (Vec<String>, String) {
        let (from, to) = (text_of(r, "node"), text_of(r, "to"));
        let msg = r.get("msg").map_or_else(|| "?".into(), |m| self.message(m));
        let text = format!("{from} → {to} {msg}");
        if let Some(id) = r.get("id").and_then(Value::as_u64) {
            self.messages.insert(
                id,
                InFlight {
                    at,
                    text: text.clone(),
                },
            );
        }
        (vec![from, to], format!("{text} sent"))
    }

    fn client_event(
        &mut self,
        kind: &str,
        r: &Map<String, Value>,
        at: Nanos,
    ) -> (Vec<String>, String) {
        let client = r.get("client").and_then(Value::as_u64).unwrap_or(0);
        let req = r.get("req").and_then(Value::as_u64).unwrap_or(0);
        let node = text_of(r, "node");
        let op = |ops: &BTreeMap<(u64, u64), String>| {
            ops.get(&(client, req))
                .cloned()
                .unwrap_or_else(|| format!("operation #{req}"))
        };
        match kind {
            "invoke" => {
                let text = r.get("op").map_or_else(|| "?".into(), operation);
                self.ops.insert((client, req), text.clone());
                (vec![], format!("client {client} invokes {text} (#{req})"))
            }
            "request" => {
                let to = text_of(r, "to");
                let text = format!("client {client} → {to} {} (#{req})", op(&self.ops));
                self.remember_client_message(r, at, &text);
                (vec![to], format!("{text} sent"))
            }
            "request_deliver" => {
                let text = arrival(&self.client_messages, r, at, || {
                    format!("client {client} → {node} request")
                });
                (vec![node], text)
            }
            "reply" => {
                let answer = r.get("reply").map_or_else(|| "?".into(), |v| self.reply(v));
                let text = format!("{node} → client {client} {answer} (#{req})");
                self.remember_client_message(r, at, &text);
                (vec![node], format!("{text} sent"))
            }
            "reply_deliver" => {
                let from = text_of(r, "from");
                let text = arrival(&self.client_messages, r, at, || {
                    format!("{from} → client {client} reply")
                });
                (vec![from], text)
            }
            "client_drop" => {
                let what = travelling(&self.client_messages, r, || {
                    format!("client {client} ↔ {node} message")
                });
                (
                    vec![node.clone()],
                    format!("{what} dropped: {}", drop_reason(r, &node)),
                )
            }
            "complete" => {
                let result = r.get("result").map_or_else(|| "?".into(), completion);
                (
                    vec![],
                    format!("client {client} {} → {result} (#{req})", op(&self.ops)),
                )
            }
            other => (
                node_list(&node),
                format!("{other} {}", Value::Object(r.clone())),
            ),
        }
    }

    fn remember_client_message(&mut self, r: &Map<String, Value>, at: Nanos, text: &str) {
        if let Some(id) = r.get("id").and_then(Value::as_u64) {
            self.client_messages.insert(
                id,
                InFlight {
                    at,
                    text: text.to_string(),
                },
            );
        }
    }

    fn observation(&self, node: &str, obs: &Value) -> String {
        let field = |k: &str| obs.get(k).and_then(Value::as_u64).unwrap_or(0);
        let term = field("term");
        match obs.get("type").and_then(Value::as_str).unwrap_or("") {
            "role" => match obs.get("role").and_then(Value::as_str).unwrap_or("?") {
                "leader" => format!("{node} becomes leader of term {term}"),
                "candidate" => format!("{node} stands for election in term {term}"),
                // A pre-candidate stays in its term and asks about the next one (thesis §9.6).
                "pre_candidate" => format!(
                    "{node} asks for pre-votes for term {}, still in term {term}",
                    term + 1
                ),
                "follower" => format!("{node} is a follower in term {term}"),
                "master" => format!("{node} is master (epoch {term})"),
                "standby" => format!("{node} is standby (epoch {term})"),
                other => format!("{node} is {other} in term {term}"),
            },
            "authority" => match obs.get("until").and_then(Value::as_i64) {
                Some(until) => format!(
                    "{node} holds write authority in term {term} until its clock reads {}",
                    format_local_instant(until)
                ),
                None => format!("{node} holds write authority in term {term}"),
            },
            "suspect" => format!("{node} suspects {}", text_of_value(obs, "peer")),
            "trust" => format!("{node} trusts {} again", text_of_value(obs, "peer")),
            "appended" => format!(
                "{node} appends index {} (term {term}) to its log",
                field("index")
            ),
            "committed" => format!(
                "{node} commits through index {} (term {term})",
                field("index")
            ),
            "applied" => format!("{node} applies index {} (term {term})", field("index")),
            "voted" => format!(
                "{node} votes for {} in term {term}",
                text_of_value(obs, "candidate")
            ),
            _ => format!("{node} observes {obs}"),
        }
    }

    /// A node's answer to a client, in words.
    fn reply(&self, reply: &Value) -> String {
        match reply.get("reply").and_then(Value::as_str).unwrap_or("") {
            "ok" => format!("ok{}", result_words(reply)),
            "not_leader" => match reply.get("leader").and_then(Value::as_u64) {
                Some(i) => format!(
                    "not leader (try {})",
                    self.nodes.get(i as usize).map_or("?", String::as_str)
                ),
                None => "not leader (leader unknown)".to_string(),
            },
            "fail" => format!("fail: {}", text_of_value(reply, "reason")),
            _ => reply.to_string(),
        }
    }
}

/// `B → A AppendEntries(…) delivered after 1.4ms`, from the remembered send.
fn arrival(
    sent: &BTreeMap<u64, InFlight>,
    r: &Map<String, Value>,
    at: Nanos,
    unknown: impl FnOnce() -> String,
) -> String {
    match r
        .get("id")
        .and_then(Value::as_u64)
        .and_then(|id| sent.get(&id))
    {
        Some(m) => format!(
            "{} delivered after {}",
            m.text,
            short_duration(at.saturating_sub(m.at))
        ),
        None => format!("{} delivered", unknown()),
    }
}

/// What a message id refers to, or a fallback when its send is not in the trace.
fn travelling(
    sent: &BTreeMap<u64, InFlight>,
    r: &Map<String, Value>,
    unknown: impl FnOnce() -> String,
) -> String {
    r.get("id")
        .and_then(Value::as_u64)
        .and_then(|id| sent.get(&id))
        .map_or_else(unknown, |m| m.text.clone())
}

fn drop_reason(r: &Map<String, Value>, node: &str) -> String {
    match r.get("reason").and_then(Value::as_str).unwrap_or("") {
        "loss" => "lost by the network".to_string(),
        "partition" => "the partition cuts the link".to_string(),
        "node_down" => format!("{node} is down"),
        "crashed_while_paused" => format!("{node} crashed while paused, before reading it"),
        other => other.to_string(),
    }
}

fn fault(r: &Map<String, Value>) -> String {
    let mut text = text_of(r, "text");
    if let Some(ns) = r.get("for_ns").and_then(Value::as_u64) {
        text += &format!(" for {}", format_duration(ns));
    }
    match r.get("origin") {
        Some(Value::String(s)) if s == "nemesis" => text += " (nemesis)",
        Some(Value::Object(o)) if o.contains_key("nemesis") => text += " (nemesis)",
        _ => {}
    }
    text
}

/// The catalogued protocol called `name`, if any.
fn find(name: &str) -> Option<ProtocolInfo> {
    catalog().into_iter().find(|p| p.name == name)
}

/// A message in the generic form: `Name(field value, …)` for an enum variant with fields, the
/// name for one without, `message(…)` for a bare struct, whose trace form has no name.
fn message(msg: &Value) -> String {
    if let Some((name, body)) = single_entry(msg) {
        return format!("{}{}", pascal(name), fields(body));
    }
    match msg {
        Value::String(name) => pascal(name),
        Value::Object(_) => format!("message{}", fields(msg)),
        other => other.to_string(),
    }
}

/// `{"name": {...}}`: an externally tagged enum variant.
fn single_entry(v: &Value) -> Option<(&str, &Value)> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    let (k, body) = o.iter().next()?;
    body.is_object().then_some((k.as_str(), body))
}

fn fields(body: &Value) -> String {
    let Some(o) = body.as_object() else {
        return format!("({body})");
    };
    let parts: Vec<String> = o
        .iter()
        .map(
            |(k, v)| match (k.strip_suffix("_ns"), v.as_u64(), v.as_i64()) {
                // Times are nanoseconds on the wire; a reader wants `2.000s` and `150ms`.
                (Some(name), Some(ns), _) => {
                    format!("{} {}", name.replace('_', " "), format_duration(ns))
                }
                (None, _, Some(t)) if k.ends_with("_at") => {
                    format!("{} {}", k.replace('_', " "), format_local_instant(t))
                }
                _ => format!("{} {}", k.replace('_', " "), field_value(v)),
            },
        )
        .collect();
    format!("({})", parts.join(", "))
}

fn field_value(v: &Value) -> String {
    match v {
        Value::Null => "none".to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.len() == 1 => "1 item".to_string(),
        Value::Array(a) => format!("{} items", a.len()),
        other => other.to_string(),
    }
}

/// `grant_lease` → `GrantLease`; `Ping` stays.
fn pascal(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// `"election"` → `election`; `"Tick"` → `tick`; `{"retry": 3}` → `retry 3`.
fn timer_name(timer: &Value) -> String {
    match timer {
        Value::String(s) => words(s),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{} {}", words(k), field_value(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// `check_quorum`, `CheckQuorum` → `check quorum`.
fn words(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c == '_' {
            out.push(' ');
        } else if c.is_uppercase() {
            if i > 0 && !out.ends_with(' ') {
                out.push(' ');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A key-value operation in words: `get k1`, `put k1=v`, `append k1+=v`, `cas k1 a→b`.
fn operation(op: &Value) -> String {
    let s = |k: &str| text_of_value(op, k);
    match op.get("f").and_then(Value::as_str).unwrap_or("") {
        "get" => format!("get {}", s("key")),
        "put" => format!("put {}={}", s("key"), s("value")),
        "append" => format!("append {}+={}", s("key"), s("value")),
        "cas" => format!("cas {} {}→{}", s("key"), s("expect"), s("new")),
        _ => op.to_string(),
    }
}

/// What an operation's result adds after `ok`: `, read v`, `, swapped`.
fn result_words(result: &Value) -> String {
    match result.get("result").and_then(Value::as_str).unwrap_or("") {
        "value" => match result.get("value").and_then(Value::as_str) {
            Some(v) => format!(", read {v}"),
            None => ", read nothing (absent)".to_string(),
        },
        "cas" if result.get("swapped").and_then(Value::as_bool) == Some(true) => {
            ", swapped".to_string()
        }
        "cas" => ", not swapped".to_string(),
        _ => String::new(),
    }
}

/// How an operation ended, as its client saw it.
fn completion(result: &Value) -> String {
    match result.get("outcome").and_then(Value::as_str).unwrap_or("") {
        "ok" => format!("ok{}", result_words(result)),
        "fail" => format!("fail: {}", text_of_value(result, "reason")),
        "info" => "info (timed out: it may or may not have happened)".to_string(),
        _ => result.to_string(),
    }
}

fn text_of(r: &Map<String, Value>, key: &str) -> String {
    match r.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".to_string(),
    }
}

fn text_of_value(v: &Value, key: &str) -> String {
    v.as_object()
        .map_or_else(|| "?".to_string(), |o| text_of(o, key))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn node_list(node: &str) -> Vec<String> {
    if node == "?" {
        vec![]
    } else {
        vec![node.to_string()]
    }
}

/// An instant of true time to the microsecond: `2.147166s`.
pub(crate) fn instant(ns: Nanos) -> String {
    format!(
        "{}.{:06}s",
        ns / NANOS_PER_SEC,
        (ns % NANOS_PER_SEC) / NANOS_PER_MICRO
    )
}

/// A travel time, to a tenth of its unit: `850ns`, `12.5us`, `4.1ms`, `1.2s`.
fn short_duration(ns: Nanos) -> String {
    let (scale, unit) = if ns < NANOS_PER_MICRO {
        return format!("{ns}ns");
    } else if ns < NANOS_PER_MILLI {
        (NANOS_PER_MICRO, "us")
    } else if ns < NANOS_PER_SEC {
        (NANOS_PER_MILLI, "ms")
    } else {
        (NANOS_PER_SEC, "s")
    };
    let tenths = ns / (scale / 10);
    format!("{}.{}{unit}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No build of sim has a protocol by this name: its traces are told generically.
    const UNKNOWN: &str = "a-protocol-this-build-does-not-know";

    fn names() -> Vec<String> {
        ["A", "B", "C"].map(String::from).to_vec()
    }

    fn narrator() -> Narrator {
        Narrator::new(UNKNOWN, &names())
    }

    fn tell_all(lines: &[&str]) -> Vec<String> {
        let mut n = narrator();
        lines
            .iter()
            .filter_map(|l| n.tell(l))
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn a_delivery_names_its_message_and_how_long_it_travelled() {
        let told = tell_all(&[
            r#"{"format":"sim-trace","version":1}"#,
            r#"{"seq":0,"t":1000000,"kind":"send","node":"A","to":"B","id":7,"msg":{"propose":{"ballot":3,"values":[{},{}]}}}"#,
            r#"{"seq":1,"t":5100000,"kind":"deliver","node":"B","from":"A","id":7,"local":5100000}"#,
            r#"{"kind":"end","t":9,"events":2,"trace_hash":"00"}"#,
        ]);
        assert_eq!(
            told,
            [
                "A → B Propose(ballot 3, values 2 items) sent",
                "A → B Propose(ballot 3, values 2 items) delivered after 4.1ms",
            ]
        );
    }

    #[test]
    fn timers_roles_and_drops_read_as_words() {
        let told = tell_all(&[
            r#"{"seq":0,"t":1,"kind":"timer","node":"C","local":1,"timer":"election"}"#,
            r#"{"seq":1,"t":1,"kind":"observe","node":"C","local":1,"obs":{"type":"role","role":"candidate","term":2}}"#,
            r#"{"seq":2,"t":1,"kind":"send","node":"C","to":"A","id":1,"msg":{"ask_vote":{"term":2,"pre_vote":false}}}"#,
            r#"{"seq":3,"t":2,"kind":"drop","node":"A","from":"C","id":1,"reason":"partition"}"#,
            r#"{"seq":4,"t":4,"kind":"observe","node":"C","local":4,"obs":{"type":"role","role":"leader","term":2}}"#,
            r#"{"seq":5,"t":5,"kind":"timer","node":"A","local":5,"timer":"Tick"}"#,
        ]);
        assert_eq!(
            told,
            [
                "C's election timer fired",
                "C stands for election in term 2",
                "C → A AskVote(pre vote false, term 2) sent",
                "C → A AskVote(pre vote false, term 2) dropped: the partition cuts the link",
                "C becomes leader of term 2",
                "A's tick timer fired",
            ]
        );
    }

    /// A stand-in protocol that tells its `coo` messages itself and leaves the rest.
    fn pigeon() -> ProtocolInfo {
        fn narrate(msg: &Value, names: &[String]) -> Option<String> {
            let to = msg.get("coo")?.get("to")?.as_u64()?;
            Some(format!("Coo(to {})", names.get(to as usize)?))
        }
        ProtocolInfo {
            name: "pigeon",
            summary: "a test protocol",
            default_invariants: &[],
            config_schema: || schemars::json_schema!({}),
            invariants: Vec::new,
            narrate_message: narrate,
            workload_kind: "kv",
            workload_schema: || schemars::json_schema!({}),
            linearizable: true,
            traitors: false,
        }
    }

    #[test]
    fn a_protocol_tells_its_own_messages_and_leaves_the_rest_to_the_generic_form() {
        let mut n = Narrator::with(Some(pigeon()), &names());
        let mut tell = |line: &str| n.tell(line).unwrap().text;
        assert_eq!(
            tell(
                r#"{"seq":0,"t":0,"kind":"send","node":"A","to":"B","id":0,"msg":{"coo":{"to":2}}}"#
            ),
            "A → B Coo(to C) sent",
            "the ids inside a message are named from the node list"
        );
        assert_eq!(
            tell(
                r#"{"seq":1,"t":0,"kind":"send","node":"A","to":"B","id":1,"msg":{"flap":{"wings":2}}}"#
            ),
            "A → B Flap(wings 2) sent",
            "None from the protocol: the generic form"
        );
    }

    #[test]
    fn the_header_names_the_protocol_whose_narration_is_used() {
        let header = |protocol: &str| {
            format!(
                r#"{{"format":"sim-trace","version":1,"scenario":"s","file":"s.toml","seed":1,"protocol":"{protocol}","nodes":["A","B","C"],"duration_ns":1}}"#
            )
        };
        for p in catalog() {
            let mut n = Narrator::from_header();
            assert!(
                n.tell(&header(p.name)).is_none(),
                "a header is not an event"
            );
            assert_eq!(n.protocol.map(|info| info.name), Some(p.name));
            assert_eq!(n.nodes, names());
        }
        // Narrator::new finds the same entry by name.
        for p in catalog() {
            assert_eq!(
                Narrator::new(p.name, &names()).protocol.map(|i| i.name),
                Some(p.name)
            );
        }
    }

    #[test]
    fn a_trace_of_a_protocol_not_in_the_catalogue_is_narrated_generically() {
        // A trace written by a program with protocols of its own, read by a build without them:
        // nothing to look up, nothing to panic about.
        let header = format!(
            r#"{{"format":"sim-trace","version":1,"protocol":"{UNKNOWN}","nodes":["X","Y"]}}"#
        );
        let mut n = Narrator::from_header();
        assert!(n.tell(&header).is_none());
        assert!(n.protocol.is_none());
        let told = n
            .tell(r#"{"seq":0,"t":0,"kind":"send","node":"X","to":"Y","id":0,"msg":{"sent_at":2000000000,"seq":21}}"#)
            .unwrap();
        assert_eq!(told.text, "X → Y message(sent at 2.000s, seq 21) sent");
        // A header without a protocol, or with one of another type, is as harmless.
        let mut n = Narrator::from_header();
        for line in [
            r#"{"format":"sim-trace","version":1}"#,
            r#"{"format":"sim-trace","version":1,"protocol":7,"nodes":"A"}"#,
        ] {
            assert!(n.tell(line).is_none());
            assert!(n.protocol.is_none());
        }
    }

    #[test]
    fn a_protocol_s_own_fact_is_told_as_the_node_stating_it() {
        let told = tell_all(&[
            r#"{"seq":0,"t":1,"kind":"fact","node":"B","local":1,"fact":{"claimed":{"slot":0}}}"#,
            r#"{"seq":1,"t":2,"kind":"fact","node":"C","local":2,"fact":"aborted"}"#,
        ]);
        assert_eq!(told, ["B states Claimed(slot 0)", "C states Aborted"]);
    }

    #[test]
    fn a_pre_candidate_asks_about_the_next_term() {
        let told = tell_all(&[
            r#"{"seq":0,"t":1,"kind":"observe","node":"C","local":1,"obs":{"type":"role","role":"pre_candidate","term":1}}"#,
        ]);
        assert_eq!(told, ["C asks for pre-votes for term 2, still in term 1"]);
    }

    #[test]
    fn faults_say_what_happened_and_for_how_long() {
        let told = tell_all(&[
            r#"{"seq":0,"t":2000000000,"kind":"fault","fault":"partition","text":"partition {A,B} | {C}","written":"x","origin":{"schedule":0},"nodes":["A","B","C"],"for_ns":4000000000}"#,
            r#"{"seq":1,"t":3000000000,"kind":"fault","fault":"pause","text":"pause B","written":"x","origin":"nemesis","nodes":["B"]}"#,
        ]);
        assert_eq!(told, ["partition {A,B} | {C} for 4s", "pause B (nemesis)"]);
    }

    #[test]
    fn client_operations_are_told_from_invocation_to_completion() {
        let told = tell_all(&[
            r#"{"seq":0,"t":0,"kind":"invoke","client":2,"req":1,"op":{"f":"put","key":"k1","value":"c2-1"}}"#,
            r#"{"seq":1,"t":0,"kind":"request","client":2,"to":"A","id":0,"req":1}"#,
            r#"{"seq":2,"t":2000,"kind":"request_deliver","client":2,"node":"A","id":0,"local":2000}"#,
            r#"{"seq":3,"t":2000,"kind":"reply","client":2,"node":"A","id":1,"req":1,"reply":{"reply":"not_leader","leader":2}}"#,
            r#"{"seq":4,"t":9000,"kind":"client_drop","client":2,"node":"A","id":1,"dir":"reply","reason":"loss"}"#,
            r#"{"seq":5,"t":9000,"kind":"complete","client":2,"req":1,"result":{"outcome":"ok","result":"done"}}"#,
            r#"{"seq":6,"t":9000,"kind":"invoke","client":0,"req":4,"op":{"f":"cas","key":"k","expect":"a","new":"b"}}"#,
            r#"{"seq":7,"t":9000,"kind":"complete","client":0,"req":4,"result":{"outcome":"info"}}"#,
        ]);
        assert_eq!(
            told,
            [
                "client 2 invokes put k1=c2-1 (#1)",
                "client 2 → A put k1=c2-1 (#1) sent",
                "client 2 → A put k1=c2-1 (#1) delivered after 2.0us",
                "A → client 2 not leader (try C) (#1) sent",
                "A → client 2 not leader (try C) (#1) dropped: lost by the network",
                "client 2 put k1=c2-1 → ok (#1)",
                "client 0 invokes cas k a→b (#4)",
                "client 0 cas k a→b → info (timed out: it may or may not have happened) (#4)",
            ]
        );
    }

    #[test]
    fn unknown_messages_fall_back_to_their_fields() {
        let told = tell_all(&[
            r#"{"seq":0,"t":0,"kind":"send","node":"A","to":"B","id":0,"msg":{"Ping":{"seq":3}}}"#,
            r#"{"seq":1,"t":0,"kind":"send","node":"A","to":"B","id":1,"msg":{"seq":4,"round":10}}"#,
            r#"{"seq":2,"t":0,"kind":"send","node":"A","to":"B","id":2,"msg":"hello_there"}"#,
        ]);
        assert_eq!(
            told,
            [
                "A → B Ping(seq 3) sent",
                "A → B message(round 10, seq 4) sent",
                "A → B HelloThere sent",
            ]
        );
    }

    #[test]
    fn times_inside_messages_are_human_readable() {
        let told = tell_all(&[
            r#"{"seq":0,"t":2000000000,"kind":"send","node":"B","to":"A","id":0,"msg":{"sent_at":2000000000,"seq":21}}"#,
            r#"{"seq":1,"t":2001500000,"kind":"deliver","node":"A","from":"B","id":0}"#,
            r#"{"seq":2,"t":0,"kind":"send","node":"A","to":"B","id":1,"msg":{"lease":{"lease_ns":150000000,"renewed_at":-2500000}}}"#,
        ]);
        assert_eq!(
            told,
            [
                "B → A message(sent at 2.000s, seq 21) sent",
                "B → A message(sent at 2.000s, seq 21) delivered after 1.5ms",
                "A → B Lease(lease 150ms, renewed at -0.002s) sent",
            ]
        );
    }

    #[test]
    fn events_know_which_nodes_they_touch() {
        let mut n = narrator();
        let send = n
            .tell(r#"{"seq":0,"t":0,"kind":"send","node":"A","to":"B","id":0,"msg":"x"}"#)
            .unwrap();
        assert!(send.involves("A") && send.involves("B") && !send.involves("C"));
        let invoke = n
            .tell(
                r#"{"seq":1,"t":0,"kind":"invoke","client":0,"req":1,"op":{"f":"get","key":"k"}}"#,
            )
            .unwrap();
        assert!(invoke.nodes.is_empty());
    }

    #[test]
    fn times_are_printed_to_the_microsecond_and_travel_to_a_tenth() {
        assert_eq!(instant(2_147_862_345), "2.147862s");
        assert_eq!(short_duration(850), "850ns");
        assert_eq!(short_duration(4_150_000), "4.1ms");
        assert_eq!(short_duration(1_250_000_000), "1.2s");
    }
}
