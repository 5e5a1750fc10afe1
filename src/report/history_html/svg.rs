//! Drawing the laid-out history: the lane names (a column that stays put while the picture
//! scrolls), the time axis, the bars with their labels and hover titles, and the marks of the
//! violation.

use std::fmt::Write as _;

use super::layout::{Axis, Layout};
use super::{Marks, escape, instant};
use crate::check::linearizable::describe;
use crate::workload::history::{History, Outcome};

/// Height of one row of a lane.
const ROW_PX: f64 = 20.0;
/// Height of a bar.
const BAR_PX: f64 = 16.0;
/// Space between lanes.
const LANE_GAP_PX: f64 = 10.0;
/// Room above the lanes for the axis.
const TOP_PX: f64 = 30.0;
/// The lane-name column's width.
const NAMES_PX: f64 = 96.0;

/// Both SVGs, side by side: the names and the scrolling picture.
pub(crate) fn picture(
    history: &History,
    axis: &Axis,
    layout: &Layout,
    marks: &Marks,
    simulated: bool,
) -> String {
    // Each lane's top.
    let mut tops = Vec::with_capacity(layout.lanes.len());
    let mut y = TOP_PX;
    for &(_, rows) in &layout.lanes {
        tops.push(y);
        y += rows as f64 * ROW_PX + LANE_GAP_PX;
    }
    let height = y + 4.0;
    let width = axis.width();
    let mut s = String::with_capacity(history.ops.len() * 520 + 4_000);
    let _ = writeln!(
        s,
        "<div class=\"picture\"><div class=\"names\"><svg id=\"names\" \
         xmlns=\"http://www.w3.org/2000/svg\" width=\"{NAMES_PX}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {NAMES_PX} {height:.0}\">"
    );
    let who = if simulated { "client" } else { "process" };
    for (&(process, rows), &top) in layout.lanes.iter().zip(&tops) {
        let _ = writeln!(
            s,
            "<text x=\"6\" y=\"{:.1}\" font-weight=\"bold\">{who} {process}</text>",
            top + (rows as f64 * ROW_PX).min(ROW_PX) / 2.0 + 4.0
        );
    }
    let _ = writeln!(
        s,
        "</svg></div><div class=\"scroll\" id=\"scroll\"><svg id=\"picture\" \
         xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\">"
    );
    // Lane backgrounds, alternating, so that a row's bars read as one client's.
    for (k, (&(_, rows), &top)) in layout.lanes.iter().zip(&tops).enumerate() {
        if k % 2 == 1 {
            let _ = writeln!(
                s,
                "<rect x=\"0\" y=\"{:.1}\" width=\"{width:.0}\" height=\"{:.1}\" fill=\"#f7f7f7\"/>",
                top - LANE_GAP_PX / 2.0,
                rows as f64 * ROW_PX + LANE_GAP_PX
            );
        }
    }
    ticks(&mut s, history, axis, height);
    if let Some(i) = marks.stuck {
        let p = &layout.placed[i];
        let _ = writeln!(
            s,
            "<rect id=\"violation-band\" x=\"{:.1}\" y=\"{TOP_PX}\" width=\"{:.1}\" \
             height=\"{:.1}\" fill=\"#e53935\" fill-opacity=\"0.12\"/>",
            p.x0,
            p.x1 - p.x0,
            height - TOP_PX
        );
    }
    for (i, op) in history.ops.iter().enumerate() {
        let p = &layout.placed[i];
        let y = tops[p.lane] + p.row as f64 * ROW_PX;
        let unknown = matches!(op.outcome, Outcome::Info) || op.complete.is_none();
        let fill = match op.outcome {
            _ if Some(i) == marks.stuck => "#ef9a9a",
            Outcome::Ok(_) if !unknown => "#a5d6a7",
            Outcome::Fail => "#e0e0e0",
            _ => "#ffe082",
        };
        let stroke = if Some(i) == marks.stuck {
            " stroke=\"#c62828\" stroke-width=\"3\""
        } else if marks.window[i] {
            " stroke=\"#fb8c00\" stroke-width=\"2\""
        } else {
            " stroke=\"#fff\" stroke-width=\"0.5\""
        };
        let group = if Some(i) == marks.stuck {
            format!(
                " id=\"violation\" data-x=\"{:.0}\" data-y=\"{:.0}\"",
                (p.x0 + p.x1) / 2.0,
                y
            )
        } else {
            String::new()
        };
        let faded = if marks.after[i] {
            " opacity=\"0.35\""
        } else {
            ""
        };
        let _ = write!(
            s,
            "<g class=\"op\" data-op=\"{i}\"{group}{faded}><title>{}</title>\
             <rect class=\"bar\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR_PX}\" \
             rx=\"2\" fill=\"{fill}\"{stroke}/>",
            escape(&tooltip(history, i, marks)),
            p.x0,
            p.x1 - p.x0,
        );
        if unknown {
            // It may take effect at any later instant: its bar runs on, thin and dashed.
            let _ = write!(
                s,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#b26a00\" \
                 stroke-dasharray=\"4 3\"/>",
                p.x1,
                y + BAR_PX - 1.0,
                axis.end_x,
                y + BAR_PX - 1.0
            );
        }
        if marks.violation && marks.order[i].is_some() {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"3\" fill=\"#1565c0\"/>",
                p.x0,
                y + BAR_PX - 3.0,
                p.x1 - p.x0
            );
        }
        if !p.label.is_empty() {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                p.x0 + 2.0,
                y + BAR_PX - 4.5,
                escape(&p.label)
            );
        }
        s.push_str("</g>\n");
    }
    s.push_str("</svg></div></div>\n");
    s
}

/// The axis: instants labelled at least 90 px apart, and a mark at every compressed gap.
fn ticks(s: &mut String, history: &History, axis: &Axis, height: f64) {
    for (t, x) in axis.ticks(90.0) {
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{height:.1}\" stroke=\"#eee\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#777\">{}</text>",
            TOP_PX - 8.0,
            TOP_PX - 12.0,
            instant(t, history)
        );
    }
    for &(x0, x1) in &axis.compressed {
        let x = (x0 + x1) / 2.0;
        let _ = writeln!(
            s,
            "<path d=\"M{:.1} {:.1}l4 -8M{:.1} {:.1}l4 -8\" stroke=\"#999\" stroke-width=\"1.5\">\
             <title>a quiet stretch, drawn shorter than its time</title></path>",
            x - 4.0,
            TOP_PX - 1.0,
            x,
            TOP_PX - 1.0
        );
    }
}

/// The hover text: the operation in full, who answered, and its place in the checker's order.
fn tooltip(history: &History, i: usize, marks: &Marks) -> String {
    let op = &history.ops[i];
    let mut out = describe(i, op, history.time_unit);
    if let Some(node) = &op.node {
        let _ = write!(out, "\nanswered by node {node}");
    }
    if Some(i) == marks.stuck {
        out.push_str(
            "\ncannot be placed: no order of the operations before it lets it return this",
        );
    } else if let Some(n) = marks.order[i] {
        if marks.violation {
            let _ = write!(out, "\nplaced {n} in the longest linearizable prefix");
        } else {
            let _ = write!(out, "\nposition {n} in the linearization found");
        }
    }
    if marks.window[i] && Some(i) != marks.stuck {
        out.push_str("\nin the smallest window that cannot be linearized");
    }
    if matches!(op.outcome, Outcome::Info) {
        out.push_str(
            "\nunknown outcome: it may take effect at any instant after its invocation, or never",
        );
    }
    out
}
