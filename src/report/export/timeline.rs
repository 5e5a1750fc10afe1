//! `timeline.html`: the run as a space-time diagram a class can read and an engineer can explore,
//! in one self-contained file (no network: the page and its data are inline, so it opens from
//! disk).
//!
//! One lane per node, then one per client. Role bands are coloured by role and labelled with the
//! term; each message is an arrow from its send to its delivery, a lost one ends in a cross;
//! partitions, pauses and crashes shade the lanes they touch, clock faults are marks; the first
//! violation is a red line with its sentence above the picture; the teacher's `[teaching]`
//! narration is marked along the top. Hover shows every drawn item's details; the wheel zooms,
//! dragging pans, and a filter hides message kinds. The page opens at the violation when there is
//! one, else on the whole run (or its start, when that holds too many messages to read).
//!
//! Long runs stay small: at most [`MAX_MESSAGES`] messages are drawn one by one (those of
//! `--from`/`--to`, else around the violation, else the first), and every send of the run is also
//! counted per lane in [`BUCKETS`] time buckets, drawn as grey bars where arrows are not. The
//! page says so, with the command that details another window. An hour of Raft gives about
//! 1.5 MB.
//!
//! The page's script is `timeline.html` beside this file; this module only builds its data.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::trace_model::{MsgId, Trace, What, Who};
use super::verdict::Verdict;
use super::{Window, instant, select};
use crate::node::Nanos;

/// The file's name.
pub(crate) const FILE: &str = "timeline.html";
/// Messages drawn one by one, at most.
pub(crate) const MAX_MESSAGES: usize = 20_000;
/// Point events (timers, client operations, starts) drawn one by one, at most.
const MAX_POINTS: usize = 20_000;
/// Time buckets of the per-lane send counts.
pub(crate) const BUCKETS: usize = 1_000;
/// Messages around the violation shown on the first screen.
const FIRST_SCREEN: usize = 150;
/// A run with at most this many messages first shows whole; a longer one first shows its first
/// [`FIRST_SCREEN`] * 2 messages.
const WHOLE_RUN: usize = 2_000;

const PAGE: &str = include_str!("timeline.html");

/// A message as drawn: sent at `sent` by `from`, ended at `ended` (delivered, dropped or still in
/// flight at the end).
struct Arrow {
    from: Who,
    to: Who,
    sent: Nanos,
    ended: Nanos,
    kind: usize,
    status: u8,
    id: MsgId,
    label: String,
    reason: String,
}

const DELIVERED: u8 = 0;
const DROPPED: u8 = 1;
const IN_FLIGHT: u8 = 2;
const DUPLICATE: u8 = 3;

