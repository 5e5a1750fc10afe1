//! The session lessons (`scenarios/sessions/`) tell the stories they promise: which client read
//! an older version from which replica after reading or writing a newer one elsewhere, that a
//! sticky session stays on one node, what breaks when its node crashes and what remains, that
//! version tokens hold where any-replica reads fail under the same nemesis, and how long
//! anti-entropy takes to bring the replicas together.

use crate::common;

use common::{MS, S, code, run, scratch, show, sim};

const ANY: &str = "scenarios/sessions/any-replica.toml";
const STICKY: &str = "scenarios/sessions/sticky.toml";
const STICKY_CRASH: &str = "scenarios/sessions/sticky-crash.toml";
const TOKEN: &str = "scenarios/sessions/version-token-nemesis.toml";
const NO_AE: &str = "scenarios/sessions/no-anti-entropy.toml";
const AE: &str = "scenarios/sessions/anti-entropy.toml";

/// The node named at the end of an evidence line (`… from C`).
fn from(line: &str) -> &str {
    line.rsplit(" from ").next().unwrap()
}

/// The `(vN)` in a line.
fn version(line: &str) -> u64 {
    let at = line.find("(v").expect("a version") + 2;
    line[at..].split(')').next().unwrap().parse().unwrap()
}

#[test]
fn any_replica_reads_go_back_in_time_and_miss_the_clients_own_writes() {
    let r = run(ANY, &[]);
    assert_eq!(r.code, 1, "a safety violation");
    assert!(r.expectation_met());
    // read_your_writes: c0's write was acknowledged (through A), its next read went to C.
    let (_, nodes, message, evidence) = r.violation("read_your_writes");
    assert!(
        message.contains("older than its own acknowledged write"),
        "{message}"
    );
    assert!(
        evidence[0].contains(" wrote x = ") && evidence[1].contains(" read x = "),
        "{evidence:?}"
    );
    assert_ne!(
        from(&evidence[0]),
        from(&evidence[1]),
        "two different nodes: {evidence:?}"
    );
    assert_eq!(nodes, [from(&evidence[1])]);
    assert!(
        version(&evidence[1]) < version(&evidence[0]),
        "{evidence:?}"
    );
    // monotonic_reads: two reads of one client, the later one from another node, older.
    let (_, nodes, message, evidence) = r.violation("monotonic_reads");
    assert!(
        message.contains("older than a version it had read"),
        "{message}"
    );
    assert!(
        evidence.iter().all(|l| l.contains(" read x = ")),
        "{evidence:?}"
    );
    let client = |l: &str| l.split_whitespace().nth(1).unwrap().to_string();
    assert_eq!(
        client(&evidence[0]),
        client(&evidence[1]),
        "one client's session"
    );
    assert_ne!(from(&evidence[0]), from(&evidence[1]));
    assert_eq!(nodes, [from(&evidence[1])]);
    assert!(version(&evidence[1]) < version(&evidence[0]));
}

