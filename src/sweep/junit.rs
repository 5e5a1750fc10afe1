//! JUnit XML for a sweep: the test report format GitHub Actions, GitLab and Jenkins render.
//!
//! One `<testsuite>` per shard (one for an unsharded sweep); in it a `<testcase name="seed=N">`
//! for each failing seed, whose `<failure>` carries the invariant, the virtual time, the
//! violation's sentence and the replay command — or, for a seed whose run panicked, an
//! `<error type="panic">` (JUnit's word for a test that broke rather than failed) with the
//! panic's message and virtual time — and one rolled-up
//! `<testcase name="seeds A..B passed (K)">` for the passing seeds. No wall-clock time appears:
//! the same sweep writes the same bytes.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

use crate::node::format_duration;

use super::results::{FailureStatus, Kind, PANICKED};
use super::{SeedResult, Summary};

/// The XML document for these suites (one per shard, in shard order).
pub(crate) fn render(suites: &[Summary]) -> String {
    let tests: u64 = suites.iter().map(suite_tests).sum();
    let failures: u64 = suites.iter().map(suite_failures).sum();
    let errors: u64 = suites.iter().map(Summary::panicked).sum();
    let name = suites.first().map_or("sim sweep", |s| s.scenario.as_str());
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">",
        escape(name)
    );
    for s in suites {
        suite(&mut x, s);
    }
    x.push_str("</testsuites>\n");
    x
}

/// Writes the document; an existing file is replaced only with `force`.
pub(crate) fn write(path: &Path, suites: &[Summary], force: bool) -> Result<(), String> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file: File = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{}: already exists; pass --force to replace it",
                path.display()
            )
        } else {
            format!("{}: cannot create: {e}", path.display())
        }
    })?;
    file.write_all(render(suites).as_bytes())
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

fn suite_tests(s: &Summary) -> u64 {
    s.failed() + u64::from(s.passed() > 0)
}

/// Failing seeds other than panics, which are errors.
fn suite_failures(s: &Summary) -> u64 {
    s.failed() - s.panicked()
}

fn suite(x: &mut String, s: &Summary) {
    let shard = s.shard.map(|sh| format!(" shard {sh}")).unwrap_or_default();
    let name = format!("{} seeds {}{shard}", s.scenario, s.range);
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
        escape(&name),
        suite_tests(s),
        suite_failures(s),
        s.panicked()
    );
    let class = escape(&s.scenario);
    for r in s.failures() {
        let (message, kind) = failure_message(r);
        let element = if r.is_panic() { "error" } else { "failure" };
        let _ = writeln!(
            x,
            "    <testcase name=\"seed={}\" classname=\"{class}\">",
            r.seed
        );
        let _ = writeln!(
            x,
            "      <{element} message=\"{}\" type=\"{kind}\">{}</{element}>",
            escape(&message),
            escape_text(&failure_body(s, r))
        );
        x.push_str("    </testcase>\n");
    }
    if s.passed() > 0 {
        let _ = writeln!(
            x,
            "    <testcase name=\"{}\" classname=\"{class}\"/>",
            escape(&format!("seeds {}{shard} passed ({})", s.range, s.passed()))
        );
    }
    x.push_str("  </testsuite>\n");
}

/// The one-line message and the failure type: `panic` for a run that panicked, `invariant` for
/// a violation, `unknown` otherwise.
fn failure_message(r: &SeedResult) -> (String, &'static str) {
    let parts: Vec<String> = r.failures.iter().map(describe).collect();
    let kind = if r.is_panic() {
        "panic"
    } else if r
        .failures
        .iter()
        .any(|f| f.status == FailureStatus::Violation)
    {
        "invariant"
    } else {
        "unknown"
    };
    (parts.join("; "), kind)
}