/// The page, and a note when its budget left messages to be drawn as counts.
pub(crate) fn render(
    trace: &Trace,
    verdict: Option<&Verdict>,
    window: &Window,
) -> (String, Option<String>) {
    let (kinds, arrows) = arrows(trace);
    let violation = verdict.and_then(|v| v.violation.as_ref());
    let sends: Vec<Nanos> = arrows.iter().map(|a| a.sent).collect();
    let selection = select(&sends, window, violation.map(|v| v.at), MAX_MESSAGES);
    let chosen = &arrows[selection.range.clone()];
    let detail = match (chosen.first(), chosen.last()) {
        _ if !selection.clipped => (0, trace.end),
        (Some(a), Some(b)) => (
            a.sent,
            chosen.iter().map(|a| a.ended).max().unwrap_or(b.sent),
        ),
        _ => (window.from.unwrap_or(0), window.to.unwrap_or(trace.end)),
    };
    let omitted = arrows.len() - chosen.len();
    let view = first_view(trace, chosen, violation.map(|v| v.at), detail);

    let msgs: Vec<Value> = chosen
        .iter()
        .map(|a| {
            json!([
                a.from, a.to, a.sent, a.ended, a.kind, a.status, a.id.id, a.label, a.reason
            ])
        })
        .collect();
    let data = json!({
        "title": format!("{} — seed {}", trace.scenario, trace.seed),
        "verdict": verdict.map_or("(no verdict.json)".to_string(), |v| v.verdict.to_uppercase()),
        "summary": summary(trace, &arrows),
        "duration": trace.end,
        "lanes": trace.names.iter().enumerate().map(|(i, n)| json!({
            "name": n,
            "kind": if trace.is_client(i as Who) { "client" } else { "node" },
        })).collect::<Vec<_>>(),
        "roles": roles(trace),
        "kinds": kinds,
        "msgs": msgs,
        "detail": {
            "from": detail.0,
            "to": detail.1,
            "omitted": omitted,
            "hint": format!("sim report DIR --from {} --to {} --force", instant(detail.0), instant(detail.1)),
        },
        "density": if omitted > 0 { density(trace, &arrows) } else { json!({"width": 1, "lanes": []}) },
        "faults": faults(trace),
        "events": points(trace, detail),
        "violation": violation.map(|v| json!({
            "t": v.at,
            "invariant": v.invariant,
            "text": explanation(&v.message, &v.evidence),
            "lanes": v.nodes.iter().filter_map(|n| trace.names.iter().position(|m| m == n)).collect::<Vec<_>>(),
        })),
        "narration": trace.narration.iter().map(|(at, text)| json!({"t": at, "text": text})).collect::<Vec<_>>(),
        "view": [view.0, view.1],
    });
    let page = PAGE
        .replacen(
            "__TITLE__",
            &crate::report::escape_html(data["title"].as_str().unwrap_or_default()),
            1,
        )
        .replacen("__DATA__", &script_safe(&data.to_string()), 1);
    let note = (omitted > 0).then(|| {
        format!(
            "{FILE}: {} of {} messages drawn one by one ({} to {}); the rest as per-lane send counts",
            chosen.len(),
            arrows.len(),
            instant(detail.0),
            instant(detail.1)
        )
    });
    (page, note)
}

/// Every message of the run, in order of sending (a duplicated one once per delivery), and the
/// kinds they are filtered by: a node message's tag (`append_entries`), or `request` / `reply`
/// on a client's link.
fn arrows(trace: &Trace) -> (Vec<String>, Vec<Arrow>) {
    let mut kinds: Vec<String> = Vec::new();
    let mut kind_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut arrows: Vec<Arrow> = Vec::new();
    // Where each message's arrow is, and whether it has been delivered once already.
    let mut open: BTreeMap<MsgId, (usize, bool)> = BTreeMap::new();
    for e in &trace.events {
        match e.what {
            What::Send { to, id, label } => {
                let label = trace.label(label).to_string();
                let kind = if id.client_link {
                    if trace.is_client(e.who) {
                        "request"
                    } else {
                        "reply"
                    }
                    .to_string()
                } else {
                    label
                        .split_whitespace()
                        .next()
                        .unwrap_or("message")
                        .to_string()
                };
                let next = kinds.len();
                let k = *kind_of.entry(kind.clone()).or_insert_with(|| {
                    kinds.push(kind);
                    next
                });
                open.insert(id, (arrows.len(), false));
                arrows.push(Arrow {
                    from: e.who,
                    to,
                    sent: e.t,
                    ended: trace.end,
                    kind: k,
                    status: IN_FLIGHT,
                    id,
                    label,
                    reason: String::new(),
                });
            }
            What::Deliver { id, .. } => {
                let Some((i, delivered)) = open.get_mut(&id) else {
                    continue;
                };
                if *delivered {
                    // A duplicate: a second arrow from the same send.
                    let first = &arrows[*i];
                    let copy = Arrow {
                        ended: e.t,
                        status: DUPLICATE,
                        label: first.label.clone(),
                        reason: String::new(),
                        ..*first
                    };
                    arrows.push(copy);
                } else {
                    *delivered = true;
                    arrows[*i].ended = e.t;
                    arrows[*i].status = DELIVERED;
                }
            }
            What::Drop { id, reason, .. } => {
                let Some((i, delivered)) = open.get(&id) else {
                    continue;
                };
                if !delivered {
                    arrows[*i].ended = e.t;
                    arrows[*i].status = DROPPED;
                    arrows[*i].reason = trace.label(reason).to_string();
                }
            }
            _ => {}
        }
    }
    // Duplicates were pushed at their delivery; draw order and selection go by send time.
    arrows.sort_by_key(|a| (a.sent, a.id, a.status == DUPLICATE));
    (kinds, arrows)
}

