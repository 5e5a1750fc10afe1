//! The history picture (`sim check --html`): a history on a time axis, drawn for a student who
//! must see where and why it stops being linearizable.
//!
//! One lane per client (process); each operation is a bar from its invocation to its completion,
//! coloured by outcome and labelled with what it did, what it returned and, for the simulator's
//! histories, which node answered (`@D`). Labels never overlap and the axis keeps every operation
//! legible however long the history ([`layout`]). On a violation the page opens scrolled to the
//! operation that cannot be placed (outlined in red, with a band across every lane), marks the
//! operations of the longest linearizable prefix (a blue underline), the smallest window that
//! cannot be linearized (orange), fades what came after, and says in one sentence why
//! ([`crate::check::linearizable::reason`]), with a table of the operations around it.
//!
//! One self-contained file: inline SVG, CSS and a short script (zoom, and the scroll to the
//! violation on opening), no network, no external asset, so it opens from disk and can be mailed
//! or attached to an issue. Rendering only: the verdict and the explanation come from the checker.

mod layout;
mod svg;

use std::fmt::Write as _;

use crate::check::linearizable::{self, Analysis, Limits, LinVerdict, PartitionResult};
use crate::workload::history::{Call, History, ModelKind, ModelSpec, Operation, Outcome, Output};

/// What the checker found, per operation, for drawing.
pub(crate) struct Marks {
    /// Each operation's position (from 1) in its key's order: the linearization, or on a
    /// violation the longest linearizable prefix.
    pub(crate) order: Vec<Option<usize>>,
    /// The operation that cannot be placed.
    pub(crate) stuck: Option<usize>,
    /// In the smallest window that cannot be linearized.
    pub(crate) window: Vec<bool>,
    /// Invoked after the stuck operation completed: beside the point, drawn faded.
    pub(crate) after: Vec<bool>,
    /// Whether there is a violation (the prefix underline means something only then).
    pub(crate) violation: bool,
}

impl Marks {
    fn of(history: &History, analysis: &Analysis) -> Marks {
        let n = history.ops.len();
        let mut marks = Marks {
            order: vec![None; n],
            stuck: None,
            window: vec![false; n],
            after: vec![false; n],
            violation: analysis.verdict == LinVerdict::NotLinearizable,
        };
        for p in &analysis.partitions {
            for (k, &i) in p.linearization.iter().enumerate() {
                if let Some(slot) = marks.order.get_mut(i) {
                    *slot = Some(k + 1);
                }
            }
            for &i in &p.window {
                if let Some(slot) = marks.window.get_mut(i) {
                    *slot = true;
                }
            }
        }
        if let Some(p) = violating(analysis) {
            marks.stuck = p.stuck;
            if let Some(done) = p.stuck.and_then(|i| history.ops.get(i)?.complete) {
                for (i, op) in history.ops.iter().enumerate() {
                    marks.after[i] = op.invoke > done;
                }
            }
        }
        marks
    }
}

/// The first key found not linearizable, with the operation that cannot be placed when known.
fn violating(analysis: &Analysis) -> Option<&PartitionResult> {
    let bad = |p: &&PartitionResult| p.verdict == LinVerdict::NotLinearizable;
    analysis
        .partitions
        .iter()
        .filter(bad)
        .find(|p| p.stuck.is_some())
        .or_else(|| analysis.partitions.iter().find(bad))
}