/// Each ok operation's (client, node that answered), from the run's `history.json`.
fn answered(file: &str, name: &str) -> Vec<(u64, String)> {
    let dir = scratch(name);
    let out = sim(&["run", file, "--out", dir.to_str().unwrap()]);
    assert!(matches!(code(&out), 0 | 1), "{}", show(&out));
    let history = std::fs::read_to_string(dir.join("history.json")).expect("history.json");
    let history: serde_json::Value = serde_json::from_str(&history).expect("JSON");
    history["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|op| op["type"] == "ok")
        .map(|op| {
            (
                op["process"].as_u64().unwrap(),
                op["node"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_sticky_session_stays_on_its_node_and_keeps_both_guarantees_under_the_nemesis() {
    let r = run(STICKY, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(r.status("monotonic_reads"), "pass");
    assert_eq!(r.status("read_your_writes"), "pass");
    let ops = answered(STICKY, "sessions-sticky");
    assert!(ops.len() > 100, "clients ran: {}", ops.len());
    for (client, node) in &ops {
        assert_eq!(
            node,
            ["A", "B", "C"][*client as usize % 3],
            "client {client} left its node"
        );
    }
    // The checkers can fail here: the same nemesis with reads spread over the replicas.
    let spread = common::lesson_variant(
        STICKY,
        "reads = \"sticky\"",
        "reads = \"any_replica\"",
        "sessions-sticky-spread",
    );
    let broken = run(&spread, &[]);
    assert_eq!(broken.code, 1, "{}", broken.stderr);
    assert_eq!(broken.status("read_your_writes"), "violation");
}

#[test]
fn when_the_sticky_node_crashes_its_clients_move_and_read_the_past_but_the_nodes_converge() {
    let r = run(STICKY_CRASH, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    for name in ["monotonic_reads", "read_your_writes"] {
        let (at, nodes, _, evidence) = r.violation(name);
        // After B's crash at 2s, a client that had been served by B reads at C, cut off since 1s.
        assert!(at > 2 * S, "{name} at {at}");
        assert_eq!(from(&evidence[0]), "B", "{evidence:?}");
        assert_eq!(from(&evidence[1]), "C", "{evidence:?}");
        assert_eq!(nodes, ["C"]);
        let client: u64 = evidence[1].split_whitespace().nth(1).unwrap()[1..]
            .parse()
            .unwrap();
        assert_eq!(client % 3, 1, "one of B's clients (c1, c4): {evidence:?}");
    }
    // What remains: eventual consistency.
    assert_eq!(r.status("converges_within"), "pass");
    assert_eq!(r.json["convergence"]["converged"], true);
    assert!(r.json["convergence"]["after_ns"].as_u64().unwrap() < S);
}

#[test]
fn version_tokens_hold_where_any_replica_reads_fail_under_the_same_nemesis() {
    let r = run(TOKEN, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    for name in ["monotonic_reads", "read_your_writes", "converges_within"] {
        assert_eq!(r.status(name), "pass", "{name}");
    }
    let ops = answered(TOKEN, "sessions-token");
    let nodes: std::collections::BTreeSet<&str> = ops.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        nodes.into_iter().collect::<Vec<_>>(),
        ["A", "B", "C"],
        "reads spread over every node"
    );
    let spread = common::lesson_variant(
        TOKEN,
        "reads = \"version_token\"",
        "reads = \"any_replica\"",
        "sessions-token-spread",
    );
    let broken = run(&spread, &[]);
    assert_eq!(broken.code, 1, "{}", broken.stderr);
    assert_eq!(broken.status("read_your_writes"), "violation");
}

#[test]
fn without_anti_entropy_a_lost_message_leaves_a_replica_behind_for_good() {
    let r = run(NO_AE, &[]);
    assert_eq!(r.code, 3, "a liveness failure: {}", r.stderr);
    assert!(r.expectation_met());
    let (at, nodes, message, evidence) = r.violation("converges_within");
    let since = r.json["convergence"]["since_ns"].as_u64().unwrap();
    assert!(
        since < 3 * S + 500 * MS,
        "the last write, soon after writes stop at 3s: {since}"
    );
    assert_eq!(at, since + 3 * S, "judged when the bound ran out");
    assert!(message.contains("never converge"), "{message}");
    assert!(
        !nodes.is_empty() && !nodes.contains(&"A".to_string()),
        "the primary is never behind: {nodes:?}"
    );
    assert_eq!(evidence.len(), 3, "every node's versions: {evidence:?}");
    assert_eq!(r.json["convergence"]["converged"], false);
}

#[test]
fn anti_entropy_brings_every_replica_to_the_same_versions_and_says_how_long_it_took() {
    let r = run(AE, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    let c = &r.json["convergence"];
    assert_eq!(c["converged"], true);
    let after = c["after_ns"].as_u64().unwrap();
    assert!(after > 0 && after < S, "{c}");
    let (at, line) = r.line("every live node now holds the same versions");
    assert_eq!(at, c["at_ns"].as_u64().unwrap());
    assert!(line.contains("converged"), "{line}");
}
