//! Scenario files in, world types or located errors out. Every error test asserts the exact
//! line and column and the part of the message that tells the user what to write instead.

use schemars::JsonSchema;
use serde::Deserialize;

use super::*;
use crate::node::Duration;
use crate::world::{FaultAction, Latency, Origin, Rhythm, Shape, Target};

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// A stand-in for a protocol's `[protocol]` table.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // heartbeat_interval is there to be mistyped
struct TestConfig {
    election_timeout: Option<Vec<Duration>>,
    heartbeat_interval: Option<Duration>,
}

/// The catalogue the tests parse against, whatever the real one holds.
pub(super) fn catalog() -> Vec<ProtocolInfo> {
    vec![
        ProtocolInfo {
            name: "raft",
            summary: "stand-in",
            default_invariants: &["election_safety", "no_split_brain"],
            config_schema: || schemars::schema_for!(TestConfig),
            invariants: Vec::new,
            narrate_message: |_, _| None,
            workload_kind: "kv",
            workload_schema: || schemars::schema_for!(crate::workload::kind::NoOptions),
            linearizable: true,
            traitors: false,
        },
        ProtocolInfo {
            name: "heartbeat",
            summary: "stand-in",
            default_invariants: &["strong_accuracy"],
            config_schema: || schemars::schema_for!(TestConfig),
            invariants: Vec::new,
            narrate_message: |_, _| None,
            workload_kind: "kv",
            workload_schema: || schemars::schema_for!(crate::workload::kind::NoOptions),
            linearizable: true,
            // Stands in for a protocol with traitors, for the `byzantine` fault's tests.
            traitors: true,
        },
    ]
}

pub(super) fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse_with("s.toml", text, &catalog())
}

/// Six lines: a valid scenario to append sections to (they start on line 7).
const BASE: &str = "name = \"t\"
duration = \"10s\"

