//! The terminal rendering of a run: a header, the story, each invariant's verdict, the counts,
//! the trace hash and the line that replays it. Colour only when asked (a terminal, no NO_COLOR).

use std::fmt::Write as _;

use crate::check::Status;
use crate::node::{format_duration, format_instant};
use crate::run::{RunReport, Verdict};
use crate::scenario::ExpectedVerdict;

/// Formatting helpers that sections use too; renderers and `sweep/` import them from here.
pub use crate::node::section::{plural, thousands};

/// How many story lines a terminal shows before eliding the middle.
const STORY_LINES: usize = 30;

/// How the terminal report is painted.
///
/// ```
/// use sim::report::text::{Style, verdict_word};
/// use sim::run::Verdict;
///
/// assert_eq!(verdict_word(Verdict::Pass, &Style::default()), "PASS");
/// let painted = verdict_word(Verdict::Violation, &Style { color: true });
/// assert_eq!(painted, "\x1b[1;31mVIOLATION\x1b[0m");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    /// Paint with ANSI colours (`sim` does on a terminal, unless `NO_COLOR` is set).
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("1;31", t)
    }
    fn green(&self, t: &str) -> String {
        self.paint("1;32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("1;33", t)
    }
}

/// Greedy word wrap.
///
/// ```
/// use sim::report::text::wrap;
/// assert_eq!(wrap("a leader of term 3 steps down", 12), ["a leader of", "term 3 steps", "down"]);
/// ```
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The run's verdict in capitals, `PASS` in green, `VIOLATION` in red, `UNKNOWN` in yellow.
///
/// ```
/// use sim::report::text::{Style, verdict_word};
/// use sim::run::Verdict;
/// assert_eq!(verdict_word(Verdict::Unknown, &Style::default()), "UNKNOWN");
/// assert_eq!(verdict_word(Verdict::Pass, &Style { color: true }), "\x1b[1;32mPASS\x1b[0m");
/// ```
pub fn verdict_word(verdict: Verdict, style: &Style) -> String {
    match verdict {
        Verdict::Pass => style.green("PASS"),
        Verdict::Violation => style.red("VIOLATION"),
        Verdict::Unknown => style.yellow("UNKNOWN"),
    }
}

/// The report `sim run` prints on a terminal: the header, the story (its middle elided past 30
/// lines), each invariant's verdict, the report's sections, the counts, the trace hash and the
/// replay line.
///
/// ```
/// use sim::report::text::{Style, render};
/// use sim::run::{RunOptions, run};
/// use sim::scenario::Scenario;
///
/// let text = include_str!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/scenarios/failover/naive-split-brain.toml"
/// ));
/// let scenario = Scenario::parse("naive-split-brain.toml", text)?;
/// let report = run(&scenario, &RunOptions::default())?.report;
/// let page = render(&report, &Style::default());
/// assert!(page.starts_with(&report.scenario), "{page}");
/// assert!(page.contains("no_split_brain"));
/// assert!(page.contains(&report.trace_hash));
/// # Ok::<(), sim::run::RunError>(())
/// ```
pub fn render(r: &RunReport, style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  {}",
        style.bold(&r.scenario),
        style.dim(&format!("({})", r.file))
    );
    let _ = writeln!(
        out,
        "  {} nodes {} · {} · {} virtual · seed {}",
        r.nodes.len(),
        r.nodes.join(" "),
        r.protocol,
        format_duration(r.duration),
        r.seed
    );
    for line in wrap(&r.description, 92) {
        let _ = writeln!(out, "  {}", style.dim(&line));
    }
    out.push('\n');
    if let Some(knobs) = &r.swarm {
        let _ = writeln!(out, "  world drawn by seed {} (swarm):", r.seed);
        for (knob, value) in knobs {
            let _ = writeln!(out, "    {knob} = {value}");
        }
        out.push('\n');
    }

    let story = &r.story;
    let show = |out: &mut String, line: &crate::run::story::StoryLine| {
        let text = if line.text.starts_with("VIOLATION") {
            style.red(&line.text)
        } else {
            line.text.clone()
        };
        let _ = writeln!(out, "  {:>9}  {text}", format_instant(line.at));
    };
    if story.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            style.dim("(nothing happened worth a story line)")
        );
    } else if story.len() <= STORY_LINES {
        story.iter().for_each(|l| show(&mut out, l));
    } else {
        let head = STORY_LINES * 2 / 3;
        let tail = STORY_LINES - head - 1;
        story[..head].iter().for_each(|l| show(&mut out, l));
        let hidden = story.len() - head - tail;
        let _ = writeln!(
            out,
            "  {:>9}  {}",
            "…",
            style.dim(&format!(
                "{hidden} more lines (all of them in summary.md with --out)"
            ))
        );
        story[story.len() - tail..]
            .iter()
            .for_each(|l| show(&mut out, l));
    }
    out.push('\n');

    for inv in &r.invariants {
        match &inv.status {
            Status::Pass => {
                let detail = inv
                    .detail
                    .as_ref()
                    .map(|d| format!(" — {d}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {}  {}{}",
                    style.green("pass     "),
                    inv.name,
                    style.dim(&detail)
                );
            }
            Status::Unknown(why) => {
                let _ = writeln!(out, "  {}  {} — {why}", style.yellow("unknown  "), inv.name);
            }
            Status::Violated(v) => {
                let _ = writeln!(
                    out,
                    "  {}  {} at {}: {}",
                    style.red("VIOLATION"),
                    inv.name,
                    format_instant(v.at),
                    v.message
                );
                for e in &v.evidence {
                    let _ = writeln!(out, "             {}", style.dim(e));
                }
            }
        }
    }
    if r.invariants.is_empty() {
        let _ = writeln!(out, "  {}", style.dim("(no invariant checked)"));
    }
    out.push('\n');

    let s = &r.stats;
    let mut counts = format!(
        "{} events · messages {} sent, {} delivered, {} dropped",
        thousands(s.events),
        thousands(s.sent),
        thousands(s.delivered),
        thousands(s.dropped())
    );
    for brief in r.sections.iter().filter_map(|s| s.brief.as_ref()) {
        let _ = write!(counts, " · {brief}");
    }
    let _ = writeln!(
        out,
        "{:<11} {} · {counts}",
        "verdict",
        verdict_word(r.verdict, style)
    );
    if let Some(e) = &r.expect {
        let wanted = match e.verdict {
            ExpectedVerdict::Pass => "pass".to_string(),
            ExpectedVerdict::Violation if e.violates.is_empty() => "a violation".to_string(),
            ExpectedVerdict::Violation => format!("violation of {}", e.violates.join(", ")),
        };
        let met = if e.met {
            style.green("met")
        } else {
            style.red(&format!("NOT met: {}", e.problems.join("; ")))
        };
        let _ = writeln!(out, "{:<11} {wanted} — {met}", "expected");
    }
    let _ = writeln!(out, "{:<11} {}", "trace_hash", r.trace_hash);
    let _ = writeln!(out, "{:<11} {}", "replay", r.replay);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_and_wrapping() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
    }
}
