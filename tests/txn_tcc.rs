//! The TCC lessons (`scenarios/txn/tcc-*.toml`) tell the stories they promise: the phases of a
//! transfer in order, retries that converge, and each participant rule switched off doing its
//! own damage — which the same file with the rule on does not.

use crate::common;

use common::{Run, replay, run};
use serde_json::Value;

const HAPPY: &str = "scenarios/txn/tcc-happy.toml";
const LOSS: &str = "scenarios/txn/tcc-retries-under-loss.toml";
const NEMESIS: &str = "scenarios/txn/tcc-nemesis.toml";
const NON_IDEMPOTENT: &str = "scenarios/txn/tcc-non-idempotent.toml";
const EMPTY_ROLLBACK: &str = "scenarios/txn/tcc-empty-rollback.toml";
const SUSPENSION: &str = "scenarios/txn/tcc-suspension.toml";

/// The lesson's `[protocol]` switch turned back on, written beside the test binaries.
fn with_rule_on(file: &str, rule: &str) -> String {
    let (off, on) = (format!("{rule} = false"), format!("{rule} = true"));
    common::lesson_variant(file, &off, &on, &format!("tcc-{rule}-on"))
}

fn tcc(r: &Run) -> &Value {
    &r.json["tcc"]
}

fn n(v: &Value) -> u64 {
    v.as_u64().expect("a count")
}

fn message(r: &Run, name: &str) -> String {
    r.invariant(name)["violation"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has a violation"))
        .to_string()
}

fn the_family_holds(r: &Run) {
    for name in [
        "atomicity",
        "conservation",
        "no_negative_balance",
        "no_double_apply",
    ] {
        assert_eq!(r.status(name), "pass", "{name}");
    }
}

/// The first line at or after `from` that holds every needle.
fn find(lines: &[String], from: usize, needles: &[&str]) -> usize {
    (from..lines.len())
        .find(|&i| needles.iter().all(|n| lines[i].contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?} after line {from}"))
}

#[test]
fn happy_transfers_go_try_then_confirm_and_refused_ones_cancel_everywhere() {
    let r = run(HAPPY, &[]);
    assert_eq!(r.code, 0);
    assert!(r.expectation_met());
    the_family_holds(&r);
    assert_eq!(r.status("resolved_within"), "pass");
    assert_eq!(r.status("settled_within"), "pass");
    let s = tcc(&r);
    assert!(n(&s["confirmed"]) > 10 && n(&s["cancelled"]) > 5, "{s}");
    assert_eq!(n(&s["unsettled"]), 0);
    assert_eq!(n(&s["still_held"]["branches"]), 0);
    assert_eq!(n(&s["applied_more_than_once"]), 0);
    // Nothing is lost, every answer beats its backoff: no transfer is retried, and each one
    // decided counts with its 0.
    let retries = &s["retries"];
    assert_eq!(n(&retries["total"]), 0, "{s}");
    assert_eq!(n(&retries["max"]), 0, "{s}");
    assert_eq!(
        n(&retries["transfers"]),
        n(&s["confirmed"]) + n(&s["cancelled"])
    );

    // The first confirmed transfer, phase by phase.
    let lines = replay(HAPPY, &["--to", "2s"]);
    let decided = find(&lines, 0, &["A states Decided(commit true"]);
    let seq = lines[decided]
        .split("\"seq\":")
        .nth(1)
        .and_then(|s| s.split('}').next())
        .expect("the txn's seq");
    let client = lines[decided]
        .split("\"client\":")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .expect("the txn's client");
    let t = format!("c{client}#{seq}");
    // Either account may be the source: B holds account 0, C account 1.
    let freeze = find(&lines, 0, &["Try(", &t, ": freeze", "sent"]);
    let reserve = find(&lines, 0, &["Try(", &t, ": reserve", "sent"]);
    let frozen = find(&lines, 0, &["TryAck(", &t, ": frozen)", "delivered"]);
    let reserved = find(&lines, 0, &["TryAck(", &t, ": reserved)", "delivered"]);
    assert!(freeze.max(reserve) < frozen.min(reserved));
    assert_eq!(
        decided,
        frozen.max(reserved) + 1,
        "decided on the last try's answer"
    );
    let deduct = find(
        &lines,
        decided,
        &["Confirm(", &t, "deduct the frozen", "sent"],
    );
    let credit = find(&lines, decided, &["Confirm(", &t, ": credit", "sent"]);
    find(&lines, deduct.max(credit), &["ConfirmAck(", &t, "deducted"]);
    find(&lines, deduct.max(credit), &["ConfirmAck(", &t, "credited"]);
    find(&lines, decided, &["states Applied(", "delta -"]);

    // A transfer larger than the balance: refused at its try, cancelled on both branches.
    let refused = find(&lines, 0, &["TryAck(", "refused, it holds"]);
    let cancel = find(&lines, refused, &["A states Decided(commit false"]);
    find(&lines, cancel, &["Cancel(", "release", "frozen"]);
    find(&lines, cancel, &["Cancel(", "release", "reserved"]);
    find(&lines, cancel, &["states RolledBack("]);
}

#[test]
fn under_heavy_loss_and_duplication_retries_converge() {
    let r = run(LOSS, &[]);
    assert_eq!(r.code, 0);
    the_family_holds(&r);
    assert_eq!(r.status("resolved_within"), "pass");
    assert_eq!(r.status("settled_within"), "pass");
    assert!(n(&r.json["messages"]["dropped_loss"]) > 100);
    assert!(n(&r.json["messages"]["duplicated"]) > 100);
    let s = tcc(&r);
    assert!(n(&s["confirmed"]) > 10, "{s}");
    assert_eq!(n(&s["unsettled"]), 0);
    assert_eq!(n(&s["still_held"]["branches"]), 0);
    // The story shows retries: some try is sent more than once, and some copy is absorbed.
    let lines = replay(LOSS, &["--to", "3s"]);
    let tries: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("A → B Try(") && l.ends_with(" sent"))
        .collect();
    let distinct: std::collections::BTreeSet<&str> = tries
        .iter()
        .map(|l| l.split("Try(").nth(1).unwrap().split(':').next().unwrap())
        .collect();
    assert!(tries.len() > distinct.len(), "some try was retried");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("retry") && l.contains("timer fired"))
    );
}