[cluster]
nodes = [\"A\", \"B\", \"C\", \"D\", \"E\"]
protocol = \"raft\"
";

pub(super) fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

/// Asserts the error's position and that its message contains `needle` (shared with the other
/// scenario modules' tests).
#[track_caller]
pub(super) fn assert_error(text: &str, line: usize, column: usize, needle: &str) {
    let err = match parse(text) {
        Ok(_) => panic!("expected an error containing {needle:?}"),
        Err(e) => e,
    };
    assert_eq!(
        (err.line, err.column),
        (line, column),
        "position of: {}",
        err.message
    );
    assert!(
        err.message.contains(needle),
        "message {:?} lacks {needle:?}",
        err.message
    );
    assert_eq!(err.file, "s.toml");
}

const FULL: &str = r#"name = "full"
description = "every section"
seed = 7
duration = "10s"
max_events = 1000000

[cluster]
nodes = ["A", "B", "C", "D", "E"]
protocol = "raft"

[protocol]
election_timeout = ["150ms", "300ms"]

[network]
latency = { dist = "uniform", min = "1ms", max = "10ms" }
loss = 0.01
duplicate = 0
reorder = true

[clocks]
A = { offset = "-20ms", drift_ppm = 100 }
C = { drift_ppm = -50 }

[[faults]]
at = "2s"
partition = [["leader", "B"], ["C", "D"]]
for = "1s"

[[faults]]
at = "3s"
cut = { from = "A", to = ["B", "C"] }

[[faults]]
at = "4s"
heal = true

[[faults]]
at = "5s"
clock_jump = "random-follower"
by = "-500ms"

[[faults]]
at = "6s"
clock_drift = "E"
ppm = -500000

[[faults]]
at = "7s"
crash = "leader"
for = "500ms"

[nemesis]
partition = { every = ["1s", "3s"], last = ["200ms", "2s"], shapes = ["halves", "isolate"] }
crash = { every = ["2s", "4s"], last = ["100ms", "1s"] }
clock_jump = { every = ["1s", "2s"], by = ["-100ms", "100ms"], target = "A" }

[check]
invariants = ["election_safety", "no_split_brain"]
leader_within = "2s"

[expect]
verdict = "violation"
violates = ["no_split_brain"]
"#;

// ---- valid scenarios --------------------------------------------------------------------------

#[test]
fn a_full_scenario_converts_to_world_types() {
    let s = parse(FULL).unwrap();
    assert_eq!(s.file, "s.toml");
    assert_eq!(s.name, "full");
    assert_eq!(s.description, "every section");
    assert_eq!((s.seed, s.duration, s.max_events), (7, 10 * S, 1_000_000));
    assert_eq!(s.nodes, ["A", "B", "C", "D", "E"]);
    assert_eq!(s.protocol, "raft");
    assert_eq!(
        s.link,
        LinkModel {
            latency: Latency::Uniform {
                min: MS,
                max: 10 * MS
            },
            loss: 0.01,
            duplicate: 0.0,
            reorder: true,
        }
    );
    assert_eq!(s.clocks.len(), 5);
    assert_eq!(s.clocks[0], Clock::new(-20 * MS as i64, 100));
    assert_eq!(s.clocks[1], Clock::honest());
    assert_eq!(s.clocks[2], Clock::new(0, -50));

    assert_eq!(s.faults.len(), 6);
    assert_eq!(
        s.faults[0],
        FaultSpec {
            at: 2 * S,
            action: FaultAction::Partition(Shape::Groups(vec![
                vec![Target::Leader, Target::Node(1)],
                vec![Target::Node(2), Target::Node(3)],
            ])),
            lasting: Some(S),
            origin: Origin::Schedule(0),
        }
    );
    assert_eq!(
        s.faults[1].action,
        FaultAction::Cut {
            from: vec![Target::Node(0)],
            to: vec![Target::Node(1), Target::Node(2)],
        }
    );
    assert_eq!(s.faults[2].action, FaultAction::Heal);
    assert_eq!(
        s.faults[3].action,
        FaultAction::ClockJump {
            target: Target::RandomFollower,
            by: -500 * MS as i64,
        }
    );
    assert_eq!(
        s.faults[4].action,
        FaultAction::ClockDrift {
            target: Target::Node(4),
            ppm: -500_000,
        }
    );
    assert_eq!(
        (&s.faults[5].action, s.faults[5].lasting, s.faults[5].origin),
        (
            &FaultAction::Crash(Target::Leader),
            Some(500 * MS),
            Origin::Schedule(5)
        )
    );

    let nemesis = s.nemesis.as_ref().unwrap();
    assert_eq!(nemesis.until, 7_500 * MS, "3/4 of 10s by default");
    let (rhythm, shapes) = nemesis.partition.as_ref().unwrap();
    assert_eq!(
        *rhythm,
        Rhythm {
            every: (S, 3 * S),
            last: (200 * MS, 2 * S)
        }
    );
    assert_eq!(*shapes, [Shape::Halves, Shape::Isolate(Target::Random)]);
    assert_eq!(nemesis.crash.as_ref().unwrap().1, Target::Random);
    assert!(nemesis.pause.is_none());
    let (_, by, target) = nemesis.clock_jump.as_ref().unwrap();
    assert_eq!(
        (*by, target),
        ((-100 * MS as i64, 100 * MS as i64), &Target::Node(0))
    );

    assert_eq!(
        s.check,
        CheckSpec {
            invariants: Some(vec!["election_safety".into(), "no_split_brain".into()]),
            bounds: BTreeMap::from([("leader_within".to_string(), 2 * S)]),
        }
    );
    assert_eq!(
        s.expect,
        Some(Expect {
            verdict: ExpectedVerdict::Violation,
            violates: vec!["no_split_brain".into()],
        })
    );
    let config: TestConfig = s.protocol_config().unwrap();
    assert_eq!(
        config.election_timeout,
        Some(vec![Duration::from_millis(150), Duration::from_millis(300)])
    );
}

#[test]
fn world_spec_puts_scripted_faults_first_then_the_nemesis_schedule() {
    let s = parse(FULL).unwrap();
    let spec = s.world_spec(3);
    assert_eq!(spec.seed, 3);
    assert_eq!(spec.names, s.nodes);
    assert_eq!((spec.duration, spec.max_events), (10 * S, 1_000_000));
    assert_eq!(spec.clocks, s.clocks);
    assert_eq!(spec.faults[..6], s.faults[..]);
    let drawn = &spec.faults[6..];
    assert!(drawn.len() > 3, "the nemesis drew faults");
    assert!(
        drawn[..drawn.len() - 1]
            .iter()
            .all(|f| f.origin == Origin::Nemesis && f.at < 7_500 * MS)
    );
    let last = drawn.last().unwrap();
    assert_eq!(
        (&last.action, last.at, last.origin),
        (&FaultAction::Recover, 7_500 * MS, Origin::FinalHeal)
    );
    assert_eq!(
        s.world_spec(3).faults,
        spec.faults,
        "same seed, same faults"
    );
    assert_ne!(s.world_spec(4).faults, spec.faults);
}

#[test]
fn nodes_given_as_a_count_are_named_n1_to_nn_and_defaults_apply() {
    let s = parse("name = \"t\"\nduration = \"1s\"\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n")
        .unwrap();
    assert_eq!(s.nodes, ["n1", "n2", "n3"]);
    assert_eq!(s.clocks, vec![Clock::honest(); 3]);
    assert_eq!((s.seed, s.max_events), (1, 50_000_000));
    assert_eq!(s.description, "");
    assert_eq!(s.link, LinkModel::default());
    assert!(s.faults.is_empty() && s.nemesis.is_none() && s.expect.is_none());
    assert_eq!(s.check, CheckSpec::default());
    let config: TestConfig = s.protocol_config().unwrap();
    assert!(
        config.election_timeout.is_none(),
        "no [protocol]: the default"
    );
}

#[test]
fn latency_accepts_every_distribution() {
    for (written, expected) in [
        ("\"5ms\"", Latency::Constant(5 * MS)),
        (
            "{ dist = \"constant\", value = \"2ms\" }",
            Latency::Constant(2 * MS),
        ),
        (
            "{ dist = \"normal\", mean = \"5ms\", stddev = \"1ms\" }",
            Latency::Normal {
                mean: 5 * MS,
                stddev: MS,
            },
        ),
        (
            "{ dist = \"lognormal\", median = \"5ms\", sigma = 0.5 }",
            Latency::LogNormal {
                median: 5 * MS,
                sigma: 0.5,
            },
        ),
        (
            "{ dist = \"exponential\", mean = \"2ms\" }",
            Latency::Exponential {
                mean: 2 * MS,
                min: 0,
            },
        ),
        (
            "{ dist = \"exponential\", mean = \"2ms\", min = \"1ms\" }",
            Latency::Exponential {
                mean: 2 * MS,
                min: MS,
            },
        ),
    ] {
        let s = parse(&with(&format!("[network]\nlatency = {written}\n"))).unwrap();
        assert_eq!(s.link.latency, expected, "{written}");
    }
}

#[test]
fn partition_shapes_and_targets_convert() {
    let s = parse(&with(
        "[[faults]]\nat = \"1s\"\npartition = \"ring\"\n\
         [[faults]]\nat = \"1s\"\npartition = { bridge = \"C\" }\n\
         [[faults]]\nat = \"1s\"\npartition = { isolate = \"leader\" }\n\
         [[faults]]\nat = \"1s\"\npause = \"minority\"\n\
         [[faults]]\nat = \"2s\"\nresume = \"majority\"\n",
    ))
    .unwrap();
    let actions: Vec<_> = s.faults.iter().map(|f| f.action.clone()).collect();
    assert_eq!(
        actions,
        [
            FaultAction::Partition(Shape::Ring),
            FaultAction::Partition(Shape::Bridge(Target::Node(2))),
            FaultAction::Partition(Shape::Isolate(Target::Leader)),
            FaultAction::Pause(Target::Minority),
            FaultAction::Resume(Target::Majority),
        ]
    );
}

#[test]
fn nemesis_defaults_to_every_shape_and_a_random_target() {
    let s = parse(&with(
        "[nemesis]\nuntil = \"8s\"\n\
         partition = { every = [\"1s\", \"3s\"], last = [\"200ms\", \"2s\"] }\n\
         pause = { every = [\"1s\", \"3s\"], last = [\"200ms\", \"2s\"], target = \"leader\" }\n",
    ))
    .unwrap();
    let nemesis = s.nemesis.unwrap();
    assert_eq!(nemesis.until, 8 * S);
    assert_eq!(
        nemesis.partition.unwrap().1,
        [
            Shape::Halves,
            Shape::MajorityMinority,
            Shape::Ring,
            Shape::Isolate(Target::Random),
            Shape::Bridge(Target::Random),
        ]
    );
    assert_eq!(nemesis.pause.unwrap().1, Target::Leader);
}

// ---- unknown keys and wrong types ------------------------------------------------------------

#[test]
fn unknown_top_level_key_is_an_error_at_the_key() {
    assert_error(
        "name = \"t\"\nduration = \"10s\"\ncolour = \"red\"\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n",
        3,
        1,
        "unknown key `colour`; expected one of `name`, `description`",
    );
}

#[test]
fn unknown_key_in_cluster_names_the_table_and_the_keys_it_takes() {
    assert_error(
        "name = \"t\"\nduration = \"10s\"\n[cluster]\nnodes = 3\nprotocol = \"raft\"\nreplicas = 3\n",
        6,
        1,
        "unknown key `replicas` in [cluster]; expected `nodes` or `protocol`",
    );
}

#[test]
fn unknown_key_in_a_fault_is_an_error_at_the_key() {
    assert_error(
        &with("[[faults]]\nat = \"1s\"\nheals = true\n"),
        9,
        1,
        "unknown key `heals` in [[faults]]; expected one of `at`, `for`, `partition`",
    );
}

#[test]
fn wrong_type_says_what_was_expected() {
    assert_error(
        "name = \"t\"\nduration = \"10s\"\nseed = \"one\"\n",
        3,
        8,
        "invalid type: string \"one\", expected a non-negative integer",
    );
    assert_error(
        &with("[network]\nreorder = \"yes\"\n"),
        8,
        11,
        "expected a boolean",
    );
    assert_error(
        "name = \"t\"\nduration = \"10s\"\ncluster = 5\n",
        3,
        11,
        "expected a table",
    );
}

#[test]
fn bad_duration_is_an_error_at_the_value() {
    assert_error(
        "name = \"t\"\nduration = \"10 parsecs\"\n",
        2,
        12,
        "unknown unit `parsecs`",
    );
    assert_error(
        "name = \"t\"\nduration = \"0s\"\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n",
        2,
        12,
        "duration must be more than zero",
    );
}

#[test]
fn missing_key_points_at_its_table_and_says_what_it_is_for() {
    let err = parse("name = \"t\"\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "s.toml:1:1: missing key `duration` (the virtual time the run lasts, e.g. \"10s\")"
    );
    assert_error(
        "name = \"t\"\nduration = \"10s\"\n\n[cluster]\nnodes = 3\n",
        4,
        1,
        "missing key `protocol` in [cluster] (the protocol the nodes run, e.g. \"raft\")",
    );
    assert_error(
        "name = \"t\"\nduration = \"10s\"\n",
        1,
        1,
        "missing table [cluster]",
    );
}

// ---- the cluster ------------------------------------------------------------------------------

#[test]
fn empty_cluster_is_an_error() {
    let text = |nodes: &str| {
        format!(
            "name = \"t\"\nduration = \"10s\"\n[cluster]\nnodes = {nodes}\nprotocol = \"raft\"\n"
        )
    };
    assert_error(&text("[]"), 4, 9, "nodes = [] lists none");
    assert_error(&text("0"), 4, 9, "at least one node, not 0");
    assert_error(&text("1001"), 4, 9, "at most 1000 nodes");
}

#[test]
fn duplicate_node_name_is_an_error_at_the_second() {
    assert_error(
        "name = \"t\"\nduration = \"10s\"\n\n[cluster]\nnodes = [\"A\", \"B\", \"A\"]\nprotocol = \"raft\"\n",
        5,
        20,
        "node `A` is listed twice",
    );
}

#[test]
fn node_names_cannot_be_target_words_or_odd_characters() {
    let text = |nodes: &str| {
        format!(
            "name = \"t\"\nduration = \"10s\"\n[cluster]\nnodes = {nodes}\nprotocol = \"raft\"\n"
        )
    };
    assert_error(
        &text("[\"A\", \"leader\"]"),
        4,
        15,
        "`leader` cannot name a node",
    );
    assert_error(&text("[\"A B\"]"), 4, 10, "contains ` `");
    assert_error(&text("[\"A\", 7]"), 4, 15, "expected a node name");
}

#[test]
fn unknown_protocol_lists_the_known_ones() {
    assert_error(
        "name = \"t\"\nduration = \"10s\"\n[cluster]\nnodes = 3\nprotocol = \"paxos\"\n",
        5,
        12,
        "unknown protocol `paxos`; the protocols are raft, heartbeat",
    );
}

// ---- network and clocks -----------------------------------------------------------------------

#[test]
fn probability_outside_zero_to_one_is_an_error_at_the_value() {
    assert_error(
        &with("[network]\nloss = 1.5\n"),
        8,
        8,
        "1.5 is not a probability: expected a number between 0 and 1",
    );
    assert_error(
        &with("[network]\nduplicate = -1\n"),
        8,
        13,
        "-1 is not a probability",
    );
}

#[test]
fn latency_errors_name_the_distribution() {
    assert_error(
        &with("[network]\nlatency = { dist = \"uniform\", min = \"9ms\", max = \"1ms\" }\n"),
        8,
        11,
        "min = \"9ms\" is above max = \"1ms\"",
    );
    assert_error(
        &with("[network]\nlatency = { dist = \"gamma\", mean = \"1ms\" }\n"),
        8,
        20,
        "unknown value `gamma`, expected one of `constant`, `uniform`",
    );
    assert_error(
        &with("[network]\nlatency = { dist = \"uniform\", min = \"1ms\" }\n"),
        8,
        11,
        "missing key `max`",
    );
    assert_error(
        &with(
            "[network]\nlatency = { dist = \"normal\", mean = \"1ms\", stddev = \"1ms\", sigma = 1 }\n",
        ),
        8,
        11,
        "unknown key `sigma`",
    );
    assert_error(
        &with("[network]\nlatency = 5\n"),
        8,
        11,
        "expected a latency",
    );
}

#[test]
fn unknown_node_in_clocks_is_an_error_at_the_key() {
    assert_error(
        &with("[clocks]\nA = { drift_ppm = 5 }\nZ = { drift_ppm = 5 }\n"),
        9,
        1,
        "unknown node `Z` in [clocks]; the nodes are A, B, C, D, E",
    );
}

#[test]
fn clock_drift_outside_its_range_is_an_error() {
    assert_error(
        &with("[clocks]\nB = { drift_ppm = -1000000 }\n"),
        8,
        19,
        "a drift of -1000000 ppm is out of range: expected -999999 to 1000000",
    );
}

// ---- faults -----------------------------------------------------------------------------------

#[test]
fn unknown_node_in_a_fault_target_names_the_known_nodes() {
    assert_error(
        &with("[[faults]]\nat = \"1s\"\ncrash = \"Z\"\n"),
        9,
        9,
        "unknown node `Z`; the nodes are A, B, C, D, E (a target may also be leader, random",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\ncut = { from = \"A\", to = [\"B\", \"Q\"] }\n"),
        9,
        32,
        "unknown node `Q`",
    );
}

#[test]
fn a_fault_with_no_action_is_an_error_at_the_entry() {
    assert_error(
        &with("\n[[faults]]\nat = \"1s\"\n"),
        8,
        1,
        "this fault has no action; give exactly one of partition, cut, heal",
    );
}

#[test]
fn a_fault_with_two_actions_is_an_error_at_the_entry() {
    assert_error(
        &with("[[faults]]\nat = \"1s\"\ncrash = \"A\"\npause = \"B\"\n"),
        7,
        1,
        "this fault has 2 actions (`crash`, `pause`)",
    );
}

#[test]
fn for_on_heal_is_an_error_at_the_key() {
    assert_error(
        &with(
            "[[faults]]\nat = \"1s\"\nheal = true\n\n[[faults]]\nat = \"2s\"\nheal = true\nfor = \"1s\"\n",
        ),
        14,
        1,
        "`for` does not apply to `heal`",
    );
}

#[test]
fn heal_must_be_true() {
    assert_error(
        &with("[[faults]]\nat = \"1s\"\nheal = false\n"),
        9,
        8,
        "heal = false does nothing",
    );
}

#[test]
fn clock_jump_needs_by_and_by_needs_clock_jump() {
    assert_error(
        &with("[[faults]]\nat = \"1s\"\nclock_jump = \"A\"\n"),
        7,
        1,
        "clock_jump needs `by`",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\ncrash = \"A\"\nby = \"1s\"\n"),
        10,
        1,
        "`by` goes only with clock_jump",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\nclock_drift = \"A\"\n"),
        7,
        1,
        "clock_drift needs `ppm`",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\nclock_jump = \"A\"\nby = \"48h\"\n"),
        10,
        6,
        "too large",
    );
}

