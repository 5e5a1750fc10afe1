//! A protocol's own report section, end to end: supplied by `Protocol::report_sections`, fed
//! the protocol's facts during a run, and printed by all three renderers, which know it by no
//! name.

use std::any::Any;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::node::{
    Ctx, DiskOf, Nanos, NodeId, Observation, Protocol, Role, RunView, Section, SectionBuilder,
};
use crate::run::registry::Registry;
use crate::run::{RunOptions, RunReport};
use crate::scenario::Scenario;

use super::text::Style;
use super::{json, summary, text};

/// Node `i` counts `i + 1` at start; with `lead`, node 0 also declares itself master.
struct Tally {
    lead: bool,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct TallyConfig {
    lead: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
enum TallyFact {
    Counted { n: u64 },
}

/// The protocol's section: the sum of what the nodes counted.
struct TallySection {
    nodes: usize,
    sum: u64,
    facts: u64,
}

impl SectionBuilder for TallySection {
    fn on_fact(&mut self, _: Nanos, _: u32, fact: &dyn Any, _: &dyn RunView) {
        if let Some(TallyFact::Counted { n }) = fact.downcast_ref::<TallyFact>() {
            self.sum += n;
            self.facts += 1;
        }
    }
    fn section(&self, _: &dyn RunView) -> Option<Section> {
        Some(Section {
            key: "tally",
            title: "tally",
            brief: Some(format!("tally {} from {} facts", self.sum, self.facts)),
            lines: vec![
                format!("sum {}", self.sum),
                format!("{} facts from {} nodes", self.facts, self.nodes),
            ],
            json: json!({ "sum": self.sum, "facts": self.facts }),
        })
    }
}

/// A section that would hide the report's own `seed`.
struct Clashing;

impl SectionBuilder for Clashing {
    fn section(&self, _: &dyn RunView) -> Option<Section> {
        Some(Section {
            key: "seed",
            title: "seed",
            brief: None,
            lines: Vec::new(),
            json: json!(0),
        })
    }
}

impl Protocol for Tally {
    const NAME: &'static str = "tally";
    const SUMMARY: &'static str = "each node counts once";
    type Msg = ();
    type Timer = ();
    type Config = TallyConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = TallyFact;
    type Record = ();

    fn report_sections(nodes: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(TallySection {
            nodes,
            sum: 0,
            facts: 0,
        })]
    }
    fn new(_: NodeId, _: &[NodeId], config: &TallyConfig, _: Option<&DiskOf<Self>>) -> Self {
        Tally { lead: config.lead }
    }
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        ctx.fact(TallyFact::Counted {
            n: u64::from(ctx.id().0) + 1,
        });
        if self.lead && ctx.id() == NodeId(0) {
            ctx.observe(Observation::Role {
                role: Role::Master,
                term: 1,
            });
        }
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
}

/// Like `Tally`, with a section whose key is taken.
struct Clash;

impl Protocol for Clash {
    const NAME: &'static str = "clash";
    const SUMMARY: &'static str = "a section named like a field";
    type Msg = ();
    type Timer = ();
    type Config = TallyConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = ();

    fn report_sections(_: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(Clashing)]
    }
    fn new(_: NodeId, _: &[NodeId], _: &TallyConfig, _: Option<&DiskOf<Self>>) -> Self {
        Clash
    }
    fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
}

/// A section that counts the clients' operations, from the history given once the run is over.
#[derive(Default)]
struct Operations(Option<usize>);

impl SectionBuilder for Operations {
    fn on_history(&mut self, history: &crate::node::history::History) {
        self.0 = Some(history.ops.len());
    }
    fn section(&self, _: &dyn RunView) -> Option<Section> {
        Some(Section {
            key: "operations",
            title: "operations",
            brief: None,
            lines: Vec::new(),
            json: json!(self.0),
        })
    }
}

/// Refuses every client request (the default), and reports how many there were.
struct Refuser;

impl Protocol for Refuser {
    const NAME: &'static str = "refuser";
    const SUMMARY: &'static str = "refuses clients and counts them";
    type Msg = ();
    type Timer = ();
    type Config = TallyConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = crate::node::NoFacts;
    type Record = ();

