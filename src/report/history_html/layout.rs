//! Where each operation of a history goes on the picture: its lane, its row inside the lane,
//! its bar and its label — laid out so that no two labels of a lane ever overlap, however many
//! operations the history has.
//!
//! Two choices keep every operation legible:
//!
//! - **A compressed time axis.** What decides linearizability is the order of invocations and
//!   completions, not the length of the quiet stretches between them. Each distinct instant gets
//!   an x position; the step to the next one is proportional to the time between them (so that
//!   a typical operation's bar is [`TYPICAL_OP_PX`] wide), but never less than [`MIN_STEP_PX`]
//!   (instants nanoseconds apart stay apart) nor more than [`MAX_STEP_PX`] (an idle second does
//!   not push the rest off the page). The order of events is exact; distances are not, and the
//!   picture marks each compressed gap.
//! - **Rows inside a lane.** A lane's operations are placed left to right, each in the first row
//!   whose last box (bar and full label) ends before it begins. A lane opens at most
//!   [`MAX_LABEL_ROWS`] rows for labels; when none has room, the previous label of one row is cut
//!   with an ellipsis where this operation begins (its full text stays in the hover title). Bars
//!   never overlap: an operation that overlaps every row's last bar (a process whose unknown
//!   operation is still running) opens a row of its own.

use std::collections::BTreeMap;

use crate::workload::history::History;

/// The px width of a typical operation's bar (the median duration).
pub(crate) const TYPICAL_OP_PX: f64 = 28.0;
/// The least step between two consecutive instants.
pub(crate) const MIN_STEP_PX: f64 = 5.0;
/// The most step between two consecutive instants: longer gaps are compressed.
pub(crate) const MAX_STEP_PX: f64 = 40.0;
/// Rows a lane opens to fit full labels before it cuts them.
pub(crate) const MAX_LABEL_ROWS: usize = 3;
/// The estimated advance of one character of the 11px monospace label font.
pub(crate) const CHAR_PX: f64 = 6.7;
/// Room between two boxes in one row.
pub(crate) const GAP_PX: f64 = 4.0;
/// The narrowest bar drawn.
pub(crate) const MIN_BAR_PX: f64 = 3.0;
/// Where the time axis begins (room for nothing: the lane names are a column of their own).
pub(crate) const AXIS_LEFT_PX: f64 = 12.0;

/// The compressed time axis: every distinct instant of the history and its x.
pub(crate) struct Axis {
    instants: Vec<u64>,
    xs: Vec<f64>,
    /// Where an operation that never ended runs to.
    pub(crate) end_x: f64,
    /// Gaps drawn shorter than their share: (x where it starts, x where it ends).
    pub(crate) compressed: Vec<(f64, f64)>,
}

impl Axis {
    /// The axis of `history`.
    pub(crate) fn of(history: &History) -> Axis {
        let mut instants: Vec<u64> = history
            .ops
            .iter()
            .flat_map(|op| std::iter::once(op.invoke).chain(op.complete))
            .collect();
        instants.sort_unstable();
        instants.dedup();
        let mut durations: Vec<u64> = history
            .ops
            .iter()
            .filter_map(|op| op.complete.map(|c| c - op.invoke))
            .filter(|&d| d > 0)
            .collect();
        durations.sort_unstable();
        let typical = durations
            .get(durations.len() / 2)
            .copied()
            .unwrap_or(1)
            .max(1);
        let px_per_unit = TYPICAL_OP_PX / typical as f64;
        let mut xs = Vec::with_capacity(instants.len());
        let mut compressed = Vec::new();
        let mut x = AXIS_LEFT_PX;
        for (k, &t) in instants.iter().enumerate() {
            if k > 0 {
                let want = (t - instants[k - 1]) as f64 * px_per_unit;
                let step = want.clamp(MIN_STEP_PX, MAX_STEP_PX);
                if want > 2.0 * MAX_STEP_PX {
                    compressed.push((x, x + step));
                }
                x += step;
            }
            xs.push(x);
        }
        Axis {
            instants,
            xs,
            end_x: x + 2.0 * MAX_STEP_PX,
            compressed,
        }
    }

    /// The x of instant `t`: exact at the history's instants, interpolated between them.
    pub(crate) fn x(&self, t: u64) -> f64 {
        match self.instants.binary_search(&t) {
            Ok(k) => self.xs[k],
            Err(0) => self.xs.first().copied().unwrap_or(AXIS_LEFT_PX),
            Err(k) if k == self.instants.len() => self.xs[k - 1],
            Err(k) => {
                let (t0, t1) = (self.instants[k - 1], self.instants[k]);
                let (x0, x1) = (self.xs[k - 1], self.xs[k]);
                x0 + (x1 - x0) * (t - t0) as f64 / (t1 - t0) as f64
            }
        }
    }

