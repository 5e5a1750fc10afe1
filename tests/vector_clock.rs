//! The clock lessons through the `sim` binary: which replica wrote what with which vector
//! clock, which update was lost, who found which versions concurrent and what they kept, what
//! the clients heard — from the story, the trace and the replay, not only the verdict.

mod common;

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
    assert_eq!(r.code, 0, "{}", r.stderr);
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
