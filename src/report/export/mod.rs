//! Pictures of a run for the tools people already use, drawn from `trace.jsonl` and
//! `verdict.json` alone, so `sim run --out DIR` and `sim report DIR` write the same bytes:
//!
//! - `timeline.html`: a space-time diagram that opens from disk in any browser (`timeline.rs`);
//! - `perfetto.json`: Chrome trace-event JSON for Perfetto UI (`perfetto.rs`);
//! - `sequence.mmd`: a Mermaid sequence diagram of a window, which GitHub renders (`mermaid.rs`);
//! - `shiviz.log`: the log ShiViz reads, with vector clocks from the run's causality (`shiviz.rs`).
//!
//! Every picture reads the protocol-agnostic [`trace_model`], so it works for every protocol.
//! Long runs are windowed, never drawn whole: each picture has a budget, chosen so that an hour of
//! Raft gives files of a few megabytes, and says in the file what it left out.
//! Determinism: the outputs are functions of the two files (ordered maps, no hash iteration).

pub(crate) mod mermaid;
pub(crate) mod perfetto;
pub(crate) mod shiviz;
pub(crate) mod timeline;
pub(crate) mod trace_model;
pub(crate) mod verdict;

use std::ops::Range;
use std::path::Path;

use crate::node::Nanos;

use trace_model::Trace;
use verdict::Verdict;

/// The files the pictures are written to, beside `trace.jsonl`.
pub(crate) const OUTPUTS: [&str; 4] = [timeline::FILE, perfetto::FILE, mermaid::FILE, shiviz::FILE];

/// A window of virtual time asked for with `--from`/`--to` (both ends included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) from: Option<Nanos>,
    pub(crate) to: Option<Nanos>,
}

impl Window {
    /// Whether `--from` or `--to` was given.
    pub(crate) fn is_set(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }

    /// Whether an instant lies in the window.
    pub(crate) fn contains(&self, t: Nanos) -> bool {
        self.from.is_none_or(|f| f <= t) && self.to.is_none_or(|to| t <= to)
    }
}

/// Which items (times in trace order) a picture keeps, and whether its budget cut some.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selection {
    pub(crate) range: Range<usize>,
    pub(crate) clipped: bool,
}

impl Selection {
    /// Whether an instant belongs to the selection: between the items just outside it.
    pub(crate) fn covers(&self, times: &[Nanos], window: &Window, t: Nanos) -> bool {
        if window.is_set() {
            return window.contains(t);
        }
        let after_previous = self.range.start == 0 || times[self.range.start - 1] <= t;
        let before_next = self.range.end >= times.len() || t < times[self.range.end];
        after_previous && before_next
    }
}

/// The items to draw: those in the window when one is asked for (the first `cap` of them),
/// else all when they fit, else `cap` around `pivot` (two thirds before it, one third after:
/// the lead-up to a violation matters most), else the first `cap`.
pub(crate) fn select(
    times: &[Nanos],
    window: &Window,
    pivot: Option<Nanos>,
    cap: usize,
) -> Selection {
    let len = times.len();
    if window.is_set() {
        let lo = window.from.map_or(0, |f| times.partition_point(|&t| t < f));
        let hi = window
            .to
            .map_or(len, |to| times.partition_point(|&t| t <= to))
            .max(lo);
        let end = hi.min(lo + cap);
        return Selection {
            range: lo..end,
            clipped: end < hi,
        };
    }
    if len <= cap {
        return Selection {
            range: 0..len,
            clipped: false,
        };
    }
    let start = match pivot {
        Some(at) => {
            let p = times.partition_point(|&t| t <= at);
            p.saturating_sub(cap * 2 / 3).min(len - cap)
        }
        None => 0,
    };
    Selection {
        range: start..start + cap,
        clipped: true,
    }
}