#[test]
fn retries_per_transfer_count_every_step_sent_again() {
    let r = run(LOSS, &[]);
    let s = tcc(&r);
    let retries = &s["retries"];
    let (total, transfers) = (n(&retries["total"]), n(&retries["transfers"]));
    assert_eq!(transfers, n(&s["confirmed"]) + n(&s["cancelled"]), "{s}");
    assert!(total > transfers, "heavy loss retries most transfers: {s}");
    let (p50, p99, max) = (n(&retries["p50"]), n(&retries["p99"]), n(&retries["max"]));
    assert!(0 < p50 && p50 <= p99 && p99 <= max, "{s}");
    // The story agrees: one `Retried` per step sent again, and with no crash every other send
    // is a transfer's first try or first decision on each of its two branches.
    let lines = replay(LOSS, &[]);
    let stated = lines
        .iter()
        .filter(|l| l.contains("A states Retried("))
        .count() as u64;
    assert_eq!(stated, total);
    let sent = lines
        .iter()
        .filter(|l| {
            l.ends_with(" sent")
                && ["A → B ", "A → C "].iter().any(|p| l.contains(p))
                && ["Try(", "Confirm(", "Cancel("]
                    .iter()
                    .any(|m| l.contains(m))
        })
        .count() as u64;
    assert_eq!(sent, 4 * transfers + total);
    // The terminal's verdict line says it too (on stderr, beside --json).
    assert!(
        r.stderr.contains(&format!("{total} messages retried")),
        "{}",
        r.stderr
    );
}

