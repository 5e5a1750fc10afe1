//! The lock lessons (`scenarios/locks/`) tell the stories they promise: a lock without expiry
//! deadlocks when its holder crashes; a TTL cures that but lets a GC-paused holder write after
//! its successor; fencing tokens checked by the store refuse that write, and the fixed lock
//! holds under a nemesis that the same lock without fencing does not survive.

use crate::common;

use common::{Run, replay, run, sim};

const DEADLOCK: &str = "scenarios/locks/no-expiry-deadlock.toml";
const PAUSE: &str = "scenarios/locks/ttl-gc-pause.toml";
const FENCED: &str = "scenarios/locks/fencing-gc-pause.toml";
const NEMESIS: &str = "scenarios/locks/fencing-nemesis.toml";

const MS: u64 = 1_000_000;

/// The lesson with one `[protocol]` line changed, as `locks-<name>.toml`.
fn changed(file: &str, from: &str, to: &str, name: &str) -> String {
    common::lesson_variant(file, from, to, &format!("locks-{name}"))
}

/// The client holding the lock that the fault aimed at the leader struck at 1s.
fn struck(r: &Run, kind: &str) -> String {
    r.struck(kind, 1_000 * MS, &["A", "B", "C"])
}

#[test]
fn a_lock_without_expiry_deadlocks_when_its_holder_crashes() {
    let r = run(DEADLOCK, &[]);
    assert_eq!(r.code, 3, "a liveness failure: {}", r.stderr);
    assert!(r.expectation_met());
    let holder = struck(&r, "crash");
    // Two holders never: a lock that never expires is safe, only stuck.
    assert_eq!(r.status("mutual_exclusion"), "pass");
    let (at, nodes, message, evidence) = r.violation("lock_progress");
    assert_eq!(at, 3_000 * MS, "2s after the crash, the last fault");
    assert_eq!(nodes, std::slice::from_ref(&holder));
    assert!(message.contains("no client acquired the lock for 2s after the last fault at 1.000s"));
    assert!(
        evidence.iter().any(|e| e.starts_with("1.000s")
            && e.contains(&format!("{holder} crashed holding the lock"))),
        "{evidence:?}"
    );
    // After the crash the server refuses every other client, naming the dead holder.
    let lines = replay(DEADLOCK, &[]);
    let crash = lines
        .iter()
        .position(|l| l.ends_with(&format!("crash {holder}")))
        .expect("the crash is told");
    let refusals = lines[crash..]
        .iter()
        .filter(|l| l.contains("holds it)") && l.contains("sent"))
        .collect::<Vec<_>>();
    assert!(
        refusals.len() > 20,
        "clients keep asking: {}",
        refusals.len()
    );
    assert!(
        refusals
            .iter()
            .all(|l| l.contains("Refused(try") && l.contains(&format!(": {holder} holds it)"))),
        "every refusal names {holder}"
    );
    assert!(!lines[crash..].iter().any(|l| l.contains("states Acquired")));
}

#[test]
fn a_ttl_cures_the_deadlock() {
    let cured = changed(
        DEADLOCK,
        "expiry = \"none\"",
        "expiry = \"ttl\"",
        "ttl-crash",
    );
    let r = run(&cured, &[]);
    assert_eq!(r.status("lock_progress"), "pass");
    assert_eq!(r.status("mutual_exclusion"), "pass");
}

