//! The overload lessons (`scenarios/overload/`) tell the stories they promise: when the burst
//! came, how long the service then took to answer what it had accepted, what the token bucket
//! refused; which failure of B made A's own requests wait, and when A's circuit breaker opened,
//! probed and closed again — and that each protection, removed, brings the failure back.

use crate::common;

use common::{MS, Run, S, run};

const NO_LIMIT: &str = "scenarios/overload/no-rate-limit-burst.toml";
const BUCKET: &str = "scenarios/overload/token-bucket-burst.toml";
const NO_BREAKER: &str = "scenarios/overload/no-breaker-cascade.toml";
const BREAKER: &str = "scenarios/overload/circuit-breaker.toml";

/// The `overload` section's latency of `op` requests: (p99, max) in nanoseconds.
fn latency(r: &Run, op: &str) -> (u64, u64) {
    let l = &r.json["overload"]["latency"][op];
    (l["p99_ns"].as_u64().unwrap(), l["max_ns"].as_u64().unwrap())
}

fn count(r: &Run, what: &str, why: &str) -> u64 {
    r.json["overload"][what][why].as_u64().unwrap_or(0)
}

/// The breaker's changes told in the story: (when, from, to).
fn breaker_story(r: &Run) -> Vec<(u64, String, String)> {
    r.story()
        .into_iter()
        .filter_map(|(at, t)| {
            let rest = t.strip_prefix("A's circuit breaker goes ")?;
            let (turn, _) = rest.split_once(':')?;
            let (from, to) = turn.split_once(" → ")?;
            Some((at, from.to_string(), to.to_string()))
        })
        .collect()
}

#[test]
fn without_a_limiter_the_burst_queues_and_latency_grows_past_the_bound() {
    let r = run(NO_LIMIT, &[]);
    assert_eq!(r.code, 1, "a safety violation");
    assert!(r.expectation_met());
    // Before the burst at 2s two clients are answered in about the service time.
    let (queue_at, _) = r.line("api has 10 requests waiting in its queue");
    assert!((2 * S..2 * S + 100 * MS).contains(&queue_at), "{queue_at}");
    let (at, nodes, message, evidence) = r.violation("latency_within");
    assert!((queue_at..2 * S + 500 * MS).contains(&at), "at {at}");
    assert_eq!(nodes, ["api"]);
    assert!(message.contains("more than 200ms"), "{message}");
    assert!(
        evidence.iter().any(|e| e.contains("behind")),
        "{evidence:?}"
    );
    // The queue keeps growing while the burst lasts: a hundred waiting, and answers seconds late.
    let (hundred_at, _) = r.line("api has 100 requests waiting in its queue");
    assert!((queue_at..5 * S).contains(&hundred_at), "{hundred_at}");
    let (_, max) = latency(&r, "local");
    assert!(max > 2 * S, "the worst wait {max}");
    assert_eq!(
        count(&r, "rejected", "rate_limited"),
        0,
        "nothing is refused"
    );
}

#[test]
fn a_token_bucket_refuses_the_excess_at_once_and_keeps_what_it_accepts_within_the_bound() {
    let r = run(BUCKET, &[]);
    assert_eq!(r.code, 0);
    assert!(r.expectation_met());
    assert_eq!(r.status("latency_within"), "pass");
    // The bucket refuses nothing before the burst, and from the burst's first instants on.
    let (refused_at, _) = r.line("api refuses a request at once for the first time: rate limited");
    assert!(
        (2 * S..2 * S + 200 * MS).contains(&refused_at),
        "{refused_at}"
    );
    assert!(count(&r, "rejected", "rate_limited") > 1_000);
    // At most 10 wait behind a 10ms worker: about 110ms, never the queue of the lesson above.
    let (p99, max) = latency(&r, "local");
    assert!(p99 <= max && max <= 110 * MS, "p99 {p99}, max {max}");
    assert!(
        !r.story()
            .iter()
            .any(|(_, t)| t.contains("100 requests waiting")),
        "the queue never grows long"
    );
}

