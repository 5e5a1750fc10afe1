//! `perfetto.json`: the run as Chrome trace-event JSON, which Perfetto UI (ui.perfetto.dev) and
//! `chrome://tracing` open.
//!
//! Each node and each client is a process (`ph:"M"` names it), with threads:
//! - `role` (nodes): a complete slice (`ph:"X"`) per role held, `leader t2`, from the role
//!   observation to the next one (or the node's crash, or the end of the run);
//!   `operations` (clients): a slice per operation, from invocation to completion;
//! - `messages`: a short slice per step of the node (a delivery, a timer, a start, and the
//!   messages sent at that instant), and every delivered message as a flow (`ph:"s"` at its
//!   send's step, `ph:"f"` at its delivery's); a lost message is an instant (`ph:"i"`);
//! - `faults` (nodes): an instant per fault that touched the node, and a slice for the time a
//!   timed fault lasts or a crash keeps the node down.
//!
//! The first violation is a global instant named `VIOLATION <invariant>`, with its message and
//! evidence in its arguments, and an instant on each node it names. Times are microseconds
//! (`ts`, `dur`) with three decimals: the trace's nanoseconds, exactly.
//!
//! Budget: roles, operations and faults are always drawn whole; message steps and flows are
//! drawn for at most [`MAX_FLOWS`] deliveries — all of them when they fit, else those in
//! `--from`/`--to`, else those around the first violation, else the first ones — and a run cut
//! so gets a `deliveries` counter per node over the whole run instead. `otherData` says what
//! was drawn.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::trace_model::{Label, MsgId, Trace, What, Who};
use super::verdict::Verdict;
use super::{Window, instant, select};
use crate::node::Nanos;

/// The file's name.
pub(crate) const FILE: &str = "perfetto.json";
/// Deliveries drawn as flows, at most: about 500 bytes each, so 10 MB at worst.
pub(crate) const MAX_FLOWS: usize = 20_000;
/// Counter buckets over a cut run.
const BUCKETS: u64 = 1_000;

const ROLE: u32 = 1;
const MESSAGES: u32 = 2;
const FAULTS: u32 = 3;
/// A step's slice lasts 1 µs, or less when the participant's next step is sooner: a handler
/// takes no virtual time, but a flow binds to a slice that encloses it.
const STEP: Nanos = 1_000;

/// Microseconds, from nanoseconds: exact to the nanosecond below 2^53 ns (104 days).
fn us(ns: Nanos) -> Value {
    Value::from(ns as f64 / 1_000.0)
}

fn pid(who: Who) -> u64 {
    u64::from(who) + 1
}

