//! The `sim check --html` picture: a history on a time axis, with the linearization drawn on it.
//!
//! One lane per process; each operation is a bar from its invocation to its completion, coloured
//! by outcome (an unknown operation's bar runs on to the end of the history, since it may take
//! effect at any later instant). The order the checker found (or, on a violation, the longest
//! linearizable prefix) is drawn as numbered points, each at the earliest instant that order
//! allows; the operation that cannot be placed is outlined in red and the smallest window that
//! cannot be linearized in orange. Self-contained: inline SVG and CSS, no scripts, no external
//! assets, so the file can be mailed or attached to an issue. Rendering only: the verdict and the
//! explanation come in from the checker.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::check::linearizable::{Analysis, LinVerdict};
use crate::workload::history::{
    Call, History, ModelSpec, Operation, Outcome, Output, TimeUnit, Value,
};

const LANE_PX: f64 = 26.0;
const BAR_PX: f64 = 14.0;
const LEFT_PX: f64 = 90.0;
const TOP_PX: f64 = 40.0;
const RIGHT_PX: f64 = 30.0;

/// Where the checker's findings sit on the picture.
#[derive(Default)]
struct Marks {
    /// Operation index -> (its position in its key's order, counting from 1; the instant drawn).
    order: BTreeMap<usize, (usize, u64)>,
    stuck: Vec<usize>,
    window: Vec<usize>,
}

