//! Reading a history file of any supported format: detection by content, then the importer.
//!
//! The format is told by the text itself, never by the file name: a JSON object whose first field
//! is quoted is `sim-history`; a line shaped `P :invoke :read nil` (with or without Jepsen's logger
//! prefix) is a Jepsen log; anything opening with `[`, `(`, `;`, `#` or `{:` is EDN operation maps
//! (Knossos, Porcupine). Each importer implies its model; a model chosen by the user replaces the
//! kind and keeps the source's initial value.

use std::fmt;

use super::datum::{ParseError, Pos, text_of};
use super::{History, ModelKind, ModelSpec, jepsen, json, knossos};

/// The formats `sim check` reads.
///
/// ```
/// use sim::workload::history::import::{Format, detect};
/// assert_eq!(detect("{:process 0, :type :invoke, :f :read, :value nil}"), Some(Format::Edn));
/// assert_eq!(Format::JepsenLog.to_string(), "Jepsen log");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Our `sim-history` JSON.
    SimJson,
    /// Jepsen etcd logs (`INFO  jepsen.util - 0\t:invoke\t:read\tnil`).
    JepsenLog,
    /// EDN operation maps: Knossos histories, Porcupine key-value logs.
    Edn,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::SimJson => "sim-history JSON",
            Format::JepsenLog => "Jepsen log",
            Format::Edn => "EDN operation maps",
        })
    }
}

/// What to say when no format fits.
///
/// ```
/// use sim::workload::history::import::{ACCEPTED, import};
/// let err = import("hello", None).unwrap_err();
/// assert_eq!(err.message, ACCEPTED);
/// ```
pub const ACCEPTED: &str = "expected a history: sim-history JSON ({\"format\":\"sim-history\", ...}), \
    a Jepsen log (lines like `INFO  jepsen.util - 0\t:invoke\t:read\tnil`), or EDN operation maps \
    (Knossos, Porcupine: {:process 0, :type :invoke, :f :read, ...})";

/// The format of `text`, or `None` when it is none of ours. Blank text counts as EDN: an empty
/// history.
///
/// ```
/// use sim::workload::history::import::{Format, detect};
/// assert_eq!(detect("{\"format\":\"sim-history\"}"), Some(Format::SimJson));
/// assert_eq!(detect("INFO  jepsen.util - 0\t:invoke\t:read\tnil"), Some(Format::JepsenLog));
/// assert_eq!(detect("hello"), None);
/// ```
pub fn detect(text: &str) -> Option<Format> {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let mut chars = trimmed.chars();
    match chars.next() {
        None | Some('[' | '(' | ';' | '#') => return Some(Format::Edn),
        Some('{') => {
            return match chars.find(|c| !c.is_whitespace()) {
                Some(':') => Some(Format::Edn),
                Some('"' | '}') => Some(Format::SimJson),
                _ => None,
            };
        }
        _ => {}
    }
    let first_line = trimmed.lines().next().unwrap_or("");
    jepsen::looks_like(first_line).then_some(Format::JepsenLog)
}

/// Reads a file's bytes: [`import`] once they are shown to be text (`text_of`).
///
/// ```
/// use sim::workload::history::import::import_bytes;
/// let err = import_bytes(&[0xff, 0xfe, 0x00], None).unwrap_err();
/// assert_eq!(err.at.line, 1, "not text: {}", err.message);
/// ```
pub fn import_bytes(
    bytes: &[u8],
    model: Option<ModelKind>,
) -> Result<(Format, History), ParseError> {
    import(text_of(bytes)?, model)
}