/// The file's contents, and a note when the budget cut the flows.
pub(crate) fn render(
    trace: &Trace,
    verdict: Option<&Verdict>,
    window: &Window,
) -> (String, Option<String>) {
    let mut out = Vec::new();
    metadata(trace, &mut out);
    roles(trace, &mut out);
    operations(trace, &mut out);
    faults(trace, &mut out);

    let deliveries: Vec<usize> = (0..trace.events.len())
        .filter(|&i| matches!(trace.events[i].what, What::Deliver { .. }))
        .collect();
    let times: Vec<Nanos> = deliveries.iter().map(|&i| trace.events[i].t).collect();
    let pivot = verdict.and_then(|v| v.violation.as_ref()).map(|v| v.at);
    let fits = deliveries.len() <= MAX_FLOWS;
    let no_window = Window::default();
    let selection = select(
        &times,
        if fits { &no_window } else { window },
        pivot,
        MAX_FLOWS,
    );
    let chosen = &deliveries[selection.range.clone()];
    let span = if fits {
        Some((0, Nanos::MAX))
    } else {
        chosen
            .first()
            .zip(chosen.last())
            .map(|(&a, &b)| (trace.events[a].t, trace.events[b].t))
    };
    messages(trace, chosen, span, &mut out);
    if let Some(v) = verdict.and_then(|v| v.violation.as_ref()) {
        let args = json!({
            "invariant": v.invariant,
            "message": v.message,
            "nodes": v.nodes,
            "evidence": v.evidence.join("\n"),
        });
        let name = format!("VIOLATION {}", v.invariant);
        out.push(
            json!({"ph": "i", "s": "g", "name": name, "cat": "violation", "pid": 1,
            "tid": FAULTS, "ts": us(v.at), "args": args}),
        );
        for node in &v.nodes {
            if let Some(who) = trace.names.iter().position(|n| n == node) {
                out.push(
                    json!({"ph": "i", "s": "p", "name": name, "cat": "violation",
                    "pid": pid(who as Who), "tid": FAULTS, "ts": us(v.at), "args": args}),
                );
            }
        }
    }
    let mut note = None;
    if !fits {
        counters(trace, &deliveries, &mut out);
        let (from, to) = span.unwrap_or((0, 0));
        note = Some(format!(
            "{FILE}: {} of {} deliveries drawn as flows, from {} to {} (at most {MAX_FLOWS}; \
             --from/--to choose them); a deliveries counter per node covers the whole run",
            chosen.len(),
            deliveries.len(),
            instant(from),
            instant(to)
        ));
    }
    let other = json!({
        "scenario": trace.scenario,
        "protocol": trace.protocol,
        "seed": trace.seed,
        "trace_hash": trace.trace_hash,
        "verdict": verdict.map(|v| v.verdict.as_str()),
        "deliveries": deliveries.len(),
        "flows": chosen.len(),
        "flows_window_ns": span.filter(|_| !fits).map(|(a, b)| [a, b]),
        "note": note,
    });
    let mut text = String::from("{\"traceEvents\":[\n");
    for (i, e) in out.iter().enumerate() {
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(&e.to_string());
    }
    text.push_str("\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":");
    text.push_str(&other.to_string());
    text.push_str("}\n");
    (text, note)
}

fn metadata(trace: &Trace, out: &mut Vec<Value>) {
    for (i, name) in trace.names.iter().enumerate() {
        let who = i as Who;
        let p = pid(who);
        let shown = if trace.is_client(who) {
            format!("client {name}")
        } else {
            name.clone()
        };
        out.push(
            json!({"ph": "M", "name": "process_name", "pid": p, "tid": 0, "ts": 0,
            "args": {"name": shown}}),
        );
        out.push(
            json!({"ph": "M", "name": "process_sort_index", "pid": p, "tid": 0, "ts": 0,
            "args": {"sort_index": i}}),
        );
        let threads: &[(u32, &str)] = if trace.is_client(who) {
            &[(ROLE, "operations"), (MESSAGES, "messages")]
        } else {
            &[(ROLE, "role"), (MESSAGES, "messages"), (FAULTS, "faults")]
        };
        for &(tid, thread) in threads {
            out.push(
                json!({"ph": "M", "name": "thread_name", "pid": p, "tid": tid, "ts": 0,
                "args": {"name": thread}}),
            );
            out.push(
                json!({"ph": "M", "name": "thread_sort_index", "pid": p, "tid": tid,
                "ts": 0, "args": {"sort_index": tid}}),
            );
        }
    }
}

fn slice(name: &str, cat: &str, who: Who, tid: u32, from: Nanos, to: Nanos, args: Value) -> Value {
    json!({"ph": "X", "name": name, "cat": cat, "pid": pid(who), "tid": tid, "ts": us(from),
        "dur": us(to.saturating_sub(from)), "args": args})
}

/// The role each node held, as slices; a crash ends the role it held.
fn roles(trace: &Trace, out: &mut Vec<Value>) {
    let mut held: BTreeMap<Who, (Nanos, Label, Option<u64>)> = BTreeMap::new();
    let close = |who: Who,
                 (from, role, term): (Nanos, Label, Option<u64>),
                 to: Nanos,
                 out: &mut Vec<Value>| {
        let role = trace.label(role);
        let name = term.map_or_else(|| role.to_string(), |t| format!("{role} t{t}"));
        out.push(slice(
            &name,
            "role",
            who,
            ROLE,
            from,
            to,
            json!({"role": role, "term": term}),
        ));
    };
    for e in &trace.events {
        match &e.what {
            What::Role { role, term } => {
                if let Some(h) = held.insert(e.who, (e.t, *role, *term)) {
                    close(e.who, h, e.t, out);
                }
            }
            What::Fault { fault } if trace.faults[*fault].kind == "crash" => {
                for &who in &trace.faults[*fault].nodes {
                    if let Some(h) = held.remove(&who) {
                        close(who, h, e.t, out);
                    }
                }
            }
            _ => {}
        }
    }
    for (who, h) in held {
        close(who, h, trace.end, out);
    }
}

/// Each client operation, from its invocation to its completion (or the end of the run).
fn operations(trace: &Trace, out: &mut Vec<Value>) {
    let mut open: BTreeMap<(Who, u64), (Nanos, Label)> = BTreeMap::new();
    for e in &trace.events {
        match &e.what {
            What::Invoke { req, op } => {
                open.insert((e.who, *req), (e.t, *op));
            }
            What::Complete { req, outcome } => {
                if let Some((from, op)) = open.remove(&(e.who, *req)) {
                    let name = format!("{} -> {}", trace.label(op), trace.label(*outcome));
                    out.push(slice(
                        &name,
                        "operation",
                        e.who,
                        ROLE,
                        from,
                        e.t,
                        json!({"req": req}),
                    ));
                }
            }
            _ => {}
        }
    }
    for ((who, req), (from, op)) in open {
        let name = format!("{} (pending)", trace.label(op));
        out.push(slice(
            &name,
            "operation",
            who,
            ROLE,
            from,
            trace.end,
            json!({"req": req}),
        ));
    }
}

/// Faults: an instant on each node touched (global when none is), a slice while a timed fault
/// lasts, and a `down` slice from a crash to the restart.
fn faults(trace: &Trace, out: &mut Vec<Value>) {
    let mut down: BTreeMap<Who, Nanos> = BTreeMap::new();
    for e in &trace.events {
        match &e.what {
            What::Fault { fault } => {
                let f = &trace.faults[*fault];
                let args = json!({"fault": f.kind, "written": f.written, "nodes": f.nodes.iter()
                    .map(|&w| trace.name(w)).collect::<Vec<_>>()});
                if f.nodes.is_empty() {
                    out.push(json!({"ph": "i", "s": "g", "name": f.text, "cat": "fault",
                        "pid": 1, "tid": FAULTS, "ts": us(f.t), "args": args}));
                }
                for &who in &f.nodes {
                    out.push(json!({"ph": "i", "s": "p", "name": f.text, "cat": "fault",
                        "pid": pid(who), "tid": FAULTS, "ts": us(f.t), "args": args}));
                    if let Some(d) = f.lasting {
                        let to = f.t.saturating_add(d).min(trace.end.max(f.t));
                        out.push(slice(&f.text, "fault", who, FAULTS, f.t, to, args.clone()));
                    }
                    if f.kind == "crash" {
                        down.entry(who).or_insert(f.t);
                    }
                }
            }
            What::Start { restart: true } => {
                if let Some(from) = down.remove(&e.who) {
                    out.push(slice("down", "fault", e.who, FAULTS, from, e.t, json!({})));
                }
            }
            _ => {}
        }
    }
    for (who, from) in down {
        out.push(slice(
            "down",
            "fault",
            who,
            FAULTS,
            from,
            trace.end,
            json!({}),
        ));
    }
}

/// A step: what a participant did at one instant, named after its first record.
struct Step {
    first: usize,
    records: u32,
}

/// The steps and flows of the chosen deliveries, and the lost messages, in `span` (both ends
/// included; everything when the budget did not cut).
fn messages(trace: &Trace, chosen: &[usize], span: Option<(Nanos, Nanos)>, out: &mut Vec<Value>) {
    let Some((from, to)) = span else { return };
    let labels = trace.message_labels();
    let mut sends: BTreeMap<MsgId, usize> = BTreeMap::new();
    let mut steps: BTreeMap<(Who, Nanos), Step> = BTreeMap::new();
    let add = |steps: &mut BTreeMap<(Who, Nanos), Step>, i: usize| {
        let e = &trace.events[i];
        let s = steps.entry((e.who, e.t)).or_insert(Step {
            first: i,
            records: 0,
        });
        s.first = s.first.min(i);
        s.records += 1;
    };
    for (i, e) in trace.events.iter().enumerate() {
        if let What::Send { id, .. } = e.what {
            sends.entry(id).or_insert(i);
        }
        let is_step = matches!(
            e.what,
            What::Start { .. }
                | What::Send { .. }
                | What::Deliver { .. }
                | What::Timer { .. }
                | What::Invoke { .. }
                | What::Complete { .. }
        );
        if is_step && from <= e.t && e.t <= to {
            add(&mut steps, i);
        }
    }
    for &d in chosen {
        if let What::Deliver { id, .. } = trace.events[d].what
            && let Some(&s) = sends.get(&id)
            && !(from <= trace.events[s].t && trace.events[s].t <= to)
        {
            add(&mut steps, s);
        }
    }
    let keys: Vec<(Who, Nanos)> = steps.keys().copied().collect();
    for (k, (&(who, t), step)) in steps.iter().enumerate() {
        let next = keys.get(k + 1).filter(|n| n.0 == who).map(|n| n.1);
        let end = next.map_or(t + STEP, |n| n.min(t + STEP));
        let e = &trace.events[step.first];
        let name = describe(trace, &labels, e.who, &e.what);
        out.push(slice(
            &name,
            "step",
            who,
            MESSAGES,
            t,
            end,
            json!({"seq": e.seq, "records": step.records}),
        ));
    }
    for (k, &d) in chosen.iter().enumerate() {
        let e = &trace.events[d];
        let What::Deliver { from: sender, id } = e.what else {
            continue;
        };
        let Some(&s) = sends.get(&id) else { continue };
        let name = labels.get(&id).map_or("message", |&l| trace.label(l));
        out.push(
            json!({"ph": "s", "id": k + 1, "name": name, "cat": "message",
            "pid": pid(sender), "tid": MESSAGES, "ts": us(trace.events[s].t)}),
        );
        out.push(
            json!({"ph": "f", "bp": "e", "id": k + 1, "name": name, "cat": "message",
            "pid": pid(e.who), "tid": MESSAGES, "ts": us(e.t)}),
        );
    }
    for e in &trace.events {
        if let What::Drop {
            from: sender,
            id,
            reason,
        } = e.what
            && from <= e.t
            && e.t <= to
        {
            let name = labels.get(&id).map_or("message", |&l| trace.label(l));
            out.push(
                json!({"ph": "i", "s": "t", "name": format!("lost {name}"), "cat": "drop",
                "pid": pid(e.who), "tid": MESSAGES, "ts": us(e.t),
                "args": {"from": trace.name(sender), "reason": trace.label(reason)}}),
            );
        }
    }
}

/// A record in a few words, for a step's name.
pub(crate) fn describe(
    trace: &Trace,
    labels: &BTreeMap<MsgId, Label>,
    _who: Who,
    what: &What,
) -> String {
    let msg = |id: &MsgId| labels.get(id).map_or("message", |&l| trace.label(l));
    match what {
        What::Start { restart: false } => "start".to_string(),
        What::Start { restart: true } => "restart".to_string(),
        What::Send { to, label, .. } => {
            format!("send {} to {}", trace.label(*label), trace.name(*to))
        }
        What::Deliver { from, id } => format!("recv {} from {}", msg(id), trace.name(*from)),
        What::Drop { from, id, reason } => format!(
            "lost {} from {} ({})",
            msg(id),
            trace.name(*from),
            trace.label(*reason)
        ),
        What::Timer { timer } => format!("timer {}", trace.label(*timer)),
        What::Role { role, term } => match term {
            Some(t) => format!("becomes {} t{t}", trace.label(*role)),
            None => format!("becomes {}", trace.label(*role)),
        },
        What::Fault { fault } => {
            let f = &trace.faults[*fault];
            if f.written.is_empty() || f.written == f.text {
                format!("fault: {}", f.text)
            } else {
                format!("fault: {} ({})", f.text, f.written)
            }
        }
        What::Invoke { req, op } => format!("invoke #{req} {}", trace.label(*op)),
        What::Complete { req, outcome } => format!("complete #{req} {}", trace.label(*outcome)),
    }
}

/// Deliveries per node per bucket over the whole run, for a run whose flows were cut.
fn counters(trace: &Trace, deliveries: &[usize], out: &mut Vec<Value>) {
    let bucket = nice(trace.end.max(1).div_ceil(BUCKETS));
    let mut counts: BTreeMap<(Who, u64), u64> = BTreeMap::new();
    for &d in deliveries {
        let e = &trace.events[d];
        *counts.entry((e.who, e.t / bucket)).or_default() += 1;
    }
    let last = trace.end / bucket;
    for who in 0..trace.names.len() as Who {
        for b in 0..=last {
            let n = counts.get(&(who, b)).copied().unwrap_or(0);
            out.push(
                json!({"ph": "C", "name": "deliveries", "pid": pid(who), "tid": 0,
                "ts": us(b * bucket), "args": {"per bucket": n}}),
            );
        }
    }
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `ns`.
fn nice(ns: Nanos) -> Nanos {
    let mut p = 1;
    loop {
        for m in [1, 2, 5] {
            if m * p >= ns {
                return m * p;
            }
        }
        p *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::super::trace_model::parse;
    use super::*;

    const TRACE: &str = r#"{"format":"sim-trace","version":1,"scenario":"s","seed":3,"protocol":"raft","nodes":["A","B"],"duration_ns":10000}
{"kind":"observe","local":0,"node":"A","obs":{"role":"follower","term":0,"type":"role"},"seq":0,"t":0}
{"kind":"observe","local":0,"node":"A","obs":{"role":"leader","term":1,"type":"role"},"seq":1,"t":100}
{"id":0,"kind":"send","msg":{"append_entries":{"term":1}},"node":"A","seq":2,"t":100,"to":"B"}
{"id":1,"kind":"send","msg":{"append_entries":{"term":1}},"node":"A","seq":3,"t":100,"to":"B"}
{"from":"A","id":0,"kind":"deliver","local":2,"node":"B","seq":4,"t":600}
{"from":"A","id":1,"kind":"drop","node":"B","reason":"loss","seq":5,"t":700}
{"fault":"crash","kind":"fault","nodes":["A"],"origin":{"schedule":0},"seq":6,"t":5000,"text":"crash A","written":"crash leader"}
{"events":7,"kind":"end","t":10000,"trace_hash":"00ff"}
"#;

    #[test]
    fn roles_are_slices_messages_flows_and_faults_instants() {
        let trace = parse("t", TRACE).unwrap();
        let (text, note) = render(&trace, None, &Window::default());
        assert_eq!(note, None);
        let doc: Value = serde_json::from_str(&text).unwrap();
        let events = doc["traceEvents"].as_array().unwrap();
        let named = |ph: &str, name: &str| {
            events
                .iter()
                .filter(|e| e["ph"] == ph && e["name"] == name)
                .cloned()
                .collect::<Vec<_>>()
        };
        let leader = &named("X", "leader t1")[0];
        assert_eq!(
            (leader["ts"].as_f64(), leader["dur"].as_f64()),
            (Some(0.1), Some(4.9)),
            "until the crash"
        );
        assert_eq!(
            named("s", "append_entries t1").len(),
            1,
            "one flow per delivery"
        );
        let f = &named("f", "append_entries t1")[0];
        assert_eq!((f["pid"].as_u64(), f["ts"].as_f64()), (Some(2), Some(0.6)));
        assert_eq!(named("i", "lost append_entries t1").len(), 1);
        assert_eq!(named("i", "crash A").len(), 1);
        assert_eq!(named("X", "down").len(), 1, "A never restarts");
        // The step that sent both messages lasts 1 µs; the flow's start lies inside it.
        let step = &named("X", "send append_entries t1 to B")[0];
        assert_eq!(
            (step["ts"].as_f64(), step["dur"].as_f64()),
            (Some(0.1), Some(1.0))
        );
        assert_eq!(doc["otherData"]["deliveries"], 1);
    }

    #[test]
    fn nice_buckets() {
        assert_eq!(
            (nice(1), nice(3), nice(7), nice(3_600_000)),
            (1, 5, 10, 5_000_000)
        );
    }
}
