//! The pictures in a real browser: headless Chromium loads `timeline.html` from disk, runs its
//! script without a console message, and draws one lane per participant and one arrow per
//! delivered message; a failing run's page opens with the violation on its first screen.
//!
//! Chromium is found by `common::browser`; without one these tests say so and pass, except under
//! CI (`CI` set), where a missing browser fails them.

use crate::common;

use std::path::{Path, PathBuf};

use common::{browser, root, sim};

/// What the page's script left on `<body data-…>` after its first drawing, and every console
/// line the browser logged.
struct Loaded {
    data: Vec<(String, String)>,
    console: Vec<String>,
}

impl Loaded {
    fn get(&self, key: &str) -> &str {
        self.data
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no data-{key} on <body>: {:?}", self.data))
    }

    fn number(&self, key: &str) -> u64 {
        self.get(key).parse().unwrap()
    }
}

fn load(browser: &Path, page: &Path, screenshot: Option<&Path>) -> Loaded {
    let loaded = browser::load(browser, page, screenshot, (1400, 900));
    let dom = loaded.dom;
    let body = dom.find("<body").map_or("", |i| &dom[i..]);
    let tag = &body[..body.find('>').unwrap_or(0)];
    let mut data = Vec::new();
    let mut rest = tag;
    while let Some(i) = rest.find(" data-") {
        rest = &rest[i + 6..];
        let eq = rest.find('=').unwrap();
        let key = rest[..eq].to_string();
        let value_start = eq + 2;
        let value_end = value_start + rest[value_start..].find('"').unwrap();
        data.push((key, rest[value_start..value_end].to_string()));
        rest = &rest[value_end..];
    }
    Loaded {
        data,
        console: loaded.console,
    }
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sim-browser-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_out(scenario: &str, extra: &[&str], name: &str) -> PathBuf {
    let dir = out_dir(name).join("out");
    let mut args = vec!["run", scenario, "--out", dir.to_str().unwrap(), "--force"];
    args.extend_from_slice(extra);
    let out = sim(&args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn count(trace: &Path, kinds: &[&str]) -> u64 {
    let text = std::fs::read_to_string(trace).unwrap();
    text.lines()
        .filter(|l| {
            kinds
                .iter()
                .any(|k| l.contains(&format!("\"kind\":\"{k}\"")))
        })
        .count() as u64
}

#[test]
fn a_small_run_draws_one_lane_per_node_and_one_arrow_per_delivery() {
    let Some(browser) = browser::browser() else {
        return;
    };
    let dir = run_out("scenarios/raft/basic-election.toml", &[], "small");
    let page = load(&browser, &dir.join("timeline.html"), None);
    assert!(page.console.is_empty(), "console: {:?}", page.console);
    assert_eq!(page.get("rendered"), "yes");
    assert_eq!(page.number("lanes"), 3);
    let deliveries = count(&dir.join("trace.jsonl"), &["deliver"]);
    assert!(deliveries > 50, "{deliveries}");
    assert_eq!(page.number("arrows"), deliveries);
    assert_eq!(page.number("dropped"), 0);
    // A passing run opens on all of it.
    assert_eq!(page.number("view-from"), 0);
    assert_eq!(page.number("view-to"), 3_000_000_000);
}

#[test]
fn clients_get_lanes_and_lost_messages_end_in_crosses() {
    let Some(browser) = browser::browser() else {
        return;
    };
    // Five nodes, five clients, partitions: requests, replies and drops.
    let dir = run_out(
        "scenarios/raft/kv-follower-read.toml",
        &["--seed", "2"],
        "kv",
    );
    let page = load(&browser, &dir.join("timeline.html"), None);
    assert!(page.console.is_empty(), "console: {:?}", page.console);
    assert_eq!(page.number("lanes"), 10);
    // The violation is on the first screen.
    let at = page.number("violation");
    assert!(
        page.number("view-from") <= at && at <= page.number("view-to"),
        "{:?}",
        page.data
    );
    assert!(
        page.number("arrows") > 0 && page.number("dropped") > 0,
        "{:?}",
        page.data
    );
    // And a screenshot of it is a real picture.
    let png = dir.join("timeline.png");
    let shot = load(&browser, &dir.join("timeline.html"), Some(&png));
    assert!(shot.console.is_empty(), "console: {:?}", shot.console);
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
        "{}",
        bytes.len()
    );
}

#[test]
fn every_family_draws_without_a_console_message() {
    let Some(browser) = browser::browser() else {
        return;
    };
    for (i, scenario) in [
        "scenarios/txn/2pc-no-decision-log.toml",
        "scenarios/txn/tcc-happy.toml",
        "scenarios/clocks/siblings-keep-both.toml",
        "scenarios/quorum/w1-r3-stale.toml",
        "scenarios/failover/naive-split-brain.toml",
        "scenarios/raft/leader-crash.toml",
    ]
    .iter()
    .enumerate()
    {
        let dir = run_out(scenario, &[], &format!("family{i}"));
        let page = load(&browser, &dir.join("timeline.html"), None);
        assert!(page.console.is_empty(), "{scenario}: {:?}", page.console);
        assert_eq!(page.get("rendered"), "yes", "{scenario}");
        let header: serde_json::Value = serde_json::from_str(
            std::fs::read_to_string(dir.join("trace.jsonl"))
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        let nodes = header["nodes"].as_array().unwrap().len() as u64;
        assert!(page.number("lanes") >= nodes, "{scenario}");
        if !page.get("violation").is_empty() {
            let at = page.number("violation");
            assert!(
                page.number("view-from") <= at && at <= page.number("view-to"),
                "{scenario}"
            );
        }
    }
    let _ = root();
}
