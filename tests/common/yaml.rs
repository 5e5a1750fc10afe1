//! A small, strict YAML reader for the files in deploy/: enough to take the commands, env and
//! policies out of a Kubernetes manifest and a GitHub workflow as their engines read them, so the
//! tests run what the files say rather than a copy of it.
//!
//! It reads block mappings and sequences (items that are mappings included), plain, single- and
//! double-quoted scalars, flow sequences of scalars (`[0, 1]`), literal block scalars (`|`, `|-`),
//! comments and `---` between documents. Anything else (anchors, flow mappings, folded scalars,
//! tags) panics with the line it met, so a deploy file that grows past the subset fails loudly
//! instead of being misread.

#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    Map(Vec<(String, Yaml)>),
    Seq(Vec<Yaml>),
    Str(String),
}

/// One source line: its indentation and the text after it; `None` text for a blank line.
#[derive(Clone)]
struct Line {
    no: usize,
    indent: usize,
    text: String,
}

impl Line {
    fn is_blank_or_comment(&self) -> bool {
        self.text.is_empty() || self.text.starts_with('#')
    }
}

impl Yaml {
    /// Every document of a file (`---` separates them).
    pub fn documents(src: &str) -> Vec<Yaml> {
        let mut docs = Vec::new();
        let mut current: Vec<Line> = Vec::new();
        for (i, raw) in src.lines().enumerate() {
            assert!(!raw.contains('\t'), "line {}: a tab in YAML", i + 1);
            if raw.trim_end() == "---" {
                docs.push(std::mem::take(&mut current));
                continue;
            }
            let text = raw.trim_start();
            current.push(Line {
                no: i + 1,
                indent: raw.len() - text.len(),
                text: text.trim_end().to_string(),
            });
        }
        docs.push(current);
        docs.into_iter()
            .filter(|lines| lines.iter().any(|l| !l.is_blank_or_comment()))
            .map(|mut lines| {
                let mut at = 0;
                let first = next_significant(&lines, 0).expect("a non-empty document");
                let indent = lines[first].indent;
                let doc = block(&mut lines, &mut at, indent);
                if let Some(rest) = next_significant(&lines, at) {
                    panic!("line {}: unexpected {:?}", lines[rest].no, lines[rest].text);
                }
                doc
            })
            .collect()
    }

    /// The value under `key` in a mapping, or a panic naming what was there.
    pub fn get(&self, key: &str) -> &Yaml {
        self.try_get(key)
            .unwrap_or_else(|| panic!("no key {key:?} in {self:?}"))
    }

    pub fn try_get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A dotted path of mapping keys: `spec.template.spec`.
    pub fn at(&self, path: &str) -> &Yaml {
        path.split('.').fold(self, |node, key| node.get(key))
    }

    pub fn str(&self) -> &str {
        match self {
            Yaml::Str(s) => s,
            other => panic!("expected a scalar, found {other:?}"),
        }
    }

    pub fn seq(&self) -> &[Yaml] {
        match self {
            Yaml::Seq(items) => items,
            other => panic!("expected a sequence, found {other:?}"),
        }
    }

    /// The scalars of a sequence.
    pub fn strs(&self) -> Vec<&str> {
        self.seq().iter().map(Yaml::str).collect()
    }

    /// The item of a sequence of mappings whose `key` is `value` (the only one).
    pub fn item(&self, key: &str, value: &str) -> &Yaml {
        let found: Vec<&Yaml> = self
            .seq()
            .iter()
            .filter(|i| i.try_get(key).map(Yaml::str) == Some(value))
            .collect();
        assert_eq!(found.len(), 1, "one item with {key}: {value:?} in {self:?}");
        found[0]
    }
}

fn next_significant(lines: &[Line], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&i| !lines[i].is_blank_or_comment())
}

