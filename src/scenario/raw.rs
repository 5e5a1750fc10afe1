//! The scenario file as written: one type per table, deserialized by toml and described by
//! schemars from the same definitions, so the parser and `sim schema` cannot disagree.
//!
//! Every table denies unknown keys, and every key's doc comment is its description in the
//! schema. Values that are checked after parsing keep their span ([`Located`]).

use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::node::{Duration, SignedDuration};

use super::values::{
    Bounds, LatencySpec, Located, Nodes, OneOrRange, PartitionSpec, Probability, ProtocolTable,
    Rate, TargetList, TargetWord,
};

/// A sim scenario: a cluster, the protocol it runs, its network and clocks, the faults it
/// suffers and what to check.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ScenarioFile {
    /// The scenario's name, shown in reports, e.g. "raft-partition-heal".
    pub name: Located<String>,
    /// What the scenario shows, in a sentence or two.
    pub description: Option<String>,
    /// The default seed; `--seed` overrides it. Default 1.
    pub seed: Option<u64>,
    /// The virtual time the run lasts, e.g. "10s". Must be more than zero.
    pub duration: Located<Duration>,
    /// A limit on trace events: reaching it ends the run with an unknown verdict.
    /// Default 50000000. The older spelling of `[limits] events` (give one of them).
    pub max_events: Option<Located<u64>>,
    /// Bounds that keep a run finite; each one reached ends the run with an unknown verdict
    /// (exit 3) and names itself. Every key has a default.
    pub limits: Option<LimitsTable>,
    /// The nodes and the protocol they run.
    pub cluster: Cluster,
    /// The protocol's own settings; which keys are allowed depends on `cluster.protocol`.
    #[allow(dead_code)] // only its presence matters here: `Scenario::protocol_config` reads it
    pub protocol: Option<ProtocolTable>,
    /// How every link behaves. Default: 1ms constant latency, no loss, no duplication, FIFO.
    pub network: Option<Network>,
    /// Every node's disk: how long a synced write takes. Default: no time.
    pub storage: Option<Storage>,
    /// Scheduling noise inside every node: late timers, processing before a send. Default: none.
    pub timing: Option<TimingTable>,
    /// Per-node clocks, keyed by node name. Nodes not listed have a perfect clock.
    #[serde(default)]
    pub clocks: BTreeMap<String, ClockEntry>,
    /// Scripted faults, each firing at its `at`.
    #[serde(default)]
    pub faults: Vec<Located<Fault>>,
    /// Random faults drawn from the seed until `until`, then a final heal.
    pub nemesis: Option<Located<Nemesis>>,
    /// Virtual clients issuing key-value operations; their history is recorded.
    pub workload: Option<Located<Workload>>,
    /// The invariants to check.
    pub check: Option<Check>,
    /// The verdict this scenario is expected to reach (for lessons and regressions).
    pub expect: Option<Expect>,
    /// What a teacher adds for the class: lines woven into the story and the pictures.
    pub teaching: Option<Teaching>,
}

/// `[limits]`: each bound reached ends the run there with an unknown verdict (exit 3, unless a
/// violation was already found) and a line naming the limit and how to raise it. `sim run
/// --limit NAME=VALUE` overrides any of them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitsTable {
    /// Trace events (records). Default 50000000. Same as the top-level `max_events`.
    pub events: Option<Located<u64>>,
    /// Virtual time: a scenario whose `duration` is longer stops here. Default "24h".
    pub virtual_time: Option<Located<Duration>>,
    /// Messages in flight at once on one link, sender to receiver (messages held for a paused
    /// node included). Default 100000.
    pub in_flight_per_link: Option<Located<u64>>,
    /// Client operations invoked: the recorded history's length. Default 1000000.
    pub history_ops: Option<Located<u64>>,
    /// Search steps of the history checker (`linearizable`), counted rather than timed so the
    /// verdict stays a function of scenario and seed; its memo is capped at 256 MiB besides.
    /// Default 200000000.
    pub checker_steps: Option<Located<u64>>,
    /// Bytes of `trace.jsonl` written by `sim run --out`. Default 1073741824 (1 GiB).
    pub trace_bytes: Option<Located<u64>>,
}

