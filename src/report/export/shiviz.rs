//! `shiviz.log`: the run as the log ShiViz reads (bestchai.bitbucket.io/shiviz): the parsing
//! regular expression on the first line, an empty second line (no delimiter between
//! executions: the file holds one), then two lines per event — the host and its vector clock as
//! JSON, then what happened:
//!
//! ```text
//! A {"A":3,"B":1}
//! 0.174380s recv request_vote t1 from B
//! ```
//!
//! The clocks are Fidge/Mattern vector clocks of the run's causality: each event ticks its
//! host's own entry by one (ShiViz requires the first event of a host to read 1 and each next
//! one to add exactly 1), and a delivery first merges the clock its sender had at the send.
//! Hosts are the nodes and the clients; events are starts, sends, deliveries, timers, role
//! changes, faults (on each node they touch, every node for a heal) and client invocations and
//! completions, and the first violation is an event `VIOLATION …` on the nodes it names (on the
//! participant of the last event before it when it names none). A lost message is a send with no
//! delivery.
//!
//! Budget: ShiViz lays out every event in the browser, so the log holds at most [`MAX_EVENTS`]:
//! those in `--from`/`--to`, else those around the first violation, else the first. The clocks
//! count from the window's start: a message sent before it arrives without a merge.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::perfetto::describe;
use super::trace_model::{MsgId, Trace, What, Who};
use super::verdict::Verdict;
use super::{Window, instant, select};
use crate::node::Nanos;

/// The file's name.
pub(crate) const FILE: &str = "shiviz.log";
/// The first line: ShiViz's own default expression, a host and its clock, then the event.
pub(crate) const REGEX: &str = r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)";
/// Events in the log, at most.
pub(crate) const MAX_EVENTS: usize = 5_000;

/// One line of the log before its clock: who and what.
struct Entry {
    who: Who,
    text: String,
    /// The message it sends or receives.
    send: Option<MsgId>,
    receive: Option<MsgId>,
}

/// The file's contents, and a note when the budget cut the run.
pub(crate) fn render(
    trace: &Trace,
    verdict: Option<&Verdict>,
    window: &Window,
) -> (String, Option<String>) {
    let items: Vec<usize> = (0..trace.events.len())
        .filter(|&i| !matches!(trace.events[i].what, What::Drop { .. }))
        .collect();
    let times: Vec<Nanos> = items.iter().map(|&i| trace.events[i].t).collect();
    let violation = verdict.and_then(|v| v.violation.as_ref());
    let selection = select(&times, window, violation.map(|v| v.at), MAX_EVENTS);
    let chosen = &items[selection.range.clone()];
    let labels = trace.message_labels();
    let nodes: Vec<Who> = (0..trace.nodes as Who).collect();

    let mut entries: Vec<Entry> = Vec::with_capacity(chosen.len() + 1);
    let mut violation_left = violation.filter(|v| selection.covers(&times, window, v.at));
    for &i in chosen {
        let e = &trace.events[i];
        if let Some(v) = violation_left
            && v.at < e.t
        {
            entries.extend(violation_entries(trace, v, entries.last().map(|x| x.who)));
            violation_left = None;
        }
        let text = format!(
            "{} {}",
            instant(e.t),
            describe(trace, &labels, e.who, &e.what)
        );
        let entry = |who| Entry {
            who,
            text: text.clone(),
            send: None,
            receive: None,
        };
        match &e.what {
            What::Fault { fault } => {
                let touched = &trace.faults[*fault].nodes;
                for &who in if touched.is_empty() { &nodes } else { touched } {
                    entries.push(entry(who));
                }
            }
            What::Send { id, .. } => entries.push(Entry {
                send: Some(*id),
                ..entry(e.who)
            }),
            What::Deliver { id, .. } => entries.push(Entry {
                receive: Some(*id),
                ..entry(e.who)
            }),
            _ => entries.push(entry(e.who)),
        }
    }
    if let Some(v) = violation_left {
        entries.extend(violation_entries(trace, v, entries.last().map(|x| x.who)));
    }

    let hosts: Vec<String> = trace.names.iter().map(|n| host(n)).collect();
    let keys: Vec<String> = hosts
        .iter()
        .map(|h| serde_json::to_string(h).expect("a string serializes"))
        .collect();
    let mut clocks: Vec<Vec<u64>> = vec![vec![0; hosts.len()]; hosts.len()];
    let mut in_flight: BTreeMap<MsgId, Vec<u64>> = BTreeMap::new();
    let mut s = format!("{REGEX}\n\n");
    for entry in &entries {
        let w = entry.who as usize;
        if let Some(id) = entry.receive
            && let Some(sent) = in_flight.get(&id)
        {
            for (mine, theirs) in clocks[w].iter_mut().zip(sent) {
                *mine = (*mine).max(*theirs);
            }
        }
        clocks[w][w] += 1;
        if let Some(id) = entry.send {
            in_flight.insert(id, clocks[w].clone());
        }
        s.push_str(&hosts[w]);
        s.push_str(" {");
        let mut first = true;
        for (k, &c) in clocks[w].iter().enumerate() {
            if c > 0 {
                if !first {
                    s.push(',');
                }
                first = false;
                let _ = write!(s, "{}:{c}", keys[k]);
            }
        }
        s.push_str("}\n");
        s.push_str(&one_line(&entry.text));
        s.push('\n');
    }
    let note = selection.clipped.then(|| {
        format!(
            "{FILE}: {} of {} events (at most {MAX_EVENTS}; --from/--to choose them)",
            chosen.len(),
            if window.is_set() {
                "the window's".to_string()
            } else {
                items.len().to_string()
            }
        )
    });
    (s, note)
}

