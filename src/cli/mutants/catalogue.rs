//! The mutant catalogue: `mutants/<protocol>/<name>.patch`, one classic bug per file.
//!
//! A patch opens with a header of `key: value` lines, then a blank line, then a `git diff`
//! against `src/protocols/` (which `git apply` reads past the header):
//!
//! ```text
//! mutant: vote-twice-in-a-term
//! protocol: raft
//! rule: §5.2: each server will vote for at most one candidate in a given term
//! bug: A voter grants its vote to every candidate of its term, not only the first.
//! escapes: (optional) why the sweeps cannot catch it, once a campaign has shown they do not
//!
//! diff --git a/src/protocols/raft/mod.rs b/src/protocols/raft/mod.rs
//! …
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// One hand-written bug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mutant {
    /// The file's stem, which the header's `mutant:` repeats.
    pub name: String,
    /// The protocol whose folder the patch changes; its scenarios are the ones swept.
    pub protocol: String,
    /// The rule of the protocol's paper that the bug breaks, cited.
    pub rule: String,
    /// What the mutated code does, in one sentence.
    pub bug: String,
    /// Why sweeps cannot catch it, when that is known.
    pub escapes: Option<String>,
    /// The patch file.
    pub path: PathBuf,
    /// The files the diff changes, relative to the checkout.
    pub files: Vec<String>,
}

/// A catalogue entry that cannot be used: where, and what was expected.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CatalogueError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

const KEYS: [&str; 5] = ["mutant", "protocol", "rule", "bug", "escapes"];

/// Reads one patch file's header and the files its diff touches. `protocols` are the
/// registered protocol names.
pub(crate) fn parse(path: &Path, text: &str, protocols: &[&str]) -> Result<Mutant, CatalogueError> {
    let err = |line: usize, message: String| CatalogueError {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut fields: Vec<(&str, String, usize)> = Vec::new();
    let mut lines = text.lines().enumerate();
    for (i, line) in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(err(
                i + 1,
                format!(
                    "expected `key: value` (one of {}) or a blank line before the diff, found {line:?}",
                    KEYS.join(", ")
                ),
            ));
        };
        let key = key.trim();
        if !KEYS.contains(&key) {
            return Err(err(
                i + 1,
                format!("unknown key `{key}`: expected one of {}", KEYS.join(", ")),
            ));
        }
        if fields.iter().any(|(k, _, _)| *k == key) {
            return Err(err(i + 1, format!("`{key}` is given twice")));
        }
        fields.push((key, value.trim().to_string(), i + 1));
    }
    let get = |key: &str| fields.iter().find(|(k, _, _)| *k == key);
    let required = |key: &str| {
        get(key)
            .filter(|(_, v, _)| !v.is_empty())
            .map(|(_, v, line)| (v.clone(), *line))
            .ok_or_else(|| {
                err(
                    1,
                    format!(
                        "the header has no `{key}:` line (needs mutant, protocol, rule and bug)"
                    ),
                )
            })
    };
    let (name, name_line) = required("mutant")?;
    let (protocol, protocol_line) = required("protocol")?;
    let (rule, _) = required("rule")?;
    let (bug, _) = required("bug")?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if name != stem {
        return Err(err(
            name_line,
            format!("the mutant is named `{name}` but its file is `{stem}.patch`: they must agree"),
        ));
    }
    if !protocols.contains(&protocol.as_str()) {
        return Err(err(
            protocol_line,
            format!(
                "unknown protocol `{protocol}`: expected one of {}",
                protocols.join(", ")
            ),
        ));
    }
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if folder != protocol {
        return Err(err(
            protocol_line,
            format!(
                "a `{protocol}` mutant belongs in the catalogue's `{protocol}/` folder, not `{folder}/`"
            ),
        ));
    }
    let mut files = Vec::new();
    for (i, line) in lines {
        if let Some(file) = line.strip_prefix("+++ b/") {
            if !file.starts_with("src/protocols/") {
                return Err(err(
                    i + 1,
                    format!("the diff changes `{file}`: a mutant may change only src/protocols/"),
                ));
            }
            files.push(file.to_string());
        }
    }
    if files.is_empty() {
        return Err(err(1, "no diff after the header (expected `git diff` output with `+++ b/src/protocols/…` lines)".into()));
    }
    Ok(Mutant {
        name,
        protocol,
        rule,
        bug,
        escapes: get("escapes").map(|(_, v, _)| v.clone()),
        path: path.to_path_buf(),
        files,
    })
}

