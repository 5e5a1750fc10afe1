//! Reports: a judged run rendered for a person (terminal text, `summary.md`) or a program (JSON).
//!
//! Rendering only: nothing here runs or judges anything, and every renderer reads the same
//! [`RunReport`](crate::run::RunReport), so the terminal, the file and the JSON never disagree.

pub(crate) mod export;
pub(crate) mod history_html;
pub mod json;
pub(crate) mod narrate;
#[cfg(test)]
mod section_tests;
pub mod summary;
pub mod text;

/// Text made safe inside HTML or SVG, as element text or a quoted attribute value: `<`, `>`, `&`
/// and `"` as entities. Every page and plot the reports write escapes through this one.
pub(crate) fn escape_html(text: &str) -> String {
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