#[test]
fn a_holder_paused_past_its_ttl_writes_after_its_successor() {
    let r = run(PAUSE, &[]);
    assert_eq!(r.code, 1, "a safety failure: {}", r.stderr);
    assert!(r.expectation_met());
    let paused = struck(&r, "pause");
    assert_eq!(
        r.status("lock_progress"),
        "pass",
        "the TTL keeps the lock live"
    );
    let (at, nodes, message, evidence) = r.violation("mutual_exclusion");
    // It writes the instant it wakes (2s) plus the 2ms to the store.
    assert_eq!(at, 2_002 * MS);
    assert_eq!(nodes[0], paused);
    let successor = &nodes[1];
    assert_ne!(successor, &paused);
    assert!(
        message.contains(&format!("{paused} still believed it held the lock")),
        "{message}"
    );
    // The story in order: granted, paused, its lease let go, the successor granted and
    // writing, then the stale write.
    let find = |needle: &str| {
        evidence
            .iter()
            .position(|e| e.contains(needle))
            .unwrap_or_else(|| panic!("no evidence with {needle:?}: {evidence:?}"))
    };
    let order = [
        find(&format!("granted the lock to {paused}")),
        find(&format!("pause {paused} (pause leader) for 1s")),
        find(&format!("let {paused}'s lease")),
        find(&format!("granted the lock to {successor}")),
        find(&format!("accepted {successor}'s write")),
        find(&format!("accepted {paused}'s write")),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{evidence:?}");
}

#[test]
fn fencing_tokens_refuse_the_paused_holders_write() {
    let r = run(FENCED, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    let paused = struck(&r, "pause");
    assert_eq!(r.status("mutual_exclusion"), "pass");
    assert_eq!(r.status("lock_progress"), "pass");
    let detail = r.invariant("mutual_exclusion")["detail"].as_str().unwrap();
    assert!(detail.ends_with("and refused 1 stale one(s)"), "{detail}");
    // The same schedule as the TTL lesson: the paused client wakes at 2s and writes with its
    // old token; the store refuses it, and the client gives its tenure up.
    let lines = replay(FENCED, &[]);
    let resume = lines
        .iter()
        .position(|l| l.contains(&format!("resume {paused}")))
        .expect("the resume is told");
    let rest = &lines[resume..];
    let write = rest
        .iter()
        .position(|l| l.contains(&format!("{paused} → store Write(")) && l.contains("sent"))
        .expect("the paused client writes on waking");
    assert!(rest[write].contains("token"), "the write carries its token");
    let fenced = rest
        .iter()
        .position(|l| l.contains(&format!("store → {paused} Fenced(")))
        .expect("the store refuses it");
    let released = rest
        .iter()
        .position(|l| l.contains(&format!("{paused} states Released(")) && l.contains("why fenced"))
        .expect("the client gives up");
    assert!(write < fenced && fenced < released);
}

#[test]
fn the_fixed_lock_holds_under_the_nemesis_and_the_unfenced_one_does_not() {
    let r = run(NEMESIS, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    let faults = r.json["faults"].as_array().expect("faults");
    for kind in ["pause", "crash", "partition", "clock"] {
        assert!(
            faults
                .iter()
                .any(|f| f.to_string().to_lowercase().contains(kind)),
            "the nemesis strikes with {kind}"
        );
    }
    let out = sim(&["sweep", NEMESIS, "--seeds", "1..101"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::show(&out));
    // Without fencing, the same nemesis breaks mutual exclusion at most seeds.
    let unfenced = changed(NEMESIS, "fencing = true", "fencing = false", "unfenced");
    let out = sim(&["sweep", &unfenced, "--seeds", "1..101", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mutual_exclusion"), "{text}");
}

const REDLOCK: &str = "scenarios/locks/redlock-clock-jump.toml";
const REDLOCK_MONO: &str = "scenarios/locks/redlock-monotonic.toml";

#[test]
fn redlock_admits_two_majorities_when_one_servers_wall_clock_jumps() {
    let r = run(REDLOCK, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.expectation_met());
    let (at, nodes, message, evidence) = r.violation("mutual_exclusion");
    assert!(at > 1_000 * MS, "after the jump");
    let (old, new) = (&nodes[0], &nodes[1]);
    assert!(message.contains(&format!("{old} still believed it held the lock")));
    // The jump, then S2 letting the old holder's lease go, then the new holder's grant from
    // S4 or S5 (cut off until 1s, so the old holder never held them), then the two writes.
    let find = |needle: &str| {
        evidence
            .iter()
            .position(|e| e.contains(needle))
            .unwrap_or_else(|| panic!("no evidence with {needle:?}: {evidence:?}"))
    };
    let jump = find("clock of S2 jumps +2s");
    let lapsed = find(&format!("S2 let {old}'s lease"));
    let granted = evidence
        .iter()
        .position(|e| e.contains(&format!("granted the lock to {new}")))
        .unwrap();
    assert!(
        evidence[granted].contains("S4 granted") || evidence[granted].contains("S5 granted"),
        "{evidence:?}"
    );
    let stale = find(&format!("accepted {old}'s write"));
    assert!(
        jump < lapsed && jump < granted && granted < stale,
        "{evidence:?}"
    );
}

#[test]
fn redlock_on_monotonic_clocks_holds_through_the_same_jump_and_a_nemesis() {
    let r = run(REDLOCK_MONO, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.expectation_met());
    assert_eq!(r.status("lock_progress"), "pass");
    let out = sim(&["sweep", REDLOCK_MONO, "--seeds", "1..51"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::show(&out));
    // The same file on wall clocks fails.
    let wall = changed(
        REDLOCK_MONO,
        "server_clock = \"monotonic\"",
        "server_clock = \"wall\"",
        "redlock-wall",
    );
    assert_eq!(run(&wall, &[]).status("mutual_exclusion"), "violation");
}
