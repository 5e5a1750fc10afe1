//! `[workload]` end to end: virtual clients in a real run, their records in `trace.jsonl`,
//! their summary in the story, determinism, and located errors for a wrong table.
//!
//! The protocol is `heartbeat`, which serves no client requests: every request is answered
//! `fail`, so what these tests see depends on the client path alone.

use crate::common;

use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use common::{run, sim};

const SCENARIO: &str = r#"name = "heartbeat-with-clients"
duration = "2s"

[cluster]
nodes = ["A", "B", "C"]
protocol = "heartbeat"

[network]
latency = { dist = "uniform", min = "1ms", max = "3ms" }

[workload]
clients = 2
rate = "20/s"
mix = { get = 0.5, put = 0.3, append = 0.1, cas = 0.1 }
keys = 2
timeout = "200ms"
retry = "50ms"

[[faults]]
at = "1s"
crash = "A"

[[faults]]
at = "1s"
crash = "B"

[[faults]]
at = "1s"
crash = "C"
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-workload-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(name: &str, text: &str) -> String {
    let path = scratch(name).join("s.toml");
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn story_texts(json: &Value) -> Vec<String> {
    json["story"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_string())
        .collect()
}

/// "clients: N operations: a ok, b fail, c info (timed out), d pending at the end" → numbers.
fn summary(json: &Value) -> [u64; 5] {
    let line = story_texts(json)
        .into_iter()
        .find(|t| t.starts_with("clients: "))
        .expect("the story sums up the clients");
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    numbers.try_into().expect("five counts")
}

#[test]
fn clients_run_are_traced_and_summed_up_in_one_story_line() {
    let file = write("traced", SCENARIO);
    let dir = scratch("traced-out");
    let r = run(&file, &["--out", dir.to_str().unwrap(), "--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let [total, ok, fail, info, pending] = summary(&r.json);
    // Two clients at 20/s, closed loop: about 35 operations in the first second; after it,
    // each waits out its 200ms timeout. None is served by heartbeat.
    assert!((25..=80).contains(&total), "{total}");
    assert_eq!(ok, 0);
    assert_eq!(fail + info + pending, total);
    assert!(fail > 0);
    // Every node is down from 1s: the operations then time out, unknown.
    assert!(info > 0);
    // No line per operation: the story is about the cluster.
    assert!(
        story_texts(&r.json).len() < 20,
        "{:?}",
        story_texts(&r.json)
    );

    let trace = fs::read_to_string(dir.join("trace.jsonl")).unwrap();
    let lines: Vec<Value> = trace
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let count = |kind: &str| lines.iter().filter(|l| l["kind"] == kind).count() as u64;
    assert_eq!(count("invoke"), total);
    assert_eq!(count("complete"), total - pending);
    assert!(count("request") >= total);
    assert_eq!(
        count("request"),
        count("request_deliver") + count("client_drop")
    );
    // After the crash, requests are dropped at the node, and resent (same operation number)
    // to the next node after `retry`.
    let drops: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "client_drop")
        .collect();
    assert!(!drops.is_empty());
    assert!(drops.iter().all(|l| l["reason"] == "node_down"
        && l["dir"] == "request"
        && l["t"].as_u64().unwrap() >= 1_000_000_000));
    let late_requests: Vec<(u64, u64, String)> = lines
        .iter()
        .filter(|l| l["kind"] == "request" && l["t"].as_u64().unwrap() >= 1_000_000_000)
        .map(|l| {
            (
                l["client"].as_u64().unwrap(),
                l["req"].as_u64().unwrap(),
                l["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        late_requests
            .windows(2)
            .any(|w| w[0].0 == w[1].0 && w[0].1 == w[1].1 && w[0].2 != w[1].2),
        "no retry to another node: {late_requests:?}"
    );
    // Seq numbers keep the record order; the operation number is `req`.
    for (i, l) in lines[1..lines.len() - 1].iter().enumerate() {
        assert_eq!(l["seq"].as_u64(), Some(i as u64));
    }
    let first_invoke = lines.iter().find(|l| l["kind"] == "invoke").unwrap();
    assert_eq!(first_invoke["req"], 1);
    assert!(first_invoke["op"]["f"].is_string());
}

#[test]
fn a_run_with_clients_is_deterministic() {
    let file = write("determinism", SCENARIO);
    let a = run(&file, &[]);
    let b = run(&file, &[]);
    assert_eq!(a.json["trace_hash"], b.json["trace_hash"]);
    assert_eq!(a.json["story"], b.json["story"]);
    let other = run(&file, &["--seed", "2"]);
    assert_ne!(a.json["trace_hash"], other.json["trace_hash"]);
    let out = sim(&["run", &file, "--check-determinism"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn clients_do_not_move_the_clusters_own_story() {
    // Heartbeat answers requests without touching its state: with or without clients, the
    // nodes' own events (suspicions, the crash) are the same, at the same instants.
    let with = run(&write("with", SCENARIO), &[]);
    let without_text = SCENARIO.replace(
        "[workload]\nclients = 2\nrate = \"20/s\"\nmix = { get = 0.5, put = 0.3, append = 0.1, cas = 0.1 }\nkeys = 2\ntimeout = \"200ms\"\nretry = \"50ms\"\n",
        "",
    );
    assert!(!without_text.contains("[workload]"));
    let without = run(&write("without", &without_text), &[]);
    let cluster_story = |json: &Value| -> Vec<Value> {
        json["story"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| !l["text"].as_str().unwrap().starts_with("clients: "))
            .cloned()
            .collect()
    };
    assert_eq!(cluster_story(&with.json), cluster_story(&without.json));
    assert_eq!(with.json["messages"], without.json["messages"]);
    assert_ne!(with.json["trace_hash"], without.json["trace_hash"]);
}

#[test]
fn a_wrong_workload_is_a_located_error_and_exit_2() {
    let file = write(
        "bad",
        &SCENARIO.replace("rate = \"20/s\"", "rate = \"0/s\""),
    );
    let out = sim(&["run", &file]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{file}:13:8")) && err.contains("a rate must be more than zero"),
        "{err}"
    );
    let file = write(
        "unknown-key",
        &SCENARIO.replace("keys = 2", "keys = 2\nthreads = 4"),
    );
    let out = sim(&["run", &file]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{file}:16:1")), "{err}");
    assert!(err.contains("unknown key `threads` in [workload]"), "{err}");
}
