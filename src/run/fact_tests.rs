//! A protocol's own facts, end to end: stated through `ctx.fact`, traced and hashed, judged by
//! the protocol's own invariant, which a scenario names in `[check]` like any other.

use std::any::Any;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::registry::Registry;
use super::{RunOptions, Verdict};
use crate::node::{
    BoundInfo, Ctx, DiskOf, Invariant, InvariantInfo, Nanos, NodeId, Observation, Property,
    Protocol, ProtocolInvariant, RunView, Status, Violation,
};
use crate::scenario::Scenario;

/// Each node claims a slot at start: node `i` claims slot `i`, or, with `clash`, slot 0.
struct Claims {
    clash: bool,
}

#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct ClaimsConfig {
    clash: bool,
}

/// The protocol's own fact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum ClaimFact {
    Claimed { slot: u64 },
}

/// `unique_claims`: no two nodes claim one slot.
#[derive(Default)]
struct UniqueClaims {
    owners: Vec<(u64, u32)>,
    violation: Option<Violation>,
}

impl Invariant for UniqueClaims {
    fn name(&self) -> String {
        "unique_claims".into()
    }
    fn property(&self) -> Property {
        Property::Safety
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, fact: &dyn Any, view: &dyn RunView) {
        let Some(ClaimFact::Claimed { slot }) = fact.downcast_ref::<ClaimFact>() else {
            return;
        };
        match self.owners.iter().find(|(s, _)| s == slot) {
            Some(&(_, owner)) if self.violation.is_none() => {
                self.violation = Some(Violation {
                    at,
                    nodes: vec![view.name(owner).into(), view.name(node).into()],
                    message: format!(
                        "{} and {} both claim slot {slot}",
                        view.name(owner),
                        view.name(node)
                    ),
                    evidence: Vec::new(),
                });
            }
            Some(_) => {}
            None => self.owners.push((*slot, node)),
        }
    }
    fn status(&self) -> Status {
        Status::of(&self.violation)
    }
}

/// `claimed_within D`: a protocol's own invariant that takes a bound from `[check]`.
struct ClaimedWithin {
    bound: Nanos,
    nodes: usize,
    claimed: Vec<u32>,
}

impl Invariant for ClaimedWithin {
    fn name(&self) -> String {
        format!(
            "claimed_within {}",
            crate::node::format_duration(self.bound)
        )
    }
    fn property(&self) -> Property {
        Property::Liveness
    }
    fn on_observation(&mut self, _: Nanos, _: u32, _: &Observation, _: &dyn RunView) {}
    fn on_fact(&mut self, at: Nanos, node: u32, _: &dyn Any, _: &dyn RunView) {
        if at <= self.bound && !self.claimed.contains(&node) {
            self.claimed.push(node);
        }
    }
    fn status(&self) -> Status {
        if self.claimed.len() == self.nodes {
            Status::Pass
        } else {
            Status::Unknown(format!("{} of {} claimed", self.claimed.len(), self.nodes))
        }
    }
}

impl Protocol for Claims {
    const NAME: &'static str = "claims";
    const SUMMARY: &'static str = "each node claims a slot";
    const DEFAULT_INVARIANTS: &'static [&'static str] = &["unique_claims"];
    type Msg = ();
    type Timer = ();
    type Config = ClaimsConfig;
    type Durable = ();
    type Api = crate::node::Kv;
    type Fact = ClaimFact;
    type Record = ();

    fn invariants() -> Vec<ProtocolInvariant> {
        vec![
            ProtocolInvariant {
                info: InvariantInfo {
                    name: "unique_claims",
                    property: Property::Safety,
                    definition: "No two nodes claim one slot.",
                    bound: None,
                },
                build: |_, _| Box::new(UniqueClaims::default()),
            },
            ProtocolInvariant {
                info: InvariantInfo {
                    name: "claimed_within",
                    property: Property::Liveness,
                    definition: "Every node claims a slot within the bound of the start.",
                    bound: Some(BoundInfo {
                        example: "1s",
                        description: "How soon every node must claim a slot.",
                    }),
                },
                build: |nodes, bound| {
                    Box::new(ClaimedWithin {
                        bound: bound.expect("claimed_within takes a bound"),
                        nodes,
                        claimed: Vec::new(),
                    })
                },
            },
        ]
    }
    fn new(_: NodeId, _: &[NodeId], config: &ClaimsConfig, _: Option<&DiskOf<Self>>) -> Self {
        Claims {
            clash: config.clash,
        }
    }
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let slot = if self.clash { 0 } else { ctx.id().0.into() };
        ctx.fact(ClaimFact::Claimed { slot });
    }
    fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
}

