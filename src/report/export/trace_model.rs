//! `trace.jsonl` read back into the one model every picture draws from.
//!
//! The model knows no protocol: participants are the header's nodes in cluster order, then the
//! clients (`c0`, `c1`, …) in index order; a message is named by its JSON tag
//! (`{"request_vote":{…}}` is `request_vote`, with ` t3` when it carries a `term`), a role by its
//! role observation, a client's request by the operation it carries. Records of kinds this reader
//! does not know are skipped, since the format only grows (`run/trace_file.rs`). A node message and
//! a client message may share a number, so a message is named by (client link or not, id); a
//! duplicated message has one send and may have two deliveries.
//!
//! Strings that repeat (message kinds, roles, reasons) are interned as [`Label`]s, so the model of
//! an hour-long run (1.3 million records) stays a few tens of megabytes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::node::Nanos;

/// A participant: an index into [`Trace::names`] (the nodes in cluster order, then the clients).
pub(crate) type Who = u32;
/// An interned string: an index into [`Trace::labels`].
pub(crate) type Label = u32;

/// A message: whether it travels on a client link, and its id (the two id spaces overlap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct MsgId {
    pub(crate) client_link: bool,
    pub(crate) id: u64,
}

/// What happened at one participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum What {
    /// The node started (or restarted from its disk).
    Start { restart: bool },
    /// A message left for `to`; `label` names it.
    Send { to: Who, id: MsgId, label: Label },
    /// A message from `from` arrived.
    Deliver { from: Who, id: MsgId },
    /// A message from `from` to this participant was lost; `reason` says why.
    Drop { from: Who, id: MsgId, reason: Label },
    /// A timer fired.
    Timer { timer: Label },
    /// The node reported a role.
    Role { role: Label, term: Option<u64> },
    /// A fault: an index into [`Trace::faults`]; the event's participant is its first node.
    Fault { fault: usize },
    /// A client invoked an operation.
    Invoke { req: u64, op: Label },
    /// A client's operation completed with `outcome`.
    Complete { req: u64, outcome: Label },
}

/// One record of the trace that a picture can draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    /// The record's position in the trace (`seq`).
    pub(crate) seq: u64,
    /// True time, in nanoseconds.
    pub(crate) t: Nanos,
    /// Where it happened.
    pub(crate) who: Who,
    pub(crate) what: What,
}

/// A fault as the trace records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub(crate) t: Nanos,
    /// Its kind: `partition`, `pause`, `crash`, `heal`, …
    pub(crate) kind: String,
    /// What happened, with names: `pause B`.
    pub(crate) text: String,
    /// As the scenario wrote it: `pause leader`.
    pub(crate) written: String,
    /// The nodes it touched (none for a heal of everything).
    pub(crate) nodes: Vec<Who>,
    /// How long it lasts, when it is timed.
    pub(crate) lasting: Option<Nanos>,
}

/// A whole trace, ready to draw.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    pub(crate) scenario: String,
    pub(crate) protocol: String,
    pub(crate) seed: u64,
    /// How many of [`Trace::names`] are nodes; the rest are clients.
    pub(crate) nodes: usize,
    /// Participant names: nodes, then `c0`, `c1`, …
    pub(crate) names: Vec<String>,
    pub(crate) events: Vec<Event>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) labels: Vec<String>,
    /// Where virtual time stopped: the `end` record's time, or the last record's.
    pub(crate) end: Nanos,
    /// The `end` record's hash; none when the trace was cut short (a panicked run).
    pub(crate) trace_hash: Option<String>,
    /// Records in the file, including those no picture draws.
    pub(crate) records: u64,
    /// The scenario's `[teaching] narration`, from the header: (time, text) in time order.
    pub(crate) narration: Vec<(Nanos, String)>,
    interned: BTreeMap<String, Label>,
}

impl Trace {
    /// The text of a label.
    pub(crate) fn label(&self, l: Label) -> &str {
        &self.labels[l as usize]
    }

    /// A participant's name.
    pub(crate) fn name(&self, who: Who) -> &str {
        &self.names[who as usize]
    }

    /// Whether a participant is a client.
    pub(crate) fn is_client(&self, who: Who) -> bool {
        who as usize >= self.nodes
    }

    fn intern(&mut self, text: &str) -> Label {
        if let Some(&l) = self.interned.get(text) {
            return l;
        }
        let l = Label::try_from(self.labels.len()).expect("fewer than 2^32 distinct labels");
        self.labels.push(text.to_string());
        self.interned.insert(text.to_string(), l);
        l
    }

