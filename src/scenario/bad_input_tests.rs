//! Scenario files that are not scenarios at all: repeated keys, hostile nesting, binary bytes.
//! Each is refused at a line and column with what was expected, never a panic.

use super::tests::assert_error;

#[test]
fn a_duplicated_key_is_named_at_its_second_occurrence() {
    assert_error(
        "name = \"a\"\nduration = \"10s\"\nname = \"b\"\n",
        3,
        1,
        "duplicate key `name`",
    );
    assert_error(
        "name = \"a\"\n[cluster]\nnodes = 3\n  protocol = \"raft\"\n  nodes = 5\n",
        5,
        3,
        "duplicate key `nodes`",
    );
    assert_error(
        "name = \"a\"\n[cluster]\nnodes = 3\n[cluster]\n",
        4,
        2,
        "duplicate key `cluster`",
    );
}

#[test]
fn nesting_too_deep_is_refused_where_the_reader_stops() {
    let deep = format!("name = {}\n", "[".repeat(20_000));
    let err = super::Scenario::parse("s.toml", &deep).expect_err("refused");
    assert_eq!(err.line, 1);
    assert!(
        err.message.contains("nested less deeply"),
        "{}",
        err.message
    );
    let tables = format!("x = {}\n", "{a = ".repeat(20_000));
    let err = super::Scenario::parse("s.toml", &tables).expect_err("refused");
    assert!(
        err.message.contains("nested less deeply"),
        "{}",
        err.message
    );
    let dotted = format!("[{}]\n", vec!["a"; 20_000].join("."));
    let err = super::Scenario::parse("s.toml", &dotted).expect_err("refused");
    assert_eq!(err.line, 1, "{}", err.message);
}

#[test]
fn a_control_character_is_located_and_called_binary() {
    assert_error(
        "name = \"a\"\nduration = \"1\u{0}0s\"\n",
        2,
        14,
        "found the control character U+0000 (a binary file?)",
    );
}