/// `[teaching]`: what a teacher adds for the class. It never changes the run or its trace hash.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Teaching {
    /// Lines told at a virtual time, woven into the story and the timeline, e.g.
    /// `[{ at = "2s", text = "Now the leader pauses." }]`.
    #[serde(default)]
    pub narration: Vec<Located<NarrationLine>>,
    /// The source texts the lesson demonstrates, each a text and its section, e.g.
    /// `["seed text 004, 「分布式锁」"]`: listed by `sim list lessons`.
    #[serde(default)]
    pub cites: Vec<Located<String>>,
}

/// One `[teaching] narration` line.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NarrationLine {
    /// When the line is told, e.g. "5s"; at most the scenario's `duration`.
    pub at: Located<Duration>,
    /// What to tell the class at that instant.
    pub text: Located<String>,
}

/// `[cluster]`: the nodes and the protocol they run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Cluster {
    /// The node names, e.g. ["A", "B", "C"], or a count: 5 names the nodes n1 to n5.
    pub nodes: Located<Nodes>,
    /// The protocol every node runs, by name (`sim list protocols`).
    pub protocol: Located<String>,
}

/// `[network]`: how every link behaves.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Network {
    /// One-way latency: a duration ("5ms", constant) or a distribution table. Default "1ms".
    pub latency: Option<Located<LatencySpec>>,
    /// Probability a message is lost. Default 0. In swarm mode, may be a range.
    pub loss: Option<Located<OneOrRange<Probability>>>,
    /// Probability a delivered message arrives twice. Default 0. In swarm mode, may be a range.
    pub duplicate: Option<Located<OneOrRange<Probability>>>,
    /// Let later messages overtake earlier ones on the same link. Default false (FIFO links).
    /// In swarm mode, may be the range [false, true]: each seed draws whether its links reorder.
    pub reorder: Option<Located<OneOrRange<bool>>>,
}

/// One node's clocks: the offset is its wall clock's; the drift, its oscillator's, paces both
/// its wall clock and its monotonic clock (which reads 0 at the start and never jumps).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ClockEntry {
    /// What the wall clock reads at true time zero, e.g. "-20ms". Default "0s". In swarm mode,
    /// may be a range.
    pub offset: Option<Located<OneOrRange<SignedDuration>>>,
    /// How fast both clocks run, in parts per million: 100 gains 100µs a second. Between
    /// -999999 and 1000000; default 0. In swarm mode, may be a range such as [-200, 200].
    pub drift_ppm: Option<Located<OneOrRange<i64>>>,
}

/// One scripted fault: `at`, an optional `for`, and exactly one action key.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = fault_rules)]
pub(super) struct Fault {
    /// When the fault happens, e.g. "2s". Must be before the end of the run.
    pub at: Located<Duration>,
    /// Undo the fault this long after `at` (partition, cut, crash, pause and delay only).
    #[serde(rename = "for")]
    pub lasting: Option<Located<Duration>>,
    /// Split the cluster: explicit groups, a shape ("halves", "majority-minority", "ring"),
    /// or { isolate = TARGET } / { bridge = TARGET }.
    pub partition: Option<Located<PartitionSpec>>,
    /// Cut the links one way: messages from `from` to `to` are dropped.
    pub cut: Option<Located<Cut>>,
    /// Repair every cut link. Must be true.
    pub heal: Option<Located<bool>>,
    /// Crash a node: its volatile state and timers are lost, its durable state survives.
    pub crash: Option<Located<TargetWord>>,
    /// Restart a crashed node from its durable state.
    pub restart: Option<Located<TargetWord>>,
    /// Pause a node (a stop-the-world pause): it runs nothing until resumed.
    pub pause: Option<Located<TargetWord>>,
    /// Resume a paused node.
    pub resume: Option<Located<TargetWord>>,
    /// Step a node's wall clock by `by` (its monotonic clock, and its timers, do not move).
    pub clock_jump: Option<Located<TargetWord>>,
    /// Change a node's clock drift to `ppm` (both clocks, and its timers, follow).
    pub clock_drift: Option<Located<TargetWord>>,
    /// A delay spike: every message to or from the node takes `by` longer (on top of its
    /// drawn latency) until the spike's `for` ends it.
    pub delay: Option<Located<TargetWord>>,
    /// A Byzantine fault: the node, or each node of a list, turns traitor for the rest of the
    /// run and sends what its protocol's traitor sends (conflicting messages to different
    /// peers). Only a protocol that models traitors accepts it.
    pub byzantine: Option<Located<TargetList>>,
    /// With clock_jump: the size of the step, e.g. "-500ms". With delay: the extra latency,
    /// e.g. "200ms".
    pub by: Option<Located<SignedDuration>>,
    /// With clock_drift: the new drift in parts per million, between -999999 and 1000000.
    pub ppm: Option<Located<i64>>,
}