    /// The label of each message, by id: what a delivery or a drop is called.
    pub(crate) fn message_labels(&self) -> BTreeMap<MsgId, Label> {
        self.events
            .iter()
            .filter_map(|e| match e.what {
                What::Send { id, label, .. } => Some((id, label)),
                _ => None,
            })
            .collect()
    }

    /// A record in a few words: a step's name in Perfetto, a note in Mermaid, an event in ShiViz.
    pub(crate) fn describe(&self, labels: &BTreeMap<MsgId, Label>, what: &What) -> String {
        let trace = self;
        let msg = |id: &MsgId| labels.get(id).map_or("message", |&l| trace.label(l));
        match what {
            What::Start { restart: false } => "start".to_string(),
            What::Start { restart: true } => "restart".to_string(),
            What::Send { to, label, .. } => {
                format!("send {} to {}", trace.label(*label), trace.name(*to))
            }
            What::Deliver { from, id } => format!("recv {} from {}", msg(id), trace.name(*from)),
            What::Drop { from, id, reason } => format!(
                "lost {} from {} ({})",
                msg(id),
                trace.name(*from),
                trace.label(*reason)
            ),
            What::Timer { timer } => format!("timer {}", trace.label(*timer)),
            What::Role { role, term } => match term {
                Some(t) => format!("becomes {} t{t}", trace.label(*role)),
                None => format!("becomes {}", trace.label(*role)),
            },
            What::Fault { fault } => {
                let f = &trace.faults[*fault];
                if f.written.is_empty() || f.written == f.text {
                    format!("fault: {}", f.text)
                } else {
                    format!("fault: {} ({})", f.text, f.written)
                }
            }
            What::Invoke { req, op } => format!("invoke #{req} {}", trace.label(*op)),
            What::Complete { req, outcome } => format!("complete #{req} {}", trace.label(*outcome)),
        }
    }

    /// Deliveries in the trace (node and client links), each one an arrow in every picture.
    #[cfg(test)]
    pub(crate) fn deliveries(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e.what, What::Deliver { .. }))
            .count()
    }
}

/// One line of `trace.jsonl`, every key optional: which ones a kind needs is checked per kind.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    t: Option<u64>,
    seq: Option<u64>,
    #[serde(borrow)]
    node: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to: Option<Cow<'a, str>>,
    #[serde(borrow)]
    from: Option<Cow<'a, str>>,
    id: Option<u64>,
    client: Option<u64>,
    req: Option<u64>,
    restart: Option<bool>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    dir: Option<Cow<'a, str>>,
    msg: Option<Value>,
    timer: Option<Value>,
    obs: Option<Value>,
    op: Option<Value>,
    reply: Option<Value>,
    result: Option<Value>,
    fault: Option<Value>,
    text: Option<String>,
    written: Option<String>,
    nodes: Option<Vec<String>>,
    for_ns: Option<u64>,
    trace_hash: Option<String>,
}

/// The header line.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    scenario: Option<String>,
    protocol: Option<String>,
    seed: Option<u64>,
    nodes: Option<Vec<String>>,
    #[serde(default)]
    narration: Vec<NarrationLine>,
}

/// A `narration` entry of the header.
#[derive(Deserialize)]
struct NarrationLine {
    at: Nanos,
    text: String,
}

/// Reads `path` (a `trace.jsonl`); a bad file is an error naming `file:line:col` and what was
/// expected.
pub(crate) fn read(path: &Path) -> Result<Trace, String> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let mut reader = Reader::new(&shown);
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{shown}:{}: cannot read: {e}", i + 1))?;
        reader.line(i + 1, &line)?;
    }
    reader.finish()
}

/// Reads a trace held in memory (tests, and `read`'s work line by line).
#[cfg(test)]
pub(crate) fn parse(shown: &str, text: &str) -> Result<Trace, String> {
    let mut reader = Reader::new(shown);
    for (i, line) in text.lines().enumerate() {
        reader.line(i + 1, line)?;
    }
    reader.finish()
}

struct Reader<'p> {
    path: &'p str,
    trace: Trace,
    header: bool,
    by_name: BTreeMap<String, Who>,
    clients: u64,
    /// Each client's operations by number, for the label of its requests.
    ops: BTreeMap<(u64, u64), Label>,
    /// The latest time read: where the run stopped when the `end` record is missing.
    last_t: Nanos,
}

/// Client indices are stored as `CLIENT | index` until the number of nodes is added at the end.
const CLIENT: Who = 1 << 31;