    fn report_sections(_: usize) -> Vec<Box<dyn SectionBuilder>> {
        vec![Box::new(Operations::default())]
    }
    fn new(_: NodeId, _: &[NodeId], _: &TallyConfig, _: Option<&DiskOf<Self>>) -> Self {
        Refuser
    }
    fn on_start(&mut self, _: &mut Ctx<'_, Self>) {}
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
}

fn run(protocol: &str, protocol_table: &str) -> RunReport {
    let registry = Registry::builtin()
        .with::<Tally>()
        .with::<Clash>()
        .with::<Refuser>();
    let text = format!(
        "name = \"t\"\nduration = \"1s\"\n[cluster]\nnodes = [\"A\", \"B\", \"C\"]\n\
         protocol = \"{protocol}\"\n{protocol_table}"
    );
    let scenario = Scenario::parse_with("t.toml", &text, &registry.catalog()).unwrap();
    registry
        .run(&scenario, &RunOptions::default(), None)
        .unwrap()
        .report
}

fn verdict_line(report: &RunReport) -> String {
    let out = text::render(report, &Style::default());
    let line = out.lines().find(|l| l.starts_with("verdict")).unwrap();
    line.to_string()
}

#[test]
fn a_protocol_s_own_section_is_printed_by_every_renderer() {
    let r = run("tally", "[protocol]\nlead = true\n");
    let keys: Vec<&str> = r.sections.iter().map(|s| s.key).collect();
    assert_eq!(
        keys,
        ["elections", "failure_detector", "tally"],
        "common first"
    );

    // The terminal: each section's clause on the verdict line, in order.
    let line = verdict_line(&r);
    assert!(
        line.ends_with(" dropped · highest term 1, 1 term led · tally 6 from 3 facts"),
        "{line}"
    );

    // summary.md: one line beside its title, or several listed under it.
    let md = summary::render(&r);
    assert!(
        md.ends_with(
            "\n## Counts\n\n\
             - elections: highest term 1, 1 terms with a leader, 0 elections without one\n\
             - tally:\n  - sum 6\n  - 3 facts from 3 nodes\n"
        ),
        "{md}"
    );

    // --json: each section under its key, `null` ones included.
    let v = json::report(&r);
    assert_eq!(v["tally"], json!({ "sum": 6, "facts": 3 }));
    assert_eq!(v["elections"]["terms_with_leader"], 1);
    assert!(v.as_object().unwrap().contains_key("failure_detector"));
    assert_eq!(v["failure_detector"], serde_json::Value::Null);
}

#[test]
fn a_protocol_without_roles_has_no_elections_on_the_terminal() {
    let r = run("tally", "");
    let line = verdict_line(&r);
    assert!(line.ends_with(" dropped · tally 6 from 3 facts"), "{line}");
    // As ever, summary.md and the JSON still count them: zeros.
    assert!(summary::render(&r).contains("\n- elections: highest term 0, 0 terms with a leader"));
    assert_eq!(json::report(&r)["elections"]["highest_term"], 0);
}

#[test]
#[should_panic(expected = "the report section `seed` has the key of another field")]
fn a_section_may_not_hide_a_field_of_the_json() {
    let r = run("clash", "");
    assert_eq!(r.sections.last().map(|s| s.key), Some("seed"));
    json::report(&r);
}

#[test]
fn a_section_is_given_the_clients_history_and_none_without_clients() {
    let r = run(
        "refuser",
        "[workload]\nclients = 2\nrate = \"10/s\"\n[check]\ninvariants = [\"election_safety\"]\n",
    );
    let ops = r.sections.iter().find(|s| s.key == "operations").unwrap();
    let n = ops.json.as_u64().expect("the history was given");
    assert!(
        n > 10,
        "two clients for 1s at 10/s, every request refused: {n}"
    );
    let r = run("refuser", "");
    let ops = r.sections.iter().find(|s| s.key == "operations").unwrap();
    assert_eq!(ops.json, serde_json::Value::Null, "no clients, no history");
}
