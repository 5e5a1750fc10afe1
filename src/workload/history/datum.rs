//! A parsed value that remembers where it was written: the common tree of the EDN and JSON
//! readers.
//!
//! Importers judge a file's meaning (is this a known `:f`? is a cas value a pair?) after it has
//! been parsed, and every complaint must still name a line and a column. So the readers build
//! this tree, each node tagged with its position, instead of handing back position-free values.

use std::fmt;

/// A 1-based line and column (columns count characters, not bytes).
///
/// ```
/// use sim::workload::history::knossos::parse;
/// let err = parse("{:process 0, :type :invoke, :f :dance}").unwrap_err();
/// assert_eq!(err.at.line, 1);
/// assert!(err.at.to_string().starts_with("1:"), "line:column");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1, in characters.
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A complaint about a history file: where, and what was expected there.
///
/// ```
/// use sim::workload::history::datum::{ParseError, Pos};
/// let e = ParseError::new(Pos { line: 3, col: 7 }, "expected :ok");
/// assert_eq!((e.at.to_string(), e.message.as_str()), ("3:7".to_string(), "expected :ok"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Where in the file the problem is.
    pub at: Pos,
    /// What was expected there and what was found, in words.
    pub message: String,
}

impl ParseError {
    /// A complaint at `at`.
    ///
    /// ```
    /// use sim::workload::history::datum::{ParseError, Pos};
    /// let e = ParseError::new(Pos { line: 1, col: 1 }, String::from("empty file"));
    /// assert_eq!(e.message, "empty file");
    /// ```
    pub fn new(at: Pos, message: impl Into<String>) -> Self {
        ParseError {
            at,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

impl std::error::Error for ParseError {}

/// One value of the tree. EDN keywords keep their name without the colon; JSON object keys are
/// `Str`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Datum {
    /// EDN `nil` or JSON `null`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits 64 signed bits.
    Int(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string, unescaped.
    Str(String),
    /// An EDN keyword such as `:ok`, without its colon.
    Keyword(String),
    /// An EDN symbol: a bare word such as `cas`.
    Symbol(String),
    /// EDN vectors, EDN lists and JSON arrays: the importers treat them alike.
    Seq(Vec<Node>),
    /// EDN sets: kept apart so that a set where a pair is expected is an error.
    Set(Vec<Node>),
    /// Entries in written order; duplicate keys are the reader's business.
    Map(Vec<(Node, Node)>),
}

/// A datum and the position of its first character.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// Where its first character was written.
    pub at: Pos,
    /// The value.
    pub(crate) datum: Datum,
}

impl Node {
    /// What kind of thing this is, for "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> String {
        match &self.datum {
            Datum::Nil => "nil".into(),
            Datum::Bool(b) => b.to_string(),
            Datum::Int(i) => format!("the integer {i}"),
            Datum::Float(x) => format!("the number {x}"),
            Datum::Str(s) => format!("the string {s:?}"),
            Datum::Keyword(k) => format!(":{k}"),
            Datum::Symbol(s) => format!("the symbol {s}"),
            Datum::Seq(_) => "a sequence".into(),
            Datum::Set(_) => "a set".into(),
            Datum::Map(_) => "a map".into(),
        }
    }

    /// An error at this node: `expected ..., found ...`.
    pub(crate) fn expected(&self, what: &str) -> ParseError {
        ParseError::new(
            self.at,
            format!("expected {what}, found {}", self.describe()),
        )
    }

    /// The value under a map key, comparing keywords (EDN) and strings (JSON) by name.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        let Datum::Map(entries) = &self.datum else {
            return None;
        };
        entries.iter().find_map(|(k, v)| match &k.datum {
            Datum::Keyword(name) | Datum::Str(name) if name == key => Some(v),
            _ => None,
        })
    }
}

/// How deeply brackets (and EDN tags and discards) may nest. A history needs four levels
/// (a vector of operation maps holding a transaction of micro-operations); the readers recurse
/// once per level, so without a limit a file of 11,000 `[` overflows the stack and aborts the
/// process instead of being refused with a location.
pub(crate) const MAX_DEPTH: u32 = 128;

/// Walks text one character at a time, keeping the line and column.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    offset: usize,
    pos: Pos,
    /// Nesting levels open: see [`MAX_DEPTH`].
    depth: u32,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor {
            text,
            offset: 0,
            pos: Pos { line: 1, col: 1 },
            depth: 0,
        }
    }

    /// Opens a nesting level at `at`, or refuses one level too many. Pair with [`Cursor::leave`].
    pub(crate) fn enter(&mut self, at: Pos) -> Result<(), ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(ParseError::new(
                at,
                format!(
                    "expected at most {MAX_DEPTH} levels of nesting, found a level deeper here \
                     (a history needs four)"
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub(crate) fn pos(&self) -> Pos {
        self.pos
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.text[self.offset..].chars().next()
    }

    /// The character after the next one.
    pub(crate) fn peek2(&self) -> Option<char> {
        self.text[self.offset..].chars().nth(1)
    }

    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.col = 1;
        } else {
            self.pos.col += 1;
        }
        Some(c)
    }

    /// Takes characters while `keep` holds.
    pub(crate) fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|&c| keep(c)) {
            out.push(c);
            self.bump();
        }
        out
    }
}

/// The position of byte `offset` of `text` (which must fall on a character boundary).
pub(crate) fn pos_of(text: &str, offset: usize) -> Pos {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos {
        line: before.matches('\n').count() as u32 + 1,
        col: before[line_start..].chars().count() as u32 + 1,
    }
}

/// `bytes` as text, or where they stop being text: the first byte that is not UTF-8, or the first
/// control character other than tab, newline and carriage return. No history format has either
/// (JSON forbids raw control characters, EDN and Jepsen logs are printed text), so either one
/// means a binary or corrupted file, and saying where beats a parse error about its symptoms.
pub(crate) fn text_of(bytes: &[u8]) -> Result<&str, ParseError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            return Err(ParseError::new(
                pos_of(prefix, valid),
                format!(
                    "expected UTF-8 text, found the byte 0x{:02X} (a binary file?)",
                    bytes[valid]
                ),
            ));
        }
    };
    match text
        .char_indices()
        .find(|&(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        Some((offset, c)) => Err(ParseError::new(
            pos_of(text, offset),
            format!(
                "expected text, found the control character U+{:04X} (a binary file?)",
                c as u32
            ),
        )),
        None => Ok(text),
    }
}

/// An integer token (`-12`, `+3`, `7N`), or a float, or an error naming the token.
pub(crate) fn number(token: &str, at: Pos) -> Result<Datum, ParseError> {
    let digits = token.strip_suffix('N').unwrap_or(token);
    if let Ok(i) = digits.strip_prefix('+').unwrap_or(digits).parse::<i64>() {
        return Ok(Datum::Int(i));
    }
    let float = token.strip_suffix('M').unwrap_or(token);
    match float.parse::<f64>() {
        Ok(x) if float.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) => Ok(Datum::Float(x)),
        _ => Err(ParseError::new(
            at,
            format!("expected a number, found `{token}` (integers must fit in 64 bits)"),
        )),
    }
}
