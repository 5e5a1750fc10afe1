//! The messaging lessons (`scenarios/messaging/`) tell the stories they promise: sending after
//! the commit and rolling back a failed send leaves an effect for a rolled-back transaction, and
//! a crash loses a send; a local message table without its scan loses a message, with it and a
//! naive consumer duplicates one; a transactional message without the broker's check-back loses
//! one; and the fixed designs hold under a nemesis that breaks the broken ones.

use crate::common;

use common::{find_line, lesson_variant, replay, run, sim};

const LOST_ACK: &str = "scenarios/messaging/send-after-commit-lost-ack.toml";
const CRASH: &str = "scenarios/messaging/send-after-commit-crash.toml";
const NO_SCAN: &str = "scenarios/messaging/local-table-no-scan.toml";
const NAIVE: &str = "scenarios/messaging/local-table-non-idempotent.toml";
const TABLE: &str = "scenarios/messaging/local-table-nemesis.toml";
const NO_CHECK: &str = "scenarios/messaging/transactional-no-check-back.toml";
const TXN: &str = "scenarios/messaging/transactional-nemesis.toml";

const MS: u64 = 1_000_000;

/// The transaction a violation names: `transaction 7 …`.
fn txn_of(message: &str) -> String {
    message
        .split("transaction ")
        .nth(1)
        .and_then(|rest| rest.split([' ', ',']).next())
        .expect("the message names its transaction")
        .to_string()
}

#[test]
fn rolling_back_a_timed_out_send_leaves_an_effect_for_a_transaction_that_did_not_happen() {
    let r = run(LOST_ACK, &[]);
    assert_eq!(r.code, 1, "a safety failure: {}", r.stderr);
    assert!(r.expectation_met());
    let (at, nodes, message, evidence) = r.violation("no_orphan_message");
    assert_eq!(
        at,
        200 * MS,
        "the rollback, 100ms after the commit at 100ms"
    );
    assert_eq!(nodes, ["orders", "stock"]);
    assert!(
        message.starts_with("the producer rolled transaction 1 back (the broker did not acknowledge the send in time) after the consumer had carried out its message"),
        "{message}"
    );
    // Committed, stored by mq, carried out by stock — and only then rolled back.
    let order = [
        "the producer committed transaction 1",
        "the broker stored a copy (offset 1)",
        "the consumer carried out its message (offset 1)",
        "the producer rolled transaction 1 back",
    ];
    for (line, expected) in evidence.iter().zip(order) {
        assert!(line.contains(expected), "{evidence:?}");
    }
    // The send did arrive: only its acknowledgement was lost.
    let lines = replay(LOST_ACK, &[]);
    let stored = find_line(&lines, &["mq states Stored(offset 1, txn 1)"]);
    let lost = find_line(
        &lines,
        &["mq → orders PublishAck(txn 1) dropped: lost by the network"],
    );
    let rolled = find_line(
        &lines,
        &["orders states RolledBack(txn 1, why send_failed)"],
    );
    assert!(stored < lost && lost < rolled);
    // A lost publish is harmless in this design: the rollback matches it.
    assert_eq!(r.status("no_lost_message"), "pass");
    assert_eq!(r.status("no_duplicate_effect"), "pass");
}

#[test]
fn a_crash_between_the_commit_and_the_acknowledgement_loses_the_message() {
    let r = run(CRASH, &[]);
    assert_eq!(r.code, 3, "a liveness failure: {}", r.stderr);
    assert!(r.expectation_met());
    let (at, _, message, evidence) = r.violation("no_lost_message");
    assert_eq!(
        at,
        3_550 * MS,
        "2s after the restart at 1.55s, the last fault"
    );
    assert!(
        message.starts_with("transaction 10 committed at 1.000s and its message was not consumed within 2s of the last fault at 1.550s"),
        "{message}"
    );
    assert!(evidence.contains(&"the broker never stored its message".to_string()));
    assert_eq!(r.status("no_orphan_message"), "pass");
    let lines = replay(CRASH, &[]);
    let sent = find_line(&lines, &["orders → mq Publish(txn 10) dropped"]);
    let crash = find_line(&lines, &["crash orders"]);
    assert!(sent < crash);
    // The rollback the text's rule promises never comes, and nobody sends it again.
    assert!(!lines.iter().any(|l| l.contains("RolledBack(txn 10")));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("Publish(txn 10)") && l.contains(" sent"))
            .count(),
        1
    );
}