/// The rules of a `[[faults]]` entry that types cannot say, for editors: exactly one action;
/// `for` only with an action that can be undone; `by` with clock_jump or delay and `ppm`
/// with clock_drift, both ways. (`convert` enforces the same rules with located messages.)
fn fault_rules(schema: &mut Schema) {
    let actions = [
        "partition",
        "cut",
        "heal",
        "crash",
        "restart",
        "pause",
        "resume",
        "clock_jump",
        "clock_drift",
        "delay",
        "byzantine",
    ];
    let required =
        |keys: &[&str]| -> Vec<Value> { keys.iter().map(|k| json!({ "required": [k] })).collect() };
    schema.insert("oneOf".into(), json!(required(&actions)));
    schema.insert(
        "dependentSchemas".into(),
        json!({
            "for": { "anyOf": required(&["partition", "cut", "crash", "pause", "delay"]) },
            "by": { "anyOf": required(&["clock_jump", "delay"]) }
        }),
    );
    schema.insert(
        "dependentRequired".into(),
        json!({
            "clock_jump": ["by"],
            "delay": ["by"],
            "ppm": ["clock_drift"],
            "clock_drift": ["ppm"]
        }),
    );
}

/// A one-way cut.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Cut {
    /// The senders whose messages are dropped: a target or a list of targets.
    pub from: Located<TargetList>,
    /// The receivers they no longer reach: a target or a list of targets.
    pub to: Located<TargetList>,
}

/// `[nemesis]`: random faults of the kinds listed, then a final heal at `until`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Nemesis {
    /// "fixed" (the default): the world is as written. "swarm": each seed also draws its
    /// world — every range written where one value would do (loss, duplicate, latency, clock
    /// offsets and drifts), a sub-window of each nemesis `every`/`last`/`by`, a subset of the
    /// partition shapes, and whether each fault kind strikes at all (`chance`).
    pub mode: Option<Located<Mode>>,
    /// When the nemesis stops and heals everything. Default: 3/4 of `duration`, rounded
    /// down to a millisecond. At most `duration`.
    pub until: Option<Located<Duration>>,
    /// Random partitions.
    pub partition: Option<NemesisPartition>,
    /// Random crashes, each followed by a restart.
    pub crash: Option<NemesisProcess>,
    /// Random pauses, each followed by a resume.
    pub pause: Option<NemesisProcess>,
    /// Random clock jumps.
    pub clock_jump: Option<NemesisClockJump>,
    /// Random delay spikes: every message to or from the target takes `by` longer while one
    /// lasts.
    pub delay: Option<NemesisDelay>,
}

/// `[nemesis] mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum Mode {
    /// The world is as written; only the schedule is drawn per seed.
    Fixed,
    /// Each seed also draws the world's knobs from the ranges written (swarm testing).
    Swarm,
}

