//! The regression file (`scenarios/regressions.toml`): seeds whose verdict and trace hash are
//! recorded, so that any change in behaviour shows up in CI as a moved hash, and is accepted on
//! purpose with `sim lessons --bless`.
//!
//! ```toml
//! [[regression]]
//! scenario = "raft/figure8.toml"   # relative to this file
//! seed = 23
//! verdict = "violation"            # pass | violation | unknown
//! trace_hash = "382eced6b9d5e43c"  # "" until blessed
//! ```
//!
//! The rule it keeps: blessing edits the text only where a recorded value stands (the byte
//! ranges toml's `Spanned` gives), so every comment, blank line and key order survives. Unknown
//! keys and bad values are errors at `file:line:col`, like a scenario's.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    regression: Vec<RawRegression>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegression {
    scenario: Spanned<String>,
    seed: Spanned<u64>,
    verdict: Spanned<String>,
    trace_hash: Spanned<String>,
}

/// The verdicts a run can have, as the file spells them.
pub(crate) const VERDICTS: [&str; 3] = ["pass", "violation", "unknown"];

/// One recorded seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Regression {
    /// The scenario as written (relative to the regression file).
    pub(crate) scenario: String,
    /// The scenario's path, resolved against the regression file's directory.
    pub(crate) path: PathBuf,
    pub(crate) seed: u64,
    pub(crate) verdict: String,
    /// Empty when not recorded yet.
    pub(crate) trace_hash: String,
    /// `file:line:col` of the entry's `scenario` value, for messages.
    pub(crate) at: String,
    pub(crate) verdict_span: Range<usize>,
    pub(crate) hash_span: Range<usize>,
}

/// A located problem with the regression file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileError(pub String);

/// Reads the regression entries of `text`; `file` names it in messages and locates scenarios.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Vec<Regression>, FileError> {
    let name = file.display().to_string();
    let at = |offset: usize| {
        let (line, col) = line_column(text, offset);
        format!("{name}:{line}:{col}")
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        FileError(format!("{}: {}", at(offset), reword(e.message())))
    })?;
    let dir = file.parent().unwrap_or(Path::new(""));
    raw.regression
        .into_iter()
        .map(|r| {
            let verdict = r.verdict.get_ref();
            if !VERDICTS.contains(&verdict.as_str()) {
                return Err(FileError(format!(
                    "{}: unknown verdict `{verdict}`; expected \"pass\", \"violation\" or \"unknown\"",
                    at(r.verdict.span().start)
                )));
            }
            let hash = r.trace_hash.get_ref();
            if !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(FileError(format!(
                    "{}: trace_hash `{hash}` is not hexadecimal; expected a hash as `sim run` prints it, or \"\" to record one with --bless",
                    at(r.trace_hash.span().start + 1)
                )));
            }
            let path = dir.join(r.scenario.get_ref());
            let here = at(r.scenario.span().start);
            if !path.is_file() {
                return Err(FileError(format!(
                    "{here}: scenario `{}` not found (looked for {}; paths are relative to the regression file)",
                    r.scenario.get_ref(),
                    path.display()
                )));
            }
            Ok(Regression {
                scenario: r.scenario.get_ref().clone(),
                path,
                seed: *r.seed.get_ref(),
                verdict: verdict.clone(),
                trace_hash: hash.to_ascii_lowercase(),
                at: here,
                verdict_span: r.verdict.span(),
                hash_span: r.trace_hash.span(),
            })
        })
        .collect()
}