/// The whole HTML page for `history`, judged as `analysis` against `model`; `explanation` is the
/// checker's account in words (empty when there is nothing to explain), `title` names the file.
pub(crate) fn render(
    history: &History,
    model: &ModelSpec,
    analysis: &Analysis,
    explanation: &str,
    title: &str,
) -> String {
    let marks = Marks::of(history, analysis);
    let simulated = history.ops.iter().any(|op| op.node.is_some());
    let keyed = {
        let mut keys = history.ops.iter().filter_map(|op| op.key.as_ref());
        let first = keys.next();
        keys.any(|k| Some(k) != first)
    };
    let labels: Vec<String> = history.ops.iter().map(|op| label(op, keyed)).collect();
    let axis = layout::Axis::of(history);
    let placed = layout::layout(history, &axis, &labels);
    let verdict = analysis.verdict.name();
    let mut page = String::with_capacity(history.ops.len() * 600 + 8_000);
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{} — {verdict}</title>\n<style>{CSS}</style></head><body>\n<header>\n\
         <h1>{}</h1>\n<p class=\"verdict {}\" id=\"verdict\">{verdict}</p>\n",
        escape(title),
        escape(title),
        verdict_class(&analysis.verdict),
    );
    page.push_str(&headline(history, analysis));
    let _ = writeln!(
        page,
        "<p class=\"facts\">{} operations, {} {}, model {}{}, {} search steps</p>",
        history.ops.len(),
        placed.lanes.len(),
        if simulated { "clients" } else { "processes" },
        crate::workload::history::json::model_name(model.kind),
        initially(model),
        analysis.steps,
    );
    page.push_str(&legend(marks.violation, simulated));
    page.push_str(
        "<p class=\"controls\"><button id=\"zoom-out\" title=\"zoom out (-)\">−</button>\
         <button id=\"zoom-in\" title=\"zoom in (+)\">+</button>\
         <button id=\"zoom-fit\" title=\"the whole history (0)\">whole history</button>\
         <button id=\"zoom-one\" title=\"readable size (1)\">1:1</button>",
    );
    if marks.stuck.is_some() {
        page.push_str(" <a href=\"#violation\" id=\"go-violation\">go to the violation</a>");
    }
    page.push_str(
        " <span class=\"hint\">Time runs left to right, compressed where nothing happens \
         (// on the axis); hover an operation for its details.</span></p>\n</header>\n",
    );
    page.push_str(&svg::picture(history, &axis, &placed, &marks, simulated));
    if let Some(p) = violating(analysis) {
        page.push_str(&around(history, p, &marks));
    }
    if !explanation.is_empty() {
        let _ = write!(
            page,
            "<h2>The checker's account</h2>\n<pre>{}</pre>\n",
            escape(explanation)
        );
    }
    let _ = write!(page, "<script>{SCRIPT}</script>\n</body></html>\n");
    page
}

/// Checks `history` against the model it names and renders its picture: the entry point for
/// `history.html` beside a run's `history.json` (`sim run --out`). The step budget is the run's
/// own (`linearizable`'s), so the picture agrees with the run's verdict and depends on nothing
/// but the history. `None` when the history names no model the checker knows (a bank's
/// transfers) or the model cannot judge it.
pub(crate) fn render_for_run(history: &History, title: &str) -> Option<String> {
    let model = history.model.clone()?;
    let limits = Limits {
        max_steps: Some(crate::check::linearizability::MAX_STEPS),
        ..Limits::default()
    };
    let analysis = linearizable::check(history, &model, &limits).ok()?;
    let explanation = match analysis.verdict {
        LinVerdict::NotLinearizable => linearizable::explain(history, &analysis),
        _ => String::new(),
    };
    Some(render(history, &model, &analysis, &explanation, title))
}

/// The sentence under the verdict: why not, or that an order exists.
fn headline(history: &History, analysis: &Analysis) -> String {
    match &analysis.verdict {
        LinVerdict::Linearizable => format!(
            "<p class=\"reason\" id=\"reason\">The history is linearizable: one order of all {} \
             operations, consistent with real time, gives every operation the result it saw \
             (hover an operation for its place in that order).</p>\n",
            history.ops.len()
        ),
        LinVerdict::Unknown { reason } => format!(
            "<p class=\"reason\" id=\"reason\">Undecided: {}. Neither verdict is claimed.</p>\n",
            escape(reason)
        ),
        LinVerdict::NotLinearizable => {
            let Some(p) = violating(analysis) else {
                return String::new();
            };
            let sentence = linearizable::reason(history, p).unwrap_or_else(|| {
                format!(
                    "No order of the {} operations of {} works, but the checker could not \
                     single out one operation.",
                    p.ops,
                    key_text(p.key.as_deref())
                )
            });
            let placed = p.linearization.len();
            format!(
                "<p class=\"reason\" id=\"reason\">{}</p>\n<p class=\"prefix\">Longest \
                 linearizable prefix: <b id=\"prefix-count\">{placed}</b> operation{} of {} \
                 placed in order (underlined in blue) before the one that cannot be (in red).</p>\n",
                escape(&sentence),
                if placed == 1 { "" } else { "s" },
                escape(&key_text(p.key.as_deref())),
            )
        }
    }
}

