//! `trace.jsonl`: the run's every event, one JSON object per line. Format `sim-trace`, version 1.
//!
//! Later tools (replay, timelines, Perfetto and ShiViz exports) build on this format, so it is
//! versioned and only grows: new keys may appear, existing keys keep their meaning.
//!
//! - Line 1, the header: `{"format":"sim-trace","version":1,"scenario":…,"file":…,"seed":…,
//!   "protocol":…,"nodes":[names…],"duration_ns":…}`, and `"narration":[{"at":ns,"text":…}]` when the scenario has `[teaching]` lines.
//! - Then one line per record, in order, each with `seq` (0-based position), `t` (true time in
//!   ns) and `kind`, plus:
//!   - `start`: `node`, `local` (its clock), `restart` (bool);
//!   - `send`: `node` (sender), `to`, `id` (message id), `msg` (the message as JSON);
//!   - `deliver`: `node` (receiver), `from`, `id`, `local`;
//!   - `drop`: `node` (intended receiver), `from`, `id`, `reason` (`loss` | `partition` |
//!     `node_down` | `crashed_while_paused`: held for a paused receiver that crashed before it
//!     resumed; written at the crash, after its `fault` record);
//!   - `timer`: `node`, `local`, `timer`;
//!   - `observe`: `node`, `local`, `obs` (`{"type":"role","role":…,"term":…}`,
//!     `{"type":"authority","term":…,"until":local ns or null}`, `{"type":"suspect"|"trust","peer":name}`);
//!   - `fault`: `fault` (kind), `text` (what happened, with names), `written` (as in the scenario),
//!     `origin` (`schedule` | `nemesis` | `final_heal` | `end`), `nodes` (names), `for_ns` (if timed).
//! - Client records (only in runs with a `[workload]`), each with `client` (its index):
//!   - `invoke`: `req` (the operation's number, from 1), `op` (the operation as JSON,
//!     `{"f":"put","key":…,"value":…}`);
//!   - `request` (client to node): `to`, `id` (message id), `req` (the operation's number);
//!   - `request_deliver`: `node` (receiver), `id`, `local`;
//!   - `reply` (node to client): `node` (sender), `id`, `req`, `reply` (`{"reply":"ok",…}`,
//!     `{"reply":"not_leader","leader":…}`, `{"reply":"fail","reason":…}`);
//!   - `reply_deliver`: `from`, `id`;
//!   - `client_drop`: `node` (the node end), `id`, `dir` (`request` | `reply`), `reason`;
//!   - `complete`: `req`, `result` (`{"outcome":"ok","result":…}`, `{"outcome":"fail",…}`,
//!     `{"outcome":"info"}`).
//! - Last line: `{"kind":"end","t":…,"events":…,"trace_hash":…}`.
//!
//! Node ids inside messages are node indices into the header's `nodes`.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use crate::node::{Nanos, Observation, Protocol};
use crate::scenario::Narration;
use crate::world::{Cluster, Event, Record};

/// The header's `format`: what a reader checks before it reads the rest of the file.
///
/// ```
/// // A reader of `trace.jsonl` checks the first line before the rest.
/// let first: serde_json::Value = serde_json::from_str(r#"{"format":"sim-trace","version":1}"#).unwrap();
/// assert_eq!(first["format"], sim::run::trace_file::FORMAT);
/// ```
pub const FORMAT: &str = "sim-trace";
/// The header's `version` of the format. It only grows: new keys may appear, existing keys keep
/// their meaning.
///
/// ```
/// use sim::run::trace_file::VERSION;
/// let first: serde_json::Value = serde_json::from_str(r#"{"format":"sim-trace","version":1}"#).unwrap();
/// assert!(first["version"].as_u64().unwrap() <= u64::from(VERSION), "a version this reader knows");
/// ```
pub const VERSION: u32 = 1;

/// The header line's fields.
///
/// ```
/// use sim::run::trace_file::{Header, header};
/// let nodes = ["A".to_string(), "B".to_string()];
/// let h = Header { scenario: "s", file: "s.toml", seed: 3, protocol: "raft", nodes: &nodes, duration: 1_000, narration: &[] };
/// let line: serde_json::Value = serde_json::from_str(&header(&h)).unwrap();
/// assert_eq!((line["seed"].as_u64(), line["nodes"][1].as_str()), (Some(3), Some("B")));
/// ```
pub struct Header<'a> {
    /// The scenario's `name`.
    pub scenario: &'a str,
    /// The scenario file as given on the command line.
    pub file: &'a str,
    /// The seed the run used.
    pub seed: u64,
    /// The protocol's `NAME`.
    pub protocol: &'a str,
    /// Node names in cluster order: a node id in a record is an index into them.
    pub nodes: &'a [String],
    /// The virtual time the run is asked to last, in nanoseconds (`duration_ns`).
    pub duration: Nanos,
    /// `[teaching] narration`, written as `narration: [{"at": ns, "text": …}]` only when there
    /// is some, so pictures re-rendered from the trace tell it too.
    pub narration: &'a [Narration],
}