    /// The whole width.
    pub(crate) fn width(&self) -> f64 {
        self.end_x + AXIS_LEFT_PX
    }

    /// Instants to label on the axis, at least `spacing` px apart, each with its x.
    pub(crate) fn ticks(&self, spacing: f64) -> Vec<(u64, f64)> {
        let mut out: Vec<(u64, f64)> = Vec::new();
        for (&t, &x) in self.instants.iter().zip(&self.xs) {
            if out.last().is_none_or(|&(_, last)| x - last >= spacing) {
                out.push((t, x));
            }
        }
        out
    }
}

/// One operation's place.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Placed {
    /// The lane (one per process, in process order).
    pub(crate) lane: usize,
    /// The row inside the lane.
    pub(crate) row: usize,
    /// The bar: from its invocation to its completion (for an unknown operation, to when its
    /// client gave up, or a minimum width; its open end is drawn apart).
    pub(crate) x0: f64,
    /// Where the bar ends.
    pub(crate) x1: f64,
    /// The label as drawn: the whole text, or cut with an ellipsis, or empty.
    pub(crate) label: String,
    /// Where the box of bar and label ends (it begins at `x0`).
    pub(crate) box_end: f64,
}

/// The whole layout: lanes (process, rows) in order and each operation's place.
pub(crate) struct Layout {
    /// Each lane's process and its number of rows.
    pub(crate) lanes: Vec<(u64, usize)>,
    /// Indexed like `history.ops`.
    pub(crate) placed: Vec<Placed>,
}

/// The state of one row of a lane while it is laid out.
#[derive(Clone, Copy)]
struct Row {
    box_end: f64,
    bar_end: f64,
    last_x0: f64,
    last: Option<usize>,
}

impl Row {
    const EMPTY: Row = Row {
        box_end: f64::MIN,
        bar_end: f64::MIN,
        last_x0: f64::MIN,
        last: None,
    };
}

/// The width a label of `text` takes.
pub(crate) fn label_px(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_PX + 4.0
}

/// `text` cut to fit `px` (with an ellipsis), or empty when not even two characters fit.
pub(crate) fn fit(text: &str, px: f64) -> String {
    if label_px(text) <= px {
        return text.to_string();
    }
    let chars = ((px - 4.0) / CHAR_PX).floor() as usize;
    if chars < 2 {
        return String::new();
    }
    let mut cut: String = text.chars().take(chars - 1).collect();
    cut.push('…');
    cut
}