/// A partition shape the nemesis may draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(super) enum ShapeName {
    /// A random split into ⌊n/2⌋ and ⌈n/2⌉ nodes.
    Halves,
    /// A random minority cut from the majority.
    MajorityMinority,
    /// Nodes in a random ring, each seeing only its nearest neighbours.
    Ring,
    /// A random node cut from all others.
    Isolate,
    /// Two halves bridged by a random node that sees both.
    Bridge,
}

/// Random partitions: a quiet interval drawn from `every`, then a partition lasting a draw
/// from `last`, again and again until `until`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NemesisPartition {
    /// The quiet interval before each partition, a range such as ["1s", "3s"].
    pub every: Located<Bounds<Duration>>,
    /// How long each partition lasts, a range such as ["200ms", "2s"].
    pub last: Located<Bounds<Duration>>,
    /// The one shape to use. Give `shape` or `shapes`, not both.
    pub shape: Option<ShapeName>,
    /// The shapes to draw from. Default: all of halves, majority-minority, ring, isolate,
    /// bridge.
    pub shapes: Option<Located<Vec<ShapeName>>>,
    /// Swarm mode only: the chance a seed's world has this fault kind at all. Default 1.
    pub chance: Option<Located<Probability>>,
}

/// Random crashes or pauses of `target`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NemesisProcess {
    /// The quiet interval before each fault, a range such as ["1s", "3s"].
    pub every: Located<Bounds<Duration>>,
    /// How long each fault lasts, a range such as ["200ms", "2s"].
    pub last: Located<Bounds<Duration>>,
    /// Who is hit. Default "random".
    pub target: Option<Located<TargetWord>>,
    /// Swarm mode only: the chance a seed's world has this fault kind at all. Default 1.
    pub chance: Option<Located<Probability>>,
}

/// Random clock jumps of `target`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NemesisClockJump {
    /// The interval between jumps, a range such as ["1s", "3s"].
    pub every: Located<Bounds<Duration>>,
    /// The range each jump is drawn from, e.g. ["-500ms", "500ms"].
    pub by: Located<Bounds<SignedDuration>>,
    /// Whose clock jumps. Default "random".
    pub target: Option<Located<TargetWord>>,
    /// Swarm mode only: the chance a seed's world has this fault kind at all. Default 1.
    pub chance: Option<Located<Probability>>,
}

/// Random delay spikes on `target`'s links.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NemesisDelay {
    /// The quiet interval before each spike, a range such as ["1s", "3s"].
    pub every: Located<Bounds<Duration>>,
    /// How long each spike lasts, a range such as ["200ms", "2s"].
    pub last: Located<Bounds<Duration>>,
    /// The extra one-way latency of each spike, a range such as ["50ms", "500ms"].
    pub by: Located<Bounds<Duration>>,
    /// Whose links slow down. Default "random".
    pub target: Option<Located<TargetWord>>,
    /// Swarm mode only: the chance a seed's world has this fault kind at all. Default 1.
    pub chance: Option<Located<Probability>>,
}

