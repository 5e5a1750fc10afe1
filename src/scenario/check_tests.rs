//! `[check]` keys that give an invariant its bound (`leader_within = "2s"`): which keys a
//! scenario may write depends on its protocol's catalogue, so each mistake is told at its key
//! with the keys this protocol's `[check]` takes. Every test asserts the whole message and its
//! line and column.

use std::collections::BTreeMap;

use super::tests::catalog;
use super::{Scenario, ScenarioError};
use crate::check;
use crate::check::tests::settles_within;
use crate::protocols::ProtocolInfo;

const S: u64 = 1_000_000_000;

/// The test catalogue, plus `txn`: a protocol whose own invariant `settles_within` takes a
/// bound (example "5s").
fn with_txn() -> Vec<ProtocolInfo> {
    let mut protocols = catalog();
    let mut txn = catalog().remove(0);
    txn.name = "txn";
    txn.default_invariants = &[];
    txn.invariants = || vec![settles_within()];
    protocols.push(txn);
    protocols
}

/// Seven lines of a scenario of `protocol`, then `check` (from line 8).
fn scenario(protocol: &str, check: &str) -> String {
    format!(
        "name = \"t\"\nduration = \"10s\"\n\n[cluster]\nnodes = [\"A\", \"B\", \"C\"]\n\
         protocol = \"{protocol}\"\n\n{check}"
    )
}

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse_with("s.toml", text, &with_txn())
}

#[track_caller]
fn assert_exact(text: &str, line: usize, column: usize, message: &str) {
    let Err(e) = parse(text) else {
        panic!("accepted; expected {message:?}")
    };
    assert_eq!(
        (e.line, e.column, e.message.as_str()),
        (line, column, message)
    );
}

#[test]
fn a_bound_in_check_enables_the_invariant_that_takes_it() {
    let s = parse(&scenario("raft", "[check]\nleader_within = \"2s\"\n")).unwrap();
    assert_eq!(s.check.invariants, None, "the defaults stay");
    assert_eq!(
        s.check.bounds,
        BTreeMap::from([("leader_within".to_string(), 2 * S)])
    );
    // The same as a dotted key or an inline table.
    let dotted =
        scenario("raft", "").replace("\n\n[cluster]", "\ncheck.leader_within = \"2s\"\n[cluster]");
    assert_eq!(parse(&dotted).unwrap().check, s.check);
}

#[test]
fn a_protocols_own_bounded_invariant_is_enabled_by_its_key_and_receives_the_bound() {
    let s = parse(&scenario("txn", "[check]\nsettles_within = \"1s\"\n")).unwrap();
    assert_eq!(
        s.check.bounds,
        BTreeMap::from([("settles_within".to_string(), S)])
    );
    // What a run builds from it: the protocol's own checker, holding the bound the file gave.
    let own = (with_txn()[2].invariants)();
    let names = s.check.invariants.clone().unwrap_or_default();
    let built = check::build(&names, &s.check.bounds, s.nodes.len(), &own).unwrap();
    let built: Vec<String> = built.iter().map(|i| i.name()).collect();
    assert_eq!(built, ["settles_within 1s"]);

    let expected = "[check]\nsettles_within = \"1s\"\n\n[expect]\nverdict = \"violation\"\n\
                    violates = [\"settles_within\"]\n";
    let s = parse(&scenario("txn", expected)).unwrap();
    assert_eq!(s.expect.unwrap().violates, ["settles_within"]);
}