/// `[lane, from, to, role, term]` for each role a node held, and `down` while it was crashed.
fn roles(trace: &Trace) -> Vec<Value> {
    let mut out = Vec::new();
    let mut current: BTreeMap<Who, (Nanos, String, Option<u64>)> = BTreeMap::new();
    let mut close =
        |who: Who, t: Nanos, current: &mut BTreeMap<Who, (Nanos, String, Option<u64>)>| {
            if let Some((since, role, term)) = current.remove(&who) {
                out.push(json!([who, since, t, role, term]));
            }
        };
    for e in &trace.events {
        match &e.what {
            What::Role { role, term } => {
                close(e.who, e.t, &mut current);
                current.insert(e.who, (e.t, trace.label(*role).to_string(), *term));
            }
            What::Fault { fault } if trace.faults[*fault].kind == "crash" => {
                for &n in &trace.faults[*fault].nodes {
                    close(n, e.t, &mut current);
                    current.insert(n, (e.t, "down".to_string(), None));
                }
            }
            What::Start { restart: true } => close(e.who, e.t, &mut current),
            _ => {}
        }
    }
    let open: Vec<Who> = current.keys().copied().collect();
    for who in open {
        close(who, trace.end, &mut current);
    }
    out.sort_by_key(|r| (r[1].as_u64(), r[0].as_u64()));
    out
}

/// Faults as intervals (partitions and cuts until healed, pauses until resumed, crashes until
/// restarted, each at most for its `for`) or marks (clock jumps and drifts).
fn faults(trace: &Trace) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, f) in trace.faults.iter().enumerate() {
        let kind = match f.kind.as_str() {
            "partition" | "cut" => "partition",
            "pause" => "pause",
            "crash" => "crash",
            k if k.starts_with("clock") => "clock",
            _ => continue, // heals, resumes, restarts and repairs end the others
        };
        let ends = |g: &super::trace_model::Fault| match kind {
            "partition" => matches!(g.kind.as_str(), "heal" | "recover" | "partition" | "cut"),
            "pause" => {
                matches!(g.kind.as_str(), "resume" | "recover" | "crash")
                    && g.nodes.iter().any(|n| f.nodes.contains(n))
            }
            "crash" => {
                matches!(g.kind.as_str(), "restart" | "recover")
                    && g.nodes.iter().any(|n| f.nodes.contains(n))
            }
            _ => false,
        };
        let until = if kind == "clock" {
            Some(f.t)
        } else {
            let ended = trace.faults[i + 1..]
                .iter()
                .find(|g| g.t >= f.t && ends(g))
                .map(|g| g.t);
            match (f.lasting.map(|d| f.t + d), ended) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        let lanes = match kind {
            "partition" => cut_off(trace, &f.text).unwrap_or_else(|| f.nodes.clone()),
            _ => f.nodes.clone(),
        };
        out.push(json!({
            "kind": kind,
            "from": f.t,
            "to": until,
            "lanes": lanes,
            "label": if f.written.is_empty() || f.written == f.text {
                f.text.clone()
            } else {
                format!("{} ({})", f.text, f.written)
            },
        }));
    }
    out
}