#[test]
fn removing_the_token_bucket_brings_the_queue_back_under_the_same_nemesis() {
    let file = common::lesson_variant(
        BUCKET,
        "limiter = \"token_bucket\"",
        "limiter = \"none\"",
        "overload-bucket-removed",
    );
    let r = run(&file, &[]);
    assert_eq!(r.code, 1);
    let (at, _, _, _) = r.violation("latency_within");
    assert!((2 * S..3 * S).contains(&at), "during the burst: {at}");
}

#[test]
fn without_a_breaker_the_paused_downstream_makes_a_fail_its_local_requests() {
    let r = run(NO_BREAKER, &[]);
    assert_eq!(r.code, 1);
    assert!(r.expectation_met());
    let (at, nodes, message, evidence) = r.violation("no_cascade");
    // B pauses at 2s; within about a second a local request has waited over 500ms at A.
    assert!(
        (2 * S + 500 * MS..3 * S + 500 * MS).contains(&at),
        "at {at}"
    );
    assert_eq!(nodes, ["A"]);
    assert!(message.contains("(local)"), "{message}");
    assert!(message.contains("more than 500ms"), "{message}");
    assert!(
        evidence.iter().any(|e| e.contains("pause B")),
        "{evidence:?}"
    );
    // No breaker: every remote request waited out its call timeout, none was refused.
    assert!(breaker_story(&r).is_empty());
    assert_eq!(count(&r, "failed", "circuit_open"), 0);
    assert!(count(&r, "failed", "downstream_timeout") > 10);
}

#[test]
fn the_breaker_opens_on_failures_probes_after_the_cool_down_and_closes_when_b_is_back() {
    let r = run(BREAKER, &[]);
    assert_eq!(r.code, 0);
    assert!(r.expectation_met());
    assert_eq!(r.status("no_cascade"), "pass");
    let changes = breaker_story(&r);
    assert!(changes.len() >= 6, "{changes:?}");
    // Every change starts from the state the previous one entered, from CLOSED.
    let mut state = "CLOSED".to_string();
    for (_, from, to) in &changes {
        assert_eq!(from, &state, "{changes:?}");
        state = to.clone();
    }
    // The first opening follows a fault of B by about one call timeout (250ms) or a little more.
    let first_fault = r
        .story()
        .into_iter()
        .find(|(_, t)| {
            t.starts_with("pause B")
                || t.starts_with("crash B")
                || t.starts_with("slow the links of B")
        })
        .expect("the nemesis strikes B")
        .0;
    let (opened, _, _) = changes[0].clone();
    assert_eq!(
        (changes[0].1.as_str(), changes[0].2.as_str()),
        ("CLOSED", "OPEN")
    );
    assert!(
        (first_fault..first_fault + S).contains(&opened),
        "{first_fault} {opened}"
    );
    // OPEN → HALF-OPEN comes no sooner than the 1s cool-down after the opening.
    let half = changes
        .iter()
        .find(|(_, f, t)| f == "OPEN" && t == "HALF-OPEN")
        .expect("a probe");
    assert!(half.0 >= opened + S, "{half:?}");
    // Once B is back for good, a probe succeeds: the breaker ends CLOSED.
    let last = changes.last().unwrap();
    assert_eq!(
        (last.1.as_str(), last.2.as_str()),
        ("HALF-OPEN", "CLOSED"),
        "{changes:?}"
    );
    // Remote requests were refused at once while it was open; local ones stayed quick.
    assert!(count(&r, "failed", "circuit_open") > 100);
    let (_, max) = latency(&r, "local");
    assert!(max < 500 * MS, "{max}");
}

#[test]
fn removing_the_breaker_lets_the_same_nemesis_cascade() {
    let file = common::lesson_variant(
        BREAKER,
        "breaker = \"circuit_breaker\"",
        "breaker = \"none\"",
        "overload-breaker-removed",
    );
    let r = run(&file, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.status("no_cascade"), "violation");
}

#[test]
fn replay_tells_the_calls_and_the_breaker_s_changes() {
    let lines = common::replay(BREAKER, &["--node", "A"]);
    assert!(
        lines.iter().any(|l| l.contains("Call #1 (for c")),
        "{:#?}",
        &lines[..lines.len().min(40)]
    );
    assert!(lines.iter().any(|l| l.contains("Answer #1: done")));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("A states Breaker(") && l.contains("from CLOSED, to OPEN")),
        "the breaker's facts are told"
    );
}