#[test]
fn a_byzantine_fault_is_read_written_back_and_refused_by_a_protocol_without_traitors() {
    // The stand-in `heartbeat` models traitors; `raft` does not.
    let traitors = |faults: &str| {
        format!(
            "{}{faults}",
            BASE.replace("protocol = \"raft\"", "protocol = \"heartbeat\"")
        )
    };
    let s = parse(&traitors(
        "[[faults]]\nat = \"0s\"\nbyzantine = \"D\"\n\n[[faults]]\nat = \"1s\"\nbyzantine = [\"B\", \"random\"]\n",
    ))
    .unwrap();
    assert_eq!(
        s.faults[0].action,
        FaultAction::Byzantine(vec![Target::Node(3)])
    );
    assert_eq!(
        s.faults[1].action,
        FaultAction::Byzantine(vec![Target::Node(1), Target::Random])
    );
    assert_eq!(s.faults[1].at, S);
    // Written back as read.
    let again = parse(&s.to_toml().unwrap()).unwrap();
    assert_eq!(again.faults, s.faults);
    // A protocol without traitors refuses it at the key, rather than ignore it.
    assert_error(
        &with("[[faults]]\nat = \"1s\"\nbyzantine = \"A\"\n"),
        9,
        13,
        "protocol `raft` does not model traitors, so a byzantine fault would do nothing",
    );
    // A traitor is for good: no `for`; and the targets must exist.
    assert_error(
        &traitors("[[faults]]\nat = \"1s\"\nbyzantine = \"A\"\nfor = \"1s\"\n"),
        10,
        1,
        "`for` does not apply to `byzantine`",
    );
    assert_error(
        &traitors("[[faults]]\nat = \"1s\"\nbyzantine = [\"A\", \"Z\"]\n"),
        9,
        19,
        "unknown node `Z`",
    );
    assert_error(
        &traitors("[[faults]]\nat = \"1s\"\nbyzantine = []\n"),
        9,
        13,
        "the list of targets must not be empty",
    );
}