/// serde's words in the file's: `expected u64` is a seed.
fn reword(message: &str) -> String {
    let m = message
        .trim()
        .replace("expected u64", "expected a seed (a non-negative integer)");
    match m.strip_prefix("missing field ") {
        Some(rest) => format!("missing key {rest} in [[regression]]"),
        None => m.replace("unknown field", "unknown key"),
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// One value to rewrite: the byte range of the old value (quotes included) and the new string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) span: Range<usize>,
    pub(crate) value: String,
}

/// The text with each edit's span replaced by its value as a TOML basic string; everything
/// else — comments, spacing, order — byte for byte as it was.
pub(crate) fn apply(text: &str, edits: &[Edit]) -> String {
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort_by_key(|e| e.span.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in edits {
        if e.span.start < at || e.span.end > text.len() {
            continue; // overlapping or out of range: never produced by `parse`
        }
        out.push_str(&text[at..e.span.start]);
        out.push_str(&quote(&e.value));
        at = e.span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// A TOML basic string. Hashes and verdicts never need escapes; escaping keeps it honest.
fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c if c.is_control() => q.push_str(&format!("\\u{:04X}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# recorded seeds\n\
        [[regression]]\n\
        scenario = \"raft/figure8.toml\"   # the broken rule\n\
        seed = 23\n\
        verdict = \"violation\"\n\
        trace_hash = \"382eced6b9d5e43c\"\n";

    fn catalogue() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/regressions.toml")
    }

    #[test]
    fn reads_entries_with_paths_relative_to_the_file() {
        let r = parse(&catalogue(), FILE).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].scenario, "raft/figure8.toml");
        assert!(r[0].path.ends_with("scenarios/raft/figure8.toml"));
        assert_eq!((r[0].seed, r[0].verdict.as_str()), (23, "violation"));
        assert_eq!(r[0].trace_hash, "382eced6b9d5e43c");
        assert!(r[0].at.ends_with("regressions.toml:3:12"), "{}", r[0].at);
        assert_eq!(&FILE[r[0].hash_span.clone()], "\"382eced6b9d5e43c\"");
    }

    #[test]
    fn blessing_rewrites_only_the_values_and_keeps_every_comment() {
        let r = parse(&catalogue(), FILE).unwrap();
        let edits = [
            Edit {
                span: r[0].hash_span.clone(),
                value: "00000000deadbeef".into(),
            },
            Edit {
                span: r[0].verdict_span.clone(),
                value: "pass".into(),
            },
        ];
        let blessed = apply(FILE, &edits);
        assert_eq!(
            blessed,
            FILE.replace("382eced6b9d5e43c", "00000000deadbeef")
                .replace("\"violation\"", "\"pass\"")
        );
        assert!(blessed.contains("# the broken rule"));
        let again = parse(&catalogue(), &blessed).unwrap();
        assert_eq!(again[0].trace_hash, "00000000deadbeef");
    }

    #[test]
    fn problems_are_located() {
        let err = |text: &str| parse(&catalogue(), text).unwrap_err().0;
        let unknown = err(&FILE.replace("seed = 23", "seed = 23\nsed = 1"));
        assert!(
            unknown.contains("regressions.toml:5:1: unknown key `sed`"),
            "{unknown}"
        );
        let seed = err(&FILE.replace("seed = 23", "seed = -1"));
        assert!(seed.contains(":4:8: ") && seed.contains("seed"), "{seed}");
        let verdict = err(&FILE.replace("\"violation\"", "\"broken\""));
        assert!(
            verdict.contains(":5:11: unknown verdict `broken`"),
            "{verdict}"
        );
        let missing = err(&FILE.replace("figure8.toml", "nope.toml"));
        assert!(
            missing.contains(":3:12: scenario `raft/nope.toml` not found"),
            "{missing}"
        );
        let hash = err(&FILE.replace("382eced6b9d5e43c", "xyz"));
        assert!(hash.contains("is not hexadecimal"), "{hash}");
        let absent = err("[[regression]]\nscenario = \"raft/figure8.toml\"\nseed = 1\n");
        assert!(absent.contains("missing key `verdict`"), "{absent}");
    }

    #[test]
    fn an_empty_file_has_no_regressions() {
        assert_eq!(parse(&catalogue(), "# nothing yet\n").unwrap(), vec![]);
    }
}
