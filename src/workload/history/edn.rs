//! A small EDN reader: enough of Clojure's data notation for Jepsen, Knossos and Porcupine
//! histories.
//!
//! Reads nil, booleans, integers, floats, strings, keywords, symbols, vectors, lists, maps and
//! sets; commas are whitespace, `;` starts a comment, `#_` discards the next form, and any other
//! tag (`#inst "..."`) is dropped and its form kept. Every value carries its line and column, and
//! every error says what was expected where (`3:17: expected a closing }`).

use super::datum::{Cursor, Datum, Node, ParseError, Pos, number};

/// Every top-level form of `text`, in order.
pub(crate) fn read_all(text: &str) -> Result<Vec<Node>, ParseError> {
    let mut reader = Reader {
        cur: Cursor::new(text),
    };
    let mut forms = Vec::new();
    loop {
        reader.skip_space()?;
        if reader.cur.peek().is_none() {
            return Ok(forms);
        }
        forms.push(reader.form()?);
    }
}

struct Reader<'a> {
    cur: Cursor<'a>,
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}' | '(' | ')' | '"' | ';')
}

impl Reader<'_> {
    /// Skips whitespace, commas, comments and `#_` discarded forms.
    fn skip_space(&mut self) -> Result<(), ParseError> {
        while let Some(c) = self.cur.peek() {
            if c.is_whitespace() || c == ',' {
                self.cur.bump();
            } else if c == ';' {
                self.cur.take_while(|c| c != '\n');
            } else if c == '#' && self.discard_follows() {
                // `#_ #_ #_ ...` recurses once per discard: a level like any bracket.
                self.cur.enter(self.cur.pos())?;
                self.cur.bump();
                self.cur.bump();
                self.skip_space()?;
                self.form()?;
                self.cur.leave();
            } else {
                break;
            }
        }
        Ok(())
    }

    /// Whether the cursor stands on `#_`.
    fn discard_follows(&self) -> bool {
        self.cur.peek2() == Some('_')
    }

    /// One form. A bracket or a tag is one nesting level deeper: the reader recurses into it.
    fn form(&mut self) -> Result<Node, ParseError> {
        let nests = matches!(self.cur.peek(), Some('[' | '(' | '{' | '#'));
        if !nests {
            return self.form_here();
        }
        self.cur.enter(self.cur.pos())?;
        let node = self.form_here();
        self.cur.leave();
        node
    }

    fn form_here(&mut self) -> Result<Node, ParseError> {
        let at = self.cur.pos();
        let Some(c) = self.cur.peek() else {
            return Err(ParseError::new(
                at,
                "expected a value, found the end of the file",
            ));
        };
        let datum = match c {
            '[' | '(' => {
                self.cur.bump();
                Datum::Seq(self.until(if c == '[' { ']' } else { ')' }, at)?)
            }
            '{' => {
                self.cur.bump();
                self.map(at)?
            }
            '#' => return self.dispatch(at),
            '"' => Datum::Str(self.string(at)?),
            ':' => {
                self.cur.bump();
                let name = self.cur.take_while(|c| !is_delimiter(c));
                if name.is_empty() {
                    return Err(ParseError::new(at, "expected a keyword name after `:`"));
                }
                Datum::Keyword(name)
            }
            '\\' => {
                self.cur.bump();
                let first = self.cur.bump().map(String::from).unwrap_or_default();
                Datum::Str(first + &self.cur.take_while(|c| !is_delimiter(c)))
            }
            ']' | ')' | '}' => {
                return Err(ParseError::new(
                    at,
                    format!("expected a value, found an unmatched `{c}`"),
                ));
            }
            _ => self.atom(at)?,
        };
        Ok(Node { at, datum })
    }

    /// `#{...}` sets, and tags: `#inst "..."` reads as its form.
    fn dispatch(&mut self, at: Pos) -> Result<Node, ParseError> {
        self.cur.bump();
        if self.cur.peek() == Some('{') {
            self.cur.bump();
            let items = self.until('}', at)?;
            return Ok(Node {
                at,
                datum: Datum::Set(items),
            });
        }
        let tag = self.cur.take_while(|c| !is_delimiter(c));
        if tag.is_empty() {
            return Err(ParseError::new(at, "expected a tag or `{` after `#`"));
        }
        self.skip_space()?;
        self.form()
    }

    /// Forms up to the closing `close`.
    fn until(&mut self, close: char, open: Pos) -> Result<Vec<Node>, ParseError> {
        let mut items = Vec::new();
        loop {
            self.skip_space()?;
            match self.cur.peek() {
                Some(c) if c == close => {
                    self.cur.bump();
                    return Ok(items);
                }
                Some(c @ (']' | ')' | '}')) => {
                    return Err(ParseError::new(
                        self.cur.pos(),
                        format!(
                            "expected `{close}` to close the `{}` at {open}, found `{c}`",
                            opening(close)
                        ),
                    ));
                }
                None => {
                    return Err(ParseError::new(
                        self.cur.pos(),
                        format!(
                            "expected `{close}` to close the `{}` at {open}, found the end of the file",
                            opening(close)
                        ),
                    ));
                }
                Some(_) => items.push(self.form()?),
            }
        }
    }

    fn map(&mut self, at: Pos) -> Result<Datum, ParseError> {
        let items = self.until('}', at)?;
        if items.len() % 2 == 1 {
            let last = &items[items.len() - 1];
            return Err(ParseError::new(
                last.at,
                "expected a value after this key: a map needs key/value pairs",
            ));
        }
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            entries.push((k, v));
        }
        Ok(Datum::Map(entries))
    }

    fn string(&mut self, at: Pos) -> Result<String, ParseError> {
        self.cur.bump();
        let mut out = String::new();
        loop {
            let here = self.cur.pos();
            match self.cur.bump() {
                None => {
                    return Err(ParseError::new(
                        at,
                        "expected a closing `\"` for this string, found the end of the file",
                    ));
                }
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.escape(here)?),
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self, at: Pos) -> Result<char, ParseError> {
        let c = self.cur.bump();
        Ok(match c {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some(c @ ('"' | '\\' | '/')) => c,
            Some('u') => {
                let hex: String = (0..4).filter_map(|_| self.cur.bump()).collect();
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| ParseError::new(at, "expected four hex digits after `\\u`"))?
            }
            _ => {
                return Err(ParseError::new(
                    at,
                    "expected an escape: \\n \\t \\r \\\" \\\\ or \\uXXXX",
                ));
            }
        })
    }

    /// A number, nil, true, false, or a symbol.
    fn atom(&mut self, at: Pos) -> Result<Datum, ParseError> {
        let token = self.cur.take_while(|c| !is_delimiter(c));
        let mut chars = token.chars();
        let first = chars.next().unwrap_or(' ');
        let second = chars.next();
        let numeric = first.is_ascii_digit()
            || (matches!(first, '+' | '-') && second.is_some_and(|c| c.is_ascii_digit()));
        if numeric {
            return number(&token, at);
        }
        Ok(match token.as_str() {
            "nil" => Datum::Nil,
            "true" => Datum::Bool(true),
            "false" => Datum::Bool(false),
            "" => {
                return Err(ParseError::new(at, "expected a value"));
            }
            _ => Datum::Symbol(token),
        })
    }
}

fn opening(close: char) -> char {
    match close {
        ']' => '[',
        ')' => '(',
        _ => '{',
    }
}