#[test]
fn a_delay_spike_is_read_written_back_and_checked() {
    let s = parse(&with(
        "[[faults]]\nat = \"1s\"\ndelay = \"B\"\nby = \"250ms\"\nfor = \"2s\"\n\n[nemesis]\ndelay = { every = [\"1s\", \"2s\"], last = [\"100ms\", \"1s\"], by = [\"20ms\", \"400ms\"], target = \"leader\" }\n",
    ))
    .unwrap();
    assert_eq!(
        s.faults[0].action,
        FaultAction::Delay {
            target: Target::Node(1),
            by: 250 * MS
        }
    );
    assert_eq!(s.faults[0].lasting, Some(2 * S));
    let (rhythm, by, target) = s.nemesis.as_ref().unwrap().delay.clone().unwrap();
    assert_eq!(rhythm.last, (100 * MS, S));
    assert_eq!((by, target), ((20 * MS, 400 * MS), Target::Leader));
    // Written back as read: the scripted spike and the nemesis's kind.
    let again = parse(&s.to_toml().unwrap()).unwrap();
    assert_eq!(again.faults, s.faults);
    assert_eq!(again.nemesis, s.nemesis);
    // Errors at the key that is wrong.
    assert_error(
        &with("[[faults]]\nat = \"1s\"\ndelay = \"A\"\n"),
        7,
        1,
        "delay needs `by`, the extra latency",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\ndelay = \"A\"\nby = \"-5ms\"\n"),
        10,
        6,
        "a delay of -5ms slows nothing; expected an extra latency above zero",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\ndelay = \"A\"\nby = \"2min\"\n"),
        10,
        6,
        "a delay of 2m is too large: at most 1m (a longer outage is a partition)",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\npause = \"A\"\nby = \"1s\"\n"),
        10,
        1,
        "`by` goes only with clock_jump (the size of the step) or delay (the extra latency)",
    );
    assert_error(
        &with(
            "[nemesis]\ndelay = { every = [\"1s\", \"2s\"], last = [\"1s\", \"2s\"], by = [\"0ms\", \"9ms\"] }\n",
        ),
        8,
        59,
        "a delay of 0s slows nothing",
    );
}