/// Lays out `history`, each operation labelled `labels[i]`.
pub(crate) fn layout(history: &History, axis: &Axis, labels: &[String]) -> Layout {
    let mut lane_of: BTreeMap<u64, usize> = history.ops.iter().map(|op| (op.process, 0)).collect();
    for (i, lane) in lane_of.values_mut().enumerate() {
        *lane = i;
    }
    // Each lane's rows: where each row's last box and bar end, and its last operation.
    let mut rows: Vec<Vec<Row>> = vec![Vec::new(); lane_of.len()];
    let mut order: Vec<usize> = (0..history.ops.len()).collect();
    order.sort_by_key(|&i| (history.ops[i].invoke, i));
    let mut placed: Vec<Option<Placed>> = vec![None; history.ops.len()];
    for i in order {
        let op = &history.ops[i];
        let lane = lane_of[&op.process];
        let x0 = axis.x(op.invoke);
        let x1 = match op.complete {
            Some(c) => axis.x(c),
            None => x0,
        }
        .max(x0 + MIN_BAR_PX);
        let lane_rows = &mut rows[lane];
        let row = match lane_rows.iter().position(|r| r.box_end + GAP_PX <= x0) {
            Some(r) => r,
            None if lane_rows.len() < MAX_LABEL_ROWS => {
                lane_rows.push(Row::EMPTY);
                lane_rows.len() - 1
            }
            None => {
                // No row has room for the previous label: cut the label of the row whose last
                // operation began earliest (it keeps the most text) back to this bar's start.
                // A row where even the previous bar reaches here is no row at all.
                let roomy = (0..lane_rows.len())
                    .filter(|&r| lane_rows[r].bar_end + GAP_PX <= x0)
                    .min_by(|&a, &b| lane_rows[a].last_x0.total_cmp(&lane_rows[b].last_x0));
                match roomy {
                    Some(r) => {
                        if let Some(k) = lane_rows[r].last
                            && let Some(prev) = placed[k].as_mut()
                        {
                            prev.label = fit(&labels[k], x0 - GAP_PX - prev.x0);
                            prev.box_end = prev.x1.max(prev.x0 + label_px(&prev.label));
                            lane_rows[r].box_end = prev.box_end;
                        }
                        r
                    }
                    None => {
                        lane_rows.push(Row::EMPTY);
                        lane_rows.len() - 1
                    }
                }
            }
        };
        let label = labels[i].clone();
        let box_end = x1.max(x0 + label_px(&label));
        lane_rows[row] = Row {
            box_end,
            bar_end: x1,
            last_x0: x0,
            last: Some(i),
        };
        placed[i] = Some(Placed {
            lane,
            row,
            x0,
            x1,
            label,
            box_end,
        });
    }
    Layout {
        lanes: lane_of
            .keys()
            .zip(&rows)
            .map(|(&p, r)| (p, r.len().max(1)))
            .collect(),
        placed: placed
            .into_iter()
            .map(|p| p.expect("every operation is placed"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::history::{Call, Operation, Outcome, Output, TimeUnit, Value};

    fn op(process: u64, invoke: u64, complete: Option<u64>) -> Operation {
        Operation {
            process,
            key: Some("k".into()),
            call: Call::Write(Value::Int(1)),
            invoke,
            complete,
            outcome: match complete {
                Some(_) => Outcome::Ok(Output::Done),
                None => Outcome::Info,
            },
            node: None,
        }
    }

    fn history(ops: Vec<Operation>) -> History {
        History {
            ops,
            time_unit: TimeUnit::Nanos,
            model: None,
        }
    }

    /// No two boxes in one row of one lane overlap; rows of a lane are drawn apart, so no two
    /// labels of a lane overlap at all.
    fn assert_no_overlap(layout: &Layout) {
        for (i, a) in layout.placed.iter().enumerate() {
            for b in &layout.placed[i + 1..] {
                if a.lane == b.lane && a.row == b.row {
                    let apart = a.box_end <= b.x0 || b.box_end <= a.x0;
                    assert!(apart, "{a:?} overlaps {b:?}");
                }
            }
            assert!(
                a.label.is_empty() || a.x0 + label_px(&a.label) <= a.box_end + 1e-9,
                "the label fits its box: {a:?}"
            );
        }
    }

    #[test]
    fn labels_of_a_crowded_lane_never_overlap_and_are_cut_only_when_rows_run_out() {
        // One process, 200 short back-to-back operations with long labels: far more text than
        // room, so rows fill and then labels are cut.
        let ops: Vec<Operation> = (0..200u64)
            .map(|k| op(0, k * 10, Some(k * 10 + 9)))
            .collect();
        let h = history(ops);
        let axis = Axis::of(&h);
        let labels: Vec<String> = (0..200)
            .map(|k| format!("k{k}: write \"a-long-value-{k}\" @node-E"))
            .collect();
        let layout = layout(&h, &axis, &labels);
        assert_no_overlap(&layout);
        assert_eq!(layout.lanes, vec![(0, MAX_LABEL_ROWS)]);
        assert!(layout.placed.iter().any(|p| p.label.ends_with('…')));
        // Nothing follows the last one: its label is whole.
        assert_eq!(layout.placed[199].label, labels[199]);
    }

    #[test]
    fn unknown_operations_that_overlap_their_own_process_open_rows_and_bars_never_overlap() {
        // Jepsen-style: a process whose operations never end, then more operations at once.
        let mut ops: Vec<Operation> = (0..6u64).map(|k| op(3, k, None)).collect();
        ops.extend((0..6u64).map(|k| op(7, k * 3, Some(k * 3 + 2))));
        let h = history(ops);
        let axis = Axis::of(&h);
        let labels = vec!["w 1 ?".to_string(); 12];
        let layout = layout(&h, &axis, &labels);
        assert_no_overlap(&layout);
        assert_eq!(layout.lanes.len(), 2);
        for p in &layout.placed {
            assert!(p.x1 - p.x0 >= MIN_BAR_PX);
        }
    }

    #[test]
    fn the_axis_keeps_the_order_of_events_and_compresses_long_quiet_gaps() {
        // A 1-unit operation, then nothing for a million units.
        let h = history(vec![op(0, 0, Some(10)), op(1, 1_000_000, Some(1_000_010))]);
        let axis = Axis::of(&h);
        assert!(axis.x(0) < axis.x(10) && axis.x(10) < axis.x(1_000_000));
        assert!(axis.x(1_000_000) - axis.x(10) <= MAX_STEP_PX);
        assert_eq!(axis.compressed.len(), 1);
        assert!(
            axis.x(5) > axis.x(0) && axis.x(5) < axis.x(10),
            "interpolated"
        );
        let ticks = axis.ticks(20.0);
        assert!(ticks.windows(2).all(|w| w[1].1 - w[0].1 >= 20.0));
    }

    #[test]
    fn a_label_is_cut_with_an_ellipsis_to_its_width_or_dropped() {
        assert_eq!(fit("r 5", 100.0), "r 5");
        let cut = fit("k0: write \"c4-33\"", 50.0);
        assert!(cut.ends_with('…') && label_px(&cut) <= 50.0, "{cut}");
        assert_eq!(fit("write", 8.0), "");
    }
}