/// Every `*.patch` under `dir/<protocol>/`, in name order, whose name contains `filter`.
pub(crate) fn load(
    dir: &Path,
    protocols: &[&str],
    filter: Option<&str>,
) -> Result<Vec<Mutant>, String> {
    let mut paths = Vec::new();
    let read = |d: &Path| std::fs::read_dir(d).map_err(|e| format!("{}: {e}", d.display()));
    for folder in read(dir)? {
        let folder = folder.map_err(|e| e.to_string())?.path();
        if !folder.is_dir() {
            continue;
        }
        for file in read(&folder)? {
            let file = file.map_err(|e| e.to_string())?.path();
            if file.extension().is_some_and(|e| e == "patch") {
                paths.push(file);
            }
        }
    }
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mutant = parse(&path, &text, protocols).map_err(|e| e.to_string())?;
        if filter.is_none_or(|f| mutant.name.contains(f)) {
            out.push(mutant);
        }
    }
    if out.is_empty() {
        return Err(match filter {
            Some(f) => format!("no mutant in {} has a name containing `{f}`", dir.display()),
            None => format!(
                "no mutant in {} (expected <protocol>/<name>.patch files)",
                dir.display()
            ),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/src/protocols/raft/mod.rs b/src/protocols/raft/mod.rs\n--- a/src/protocols/raft/mod.rs\n+++ b/src/protocols/raft/mod.rs\n@@ -1 +1 @@\n-a\n+b\n";

    fn patch(header: &str) -> String {
        format!("{header}\n\n{DIFF}")
    }

    fn at(file: &str) -> PathBuf {
        PathBuf::from(format!("mutants/raft/{file}"))
    }

    #[test]
    fn a_complete_header_names_the_bug_and_the_rule() {
        let text = patch(
            "mutant: m\nprotocol: raft\nrule: §5.2 one vote\nbug: votes twice\nescapes: never reached",
        );
        let m = parse(&at("m.patch"), &text, &["raft"]).unwrap();
        assert_eq!((m.name.as_str(), m.protocol.as_str()), ("m", "raft"));
        assert_eq!(
            (m.rule.as_str(), m.bug.as_str()),
            ("§5.2 one vote", "votes twice")
        );
        assert_eq!(m.escapes.as_deref(), Some("never reached"));
        assert_eq!(m.files, ["src/protocols/raft/mod.rs"]);
    }

    #[test]
    fn every_bad_header_says_where_and_what_was_expected() {
        let cases = [
            (
                "protocol: raft\nrule: r\nbug: b",
                "m.patch",
                1,
                "no `mutant:` line",
            ),
            (
                "mutant: m\nprotocol: raft\nrule: r",
                "m.patch",
                1,
                "no `bug:` line",
            ),
            (
                "mutant: other\nprotocol: raft\nrule: r\nbug: b",
                "m.patch",
                1,
                "its file is `m.patch`",
            ),
            (
                "mutant: m\nprotocol: paxos\nrule: r\nbug: b",
                "m.patch",
                2,
                "unknown protocol `paxos`",
            ),
            (
                "mutant: m\nprotocol: raft\nrule: r\nbug: b\nseverity: high",
                "m.patch",
                5,
                "unknown key `severity`",
            ),
            ("mutant: m\nmutant: m", "m.patch", 2, "given twice"),
            ("mutant m", "m.patch", 1, "expected `key: value`"),
        ];
        for (header, file, line, says) in cases {
            let e = parse(&at(file), &patch(header), &["raft"]).unwrap_err();
            assert_eq!(e.line, line, "{header:?}: {e}");
            assert!(e.to_string().contains(says), "{header:?}: {e}");
            assert!(e.to_string().starts_with("mutants/raft/m.patch:"), "{e}");
        }
    }

    #[test]
    fn a_mutant_changes_only_protocol_code_in_its_own_folder() {
        let outside = "mutant: m\nprotocol: raft\nrule: r\nbug: b\n\n+++ b/src/world/engine.rs\n";
        let e = parse(&at("m.patch"), outside, &["raft"]).unwrap_err();
        assert!(e.message.contains("only src/protocols/"), "{e}");
        assert_eq!(e.line, 6);
        let header_only = "mutant: m\nprotocol: raft\nrule: r\nbug: b\n";
        assert!(
            parse(&at("m.patch"), header_only, &["raft"])
                .unwrap_err()
                .message
                .contains("no diff")
        );
        let misplaced = PathBuf::from("mutants/paxos/m.patch");
        let e = parse(
            &misplaced,
            &patch("mutant: m\nprotocol: raft\nrule: r\nbug: b"),
            &["raft"],
        )
        .unwrap_err();
        assert!(e.message.contains("`raft/` folder"), "{e}");
    }
}