#[test]
fn fault_at_or_after_the_end_is_an_error() {
    assert_error(
        &with("[[faults]]\nat = \"10s\"\nheal = true\n"),
        8,
        6,
        "at = \"10s\" is not before the end of the run (duration = \"10s\")",
    );
}

#[test]
fn partition_errors_are_precise() {
    assert_error(
        &with("[[faults]]\nat = \"1s\"\npartition = \"isolate\"\n"),
        9,
        13,
        "`isolate` needs a node: write partition = { isolate = \"leader\" }",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\npartition = \"thirds\"\n"),
        9,
        13,
        "unknown partition shape `thirds`",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\npartition = [[\"A\", \"B\"], [\"C\", \"A\"]]\n"),
        9,
        32,
        "node `A` is named twice in this partition",
    );
    assert_error(
        &with("[[faults]]\nat = \"1s\"\npartition = [\"A\", \"B\"]\n"),
        9,
        14,
        "expected a group",
    );
}

// ---- nemesis ----------------------------------------------------------------------------------

#[test]
fn range_with_min_above_max_is_an_error_at_the_range() {
    assert_error(
        &with("[nemesis]\ncrash = { every = [\"3s\", \"1s\"], last = [\"1s\", \"2s\"] }\n"),
        8,
        19,
        "the range [\"3s\", \"1s\"] has its min above its max",
    );
    assert_error(
        &with("[nemesis]\ncrash = { every = [\"1s\"], last = [\"1s\", \"2s\"] }\n"),
        8,
        19,
        "expected a range of two values [min, max]",
    );
}