fn key_text(key: Option<&str>) -> String {
    key.map_or("the history".to_string(), |k| format!("key {k}"))
}

/// A table of the operations around the violation: the end of the prefix, the window, the one
/// that cannot be placed.
fn around(history: &History, p: &PartitionResult, marks: &Marks) -> String {
    const PREFIX_SHOWN: usize = 10;
    let mut rows: Vec<usize> = p
        .linearization
        .iter()
        .rev()
        .take(PREFIX_SHOWN)
        .copied()
        .collect();
    rows.extend(&p.window);
    rows.extend(p.stuck);
    rows.sort_by_key(|&i| (history.ops[i].invoke, i));
    rows.dedup();
    let state_after: std::collections::BTreeMap<usize, String> = p
        .linearization
        .iter()
        .zip(&p.states)
        .map(|(&i, v)| (i, state_text(history, v.as_ref())))
        .collect();
    let mut out = String::from(
        "<h2>Around the violation</h2>\n<table class=\"around\"><tr><th>op</th><th>client</th>\
         <th>operation</th><th>answered by</th><th>invoked</th><th>completed</th>\
         <th>place</th><th>value after</th></tr>\n",
    );
    for i in rows {
        let op = &history.ops[i];
        let place = if Some(i) == marks.stuck {
            "cannot be placed".to_string()
        } else if let Some(n) = marks.order[i] {
            format!("placed {n}")
        } else if marks.window[i] {
            "in the window".to_string()
        } else {
            String::new()
        };
        let class = if Some(i) == marks.stuck {
            " class=\"stuck-row\""
        } else if marks.window[i] {
            " class=\"window-row\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<tr{class}><td>#{i}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{place}</td><td>{}</td></tr>",
            op.process,
            escape(&what_it_did(op)),
            escape(op.node.as_deref().unwrap_or("")),
            instant(op.invoke, history),
            op.complete
                .map_or("never".to_string(), |c| instant(c, history)),
            escape(state_after.get(&i).map_or("", String::as_str)),
        );
    }
    out.push_str("</table>\n");
    out
}

/// `read k0 -> "c4-33"`: the call and what it returned.
fn what_it_did(op: &Operation) -> String {
    let call = linearizable::call_phrase(op);
    let result = match &op.outcome {
        Outcome::Ok(Output::Value(v)) => format!(
            " → {}",
            v.as_ref().map_or("absent".to_string(), |v| v.to_string())
        ),
        Outcome::Ok(Output::Cas(b)) => format!(" → {}", if *b { "swapped" } else { "failed" }),
        Outcome::Ok(Output::Siblings(vs)) => {
            let shown: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
            format!(" → {{{}}}", shown.join(", "))
        }
        Outcome::Ok(Output::Txn(seen)) => match &op.call {
            Call::Txn(steps) => format!(
                " → {}",
                crate::workload::history::txn_text(steps, Some(seen))
            ),
            _ => String::new(),
        },
        Outcome::Ok(_) => " → ok".to_string(),
        Outcome::Fail => " → did not happen".to_string(),
        Outcome::Info => " → unknown".to_string(),
    };
    format!("{call}{result}")
}

/// A model state as the table shows it (a mutex is free or held).
fn state_text(history: &History, v: Option<&crate::workload::history::Value>) -> String {
    match (history.model.as_ref().map(|m| m.kind), v) {
        (Some(ModelKind::Mutex), None) => "free".to_string(),
        (Some(ModelKind::Mutex), Some(_)) => "held".to_string(),
        (Some(ModelKind::MultiRegister), Some(crate::workload::history::Value::Str(s))) => {
            s.clone()
        }
        (_, None) => "absent".to_string(),
        (_, Some(v)) => v.to_string(),
    }
}

