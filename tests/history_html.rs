//! The history picture (`sim check --html`) on a real-size simulator history: the 508
//! operations of `raft/kv-follower-read` seed 2, where a follower (D) cut off from the new
//! leader keeps answering reads from what it had applied. The page must open at the read that
//! cannot be placed, say why in one sentence, count the longest linearizable prefix, and name
//! the node that answered each operation. When Chromium is installed, a headless browser loads
//! the page from disk and the test checks that it runs without console errors and that the
//! violation is on the first screen.

use crate::common;

use std::path::PathBuf;

use common::{browser, sim};
use serde_json::Value;

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("history_html")
        .join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `scenario` at `seed` with `--out`, then `sim check --html` on its history: the page,
/// and `sim check --json`'s report.
fn picture(scenario: &str, seed: &str, name: &str) -> (PathBuf, String, Value) {
    let d = dir(name);
    let out = sim(&[
        "run",
        scenario,
        "--seed",
        seed,
        "--out",
        d.to_str().unwrap(),
        "--force",
    ]);
    assert!(d.join("history.json").exists(), "{out:?}");
    let history = d.join("history.json");
    let html = d.join("history.html");
    let out = sim(&[
        "check",
        history.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--force",
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("sim check --json");
    let page = std::fs::read_to_string(&html).expect("the picture is written");
    (html, page, report)
}

/// The attribute `name` of the element whose `id` is `id`, as written in the page.
fn attr_of(page: &str, id: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("id=\"{id}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag_end = at + page[at..].find('>')?;
    let tag = &page[tag_start..tag_end];
    let key = format!("{name}=\"");
    let from = tag.find(&key)? + key.len();
    Some(tag[from..from + tag[from..].find('"')?].to_string())
}

#[test]
fn the_follower_read_page_opens_at_the_stale_read_and_says_why() {
    let (_, page, report) = picture("scenarios/raft/kv-follower-read.toml", "2", "follower-read");
    assert_eq!(report["verdict"], "not_linearizable");
    let key = &report["partitions"][0];
    let stuck = key["stuck"]
        .as_u64()
        .expect("the checker names the stuck read");
    let prefix = key["linearization"].as_array().unwrap().len();
    // The one element the page scrolls to is the operation that cannot be placed.
    assert_eq!(page.matches("id=\"violation\"").count(), 1);
    assert_eq!(
        attr_of(&page, "violation", "data-op"),
        Some(stuck.to_string())
    );
    assert!(page.contains("getElementById('violation')"));
    // The sentence: the stale read, the node that served it, the write it missed.
    let reason = {
        let from = page.find("id=\"reason\">").unwrap() + "id=\"reason\">".len();
        &page[from..from + page[from..].find("</p>").unwrap()]
    };
    assert!(
        reason.starts_with("The read of k0 by client 4 (answered by node D) at 2.273225886s returned &quot;c4-33&quot;, but at every point where it could take effect k0 was &quot;c0-32&quot;: client 0's write of &quot;c0-32&quot; to k0 completed at 2.253137693s, before this read began"),
        "{reason}"
    );
    // The prefix count is the checker's.
    assert_eq!(
        page.split("<b id=\"prefix-count\">")
            .nth(1)
            .and_then(|s| s.split('<').next()),
        Some(prefix.to_string().as_str())
    );
    assert_eq!(prefix, 166);
    // Who answered: D served the stale reads, E (the new leader) the write and the fresh read.
    assert!(page.contains("r &quot;c4-33&quot; @D"));
    assert!(page.contains("w &quot;c0-32&quot; @E"));
    assert!(
        page.contains("<td>#166</td><td>4</td><td>read of k0 → &quot;c4-33&quot;</td><td>D</td>")
    );
    // Small enough to mail, on a 508-operation history.
    assert!(page.len() < 400_000, "{} bytes", page.len());
}

#[test]
fn a_linearizable_run_says_so_and_marks_nothing() {
    let (_, page, report) = picture("scenarios/raft/kv-linearizable.toml", "1", "linearizable");
    assert_eq!(report["verdict"], "linearizable");
    assert!(page.contains("The history is linearizable"));
    assert!(!page.contains("id=\"violation\""));
    assert!(!page.contains("id=\"prefix-count\""));
    assert!(page.contains(" @"), "the answering nodes are shown");
}

#[test]
fn the_history_of_a_run_names_the_node_that_answered_every_answered_operation() {
    let d = dir("nodes");
    sim(&[
        "run",
        "scenarios/raft/kv-follower-read.toml",
        "--seed",
        "2",
        "--out",
        d.to_str().unwrap(),
        "--force",
    ]);
    let text = std::fs::read_to_string(d.join("history.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    for op in doc["ops"].as_array().unwrap() {
        let answered = op["type"] != "info";
        assert_eq!(op.get("node").is_some(), answered, "{op}");
        if let Some(n) = op.get("node") {
            assert!(["A", "B", "C", "D", "E"].contains(&n.as_str().unwrap()));
        }
    }
}

/// The window the page is judged in: its first screen.
const SCREEN: (u32, u32) = (1280, 800);

#[test]
fn in_a_headless_browser_the_page_runs_cleanly_and_opens_with_the_violation_on_screen() {
    let Some(browser) = browser::browser() else {
        return;
    };
    // The detector must be able to fail: a page whose script throws is caught.
    let broken = dir("browser").join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><html><body><script>noSuchFunction();</script></body></html>",
    )
    .unwrap();
    let errors = browser::load(&browser, &broken, None, SCREEN).console;
    assert!(!errors.is_empty(), "a throwing script is reported");

    let (html, _, _) = picture(
        "scenarios/raft/kv-follower-read.toml",
        "2",
        "browser-follower-read",
    );
    let browser::Loaded {
        dom,
        console: errors,
    } = browser::load(&browser, &html, None, SCREEN);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert!(
        dom.contains("data-ready=\"yes\""),
        "the script ran to its end"
    );
    assert!(
        dom.contains("data-violation-on-screen=\"yes\""),
        "the violation is inside the first screen"
    );
    let shot = html.with_extension("png");
    let _ = std::fs::remove_file(&shot);
    let errors = browser::load(&browser, &html, Some(&shot), SCREEN).console;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "a screenshot"
    );
}