/// The whole HTML page.
pub(crate) fn render(
    history: &History,
    model: &ModelSpec,
    analysis: &Analysis,
    explanation: &str,
    title: &str,
) -> String {
    let marks = marks(history, analysis);
    let mut page = String::new();
    let verdict = analysis.verdict.name();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} — {verdict}</title>\n<style>{CSS}</style></head><body>\n\
         <h1>{}</h1>\n<p class=\"verdict {}\">{verdict}</p>\n<p>{} operations, {} processes, \
         model {}{}, {} steps</p>\n",
        escape(title),
        escape(title),
        verdict_class(&analysis.verdict),
        history.ops.len(),
        lanes(history).len(),
        crate::workload::history::json::model_name(model.kind),
        model
            .init
            .as_ref()
            .map_or(" (initially absent)".to_string(), |v| format!(
                " (initially {})",
                escape(&v.to_string())
            )),
        analysis.steps,
    );
    page.push_str(&legend());
    page.push_str(&svg(history, &marks));
    if !explanation.is_empty() {
        let _ = write!(
            page,
            "<h2>Explanation</h2>\n<pre>{}</pre>\n",
            escape(explanation)
        );
    }
    page.push_str("</body></html>\n");
    page
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
    .verdict{font-size:1.3em;font-weight:bold}.ok{color:#1a7f37}.bad{color:#c62828}\
    .unknown{color:#b26a00}pre{background:#f6f8fa;padding:1em;overflow:auto}\
    .legend span{display:inline-block;margin-right:1.2em}\
    .sw{display:inline-block;width:1.6em;height:.8em;margin-right:.3em;vertical-align:middle}\
    svg text{font-size:10px;font-family:ui-monospace,monospace}\
    .scroll{overflow-x:auto;border:1px solid #ddd}";

fn verdict_class(v: &LinVerdict) -> &'static str {
    match v {
        LinVerdict::Linearizable => "ok",
        LinVerdict::NotLinearizable => "bad",
        LinVerdict::Unknown { .. } => "unknown",
    }
}

fn legend() -> String {
    let item = |style: &str, text: &str| {
        format!("<span><i class=\"sw\" style=\"{style}\"></i>{text}</span>")
    };
    format!(
        "<p class=\"legend\">{}{}{}{}{}{}</p>\n",
        item("background:#4caf50", "ok: took effect between its ends"),
        item("background:#bdbdbd", "fail: did not take effect"),
        item(
            "background:repeating-linear-gradient(90deg,#ffb300 0 6px,#fff3 6px 9px)",
            "info: unknown, may take effect until the end"
        ),
        item(
            "border-radius:50%;width:.9em;height:.9em;background:#1565c0",
            "n: linearization order (per key)"
        ),
        item("border:2px solid #e53935", "cannot be placed"),
        item(
            "border:2px solid #fb8c00",
            "smallest window that cannot be linearized"
        ),
    )
}

/// The processes in order, each with its lane number.
fn lanes(history: &History) -> BTreeMap<u64, usize> {
    let mut lanes: BTreeMap<u64, usize> = history.ops.iter().map(|op| (op.process, 0)).collect();
    for (i, lane) in lanes.values_mut().enumerate() {
        *lane = i;
    }
    lanes
}

/// Linearization points: each key's order, each op at the earliest instant the order allows
/// (not before its invocation, not before the previous point).
fn marks(history: &History, analysis: &Analysis) -> Marks {
    let mut marks = Marks::default();
    for part in &analysis.partitions {
        let mut at = 0;
        for (n, &i) in part.linearization.iter().enumerate() {
            let Some(op) = history.ops.get(i) else {
                continue;
            };
            at = at.max(op.invoke);
            marks.order.insert(i, (n + 1, at));
        }
        marks.stuck.extend(part.stuck);
        marks.window.extend(&part.window);
    }
    marks
}

/// Maps history time to x pixels.
struct Axis {
    start: u64,
    end: u64,
    width: f64,
}

impl Axis {
    fn x(&self, t: u64) -> f64 {
        let span = (self.end - self.start).max(1) as f64;
        LEFT_PX + (t.saturating_sub(self.start)) as f64 / span * self.width
    }
}

fn svg(history: &History, marks: &Marks) -> String {
    let lanes = lanes(history);
    let start = history.ops.iter().map(|o| o.invoke).min().unwrap_or(0);
    let last = history
        .ops
        .iter()
        .map(|o| o.complete.unwrap_or(o.invoke))
        .max()
        .unwrap_or(start);
    // An open-ended bar needs room past the last event.
    let end = last + ((last - start) / 20).max(1);
    let width = (history.ops.len() as f64 * 14.0).clamp(800.0, 24_000.0);
    let axis = Axis { start, end, width };
    let height = TOP_PX + lanes.len() as f64 * LANE_PX + 20.0;
    let total = LEFT_PX + width + RIGHT_PX;
    let mut s = format!(
        "<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total:.0}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {total:.0} {height:.0}\">\n"
    );
    ticks(&mut s, &axis, history.time_unit, height);
    for (process, lane) in &lanes {
        let y = TOP_PX + *lane as f64 * LANE_PX;
        let _ = writeln!(
            s,
            "<text x=\"4\" y=\"{:.1}\">process {process}</text>",
            y + BAR_PX - 3.0
        );
    }
    for (i, op) in history.ops.iter().enumerate() {
        let y = TOP_PX + lanes[&op.process] as f64 * LANE_PX;
        bar(&mut s, &axis, i, op, y, marks, end);
    }
    s.push_str("</svg></div>\n");
    s
}

fn ticks(s: &mut String, axis: &Axis, unit: TimeUnit, height: f64) {
    let span = axis.end - axis.start;
    // Labels at least 60 pixels apart.
    let step = nice_step((span as f64 * 60.0 / axis.width) as u64);
    let caption = match unit {
        TimeUnit::Nanos => "virtual time",
        TimeUnit::Event => "event",
    };
    let _ = writeln!(
        s,
        "<text x=\"4\" y=\"{:.1}\" fill=\"#777\">{caption}</text>",
        TOP_PX - 16.0
    );
    let mut t = axis.start - axis.start % step;
    while t <= axis.end {
        if t >= axis.start {
            let x = axis.x(t);
            let label = match unit {
                TimeUnit::Nanos => crate::node::format_duration(t),
                TimeUnit::Event => t.to_string(),
            };
            let _ = writeln!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{height:.1}\" stroke=\"#eee\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#777\">{label}</text>",
                TOP_PX - 12.0,
                TOP_PX - 16.0
            );
        }
        t += step;
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: u64) -> u64 {
    let mut p = 1u64;
    loop {
        for m in [1, 2, 5] {
            if p.saturating_mul(m) >= raw.max(1) {
                return p * m;
            }
        }
        p = p.saturating_mul(10);
    }
}

fn bar(s: &mut String, axis: &Axis, i: usize, op: &Operation, y: f64, marks: &Marks, end: u64) {
    let x0 = axis.x(op.invoke);
    let unknown = matches!(op.outcome, Outcome::Info) || op.complete.is_none();
    let x1 = if unknown {
        axis.x(end)
    } else {
        axis.x(op.complete.unwrap_or(end))
    };
    let w = (x1 - x0).max(3.0);
    let (fill, extra) = match op.outcome {
        Outcome::Ok(_) if !unknown => ("#4caf50", ""),
        Outcome::Fail => ("#bdbdbd", ""),
        _ => ("#ffb300", " fill-opacity=\"0.55\" stroke-dasharray=\"4 2\""),
    };
    let stroke = if marks.stuck.contains(&i) {
        " stroke=\"#e53935\" stroke-width=\"3\""
    } else if marks.window.contains(&i) {
        " stroke=\"#fb8c00\" stroke-width=\"2\""
    } else {
        " stroke=\"#fff\" stroke-width=\"0.5\""
    };
    let tip = tooltip(i, op);
    let _ = writeln!(
        s,
        "<g><title>{}</title><rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR_PX}\" \
         rx=\"2\" fill=\"{fill}\"{extra}{stroke}/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
        escape(&tip),
        x0 + 2.0,
        y + BAR_PX - 3.0,
        escape(&short(op))
    );
    if unknown && let Some(gave_up) = op.complete {
        // When the client stopped waiting: not a bound on when it took effect.
        let x = axis.x(gave_up);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#b26a00\"/>",
            y + BAR_PX
        );
    }
    if let Some(&(n, at)) = marks.order.get(&i) {
        let x = axis.x(at).max(x0 + 4.0);
        let _ = writeln!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{:.1}\" r=\"6\" fill=\"#1565c0\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#fff\" text-anchor=\"middle\" \
             font-size=\"8\">{n}</text>",
            y - 2.0,
            y + 1.0
        );
    }
    s.push_str("</g>\n");
}