#[test]
fn nemesis_without_a_fault_kind_is_an_error() {
    assert_error(
        &with("\n[nemesis]\nuntil = \"5s\"\n"),
        8,
        1,
        "[nemesis] has no fault kind",
    );
}

#[test]
fn nemesis_limits_are_checked() {
    let crash = "crash = { every = [\"1s\", \"2s\"], last = [\"1s\", \"2s\"] }";
    assert_error(
        &with(&format!("[nemesis]\nuntil = \"11s\"\n{crash}\n")),
        8,
        9,
        "until = \"11s\" is after the end of the run (duration = \"10s\")",
    );
    assert_error(
        &with("[nemesis]\ncrash = { every = [\"0s\", \"2s\"], last = [\"1s\", \"2s\"] }\n"),
        8,
        19,
        "every's minimum must be more than zero",
    );
    assert_error(
        &with("[nemesis]\ncrash = { every = [\"1us\", \"2s\"], last = [\"1s\", \"2s\"] }\n"),
        8,
        19,
        "the limit is 100000 per kind",
    );
    assert_error(
        &with(
            "[nemesis]\npartition = { every = [\"1s\", \"2s\"], last = [\"1s\", \"2s\"], shapes = [\"wedge\"] }\n",
        ),
        8,
        68,
        "unknown value `wedge`",
    );
}

// ---- check and expect -------------------------------------------------------------------------

#[test]
fn unknown_invariant_lists_the_known_ones() {
    assert_error(
        &with("[check]\ninvariants = [\"election_safety\", \"sequential\"]\n"),
        8,
        34,
        "unknown invariant `sequential`; the invariants are election_safety, no_split_brain, strong_accuracy",
    );
    assert_error(
        &with("[check]\ninvariants = [\"leader_within\"]\n"),
        8,
        15,
        "write leader_within = \"2s\" in [check]",
    );
    assert_error(&with("[check]\ninvariants = []\n"), 8, 1, "checks nothing");
}

#[test]
fn expectations_must_be_checkable() {
    assert_error(
        &with("[expect]\nverdict = \"pass\"\nviolates = [\"no_split_brain\"]\n"),
        9,
        12,
        "verdict is \"pass\"",
    );
    assert_error(
        &with("[expect]\nverdict = \"violation\"\nviolates = [\"leader_within\"]\n"),
        9,
        13,
        "[check] sets no leader_within bound",
    );
    assert_error(
        &with("[expect]\nverdict = \"violation\"\nviolates = [\"strong_accuracy\"]\n"),
        9,
        13,
        "[check] lists no invariants, and raft's defaults are election_safety, no_split_brain",
    );
    assert_error(
        &with("[expect]\nverdict = \"maybe\"\n"),
        8,
        11,
        "unknown value `maybe`",
    );
}

// ---- TOML syntax and files --------------------------------------------------------------------

#[test]
fn invalid_toml_syntax_is_located() {
    assert_error("name = \"t\"\nduration = \"10s\n", 2, 16, "invalid TOML");
    assert_error("name = \"t\"\n[cluster\n", 2, 9, "invalid TOML");
}