fn scenario(registry: &Registry, protocol_table: &str, check: &str) -> Scenario {
    let text = format!(
        "name = \"claims\"\nduration = \"1s\"\n[cluster]\nnodes = [\"A\", \"B\", \"C\"]\n\
         protocol = \"claims\"\n{protocol_table}{check}"
    );
    Scenario::parse_with("claims.toml", &text, &registry.catalog()).unwrap()
}

#[test]
fn a_protocol_s_own_invariant_fails_on_its_own_facts_when_the_design_is_broken() {
    let registry = Registry::builtin().with::<Claims>();
    let options = RunOptions {
        capture: true,
        ..RunOptions::default()
    };
    let broken = scenario(&registry, "[protocol]\nclash = true\n", "");
    let out = registry.run(&broken, &options, None).unwrap();
    assert_eq!(out.report.verdict, Verdict::Violation);
    let inv = &out.report.invariants[0];
    assert_eq!(inv.name, "unique_claims");
    let Status::Violated(v) = &inv.status else {
        panic!("{:?}", inv.status)
    };
    assert_eq!(v.message, "A and B both claim slot 0");
    assert_eq!(
        out.report.exit_code(),
        crate::run::exit::ExitCode::SafetyViolated
    );
    // The facts are trace records of their own, with the protocol's words.
    let records = out.records.unwrap();
    let facts: Vec<&String> = records.iter().filter(|l| l.contains("\"fact\"")).collect();
    assert_eq!(facts.len(), 3, "{records:?}");
    assert!(
        facts[1].contains(r#""fact":{"claimed":{"slot":0}}"#) && facts[1].contains(r#""node":"B""#),
        "{}",
        facts[1]
    );

    let sound = scenario(&registry, "", "[check]\ninvariants = [\"unique_claims\"]\n");
    let out2 = registry.run(&sound, &options, None).unwrap();
    assert_eq!(out2.report.verdict, Verdict::Pass);
    assert_eq!(out2.report.invariants[0].status, Status::Pass);
    // A fact is hashed: other claims, another trace.
    assert_ne!(out.report.trace_hash, out2.report.trace_hash);
}

#[test]
fn a_protocol_s_own_invariant_is_named_only_for_that_protocol() {
    let text = "name = \"r\"\nduration = \"1s\"\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n\
                [check]\ninvariants = [\"unique_claims\"]\n";
    let catalog = Registry::builtin().with::<Claims>().catalog();
    let e = Scenario::parse_with("r.toml", text, &catalog)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("r.toml:7:"), "{e}");
    assert!(e.contains("unknown invariant `unique_claims`"), "{e}");
}

#[test]
fn a_protocol_s_own_bounded_invariant_is_enabled_by_its_bound_in_check() {
    let registry = Registry::builtin().with::<Claims>();
    let bounded = scenario(&registry, "", "[check]\nclaimed_within = \"250ms\"\n");
    let out = registry
        .run(&bounded, &RunOptions::default(), None)
        .unwrap();
    let names: Vec<&str> = out
        .report
        .invariants
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["unique_claims", "claimed_within 250ms"],
        "the defaults, then the invariant its bound enabled, holding that bound"
    );
    assert_eq!(out.report.invariants[1].status, Status::Pass);
    // Without its key, it is not checked.
    let plain = scenario(&registry, "", "");
    let out = registry.run(&plain, &RunOptions::default(), None).unwrap();
    assert_eq!(out.report.invariants.len(), 1);
}
