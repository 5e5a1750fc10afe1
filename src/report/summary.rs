//! `summary.md`: the run as a Markdown page — scenario, seed, fault schedule, each invariant's
//! verdict with its evidence, the counts, the whole story and the replay command.

use std::fmt::Write as _;

use crate::check::Status;
use crate::node::{Section, format_duration, format_instant};
use crate::run::RunReport;
use crate::run::story::StoryLine;
use crate::scenario::ExpectedVerdict;

use super::text::thousands;

/// `summary.md` of a run: a Markdown page headed by the scenario and its verdict, then the fault
/// schedule, each invariant with its evidence, the sections, the counts, the whole story and the
/// replay command.
///
/// ```
/// use sim::run::{RunOptions, run};
/// use sim::scenario::Scenario;
///
/// let text = include_str!(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/scenarios/failover/naive-split-brain.toml"
/// ));
/// let scenario = Scenario::parse("naive-split-brain.toml", text)?;
/// let report = run(&scenario, &RunOptions::default())?.report;
/// let md = sim::report::summary::render(&report);
/// assert!(md.starts_with(&format!("# {} — VIOLATION", report.scenario)), "{md}");
/// # Ok::<(), sim::run::RunError>(())
/// ```
pub fn render(r: &RunReport) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# {} — {}\n",
        r.scenario,
        r.verdict.name().to_uppercase()
    );
    if !r.description.is_empty() {
        let _ = writeln!(md, "> {}\n", r.description);
    }
    let s = &r.stats;
    let rows = [
        ("file", format!("`{}`", r.file)),
        ("seed", r.seed.to_string()),
        ("protocol", r.protocol.clone()),
        ("nodes", r.nodes.join(", ")),
        (
            "virtual time",
            format!(
                "{} of {}",
                format_duration(r.virtual_time),
                format_duration(r.duration)
            ),
        ),
        ("events", thousands(s.events)),
        (
            "messages",
            format!(
                "{} sent · {} delivered · {} dropped (loss {}, partition {}, node down {}) · {} duplicated · {} in flight at the end",
                thousands(s.sent),
                thousands(s.delivered),
                thousands(s.dropped()),
                thousands(s.dropped_loss),
                thousands(s.dropped_partition),
                thousands(s.dropped_node_down),
                thousands(s.duplicated),
                thousands(s.in_flight)
            ),
        ),
        ("timers fired", thousands(s.timers_fired)),
        ("trace hash", format!("`{}`", r.trace_hash)),
        ("replay", format!("`{}`", r.replay)),
    ];
    let _ = writeln!(md, "| | |\n|---|---|");
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {v} |");
    }

    let _ = writeln!(md, "\n## Invariants\n");
    if r.invariants.is_empty() {
        let _ = writeln!(md, "No invariant was checked.");
    } else {
        let _ = writeln!(
            md,
            "| invariant | property | verdict | detail |\n|---|---|---|---|"
        );
        for i in &r.invariants {
            let detail = match &i.status {
                Status::Pass => i.detail.clone().unwrap_or_default(),
                Status::Unknown(why) => why.clone(),
                Status::Violated(v) => format!("at {}: {}", format_instant(v.at), v.message),
            };
            let property = format!("{:?}", i.property).to_lowercase();
            let _ = writeln!(
                md,
                "| {} | {property} | {} | {} |",
                i.name,
                i.status.name(),
                detail.replace('|', "\\|")
            );
        }
        for i in &r.invariants {
            if let Status::Violated(v) = &i.status {
                let _ = writeln!(md, "\n### {} — evidence\n", i.name);
                for e in &v.evidence {
                    let _ = writeln!(md, "- {e}");
                }
            }
        }
    }
    if let Some(e) = &r.expect {
        let wanted = match e.verdict {
            ExpectedVerdict::Pass => "pass".to_string(),
            ExpectedVerdict::Violation => format!("violation of {}", e.violates.join(", ")),
        };
        let got = if e.met {
            "met".to_string()
        } else {
            format!("**not met**: {}", e.problems.join("; "))
        };
        let _ = writeln!(md, "\nExpected: {wanted} — {got}.");
    }

    if let Some(knobs) = &r.swarm {
        let _ = writeln!(md, "\n## World drawn by seed {} (swarm)\n\n```toml", r.seed);
        for (knob, value) in knobs {
            let _ = writeln!(md, "{knob} = {value}");
        }
        let _ = writeln!(md, "```");
    }
    timeline(&mut md, "Fault schedule", "fault", &r.faults, "No faults.");
    timeline(
        &mut md,
        "Story",
        "event",
        &r.story,
        "Nothing happened worth a story line.",
    );

    let counted: Vec<&Section> = r.sections.iter().filter(|s| !s.lines.is_empty()).collect();
    if !counted.is_empty() {
        let _ = writeln!(md, "\n## Counts\n");
    }
    for s in counted {
        match s.lines.as_slice() {
            [line] => {
                let _ = writeln!(md, "- {}: {line}", s.title);
            }
            lines => {
                let _ = writeln!(md, "- {}:", s.title);
                for line in lines {
                    let _ = writeln!(md, "  - {line}");
                }
            }
        }
    }
    md
}

/// A section with a (time, text) table, or a sentence when it is empty.
fn timeline(md: &mut String, title: &str, column: &str, lines: &[StoryLine], empty: &str) {
    let _ = writeln!(md, "\n## {title}\n");
    if lines.is_empty() {
        let _ = writeln!(md, "{empty}");
        return;
    }
    let _ = writeln!(md, "| time | {column} |\n|---|---|");
    for l in lines {
        let _ = writeln!(
            md,
            "| {} | {} |",
            format_instant(l.at),
            l.text.replace('|', "\\|")
        );
    }
}
