//! A protocol's own client interface, end to end: the protocol names it (`Protocol::Api`), the
//! run builds that interface's clients from `[workload]` (`workload::Workload`), and their
//! requests, replies and completions are trace records in the interface's own words.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::RunOptions;
use super::registry::Registry;
use crate::node::{
    Client, ClientApi, ClientCtx, ClientId, ClientRequest, Completion, ConfigError, Ctx, DiskOf,
    NodeId, Protocol, Reply, RequestId,
};
use crate::scenario::Scenario;
use crate::workload::history::{Call, History, Operation, Outcome, Output, TimeUnit, Value};
use crate::workload::{ScriptOp, Workload, WorkloadSpec};

/// A counter service: `incr` adds its amount and returns the new count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counter {}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
enum CounterOp {
    Incr(u64),
}

impl ClientApi for Counter {
    type Op = CounterOp;
    type Output = u64;
}

/// Each client increments once, at its start, asking node 0.
struct CounterClient {
    id: ClientId,
    /// (invoked, completed, count) of its one operation.
    done: Option<(u64, u64, u64)>,
    invoked: u64,
    by: u64,
}

/// The counter kind's own `[workload]` key.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
struct CounterOptions {
    /// How much each increment adds (default 1; at least 1).
    by: Option<u64>,
}