#[test]
fn the_notification_alone_loses_a_message_and_the_scan_finds_it() {
    let r = run(NO_SCAN, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.expectation_met());
    let (_, _, message, evidence) = r.violation("no_lost_message");
    let txn = txn_of(&message);
    assert!(evidence.contains(&"the broker never stored its message".to_string()));
    let publish = format!("orders → mq Publish(txn {txn})");
    let lines = replay(NO_SCAN, &[]);
    find_line(&lines, &[&publish, "dropped: lost by the network"]);
    // The same run with the scan: the row is resent and the message consumed.
    let scanned = lesson_variant(
        NO_SCAN,
        "scan = \"0s\"",
        "scan = \"200ms\"",
        "messaging-scan",
    );
    let r = run(&scanned, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.status("no_lost_message"), "pass");
    let lines = replay(&scanned, &[]);
    let sends = lines
        .iter()
        .filter(|l| l.contains(&publish) && l.contains(" sent"))
        .count();
    assert!(sends >= 2, "the scan resent it: {sends}");
    find_line(
        &lines,
        &["stock states Consumed(offset", &format!("txn {txn})")],
    );
}

#[test]
fn resends_without_an_idempotent_consumer_duplicate_the_effect() {
    let r = run(NAIVE, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.expectation_met());
    let (_, nodes, message, _) = r.violation("no_duplicate_effect");
    assert_eq!(nodes, ["stock"]);
    assert!(message.contains("a second time"), "{message}");
    assert_eq!(r.status("no_lost_message"), "pass");
    assert_eq!(r.status("no_orphan_message"), "pass");
    // An idempotent consumer skips the same copies.
    let fixed = lesson_variant(
        NAIVE,
        "idempotent = false",
        "idempotent = true",
        "messaging-dedupe",
    );
    let r = run(&fixed, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let detail = r.invariant("no_duplicate_effect")["detail"]
        .as_str()
        .unwrap();
    let skipped: u64 = detail.split(' ').next().unwrap().parse().unwrap();
    assert!(skipped > 0, "{detail}");
}

#[test]
fn a_lost_confirm_without_check_back_leaves_the_message_prepared_and_the_check_back_resolves_it() {
    let r = run(NO_CHECK, &[]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.expectation_met());
    let (_, _, message, evidence) = r.violation("no_lost_message");
    let txn = txn_of(&message);
    assert!(
        evidence
            .last()
            .is_some_and(|e| e.starts_with("its message is still prepared on the broker")),
        "{evidence:?}"
    );
    let lines = replay(NO_CHECK, &[]);
    let committed = find_line(&lines, &[&format!("orders states Committed(txn {txn})")]);
    let lost = find_line(
        &lines,
        &[&format!("orders → mq Confirm(txn {txn}) dropped")],
    );
    assert!(committed < lost);
    // With the check-back, mq asks and resolves the same message from orders's database.
    let checked = lesson_variant(
        NO_CHECK,
        "check_back = \"0s\"",
        "check_back = \"200ms\"",
        "messaging-check-back",
    );
    let r = run(&checked, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines = replay(&checked, &[]);
    let asked = find_line(&lines, &[&format!("mq → orders CheckBack(txn {txn}) sent")]);
    let resolved = find_line(
        &lines,
        &[&format!(
            "mq states Resolved(by check_back, commit true, txn {txn})"
        )],
    );
    assert!(lost < asked && asked < resolved);
}

/// The nemesis lesson holds on 100 seeds and strikes with every kind it promises; the same
/// nemesis breaks the broken variant, failing `invariant`.
fn holds_where_broken_fails(file: &str, from: &str, to: &str, invariant: &str) {
    let r = run(file, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    let faults = r.json["faults"].as_array().expect("faults");
    for kind in ["crash", "partition", "pause"] {
        assert!(
            faults
                .iter()
                .any(|f| f.to_string().to_lowercase().contains(kind)),
            "the nemesis strikes with {kind}"
        );
    }
    let out = sim(&["sweep", file, "--seeds", "1..101"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::show(&out));
    let broken = lesson_variant(file, from, to, &format!("messaging-broken-{invariant}"));
    let out = sim(&["sweep", &broken, "--seeds", "1..101", "--json"]);
    assert_ne!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(invariant), "{text}");
}

#[test]
fn the_local_table_holds_under_the_nemesis_that_breaks_send_after_commit() {
    holds_where_broken_fails(
        TABLE,
        "design = \"local_table\"",
        "design = \"send_after_commit\"",
        "no_orphan_message",
    );
}

#[test]
fn the_transactional_message_holds_under_the_nemesis_that_breaks_it_without_check_back() {
    holds_where_broken_fails(
        TXN,
        "design = \"transactional\"",
        "design = \"transactional\"\ncheck_back = \"0s\"",
        "no_lost_message",
    );
    holds_where_broken_fails(
        TXN,
        "design = \"transactional\"",
        "design = \"transactional\"\nidempotent = false",
        "no_duplicate_effect",
    );
}