/// Reads `text` in its detected format. `model` replaces the implied model's kind.
///
/// ```
/// use sim::node::history::ModelKind;
/// use sim::workload::history::import::{Format, import};
/// let edn = "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n";
/// let (format, history) = import(edn, Some(ModelKind::Register))?;
/// assert_eq!((format, history.ops.len()), (Format::Edn, 1));
/// assert_eq!(history.model.unwrap().kind, ModelKind::Register, "the model given replaces the implied one");
/// # Ok::<(), sim::workload::history::datum::ParseError>(())
/// ```
pub fn import(text: &str, model: Option<ModelKind>) -> Result<(Format, History), ParseError> {
    let format = detect(text).ok_or_else(|| ParseError::new(Pos { line: 1, col: 1 }, ACCEPTED))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut history = match format {
        Format::SimJson => json::parse(text)?,
        Format::JepsenLog => jepsen::parse(text)?,
        Format::Edn => knossos::parse(text)?,
    };
    if let Some(kind) = model {
        let init = history.model.take().and_then(|m| m.init);
        history.model = Some(ModelSpec { kind, init });
    }
    Ok((format, history))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::history::Value;

    #[test]
    fn the_format_is_told_by_the_content() {
        assert_eq!(
            detect("{\"format\":\"sim-history\"}"),
            Some(Format::SimJson)
        );
        assert_eq!(detect("\n  {\n  \"format\": 1}"), Some(Format::SimJson));
        assert_eq!(
            detect("INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"),
            Some(Format::JepsenLog)
        );
        assert_eq!(detect("0 :invoke :write 3\n"), Some(Format::JepsenLog));
        assert_eq!(detect("{:process 0, :type :invoke}"), Some(Format::Edn));
        assert_eq!(detect("; comment\n[{:process 0}]"), Some(Format::Edn));
        assert_eq!(detect("   "), Some(Format::Edn));
        assert_eq!(detect("hello world"), None);
        assert_eq!(detect("{ 1 }"), None);
    }

    #[test]
    fn an_unknown_format_names_the_accepted_ones() {
        let e = import("hello", None).unwrap_err();
        assert_eq!(e.at, Pos { line: 1, col: 1 });
        assert!(e.message.contains("Jepsen log") && e.message.contains("sim-history"));
    }

    #[test]
    fn binary_bytes_are_located_before_any_format_is_guessed() {
        let e = import_bytes(b"[{:process 0}\n {:f \xff\xfe}]", None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "2:6: expected UTF-8 text, found the byte 0xFF (a binary file?)"
        );
        let e = import_bytes("{\"format\":\n  \"é\0\"}".as_bytes(), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "2:5: expected text, found the control character U+0000 (a binary file?)"
        );
        assert!(import_bytes(b"\t[]\r\n", None).is_ok());
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_where_it_starts() {
        use crate::workload::history::datum::MAX_DEPTH;
        let deep =
            |open: &str, close: &str, depth: usize| open.repeat(depth) + &close.repeat(depth);
        // EDN: brackets, maps, tags and discards all count.
        let e = import(&deep("[", "]", 20_000), None).unwrap_err();
        assert_eq!(
            e.at,
            Pos {
                line: 1,
                col: MAX_DEPTH + 1
            }
        );
        assert!(
            e.message
                .starts_with("expected at most 128 levels of nesting"),
            "{e}"
        );
        let e = import(&("[".to_string() + &"#t ".repeat(20_000) + "1]"), None).unwrap_err();
        assert_eq!(e.at.line, 1);
        let e = import(&("[".to_string() + &"#_ ".repeat(20_000) + "1]"), None).unwrap_err();
        assert!(e.message.starts_with("expected at most"), "{e}");
        // JSON, inside a field of a sim-history object.
        let json = format!(
            "{{\"format\":\"sim-history\",\n\"ops\":{}}}",
            deep("[{\"a\":", "}]", 10_000)
        );
        let e = import(&json, None).unwrap_err();
        assert_eq!(e.at.line, 2);
        assert!(e.message.starts_with("expected at most"), "{e}");
        // A Jepsen log's argument is EDN.
        let log = format!(
            "INFO  jepsen.util - 0\t:invoke\t:write\t{}\n",
            "[".repeat(20_000)
        );
        let e = import(&log, None).unwrap_err();
        assert_eq!(
            e.at,
            Pos {
                line: 1,
                col: 38 + MAX_DEPTH
            }
        );
        // Nesting up to the limit is still read.
        let ok = format!(
            "[{{:process 0 :type :invoke :f :read :x {}}}]",
            deep("[", "]", 120)
        );
        assert!(import(&ok, None).is_ok());
    }

    #[test]
    fn a_chosen_model_keeps_the_sources_initial_value() {
        let (format, h) = import(
            "[{:process 0, :type :invoke, :f :read}]",
            Some(ModelKind::Register),
        )
        .unwrap();
        assert_eq!(format, Format::Edn);
        assert_eq!(
            h.model,
            Some(ModelSpec {
                kind: ModelKind::Register,
                init: Some(Value::Int(0))
            })
        );
        let (_, h) = import("", None).unwrap();
        assert!(h.ops.is_empty());
    }
}