#[test]
fn a_file_that_cannot_be_read_has_no_line() {
    let err = Scenario::load(std::path::Path::new("/no/such/dir/missing.toml")).unwrap_err();
    assert_eq!((err.line, err.column), (0, 0));
    assert_eq!(err.file, "/no/such/dir/missing.toml");
    assert!(
        err.to_string()
            .starts_with("/no/such/dir/missing.toml: cannot read the scenario: "),
        "{err}"
    );
}

// ---- the [protocol] table and error_at --------------------------------------------------------

#[test]
fn protocol_config_errors_are_located_in_the_file() {
    let s = parse(&with(
        "[protocol]\nelection_timeout = [\"150ms\", \"300ms\"]\nelection_timout = \"1s\"\n",
    ))
    .unwrap();
    let err = s.protocol_config::<TestConfig>().unwrap_err();
    assert_eq!((err.line, err.column), (9, 1));
    assert!(
        err.message
            .starts_with("unknown key `election_timout` in [protocol]; expected `election_timeout` or `heartbeat_interval`"),
        "{}",
        err.message
    );

    let s = parse(&with("[protocol]\nheartbeat_interval = 50\n")).unwrap();
    let err = s.protocol_config::<TestConfig>().unwrap_err();
    assert_eq!((err.line, err.column), (8, 22));
    assert!(
        err.message.contains("expected a duration"),
        "{}",
        err.message
    );
}

#[test]
fn a_protocol_table_that_is_not_a_table_is_an_error() {
    assert_error(
        "name = \"t\"\nduration = \"10s\"\nprotocol = 5\n[cluster]\nnodes = 3\nprotocol = \"raft\"\n",
        3,
        12,
        "expected the protocol's settings",
    );
}

#[test]
fn error_at_locates_nested_keys_and_falls_back_to_parents() {
    let s = parse(FULL).unwrap();
    let at = |path: &[&str]| {
        let e = s.error_at(path, "here");
        assert_eq!(e.message, "here");
        (e.line, e.column)
    };
    assert_eq!(at(&["protocol", "election_timeout"]), (12, 1));
    assert_eq!(at(&["network", "latency", "max"]), (15, 44));
    assert_eq!(at(&["faults", "3", "by"]), (40, 1));
    // Missing keys fall back to the nearest parent that exists, then to 1:1.
    assert_eq!(at(&["protocol", "heartbeat_interval"]), (11, 2));
    assert_eq!(at(&["faults", "1", "for"]), (29, 1));
    assert_eq!(at(&["workload", "clients"]), (1, 1));
    assert_eq!(
        s.error_at(&["protocol", "election_timeout"], "too short")
            .to_string(),
        "s.toml:12:1: too short"
    );
}

// ---- [workload] ---------------------------------------------------------------------------------

#[test]
fn a_workload_is_read_with_its_defaults() {
    let s = parse(&with(
        "[workload]\nclients = 3\nrate = \"20/s\"\nmix = { get = 0.5, put = 0.3, append = 0.1, cas = 0.1 }\nkeys = 2\ntimeout = \"500ms\"\nretry = \"50ms\"\nstart = \"1s\"\nstop = \"9s\"\n",
    ))
    .unwrap();
    let w = s.workload.unwrap();
    assert_eq!(w.clients, 3);
    assert_eq!(w.think_mean, 50 * MS);
    assert_eq!(
        (w.mix.get, w.mix.put, w.mix.append, w.mix.cas),
        (0.5, 0.3, 0.1, 0.1)
    );
    assert_eq!((w.keys, w.timeout, w.retry), (2, 500 * MS, 50 * MS));
    assert_eq!((w.start, w.stop), (S, 9 * S));

    let s = parse(&with("[workload]\nclients = 1\nrate = \"2/ms\"\n")).unwrap();
    let w = s.workload.unwrap();
    assert_eq!(w.think_mean, 500_000);
    assert_eq!((w.keys, w.timeout, w.retry), (4, S, 100 * MS));
    assert_eq!((w.start, w.stop), (0, 10 * S));
    assert_eq!((w.mix.get, w.mix.put, w.mix.cas), (1.0, 1.0, 0.0));
    assert!(parse(BASE).unwrap().workload.is_none());
}

#[test]
fn a_workload_kind_is_the_protocols() {
    let w = |body: &str| with(&format!("[workload]\nclients = 1\nrate = \"1/s\"\n{body}"));
    assert_eq!(
        parse(&w("kind = \"kv\"\n")).unwrap().workload,
        parse(&w("")).unwrap().workload,
        "kv is the test protocols' kind, and the default"
    );
    assert_error(
        &w("kind = \"bank\"\n"),
        10,
        8,
        "protocol raft serves the kv workload, not `bank`: write kind = \"kv\" or leave kind out",
    );
}

