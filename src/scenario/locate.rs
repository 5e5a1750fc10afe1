//! Finding things in the scenario text: the line and column of a byte offset, the span of a key
//! path, the table a key or a span belongs to.
//!
//! Serde hands back values, not places, so whenever an error must point at a key (rather than
//! at a value kept with its span) we parse the text again into toml's spanned document and walk
//! it. Errors are rare, so the second parse costs nothing that matters.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

/// 1-based line and column of byte `offset`; the column counts characters, not bytes.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// One step into the document: a key of a table, or an element of an array.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index,
}

/// The span of the deepest part of `path` that exists: the key itself when it does, else its
/// nearest existing parent (a key, or an array element such as a `[[faults]]` header). A path
/// segment that is a number indexes an array. `None` when not even the first key exists.
pub(super) fn deepest_span(text: &str, path: &[&str]) -> Option<Range<usize>> {
    let doc = DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let mut found = None;
    let mut segments = path.iter();
    let mut value = loop {
        let Some(segment) = segments.next() else {
            return found;
        };
        let Some((key, value)) = table.iter().find(|(k, _)| k.get_ref() == segment) else {
            return found;
        };
        found = Some(key.span());
        match value.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => break value,
        }
    };
    // Arrays: numeric segments index them; an element that is a table continues the walk.
    for segment in segments {
        match value.get_ref() {
            DeValue::Array(items) => {
                let Some(item) = segment.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                    return found;
                };
                found = Some(item.span());
                value = item;
            }
            DeValue::Table(inner) => {
                let Some((key, v)) = inner.iter().find(|(k, _)| k.get_ref() == segment) else {
                    return found;
                };
                found = Some(key.span());
                value = v;
            }
            _ => return found,
        }
    }
    found
}

/// How a table at `steps` is written in messages: `[cluster]`, `[network.latency]`,
/// `[[faults]]`, or `the `cut` table of [[faults]]` for a table inside an array entry.
/// `None` for the top level.
fn label(steps: &[Step]) -> Option<String> {
    let dotted = |steps: &[Step]| {
        let keys: Vec<&str> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Key(k) => Some(k.as_str()),
                Step::Index => None,
            })
            .collect();
        keys.join(".")
    };
    let last_index = steps.iter().rposition(|s| *s == Step::Index);
    match last_index {
        _ if steps.is_empty() => None,
        None => Some(format!("[{}]", dotted(steps))),
        Some(i) if i + 1 == steps.len() => Some(format!("[[{}]]", dotted(steps))),
        Some(i) => Some(format!(
            "the `{}` table of [[{}]]",
            dotted(&steps[i + 1..]),
            dotted(&steps[..i])
        )),
    }
}

/// The table holding the key that starts at byte `offset`, as written in messages.
pub(super) fn table_of_key(text: &str, offset: usize) -> Option<String> {
    let doc = DeTable::parse(text).ok()?;
    let mut steps = Vec::new();
    find_key(doc.get_ref(), offset, &mut steps).then(|| label(&steps))?
}

/// The table whose own span is exactly `span` (toml reports a missing key there).
pub(super) fn table_with_span(text: &str, span: &Range<usize>) -> Option<String> {
    let doc = DeTable::parse(text).ok()?;
    let mut steps = Vec::new();
    find_table(doc.get_ref(), span, &mut steps).then(|| label(&steps))?
}

fn find_key(table: &DeTable<'_>, offset: usize, steps: &mut Vec<Step>) -> bool {
    for (key, value) in table.iter() {
        if key.span().start == offset {
            return true;
        }
        steps.push(Step::Key(key.get_ref().to_string()));
        if find_key_in_value(value.get_ref(), offset, steps) {
            return true;
        }
        steps.pop();
    }
    false
}

fn find_key_in_value(value: &DeValue<'_>, offset: usize, steps: &mut Vec<Step>) -> bool {
    match value {
        DeValue::Table(inner) => find_key(inner, offset, steps),
        DeValue::Array(items) => {
            steps.push(Step::Index);
            if items
                .iter()
                .any(|item| find_key_in_value(item.get_ref(), offset, steps))
            {
                return true;
            }
            steps.pop();
            false
        }
        _ => false,
    }
}

fn find_table(table: &DeTable<'_>, span: &Range<usize>, steps: &mut Vec<Step>) -> bool {
    for (key, value) in table.iter() {
        steps.push(Step::Key(key.get_ref().to_string()));
        if find_table_in_value(value, span, steps) {
            return true;
        }
        steps.pop();
    }
    false
}

fn find_table_in_value(
    value: &toml::Spanned<DeValue<'_>>,
    span: &Range<usize>,
    steps: &mut Vec<Step>,
) -> bool {
    match value.get_ref() {
        DeValue::Table(inner) => value.span() == *span || find_table(inner, span, steps),
        DeValue::Array(items) => {
            steps.push(Step::Index);
            if items
                .iter()
                .any(|item| find_table_in_value(item, span, steps))
            {
                return true;
            }
            steps.pop();
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name = \"x\"\n\n[cluster]\nnodes = [\"A\"]\n\n[[faults]]\nat = \"1s\"\n\n[[faults]]\nat = \"2s\"\nfor = \"1s\"\n";

    fn at(span: Option<Range<usize>>) -> (usize, usize) {
        line_column(DOC, span.expect("found").start)
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "a = \"µµ\" x";
        assert_eq!(line_column(text, text.find('x').unwrap()), (1, 10));
        assert_eq!(line_column("a\nbc", 3), (2, 2));
        assert_eq!(line_column("", 0), (1, 1));
    }

    #[test]
    fn deepest_span_finds_keys_and_array_elements() {
        assert_eq!(at(deepest_span(DOC, &["cluster", "nodes"])), (4, 1));
        assert_eq!(at(deepest_span(DOC, &["faults", "1", "for"])), (11, 1));
        // A missing key falls back to its parent: the second [[faults]] header.
        assert_eq!(at(deepest_span(DOC, &["faults", "1", "by"])), (9, 1));
        assert_eq!(at(deepest_span(DOC, &["cluster", "protocol"])), (3, 2));
        assert_eq!(deepest_span(DOC, &["nemesis", "until"]), None);
    }

    #[test]
    fn tables_are_named_as_written() {
        let key = DOC.find("for").unwrap();
        assert_eq!(table_of_key(DOC, key).as_deref(), Some("[[faults]]"));
        let nodes = DOC.find("nodes").unwrap();
        assert_eq!(table_of_key(DOC, nodes).as_deref(), Some("[cluster]"));
        assert_eq!(table_of_key(DOC, 0), None);
        let inline = "[[faults]]\nat = \"1s\"\ncut = { from = \"A\", too = \"B\" }\n";
        let key = inline.find("too").unwrap();
        assert_eq!(
            table_of_key(inline, key).as_deref(),
            Some("the `cut` table of [[faults]]")
        );
        let header = DOC.find("[cluster]").unwrap();
        let span = header..header + "[cluster]".len();
        assert_eq!(table_with_span(DOC, &span).as_deref(), Some("[cluster]"));
    }
}
