//! `sequence.mmd`: a Mermaid `sequenceDiagram` of a window of the run, which GitHub renders in a
//! Markdown file or an issue (inside a ```` ```mermaid ```` block) and mermaid.live opens.
//!
//! Participants are the nodes in cluster order, then the clients. Each delivered message is an
//! arrow `->>` from its sender to its receiver, drawn at its delivery; each lost message an
//! arrow `-x`, drawn when it was lost; a role change, a fault and the first violation are notes
//! (the violation on a red background). The window is `--from`/`--to` when given (at most
//! [`MAX_EVENTS`] of its events), else [`EVENTS`] events around the first violation — the lead-up
//! first — else the first [`EVENTS`]. A note at the top says which part of the run is drawn.
//!
//! Text is escaped so that no label can end a statement: see [`escape`]. Checked by rendering
//! the files with mermaid 11 in headless Chromium.

use std::fmt::Write as _;

use super::perfetto::describe;
use super::trace_model::{Trace, What, Who};
use super::verdict::Verdict;
use super::{Window, instant, select};
use crate::node::Nanos;

/// The file's name.
pub(crate) const FILE: &str = "sequence.mmd";
/// Events drawn by default: a diagram a class can read on one screen or two.
pub(crate) const EVENTS: usize = 150;
/// Events drawn at most in a window asked for: past this GitHub stops rendering.
pub(crate) const MAX_EVENTS: usize = 1_000;
/// Width of a note's lines, in characters.
const NOTE_WIDTH: usize = 60;

/// The file's contents, and a note when the window was cut to [`MAX_EVENTS`].
pub(crate) fn render(
    trace: &Trace,
    verdict: Option<&Verdict>,
    window: &Window,
) -> (String, Option<String>) {
    let items: Vec<usize> = (0..trace.events.len())
        .filter(|&i| {
            matches!(
                trace.events[i].what,
                What::Deliver { .. } | What::Drop { .. } | What::Role { .. } | What::Fault { .. }
            )
        })
        .collect();
    let times: Vec<Nanos> = items.iter().map(|&i| trace.events[i].t).collect();
    let violation = verdict.and_then(|v| v.violation.as_ref());
    let cap = if window.is_set() { MAX_EVENTS } else { EVENTS };
    let selection = select(&times, window, violation.map(|v| v.at), cap);
    let chosen = &items[selection.range.clone()];
    let labels = trace.message_labels();
    let id = |who: Who| format!("p{who}");
    let everyone = || {
        let last = trace.names.len().saturating_sub(1) as Who;
        format!("{},{}", id(0), id(last))
    };
    let over = |nodes: &[Who]| match (nodes.iter().min(), nodes.iter().max()) {
        (Some(&a), Some(&b)) if a == b => id(a),
        (Some(&a), Some(&b)) => format!("{},{}", id(a), id(b)),
        _ => everyone(),
    };

    let mut s = String::from("sequenceDiagram\n");
    for (i, name) in trace.names.iter().enumerate() {
        let _ = writeln!(s, "    participant {} as {}", id(i as Who), escape(name));
    }
    let span = match (chosen.first(), chosen.last()) {
        (Some(&a), Some(&b)) => format!(
            "{} to {}",
            instant(trace.events[a].t),
            instant(trace.events[b].t)
        ),
        _ => "nothing in this window".to_string(),
    };
    let heading = format!(
        "{} seed {}: {} of {} events, {}",
        trace.scenario,
        trace.seed,
        chosen.len(),
        items.len(),
        span
    );
    let _ = writeln!(s, "    Note over {}: {}", everyone(), wrapped(&heading));

    let mut violation_left = violation.filter(|v| selection.covers(&times, window, v.at));
    let mark = |s: &mut String, v: &super::verdict::Violation| {
        let nodes: Vec<Who> = v
            .nodes
            .iter()
            .filter_map(|n| trace.names.iter().position(|m| m == n))
            .map(|w| w as Who)
            .collect();
        let text = format!(
            "VIOLATION {} at {}: {}",
            v.invariant,
            instant(v.at),
            v.message
        );
        s.push_str("    rect rgb(255, 215, 215)\n");
        let _ = writeln!(s, "    Note over {}: {}", over(&nodes), wrapped(&text));
        s.push_str("    end\n");
    };
    for &i in chosen {
        let e = &trace.events[i];
        if let Some(v) = violation_left
            && v.at < e.t
        {
            mark(&mut s, v);
            violation_left = None;
        }
        let name = |id_: &super::trace_model::MsgId| {
            labels.get(id_).map_or("message", |&l| trace.label(l))
        };
        match &e.what {
            What::Deliver { from, id: m } => {
                let _ = writeln!(s, "    {}->>{}: {}", id(*from), id(e.who), escape(name(m)));
            }
            What::Drop {
                from,
                id: m,
                reason,
            } => {
                let text = format!("{} (lost: {})", name(m), trace.label(*reason));
                let _ = writeln!(s, "    {}-x{}: {}", id(*from), id(e.who), escape(&text));
            }
            What::Role { .. } => {
                let text = format!(
                    "{} {} at {}",
                    trace.name(e.who),
                    describe(trace, &labels, e.who, &e.what),
                    instant(e.t)
                );
                let _ = writeln!(s, "    Note over {}: {}", id(e.who), wrapped(&text));
            }
            What::Fault { fault } => {
                let f = &trace.faults[*fault];
                let text = format!(
                    "{} at {}",
                    describe(trace, &labels, e.who, &e.what),
                    instant(f.t)
                );
                let _ = writeln!(s, "    Note over {}: {}", over(&f.nodes), wrapped(&text));
            }
            _ => {}
        }
    }
    if let Some(v) = violation_left {
        mark(&mut s, v);
    }
    let note = selection.clipped.then(|| {
        let asked = match (window.from, window.to) {
            (Some(f), Some(t)) => format!("--from {} --to {}", instant(f), instant(t)),
            (Some(f), None) => format!("--from {}", instant(f)),
            (None, Some(t)) => format!("--to {}", instant(t)),
            (None, None) => String::new(),
        };
        format!(
            "{FILE}: {asked} holds more than {MAX_EVENTS} events; the first {MAX_EVENTS} are drawn"
        )
    });
    (s, note.filter(|_| window.is_set()))
}