impl<'p> Reader<'p> {
    fn new(path: &'p str) -> Self {
        Reader {
            path,
            trace: Trace::default(),
            header: false,
            by_name: BTreeMap::new(),
            clients: 0,
            ops: BTreeMap::new(),
            last_t: 0,
        }
    }

    fn err(&self, line: usize, col: usize, what: impl std::fmt::Display) -> String {
        format!("{}:{line}:{col}: {what}", self.path)
    }

    fn line(&mut self, n: usize, text: &str) -> Result<(), String> {
        if text.trim().is_empty() {
            return Ok(());
        }
        if !self.header {
            return self.read_header(n, text);
        }
        let l: Line<'_> = serde_json::from_str(text).map_err(|e| {
            self.err(
                n,
                e.column().max(1),
                format!(
                    "expected one JSON object per line: {}",
                    without_position(&e)
                ),
            )
        })?;
        self.trace.records += 1;
        let kind = l.kind.as_deref().ok_or_else(|| {
            self.err(
                n,
                1,
                "a record without `kind` (expected start, send, deliver, …)",
            )
        })?;
        if kind == "end" {
            self.trace.trace_hash = l.trace_hash.clone();
            self.trace.end = l.t.unwrap_or(self.last_t);
            self.trace.records -= 1;
            return Ok(());
        }
        let t = l.t.ok_or_else(|| {
            self.err(
                n,
                1,
                format!("a `{kind}` record without `t` (its time in ns)"),
            )
        })?;
        self.last_t = self.last_t.max(t);
        let seq = l.seq.unwrap_or(self.trace.records - 1);
        let Some((who, what)) = self.what(n, kind, &l)? else {
            return Ok(());
        };
        self.trace.events.push(Event { seq, t, who, what });
        Ok(())
    }

    fn read_header(&mut self, n: usize, text: &str) -> Result<(), String> {
        let expected = "expected the sim-trace header ({\"format\":\"sim-trace\",\"version\":1,\"nodes\":[…],…})";
        let h: Header = serde_json::from_str(text).map_err(|e| {
            self.err(
                n,
                e.column().max(1),
                format!("{expected}: {}", without_position(&e)),
            )
        })?;
        if h.format.as_deref() != Some(crate::run::trace_file::FORMAT) {
            return Err(self.err(n, 1, format!("{expected}, found another first line")));
        }
        let nodes = h
            .nodes
            .ok_or_else(|| self.err(n, 1, "the header has no `nodes` (the node names)"))?;
        for (i, name) in nodes.iter().enumerate() {
            self.by_name.insert(name.clone(), i as Who);
        }
        self.trace.nodes = nodes.len();
        self.trace.names = nodes;
        self.trace.scenario = h.scenario.unwrap_or_default();
        self.trace.protocol = h.protocol.unwrap_or_default();
        self.trace.seed = h.seed.unwrap_or_default();
        self.trace.narration = h.narration.into_iter().map(|l| (l.at, l.text)).collect();
        self.header = true;
        Ok(())
    }

    fn node(
        &self,
        n: usize,
        kind: &str,
        key: &str,
        name: Option<&Cow<'_, str>>,
    ) -> Result<Who, String> {
        let name = name.ok_or_else(|| {
            self.err(
                n,
                1,
                format!("a `{kind}` record without `{key}` (a node name)"),
            )
        })?;
        self.by_name.get(name.as_ref()).copied().ok_or_else(|| {
            self.err(
                n,
                1,
                format!(
                    "`{key}` names `{name}`, which is not a node of the header ({})",
                    self.trace.names.join(", ")
                ),
            )
        })
    }

    fn client(&mut self, n: usize, kind: &str, l: &Line<'_>) -> Result<Who, String> {
        let c = l.client.ok_or_else(|| {
            self.err(
                n,
                1,
                format!("a `{kind}` record without `client` (its index)"),
            )
        })?;
        if c >= u64::from(CLIENT) {
            return Err(self.err(n, 1, format!("client index {c} is out of range")));
        }
        self.clients = self.clients.max(c + 1);
        Ok(CLIENT | c as Who)
    }

    fn need<T: Copy>(&self, n: usize, kind: &str, key: &str, v: Option<T>) -> Result<T, String> {
        v.ok_or_else(|| self.err(n, 1, format!("a `{kind}` record without `{key}`")))
    }

    fn what(&mut self, n: usize, kind: &str, l: &Line<'_>) -> Result<Option<(Who, What)>, String> {
        let node_msg = |id| MsgId {
            client_link: false,
            id,
        };
        let client_msg = |id| MsgId {
            client_link: true,
            id,
        };
        Ok(Some(match kind {
            "start" => (
                self.node(n, kind, "node", l.node.as_ref())?,
                What::Start {
                    restart: l.restart.unwrap_or(false),
                },
            ),
            "send" => {
                let who = self.node(n, kind, "node", l.node.as_ref())?;
                let to = self.node(n, kind, "to", l.to.as_ref())?;
                let id = self.need(n, kind, "id", l.id)?;
                let label = self.intern_summary(l.msg.as_ref(), "message");
                (
                    who,
                    What::Send {
                        to,
                        id: node_msg(id),
                        label,
                    },
                )
            }
            "deliver" => {
                let who = self.node(n, kind, "node", l.node.as_ref())?;
                let from = self.node(n, kind, "from", l.from.as_ref())?;
                let id = self.need(n, kind, "id", l.id)?;
                (
                    who,
                    What::Deliver {
                        from,
                        id: node_msg(id),
                    },
                )
            }
            "drop" => {
                let who = self.node(n, kind, "node", l.node.as_ref())?;
                let from = self.node(n, kind, "from", l.from.as_ref())?;
                let id = self.need(n, kind, "id", l.id)?;
                let reason = self.trace.intern(l.reason.as_deref().unwrap_or("lost"));
                (
                    who,
                    What::Drop {
                        from,
                        id: node_msg(id),
                        reason,
                    },
                )
            }
            "timer" => {
                let who = self.node(n, kind, "node", l.node.as_ref())?;
                let timer = self.intern_summary(l.timer.as_ref(), "timer");
                (who, What::Timer { timer })
            }
            "observe" => {
                let who = self.node(n, kind, "node", l.node.as_ref())?;
                let Some(obs) = &l.obs else { return Ok(None) };
                if obs.get("type").and_then(Value::as_str) != Some("role") {
                    return Ok(None);
                }
                let role = obs.get("role").and_then(Value::as_str).unwrap_or("?");
                let role = self.trace.intern(role);
                let term = obs.get("term").and_then(Value::as_u64);
                (who, What::Role { role, term })
            }
            "fault" => {
                let mut nodes = Vec::new();
                for name in l.nodes.iter().flatten() {
                    let cow = Cow::Borrowed(name.as_str());
                    nodes.push(self.node(n, kind, "nodes", Some(&cow))?);
                }
                let t = l.t.unwrap_or_default();
                let fault = Fault {
                    t,
                    kind: l
                        .fault
                        .as_ref()
                        .and_then(Value::as_str)
                        .unwrap_or("fault")
                        .to_string(),
                    text: l.text.clone().unwrap_or_default(),
                    written: l.written.clone().unwrap_or_default(),
                    nodes,
                    lasting: l.for_ns,
                };
                let who = fault.nodes.first().copied().unwrap_or(0);
                self.trace.faults.push(fault);
                (
                    who,
                    What::Fault {
                        fault: self.trace.faults.len() - 1,
                    },
                )
            }
            "invoke" => {
                let who = self.client(n, kind, l)?;
                let req = self.need(n, kind, "req", l.req)?;
                let op = self.intern_op(l.op.as_ref());
                self.ops.insert((u64::from(who & !CLIENT), req), op);
                (who, What::Invoke { req, op })
            }
            "request" => {
                let who = self.client(n, kind, l)?;
                let to = self.node(n, kind, "to", l.to.as_ref())?;
                let id = self.need(n, kind, "id", l.id)?;
                let req = self.need(n, kind, "req", l.req)?;
                let label = match self.ops.get(&(u64::from(who & !CLIENT), req)) {
                    Some(&op) => op,
                    None => self.trace.intern("request"),
                };
                (
                    who,
                    What::Send {
                        to,
                        id: client_msg(id),
                        label,
                    },
                )
            }
            "request_deliver" => {
                let who = self.node(n, kind, "node", l.node.as_ref())?;
                let from = self.client(n, kind, l)?;
                let id = self.need(n, kind, "id", l.id)?;
                (
                    who,
                    What::Deliver {
                        from,
                        id: client_msg(id),
                    },
                )
            }
            "reply" => {
                let who = self.node(n, kind, "node", l.node.as_ref())?;
                let to = self.client(n, kind, l)?;
                let id = self.need(n, kind, "id", l.id)?;
                let label = self.intern_reply(l.reply.as_ref(), "reply");
                (
                    who,
                    What::Send {
                        to,
                        id: client_msg(id),
                        label,
                    },
                )
            }
            "reply_deliver" => {
                let who = self.client(n, kind, l)?;
                let from = self.node(n, kind, "from", l.from.as_ref())?;
                let id = self.need(n, kind, "id", l.id)?;
                (
                    who,
                    What::Deliver {
                        from,
                        id: client_msg(id),
                    },
                )
            }
            "client_drop" => {
                let client = self.client(n, kind, l)?;
                let node = self.node(n, kind, "node", l.node.as_ref())?;
                let id = self.need(n, kind, "id", l.id)?;
                let reason = self.trace.intern(l.reason.as_deref().unwrap_or("lost"));
                let (who, from) = if l.dir.as_deref() == Some("reply") {
                    (client, node)
                } else {
                    (node, client)
                };
                (
                    who,
                    What::Drop {
                        from,
                        id: client_msg(id),
                        reason,
                    },
                )
            }
            "complete" => {
                let who = self.client(n, kind, l)?;
                let req = self.need(n, kind, "req", l.req)?;
                let outcome = self.intern_reply(l.result.as_ref(), "complete");
                (who, What::Complete { req, outcome })
            }
            _ => return Ok(None),
        }))
    }

    fn intern_summary(&mut self, v: Option<&Value>, otherwise: &str) -> Label {
        let text = v.map_or_else(|| otherwise.to_string(), |v| summary(v, otherwise));
        self.trace.intern(&text)
    }

    fn intern_op(&mut self, op: Option<&Value>) -> Label {
        let text = op.map_or_else(|| "operation".to_string(), operation);
        self.trace.intern(&text)
    }

    fn intern_reply(&mut self, v: Option<&Value>, otherwise: &str) -> Label {
        let text = v.map_or_else(|| otherwise.to_string(), |v| reply(v, otherwise));
        self.trace.intern(&text)
    }

    fn finish(mut self) -> Result<Trace, String> {
        if !self.header {
            return Err(self.err(1, 1, "an empty file: expected the sim-trace header line"));
        }
        let nodes = self.trace.nodes as Who;
        for e in &mut self.trace.events {
            let fix = |w: &mut Who| {
                if *w & CLIENT != 0 {
                    *w = nodes + (*w & !CLIENT);
                }
            };
            fix(&mut e.who);
            match &mut e.what {
                What::Send { to: w, .. }
                | What::Deliver { from: w, .. }
                | What::Drop { from: w, .. } => fix(w),
                _ => {}
            }
        }
        for c in 0..self.clients {
            self.trace.names.push(format!("c{c}"));
        }
        if self.trace.trace_hash.is_none() {
            self.trace.end = self.last_t;
        }
        Ok(self.trace)
    }
}