impl Client for CounterClient {
    type Api = Counter;
    type Timer = ();
    fn on_start(&mut self, ctx: &mut ClientCtx<'_, Self>) {
        let request = ClientRequest::<Counter> {
            id: RequestId {
                client: self.id,
                seq: 1,
            },
            op: CounterOp::Incr(self.by),
        };
        ctx.invoke(&request);
        self.invoked = ctx.now();
        ctx.send(NodeId(0), request);
    }
    fn on_reply(
        &mut self,
        ctx: &mut ClientCtx<'_, Self>,
        _: NodeId,
        request: RequestId,
        reply: Reply<Counter>,
    ) {
        if let Reply::Ok(count) = reply {
            ctx.complete(request, Completion::Ok(count));
            self.done = Some((self.invoked, ctx.now(), count));
        }
    }
    fn on_timer(&mut self, _: &mut ClientCtx<'_, Self>, _: ()) {}
}

impl Workload for Counter {
    const KIND: &'static str = "counter";
    type Options = CounterOptions;
    type Client = CounterClient;
    fn validate(options: &CounterOptions, _: &WorkloadSpec, _: usize) -> Result<(), ConfigError> {
        match options.by {
            Some(0) => Err(ConfigError::new("by", "an increment must add at least 1")),
            _ => Ok(()),
        }
    }
    fn foreign(script: &[ScriptOp]) -> Option<usize> {
        (!script.is_empty()).then_some(0) // a counter has no script
    }
    fn clients(
        spec: &WorkloadSpec,
        options: &CounterOptions,
        _: Option<&[ScriptOp]>,
    ) -> Vec<CounterClient> {
        (0..spec.clients)
            .map(|i| CounterClient {
                id: ClientId(i),
                done: None,
                invoked: 0,
                by: options.by.unwrap_or(1),
            })
            .collect()
    }
    /// Each increment as an append of 1 to one register, for the checkers that read histories.
    fn history(clients: &[CounterClient]) -> History {
        let ops = clients
            .iter()
            .filter_map(|c| {
                let (invoke, complete, count) = c.done?;
                Some(Operation {
                    process: u64::from(c.id.0),
                    key: None,
                    call: Call::Append(Value::Int(1)),
                    invoke,
                    complete: Some(complete),
                    outcome: Outcome::Ok(Output::Value(Some(Value::Int(count as i64)))),
                    node: None,
                })
            })
            .collect();
        History {
            ops,
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }
}

/// Node 0 counts; the others refuse.
struct Tally {
    count: u64,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TallyConfig {}

impl Protocol for Tally {
    const NAME: &'static str = "tally";
    const SUMMARY: &'static str = "node 0 counts increments";
    type Msg = ();
    type Timer = ();
    type Config = TallyConfig;
    type Durable = ();
    type Api = Counter;
    type Fact = crate::node::NoFacts;
    type Record = ();
    fn new(_: NodeId, _: &[NodeId], _: &TallyConfig, _: Option<&DiskOf<Self>>) -> Self {
        Tally { count: 0 }
    }
    fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: ClientRequest<Counter>) {
        let CounterOp::Incr(by) = request.op;
        self.count += by;
        ctx.reply(request.id, Reply::Ok(self.count));
    }
}

#[test]
fn a_protocol_serves_its_own_client_interface_to_its_own_clients() {
    let registry = Registry::builtin().with::<Tally>();
    let text = "name = \"tally\"\nduration = \"1s\"\n[cluster]\nnodes = 3\nprotocol = \"tally\"\n\
                [workload]\nkind = \"counter\"\nclients = 3\nrate = \"1/s\"\nby = 5\n[check]\ninvariants = [\"election_safety\"]\n";
    let scenario = Scenario::parse_with("tally.toml", text, &registry.catalog()).unwrap();
    let options = RunOptions {
        capture: true,
        ..RunOptions::default()
    };
    let out = registry.run(&scenario, &options, None).unwrap();
    let records = out.records.unwrap();
    let of = |kind: &str| -> Vec<&String> {
        records
            .iter()
            .filter(|l| l.contains(&format!("\"kind\":\"{kind}\"")))
            .collect()
    };
    // The interface's own words in the trace: the op, the count.
    assert_eq!(of("invoke").len(), 3);
    assert!(
        of("invoke")[0].contains(r#""op":{"incr":5}"#),
        "{}",
        of("invoke")[0]
    );
    let replies: Vec<&String> = of("reply");
    assert_eq!(replies.len(), 3);
    let completes = of("complete");
    assert_eq!(completes.len(), 3);
    // Node 0 counted each once, in the order the requests arrived.
    let mut counts: Vec<i64> = out
        .history
        .unwrap()
        .ops
        .iter()
        .map(|op| match &op.outcome {
            Outcome::Ok(Output::Value(Some(Value::Int(n)))) => *n,
            other => panic!("{other:?}"),
        })
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, [5, 10, 15], "each client added its workload's `by`");
}

/// The scenario's `[workload]` for a tally cluster, with `extra` lines.
fn tally(extra: &str) -> String {
    format!(
        "name = \"tally\"\nduration = \"1s\"\n[cluster]\nnodes = 3\nprotocol = \"tally\"\n\
         [workload]\nclients = 3\nrate = \"1/s\"\n{extra}[check]\ninvariants = [\"election_safety\"]\n"
    )
}

fn tally_error(extra: &str) -> String {
    let registry = Registry::builtin().with::<Tally>();
    let text = tally(extra);
    match Scenario::parse_with("tally.toml", &text, &registry.catalog()) {
        Err(e) => e.to_string(),
        Ok(scenario) => match registry.run(&scenario, &RunOptions::default(), None) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{extra} was accepted"),
        },
    }
}

#[test]
fn a_workload_kind_takes_its_own_keys_and_refuses_the_others_where_they_are_written() {
    assert_eq!(
        tally_error("kind = \"kv\"\n"),
        "tally.toml:9:8: protocol tally serves the counter workload, not `kv`: write kind = \
         \"counter\" or leave kind out"
    );
    assert_eq!(
        tally_error("mix = { get = 1 }\n"),
        "tally.toml:9:1: `mix` belongs to the kv workload, and tally's clients run the counter \
         workload; a counter workload takes kind, clients, rate, timeout, retry, start, stop, \
         script, by"
    );
    assert_eq!(
        tally_error("step = 2\n"),
        "tally.toml:9:1: unknown key `step` in [workload]; a counter workload takes kind, \
         clients, rate, timeout, retry, start, stop, script, by"
    );
    // The kind's own keys: typed by the second pass, checked by the kind.
    assert_eq!(
        tally_error("by = \"two\"\n"),
        "tally.toml:9:6: invalid type: string \"two\", expected a non-negative integer"
    );
    assert_eq!(
        tally_error("by = 0\n"),
        "tally.toml:9:1: by: an increment must add at least 1"
    );
}
