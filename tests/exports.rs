//! The pictures of a run — `perfetto.json`, `sequence.mmd`, `shiviz.log` — for every protocol
//! family: each parses as its tool reads it, tells the same run as `trace.jsonl` (one flow and
//! one arrow per delivery, vector clocks that tick by one), marks the violation of a failing run,
//! and `sim report` draws the same bytes again from the directory without running anything.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::sim;
use serde_json::Value;

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-exports-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `sim run FILE --out DIR` plus `extra`; returns the directory.
fn run_out(file: &str, name: &str, extra: &[&str]) -> PathBuf {
    let dir = scratch(name);
    let mut args = vec!["run", file, "--out", dir.to_str().unwrap(), "--force"];
    args.extend_from_slice(extra);
    let out = sim(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "{file}: {}",
        text(&out)
    );
    dir
}

/// The records of `trace.jsonl` after its header.
fn records(dir: &Path) -> Vec<Value> {
    fs::read_to_string(dir.join("trace.jsonl"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const DELIVERIES: [&str; 3] = ["deliver", "request_deliver", "reply_deliver"];

fn is_delivery(r: &Value) -> bool {
    DELIVERIES.contains(&r["kind"].as_str().unwrap_or(""))
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Perfetto: JSON with `traceEvents`, every event with `ph`, `ts`, `pid` and `tid`; one process
/// per participant; a flow start and end per delivery.
fn check_perfetto(dir: &Path, what: &str, participants: usize, deliveries: usize) -> Value {
    let doc: Value = serde_json::from_str(&read(dir, "perfetto.json"))
        .unwrap_or_else(|e| panic!("{what}: perfetto.json is not JSON: {e}"));
    let events = doc["traceEvents"].as_array().expect("traceEvents");
    for e in events {
        for key in ["ph", "ts", "pid", "tid"] {
            assert!(!e[key].is_null(), "{what}: an event without {key}: {e}");
        }
        assert!(
            e["ts"].is_number() && e["pid"].is_u64() && e["tid"].is_u64(),
            "{e}"
        );
        if e["ph"] == "X" {
            assert!(e["dur"].as_f64().unwrap() >= 0.0, "{e}");
        }
    }
    let count = |ph: &str| events.iter().filter(|e| e["ph"] == ph).count();
    let processes = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
        .count();
    assert_eq!(
        processes, participants,
        "{what}: a process per node and client"
    );
    assert_eq!(count("s"), deliveries, "{what}: a flow per delivery");
    assert_eq!(count("f"), deliveries, "{what}: a flow per delivery");
    assert_eq!(doc["otherData"]["deliveries"], deliveries, "{what}");
    // Each flow's start lies inside a slice of the sender's `messages` thread, its end inside one
    // of the receiver's: what Perfetto binds a flow to.
    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    for e in events
        .iter()
        .filter(|e| e["ph"] == "s" || e["ph"] == "f")
        .take(200)
    {
        let ts = e["ts"].as_f64().unwrap();
        assert!(
            slices.iter().any(|s| s["pid"] == e["pid"]
                && s["tid"] == e["tid"]
                && s["ts"].as_f64().unwrap() <= ts
                && ts <= s["ts"].as_f64().unwrap() + s["dur"].as_f64().unwrap()),
            "{what}: a flow event outside every slice: {e}"
        );
    }
    doc
}

/// The hand-written equivalent of the first line's expression
/// `(?<host>\S*) (?<clock>{.*})\n(?<event>.*)`: the host, one space, a clock in braces to the
/// end of the line; then any line.
fn shiviz_pair<'a>(first: &'a str, second: &str) -> Option<(&'a str, &'a str)> {
    let (host, clock) = first.split_once(' ')?;
    let ok = !host.chars().any(char::is_whitespace)
        && clock.starts_with('{')
        && clock.ends_with('}')
        && !second.contains('\n');
    ok.then_some((host, clock))
}

/// ShiViz: the expression, an empty delimiter line, then pairs that match it; each host's own
/// entry counts 1, 2, 3, …, and no entry of a host's clock ever goes down.
fn check_shiviz(dir: &Path, what: &str) -> String {
    let log = read(dir, "shiviz.log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines[0], r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)",
        "{what}"
    );
    assert_eq!(lines[1], "", "{what}: no delimiter: one execution");
    let body = &lines[2..];
    assert_eq!(body.len() % 2, 0, "{what}: two lines per event");
    assert!(!body.is_empty(), "{what}: events");
    let mut last: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for pair in body.chunks(2) {
        let (host, clock) = shiviz_pair(pair[0], pair[1])
            .unwrap_or_else(|| panic!("{what}: a pair that does not match: {pair:?}"));
        let clock: BTreeMap<String, u64> = serde_json::from_str(clock)
            .unwrap_or_else(|e| panic!("{what}: a clock that is not JSON ({e}): {clock}"));
        let before = last.entry(host.to_string()).or_default();
        let own = before.get(host).copied().unwrap_or(0);
        assert_eq!(
            clock.get(host),
            Some(&(own + 1)),
            "{what}: {host} ticks by one: {pair:?}"
        );
        for (k, v) in before.iter() {
            assert!(
                clock.get(k).copied().unwrap_or(0) >= *v,
                "{what}: {host}'s clock went down"
            );
        }
        *before = clock;
    }
    log
}

/// One scenario of each protocol family.
const FAMILIES: [&str; 8] = [
    "scenarios/raft/leader-gc-pause.toml",
    "scenarios/raft/kv-linearizable.toml",
    "scenarios/txn/2pc-coordinator-crash-blocks.toml",
    "scenarios/txn/tcc-happy.toml",
    "scenarios/clocks/vector-clock-conflict.toml",
    "scenarios/quorum/abd.toml",
    "scenarios/failover/heartbeat-false-suspicion.toml",
    "scenarios/failover/naive-split-brain.toml",
];

#[test]
fn every_family_gets_pictures_that_parse_and_tell_the_trace() {
    for (k, file) in FAMILIES.iter().enumerate() {
        let dir = run_out(file, &format!("family-{k}"), &[]);
        let recs = records(&dir);
        let header: Value =
            serde_json::from_str(read(&dir, "trace.jsonl").lines().next().unwrap()).unwrap();
        let nodes = header["nodes"].as_array().unwrap().len();
        let clients = recs
            .iter()
            .filter_map(|r| r["client"].as_u64())
            .max()
            .map_or(0, |c| c as usize + 1);
        let deliveries = recs.iter().filter(|r| is_delivery(r)).count();
        assert!(deliveries > 0, "{file}: messages were delivered");
        check_perfetto(&dir, file, nodes + clients, deliveries);
        check_shiviz(&dir, file);

        let mmd = read(&dir, "sequence.mmd");
        assert!(mmd.starts_with("sequenceDiagram\n"), "{file}");
        let participants = mmd
            .lines()
            .filter(|l| l.trim_start().starts_with("participant "))
            .count();
        assert_eq!(participants, nodes + clients, "{file}");

        // A window of the first 300 ms: one arrow per delivery in it, one cross per loss.
        let out = sim(&["report", dir.to_str().unwrap(), "--to", "300ms", "--force"]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out));
        let mmd = read(&dir, "sequence.mmd");
        let in_window = |r: &Value| r["t"].as_u64().unwrap() <= 300_000_000;
        let arrows = mmd.lines().filter(|l| l.contains("->>")).count();
        let delivered = recs
            .iter()
            .filter(|r| is_delivery(r) && in_window(r))
            .count();
        assert_eq!(
            arrows, delivered,
            "{file}: an arrow per delivery in the window"
        );
        let crosses = mmd.lines().filter(|l| l.contains("-xp")).count();
        let lost = recs
            .iter()
            .filter(|r| (r["kind"] == "drop" || r["kind"] == "client_drop") && in_window(r))
            .count();
        assert_eq!(
            crosses, lost,
            "{file}: a cross per lost message in the window"
        );
        for line in mmd.lines().skip(1) {
            assert!(
                line.starts_with("    "),
                "{file}: statements are indented: {line}"
            );
            let text = line.split_once(": ").map_or("", |(_, t)| t);
            assert!(
                !text.contains([';', '#', '&']),
                "{file}: Mermaid would cut or mangle this text: {line}"
            );
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_failing_run_marks_its_violation_in_every_picture() {
    for (file, invariant) in [
        ("scenarios/raft/kv-follower-read.toml", "linearizable"),
        (
            "scenarios/failover/naive-split-brain.toml",
            "no_split_brain",
        ),
    ] {
        let dir = run_out(file, &format!("violation-{invariant}"), &[]);
        // verdict.json is the --json document.
        let verdict: Value = serde_json::from_str(&read(&dir, "verdict.json")).unwrap();
        let json = common::run(file, &[]).json;
        assert_eq!(verdict, json, "{file}: verdict.json is what --json prints");
        let v = verdict["invariants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == invariant)
            .unwrap()["violation"]
            .clone();
        let at = v["at_ns"].as_u64().unwrap();

        let doc: Value = serde_json::from_str(&read(&dir, "perfetto.json")).unwrap();
        let mark = doc["traceEvents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["ph"] == "i" && e["s"] == "g" && e["cat"] == "violation")
            .unwrap_or_else(|| panic!("{file}: no violation instant"))
            .clone();
        assert_eq!(mark["name"], format!("VIOLATION {invariant}"));
        assert_eq!(
            mark["ts"].as_f64().unwrap(),
            at as f64 / 1000.0,
            "{file}: at its time"
        );
        assert_eq!(mark["args"]["message"], v["message"]);

        let mmd = read(&dir, "sequence.mmd");
        let note = mmd
            .lines()
            .position(|l| l.contains(&format!("VIOLATION {invariant}")))
            .unwrap_or_else(|| panic!("{file}: the diagram's default window shows the violation"));
        assert_eq!(
            mmd.lines().nth(note - 1),
            Some("    rect rgb(255, 215, 215)")
        );
        // About 150 events: arrows, crosses and notes of roles and faults.
        let drawable = records(&dir)
            .iter()
            .filter(|r| {
                is_delivery(r)
                    || r["kind"] == "drop"
                    || r["kind"] == "client_drop"
                    || r["kind"] == "fault"
                    || r["obs"]["type"] == "role"
            })
            .count();
        let heading = format!("{} of {drawable} events", drawable.min(150));
        assert!(mmd.contains(&heading), "{file}: {heading}:\n{mmd}");

        let log = check_shiviz(&dir, file);
        assert!(log.contains(&format!("VIOLATION {invariant}: ")), "{file}");
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn sim_report_draws_the_same_bytes_again_and_refuses_to_overwrite() {
    let file = "scenarios/raft/kv-follower-read.toml";
    let dir = run_out(file, "again", &["--from", "2s", "--to", "2.3s"]);
    let names = [
        "timeline.html",
        "perfetto.json",
        "sequence.mmd",
        "shiviz.log",
        "history.html",
    ];
    let first: Vec<String> = names.iter().map(|n| read(&dir, n)).collect();
    let mmd = &first[2];
    assert!(
        mmd.contains("2.000"),
        "the window starts at 2s:\n{}",
        &mmd[..600.min(mmd.len())]
    );

    let d = dir.to_str().unwrap();
    let out = sim(&["report", d, "--from", "2s", "--to", "2.3s"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("timeline.html: already exists; pass --force"),
        "{}",
        text(&out)
    );
    assert_eq!(read(&dir, "perfetto.json"), first[1], "nothing replaced");

    let out = sim(&["report", d, "--from", "2s", "--to", "2.3s", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("written"), "{}", text(&out));
    for (n, before) in names.iter().zip(&first) {
        assert_eq!(
            &read(&dir, n),
            before,
            "{n}: the same bytes from the files alone"
        );
    }
    // Another run of the same seed: the same pictures, byte for byte.
    let other = run_out(file, "again-2", &["--from", "2s", "--to", "2.3s"]);
    for (n, before) in names.iter().zip(&first) {
        assert_eq!(&read(&other, n), before, "{n}: deterministic");
    }
    // Without verdict.json the pictures are drawn and say there is no verdict.
    fs::remove_file(dir.join("verdict.json")).unwrap();
    let out = sim(&["report", d, "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("verdict.json: none"), "{}", text(&out));
    assert!(!read(&dir, "sequence.mmd").contains("VIOLATION"));
    fs::remove_dir_all(&dir).unwrap();
    fs::remove_dir_all(&other).unwrap();
}

#[test]
fn sim_report_refuses_bad_input_with_exit_2_and_a_location() {
    let missing = std::env::temp_dir().join("sim-exports-no-such-dir");
    let out = sim(&["report", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no such directory"), "{}", text(&out));

    let dir = scratch("bad");
    let d = dir.to_str().unwrap();
    let out = sim(&["report", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("trace.jsonl: cannot read"),
        "{}",
        text(&out)
    );

    let header = r#"{"format":"sim-trace","version":1,"scenario":"s","seed":1,"protocol":"raft","nodes":["A","B"],"duration_ns":10}"#;
    let good = r#"{"kind":"start","local":0,"node":"A","restart":false,"seq":0,"t":0}"#;
    fs::write(
        dir.join("trace.jsonl"),
        format!("{header}\n{good}\n{{\"kind\":\"start\",\"t\":\n"),
    )
    .unwrap();
    let out = sim(&["report", d]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out);
    assert!(err.contains("trace.jsonl:3:"), "file:line:col: {err}");
    assert!(err.contains("expected one JSON object per line"), "{err}");

    fs::write(dir.join("trace.jsonl"), "not a trace\n").unwrap();
    let out = sim(&["report", d]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out);
    assert!(
        err.contains("trace.jsonl:1:") && err.contains("expected the sim-trace header"),
        "{err}"
    );

    fs::write(dir.join("trace.jsonl"), format!("{header}\n{good}\n")).unwrap();
    fs::write(dir.join("verdict.json"), "{\"verdict\": ").unwrap();
    let out = sim(&["report", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("verdict.json:1:"), "{}", text(&out));

    fs::remove_file(dir.join("verdict.json")).unwrap();
    let out = sim(&["report", d, "--from", "2s", "--to", "1s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("the window is empty"), "{}", text(&out));
    let out = sim(&["report", d]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a two-record trace draws: {}",
        text(&out)
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// An hour of Raft (1.3 million records, a 186 MB trace) gives pictures of a few megabytes.
#[test]
fn an_hour_long_run_gives_small_pictures() {
    let dir = run_out("scenarios/bench/raft-hour.toml", "hour", &[]);
    let size = |n: &str| fs::metadata(dir.join(n)).unwrap().len();
    assert!(
        size("trace.jsonl") > 100_000_000,
        "the trace is the big one"
    );
    assert!(
        size("perfetto.json") < 10_000_000,
        "perfetto.json: {}",
        size("perfetto.json")
    );
    assert!(
        size("shiviz.log") < 2_000_000,
        "shiviz.log: {}",
        size("shiviz.log")
    );
    assert!(
        size("sequence.mmd") < 100_000,
        "sequence.mmd: {}",
        size("sequence.mmd")
    );
    let doc: Value = serde_json::from_str(&read(&dir, "perfetto.json")).unwrap();
    assert_eq!(doc["otherData"]["flows"], 20_000, "flows are capped");
    assert!(doc["otherData"]["deliveries"].as_u64().unwrap() > 500_000);
    let events = doc["traceEvents"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "C" && e["name"] == "deliveries"),
        "a counter covers the whole run"
    );
    let roles = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"].as_str().unwrap().starts_with("leader"))
        .count();
    assert_eq!(roles, 1, "every role is drawn: one leader for the hour");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn out_draws_the_history_when_its_model_can_judge_it() {
    // A key-value run: history.html beside history.json, opening at the stale read D answered.
    let kv = run_out(
        "scenarios/raft/kv-follower-read.toml",
        "hist-kv",
        &["--seed", "2"],
    );
    let page = read(&kv, "history.html");
    assert!(page.contains("id=\"violation\""));
    assert!(
        page.contains("answered by node D"),
        "the node that answered"
    );
    // A bank's transfers name no model: no page, and none listed as written.
    let bank = scratch("hist-bank");
    let out = sim(&[
        "run",
        "scenarios/txn/2pc-happy.toml",
        "--out",
        bank.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!bank.join("history.html").exists());
    assert!(bank.join("history.json").exists());
    assert!(!text(&out).contains("history.html"), "{}", text(&out));
    fs::remove_dir_all(&kv).unwrap();
    fs::remove_dir_all(&bank).unwrap();
}
