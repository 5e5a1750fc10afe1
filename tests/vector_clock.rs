//! The clock lessons through the `sim` binary: which replica wrote what with which vector
//! clock, which update was lost, who found which versions concurrent and what they kept, what
//! the clients heard — from the story, the trace and the replay, not only the verdict.

use crate::common;

use serde_json::Value;

use common::{S, run, sim};

/// A clock as the trace holds it (`[1]`: trailing zeros cut) padded to three replicas.
fn padded(clock: &Value) -> String {
    let mut counts: Vec<u64> = clock
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    counts.resize(3, 0);
    let parts: Vec<String> = counts.iter().map(u64::to_string).collect();
    format!("[{}]", parts.join(","))
}

/// `5 [1,0,1]`, from a version in the trace.
fn version(v: &Value) -> String {
    format!("{} {}", v["value"].as_str().unwrap(), padded(&v["clock"]))
}

/// The trace of a lesson's own seed, one JSON record a line.
fn trace(file: &str, name: &str) -> Vec<Value> {
    let dir = std::env::temp_dir().join(format!("sim-vc-{}-{name}", std::process::id()));
    let out = sim(&["run", file, "--out", dir.to_str().unwrap()]);
    assert!(
        out.status.code().is_some_and(|c| c != 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("trace.jsonl")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every `Holds` and `Conflict` fact, in order: `(time, node, words)`.
fn facts(trace: &[Value]) -> Vec<(u64, String, String)> {
    trace
        .iter()
        .filter(|r| r["kind"] == "fact")
        .filter_map(|r| {
            let f = &r["fact"];
            let words = match f["fact"].as_str()? {
                "holds" => {
                    let vs: Vec<String> = f["versions"].as_array()?.iter().map(version).collect();
                    format!("holds {}", vs.join(" | "))
                }
                "conflict" => format!(
                    "conflict: kept {}, refused {}",
                    version(&f["kept"]),
                    version(&f["refused"])
                ),
                _ => return None,
            };
            Some((r["t"].as_u64()?, r["node"].as_str()?.to_string(), words))
        })
        .collect()
}

/// What each client's operations returned: `(client, req, result)`.
fn completions(trace: &[Value]) -> Vec<(u64, u64, Value)> {
    trace
        .iter()
        .filter(|r| r["kind"] == "complete")
        .map(|r| {
            (
                r["client"].as_u64().unwrap(),
                r["req"].as_u64().unwrap(),
                r["result"].clone(),
            )
        })
        .collect()
}

fn replay(file: &str) -> Vec<String> {
    let out = sim(&["replay", file]);
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

fn has(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{}", lines.join("\n")))
}

const CONFLICT: &str = "scenarios/clocks/vector-clock-conflict.toml";

#[test]
fn the_textbook_example_reaches_exactly_its_values_and_clocks() {
    let t = trace(CONFLICT, "conflict");
    let f = facts(&t);
    let at = |secs: f64| (secs * S as f64).round() as u64;
    let expected = [
        (0, "A", "holds 0 [0,0,0]"),
        (0, "B", "holds 0 [0,0,0]"),
        (0, "C", "holds 0 [0,0,0]"),
        (at(1.001), "A", "holds 1 [1,0,0]"),
        (at(1.002), "B", "holds 1 [1,0,0]"),
        (at(1.002), "C", "holds 1 [1,0,0]"),
        (at(2.001), "C", "holds 5 [1,0,1]"),
        // C's update to A is lost to the one-way cut: A states nothing, it stays at 1 [1,0,0].
        (at(2.002), "B", "holds 5 [1,0,1]"),
        (at(3.001), "A", "holds 2 [2,0,0]"),
        (
            at(3.002),
            "B",
            "conflict: kept 5 [1,0,1], refused 2 [2,0,0]",
        ),
        (
            at(3.002),
            "C",
            "conflict: kept 5 [1,0,1], refused 2 [2,0,0]",
        ),
    ];
    let got: Vec<(u64, &str, &str)> = f
        .iter()
        .map(|(t, n, w)| (*t, n.as_str(), w.as_str()))
        .collect();
    assert_eq!(got, expected);
    let dropped: Vec<&Value> = t.iter().filter(|r| r["kind"] == "drop").collect();
    assert_eq!(dropped.len(), 1, "one message lost");
    assert_eq!(
        (dropped[0]["node"].as_str(), dropped[0]["from"].as_str()),
        (Some("A"), Some("C"))
    );

    // The clients: 1 and 5 written, 2 answered with the conflict, and B still reads 5.
    let c = completions(&t);
    assert_eq!(c.len(), 4);
    assert_eq!(
        (c[0].0, c[0].2["result"].as_str(), padded(&c[0].2["clock"])),
        (0, Some("written"), "[1,0,0]".into())
    );
    assert_eq!(
        (c[1].0, c[1].2["result"].as_str(), padded(&c[1].2["clock"])),
        (2, Some("written"), "[1,0,1]".into())
    );
    assert_eq!(
        (c[2].0, c[2].2["result"].as_str(), padded(&c[2].2["clock"])),
        (0, Some("conflict"), "[2,0,0]".into())
    );
    let kept: Vec<String> = c[2].2["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(version)
        .collect();
    assert_eq!(kept, ["5 [1,0,1]"]);
    let read: Vec<String> = c[3].2["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(version)
        .collect();
    assert_eq!((c[3].0, read), (1, vec!["5 [1,0,1]".to_string()]));
}

#[test]
fn the_story_and_the_replay_tell_the_example() {
    let r = run(CONFLICT, &[]);
    assert_eq!(r.code, 1, "siblings_kept fails: {}", r.stderr);
    let (status, message) = verdict(&r, "siblings_kept");
    assert_eq!(status, "violation");
    assert!(
        message.starts_with("B refused x = 2 [2,0,0], concurrent with its 5 [1,0,1]"),
        "{message}"
    );
    assert_eq!(
        verdict(&r, "no_lost_update").0,
        "pass",
        "2 and 5 are both held somewhere"
    );
    let story: Vec<String> = r
        .story()
        .into_iter()
        .map(|(at, t)| format!("{at} {t}"))
        .collect();
    let ms: u64 = 1_000_000;
    for line in [
        "0 A, B, C hold x = 0 [0,0,0]".to_string(),
        format!("{} A holds x = 1 [1,0,0]", 1001 * ms),
        format!("{} B, C hold x = 1 [1,0,0]", 1002 * ms),
        format!("{} one-way cut C -> A for 1s", 1500 * ms),
        format!("{} C holds x = 5 [1,0,1]", 2001 * ms),
        format!("{} B holds x = 5 [1,0,1]", 2002 * ms),
        format!("{} A holds x = 2 [2,0,0]", 3001 * ms),
        format!(
            "{} B, C find x = 2 [2,0,0] concurrent with their 5 [1,0,1]: keep 5, report a conflict",
            3002 * ms
        ),
    ] {
        assert!(
            story.contains(&line),
            "no {line:?} in\n{}",
            story.join("\n")
        );
    }
    assert!(
        !story.iter().any(|l| l.contains("A holds x = 5")),
        "A never holds 5: {story:#?}"
    );
    let replicas = &r.json["replicas"];
    assert_eq!(replicas["conflicts"], 2);
    assert_eq!(
        replicas["holds"]["A"]["x"],
        serde_json::json!(["2 [2,0,0]"])
    );
    assert_eq!(
        replicas["holds"]["B"]["x"],
        serde_json::json!(["5 [1,0,1]"])
    );
    assert_eq!(
        replicas["holds"]["C"]["x"],
        serde_json::json!(["5 [1,0,1]"])
    );

    let lines = replay(CONFLICT);
    let lost = has(&lines, "C → A Update(x = 5 [1,0,1]) dropped");
    let sent = has(&lines, "A → B Update(x = 2 [2,0,0]) sent");
    let refused = has(
        &lines,
        "B → A Ack(x: concurrent, conflict: kept 5 [1,0,1]) sent",
    );
    assert!(lost < sent && sent < refused);
    has(&lines, "A → C Update(x = 1 [1,0,0]) delivered");
}

/// `(status, message)` of invariant `name` in a run's JSON.
fn verdict(r: &common::Run, name: &str) -> (String, String) {
    let inv = r.invariant(name);
    (
        inv["status"].as_str().unwrap().to_string(),
        inv["violation"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

fn story(r: &common::Run) -> Vec<String> {
    r.story().into_iter().map(|(_, t)| t).collect()
}

#[test]
fn last_write_wins_takes_the_later_stamp_and_loses_5_without_a_conflict() {
    let file = "scenarios/clocks/lww-loses-a-write.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (status, message) = verdict(&r, "no_lost_update");
    assert_eq!(status, "violation");
    assert!(
        message.starts_with("c2's acknowledged put of x = 5 is lost"),
        "{message}"
    );
    let s = story(&r);
    for line in [
        "C holds x = 5",
        "B holds x = 5",
        "A holds x = 2",
        "B, C hold x = 2",
    ] {
        assert!(s.iter().any(|l| l == line), "no {line:?} in {s:#?}");
    }
    assert!(!s.iter().any(|l| l.contains("conflict")), "{s:#?}");
    assert_eq!(r.json["replicas"]["conflicts"], 0);
    for node in ["A", "B", "C"] {
        assert_eq!(
            r.json["replicas"]["holds"][node]["x"],
            serde_json::json!(["2"])
        );
    }
    // Every put was answered ok: nobody was told.
    let t = trace(file, "lww");
    let results: Vec<String> = completions(&t)
        .iter()
        .map(|(_, _, r)| r["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(results, ["written", "written", "written", "read"]);
    let lines = replay(file);
    has(
        &lines,
        "A → B Update(x = 2 written at 3.001s by A) delivered",
    );
    has(&lines, "B → A Ack(x: newer, taken) sent");
}

#[test]
fn under_a_clock_step_last_write_wins_loses_the_later_write() {
    let file = "scenarios/clocks/lww-clock-skew.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (status, message) = verdict(&r, "no_lost_update");
    assert_eq!(status, "violation");
    assert!(
        message.starts_with("c0's acknowledged put of x = 2 is lost"),
        "{message}"
    );
    let s = story(&r);
    assert!(s.iter().any(|l| l == "clock of A jumps -1.5s"), "{s:#?}");
    assert!(
        !s.iter()
            .any(|l| l.contains("hold x = 2") || l.contains("holds x = 2")),
        "nobody ever holds 2: {s:#?}"
    );
    for node in ["A", "B", "C"] {
        assert_eq!(
            r.json["replicas"]["holds"][node]["x"],
            serde_json::json!(["5"])
        );
    }
    let lines = replay(file);
    // A stamps its 3s write by its stepped clock: before C's 5, stamped 2.001s.
    has(&lines, "A → B Update(x = 2 written at 1.501s by A) sent");
    has(
        &lines,
        "C → A Update(x = 5 written at 2.001s by C) delivered",
    );
    has(&lines, "B → A Ack(x: older than mine, discarded) sent");
}

#[test]
fn siblings_keep_both_concurrent_writes_under_the_same_faults() {
    let file = "scenarios/clocks/siblings-keep-both.toml";
    let r = run(file, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(verdict(&r, "no_lost_update").0, "pass");
    assert_eq!(verdict(&r, "siblings_kept").0, "pass");
    let s = story(&r);
    for line in [
        "A holds x = 1 [1,0,0]",
        "B, C hold x = 1 [1,0,0]",
        "C holds x = siblings 1 [1,0,0] | 5 [0,0,1]",
        "B holds x = siblings 1 [1,0,0] | 5 [0,0,1]",
        "A holds x = 2 [2,0,0]",
        "B, C hold x = siblings 5 [0,0,1] | 2 [2,0,0]",
    ] {
        assert!(s.iter().any(|l| l == line), "no {line:?} in {s:#?}");
    }
    let t = trace(file, "siblings");
    let c = completions(&t);
    let read: Vec<String> = c[3].2["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(version)
        .collect();
    assert_eq!(
        (c[3].0, read),
        (1, vec!["5 [0,0,1]".to_string(), "2 [2,0,0]".to_string()])
    );
}

/// The example's script under each design: the basic rule refuses a concurrent version
/// (`siblings_kept` fails), last-write-wins drops one (`no_lost_update` fails), siblings keep
/// both (both hold).
#[test]
fn the_family_invariants_fail_the_broken_designs_and_pass_siblings() {
    let text = std::fs::read_to_string(common::root().join(CONFLICT)).unwrap();
    let mut seen = Vec::new();
    for resolve in ["conflict", "lww", "siblings"] {
        let body = text
            .replace(
                r#"resolve = "conflict""#,
                &format!(r#"resolve = "{resolve}""#),
            )
            .replace("[expect]", "[expect_]")
            .replace(r#"verdict = "violation""#, "")
            .replace(r#"violates = ["siblings_kept"]"#, "")
            .replace("[expect_]\n", "");
        let path =
            std::env::temp_dir().join(format!("sim-vc-{}-{resolve}.toml", std::process::id()));
        std::fs::write(&path, body.replace("../../reports", "reports")).unwrap();
        let r = run(path.to_str().unwrap(), &[]);
        let _ = std::fs::remove_file(&path);
        assert_ne!(r.code, 2, "{}", r.stderr);
        seen.push((
            resolve,
            verdict(&r, "no_lost_update").0,
            verdict(&r, "siblings_kept").0,
        ));
    }
    let s = |a: &str| a.to_string();
    assert_eq!(
        seen,
        [
            ("conflict", s("pass"), s("violation")),
            ("lww", s("violation"), s("unknown")),
            ("siblings", s("pass"), s("pass")),
        ]
    );
}

#[test]
fn wall_clock_stamps_contradict_causality_and_lamport_stamps_never_do() {
    let r = run("scenarios/clocks/wall-clock-stamps.toml", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (status, message) = verdict(&r, "causal_order");
    assert_eq!(status, "violation");
    // B's clock runs 300ms behind: its receipt of A's update is stamped before the send.
    assert!(
        message.starts_with("B stamped its receipt of message"),
        "{message}"
    );
    assert!(message.contains("not after A's send stamp"), "{message}");
    let lamport = run("scenarios/clocks/lamport-stamps.toml", &[]);
    assert_eq!(lamport.code, 0, "{}", lamport.stderr);
    assert_eq!(verdict(&lamport, "causal_order").0, "pass");
    let lines = replay("scenarios/clocks/lamport-stamps.toml");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Update(") && l.contains(", stamped "))
    );
}