/// `[workload]`: virtual clients, each with at most one operation outstanding, issuing the
/// operations of the client interface the protocol serves (`kind`): drawn at random (`clients`
/// and `rate`; for key-value clients with `mix` and `keys`), or replayed from a `script`. Which
/// other keys are allowed depends on the kind.
// Unknown keys are refused by `workload::check_keys`, not by serde: the protocol's kind adds
// its own keys, read by a second pass.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = workload_rules)]
pub(super) struct Workload {
    /// The client interface: "kv" (get, put, append, cas on keys) or the kind of the protocol's
    /// clients ("bank" for transfers). Default: the protocol's; when given, it must be that.
    pub kind: Option<Located<String>>,
    /// How many virtual clients, at least 1 (at most 10000). Required unless `script` is given;
    /// with a script, default: one more than the highest client it names.
    pub clients: Option<Located<i64>>,
    /// Per client: mean operations started per second, e.g. "20/s" (also "/ms", "/min"). Think
    /// times between one operation's end and the next one's start are exponential with mean
    /// 1/rate. Required unless `script` is given.
    pub rate: Option<Located<Rate>>,
    /// Relative weights of get, put, append and cas, e.g. { get = 0.5, put = 0.3, cas = 0.2 };
    /// they need not sum to 1, and at least one must be positive. Default: { get = 1, put = 1 }.
    pub mix: Option<Located<Mix>>,
    /// How many keys ("k0", "k1", …), chosen uniformly; at least 1. Default 4.
    pub keys: Option<Located<i64>>,
    /// A client gives up on an operation this long after invoking it; the outcome is then
    /// unknown (info). More than zero; default "1s".
    pub timeout: Option<Located<Duration>>,
    /// Without a reply for this long, a client resends the same request to the next node.
    /// More than zero; default "100ms".
    pub retry: Option<Located<Duration>>,
    /// When clients begin. Before `duration`; default "0s".
    pub start: Option<Located<Duration>>,
    /// When clients stop starting new operations. After `start`, at most `duration`; default
    /// `duration`.
    pub stop: Option<Located<Duration>>,
    /// The operations to replay instead of drawing them (what `sim shrink` writes): each client
    /// invokes its operations in order of `at`, one at a time. Not with rate, mix, keys, start
    /// or stop.
    pub script: Option<Located<Vec<Located<ScriptEntry>>>>,
}

/// The rules of `[workload]` that types cannot say, for editors: either `clients` and `rate`
/// (drawn operations) or a `script`, not both; a script takes none of the drawing keys.
fn workload_rules(schema: &mut Schema) {
    schema.insert(
        "oneOf".into(),
        json!([{ "required": ["clients", "rate"] }, { "required": ["script"] }]),
    );
    let drawing = ["rate", "mix", "keys", "start", "stop"];
    let any: Vec<Value> = drawing.iter().map(|k| json!({ "required": [k] })).collect();
    schema.insert(
        "dependentSchemas".into(),
        json!({ "script": { "not": { "anyOf": any } } }),
    );
}

/// An operation kind in a workload script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum ScriptOpName {
    /// Read the key.
    Get,
    /// Write `value` to the key.
    Put,
    /// Append `value` to the key.
    Append,
    /// Set the key to `new` if its value is `expect`.
    Cas,
    /// Move `amount` from account `from` to account `to` (a bank's clients).
    Transfer,
    /// Read every account's balance (a bank's clients).
    #[serde(rename = "read-all")]
    ReadAll,
}

/// One scripted operation: `client` invokes `op` on `key` at `at`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = script_rules)]
pub(super) struct ScriptEntry {
    /// Which client, from 0.
    pub client: Located<i64>,
    /// When the client invokes it, e.g. "1.25s" — or just after its previous operation ends,
    /// if that is later. Before `duration`.
    pub at: Located<Duration>,
    /// The operation: get, put, append or cas for key-value clients; transfer or read-all for
    /// a bank's. It must be one the protocol's clients have.
    pub op: Located<ScriptOpName>,
    /// With get, put, append and cas: the key, e.g. "k0".
    pub key: Option<Located<String>>,
    /// With put and append: the value written.
    pub value: Option<Located<String>>,
    /// With cas: the value the key must hold.
    pub expect: Option<Located<String>>,
    /// With cas: the value it is set to.
    pub new: Option<Located<String>>,
    /// With transfer: the account debited, from 0.
    pub from: Option<Located<i64>>,
    /// With transfer: the account credited, another one.
    pub to: Option<Located<i64>>,
    /// With transfer: how much, at least 1.
    pub amount: Option<Located<i64>>,
}