#[test]
fn under_a_random_nemesis_crashes_lose_nothing_and_everything_settles() {
    let r = run(NEMESIS, &[]);
    assert_eq!(r.code, 0);
    the_family_holds(&r);
    assert_eq!(r.status("resolved_within"), "pass");
    assert_eq!(r.status("settled_within"), "pass");
    let faults = r.json["faults"].to_string();
    assert!(faults.contains("crash"), "{faults}");
    assert_eq!(n(&tcc(&r)["still_held"]["branches"]), 0);
}

#[test]
fn without_idempotence_a_duplicated_confirm_credits_twice() {
    let r = run(NON_IDEMPOTENT, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    let double = message(&r, "no_double_apply");
    assert!(
        double.contains("changed account") && double.contains("twice"),
        "{double}"
    );
    let made = message(&r, "conservation");
    assert!(made.contains("money was made from nothing"), "{made}");
    assert!(n(&tcc(&r)["applied_more_than_once"]) > 0);

    let fixed = run(&with_rule_on(NON_IDEMPOTENT, "idempotent"), &[]);
    assert_eq!(fixed.code, 0, "idempotent participants absorb the copies");
    assert_eq!(n(&tcc(&fixed)["applied_more_than_once"]), 0);
}

#[test]
fn without_empty_rollback_a_cancel_for_a_lost_try_fails_forever() {
    let r = run(EMPTY_ROLLBACK, &[]);
    assert_eq!(r.code, 3, "a liveness failure");
    assert!(r.expectation_met());
    the_family_holds(&r);
    let stuck = message(&r, "settled_within");
    assert!(
        stuck.contains("(cancel)") && stuck.contains("still not rolled back"),
        "{stuck}"
    );
    assert!(n(&tcc(&r)["unsettled"]) > 0);
    let lines = replay(EMPTY_ROLLBACK, &[]);
    let cut = find(&lines, 0, &["partition {C}"]);
    let refused = find(
        &lines,
        cut,
        &[
            "C → A CancelAck(",
            "refused, nothing to cancel: the try never arrived",
        ],
    );
    // Long after the heal at 2s, A is still asking.
    assert!(
        lines[refused..]
            .iter()
            .any(|l| l.trim_start().starts_with("4.") && l.contains("A → C Cancel(")),
        "A still sends the cancel at 4s"
    );

    let fixed = run(&with_rule_on(EMPTY_ROLLBACK, "empty_rollback"), &[]);
    assert_eq!(fixed.code, 0, "the empty rollback is recorded and answered");
    assert_eq!(n(&tcc(&fixed)["unsettled"]), 0);
    assert!(n(&tcc(&fixed)["nothing_to_release"]) > 0);
}

#[test]
fn without_suspension_refusal_a_late_try_freezes_money_for_good() {
    let r = run(SUSPENSION, &[]);
    assert_eq!(r.code, 3, "a liveness failure");
    assert!(r.expectation_met());
    the_family_holds(&r);
    let late = message(&r, "resolved_within");
    assert!(late.contains("still unsettled"), "{late}");
    let evidence = r.invariant("resolved_within")["violation"]["evidence"].to_string();
    assert!(
        evidence.contains("holding a frozen or reserved amount"),
        "{evidence}"
    );
    let s = tcc(&r);
    assert!(n(&s["still_held"]["branches"]) > 0, "{s}");
    assert_eq!(
        n(&s["unsettled"]),
        0,
        "every decision was carried out: the freeze came after"
    );

    let fixed = run(&with_rule_on(SUSPENSION, "refuse_suspension"), &[]);
    assert_eq!(fixed.code, 0, "late tries are refused");
    assert_eq!(n(&tcc(&fixed)["still_held"]["branches"]), 0);
    let lines = replay(&with_rule_on(SUSPENSION, "refuse_suspension"), &[]);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("refused, already cancelled: a try after its cancel")),
        "the story shows a late try refused"
    );
}