#[test]
fn workload_errors_point_at_the_value() {
    let w = |body: &str| with(&format!("[workload]\n{body}"));
    assert_error(
        &w("clients = 3\nrate = \"20/s\"\nthreads = 2\n"),
        10,
        1,
        "unknown key `threads` in [workload]",
    );
    assert_error(
        &w("clients = 0\nrate = \"20/s\"\n"),
        8,
        11,
        "clients must be at least 1",
    );
    assert_error(
        &w("clients = -2\nrate = \"20/s\"\n"),
        8,
        11,
        "clients must be at least 1",
    );
    assert_error(
        &w("rate = \"20/s\"\n"),
        7,
        1,
        "missing key `clients` in [workload]",
    );
    assert_error(
        &w("clients = 2\nrate = \"0/s\"\n"),
        9,
        8,
        "a rate must be more than zero",
    );
    assert_error(
        &w("clients = 2\nrate = \"-5/s\"\n"),
        9,
        8,
        "a rate must be more than zero",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/h\"\n"),
        9,
        8,
        "expected s, ms or min",
    );
    assert_error(&w("clients = 2\nrate = 20\n"), 9, 8, "a rate such as");
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nmix = {}\n"),
        10,
        7,
        "at least one of get, put, append, cas",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nmix = { get = 0, put = 0 }\n"),
        10,
        7,
        "at least one of get, put, append, cas",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nmix = { read = 1 }\n"),
        10,
        9,
        "unknown key `read`",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nmix = { get = -1, put = 1 }\n"),
        10,
        15,
        "the weight of get must be a number ≥ 0",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nkeys = 0\n"),
        10,
        8,
        "keys must be at least 1",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\ntimeout = \"0ms\"\n"),
        10,
        11,
        "timeout must be more than zero",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\ntimeout = \"-5ms\"\n"),
        10,
        11,
        "",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nretry = \"0s\"\n"),
        10,
        9,
        "retry must be more than zero",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nstart = \"10s\"\n"),
        10,
        9,
        "start must be before the end of the run",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nstart = \"2s\"\nstop = \"2s\"\n"),
        11,
        8,
        "stop must be after start",
    );
    assert_error(
        &w("clients = 2\nrate = \"20/s\"\nstop = \"11s\"\n"),
        10,
        8,
        "stop must be at most the run's duration",
    );
    assert_error(
        &w("clients = 20000\nrate = \"20/s\"\n"),
        8,
        11,
        "clients must be at most 10000",
    );
}

#[test]
fn teaching_narration_is_read_in_time_order_and_written_back() {
    let s = parse(&with(
        "[teaching]\nnarration = [\n  { at = \"4s\", text = \"Then B.\" },\n  { at = \"1s\", text = \"First A.\" },\n  { at = \"4s\", text = \"And C.\" },\n]\n",
    ))
    .unwrap();
    let told: Vec<(u64, &str)> = s
        .narration
        .iter()
        .map(|l| (l.at, l.text.as_str()))
        .collect();
    // Sorted by time; lines at the same instant keep the order written.
    assert_eq!(
        told,
        [(S, "First A."), (4 * S, "Then B."), (4 * S, "And C.")]
    );
    let again = parse(&s.to_toml().unwrap()).unwrap();
    assert_eq!(again.narration, s.narration);
    // A tool that shortens the run drops the lines after its end, so the file still parses.
    let mut short = s.clone();
    short.duration = 2 * S;
    let shortened = parse(&short.to_toml().unwrap()).unwrap();
    assert_eq!(shortened.narration.len(), 1);
    assert_eq!(shortened.narration[0].text, "First A.");
    // No [teaching]: nothing written, nothing told.
    let plain = parse(BASE).unwrap();
    assert!(plain.narration.is_empty());
    assert!(!plain.to_toml().unwrap().contains("teaching"));
}

#[test]
fn teaching_cites_are_read_written_back_and_never_empty() {
    let s = parse(&with(
        "[teaching]\ncites = [\"seed text 004, 「分布式锁」\", \" seed text 001 \"]\n",
    ))
    .unwrap();
    assert_eq!(s.cites, ["seed text 004, 「分布式锁」", "seed text 001"]);
    assert!(s.narration.is_empty());
    let written = s.to_toml().unwrap();
    assert!(written.contains("cites = ["), "{written}");
    assert_eq!(parse(&written).unwrap().cites, s.cites);
    assert!(parse(BASE).unwrap().cites.is_empty());
    assert_error(
        &with("[teaching]\ncites = [\"\"]\n"),
        8,
        10,
        "citation is empty; expected the source text and its section",
    );
    assert_error(
        &with("[teaching]\ncites = [\"seed text 001\", \"seed text 001\"]\n"),
        8,
        27,
        "`seed text 001` is cited twice",
    );
}

#[test]
fn teaching_narration_errors_point_at_the_line() {
    assert_error(
        &with("[teaching]\nnarration = [{ at = \"11s\", text = \"late\" }]\n"),
        8,
        21,
        "narration at 11s is after the run ends (duration 10s)",
    );
    assert_error(
        &with("[teaching]\nnarration = [{ at = \"1s\", text = \"  \" }]\n"),
        8,
        34,
        "narration text is empty",
    );
    assert_error(
        &with("[teaching]\nnarration = [{ at = \"1s\", says = \"x\" }]\n"),
        8,
        27,
        "unknown key `says` in [[teaching.narration]]; expected `at` or `text`",
    );
    assert_error(
        &with("[teaching]\nnotes = 3\n"),
        8,
        1,
        "unknown key `notes` in [teaching]",
    );
}