/// For editors: put and append need `key` and `value`, cas `key`, `expect` and `new`, get
/// only `key`; transfer needs `from`, `to` and `amount`, read-all none of these.
fn script_rules(schema: &mut Schema) {
    let kind = |op: &str, required: &[&str], banned: &[&str]| {
        let not: Vec<Value> = banned.iter().map(|k| json!({ "required": [k] })).collect();
        json!({
            "if": { "properties": { "op": { "const": op } } },
            "then": { "required": required, "not": { "anyOf": not } }
        })
    };
    schema.insert(
        "allOf".into(),
        json!([
            kind(
                "get",
                &["key"],
                &["value", "expect", "new", "from", "to", "amount"]
            ),
            kind(
                "put",
                &["key", "value"],
                &["expect", "new", "from", "to", "amount"]
            ),
            kind(
                "append",
                &["key", "value"],
                &["expect", "new", "from", "to", "amount"]
            ),
            kind(
                "cas",
                &["key", "expect", "new"],
                &["value", "from", "to", "amount"]
            ),
            kind(
                "transfer",
                &["from", "to", "amount"],
                &["key", "value", "expect", "new"]
            ),
            kind(
                "read-all",
                &[],
                &["key", "value", "expect", "new", "from", "to", "amount"]
            ),
        ]),
    );
}

/// The weights of the operation kinds in `[workload] mix`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Mix {
    /// Read a key.
    pub get: Option<Located<f64>>,
    /// Write a unique value to a key.
    pub put: Option<Located<f64>>,
    /// Append a unique value to a key.
    pub append: Option<Located<f64>>,
    /// Compare-and-set a key from the last value the client saw to a unique value.
    pub cas: Option<Located<f64>>,
}

/// `[check]`: what to check.
// Besides `invariants`, a key per invariant that takes a bound (`<name> = "2s"`). Which
// ones depends on the protocol, as `[protocol]`'s keys do: this table keeps them as written,
// `convert` checks them against the protocol's catalogue, and `schema` describes them.
#[derive(Debug, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Check {
    /// Invariant names (`sim list invariants`), at least one. Default: the protocol's own.
    pub invariants: Option<Vec<Located<String>>>,
    /// Every other key, in file order, with its value as written.
    #[serde(skip)]
    pub bounds: Vec<(String, Located<toml::Value>)>,
}

impl<'de> Deserialize<'de> for Check {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Check;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Check, A::Error> {
                let mut check = Check {
                    invariants: None,
                    bounds: Vec::new(),
                };
                // toml refuses a key written twice before a visitor sees it.
                while let Some(key) = map.next_key::<String>()? {
                    if key == "invariants" {
                        check.invariants = Some(map.next_value()?);
                    } else {
                        check.bounds.push((key, map.next_value()?));
                    }
                }
                Ok(check)
            }
        }
        d.deserialize_map(V)
    }
}

/// `[expect]`: the verdict the scenario should reach.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Expect {
    /// "pass" or "violation".
    pub verdict: Verdict,
    /// With "violation": the invariants expected to fail.
    pub violates: Option<Located<Vec<Located<String>>>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum Verdict {
    /// Every invariant holds.
    Pass,
    /// Some invariant fails.
    Violation,
}

/// `[storage]`: every node's disk.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Storage {
    /// How long one sync of the writes a handler asked for takes: a duration ("10ms") or a
    /// distribution table as for `network.latency`. The sends and replies that follow the
    /// writes wait for it (Raft's vote and append replies wait for their persist); a node's
    /// syncs queue on its one disk. Default: no time.
    pub sync: Option<Located<LatencySpec>>,
    /// Whether a crash loses the writes whose sync had not ended (the page cache dies with
    /// the process), as a real disk may: the node restarts from what its last finished sync
    /// made durable. Needs `sync`. Default false: every write survives a crash.
    pub lose_unsynced: Option<Located<bool>>,
}

/// `[timing]`: scheduling noise inside every node.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TimingTable {
    /// How late a timer fires after its deadline: a duration or a distribution table as for
    /// `network.latency`, e.g. { dist = "uniform", min = "0ms", max = "1ms" }. Equal election
    /// timeouts then no longer fire at the same instant. Default: exactly on time.
    pub timer_jitter: Option<Located<LatencySpec>>,
    /// How long a node works on an input before its first send leaves: a duration or a
    /// distribution table as for `network.latency`. Default: no time.
    pub processing: Option<Located<LatencySpec>>,
}
