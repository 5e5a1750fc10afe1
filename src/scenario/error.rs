//! The one error type of the scenario layer: a message located at `file:line:col`.
//!
//! toml's own messages speak serde ("missing field", "expected u64", "expected struct
//! Cluster"); [`from_toml`] rewords them in the file's terms (key, integer, table) and says
//! which table a key belongs to, so a user never has to know the Rust types behind the format.

use std::fmt;

use super::locate;

/// A problem with a scenario file, located in it.
///
/// ```
/// use sim::scenario::Scenario;
/// let text = "name = \"x\"\nduration = \"1s\"\n[cluster]\nnodes = 2\nprotocol = \"raft\"\nbogus = 1\n";
/// let err = Scenario::parse("x.toml", text).unwrap_err();
/// assert_eq!((err.file.as_str(), err.line, err.column), ("x.toml", 6, 1));
/// assert!(err.to_string().starts_with("x.toml:6:1: "), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The path as given.
    pub file: String,
    /// 1-based; 0 when the problem is the file as a whole (it cannot be read).
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ScenarioError {
    /// An error at byte `offset` of `text`.
    pub(crate) fn at_offset(
        file: &str,
        text: &str,
        offset: usize,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = locate::line_column(text, offset);
        ScenarioError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An error about the whole file.
    pub(crate) fn unlocated(file: &str, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Which pass produced a toml error: the scenario itself, or a protocol's `[protocol]` table
/// (whose missing keys the scenario's hints know nothing about).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pass {
    Scenario,
    Protocol,
    Workload,
}

/// A toml error as a located, reworded [`ScenarioError`].
pub(super) fn from_toml(
    file: &str,
    text: &str,
    err: &toml::de::Error,
    pass: Pass,
) -> ScenarioError {
    let span = err.span().unwrap_or(0..0);
    let raw = err.message().trim();
    let message = if toml::de::DeTable::parse(text).is_err() {
        invalid(text, &span, raw)
    } else if let Some(key) = quoted_after(raw, "missing field ") {
        missing(key, locate::table_with_span(text, &span), pass)
    } else if let Some(key) = quoted_after(raw, "unknown field ") {
        unknown(key, raw, locate::table_of_key(text, span.start))
    } else {
        reword(raw)
    };
    ScenarioError::at_offset(file, text, span.start, message)
}

/// A syntax error, said in the file's terms where toml's own words fall short.
fn invalid(text: &str, span: &std::ops::Range<usize>, raw: &str) -> String {
    if raw == "duplicate key" {
        // toml points at the second occurrence but does not name it.
        let key = text.get(span.clone()).unwrap_or("").trim();
        let key = key.trim_matches(|c| c == '"' || c == '\'');
        return format!(
            "invalid TOML: duplicate key `{key}`: it is already set earlier in the same table \
             (a key or a table may be defined only once)"
        );
    }
    if raw.contains("max recursion depth") {
        return "invalid TOML: expected arrays and inline tables nested less deeply; the reader \
                stops at this level (a scenario needs three)"
            .to_string();
    }
    format!("invalid TOML: {raw}")
}

/// The `name` in a message that starts `prefix` followed by `` `name` ``.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

fn missing(key: &str, table: Option<String>, pass: Pass) -> String {
    let hint = match pass {
        Pass::Scenario => hint(key),
        Pass::Protocol | Pass::Workload => None,
    };
    let mut s = match hint {
        Some(Hint::Table(what)) => return format!("missing table [{key}] ({what})"),
        _ => format!("missing key `{key}`"),
    };
    if let Some(table) = table {
        s += &format!(" in {table}");
    }
    if let Some(Hint::Key(what)) = hint {
        s += &format!(" ({what})");
    }
    s
}

fn unknown(key: &str, raw: &str, table: Option<String>) -> String {
    let mut s = format!("unknown key `{key}`");
    if let Some(table) = table {
        s += &format!(" in {table}");
    }
    match raw.split_once(", expected ") {
        Some((_, expected)) => s += &format!("; expected {expected}"),
        None if raw.contains("there are no fields") => s += "; this table takes no keys",
        None => {}
    }
    s
}

enum Hint {
    Key(&'static str),
    Table(&'static str),
}

/// What a required key is for, so "missing key" says what to write.
fn hint(key: &str) -> Option<Hint> {
    Some(match key {
        "name" => Hint::Key("the scenario's name, e.g. \"raft-partition-heal\""),
        "duration" => Hint::Key("the virtual time the run lasts, e.g. \"10s\""),
        "cluster" => Hint::Table(
            "the nodes and the protocol they run: nodes = [\"A\", \"B\", \"C\"], protocol = \"raft\"",
        ),
        "nodes" => Hint::Key("the node names, e.g. [\"A\", \"B\", \"C\"], or a count, e.g. 5"),
        "protocol" => Hint::Key("the protocol the nodes run, e.g. \"raft\""),
        "at" => Hint::Key("when the fault happens, e.g. \"2s\""),
        "every" => {
            Hint::Key("the quiet interval before each fault, a range such as [\"1s\", \"3s\"]")
        }
        "last" => Hint::Key("how long each fault lasts, a range such as [\"200ms\", \"2s\"]"),
        "by" => Hint::Key("the range jumps are drawn from, e.g. [\"-500ms\", \"500ms\"]"),
        "from" | "to" => Hint::Key("a target or a list of targets, e.g. \"A\" or [\"A\", \"B\"]"),
        "verdict" => Hint::Key("\"pass\" or \"violation\""),
        "dist" => {
            Hint::Key("the distribution: constant, uniform, normal, lognormal or exponential")
        }
        _ => return None,
    })
}

/// serde's type words in the file's terms.
fn reword(raw: &str) -> String {
    let mut s = raw
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected i64", "expected an integer")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected an array")
        .replace("expected a map", "expected a table")
        .replace("unknown variant", "unknown value")
        .replace("wanted string or table", "expected a string");
    if let Some(at) = s.find("expected struct ") {
        s.truncate(at);
        s += "expected a table";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_column_message() {
        let e = ScenarioError::at_offset("s.toml", "a = 1\nbb = x", 11, "bad");
        assert_eq!(e.to_string(), "s.toml:2:6: bad");
        let e = ScenarioError::unlocated("gone.toml", "cannot read it");
        assert_eq!(e.to_string(), "gone.toml: cannot read it");
    }

    #[test]
    fn serde_words_become_file_words() {
        assert_eq!(
            reword("invalid type: string \"a\", expected u64"),
            "invalid type: string \"a\", expected a non-negative integer"
        );
        assert_eq!(
            reword("invalid type: integer `5`, expected struct Cluster"),
            "invalid type: integer `5`, expected a table"
        );
    }
}