/// The nodes a partition cuts off: the smallest side of `{A} | {B,C,D,E}` as the fault's text
/// writes it (the side a class should look at), or `None` when the text has no sides.
fn cut_off(trace: &Trace, text: &str) -> Option<Vec<Who>> {
    let mut sides: Vec<Vec<Who>> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}')?;
        let side: Option<Vec<Who>> = rest[open + 1..close]
            .split(',')
            .map(|name| {
                trace
                    .names
                    .iter()
                    .position(|n| n == name.trim())
                    .map(|i| i as Who)
            })
            .collect();
        sides.push(side?);
        rest = &rest[close + 1..];
    }
    if sides.len() < 2 {
        return None;
    }
    sides.into_iter().min_by_key(Vec::len)
}

/// Timers, starts and client operations inside the detailed window: `[lane, t, text]`.
fn points(trace: &Trace, detail: (Nanos, Nanos)) -> Vec<Value> {
    let mut out = Vec::new();
    for e in &trace.events {
        if e.t < detail.0 || e.t > detail.1 {
            continue;
        }
        let text = match &e.what {
            What::Timer { timer } => format!("timer {}", trace.label(*timer)),
            What::Start { restart } => if *restart {
                "restarts from its disk"
            } else {
                "starts"
            }
            .to_string(),
            What::Invoke { req, op } => format!("invokes #{req}: {}", trace.label(*op)),
            What::Complete { req, outcome } => {
                format!("#{req} completes: {}", trace.label(*outcome))
            }
            What::Role { role, term } => match term {
                Some(t) => format!("becomes {} in term {t}", trace.label(*role)),
                None => format!("becomes {}", trace.label(*role)),
            },
            _ => continue,
        };
        out.push(json!([e.who, e.t, text]));
        if out.len() == MAX_POINTS {
            break;
        }
    }
    out
}

/// Sends per lane per bucket over the whole run.
fn density(trace: &Trace, arrows: &[Arrow]) -> Value {
    let width = (trace.end / BUCKETS as u64).max(1);
    let mut lanes = vec![vec![0u32; BUCKETS]; trace.names.len()];
    for a in arrows {
        let b = ((a.sent / width) as usize).min(BUCKETS - 1);
        lanes[a.from as usize][b] += 1;
    }
    json!({ "width": width, "lanes": lanes })
}

/// The span the page opens on: about [`FIRST_SCREEN`] messages around the violation (the
/// lead-up first), else the whole run when it is small, else the start of the detailed window.
fn first_view(
    trace: &Trace,
    chosen: &[Arrow],
    violation: Option<Nanos>,
    detail: (Nanos, Nanos),
) -> (Nanos, Nanos) {
    let end = trace.end.max(1);
    let pad = |a: Nanos, b: Nanos| {
        let span = (b - a).max(end / 1_000).max(1_000_000);
        (a.saturating_sub(span / 10), (b + span / 10).min(end))
    };
    if let Some(at) = violation {
        let p = chosen.partition_point(|a| a.sent <= at);
        let lo = p.saturating_sub(FIRST_SCREEN * 2 / 3);
        let hi = (p + FIRST_SCREEN / 3).min(chosen.len());
        let a = chosen.get(lo).map_or(at, |m| m.sent.min(at));
        let b = chosen[lo..hi]
            .iter()
            .map(|m| m.ended)
            .max()
            .unwrap_or(at)
            .max(at);
        return pad(a, b);
    }
    if chosen.len() <= WHOLE_RUN && detail == (0, trace.end) {
        return (0, end);
    }
    let upto = chosen.len().min(FIRST_SCREEN * 2);
    let b = chosen[..upto].iter().map(|m| m.ended).max().unwrap_or(end);
    pad(detail.0, b)
}

fn summary(trace: &Trace, arrows: &[Arrow]) -> String {
    let count = |s: u8| arrows.iter().filter(|a| a.status == s).count();
    format!(
        "{} · {} nodes{} · {} of virtual time · {} messages delivered, {} dropped, {} in flight at the end{}",
        trace.protocol,
        trace.nodes,
        match trace.names.len() - trace.nodes {
            0 => String::new(),
            c => format!(", {c} clients"),
        },
        instant(trace.end),
        count(DELIVERED) + count(DUPLICATE),
        count(DROPPED),
        count(IN_FLIGHT),
        trace
            .trace_hash
            .as_ref()
            .map_or(String::new(), |h| format!(" · trace hash {h}")),
    )
}