/// The first line of `trace.jsonl` (no newline): the format, its version and what was run.
///
/// ```
/// use sim::run::trace_file::{Header, header};
///
/// let nodes = ["a".to_string(), "b".to_string()];
/// let line = header(&Header {
///     scenario: "demo",
///     file: "demo.toml",
///     seed: 7,
///     protocol: "raft",
///     nodes: &nodes,
///     duration: 2_000_000_000,
///     narration: &[],
/// });
/// let first: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert_eq!((&first["format"], &first["version"]), (&"sim-trace".into(), &1.into()));
/// assert_eq!(first["duration_ns"], 2_000_000_000u64);
/// ```
pub fn header(h: &Header<'_>) -> String {
    let mut line = json!({
        "format": FORMAT,
        "version": VERSION,
        "scenario": h.scenario,
        "file": h.file,
        "seed": h.seed,
        "protocol": h.protocol,
        "nodes": h.nodes,
        "duration_ns": h.duration,
    });
    if !h.narration.is_empty() {
        line["narration"] = json!(h.narration);
    }
    line.to_string()
}

/// The last line of `trace.jsonl` (no newline): where virtual time stopped (`t`, nanoseconds),
/// how many records came before it (`events`), and the trace hash.
///
/// ```
/// let line = sim::run::trace_file::footer(1_500, 42, "00ff00ff00ff00ff");
/// let end: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert_eq!(end["kind"], "end");
/// assert_eq!(end["events"], 42);
/// ```
pub fn footer(at: Nanos, events: u64, trace_hash: &str) -> String {
    json!({"kind": "end", "t": at, "events": events, "trace_hash": trace_hash}).to_string()
}

/// One record as its trace line (without the newline).
///
/// ```
/// use sim::run::{RunOptions, run};
/// use sim::scenario::Scenario;
/// // A run's captured trace lines are this function's output, one JSON object per record.
/// let scenario = Scenario::parse("x.toml", "name = \"x\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"heartbeat\"\n")?;
/// let out = run(&scenario, &RunOptions { capture: true, ..RunOptions::default() })?;
/// let lines = out.records.unwrap();
/// let first: serde_json::Value = serde_json::from_str(&lines[0])?;
/// assert_eq!(first["t"], 0);
/// assert!(lines.iter().all(|l| l.starts_with('{')));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn line<P: Protocol>(record: &Record<'_, P>, cluster: &Cluster) -> String {
    let mut m = Map::new();
    m.insert("seq".into(), record.seq.into());
    m.insert("t".into(), record.at.into());
    m.insert("kind".into(), record.event.kind().into());
    let name = |n: u32| Value::from(cluster.name(n));
    let local = |n: u32| Value::from(cluster.local_time(n));
    match &record.event {
        Event::Start { node, restart } => {
            m.insert("node".into(), name(*node));
            m.insert("local".into(), local(*node));
            m.insert("restart".into(), (*restart).into());
        }
        Event::Send { from, to, id, msg } => {
            m.insert("node".into(), name(*from));
            m.insert("to".into(), name(*to));
            m.insert("id".into(), (*id).into());
            m.insert("msg".into(), to_json(*msg));
        }
        Event::Deliver { from, to, id, .. } => {
            m.insert("node".into(), name(*to));
            m.insert("from".into(), name(*from));
            m.insert("id".into(), (*id).into());
            m.insert("local".into(), local(*to));
        }
        Event::Drop {
            from,
            to,
            id,
            reason,
        } => {
            m.insert("node".into(), name(*to));
            m.insert("from".into(), name(*from));
            m.insert("id".into(), (*id).into());
            m.insert("reason".into(), reason.name().into());
        }
        Event::Timer { node, timer } => {
            m.insert("node".into(), name(*node));
            m.insert("local".into(), local(*node));
            m.insert("timer".into(), to_json(*timer));
        }
        Event::Observe { node, obs } => {
            m.insert("node".into(), name(*node));
            m.insert("local".into(), local(*node));
            m.insert("obs".into(), observation(obs, cluster));
        }
        Event::Fact { node, fact } => {
            m.insert("node".into(), name(*node));
            m.insert("local".into(), local(*node));
            m.insert("fact".into(), to_json(*fact));
        }
        Event::Fault(f) => {
            let kind = to_json(&f.applied);
            let kind = kind.get("fault").cloned().unwrap_or(Value::Null);
            m.insert("fault".into(), kind);
            m.insert("text".into(), f.applied.describe(cluster).into());
            m.insert("written".into(), f.written.clone().into());
            m.insert("origin".into(), to_json(&f.origin));
            let nodes: Vec<Value> = f.applied.touched().into_iter().map(name).collect();
            m.insert("nodes".into(), nodes.into());
            if let Some(d) = f.lasting {
                m.insert("for_ns".into(), d.into());
            }
        }
        Event::Invoke { client, request } => {
            m.insert("client".into(), (*client).into());
            m.insert("req".into(), request.id.seq.into());
            m.insert("op".into(), to_json(&request.op));
        }
        Event::Request {
            client,
            to,
            id,
            request,
        } => {
            m.insert("client".into(), (*client).into());
            m.insert("to".into(), name(*to));
            m.insert("id".into(), (*id).into());
            m.insert("req".into(), request.id.seq.into());
        }
        Event::RequestDeliver { client, to, id } => {
            m.insert("node".into(), name(*to));
            m.insert("client".into(), (*client).into());
            m.insert("id".into(), (*id).into());
            m.insert("local".into(), local(*to));
        }
        Event::Reply {
            from,
            client,
            id,
            answer: (request, reply),
        } => {
            m.insert("node".into(), name(*from));
            m.insert("client".into(), (*client).into());
            m.insert("id".into(), (*id).into());
            m.insert("req".into(), request.seq.into());
            m.insert("reply".into(), to_json(reply));
        }
        Event::ReplyDeliver { from, client, id } => {
            m.insert("client".into(), (*client).into());
            m.insert("from".into(), name(*from));
            m.insert("id".into(), (*id).into());
        }
        Event::ClientDrop {
            client,
            node,
            id,
            to_node,
            reason,
        } => {
            m.insert("client".into(), (*client).into());
            m.insert("node".into(), name(*node));
            m.insert("id".into(), (*id).into());
            let direction = if *to_node { "request" } else { "reply" };
            m.insert("dir".into(), direction.into());
            m.insert("reason".into(), reason.name().into());
        }
        Event::Complete {
            client,
            seq,
            completion,
        } => {
            m.insert("client".into(), (*client).into());
            m.insert("req".into(), (*seq).into());
            m.insert("result".into(), to_json(*completion));
        }
    }
    Value::Object(m).to_string()
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| Value::String(format!("<unserializable: {e}>")))
}