fn describe(f: &super::Failure) -> String {
    let property = match f.property {
        Kind::Safety => "safety",
        Kind::Liveness => "liveness",
    };
    match (f.status, f.at_ns) {
        // The message already says "panicked at file:line:col: …".
        _ if f.invariant == PANICKED => {
            format!("{} ({})", f.message, crate::run::panic::when(f.at_ns))
        }
        (FailureStatus::Violation, Some(at)) => format!(
            "{} ({property}) violated at {}: {}",
            f.invariant,
            format_duration(at),
            f.message
        ),
        (FailureStatus::Violation, None) => {
            format!("{} ({property}) violated: {}", f.invariant, f.message)
        }
        (FailureStatus::Unknown, _) => {
            format!("{} ({property}) unknown: {}", f.invariant, f.message)
        }
    }
}

fn failure_body(s: &Summary, r: &SeedResult) -> String {
    let mut body = format!("seed {}: {}\n", r.seed, r.verdict.name());
    for f in &r.failures {
        body.push_str(&describe(f));
        body.push('\n');
    }
    let _ = write!(
        body,
        "trace_hash {}\nreplay: {}\n",
        r.trace_hash,
        s.replay(r.seed)
    );
    for (knob, value) in r.swarm.iter().flatten() {
        let _ = writeln!(body, "world: {knob} = {value}");
    }
    body
}

/// Escapes text for an XML attribute value (line breaks kept as character references). Characters
/// XML 1.0 forbids (most C0 controls) become U+FFFD, so no message can make the document
/// ill-formed.
pub(crate) fn escape(s: &str) -> String {
    escape_with(s, true)
}

/// Escapes the text of an element: line breaks stay as they are.
pub(crate) fn escape_text(s: &str) -> String {
    escape_with(s, false)
}

fn escape_with(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\t' if !attribute => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push_str(&format!("&#{};", c as u32)),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SeedRange;
    use crate::sweep::results::tests::result;

    #[test]
    fn escaping_leaves_nothing_that_breaks_a_document() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\n\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#10;\u{FFFD}"
        );
    }

    #[test]
    fn failing_seeds_are_testcases_and_passing_seeds_roll_up() {
        let mut bad = result(4, &["no_split_brain"]);
        bad.failures[0].message = "two masters <A & B>".into();
        let results = vec![result(1, &[]), bad, result(2, &[]), result(3, &[])];
        let s = Summary::new(
            "d/s.toml",
            "s",
            SeedRange { start: 1, end: 5 },
            None,
            results,
            false,
        );
        let x = render(&[s]);
        assert!(
            x.contains("<testsuites name=\"s\" tests=\"2\" failures=\"1\" errors=\"0\">"),
            "{x}"
        );
        assert!(
            x.contains("<testcase name=\"seed=4\" classname=\"s\">"),
            "{x}"
        );
        assert!(
            x.contains("message=\"no_split_brain (safety) violated at 1.5s: two masters &lt;A &amp; B&gt;\" type=\"invariant\""),
            "{x}"
        );
        assert!(x.contains("replay: sim run d/s.toml --seed 4"), "{x}");
        assert!(
            x.contains("<testcase name=\"seeds 1..5 passed (3)\" classname=\"s\"/>"),
            "{x}"
        );
        assert!(!x.contains("seed=1\""), "passing seeds are rolled up: {x}");
    }

    #[test]
    fn a_panicking_seed_is_an_error_not_a_failure() {
        use crate::sweep::results::tests::panicked;
        let results = vec![result(1, &[]), panicked(2), result(3, &["no_split_brain"])];
        let s = Summary::new(
            "s.toml",
            "s",
            SeedRange { start: 1, end: 4 },
            None,
            results,
            false,
        );
        let x = render(&[s]);
        assert!(
            x.contains("<testsuites name=\"s\" tests=\"3\" failures=\"1\" errors=\"1\">"),
            "{x}"
        );
        assert!(
            x.contains("tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\""),
            "{x}"
        );
        assert!(
            x.contains("<error message=\"panicked at src/protocols/raft/log.rs:40:9: index out of bounds (at 1.5s of virtual time)\" type=\"panic\">"),
            "{x}"
        );
        assert!(x.contains("replay: sim run s.toml --seed 2"), "{x}");
    }
}