/// The violation as an event on each node it names, else on `last` (who acted just before it).
fn violation_entries(
    trace: &Trace,
    v: &super::verdict::Violation,
    last: Option<Who>,
) -> Vec<Entry> {
    let mut on: Vec<Who> = v
        .nodes
        .iter()
        .filter_map(|n| trace.names.iter().position(|m| m == n))
        .map(|w| w as Who)
        .collect();
    if on.is_empty() {
        on.extend(last.or((!trace.names.is_empty()).then_some(0)));
    }
    let text = format!("{} VIOLATION {}: {}", instant(v.at), v.invariant, v.message);
    on.into_iter()
        .map(|who| Entry {
            who,
            text: text.clone(),
            send: None,
            receive: None,
        })
        .collect()
}

/// A host name as the expression reads it: `\S*`, so no whitespace.
fn host(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

/// An event's text on one line: the expression's `.*` stops at a newline.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::super::trace_model::parse;
    use super::*;

    const TRACE: &str = r#"{"format":"sim-trace","version":1,"scenario":"s","seed":3,"protocol":"raft","nodes":["A","B"],"duration_ns":10000}
{"kind":"start","local":0,"node":"A","restart":false,"seq":0,"t":0}
{"kind":"start","local":0,"node":"B","restart":false,"seq":1,"t":0}
{"id":0,"kind":"send","msg":{"append_entries":{"term":1}},"node":"A","seq":2,"t":100,"to":"B"}
{"kind":"timer","local":0,"node":"B","seq":3,"t":200,"timer":"election"}
{"from":"A","id":0,"kind":"deliver","local":2,"node":"B","seq":4,"t":600}
{"fault":"heal","kind":"fault","nodes":[],"origin":{"schedule":0},"seq":5,"t":5000,"text":"heal","written":"heal"}
{"events":6,"kind":"end","t":10000,"trace_hash":"00ff"}
"#;

    #[test]
    fn clocks_tick_by_one_and_a_delivery_merges_the_send() {
        let trace = parse("t", TRACE).unwrap();
        let (text, note) = render(&trace, None, &Window::default());
        assert_eq!(note, None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!((lines[0], lines[1]), (REGEX, ""));
        let clocks: Vec<&str> = lines[2..].iter().step_by(2).copied().collect();
        assert_eq!(
            clocks,
            [
                r#"A {"A":1}"#,
                r#"B {"B":1}"#,
                r#"A {"A":2}"#,
                r#"B {"B":2}"#,
                r#"B {"A":2,"B":3}"#,
                r#"A {"A":3}"#,
                r#"B {"A":2,"B":4}"#,
            ]
        );
        assert_eq!(lines[11], "0.000000s recv append_entries t1 from A");
        assert_eq!(
            lines[13], "0.000005s fault: heal",
            "a heal is on every node"
        );
    }
}