fn value(v: &Value) -> String {
    v.to_string()
}

/// The label on a bar: `w 3`, `r 4`, `cas 1→2 ✗`.
fn short(op: &Operation) -> String {
    let key = op.key.as_ref().map_or(String::new(), |k| format!("{k}: "));
    let call = match &op.call {
        Call::Read => "r".to_string(),
        Call::Write(v) => format!("w {}", value(v)),
        Call::Append(v) => format!("a {}", value(v)),
        Call::Cas { from, to } => format!("cas {}→{}", value(from), value(to)),
        Call::Txn(steps) => match &op.outcome {
            Outcome::Ok(Output::Txn(seen)) => {
                return format!(
                    "{key}{}",
                    crate::workload::history::txn_text(steps, Some(seen))
                );
            }
            _ => crate::workload::history::txn_text(steps, None),
        },
        Call::Acquire => "acquire".to_string(),
        Call::Release => "release".to_string(),
        Call::Transfer { from, to, amount } => format!("{from}→{to} {amount}"),
        Call::ReadAll => "read all".to_string(),
    };
    let out = match &op.outcome {
        Outcome::Ok(Output::Value(Some(v))) => format!(" {}", value(v)),
        Outcome::Ok(Output::Value(None)) => " nil".to_string(),
        Outcome::Ok(Output::Siblings(vs)) => {
            let shown: Vec<String> = vs.iter().map(value).collect();
            format!(" {{{}}}", shown.join(", "))
        }
        Outcome::Ok(Output::Cas(false)) => " ✗".to_string(),
        Outcome::Info => " ?".to_string(),
        _ => String::new(),
    };
    format!("{key}{call}{out}")
}

fn tooltip(i: usize, op: &Operation) -> String {
    let outcome = match &op.outcome {
        Outcome::Ok(_) => "ok",
        Outcome::Fail => "fail (did not take effect)",
        Outcome::Info => "info (unknown)",
    };
    let complete = op
        .complete
        .map_or("never completed".to_string(), |c| format!("completed {c}"));
    format!(
        "op {i}, process {}: {} — {outcome}; invoked {}, {complete}",
        op.process,
        short(op),
        op.invoke
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linearizable::{Limits, check};
    use crate::workload::history::{ModelKind, json};

    /// A write of 1, then a read of 2 after it: the read cannot be placed.
    fn stale() -> (History, ModelSpec) {
        let h = json::parse(
            r#"{"format":"sim-history","version":1,"time_unit":"ns","ops":[
            {"process":0,"key":"<k>","f":"write","value":1,"invoke":0,"complete":10,"type":"ok"},
            {"process":1,"key":"<k>","f":"read","invoke":20,"complete":30,"type":"ok","output":2},
            {"process":2,"key":"<k>","f":"write","value":3,"invoke":25,"type":"info"}]}"#,
        )
        .unwrap();
        let model = ModelSpec {
            kind: ModelKind::Kv,
            init: None,
        };
        (h, model)
    }

    #[test]
    fn the_picture_marks_the_operation_that_cannot_be_placed_and_escapes_text() {
        let (h, model) = stale();
        let analysis = check(&h, &model, &Limits::default()).unwrap();
        assert_eq!(analysis.verdict, LinVerdict::NotLinearizable);
        let page = render(&h, &model, &analysis, "why <here>", "t.json");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<svg"));
        assert_eq!(
            page.matches("stroke=\"#e53935\" stroke-width=\"3\"")
                .count(),
            1
        );
        assert!(page.contains("&lt;k&gt;: r 2"), "the key is escaped");
        assert!(!page.contains("<k>"));
        assert!(page.contains("why &lt;here&gt;"));
        assert!(
            page.contains("stroke-dasharray"),
            "the unknown write is open-ended"
        );
        for external in ["<script", "src=", "href=", "url("] {
            assert!(!page.contains(external), "self-contained: no {external}");
        }
    }

    #[test]
    fn a_linearizable_history_shows_its_order_as_numbered_points() {
        let (mut h, model) = stale();
        h.ops[1].outcome = Outcome::Ok(Output::Value(Some(Value::Int(1))));
        let analysis = check(&h, &model, &Limits::default()).unwrap();
        assert_eq!(analysis.verdict, LinVerdict::Linearizable);
        let page = render(&h, &model, &analysis, "", "t.json");
        assert_eq!(
            page.matches("<circle").count(),
            analysis.partitions[0].linearization.len()
        );
        assert!(page.contains(">1</text>") && page.contains(">2</text>"));
        assert!(!page.contains("#e53935\" stroke-width=\"3"));
    }

    #[test]
    fn tick_steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(0), 1);
        assert_eq!(nice_step(3), 5);
        assert_eq!(nice_step(7), 10);
        assert_eq!(nice_step(1_500), 2_000);
    }
}
