//! The master-slave lessons (`scenarios/replication/*.toml`) tell their story: a server that
//! answers before its write-ahead log is synced loses the answered write in a crash, and one that
//! answers after the sync does not; asynchronous replication loses answered writes when the slave
//! takes over, and semi-synchronous replication does not.

use crate::common;

use common::{MS, Run, S, run};

const BEFORE_SYNC: &str = "scenarios/replication/wal-ack-before-sync.toml";
const AFTER_SYNC: &str = "scenarios/replication/wal-ack-after-sync-nemesis.toml";
const ASYNC: &str = "scenarios/replication/async-failover-loses-write.toml";
const SEMI_SYNC: &str = "scenarios/replication/semi-sync-nemesis.toml";

/// `file` with `from` replaced by `to`, as `master-slave-<name>.toml`.
fn variant(file: &str, from: &str, to: &str, name: &str) -> String {
    common::lesson_variant(file, from, to, &format!("master-slave-{name}"))
}

/// The instants at which `node` began serving as master.
fn masters(r: &Run, node: &str) -> Vec<u64> {
    let prefix = format!("{node} is master (epoch ");
    r.story()
        .into_iter()
        .filter(|(_, t)| t.starts_with(&prefix))
        .map(|(at, _)| at)
        .collect()
}

#[test]
fn answered_before_the_sync_a_write_is_lost_in_the_crash_and_missing_after_the_restart() {
    let r = run(BEFORE_SYNC, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    let (lost_at, lost) = r.line("A loses");
    assert_eq!(lost_at, S, "the crash at 1s takes unsynced writes: {lost}");
    let v = &r.invariant("acknowledged_writes_survive")["violation"];
    // Found when A, restarted at 1.2s from its disk, begins serving without the write.
    assert_eq!(v["at_ns"].as_u64().unwrap(), 1200 * MS);
    assert_eq!(v["nodes"], serde_json::json!(["A"]));
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with("A acknowledged ")
            && message.contains("A began serving as master in epoch 1"),
        "{message}"
    );
    assert_eq!(
        masters(&r, "A"),
        [0, 1200 * MS],
        "A serves again after its restart"
    );
}

#[test]
fn the_same_crash_loses_nothing_answered_after_the_sync_or_on_a_disk_that_keeps_unsynced_writes() {
    let after = variant(
        BEFORE_SYNC,
        "ack = \"before_sync\"",
        "ack = \"after_sync\"",
        "wal-after",
    );
    let r = run(&after, &[]);
    assert_eq!(r.status("acknowledged_writes_survive"), "pass");
    r.line("A loses"); // the crash still takes unsynced writes: none had been answered
    let kept = variant(
        BEFORE_SYNC,
        "lose_unsynced = true",
        "lose_unsynced = false",
        "wal-kept",
    );
    let r = run(&kept, &[]);
    assert_eq!(
        r.status("acknowledged_writes_survive"),
        "pass",
        "the lesson is about the lost page cache: a disk that keeps every write saves the early answer"
    );
}

#[test]
fn answered_after_the_sync_every_write_survives_repeated_crashes() {
    let r = run(AFTER_SYNC, &[]);
    assert_eq!(r.code, 0);
    assert!(r.expectation_met());
    assert!(masters(&r, "A").len() >= 5, "{:?}", r.story());
    let detail = r.invariant("acknowledged_writes_survive")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    let acked: u64 = detail.split(' ').next().unwrap().parse().unwrap();
    assert!(acked > 300, "{detail}");
}

#[test]
fn the_async_slave_takes_over_without_the_last_writes_the_master_answered() {
    let r = run(ASYNC, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    let b = masters(&r, "B");
    assert_eq!(b.len(), 1);
    // Three missed pings after the crash at 1s.
    assert!((1300 * MS..1500 * MS).contains(&b[0]), "{}", b[0]);
    let v = &r.invariant("acknowledged_writes_survive")["violation"];
    assert_eq!(
        v["at_ns"].as_u64().unwrap(),
        b[0],
        "found as B begins serving"
    );
    assert_eq!(v["nodes"], serde_json::json!(["A", "B"]));
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with("A acknowledged ")
            && message.contains("B began serving as master in epoch 2"),
        "{message}"
    );
}

#[test]
fn semi_sync_keeps_the_same_writes_through_the_same_failover() {
    let semi = variant(
        ASYNC,
        "replication = \"async\"",
        "replication = \"semi_sync\"",
        "semi-failover",
    );
    let r = run(&semi, &[]);
    assert_eq!(r.status("acknowledged_writes_survive"), "pass");
    assert_eq!(masters(&r, "B").len(), 1, "B still takes over");
}

#[test]
fn semi_sync_under_the_nemesis_fails_over_back_and_forth_and_loses_nothing() {
    let r = run(SEMI_SYNC, &[]);
    assert_eq!(r.code, 0);
    assert!(r.expectation_met());
    assert!(!masters(&r, "B").is_empty(), "B took over at least once");
    assert!(
        masters(&r, "A").len() >= 2,
        "A was master again after a fail-over"
    );
}

const FROM_LOG: &str = "scenarios/replication/hwm-reads-from-log.toml";
const HWM: &str = "scenarios/replication/hwm-nemesis.toml";

#[test]
fn reads_of_the_whole_log_show_a_write_that_the_failover_takes_away() {
    let r = run(FROM_LOG, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    let b = masters(&r, "B");
    assert_eq!(b.len(), 1);
    let v = &r.invariant("seen_writes_survive")["violation"];
    assert_eq!(
        v["at_ns"].as_u64().unwrap(),
        b[0],
        "found as B begins serving"
    );
    let message = v["message"].as_str().unwrap();
    assert!(
        message.starts_with("a client read ")
            && message.contains(" from A ")
            && message.contains("B began serving as master in epoch 2"),
        "{message}"
    );
}

#[test]
fn reads_below_the_high_water_mark_see_nothing_the_same_failover_takes_away() {
    let hwm = variant(
        FROM_LOG,
        "reads = \"log\"",
        "reads = \"high_water_mark\"",
        "hwm-failover",
    );
    let r = run(&hwm, &[]);
    assert_eq!(r.status("seen_writes_survive"), "pass");
    assert_eq!(masters(&r, "B").len(), 1, "B still takes over");
}

#[test]
fn under_the_nemesis_the_mark_keeps_what_clients_saw_but_async_still_loses_what_they_were_told() {
    let r = run(HWM, &[]);
    assert_eq!(r.code, 0);
    assert!(r.expectation_met());
    assert!(!masters(&r, "B").is_empty(), "B took over at least once");
    let both = variant(
        HWM,
        "invariants = [\"seen_writes_survive\"]",
        "invariants = [\"seen_writes_survive\", \"acknowledged_writes_survive\"]",
        "hwm-both",
    );
    let r = run(&both, &[]);
    assert_eq!(r.status("seen_writes_survive"), "pass");
    assert_eq!(
        r.status("acknowledged_writes_survive"),
        "violation",
        "the high-water mark guards reads, not the acknowledgement of an asynchronous write"
    );
}