/// serde_json's message without its " at line 1 column 7", which is about one line, not the file.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A message or timer in a few words: its tag, and its term when it has one.
fn summary(v: &Value, otherwise: &str) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.len() == 1 => {
            let (tag, inner) = m.iter().next().expect("one entry");
            match inner.get("term").and_then(Value::as_u64) {
                Some(term) => format!("{tag} t{term}"),
                None => tag.clone(),
            }
        }
        _ => otherwise.to_string(),
    }
}

/// A client operation in a few words: `put k0 c4-33`, `get k0`, `transfer`.
fn operation(op: &Value) -> String {
    let mut words = Vec::new();
    for key in ["f", "key", "value"] {
        if let Some(w) = op.get(key).and_then(scalar) {
            words.push(w);
        }
    }
    if words.is_empty() {
        return summary(op, "operation");
    }
    clip(&words.join(" "))
}

/// A reply or completion in a few words: `ok c4-33`, `not_leader`, `fail`.
fn reply(v: &Value, otherwise: &str) -> String {
    let Some(tag) = v
        .get("reply")
        .or_else(|| v.get("outcome"))
        .and_then(Value::as_str)
    else {
        return summary(v, otherwise);
    };
    match v.get("value").and_then(scalar) {
        Some(value) => clip(&format!("{tag} {value}")),
        None => tag.to_string(),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Labels stay short: a picture shows them on an arrow.
fn clip(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = r#"{"format":"sim-trace","version":1,"scenario":"s","seed":3,"protocol":"raft","nodes":["A","B"],"duration_ns":10}
{"kind":"start","local":0,"node":"A","restart":false,"seq":0,"t":0}
{"kind":"observe","local":0,"node":"A","obs":{"role":"leader","term":2,"type":"role"},"seq":1,"t":0}
{"kind":"observe","local":0,"node":"A","obs":{"type":"committed","index":1},"seq":2,"t":0}
{"id":0,"kind":"send","msg":{"request_vote":{"term":1}},"node":"A","seq":3,"t":1,"to":"B"}
{"from":"A","id":0,"kind":"deliver","local":2,"node":"B","seq":4,"t":2}
{"client":1,"kind":"invoke","op":{"f":"put","key":"k0","value":"x"},"req":1,"seq":5,"t":3}
{"client":1,"id":0,"kind":"request","req":1,"seq":6,"t":3,"to":"B"}
{"client":1,"id":0,"kind":"request_deliver","local":4,"node":"B","seq":7,"t":4}
{"client":1,"id":1,"kind":"reply","node":"B","reply":{"reply":"ok","result":"value","value":"x"},"req":1,"seq":8,"t":4}
{"client":1,"dir":"reply","id":1,"kind":"client_drop","node":"B","reason":"loss","seq":9,"t":5}
{"fault":"pause","for_ns":3,"kind":"fault","nodes":["B"],"origin":{"schedule":0},"seq":10,"t":6,"text":"pause B","written":"pause leader"}
{"kind":"fact","node":"A","fact":{"x":1},"seq":11,"t":7}
{"events":12,"kind":"end","t":10,"trace_hash":"00ff"}
"#;

    #[test]
    fn a_trace_reads_into_participants_messages_roles_and_faults() {
        let t = parse("t.jsonl", TRACE).unwrap();
        assert_eq!(
            t.names,
            ["A", "B", "c0", "c1"],
            "nodes, then every client up to the highest"
        );
        assert_eq!(
            (t.end, t.trace_hash.as_deref(), t.records),
            (10, Some("00ff"), 12)
        );
        let labels = t.message_labels();
        let vote = labels[&MsgId {
            client_link: false,
            id: 0,
        }];
        assert_eq!(t.label(vote), "request_vote t1");
        assert_eq!(
            t.label(
                labels[&MsgId {
                    client_link: true,
                    id: 0
                }]
            ),
            "put k0 x"
        );
        assert_eq!(
            t.label(
                labels[&MsgId {
                    client_link: true,
                    id: 1
                }]
            ),
            "ok x"
        );
        assert_eq!(
            t.deliveries(),
            2,
            "the node message and the client's request"
        );
        // The committed observation and the fact are not drawn.
        assert!(t.events.iter().all(|e| e.seq != 2 && e.seq != 11));
        let roles: Vec<_> = t
            .events
            .iter()
            .filter_map(|e| match e.what {
                What::Role { role, term } => Some((t.name(e.who), t.label(role), term)),
                _ => None,
            })
            .collect();
        assert_eq!(roles, [("A", "leader", Some(2))]);
        let drop = t.events.iter().find(|e| e.seq == 9).unwrap();
        assert_eq!(
            t.name(drop.who),
            "c1",
            "a lost reply is lost on its way to the client"
        );
        assert!(matches!(drop.what, What::Drop { from: 1, .. }));
        assert_eq!(t.faults[0].nodes, [1]);
        assert_eq!(t.faults[0].lasting, Some(3));
    }

    #[test]
    fn a_bad_line_names_its_file_line_and_column() {
        let broken = TRACE.replace(r#""seq":4,"t":2}"#, r#""seq":4,"t":2"#);
        let e = parse("t.jsonl", &broken).unwrap_err();
        assert!(e.starts_with("t.jsonl:6:"), "{e}");
        assert!(e.contains("expected one JSON object per line"), "{e}");
        let e = parse("t.jsonl", "{\"format\":\"other\"}\n").unwrap_err();
        assert!(
            e.starts_with("t.jsonl:1:1: expected the sim-trace header"),
            "{e}"
        );
        let e = parse("t.jsonl", "").unwrap_err();
        assert!(e.contains("an empty file"), "{e}");
        let unknown = TRACE.replace(r#""to":"B"}"#, r#""to":"Z"}"#);
        let e = parse("t.jsonl", &unknown).unwrap_err();
        assert!(e.starts_with("t.jsonl:5:1: `to` names `Z`"), "{e}");
        let no_time = TRACE.replace(r#""seq":0,"t":0}"#, r#""seq":0}"#);
        let e = parse("t.jsonl", &no_time).unwrap_err();
        assert!(e.contains("a `start` record without `t`"), "{e}");
    }
}