fn observation(obs: &Observation, cluster: &Cluster) -> Value {
    match obs {
        Observation::Suspect { peer } => json!({"type": "suspect", "peer": cluster.name_of(*peer)}),
        Observation::Trust { peer } => json!({"type": "trust", "peer": cluster.name_of(*peer)}),
        Observation::Voted { term, candidate } => {
            json!({"type": "voted", "term": term, "candidate": cluster.name_of(*candidate)})
        }
        other => to_json(other),
    }
}

/// Streams lines to a writer, keeping the first I/O error instead of panicking mid-run.
///
/// ```
/// use sim::run::trace_file::TraceWriter;
/// let mut w = TraceWriter::new(Vec::new());
/// w.write_line("{\"kind\":\"end\"}");
/// w.finish().unwrap();
/// ```
pub struct TraceWriter<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> TraceWriter<W> {
    /// A writer over `out`, with no error yet.
    ///
    /// ```
    /// use sim::run::trace_file::TraceWriter;
    /// let mut buf = Vec::new();
    /// let mut w = TraceWriter::new(&mut buf);
    /// w.write_line("a");
    /// w.finish()?;
    /// assert_eq!(buf, b"a\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(out: W) -> Self {
        TraceWriter { out, error: None }
    }

    /// Writes `line` and a newline; after the first I/O error, writes nothing more and keeps that
    /// error for [`TraceWriter::finish`].
    ///
    /// ```
    /// use sim::run::trace_file::TraceWriter;
    /// let mut buf = Vec::new();
    /// let mut w = TraceWriter::new(&mut buf);
    /// w.write_line("one");
    /// w.write_line("two");
    /// w.finish()?;
    /// assert_eq!(String::from_utf8(buf).unwrap(), "one\ntwo\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_line(&mut self, line: &str) {
        if self.error.is_none()
            && let Err(e) = writeln!(self.out, "{line}")
        {
            self.error = Some(e);
        }
    }

    /// Flushes, and returns the first I/O error met while writing, if any.
    ///
    /// ```
    /// use std::io::{self, Write};
    /// use sim::run::trace_file::TraceWriter;
    ///
    /// /// A disk that is full.
    /// struct Full;
    /// impl Write for Full {
    ///     fn write(&mut self, _: &[u8]) -> io::Result<usize> { Err(io::Error::other("disk full")) }
    ///     fn flush(&mut self) -> io::Result<()> { Ok(()) }
    /// }
    /// let mut w = TraceWriter::new(Full);
    /// w.write_line("a"); // no panic mid-run…
    /// w.write_line("b");
    /// assert_eq!(w.finish().unwrap_err().to_string(), "disk full"); // …the first error, at the end
    /// ```
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}