/// Text for a label or a note, safe in any position. Mermaid ends a text at `;` and `#` and
/// draws `&`, `<` and `>` as their HTML escapes, so those five become their full-width twins
/// (`；` `＃` `＆` `＜` `＞`), which read the same; line breaks become spaces. Mermaid's own
/// entity codes (`#59;`) are not used: mermaid 11 leaves them undecoded in a diagram rendered
/// with `mermaid.run` (seen in headless Chromium).
pub(crate) fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ';' => '；',
            '#' => '＃',
            '&' => '＆',
            '<' => '＜',
            '>' => '＞',
            '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .collect()
}

/// A note's text, escaped and broken into lines of about [`NOTE_WIDTH`] characters.
fn wrapped(text: &str) -> String {
    crate::report::text::wrap(text, NOTE_WIDTH)
        .iter()
        .map(|line| escape(line))
        .collect::<Vec<_>>()
        .join("<br/>")
}

#[cfg(test)]
mod tests {
    use super::super::trace_model::parse;
    use super::super::verdict::Violation;
    use super::*;

    const TRACE: &str = r#"{"format":"sim-trace","version":1,"scenario":"s","seed":3,"protocol":"raft","nodes":["A","B"],"duration_ns":10000}
{"kind":"observe","local":0,"node":"A","obs":{"role":"leader","term":1,"type":"role"},"seq":0,"t":100}
{"id":0,"kind":"send","msg":{"append_entries":{"term":1}},"node":"A","seq":1,"t":100,"to":"B"}
{"id":1,"kind":"send","msg":"a;b#c","node":"A","seq":2,"t":100,"to":"B"}
{"from":"A","id":0,"kind":"deliver","local":2,"node":"B","seq":3,"t":600}
{"from":"A","id":1,"kind":"drop","node":"B","reason":"partition","seq":4,"t":700}
{"fault":"heal","kind":"fault","nodes":[],"origin":{"schedule":0},"seq":5,"t":5000,"text":"heal: every link repaired","written":"heal"}
{"events":6,"kind":"end","t":10000,"trace_hash":"00ff"}
"#;

    #[test]
    fn arrows_notes_and_the_violation_in_time_order() {
        let trace = parse("t", TRACE).unwrap();
        let verdict = Verdict {
            verdict: "violation".into(),
            violation: Some(Violation {
                invariant: "x".into(),
                at: 650,
                message: "it broke; badly".into(),
                nodes: vec!["B".into()],
                evidence: vec![],
            }),
        };
        let (text, _) = render(&trace, Some(&verdict), &Window::default());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "sequenceDiagram");
        assert_eq!(lines[1], "    participant p0 as A");
        let body: Vec<&str> = lines[4..].to_vec();
        assert_eq!(
            body[0],
            "    Note over p0: A becomes leader t1 at 0.000000s"
        );
        assert_eq!(body[1], "    p0->>p1: append_entries t1");
        assert_eq!(body[2], "    rect rgb(255, 215, 215)");
        assert_eq!(
            body[3],
            "    Note over p1: VIOLATION x at 0.000000s: it broke； badly"
        );
        assert_eq!(body[4], "    end");
        assert_eq!(body[5], "    p0-xp1: a；b＃c (lost: partition)");
        assert!(
            body[6].starts_with("    Note over p0,p1: fault: heal"),
            "{}",
            body[6]
        );
        // A window that excludes the violation leaves it out.
        let w = Window {
            from: Some(700),
            to: None,
        };
        let (text, _) = render(&trace, Some(&verdict), &w);
        assert!(!text.contains("VIOLATION") && text.contains("-x") && !text.contains("->>"));
    }
}
