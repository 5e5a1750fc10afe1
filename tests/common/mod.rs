//! Helpers for end-to-end tests of the `sim` binary: run it, parse its JSON, read its story.
#![allow(dead_code)] // each test crate uses a different part

pub mod browser;
pub mod deploy;
pub mod xml;
pub mod yaml;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

use serde_json::Value;

pub const S: u64 = 1_000_000_000;
pub const MS: u64 = 1_000_000;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `sim` from the repository root, without colour.
pub fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sim"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("the sim binary runs")
}

/// `sim replay`'s narrated lines of `file`, in order, at its own seed or as `extra` says. The
/// replay must have run: exit 0, 1 or 3 (a verdict), never 2 (bad input).
pub fn replay(file: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["replay", file];
    args.extend_from_slice(extra);
    let out = sim(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "replay ran: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The index of the first of `lines` (a replay) that contains every needle.
pub fn find_line(lines: &[String], needles: &[&str]) -> usize {
    lines
        .iter()
        .position(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no replay line with {needles:?}"))
}

/// How many of `lines` (a replay) contain every needle.
pub fn count_lines(lines: &[String], needles: &[&str]) -> usize {
    lines
        .iter()
        .filter(|l| needles.iter().all(|n| l.contains(n)))
        .count()
}

/// The bundled lesson `file` with `from` replaced by `to`, written beside the test binaries as
/// `name.toml`; returns its path. The copy lives outside scenarios/, so its `#:schema` comment
/// would point nowhere: it is dropped.
pub fn lesson_variant(file: &str, from: &str, to: &str, name: &str) -> String {
    let text = fs::read_to_string(root().join(file)).expect("the lesson exists");
    assert!(text.contains(from), "{file} says {from}");
    let changed: String = text
        .replace(from, to)
        .lines()
        .filter(|l| !l.starts_with("#:schema"))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.toml"));
    fs::write(&path, changed).expect("writable target dir");
    path.to_string_lossy().into_owned()
}

/// A fresh scratch directory for one test (named by the test process, so runs never share one).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-e2e-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("sim exits with a code")
}

/// A process's exit and output, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Waits until the file at `path` has at least `lines` lines while `child` still runs. Polls
/// every 2ms, at most 60,000 times (counted in polls: tests keep off the wall clock too).
pub fn wait_for_lines(child: &mut Child, path: &Path, lines: usize) {
    for _ in 0..60_000 {
        let n = fs::read_to_string(path)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if n >= lines {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the process finished ({status}) before {lines} lines were in {path:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("no {lines} lines in {path:?} after 60,000 polls");
}

/// A finished `sim run --json`.
pub struct Run {
    pub json: Value,
    pub code: i32,
    pub stderr: String,
}

pub fn run(file: &str, extra: &[&str]) -> Run {
    let mut args = vec!["run", file, "--json"];
    args.extend_from_slice(extra);
    let out = sim(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "sim {args:?} printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        json,
        code: out.status.code().expect("sim exits with a code"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An election read off the story: `B becomes leader of term 3`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Led {
    pub at: u64,
    pub node: String,
    pub term: u64,
}

/// A step-down: `B steps down: leader of term 1 -> follower of term 2`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SteppedDown {
    pub at: u64,
    pub node: String,
    pub from_term: u64,
    pub to_term: u64,
}

impl Run {
    pub fn story(&self) -> Vec<(u64, String)> {
        self.json["story"]
            .as_array()
            .expect("a story")
            .iter()
            .map(|l| {
                (
                    l["at_ns"].as_u64().unwrap(),
                    l["text"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The first story line containing `needle`.
    pub fn line(&self, needle: &str) -> (u64, String) {
        self.story()
            .into_iter()
            .find(|(_, t)| t.contains(needle))
            .unwrap_or_else(|| panic!("no story line contains {needle:?}:\n{:#?}", self.story()))
    }

    /// The node a fault aimed at the leader struck: the story's `<kind> X (<kind> leader)` line
    /// (`kind` is `crash` or `pause`), checked to come at `at` and to name one of `among`.
    pub fn struck(&self, kind: &str, at: u64, among: &[&str]) -> String {
        let (when, line) = self.line(&format!("({kind} leader)"));
        assert_eq!(when, at, "the {kind} strikes at {at} ns: {line}");
        let who = line
            .strip_prefix(&format!("{kind} "))
            .and_then(|rest| rest.split(' ').next())
            .expect("the fault names its node");
        assert!(among.contains(&who), "{who} is none of {among:?}: {line}");
        who.to_string()
    }

    pub fn leaders(&self) -> Vec<Led> {
        self.story()
            .into_iter()
            .filter_map(|(at, t)| {
                let (node, rest) = t.split_once(" becomes leader of term ")?;
                Some(Led {
                    at,
                    node: node.to_string(),
                    term: rest.parse().ok()?,
                })
            })
            .collect()
    }

    pub fn step_downs(&self) -> Vec<SteppedDown> {
        self.story()
            .into_iter()
            .filter_map(|(at, t)| {
                let (node, rest) = t.split_once(" steps down: ")?;
                let (from, to) = rest.split_once(" -> ")?;
                let term = |s: &str| s.rsplit(' ').next()?.parse::<u64>().ok();
                Some(SteppedDown {
                    at,
                    node: node.to_string(),
                    from_term: term(from)?,
                    to_term: term(to)?,
                })
            })
            .collect()
    }

    pub fn invariant(&self, name: &str) -> &Value {
        self.json["invariants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"].as_str().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("no invariant {name}: {}", self.json["invariants"]))
    }

    /// The violation of the invariant `name`: its instant, nodes, message and evidence.
    pub fn violation(&self, name: &str) -> (u64, Vec<String>, String, Vec<String>) {
        let v = &self.invariant(name)["violation"];
        let strings = |x: &Value| -> Vec<String> {
            x.as_array()
                .unwrap_or_else(|| panic!("{name} has a violation: {v}"))
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        };
        (
            v["at_ns"].as_u64().expect("a violation's instant"),
            strings(&v["nodes"]),
            v["message"].as_str().unwrap().to_string(),
            strings(&v["evidence"]),
        )
    }

    pub fn status(&self, name: &str) -> &str {
        self.invariant(name)["status"].as_str().unwrap()
    }

    pub fn expectation_met(&self) -> bool {
        self.json["expect"]["met"].as_bool().unwrap_or(false)
    }
}
