//! `[teaching]`: a teacher's narration woven into the story and the trace header, never into
//! the run itself; and the sources every lesson cites.

use crate::common;

use common::{S, root, run, sim};

/// `raft/leader-gc-pause` with three lines of narration, added to the lesson's own `[teaching]`
/// table (its last, holding only its cites), as `name.toml` in a scratch folder (one name per
/// test: tests run at once).
fn narrated(name: &str) -> std::path::PathBuf {
    let base = std::fs::read_to_string(root().join("scenarios/raft/leader-gc-pause.toml")).unwrap();
    let teaching = base
        .find("\n[teaching]\n")
        .expect("the lesson cites its sources");
    assert!(
        !base.contains("narration") && !base[teaching + 1..].contains("\n["),
        "[teaching] is the lesson's last table, without narration of its own"
    );
    let text = format!(
        "{base}narration = [\n  {{ at = \"3s\", text = \"B wakes up.\" }},\n  {{ at = \"1s\", text = \"B leads; watch it pause.\" }},\n  {{ at = \"2s\", text = \"Here.\" }},\n]\n"
    );
    let dir = std::env::temp_dir().join(format!("sim-teaching-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn narration_is_told_in_the_story_at_its_times_and_changes_nothing_else() {
    let path = narrated("told");
    let told = run(path.to_str().unwrap(), &[]);
    let plain = run("scenarios/raft/leader-gc-pause.toml", &[]);
    assert_eq!(told.code, 0, "{}", told.stderr);
    // The run is the same: narration is for the class, not the cluster.
    assert_eq!(told.json["trace_hash"], plain.json["trace_hash"]);
    assert_eq!(told.json["events"], plain.json["events"]);
    let story: Vec<(u64, String)> = told.json["story"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["at_ns"].as_u64().unwrap(),
                l["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let marked: Vec<&(u64, String)> = story.iter().filter(|(_, t)| t.starts_with("» ")).collect();
    assert_eq!(
        marked,
        [
            &(S, "» B leads; watch it pause.".to_string()),
            &(2 * S, "» Here.".to_string()),
            &(3 * S, "» B wakes up.".to_string())
        ]
    );
    // Woven in: the pause (at 2s) is told around the teacher's "Here.", the election of term 1
    // before the first line, and every line keeps time order.
    let at = |needle: &str| story.iter().position(|(_, t)| t.contains(needle)).unwrap();
    assert!(at("becomes leader of term 1") < at("» B leads"));
    assert!(at("pause B") < at("» B wakes up."));
    assert!(story.windows(2).all(|w| w[0].0 <= w[1].0), "{story:?}");
    // The same story without the lines is the plain run's.
    let unmarked: Vec<String> = story
        .iter()
        .filter(|(_, t)| !t.starts_with("» "))
        .map(|(_, t)| t.clone())
        .collect();
    let plain_story: Vec<String> = plain.json["story"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(unmarked, plain_story);
}

#[test]
fn the_trace_header_carries_the_narration_for_pictures_made_later() {
    let path = narrated("header");
    let out = path.with_file_name("header-out");
    let done = sim(&[
        "run",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(done.status.code(), Some(0));
    let trace = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
    let header: serde_json::Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
    assert_eq!(header["narration"][0]["at"], S);
    assert_eq!(header["narration"][2]["text"], "B wakes up.");
    // Without narration the header has no such key (readers of version 1 see what they saw).
    let plain = sim(&[
        "run",
        "scenarios/raft/leader-gc-pause.toml",
        "--out",
        out.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(plain.status.code(), Some(0));
    let trace = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
    assert!(!trace.lines().next().unwrap().contains("narration"));
}

#[test]
fn a_line_after_the_end_is_an_error_at_its_time() {
    let path = narrated("late-base");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("at = \"3s\"", "at = \"7s\"");
    let late = path.with_file_name("late.toml");
    std::fs::write(&late, text).unwrap();
    let out = sim(&["run", late.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("late.toml:")
            && err.contains("narration at 7s is after the run ends (duration 6s)"),
        "{err}"
    );
}

#[test]
fn list_lessons_shows_every_lesson_by_topic_with_what_it_expects() {
    let out = sim(&["list", "lessons"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    // One line per scenario file of the catalogue (regressions.toml is not a lesson).
    let mut files = 0;
    let mut pending = vec![root().join("scenarios")];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|x| x == "toml")
                && p.file_name().unwrap() != "regressions.toml"
            {
                files += 1;
            }
        }
    }
    let listed = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("    "))
        .count();
    assert_eq!(listed, files, "{text}");
    // Topics in teaching order, each lesson with its verdict and first sentence.
    let raft = text.find("Raft: elections").unwrap();
    let txn = text.find("Distributed transactions").unwrap();
    assert!(raft < txn);
    assert!(
        text.contains(
            "  raft/figure8  expects state_machine_safety, leader_completeness to fail\n"
        )
    );
    assert!(
        text.contains("  raft/basic-election  expects pass\n      Three nodes start as followers")
    );
    // The source text a lesson demonstrates, from its `[teaching] cites`, under its sentence.
    let happy: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "  txn/2pc-happy  expects pass")
        .skip(1)
        .take_while(|l| l.starts_with("      "))
        .collect();
    assert!(
        happy.contains(&"      cites: seed text 002, 「一个例子：分布式事务」"),
        "{happy:?}"
    );
}

/// Every lesson under `scenarios/` (the benchmarks aside) cites what it demonstrates: a section
/// of a source text, or the paper it goes beyond them with. A lesson added without its
/// `[teaching] cites` fails here, by name.
#[test]
fn every_lesson_outside_the_benchmarks_cites_its_source() {
    let mut uncited = Vec::new();
    let mut lessons = 0;
    let mut pending = vec![root().join("scenarios")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root()).unwrap().display().to_string();
            if path.is_dir() {
                if path.file_name().unwrap() != "bench" {
                    pending.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|x| x != "toml")
                || path.file_name().unwrap() == "regressions.toml"
            {
                continue;
            }
            lessons += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let cites = table
                .get("teaching")
                .and_then(|t| t.get("cites"))
                .and_then(|c| c.as_array());
            let cited = cites.is_some_and(|c| {
                !c.is_empty()
                    && c.iter()
                        .all(|s| s.as_str().is_some_and(|s| !s.trim().is_empty()))
            });
            if !cited {
                uncited.push(rel);
            }
        }
    }
    uncited.sort();
    assert!(
        lessons >= 50,
        "only {lessons} lessons found under scenarios/"
    );
    assert!(
        uncited.is_empty(),
        "{} lesson(s) cite no source: give each a [teaching] table with cites = [\"seed text NNN \
         §x.y, 「heading」\"] (docs/CLAIMS.md maps the texts' claims to lessons), or the paper and \
         section it goes beyond the texts with:\n  {}",
        uncited.len(),
        uncited.join("\n  ")
    );
}