#[test]
fn an_unknown_key_names_the_keys_this_protocols_check_takes() {
    assert_exact(
        &scenario("raft", "[check]\nfoo = 1\n"),
        9,
        1,
        "unknown key `foo` in [check]; expected one of `invariants`, `leader_within`, `median_read_within`, `answered_within`",
    );
    // Another protocol's bounded invariant is no key of a raft scenario…
    assert_exact(
        &scenario("raft", "[check]\nsettles_within = \"1s\"\n"),
        9,
        1,
        "unknown key `settles_within` in [check]; expected one of `invariants`, `leader_within`, `median_read_within`, `answered_within`",
    );
    // …and txn's own is one of txn's.
    assert_exact(
        &scenario("txn", "[check]\nleader_within = \"2s\"\nfoo = \"1s\"\n"),
        10,
        1,
        "unknown key `foo` in [check]; expected one of `invariants`, `leader_within`, `median_read_within`, `answered_within`, `settles_within`",
    );
    // Where the key is written, whichever way it is written.
    let inline = scenario("raft", "").replace(
        "\n\n[cluster]",
        "\ncheck = { invariants = [\"election_safety\"], foo = \"1s\" }\n[cluster]",
    );
    assert_exact(
        &inline,
        3,
        45,
        "unknown key `foo` in [check]; expected one of `invariants`, `leader_within`, `median_read_within`, `answered_within`",
    );
}

#[test]
fn a_bound_for_an_invariant_that_takes_none_is_refused_at_its_key() {
    assert_exact(
        &scenario(
            "raft",
            "[check]\ninvariants = [\"election_safety\"]\nno_split_brain = \"2s\"\n",
        ),
        10,
        1,
        "no_split_brain takes no bound: list it in invariants instead; expected one of `invariants`, `leader_within`, `median_read_within`, `answered_within`",
    );
}

#[test]
fn a_bounded_invariant_listed_without_its_bound_says_what_to_write() {
    assert_exact(
        &scenario(
            "raft",
            "[check]\ninvariants = [\"election_safety\", \"leader_within\"]\n",
        ),
        9,
        34,
        "leader_within takes a bound: write leader_within = \"2s\" in [check] instead of listing it",
    );
    assert_exact(
        &scenario("txn", "[check]\ninvariants = [\"settles_within\"]\n"),
        9,
        15,
        "settles_within takes a bound: write settles_within = \"5s\" in [check] instead of listing it",
    );
}

#[test]
fn a_bound_must_be_a_duration_above_zero() {
    assert_exact(
        &scenario("raft", "[check]\nleader_within = \"0s\"\n"),
        9,
        17,
        "leader_within must be more than zero, e.g. \"2s\"",
    );
    assert_exact(
        &scenario("txn", "[check]\nsettles_within = \"0ms\"\n"),
        9,
        18,
        "settles_within must be more than zero, e.g. \"5s\"",
    );
    let duration = "expected a duration such as \"150ms\", \"2s\" or \"750us\" \
                    (units: ns, us, ms, s, m, h)";
    assert_exact(
        &scenario("raft", "[check]\nleader_within = \"soon\"\n"),
        9,
        17,
        &format!("`soon`: unknown unit `soon`; {duration}"),
    );
    assert_exact(
        &scenario("raft", "[check]\nleader_within = 5\n"),
        9,
        17,
        &format!("invalid type: integer `5`, {duration}"),
    );
}

#[test]
fn an_expected_violation_of_a_bounded_invariant_needs_its_bound() {
    let text = "[expect]\nverdict = \"violation\"\nviolates = [\"settles_within\"]\n";
    assert_exact(
        &scenario("txn", text),
        10,
        13,
        "`settles_within` is expected to be violated, but it is not checked: \
         [check] sets no settles_within bound",
    );
    let text = format!("[check]\ninvariants = [\"election_safety\"]\n\n{text}");
    assert_exact(
        &scenario("txn", &text),
        13,
        13,
        "`settles_within` is expected to be violated, but it is not checked: \
         [check] sets no settles_within bound",
    );
}

#[test]
fn a_read_bound_without_clients_is_refused_at_its_key() {
    assert_exact(
        &scenario("raft", "[check]\nmedian_read_within = \"3ms\"\n"),
        9,
        1,
        "median_read_within bounds how long the clients' reads took, but this scenario has no \
         clients: add a [workload] table",
    );
}

#[test]
fn an_answer_bound_without_clients_is_refused_at_its_key() {
    assert_exact(
        &scenario("raft", "[check]\nanswered_within = \"2s\"\n"),
        9,
        1,
        "answered_within judges whether the clients' operations were answered, but this \
         scenario has no clients: add a [workload] table",
    );
}