/// The node whose lines start at `*at` with exactly `indent`.
fn block(lines: &mut Vec<Line>, at: &mut usize, indent: usize) -> Yaml {
    let first = next_significant(lines, *at).expect("a value");
    if is_item(&lines[first].text) {
        sequence(lines, at, indent)
    } else {
        mapping(lines, at, indent)
    }
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

fn sequence(lines: &mut Vec<Line>, at: &mut usize, indent: usize) -> Yaml {
    let mut items = Vec::new();
    while let Some(i) = next_significant(lines, *at) {
        let line = lines[i].clone();
        if line.indent < indent || !is_item(&line.text) {
            break;
        }
        assert_eq!(line.indent, indent, "line {}: misaligned item", line.no);
        let rest = line.text[1..].trim_start();
        if rest.is_empty() {
            *at = i + 1;
            let next = next_significant(lines, *at).expect("an item's value");
            assert!(lines[next].indent > indent, "line {}: empty item", line.no);
            let child = lines[next].indent;
            items.push(block(lines, at, child));
        } else if rest.starts_with('|') {
            *at = i + 1;
            items.push(block_scalar(lines, at, indent, rest, line.no));
        } else if key_value(rest).is_some() {
            // `- key: value` opens a mapping whose keys line up with `key`.
            let inner = indent + (line.text.len() - rest.len());
            lines[i] = Line {
                no: line.no,
                indent: inner,
                text: rest.to_string(),
            };
            *at = i;
            items.push(mapping(lines, at, inner));
        } else {
            *at = i + 1;
            items.push(inline(rest, line.no));
        }
    }
    Yaml::Seq(items)
}

fn mapping(lines: &mut Vec<Line>, at: &mut usize, indent: usize) -> Yaml {
    let mut entries: Vec<(String, Yaml)> = Vec::new();
    while let Some(i) = next_significant(lines, *at) {
        let line = lines[i].clone();
        if line.indent < indent || (line.indent == indent && is_item(&line.text)) {
            break;
        }
        assert_eq!(line.indent, indent, "line {}: misaligned key", line.no);
        let (key, rest) = key_value(&line.text)
            .unwrap_or_else(|| panic!("line {}: expected `key:`, found {:?}", line.no, line.text));
        assert!(
            entries.iter().all(|(k, _)| *k != key),
            "line {}: key {key:?} twice",
            line.no
        );
        *at = i + 1;
        let value = if rest.starts_with('|') {
            block_scalar(lines, at, indent, rest, line.no)
        } else if !rest.is_empty() && !rest.starts_with('#') {
            inline(rest, line.no)
        } else {
            match next_significant(lines, *at) {
                Some(n) if lines[n].indent > indent => {
                    let child = lines[n].indent;
                    block(lines, at, child)
                }
                // A sequence may sit at its key's own indentation.
                Some(n) if lines[n].indent == indent && is_item(&lines[n].text) => {
                    sequence(lines, at, indent)
                }
                _ => Yaml::Str(String::new()),
            }
        };
        entries.push((key, value));
    }
    Yaml::Map(entries)
}

/// `key: rest` (or `key:` alone) with a plain key.
fn key_value(text: &str) -> Option<(String, &str)> {
    if text.starts_with(['"', '\'', '[', '{', '&', '*', '!']) {
        return None;
    }
    let colon = text
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| text[i + 1..].is_empty() || text[i + 1..].starts_with(' '))?;
    let key = &text[..colon];
    if key.contains(" #") {
        return None;
    }
    Some((key.to_string(), text[colon + 1..].trim_start()))
}

/// A literal block scalar: the lines indented deeper than its key, less their common indent.
fn block_scalar(lines: &[Line], at: &mut usize, parent: usize, head: &str, no: usize) -> Yaml {
    let chomp = head[1..].split(" #").next().unwrap().trim();
    assert!(
        chomp.is_empty() || chomp == "-",
        "line {no}: block scalar {head:?} is not supported"
    );
    let start = *at;
    while *at < lines.len() && (lines[*at].text.is_empty() || lines[*at].indent > parent) {
        *at += 1;
    }
    // Trailing blank lines belong to what follows.
    while *at > start && lines[*at - 1].text.is_empty() {
        *at -= 1;
    }
    let body = &lines[start..*at];
    let indent = body
        .iter()
        .find(|l| !l.text.is_empty())
        .map(|l| l.indent)
        .unwrap_or(parent + 1);
    let mut text = String::new();
    for l in body {
        if !l.text.is_empty() {
            text.push_str(&" ".repeat(l.indent - indent));
            text.push_str(&l.text);
        }
        text.push('\n');
    }
    if chomp == "-" {
        text.truncate(text.trim_end_matches('\n').len());
    }
    Yaml::Str(text)
}

/// A value on its key's line: a flow sequence of scalars, or one scalar.
fn inline(text: &str, no: usize) -> Yaml {
    if let Some(body) = text.strip_prefix('[') {
        let close = body
            .rfind(']')
            .unwrap_or_else(|| panic!("line {no}: unclosed ["));
        assert_comment_only(&body[close + 1..], no);
        let inner = body[..close].trim();
        if inner.is_empty() {
            return Yaml::Seq(Vec::new());
        }
        return Yaml::Seq(
            inner
                .split(',')
                .map(|s| Yaml::Str(scalar(s.trim(), no)))
                .collect(),
        );
    }
    Yaml::Str(scalar(text, no))
}

fn scalar(text: &str, no: usize) -> String {
    assert!(
        !text.starts_with(['{', '&', '*', '!', '>', '|', '[']),
        "line {no}: {text:?} is outside this reader's YAML"
    );
    if let Some(body) = text.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    assert_comment_only(&body[i + 1..], no);
                    return out;
                }
                '\\' => match chars.next().map(|(_, e)| e) {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('n') => out.push('\n'),
                    e => panic!("line {no}: escape \\{e:?} is outside this reader's YAML"),
                },
                c => out.push(c),
            }
        }
        panic!("line {no}: unclosed \"");
    }
    if let Some(body) = text.strip_prefix('\'') {
        let mut out = String::new();
        let mut rest = body;
        loop {
            let q = rest
                .find('\'')
                .unwrap_or_else(|| panic!("line {no}: unclosed '"));
            out.push_str(&rest[..q]);
            if rest[q + 1..].starts_with('\'') {
                out.push('\'');
                rest = &rest[q + 2..];
            } else {
                assert_comment_only(&rest[q + 1..], no);
                return out;
            }
        }
    }
    // A plain scalar ends at a comment.
    text.split(" #").next().unwrap().trim_end().to_string()
}

fn assert_comment_only(rest: &str, no: usize) {
    let rest = rest.trim();
    assert!(
        rest.is_empty() || rest.starts_with('#'),
        "line {no}: {rest:?} after a value"
    );
}
