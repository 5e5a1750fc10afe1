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