/// An instant for people: seconds to the microsecond, or an event number.
pub(crate) fn instant(t: u64, history: &History) -> String {
    match history.time_unit {
        crate::workload::history::TimeUnit::Nanos => {
            format!("{}.{:06}s", t / 1_000_000_000, (t % 1_000_000_000) / 1_000)
        }
        crate::workload::history::TimeUnit::Event => t.to_string(),
    }
}

fn initially(model: &ModelSpec) -> String {
    if model.kind == ModelKind::Mutex {
        return " (initially free)".to_string();
    }
    model
        .init
        .as_ref()
        .map_or(" (initially absent)".to_string(), |v| {
            format!(" (initially {})", escape(&v.to_string()))
        })
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:1em 1.5em;color:#222}\
    h1{font-size:1.2em;margin:.2em 0}.verdict{font-size:1.3em;font-weight:bold;margin:.2em 0}\
    .ok{color:#1a7f37}.bad{color:#c62828}.unknown{color:#b26a00}\
    .reason{font-size:1.1em;max-width:70em;margin:.4em 0}.facts,.prefix{margin:.3em 0}\
    pre{background:#f6f8fa;padding:1em;overflow:auto}\
    .legend span{display:inline-block;margin-right:1.2em}\
    .sw{display:inline-block;width:1.6em;height:.8em;margin-right:.3em;vertical-align:middle}\
    .hint{color:#666;font-size:.9em}button{min-width:2em}\
    .picture{display:flex;border:1px solid #ddd}.names{flex:none;background:#fafafa;\
    border-right:1px solid #ddd}.scroll{overflow:auto;flex:1;max-height:75vh}\
    svg text{font-size:11px;font-family:ui-monospace,Menlo,Consolas,monospace}\
    .op:hover rect.bar{stroke:#000;stroke-width:1.5}\
    table.around{border-collapse:collapse;margin-top:.5em}\
    .around td,.around th{border:1px solid #ddd;padding:.15em .5em;text-align:left}\
    .stuck-row{background:#ffebee;font-weight:bold}.window-row{background:#fff3e0}";

/// Zoom (buttons and the keys `+`, `-`, `0`, `1`), and on opening, the scroll that brings the
/// operation that cannot be placed to the middle of the picture.
const SCRIPT: &str = r#"
(function () {
  var scroll = document.getElementById('scroll');
  var pic = document.getElementById('picture');
  var names = document.getElementById('names');
  if (!scroll || !pic) { return; }
  var W = +pic.getAttribute('width'), H = +pic.getAttribute('height');
  var NW = +names.getAttribute('width');
  var z = 1;
  function set(zoom, centre) {
    z = Math.min(4, Math.max(0.02, zoom));
    pic.setAttribute('width', W * z); pic.setAttribute('height', H * z);
    names.setAttribute('width', NW * Math.max(z, 0.5)); names.setAttribute('height', H * z);
    scroll.scrollLeft = centre * z - scroll.clientWidth / 2;
  }
  function middle() { return (scroll.scrollLeft + scroll.clientWidth / 2) / z; }
  function fit() { set(scroll.clientWidth / W, W / 2); }
  document.getElementById('zoom-in').onclick = function () { set(z * 1.5, middle()); };
  document.getElementById('zoom-out').onclick = function () { set(z / 1.5, middle()); };
  document.getElementById('zoom-fit').onclick = fit;
  document.getElementById('zoom-one').onclick = function () { set(1, middle()); };
  document.addEventListener('keydown', function (e) {
    if (e.key === '+' || e.key === '=') { set(z * 1.5, middle()); }
    else if (e.key === '-') { set(z / 1.5, middle()); }
    else if (e.key === '0') { fit(); }
    else if (e.key === '1') { set(1, middle()); }
  });
  var v = document.getElementById('violation');
  function show() {
    if (!v) { return; }
    set(z, +v.getAttribute('data-x'));
    var r = scroll.getBoundingClientRect();
    var y = +v.getAttribute('data-y') * z;
    scroll.scrollTop = y - scroll.clientHeight / 2;
    if (r.top < 0 || r.bottom > window.innerHeight) { scroll.scrollIntoView({block: 'nearest'}); }
  }
  var go = document.getElementById('go-violation');
  if (go) { go.onclick = function (e) { e.preventDefault(); show(); }; }
  show();
  // For tests in a headless browser (and the curious): did the violation land on screen?
  if (v) {
    var b = v.getBoundingClientRect();
    var seen = b.left >= 0 && b.right <= window.innerWidth && b.top >= 0 &&
      b.bottom <= window.innerHeight;
    document.body.setAttribute('data-violation-on-screen', seen ? 'yes' : 'no');
  }
  document.body.setAttribute('data-ready', 'yes');
})();
"#;

fn verdict_class(v: &LinVerdict) -> &'static str {
    match v {
        LinVerdict::Linearizable => "ok",
        LinVerdict::NotLinearizable => "bad",
        LinVerdict::Unknown { .. } => "unknown",
    }
}

fn legend(violation: bool, simulated: bool) -> String {
    let item = |style: &str, text: &str| {
        format!("<span><i class=\"sw\" style=\"{style}\"></i>{text}</span>")
    };
    let mut out = String::from("<p class=\"legend\">");
    out.push_str(&item(
        "background:#a5d6a7",
        "ok: took effect between its ends",
    ));
    out.push_str(&item("background:#e0e0e0", "fail: did not take effect"));
    out.push_str(&item(
        "background:#ffe082;border-right:2px dashed #b26a00",
        "info (?): unknown, may take effect until the end",
    ));
    if violation {
        out.push_str(&item(
            "border-bottom:3px solid #1565c0",
            "placed in the longest linearizable prefix",
        ));
        out.push_str(&item(
            "background:#ef9a9a;border:2px solid #c62828",
            "cannot be placed",
        ));
        out.push_str(&item(
            "border:2px solid #fb8c00",
            "smallest window that cannot be linearized",
        ));
        out.push_str(&item(
            "background:#a5d6a7;opacity:.35",
            "after the violation",
        ));
    }
    if simulated {
        out.push_str("<span><b>@D</b>: answered by node D</span>");
    }
    out.push_str("</p>\n");
    out
}

/// The label on a bar: `r "c4-33" @D`, `w 3`, `cas 1→2 ✗`, with the key first when the history
/// has several.
fn label(op: &Operation, keyed: bool) -> String {
    let key = match (&op.key, keyed) {
        (Some(k), true) => format!("{k}: "),
        _ => String::new(),
    };
    let call = match &op.call {
        Call::Read => "r".to_string(),
        Call::Write(v) => format!("w {v}"),
        Call::Append(v) => format!("a {v}"),
        Call::Cas { from, to } => format!("cas {from}→{to}"),
        Call::Txn(steps) => match &op.outcome {
            Outcome::Ok(Output::Txn(seen)) => crate::workload::history::txn_text(steps, Some(seen)),
            _ => crate::workload::history::txn_text(steps, None),
        },
        Call::Acquire => "acquire".to_string(),
        Call::Release => "release".to_string(),
        Call::Transfer { from, to, amount } => format!("{from}→{to} {amount}"),
        Call::ReadAll => "read all".to_string(),
    };
    let out = match (&op.call, &op.outcome) {
        (Call::Txn(_), _) => String::new(),
        (_, Outcome::Ok(Output::Value(Some(v)))) => format!(" {v}"),
        (_, Outcome::Ok(Output::Value(None))) => " nil".to_string(),
        (_, Outcome::Ok(Output::Siblings(vs))) => {
            let shown: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
            format!(" {{{}}}", shown.join(", "))
        }
        (_, Outcome::Ok(Output::Cas(false))) => " ✗".to_string(),
        (_, Outcome::Fail) => " ✗".to_string(),
        (_, Outcome::Info) => " ?".to_string(),
        _ => String::new(),
    };
    let node = op.node.as_ref().map_or(String::new(), |n| format!(" @{n}"));
    // A long value (an append history's growing string) would take the row: cut it, keeping
    // who answered; the hover title has it whole.
    let what = layout::fit(
        &format!("{key}{call}{out}"),
        layout::label_px(&"m".repeat(LABEL_CHARS)),
    );
    format!("{what}{node}")
}

/// The most characters of a label before the node.
const LABEL_CHARS: usize = 30;

pub(crate) use super::escape_html as escape;

#[cfg(test)]
mod tests;
