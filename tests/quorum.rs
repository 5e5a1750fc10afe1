//! The quorum lessons through the `sim` binary: which replica was down or cut off, which
//! replicas answered a read with what, what each read returned, and whether the history is
//! judged linearizable.

use crate::common;

use std::path::PathBuf;

use common::{root, run, sim};
use serde_json::Value;

/// `sim replay` of a lesson's own seed between `from` and `to`: the narrated lines.
fn replay(file: &str, from: &str, to: &str) -> Vec<String> {
    let out = sim(&["replay", file, "--from", from, "--to", to]);
    assert!(
        out.status.code().is_some_and(|c| c != 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The clients' history of a run of `file`: (process, f, value or output, type) per operation.
fn history(file: &str, name: &str) -> Vec<(u64, String, String, String)> {
    let dir = std::env::temp_dir().join(format!("sim-quorum-{name}-{}", std::process::id()));
    let out = sim(&["run", file, "--out", dir.to_str().unwrap()]);
    assert!(out.status.code().is_some_and(|c| c != 2));
    let text = std::fs::read_to_string(dir.join("history.json")).unwrap();
    let h: Value = serde_json::from_str(&text).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    h["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let s = |k: &str| o[k].as_str().unwrap_or("").to_string();
            // A read of nothing is `nil`, of siblings `a|b`.
            let out = match &o["output"] {
                Value::Null => "nil".to_string(),
                Value::String(v) => v.clone(),
                other => other["siblings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("|"),
            };
            let v = if s("f") == "read" { out } else { s("value") };
            (o["process"].as_u64().unwrap(), s("f"), v, s("type"))
        })
        .collect()
}

fn op(p: u64, f: &str, v: &str, t: &str) -> (u64, String, String, String) {
    (p, f.into(), v.into(), t.into())
}

/// A copy of a lesson with `[protocol]` lines added, in a temporary file.
fn variant(file: &str, name: &str, lines: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let text = text.replacen("[protocol]\n", &format!("[protocol]\n{lines}\n"), 1);
    let path = std::env::temp_dir().join(format!("sim-quorum-{name}-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

#[test]
fn w1_r3_stale_the_only_replica_with_the_write_is_down_and_the_read_returns_the_old_value() {
    let file = "scenarios/quorum/w1-r3-stale.toml";
    let r = run(file, &[]);
    assert_eq!(r.json["verdict"], "violation", "{}", r.stderr);
    assert_eq!(r.invariant("linearizable")["status"], "violation");
    assert_eq!(
        history(file, "w1"),
        [
            op(1, "write", "old", "ok"),
            op(0, "write", "new", "ok"),
            op(1, "read", "old", "ok")
        ]
    );
    let lines = replay(file, "1s", "1.6s");
    // The put of "new" is acknowledged by A alone: every copy to the others is dropped.
    for to in ["B", "C", "D", "E"] {
        assert!(
            has(
                &lines,
                &format!("A → {to} Put(x = new @1.101959s by A) dropped")
            ),
            "{to}: {lines:#?}"
        );
    }
    assert!(has(&lines, "A → client 0 ok (#1) sent"));
    // A is down when the read comes; the replicas that answer it all hold "old".
    let crash = lines.iter().position(|l| l.contains("crash A")).unwrap();
    let read = lines
        .iter()
        .position(|l| l.contains("client 1 invokes get x"))
        .unwrap();
    assert!(crash < read);
    let answers: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("→ B Versions(x:") && l.contains("delivered"))
        .collect();
    assert!(answers.len() >= 2, "{lines:#?}");
    assert!(
        answers.iter().all(|l| l.contains("Versions(x: old")),
        "{answers:#?}"
    );
    assert_eq!(r.json["staleness"]["stale"], 1);
    assert_eq!(r.json["staleness"]["reads"], 1);
}

#[test]
fn w3_r3_no_write_back_a_read_sees_the_unfinished_write_and_a_later_read_does_not() {
    let file = "scenarios/quorum/w3-r3-no-write-back.toml";
    let r = run(file, &[]);
    assert_eq!(r.json["verdict"], "violation", "{}", r.stderr);
    assert_eq!(r.invariant("linearizable")["status"], "violation");
    assert_eq!(
        history(file, "w3"),
        [
            op(1, "write", "old", "ok"),
            op(0, "write", "new", "info"),
            op(1, "read", "new", "ok"),
            op(4, "read", "old", "ok")
        ]
    );
    let lines = replay(file, "1.1s", "1.5s");
    // Two acknowledgements of three: A's own and B's.
    assert!(has(&lines, "A → B Put(x = new @1.101959s by A) delivered"));
    assert!(has(&lines, "B → A Ack(x) delivered"));
    assert!(!has(&lines, "A → client 0 ok"), "the put never completes");
    // The first read hears "new" from A; the second hears only "old" (A's and B's answers
    // to E are cut).
    assert!(has(
        &lines,
        "A → B Versions(x: new @1.101959s by A) delivered"
    ));
    assert!(has(
        &lines,
        "A → E Versions(x: new @1.101959s by A) dropped"
    ));
    assert!(has(
        &lines,
        "B → E Versions(x: new @1.101959s by A) dropped"
    ));
    let to_e: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("→ E Versions(x:") && l.contains("delivered"))
        .collect();
    assert_eq!(to_e.len(), 2, "{lines:#?}");
    assert!(to_e.iter().all(|l| l.contains("Versions(x: old")));

    // With write-back the first read puts "new" on three replicas before answering, and the
    // second read sees it.
    let fixed = variant(file, "w3-wb", "write_back = true");
    let f = fixed.to_str().unwrap();
    let r = run(f, &[]);
    assert_eq!(
        r.invariant("linearizable")["status"],
        "pass",
        "{}",
        r.stderr
    );
    let h = history(f, "w3-wb");
    assert_eq!(h[2], op(1, "read", "new", "ok"));
    assert_eq!(h[3], op(4, "read", "new", "ok"));
    assert!(has(
        &replay(f, "1.2s", "1.3s"),
        "B → C WriteBack(x = new @1.101959s by A) delivered"
    ));
    let _ = std::fs::remove_file(fixed);
}

#[test]
fn abd_histories_are_judged_linearizable_and_without_tags_under_skew_they_are_not() {
    let file = "scenarios/quorum/abd.toml";
    let r = run(file, &[]);
    assert_eq!(r.json["verdict"], "pass", "{}", r.stderr);
    let lin = r.invariant("linearizable");
    assert_eq!(lin["status"], "pass");
    // The checker judged a real history: many operations, reads among them.
    let ops: u64 = lin["detail"]
        .as_str()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(ops > 150, "{lin}");
    assert!(r.json["quorum"]["gets"]["ok"].as_u64().unwrap() > 50);
    assert!(
        r.json["faults"].as_array().unwrap().len() > 5,
        "a nemesis struck"
    );
    let sweep = sim(&["sweep", "--seeds", "1..101", file]);
    assert_eq!(
        sweep.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );

    // Write-back alone, with versions ordered by skewed wall clocks, is not enough.
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let path =
        std::env::temp_dir().join(format!("sim-quorum-abd-notags-{}.toml", std::process::id()));
    std::fs::write(&path, text.replace("tags = true", "tags = false")).unwrap();
    let sweep = sim(&[
        "sweep",
        "--seeds",
        "1..21",
        "--json",
        path.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(sweep.status.code(), Some(1));
}

#[test]
fn bad_quorum_sizes_are_refused_at_their_key() {
    let file = "scenarios/quorum/w1-r3-stale.toml";
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let path = std::env::temp_dir().join(format!("sim-quorum-bad-{}.toml", std::process::id()));
    std::fs::write(&path, text.replace("r = 3", "r = 6")).unwrap();
    let out = sim(&["run", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":19:1: r: how many replies a get waits for, from 1 to n = 5 (got 6)"),
        "{err}"
    );
}

#[test]
fn lww_clock_skew_a_later_put_through_a_slow_clock_is_acknowledged_and_lost() {
    let file = "scenarios/quorum/lww-clock-skew.toml";
    let r = run(file, &[]);
    assert_eq!(r.json["verdict"], "violation", "{}", r.stderr);
    let lost = r.invariant("no_lost_update");
    assert_eq!(lost["status"], "violation");
    assert_eq!(
        lost["violation"]["message"],
        "c1's acknowledged put of x = c1-2 is lost: no replica holds it, nor a value whose put had seen it"
    );
    let lines = replay(file, "0.2s", "0.34s");
    // A put through A (300ms fast) completed at 0.206s, stamped 0.499s; c1's put through B
    // (200ms slow) begins later, at 0.327s, stamped 0.131s: older, dropped by every replica.
    assert!(has(&lines, "client 0 put x=c0-2 → ok (#2)"));
    assert!(has(&lines, "A → B Put(x = c0-2 @0.498736s by A) delivered"));
    assert!(has(&lines, "client 1 invokes put x=c1-2 (#2)"));
    assert!(has(&lines, "B → A Put(x = c1-2 @0.130504s by B) delivered"));
    let c0 = lines
        .iter()
        .position(|l| l.contains("client 0 put x=c0-2 → ok"))
        .unwrap();
    let c1 = lines
        .iter()
        .position(|l| l.contains("client 1 invokes put x=c1-2"))
        .unwrap();
    assert!(c0 < c1, "the lost put is the later one");
}

#[test]
fn vector_clock_siblings_the_same_world_keeps_every_acknowledged_put() {
    let file = "scenarios/quorum/vector-clock-siblings.toml";
    let r = run(file, &[]);
    assert_eq!(r.json["verdict"], "pass", "{}", r.stderr);
    assert_eq!(r.invariant("no_lost_update")["status"], "pass");
    assert_eq!(r.invariant("siblings_kept")["status"], "pass");
    let siblings = history(file, "vcs")
        .iter()
        .filter(|(_, f, v, _)| f == "read" && v.contains('|'))
        .count();
    assert!(
        siblings > 10,
        "concurrent puts came back together as siblings: {siblings}"
    );
    let sweep = sim(&["sweep", "--seeds", "1..101", file]);
    assert_eq!(
        sweep.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
}

#[test]
fn abd_ring_each_key_lives_on_three_of_five_nodes_and_stays_linearizable() {
    let file = "scenarios/quorum/abd-ring.toml";
    let r = run(file, &[]);
    assert_eq!(r.json["verdict"], "pass", "{}", r.stderr);
    let lin = r.invariant("linearizable");
    assert!(
        lin["detail"].as_str().unwrap().contains("over 4 keys"),
        "{lin}"
    );
    // Each key changes on exactly its three replicas: 4 keys over 5 nodes, so no node holds
    // them all, and every node holds some.
    let changes = &r.json["quorum"]["replica_changes"];
    let per_node: Vec<u64> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|n| changes[n].as_u64().unwrap())
        .collect();
    assert!(per_node.iter().all(|&c| c > 0), "{per_node:?}");
    let sweep = sim(&["sweep", "--seeds", "1..101", file]);
    assert_eq!(
        sweep.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
}