/// Every picture of `trace`: (file name, contents), and a note for each picture that its budget
/// cut, saying what it shows.
pub(crate) fn render(
    trace: &Trace,
    verdict: Option<&Verdict>,
    window: &Window,
) -> (Vec<(&'static str, String)>, Vec<String>) {
    let mut notes = Vec::new();
    let mut files = Vec::new();
    let (text, note) = timeline::render(trace, verdict, window);
    files.push((timeline::FILE, text));
    notes.extend(note);
    let (text, note) = perfetto::render(trace, verdict, window);
    files.push((perfetto::FILE, text));
    notes.extend(note);
    let (text, note) = mermaid::render(trace, verdict, window);
    files.push((mermaid::FILE, text));
    notes.extend(note);
    let (text, note) = shiviz::render(trace, verdict, window);
    files.push((shiviz::FILE, text));
    notes.extend(note);
    (files, notes)
}

/// The history picture's file, written beside `history.json` when the run has one.
pub(crate) const HISTORY_HTML: &str = "history.html";

/// What [`write`] did: the files it wrote, in order, and its notes.
pub(crate) struct Written {
    pub(crate) files: Vec<&'static str>,
    pub(crate) notes: Vec<String>,
}

/// Reads `dir/trace.jsonl` and `dir/verdict.json` and writes every picture beside them, and
/// `history.html` when `dir/history.json` exists and names a model the checker knows, replacing
/// what is there (the caller decides whether that is allowed). Returns the files written and the
/// notes of [`render`], with one when there is no verdict to mark.
pub(crate) fn write(dir: &Path, window: &Window) -> Result<Written, String> {
    let trace = trace_model::read(&dir.join("trace.jsonl"))?;
    let verdict = verdict::read(dir)?;
    let (files, mut notes) = render(&trace, verdict.as_ref(), window);
    if verdict.is_none() {
        notes.insert(
            0,
            format!(
                "{}: none, so the pictures mark no verdict",
                dir.join(verdict::FILE).display()
            ),
        );
    }
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        written.push(name);
    }
    if let Some(page) = history_page(dir)? {
        let path = dir.join(HISTORY_HTML);
        std::fs::write(&path, page)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
        written.push(HISTORY_HTML);
    }
    Ok(Written {
        files: written,
        notes,
    })
}

/// The picture of `dir/history.json`, when there is one and its model can judge it (a bank's
/// transfers name none).
fn history_page(dir: &Path) -> Result<Option<String>, String> {
    let path = dir.join("history.json");
    if !path.exists() {
        return Ok(None);
    }
    let shown = path.display().to_string();
    let bytes = std::fs::read(&path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let (_, history) = crate::workload::history::import::import_bytes(&bytes, None)
        .map_err(|e| format!("{shown}:{e}"))?;
    Ok(crate::report::history_html::render_for_run(
        &history,
        "history.json",
    ))
}

/// An instant for a picture's text: `2.279226s`.
pub(crate) fn instant(ns: Nanos) -> String {
    crate::report::narrate::instant(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_keeps_a_window_or_the_lead_up_to_the_pivot() {
        let times: Vec<Nanos> = (0..10).map(|i| i * 10).collect();
        let none = Window::default();
        assert_eq!(select(&times, &none, None, 20).range, 0..10, "all fit");
        let s = select(&times, &none, Some(60), 3);
        assert_eq!(
            (s.range.clone(), s.clipped),
            (5..8, true),
            "50 and 60 up to the pivot, 70 after it"
        );
        assert!(s.covers(&times, &none, 60) && !s.covers(&times, &none, 90));
        assert_eq!(
            select(&times, &none, Some(95), 3).range,
            7..10,
            "at the end"
        );
        assert_eq!(select(&times, &none, None, 3).range, 0..3);
        let w = Window {
            from: Some(15),
            to: Some(40),
        };
        let s = select(&times, &w, Some(0), 20);
        assert_eq!((s.range.clone(), s.clipped), (2..5, false), "20, 30 and 40");
        assert_eq!(select(&times, &w, None, 2).range, 2..4);
        let empty = Window {
            from: Some(200),
            to: None,
        };
        assert!(select(&times, &empty, None, 5).range.is_empty());
    }
}