/// The violation's sentence and the first lines of its evidence.
fn explanation(message: &str, evidence: &[String]) -> String {
    let mut text = message.to_string();
    for line in evidence.iter().take(6) {
        text.push_str("\n  ");
        text.push_str(line);
    }
    if evidence.len() > 6 {
        text.push_str(&format!(
            "\n  … {} more lines in summary.md",
            evidence.len() - 6
        ));
    }
    text
}

/// JSON that cannot end the `<script>` element holding it: every `<` (which only strings can
/// hold) written as `\u003c`.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::export::trace_model::parse;

    const TRACE: &str = r#"{"format":"sim-trace","version":1,"scenario":"t","seed":3,"protocol":"raft","nodes":["A","B"],"duration_ns":100,"narration":[{"at":5,"text":"look </script>"}]}
{"kind":"start","node":"A","restart":false,"seq":0,"t":0}
{"kind":"observe","node":"A","obs":{"type":"role","role":"leader","term":2},"seq":1,"t":1}
{"kind":"send","node":"A","to":"B","id":0,"msg":{"append_entries":{"term":2}},"seq":2,"t":10}
{"kind":"deliver","node":"B","from":"A","id":0,"seq":3,"t":12}
{"kind":"deliver","node":"B","from":"A","id":0,"seq":4,"t":13}
{"kind":"send","node":"B","to":"A","id":1,"msg":{"append_reply":{"term":2}},"seq":5,"t":20}
{"kind":"drop","node":"A","from":"B","id":1,"reason":"partition","seq":6,"t":20}
{"kind":"fault","fault":"crash","nodes":["B"],"seq":7,"t":30,"text":"crash B","written":"crash B"}
{"kind":"send","node":"A","to":"B","id":2,"msg":{"append_entries":{"term":2}},"seq":8,"t":90}
{"kind":"end","t":100,"events":9,"trace_hash":"00"}
"#;

    fn data(page: &str) -> Value {
        let start = page.find("type=\"application/json\">").unwrap() + 24;
        let end = start + page[start..].find("</script>").unwrap();
        serde_json::from_str(&page[start..end]).unwrap()
    }

    #[test]
    fn every_message_is_one_arrow_with_its_fate() {
        let trace = parse("t.jsonl", TRACE).unwrap();
        let (page, note) = render(&trace, None, &Window::default());
        assert!(note.is_none());
        let d = data(&page);
        let msgs = d["msgs"].as_array().unwrap();
        let fate: Vec<(u64, u64, u64)> = msgs
            .iter()
            .map(|m| {
                (
                    m[2].as_u64().unwrap(),
                    m[3].as_u64().unwrap(),
                    m[5].as_u64().unwrap(),
                )
            })
            .collect();
        // Delivered at 12 and again (a duplicate) at 13; dropped at 20; in flight at the end.
        assert_eq!(fate, [(10, 12, 0), (10, 13, 3), (20, 20, 1), (90, 100, 2)]);
        assert_eq!(msgs[2][8], "partition");
        assert_eq!(d["kinds"], json!(["append_entries", "append_reply"]));
        // Small and passing: the page opens on the whole run.
        assert_eq!(d["view"], json!([0, 100]));
    }

    #[test]
    fn roles_end_at_a_crash_and_the_script_cannot_be_closed_by_text() {
        let trace = parse("t.jsonl", TRACE).unwrap();
        let (page, _) = render(&trace, None, &Window::default());
        let d = data(&page);
        assert_eq!(
            d["roles"],
            json!([[0, 1, 100, "leader", 2], [1, 30, 100, "down", null]])
        );
        assert_eq!(d["faults"][0]["kind"], "crash");
        assert_eq!(d["narration"][0]["text"], "look </script>");
        // The narration's `</script>` is escaped in the file: one closing tag per script.
        assert_eq!(page.matches("</script>").count(), 2);
    }
}
