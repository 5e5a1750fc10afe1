//! `sim lessons --out DIR`: the catalogue as a gallery a teacher can open. Each lesson's run is
//! written under `DIR/<lesson>/` as `sim run --out` writes it (trace, summary, verdict, history,
//! and the pictures), and `DIR/index.html` lists the lessons by topic with their verdicts and
//! links to their pictures. The index is self-contained and links only relative paths, so the
//! folder can be copied or served as it is.

use std::fs;
use std::path::{Path, PathBuf};

use crate::report::escape_html;
use crate::run::RunReport;
use crate::run::Verdict;

use super::super::display;
use super::super::list::{TOPICS, first_sentence};

/// The index's file name.
pub(crate) const INDEX: &str = "index.html";

/// A lesson as the index lists it: its path in the catalogue, and its run or why it did not run.
pub(crate) struct Listed<'a> {
    pub(crate) name: &'a str,
    pub(crate) outcome: Result<&'a RunReport, &'a str>,
}

/// Where a lesson's files go: `DIR/raft/leader-crash/` for `raft/leader-crash.toml`.
pub(crate) fn lesson_dir(out: &Path, name: &str) -> PathBuf {
    out.join(name.trim_end_matches(".toml"))
}

/// Creates `out`; without `force`, refuses when the index or any lesson's files are already
/// there, naming the first one found, so nothing written before is replaced unasked.
pub(crate) fn prepare(out: &Path, names: &[String], force: bool) -> Result<(), String> {
    fs::create_dir_all(out)
        .map_err(|e| format!("{}: cannot create the directory: {e}", display(out)))?;
    if force {
        return Ok(());
    }
    let index = out.join(INDEX);
    let existing = if index.exists() {
        Some(index)
    } else {
        names
            .iter()
            .find_map(|n| super::super::run::existing_output(&lesson_dir(out, n)))
    };
    match existing {
        Some(path) => Err(format!(
            "{}: already exists; pass --force to replace the gallery, or choose another --out",
            display(&path)
        )),
        None => Ok(()),
    }
}

/// Writes `out/index.html`.
pub(crate) fn index(out: &Path, catalogue: &Path, lessons: &[Listed<'_>]) -> Result<(), String> {
    let page = render(&display(catalogue), lessons, |name, file| {
        lesson_dir(out, name).join(file).exists()
    });
    let path = out.join(INDEX);
    fs::write(&path, page).map_err(|e| format!("{}: cannot write: {e}", display(&path)))
}

/// The page; `has(lesson, file)` says which pictures a lesson's folder holds.
fn render(catalogue: &str, lessons: &[Listed<'_>], has: impl Fn(&str, &str) -> bool) -> String {
    let topic_of = |name: &str| name.split_once('/').map_or("", |(t, _)| t).to_string();
    let mut topics: Vec<String> = lessons.iter().map(|l| topic_of(l.name)).collect();
    topics.dedup();
    let order = |t: &str| {
        TOPICS
            .iter()
            .position(|(k, _)| *k == t)
            .unwrap_or(TOPICS.len())
    };
    topics.sort_by_key(|t| (order(t), t.clone()));
    topics.dedup();
    let met = lessons
        .iter()
        .filter(|l| matches!(l.outcome, Ok(r) if r.expect.as_ref().is_none_or(|e| e.met)))
        .count();

    let mut html = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sim lessons</title>\n<style>\n\
         body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222}\n\
         h1{font-size:20px} h2{font-size:16px;margin-top:24px}\n\
         table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}\n\
         .pass{color:#1b7f3b;font-weight:600} .violation,.unknown{color:#b3261e;font-weight:600}\n\
         .unmet{background:#fdecea} .why{color:#555} a{margin-right:8px}\n\
         </style></head><body>\n",
    );
    html.push_str(&format!(
        "<h1>Lessons of <code>{}</code></h1>\n<p>{} lessons, {met} as expected. Each lesson: its \
         verdict at its pinned seed, what it expects, and its pictures (open \
         <code>timeline.html</code> first).</p>\n",
        escape_html(catalogue),
        lessons.len()
    ));
    for topic in &topics {
        let title = TOPICS
            .iter()
            .find(|(k, _)| k == topic)
            .map_or(topic.as_str(), |(_, t)| t);
        html.push_str(&format!(
            "<h2>{}</h2>\n<table><tr><th>lesson</th><th>verdict</th><th>expects</th><th>what it shows</th><th>pictures</th></tr>\n",
            escape_html(title)
        ));
        for l in lessons.iter().filter(|l| topic_of(l.name) == *topic) {
            let lesson = l.name.trim_end_matches(".toml");
            let row = match l.outcome {
                Err(e) => format!(
                    "<tr class=\"unmet\"><td>{}</td><td class=\"violation\">does not run</td><td></td><td class=\"why\">{}</td><td></td></tr>\n",
                    escape_html(lesson),
                    escape_html(e)
                ),
                Ok(r) => {
                    let verdict = r.verdict.name();
                    let (expects, unmet) = match &r.expect {
                        None => ("—".to_string(), false),
                        Some(e) if e.violates.is_empty() => (
                            format!("{}{}", expected(e), if e.met { "" } else { " (unmet)" }),
                            !e.met,
                        ),
                        Some(e) => (
                            format!(
                                "{} fails{}",
                                e.violates.join(", "),
                                if e.met { "" } else { " (unmet)" }
                            ),
                            !e.met,
                        ),
                    };
                    let mut links = String::new();
                    for (file, label) in [
                        ("timeline.html", "timeline"),
                        ("history.html", "history"),
                        ("summary.md", "summary"),
                        ("sequence.mmd", "sequence"),
                        ("perfetto.json", "perfetto"),
                        ("shiviz.log", "shiviz"),
                    ] {
                        if has(l.name, file) {
                            links.push_str(&format!(
                                "<a href=\"{}/{file}\">{label}</a>",
                                escape_html(lesson)
                            ));
                        }
                    }
                    format!(
                        "<tr{}><td><a href=\"{}/timeline.html\">{}</a></td><td class=\"{verdict}\">{verdict}</td><td>{}</td><td class=\"why\">{}</td><td>{links}</td></tr>\n",
                        if unmet { " class=\"unmet\"" } else { "" },
                        escape_html(lesson),
                        escape_html(lesson),
                        escape_html(&expects),
                        escape_html(first_sentence(&r.description)),
                    )
                }
            };
            html.push_str(&row);
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body></html>\n");
    html
}

/// The verdict `[expect]` names, in the words of the table.
fn expected(e: &crate::run::ExpectReport) -> &'static str {
    match e.verdict {
        crate::scenario::ExpectedVerdict::Pass => Verdict::Pass.name(),
        crate::scenario::ExpectedVerdict::Violation => Verdict::Violation.name(),
    }
}
